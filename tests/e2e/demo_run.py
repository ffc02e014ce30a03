"""The demo site, run for the end-to-end test in a fresh copy of its configuration.

Home Assistant listens on a free loopback port with a temporary configuration, so the test never
touches a user's ``config/``; the devices take the demo's own ports when they are free (else free
ones, so a running ``scripts/develop`` does not stop the test). The simulators run in this
process, Home Assistant in a child process, and the demo's own bootstrap onboards it and adds the
entries through the config flows; the RTU simulator then connects to the link as the grid
operator. A spare battery simulator (unit id ``SPARE_UNIT_ID``) waits to be added in the browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from demo import config as demo_config
from demo.site import DEMO_PORTS, DemoPorts
from simulators.modbus import ModbusSimulator, PowerPackModel, demo_site
from simulators.p1 import P1Simulator, site_meter
from simulators.rtu import RtuSimulator
from simulators.site import SiteModel

REPO: Final = Path(__file__).parents[2]
LOADS_W: Final = 4000.0
PV_W: Final = 1500.0
"""The site's steady loads and PV: 2.5 kW of import while the battery rests, so the card and the
meters can be checked against it."""
SPARE_UNIT_ID: Final = 3
SPARE_LATENCY_S: Final = 0.03
"""Answer delay of the spare battery: the unit id scan (247 probes, 4 at a time) then takes about
two seconds, long enough to see its progress step in the browser."""
STOP_TIMEOUT_S: Final = 30


@dataclass(slots=True)
class RunningDemo:
    """The demo while it runs: where Home Assistant answers and the simulators behind it."""

    url: str
    config_dir: Path
    ports: DemoPorts
    site: SiteModel
    p1: P1Simulator
    modbus: dict[str, ModbusSimulator]
    spare_bess: ModbusSimulator
    rtu: RtuSimulator


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def _stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(STOP_TIMEOUT_S):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


async def _start_devices(
    site: SiteModel,
) -> tuple[P1Simulator, dict[str, ModbusSimulator], DemoPorts]:
    """Start the P1 meter and the Modbus devices, on the demo's own ports when they are free.

    When a demo already runs, free ports keep the test going (names never carry the ports).
    """
    try:
        return await _start_devices_on(site, demo_ports=True)
    except OSError:
        return await _start_devices_on(site, demo_ports=False)


async def _start_devices_on(
    site: SiteModel, *, demo_ports: bool
) -> tuple[P1Simulator, dict[str, ModbusSimulator], DemoPorts]:
    # One site for every meter: the P1 meter and the grid meter agree.
    p1 = P1Simulator(site_meter(site), port=DEMO_PORTS.p1 if demo_ports else 0)
    modbus = demo_site(site=site)
    try:
        await p1.start()
        for simulator in modbus.values():
            simulator.port = simulator.port if demo_ports else 0
            await simulator.start()
    except OSError:
        await p1.stop()
        for simulator in modbus.values():
            await simulator.stop()
        raise
    link = DEMO_PORTS.link if demo_ports and port_is_free(DEMO_PORTS.link) else free_port()
    ports = DemoPorts(
        p1=p1.port,
        bess=modbus["bess"].port,
        meter=modbus["meter"].port,
        e1214=modbus["e1214"].port,
        e1211=modbus["e1211"].port,
        link=link,
        # The test plays the RTU itself (``RunningDemo.rtu``): no control port.
        rtu_control=0,
        modbus_control=0,
    )
    return p1, modbus, ports


@contextlib.asynccontextmanager
async def running_demo(keep: Path | None = None) -> AsyncIterator[RunningDemo]:
    """Run the demo until the block ends; ``keep``: copy Home Assistant's log there."""
    config_dir = Path(tempfile.mkdtemp(prefix="grid-ems-e2e-"))
    http_port = free_port()
    url = f"http://127.0.0.1:{http_port}"
    demo_config.prepare(config_dir, http_port)

    site = SiteModel(loads_w=lambda _elapsed: LOADS_W, pv_w=lambda _elapsed: PV_W)
    p1, modbus, ports = await _start_devices(site)
    spare_bess = ModbusSimulator({SPARE_UNIT_ID: PowerPackModel()}, name="spare-bess")
    spare_bess.faults.latency = SPARE_LATENCY_S
    hass: asyncio.subprocess.Process | None = None
    rtu: RtuSimulator | None = None
    try:
        await spare_bess.start()
        log = (config_dir / "hass-console.log").open("wb")
        hass = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "hass"),
            "--config",
            str(config_dir),
            "--skip-pip",
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()
        # The demo's bootstrap reads Home Assistant's address when it is imported.
        os.environ["GRID_EMS_DEMO_URL"] = url
        from demo import bootstrap

        await bootstrap.main(ports)
        rtu = RtuSimulator(port=ports.link)
        await rtu.start()
        yield RunningDemo(url, config_dir, ports, site, p1, modbus, spare_bess, rtu)
    finally:
        if rtu is not None:
            await rtu.stop()
        if hass is not None:
            await _stop_process(hass)
        for simulator in (*modbus.values(), spare_bess):
            await simulator.stop()
        await p1.stop()
        await asyncio.to_thread(_clean_up, config_dir, keep)


def _clean_up(config_dir: Path, keep: Path | None) -> None:
    """Remove the demo's configuration, keeping Home Assistant's logs in ``keep``."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        for name in ("home-assistant.log", "hass-console.log"):
            if (config_dir / name).exists():
                shutil.copy(config_dir / name, keep / name)
    shutil.rmtree(config_dir, ignore_errors=True)
