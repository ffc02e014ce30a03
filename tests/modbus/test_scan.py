"""Scanning unit ids on a host, bounded in time."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.modbus.errors import ModbusConnectionError
from custom_components.grid_ems.modbus.profiles import PROFILES
from custom_components.grid_ems.modbus.scan import ScanHit, scan_unit_ids
from simulators.modbus import (
    AcuvimModel,
    DeviceModel,
    ModbusReplyError,
    ModbusSimulator,
    PowerPackModel,
)

from .conftest import StartSimulator

BESS = PROFILES["powerpack_bess"]


class FailingDevice(DeviceModel):
    """Answers every read with a device failure (0x04): a device, but not a usable one."""

    def read_words(self, table: dict[int, int], address: int, count: int) -> list[int]:
        raise ModbusReplyError(0x04)


class ClosingDoor(PowerPackModel):
    """A battery that makes its simulator refuse new connections once it has been asked."""

    simulator: ModbusSimulator

    def update(self, now: float) -> None:
        super().update(now)
        self.simulator.refuse_connections()


async def test_scan_finds_every_answering_unit(start_simulator: StartSimulator) -> None:
    """Matching units, other devices and failing devices are listed; silent ids are not."""
    gateway = await start_simulator(
        {2: PowerPackModel(), 7: AcuvimModel(), 9: FailingDevice(), 200: PowerPackModel()}
    )

    report = await scan_unit_ids(gateway.host, gateway.port, BESS, request_timeout=3)

    assert report.hits == [
        ScanHit(2, matches=True),
        ScanHit(7, matches=False),
        ScanHit(9, matches=False),
        ScanHit(200, matches=True),
    ]
    assert (report.scanned, report.complete) == (247, True)
    assert gateway.stats.connections == 4


async def test_scan_stops_at_the_deadline(start_simulator: StartSimulator) -> None:
    """At the deadline the workers stop taking unit ids and the report says it is partial."""
    gateway = await start_simulator({1: PowerPackModel()})

    report = await scan_unit_ids(gateway.host, gateway.port, BESS, deadline=0, request_timeout=3)

    assert report.hits == [ScanHit(1, matches=True)]
    assert (report.scanned, report.complete) == (1, False)


async def test_scan_of_an_unreachable_host_raises(start_simulator: StartSimulator) -> None:
    """When the first probe cannot connect, the scan fails once instead of 247 times."""
    gateway = await start_simulator({1: PowerPackModel()})
    await gateway.stop()

    with pytest.raises(ModbusConnectionError):
        await scan_unit_ids(gateway.host, gateway.port, BESS, unit_ids=range(1, 5))


async def test_scan_skips_units_it_cannot_reach_later(start_simulator: StartSimulator) -> None:
    """Workers that cannot connect any more skip their unit ids; the first connection goes on."""
    door = ClosingDoor()
    gateway = await start_simulator({1: door, 3: PowerPackModel()})
    door.simulator = gateway

    report = await scan_unit_ids(
        gateway.host, gateway.port, BESS, unit_ids=range(1, 9), request_timeout=3
    )

    assert report.hits[0] == ScanHit(1, matches=True)
    assert report.scanned == 8
    assert gateway.stats.connections == 1


async def test_scan_of_nothing(start_simulator: StartSimulator) -> None:
    """An empty list of unit ids is an empty, complete report."""
    gateway = await start_simulator({1: PowerPackModel()})
    report = await scan_unit_ids(gateway.host, gateway.port, BESS, unit_ids=[])
    assert (report.hits, report.scanned, report.complete) == ([], 0, True)


async def test_scan_passes_over_silent_unit_ids(start_simulator: StartSimulator) -> None:
    """A device that ignores other unit ids makes them time out; they are simply not listed."""
    device = await start_simulator({2: PowerPackModel()}, unknown_unit_exception=None)

    report = await scan_unit_ids(
        device.host, device.port, BESS, unit_ids=[2, 3, 4], request_timeout=1, concurrency=2
    )

    assert report.hits == [ScanHit(2, matches=True)]
    assert report.scanned == 3
