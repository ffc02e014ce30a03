"""Typed Modbus TCP client: one connection per host, devices on top.

``ModbusHostConnection`` owns one TCP connection to a host:port, shared by the unit ids behind
a gateway. It frames requests itself (``framing``) and matches answers by transaction id, so a
unit that stopped answering waits for its answer beside the others instead of holding the
connection, and a late answer is recognised instead of being taken for another request's.
pymodbus builds and decodes the PDUs. It reconnects by itself, retries with backoff, and turns
answers into typed values or ``ModbusError``s; a timeout leaves the connection open, and a
connection the device closes fails the requests waiting on it at once.

``ModbusDevice`` binds a connection, a unit id and a profile: it finds which optional registers
the device has, polls the registers in as few reads as the device allows, writes values (verified
by reading back where the profile asks), clears a module's watchdog alarm and identifies the
device kind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

from .codec import ReadBlock, Value, encode, extract, plan_reads, split_block, words_to_number
from .errors import (
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionError,
    ModbusInvalidResponseError,
    ModbusReadbackError,
    ModbusTimeoutError,
    ModbusValueError,
    ModbusWrongDeviceError,
)
from .framing import Frame, FrameReader, FramingError, TransactionIds, encode_frame
from .profile import DataType, DeviceProfile, RegisterSpec, Table

_LOGGER = logging.getLogger(__name__)

_DEVICE_BUSY: Final = 0x06
_DEVICE_FAILURE: Final = 0x04
_ILLEGAL_FUNCTION: Final = 0x01
_ILLEGAL_ADDRESS: Final = 0x02
# Answers that say "not now" rather than "never": a read asking them is tried once more.
_TRANSIENT_READ_EXCEPTIONS: Final = frozenset({_DEVICE_FAILURE, 0x05, _DEVICE_BUSY})
# Answers that say the device has no such register or function.
_ABSENT: Final = frozenset({_ILLEGAL_FUNCTION, _ILLEGAL_ADDRESS})
_READ_FUNCTIONS: Final = frozenset({0x01, 0x02, 0x03, 0x04})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How long to wait for an answer and how often to try again.

    A request that times out or loses its connection is retried ``retries`` times, after
    ``backoff``, then twice that, and so on up to ``backoff_max`` seconds (the seed's retry logic,
    scaled to a one-second poll). A device-busy exception (0x06) is retried the same way; a read
    answered with 0x04, 0x05 or 0x06 is tried once more; other exceptions are answers.
    Without ``retry_timeouts`` a timeout is raised at once (a unit known to be silent).
    """

    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.1
    backoff_max: float = 2.0
    retry_timeouts: bool = True

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt + 1``."""
        return float(min(self.backoff * 2**attempt, self.backoff_max))


@dataclass(slots=True)
class _Request:
    unit_id: int
    function_code: int
    answer: asyncio.Future[Frame]


class _ModbusTcpProtocol(asyncio.Protocol):
    """The TCP connection: writes frames, hands each answer to the request it belongs to."""

    def __init__(self, host: str, port: int, on_late_answer: Callable[[], None]) -> None:
        self.host = host
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.requests: dict[int, _Request] = {}
        """The requests out, by transaction id."""
        self._on_late_answer = on_late_answer
        self._reader = FrameReader()
        self._transaction_ids = TransactionIds()

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, unit_id: int, pdu: bytes) -> tuple[int, asyncio.Future[Frame]]:
        """Write a request; its transaction id and the future of its answer."""
        assert self.transport is not None
        transaction_id = self._transaction_ids.take(self.requests)
        answer = asyncio.get_running_loop().create_future()
        self.requests[transaction_id] = _Request(unit_id, pdu[0], answer)
        self.transport.write(encode_frame(Frame(transaction_id, unit_id, pdu)))
        return transaction_id, answer

    def forget(self, transaction_id: int, answer: asyncio.Future[Frame]) -> None:
        """The request gave up (timed out, cancelled): its answer, if it comes, is late."""
        request = self.requests.get(transaction_id)
        if request is not None and request.answer is answer:
            del self.requests[transaction_id]

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._reader.feed(data)
        except FramingError as err:
            assert self.transport is not None
            self._fail_all(ModbusInvalidResponseError(str(err)))
            self.transport.close()
            return
        for frame in frames:
            request = self.requests.pop(frame.transaction_id, None)
            if request is None:
                self._on_late_answer()
                _LOGGER.debug("Late answer of unit %s, ignored", frame.unit_id)
            elif not request.answer.done():
                request.answer.set_result(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail_all(ModbusConnectionError(self.host, self.port, "connection closed"))

    def _fail_all(self, error: ModbusError) -> None:
        for request in self.requests.values():
            if not request.answer.done():
                request.answer.set_exception(error)
        self.requests.clear()


class ModbusHostConnection:
    """One TCP connection to a Modbus host, shared by the units behind it.

    Requests of units that answer take turns (the line: a device's poll keeps it for all its
    reads, ``acquire``/``release``, ``held``); a request of a unit that stopped answering
    (``RetryPolicy.retry_timeouts`` off) goes out beside them, so its timeout holds no one.
    A timeout leaves the connection open: behind a gateway it is one unit that is silent, and
    the others still answer; it is not retried when the last answer on the connection came from
    another unit.
    """

    def __init__(self, host: str, port: int) -> None:
        """Prepare the connection; it opens on the first request."""
        self.host = host
        self.port = port
        self._protocol: _ModbusTcpProtocol | None = None
        self._opening = asyncio.Lock()
        self._line = asyncio.Lock()
        self._decoder = DecodePDU(is_server=False)
        self._last_answer_unit: int | None = None
        self.requests: Counter[int] = Counter()
        self.connects = 0
        self.failures = 0
        self.late_answers = 0
        """Answers that came after their request gave up (ignored)."""

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is open."""
        return self._protocol is not None and self._protocol.open

    def _count_late_answer(self) -> None:
        self.late_answers += 1

    async def acquire(self) -> None:
        """Take the line for several requests (made with ``held``); ``release`` gives it back."""
        await self._line.acquire()

    def release(self) -> None:
        """Give the line back after ``acquire``."""
        self._line.release()

    async def read_registers(
        self,
        unit_id: int,
        table: Table,
        address: int,
        count: int,
        policy: RetryPolicy,
        *,
        held: bool = False,
    ) -> list[int]:
        """Read ``count`` holding or input registers."""
        request = (
            ReadHoldingRegistersRequest
            if table is Table.HOLDING_REGISTER
            else ReadInputRegistersRequest
        )(address=address, count=count)
        response = await self._transact(unit_id, request, address, policy, held=held)
        if len(response.registers) != count:
            raise ModbusInvalidResponseError(
                f"asked {count} registers at {address}, got {len(response.registers)}"
            )
        return list(response.registers)

    async def read_bits(
        self,
        unit_id: int,
        table: Table,
        address: int,
        count: int,
        policy: RetryPolicy,
        *,
        held: bool = False,
    ) -> list[bool]:
        """Read ``count`` coils or discrete inputs."""
        request = (ReadCoilsRequest if table is Table.COIL else ReadDiscreteInputsRequest)(
            address=address, count=count
        )
        response = await self._transact(unit_id, request, address, policy, held=held)
        if len(response.bits) < count:
            raise ModbusInvalidResponseError(
                f"asked {count} bits at {address}, got {len(response.bits)}"
            )
        return [bool(bit) for bit in response.bits[:count]]

    async def write_coil(
        self, unit_id: int, address: int, value: bool, policy: RetryPolicy
    ) -> None:
        """Write one coil (function 0x05)."""
        await self._transact(
            unit_id, WriteSingleCoilRequest(address=address, bits=[value]), address, policy
        )

    async def write_registers(
        self, unit_id: int, address: int, words: Sequence[int], policy: RetryPolicy
    ) -> None:
        """Write registers: one word with function 0x06, several with 0x10."""
        request = (
            WriteSingleRegisterRequest(address=address, registers=[words[0]])
            if len(words) == 1
            else WriteMultipleRegistersRequest(address=address, registers=list(words))
        )
        await self._transact(unit_id, request, address, policy)

    def close(self) -> None:
        """Close the TCP connection (a later request opens it again)."""
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()

    async def _transact(
        self,
        unit_id: int,
        request: ModbusPDU,
        address: int,
        policy: RetryPolicy,
        *,
        held: bool = False,
    ) -> ModbusPDU:
        """Run one request with retries; the line is released while backing off (unless held)."""
        function_code = request.function_code
        # A unit that stopped answering waits for its answer without the line.
        takes_line = not held and policy.retry_timeouts
        attempt = 0
        while True:
            try:
                if takes_line:
                    await self._line.acquire()
                try:
                    await self._connect(policy)
                    response = await self._once(unit_id, request, address, policy)
                finally:
                    if takes_line:
                        self._line.release()
                self._last_answer_unit = unit_id
                return response
            except (ModbusConnectionError, ModbusTimeoutError) as err:
                self.failures += 1
                if attempt >= policy.retries or (
                    isinstance(err, ModbusTimeoutError)
                    and (
                        not policy.retry_timeouts
                        # Others answer here: this unit is silent, the link is fine.
                        or self._last_answer_unit not in (None, unit_id)
                    )
                ):
                    raise
                _LOGGER.debug("%s, retrying", err)
            except ModbusExceptionError as err:
                self.failures += 1
                if err.code == _DEVICE_BUSY and attempt < policy.retries:
                    pass
                elif not (
                    attempt == 0
                    and err.code in _TRANSIENT_READ_EXCEPTIONS
                    and function_code in _READ_FUNCTIONS
                ):
                    raise
                _LOGGER.debug("%s, retrying", err)
            await asyncio.sleep(policy.delay(attempt))
            attempt += 1

    async def _connect(self, policy: RetryPolicy) -> None:
        async with self._opening:
            if self.connected:
                return
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(policy.timeout):
                    _, protocol = await loop.create_connection(
                        lambda: _ModbusTcpProtocol(self.host, self.port, self._count_late_answer),
                        self.host,
                        self.port,
                    )
            except TimeoutError as err:
                raise ModbusConnectionError(self.host, self.port, "timed out") from err
            except OSError as err:
                raise ModbusConnectionError(self.host, self.port, "refused or unreachable") from err
            self._protocol = protocol
            self.connects += 1

    async def _once(
        self, unit_id: int, request: ModbusPDU, address: int, policy: RetryPolicy
    ) -> ModbusPDU:
        protocol = self._protocol
        assert protocol is not None
        function_code = request.function_code
        self.requests[function_code] += 1
        transaction_id, answer = protocol.send(unit_id, function_code.to_bytes() + request.encode())
        try:
            async with asyncio.timeout(policy.timeout):
                frame = await answer
        except TimeoutError as err:
            # The connection stays: a silent unit behind a gateway is not a broken link.
            raise ModbusTimeoutError(self.host, self.port, unit_id, policy.timeout) from err
        finally:
            protocol.forget(transaction_id, answer)
        if frame.unit_id != unit_id or frame.function_code != function_code:
            raise ModbusInvalidResponseError(
                f"unit {frame.unit_id} answered function {frame.function_code} to a request"
                f" of function {function_code} for unit {unit_id}"
            )
        if frame.pdu[0] & 0x80 and len(frame.pdu) == 2:
            # Read here: pymodbus 3.8 logs an error for every exception answer it decodes.
            raise ModbusExceptionError(frame.pdu[1], function_code, address)
        response = self._decoder.decode(frame.pdu)
        if response is None:
            raise ModbusInvalidResponseError(f"cannot decode the answer {frame.pdu.hex()}")
        return response


class ConnectionPool:
    """Hands out one shared ``ModbusHostConnection`` per (host, port), counting its users."""

    def __init__(self) -> None:
        """Start empty."""
        self._connections: dict[tuple[str, int], tuple[ModbusHostConnection, int]] = {}

    def acquire(self, host: str, port: int) -> ModbusHostConnection:
        """The connection to host:port, shared with every other user of it."""
        connection, users = self._connections.get((host, port), (None, 0))
        if connection is None:
            connection = ModbusHostConnection(host, port)
        self._connections[(host, port)] = (connection, users + 1)
        return connection

    def get(self, host: str, port: int) -> ModbusHostConnection | None:
        """The connection to host:port if devices use one, without becoming a user of it."""
        connection, _ = self._connections.get((host, port), (None, 0))
        return connection

    def release(self, connection: ModbusHostConnection) -> None:
        """Give a connection back; the last user closes it."""
        key = (connection.host, connection.port)
        _, users = self._connections[key]
        if users > 1:
            self._connections[key] = (connection, users - 1)
            return
        del self._connections[key]
        connection.close()

    def __len__(self) -> int:
        """How many hosts have a connection."""
        return len(self._connections)


def value_range(spec: RegisterSpec, values: dict[str, Value]) -> tuple[float, float]:
    """The range a writable number accepts now: the static range, narrowed by its limit register."""
    entity = spec.entity
    low = entity.min_value if entity and entity.min_value is not None else -math.inf
    high = entity.max_value if entity and entity.max_value is not None else math.inf
    if entity and entity.limit_key is not None:
        limit = values.get(entity.limit_key)
        if isinstance(limit, int | float) and not isinstance(limit, bool):
            bound = abs(limit) * entity.limit_factor
            low, high = max(low, -bound), min(high, bound)
    return low, high


@dataclass(frozen=True, slots=True)
class WatchdogAlarm:
    """A module's watchdog alarm found set, and whether Grid EMS cleared it.

    ``output`` is the output whose write was refused because of it (None when a poll found it);
    ``error`` is why it could not be cleared (None when cleared).
    """

    output: str | None
    error: ModbusError | None


class ModbusDevice:
    """A device of a known kind at a unit id on a host connection.

    ``profile`` is this device's own: after ``probe`` it lacks the optional registers the device
    does not have. ``failed_polls`` counts consecutive failed polls: while it is not 0 a timeout
    is not retried, so a silent unit holds a shared connection for one timeout per request.
    ``unknown_codes`` holds the raw codes of enumerations outside their map.
    ``on_watchdog_alarm`` is told of every watchdog alarm found.
    """

    def __init__(
        self,
        connection: ModbusHostConnection,
        profile: DeviceProfile,
        unit_id: int,
        policy: RetryPolicy | None = None,
    ) -> None:
        """Plan the polling reads from the profile."""
        self.connection = connection
        self.profile = profile
        self.unit_id = unit_id
        self.policy = policy or RetryPolicy()
        self.plan: list[ReadBlock] = self._plan(profile.registers)
        self.values: dict[str, Value] = {}
        self.unknown_codes: dict[str, int] = {}
        # Per read, the data last read and what it decoded to: most polls read what the last did.
        self._decoded: dict[
            tuple[Table, int, int], tuple[list[int] | list[bool], dict[str, Value], dict[str, int]]
        ] = {}
        self.failed_polls = 0
        self.on_watchdog_alarm: Callable[[WatchdogAlarm], None] | None = None

    def _plan(self, registers: Sequence[RegisterSpec]) -> list[ReadBlock]:
        return list(
            plan_reads(
                registers,
                max_registers=self.profile.max_read_registers,
                max_bits=self.profile.max_read_bits,
                max_gap=self.profile.max_gap,
            )
        )

    async def probe(self) -> None:
        """Find which optional registers the device has; only those are polled from now on.

        A register the device refuses (0x01/0x02) is absent. A device that answers an address
        its manufacturer's map leaves empty answers anything, so it is taken to have none:
        a register it does not have would read as an invented 0.
        """
        optional = self.profile.optional
        if not optional:
            return
        hole = self.profile.hole_address
        if hole is not None and await self._answers(Table.HOLDING_REGISTER, hole, 1):
            absent = {spec.key for spec in optional}
            _LOGGER.debug("Unit %s answers unmapped address %s", self.unit_id, hole)
        else:
            absent = {
                spec.key
                for spec in optional
                if not await self._answers(spec.table, spec.address, spec.width)
            }
        if absent:
            _LOGGER.info(
                "Unit %s at %s:%s has no %s; not polled",
                self.unit_id,
                self.connection.host,
                self.connection.port,
                ", ".join(sorted(absent)),
            )
        self.profile = self.profile.without(frozenset(absent))
        self.plan = self._plan(self.profile.registers)

    async def _answers(self, table: Table, address: int, count: int) -> bool:
        try:
            await self.read_raw(table, address, count)
        except ModbusExceptionError as err:
            if err.code in _ABSENT:
                return False
            raise
        return True

    async def poll(self) -> dict[str, Value]:
        """Read every register; blocks the device refuses are split and stay split.

        A watchdog alarm found set is cleared at once (and reported to ``on_watchdog_alarm``);
        the values then show it cleared.
        """
        # A unit that stopped answering takes no line: its reads go out beside the others'.
        answering = not self.failed_polls
        if answering:
            await self.connection.acquire()
        try:
            values = await self._read_plan(self.plan, held=answering)
        except ModbusError:
            self.failed_polls += 1
            raise
        finally:
            if answering:
                self.connection.release()
        self.failed_polls = 0
        alarm = self.profile.watchdog_alarm
        if alarm is not None and values.get(alarm) is True and await self._clear_watchdog(None):
            values[alarm] = False
        self.values = values
        return values

    @property
    def _request_policy(self) -> RetryPolicy:
        """The policy of the next request: no timeout retries for a unit that stopped answering."""
        if self.failed_polls:
            return dataclasses.replace(self.policy, retry_timeouts=False)
        return self.policy

    async def _clear_watchdog(self, output: str | None) -> bool:
        """Clear the set watchdog alarm; whether it is cleared (reported either way)."""
        alarm = self.profile.watchdog_alarm
        assert alarm is not None
        spec = self.profile.register(alarm)
        error: ModbusError | None = None
        try:
            await self.connection.write_coil(self.unit_id, spec.address, True, self.policy)
        except ModbusError as err:
            error = err
        if self.on_watchdog_alarm is not None:
            self.on_watchdog_alarm(WatchdogAlarm(output, error))
        return error is None

    async def _watchdog_alarm_set(self, alarm: str) -> bool:
        spec = self.profile.register(alarm)
        return bool((await self.read_raw(spec.table, spec.address, 1))[0])

    async def identify(self) -> dict[str, Value]:
        """Read the identifying registers and check they look like this kind of device."""
        specs = [self.profile.register(key) for key in self.profile.identify_keys]
        try:
            values = await self._read_plan(self._plan(specs))
        except ModbusExceptionError as err:
            if err.code in (_ILLEGAL_FUNCTION, _ILLEGAL_ADDRESS):
                raise ModbusWrongDeviceError(self.profile.model, str(err)) from err
            raise
        for spec in specs:
            value = values[spec.key]
            if spec.options and value is None:
                raise ModbusWrongDeviceError(self.profile.model, f"{spec.key} has no known value")
            if spec.plausible is not None and not (
                isinstance(value, int | float) and spec.plausible[0] <= value <= spec.plausible[1]
            ):
                raise ModbusWrongDeviceError(
                    self.profile.model, f"{spec.key} = {value} is implausible"
                )
        return values

    async def _read_plan(self, plan: list[ReadBlock], *, held: bool = False) -> dict[str, Value]:
        values: dict[str, Value] = {}
        unknown: dict[str, int] = {}
        index = 0
        while index < len(plan):
            block = plan[index]
            try:
                data = await self.read_raw(block.table, block.address, block.count, held=held)
            except ModbusExceptionError as err:
                halves = split_block(block) if err.code == _ILLEGAL_ADDRESS else None
                if halves is None:
                    raise
                _LOGGER.debug(
                    "Unit %s refuses %s %s+%s, reading it in two parts",
                    self.unit_id,
                    block.table,
                    block.address,
                    block.count,
                )
                plan[index : index + 1] = halves
                continue
            key = (block.table, block.address, block.count)
            cached = self._decoded.get(key)
            if cached is None or cached[0] != data:
                cached = self._decoded[key] = (
                    data,
                    extract(block, data),
                    unknown_codes(block, data),
                )
            values.update(cached[1])
            unknown.update(cached[2])
            index += 1
        self.unknown_codes = unknown
        return values

    async def read_raw(
        self, table: Table, address: int, count: int, *, held: bool = False
    ) -> list[int] | list[bool]:
        """Read any span of a table, profile register or not (commissioning).

        ``held``: the caller holds the connection's line (``ModbusHostConnection.acquire``).
        """
        policy = self._request_policy
        if table.is_bits:
            return await self.connection.read_bits(
                self.unit_id, table, address, count, policy, held=held
            )
        return await self.connection.read_registers(
            self.unit_id, table, address, count, policy, held=held
        )

    async def write_raw(self, table: Table, address: int, values: Sequence[int]) -> None:
        """Write raw words to holding registers, or one coil (commissioning)."""
        if table is Table.COIL:
            if len(values) != 1:
                raise ModbusValueError(list(values))
            await self.connection.write_coil(self.unit_id, address, bool(values[0]), self.policy)
        elif table is Table.HOLDING_REGISTER:
            await self.connection.write_registers(self.unit_id, address, values, self.policy)
        else:
            raise ModbusValueError(table.value)

    async def write(self, key: str, value: Value) -> Value:
        """Write a profile register's engineering value; verified when the profile says so.

        A verified write that reads back different is written again (``policy.retries`` times)
        before ``ModbusReadbackError`` is raised. Returns the value as the device now reports it
        (rounded to the register's resolution).
        """
        spec = self.profile.register(key)
        if not spec.writable:
            raise ModbusValueError(value)
        if spec.data_type is DataType.BOOL:
            if not isinstance(value, bool):
                raise ModbusValueError(value)
            expected: list[int] | list[bool] = [value]
        else:
            if isinstance(value, int | float) and not isinstance(value, bool):
                low, high = value_range(spec, self.values)
                if not low <= value <= high:
                    raise ModbusValueError(value)
            expected = encode(spec, value)
        attempt = 0
        while True:
            await self._write_unlocked(spec, [int(item) for item in expected])
            if not spec.verify_write:
                break
            read_back = await self.read_raw(spec.table, spec.address, spec.width)
            if list(read_back) == list(expected):
                break
            if attempt >= self.policy.retries:
                raise ModbusReadbackError(key, value, extract_one(spec, read_back))
            _LOGGER.debug("%s read back %s after writing %s, writing again", key, read_back, value)
            await asyncio.sleep(self.policy.delay(attempt))
            attempt += 1
        written = extract_one(spec, expected)
        self.values[key] = written
        return written

    async def _write_unlocked(self, spec: RegisterSpec, words: list[int]) -> None:
        """Write raw words to a register or coil.

        An output refused (0x04) because the watchdog alarm is set is written again at once,
        after clearing the alarm.
        """
        try:
            await self.write_raw(spec.table, spec.address, words)
        except ModbusExceptionError as err:
            alarm = self.profile.watchdog_alarm
            if (
                err.code != _DEVICE_FAILURE
                or alarm is None
                or spec.table is not Table.COIL
                or not await self._watchdog_alarm_set(alarm)
                or not await self._clear_watchdog(spec.key)
            ):
                raise
            await self.write_raw(spec.table, spec.address, words)


def unknown_codes(block: ReadBlock, data: Sequence[int] | Sequence[bool]) -> dict[str, int]:
    """The raw codes of a block's enumerations that are outside their code map."""
    codes: dict[str, int] = {}
    for spec in block.registers:
        if spec.options:
            offset = spec.address - block.address
            raw = int(
                words_to_number(
                    spec.data_type,
                    spec.word_order,
                    [int(word) for word in data[offset : offset + spec.width]],
                )
            )
            if spec.option_for(raw) is None:
                codes[spec.key] = raw
    return codes


def extract_one(spec: RegisterSpec, data: Sequence[int] | Sequence[bool]) -> Value:
    """The value of one register from the data read at its own address."""
    return extract(ReadBlock(spec.table, spec.address, spec.width, (spec,)), data)[spec.key]
