"""Benchmark of the grid operator link's confirmations against a plain lib60870 server (c104).

* ``link_confirm_{median,p99}_ms``: 1000 MINSETP set-points (C_SE_NC_1, each a new value) from
  the c104 client to Home Assistant's link, each timed from the client's transmit to its
  ACT_CON. Each one is decided, obeyed, written to the state journal and flushed to the disk
  before the link confirms it: the persistence is included. The commands come 20 ms apart (an
  RTU sends them seconds apart), so each one meets a link that has shown the previous one.
* ``lib60870_confirm_{median,p99}_ms``: the same client and commands against a c104 (lib60870)
  server that confirms at once and stores nothing, in the same run.
* ``journal_fdatasync_{median,p99}_ms``: what one flush to this machine's disk costs on its own
  (the link pays it once per command; lib60870 never does), in Home Assistant's folder.
* ``machine_cpu_steal_pct``: the host's CPU steal while the commands ran (see ``machine.py``).
* ``link_confirm_over_3ms_at_s``: when the link's slowest confirmations were sent, in seconds
  from the first timed one: they come in bursts 5 s apart, Home Assistant's recorder committing
  the rows of the last 250 commands (its ``commit_interval``) while the link waits for the GIL.

Home Assistant runs in this process with a temporary copy of the demo's configuration and only
the link, added through its config flow; the c104 client and the lib60870 server run in child
processes.

Run: .venv/bin/python benchmarks/link.py
"""

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import c104
from homeassistant.config_entries import ConfigEntryState

from benchmarks.harness import async_start_home_assistant, run_with_child
from benchmarks.iec104 import _Driver, _p99, _serve_lib60870
from benchmarks.machine import cpu_ticks
from custom_components.grid_ems.const import DOMAIN
from tests.e2e.demo_run import free_port

LINK_FLOW: tuple[dict[str, Any], ...] = (
    {"next_step_id": "grid_link"},
    {
        "provider": "fluvius",
        "bind_host": "127.0.0.1",
        "common_address": 100,
        "allowed_clients": ["127.0.0.1"],
        "import_capacity_kw": 250,
        "export_capacity_kw": 150,
    },
)
FLUSHES = 300
SETPOINTS = 1000
WARMUP = 50
SETTLE_S = 0.02


SLOW_MS = 3.0


def _confirmations_ms(port: int) -> tuple[list[float], int, list[float]]:
    """Time SETPOINTS set-points to their ACT_CON; count those c104 reports unconfirmed; say
    when (s from the first timed one) those slower than SLOW_MS were sent.

    c104's client sometimes misses an ACT_CON that did arrive (it races with very fast
    answers): such samples are counted, not timed, which only flatters the faster server.
    """
    driver = _Driver(port)
    samples: list[float] = []
    missed = 0
    slow_at: list[float] = []
    first = 0.0
    try:
        for index in range(WARMUP + SETPOINTS):
            time.sleep(SETTLE_S)
            driver.setpoint.value = float(index % 100)
            begin = time.perf_counter()
            confirmed = driver.setpoint.transmit(cause=c104.Cot.ACTIVATION)
            elapsed_ms = (time.perf_counter() - begin) * 1000
            if index < WARMUP:
                continue
            first = first or begin
            if confirmed:
                samples.append(elapsed_ms)
                if elapsed_ms > SLOW_MS:
                    slow_at.append(begin - first)
            else:
                missed += 1
    finally:
        driver.stop()
    return samples, missed, slow_at


def _drive(pipe: Connection) -> None:
    """Child process: the c104 client, first against lib60870, then against the link."""
    context = multiprocessing.get_context("spawn")
    server_pipe, child_pipe = context.Pipe()
    server = context.Process(target=_serve_lib60870, args=(child_pipe,), daemon=True)
    server.start()
    try:
        lib, missed_lib, _ = _confirmations_ms(server_pipe.recv())
    finally:
        server_pipe.close()
        server.join(10)
    ours, missed_ours, slow_at = _confirmations_ms(pipe.recv())
    pipe.send(
        {
            "lib": lib,
            "missed_lib": missed_lib,
            "ours": ours,
            "missed_ours": missed_ours,
            "slow_at": slow_at,
        }
    )


def _fdatasync_ms(folder: Path) -> list[float]:
    """Time a small append and its flush to the disk, as the journal does per command."""
    path = folder / "fdatasync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    samples = []
    try:
        for _ in range(FLUSHES):
            begin = time.perf_counter()
            os.write(fd, b'{"min_set_p":42.0}\n')
            os.fdatasync(fd)
            samples.append((time.perf_counter() - begin) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return samples


async def _run(config_dir: Path, pipe: Connection) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    hass = await async_start_home_assistant(config_dir)
    try:
        port = free_port()
        result: Any = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
        for user_input in (LINK_FLOW[0], {**LINK_FLOW[1], "port": port}):
            result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["type"] == "create_entry", result
        await hass.async_block_till_done()
        entry = result["result"]
        assert entry.state is ConfigEntryState.LOADED, entry.state
        steal_before = await loop.run_in_executor(None, cpu_ticks)
        pipe.send(port)
        results: dict[str, Any] = await loop.run_in_executor(None, pipe.recv)
        steal_after = await loop.run_in_executor(None, cpu_ticks)
        results["fdatasync"] = await loop.run_in_executor(None, _fdatasync_ms, config_dir)
        if steal_before is not None and steal_after is not None:
            stolen = steal_after[0] - steal_before[0]
            results["steal_pct"] = 100 * stolen / (steal_after[1] - steal_before[1])
    finally:
        await hass.async_stop()
        # Not in the event loop's thread: Home Assistant reports blocking calls made there.
        await loop.run_in_executor(None, shutil.rmtree, config_dir, True)
    return results


def main() -> int:
    """Run the benchmark and print its figures, the p99 ratio to lib60870 last."""
    results = run_with_child(_drive, _run, stop_child=False)
    lib, ours, flushes = results["lib"], results["ours"], results["fdatasync"]
    print(f"setpoints: {len(ours)}")
    print(f"setpoints_lib60870: {len(lib)}")
    print(f"c104_client_missed_confirmations_lib60870: {results['missed_lib']}")
    print(f"c104_client_missed_confirmations: {results['missed_ours']}")
    if "steal_pct" in results:
        print(f"machine_cpu_steal_pct: {results['steal_pct']:.1f}")
    print(f"journal_fdatasync_median_ms: {statistics.median(flushes):.3f}")
    print(f"journal_fdatasync_p99_ms: {_p99(flushes):.3f}")
    print(f"lib60870_confirm_median_ms: {statistics.median(lib):.3f}")
    print(f"lib60870_confirm_p99_ms: {_p99(lib):.3f}")
    print(f"link_confirm_median_ms: {statistics.median(ours):.3f}")
    print(f"link_confirm_p99_ms: {_p99(ours):.3f}")
    slow_at = ", ".join(f"{moment:.2f}" for moment in results["slow_at"])
    print(f"link_confirm_over_3ms_at_s: {slow_at}")
    print(f"link_p99_ratio_vs_lib60870: {_p99(ours) / _p99(lib):.2f}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
