"""Grid operator RTU simulator: a Fluvius Netflex controlling station on c104's client (lib60870).

It connects to the EMS's IEC 60870-5-104 server, waits for end of initialization, runs a
general interrogation and a clock synchronization (again after every reconnection, like a real
RTU), then plays a scenario or the commands given on its command line:

    python -m simulators rtu --port 2404 --scenario demo
    python -m simulators rtu --port 2404 min_set_p=40 reason_p=1

Importable for tests: ``RtuSimulator(port=...)``, ``await start()``, ``await command(...)``,
``await stop()``. c104 checks its callbacks' annotations at run time, so this module keeps real
annotations (no ``from __future__ import annotations``). Its threads report into asyncio with
``call_soon_threadsafe``; its blocking calls run in worker threads.
"""

import argparse
import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import c104

from custom_components.grid_ems.iec104 import CauseOfTransmission, DoublePointValue, TypeID
from custom_components.grid_ems.netflex import DEFAULT_POINT_MAP, Command, PointMap

_LOGGER = logging.getLogger(__name__)

TIMEOUT: Final = 10.0
"""Seconds to wait for the EMS: connection, initialization, confirmations."""

type Value = bool | int | float


@dataclass(frozen=True, slots=True)
class Report:
    """A monitor value the RTU received."""

    ioa: int
    value: Value
    cause: CauseOfTransmission
    quality: int
    """IEC quality bits (0 is good)."""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The EMS's answer to a command: its cause of transmission and positive/negative flag."""

    positive: bool
    cause: CauseOfTransmission


@dataclass(frozen=True, slots=True)
class Step:
    """One command of a scenario."""

    command: Command
    value: Value


def _steps(*pairs: tuple[Command, Value]) -> tuple[Step, ...]:
    return tuple(Step(command, value) for command, value in pairs)


_RESET: Final = (
    (Command.MIN_SET_P, 100.0),
    (Command.MAX_SET_P, 100.0),
    (Command.MAX_SET_AP, 100.0),
    (Command.MIN_SET_AP, 100.0),
    (Command.MIN_SET_Q, -100.0),
    (Command.MAX_SET_Q, 100.0),
    (Command.Q_MODE, int(DoublePointValue.OFF)),
    (Command.REASON_P, 0.0),
    (Command.REASON_Q, 0.0),
)

CERTIFICATION: Final = _steps(
    (Command.TEST, True),
    (Command.REASON_P, 99.0),
    (Command.REASON_Q, 99.0),
    (Command.MIN_SET_P, 50.0),
    (Command.MAX_SET_P, 50.0),
    (Command.MAX_SET_AP, 50.0),
    (Command.MIN_SET_AP, 50.0),
    (Command.Q_MODE, int(DoublePointValue.ON)),
    (Command.MIN_SET_Q, -30.0),
    (Command.MAX_SET_Q, 30.0),
    (Command.EMERGENCY_STOP_PRODUCTION, True),
    (Command.EMERGENCY_STOP_PRODUCTION, False),
    (Command.EMERGENCY_STOP_CONSUMPTION, True),
    (Command.EMERGENCY_STOP_CONSUMPTION, False),
    *_RESET,
    (Command.TEST, False),
)
"""Certification: test mode with reason 99, every limit and both emergency stops, then reset."""

DEMO: Final = (
    _steps(
        (Command.REASON_P, 1.0),
        (Command.MIN_SET_P, 40.0),
        (Command.MIN_SET_P, 100.0),
        (Command.REASON_P, 0.0),
        (Command.EMERGENCY_STOP_PRODUCTION, True),
        (Command.EMERGENCY_STOP_PRODUCTION, False),
        (Command.EMERGENCY_STOP_CONSUMPTION, True),
        (Command.EMERGENCY_STOP_CONSUMPTION, False),
    )
    + CERTIFICATION
)
"""The demo: a congestion limit and its release, both emergency stops, then certification."""

SCENARIOS: Final = {"demo": DEMO, "certification": CERTIFICATION}

_COMMAND_TYPES: Final = frozenset({*range(45, 52), *range(58, 65)})
"""Type identifications of process commands (C_SC_NA_1..C_BO_NA_1, C_SC_TA_1..C_BO_TA_1)."""
_CONFIRMATION_CAUSES: Final = frozenset(
    {
        CauseOfTransmission.ACTIVATION_CON,
        CauseOfTransmission.DEACTIVATION_CON,
        CauseOfTransmission.UNKNOWN_TYPE,
        CauseOfTransmission.UNKNOWN_CAUSE,
        CauseOfTransmission.UNKNOWN_COMMON_ADDRESS,
        CauseOfTransmission.UNKNOWN_IOA,
    }
)
# Octet offsets in an I-frame APDU: 2 start/length + 4 control, then the ASDU header.
_TYPE, _COT, _CA, _IOA = 6, 8, 10, 12


def _double(value: Value) -> c104.Double:
    return c104.Double.__members__[DoublePointValue(int(value)).name]


def _c104_value(
    point_type: c104.Type, value: Value
) -> bool | float | c104.Double | c104.NormalizedFloat:
    match point_type.name[:7]:
        case "C_DC_NA" | "C_DC_TA":
            return _double(value)
        case "C_SC_NA" | "C_SC_TA":
            return bool(value)
        case "C_SE_NA" | "C_SE_TA":  # normalized: not a Netflex type
            return c104.NormalizedFloat(value)
        case _:
            return float(value)


def _monitor_value(point: c104.Point) -> Value:
    value = point.value
    if isinstance(value, c104.Double):
        return value.value
    assert isinstance(value, bool | int | float)
    return value


class RtuSimulator:
    """The grid operator's RTU: one c104 client connection to the EMS."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 2404,
        common_address: int = 100,
        point_map: PointMap = DEFAULT_POINT_MAP,
    ) -> None:
        """Prepare the client; ``start`` connects."""
        self.host = host
        self.port = port
        self.common_address = common_address
        self.point_map = point_map
        self.reports: list[Report] = []
        """Every monitor value received, oldest first."""
        self.values: dict[int, Report] = {}
        """The latest report of each monitor point."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: c104.Client | None = None
        self._connection: c104.Connection | None = None
        self._stations: dict[int, c104.Station] = {}
        self._command_points: dict[tuple[int, int], c104.Point] = {}
        self._pending: dict[tuple[int, int, int], asyncio.Future[Confirmation]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._initializations = 0
        self._connection_state = "CLOSED"
        self._started = False
        self._reinitialization: asyncio.Task[None] | None = None

    # Life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, wait for end of initialization, interrogate and synchronize the clock."""
        self._loop = asyncio.get_running_loop()
        client = c104.Client(tick_rate_ms=50, command_timeout_ms=int(TIMEOUT * 1000))
        # Muted: this simulator starts data transfer itself (c104 sometimes fails to with NONE).
        connection = client.add_connection(ip=self.host, port=self.port, init=c104.Init.MUTED)
        if connection is None:
            raise ValueError(f"c104 refused the connection to {self.host}:{self.port}")
        self._client, self._connection = client, connection
        station = self._station(self.common_address)
        for ioa, point_type in self._monitor_points():
            self._watch(station.add_point(io_address=ioa, type=point_type))
        client.on_station_initialized(callable=self._on_initialized)
        connection.on_receive_raw(callable=self._on_receive_raw)
        connection.on_state_change(callable=self._on_state_change)
        await asyncio.to_thread(client.start)
        try:
            await self.wait_for(lambda: self._connection_state == "OPEN_MUTED")
            await self._initialize()
        except BaseException:
            await self.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        """Disconnect and stop the client's threads."""
        if self._reinitialization is not None:
            self._reinitialization.cancel()
        client, self._client = self._client, None
        if client is not None:
            await asyncio.to_thread(client.stop)

    async def __aenter__(self) -> "RtuSimulator":
        """Start the simulator."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop the simulator."""
        await self.stop()

    async def _initialize(self) -> None:
        """STARTDT, wait for end of initialization, then GI and clock synchronization."""
        assert self._connection is not None
        initializations = self._initializations
        await asyncio.to_thread(self._connection.unmute)
        await self.wait_for(lambda: self._initializations > initializations)
        if not await self.interrogate():
            raise ConnectionError("the EMS refused the general interrogation")
        if not await self.clock_sync():
            raise ConnectionError("the EMS refused the clock synchronization")

    def _monitor_points(self) -> list[tuple[int, c104.Type]]:
        """The 27 monitor points of the map with the types Netflex reports them as."""
        points = [
            (self.point_map.feedback_ioa(command), getattr(c104.Type, command.feedback_type.name))
            for command in Command
        ]
        return points + [
            (ioa, c104.Type.M_ME_NC_1)
            for ioa in self.point_map.monitor_ioas()
            if ioa not in dict(points)
        ]

    def _station(self, common_address: int) -> c104.Station:
        station = self._stations.get(common_address)
        if station is None:
            assert self._connection is not None
            station = self._connection.add_station(common_address=common_address)
            assert station is not None
            self._stations[common_address] = station
        return station

    # c104 callbacks (its threads) -----------------------------------------------------------

    def _post(self, callback: Callable[..., object], *args: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(callback, *args)

    def _on_initialized(self, client: c104.Client, station: c104.Station, cause: c104.Coi) -> None:
        self._post(self._initialized)

    def _on_state_change(self, connection: c104.Connection, state: c104.ConnectionState) -> None:
        self._post(self._state_changed, state.name)

    def _on_receive_raw(self, connection: c104.Connection, data: bytes) -> None:
        if len(data) > _IOA + 2 and not data[2] & 0x01 and data[_TYPE] in _COMMAND_TYPES:
            cot = data[_COT]
            key = (
                data[_TYPE],
                int.from_bytes(data[_CA : _CA + 2], "little"),
                int.from_bytes(data[_IOA : _IOA + 3], "little"),
            )
            self._post(
                self._confirmed, key, Confirmation(not cot & 0x40, CauseOfTransmission(cot & 0x3F))
            )

    def _watch(self, point: c104.Point | None) -> None:
        assert point is not None

        def on_receive(
            point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage
        ) -> c104.ResponseState:
            quality = point.quality
            report = Report(
                point.io_address,
                _monitor_value(point),
                CauseOfTransmission(message.cot.value),
                quality.value if isinstance(quality, c104.Quality) else 0,
            )
            self._post(self._received, report)
            return c104.ResponseState.NONE

        point.on_receive(callable=on_receive)

    # Event loop side -----------------------------------------------------------------------

    def _initialized(self) -> None:
        self._initializations += 1
        self._notify()

    def _state_changed(self, state: str) -> None:
        self._connection_state = state
        self._notify()
        if state == "OPEN_MUTED" and self._started:  # reconnected: initialize as a real RTU does
            assert self._loop is not None
            self._reinitialization = self._loop.create_task(self._reinitialize())

    async def _reinitialize(self) -> None:
        try:
            await self._initialize()
        except (ConnectionError, TimeoutError) as err:
            _LOGGER.warning("Re-initialization after reconnection failed: %s", err)

    def _confirmed(self, key: tuple[int, int, int], confirmation: Confirmation) -> None:
        future = self._pending.pop(key, None)
        if future is not None and not future.done():
            future.set_result(confirmation)

    def _received(self, report: Report) -> None:
        self.reports.append(report)
        self.values[report.ioa] = report
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until the predicate over the received data holds (at most ``TIMEOUT``)."""
        assert self._loop is not None
        async with asyncio.timeout(TIMEOUT):
            while not predicate():
                waiter = self._loop.create_future()
                self._waiters.append(waiter)
                await waiter

    async def wait_for_report(
        self,
        ioa: int,
        value: Value | None = None,
        cause: CauseOfTransmission | None = None,
        *,
        after: int = 0,
    ) -> Report:
        """Wait for a report of a point (with this value and cause) among reports[after:]."""

        def match() -> Report | None:
            for report in self.reports[after:]:
                if (
                    report.ioa == ioa
                    and (value is None or report.value == value)
                    and (cause is None or report.cause is cause)
                ):
                    return report
            return None

        await self.wait_for(lambda: match() is not None)
        found = match()
        assert found is not None
        return found

    # Requests ------------------------------------------------------------------------------

    async def interrogate(self, common_address: int | None = None) -> bool:
        """General interrogation; True once the EMS terminated it."""
        assert self._connection is not None
        address = self.common_address if common_address is None else common_address
        return await asyncio.to_thread(self._connection.interrogation, common_address=address)

    async def clock_sync(self) -> bool:
        """Clock synchronization with this machine's clock; True when confirmed."""
        assert self._connection is not None
        return await asyncio.to_thread(
            self._connection.clock_sync, common_address=self.common_address
        )

    async def send(
        self,
        ioa: int,
        point_type: c104.Type,
        value: Value,
        *,
        common_address: int | None = None,
        cause: CauseOfTransmission = CauseOfTransmission.ACTIVATION,
        time: datetime | None = None,
        select: bool = False,
    ) -> Confirmation:
        """Send any command (also invalid ones) and return the EMS's confirmation.

        With ``select``, c104 first sends a select (select-before-operate); the confirmation is
        the answer to that select.
        """
        address = self.common_address if common_address is None else common_address
        station = self._station(address)
        point = self._command_points.get((address, ioa))
        if point is None or point.type != point_type:
            if point is not None:
                station.remove_point(io_address=ioa)
            point = station.add_point(io_address=ioa, type=point_type)
            assert point is not None
            self._command_points[address, ioa] = point
        point.command_mode = (
            c104.CommandMode.SELECT_AND_EXECUTE if select else c104.CommandMode.DIRECT
        )
        if time is None:
            point.value = _c104_value(point_type, value)
        else:
            point.info = _timed_command(point_type, value, time)
        assert self._loop is not None
        future: asyncio.Future[Confirmation] = self._loop.create_future()
        self._pending[point_type.value, address, ioa] = future
        await asyncio.to_thread(point.transmit, cause=getattr(c104.Cot, cause.name))
        async with asyncio.timeout(TIMEOUT):
            return await future

    async def command(self, command: Command, value: Value) -> Confirmation:
        """Send a Netflex command on its point of the map, with its plain type."""
        return await self.send(
            self.point_map.command_ioa(command),
            getattr(c104.Type, command.command_type.name),
            value,
        )

    async def play(self, steps: Sequence[Step], delay: float = 0.0) -> list[Confirmation]:
        """Send the steps in order, ``delay`` seconds apart; return the confirmations."""
        confirmations = []
        for index, step in enumerate(steps):
            if index and delay:
                await asyncio.sleep(delay)
            confirmation = await self.command(step.command, step.value)
            _LOGGER.info(
                "%s = %s: %s",
                step.command,
                step.value,
                "confirmed" if confirmation.positive else f"refused ({confirmation.cause.name})",
            )
            confirmations.append(confirmation)
        return confirmations


def _timed_command(point_type: c104.Type, value: Value, time: datetime) -> c104.Information:
    match point_type.name[:4]:
        case "C_SC":
            return c104.SingleCmd(on=bool(value), recorded_at=time)
        case "C_DC":
            return c104.DoubleCmd(state=_double(value), recorded_at=time)
        case _:
            return c104.ShortCmd(target=float(value), recorded_at=time)


# Command line ----------------------------------------------------------------------------------


def parse_command(text: str) -> Step:
    name, separator, value = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError(f"{text!r} is not COMMAND=VALUE")
    try:
        command = Command(name)
        number = float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err
    match command.command_type:
        case TypeID.C_SC_NA_1:
            return Step(command, bool(number))
        case TypeID.C_DC_NA_1:
            return Step(command, int(number))
        case _:
            return Step(command, number)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the RTU simulator's options on its subcommand parser."""
    parser.add_argument("--host", default="127.0.0.1", help="EMS address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=2404, help="EMS port (2404)")
    parser.add_argument("--common-address", type=int, default=100, help="station (100)")
    parser.add_argument(
        "--scenario", choices=sorted(SCENARIOS), help="play a scenario after initialization"
    )
    parser.add_argument(
        "--step-delay", type=float, default=15.0, help="seconds between scenario steps (15)"
    )
    parser.add_argument("--repeat", action="store_true", help="play the scenario forever")
    parser.add_argument(
        "commands",
        nargs="*",
        type=parse_command,
        metavar="COMMAND=VALUE",
        help=f"commands to send, e.g. min_set_p=40 ({', '.join(Command)})",
    )
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Connect, play the commands or scenario, then stay connected until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s rtu: %(message)s")
    rtu = RtuSimulator(args.host, args.port, args.common_address)
    try:
        await rtu.start()
        _LOGGER.info("Connected to %s:%s; interrogated and clock synchronized", rtu.host, rtu.port)
        await rtu.play(args.commands, delay=0.0)
        while args.scenario:
            await rtu.play(SCENARIOS[args.scenario], delay=args.step_delay)
            if not args.repeat:
                break
            await asyncio.sleep(args.step_delay)
        if not args.commands and not args.scenario:
            await asyncio.Event().wait()  # keep the link up, reporting, until interrupted
    finally:
        await rtu.stop()
    return 0
