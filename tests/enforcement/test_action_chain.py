"""The enforcement's action log is a hash chain; a tampered stored log raises a repair issue."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.audit_chain import ISSUE_CHAIN_BROKEN
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.enforcement.coordinator import ACTION_LOG_SIZE
from custom_components.grid_ems.netflex import ChainState, ChainStatus, Command, HashChain, verify
from tests.simulated_site import PV_LIMIT

from .conftest import start_site


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"{ISSUE_CHAIN_BROKEN}_{entry.entry_id}_actions"
    )


async def test_an_edited_action_log_raises_a_repair_issue(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    helpers: None,
    link_entry: MockConfigEntry,
) -> None:
    """The stored actions verify; one edited write breaks the chain there, shown and raised."""
    site = await start_site(hass, link_entry)
    await site.command(Command.MAX_SET_AP, 40.0)
    await site.command(Command.MAX_SET_AP, 100.0)
    await site.tick()
    assert await hass.config_entries.async_unload(link_entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{link_entry.entry_id}.actions"]
    assert stored["minor_version"] == 2
    records = stored["data"]["actions"]
    assert len(records) >= 2
    assert verify(records).verified
    # Someone hides that the PV was ever limited.
    edited = next(index for index, record in enumerate(records) if record["entity_id"] == PV_LIMIT)
    records[edited]["value"] = 100.0

    site = await start_site(hass, link_entry)
    status = link_entry.runtime_data.chain_status()["actions"]
    assert (status.state, status.broken_at) == (ChainState.BROKEN, edited)
    diagnostics = (await async_get_config_entry_diagnostics(hass, link_entry))["runtime"]
    assert diagnostics["audit_chain"]["actions"]["broken_at"] == edited
    issue = _issue(hass, link_entry)
    assert issue is not None
    assert issue.translation_placeholders == {
        "file": f".storage/{DOMAIN}.{link_entry.entry_id}.actions",
        "index": str(edited),
        "records": str(len(records)),
    }
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_the_issue_clears_when_the_broken_record_drops_off(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    helpers: None,
    link_entry: MockConfigEntry,
) -> None:
    """A full log whose oldest record was edited verifies again once that record drops off."""
    chain = HashChain(ACTION_LOG_SIZE)
    for index in range(ACTION_LOG_SIZE):
        chain.append({"time": f"2026-12-01T00:00:{index % 60:02d}+00:00", "n": index})
    records = [dict(record) for record in chain]
    records[0]["n"] = -1
    hass_storage[f"{DOMAIN}.{link_entry.entry_id}.actions"] = {
        "version": 1,
        "minor_version": 2,
        "key": f"{DOMAIN}.{link_entry.entry_id}.actions",
        "data": {"actions": records, "anchor": chain.anchor, "chained_at_migration": []},
    }
    site = await start_site(hass, link_entry)
    assert link_entry.runtime_data.chain_status()["actions"].broken_at == 0
    assert _issue(hass, link_entry) is not None
    await site.command(Command.MAX_SET_AP, 40.0)
    assert link_entry.runtime_data.chain_status()["actions"] == ChainStatus(
        ChainState.VERIFIED, ACTION_LOG_SIZE
    )
    assert _issue(hass, link_entry) is None
    assert await hass.config_entries.async_unload(link_entry.entry_id)
