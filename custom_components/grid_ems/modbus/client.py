"""Typed Modbus TCP client over pymodbus: one serialized connection per host, devices on top.

``ModbusHostConnection`` owns one TCP connection to a host:port and runs one transaction at a time
on it, so many unit ids behind one gateway share it safely. It reconnects by itself, retries with
backoff, and turns pymodbus' results into typed values or ``ModbusError``s.

``ModbusDevice`` binds a connection, a unit id and a profile: it polls the profile's registers in
as few reads as the device allows, writes values (verified by reading back where the profile asks)
and identifies the device kind.

pymodbus 3.8.3 (HA 2025.4) to 3.13.x (HA 2026.11) are supported; ``_call`` is the one place that
knows the ``slave=`` -> ``device_id=`` rename of pymodbus 3.10.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.client.mixin import ModbusClientMixin
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ExceptionResponse, ModbusPDU

from .codec import ReadBlock, Value, encode, extract, plan_reads, split_block
from .errors import (
    ModbusConnectionError,
    ModbusExceptionError,
    ModbusInvalidResponseError,
    ModbusReadbackError,
    ModbusTimeoutError,
    ModbusValueError,
    ModbusWrongDeviceError,
)
from .profile import DataType, DeviceProfile, RegisterSpec, Table

_LOGGER = logging.getLogger(__name__)

# Our own deadline (RetryPolicy.timeout) ends every request; pymodbus' only backs it up.
_PYMODBUS_TIMEOUT: Final = 60.0
# pymodbus' connect() (3.8 to 3.13) pauses this long after connecting; not the device's time.
_PYMODBUS_CONNECT_PAUSE: Final = 0.1
_DEVICE_BUSY: Final = 0x06
_ILLEGAL_FUNCTION: Final = 0x01
_ILLEGAL_ADDRESS: Final = 0x02
_UNIT_KEYWORD: Final = (
    "device_id"
    if "device_id" in inspect.signature(ModbusClientMixin.read_coils).parameters
    else "slave"
)

type Request = Callable[..., Awaitable[ModbusPDU]]


async def _call(method: Request, unit_id: int, *args: object, **kwargs: object) -> ModbusPDU:
    """Call a pymodbus request method for a unit id, under either name of its keyword."""
    return await method(*args, **kwargs, **{_UNIT_KEYWORD: unit_id})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How long to wait for an answer and how often to try again.

    A request that times out or loses its connection is retried ``retries`` times, after
    ``backoff``, then twice that, and so on up to ``backoff_max`` seconds (the seed's retry logic,
    scaled to a one-second poll). A device-busy exception (0x06) is retried the same way; other
    exceptions are answers and are not.
    """

    timeout: float = 2.0
    retries: int = 2
    backoff: float = 0.1
    backoff_max: float = 2.0

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt + 1``."""
        return float(min(self.backoff * 2**attempt, self.backoff_max))


class ModbusHostConnection:
    """One TCP connection to a Modbus host, one transaction at a time.

    After a timeout the connection is closed and reopened on the next request, so a late answer
    can never be taken for the answer to the next request (pymodbus 3.8 does not match
    transaction ids).
    """

    def __init__(self, host: str, port: int) -> None:
        """Prepare the connection; it opens on the first request."""
        self.host = host
        self.port = port
        self._client = AsyncModbusTcpClient(
            host,
            port=port,
            name=f"grid_ems {host}:{port}",
            timeout=_PYMODBUS_TIMEOUT,
            retries=0,
            reconnect_delay=0,
        )
        self._lock = asyncio.Lock()
        self.requests: Counter[int] = Counter()
        self.connects = 0
        self.failures = 0

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is open."""
        return bool(self._client.connected)

    async def read_registers(
        self, unit_id: int, table: Table, address: int, count: int, policy: RetryPolicy
    ) -> list[int]:
        """Read ``count`` holding or input registers."""
        method = (
            self._client.read_holding_registers
            if table is Table.HOLDING_REGISTER
            else self._client.read_input_registers
        )
        response = await self._transact(
            unit_id, table.read_function_code, address, policy, method, address, count=count
        )
        if len(response.registers) != count:
            raise ModbusInvalidResponseError(
                f"asked {count} registers at {address}, got {len(response.registers)}"
            )
        return list(response.registers)

    async def read_bits(
        self, unit_id: int, table: Table, address: int, count: int, policy: RetryPolicy
    ) -> list[bool]:
        """Read ``count`` coils or discrete inputs."""
        method = (
            self._client.read_coils if table is Table.COIL else self._client.read_discrete_inputs
        )
        response = await self._transact(
            unit_id, table.read_function_code, address, policy, method, address, count=count
        )
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
            unit_id, 0x05, address, policy, self._client.write_coil, address, value
        )

    async def write_registers(
        self, unit_id: int, address: int, words: Sequence[int], policy: RetryPolicy
    ) -> None:
        """Write registers: one word with function 0x06, several with 0x10."""
        if len(words) == 1:
            await self._transact(
                unit_id, 0x06, address, policy, self._client.write_register, address, words[0]
            )
        else:
            await self._transact(
                unit_id, 0x10, address, policy, self._client.write_registers, address, list(words)
            )

    def close(self) -> None:
        """Close the TCP connection (a later request opens it again)."""
        self._client.close()

    async def _transact(
        self,
        unit_id: int,
        function_code: int,
        address: int,
        policy: RetryPolicy,
        method: Request,
        *args: object,
        **kwargs: object,
    ) -> ModbusPDU:
        """Run one request with retries; the lock is released while backing off."""
        attempt = 0
        while True:
            try:
                async with self._lock:
                    await self._connect(policy)
                    return await self._once(
                        unit_id, function_code, address, policy, method, *args, **kwargs
                    )
            except (ModbusConnectionError, ModbusTimeoutError) as err:
                self.failures += 1
                if attempt >= policy.retries:
                    raise
                _LOGGER.debug("%s, retrying", err)
            except ModbusExceptionError as err:
                self.failures += 1
                if err.code != _DEVICE_BUSY or attempt >= policy.retries:
                    raise
            await asyncio.sleep(policy.delay(attempt))
            attempt += 1

    async def _connect(self, policy: RetryPolicy) -> None:
        if self._client.connected:
            return
        try:
            async with asyncio.timeout(policy.timeout + _PYMODBUS_CONNECT_PAUSE):
                connected = await self._client.connect()
        except TimeoutError as err:
            self._client.close()
            raise ModbusConnectionError(self.host, self.port, "timed out") from err
        if not connected:
            self._client.close()
            raise ModbusConnectionError(self.host, self.port, "refused or unreachable")
        self.connects += 1

    async def _once(
        self,
        unit_id: int,
        function_code: int,
        address: int,
        policy: RetryPolicy,
        method: Request,
        *args: object,
        **kwargs: object,
    ) -> ModbusPDU:
        self.requests[function_code] += 1
        deadline = asyncio.timeout(policy.timeout)
        try:
            async with deadline:
                response = await _call(method, unit_id, *args, **kwargs)
        except asyncio.CancelledError:
            # Abandoned mid-way (an unload, a cancelled write): pymodbus 3.8 would hand the late
            # answer to a cancelled future and fail the connection from inside its protocol.
            self._client.close()
            raise
        except (TimeoutError, ModbusIOException, ConnectionException) as err:
            self._client.close()
            task = asyncio.current_task()
            if task is not None and task.cancelling() and not deadline.expired():
                # pymodbus >= 3.10 turns a cancellation into ModbusIOException: restore it.
                raise asyncio.CancelledError from err
            if deadline.expired():
                raise ModbusTimeoutError(self.host, self.port, unit_id, policy.timeout) from err
            if isinstance(err, ConnectionException):
                raise ModbusConnectionError(self.host, self.port, str(err)) from err
            raise ModbusInvalidResponseError(str(err)) from err
        if response.isError():
            code = response.exception_code if isinstance(response, ExceptionResponse) else 0
            raise ModbusExceptionError(code, function_code, address)
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


class ModbusDevice:
    """A device of a known kind at a unit id on a host connection."""

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

    def _plan(self, registers: Sequence[RegisterSpec]) -> list[ReadBlock]:
        return list(
            plan_reads(
                registers,
                max_registers=self.profile.max_read_registers,
                max_bits=self.profile.max_read_bits,
                max_gap=self.profile.max_gap,
            )
        )

    async def poll(self) -> dict[str, Value]:
        """Read every profile register; blocks the device refuses are split and stay split."""
        self.values = await self._read_plan(self.plan)
        return self.values

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

    async def _read_plan(self, plan: list[ReadBlock]) -> dict[str, Value]:
        values: dict[str, Value] = {}
        index = 0
        while index < len(plan):
            block = plan[index]
            try:
                data = await self.read_raw(block.table, block.address, block.count)
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
            values.update(extract(block, data))
            index += 1
        return values

    async def read_raw(self, table: Table, address: int, count: int) -> list[int] | list[bool]:
        """Read any span of a table, profile register or not (commissioning)."""
        if table.is_bits:
            return await self.connection.read_bits(self.unit_id, table, address, count, self.policy)
        return await self.connection.read_registers(
            self.unit_id, table, address, count, self.policy
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
            await self.write_raw(spec.table, spec.address, [int(item) for item in expected])
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


def extract_one(spec: RegisterSpec, data: Sequence[int] | Sequence[bool]) -> Value:
    """The value of one register from the data read at its own address."""
    return extract(ReadBlock(spec.table, spec.address, spec.width, (spec,)), data)[spec.key]
