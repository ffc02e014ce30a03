"""Local emergency stop inputs: the site stops as for the grid operator's stop, logged and chained.

The inputs here are plain binary sensor states the tests set (any integration's binary sensor
fits); ``test_end_to_end`` drives one from a Moxa digital input through Modbus.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.enforcement import (
    CONF_ENFORCEMENT,
    CONF_LOCAL_STOP_CONSUMPTION,
    CONF_LOCAL_STOP_PRODUCTION,
    CONF_POWER_ENTITY,
    EVENT_ENFORCEMENT_ACTION,
)
from custom_components.grid_ems.iec104 import Quality
from custom_components.grid_ems.netflex import ChainState, Command, DsoState, verify
from tests.ha_fixtures import describe_in_logbook
from tests.simulated_site import EV_SWITCH, PV_LIMIT, asset

from .conftest import BESS_SOURCE, BESS_TARGET, ENFORCEMENT_OPTIONS, Events, Site, start_site
from .test_adapter import STUCK_CHARGER, stuck_charger  # noqa: F401  (a fixture, used by name)

STOP_PRODUCTION = "binary_sensor.estop_production"
STOP_CONSUMPTION = "binary_sensor.estop_consumption"
LOCAL_OPTIONS: dict[str, Any] = {
    "test_mode": True,
    CONF_ENFORCEMENT: {
        **ENFORCEMENT_OPTIONS,
        CONF_LOCAL_STOP_PRODUCTION: STOP_PRODUCTION,
        CONF_LOCAL_STOP_CONSUMPTION: STOP_CONSUMPTION,
    },
}
pytestmark = pytest.mark.parametrize("link_options", [LOCAL_OPTIONS])


@pytest.fixture(autouse=True)
def inputs_off(hass: HomeAssistant) -> None:
    """Both inputs exist and are off before the link starts."""
    hass.states.async_set(STOP_PRODUCTION, STATE_OFF)
    hass.states.async_set(STOP_CONSUMPTION, STATE_OFF)


async def _set_input(site: Site, entity_id: str, state: str) -> None:
    site.hass.states.async_set(entity_id, state)
    await site.settle()


def _issue(hass: HomeAssistant, site: Site, stop: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"local_stop_unavailable_{site.entry.entry_id}_{stop}"
    )


async def test_local_stop_production_acts_and_releases(
    hass: HomeAssistant, site: Site, actions: Events
) -> None:
    """On: PV to its minimum, the discharging battery to 0, logged as the input's; off: restored.

    The grid operator's state stays as it was, and every record is in the action chain.
    """
    await hass.services.async_call(
        "input_select", "select_option", {"entity_id": BESS_SOURCE, "option": "remote"}, True
    )
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": BESS_TARGET, "value": 10.0}, True
    )
    site.set_power("sensor.bess_power", 10.0)
    await _set_input(site, STOP_PRODUCTION, STATE_ON)
    assert site.number(PV_LIMIT) == 1.0
    assert site.number(BESS_TARGET) == 0.0
    assert site.value(EV_SWITCH) == "on"
    assert site.link.state == DsoState()
    assert site.link.data.state == DsoState()
    source = f"local input {STOP_PRODUCTION}"
    # The input's own record and the writes it causes (their order is the tasks').
    assert sorted(
        (action["entity_id"], action["value"], action["source"]) for action in actions
    ) == sorted(
        [(STOP_PRODUCTION, True, source), (PV_LIMIT, 1.0, source), (BESS_TARGET, 0.0, source)]
    )
    assert all(action["command"] is None for action in actions)
    pv_action = next(action for action in actions if action["entity_id"] == PV_LIMIT)
    line = describe_in_logbook(hass, Event(EVENT_ENFORCEMENT_ACTION, pv_action))
    assert line["message"] == f"Set to 1.0 for Emergency stop production ({source})"
    assert site.value("sensor.grid_operator_link_constraint_source") == "local_stop"
    assert site.value("sensor.grid_operator_link_enforcement") == "emergency_stop"

    actions.clear()
    await _set_input(site, STOP_PRODUCTION, STATE_OFF)
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert site.number(BESS_TARGET) == 10.0
    assert actions[0] == actions[0] | {
        "entity_id": STOP_PRODUCTION,
        "value": False,
        "restore": True,
        "source": source,
    }
    assert all(action["restore"] and action["source"] == source for action in actions)
    assert site.value("sensor.grid_operator_link_enforcement") == "idle"
    chain = site.enforcement.actions
    assert chain.status.state is ChainState.VERIFIED
    assert verify(chain.as_list(), chain.anchor).verified
    assert site.link.audit.last is None  # no grid operator command was made up


async def test_local_stop_consumption(hass: HomeAssistant, site: Site) -> None:
    """The consumption input switches the loads off, and back on when released."""
    await _set_input(site, STOP_CONSUMPTION, STATE_ON)
    assert site.value(EV_SWITCH) == "off"
    assert site.number(PV_LIMIT) == 100.0
    await _set_input(site, STOP_CONSUMPTION, STATE_OFF)
    await site.grid(5.0)
    assert site.value(EV_SWITCH) == "on"


@pytest.mark.parametrize("lost", [STATE_UNAVAILABLE, STATE_UNKNOWN, None])
async def test_unreadable_input_keeps_its_last_state(
    hass: HomeAssistant, site: Site, lost: str | None
) -> None:
    """Fail-safe: a stop in force stays while the input cannot be read; a repair issue says so."""
    await _set_input(site, STOP_PRODUCTION, STATE_ON)
    assert site.number(PV_LIMIT) == 1.0
    if lost is None:
        hass.states.async_remove(STOP_PRODUCTION)
        await site.settle()
    else:
        await _set_input(site, STOP_PRODUCTION, lost)
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 1.0
    issue = _issue(hass, site, "emergency_stop_production")
    assert issue is not None
    assert issue.translation_key == "local_stop_unavailable"
    assert issue.translation_placeholders == {
        "entity_id": STOP_PRODUCTION,
        "state": lost or "missing",
    }
    diagnostics = (await async_get_config_entry_diagnostics(hass, site.entry))["runtime"]
    assert diagnostics["enforcement"]["local_stops"]["emergency_stop_production"] == {
        "input": STOP_PRODUCTION,
        "on": True,
    }
    await _set_input(site, STOP_PRODUCTION, STATE_OFF)
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert _issue(hass, site, "emergency_stop_production") is None


async def test_a_running_site_keeps_running_while_the_input_is_lost(
    hass: HomeAssistant, site: Site
) -> None:
    """An input that goes unavailable while off does not stop the site."""
    await _set_input(site, STOP_CONSUMPTION, STATE_UNAVAILABLE)
    await site.grid(5.0)
    assert site.value(EV_SWITCH) == "on"
    assert _issue(hass, site, "emergency_stop_consumption") is not None


async def test_a_stop_in_force_survives_a_restart_with_its_input_unavailable(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """The last state is stored: after a restart with the input not (yet) there, still stopped."""
    site = await start_site(hass, link_entry)
    await _set_input(site, STOP_PRODUCTION, STATE_ON)
    assert site.number(PV_LIMIT) == 1.0
    assert await hass.config_entries.async_unload(link_entry.entry_id)
    hass.states.async_set(STOP_PRODUCTION, STATE_UNAVAILABLE)
    site = await start_site(hass, link_entry)
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 1.0
    await _set_input(site, STOP_PRODUCTION, STATE_OFF)
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert site.enforcement.actions.status.verified
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_removing_the_input_from_the_options_releases_its_stop(
    hass: HomeAssistant, site: Site, actions: Events
) -> None:
    """An input no longer configured stops nothing: what it held is restored."""
    await _set_input(site, STOP_PRODUCTION, STATE_UNAVAILABLE)
    await _set_input(site, STOP_PRODUCTION, STATE_ON)
    assert site.number(PV_LIMIT) == 1.0
    await _set_input(site, STOP_PRODUCTION, STATE_UNAVAILABLE)
    assert _issue(hass, site, "emergency_stop_production") is not None
    options = {
        **site.entry.options,
        CONF_ENFORCEMENT: {
            key: value
            for key, value in site.entry.options[CONF_ENFORCEMENT].items()
            if key != CONF_LOCAL_STOP_PRODUCTION
        },
    }
    hass.config_entries.async_update_entry(site.entry, options=options)
    await site.settle()
    assert site.entry.state is ConfigEntryState.LOADED
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert _issue(hass, site, "emergency_stop_production") is None
    # Later changes of the old input are not followed.
    await _set_input(site, STOP_PRODUCTION, STATE_ON)
    assert site.number(PV_LIMIT) == 100.0


@pytest.mark.usefixtures("stuck_charger")
@pytest.mark.parametrize(
    "assets",
    [[asset("Charger", "ev", 22.08, "sensor.ev_power", {CONF_POWER_ENTITY: STUCK_CHARGER})]],
)
async def test_a_failed_write_for_a_local_stop_leaves_the_feedback_alone(
    hass: HomeAssistant, site: Site, actions: Events
) -> None:
    """The grid operator's feedback mirrors their commands only: no quality change for it."""
    feedback: list[tuple[Command, Quality]] = []
    original = site.link.async_set_feedback_quality

    def spy(command: Command, quality: Quality) -> None:
        feedback.append((command, quality))
        original(command, quality)

    site.link.async_set_feedback_quality = spy  # type: ignore[method-assign]
    await _set_input(site, STOP_CONSUMPTION, STATE_ON)
    failed = [action for action in actions if not action["ok"]]
    assert [action["entity_id"] for action in failed] == [STUCK_CHARGER]
    assert failed[0]["source"] == f"local input {STOP_CONSUMPTION}"
    assert (DOMAIN, f"enforcement_write_failed_{STUCK_CHARGER}") in ir.async_get(hass).issues
    assert feedback == []


async def test_removing_the_link_removes_the_input_issue(hass: HomeAssistant, site: Site) -> None:
    """A removed link leaves no repair issue about its inputs."""
    await _set_input(site, STOP_PRODUCTION, STATE_UNAVAILABLE)
    assert _issue(hass, site, "emergency_stop_production") is not None
    assert await hass.config_entries.async_remove(site.entry.entry_id)
    assert _issue(hass, site, "emergency_stop_production") is None
