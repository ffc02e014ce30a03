"""The DSO state survives a restart and is what the RTU sees in its first interrogation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems import grid_link
from custom_components.grid_ems.grid_link import GridLinkCoordinator
from custom_components.grid_ems.iec104 import CauseOfTransmission
from custom_components.grid_ems.netflex import (
    Command,
    DsoState,
    QMode,
    Reason,
    dump_state,
)
from simulators.rtu import Report, RtuSimulator

from .conftest import setup_link, state_of

GI = CauseOfTransmission.INTERROGATED_BY_STATION
COMMANDED = DsoState(
    stop_production=True,
    q_mode=QMode.REMOTE,
    min_set_p=40.0,
    reason_p=Reason.GRID_CONGESTION,
)


async def test_state_survives_restart(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Unload and set up again: restored state, in the first GI, in the entities, audit kept."""
    async with RtuSimulator(port=link.port) as rtu:
        for command, value in (
            (Command.EMERGENCY_STOP_PRODUCTION, True),
            (Command.Q_MODE, 2),
            (Command.MIN_SET_P, 40.0),
            (Command.REASON_P, 1.0),
            (Command.MAX_SET_P, 120.0),  # refused
        ):
            await rtu.command(command, value)
    assert await hass.config_entries.async_unload(link_entry.entry_id)

    restarted = await setup_link(hass, link_entry)
    assert restarted is not link
    assert restarted.state == COMMANDED
    assert [record.accepted for record in restarted.audit] == [True] * 4 + [False]
    async with RtuSimulator(port=restarted.port) as rtu:
        assert rtu.values[11001] == Report(11001, True, GI, 0)
        assert rtu.values[11101] == Report(11101, 2, GI, 0)
        assert rtu.values[12001] == Report(12001, 40.0, GI, 0)
        assert rtu.values[12007] == Report(12007, 1.0, GI, 0)
        assert rtu.values[12002] == Report(12002, 100.0, GI, 0)
    assert state_of(hass, link_entry, "binary_sensor", "emergency_stop_production") == "on"
    assert state_of(hass, link_entry, "sensor", "reason_p") == "grid_congestion"
    assert state_of(hass, link_entry, "sensor", "last_command") != "unknown"


@pytest.fixture
def stored_state(hass_storage: dict[str, Any], link_entry: MockConfigEntry) -> dict[str, Any]:
    """The state file of the link, as an earlier run left it."""
    stored: dict[str, Any] = {
        "version": 1,
        "minor_version": 1,
        "key": f"grid_ems.{link_entry.entry_id}.dso_state",
        "data": dump_state(COMMANDED),
    }
    hass_storage[stored["key"]] = stored
    return stored


async def test_restored_before_the_server_starts(
    hass: HomeAssistant, stored_state: dict[str, Any], link: GridLinkCoordinator
) -> None:
    """A stored state is in place before any RTU can connect."""
    assert link.state == COMMANDED
    async with RtuSimulator(port=link.port) as rtu:
        assert rtu.values[12001] == Report(12001, 40.0, GI, 0)


async def test_damaged_state_falls_back_to_start_up(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    stored_state: dict[str, Any],
    link_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A state no command could produce is not restored; the error is logged.

    An unreadable audit record is kept as stored (chained by the migration), not read.
    """
    stored_state["data"] = {"min_set_p": 500.0}
    hass_storage[f"grid_ems.{link_entry.entry_id}.audit"] = {
        "version": 1,
        "key": f"grid_ems.{link_entry.entry_id}.audit",
        "data": {"records": [{"time": "yesterday"}], "connections": [{"time": "x"}]},
    }
    with caplog.at_level(logging.WARNING):
        link = await setup_link(hass, link_entry)
    assert link.state == DsoState()
    assert len(link.audit) == 0
    assert [dict(record) for record in link.audit.as_list()] == [
        {"time": "yesterday", "hash": link.audit.as_list()[0]["hash"]}
    ]
    assert link.audit.status.verified
    assert "Stored DSO state is not valid" in caplog.text
    assert "Stored audit record 0 is not readable" in caplog.text
    assert "Stored RTU connection log is not readable" in caplog.text
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_removing_the_link_deletes_its_storage(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
) -> None:
    """A removed link leaves no DSO state, audit trail or enforcement behind."""
    async with RtuSimulator(port=link.port) as rtu:
        await rtu.command(Command.TEST, True)
    assert await hass.config_entries.async_unload(link_entry.entry_id)
    keys = {
        f"grid_ems.{link_entry.entry_id}.{name}" for name in ("audit", "enforcement", "actions")
    }
    assert keys <= set(hass_storage)
    journal = grid_link.journal_path(hass, link_entry.entry_id)
    assert await hass.async_add_executor_job(journal.exists)
    await hass.config_entries.async_remove(link_entry.entry_id)
    assert not keys & set(hass_storage)
    assert not await hass.async_add_executor_job(journal.exists)
