"""Benchmark of the Modbus client against the demo site's four simulated devices.

* ``<device>_requests_per_cycle``: Modbus requests one poll of the device's profile takes
  (targets: at most 2 for the BESS and the meter).
* ``<device>_poll_p99_ms``: one device's poll, alone.
* ``site_poll_cycle_*_ms``: one poll cycle of the whole demo site: the four devices polled
  concurrently, as their coordinators do.
* ``relay_write_readback_*_ms``: a relay of the E1214 switched (FC05) and read back (FC01) until
  the read-back matches, as the switch entity does (target: p99 under 10 ms on loopback).

The devices are the simulators of ``python -m simulators modbus``, on free ports of 127.0.0.1, in
their own process like real devices (they do not share the client's event loop). Requests are
counted by the client.

Run: .venv/bin/python benchmarks/modbus.py
"""

import asyncio
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymodbus

from custom_components.grid_ems.modbus.client import ModbusDevice, ModbusHostConnection
from custom_components.grid_ems.modbus.profiles import PROFILES
from simulators.modbus import start_demo

CYCLES = 300
RELAY_WRITES = 500
DEVICES = {
    "bess": "powerpack_bess",
    "meter": "acuvim_ii",
    "e1214": "moxa_e1214",
    "e1211": "moxa_e1211",
}


def _serve(pipe: Connection) -> None:
    """Child process: run the demo site until the parent says stop."""

    async def serve() -> None:
        simulators = await start_demo(ephemeral=True)
        pipe.send({name: simulator.port for name, simulator in simulators.items()})
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        for simulator in simulators.values():
            await simulator.stop()

    asyncio.run(serve())


def _ms(seconds: list[float]) -> list[float]:
    return [1000 * value for value in seconds]


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


async def _measure(ports: dict[str, int]) -> dict[str, float]:
    devices = {
        name: ModbusDevice(ModbusHostConnection("127.0.0.1", ports[name]), PROFILES[kind], 1)
        for name, kind in DEVICES.items()
    }
    figures: dict[str, float] = {}
    try:
        for device in devices.values():  # connect and warm up
            await device.poll()
        for name, device in devices.items():
            device.connection.requests.clear()
            durations = []
            for _ in range(CYCLES):
                start = time.perf_counter()
                await device.poll()
                durations.append(time.perf_counter() - start)
            figures[f"{name}_requests_per_cycle"] = (
                sum(device.connection.requests.values()) / CYCLES
            )
            figures[f"{name}_poll_p99_ms"] = _p99(_ms(durations))

        cycles = []
        for _ in range(CYCLES):
            start = time.perf_counter()
            await asyncio.gather(*(device.poll() for device in devices.values()))
            cycles.append(time.perf_counter() - start)
        figures["site_poll_cycle_median_ms"] = statistics.median(_ms(cycles))
        figures["site_poll_cycle_p99_ms"] = _p99(_ms(cycles))

        relays = devices["e1214"]
        writes = []
        for index in range(RELAY_WRITES):
            start = time.perf_counter()
            await relays.write("relay_0", index % 2 == 0)
            writes.append(time.perf_counter() - start)
        figures["relay_write_readback_median_ms"] = statistics.median(_ms(writes))
        figures["relay_write_readback_p99_ms"] = _p99(_ms(writes))
    finally:
        for device in devices.values():
            device.connection.close()
    return figures


def main() -> int:
    parent_pipe, child_pipe = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child_pipe,))
    process.start()
    try:
        ports = parent_pipe.recv()
        figures = asyncio.run(_measure(ports))
    finally:
        parent_pipe.send("stop")
        process.join(10)
    print(f"pymodbus_version: {pymodbus.__version__}")
    for key in sorted(figures, key=lambda key: key == "relay_write_readback_p99_ms"):
        print(f"{key}: {figures[key]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
