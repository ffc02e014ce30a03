"""Modbus TCP device simulators: PowerPack BESS, Acuvim II meter, Moxa ioLogik E1214 and E1211.

Each device is a real Modbus TCP server on 127.0.0.1 with its own port. The server is our own
small asyncio implementation rather than pymodbus' server, so it behaves the same whatever
pymodbus is installed, counts requests by function code, records writes, and misbehaves on demand
(latency, dropped connections, exception replies, a stalled device).

The register layouts below are written from the devices' documentation, independently of the
integration's profiles, so the tests cross-check the profiles (addresses, word order, scaling).

Start them from tests with ``await ModbusSimulator(...).start()`` (port 0 picks a free port), or
from the command line: ``python -m simulators modbus`` runs the demo site (see ``DEMO_PORTS``)
and reads fault commands from stdin and, with ``--control-port``, from TCP (``help`` lists them).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import signal
import struct
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Final

from .commands import read_commands, serve_commands
from .site import SiteModel

_LOGGER = logging.getLogger(__name__)

HOST: Final = "127.0.0.1"
DEMO_PORTS: Final = {"bess": 5020, "meter": 5021, "e1214": 5022, "e1211": 5023}
DEMO_CONTROL_PORT: Final = 5029

ILLEGAL_FUNCTION: Final = 0x01
ILLEGAL_ADDRESS: Final = 0x02
ILLEGAL_VALUE: Final = 0x03
DEVICE_FAILURE: Final = 0x04
GATEWAY_NO_RESPONSE: Final = 0x0B

type Clock = Callable[[], float]


class ModbusReplyError(Exception):
    """Answer the request with this Modbus exception code."""

    def __init__(self, code: int) -> None:
        """Keep the code."""
        super().__init__(f"exception 0x{code:02X}")
        self.code = code


# --- Device models -------------------------------------------------------------------------------


class DeviceModel:
    """The four tables of one unit id, with the rules of a real device.

    A read is refused (0x02) unless its first and last addresses exist; addresses in between that
    do not exist read as 0, or are refused too when ``refuse_gaps`` is set (a strict map: devices
    that refuse any read touching an address they do not have). With ``answer_unmapped`` every
    address reads (as 0 where the device has nothing): devices that never refuse a read.
    """

    answer_unmapped = False

    def __init__(self, clock: Clock = time.monotonic, *, refuse_gaps: bool = False) -> None:
        """Start with empty tables."""
        self.clock = clock
        self.coils: dict[int, bool] = {}
        self.discrete_inputs: dict[int, bool] = {}
        self.holding: dict[int, int] = {}
        self.input_registers: dict[int, int] = {}
        self.refuse_gaps = refuse_gaps

    def update(self, now: float) -> None:
        """Bring dynamic values up to ``now``; called before every request."""

    def read_bits(self, table: dict[int, bool], address: int, count: int) -> list[bool]:
        """Read coils or discrete inputs."""
        return [bool(value) for value in self._span(table, address, count)]

    def read_words(self, table: dict[int, int], address: int, count: int) -> list[int]:
        """Read holding or input registers."""
        return [int(value) for value in self._span(table, address, count)]

    def _span(self, table: Mapping[int, int | bool], address: int, count: int) -> list[int | bool]:
        last = address + count - 1
        if self.answer_unmapped:
            return [table.get(a, 0) for a in range(address, last + 1)]
        if address not in table or last not in table:
            raise ModbusReplyError(ILLEGAL_ADDRESS)
        if self.refuse_gaps and any(a not in table for a in range(address, last + 1)):
            raise ModbusReplyError(ILLEGAL_ADDRESS)
        return [table.get(a, 0) for a in range(address, last + 1)]

    def write_coil(self, address: int, value: bool) -> None:
        """Write one coil; devices override to add rules."""
        if address not in self.coils:
            raise ModbusReplyError(ILLEGAL_ADDRESS)
        self.coils[address] = value

    def write_register(self, address: int, value: int) -> None:
        """Write one holding register; devices override to add rules."""
        raise ModbusReplyError(ILLEGAL_ADDRESS)


def float_words(value: float) -> tuple[int, int]:
    """A float32 as two registers, high word first (Acuvim II)."""
    high, low = struct.unpack(">HH", struct.pack(">f", value))
    return high, low


def uint32_words(value: int) -> tuple[int, int]:
    """A uint32 as two registers, high word first."""
    return (value >> 16) & 0xFFFF, value & 0xFFFF


def int16_word(value: int) -> int:
    """A signed 16-bit value as its register word."""
    return value & 0xFFFF


def word_int16(word: int) -> int:
    """The signed 16-bit value of a register word."""
    return word - 0x10000 if word >= 0x8000 else word


class PowerPackModel(DeviceModel):
    """PowerPack BESS: follows its target power while remotely controlled.

    Registers (holding, one word each): 2000 status (``status_codes``; by default 0 off,
    1 standby, 2 ready, 3 running, 4 fault), 2008 target power kW int16 (+ discharge), 2010 command
    source (0 local, 1 remote), 2026 state of energy %, 2028 available blocks (50 kW each), and
    with ``active_power_register`` 2012 actual power kW int16 (not in the manufacturer's map: a
    unit may lack it). Addresses between them read 0 (unless ``refuse_gaps``). ``time_scale``
    speeds up time. ``stuck_kw`` (None: it follows) makes it run at that power whatever its
    target and command source say (a unit that ignores its setpoint; its registers still take
    the writes).
    """

    DEFAULT_STATUS_CODES: Final = {"off": 0, "standby": 1, "ready": 2, "running": 3, "fault": 4}

    STATUS: Final = 2000
    TARGET_POWER: Final = 2008
    COMMAND_SOURCE: Final = 2010
    ACTIVE_POWER: Final = 2012
    STATE_OF_ENERGY: Final = 2026
    AVAILABLE_BLOCKS: Final = 2028
    BLOCK_KW: Final = 50

    def __init__(
        self,
        *,
        capacity_kwh: float = 200.0,
        blocks: int = 4,
        state_of_energy: float = 50.0,
        time_scale: float = 1.0,
        active_power_register: bool = True,
        status_codes: Mapping[str, int] | None = None,
        refuse_gaps: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        """Start idle, locally controlled."""
        super().__init__(clock, refuse_gaps=refuse_gaps)
        self.active_power_register = active_power_register
        self.status_codes = dict(status_codes or self.DEFAULT_STATUS_CODES)
        self.capacity_kwh = capacity_kwh
        self.blocks = blocks
        self.state_of_energy = state_of_energy
        self.time_scale = time_scale
        self.target_kw = 0
        self.remote = False
        self.fault = False
        self.active_kw = 0
        self.stuck_kw: int | None = None
        self._last = clock()
        self._publish()

    def update(self, now: float) -> None:
        """Move the state of energy by the power that flowed since the last update."""
        hours = (now - self._last) * self.time_scale / 3600
        self._last = now
        self.state_of_energy -= self.active_kw * hours / self.capacity_kwh * 100
        self.state_of_energy = min(100.0, max(0.0, self.state_of_energy))
        power = self.target_kw if self.remote and not self.fault else 0
        if self.stuck_kw is not None:
            power = self.stuck_kw
        if (power > 0 and self.state_of_energy <= 0) or (power < 0 and self.state_of_energy >= 100):
            power = 0
        self.active_kw = power
        self._publish()

    def _publish(self) -> None:
        status = "fault" if self.fault else ("running" if self.active_kw else "ready")
        self.holding[self.STATUS] = self.status_codes[status]
        self.holding[self.TARGET_POWER] = int16_word(self.target_kw)
        self.holding[self.COMMAND_SOURCE] = int(self.remote)
        if self.active_power_register:
            self.holding[self.ACTIVE_POWER] = int16_word(self.active_kw)
        self.holding[self.STATE_OF_ENERGY] = round(self.state_of_energy)
        self.holding[self.AVAILABLE_BLOCKS] = self.blocks

    def write_register(self, address: int, value: int) -> None:
        """Accept a target power within the blocks' range and a command source of 0 or 1."""
        if address == self.TARGET_POWER:
            target = word_int16(value)
            if abs(target) > self.blocks * self.BLOCK_KW:
                raise ModbusReplyError(ILLEGAL_VALUE)
            self.target_kw = target
        elif address == self.COMMAND_SOURCE:
            if value not in (0, 1):
                raise ModbusReplyError(ILLEGAL_VALUE)
            self.remote = bool(value)
        else:
            raise ModbusReplyError(ILLEGAL_ADDRESS)
        self.update(self.clock())


# Acuvim II primary values: float32 addresses from 0x4000 (user's manual, "basic measurements").
ACUVIM_FLOATS: Final = {
    "frequency": 0x4000,
    "v1": 0x4002,
    "v2": 0x4004,
    "v3": 0x4006,
    "vln_avg": 0x4008,
    "v12": 0x400A,
    "v23": 0x400C,
    "v31": 0x400E,
    "vll_avg": 0x4010,
    "i1": 0x4012,
    "i2": 0x4014,
    "i3": 0x4016,
    "i_avg": 0x4018,
    "i_neutral": 0x401A,
    "pa": 0x401C,
    "pb": 0x401E,
    "pc": 0x4020,
    "psum": 0x4022,
    "qa": 0x4024,
    "qb": 0x4026,
    "qc": 0x4028,
    "qsum": 0x402A,
    "sa": 0x402C,
    "sb": 0x402E,
    "sc": 0x4030,
    "ssum": 0x4032,
    "pfa": 0x4034,
    "pfb": 0x4036,
    "pfc": 0x4038,
    "pfsum": 0x403A,
    "unbalance_v": 0x403C,
    "unbalance_i": 0x403E,
    "load_type": 0x4040,
    "p_demand": 0x4042,
    "q_demand": 0x4044,
    "s_demand": 0x4046,
}
ACUVIM_ENERGY_IMPORT: Final = 0x4048
ACUVIM_ENERGY_EXPORT: Final = 0x404A


class AcuvimModel(DeviceModel):
    """Acuvim II meter: float32 measurements and uint32 energy counters in 0.1 kWh.

    ``readings`` holds the measurements by name (see ``ACUVIM_FLOATS``). With ``live`` the demo
    meter's load moves over time and the energy counters integrate the total active power; with
    ``power`` (W, import positive, e.g. a ``SiteModel``'s) the meter measures that power instead,
    split evenly over the phases, and integrates it.
    """

    def __init__(
        self,
        *,
        live: bool = False,
        power: Callable[[], float] | None = None,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        """Start with a plausible three-phase load."""
        super().__init__(clock)
        self.live = live or power is not None
        self.power = power
        self.time_scale = time_scale
        self.readings: dict[str, float] = dict.fromkeys(ACUVIM_FLOATS, 0.0)
        self.energy_import_kwh = 12345.6
        self.energy_export_kwh = 2345.6
        self._last = clock()
        self.set_load((230.1, 231.2, 229.4), (10.0, 12.5, 8.0), 0.95)
        self._publish()

    def set_load(
        self, voltages: tuple[float, float, float], currents: tuple[float, float, float], pf: float
    ) -> None:
        """Set consistent per-phase and total values from voltages, currents and power factor."""
        readings = self.readings
        readings["frequency"] = 50.0
        for phase, (voltage, current) in enumerate(zip(voltages, currents, strict=True)):
            letter, number = "abc"[phase], str(phase + 1)
            apparent = voltage * current
            readings[f"v{number}"] = voltage
            readings[f"i{number}"] = current
            readings[f"s{letter}"] = apparent
            readings[f"p{letter}"] = apparent * pf
            readings[f"q{letter}"] = apparent * math.sin(math.acos(max(-1.0, min(1.0, pf))))
            readings[f"pf{letter}"] = pf
        for kind in ("p", "q", "s"):
            readings[f"{kind}sum"] = sum(readings[f"{kind}{letter}"] for letter in "abc")
        readings["pfsum"] = pf
        readings["vln_avg"] = sum(voltages) / 3
        for name, (first, second) in {"v12": (0, 1), "v23": (1, 2), "v31": (2, 0)}.items():
            readings[name] = math.sqrt(3) * (voltages[first] + voltages[second]) / 2
        readings["i_avg"] = sum(currents) / 3

    def update(self, now: float) -> None:
        """Integrate energy over the elapsed time and, when live, move the load."""
        hours = (now - self._last) * self.time_scale / 3600
        self._last = now
        if self.live:
            power_kw = self.readings["psum"] / 1000
            if power_kw >= 0:
                self.energy_import_kwh += power_kw * hours
            else:
                self.energy_export_kwh -= power_kw * hours
            swing = math.sin(now / 30)
            voltages = (230.0 + swing, 231.0 - swing, 229.5 + swing / 2)
            if self.power is None:
                currents = (10.0 + 4 * swing, 12.0 + 3 * swing, 8.0 - 2 * swing)
                self.set_load(voltages, currents, 0.95)
            else:
                # A third of the power per phase; exported power has a negative power factor.
                watts = self.power()
                pf = math.copysign(0.95, watts)
                first, second, third = (abs(watts) / 3 / (v * 0.95) for v in voltages)
                self.set_load(voltages, (first, second, third), pf)
        self._publish()

    def _publish(self) -> None:
        for name, address in ACUVIM_FLOATS.items():
            self.holding[address], self.holding[address + 1] = float_words(self.readings[name])
        for address, kwh in (
            (ACUVIM_ENERGY_IMPORT, self.energy_import_kwh),
            (ACUVIM_ENERGY_EXPORT, self.energy_export_kwh),
        ):
            self.holding[address], self.holding[address + 1] = uint32_words(round(kwh * 10))


class MoxaModel(DeviceModel):
    """Moxa ioLogik E1200: ``OUTPUTS`` coils from 0 and ``INPUTS`` discrete inputs from 0.

    ``feedback`` wires input n to output n (a contactor's auxiliary contact, for the demo).
    ``watchdog_timeout`` is the host-connection watchdog: after that long without a request the
    outputs take their ``safe_state`` and the alarm is set (coil 0x1030 reads 1); until a host
    writes 1 to that coil, every output write is refused with exception 0x04 (the manual's
    behaviour). ``ignore_writes`` makes the next writes acknowledged but not applied (a stuck
    relay), to exercise read-back verification; ``stuck`` holds the channels whose writes are
    never applied (a welded or broken relay).
    """

    OUTPUTS: ClassVar[int]
    INPUTS: ClassVar[int]
    WATCHDOG_ALARM: Final = 0x1030

    def __init__(
        self,
        *,
        feedback: bool = False,
        watchdog_timeout: float | None = None,
        safe_state: Mapping[int, bool] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """Start with every output off."""
        super().__init__(clock, refuse_gaps=True)
        self.coils = dict.fromkeys(range(self.OUTPUTS), False)
        self.coils[self.WATCHDOG_ALARM] = False
        self.discrete_inputs = dict.fromkeys(range(self.INPUTS), False)
        self.feedback = feedback
        self.watchdog_timeout = watchdog_timeout
        self.safe_state = dict(safe_state or {})
        self.ignore_writes = 0
        self.stuck: set[int] = set()
        self._last_request = clock()

    @property
    def watchdog_tripped(self) -> bool:
        """Whether the watchdog alarm is set (outputs locked until a host clears it)."""
        return self.coils[self.WATCHDOG_ALARM]

    def update(self, now: float) -> None:
        """Apply the watchdog's safe state after a silence, then mirror feedback inputs."""
        timeout = self.watchdog_timeout
        if timeout is not None and now - self._last_request > timeout:
            self.coils[self.WATCHDOG_ALARM] = True
            for channel, state in self.safe_state.items():
                self.coils[channel] = state
        self._last_request = now
        if self.feedback:
            for channel in self.discrete_inputs:
                self.discrete_inputs[channel] = self.coils.get(channel, False)

    def write_coil(self, address: int, value: bool) -> None:
        """Switch an output (refused while the watchdog alarm is set), or clear the alarm."""
        if address not in self.coils:
            raise ModbusReplyError(ILLEGAL_ADDRESS)
        if address == self.WATCHDOG_ALARM:
            if value:
                self.coils[address] = False
            return
        if self.watchdog_tripped:
            raise ModbusReplyError(DEVICE_FAILURE)
        if self.ignore_writes:
            self.ignore_writes -= 1
            return
        if address in self.stuck:
            return
        self.coils[address] = value
        self.update(self.clock())


class MoxaE1211(MoxaModel):
    """ioLogik E1211: sixteen digital outputs, no inputs."""

    OUTPUTS, INPUTS = 16, 0


class MoxaE1212(MoxaModel):
    """ioLogik E1212: eight DIO channels as outputs, sixteen inputs."""

    OUTPUTS, INPUTS = 8, 16


class MoxaE1214(MoxaModel):
    """ioLogik E1214: six relays and six digital inputs."""

    OUTPUTS, INPUTS = 6, 6


# --- Modbus TCP server ---------------------------------------------------------------------------


@dataclass(slots=True)
class Faults:
    """Misbehaviour on demand, applied to every request until cleared.

    ``latency`` delays each answer; ``stall`` swallows requests without answering (the device
    hangs, the connection stays open); ``exception_code`` answers every request with that Modbus
    exception (only the next ``exception_count`` requests when that is set: a transient fault);
    ``drop`` closes the connection whenever a request arrives. ``drop_before_write`` and
    ``drop_after_write`` close the connection on the next so many writes, before executing them
    or after executing them without answering.
    """

    latency: float = 0.0
    stall: bool = False
    exception_code: int | None = None
    exception_count: int | None = None
    drop: bool = False
    drop_before_write: int = 0
    drop_after_write: int = 0

    def clear(self) -> None:
        """Behave normally again."""
        self.latency, self.stall, self.exception_code, self.drop = 0.0, False, None, False
        self.exception_count = None
        self.drop_before_write = self.drop_after_write = 0

    def take_exception(self) -> int | None:
        """The exception code to answer this request with, counting a transient one down."""
        code = self.exception_code
        if code is not None and self.exception_count is not None:
            self.exception_count -= 1
            if self.exception_count <= 0:
                self.exception_code = self.exception_count = None
        return code


@dataclass(slots=True)
class WriteRecord:
    """A write the simulator received (applied or refused)."""

    unit_id: int
    function_code: int
    address: int
    values: list[int] | list[bool]


@dataclass(slots=True)
class Stats:
    """What the simulator saw: requests by function code and unit, connections, concurrency."""

    requests: Counter[int] = field(default_factory=Counter)
    requests_by_unit: Counter[tuple[int, int]] = field(default_factory=Counter)
    connections: int = 0
    refused_connections: int = 0
    busy: int = 0
    max_busy: int = 0
    writes: list[WriteRecord] = field(default_factory=list)

    @property
    def total(self) -> int:
        """All requests received."""
        return sum(self.requests.values())


class ModbusSimulator:
    """A Modbus TCP server for one or more unit ids (a device, or a gateway with several).

    A request for a unit id it does not serve gets ``unknown_unit_exception`` (a gateway's 0x0B by
    default), or no answer at all when that is None; ``silent_units`` never answer either (dead
    units behind a gateway that does not report them). ``max_clients`` closes connections beyond
    that many at once (devices and gateways that accept a single client).
    """

    def __init__(
        self,
        units: Mapping[int, DeviceModel],
        *,
        name: str = "modbus",
        host: str = HOST,
        port: int = 0,
        unknown_unit_exception: int | None = GATEWAY_NO_RESPONSE,
        silent_units: frozenset[int] = frozenset(),
        max_clients: int | None = None,
    ) -> None:
        """Serve these units once started."""
        self.units = dict(units)
        self.name = name
        self.host = host
        self.port = port
        self.unknown_unit_exception = unknown_unit_exception
        self.silent_units = set(silent_units)
        self.max_clients = max_clients
        self.faults = Faults()
        self.stats = Stats()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._request_seen = asyncio.Event()
        self._connections_changed = asyncio.Event()

    async def start(self) -> int:
        """Listen and return the bound port."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Close the listener and every connection."""
        if self._server is None:
            return
        self._server.close()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def refuse_connections(self) -> None:
        """Stop accepting new connections; open ones stay (a device at its connection limit)."""
        if self._server is not None:
            self._server.close()

    def drop_connections(self) -> None:
        """Close every open client connection now (a dropped link)."""
        for writer in list(self._writers):
            writer.close()

    async def wait_for_requests(self, count: int) -> None:
        """Return once ``count`` requests have arrived in all (tests wait on this, not on time)."""
        while self.stats.total < count:
            self._request_seen.clear()
            await self._request_seen.wait()

    async def wait_for_no_connections(self) -> None:
        """Return once no client is connected (tests wait on this, not on time)."""
        while self._writers:
            self._connections_changed.clear()
            await self._connections_changed.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.max_clients is not None and len(self._writers) >= self.max_clients:
            # What a one-client device does: accept, then close at once.
            self.stats.refused_connections += 1
            writer.close()
            return
        self.stats.connections += 1
        self._writers.add(writer)
        self._connections_changed.set()
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, protocol, length, unit_id = struct.unpack(">HHHB", header)
                if protocol != 0 or not 2 <= length <= 254:
                    return
                pdu = await reader.readexactly(length - 1)
                if self._drop_write(pdu, before=True):
                    return
                reply = await self._answer(unit_id, pdu)
                if self._drop_write(pdu, before=False):
                    return
                if reply is None:
                    if self.faults.drop:
                        return
                    continue
                writer.write(struct.pack(">HHHB", transaction, 0, len(reply) + 1, unit_id) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            self._handlers.discard(handler)
            self._connections_changed.set()
            writer.close()

    def _drop_write(self, pdu: bytes, *, before: bool) -> bool:
        """Whether to close the connection now, around a write (counted down per write)."""
        faults = self.faults
        if pdu[0] not in _WRITE_FUNCTIONS:
            return False
        if before and faults.drop_before_write:
            faults.drop_before_write -= 1
            self.stats.requests[pdu[0]] += 1
            self._request_seen.set()
            return True
        if not before and faults.drop_after_write:
            faults.drop_after_write -= 1
            return True
        return False

    async def _answer(self, unit_id: int, pdu: bytes) -> bytes | None:
        """The reply PDU to a request, or None for no reply (stalled, dropped, unknown unit)."""
        function_code = pdu[0]
        self.stats.requests[function_code] += 1
        self.stats.requests_by_unit[(unit_id, function_code)] += 1
        self._request_seen.set()
        faults = self.faults
        if faults.drop or faults.stall or unit_id in self.silent_units:
            return None
        self.stats.busy += 1
        self.stats.max_busy = max(self.stats.max_busy, self.stats.busy)
        try:
            if faults.latency:
                await asyncio.sleep(faults.latency)
            if (code := faults.take_exception()) is not None:
                return bytes((function_code | 0x80, code))
            model = self.units.get(unit_id)
            if model is None:
                if self.unknown_unit_exception is None:
                    return None
                return bytes((function_code | 0x80, self.unknown_unit_exception))
            model.update(model.clock())
            try:
                return function_code.to_bytes() + self._execute(unit_id, model, pdu)
            except ModbusReplyError as reply:
                return bytes((function_code | 0x80, reply.code))
            except (struct.error, IndexError):
                return bytes((function_code | 0x80, ILLEGAL_VALUE))
        finally:
            self.stats.busy -= 1

    def _execute(self, unit_id: int, model: DeviceModel, pdu: bytes) -> bytes:
        """Run a request against a unit's tables and return the reply's data."""
        function_code = pdu[0]
        if function_code in (0x01, 0x02):
            address, count = _u16(pdu, 1), _u16(pdu, 3)
            if not 1 <= count <= 2000:
                raise ModbusReplyError(ILLEGAL_VALUE)
            table = model.coils if function_code == 0x01 else model.discrete_inputs
            packed = _pack_bits(model.read_bits(table, address, count))
            return len(packed).to_bytes() + packed
        if function_code in (0x03, 0x04):
            address, count = _u16(pdu, 1), _u16(pdu, 3)
            if not 1 <= count <= 125:
                raise ModbusReplyError(ILLEGAL_VALUE)
            words_table = model.holding if function_code == 0x03 else model.input_registers
            words = model.read_words(words_table, address, count)
            return (2 * count).to_bytes() + struct.pack(f">{count}H", *words)
        if function_code == 0x05:
            address, raw = _u16(pdu, 1), _u16(pdu, 3)
            if raw not in (0x0000, 0xFF00):
                raise ModbusReplyError(ILLEGAL_VALUE)
            self.stats.writes.append(WriteRecord(unit_id, 0x05, address, [raw == 0xFF00]))
            model.write_coil(address, raw == 0xFF00)
            return pdu[1:5]
        if function_code == 0x06:
            address, value = _u16(pdu, 1), _u16(pdu, 3)
            self.stats.writes.append(WriteRecord(unit_id, 0x06, address, [value]))
            model.write_register(address, value)
            return pdu[1:5]
        if function_code == 0x0F:
            address, count = _u16(pdu, 1), _u16(pdu, 3)
            bits = _unpack_bits(pdu[6:], count)
            self.stats.writes.append(WriteRecord(unit_id, 0x0F, address, bits))
            for offset, bit in enumerate(bits):
                model.write_coil(address + offset, bit)
            return pdu[1:5]
        if function_code == 0x10:
            address, count = _u16(pdu, 1), _u16(pdu, 3)
            values = list(struct.unpack(f">{count}H", pdu[6 : 6 + 2 * count]))
            self.stats.writes.append(WriteRecord(unit_id, 0x10, address, values))
            for offset, value in enumerate(values):
                model.write_register(address + offset, value)
            return pdu[1:5]
        raise ModbusReplyError(ILLEGAL_FUNCTION)


_WRITE_FUNCTIONS: Final = frozenset({0x05, 0x06, 0x0F, 0x10})


def _u16(data: bytes, offset: int) -> int:
    if len(data) < offset + 2:
        raise IndexError(offset)
    return int.from_bytes(data[offset : offset + 2])


def _pack_bits(bits: list[bool]) -> bytes:
    """Bits packed eight to a byte, first bit in the lowest bit (Modbus order)."""
    packed = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            packed[index // 8] |= 1 << (index % 8)
    return bytes(packed)


def _unpack_bits(data: bytes, count: int) -> list[bool]:
    return [bool(data[index // 8] >> (index % 8) & 1) for index in range(count)]


# --- Demo site and command line ------------------------------------------------------------------


def demo_site(
    *, time_scale: float = 1.0, site: SiteModel | None = None
) -> dict[str, ModbusSimulator]:
    """The demo's devices, not started; the ports are ``DEMO_PORTS``.

    One unit id each, except the meters: the grid meter (unit 1) and the PV feeder's meter
    (unit 2) behind one gateway. Both measure ``site``, whose battery is the PowerPack and whose
    emergency stops' contactors are the E1214's relays 0 (production) and 1 (consumption).
    """
    site = site or SiteModel()
    bess = PowerPackModel(time_scale=time_scale)
    site.battery_w = lambda: bess.active_kw * 1000
    relays = MoxaE1214(feedback=True)
    site.production_cut = lambda: relays.coils[0]
    site.consumption_cut = lambda: relays.coils[1]
    return {
        "bess": ModbusSimulator({1: bess}, name="bess", port=DEMO_PORTS["bess"]),
        "meter": ModbusSimulator(
            {
                1: AcuvimModel(power=site.grid_power_w, time_scale=time_scale),
                2: AcuvimModel(power=site.pv_meter_power_w, time_scale=time_scale),
            },
            name="meter",
            port=DEMO_PORTS["meter"],
        ),
        "e1214": ModbusSimulator({1: relays}, name="e1214", port=DEMO_PORTS["e1214"]),
        "e1211": ModbusSimulator({1: MoxaE1211()}, name="e1211", port=DEMO_PORTS["e1211"]),
    }


async def start_demo(
    *,
    host: str = HOST,
    ephemeral: bool = False,
    time_scale: float = 1.0,
    site: SiteModel | None = None,
) -> dict[str, ModbusSimulator]:
    """Start the demo's devices on ``host`` (on free ports when ``ephemeral``)."""
    simulators = demo_site(time_scale=time_scale, site=site)
    for simulator in simulators.values():
        simulator.host = host
        if ephemeral:
            simulator.port = 0
        await simulator.start()
    return simulators


HELP: Final = """commands (DEVICE is one of the device names):
  DEVICE latency SECONDS     delay every answer
  DEVICE stall on|off        swallow requests without answering
  DEVICE exception CODE|off  answer every request with this exception code (e.g. 4)
  DEVICE drop on|off         close the connection whenever a request arrives
  DEVICE disconnect          close the open connections once
  DEVICE clear               behave normally again
  DEVICE input CHANNEL on|off  set a Moxa digital input
  DEVICE stuck CHANNEL on|off  a Moxa relay that ignores its writes (or works again)
  DEVICE stuck KW|off        a battery that runs at KW whatever its setpoint (or follows again)
  status                     show faults and request counts
  help                       show this text"""


def apply_command(simulators: Mapping[str, ModbusSimulator], line: str) -> str:
    """Run one control command and return the answer to show."""
    words = line.split()
    if not words:
        return ""
    if words[0] == "help":
        return HELP
    if words[0] == "status":
        return "\n".join(
            f"{name}: port {sim.port}, {sim.faults}, requests {dict(sim.stats.requests)}"
            for name, sim in simulators.items()
        )
    simulator = simulators.get(words[0])
    if simulator is None or len(words) < 2:
        return f"unknown command: {line.strip()} (try help)"
    faults = simulator.faults
    match words[1:]:
        case ["latency", seconds]:
            faults.latency = float(seconds)
        case ["stall", "on" | "off" as state]:
            faults.stall = state == "on"
        case ["exception", "off"]:
            faults.exception_code = None
        case ["exception", code]:
            faults.exception_code = int(code, 0)
        case ["drop", "on" | "off" as state]:
            faults.drop = state == "on"
        case ["disconnect"]:
            simulator.drop_connections()
        case ["clear"]:
            faults.clear()
        case ["input", channel, "on" | "off" as state]:
            for model in simulator.units.values():
                if int(channel) not in model.discrete_inputs:
                    return f"{words[0]} has no input {channel}"
                model.discrete_inputs[int(channel)] = state == "on"
        case ["stuck", channel, "on" | "off" as state]:
            for model in simulator.units.values():
                if not isinstance(model, MoxaModel) or int(channel) not in model.coils:
                    return f"{words[0]} has no relay {channel}"
                (model.stuck.add if state == "on" else model.stuck.discard)(int(channel))
        case ["stuck", power]:
            for model in simulator.units.values():
                if not isinstance(model, PowerPackModel):
                    return f"{words[0]} is no battery"
                model.stuck_kw = None if power == "off" else int(power)
                model.update(model.clock())
        case _:
            return f"unknown command: {line.strip()} (try help)"
    return f"{words[0]}: {faults}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m simulators modbus``."""
    parser.add_argument("--host", default=HOST, help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--control-port",
        type=int,
        default=DEMO_CONTROL_PORT,
        help="TCP port for fault commands, 0 to disable (default %(default)s)",
    )
    parser.add_argument(
        "--ephemeral",
        action="store_true",
        help="listen on free ports instead of the demo's (the ports are printed)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="speed up the battery and meter clocks, e.g. 60 (default %(default)s)",
    )
    parser.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    """Run the demo site until SIGINT or SIGTERM; fault commands come from stdin and TCP."""
    simulators = await start_demo(
        host=args.host, ephemeral=args.ephemeral, time_scale=args.time_scale
    )
    for name, simulator in simulators.items():
        print(f"{name}: Modbus TCP on {simulator.host}:{simulator.port}, unit id 1", flush=True)

    async def handle(line: str) -> str:
        return apply_command(simulators, line)

    control = None
    if args.control_port:
        control_port = 0 if args.ephemeral else args.control_port
        control = await serve_commands(handle, args.host, control_port)
        bound = control.sockets[0].getsockname()[1]
        print(f"fault commands: {args.host}:{bound} (send 'help')", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, stopped.set)
    commands = asyncio.create_task(read_commands(handle))
    try:
        await stopped.wait()
    finally:
        commands.cancel()
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
        if control is not None:
            control.close()
        for simulator in simulators.values():
            await simulator.stop()
    return 0
