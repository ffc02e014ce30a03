"""ASDU codec: frames from the standard and captures byte for byte, round trips, errors."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    MAX_OBJECTS,
    ASDUDecodeError,
    ASDUHeader,
    CauseOfTransmission,
    ClockSyncCommand,
    DoubleCommand,
    DoublePoint,
    DoublePointValue,
    EndOfInitialization,
    InformationObject,
    InitializationCause,
    InterrogationCommand,
    MeasuredFloat,
    Quality,
    ReadCommand,
    SetpointCommand,
    SingleCommand,
    SinglePoint,
    TestCommand as TimeTaggedTestCommand,  # not named Test* so pytest does not collect it
    TypeID,
    decode_asdu,
    decode_cp56time2a,
    decode_header,
    encode_asdu,
    encode_asdus,
    encode_cp56time2a,
    is_time_tagged,
    mirror_asdu,
    object_class,
    type_name,
)

CAPTURE_TIME = datetime(2026, 11, 22, 2, 30, 59, 695000, tzinfo=UTC)

# (hex ASDU, decoded ASDU): lib60870 (c104) captures, the standard's textbook GI and
# hand-assembled frames following the field layout of IEC 60870-5-101/104.
VECTORS: list[tuple[str, ASDU]] = [
    (
        "46010400640000000000",
        ASDU(TypeID.M_EI_NA_1, CauseOfTransmission.INITIALIZED, 100, (EndOfInitialization(),)),
    ),
    (
        "64010600010000000014",
        ASDU(TypeID.C_IC_NA_1, CauseOfTransmission.ACTIVATION, 1, (InterrogationCommand(),)),
    ),
    (
        "6701070064000000002fe91e02f60b1a",
        ASDU(
            TypeID.C_CS_NA_1,
            CauseOfTransmission.ACTIVATION_CON,
            100,
            (ClockSyncCommand(CAPTURE_TIME),),
        ),
    ),
    (
        "320106006400d107000000044200",
        ASDU(TypeID.C_SE_NC_1, CauseOfTransmission.ACTIVATION, 100, (SetpointCommand(2001, 33.0),)),
    ),
    (
        "0d0114006400e12e000000c84200",
        ASDU(
            TypeID.M_ME_NC_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            100,
            (MeasuredFloat(12001, 100.0),),
        ),
    ),
    (
        "2d016f0064000f270001",
        ASDU(
            TypeID.C_SC_NA_1,
            CauseOfTransmission.UNKNOWN_IOA,
            100,
            (SingleCommand(9999, True),),
            negative=True,
        ),
    ),
    (
        "2e01860364004d04008e",
        ASDU(
            TypeID.C_DC_NA_1,
            CauseOfTransmission.ACTIVATION,
            100,
            (DoubleCommand(1101, DoublePointValue.ON, qualifier=3, select=True),),
            test=True,
            originator=3,
        ),
    ),
    (
        "018203006400f92a000091",
        ASDU(
            TypeID.M_SP_NA_1,
            CauseOfTransmission.SPONTANEOUS,
            100,
            (
                SinglePoint(11001, False),
                SinglePoint(11002, True, Quality.INVALID | Quality.BLOCKED),
            ),
            sequence=True,
        ),
    ),
    (
        "1f01030064005d2b00422fe91e02f60b1a",
        ASDU(
            TypeID.M_DP_TB_1,
            CauseOfTransmission.SPONTANEOUS,
            100,
            (DoublePoint(11101, DoublePointValue.ON, Quality.NOT_TOPICAL, CAPTURE_TIME),),
        ),
    ),
    (
        "240101006400c93200000080bf212fe91e02f60b1a",
        ASDU(
            TypeID.M_ME_TF_1,
            CauseOfTransmission.PERIODIC,
            100,
            (MeasuredFloat(13001, -1.0, Quality.OVERFLOW | Quality.SUBSTITUTED, CAPTURE_TIME),),
        ),
    ),
    (
        "6b0107006400000000341200e91e02f60b1a",
        ASDU(
            TypeID.C_TS_TA_1,
            CauseOfTransmission.ACTIVATION_CON,
            100,
            (TimeTaggedTestCommand(0x1234, datetime(2026, 11, 22, 2, 30, 59, 648000, tzinfo=UTC)),),
        ),
    ),
    (
        "660105006400e12e00",
        ASDU(TypeID.C_RD_NA_1, CauseOfTransmission.REQUEST, 100, (ReadCommand(12001),)),
    ),
]


@pytest.mark.parametrize(("wire", "asdu"), VECTORS, ids=[asdu.type_id.name for _, asdu in VECTORS])
def test_vectors(wire: str, asdu: ASDU) -> None:
    assert decode_asdu(bytes.fromhex(wire)) == asdu
    assert encode_asdu(asdu).hex() == wire


def test_captured_time_tagged_command_without_day_of_week() -> None:
    # lib60870 leaves the day of week 0; we read it regardless and write it filled in.
    asdu = decode_asdu(bytes.fromhex("3a0107006400e903000130e91e02160b1a"))
    command = SingleCommand(1001, True, time=CAPTURE_TIME + timedelta(milliseconds=1))
    assert asdu == ASDU(TypeID.C_SC_TA_1, CauseOfTransmission.ACTIVATION_CON, 100, (command,))
    assert encode_asdu(asdu).hex() == "3a0107006400e903000130e91e02f60b1a"


def test_cp56time2a_converts_to_utc() -> None:
    brussels_summer = timezone(timedelta(hours=2))
    local = datetime(2026, 7, 1, 14, 0, 1, 2500, tzinfo=brussels_summer)
    assert decode_cp56time2a(encode_cp56time2a(local)) == datetime(
        2026, 7, 1, 12, 0, 1, 2000, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        (datetime(2026, 1, 1), "aware"),
        (datetime(1999, 12, 31, tzinfo=UTC), "year 1999"),
        (datetime(2100, 1, 1, tzinfo=UTC), "year 2100"),
    ],
)
def test_cp56time2a_rejects_unrepresentable_times(moment: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_cp56time2a(moment)


@pytest.mark.parametrize(
    ("wire", "message"),
    [("60ea1e02160b1a", "not within a minute"), ("00001e02160d1a", "month"), ("00", "7 octets")],
)
def test_cp56time2a_rejects_invalid_octets(wire: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_cp56time2a(bytes.fromhex(wire))


@pytest.mark.parametrize(
    ("wire", "cause", "message"),
    [
        ("2d0106006400", None, "cannot have 6 octets"),
        ("2d01060064", None, "shorter than its header"),
        (
            "090103006400010000000000",
            CauseOfTransmission.UNKNOWN_TYPE,
            "unknown type identification 9",
        ),
        (
            "ff0103006400010000000000",
            CauseOfTransmission.UNKNOWN_TYPE,
            "unknown type identification 255",
        ),
        (
            "2d01000064000f270001",
            CauseOfTransmission.UNKNOWN_CAUSE,
            "unknown cause of transmission 0",
        ),
        (
            "2d010e0064000f270001",
            CauseOfTransmission.UNKNOWN_CAUSE,
            "unknown cause of transmission 14",
        ),
        ("2d00060064000f270001", None, "with 0 objects"),
        ("2d02060064000f270001", None, "cannot have 10 octets"),
        ("2d81060064000f27000101", None, "cannot have 11 octets"),
        ("46010400640000000005", None, "unknown cause of initialization 5"),
        ("67010600640000000000001e02f60d1a", None, "C_CS_NA_1: month must be in 1..12"),
    ],
)
def test_decode_errors(wire: str, cause: CauseOfTransmission | None, message: str) -> None:
    with pytest.raises(ASDUDecodeError, match=message) as error:
        decode_asdu(bytes.fromhex(wire))
    assert error.value.cause is cause


@pytest.mark.parametrize(
    ("wire", "header", "name"),
    [
        (
            "2d0106006400e903000001",
            ASDUHeader(TypeID.C_SC_NA_1, CauseOfTransmission.ACTIVATION, 100, 1001),
            "C_SC_NA_1",
        ),
        (
            "300106006400d1070000000000",
            ASDUHeader(48, CauseOfTransmission.ACTIVATION, 100, 2001),
            "type 48",
        ),
        ("2d010e0065000f270001", ASDUHeader(TypeID.C_SC_NA_1, 14, 101, 9999), "C_SC_NA_1"),
        (
            "ff01060064000f27",
            ASDUHeader(255, CauseOfTransmission.ACTIVATION, 100, None),
            "type 255",
        ),
    ],
)
def test_header_of_any_asdu(wire: str, header: ASDUHeader, name: str) -> None:
    """Type, cause and addresses are readable from ASDUs that do not decode."""
    assert decode_header(bytes.fromhex(wire)) == header
    assert type_name(header.type_id) == name


def test_header_needs_six_octets() -> None:
    with pytest.raises(ASDUDecodeError, match="shorter than its header"):
        decode_header(bytes.fromhex("2d01060064"))


def _asdu(type_id: TypeID, *objects: InformationObject, **fields: object) -> ASDU:
    fields.setdefault("common_address", 100)
    return ASDU(type_id, CauseOfTransmission.SPONTANEOUS, objects=objects, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("asdu", "message"),
    [
        (_asdu(TypeID.M_SP_NA_1), "0 information objects"),
        (_asdu(TypeID.M_SP_NA_1, SinglePoint(0x1000000, True)), "address 16777216"),
        (_asdu(TypeID.M_SP_NA_1, SinglePoint(1, True), common_address=65536), "common address"),
        (_asdu(TypeID.M_SP_NA_1, SinglePoint(1, True), originator=256), "originator"),
        (_asdu(TypeID.M_SP_NA_1, MeasuredFloat(1, 1.0)), "MeasuredFloat cannot be sent as M_SP"),
        (_asdu(TypeID.M_SP_TB_1, SinglePoint(1, True)), "needs a time tag"),
        (_asdu(TypeID.M_SP_NA_1, SinglePoint(1, True, Quality.OVERFLOW)), "no OVERFLOW"),
        (_asdu(TypeID.M_ME_NC_1, MeasuredFloat(1, 1e39)), "short floating point"),
        (_asdu(TypeID.C_SC_NA_1, SingleCommand(1, True, qualifier=32)), "QU 32"),
        (_asdu(TypeID.C_SE_NC_1, SetpointCommand(1, 1.0, qualifier=128)), "QL 128"),
        (_asdu(TypeID.C_TS_TA_1, TimeTaggedTestCommand(65536, CAPTURE_TIME)), "TSC 65536"),
        (
            _asdu(TypeID.M_SP_NA_1, SinglePoint(1, True), SinglePoint(3, True), sequence=True),
            "consecutive",
        ),
        (
            _asdu(TypeID.M_ME_TF_1, *[MeasuredFloat(i, 0.0, time=CAPTURE_TIME) for i in range(17)]),
            "exceeds 249",
        ),
        (
            _asdu(TypeID.M_SP_NA_1, *[SinglePoint(1, True)] * (MAX_OBJECTS + 1), sequence=True),
            "128 information objects",
        ),
    ],
)
def test_encode_errors(asdu: ASDU, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_asdu(asdu)


def test_encode_asdus_packs_to_the_apdu_limit() -> None:
    points = [MeasuredFloat(100_000 + index, float(index)) for index in range(1000)]
    asdus = list(
        encode_asdus(TypeID.M_ME_NC_1, CauseOfTransmission.INTERROGATED_BY_STATION, 100, points)
    )
    assert len(asdus) == math.ceil(1000 / 30)  # (249 - 6) // (3 + 5) objects per ASDU
    assert max(len(asdu) for asdu in asdus) == 6 + 30 * 8
    decoded = [decode_asdu(asdu) for asdu in asdus]
    assert [obj for asdu in decoded for obj in asdu.objects] == points
    assert {(asdu.cause, asdu.common_address) for asdu in decoded} == {
        (CauseOfTransmission.INTERROGATED_BY_STATION, 100)
    }


def test_encode_asdus_limits_objects_to_127() -> None:
    # Read commands have no element: 81 would fit in the octets, but N has 7 bits.
    reads = [ReadCommand(index) for index in range(200)]
    asdus = list(
        encode_asdus(TypeID.C_RD_NA_1, CauseOfTransmission.REQUEST, 1, reads, originator=7)
    )
    assert [asdu[1] for asdu in asdus] == [81, 81, 38]
    with pytest.raises(ValueError, match="SinglePoint cannot be sent as C_RD_NA_1"):
        list(encode_asdus(TypeID.C_RD_NA_1, CauseOfTransmission.REQUEST, 1, [SinglePoint(1, True)]))


def test_mirror_asdu_changes_only_the_cause_octet() -> None:
    command = bytes.fromhex("2d0186036400e903000181")
    assert (
        mirror_asdu(command, CauseOfTransmission.ACTIVATION_CON).hex() == "2d0187036400e903000181"
    )
    assert (
        mirror_asdu(command, CauseOfTransmission.UNKNOWN_IOA, negative=True)[2] == 0x80 | 0x40 | 47
    )
    with pytest.raises(ValueError, match="not an ASDU"):
        mirror_asdu(b"\x2d", CauseOfTransmission.ACTIVATION_CON)


def test_type_properties() -> None:
    assert is_time_tagged(TypeID.C_SE_TC_1)
    assert not is_time_tagged(TypeID.C_SE_NC_1)
    assert object_class(TypeID.M_DP_TB_1) is DoublePoint


# Round trips -------------------------------------------------------------------------------

ioas = st.integers(0, 0xFFFFFF)
qualities = st.sampled_from(Quality)
point_qualities = qualities.filter(lambda quality: not quality & Quality.OVERFLOW)
floats = st.floats(width=32, allow_nan=False)
times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
double_values = st.sampled_from(DoublePointValue)


def _objects(type_id: TypeID) -> st.SearchStrategy[InformationObject]:
    time = times if is_time_tagged(type_id) else st.none()
    cls = object_class(type_id)
    strategies: dict[type, st.SearchStrategy[InformationObject]] = {
        SinglePoint: st.builds(SinglePoint, ioas, st.booleans(), point_qualities, time),
        DoublePoint: st.builds(DoublePoint, ioas, double_values, point_qualities, time),
        MeasuredFloat: st.builds(MeasuredFloat, ioas, floats, qualities, time),
        SingleCommand: st.builds(
            SingleCommand, ioas, st.booleans(), st.integers(0, 31), st.booleans(), time
        ),
        DoubleCommand: st.builds(
            DoubleCommand, ioas, double_values, st.integers(0, 31), st.booleans(), time
        ),
        SetpointCommand: st.builds(
            SetpointCommand, ioas, floats, st.integers(0, 127), st.booleans(), time
        ),
        EndOfInitialization: st.builds(
            EndOfInitialization, ioas, st.sampled_from(InitializationCause), st.booleans()
        ),
        InterrogationCommand: st.builds(InterrogationCommand, ioas, st.integers(0, 255)),
        ReadCommand: st.builds(ReadCommand, ioas),
        ClockSyncCommand: st.builds(ClockSyncCommand, times, ioas),
        TimeTaggedTestCommand: st.builds(
            TimeTaggedTestCommand, st.integers(0, 0xFFFF), times, ioas
        ),
    }
    return strategies[cls]


@st.composite
def asdus(draw: st.DrawFn) -> ASDU:
    type_id = draw(st.sampled_from(TypeID))
    # 16 objects of the longest type (M_ME_TF_1, 15 octets) still fit in 249 octets.
    objects = draw(st.lists(_objects(type_id), min_size=1, max_size=16))
    return ASDU(
        type_id,
        draw(st.sampled_from(CauseOfTransmission)),
        draw(st.integers(0, 0xFFFF)),
        tuple(objects),
        negative=draw(st.booleans()),
        test=draw(st.booleans()),
        originator=draw(st.integers(0, 255)),
    )


@given(asdus())
def test_round_trip(asdu: ASDU) -> None:
    encoded = encode_asdu(asdu)
    assert decode_asdu(encoded) == asdu
    assert mirror_asdu(encoded, asdu.cause, negative=asdu.negative) == encoded


@given(asdus())
def test_round_trip_as_sequence(asdu: ASDU) -> None:
    first = asdu.objects[0].ioa % 0xFFFF00
    objects = tuple(
        type(obj)(**{**_fields(obj), "ioa": first + index})  # type: ignore[arg-type]
        for index, obj in enumerate(asdu.objects)
    )
    sequence = ASDU(asdu.type_id, asdu.cause, asdu.common_address, objects, sequence=True)
    assert decode_asdu(encode_asdu(sequence)) == sequence


def _fields(obj: InformationObject) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}
