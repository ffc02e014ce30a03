"""The client against the simulators as real TCP servers: reads, writes, faults, sharing."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from custom_components.grid_ems.modbus.client import (
    ConnectionPool,
    ModbusHostConnection,
    RetryPolicy,
)
from custom_components.grid_ems.modbus.errors import (
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionError,
    ModbusInvalidResponseError,
    ModbusReadbackError,
    ModbusTimeoutError,
    ModbusValueError,
    ModbusWrongDeviceError,
)
from custom_components.grid_ems.modbus.profile import DataType, DeviceProfile, RegisterSpec, Table
from custom_components.grid_ems.modbus.profiles import PROFILES
from simulators.modbus import (
    ACUVIM_FLOATS,
    AcuvimModel,
    DeviceModel,
    MoxaE1211,
    MoxaE1214,
    PowerPackModel,
)

from .conftest import FAST, Connect, FakeClock, StartSimulator

BESS = PROFILES["powerpack_bess"]
METER = PROFILES["acuvim_ii"]
E1214 = PROFILES["moxa_e1214"]
E1211 = PROFILES["moxa_e1211"]

# The profile's keys against the simulator's names for the same Acuvim II registers.
METER_KEYS = {
    "frequency": "frequency",
    "voltage_l1": "v1",
    "voltage_l2": "v2",
    "voltage_l3": "v3",
    "voltage_l1_l2": "v12",
    "voltage_l2_l3": "v23",
    "voltage_l3_l1": "v31",
    "current_l1": "i1",
    "current_l2": "i2",
    "current_l3": "i3",
    "current_neutral": "i_neutral",
    "power_l1": "pa",
    "power_l2": "pb",
    "power_l3": "pc",
    "power": "psum",
    "reactive_power_l1": "qa",
    "reactive_power_l2": "qb",
    "reactive_power_l3": "qc",
    "reactive_power": "qsum",
    "apparent_power_l1": "sa",
    "apparent_power_l2": "sb",
    "apparent_power_l3": "sc",
    "apparent_power": "ssum",
    "power_factor_l1": "pfa",
    "power_factor_l2": "pfb",
    "power_factor_l3": "pfc",
    "power_factor": "pfsum",
}


async def test_bess_poll_reads_every_register_in_one_request(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """Status, target, source, power, state of energy and blocks come from one FC03 read."""
    model = PowerPackModel(blocks=3, state_of_energy=42.0, clock=clock)
    model.remote, model.target_kw = True, -100
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)

    values = await device.poll()

    assert values == {
        "status": "running",
        "target_power": -100,
        "command_source": "remote",
        "active_power": -100,
        "state_of_energy": 42,
        "available_blocks": 3,
    }
    assert simulator.stats.requests == {0x03: 1}
    assert len(device.plan) == 1


async def test_meter_poll_decodes_floats_high_word_first(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Every Acuvim II value arrives at its key, with energy scaled from 0.1 kWh."""
    model = AcuvimModel()
    for index, name in enumerate(ACUVIM_FLOATS):
        model.readings[name] = -1000.0 + 37.0 * index  # distinct, exact at every resolution
    model.energy_import_kwh, model.energy_export_kwh = 98765.4, 321.0
    model.update(model.clock())
    simulator = await start_simulator({1: model})

    values = await connect(simulator, METER).poll()

    assert {key: values[key] for key in METER_KEYS} == {
        key: model.readings[name] for key, name in METER_KEYS.items()
    }
    assert values["energy_import"] == 98765.4
    assert values["energy_export"] == 321.0
    assert simulator.stats.requests == {0x03: 1}


async def test_moxa_poll_reads_relays_and_inputs(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Relays come from FC01 and digital inputs from FC02, one request each."""
    model = MoxaE1214()
    model.coils.update({0: True, 2: True, 5: True})
    model.discrete_inputs.update({1: True, 4: True})
    simulator = await start_simulator({1: model})

    values = await connect(simulator, E1214).poll()

    assert [values[f"relay_{n}"] for n in range(6)] == [True, False, True, False, False, True]
    assert [values[f"input_{n}"] for n in range(6)] == [False, True, False, False, True, False]
    # The watchdog alarm (coil 0x1030) is read with the outputs, in a request of its own.
    assert simulator.stats.requests == {0x01: 2, 0x02: 1}
    assert values["watchdog_alarm"] is False


async def test_target_power_write_uses_fc06_and_reads_back(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A negative target goes out as its int16 word with FC06 and is verified with FC03."""
    model = PowerPackModel()
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)

    # The value comes back as the device reports it: rounded to the register's resolution.
    assert await device.write("target_power", -100.2) == -100
    assert await device.write("command_source", "remote") == "remote"

    assert [(w.function_code, w.address, w.values) for w in simulator.stats.writes] == [
        (0x06, 2008, [0xFF9C]),
        (0x06, 2010, [1]),
    ]
    assert simulator.stats.requests == {0x06: 2, 0x03: 2}
    assert (model.target_kw, model.remote) == (-100, True)
    assert device.values["target_power"] == -100


async def test_relay_write_uses_fc05_and_reads_the_coil_back(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Switching a relay writes one coil and reads it back."""
    model = MoxaE1211()
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1211)

    await device.write("output_9", True)

    assert [(w.function_code, w.address, w.values) for w in simulator.stats.writes] == [
        (0x05, 9, [True])
    ]
    assert simulator.stats.requests == {0x05: 1, 0x01: 1}
    assert model.coils[9] is True


async def test_relay_mismatch_is_retried_then_raised(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A coil that does not take the write is written again, and an error ends the retries."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)

    model.ignore_writes = 1
    await device.write("relay_3", True)
    assert model.coils[3] is True
    assert simulator.stats.requests[0x05] == 2

    model.ignore_writes = 10
    with pytest.raises(ModbusReadbackError) as caught:
        await device.write("relay_3", False)
    assert caught.value.translation_key == "modbus_readback_mismatch"
    assert caught.value.placeholders == {"key": "relay_3", "written": "False", "read_back": "True"}
    assert simulator.stats.requests[0x05] == 2 + FAST.retries + 1


async def test_writes_are_validated_before_anything_is_sent(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Out-of-range, read-only and mistyped writes raise without a request."""
    simulator = await start_simulator({1: PowerPackModel(blocks=2)})
    device = connect(simulator, BESS)
    await device.poll()
    simulator.stats.requests.clear()

    for key, value in (
        ("target_power", 150),
        ("status", "ready"),
        ("command_source", "elsewhere"),
        ("target_power", "high"),
    ):
        with pytest.raises(ModbusValueError):
            await device.write(key, value)
    relay = connect(simulator, E1214)
    with pytest.raises(ModbusValueError):
        await relay.write("relay_0", 1)
    assert simulator.stats.total == 0


async def test_device_refusal_of_a_value_is_a_clear_error(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Before the first poll only the static range applies; the device's 0x03 is reported."""
    simulator = await start_simulator({1: PowerPackModel(blocks=2)})
    device = connect(simulator, BESS)

    with pytest.raises(ModbusExceptionError) as caught:
        await device.write("target_power", 200)

    assert caught.value.code == 0x03
    assert caught.value.translation_key == "modbus_exception_illegal_data_value"
    assert caught.value.placeholders == {"code": "0x03", "function": "0x06", "address": "2008"}


class ScratchRegisters(DeviceModel):
    """Ten writable holding registers and two input registers."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = dict.fromkeys(range(10), 0)
        self.input_registers = {0: 7, 1: 8}

    def write_register(self, address: int, value: int) -> None:
        self.holding[address] = value


async def test_raw_access_for_commissioning(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Raw reads of any table and raw writes of one coil or several registers (FC16)."""
    model = MoxaE1214()
    model.discrete_inputs[2] = True
    simulator = await start_simulator({1: model, 2: ScratchRegisters()})
    moxa = connect(simulator, E1214)
    scratch = connect(simulator, BESS, unit_id=2, connection=moxa.connection)

    assert await moxa.read_raw(Table.DISCRETE_INPUT, 0, 3) == [False, False, True]
    await moxa.write_raw(Table.COIL, 1, [1])
    assert model.coils[1] is True
    await scratch.write_raw(Table.HOLDING_REGISTER, 3, [50, 1])
    assert simulator.stats.writes[-1].function_code == 0x10
    assert await scratch.read_raw(Table.HOLDING_REGISTER, 2, 4) == [0, 50, 1, 0]
    assert await scratch.read_raw(Table.INPUT_REGISTER, 0, 2) == [7, 8]
    with pytest.raises(ModbusValueError):
        await moxa.write_raw(Table.COIL, 1, [1, 0])
    with pytest.raises(ModbusValueError):
        await moxa.write_raw(Table.DISCRETE_INPUT, 1, [1])


async def test_refused_gaps_are_split_and_remembered(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A device refusing reads across unmapped registers is read in parts, from then on."""
    model = PowerPackModel(state_of_energy=77.0)
    model.refuse_gaps = True
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)

    first = await device.poll()
    simulator.stats.requests.clear()
    second = await device.poll()

    assert first == second
    assert first["state_of_energy"] == 77
    assert [(block.address, block.count) for block in device.plan] == [
        (2000, 1),
        (2008, 1),
        (2010, 1),
        (2012, 1),
        (2026, 1),
        (2028, 1),
    ]
    assert simulator.stats.requests == {0x03: 6}


async def test_unsplittable_refusal_is_raised(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A refused read of contiguous registers is a real error, not a split."""
    simulator = await start_simulator({1: MoxaE1214()})
    with pytest.raises(ModbusExceptionError) as caught:
        await connect(simulator, E1211).poll()
    assert caught.value.code == 0x02
    assert caught.value.translation_key == "modbus_exception_illegal_data_address"


@pytest.mark.parametrize(
    ("code", "key"),
    [
        (0x01, "modbus_exception_illegal_function"),
        (0x02, "modbus_exception_illegal_data_address"),
        (0x03, "modbus_exception_illegal_data_value"),
        (0x04, "modbus_exception_device_failure"),
        (0x0A, "modbus_exception_gateway_path_unavailable"),
        (0x0B, "modbus_exception_gateway_no_response"),
        (0x09, "modbus_exception_other"),
    ],
)
async def test_exception_replies_become_translated_errors(
    start_simulator: StartSimulator, connect: Connect, code: int, key: str
) -> None:
    """Each exception code has its own message; answers are not retried, but for the transient
    ones (0x04 device failure, 0x05 acknowledge), tried once more."""
    simulator = await start_simulator({1: MoxaE1211()})
    simulator.faults.exception_code = code
    device = connect(simulator, E1211)

    with pytest.raises(ModbusExceptionError) as caught:
        await device.poll()

    assert caught.value.code == code
    assert caught.value.translation_key == key
    assert simulator.stats.total == (2 if code in (0x04, 0x05) else 1)
    simulator.faults.clear()
    assert (await device.poll())["output_0"] is False


async def test_busy_device_is_retried(start_simulator: StartSimulator, connect: Connect) -> None:
    """Exception 0x06 (busy) is retried like a timeout, then raised."""
    simulator = await start_simulator({1: MoxaE1211()})
    simulator.faults.exception_code = 0x06
    with pytest.raises(ModbusExceptionError) as caught:
        await connect(simulator, E1211).poll()
    assert caught.value.translation_key == "modbus_exception_device_busy"
    assert simulator.stats.total == FAST.retries + 1


async def test_latency_within_the_timeout_is_fine(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A slow device that answers in time just answers."""
    simulator = await start_simulator({1: MoxaE1214()})
    simulator.faults.latency = 0.02
    assert (await connect(simulator, E1214).poll())["relay_0"] is False


@pytest.mark.parametrize(
    ("fault", "error", "connections"),
    [
        # A late answer is known by its transaction id: ignored, the connection stays.
        ("latency", ModbusTimeoutError, (1,)),
        # Silent: the connection stays (behind a gateway the other units still answer).
        ("stall", ModbusTimeoutError, (1,)),
        # Dropped: each attempt fails at once and reconnects.
        ("drop", ModbusConnectionError, (FAST.retries + 2,)),
    ],
)
async def test_silent_device_times_out_then_recovers(
    start_simulator: StartSimulator,
    connect: Connect,
    fault: str,
    error: type[ModbusError],
    connections: tuple[int, ...],
) -> None:
    """Too slow, stalled or dropping: an error after the retries, and recovery afterwards.

    The late answers of the slow device, arriving while the next poll waits, are never taken for
    its answers (that would show relay 0's bit as the watchdog alarm).
    """
    model = MoxaE1214()
    model.coils[0] = True
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)
    patient = connect(
        simulator, E1214, policy=RetryPolicy(timeout=30), connection=device.connection
    )
    match fault:
        case "latency":
            simulator.faults.latency = 2.0
        case "stall":
            simulator.faults.stall = True
        case _:
            simulator.faults.drop = True

    with pytest.raises(error):
        await device.poll()
    assert device.connection.requests[0x01] == FAST.retries + 1

    simulator.faults.clear()
    values = await patient.poll()
    assert (values["relay_0"], values["watchdog_alarm"]) == (True, False)
    assert simulator.stats.connections in connections


async def test_dropped_connection_is_reopened(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """When the device closes the connection between polls, the next poll reconnects."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214)
    await device.poll()

    simulator.drop_connections()
    await device.poll()

    assert simulator.stats.connections == 2


async def test_refused_connection(start_simulator: StartSimulator, connect: Connect) -> None:
    """Nothing listening: a connection error naming host and port."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214)
    await simulator.stop()

    with pytest.raises(ModbusConnectionError) as caught:
        await device.poll()

    assert caught.value.translation_key == "modbus_cannot_connect"
    assert caught.value.placeholders == {
        "host": "127.0.0.1",
        "port": str(simulator.port),
        "reason": "refused or unreachable",
    }
    assert device.connection.failures == FAST.retries + 1


async def test_connect_timeout(
    monkeypatch: pytest.MonkeyPatch, start_simulator: StartSimulator, connect: Connect
) -> None:
    """A connection attempt that hangs ends at the timeout as a connection error."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214, policy=RetryPolicy(timeout=0.05, retries=0))
    never = asyncio.Event()

    async def hang(*_args: object, **_kwargs: object) -> None:
        await never.wait()

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", hang)
    with pytest.raises(ModbusConnectionError, match="timed out"):
        await device.poll()


async def test_cancellation_is_not_swallowed(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Cancelling a poll waiting on a stalled device cancels it (pymodbus 3.13 masks this)."""
    simulator = await start_simulator({1: MoxaE1214()})
    simulator.faults.stall = True
    device = connect(simulator, E1214, policy=RetryPolicy(timeout=30, retries=0))
    task = asyncio.create_task(device.poll())
    await asyncio.wait_for(simulator.wait_for_requests(1), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cancelled_request_keeps_the_connection(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A request abandoned while the device is answering leaves the connection open: its
    answer comes late and is ignored, and the next request gets its own."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214)
    await device.poll()
    simulator.faults.latency = 0.2
    task = asyncio.create_task(device.poll())
    await asyncio.wait_for(simulator.wait_for_requests(simulator.stats.total + 1), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    simulator.faults.clear()
    simulator.units[1].coils[0] = True
    assert (await device.poll())["relay_0"] is True
    assert device.connection.late_answers == 1
    assert device.connection.connects == 1


async def test_two_devices_share_one_connection_under_concurrency(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Concurrent polls and writes of two units behind one gateway never overlap on the wire."""
    bess_model, meter_model = PowerPackModel(blocks=5), AcuvimModel()
    simulator = await start_simulator({1: bess_model, 7: meter_model})
    simulator.faults.latency = 0.001
    pool = ConnectionPool()
    connection = pool.acquire(simulator.host, simulator.port)
    assert pool.acquire(simulator.host, simulator.port) is connection
    bess = connect(simulator, BESS, unit_id=1, connection=connection)
    meter = connect(simulator, METER, unit_id=7, connection=connection)

    async def drive_bess() -> None:
        for target in range(-200, 201, 40):
            await bess.write("target_power", target)
            assert (await bess.poll())["target_power"] == target

    async def drive_meter() -> None:
        for _ in range(10):
            assert (await meter.poll())["frequency"] == 50.0

    await asyncio.gather(drive_bess(), drive_meter(), drive_meter())

    assert simulator.stats.connections == 1
    assert simulator.stats.max_busy == 1
    assert simulator.stats.requests_by_unit[(7, 0x03)] == 20
    assert simulator.stats.requests_by_unit[(1, 0x06)] == 11
    pool.release(connection)
    assert connection.connected
    pool.release(connection)
    assert len(pool) == 0
    assert not connection.connected


async def test_identify_accepts_the_right_kind(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Each profile identifies its own simulated device."""
    simulator = await start_simulator(
        {1: PowerPackModel(), 2: AcuvimModel(), 3: MoxaE1214(), 4: MoxaE1211()}
    )
    connection = connect(simulator, BESS).connection
    for unit_id, profile in enumerate((BESS, METER, E1214, E1211), start=1):
        assert await connect(simulator, profile, unit_id, connection=connection).identify()


@pytest.mark.parametrize(
    ("profile_kind", "model_factory"),
    [
        ("acuvim_ii", PowerPackModel),
        ("moxa_e1211", MoxaE1214),
        ("moxa_e1214", MoxaE1211),
        ("powerpack_bess", AcuvimModel),
    ],
)
async def test_identify_refuses_another_kind(
    start_simulator: StartSimulator,
    connect: Connect,
    profile_kind: str,
    model_factory: type[PowerPackModel | MoxaE1214 | MoxaE1211 | AcuvimModel],
) -> None:
    """A device that refuses the profile's registers is the wrong kind."""
    simulator = await start_simulator({1: model_factory()})
    with pytest.raises(ModbusWrongDeviceError) as caught:
        await connect(simulator, PROFILES[profile_kind]).identify()
    assert caught.value.translation_key == "modbus_wrong_device"


async def test_identify_refuses_implausible_values(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Registers that exist but hold values this kind never reports mean a wrong kind."""

    class OddPowerPack(PowerPackModel):
        """Publishes some registers with values no PowerPack reports."""

        odd: dict[int, int]

        def update(self, now: float) -> None:
            super().update(now)
            self.holding.update(self.odd)

    model = OddPowerPack()
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)

    model.odd = {2026: 150}
    with pytest.raises(ModbusWrongDeviceError, match="state_of_energy = 150"):
        await device.identify()
    model.odd = {2000: 99}
    with pytest.raises(ModbusWrongDeviceError, match="status has no known value"):
        await device.identify()
    model.odd = {}
    assert (await device.identify())["status"] == "ready"


async def test_identify_passes_gateway_errors_through(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """No device behind a gateway's unit id is not a wrong kind but a wrong unit id."""
    simulator = await start_simulator({1: PowerPackModel()})
    with pytest.raises(ModbusExceptionError) as caught:
        await connect(simulator, BESS, unit_id=9).identify()
    assert caught.value.code == 0x0B


@pytest.fixture
async def short_reply_server() -> AsyncIterator[int]:
    """A Modbus TCP server that answers every read with one register too few."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(7)
                transaction, _, length, unit_id = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                if pdu[0] in (0x01, 0x02):  # one byte of bits, whatever was asked
                    reply = bytes((pdu[0], 1, 0))
                else:
                    count = struct.unpack(">H", pdu[3:5])[0] - 1
                    reply = bytes((pdu[0], 2 * count)) + bytes(2 * count)
                writer.write(struct.pack(">HHHB", transaction, 0, len(reply) + 1, unit_id) + reply)
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_short_reply_is_an_invalid_response(short_reply_server: int) -> None:
    """A reply with fewer values than asked is refused, not decoded into garbage."""
    connection = ModbusHostConnection("127.0.0.1", short_reply_server)
    try:
        with pytest.raises(ModbusInvalidResponseError) as caught:
            await connection.read_registers(1, Table.INPUT_REGISTER, 0, 2, FAST)
        assert caught.value.translation_key == "modbus_invalid_response"
        with pytest.raises(ModbusInvalidResponseError, match="asked 9 bits"):
            await connection.read_bits(1, Table.DISCRETE_INPUT, 0, 9, FAST)
    finally:
        connection.close()


type Answer = Callable[[bytes], bytes]
type StartOddServer = Callable[[Answer], Awaitable[int]]


@pytest.fixture
async def odd_server() -> AsyncIterator[StartOddServer]:
    """Modbus TCP servers that answer each request's frame with what a function makes of it."""
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    header = await reader.readexactly(7)
                    length = struct.unpack(">H", header[4:6])[0]
                    writer.write(answer(header + await reader.readexactly(length - 1)))
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _answer(request: bytes, *, unit: int | None = None, pdu: bytes, protocol: int = 0) -> bytes:
    """A frame answering ``request`` (its transaction id) with ``pdu``."""
    unit_id = request[6] if unit is None else unit
    return request[:2] + struct.pack(">HHB", protocol, len(pdu) + 1, unit_id) + pdu


def _other_protocol(request: bytes) -> bytes:
    return _answer(request, pdu=bytes.fromhex("0302002a"), protocol=1)


def _other_unit(request: bytes) -> bytes:
    return _answer(request, unit=9, pdu=bytes.fromhex("0302002a"))


def _other_function(request: bytes) -> bytes:
    return _answer(request, pdu=bytes.fromhex("0402002a"))


def _undecodable(request: bytes) -> bytes:
    return _answer(request, pdu=bytes.fromhex("0305002a"))


def _exception_without_code(request: bytes) -> bytes:
    return _answer(request, pdu=bytes.fromhex("83"))


@pytest.mark.parametrize(
    ("answer", "message", "closed"),
    [
        (_other_protocol, "not Modbus TCP", True),
        (_other_unit, "unit 9 answered", False),
        (_other_function, "function 4", False),
        (_undecodable, "cannot decode", False),
        (_exception_without_code, "cannot decode", False),
    ],
)
async def test_answers_that_do_not_fit_are_invalid(
    odd_server: StartOddServer,
    answer: Answer,
    message: str,
    closed: bool,
) -> None:
    """A stream that is not Modbus TCP closes the connection; an answer of another unit or
    function, or one that does not decode, is refused and the connection kept."""
    connection = ModbusHostConnection("127.0.0.1", await odd_server(answer))
    try:
        with pytest.raises(ModbusInvalidResponseError, match=message):
            await connection.read_registers(1, Table.HOLDING_REGISTER, 0, 1, FAST)
        assert connection.connected is not closed
    finally:
        connection.close()


async def test_unverified_write_is_not_read_back(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A profile register without verify_write is written once, without a read."""
    profile = DeviceProfile(
        kind="test",
        manufacturer="Test",
        model="Test",
        poll_interval=1,
        identify_keys=(),
        registers=(
            RegisterSpec(
                key="setpoint",
                table=Table.HOLDING_REGISTER,
                address=2008,
                data_type=DataType.INT16,
                writable=True,
            ),
        ),
    )
    model = PowerPackModel()
    simulator = await start_simulator({1: model})

    assert await connect(simulator, profile).write("setpoint", -20) == -20

    assert simulator.stats.requests == {0x06: 1}
    assert model.target_kw == -20
