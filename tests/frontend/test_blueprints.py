"""The automation blueprints shipped in blueprints/automation/grid_ems/, run in Home Assistant."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.grid_link import EVENT_DSO_COMMAND
from tests.frontend.conftest import set_link_states

BLUEPRINTS = Path(__file__).parents[2] / "blueprints"


@pytest.fixture(autouse=True)
def blueprints_in_config(hass: HomeAssistant, tmp_path: Path) -> None:
    """A configuration folder holding the repository's blueprints, as after an import."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints")


async def _use(hass: HomeAssistant, blueprint: str, **inputs: Any) -> None:
    automation = {"use_blueprint": {"path": f"grid_ems/{blueprint}", "input": inputs}}
    assert await async_setup_component(hass, "automation", {"automation": automation})
    await hass.async_block_till_done()
    assert len(hass.states.async_all("automation")) == 1


def _command(entry_id: str, *, accepted: bool) -> dict[str, Any]:
    """The link's event for one command (grid_link.py: the audit record and the entry)."""
    return {
        "entry_id": entry_id,
        "time": "2025-04-11T10:15:00+00:00",
        "source": "127.0.0.1",
        "common_address": 100,
        "ioa": 2002,
        "type": "C_SE_NC_1",
        "command": "max_set_p",
        "value": 40.0 if accepted else 140.0,
        "accepted": accepted,
        "refusal": None if accepted else "invalid_value",
    }


async def test_notify_on_dso_commands(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """Each command becomes a notification; the extra actions get the message."""
    entry, device_id = link
    extra = [{"action": "test.automation", "data": {"message": "{{ message }}"}}]
    await _use(hass, "notify_dso_command.yaml", link=device_id, extra_actions=extra)

    hass.bus.async_fire(EVENT_DSO_COMMAND, _command(entry.entry_id, accepted=True))
    await hass.async_block_till_done()
    hass.bus.async_fire(EVENT_DSO_COMMAND, _command(entry.entry_id, accepted=False))
    await hass.async_block_till_done()

    notifications = [call.data for call in service_calls if call.service == "create"]
    assert [notification["title"] for notification in notifications] == [
        "Grid operator command accepted",
        "Grid operator command refused",
    ]
    messages = [call.data["message"] for call in service_calls if call.domain == "test"]
    assert messages[0].startswith("max_set_p = 40.0 at ")
    assert messages[0].endswith("from 127.0.0.1.")
    assert "140.0 (refused: invalid_value)" in messages[1]


async def test_notify_can_leave_refused_commands_out(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str], service_calls: list[ServiceCall]
) -> None:
    """With refused commands left out, only accepted ones are reported."""
    entry, device_id = link
    await _use(hass, "notify_dso_command.yaml", link=device_id, include_refused=False)
    hass.bus.async_fire(EVENT_DSO_COMMAND, _command(entry.entry_id, accepted=False))
    hass.bus.async_fire(EVENT_DSO_COMMAND, _command(entry.entry_id, accepted=True))
    await hass.async_block_till_done()
    titles = [call.data["title"] for call in service_calls if call.service == "create"]
    assert titles == ["Grid operator command accepted"]


async def test_pause_loads_during_consumption_limit(
    hass: HomeAssistant, link: tuple[MockConfigEntry, str]
) -> None:
    """Loads that ran are paused during the limit and resume after it; others stay off."""
    _, device_id = link
    booleans = {"dishwasher": {"initial": True}, "heat_pump": {"initial": False}}
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": booleans})
    assert await async_setup_component(hass, "scene", {})
    loads = ["input_boolean.dishwasher", "input_boolean.heat_pump"]
    await _use(hass, "pause_loads_during_consumption_limit.yaml", link=device_id, loads=loads)

    set_link_states(hass, max_set_p="40.0")
    await hass.async_block_till_done()
    assert [hass.states.get(load).state for load in loads] == ["off", "off"]  # type: ignore[union-attr]

    set_link_states(hass, max_set_p="100.0")
    await hass.async_block_till_done()
    assert [hass.states.get(load).state for load in loads] == ["on", "off"]  # type: ignore[union-attr]
