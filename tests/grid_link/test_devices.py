"""The link's devices: its own device, and one device per asset in the asset's subentry.

Since Home Assistant 2026.8 a device belongs to one config entry and one subentry; an entity of
a subentry on another subentry's (or the entry's own) device moves that device and loses the
entities left outside. These tests hold on every supported Home Assistant.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant import loader
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, frame
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
    flush_store,
)

from custom_components.grid_ems.compat import device_subentry_ids
from custom_components.grid_ems.const import DOMAIN, EntryKind
from tests.ha_fixtures import async_load_registries, entry_device

from .conftest import ASSETS, LINK_DATA, LINK_ENTRY_ID

PV_ROOF = "01JASSETPVROOF000000000000"
BATTERY = "01JASSETBATTERY00000000000"

# The device and entity registries as Grid EMS 0.1 left them on Home Assistant 2025.4 for this
# link with two assets: one device for everything, in the entry and both asset subentries.
REGISTRIES_0_1_0: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "registries_grid_ems_0_1_0.json").read_text()
)
# Registries loaded from storage start their daily clean-up and debounced saves, as at a real start.
REGISTRY_TIMERS = pytest.mark.parametrize("expected_lingering_timers", [True])
LINK_ENTITIES = 61
"""Entities of this link: 59 of the link itself (commissioning: two buttons and a sensor;
planning: nine) and one applied limit per asset."""


def two_asset_link() -> MockConfigEntry:
    """The link entry of the stored registries: PV roof and battery, with their subentry ids."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=LINK_ENTRY_ID,
        title="Grid operator link (Fluvius)",
        unique_id=EntryKind.GRID_LINK.value,
        data=LINK_DATA,
        options={"test_mode": True},
        subentries_data=[
            ConfigSubentryDataWithId(**ASSETS[0], subentry_id=PV_ROOF),
            ConfigSubentryDataWithId(**ASSETS[2], subentry_id=BATTERY),
        ],
    )


def assert_link_devices(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """Every entity exists on its device in its subentry; returns the entity ids."""
    link_device = entry_device(hass, entry.entry_id)
    assert device_subentry_ids(link_device, entry.entry_id) == {None}
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert len(entities) == LINK_ENTITIES
    for entity in entities:
        subentry_id = entity.config_subentry_id
        if subentry_id is None:
            assert entity.device_id == link_device.id, entity.entity_id
        else:
            asset = entry_device(hass, entry.entry_id, f"{entry.entry_id}_{subentry_id}")
            assert entity.device_id == asset.id, entity.entity_id
            assert device_subentry_ids(asset, entry.entry_id) == {subentry_id}
            assert asset.via_device_id == link_device.id
            assert asset.name == entry.subentries[subentry_id].title
        if entity.disabled_by is None:
            assert hass.states.get(entity.entity_id) is not None, entity.entity_id
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1 + len(entry.subentries)
    return {entity.entity_id for entity in entities}


@REGISTRY_TIMERS
async def test_reload_and_restart_keep_every_entity_on_its_device(hass: HomeAssistant) -> None:
    """A link with two assets, reloaded, then Home Assistant restarted on the same storage."""
    entry = two_asset_link()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    entity_ids = assert_link_devices(hass, entry)
    assert "sensor.pv_roof_applied_limit" in entity_ids

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert assert_link_devices(hass, entry) == entity_ids

    # Restart: the first instance stops with its registries saved, a second one loads them.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await flush_store(dr.async_get(hass)._store)
    await flush_store(er.async_get(hass)._store)
    async with async_test_home_assistant(
        config_dir=hass.config.config_dir, load_registries=False
    ) as restarted:
        frame.async_setup(restarted)
        await async_load_registries(restarted)
        restarted.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        try:
            again = two_asset_link()
            again.add_to_hass(restarted)
            assert await restarted.config_entries.async_setup(again.entry_id)
            await restarted.async_block_till_done()
            assert assert_link_devices(restarted, again) == entity_ids
            assert await restarted.config_entries.async_unload(again.entry_id)
            await restarted.async_block_till_done()
        finally:
            frame.async_setup(hass)


@pytest.fixture
def hass_storage(hass_storage: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Home Assistant's storage, holding what a test passes as the fixture's parameter."""
    hass_storage.update(copy.deepcopy(getattr(request, "param", {})))
    return hass_storage


@REGISTRY_TIMERS
@pytest.mark.parametrize("load_registries", [False])
@pytest.mark.parametrize("hass_storage", [REGISTRIES_0_1_0], indirect=True)
async def test_upgrade_from_one_device_for_all(hass: HomeAssistant) -> None:
    """Link entities stay on the link's device with their ids; each asset gets its device."""
    await async_load_registries(hass)
    stored = REGISTRIES_0_1_0["core.entity_registry"]["data"]["entities"]
    entry = two_asset_link()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # Every entity 0.1 had is kept (this version adds some).
    assert {entity["entity_id"] for entity in stored} <= assert_link_devices(hass, entry)
    registry = er.async_get(hass)
    for entity in stored:
        kept = registry.async_get(entity["entity_id"])
        assert kept is not None
        assert (kept.unique_id, kept.id) == (entity["unique_id"], entity["id"])
    assert await hass.config_entries.async_unload(entry.entry_id)
