"""ASDU codec of IEC 60870-5-104 for the types the Netflex model uses (sans-IO).

Field sizes are the 104 standard ones: cause of transmission 2 octets (cause, P/N and test bits,
then the originator address), common address 2 octets, information object address 3 octets.
Time tags are CP56Time2a and are read and written as aware UTC datetimes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Final

from .apci import MAX_ASDU_LENGTH

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

HEADER_LENGTH: Final = 6
IOA_LENGTH: Final = 3
MAX_OBJECTS: Final = 127
MAX_IOA: Final = 0xFFFFFF
BROADCAST_ADDRESS: Final = 0xFFFF
"""Common address that addresses every station (global address)."""

_FLOAT = struct.Struct("<f")
_UINT16 = struct.Struct("<H")


class TypeID(IntEnum):
    """ASDU type identifications this stack understands."""

    M_SP_NA_1 = 1
    M_DP_NA_1 = 3
    M_ME_NC_1 = 13
    M_SP_TB_1 = 30
    M_DP_TB_1 = 31
    M_ME_TF_1 = 36
    C_SC_NA_1 = 45
    C_DC_NA_1 = 46
    C_SE_NC_1 = 50
    C_SC_TA_1 = 58
    C_DC_TA_1 = 59
    C_SE_TC_1 = 63
    M_EI_NA_1 = 70
    C_IC_NA_1 = 100
    C_RD_NA_1 = 102
    C_CS_NA_1 = 103
    C_TS_TA_1 = 107


class CauseOfTransmission(IntEnum):
    """Causes of transmission defined by IEC 60870-5-101/104 (6 bits)."""

    PERIODIC = 1
    BACKGROUND_SCAN = 2
    SPONTANEOUS = 3
    INITIALIZED = 4
    REQUEST = 5
    ACTIVATION = 6
    ACTIVATION_CON = 7
    DEACTIVATION = 8
    DEACTIVATION_CON = 9
    ACTIVATION_TERMINATION = 10
    RETURN_INFO_REMOTE = 11
    RETURN_INFO_LOCAL = 12
    FILE_TRANSFER = 13
    INTERROGATED_BY_STATION = 20
    INTERROGATED_BY_GROUP_1 = 21
    INTERROGATED_BY_GROUP_2 = 22
    INTERROGATED_BY_GROUP_3 = 23
    INTERROGATED_BY_GROUP_4 = 24
    INTERROGATED_BY_GROUP_5 = 25
    INTERROGATED_BY_GROUP_6 = 26
    INTERROGATED_BY_GROUP_7 = 27
    INTERROGATED_BY_GROUP_8 = 28
    INTERROGATED_BY_GROUP_9 = 29
    INTERROGATED_BY_GROUP_10 = 30
    INTERROGATED_BY_GROUP_11 = 31
    INTERROGATED_BY_GROUP_12 = 32
    INTERROGATED_BY_GROUP_13 = 33
    INTERROGATED_BY_GROUP_14 = 34
    INTERROGATED_BY_GROUP_15 = 35
    INTERROGATED_BY_GROUP_16 = 36
    REQUESTED_BY_GENERAL_COUNTER = 37
    REQUESTED_BY_GROUP_1_COUNTER = 38
    REQUESTED_BY_GROUP_2_COUNTER = 39
    REQUESTED_BY_GROUP_3_COUNTER = 40
    REQUESTED_BY_GROUP_4_COUNTER = 41
    UNKNOWN_TYPE = 44
    UNKNOWN_CAUSE = 45
    UNKNOWN_COMMON_ADDRESS = 46
    UNKNOWN_IOA = 47


class Quality(IntFlag):
    """Quality descriptor bits (QDS; SIQ and DIQ use the same bits except OVERFLOW)."""

    GOOD = 0
    OVERFLOW = 0x01
    BLOCKED = 0x10
    SUBSTITUTED = 0x20
    NOT_TOPICAL = 0x40
    INVALID = 0x80


_POINT_QUALITY_MASK: Final = 0xF0


class DoublePointValue(IntEnum):
    """Double point information (DPI) and double command state (DCS)."""

    INTERMEDIATE = 0
    OFF = 1
    ON = 2
    INDETERMINATE = 3


class InitializationCause(IntEnum):
    """Cause of initialization (COI, bits 1-7 of the qualifier)."""

    LOCAL_POWER_ON = 0
    LOCAL_MANUAL_RESET = 1
    REMOTE_RESET = 2


QOI_STATION: Final = 20
"""Qualifier of interrogation for a station (general) interrogation."""


@dataclass(frozen=True, slots=True)
class SinglePoint:
    """Single-point information (M_SP_NA_1, with time tag M_SP_TB_1)."""

    ioa: int
    value: bool
    quality: Quality = Quality.GOOD
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoublePoint:
    """Double-point information (M_DP_NA_1, with time tag M_DP_TB_1)."""

    ioa: int
    value: DoublePointValue
    quality: Quality = Quality.GOOD
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeasuredFloat:
    """Measured value, short floating point (M_ME_NC_1, with time tag M_ME_TF_1)."""

    ioa: int
    value: float
    quality: Quality = Quality.GOOD
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class EndOfInitialization:
    """End of initialization (M_EI_NA_1)."""

    ioa: int = 0
    cause: InitializationCause = InitializationCause.LOCAL_POWER_ON
    after_parameter_change: bool = False


@dataclass(frozen=True, slots=True)
class SingleCommand:
    """Single command (C_SC_NA_1, with time tag C_SC_TA_1)."""

    ioa: int
    value: bool
    qualifier: int = 0
    """Qualifier of command QU (0 none, 1 short pulse, 2 long pulse, 3 persistent)."""
    select: bool = False
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class DoubleCommand:
    """Double command (C_DC_NA_1, with time tag C_DC_TA_1)."""

    ioa: int
    value: DoublePointValue
    qualifier: int = 0
    select: bool = False
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class SetpointCommand:
    """Set-point command, short floating point (C_SE_NC_1, with time tag C_SE_TC_1)."""

    ioa: int
    value: float
    qualifier: int = 0
    """Qualifier of set-point command QL (0..127)."""
    select: bool = False
    time: datetime | None = None


@dataclass(frozen=True, slots=True)
class InterrogationCommand:
    """Interrogation command (C_IC_NA_1); qualifier 20 is the station interrogation."""

    ioa: int = 0
    qualifier: int = QOI_STATION


@dataclass(frozen=True, slots=True)
class ReadCommand:
    """Read command (C_RD_NA_1) for one information object."""

    ioa: int


@dataclass(frozen=True, slots=True)
class ClockSyncCommand:
    """Clock synchronization command (C_CS_NA_1)."""

    time: datetime
    ioa: int = 0


@dataclass(frozen=True, slots=True)
class TestCommand:
    """Test command with time tag (C_TS_TA_1)."""

    counter: int
    time: datetime
    ioa: int = 0


type InformationObject = (
    SinglePoint
    | DoublePoint
    | MeasuredFloat
    | EndOfInitialization
    | SingleCommand
    | DoubleCommand
    | SetpointCommand
    | InterrogationCommand
    | ReadCommand
    | ClockSyncCommand
    | TestCommand
)


@dataclass(frozen=True, slots=True)
class _TypeLayout:
    object_class: type[InformationObject]
    element_length: int
    """Octets of one information element, without its address."""
    time_tagged: bool


_CP56_LENGTH: Final = 7
_LAYOUTS: Final[dict[TypeID, _TypeLayout]] = {
    TypeID.M_SP_NA_1: _TypeLayout(SinglePoint, 1, False),
    TypeID.M_DP_NA_1: _TypeLayout(DoublePoint, 1, False),
    TypeID.M_ME_NC_1: _TypeLayout(MeasuredFloat, 5, False),
    TypeID.M_SP_TB_1: _TypeLayout(SinglePoint, 1 + _CP56_LENGTH, True),
    TypeID.M_DP_TB_1: _TypeLayout(DoublePoint, 1 + _CP56_LENGTH, True),
    TypeID.M_ME_TF_1: _TypeLayout(MeasuredFloat, 5 + _CP56_LENGTH, True),
    TypeID.C_SC_NA_1: _TypeLayout(SingleCommand, 1, False),
    TypeID.C_DC_NA_1: _TypeLayout(DoubleCommand, 1, False),
    TypeID.C_SE_NC_1: _TypeLayout(SetpointCommand, 5, False),
    TypeID.C_SC_TA_1: _TypeLayout(SingleCommand, 1 + _CP56_LENGTH, True),
    TypeID.C_DC_TA_1: _TypeLayout(DoubleCommand, 1 + _CP56_LENGTH, True),
    TypeID.C_SE_TC_1: _TypeLayout(SetpointCommand, 5 + _CP56_LENGTH, True),
    TypeID.M_EI_NA_1: _TypeLayout(EndOfInitialization, 1, False),
    TypeID.C_IC_NA_1: _TypeLayout(InterrogationCommand, 1, False),
    TypeID.C_RD_NA_1: _TypeLayout(ReadCommand, 0, False),
    TypeID.C_CS_NA_1: _TypeLayout(ClockSyncCommand, _CP56_LENGTH, True),
    TypeID.C_TS_TA_1: _TypeLayout(TestCommand, 2 + _CP56_LENGTH, True),
}

UNTIMED_TYPE: Final[dict[TypeID, TypeID]] = {
    TypeID.M_SP_TB_1: TypeID.M_SP_NA_1,
    TypeID.M_DP_TB_1: TypeID.M_DP_NA_1,
    TypeID.M_ME_TF_1: TypeID.M_ME_NC_1,
}
"""Time-tagged monitor types and their untimed variant, used for interrogation and cyclic data."""

COMMAND_TYPES: Final = frozenset(
    {
        TypeID.C_SC_NA_1,
        TypeID.C_DC_NA_1,
        TypeID.C_SE_NC_1,
        TypeID.C_SC_TA_1,
        TypeID.C_DC_TA_1,
        TypeID.C_SE_TC_1,
    }
)
"""Process command types (control direction) a command point can accept."""


def is_time_tagged(type_id: TypeID) -> bool:
    """Whether the information elements of this type carry a CP56Time2a time tag."""
    return _LAYOUTS[type_id].time_tagged


def object_class(type_id: TypeID) -> type[InformationObject]:
    """The information object class that represents elements of this type."""
    return _LAYOUTS[type_id].object_class


@dataclass(frozen=True, slots=True)
class ASDU:
    """Application service data unit: header plus information objects of one type."""

    type_id: TypeID
    cause: CauseOfTransmission
    common_address: int
    objects: tuple[InformationObject, ...]
    negative: bool = False
    test: bool = False
    originator: int = 0
    sequence: bool = False
    """SQ bit: consecutive addresses, only the first one transmitted."""


class ASDUDecodeError(Exception):
    """An ASDU that cannot be decoded.

    `cause` is the negative cause of transmission the standard prescribes for the reply
    (UNKNOWN_TYPE or UNKNOWN_CAUSE), or None where it prescribes none (malformed structure).
    """

    def __init__(self, message: str, cause: CauseOfTransmission | None = None) -> None:
        """Describe the problem and the negative cause to answer with, if any."""
        super().__init__(message)
        self.cause = cause


# CP56Time2a ---------------------------------------------------------------------------------


def encode_cp56time2a(moment: datetime) -> bytes:
    """Encode an aware datetime as CP56Time2a in UTC (years 2000..2099, SU and IV clear)."""
    if moment.tzinfo is None:
        raise ValueError("CP56Time2a needs an aware datetime")
    utc = moment.astimezone(UTC)
    if not 2000 <= utc.year <= 2099:
        raise ValueError(f"year {utc.year} outside the CP56Time2a range 2000..2099")
    milliseconds = utc.second * 1000 + utc.microsecond // 1000
    return bytes(
        (
            milliseconds & 0xFF,
            milliseconds >> 8,
            utc.minute,
            utc.hour,
            utc.isoweekday() << 5 | utc.day,
            utc.month,
            utc.year - 2000,
        )
    )


def decode_cp56time2a(data: bytes | memoryview) -> datetime:
    """Decode CP56Time2a as an aware UTC datetime; ValueError on an impossible date.

    The invalid (IV), summer time (SU) and day-of-week fields are not interpreted.
    """
    if len(data) != _CP56_LENGTH:
        raise ValueError(f"CP56Time2a needs 7 octets, got {len(data)}")
    milliseconds = data[0] | data[1] << 8
    if milliseconds >= 60000:
        raise ValueError(f"{milliseconds} ms is not within a minute")
    second, millisecond = divmod(milliseconds, 1000)
    return datetime(
        2000 + (data[6] & 0x7F),
        data[5] & 0x0F,
        data[4] & 0x1F,
        data[3] & 0x1F,
        data[2] & 0x3F,
        second,
        millisecond * 1000,
        tzinfo=UTC,
    )


# Information elements -----------------------------------------------------------------------


def _qualifier(value: int, maximum: int, name: str) -> int:
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} {value} outside 0..{maximum}")
    return value


def _point_quality(quality: Quality) -> int:
    if quality & Quality.OVERFLOW:
        raise ValueError("single and double points have no OVERFLOW quality bit")
    return int(quality)


def pack_short_float(value: float) -> bytes:
    """Encode an IEEE 754 short float; ValueError if the value is beyond its range."""
    try:
        return _FLOAT.pack(value)
    except OverflowError:
        raise ValueError(f"{value} does not fit a short floating point number") from None


def _encode_element(obj: InformationObject, time_tagged: bool) -> bytes:
    """Encode one information element without its address."""
    match obj:
        case SinglePoint(_, value, quality, _):
            element = bytes((_point_quality(quality) | value,))
        case DoublePoint(_, value, quality, _):
            element = bytes((_point_quality(quality) | DoublePointValue(value),))
        case MeasuredFloat(_, value, quality, _):
            element = pack_short_float(value) + bytes((quality & 0xF1,))
        case SingleCommand(_, value, qualifier, select, _):
            element = bytes((select << 7 | _qualifier(qualifier, 31, "QU") << 2 | value,))
        case DoubleCommand(_, value, qualifier, select, _):
            qu = _qualifier(qualifier, 31, "QU")
            element = bytes((select << 7 | qu << 2 | DoublePointValue(value),))
        case SetpointCommand(_, value, qualifier, select, _):
            element = pack_short_float(value) + bytes(
                (select << 7 | _qualifier(qualifier, 127, "QL"),)
            )
        case EndOfInitialization(_, cause, after_parameter_change):
            element = bytes((after_parameter_change << 7 | _qualifier(cause, 127, "COI"),))
        case InterrogationCommand(_, qualifier):
            element = bytes((_qualifier(qualifier, 255, "QOI"),))
        case ReadCommand():
            element = b""
        case ClockSyncCommand():
            element = b""
        case TestCommand(counter, _, _):
            element = _UINT16.pack(_qualifier(counter, 0xFFFF, "TSC"))
    if time_tagged:
        time: datetime | None = getattr(obj, "time", None)
        if time is None:
            raise ValueError(f"{type(obj).__name__} at IOA {obj.ioa} needs a time tag")
        element += encode_cp56time2a(time)
    return element


def _decode_element(
    object_cls: type[InformationObject], ioa: int, data: bytes, time: datetime | None
) -> InformationObject:
    """Decode one information element (time tag already decoded) of the given class."""
    first = data[0] if data else 0
    if object_cls is SinglePoint:
        return SinglePoint(ioa, bool(first & 0x01), Quality(first & _POINT_QUALITY_MASK), time)
    if object_cls is DoublePoint:
        return DoublePoint(
            ioa, DoublePointValue(first & 0x03), Quality(first & _POINT_QUALITY_MASK), time
        )
    if object_cls is MeasuredFloat:
        return MeasuredFloat(ioa, _FLOAT.unpack_from(data)[0], Quality(data[4] & 0xF1), time)
    if object_cls is SingleCommand:
        return SingleCommand(ioa, bool(first & 0x01), first >> 2 & 0x1F, bool(first & 0x80), time)
    if object_cls is DoubleCommand:
        return DoubleCommand(
            ioa, DoublePointValue(first & 0x03), first >> 2 & 0x1F, bool(first & 0x80), time
        )
    if object_cls is SetpointCommand:
        qos = data[4]
        return SetpointCommand(ioa, _FLOAT.unpack_from(data)[0], qos & 0x7F, bool(qos & 0x80), time)
    if object_cls is EndOfInitialization:
        cause = first & 0x7F
        if cause not in InitializationCause:
            raise ASDUDecodeError(f"unknown cause of initialization {cause}")
        return EndOfInitialization(ioa, InitializationCause(cause), bool(first & 0x80))
    if object_cls is InterrogationCommand:
        return InterrogationCommand(ioa, first)
    if object_cls is ReadCommand:
        return ReadCommand(ioa)
    assert time is not None  # the remaining classes are time-tagged
    if object_cls is ClockSyncCommand:
        return ClockSyncCommand(time, ioa)
    return TestCommand(_UINT16.unpack_from(data)[0], time, ioa)


# ASDU ---------------------------------------------------------------------------------------


def _header(
    type_id: TypeID,
    count: int,
    *,
    sequence: bool,
    cause: CauseOfTransmission,
    negative: bool,
    test: bool,
    originator: int,
    common_address: int,
) -> bytes:
    if not 1 <= count <= MAX_OBJECTS:
        raise ValueError(f"{count} information objects outside 1..{MAX_OBJECTS}")
    if not 0 <= common_address <= 0xFFFF:
        raise ValueError(f"common address {common_address} outside 0..65535")
    if not 0 <= originator <= 0xFF:
        raise ValueError(f"originator address {originator} outside 0..255")
    return bytes(
        (
            type_id,
            sequence << 7 | count,
            test << 7 | negative << 6 | cause,
            originator,
            common_address & 0xFF,
            common_address >> 8,
        )
    )


def _ioa(ioa: int) -> bytes:
    if not 0 <= ioa <= MAX_IOA:
        raise ValueError(f"information object address {ioa} outside 0..{MAX_IOA}")
    return ioa.to_bytes(3, "little")


def _check_class(type_id: TypeID, obj: InformationObject) -> _TypeLayout:
    layout = _LAYOUTS[type_id]
    if type(obj) is not layout.object_class:
        raise ValueError(f"{type(obj).__name__} cannot be sent as {type_id.name}")
    return layout


def encode_asdu(asdu: ASDU) -> bytes:
    """Encode an ASDU; ValueError if a field is out of range or it exceeds 249 octets."""
    objects = asdu.objects
    parts = [
        _header(
            asdu.type_id,
            len(objects),
            sequence=asdu.sequence,
            cause=asdu.cause,
            negative=asdu.negative,
            test=asdu.test,
            originator=asdu.originator,
            common_address=asdu.common_address,
        )
    ]
    for index, obj in enumerate(objects):
        layout = _check_class(asdu.type_id, obj)
        if not asdu.sequence or index == 0:
            parts.append(_ioa(obj.ioa))
        elif obj.ioa != objects[0].ioa + index:
            raise ValueError("a sequence (SQ=1) needs consecutive information object addresses")
        parts.append(_encode_element(obj, layout.time_tagged))
    encoded = b"".join(parts)
    if len(encoded) > MAX_ASDU_LENGTH:
        raise ValueError(f"ASDU of {len(encoded)} octets exceeds {MAX_ASDU_LENGTH}")
    return encoded


def encode_asdus(
    type_id: TypeID,
    cause: CauseOfTransmission,
    common_address: int,
    objects: Iterable[InformationObject],
    *,
    originator: int = 0,
) -> Iterator[bytes]:
    """Encode objects of one type into as few ASDUs (SQ=0) as the 249-octet limit allows."""

    def header(count: int) -> bytes:
        return _header(
            type_id,
            count,
            sequence=False,
            cause=cause,
            negative=False,
            test=False,
            originator=originator,
            common_address=common_address,
        )

    layout = _LAYOUTS[type_id]
    object_length = IOA_LENGTH + layout.element_length
    per_asdu = min(MAX_OBJECTS, (MAX_ASDU_LENGTH - HEADER_LENGTH) // object_length)
    body: list[bytes] = []
    for obj in objects:
        _check_class(type_id, obj)
        body.append(_ioa(obj.ioa) + _encode_element(obj, layout.time_tagged))
        if len(body) == per_asdu:
            yield header(len(body)) + b"".join(body)
            body = []
    if body:
        yield header(len(body)) + b"".join(body)


@dataclass(frozen=True, slots=True)
class ASDUHeader:
    """What an ASDU says about itself, readable also when its objects cannot be decoded."""

    type_id: TypeID | int
    """The type identification, a plain int when this stack does not know it."""
    cause: CauseOfTransmission | int
    """The cause of transmission (without P/N and test bits), a plain int when undefined."""
    common_address: int
    ioa: int | None
    """Address of the first information object, None when the ASDU is too short for one."""


def type_name(type_id: TypeID | int) -> str:
    """The name of a type identification, or "type N" for one this stack does not know."""
    return type_id.name if isinstance(type_id, TypeID) else f"type {type_id}"


def decode_header(data: bytes) -> ASDUHeader:
    """Read an ASDU's header and first address; ASDUDecodeError if shorter than its header."""
    if len(data) < HEADER_LENGTH:
        raise ASDUDecodeError(f"ASDU of {len(data)} octets is shorter than its header")
    raw_type, raw_cause = data[0], data[2] & 0x3F
    first_ioa = data[HEADER_LENGTH : HEADER_LENGTH + IOA_LENGTH]
    return ASDUHeader(
        type_id=TypeID(raw_type) if raw_type in _TYPE_VALUES else raw_type,
        cause=CauseOfTransmission(raw_cause) if raw_cause in _CAUSE_VALUES else raw_cause,
        common_address=data[4] | data[5] << 8,
        ioa=int.from_bytes(first_ioa, "little") if len(first_ioa) == IOA_LENGTH else None,
    )


def decode_asdu(data: bytes) -> ASDU:
    """Decode an ASDU; raise ASDUDecodeError (with the negative cause to answer) if invalid."""
    header = decode_header(data)
    type_id, cause = header.type_id, header.cause
    if not isinstance(type_id, TypeID):
        raise ASDUDecodeError(
            f"unknown type identification {type_id}", CauseOfTransmission.UNKNOWN_TYPE
        )
    if not isinstance(cause, CauseOfTransmission):
        raise ASDUDecodeError(
            f"unknown cause of transmission {cause}", CauseOfTransmission.UNKNOWN_CAUSE
        )
    vsq, cot = data[1], data[2]
    layout = _LAYOUTS[type_id]
    count = vsq & 0x7F
    sequence = bool(vsq & 0x80)
    element_length = layout.element_length
    if sequence:
        expected = HEADER_LENGTH + IOA_LENGTH + count * element_length
    else:
        expected = HEADER_LENGTH + count * (IOA_LENGTH + element_length)
    if count == 0 or len(data) != expected:
        raise ASDUDecodeError(
            f"{type_id.name} with {count} objects (SQ={int(sequence)}) "
            f"cannot have {len(data)} octets"
        )
    objects: list[InformationObject] = []
    offset = HEADER_LENGTH
    base_ioa = 0
    value_length = element_length - _CP56_LENGTH if layout.time_tagged else element_length
    try:
        for index in range(count):
            if not sequence or index == 0:
                base_ioa = int.from_bytes(data[offset : offset + IOA_LENGTH], "little")
                offset += IOA_LENGTH
            ioa = base_ioa + index if sequence else base_ioa
            element = data[offset : offset + value_length]
            time = None
            if layout.time_tagged:
                time = decode_cp56time2a(data[offset + value_length : offset + element_length])
            objects.append(_decode_element(layout.object_class, ioa, element, time))
            offset += element_length
    except ValueError as err:
        raise ASDUDecodeError(f"{type_id.name}: {err}") from None
    return ASDU(
        type_id=type_id,
        cause=cause,
        common_address=header.common_address,
        objects=tuple(objects),
        negative=bool(cot & 0x40),
        test=bool(cot & 0x80),
        originator=data[3],
        sequence=sequence,
    )


_TYPE_VALUES: Final = frozenset(TypeID)
_CAUSE_VALUES: Final = frozenset(CauseOfTransmission)


def mirror_asdu(raw: bytes, cause: CauseOfTransmission, *, negative: bool = False) -> bytes:
    """Return a received ASDU with a new cause and P/N bit, keeping the test bit and the rest.

    This is how confirmations (ACT_CON, ACT_TERM) and negative replies (causes 44 to 47)
    answer a command: same type, originator, common address and information object.
    """
    if len(raw) < HEADER_LENGTH:
        raise ValueError("not an ASDU")
    cot = (raw[2] & 0x80) | negative << 6 | cause
    return raw[:2] + bytes((cot,)) + raw[3:]
