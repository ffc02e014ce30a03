"""Asyncio IEC 60870-5-104 server (controlled station) over the sans-IO session.

The transport feeds each connection's `Session`, runs its timers with `loop.call_at` and
dispatches received ASDUs in order on one task per connection, so a slow command handler
delays only the replies of its own connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from .asdu import (
    ASDU,
    BROADCAST_ADDRESS,
    COMMAND_TYPES,
    QOI_STATION,
    ASDUHeader,
    Cause,
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
from .connection import (
    ASDUReceived,
    DataTransferStarted,
    DataTransferStopped,
    Event,
    InvalidASDUReceived,
    LinkTestConfirmed,
    ProtocolParameters,
    Session,
    SessionClosed,
    SupervisionLost,
    SupervisionRestored,
)
from .station import MonitorPoint, Station, untimed

if TYPE_CHECKING:
    from datetime import datetime

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 2404
_MAX_QUEUED_REQUESTS: Final = 64
"""Received ASDUs waiting for dispatch before the connection stops reading (flood guard)."""
_STOP_GRACE: Final = 2.0
"""Seconds stop() lets connections flush before aborting them."""

_CYCLIC_CAUSES: Final = frozenset({Cause.PERIODIC, Cause.BACKGROUND_SCAN})
_MONITOR_CAUSES: Final = _CYCLIC_CAUSES | {
    Cause.SPONTANEOUS,
    Cause.RETURN_INFO_REMOTE,
    Cause.RETURN_INFO_LOCAL,
}

type Peer = tuple[str, int]
type Command = SingleCommand | DoubleCommand | SetpointCommand
_COMMAND_CLASSES: Final = (SingleCommand, DoubleCommand, SetpointCommand)
"""The classes of `Command`, for isinstance."""


class ConnectionState(StrEnum):
    """Life cycle of a client connection, as reported to `on_connection_event`."""

    CONNECTED = "connected"
    STARTED = "started"
    STOPPED = "stopped"
    LOST = "lost"
    """Still connected, but data transfer stopped or the client silent for the supervision time."""
    RESTORED = "restored"
    """After LOST: data transfer started again and the client answers."""
    CLOSED = "closed"


class WhenFull(StrEnum):
    """What a connection from an allowed client does when every connection slot is taken."""

    REPLACE = "replace"
    """It takes the slot of the oldest connection, which is closed: a client that reconnects
    at once, or whose old connection is half-open, is served without waiting for the close."""
    REFUSE = "refuse"
    """It is refused until a connection closes."""


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A connection changed state; `reason` says why a connection closed, if known."""

    peer: Peer
    state: ConnectionState
    reason: str | None = None
    replaced_by: Peer | None = None
    """For CLOSED: the new connection that took this one's slot (`WhenFull.REPLACE`)."""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A process command that passed the address, type and cause checks."""

    common_address: int
    type_id: TypeID
    command: Command
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
    cause: Cause | int
    """Cause of transmission received."""
    reply_cause: Cause
    """Cause of the negative reply: 44 to 47, or ACTIVATION_CON for a select (S/E = 1) or a
    double command in the state 0 or 3."""
    reason: str
    """Why, in words (as logged)."""
    command: Command | None = None

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


type CommandHandler = Callable[[CommandRequest], Awaitable[CommandResult]]
type ClockSyncHandler = Callable[[ClockSyncRequest], Awaitable[bool]]
type ConnectionEventHandler = Callable[[ConnectionEvent], None]
type CommandRefusedHandler = Callable[[RefusedCommand], None]


def create_tls_context(
    certfile: str,
    keyfile: str,
    *,
    client_ca_file: str | None = None,
    password: str | None = None,
) -> ssl.SSLContext:
    """TLS server context, TLS 1.2 minimum; clients must present a certificate the CA signed.

    Without `client_ca_file` clients are not asked for a certificate.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile, password)
    if client_ca_file is not None:
        context.load_verify_locations(client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


class Server:
    """IEC 60870-5-104 server: stations, points, command dispatch and client connections."""

    def __init__(
        self,
        host: str = "0.0.0.0",  # noqa: S104  (a telecontrol server listens on the site LAN)
        port: int = DEFAULT_PORT,
        *,
        parameters: ProtocolParameters | None = None,
        allowed_clients: Iterable[str] | None = None,
        max_connections: int = 1,
        when_full: WhenFull = WhenFull.REPLACE,
        supervision: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        command_timeout: float = 10.0,
        on_command: CommandHandler | None = None,
        on_clock_sync: ClockSyncHandler | None = None,
        on_connection_event: ConnectionEventHandler | None = None,
        on_command_refused: CommandRefusedHandler | None = None,
    ) -> None:
        """Configure the server; `start()` binds it.

        allowed_clients: addresses or networks ("10.0.0.5", "10.0.0.0/24"); None allows any.
        when_full: what a new allowed connection does when `max_connections` are open; a client
        outside the allow-list is refused before and never displaces anyone.
        supervision: seconds of stopped data transfer or silence after which a connection is
        reported LOST (see `Session`); None: never.
        Commands are rejected when no `on_command` is set; clock syncs are accepted when no
        `on_clock_sync` is set. A handler that raises or exceeds `command_timeout` seconds
        gets a negative confirmation. `on_command_refused` hears of every command the server
        refuses by itself (type, cause, address, select, state), just before its negative reply:
        process commands and ASDUs of any type it does not serve, not the negative answers of
        its own services (interrogation, read, clock sync, test).
        """
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.host = host
        self.port = port
        self.parameters = parameters or ProtocolParameters()
        self.allowed_clients = (
            None
            if allowed_clients is None
            else tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed_clients)
        )
        self.max_connections = max_connections
        self.when_full = when_full
        self.supervision = supervision
        self.ssl_context = ssl_context
        self.command_timeout = command_timeout
        self.on_command = on_command
        self.on_clock_sync = on_clock_sync
        self.on_connection_event = on_connection_event
        self.on_command_refused = on_command_refused
        self._stations: dict[int, Station] = {}
        self._connections: dict[_Connection, None] = {}  # oldest first
        self._server: asyncio.Server | None = None

    # Data model ---------------------------------------------------------------------------

    def add_station(self, common_address: int) -> Station:
        """Declare a station (common address 1..65534)."""
        if common_address in self._stations:
            raise ValueError(f"station {common_address} already declared")
        station = Station(common_address)
        self._stations[common_address] = station
        return station

    @property
    def stations(self) -> Mapping[int, Station]:
        """Stations by common address."""
        return MappingProxyType(self._stations)

    def transmit(self, points: Iterable[MonitorPoint], cause: Cause = Cause.SPONTANEOUS) -> None:
        """Send the points' current state to every started connection.

        Spontaneous data keeps the points' time tags; cyclic data (PERIODIC, BACKGROUND_SCAN)
        uses the untimed types as the standard prescribes. Points are packed several per ASDU.
        """
        if cause not in _MONITOR_CAUSES:
            raise ValueError(f"{cause.name} is not a cause for monitor data")
        asdus = _encode_points(points, cause, originator=0)
        if not asdus:
            return
        for connection in self._connections:
            if connection.started:
                connection.send(asdus)

    # Connections --------------------------------------------------------------------------

    @property
    def address(self) -> Peer:
        """Bound address (host, port) once started; the port is the real one for port 0."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("server not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    @property
    def connection_count(self) -> int:
        """Open client connections."""
        return len(self._connections)

    @property
    def started_connection_count(self) -> int:
        """Client connections in the started (STARTDT) state."""
        return sum(connection.started for connection in self._connections)

    async def start(self) -> None:
        """Bind and start accepting connections."""
        if self._server is not None:
            raise RuntimeError("server already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_address=True
        )
        _LOGGER.info("IEC 60870-5-104 server listening on %s:%s", *self.address)

    async def stop(self) -> None:
        """Stop accepting, close every connection and wait until they are closed."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.close()
        try:
            async with asyncio.timeout(_STOP_GRACE):
                await server.wait_closed()
        except TimeoutError:
            for connection in connections:
                connection.abort()
            await server.wait_closed()
        for connection in connections:
            await connection.wait_finished()

    async def __aenter__(self) -> Server:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the server."""
        await self.stop()

    def _admit(self, peer: Peer) -> str | None:
        """Return why a new connection from `peer` is refused, or None to accept it."""
        if self._server is None:
            return "server stopping"
        if self.allowed_clients is not None:
            address = ipaddress.ip_address(peer[0].split("%", 1)[0])
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            if not any(address in network for network in self.allowed_clients):
                return "address not in the allow-list"
        if self.when_full is WhenFull.REFUSE and len(self._connections) >= self.max_connections:
            return f"maximum of {self.max_connections} connection(s) reached"
        return None

    def _make_room(self, peer: Peer) -> None:
        """Close the oldest connections until an admitted one from `peer` fits the limit."""
        while len(self._connections) >= self.max_connections:
            oldest = next(iter(self._connections))
            oldest.displace(peer)

    def _notify(
        self,
        peer: Peer,
        state: ConnectionState,
        reason: str | None = None,
        replaced_by: Peer | None = None,
    ) -> None:
        handler = self.on_connection_event
        if handler is None:
            return
        try:
            handler(ConnectionEvent(peer, state, reason, replaced_by))
        except Exception:
            _LOGGER.exception("Connection event handler failed")

    # Dispatch -----------------------------------------------------------------------------

    def _targets(self, common_address: int, *, broadcast: bool) -> list[Station]:
        """The stations a command addresses; the broadcast address only where allowed."""
        if broadcast and common_address == BROADCAST_ADDRESS:
            return list(self._stations.values())
        station = self._stations.get(common_address)
        return [] if station is None else [station]

    async def _dispatch(self, connection: _Connection, asdu: ASDU, raw: bytes) -> None:
        """Answer one received ASDU, applying the standard's negative causes."""
        type_id = asdu.type_id
        expected_cause = Cause.REQUEST if type_id is TypeID.C_RD_NA_1 else Cause.ACTIVATION
        if type_id not in _CONTROL_TYPES:
            reason = f"{type_id.name} is not served in the control direction"
            self._refuse(connection, raw, Cause.UNKNOWN_TYPE, reason, asdu)
        elif asdu.cause is not expected_cause:
            reason = f"{type_id.name} with cause {asdu.cause.name}, not {expected_cause.name}"
            self._refuse(connection, raw, Cause.UNKNOWN_CAUSE, reason, asdu)
        elif len(asdu.objects) != 1:
            _LOGGER.warning(
                "%s: ignoring %s with %d objects", connection, type_id.name, len(asdu.objects)
            )
        elif not (
            stations := self._targets(asdu.common_address, broadcast=type_id in _BROADCAST_TYPES)
        ):
            reason = f"no station at common address {asdu.common_address}"
            self._refuse(connection, raw, Cause.UNKNOWN_COMMON_ADDRESS, reason, asdu)
        elif type_id in COMMAND_TYPES:
            await self._command(connection, stations[0], asdu, raw)
        elif type_id is TypeID.C_RD_NA_1:
            self._read(connection, stations[0], asdu, raw)
        elif asdu.objects[0].ioa != 0:
            self._refuse_address(connection, stations, asdu, raw)
        elif type_id is TypeID.C_IC_NA_1:
            self._interrogate(connection, stations, asdu)
        elif type_id is TypeID.C_CS_NA_1:
            await self._clock_sync(connection, stations, asdu)
        else:  # C_TS_TA_1
            connection.reply(raw, Cause.ACTIVATION_CON)

    def _refuse(
        self,
        connection: _Connection,
        raw: bytes,
        reply_cause: Cause,
        reason: str,
        asdu: ASDU | None = None,
    ) -> None:
        """Answer negatively by ourselves, after telling `on_command_refused` of a command."""
        header = decode_header(raw)
        _LOGGER.warning("%s: refused %s: %s", connection, _describe(header), reason)
        handler = self.on_command_refused
        if handler is not None and header.type_id not in _SERVICE_TYPES:
            command = asdu.objects[0] if asdu is not None and len(asdu.objects) == 1 else None
            refused = RefusedCommand(
                peer=connection.peer,
                common_address=header.common_address,
                ioa=header.ioa,
                type_id=header.type_id,
                cause=header.cause,
                reply_cause=reply_cause,
                reason=reason,
                command=command if isinstance(command, _COMMAND_CLASSES) else None,
            )
            try:
                handler(refused)
            except Exception:
                _LOGGER.exception("Command refusal handler failed on %s", refused)
        connection.reply(raw, reply_cause, negative=True)

    def _refuse_address(
        self, connection: _Connection, stations: Sequence[Station], asdu: ASDU, raw: bytes
    ) -> None:
        """Refuse an ASDU for its IOA: 47 where no point has it, 44 where one does not take it."""
        ioa = asdu.objects[0].ioa
        if any(station.has_point(ioa) for station in stations):
            reason = f"{asdu.type_id.name} is not accepted at IOA {ioa}"
            self._refuse(connection, raw, Cause.UNKNOWN_TYPE, reason, asdu)
        else:
            self._refuse(connection, raw, Cause.UNKNOWN_IOA, f"no point at IOA {ioa}", asdu)

    async def _command(
        self, connection: _Connection, station: Station, asdu: ASDU, raw: bytes
    ) -> None:
        command = asdu.objects[0]
        assert isinstance(command, _COMMAND_CLASSES)
        point = station.command_points.get(command.ioa)
        if point is None or asdu.type_id not in point.accepted_types:
            self._refuse_address(connection, [station], asdu, raw)
            return
        refusal = _protocol_refusal(command)
        if refusal is not None:
            self._refuse(connection, raw, Cause.ACTIVATION_CON, refusal, asdu)
            return
        request = CommandRequest(
            asdu.common_address, asdu.type_id, command, asdu.originator, asdu.test, connection.peer
        )
        result = await self._run_handler(request)
        connection.reply(raw, Cause.ACTIVATION_CON, negative=not result.positive)
        if result.positive:
            if result.terminate:
                connection.reply(raw, Cause.ACTIVATION_TERMINATION)
            if result.feedback:
                self.transmit(result.feedback)

    async def _run_handler(self, request: CommandRequest) -> CommandResult:
        handler = self.on_command
        if handler is None:
            _LOGGER.warning("No command handler; rejected %s", request)
            return CommandResult.reject()
        try:
            async with asyncio.timeout(self.command_timeout):
                result = await handler(request)
            if not isinstance(result, CommandResult):
                raise TypeError(f"command handler returned {result!r}")
        except Exception:
            _LOGGER.exception("Command handler failed on %s; rejected", request)
            return CommandResult.reject()
        return result

    def _interrogate(self, connection: _Connection, stations: list[Station], asdu: ASDU) -> None:
        command = asdu.objects[0]
        assert isinstance(command, InterrogationCommand)
        for station in stations:
            reply = ASDU(
                TypeID.C_IC_NA_1,
                Cause.ACTIVATION_CON,
                station.common_address,
                (command,),
                negative=command.qualifier != QOI_STATION,
                originator=asdu.originator,
                test=asdu.test,
            )
            connection.send([encode_asdu(reply)])
            if reply.negative:
                continue  # group interrogation: this station has no groups
            connection.send(
                _encode_points(
                    station.monitor_points.values(),
                    Cause.INTERROGATED_BY_STATION,
                    originator=asdu.originator,
                )
            )
            terminate = ASDU(
                TypeID.C_IC_NA_1,
                Cause.ACTIVATION_TERMINATION,
                station.common_address,
                (command,),
                originator=asdu.originator,
                test=asdu.test,
            )
            connection.send([encode_asdu(terminate)])

    async def _clock_sync(
        self, connection: _Connection, stations: list[Station], asdu: ASDU
    ) -> None:
        command = asdu.objects[0]
        assert isinstance(command, ClockSyncCommand)
        accepted = True
        handler = self.on_clock_sync
        if handler is not None:
            request = ClockSyncRequest(
                command.time, asdu.common_address, asdu.originator, connection.peer
            )
            try:
                async with asyncio.timeout(self.command_timeout):
                    accepted = bool(await handler(request))
            except Exception:
                _LOGGER.exception("Clock sync handler failed on %s; rejected", request)
                accepted = False
        for station in stations:
            reply = ASDU(
                TypeID.C_CS_NA_1,
                Cause.ACTIVATION_CON,
                station.common_address,
                (command,),
                negative=not accepted,
                originator=asdu.originator,
                test=asdu.test,
            )
            connection.send([encode_asdu(reply)])

    def _read(self, connection: _Connection, station: Station, asdu: ASDU, raw: bytes) -> None:
        point = station.monitor_points.get(asdu.objects[0].ioa)
        if point is None:
            self._refuse_address(connection, [station], asdu, raw)
            return
        connection.send(_encode_points([point], Cause.REQUEST, originator=asdu.originator))

    def _end_of_initialization(self) -> list[bytes]:
        return [
            encode_asdu(
                ASDU(
                    TypeID.M_EI_NA_1,
                    Cause.INITIALIZED,
                    station.common_address,
                    (EndOfInitialization(),),
                )
            )
            for station in self._stations.values()
        ]


_CONTROL_TYPES: Final = COMMAND_TYPES | {
    TypeID.C_IC_NA_1,
    TypeID.C_CS_NA_1,
    TypeID.C_RD_NA_1,
    TypeID.C_TS_TA_1,
}
_SERVICE_TYPES: Final = _CONTROL_TYPES - COMMAND_TYPES
"""The server's own services; their negative answers are no refused commands."""
_BROADCAST_TYPES: Final = frozenset({TypeID.C_IC_NA_1, TypeID.C_CS_NA_1})
"""Control types the broadcast common address 65535 may address (answered per station)."""


def _describe(header: ASDUHeader) -> str:
    """E.g. "C_SE_NC_1 (CA 100, IOA 2001)"."""
    return f"{type_name(header.type_id)} (CA {header.common_address}, IOA {header.ioa})"


def _protocol_refusal(command: Command) -> str | None:
    """Why the protocol itself refuses a command, before any handler sees it."""
    if command.select:
        return "select-before-operate is not supported (direct execute only)"
    if isinstance(command, DoubleCommand) and command.value not in _DOUBLE_COMMAND_STATES:
        return "double command states 0 and 3 are not permitted"
    return None


_DOUBLE_COMMAND_STATES: Final = frozenset({DoublePointValue.OFF, DoublePointValue.ON})


def _encode_points(points: Iterable[MonitorPoint], cause: Cause, *, originator: int) -> list[bytes]:
    """Pack points into ASDUs per station and type, in order of first appearance."""
    time_tagged_allowed = cause not in _CYCLIC_CAUSES and cause is not Cause.INTERROGATED_BY_STATION
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


class _Connection(asyncio.Protocol):
    """One client connection: transport, session, timer and dispatch task."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self.peer: Peer = ("?", 0)
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._requests: asyncio.Queue[ASDUReceived | InvalidASDUReceived] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._handshake: asyncio.Task[None] | None = None
        self._initialized = False
        self._write_paused = False
        self._reading_paused = False
        self._registered = False
        self._finished = asyncio.Event()
        self._close_reason: str | None = None
        self._ended = False
        self._dispatching = False
        self._early_data = bytearray()

    def __str__(self) -> str:
        return f"IEC 104 client {self.peer[0]}:{self.peer[1]}"

    @property
    def started(self) -> bool:
        return self._session is not None and self._session.started

    # asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peername = transport.get_extra_info("peername")
        self.peer = (str(peername[0]), int(peername[1]))
        refusal = self._server._admit(self.peer)
        if refusal is not None:
            _LOGGER.warning("Refused IEC 104 connection from %s: %s", self.peer[0], refusal)
            transport.abort()
            self._finished.set()
            return
        self._server._make_room(self.peer)
        self._server._connections[self] = None
        self._registered = True
        if self._server.ssl_context is None:
            self._begin(transport)
        else:
            self._handshake = self._loop.create_task(self._start_tls(transport))

    async def _start_tls(self, transport: asyncio.Transport) -> None:
        context = self._server.ssl_context
        assert context is not None
        try:
            tls_transport = await self._loop.start_tls(
                transport,
                self,
                context,
                server_side=True,
                ssl_handshake_timeout=self._server.parameters.t0,
            )
            if tls_transport is None:
                raise ConnectionResetError("closed during the TLS handshake")
        except (OSError, TimeoutError, ssl.SSLError) as err:
            _LOGGER.warning("TLS handshake with %s failed: %s", self.peer[0], err)
            transport.abort()
            self._unregister()
            return
        if self._ended:  # displaced during the handshake
            tls_transport.abort()
            return
        self._begin(tls_transport)

    def _begin(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._session = Session(
            self._server.parameters, self._loop.time(), supervision=self._server.supervision
        )
        self._worker = self._loop.create_task(self._work())
        _LOGGER.info("%s connected", self)
        self._server._notify(self.peer, ConnectionState.CONNECTED)
        self._schedule_timer()
        if self._early_data:
            self.data_received(bytes(self._early_data))
            self._early_data.clear()

    def data_received(self, data: bytes) -> None:
        session = self._session
        if session is None:
            # TLS delivers data as soon as its handshake ends, before start_tls returns.
            self._early_data += data
            return
        self._handle_events(session.receive_data(data, self._loop.time()))
        self._flush()

    def eof_received(self) -> bool:
        return False  # close our side too

    def pause_writing(self) -> None:
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._update_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(self._close_reason or (str(exc) if exc else "closed by peer"))

    def _end(self, reason: str, replaced_by: Peer | None = None) -> None:
        """Stop the timer and the dispatch, report CLOSED once and leave the server."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._worker is not None and not self._dispatching:
            # A request being answered runs to its end (a command handler may have started
            # to carry it out); only its reply is lost. The worker stops after it.
            self._worker.cancel()
        if self._session is not None and not self._ended:
            _LOGGER.info("%s closed: %s", self, reason)
            self._server._notify(self.peer, ConnectionState.CLOSED, reason, replaced_by)
        self._ended = True
        self._unregister()

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            self._server._connections.pop(self, None)
        if self._worker is None or self._worker.done():
            self._finished.set()
        else:
            self._worker.add_done_callback(lambda _: self._finished.set())

    # Session plumbing ---------------------------------------------------------------------

    def _handle_events(self, events: Sequence[Event]) -> None:
        for event in events:
            match event:
                case ASDUReceived() | InvalidASDUReceived():
                    self._requests.put_nowait(event)
                    self._update_reading()
                case DataTransferStarted():
                    _LOGGER.debug("%s: STARTDT", self)
                    if not self._initialized:
                        self._initialized = True
                        self.send(self._server._end_of_initialization())
                    self._server._notify(self.peer, ConnectionState.STARTED)
                case DataTransferStopped():
                    _LOGGER.debug("%s: STOPDT", self)
                    self._server._notify(self.peer, ConnectionState.STOPPED)
                case LinkTestConfirmed():
                    _LOGGER.debug("%s: TESTFR confirmed", self)
                case SupervisionLost(reason):
                    _LOGGER.warning("%s: lost, %s", self, reason)
                    self._server._notify(self.peer, ConnectionState.LOST, reason)
                case SupervisionRestored():
                    _LOGGER.info("%s: restored", self)
                    self._server._notify(self.peer, ConnectionState.RESTORED)
                case SessionClosed(reason):
                    _LOGGER.warning("%s: closing, %s", self, reason)
                    self._close_reason = reason

    def _flush(self) -> None:
        session = self._session
        transport = self._transport
        assert session is not None
        assert transport is not None
        data = session.data_to_send()
        if transport.is_closing():
            return  # connection_lost follows; no timer may outlive it
        if data:
            transport.write(data)
        if session.closed:
            transport.close()
        else:
            self._schedule_timer()

    def _schedule_timer(self) -> None:
        """Arm the timer for the session's next deadline if it is earlier than the armed one.

        A later deadline keeps the armed timer: when it fires early, the session does nothing
        and the timer is armed again (cheaper than rearming on every frame).
        """
        assert self._session is not None
        deadline = self._session.next_deadline()
        assert deadline is not None  # only a closed session has none, and it is not rearmed
        if self._timer is not None:
            assert self._timer_deadline is not None
            if self._timer_deadline <= deadline:
                return
            self._timer.cancel()
        self._timer_deadline = deadline
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        session = self._session
        assert session is not None
        self._handle_events(session.handle_timeout(self._loop.time()))
        self._flush()

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        should_pause = self._write_paused or self._requests.qsize() >= _MAX_QUEUED_REQUESTS
        if should_pause != self._reading_paused:
            self._reading_paused = should_pause
            if should_pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    # Sending ------------------------------------------------------------------------------

    def send(self, asdus: Iterable[bytes]) -> None:
        """Queue encoded ASDUs on the session and write what the k window lets through."""
        session = self._session
        assert session is not None  # only dispatch and started connections send
        now = self._loop.time()
        for asdu in asdus:
            session.send_asdu(asdu, now)
        self._flush()

    def reply(self, raw: bytes, cause: Cause, *, negative: bool = False) -> None:
        """Answer a received ASDU by mirroring it with a new cause."""
        self.send([mirror_asdu(raw, cause, negative=negative)])

    async def _work(self) -> None:
        """Dispatch received ASDUs one by one, in order."""
        requests = self._requests
        while not self._ended:
            event = await requests.get()
            self._update_reading()
            self._dispatching = True
            try:
                if isinstance(event, ASDUReceived):
                    await self._server._dispatch(self, event.asdu, event.raw)
                else:
                    self._reject_invalid(event)
            except Exception:
                _LOGGER.exception("%s: failed to answer %s", self, event)
            finally:
                self._dispatching = False

    def _reject_invalid(self, event: InvalidASDUReceived) -> None:
        cause = event.error.cause
        if cause is None:
            _LOGGER.warning(
                "%s: ignoring malformed ASDU %s: %s", self, event.raw.hex(), event.error
            )
            return
        self._server._refuse(self, event.raw, cause, str(event.error))

    # Shutdown -----------------------------------------------------------------------------

    def close(self) -> None:
        assert self._transport is not None  # set before the connection is registered
        self._close_reason = self._close_reason or "server stopped"
        self._transport.close()

    def abort(self) -> None:
        assert self._transport is not None
        self._transport.abort()

    def displace(self, newcomer: Peer) -> None:
        """Give up the slot to a new connection from `newcomer`: leave the server now and abort.

        Abort rather than close: a half-open peer never reads what a graceful close would flush.
        CLOSED is reported before the new connection's CONNECTED.
        """
        assert self._transport is not None
        reason = f"replaced by a new connection from {newcomer[0]}:{newcomer[1]}"
        _LOGGER.warning("%s: closing, %s", self, reason)
        self._close_reason = reason
        self._end(reason, newcomer)
        self._transport.abort()

    async def wait_finished(self) -> None:
        await self._finished.wait()
