"""Benchmark of the IEC 60870-5-104 server against lib60870 (through c104) on 127.0.0.1.

The same c104 client drives both servers: 1000 C_SE_NC_1 set-points, each timed from the
client's transmit to its ACT_CON, and a general interrogation of 1000 M_ME_NC_1 points.
Our server runs on an asyncio loop in a separate process, as it would inside Home Assistant;
the c104 server likewise runs in its own process.

Run: .venv/bin/python benchmarks/iec104.py
"""

import asyncio
import multiprocessing
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import c104

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from custom_components.grid_ems.iec104 import (
    CommandResult,
    ProcessCommand,
    Server,
    TypeID,
)

COMMON_ADDRESS = 100
SETPOINT_IOA = 2001
FIRST_MEASUREMENT_IOA = 100_000
SETPOINTS = 1000
WARMUP = 50
GI_POINTS = 1000
GI_RUNS = 5


def _serve_ours(pipe: Connection) -> None:
    """Run our server until the parent closes the pipe; report the port through the pipe."""

    async def accept(_request: ProcessCommand) -> CommandResult:
        return CommandResult.accept()

    async def main() -> None:
        server = Server("127.0.0.1", 0, on_command=accept)
        station = server.add_station(COMMON_ADDRESS)
        station.add_command_point(SETPOINT_IOA, [TypeID.C_SE_NC_1])
        for index in range(GI_POINTS):
            station.add_float_point(FIRST_MEASUREMENT_IOA + index, value=float(index))
        async with server:
            pipe.send(server.address[1])
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv_bytes)

    with contextlib.suppress(EOFError):
        asyncio.run(main())


def _serve_lib60870(pipe: Connection) -> None:
    """Run a c104 server with the same points until the parent closes the pipe."""
    server = c104.Server(ip="127.0.0.1", port=_free_port(), tick_rate_ms=50)
    station = _some(server.add_station(common_address=COMMON_ADDRESS))
    setpoint = _some(station.add_point(io_address=SETPOINT_IOA, type=c104.Type.C_SE_NC_1))

    def on_setpoint(
        point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage
    ) -> c104.ResponseState:
        return c104.ResponseState.SUCCESS

    setpoint.on_receive(callable=on_setpoint)
    for index in range(GI_POINTS):
        point = _some(
            station.add_point(io_address=FIRST_MEASUREMENT_IOA + index, type=c104.Type.M_ME_NC_1)
        )
        point.value = float(index)
    server.start()
    pipe.send(server.port)
    with contextlib.suppress(EOFError):
        pipe.recv_bytes()
    server.stop()


def _some[T](value: T | None) -> T:
    """c104 returns None where it refuses; a benchmark cannot go on then."""
    if value is None:
        raise RuntimeError("c104 refused the request")
    return value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Driver:
    """c104 client connected to one server, with a point per measured command."""

    def __init__(self, port: int) -> None:
        self.client = c104.Client(tick_rate_ms=50, command_timeout_ms=1000)
        self.connection = _some(
            self.client.add_connection(ip="127.0.0.1", port=port, init=c104.Init.NONE)
        )
        self.station = _some(self.connection.add_station(common_address=COMMON_ADDRESS))
        for index in range(GI_POINTS):
            self.station.add_point(
                io_address=FIRST_MEASUREMENT_IOA + index, type=c104.Type.M_ME_NC_1
            )
        self.setpoint = _some(
            self.station.add_point(io_address=SETPOINT_IOA, type=c104.Type.C_SE_NC_1)
        )
        self._started = threading.Event()

        def on_state(connection: c104.Connection, state: c104.ConnectionState) -> None:
            if state == c104.ConnectionState.OPEN:
                self._started.set()

        self.connection.on_state_change(callable=on_state)
        self.client.start()
        deadline = time.monotonic() + 10
        while not self.connection.is_connected:
            if time.monotonic() > deadline:
                raise RuntimeError("c104 client did not connect")
            time.sleep(0.005)
        self.connection.unmute()
        if not self._started.wait(10):
            raise RuntimeError("STARTDT not confirmed")

    def setpoint_roundtrips_ms(self) -> tuple[list[float], int]:
        """Round trips of SETPOINTS confirmed set-points, and how many c104 missed.

        c104's client sometimes misses an ACT_CON that did arrive (it races with very fast
        answers) and reports a timeout; such samples are counted, not timed, which only
        flatters the faster server.
        """
        samples: list[float] = []
        missed = 0
        index = 0
        while len(samples) < SETPOINTS:
            self.setpoint.value = float(index % 100)
            begin = time.perf_counter()
            confirmed = self.setpoint.transmit(cause=c104.Cot.ACTIVATION)
            elapsed_ms = (time.perf_counter() - begin) * 1000
            index += 1
            if index <= WARMUP:
                continue
            if not confirmed:
                missed += 1
                if missed > SETPOINTS // 20:
                    raise RuntimeError("too many set-points without confirmation")
                continue
            samples.append(elapsed_ms)
        return samples, missed

    def gi_ms(self) -> float:
        received = threading.Event()
        last_ioa = FIRST_MEASUREMENT_IOA + GI_POINTS - 1

        def on_measurement(
            point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage
        ) -> c104.ResponseState:
            if point.io_address == last_ioa:
                received.set()
            return c104.ResponseState.NONE

        _some(self.station.get_point(last_ioa)).on_receive(callable=on_measurement)
        runs = []
        for _ in range(GI_RUNS):
            received.clear()
            begin = time.perf_counter()
            if not self.connection.interrogation(common_address=COMMON_ADDRESS):
                raise RuntimeError("interrogation not confirmed")
            if not received.wait(10):
                raise RuntimeError("interrogation incomplete")
            runs.append((time.perf_counter() - begin) * 1000)
        return statistics.median(runs)

    def stop(self) -> None:
        self.client.stop()


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def _measure(serve: Callable[[Connection], None]) -> tuple[list[float], int, float]:
    """Start a server process, drive it with the c104 client, return round trips and GI."""
    context = multiprocessing.get_context("spawn")
    parent_pipe, child_pipe = context.Pipe()
    process = context.Process(target=serve, args=(child_pipe,), daemon=True)
    process.start()
    try:
        driver = _Driver(parent_pipe.recv())
        try:
            samples, missed = driver.setpoint_roundtrips_ms()
            return samples, missed, driver.gi_ms()
        finally:
            driver.stop()
    finally:
        parent_pipe.close()
        process.join(10)


def main() -> int:
    ours, missed_ours, gi_ours = _measure(_serve_ours)
    lib, missed_lib, gi_lib = _measure(_serve_lib60870)
    figures = {
        "c104_client_missed_confirmations_lib60870": missed_lib,
        "c104_client_missed_confirmations": missed_ours,
        "gi_1000_points_ms_lib60870": gi_lib,
        "gi_1000_points_ms": gi_ours,
        "setpoint_roundtrip_median_ms_lib60870": statistics.median(lib),
        "setpoint_roundtrip_median_ms": statistics.median(ours),
        "setpoint_roundtrip_p99_ms_lib60870": _p99(lib),
        "setpoint_roundtrip_p99_ms": _p99(ours),
        "p99_ratio_vs_lib60870": _p99(ours) / _p99(lib),
    }
    for key, value in figures.items():
        print(f"{key}: {value}" if isinstance(value, int) else f"{key}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
