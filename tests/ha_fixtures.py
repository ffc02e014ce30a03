"""Fixtures shared by the tests of Home Assistant entities; a package's conftest imports them.

They are not in the root conftest because ``snapshot`` would then switch every package's
snapshots (also those kept with syrupy's own serializer) to Home Assistant's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from enum import Enum
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant import bootstrap
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    category_registry as cr,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    issue_registry as ir,
    label_registry as lr,
    restore_state as rs,
)
from homeassistant.helpers.device_registry import DeviceEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.grid_ems.compat import KILOVAR, find_device
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.logbook import async_describe_events


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (ids and times masked)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def enable_all_entities() -> Iterator[None]:
    """Create the entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


def describe_in_logbook(hass: HomeAssistant, event: Event) -> dict[str, str]:
    """The logbook's line for one of the integration's events, as the logbook asks for it."""
    described: dict[tuple[str, str], Callable[[Event], dict[str, str]]] = {}

    def describe(domain: str, event_type: str, function: Callable[[Event], Any]) -> None:
        described[domain, event_type] = function

    async_describe_events(hass, describe)
    return described["grid_ems", str(event.event_type)](event)


def entry_device(hass: HomeAssistant, entry_id: str, unique_id: str | None = None) -> DeviceEntry:
    """The registered device of an entry by its unique id (the entry's own device by default)."""
    device = find_device(hass, (DOMAIN, unique_id or entry_id), entry_id)
    assert device is not None, f"no device {unique_id or entry_id} in entry {entry_id}"
    return device


async def async_load_registries(hass: HomeAssistant) -> None:
    """Load Home Assistant's registries from its storage, as a start does.

    For a Home Assistant created with ``load_registries`` False, whose storage holds registries
    written earlier (the test harness otherwise starts every test on empty registries).
    """
    if hasattr(dr, "async_setup"):  # HA 2026.8+: the device registry's own set-up comes first
        dr.async_setup(hass)
    with (
        patch("homeassistant.helpers.restore_state.RestoreStateData.async_setup_dump"),
        patch("homeassistant.helpers.restore_state.start.async_at_start"),
    ):
        for registry in (ar, cr, dr, er, fr, ir, lr, rs):
            await registry.async_load(hass)
    hass.data[bootstrap.DATA_REGISTRIES_LOADED] = None


def _plain(value: Any) -> Any:
    """A value as JSON carries it: enums as their values, mappings with text keys, sets sorted."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(_plain(key)): _plain(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def entity_snapshots(
    hass: HomeAssistant, entries: Iterable[er.RegistryEntry]
) -> dict[str, dict[str, Any]]:
    """What Grid EMS decides of each entity and its state, by entity id.

    Only the integration's own choices, so that one snapshot holds on every supported Home
    Assistant (its registry entries and state objects gain fields and change their types).
    """
    snapshots: dict[str, dict[str, Any]] = {}
    for entry in sorted(entries, key=lambda entry: entry.entity_id):
        state = hass.states.get(entry.entity_id)
        device_class = entry.original_device_class
        attributes = None if state is None else dict(state.attributes)
        # Before kvar joined HA's reactive power class, a kvar sensor has no class (compat.py);
        # the snapshot holds what current Home Assistant shows.
        if attributes is not None and attributes.get("unit_of_measurement") == KILOVAR:
            device_class = attributes["device_class"] = SensorDeviceClass.REACTIVE_POWER.value
        snapshots[entry.entity_id] = _plain(
            {
                "unique_id": entry.unique_id,
                "translation_key": entry.translation_key,
                "original_name": entry.original_name,
                "device_class": device_class,
                "entity_category": entry.entity_category,
                "disabled_by": entry.disabled_by,
                "capabilities": entry.capabilities,
                "state": None if state is None else state.state,
                "attributes": attributes,
            }
        )
    return snapshots
