"""Find which unit ids answer on a host (the seed's ``mbscan``), bounded in time.

Each unit id gets the profile's identification read. A few workers, each on its own connection,
share the list; they stop taking unit ids at the deadline, so a scan ends within the deadline
plus one request timeout. Given the ``shared`` connection of running devices, the workers all use
it instead (devices and gateways that accept one client).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from .client import ModbusDevice, ModbusHostConnection, RetryPolicy
from .errors import (
    GATEWAY_EXCEPTIONS,
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionError,
    ModbusWrongDeviceError,
)
from .profile import DeviceProfile

ALL_UNIT_IDS: Final = range(1, 248)


@dataclass(frozen=True, slots=True)
class ScanHit:
    """A unit id that answered, and whether it answered like the profile's device kind."""

    unit_id: int
    matches: bool


@dataclass(slots=True)
class ScanReport:
    """What a scan found; ``complete`` is False when the deadline cut it short."""

    hits: list[ScanHit] = field(default_factory=list)
    scanned: int = 0
    complete: bool = True


async def scan_unit_ids(
    host: str,
    port: int,
    profile: DeviceProfile,
    *,
    unit_ids: Iterable[int] = ALL_UNIT_IDS,
    request_timeout: float = 0.5,
    concurrency: int = 4,
    deadline: float = 30.0,
    shared: ModbusHostConnection | None = None,
) -> ScanReport:
    """Probe each unit id with the profile's identification read.

    Raises ``ModbusConnectionError`` when the host cannot be reached at all.
    """
    pending = list(unit_ids)
    report = ScanReport()
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    policy = RetryPolicy(timeout=request_timeout, retries=0)
    # The first probe runs alone, so an unreachable host fails once instead of once per worker.
    opening = shared or ModbusHostConnection(host, port)
    connections = [opening]

    async def probe(connection: ModbusHostConnection, unit_id: int, *, first: bool) -> None:
        report.scanned += 1
        try:
            await ModbusDevice(connection, profile, unit_id, policy).identify()
        except ModbusWrongDeviceError:
            report.hits.append(ScanHit(unit_id, matches=False))
        except ModbusExceptionError as err:
            if err.code not in GATEWAY_EXCEPTIONS:
                report.hits.append(ScanHit(unit_id, matches=False))
        except ModbusConnectionError:
            if first:
                raise
        except ModbusError:
            return
        else:
            report.hits.append(ScanHit(unit_id, matches=True))

    async def worker(connection: ModbusHostConnection) -> None:
        while pending:
            if loop.time() >= end:
                report.complete = False
                return
            await probe(connection, pending.pop(0), first=False)

    try:
        if pending:
            await probe(opening, pending.pop(0), first=True)
        connections += [shared or ModbusHostConnection(host, port) for _ in range(concurrency - 1)]
        await asyncio.gather(*(worker(connection) for connection in connections))
    finally:
        if shared is None:
            for connection in connections:
                connection.close()
    report.hits.sort(key=lambda hit: hit.unit_id)
    return report
