"""The Modbus simulators behave like their devices, on the wire and from the command line."""

from __future__ import annotations

import asyncio
import signal
import struct
import sys
from pathlib import Path

import pytest

from custom_components.grid_ems.modbus.errors import ModbusExceptionError, ModbusTimeoutError
from custom_components.grid_ems.modbus.profile import Table
from custom_components.grid_ems.modbus.profiles import PROFILES
from simulators.__main__ import main
from simulators.modbus import (
    DEMO_PORTS,
    AcuvimModel,
    Faults,
    MoxaE1212,
    MoxaE1214,
    MoxaModel,
    PowerPackModel,
    apply_command,
    demo_site,
    int16_word,
    start_demo,
)

from .conftest import Connect, FakeClock, StartSimulator

REPO = Path(__file__).parents[2]
BESS = PROFILES["powerpack_bess"]
E1214 = PROFILES["moxa_e1214"]


async def test_powerpack_state_of_energy_follows_target_power(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """Discharging 100 kW from a 200 kWh pack for six minutes takes 5 % off, charging adds it."""
    model = PowerPackModel(capacity_kwh=200.0, state_of_energy=50.0, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)
    await device.write("command_source", "remote")
    await device.write("target_power", 100)

    clock.advance(360)
    discharged = await device.poll()
    await device.write("target_power", -100)
    clock.advance(720)
    charged = await device.poll()

    assert (discharged["state_of_energy"], discharged["status"]) == (45, "running")
    assert discharged["active_power"] == 100
    assert (charged["state_of_energy"], charged["active_power"]) == (55, -100)


async def test_powerpack_only_follows_while_remote_and_within_limits(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """Locally controlled it idles; empty it stops discharging; a fault shows in the status."""
    model = PowerPackModel(state_of_energy=0.5, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, BESS)
    await device.write("target_power", 100)

    clock.advance(3600)
    local = await device.poll()
    await device.write("command_source", "remote")
    clock.advance(3600)
    emptied = await device.poll()
    clock.advance(60)
    empty = await device.poll()
    model.fault = True
    faulted = await device.poll()

    assert (local["status"], local["active_power"], local["state_of_energy"]) == ("ready", 0, 0)
    assert emptied["state_of_energy"] == 0
    assert (empty["active_power"], empty["status"]) == (0, "ready")
    assert faulted["status"] == "fault"


async def test_acuvim_live_energy_integrates_power(clock: FakeClock) -> None:
    """The demo meter counts imported and exported energy from its total power."""
    model = AcuvimModel(live=True, clock=clock)
    model.readings["psum"] = 10_000.0
    start_import = model.energy_import_kwh
    clock.advance(360)
    model.update(clock())
    assert model.energy_import_kwh == pytest.approx(start_import + 1.0)

    model.readings["psum"] = -5_000.0
    start_export = model.energy_export_kwh
    clock.advance(360)
    model.update(clock())
    assert model.energy_export_kwh == pytest.approx(start_export + 0.5)
    assert model.readings["psum"] > 0  # the load moved on


async def test_moxa_watchdog_applies_the_safe_state(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """After the watchdog timeout without a request, outputs take their safe state."""
    model = MoxaE1214(watchdog_timeout=5.0, safe_state={0: False, 1: True}, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)
    await device.write("relay_0", True)

    clock.advance(4)
    fed = await device.poll()
    clock.advance(6)
    tripped = await device.poll()

    assert (fed["relay_0"], fed["relay_1"]) == (True, False)
    assert (tripped["relay_0"], tripped["relay_1"]) == (False, True)


async def test_moxa_watchdog_alarm_locks_the_outputs_until_cleared(
    start_simulator: StartSimulator, connect: Connect, clock: FakeClock
) -> None:
    """Once tripped, coil 0x1030 reads 1 and output writes get 0x04 until 1 is written to it."""
    model = MoxaE1214(watchdog_timeout=5.0, safe_state={0: False}, clock=clock)
    simulator = await start_simulator({1: model})
    device = connect(simulator, E1214)
    assert await device.read_raw(Table.COIL, 0x1030, 1) == [False]

    clock.advance(6)
    alarm = await device.read_raw(Table.COIL, 0x1030, 1)
    with pytest.raises(ModbusExceptionError) as refused:
        await device.write_raw(Table.COIL, 0, [1])
    await device.write_raw(Table.COIL, 0x1030, [1])
    await device.write_raw(Table.COIL, 0, [1])

    assert alarm == [True]
    assert refused.value.code == 0x04
    assert not model.watchdog_tripped
    assert model.coils[0] is True


async def test_moxa_feedback_inputs_mirror_the_relays(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """In the demo wiring each input reads its relay's auxiliary contact."""
    simulator = await start_simulator({1: MoxaE1214(feedback=True)})
    device = connect(simulator, E1214)
    await device.write("relay_2", True)
    values = await device.poll()
    assert [values[f"input_{n}"] for n in range(6)] == [False, False, True, False, False, False]


async def test_e1212_profile_matches_its_simulator(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """The E1212 has eight outputs and sixteen inputs."""
    model = MoxaE1212()
    model.discrete_inputs[15] = True
    simulator = await start_simulator({1: model})
    device = connect(simulator, PROFILES["moxa_e1212"])
    assert await device.identify()
    values = await device.poll()
    assert values["input_15"] is True
    assert len(values) == 25  # and the watchdog alarm


async def _raw_request(port: int, frame: bytes) -> bytes:
    """Send one frame and return the raw answer (empty when the server closes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(frame)
        await writer.drain()
        header = await reader.read(7)
        if not header:
            return b""
        length = struct.unpack(">H", header[4:6])[0]
        return header + await reader.readexactly(length - 1)
    finally:
        writer.close()


def _frame(unit_id: int, pdu: bytes, protocol: int = 0) -> bytes:
    return struct.pack(">HHHB", 0x1234, protocol, len(pdu) + 1, unit_id) + pdu


@pytest.mark.parametrize(
    ("pdu", "reply"),
    [
        (bytes((0x2B, 0x0E, 0x01, 0x00)), bytes((0xAB, 0x01))),  # unsupported function
        (bytes((0x03, 0x07, 0xD0, 0x00, 0x00)), bytes((0x83, 0x03))),  # zero registers
        (bytes((0x01, 0x00, 0x00, 0x07, 0xD1)), bytes((0x81, 0x03))),  # 2001 bits
        (bytes((0x05, 0x00, 0x00, 0x12, 0x34)), bytes((0x85, 0x03))),  # coil value not ON/OFF
        (bytes((0x06, 0x07, 0xD0, 0x00, 0x01)), bytes((0x86, 0x02))),  # read-only status
        (bytes((0x06, 0x07, 0xDA, 0x00, 0x05)), bytes((0x86, 0x03))),  # command source 5
        (bytes((0x06, 0x07)), bytes((0x86, 0x03))),  # truncated request
        (bytes((0x04, 0x00, 0x00, 0x00, 0x01)), bytes((0x84, 0x02))),  # no input registers
    ],
)
async def test_protocol_errors_are_answered_like_a_device(
    start_simulator: StartSimulator, pdu: bytes, reply: bytes
) -> None:
    """Malformed or impossible requests get the exception a real device would send."""
    simulator = await start_simulator({1: PowerPackModel()})
    answer = await _raw_request(simulator.port, _frame(1, pdu))
    assert answer == _frame(1, reply)


async def test_multiple_coil_and_register_writes(start_simulator: StartSimulator) -> None:
    """FC15 and FC16 write several values and echo address and count."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model, 2: PowerPackModel()})
    coils = bytes((0x0F, 0x00, 0x01, 0x00, 0x03, 0x01, 0b101))
    assert await _raw_request(simulator.port, _frame(1, coils)) == _frame(1, coils[:5])
    assert [model.coils[n] for n in range(5)] == [False, True, False, True, False]
    registers = bytes((0x10, 0x07, 0xD8, 0x00, 0x01, 0x02, 0x00, 0x32))
    assert await _raw_request(simulator.port, _frame(2, registers)) == _frame(2, registers[:5])
    assert [(w.function_code, w.values) for w in simulator.stats.writes] == [
        (0x0F, [True, False, True]),
        (0x10, [50]),
    ]


async def test_bad_framing_closes_the_connection(start_simulator: StartSimulator) -> None:
    """A frame that is not Modbus TCP (protocol id 1) ends the connection."""
    simulator = await start_simulator({1: PowerPackModel()})
    assert await _raw_request(simulator.port, _frame(1, b"\x03\x07\xd0\x00\x01", 1)) == b""


async def test_unknown_unit_without_gateway_answer_is_silent(
    start_simulator: StartSimulator, connect: Connect
) -> None:
    """A device that ignores other unit ids makes the client time out."""
    simulator = await start_simulator({1: PowerPackModel()}, unknown_unit_exception=None)
    with pytest.raises(ModbusTimeoutError):
        await connect(simulator, BESS, unit_id=2).poll()


async def test_control_commands() -> None:
    """The command language sets and clears every fault."""
    simulators = demo_site()
    bess, e1214 = simulators["bess"], simulators["e1214"]
    assert "latency SECONDS" in apply_command(simulators, "help")
    assert apply_command(simulators, "") == ""
    apply_command(simulators, "bess latency 0.25")
    apply_command(simulators, "bess stall on")
    apply_command(simulators, "bess exception 0x04")
    apply_command(simulators, "bess drop on")
    assert bess.faults == Faults(latency=0.25, stall=True, exception_code=4, drop=True)
    apply_command(simulators, "bess exception off")
    assert bess.faults.exception_code is None
    assert "stall=False" in apply_command(simulators, "bess clear")
    assert bess.faults == Faults()
    apply_command(simulators, "e1214 input 3 on")
    assert e1214.units[1].discrete_inputs[3] is True
    assert apply_command(simulators, "e1211 input 3 on") == "e1211 has no input 3"
    assert apply_command(simulators, "bess disconnect").startswith("bess:")
    assert "unknown command" in apply_command(simulators, "pump stall on")
    assert "unknown command" in apply_command(simulators, "bess explode")
    assert "bess: port 5020" in apply_command(simulators, "status")
    assert {name: sim.port for name, sim in simulators.items()} == DEMO_PORTS


async def test_faulty_devices() -> None:
    """A stuck relay takes its writes without switching; a stuck battery ignores its setpoint."""
    simulators = demo_site()
    moxa, bess = simulators["e1214"].units[1], simulators["bess"].units[1]
    assert isinstance(moxa, MoxaModel)
    assert isinstance(bess, PowerPackModel)
    apply_command(simulators, "e1214 stuck 0 on")
    moxa.write_coil(0, True)
    moxa.write_coil(1, True)
    assert (moxa.coils[0], moxa.coils[1]) == (False, True)
    apply_command(simulators, "e1214 stuck 0 off")
    moxa.write_coil(0, True)
    assert moxa.coils[0] is True
    assert apply_command(simulators, "e1214 stuck 9 on") == "e1214 has no relay 9"
    apply_command(simulators, "bess stuck 12")
    bess.write_register(PowerPackModel.COMMAND_SOURCE, 1)
    bess.write_register(PowerPackModel.TARGET_POWER, int16_word(-20))
    assert (bess.target_kw, bess.active_kw) == (-20, 12)
    apply_command(simulators, "bess stuck off")
    assert bess.active_kw == -20
    assert apply_command(simulators, "e1214 stuck 3") == "e1214 is no battery"


async def test_demo_site_on_free_ports(connect: Connect) -> None:
    """The demo's four devices answer as their profiles expect."""
    simulators = await start_demo(ephemeral=True)
    try:
        for name, kind in (
            ("bess", "powerpack_bess"),
            ("meter", "acuvim_ii"),
            ("e1214", "moxa_e1214"),
            ("e1211", "moxa_e1211"),
        ):
            assert await connect(simulators[name], PROFILES[kind]).identify()
    finally:
        for simulator in simulators.values():
            await simulator.stop()


def test_command_line_help(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m simulators modbus --help`` documents the options."""
    with pytest.raises(SystemExit) as exited:
        main(["modbus", "--help"])
    assert exited.value.code == 0
    assert "--control-port" in capsys.readouterr().out


async def test_command_line_run_takes_commands_and_stops_on_sigterm() -> None:
    """The command line runs the demo site, obeys stdin and TCP commands, and exits cleanly."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        "modbus",
        "--ephemeral",
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        lines = [(await asyncio.wait_for(process.stdout.readline(), 30)).decode() for _ in range(5)]
        assert lines[0].startswith("bess: Modbus TCP on 127.0.0.1:")
        control_port = int(lines[4].split(":")[2].split()[0])

        process.stdin.write(b"meter latency 0.5\n")
        answer = await asyncio.wait_for(process.stdout.readline(), 10)
        assert b"latency=0.5" in answer

        reader, writer = await asyncio.open_connection("127.0.0.1", control_port)
        writer.write(b"e1214 stall on\n")
        assert b"stall=True" in await asyncio.wait_for(reader.readline(), 10)
        writer.close()

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
