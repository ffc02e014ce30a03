"""Run the end-to-end test: ``python -m tests.e2e [--screenshots DIR] [--artifacts DIR]``.

Starts the demo (``demo_run``), then runs the browser checks (``browser.mjs``, Playwright's
playwright-core driving Debian's Chromium). The browser asks this process for what the simulators
show and to play the grid operator, through a small HTTP control server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from pathlib import Path
from typing import Final

from aiohttp import web

from custom_components.grid_ems.netflex import Command
from simulators.modbus import PowerPackModel
from tests.e2e.demo_run import REPO, SPARE_UNIT_ID, RunningDemo, running_demo

BROWSER_SCRIPT: Final = Path(__file__).with_name("browser.mjs")
TEST_TIMEOUT_S: Final = 600


def _control_app(demo: RunningDemo) -> web.Application:
    async def expected(_request: web.Request) -> web.Response:
        model = demo.modbus["bess"].units[1]
        assert isinstance(model, PowerPackModel)
        return web.json_response(
            {
                "grid_power_kw": demo.site.grid_power_w() / 1000,
                "bess_soe_pct": round(model.state_of_energy),
                "spare_bess": {
                    "host": "127.0.0.1",
                    "port": demo.spare_bess.port,
                    "unit_id": SPARE_UNIT_ID,
                },
            }
        )

    async def emergency_stop_production(request: web.Request) -> web.Response:
        on = request.query.get("on", "1") == "1"
        confirmation = await demo.rtu.command(Command.EMERGENCY_STOP_PRODUCTION, on)
        return web.json_response({"confirmed": confirmation.positive})

    async def test_mode(request: web.Request) -> web.Response:
        """The grid operator's test command (a commissioning run needs it with the RTU up)."""
        on = request.query.get("on", "1") == "1"
        confirmation = await demo.rtu.command(Command.TEST, on)
        return web.json_response({"confirmed": confirmation.positive})

    app = web.Application()
    app.router.add_get("/expected", expected)
    app.router.add_post("/emergency-stop-production", emergency_stop_production)
    app.router.add_post("/test-mode", test_mode)
    return app


async def _run(screenshots: Path, artifacts: Path) -> int:
    started = time.monotonic()
    async with running_demo(keep=artifacts) as demo:
        print(f"Demo up in {time.monotonic() - started:.0f} s at {demo.url}", flush=True)
        runner = web.AppRunner(_control_app(demo), access_log=None)
        await runner.setup()
        control = socket.socket()
        control.bind(("127.0.0.1", 0))
        control_port = control.getsockname()[1]
        await web.SockSite(runner, control).start()
        try:
            browser = await asyncio.create_subprocess_exec(
                "node",
                str(BROWSER_SCRIPT),
                env={
                    **os.environ,
                    "GRID_EMS_URL": demo.url,
                    "GRID_EMS_CONTROL_URL": f"http://127.0.0.1:{control_port}",
                    "GRID_EMS_SCREENSHOTS": str(screenshots),
                    "GRID_EMS_ARTIFACTS": str(artifacts),
                },
                cwd=REPO,
            )
            status = await browser.wait()
        finally:
            await runner.cleanup()
    print(f"End-to-end test finished in {time.monotonic() - started:.0f} s", flush=True)
    return status


def main() -> int:
    """Parse the options and run the test; the exit status is the browser checks' status."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e", description=__doc__)
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=REPO / ".e2e-artifacts" / "screenshots",
        help="where the screenshots go; docs/screenshots renews the README's (default %(default)s)",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=REPO / ".e2e-artifacts",
        help="Home Assistant's log and failure screenshots (default %(default)s)",
    )
    args = parser.parse_args()

    async def run_with_timeout() -> int:
        async with asyncio.timeout(TEST_TIMEOUT_S):
            return await _run(args.screenshots, args.artifacts)

    return asyncio.run(run_with_timeout())


if __name__ == "__main__":
    sys.exit(main())
