"""Run every simulator of the demo site: ``python -m demo.simulators [--no-rtu]``.

The site is one physical model (``simulators.site``): the P1 meter and the grid meter both
measure its grid power, loads - PV - what the battery simulator actually delivers, and the PV
meter its PV, so the meters agree at every instant and Grid EMS's control of the battery shows
at the connection point.
The RTU connects once Home Assistant's link is up and keeps the link until stopped; one-line
commands such as ``emergency_stop_production=1`` sent to its control port go to Grid EMS as the
grid operator's commands. The Modbus devices take fault commands on theirs (``help``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import replace

from simulators import modbus, p1
from simulators.commands import serve_commands
from simulators.rtu import RtuSimulator, parse_command
from simulators.site import SiteModel

from .site import DEMO_PORTS, DemoPorts

_LOGGER = logging.getLogger("demo.simulators")
RTU_RETRY_S = 2.0


async def _connect_rtu(ports: DemoPorts) -> RtuSimulator:
    """Connect the RTU as soon as Home Assistant's link accepts it."""
    while True:
        rtu = RtuSimulator(port=ports.link)
        try:
            await rtu.start()
        except (ConnectionError, TimeoutError, ValueError) as err:
            await rtu.stop()
            _LOGGER.debug("link not ready (%s); retrying", err)
            await asyncio.sleep(RTU_RETRY_S)
        else:
            _LOGGER.info("RTU connected to 127.0.0.1:%s", ports.link)
            return rtu


def _bound_port(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port


class DemoSimulators:
    """The demo's simulators, started together and stopped together."""

    def __init__(self, ports: DemoPorts, site: SiteModel | None = None) -> None:
        """Prepare the simulators of ``site``; a port 0 is chosen by the system at start."""
        self.ports = ports
        self.site = site or SiteModel()
        self.devices = modbus.demo_site(site=self.site)
        bess = self.devices["bess"].units[1]
        assert isinstance(bess, modbus.PowerPackModel)
        self.bess = bess
        self.meter = p1.P1Simulator(p1.site_meter(self.site), port=ports.p1)
        self.rtu: RtuSimulator | None = None
        self._control: asyncio.Server | None = None
        self._modbus_control: asyncio.Server | None = None

    async def start(self) -> DemoPorts:
        """Start the P1 meter and the Modbus devices; return the ports they listen on."""
        bound = {}
        for name, device in self.devices.items():
            device.port = getattr(self.ports, name)
            bound[name] = await device.start()
        bound["p1"] = await self.meter.start()
        self.ports = replace(self.ports, **bound)
        return self.ports

    async def run_rtu(self) -> None:
        """Take RTU commands on the control port and connect the RTU once the link is up."""
        self._control = await serve_commands(self._rtu_command, "127.0.0.1", self.ports.rtu_control)
        self.ports = replace(self.ports, rtu_control=_bound_port(self._control))
        self.rtu = await _connect_rtu(self.ports)

    async def _rtu_command(self, line: str) -> str:
        """Send one ``name=value`` line to Grid EMS as the grid operator's command."""
        if self.rtu is None:
            return "the RTU is not connected yet"
        try:
            step = parse_command(line.strip())
        except (argparse.ArgumentTypeError, ValueError) as err:
            return f"error: {err}"
        confirmation = await self.rtu.command(step.command, step.value)
        return f"{step.command}={step.value}: {'confirmed' if confirmation.positive else 'refused'}"

    async def _modbus_command(self, line: str) -> str:
        return modbus.apply_command(self.devices, line)

    async def serve_fault_commands(self) -> None:
        """Take the Modbus devices' fault commands (``help`` lists them) on their control port."""
        self._modbus_control = await serve_commands(
            self._modbus_command, "127.0.0.1", self.ports.modbus_control
        )
        self.ports = replace(self.ports, modbus_control=_bound_port(self._modbus_control))

    async def stop(self) -> None:
        """Stop every simulator and close their connections."""
        for control in (self._control, self._modbus_control):
            if control is not None:
                control.close()
        if self.rtu is not None:
            await self.rtu.stop()
        await self.meter.stop()
        for device in self.devices.values():
            await device.stop()


async def run(ports: DemoPorts, *, with_rtu: bool) -> None:
    """Run the demo's simulators until cancelled."""
    simulators = DemoSimulators(ports)
    try:
        await simulators.start()
        print(
            f"Simulators up: P1 on socket://127.0.0.1:{ports.p1}, Modbus devices on 127.0.0.1:"
            f"{ports.bess}-{ports.e1211}",
            flush=True,
        )
        await simulators.serve_fault_commands()
        print(f"Modbus fault commands: send 'help' to 127.0.0.1:{ports.modbus_control}")
        if with_rtu:
            print(f"RTU commands: send 'name=value' lines to 127.0.0.1:{ports.rtu_control}")
            await simulators.run_rtu()
        await asyncio.Event().wait()
    finally:
        await simulators.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m demo.simulators", description=__doc__)
    parser.add_argument("--no-rtu", action="store_true", help="leave the RTU simulator out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    async def run_until_signalled() -> None:
        task = asyncio.create_task(run(DEMO_PORTS, with_rtu=not args.no_rtu))
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run_until_signalled())
    return 0


if __name__ == "__main__":
    sys.exit(main())
