"""A grid operator link device, registered as the link registers it, for automation tests.

The link's entities get the link's translation keys; their states are set directly, so each
situation of the link can be driven precisely.
"""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind

# The real link's entry, as the link's own tests add it (test_device_automation_link.py).
from tests.grid_link.conftest import link_entry, link_options  # noqa: F401  (fixtures, used by name)

LINK_ENTITIES = {
    "rtu_connected": "binary_sensor.link_rtu_connected",
    "emergency_stop_production": "binary_sensor.link_emergency_stop_production",
    "emergency_stop_consumption": "binary_sensor.link_emergency_stop_consumption",
    "test_mode": "binary_sensor.link_test_mode",
    "reason_p": "sensor.link_reason_p",
    "min_set_p": "sensor.link_min_set_p",
    "max_set_p": "sensor.link_max_set_p",
}
START_UP = {
    "rtu_connected": "on",
    "emergency_stop_production": "off",
    "emergency_stop_consumption": "off",
    "test_mode": "off",
    "reason_p": "normal_operation",
    "min_set_p": "100.0",
    "max_set_p": "100.0",
}


def set_link_states(hass: HomeAssistant, **states: str) -> None:
    """Set the states of link entities, by translation key."""
    for key, state in states.items():
        hass.states.async_set(LINK_ENTITIES[key], state)


@pytest.fixture(name="link")
def link_fixture(hass: HomeAssistant) -> tuple[MockConfigEntry, str]:
    """A grid operator link entry with its device, entities and start-up states."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_KIND: EntryKind.GRID_LINK})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, entry.entry_id)}, name="Link"
    )
    registry = er.async_get(hass)
    for key, entity_id in LINK_ENTITIES.items():
        domain, object_id = entity_id.split(".")
        registry.async_get_or_create(
            domain,
            DOMAIN,
            f"link_{key}",
            suggested_object_id=object_id,
            config_entry=entry,
            device_id=device.id,
            translation_key=key,
        )
    set_link_states(hass, **START_UP)
    return entry, device.id
