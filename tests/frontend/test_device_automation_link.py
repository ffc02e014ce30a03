"""Device triggers and conditions on the real grid operator link, commanded by the RTU simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.grid_link import GridLinkCoordinator
from custom_components.grid_ems.netflex import Command
from simulators.rtu import RtuSimulator
from tests.grid_link.conftest import setup_link
from tests.ha_fixtures import entry_device


@pytest.fixture(name="rtu")
async def rtu_fixture(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> AsyncIterator[RtuSimulator]:
    """The link set up, with the RTU simulator connected to it."""
    coordinator: GridLinkCoordinator = await setup_link(hass, link_entry)
    rtu = RtuSimulator(port=coordinator.port)
    await rtu.start()
    yield rtu
    await rtu.stop()
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_rtu_commands_drive_triggers_and_conditions(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    rtu: RtuSimulator,
    service_calls: list[ServiceCall],
) -> None:
    """An emergency stop from the RTU fires the triggers; the condition sees the stop."""
    device = entry_device(hass, link_entry.entry_id)
    link = {"domain": DOMAIN, "device_id": device.id}
    action = {"action": "test.automation", "data": {"fired": "{{ trigger.type }}"}}
    automations: list[dict[str, Any]] = [
        {
            "triggers": {"trigger": "device", **link, "type": "emergency_stop_production_started"},
            # The entities follow the command: the stop holds when the trigger fires.
            "conditions": {"condition": "device", **link, "type": "is_emergency_stop_production"},
            "actions": action,
        },
        {
            "triggers": {"trigger": "device", **link, "type": "command_received"},
            "actions": {
                "action": "test.automation",
                "data": {"fired": "{{ trigger.type }} {{ trigger.command }}={{ trigger.value }}"},
            },
        },
    ]
    assert await async_setup_component(hass, "automation", {"automation": automations})

    confirmation = await rtu.command(Command.EMERGENCY_STOP_PRODUCTION, True)
    assert confirmation.positive
    await hass.async_block_till_done()

    fired = sorted(call.data["fired"] for call in service_calls if call.domain == "test")
    assert fired == [
        "command_received emergency_stop_production=True",
        "emergency_stop_production_started",
    ]
