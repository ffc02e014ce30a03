"""Sans-IO ASDU rules of the controlled station: how each received ASDU is answered.

A `Responder` serves one connection. It takes the session's `ASDUReceived` and
`InvalidASDUReceived` events and returns what happened as events; the ASDUs to send are
collected, in order, with `data_to_send()`. Where the application decides (a process command,
a clock synchronization) it reports `CommandReceived` or `ClockSyncReceived` and answers
once told the decision with `confirm_command` or `confirm_clock_sync`. No I/O, no clock, no
logging: the transport turns the events into callbacks and log lines.

The rules: refusals with the standard's negative causes 44 to 47 (and a negative ACT_CON for a
select or a double command in the state 0 or 3), general interrogation, clock
synchronization, read, test command and the end of initialization.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from .asdu import (
    ASDU,
    BROADCAST_ADDRESS,
    COMMAND_TYPES,
    QOI_STATION,
    ASDUHeader,
    CauseOfTransmission,
    ClockSyncCommand,
    DoubleCommand,
    DoublePointValue,
    EndOfInitialization,
    InterrogationCommand,
    SetpointCommand,
    SingleCommand,
    TypeID,
    decode_header,
    encode_asdu,
    encode_asdus,
    mirror_asdu,
    type_name,
)
from .connection import ASDUReceived, InvalidASDUReceived
from .station import MonitorPoint, Station, untimed

if TYPE_CHECKING:
    from datetime import datetime

type Peer = tuple[str, int]
type CommandObject = SingleCommand | DoubleCommand | SetpointCommand
_COMMAND_CLASSES: Final = (SingleCommand, DoubleCommand, SetpointCommand)
"""The classes of `Command`, for isinstance."""

CYCLIC_CAUSES: Final = frozenset(
    {CauseOfTransmission.PERIODIC, CauseOfTransmission.BACKGROUND_SCAN}
)
MONITOR_CAUSES: Final = CYCLIC_CAUSES | {
    CauseOfTransmission.SPONTANEOUS,
    CauseOfTransmission.RETURN_INFO_REMOTE,
    CauseOfTransmission.RETURN_INFO_LOCAL,
}
"""Causes of transmission for monitor data sent by the station."""

_CONTROL_TYPES: Final = COMMAND_TYPES | {
    TypeID.C_IC_NA_1,
    TypeID.C_CS_NA_1,
    TypeID.C_RD_NA_1,
    TypeID.C_TS_TA_1,
}
_SERVICE_TYPES: Final = _CONTROL_TYPES - COMMAND_TYPES
"""The station's own services; their negative answers are no refused commands."""
_BROADCAST_TYPES: Final = frozenset({TypeID.C_IC_NA_1, TypeID.C_CS_NA_1})
"""Control types the broadcast common address 65535 may address (answered per station)."""
_DOUBLE_COMMAND_STATES: Final = frozenset({DoublePointValue.OFF, DoublePointValue.ON})


# Decisions the application takes ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProcessCommand:
    """A process command that passed the address, type and cause checks."""

    common_address: int
    type_id: TypeID
    command: CommandObject
    originator: int
    test: bool
    peer: Peer

    @property
    def ioa(self) -> int:
        """Address of the command point."""
        return self.command.ioa

    @property
    def value(self) -> bool | DoublePointValue | float:
        """Commanded state or set-point value."""
        return self.command.value

    @property
    def time(self) -> datetime | None:
        """Time tag of a time-tagged command (aware UTC), None for the plain types."""
        return self.command.time


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The handler's decision: positive or negative ACT_CON, then optionally ACT_TERM.

    `feedback` points are transmitted spontaneously (COT 3) right after the confirmation.
    """

    positive: bool
    terminate: bool = False
    feedback: tuple[MonitorPoint, ...] = field(default=())

    @classmethod
    def accept(
        cls, *, terminate: bool = False, feedback: Iterable[MonitorPoint] = ()
    ) -> CommandResult:
        """Positive confirmation."""
        return cls(True, terminate, tuple(feedback))

    @classmethod
    def reject(cls) -> CommandResult:
        """Negative confirmation."""
        return cls(False)


@dataclass(frozen=True, slots=True)
class RefusedCommand:
    """A command the server refused by itself, without asking the command handler.

    Its fields are what the ASDU said, as far as the server could decode it: the type id and
    cause are plain ints when the server does not know them, `ioa` is None when the ASDU is too
    short to carry one, and `command` is None unless it decoded as one process command.
    """

    peer: Peer
    common_address: int
    ioa: int | None
    type_id: TypeID | int
    cause: CauseOfTransmission | int
    """Cause of transmission received."""
    reply_cause: CauseOfTransmission
    """Cause of the negative reply: 44 to 47, or ACTIVATION_CON for a select (S/E = 1) or a
    double command in the state 0 or 3."""
    reason: str
    """Why, in words (as logged)."""
    command: CommandObject | None = None

    @property
    def value(self) -> bool | DoublePointValue | float | None:
        """Commanded state or set-point value, None if the command was not decoded."""
        return None if self.command is None else self.command.value

    @property
    def select(self) -> bool:
        """Whether the command was a select (S/E = 1) of select-before-operate."""
        return self.command is not None and self.command.select

    @property
    def type_name(self) -> str:
        """The type identification's name, or "type N" for one the server does not know."""
        return type_name(self.type_id)


@dataclass(frozen=True, slots=True)
class ClockSyncRequest:
    """A clock synchronization command (time in UTC)."""

    time: datetime
    common_address: int
    originator: int
    peer: Peer


# Events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandReceived:
    """A process command for the application; answer it with `Responder.confirm_command`."""

    request: ProcessCommand
    raw: bytes


@dataclass(frozen=True, slots=True)
class ClockSyncReceived:
    """A clock synchronization; answer it with `Responder.confirm_clock_sync`."""

    request: ClockSyncRequest
    asdu: ASDU
    common_addresses: tuple[int, ...]
    """The stations that confirm it (all of them for the broadcast address)."""


@dataclass(frozen=True, slots=True)
class ClockSynchronized:
    """A clock synchronization was confirmed, positively or not."""

    time: datetime
    accepted: bool


@dataclass(frozen=True, slots=True)
class CommandRefused:
    """A command (or an ASDU of a type not served) refused without asking the application."""

    refused: RefusedCommand

    @property
    def description(self) -> str:
        """E.g. "C_SE_NC_1 (CA 100, IOA 2001)"."""
        refused = self.refused
        return _describe(refused.type_id, refused.common_address, refused.ioa)

    @property
    def reason(self) -> str:
        """Why, in words."""
        return self.refused.reason


@dataclass(frozen=True, slots=True)
class ServiceRefused:
    """A negative answer of the station's own services (interrogation, read, clock sync)."""

    description: str
    reason: str
    reply_cause: CauseOfTransmission


@dataclass(frozen=True, slots=True)
class InterrogationAnswered:
    """A station answered an interrogation; a group interrogation is answered negatively."""

    common_address: int
    qualifier: int
    points: int
    positive: bool


@dataclass(frozen=True, slots=True)
class ASDUIgnored:
    """An ASDU left unanswered: malformed beyond a negative cause, or with several objects."""

    reason: str


type ResponderEvent = (
    CommandReceived
    | ClockSyncReceived
    | ClockSynchronized
    | CommandRefused
    | ServiceRefused
    | InterrogationAnswered
    | ASDUIgnored
)


def _describe(type_id: TypeID | int, common_address: int, ioa: int | None) -> str:
    return f"{type_name(type_id)} (CA {common_address}, IOA {ioa})"


def encode_points(
    points: Iterable[MonitorPoint], cause: CauseOfTransmission, *, originator: int
) -> list[bytes]:
    """Pack points into ASDUs per station and type, in order of first appearance.

    Cyclic and interrogated data use the untimed types, as the standard prescribes.
    """
    time_tagged_allowed = (
        cause not in CYCLIC_CAUSES and cause is not CauseOfTransmission.INTERROGATED_BY_STATION
    )
    groups: dict[tuple[int, TypeID], list[MonitorPoint]] = {}
    for point in points:
        type_id = point.type_id if time_tagged_allowed else untimed(point.type_id)
        groups.setdefault((point.station.common_address, type_id), []).append(point)
    asdus: list[bytes] = []
    for (common_address, type_id), group in groups.items():
        time_tagged = type_id is not untimed(type_id)
        asdus.extend(
            encode_asdus(
                type_id,
                cause,
                common_address,
                (point.information(time_tagged=time_tagged) for point in group),
                originator=originator,
            )
        )
    return asdus


def _protocol_refusal(command: CommandObject) -> str | None:
    """Why the protocol itself refuses a command, before any handler sees it."""
    if command.select:
        return "select-before-operate is not supported (direct execute only)"
    if isinstance(command, DoubleCommand) and command.value not in _DOUBLE_COMMAND_STATES:
        return "double command states 0 and 3 are not permitted"
    return None


class Responder:
    """The ASDU rules for one connection from `peer`, over the stations by common address.

    `stations` is read at each ASDU, so stations declared later are served too.
    """

    def __init__(self, stations: Mapping[int, Station], peer: Peer) -> None:
        """Serve `stations` to the client at `peer` (which the requests and refusals name)."""
        self._stations = stations
        self.peer = peer
        self._out: list[bytes] = []
        self._initialized = False

    def data_to_send(self) -> list[bytes]:
        """Return and clear the encoded ASDUs to queue on the session, in order."""
        out, self._out = self._out, []
        return out

    def data_transfer_started(self) -> None:
        """After the first STARTDT: an end of initialization (M_EI_NA_1) per station."""
        if self._initialized:
            return
        self._initialized = True
        self._out.extend(
            encode_asdu(
                ASDU(
                    TypeID.M_EI_NA_1,
                    CauseOfTransmission.INITIALIZED,
                    station.common_address,
                    (EndOfInitialization(),),
                )
            )
            for station in self._stations.values()
        )

    # Received ASDUs ---------------------------------------------------------------------------

    def receive(self, received: ASDUReceived | InvalidASDUReceived) -> list[ResponderEvent]:
        """Answer one received ASDU, applying the standard's negative causes."""
        if isinstance(received, InvalidASDUReceived):
            cause = received.error.cause
            if cause is None:
                reason = f"malformed ASDU {received.raw.hex()}: {received.error}"
                return [ASDUIgnored(reason)]
            return [self._refuse(received.raw, cause, str(received.error))]
        asdu, raw = received.asdu, received.raw
        type_id = asdu.type_id
        expected_cause = (
            CauseOfTransmission.REQUEST
            if type_id is TypeID.C_RD_NA_1
            else CauseOfTransmission.ACTIVATION
        )
        if type_id not in _CONTROL_TYPES:
            reason = f"{type_id.name} is not served in the control direction"
            return [self._refuse(raw, CauseOfTransmission.UNKNOWN_TYPE, reason, asdu)]
        if asdu.cause is not expected_cause:
            reason = f"{type_id.name} with cause {asdu.cause.name}, not {expected_cause.name}"
            return [self._refuse(raw, CauseOfTransmission.UNKNOWN_CAUSE, reason, asdu)]
        if len(asdu.objects) != 1:
            return [ASDUIgnored(f"{type_id.name} with {len(asdu.objects)} objects")]
        stations = self._targets(asdu.common_address, broadcast=type_id in _BROADCAST_TYPES)
        if not stations:
            reason = f"no station at common address {asdu.common_address}"
            return [self._refuse(raw, CauseOfTransmission.UNKNOWN_COMMON_ADDRESS, reason, asdu)]
        if type_id in COMMAND_TYPES:
            return [self._command(stations[0], asdu, raw)]
        if type_id is TypeID.C_RD_NA_1:
            return self._read(stations[0], asdu, raw)
        if asdu.objects[0].ioa != 0:
            return [self._refuse_address(stations, asdu, raw)]
        if type_id is TypeID.C_IC_NA_1:
            return self._interrogate(stations, asdu)
        if type_id is TypeID.C_CS_NA_1:
            command = asdu.objects[0]
            assert isinstance(command, ClockSyncCommand)
            request = ClockSyncRequest(
                command.time, asdu.common_address, asdu.originator, self.peer
            )
            addresses = tuple(station.common_address for station in stations)
            return [ClockSyncReceived(request, asdu, addresses)]
        # C_TS_TA_1
        self._out.append(mirror_asdu(raw, CauseOfTransmission.ACTIVATION_CON))
        return []

    def _targets(self, common_address: int, *, broadcast: bool) -> list[Station]:
        """The stations an ASDU addresses; the broadcast address only where allowed."""
        if broadcast and common_address == BROADCAST_ADDRESS:
            return list(self._stations.values())
        station = self._stations.get(common_address)
        return [] if station is None else [station]

    def _refuse(
        self, raw: bytes, reply_cause: CauseOfTransmission, reason: str, asdu: ASDU | None = None
    ) -> CommandRefused | ServiceRefused:
        """Answer negatively by mirroring the ASDU; report a refused command or service."""
        header: ASDUHeader = decode_header(raw)
        self._out.append(mirror_asdu(raw, reply_cause, negative=True))
        if header.type_id in _SERVICE_TYPES:
            description = _describe(header.type_id, header.common_address, header.ioa)
            return ServiceRefused(description, reason, reply_cause)
        command = asdu.objects[0] if asdu is not None and len(asdu.objects) == 1 else None
        return CommandRefused(
            RefusedCommand(
                peer=self.peer,
                common_address=header.common_address,
                ioa=header.ioa,
                type_id=header.type_id,
                cause=header.cause,
                reply_cause=reply_cause,
                reason=reason,
                command=command if isinstance(command, _COMMAND_CLASSES) else None,
            )
        )

    def _refuse_address(
        self, stations: Iterable[Station], asdu: ASDU, raw: bytes
    ) -> CommandRefused | ServiceRefused:
        """Refuse an ASDU for its IOA: 47 where no point has it, 44 where one does not take it."""
        ioa = asdu.objects[0].ioa
        if any(station.has_point(ioa) for station in stations):
            reason = f"{asdu.type_id.name} is not accepted at IOA {ioa}"
            return self._refuse(raw, CauseOfTransmission.UNKNOWN_TYPE, reason, asdu)
        return self._refuse(raw, CauseOfTransmission.UNKNOWN_IOA, f"no point at IOA {ioa}", asdu)

    def _command(
        self, station: Station, asdu: ASDU, raw: bytes
    ) -> CommandReceived | CommandRefused | ServiceRefused:
        command = asdu.objects[0]
        assert isinstance(command, _COMMAND_CLASSES)
        point = station.command_points.get(command.ioa)
        if point is None or asdu.type_id not in point.accepted_types:
            return self._refuse_address([station], asdu, raw)
        refusal = _protocol_refusal(command)
        if refusal is not None:
            return self._refuse(raw, CauseOfTransmission.ACTIVATION_CON, refusal, asdu)
        request = ProcessCommand(
            asdu.common_address, asdu.type_id, command, asdu.originator, asdu.test, self.peer
        )
        return CommandReceived(request, raw)

    def _read(self, station: Station, asdu: ASDU, raw: bytes) -> list[ResponderEvent]:
        point = station.monitor_points.get(asdu.objects[0].ioa)
        if point is None:
            return [self._refuse_address([station], asdu, raw)]
        self._out.extend(
            encode_points([point], CauseOfTransmission.REQUEST, originator=asdu.originator)
        )
        return []

    def _interrogate(self, stations: Iterable[Station], asdu: ASDU) -> list[ResponderEvent]:
        command = asdu.objects[0]
        assert isinstance(command, InterrogationCommand)
        positive = command.qualifier == QOI_STATION
        events: list[ResponderEvent] = []
        for station in stations:
            address = station.common_address
            self._out.append(
                self._confirmation(asdu, address, CauseOfTransmission.ACTIVATION_CON, positive)
            )
            if not positive:  # a group interrogation: this station has no groups
                events.append(InterrogationAnswered(address, command.qualifier, 0, False))
                continue
            points = station.monitor_points.values()
            self._out.extend(
                encode_points(
                    points, CauseOfTransmission.INTERROGATED_BY_STATION, originator=asdu.originator
                )
            )
            self._out.append(
                self._confirmation(asdu, address, CauseOfTransmission.ACTIVATION_TERMINATION, True)
            )
            events.append(InterrogationAnswered(address, command.qualifier, len(points), True))
        return events

    @staticmethod
    def _confirmation(
        asdu: ASDU, common_address: int, cause: CauseOfTransmission, positive: bool
    ) -> bytes:
        """The request's object back, from one station, with `cause` (its own CA per station)."""
        return encode_asdu(
            ASDU(
                asdu.type_id,
                cause,
                common_address,
                asdu.objects,
                negative=not positive,
                originator=asdu.originator,
                test=asdu.test,
            )
        )

    # Decisions --------------------------------------------------------------------------------

    def confirm_command(self, received: CommandReceived, result: CommandResult) -> None:
        """ACT_CON (negative if rejected), then ACT_TERM if the accepted command terminates.

        The feedback points are the caller's to transmit, to every started connection.
        """
        raw = received.raw
        self._out.append(
            mirror_asdu(raw, CauseOfTransmission.ACTIVATION_CON, negative=not result.positive)
        )
        if result.positive and result.terminate:
            self._out.append(mirror_asdu(raw, CauseOfTransmission.ACTIVATION_TERMINATION))

    def confirm_clock_sync(self, received: ClockSyncReceived, accepted: bool) -> ClockSynchronized:
        """ACT_CON from each station addressed, negative if the application did not accept."""
        for common_address in received.common_addresses:
            self._out.append(
                self._confirmation(
                    received.asdu, common_address, CauseOfTransmission.ACTIVATION_CON, accepted
                )
            )
        return ClockSynchronized(received.request.time, accepted)
