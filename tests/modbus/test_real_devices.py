"""Devices as their manuals say they behave: strict maps, watchdog locks, gateways, dead units."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.grid_ems.modbus.client import (
    ModbusDevice,
    ModbusHostConnection,
    RetryPolicy,
    WatchdogAlarm,
)
from custom_components.grid_ems.modbus.errors import (
    ModbusConnectionError,
    ModbusExceptionError,
    ModbusTimeoutError,
)
from custom_components.grid_ems.modbus.profiles import PROFILES
from simulators.modbus import MoxaE1214, PowerPackModel

from .conftest import FAST, Connect, FakeClock, StartSimulator

BESS = PROFILES["powerpack_bess"]
E1214 = PROFILES["moxa_e1214"]
OTHER_STATUS_CODES = {"ready": 1, "running": 2, "fault": 3}


@pytest.mark.parametrize(
    ("refuse_gaps", "answer_unmapped"), [(True, False), (False, False), (False, True)]
)
async def test_a_unit_without_the_optional_register_loads_without_it(
    start_simulator: StartSimulator, connect: Connect, refuse_gaps: bool, answer_unmapped: bool
) -> None:
    """No actual power register (2012): strict, lenient inside reads, or answering any address
    with 0, the unit is polled for what it documents, and never shows an invented 0."""
    model = PowerPackModel(active_power_register=False, refuse_gaps=refuse_gaps)
    model.answer_unmapped = answer_unmapped
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)

    await device.probe()
    await device.write("command_source", "remote")
    await device.write("target_power", 120)
    values = await device.poll()

    assert "active_power" not in values
    assert "active_power" not in {spec.key for spec in device.profile.registers}
    assert values["status"] == "running"


async def test_a_unit_with_the_optional_register_polls_it(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A strict unit that has 2012 answers the probe, and its power is shown."""
    simulator = await start_simulator({1: PowerPackModel(refuse_gaps=True)})
    device = connect(simulator, BESS)

    await device.probe()
    await device.write("command_source", "remote")
    await device.write("target_power", 120)

    assert (await device.poll())["active_power"] == 120


async def test_status_codes_come_from_the_installer(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A unit with 1 ready, 2 running, 3 fault: with the installer's map a fault is a fault, and
    a code outside the map is unknown with its raw code, never a named state."""
    model = PowerPackModel(status_codes=OTHER_STATUS_CODES)
    model.fault = True
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS.with_codes({"status": OTHER_STATUS_CODES}))

    faulted = await device.poll()
    model.status_codes["fault"] = 7
    model.update(model.clock())
    odd = await device.poll()

    assert faulted["status"] == "fault"
    assert device.profile.register("status").options == {1: "ready", 2: "running", 3: "fault"}
    assert odd["status"] is None
    assert device.unknown_codes == {"status": 7}


async def test_one_transient_exception_is_tried_again(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A single 0x04, 0x05 or 0x06 answer to a read costs one more request, not the poll."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214)
    for code in (0x04, 0x05, 0x06):
        simulator.faults.exception_code, simulator.faults.exception_count = code, 1
        assert (await device.poll())["relay_0"] is False
    assert simulator.stats.requests[0x01] == 3 * 2 + 3


@pytest.mark.parametrize("where", ["drop_before_write", "drop_after_write"])
async def test_a_dropped_connection_fails_at_once_and_the_write_is_retried(
    start_simulator: StartSimulator, connect: Connect, where: str
) -> None:
    """The device closes the connection around a write: the write fails at once (not at its
    30 s timeout), and with a retry it is carried out and read back."""
    simulator = await start_simulator({1: MoxaE1214()})
    patient = RetryPolicy(timeout=30, retries=0)
    device = connect(simulator, E1214, policy=patient)
    setattr(simulator.faults, where, 1)
    with pytest.raises(ModbusConnectionError):
        await device.write("relay_0", True)

    setattr(simulator.faults, where, 1)
    retrying = connect(
        simulator, E1214, policy=RetryPolicy(timeout=30, retries=1), connection=device.connection
    )
    assert await retrying.write("relay_0", True) is True
    assert simulator.units[1].coils[0] is True


async def test_silent_units_behind_a_gateway_do_not_hold_the_live_one(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Two dead units behind the gateway: their timeouts keep the shared connection open and are
    not retried (the live unit answers on it), and the live unit answers throughout."""
    simulator = await start_simulator({1: MoxaE1214()}, silent_units=frozenset({2, 3}))
    live = connect(simulator, E1214)
    dead = [connect(simulator, E1214, unit, connection=live.connection) for unit in (2, 3)]

    async def poll_dead(device: ModbusDevice) -> None:
        for _ in range(2):
            with pytest.raises(ModbusTimeoutError):
                await device.poll()

    async def poll_live() -> int:
        polls = 0
        while not all(device.failed_polls == 2 for device in dead):
            await live.poll()
            polls += 1
            await asyncio.sleep(0)
        return polls

    live_polls = asyncio.create_task(poll_live())
    await asyncio.gather(*(poll_dead(device) for device in dead))

    assert await live_polls >= 1
    assert live.connection.connects == 1
    assert simulator.stats.connections == 1
    for unit in (2, 3):
        # The live unit answers on the connection: a dead unit's timeout is never retried.
        assert simulator.stats.requests_by_unit[(unit, 0x01)] == 2


async def test_watchdog_alarm_found_by_a_poll_is_cleared(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """After a silence the module's alarm is set: the next poll reads it with the outputs and
    clears it, and says so."""
    model = MoxaE1214(watchdog_timeout=5.0, safe_state={0: False}, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)
    alarms: list[WatchdogAlarm] = []
    device.on_watchdog_alarm = alarms.append
    await device.write("relay_0", True)

    clock.advance(6)
    values = await device.poll()

    assert alarms == [WatchdogAlarm(None, None)]
    assert (values["relay_0"], values["watchdog_alarm"]) == (False, False)
    assert not model.watchdog_tripped
    assert await device.write("relay_0", True) is True


async def test_output_write_refused_by_the_watchdog_clears_it_and_is_retried(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """A write refused with 0x04 while the alarm is set clears it and is written again at once;
    a 0x04 without the alarm is just an error."""
    model = MoxaE1214(watchdog_timeout=5.0, safe_state={0: False}, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)
    alarms: list[WatchdogAlarm] = []
    device.on_watchdog_alarm = alarms.append

    clock.advance(6)
    written = await device.write("relay_1", True)

    assert written is True
    assert model.coils[1] is True
    assert alarms == [WatchdogAlarm("relay_1", None)]
    assert [write.address for write in simulator.stats.writes] == [1, 0x1030, 1]

    simulator.faults.exception_code, simulator.faults.exception_count = 0x04, 1
    with pytest.raises(ModbusExceptionError) as failed:
        await device.write("relay_2", True)
    assert failed.value.code == 0x04
    assert len(alarms) == 1


async def test_a_probe_that_fails_for_another_reason_is_an_error(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """Only a refusal (0x01/0x02) says a register is absent; a failure leaves it undecided."""
    simulator = await start_simulator({1: PowerPackModel()})
    simulator.faults.exception_code = 0x04
    device = connect(simulator, BESS)
    with pytest.raises(ModbusExceptionError):
        await device.probe()
    assert "active_power" in {spec.key for spec in device.profile.registers}


async def test_a_one_client_gateway_closes_a_second_connection(
    start_simulator: StartSimulator,
) -> None:
    """The simulated one-client gateway: a second connection is closed while the first runs."""
    simulator = await start_simulator({1: PowerPackModel()}, max_clients=1)
    first = ModbusHostConnection(simulator.host, simulator.port)
    second = ModbusHostConnection(simulator.host, simulator.port)
    try:
        await ModbusDevice(first, BESS, 1, FAST).poll()
        with pytest.raises(ModbusConnectionError):
            await ModbusDevice(second, BESS, 1, FAST).poll()
    finally:
        first.close()
        second.close()
    assert simulator.stats.refused_connections >= 1


async def test_answering_units_go_before_failing_ones(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A failing unit's request queued first still lets a unit that answers go ahead of it: the
    live poll ends while the dead unit's (30 s timeout) request has not."""
    simulator = await start_simulator({1: MoxaE1214()}, silent_units=frozenset({2}))
    live = connect(simulator, E1214)
    dead = connect(simulator, E1214, 2, policy=RetryPolicy(timeout=30), connection=live.connection)
    dead.failed_polls = 1
    connection = live.connection
    await connection.acquire()
    dead_poll = asyncio.create_task(dead.poll())
    live_poll = asyncio.create_task(live.poll())
    await asyncio.sleep(0)  # both are queued now

    connection.release()
    async with asyncio.timeout(10):
        values = await live_poll

    assert values["relay_0"] is False
    assert not dead_poll.done()
    dead_poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dead_poll


@pytest.mark.parametrize("handed", [False, True])
async def test_a_cancelled_wait_for_the_line_leaves_it_free(
    start_simulator: StartSimulator, connect: Connect, handed: bool
) -> None:
    """A poll cancelled while it waits for the line (or just as it is handed the line) does not
    keep it: the next poll goes through."""
    simulator = await start_simulator({1: MoxaE1214()})
    device = connect(simulator, E1214)
    connection = device.connection
    await connection.acquire()
    waiting = asyncio.create_task(device.poll())
    await asyncio.sleep(0)  # queued now
    if handed:
        connection.release()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    if not handed:
        connection.release()

    async with asyncio.timeout(10):
        assert (await device.poll())["relay_0"] is False


async def test_a_failing_unit_waiting_for_its_answer_does_not_hold_the_live_one(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """While a unit that stopped answering waits out its (long) timeout, the live unit behind
    the same gateway is polled as usual on the same connection."""
    simulator = await start_simulator({1: MoxaE1214()}, silent_units=frozenset({2}))
    live = connect(simulator, E1214)
    dead = connect(simulator, E1214, 2, policy=RetryPolicy(timeout=30), connection=live.connection)
    dead.failed_polls = 1
    dead_poll = asyncio.create_task(dead.poll())
    await simulator.wait_for_requests(1)  # the dead unit's request is out

    async with asyncio.timeout(10):
        for _ in range(5):
            assert (await live.poll())["relay_0"] is False

    assert not dead_poll.done()
    assert live.connection.connects == 1
    dead_poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dead_poll


async def test_a_late_answer_is_recognised_and_the_connection_kept(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """An answer that comes after its request timed out is not taken for the next request's
    answer, and does not cost the connection."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214, policy=RetryPolicy(timeout=0.2, retries=0))
    simulator.faults.latency = 0.5
    with pytest.raises(ModbusTimeoutError):
        await device.poll()
    simulator.faults.latency = 0.0
    model.coils[0] = True

    patient = connect(simulator, E1214, policy=RetryPolicy(timeout=5), connection=device.connection)
    values = await patient.poll()  # the late answer (relay 0 off) arrives first

    assert values["relay_0"] is True
    assert device.connection.late_answers == 1
    assert device.connection.connects == 1
    assert simulator.stats.connections == 1
