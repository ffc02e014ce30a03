"""Run a simulator: ``python -m simulators <name> [options]`` (``--help`` lists them).

Each simulator module offers ``add_arguments(parser)``, which registers its options and sets
``run``: the coroutine function that runs it until interrupted and returns the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine

from . import modbus, p1, rtu


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen simulator."""
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    subcommands = parser.add_subparsers(dest="simulator", required=True)
    modbus.add_arguments(
        subcommands.add_parser("modbus", help="PowerPack BESS, Acuvim II, Moxa E1214 and E1211")
    )
    p1.add_arguments(subcommands.add_parser("p1", help="Fluvius digital meter, P1 port over TCP"))
    rtu.add_arguments(
        subcommands.add_parser("rtu", help="grid operator RTU (Fluvius Netflex, IEC 60870-5-104)")
    )
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], Coroutine[object, object, int]] = args.run
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
