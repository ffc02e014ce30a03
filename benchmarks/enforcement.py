"""Benchmark of the enforcement: grid operator command to device, and Home Assistant's CPU time.

* ``setpoint_to_modbus_{median,p99}_ms``: the RTU sends a MAXSETAP set-point (C_SE_NC_1) until
  the BESS simulator receives the Modbus write of the battery's new, capped target power. The
  set-points step down 0.5 % at a time (1 kW of the 200 kW battery), so each one is stricter and
  applies at once; two rounds of 100.
* ``estop_to_relay_{median,p99}_ms``: the RTU sends emergency stop production (C_SC_NA_1) until
  the Moxa E1214 simulator receives the write that sets the "Injection" relay's coil; 200 stops,
  each released (and the coil cleared) before the next.
* ``ha_cpu_ms_per_s``: CPU time of the Home Assistant process per second, over 20 s of the demo
  site running without commands (P1 telegrams every second, five Modbus devices polled every
  second, the link, the enforcement loop, the recorder and the rest of the demo configuration).
* ``enforcement_step_median_ms``: one controller step in Home Assistant (inputs read from the
  states, the controller, the ledger), the enforcement's own share of every command's latency.
* ``machine_cpu_steal_pct``: on a virtual machine, the share of CPU time its host gave to others
  while the commands ran (Linux only); stalls it causes show in every process's p99
  (``benchmarks/machine.py`` measures them on their own).

Home Assistant runs in this process with a temporary copy of the demo's configuration and the
demo site's entries, added through the same flows as ``scripts/develop`` (``demo.site``): the
battery steered through its target power and command source, relay 0 of the E1214 for emergency
stop production and relay 1 for consumption. The simulators
and the RTU run in a child process, so this process's CPU time is Home Assistant's alone; the
child timestamps the commands and the writes on one clock.

Run: .venv/bin/python benchmarks/enforcement.py
"""

import asyncio
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from benchmarks.harness import (
    async_start_home_assistant,
    demo_site_ports,
    run_with_child,
    serve_rtu_measurement,
)
from benchmarks.machine import cpu_ticks
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.modbus_device import CONF_PROFILE
from custom_components.grid_ems.netflex import Command
from demo.site import DemoFlow, DemoPorts, demo_flows
from simulators import modbus, p1
from simulators.rtu import RtuSimulator
from simulators.site import SiteModel

BATTERY_KW = 200
"""Installed power of the demo site's battery asset."""
ROUNDS = 2
STEPS = 100
"""Set-points per round: MAXSETAP from 49.5 % down to 0 %."""
STOPS = 200
CPU_WINDOW_S = 20.0
WARMUP_S = 15.0
WRITE_TIMEOUT_S = 10.0
RELEASE_TIMEOUT_S = 30.0
"""The release ramps 100 kW back at 10 % of 200 kW per second, each step confirmed by P1."""
BESS_START_KW = 100
TARGET_POWER_REGISTER = modbus.PowerPackModel.TARGET_POWER
INJECTION_COIL = 0
SETTLE_BETWEEN_COMMANDS_S = 0.05


class _Writes:
    """The writes a simulated device receives, timestamped, and a way to wait for one."""

    def __init__(self) -> None:
        self.log: list[tuple[float, int, int | bool]] = []
        self._arrived = asyncio.Event()

    def record(self, address: int, value: int | bool) -> None:
        self.log.append((time.perf_counter(), address, value))
        self._arrived.set()

    async def wait_for(
        self,
        since: int,
        match: Callable[[int, int | bool], bool],
        limit_s: float = WRITE_TIMEOUT_S,
    ) -> float:
        """Time of the first write from index ``since`` on that matches."""
        async with asyncio.timeout(limit_s):
            while True:
                for at, address, value in self.log[since:]:
                    if match(address, value):
                        return at
                since = len(self.log)
                self._arrived.clear()
                await self._arrived.wait()


def _target_power(kw: int) -> Callable[[int, int | bool], bool]:
    """Whether a write sets the BESS's target power to ``kw``."""

    def match(address: int, value: int | bool) -> bool:
        return address == TARGET_POWER_REGISTER and modbus.word_int16(int(value)) == kw

    return match


def _ms(seconds: list[float]) -> list[float]:
    return [1000 * value for value in seconds]


async def emergency_stops(rtu: RtuSimulator, relays: _Writes, count: int) -> list[float]:
    """Seconds from each emergency stop sent by the RTU to the injection relay's coil written."""
    stops: list[float] = []
    for _stop in range(count):
        # A stop never follows its release within milliseconds: let the release's read-back end.
        await asyncio.sleep(SETTLE_BETWEEN_COMMANDS_S)
        since = len(relays.log)
        sent = time.perf_counter()
        assert (await rtu.command(Command.EMERGENCY_STOP_PRODUCTION, True)).positive
        written = await relays.wait_for(
            since, lambda address, value: address == INJECTION_COIL and value is True
        )
        stops.append(written - sent)
        since = len(relays.log)
        assert (await rtu.command(Command.EMERGENCY_STOP_PRODUCTION, False)).positive
        await relays.wait_for(
            since, lambda address, value: address == INJECTION_COIL and value is False
        )
    return stops


async def _measure(rtu: RtuSimulator, bess: _Writes, relays: _Writes) -> dict[str, list[float]]:
    """Send the commands and time each one to the device write it causes."""
    setpoints: list[float] = []
    for _round in range(ROUNDS):
        for step in range(1, STEPS + 1):
            percent = 50.0 - step * 0.5
            expected = int(BATTERY_KW * percent / 100)
            # Set-points come seconds apart, not milliseconds: let the last write's read-back end.
            await asyncio.sleep(SETTLE_BETWEEN_COMMANDS_S)
            since = len(bess.log)
            sent = time.perf_counter()
            assert (await rtu.command(Command.MAX_SET_AP, percent)).positive
            written = await bess.wait_for(since, _target_power(expected))
            setpoints.append(written - sent)
        # Released: the battery ramps back to the 100 kW it had before the EMS took it.
        since = len(bess.log)
        assert (await rtu.command(Command.MAX_SET_AP, 100.0)).positive
        await bess.wait_for(since, _target_power(BESS_START_KW), RELEASE_TIMEOUT_S)
    stops = await emergency_stops(rtu, relays, STOPS)
    return {"setpoints": setpoints, "stops": stops}


def _simulate(pipe: Connection) -> None:
    """Child process: the demo's simulators, then the RTU playing the benchmark's commands."""

    async def main() -> None:
        site = SiteModel()
        devices = await modbus.start_demo(ephemeral=True, site=site)
        bess_model = devices["bess"].units[1]
        relay_model = devices["e1214"].units[1]
        assert isinstance(bess_model, modbus.PowerPackModel)
        assert isinstance(relay_model, modbus.MoxaModel)
        bess, relays = _Writes(), _Writes()
        write_register, write_coil = bess_model.write_register, relay_model.write_coil

        def register_written(address: int, value: int) -> None:
            write_register(address, value)
            bess.record(address, value)

        def coil_written(address: int, value: bool) -> None:
            write_coil(address, value)
            relays.record(address, value)

        bess_model.write_register = register_written  # type: ignore[method-assign]
        relay_model.write_coil = coil_written  # type: ignore[method-assign]
        meter = p1.P1Simulator(p1.site_meter(site))
        ports = {
            "p1": await meter.start(),
            **{name: simulator.port for name, simulator in devices.items()},
        }
        await serve_rtu_measurement(pipe, ports, lambda rtu: _measure(rtu, bess, relays))
        await meter.stop()
        for simulator in devices.values():
            await simulator.stop()

    asyncio.run(main())


async def _walk(hass: HomeAssistant, flow: DemoFlow) -> None:
    """Add an entry, its subentries and options through their flows, as the demo's bootstrap."""
    result: Any = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    for user_input in flow.steps:
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] == "create_entry", result
    entry_id = result["result"].entry_id
    for subentry in flow.subentries:
        result = await hass.config_entries.subentries.async_init(
            (entry_id, subentry.subentry_type), context={"source": "user"}
        )
        for user_input in subentry.steps:
            result = await hass.config_entries.subentries.async_configure(
                result["flow_id"], user_input
            )
        assert result["type"] == "create_entry", result
    if flow.options:
        result = await hass.config_entries.options.async_init(entry_id)
        for user_input in flow.options:
            result = await hass.config_entries.options.async_configure(
                result["flow_id"], user_input
            )
        assert result["type"] == "create_entry", result


async def _set_up_site(hass: HomeAssistant, ports: DemoPorts) -> None:
    """The demo site (the battery steered by the enforcement, the E1214's relays as the
    emergency stops), with the battery discharging 100 kW of its own to start with."""
    for flow in demo_flows(ports):
        await _walk(hass, flow)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    bess = next(
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_PROFILE) == "powerpack_bess"
    )
    for domain, key, service, data in (
        ("select", "command_source", "select_option", {"option": "remote"}),
        ("number", "target_power", "set_value", {"value": BESS_START_KW}),
    ):
        entity_id = registry.async_get_entity_id(domain, DOMAIN, f"{bess.entry_id}_{key}")
        assert entity_id is not None, key
        await hass.services.async_call(
            domain, service, {"entity_id": entity_id, **data}, blocking=True
        )
    entries = hass.config_entries.async_entries(DOMAIN)
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries), entries


def _time_steps(enforcement: Any) -> float:
    """Median time of a controller step at rest (nothing to write)."""
    times = []
    for _step in range(200):
        start = time.perf_counter()
        enforcement.async_step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report(name: str, samples: list[float]) -> None:
    values = sorted(_ms(samples))
    print(f"{name}_median_ms: {statistics.median(values):.2f}")
    print(f"{name}_p99_ms: {values[min(len(values) - 1, round(0.99 * len(values)) - 1)]:.2f}")


async def _run(config_dir: Path, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    ports: dict[str, int] = await loop.run_in_executor(None, pipe.recv)
    site_ports = demo_site_ports(ports)
    hass = await async_start_home_assistant(config_dir)
    try:
        await _set_up_site(hass, site_ports)
        pipe.send(site_ports.link)
        await loop.run_in_executor(None, pipe.recv)  # the RTU is connected
        await asyncio.sleep(WARMUP_S)
        wall, cpu = time.monotonic(), _cpu_s()
        await asyncio.sleep(CPU_WINDOW_S)
        cpu_ms_per_s = 1000 * (_cpu_s() - cpu) / (time.monotonic() - wall)
        link = next(
            entry
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.data["kind"] == "grid_link"
        )
        step_s = _time_steps(link.runtime_data.enforcement)
        steal_before = await loop.run_in_executor(None, cpu_ticks)
        pipe.send("go")
        results: dict[str, list[float]] = await loop.run_in_executor(None, pipe.recv)
        steal_after = await loop.run_in_executor(None, cpu_ticks)
        pipe.send("stop")
    finally:
        await hass.async_stop()
        # Not in the event loop's thread: Home Assistant reports blocking calls made there.
        await loop.run_in_executor(None, shutil.rmtree, config_dir, True)
    print(f"enforcement_step_median_ms: {1000 * step_s:.3f}")
    _report("setpoint_to_modbus", results["setpoints"])
    print(f"setpoints: {len(results['setpoints'])}")
    print(f"ha_cpu_ms_per_s: {cpu_ms_per_s:.2f}")
    if steal_before is not None and steal_after is not None:
        # Time the hypervisor gave this machine's CPUs to others while the commands ran: the
        # latency tails grow with it (stalls that any process here sees, not Home Assistant's).
        stolen = steal_after[0] - steal_before[0]
        print(f"machine_cpu_steal_pct: {100 * stolen / (steal_after[1] - steal_before[1]):.1f}")
    print(f"emergency_stops: {len(results['stops'])}")
    _report("estop_to_relay", results["stops"])


def main() -> int:
    """Run the benchmark and print its figures, the emergency stop's p99 last."""
    run_with_child(_simulate, _run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
