"""What the enforcement relies on: state, site, subscriptions and feedback quality."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.grid_link import GridLinkCoordinator
from custom_components.grid_ems.iec104 import CauseOfTransmission, Quality
from custom_components.grid_ems.netflex import (
    Asset,
    AssetCategory,
    AuditRecord,
    Command,
    DsoState,
)
from simulators.rtu import Report, RtuSimulator

from .conftest import BATTERY_POWER, PV_POWER, PV_REACTIVE


async def test_site_parameters(link_entry: MockConfigEntry, link: GridLinkCoordinator) -> None:
    """Capacities from the entry, one asset per subentry."""
    site = link.site
    assert (site.import_capacity_kw, site.export_capacity_kw) == (200.0, 150.0)
    assets = {asset.name: asset for asset in site.assets}
    assert set(assets) == {"PV roof", "PV carport", "Battery", "Chargers"}
    roof = assets["PV roof"]
    assert roof == Asset(
        roof.asset_id, "PV roof", AssetCategory.SOLAR, 100.0, PV_POWER, PV_REACTIVE, False
    )
    assert roof.asset_id in link_entry.subentries
    assert assets["Battery"].p_sensor == BATTERY_POWER
    assert assets["Battery"].invert_sign


async def test_subscribers_hear_accepted_commands(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    rtu: RtuSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After each accepted command, with the new state; a failing listener harms no other."""
    heard: list[tuple[DsoState, AuditRecord]] = []

    def failing(state: DsoState, record: AuditRecord | None) -> None:
        raise RuntimeError("enforcement bug")

    link.async_subscribe(failing)

    def hear(state: DsoState, record: AuditRecord | None) -> None:
        if record is not None:  # the link's own comings and goings
            heard.append((state, record))

    unsubscribe = link.async_subscribe(hear)
    assert (await rtu.command(Command.MIN_SET_P, 30.0)).positive
    assert not (await rtu.command(Command.MIN_SET_P, 300.0)).positive
    await hass.async_block_till_done()
    assert [(state, record.command) for state, record in heard] == [
        (DsoState(min_set_p=30.0), Command.MIN_SET_P)
    ]
    assert link.state == DsoState(min_set_p=30.0)
    assert "A listener of the grid operator's state failed after: " in caplog.text
    unsubscribe()
    assert (await rtu.command(Command.MIN_SET_P, 20.0)).positive
    await hass.async_block_till_done()
    assert len(heard) == 1


async def test_feedback_quality(
    link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """The enforcement flags a feedback point; it goes out at once and stays in GI."""
    link.async_set_feedback_quality(Command.EMERGENCY_STOP_PRODUCTION, Quality.INVALID)
    report = await rtu.wait_for_report(11001, False, CauseOfTransmission.SPONTANEOUS)
    assert report.quality == Quality.INVALID
    assert await rtu.interrogate()
    assert rtu.values[11001] == Report(
        11001, False, CauseOfTransmission.INTERROGATED_BY_STATION, 0x80
    )
    assert link.diagnostics()["feedback_quality"] == {"emergency_stop_production": "INVALID"}
    # A new command starts again from good quality.
    start = len(rtu.reports)
    assert (await rtu.command(Command.EMERGENCY_STOP_PRODUCTION, True)).positive
    report = await rtu.wait_for_report(11001, True, CauseOfTransmission.SPONTANEOUS, after=start)
    assert report.quality == 0
