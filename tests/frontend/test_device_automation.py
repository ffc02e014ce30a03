"""Device triggers and conditions of the grid operator link, in real automations.

The link device and its entities are registered as the link's platforms register them (same
translation keys); their states are set directly, so each situation can be driven precisely.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_get_device_automations,
)

from custom_components.grid_ems import device_condition, device_trigger
from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.grid_link import EVENT_DSO_COMMAND
from tests.frontend.conftest import LINK_ENTITIES, set_link_states

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "grid_ems" / "translations"


async def _automate(hass: HomeAssistant, device_id: str, *types: str, **condition: str) -> None:
    """One automation per trigger type; each calls test.automation with the type."""
    automations: list[dict[str, Any]] = [
        {
            "triggers": {
                "trigger": "device",
                "domain": DOMAIN,
                "device_id": device_id,
                "type": kind,
            },
            "conditions": [
                {"condition": "device", "domain": DOMAIN, "device_id": device_id, **condition}
            ]
            if condition
            else [],
            "actions": {
                "action": "test.automation",
                "data": {
                    "type": "{{ trigger.type }}",
                    "entity": "{{ trigger.entity_id }}",
                    "command": "{{ trigger.command }}",
                },
            },
        }
        for kind in types
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})


async def test_link_lists_every_trigger_and_condition(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str]
) -> None:
    """The link device offers all triggers and conditions; the UI lists them."""
    _, device_id = link
    triggers = await async_get_device_automations(hass, DeviceAutomationType.TRIGGER, device_id)
    conditions = await async_get_device_automations(hass, DeviceAutomationType.CONDITION, device_id)
    ours = {trigger["type"] for trigger in triggers if trigger["domain"] == DOMAIN}
    assert ours == set(device_trigger.TRIGGER_TYPES)
    ours = {condition["type"] for condition in conditions if condition["domain"] == DOMAIN}
    assert ours == set(device_condition.CONDITIONS)
    assert "emergency_stop_production_started" in device_trigger.TRIGGER_TYPES
    assert {"congestion_limit_set", "link_lost", "command_received"} <= set(
        device_trigger.TRIGGER_TYPES
    )


async def test_other_devices_have_none(hass: HomeAssistant) -> None:
    """A P1 meter's device has no link triggers or conditions; unknown devices neither."""
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_KIND: EntryKind.P1_METER})
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "p1")}
    )
    assert await device_trigger.async_get_triggers(hass, device.id) == []
    assert await device_condition.async_get_conditions(hass, device.id) == []
    assert await device_trigger.async_get_triggers(hass, "no-such-device") == []


async def test_emergency_stop_triggers(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """Started and ended fire once each, on the real transitions only."""
    _, device_id = link
    await _automate(
        hass, device_id, "emergency_stop_production_started", "emergency_stop_production_ended"
    )
    set_link_states(hass, emergency_stop_production="on")
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls] == ["emergency_stop_production_started"]
    assert service_calls[0].data["entity"] == LINK_ENTITIES["emergency_stop_production"]

    # Unavailable and back to the same state is no transition: nothing fires.
    set_link_states(hass, emergency_stop_production="unavailable")
    set_link_states(hass, emergency_stop_production="on")
    set_link_states(hass, test_mode="on")
    await hass.async_block_till_done()
    assert len(service_calls) == 1

    set_link_states(hass, emergency_stop_production="off")
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls] == [
        "emergency_stop_production_started",
        "emergency_stop_production_ended",
    ]


async def test_congestion_limit_whatever_the_command_order(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """A congestion limit is set once the reason and a setpoint below 100 % are both there."""
    _, device_id = link
    await _automate(hass, device_id, "congestion_limit_set", "congestion_limit_cleared")
    set_link_states(hass, max_set_p="40.0")
    await hass.async_block_till_done()
    assert service_calls == []
    set_link_states(hass, reason_p="grid_congestion")
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls] == ["congestion_limit_set"]

    set_link_states(hass, max_set_p="100.0")
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls][-1] == "congestion_limit_cleared"


async def test_consumption_limit_and_link_triggers(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """An emergency stop of consumption also limits consumption; the link may be lost."""
    _, device_id = link
    await _automate(
        hass,
        device_id,
        "consumption_limit_started",
        "consumption_limit_ended",
        "injection_limit_started",
        "link_lost",
        "link_restored",
    )
    set_link_states(hass, emergency_stop_consumption="on")
    set_link_states(hass, min_set_p="-30.0")
    set_link_states(hass, rtu_connected="off")
    set_link_states(hass, rtu_connected="on")
    set_link_states(hass, emergency_stop_consumption="off")
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls] == [
        "consumption_limit_started",
        "injection_limit_started",
        "link_lost",
        "link_restored",
        "consumption_limit_ended",
    ]


async def test_command_triggers(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """Accepted and refused commands of this link fire their triggers; other links' do not."""
    entry, device_id = link
    await _automate(hass, device_id, "command_received", "command_refused")
    command = {"command": "max_set_p", "value": 40.0, "ioa": 2002}
    hass.bus.async_fire(
        EVENT_DSO_COMMAND, {"entry_id": entry.entry_id, "accepted": True, **command}
    )
    hass.bus.async_fire(EVENT_DSO_COMMAND, {"entry_id": "other", "accepted": True, **command})
    hass.bus.async_fire(
        EVENT_DSO_COMMAND, {"entry_id": entry.entry_id, "accepted": False, **command}
    )
    await hass.async_block_till_done()
    assert [call.data["type"] for call in service_calls] == ["command_received", "command_refused"]
    assert [call.data["command"] for call in service_calls] == ["max_set_p", "max_set_p"]


@pytest.mark.parametrize(
    ("condition", "states", "expected"),
    [
        ("is_emergency_stop_production", {"emergency_stop_production": "on"}, True),
        ("is_emergency_stop_production", {}, False),
        ("is_emergency_stop_production", {"emergency_stop_production": "unavailable"}, False),
        ("is_test_mode", {"test_mode": "on"}, True),
        ("is_consumption_limited", {"max_set_p": "50.0"}, True),
        ("is_consumption_limited", {"emergency_stop_consumption": "on"}, True),
        ("is_consumption_limited", {}, False),
        ("is_consumption_limited", {"max_set_p": "unknown"}, False),
        ("is_injection_limited", {"min_set_p": "-100.0"}, False),
        ("is_congestion_limit", {"reason_p": "grid_congestion", "min_set_p": "-20"}, True),
        ("is_congestion_limit", {"reason_p": "test", "min_set_p": "-20"}, False),
        ("is_congestion_limit", {"reason_p": "grid_congestion", "max_set_p": "x"}, False),
        ("is_link_connected", {}, True),
        ("is_link_lost", {"rtu_connected": "off"}, True),
        ("is_link_lost", {}, False),
    ],
)
async def test_conditions(
    hass: HomeAssistant,
    link: tuple[MockConfigEntry, str],
    service_calls: list[ServiceCall],
    *,
    condition: str,
    states: dict[str, str],
    expected: bool,
) -> None:
    """Each condition, in an automation, lets the action run only when it holds."""
    _, device_id = link
    set_link_states(hass, **states)
    await hass.async_block_till_done()
    await _automate(hass, device_id, "test_mode_started", type=condition)
    set_link_states(hass, test_mode="off")
    await hass.async_block_till_done()
    set_link_states(hass, test_mode="on")
    await hass.async_block_till_done()
    assert len(service_calls) == (1 if expected else 0)


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_every_trigger_and_condition_is_translated(language: str) -> None:
    """The automation editor names each trigger and condition in the user's language."""
    translations = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))[
        "device_automation"
    ]
    assert set(translations["trigger_type"]) == set(device_trigger.TRIGGER_TYPES)
    assert set(translations["condition_type"]) == set(device_condition.CONDITIONS)
