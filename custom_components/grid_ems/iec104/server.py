"""Asyncio IEC 60870-5-104 server (controlled station) over the sans-IO session and responder.

The server owns the transport, admission (allow-list, connection limit, replacement), TLS and
the timers. Each connection feeds its `Session` and runs its timers with `loop.call_at`; it
hands received ASDUs, in order, to its `Responder`, which holds the ASDU rules, on a task of
the connection that runs while ASDUs wait. That task starts eagerly: an ASDU that finds the
connection idle is answered from the callback that received it, up to the handler's first
wait. The server turns the events of both into handler calls and log lines, so a slow command
handler delays only the replies of its own connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from .asdu import CauseOfTransmission
from .connection import (
    ASDUReceived,
    DataTransferStarted,
    DataTransferStopped,
    Event,
    IFrameIgnored,
    InvalidASDUReceived,
    LinkTestConfirmed,
    ProtocolParameters,
    Session,
    SessionClosed,
    SupervisionLost,
    SupervisionRestored,
)
from .responder import (
    MONITOR_CAUSES,
    ASDUIgnored,
    ClockSynchronized,
    ClockSyncReceived,
    ClockSyncRequest,
    CommandReceived,
    CommandRefused,
    CommandResult,
    InterrogationAnswered,
    Peer,
    ProcessCommand,
    RefusedCommand,
    Responder,
    ServiceRefused,
    encode_points,
)
from .station import MonitorPoint, Station

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT: Final = 2404
_MAX_QUEUED_REQUESTS: Final = 64
"""Received ASDUs waiting for dispatch before the connection stops reading (flood guard)."""
_STOP_GRACE: Final = 2.0
"""Seconds stop() lets connections flush before aborting them."""


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


type CommandHandler = Callable[[ProcessCommand], Awaitable[CommandResult]]
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

    def transmit(
        self,
        points: Iterable[MonitorPoint],
        cause: CauseOfTransmission = CauseOfTransmission.SPONTANEOUS,
    ) -> None:
        """Send the points' current state to every started connection.

        Spontaneous data keeps the points' time tags; cyclic data (PERIODIC, BACKGROUND_SCAN)
        uses the untimed types as the standard prescribes. Points are packed several per ASDU.
        """
        if cause not in MONITOR_CAUSES:
            raise ValueError(f"{cause.name} is not a cause for monitor data")
        asdus = encode_points(points, cause, originator=0)
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

    async def _dispatch(
        self, connection: _Connection, received: ASDUReceived | InvalidASDUReceived
    ) -> None:
        """Answer one received ASDU by the responder's rules, asking the handlers to decide."""
        responder = connection.responder
        assert responder is not None  # created before any ASDU is received
        for event in responder.receive(received):
            match event:
                case CommandReceived(request):
                    result = await self._run_handler(request)
                    responder.confirm_command(event, result)
                    connection.send(responder.data_to_send())
                    if result.positive and result.feedback:
                        self.transmit(result.feedback)
                case ClockSyncReceived(request):
                    accepted = await self._run_clock_sync_handler(request)
                    connection.log(responder.confirm_clock_sync(event, accepted))
                case CommandRefused(refused):
                    connection.log(event)
                    self._report_refusal(refused)
                case _:
                    connection.log(event)
        connection.send(responder.data_to_send())

    def _report_refusal(self, refused: RefusedCommand) -> None:
        handler = self.on_command_refused
        if handler is None:
            return
        try:
            handler(refused)
        except Exception:
            _LOGGER.exception("Command refusal handler failed on %s", refused)

    async def _run_handler(self, request: ProcessCommand) -> CommandResult:
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

    async def _run_clock_sync_handler(self, request: ClockSyncRequest) -> bool:
        handler = self.on_clock_sync
        if handler is None:
            return True
        try:
            async with asyncio.timeout(self.command_timeout):
                return bool(await handler(request))
        except Exception:
            _LOGGER.exception("Clock sync handler failed on %s; rejected", request)
            return False


class _Connection(asyncio.Protocol):
    """One client connection: transport, session, timer and dispatch task."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._loop = asyncio.get_running_loop()
        self.peer: Peer = ("?", 0)
        self._transport: asyncio.Transport | None = None
        self._session: Session | None = None
        self.responder: Responder | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._requests: deque[ASDUReceived | InvalidASDUReceived] = deque()
        self._worker: asyncio.Task[None] | None = None
        """Dispatches the waiting requests; None or done when there are none."""
        self._handshake: asyncio.Task[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._registered = False
        self._finished = asyncio.Event()
        self._close_reason: str | None = None
        self._ended = False
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
            if not self._ended:  # else replaced, and aborted by that (logged there)
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
        self.responder = Responder(self._server._stations, self.peer)
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
        # A request being answered runs to its end (a command handler may have started to carry
        # it out); only its reply is lost. The worker stops after it.
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
                    self._requests.append(event)
                    if self._worker is None or self._worker.done():
                        self._start_worker()
                    self._update_reading()
                case DataTransferStarted():
                    _LOGGER.debug("%s: STARTDT", self)
                    assert self.responder is not None  # created with the session
                    self.responder.data_transfer_started()
                    self.send(self.responder.data_to_send())
                    self._server._notify(self.peer, ConnectionState.STARTED)
                case DataTransferStopped():
                    _LOGGER.debug("%s: STOPDT", self)
                    self._server._notify(self.peer, ConnectionState.STOPPED)
                case IFrameIgnored():
                    _LOGGER.warning("Ignored an I-frame received in the stopped state")
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
        should_pause = self._write_paused or len(self._requests) >= _MAX_QUEUED_REQUESTS
        if should_pause != self._reading_paused:
            self._reading_paused = should_pause
            if should_pause:
                transport.pause_reading()
            else:
                transport.resume_reading()

    # Sending ------------------------------------------------------------------------------

    def send(self, asdus: Sequence[bytes]) -> None:
        """Queue encoded ASDUs on the session and write what the k window lets through."""
        if not asdus:
            return
        session = self._session
        assert session is not None  # only dispatch and started connections send
        now = self._loop.time()
        for asdu in asdus:
            session.send_asdu(asdu, now)
        self._flush()

    def log(
        self,
        event: CommandRefused
        | ServiceRefused
        | ASDUIgnored
        | InterrogationAnswered
        | ClockSynchronized,
    ) -> None:
        """Log what the responder did on its own."""
        match event:
            case CommandRefused() | ServiceRefused():
                _LOGGER.warning("%s: refused %s: %s", self, event.description, event.reason)
            case ASDUIgnored(reason):
                _LOGGER.warning("%s: ignoring %s", self, reason)
            case InterrogationAnswered(common_address, qualifier, points, positive):
                _LOGGER.debug(
                    "%s: interrogation (QOI %d) of station %d answered %s, %d points",
                    self,
                    qualifier,
                    common_address,
                    "positively" if positive else "negatively",
                    points,
                )
            case _:  # ClockSynchronized
                _LOGGER.debug(
                    "%s: clock synchronization to %s %s",
                    self,
                    event.time.isoformat(),
                    "accepted" if event.accepted else "rejected",
                )

    def _start_worker(self) -> None:
        """Dispatch the waiting requests on a new task, started at once.

        Eagerly: the first request is answered now, up to the first wait of its handler,
        rather than on a later turn of the loop (each turn runs whatever else is ready first).
        """
        if not self._ended:
            self._worker = asyncio.Task(self._work(), loop=self._loop, eager_start=True)

    async def _work(self) -> None:
        """Dispatch the waiting requests one by one, in order, until there are none."""
        requests = self._requests
        while requests and not self._ended:
            event = requests.popleft()
            self._update_reading()
            try:
                await self._server._dispatch(self, event)
            except Exception:
                _LOGGER.exception("%s: failed to answer %s", self, event)

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
