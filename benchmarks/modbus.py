"""Benchmark of the Modbus client against the demo site's four simulated devices.

* ``<device>_requests_per_cycle``: Modbus requests one poll of the device's profile takes
  (targets: at most 2 for the BESS and the meter).
* ``<device>_poll_p99_ms``: one device's poll, alone.
* ``site_poll_cycle_*_ms``: one poll cycle of the whole demo site: the four devices polled
  concurrently, as their coordinators do.
* ``gateway_live_polls_on_time_pct``, ``gateway_live_poll_max_gap_s``: a live unit polled once
  a second for 15 s behind a gateway whose two other units never answer and are asked all the
  time (2 s timeout, the worst case: no backoff), once their first timeout showed them failing
  (that first one holds the connection for its timeout); the polls done within 0.5 s of being
  due, and the longest gap between two (target: 100 %, about 1 s).
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

import contextlib
import itertools

import pymodbus

from custom_components.grid_ems.modbus.client import (
    ModbusDevice,
    ModbusHostConnection,
    RetryPolicy,
)
from custom_components.grid_ems.modbus.errors import ModbusError
from custom_components.grid_ems.modbus.profiles import PROFILES
from simulators.modbus import ModbusSimulator, MoxaE1214, start_demo

CYCLES = 300
RELAY_WRITES = 500
GATEWAY_SECONDS = 15
ON_TIME_S = 0.5
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
        simulators["gateway"] = ModbusSimulator({1: MoxaE1214()}, silent_units=frozenset({2, 3}))
        await simulators["gateway"].start()
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
    figures.update(await _gateway(ports["gateway"]))
    return figures


async def _gateway(port: int) -> dict[str, float]:
    """A live unit's polls while the gateway's two dead units are asked again and again."""
    connection = ModbusHostConnection("127.0.0.1", port)
    live = ModbusDevice(connection, PROFILES["moxa_e1214"], 1)
    dead = [
        ModbusDevice(connection, PROFILES["moxa_e1214"], unit, RetryPolicy()) for unit in (2, 3)
    ]
    for device in dead:
        device.failed_polls = 1
    stop = asyncio.Event()

    async def ask(device: ModbusDevice) -> None:
        while not stop.is_set():
            with contextlib.suppress(ModbusError):
                await device.poll()

    loop = asyncio.get_running_loop()
    await live.poll()
    askers = [asyncio.create_task(ask(device)) for device in dead]
    polled: list[float] = []
    on_time = 0
    start = loop.time()
    for second in range(GATEWAY_SECONDS):
        due = start + second
        await asyncio.sleep(max(0.0, due - loop.time()))
        with contextlib.suppress(ModbusError):
            await live.poll()
            polled.append(loop.time())
            on_time += polled[-1] - due <= ON_TIME_S
    stop.set()
    connection.close()
    await asyncio.gather(*askers)
    gaps = [later - earlier for earlier, later in itertools.pairwise(polled)]
    return {
        "gateway_live_polls_on_time_pct": 100 * on_time / GATEWAY_SECONDS,
        "gateway_live_poll_max_gap_s": max(gaps, default=float(GATEWAY_SECONDS)),
    }


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
