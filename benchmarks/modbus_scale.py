"""Benchmark of Modbus at scale: 50 devices polled every second in one Home Assistant.

* ``ha_cpu_ms_per_s_50_devices``: CPU time of the Home Assistant process per second, over 60 s
  of the demo site (P1 meter, link, enforcement, its five Modbus devices) and 45 more Modbus
  devices behind five gateways (PowerPack batteries, Acuvim II meters and Moxa E1214 relay
  modules), all 50 polled every second, no commands. Every value stays steady (the demo site's
  loads and PV too, not its live model): the figure is the polling's cost; a value that changes
  adds its state write and the recorder's, whatever the integration (with the demo's live site
  model, whose meters change every second, about 12 ms/s more).
* ``late_polls_pct``: the share of those polls that started more than 1.5 s after the previous
  poll of the same device (the poll interval is 1 s).
* ``estop_to_relay_{median,p99}_ms_under_load``: the RTU sends emergency stop production
  (C_SC_NA_1) until the demo's Moxa E1214 simulator receives the write that sets the Injection
  relay's coil, 100 stops while the 50 devices keep polling.

Home Assistant runs in this process (the demo configuration and site, added through their
flows); the simulators and the RTU run in a child process, so this process's CPU time is Home
Assistant's alone.

Run: .venv/bin/python benchmarks/modbus_scale.py
"""

import asyncio
import itertools
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from benchmarks.enforcement import _cpu_s, _report, _set_up_site, _walk, _Writes, emergency_stops
from benchmarks.harness import (
    async_start_home_assistant,
    demo_site_ports,
    run_with_child,
    serve_rtu_measurement,
)
from benchmarks.machine import cpu_ticks
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.modbus.client import ModbusDevice
from demo.site import DemoFlow
from simulators import modbus, p1
from simulators.site import SiteModel

GATEWAYS = 5
EXTRA_DEVICES = 45
"""With the demo's five (battery, grid and PV meters, two relay modules), 50 Modbus devices."""
KINDS = ("powerpack_bess", "acuvim_ii", "moxa_e1214")
WARMUP_S = 10.0
LOAD_WINDOW_S = 60.0
LATE_FACTOR = 1.5
STOPS = 100


def _model(kind: str) -> modbus.DeviceModel:
    match kind:
        case "powerpack_bess":
            return modbus.PowerPackModel()
        case "acuvim_ii":
            return modbus.AcuvimModel()
        case _:
            return modbus.MoxaE1214()


def _extra_units() -> list[tuple[int, int, str]]:
    """(gateway, unit id, kind) of the extra devices, spread over the gateways."""
    return [
        (index % GATEWAYS, index // GATEWAYS + 1, KINDS[index % len(KINDS)])
        for index in range(EXTRA_DEVICES)
    ]


def _steady(watts: float) -> Callable[[float], float]:
    return lambda _elapsed: watts


def _simulate(pipe: Connection) -> None:
    """Child process: the demo's simulators and the gateways, then the RTU's stops."""

    async def main() -> None:
        # Steady loads and PV: the polling's cost, not that of values changing every second.
        site = SiteModel(loads_w=_steady(3000.0), pv_w=_steady(2550.0))
        devices = await modbus.start_demo(ephemeral=True, site=site)
        gateways = [modbus.ModbusSimulator({}, name=f"gateway {n}") for n in range(GATEWAYS)]
        for index, unit_id, kind in _extra_units():
            gateways[index].units[unit_id] = _model(kind)
        for simulator in gateways:
            await simulator.start()
        relay_model = devices["e1214"].units[1]
        bess_model = devices["bess"].units[1]
        assert isinstance(relay_model, modbus.MoxaModel)
        assert isinstance(bess_model, modbus.PowerPackModel)
        relays = _Writes()
        write_coil = relay_model.write_coil

        def coil_written(address: int, value: bool) -> None:
            write_coil(address, value)
            relays.record(address, value)

        relay_model.write_coil = coil_written  # type: ignore[method-assign]
        meter = p1.P1Simulator(p1.site_meter(site))
        ports = {
            "p1": await meter.start(),
            **{name: simulator.port for name, simulator in devices.items()},
            "gateways": [gateway.port for gateway in gateways],
        }
        await serve_rtu_measurement(pipe, ports, lambda rtu: emergency_stops(rtu, relays, STOPS))
        await meter.stop()
        for simulator in (*devices.values(), *gateways):
            await simulator.stop()

    asyncio.run(main())


def _extra_flows(gateway_ports: list[int]) -> list[DemoFlow]:
    """The extra devices' flows, each polled every second."""
    return [
        DemoFlow(
            steps=(
                {"next_step_id": "modbus_device"},
                {
                    "profile": kind,
                    "host": "127.0.0.1",
                    "port": gateway_ports[gateway],
                    "unit_id": unit_id,
                    "scan": False,
                },
            ),
            options=({"scan_interval": 1.0, "timeout": 2.0, "retries": 2},),
        )
        for gateway, unit_id, kind in _extra_units()
    ]


def _record_polls() -> dict[int, list[float]]:
    """When each device's polls start (by object id), from now on."""
    polls: dict[int, list[float]] = defaultdict(list)
    poll = ModbusDevice.poll

    async def recorded(device: ModbusDevice) -> dict[str, int | float | bool | str | None]:
        polls[id(device)].append(time.monotonic())
        return await poll(device)

    ModbusDevice.poll = recorded  # type: ignore[method-assign,assignment]
    return polls


async def _run(config_dir: Path, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    ports: dict[str, Any] = await loop.run_in_executor(None, pipe.recv)
    site_ports = demo_site_ports(ports)
    hass = await async_start_home_assistant(config_dir)
    try:
        await _set_up_site(hass, site_ports)
        for flow in _extra_flows(ports["gateways"]):
            await _walk(hass, flow)
        # The demo's meter and E1211 poll every 5 s and 1 s by default: all at 1 s here.
        await _set_interval(hass)
        await hass.async_block_till_done()
        entries = hass.config_entries.async_entries(DOMAIN)
        assert all(entry.state is ConfigEntryState.LOADED for entry in entries), entries
        devices = sum(1 for entry in entries if entry.data["kind"] == "modbus_device")
        pipe.send(site_ports.link)
        await loop.run_in_executor(None, pipe.recv)  # the RTU is connected
        await asyncio.sleep(WARMUP_S)
        polls = _record_polls()
        wall, cpu = time.monotonic(), _cpu_s()
        await asyncio.sleep(LOAD_WINDOW_S)
        cpu_ms_per_s = 1000 * (_cpu_s() - cpu) / (time.monotonic() - wall)
        gaps = [
            later - earlier
            for starts in polls.values()
            for earlier, later in itertools.pairwise(starts)
        ]
        steal_before = await loop.run_in_executor(None, cpu_ticks)
        pipe.send("go")
        stops: list[float] = await loop.run_in_executor(None, pipe.recv)
        steal_after = await loop.run_in_executor(None, cpu_ticks)
        pipe.send("stop")
    finally:
        await hass.async_stop()
        await loop.run_in_executor(None, shutil.rmtree, config_dir, True)
    late = sum(1 for gap in gaps if gap > LATE_FACTOR)
    print(f"modbus_devices: {devices}")
    print(f"polls: {len(gaps)}")
    print(f"poll_interval_median_s: {statistics.median(gaps):.3f}")
    print(f"ha_cpu_ms_per_s_50_devices: {cpu_ms_per_s:.2f}")
    print(f"late_polls_pct: {100 * late / len(gaps):.2f}")
    if steal_before is not None and steal_after is not None:
        stolen = steal_after[0] - steal_before[0]
        print(f"machine_cpu_steal_pct: {100 * stolen / (steal_after[1] - steal_before[1]):.1f}")
    print(f"emergency_stops: {len(stops)}")
    _report("estop_to_relay", stops)
    values = sorted(1000 * value for value in stops)
    p99 = values[min(len(values) - 1, round(0.99 * len(values)) - 1)]
    print(f"estop_to_relay_p99_ms_under_load: {p99:.2f}")


async def _set_interval(hass: HomeAssistant) -> None:
    """Poll the demo's meter (5 s by default) every second too."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.data.get("profile") == "acuvim_ii" and entry.options.get("scan_interval") != 1.0:
            result: Any = await hass.config_entries.options.async_init(entry.entry_id)
            result = await hass.config_entries.options.async_configure(
                result["flow_id"], {"scan_interval": 1.0, "timeout": 2.0, "retries": 2}
            )
            assert result["type"] == "create_entry", result


def main() -> int:
    """Run the benchmark and print its figures, the emergency stop's p99 under load last."""
    run_with_child(_simulate, _run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
