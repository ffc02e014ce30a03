"""What the Home Assistant benchmarks share: a demo configuration and a helper process.

The benchmark's Home Assistant runs in this process; the simulators or the driving client run in
a child process (its own event loop and CPU time), talking to it over a pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from homeassistant import bootstrap, runner
from homeassistant.core import HomeAssistant

from demo import config as demo_config
from demo.site import DEMO_PORTS, DemoPorts
from simulators.rtu import RtuSimulator
from tests.e2e.demo_run import free_port


def run_with_child[T](
    child: Callable[[Connection], None],
    run: Callable[[Path, Connection], Coroutine[Any, Any, T]],
    *,
    stop_child: bool = True,
) -> T:
    """Run ``run`` (Home Assistant, on a fresh demo configuration) beside ``child``.

    ``stop_child``: the child waits for "stop" on the pipe at the end (a simulator), rather than
    ending by itself (a driver).
    """
    logging.basicConfig(level=logging.ERROR)
    config_dir = Path(tempfile.mkdtemp(prefix="grid-ems-benchmark-"))
    parent, child_end = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=child, args=(child_end,))
    try:
        demo_config.prepare(config_dir, free_port())
        process.start()
        return asyncio.run(run(config_dir, parent))
    finally:
        if stop_child:
            with contextlib.suppress(BrokenPipeError, OSError):
                parent.send("stop")
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
        shutil.rmtree(config_dir, ignore_errors=True)


def demo_site_ports(ports: Mapping[str, Any]) -> DemoPorts:
    """The demo's ports with the simulators' own and a free one for the link.

    The simulators' control ports go unused.
    """
    return dataclasses.replace(
        DEMO_PORTS,
        p1=ports["p1"],
        bess=ports["bess"],
        meter=ports["meter"],
        e1214=ports["e1214"],
        e1211=ports["e1211"],
        link=free_port(),
    )


async def async_start_home_assistant(config_dir: Path) -> HomeAssistant:
    """Home Assistant on ``config_dir``, started, in this event loop."""
    hass = await bootstrap.async_setup_hass(
        runner.RuntimeConfig(config_dir=str(config_dir), skip_pip=True, log_no_color=True)
    )
    assert hass is not None
    await hass.async_start()
    return hass


async def serve_rtu_measurement(
    pipe: Connection,
    ports: Mapping[str, Any],
    measure: Callable[[RtuSimulator], Awaitable[object]],
) -> None:
    """Child side: hand over the simulators' ports, connect the RTU to the link's port, run
    ``measure`` when the parent says go and send its result, then wait for the parent's stop."""
    loop = asyncio.get_running_loop()
    pipe.send(dict(ports))
    link_port = await loop.run_in_executor(None, pipe.recv)
    async with RtuSimulator(port=link_port) as rtu:
        pipe.send("rtu connected")
        await loop.run_in_executor(None, pipe.recv)
        pipe.send(await measure(rtu))
        await loop.run_in_executor(None, pipe.recv)
