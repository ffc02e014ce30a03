"""Simulated Fluvius digital meter: P1 telegrams over TCP, like a network P1 reader or ser2net.

Every client that connects receives the meter's telegrams: DSMR 5 with the e-MUCS extensions, in
the object order of a three-phase Fluvius meter, with valid CRCs and values that move (power
follows a scripted profile or the demo curve, energy registers integrate it, the quarter-hour
demand and the month's peak follow). On demand it also sends corrupted, truncated, split,
concatenated telegrams and garbage between them.

The telegram is written from the Fluvius P1 port documentation and the published e-MUCS examples,
independently of the integration's parser (its CRC too), so the tests cross-check the two.

From tests: ``port = await P1Simulator(interval=None).start()``, then ``await send_telegram()``
to push one telegram on demand. From the command line: ``python -m simulators p1`` serves the
demo port 127.0.0.1:8899, one telegram a second, and reads commands from stdin (``help``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from .commands import read_commands
from .site import SiteModel, demo_loads, demo_pv

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

HOST: Final = "127.0.0.1"
DEMO_PORT: Final = 8899
BELGIUM: Final = ZoneInfo("Europe/Brussels")
HEADER: Final = "/FLU5\\253769484_A"
"""Identification line of the Fluvius three-phase meters (a literal backslash)."""

type Clock = Callable[[], datetime]
type PowerSource = Callable[[float], float]
"""Net grid power in W (import positive) as a function of the seconds since the start."""


def _crc16_arc(data: bytes) -> int:
    """CRC-16/ARC, the plain table-driven way (independent of the integration's)."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE: Final = _crc_table()


def seal(body: str) -> bytes:
    """Return the telegram ``body`` (``/`` up to and including ``!``) with its CRC and CRLF."""
    data = body.encode("ascii")
    return data + f"{_crc16_arc(data):04X}\r\n".encode("ascii")


def p1_timestamp(moment: datetime) -> str:
    """Format a moment as the meter does: Belgian local time, S (summer) or W (winter)."""
    local = moment.astimezone(BELGIUM)
    return local.strftime("%y%m%d%H%M%S") + ("S" if local.dst() else "W")


def hex_text(text: str) -> str:
    """Hex-encode a text object (identifiers, messages) as the meter writes it."""
    return text.encode("utf-8").hex().upper()


# --- Power ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProfileStep:
    """Hold ``watts`` for ``seconds``."""

    seconds: float
    watts: float


@dataclass(frozen=True, slots=True)
class PowerProfile:
    """A scripted grid power profile: steps of constant power, repeated when ``loop`` is set."""

    steps: tuple[ProfileStep, ...]
    loop: bool = True

    @classmethod
    def parse(cls, spec: str, *, loop: bool = True) -> PowerProfile:
        """Read ``"10:1500,10:-3000"`` (seconds:watts steps) or a file of such steps.

        Steps are separated by commas or line ends; ``#`` starts a comment.
        """
        path = Path(spec)
        text = path.read_text("utf-8") if path.is_file() else spec
        items = (
            item.strip() for line in text.splitlines() for item in line.split("#", 1)[0].split(",")
        )
        try:
            steps = tuple(
                ProfileStep(float(seconds), float(watts))
                for seconds, watts in (item.split(":") for item in items if item)
            )
        except ValueError as err:
            raise ValueError(f"invalid power profile {spec!r}: {err}") from err
        if not steps or any(step.seconds <= 0 for step in steps):
            raise ValueError(f"invalid power profile {spec!r}: no steps, or a step of 0 s")
        return cls(steps, loop)

    def __call__(self, elapsed: float) -> float:
        """Return the power ``elapsed`` seconds after the start."""
        period = sum(step.seconds for step in self.steps)
        if self.loop:
            elapsed %= period
        for step in self.steps:
            if elapsed < step.seconds:
                return step.watts
            elapsed -= step.seconds
        return self.steps[-1].watts


def demo_power(elapsed: float) -> float:
    """A lively demo curve: the demo site's loads less its PV (slow import/export swings)."""
    return demo_loads(elapsed) - demo_pv(elapsed)


# --- Meter ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class MeterConfig:
    """Which objects the simulated meter sends."""

    equipment_id: str = "1SAG3101021605"
    phases: int = 3
    gas: bool = True
    water: bool = True
    heat: bool = False
    extended: bool = False
    """Also the seed's objects Fluvius e-MUCS meters leave out: power failure counters and log,
    voltage sags and swells, the consumer message code."""
    text_message: str = ""


@dataclass(slots=True)
class _Registers:
    """The meter's counters, advanced with the clock."""

    imported: list[float] = field(default_factory=lambda: [1234.567, 987.654])
    exported: list[float] = field(default_factory=lambda: [456.789, 123.456])
    gas: float = 1512.345
    water: float = 87.654
    heat: float = 12.345
    quarter_start: datetime | None = None
    quarter_energy: float = 0.0
    month_peak: float = 0.0
    month_peak_at: datetime | None = None


def _quarter_hour(moment: datetime) -> datetime:
    """The start of the quarter-hour of ``moment`` (the same in UTC and Belgian time)."""
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def _month(moment: datetime | None) -> tuple[int, int] | None:
    if moment is None:
        return None
    local = moment.astimezone(BELGIUM)
    return local.year, local.month


class SimulatedMeter:
    """A Fluvius meter: its registers follow the power source as the clock advances."""

    def __init__(
        self,
        config: MeterConfig | None = None,
        *,
        power: PowerSource = demo_power,
        clock: Clock = lambda: datetime.now(UTC),
        seed: int = 1,
    ) -> None:
        """Start the meter at ``clock()``."""
        self.config = config or MeterConfig()
        self.power_source = power
        self.override_power: float | None = None
        """When set, the net power in W regardless of the power source."""
        self._clock = clock
        self._random = random.Random(seed)
        self._start = clock()
        self._last = self._start
        self._registers = _Registers(month_peak=2.589, month_peak_at=_quarter_hour(self._start))
        self.net_power = 0.0

    def _advance(self, now: datetime) -> None:
        """Integrate the power held since the last telegram, then take the power of ``now``."""
        hours = max(0.0, (now - self._last).total_seconds()) / 3600
        self._last = now
        registers = self._registers
        tariff = self.tariff(now) - 1
        imported_kw = max(self.net_power, 0.0) / 1000
        registers.imported[tariff] += imported_kw * hours
        registers.exported[tariff] += max(-self.net_power, 0.0) / 1000 * hours
        registers.gas += 0.25 * hours
        registers.water += 0.02 * hours
        registers.heat += 0.01 * hours
        registers.quarter_energy += imported_kw * hours
        quarter = _quarter_hour(now)
        if registers.quarter_start != quarter:
            demand = registers.quarter_energy * 4
            new_month = _month(quarter) != _month(registers.month_peak_at)
            if new_month or demand > registers.month_peak:
                registers.month_peak, registers.month_peak_at = demand, quarter
            registers.quarter_start, registers.quarter_energy = quarter, 0.0
        elapsed = (now - self._start).total_seconds()
        self.net_power = (
            self.override_power
            if self.override_power is not None
            else round(self.power_source(elapsed))
        )

    def average_demand(self, now: datetime) -> float:
        """Return the running average import power of the current quarter-hour, in kW."""
        registers = self._registers
        start = registers.quarter_start or now
        hours = max((now - start).total_seconds(), 1.0) / 3600
        return registers.quarter_energy / hours

    @staticmethod
    def tariff(now: datetime) -> int:
        """Return the Belgian tariff: 1 normal (weekdays 7-22 h), 2 low (nights, weekends)."""
        local = now.astimezone(BELGIUM)
        return 1 if local.weekday() < 5 and 7 <= local.hour < 22 else 2

    def telegram(self) -> bytes:
        """Advance to the clock's time and return the telegram, CRC included."""
        now = self._clock()
        self._advance(now)
        return seal("\r\n".join(self._lines(now)) + "\r\n!")

    def _lines(self, now: datetime) -> list[str]:
        config, registers, jitter = self.config, self._registers, self._random.uniform
        phases = range(config.phases)
        shares = (1.0,) if config.phases == 1 else (0.45, 0.30, 0.25)
        voltages = [
            230.0 + 4 * math.sin(now.timestamp() / 90 + p) + jitter(-0.5, 0.5) for p in phases
        ]
        imported, exported = max(self.net_power, 0.0) / 1000, max(-self.net_power, 0.0) / 1000
        lines = [
            HEADER,
            "",
            "0-0:96.1.4(50217)",
            f"0-0:96.1.1({hex_text(config.equipment_id)})",
            f"0-0:1.0.0({p1_timestamp(now)})",
            f"1-0:1.8.1({registers.imported[0]:010.3f}*kWh)",
            f"1-0:1.8.2({registers.imported[1]:010.3f}*kWh)",
            f"1-0:2.8.1({registers.exported[0]:010.3f}*kWh)",
            f"1-0:2.8.2({registers.exported[1]:010.3f}*kWh)",
            f"0-0:96.14.0({self.tariff(now):04d})",
            f"1-0:1.4.0({self.average_demand(now):06.3f}*kW)",
            f"1-0:1.6.0({p1_timestamp(registers.month_peak_at or now)})"
            f"({registers.month_peak:06.3f}*kW)",
            self._peak_history(now),
            f"1-0:1.7.0({imported:06.3f}*kW)",
            f"1-0:2.7.0({exported:06.3f}*kW)",
        ]
        lines += [f"1-0:{21 + 20 * p}.7.0({imported * shares[p]:06.3f}*kW)" for p in phases]
        lines += [f"1-0:{22 + 20 * p}.7.0({exported * shares[p]:06.3f}*kW)" for p in phases]
        lines += [f"1-0:{32 + 20 * p}.7.0({voltages[p]:05.1f}*V)" for p in phases]
        amperes = [(imported + exported) * 1000 * shares[p] / voltages[p] for p in phases]
        lines += [f"1-0:{31 + 20 * p}.7.0({amperes[p]:06.2f}*A)" for p in phases]
        if config.extended:
            lines += [
                "0-0:96.7.21(00004)",
                "0-0:96.7.9(00002)",
                "1-0:99.97.0(2)(0-0:96.7.19)(230312152415W)(0000000240*s)"
                "(221208151004W)(0000000301*s)",
            ]
            lines += [f"1-0:{32 + 20 * p}.32.0({p + 2:05d})" for p in phases]
            lines += [f"1-0:{32 + 20 * p}.36.0({p:05d})" for p in phases]
            lines.append(f"0-0:96.13.1({hex_text('01 61 81')})")
        lines += [
            "0-0:96.3.10(1)",
            "0-0:17.0.0(999.9*kW)",
            "1-0:31.4.0(999*A)",
            f"0-0:96.13.0({hex_text(config.text_message)})",
        ]
        capture = p1_timestamp(now.replace(minute=now.minute - now.minute % 5, second=0))
        devices = [
            (config.gas, "003", "G0012345678901", "24.2.3", registers.gas, "m3"),
            (config.water, "007", "W0012345678902", "24.2.1", registers.water, "m3"),
            (config.heat, "004", "H0012345678903", "24.2.1", registers.heat, "GJ"),
        ]
        channel = 0
        for present, device_type, identifier, code, value, unit in devices:
            if not present:
                continue
            channel += 1
            lines += [
                f"0-{channel}:24.1.0({device_type})",
                f"0-{channel}:96.1.1({hex_text(identifier)})",
            ]
            if device_type == "003":
                lines.append(f"0-{channel}:24.4.0(1)")
            lines.append(f"0-{channel}:{code}({capture})({value:09.3f}*{unit})")
        return lines

    def _peak_history(self, now: datetime) -> str:
        """The peaks of the 13 months before this one, oldest first, stable within a month."""
        local = now.astimezone(BELGIUM)
        entries = []
        for back in range(13, 0, -1):
            year, month = divmod(local.year * 12 + local.month - 1 - back, 12)
            start = datetime(year, month + 1, 1, tzinfo=BELGIUM)
            stable = random.Random(year * 12 + month)
            occurred = start + timedelta(
                days=stable.randrange(27), minutes=15 * stable.randrange(96)
            )
            entries.append(
                f"({p1_timestamp(start)})({p1_timestamp(occurred)})"
                f"({stable.uniform(2.0, 6.0):06.3f}*kW)"
            )
        return f"0-0:98.1.0({len(entries)})(1-0:1.6.0)(1-0:1.6.0)" + "".join(entries)


# --- Server --------------------------------------------------------------------------------------


def site_meter(site: SiteModel) -> SimulatedMeter:
    """The meter at ``site``'s connection point.

    It measures the site's grid power at each telegram, on the site's clock, as every other meter
    of the site does.
    """
    return SimulatedMeter(power=lambda _elapsed: site.grid_power_w())


class Fault(StrEnum):
    """Ways to misbehave on one telegram."""

    CORRUPT = "corrupt"
    """One digit changed after the CRC was computed."""
    TRUNCATED = "truncated"
    """Cut off before its end (the next telegram reveals it)."""
    SPLIT = "split"
    """Sent in several writes with pauses between them."""
    CONCATENATED = "concatenated"
    """This telegram and the next one in one write."""
    GARBAGE = "garbage"
    """Noise before the telegram."""


GARBAGE_ALPHABET: Final = bytes(sorted(set(range(1, 256)) - set(b"/!\r\n")))
"""Noise bytes: anything but the telegram delimiters and line ends."""


class P1Simulator:
    """A TCP server that sends the meter's telegrams to every connected client."""

    def __init__(
        self,
        meter: SimulatedMeter | None = None,
        *,
        host: str = HOST,
        port: int = 0,
        interval: float | None = 1.0,
        faults: Sequence[Fault] = (),
        fault_every: int = 0,
    ) -> None:
        """Serve ``meter`` once started; ``interval`` None sends only on demand.

        With ``faults`` and ``fault_every`` N, every Nth periodic telegram gets the next fault.
        """
        self.meter = meter or SimulatedMeter()
        self.host = host
        self.port = port
        self.interval = interval
        self.faults = tuple(faults)
        self.fault_every = fault_every
        self.sent = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients_changed = asyncio.Condition()
        self._ticker: asyncio.Task[None] | None = None
        self._random = random.Random(7)

    async def start(self) -> int:
        """Listen and return the bound port."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.interval is not None:
            self._ticker = asyncio.create_task(self._tick(self.interval))
        return self.port

    async def stop(self) -> None:
        """Stop sending, close every connection and the listener."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is None:
            return
        self._server.close()
        self.drop_connections()
        await self._server.wait_closed()
        self._server = None

    def drop_connections(self) -> None:
        """Close every client connection now (a lost link)."""
        for writer in list(self._writers):
            writer.close()

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        return len(self._writers)

    async def wait_for_clients(self, count: int = 1) -> None:
        """Wait until exactly ``count`` clients are connected."""
        async with self._clients_changed:
            await self._clients_changed.wait_for(lambda: len(self._writers) == count)

    async def send_telegram(self, fault: Fault | None = None) -> bytes:
        """Send the meter's next telegram to every client, with ``fault``; return what was sent."""
        telegram = self.meter.telegram()
        match fault:
            case None:
                data = telegram
                await self.send_raw(data)
            case Fault.CORRUPT:
                data = _corrupt(telegram)
                await self.send_raw(data)
            case Fault.TRUNCATED:
                data = telegram[: self._random.randrange(len(telegram) // 4, telegram.index(b"!"))]
                await self.send_raw(data)
            case Fault.SPLIT:
                data = telegram
                cuts = sorted(self._random.sample(range(1, len(data)), 3))
                for begin, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
                    await self.send_raw(data[begin:end])
                    # A pause, so that the parts reach the client in separate reads.
                    await asyncio.sleep(0.005)
            case Fault.CONCATENATED:
                data = telegram + self.meter.telegram()
                await self.send_raw(data)
            case Fault.GARBAGE:
                noise = bytes(
                    self._random.choices(GARBAGE_ALPHABET, k=self._random.randrange(8, 64))
                )
                data = noise + telegram
                await self.send_raw(data)
        self.sent += 1
        return data

    async def send_raw(self, data: bytes) -> None:
        """Send bytes as they are to every client (real telegrams from files, noise)."""
        writers = [writer for writer in self._writers if not writer.is_closing()]
        for writer in writers:
            writer.write(data)
        for writer in writers:
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def _tick(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        count = 0
        while True:
            count += 1
            fault = None
            if self.faults and self.fault_every and count % self.fault_every == 0:
                fault = self.faults[(count // self.fault_every - 1) % len(self.faults)]
            await self.send_telegram(fault)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with self._clients_changed:
            self._writers.add(writer)
            self._clients_changed.notify_all()
        try:
            # A P1 port only talks; wait until the client goes away.
            while await reader.read(1024):
                pass
        except ConnectionError:
            pass
        finally:
            async with self._clients_changed:
                self._writers.discard(writer)
                self._clients_changed.notify_all()
            writer.close()


def _corrupt(telegram: bytes) -> bytes:
    """Change one digit of the power line, keeping the CRC: the meter's bit error."""
    position = telegram.index(b"1-0:1.7.0(") + len(b"1-0:1.7.0(")
    digit = telegram[position : position + 1]
    replacement = b"1" if digit != b"1" else b"2"
    return telegram[:position] + replacement + telegram[position + 1 :]


# --- Command line --------------------------------------------------------------------------------

COMMANDS: Final = """commands:
  corrupt | truncated | split | concatenated | garbage   send the next telegram with that fault
  power <watts>     hold the net grid power (import positive); 'power auto' resumes the profile
  drop              close every client connection
  help              this text"""


async def apply_command(simulator: P1Simulator, line: str) -> str:
    """Run one command line (see ``COMMANDS``); return the answer."""
    words = line.split()
    match words:
        case [name] if name in Fault:
            await simulator.send_telegram(Fault(name))
            return f"sent a {name} telegram"
        case ["power", "auto"]:
            simulator.meter.override_power = None
            return "power follows the profile"
        case ["power", watts]:
            try:
                simulator.meter.override_power = float(watts)
            except ValueError:
                return f"not a number: {watts}"
            return f"power held at {float(watts):g} W"
        case ["drop"]:
            simulator.drop_connections()
            return "connections dropped"
        case ["help"] | []:
            return COMMANDS
    return f"unknown command: {line.strip()} (try help)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators p1``."""
    parser.add_argument("--host", default=HOST, help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEMO_PORT, help="TCP port (default %(default)s)"
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds between telegrams (default 1)"
    )
    parser.add_argument(
        "--profile",
        help="grid power profile: 'seconds:watts,...' (e.g. '10:1500,10:-3000') or a file of "
        "such steps, repeated; default: the demo curve",
    )
    parser.add_argument("--phases", type=int, choices=(1, 3), default=3)
    parser.add_argument("--no-gas", action="store_true", help="no gas meter on channel 1")
    parser.add_argument("--no-water", action="store_true", help="no water meter")
    parser.add_argument("--heat", action="store_true", help="add a heat meter")
    parser.add_argument(
        "--extended",
        action="store_true",
        help="also send power failures, voltage sags/swells and the message code",
    )
    parser.add_argument(
        "--fault",
        action="append",
        choices=[fault.value for fault in Fault],
        default=[],
        help="fault to inject periodically (repeatable; cycled through)",
    )
    parser.add_argument(
        "--fault-every", type=int, default=10, help="inject a fault every N telegrams (default 10)"
    )
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Serve telegrams until interrupted."""
    config = MeterConfig(
        phases=args.phases,
        gas=not args.no_gas,
        water=not args.no_water,
        heat=args.heat,
        extended=args.extended,
    )
    power = PowerProfile.parse(args.profile) if args.profile else demo_power
    simulator = P1Simulator(
        SimulatedMeter(config, power=power),
        host=args.host,
        port=args.port,
        interval=args.interval,
        faults=[Fault(name) for name in args.fault],
        fault_every=args.fault_every,
    )
    await simulator.start()
    print(f"p1: telegrams on socket://{simulator.host}:{simulator.port}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stopped.set)
    commands = asyncio.create_task(read_commands(partial(apply_command, simulator)))
    try:
        await stopped.wait()
    finally:
        commands.cancel()
        await simulator.stop()
    return 0
