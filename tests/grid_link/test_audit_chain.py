"""The hash-chained audit trails in Home Assistant: stored, migrated, verified, repaired."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.audit_chain import ISSUE_CHAIN_BROKEN, ChainedStore
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.grid_link import GridLinkData
from custom_components.grid_ems.netflex import (
    AUDIT_CAPACITY,
    GENESIS,
    AuditRecord,
    AuditTrail,
    ChainState,
    ChainStatus,
    Command,
    verify,
)

from .conftest import setup_link

AUDIT_ISSUE = f"{ISSUE_CHAIN_BROKEN}_{{entry_id}}_records"


async def _simulate(
    hass: HomeAssistant, entry: MockConfigEntry, command: Command, value: float
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "simulate_dso_command",
        {"config_entry_id": entry.entry_id, "command": command.value, "value": value},
        blocking=True,
        return_response=True,
    )


async def _run_commands(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Three accepted commands, stored on unload."""
    await setup_link(hass, entry)
    for value in (80.0, 60.0, 40.0):
        await _simulate(hass, entry, Command.MAX_SET_P, value)
    assert await hass.config_entries.async_unload(entry.entry_id)


def _audit(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    stored: dict[str, Any] = hass_storage[f"{DOMAIN}.{entry.entry_id}.audit"]
    return stored


async def test_commands_are_stored_chained_and_verify(
    hass: HomeAssistant, hass_storage: dict[str, Any], link_entry: MockConfigEntry
) -> None:
    """Each command's record carries its hash; the stored file verifies from the genesis."""
    await _run_commands(hass, link_entry)
    stored = _audit(hass_storage, link_entry)
    assert (stored["version"], stored["minor_version"]) == (1, 2)
    records = stored["data"]["records"]
    assert [record["value"] for record in records] == [80.0, 60.0, 40.0]
    assert stored["data"]["anchor"] == GENESIS
    assert verify(records) == ChainStatus(ChainState.VERIFIED, 3)

    await setup_link(hass, link_entry)
    data: GridLinkData = link_entry.runtime_data
    assert data.chain_status()["commands"] == ChainStatus(ChainState.VERIFIED, 3)
    diagnostics = (await async_get_config_entry_diagnostics(hass, link_entry))["runtime"]
    assert diagnostics["audit_chain"]["commands"] == {
        "state": "verified",
        "records": 3,
        "broken_at": None,
        "anchor": GENESIS,
        "chained_at_migration": [],
    }
    assert [record["hash"] for record in diagnostics["audit"]] == [
        record["hash"] for record in records
    ]
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, AUDIT_ISSUE.format(entry_id=link_entry.entry_id))
        is None
    )
    assert await hass.config_entries.async_unload(link_entry.entry_id)


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        (lambda records: records[1].update(value=100.0), 1),
        (lambda records: records.pop(1), 1),
        (lambda records: records.insert(0, records.pop(1)), 0),
    ],
    ids=["edited", "removed", "reordered"],
)
async def test_a_tampered_file_raises_a_repair_issue(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    link_entry: MockConfigEntry,
    tamper: Any,
    broken_at: int,
) -> None:
    """Editing the stored trail and reloading: the diagnostics and a repair issue say where."""
    await _run_commands(hass, link_entry)
    stored = _audit(hass_storage, link_entry)
    original = copy.deepcopy(stored["data"]["records"])
    tamper(stored["data"]["records"])
    tampered = copy.deepcopy(stored["data"]["records"])

    link = await setup_link(hass, link_entry)
    data: GridLinkData = link_entry.runtime_data
    status = data.chain_status()["commands"]
    assert (status.state, status.broken_at) == (ChainState.BROKEN, broken_at)
    assert not status.verified
    diagnostics = (await async_get_config_entry_diagnostics(hass, link_entry))["runtime"]
    assert diagnostics["audit_chain"]["commands"]["broken_at"] == broken_at
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, AUDIT_ISSUE.format(entry_id=link_entry.entry_id)
    )
    assert issue is not None
    assert issue.translation_key == ISSUE_CHAIN_BROKEN
    assert issue.translation_placeholders == {
        "file": f".storage/{DOMAIN}.{link_entry.entry_id}.audit",
        "index": str(broken_at),
        "records": str(len(tampered)),
    }

    # New commands still chain on; the tampered records are kept as they are, not repaired.
    await _simulate(hass, link_entry, Command.MAX_SET_P, 20.0)
    assert data.chain_status()["commands"].broken_at == broken_at
    assert await hass.config_entries.async_unload(link_entry.entry_id)
    assert _audit(hass_storage, link_entry)["data"]["records"][:-1] == tampered
    assert len(original) == 3
    assert link.audit.last is not None


async def test_records_from_before_the_chain_are_chained_once(
    hass: HomeAssistant, hass_storage: dict[str, Any], link_entry: MockConfigEntry
) -> None:
    """An older installation's trail (minor version 1, no hashes) loads whole and is chained."""
    await _run_commands(hass, link_entry)
    stored = _audit(hass_storage, link_entry)
    legacy = [
        {key: value for key, value in record.items() if key != "hash"}
        for record in stored["data"]["records"]
    ]
    hass_storage[f"{DOMAIN}.{link_entry.entry_id}.audit"] = {
        "version": 1,
        "key": stored["key"],
        "data": {"records": legacy, "connections": []},
    }

    link = await setup_link(hass, link_entry)
    assert [record.value for record in link.audit] == [80.0, 60.0, 40.0]
    data: GridLinkData = link_entry.runtime_data
    assert data.chain_status()["commands"] == ChainStatus(ChainState.VERIFIED, 3)
    migrated = _audit(hass_storage, link_entry)
    assert migrated["minor_version"] == 2
    (migration,) = migrated["data"]["chained_at_migration"]
    assert migration["records"] == 3
    diagnostics = (await async_get_config_entry_diagnostics(hass, link_entry))["runtime"]
    assert diagnostics["audit_chain"]["commands"]["chained_at_migration"] == [migration]
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_removing_the_link_removes_the_issue(
    hass: HomeAssistant, hass_storage: dict[str, Any], link_entry: MockConfigEntry
) -> None:
    """A removed link leaves no repair issue about its deleted trail."""
    await _run_commands(hass, link_entry)
    _audit(hass_storage, link_entry)["data"]["records"][0]["value"] = 1.0
    await setup_link(hass, link_entry)
    issues = ir.async_get(hass)
    issue_id = AUDIT_ISSUE.format(entry_id=link_entry.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is not None
    assert await hass.config_entries.async_remove(link_entry.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_the_issue_clears_when_the_broken_record_drops_off(
    hass: HomeAssistant, hass_storage: dict[str, Any], link_entry: MockConfigEntry
) -> None:
    """A full trail whose oldest record was edited verifies again once that record drops off."""
    trail = AuditTrail()
    for index in range(AUDIT_CAPACITY):
        trail.append(
            AuditRecord(
                datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=index),
                "10.0.0.2",
                100,
                2002,
                "C_SE_NC_1",
                Command.MAX_SET_P,
                50.0,
                None,
            )
        )
    records = [dict(record) for record in trail.as_list()]
    records[0]["value"] = 60.0
    key = f"{DOMAIN}.{link_entry.entry_id}.audit"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 2,
        "key": key,
        "data": {"records": records, "connections": [], "anchor": trail.anchor},
    }
    link = await setup_link(hass, link_entry)
    assert link.audit.status.broken_at == 0
    issue_id = AUDIT_ISSUE.format(entry_id=link_entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await _simulate(hass, link_entry, Command.MAX_SET_P, 20.0)
    assert link.audit.status == ChainStatus(ChainState.VERIFIED, AUDIT_CAPACITY)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_store_versions(hass: HomeAssistant) -> None:
    """A newer minor version loads as it is; another major version is not read."""
    store = ChainedStore(hass, "grid_ems.test.audit", "records")
    data = {"records": [{"n": 1, "hash": "h"}]}
    assert await store._async_migrate_func(1, 3, data) is data
    with pytest.raises(NotImplementedError):
        await store._async_migrate_func(2, 1, data)
