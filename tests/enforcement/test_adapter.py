"""The enforcement in Home Assistant: commands carried out on entities, verified, logged."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry, ConfigSubentryData
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.control.controller import Controller
from custom_components.grid_ems.control.model import ControlInput, Decision
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.enforcement import (
    CONF_CHARGE_POSITIVE,
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_LINK_LOSS_FALLBACK,
    CONF_LINK_LOSS_TIMEOUT,
    CONF_POWER_ENTITY,
    CONF_Q_ENTITY,
    EVENT_ENFORCEMENT_ACTION,
    coordinator as enforcement_coordinator,
)
from custom_components.grid_ems.grid_link import CONF_Q_SENSOR, DsoStateStore
from custom_components.grid_ems.iec104 import Quality
from custom_components.grid_ems.netflex import Command, Refusal
from tests.ha_fixtures import describe_in_logbook
from tests.simulated_site import CHARGER, EV_CURRENT, EV_SWITCH, PV_LIMIT, asset

from .conftest import (
    ASSETS,
    BESS_SOURCE,
    BESS_TARGET,
    BOILER,
    ENFORCEMENT_OPTIONS,
    GRID_POWER,
    PV_Q,
    Events,
    Site,
    start_site,
)


def entity(hass: HomeAssistant, site: Site, platform: str, key: str) -> str:
    """Entity id of one of the link's entities, by its unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{site.entry.entry_id}_{key}")
    assert found is not None, key
    return found


def subentry_id(site: Site, title: str) -> str:
    found: str = next(
        sub.subentry_id for sub in site.entry.subentries.values() if sub.title == title
    )
    return found


async def test_entities_at_rest(hass: HomeAssistant, site: Site) -> None:
    """Idle at the start-up state; the headroom follows the grid power."""
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "idle"
    assert site.value(entity(hass, site, "sensor", "active_constraint")) == "none"
    assert site.value(entity(hass, site, "sensor", "constraint_source")) == "none"
    assert site.number(entity(hass, site, "sensor", "injection_headroom")) == 105.0
    assert site.number(entity(hass, site, "sensor", "consumption_headroom")) == 95.0
    pv_limit = entity(hass, site, "sensor", f"applied_limit_{subentry_id(site, 'PV')}")
    # A free asset may use its full power: never "unknown" on a healthy site.
    assert site.number(pv_limit) == 50.0  # the PV's installed power
    state = hass.states.get(pv_limit)
    assert state is not None
    assert state.attributes["friendly_name"] == "PV Applied limit"
    assert state.attributes["constraint"] == "none"
    assert site.value(entity(hass, site, "switch", "self_consumption")) == "off"
    assert site.value(entity(hass, site, "number", "peak_shaving_target")) == "2.5"
    # Nothing written.
    assert site.number(PV_LIMIT) == 100.0
    assert site.value(BESS_SOURCE) == "local"


async def test_emergency_stop_production_and_exact_release(
    hass: HomeAssistant, site: Site, actions: Events
) -> None:
    """PV to its minimum, battery discharge off; the release restores what the EMS changed."""
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": BESS_TARGET, "value": 10}, blocking=True
    )
    await hass.services.async_call(
        "input_select",
        "select_option",
        {"entity_id": BESS_SOURCE, "option": "remote"},
        blocking=True,
    )
    site.set_power("sensor.bess_power", 10.0)
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, 1)
    assert site.number(PV_LIMIT) == 1.0
    assert site.number(BESS_TARGET) == 0.0
    assert site.value(EV_SWITCH) == "on"
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "emergency_stop"
    assert site.value(entity(hass, site, "sensor", "active_constraint")) == (
        "emergency_stop_production"
    )
    assert site.value(entity(hass, site, "sensor", "constraint_source")) == "dso"
    pv_limit = hass.states.get(
        entity(hass, site, "sensor", f"applied_limit_{subentry_id(site, 'PV')}")
    )
    assert pv_limit is not None
    assert pv_limit.state == "0.5"
    assert pv_limit.attributes["constraint"] == "emergency_stop_production"
    # Every action names the command that caused it.
    written = {action["entity_id"]: action for action in actions}
    assert written[PV_LIMIT]["value"] == 1.0
    assert written[PV_LIMIT]["command"] == "emergency_stop_production"
    assert written[PV_LIMIT]["command_value"] is True
    assert written[PV_LIMIT]["ok"] is True
    line = describe_in_logbook(hass, Event(EVENT_ENFORCEMENT_ACTION, written[PV_LIMIT]))
    at = dt_util.as_local(dt_util.parse_datetime(written[PV_LIMIT]["command_time"]))  # type: ignore[arg-type]
    assert line == {
        "name": "Grid EMS enforcement",
        "message": "Set to 1.0 for Emergency stop production (Grid operator), after the command "
        f"Emergency stop production = on at {at:%H:%M:%S}",
        "entity_id": PV_LIMIT,
    }
    actions.clear()
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, 0)
    # The battery goes back once the grid power shows the site can take it.
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert site.number(BESS_TARGET) == 10.0
    assert site.value(BESS_SOURCE) == "remote"
    assert all(action["restore"] for action in actions)
    line = describe_in_logbook(hass, Event(EVENT_ENFORCEMENT_ACTION, actions[0]))
    assert line["message"].startswith("Restored to ")
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "idle"


async def test_emergency_stop_acts_while_its_state_is_saved(
    hass: HomeAssistant, site: Site
) -> None:
    """The site obeys a stop before the disk write ends; the grid operator after it."""
    saving, release, pv_written = asyncio.Event(), asyncio.Event(), asyncio.Event()
    original_save = DsoStateStore.async_save

    async def slow_save(store: DsoStateStore, data: Any) -> None:
        saving.set()
        await release.wait()
        await original_save(store, data)

    @callback
    def written(event: Event) -> None:
        if event.data["entity_id"] == PV_LIMIT and event.data["ok"]:
            pv_written.set()

    hass.bus.async_listen(EVENT_ENFORCEMENT_ACTION, written)
    with patch.object(DsoStateStore, "async_save", slow_save):
        command = asyncio.ensure_future(
            site.link.async_simulate_command(Command.EMERGENCY_STOP_PRODUCTION, 1)
        )
        await asyncio.wait_for(saving.wait(), 5)
        await asyncio.wait_for(pv_written.wait(), 5)
        assert site.number(PV_LIMIT) == 1.0
        assert not command.done()
        assert site.link.data.state.stop_production is False  # not yet confirmed
        release.set()
        record = await command
    assert record.accepted
    assert site.link.data.state.stop_production is True


async def test_stop_whose_state_cannot_be_saved_is_undone(
    hass: HomeAssistant, site: Site, actions: Events
) -> None:
    """Refused (not on disk): the site goes back to what the grid operator still sees."""

    async def failing_save(store: DsoStateStore, data: Any) -> None:
        raise OSError(28, "No space left on device")

    with patch.object(DsoStateStore, "async_save", failing_save):
        record = await site.link.async_simulate_command(Command.EMERGENCY_STOP_PRODUCTION, 1)
    assert record.refusal is Refusal.NOT_PERSISTED
    # Released as any stop is: once the grid power shows the site can take it.
    await site.grid(5.0)
    assert site.number(PV_LIMIT) == 100.0
    assert [(action["entity_id"], action["value"]) for action in actions] == [
        (PV_LIMIT, 1.0),
        (PV_LIMIT, 100.0),
    ]
    assert actions[-1]["restore"] is True
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "idle"


async def test_action_log_is_written_within_a_minute_of_an_action(
    hass: HomeAssistant, site: Site, hass_storage: dict[str, Any]
) -> None:
    """Not pushed back by the actions that follow (a flash card is not rewritten each time)."""
    key = f"grid_ems.{site.entry.entry_id}.actions"
    start = dt_util.utcnow()
    await site.command(Command.MAX_SET_AP, 40.0)
    assert key not in hass_storage
    async_fire_time_changed(hass, start + timedelta(seconds=40))
    await site.command(Command.MAX_SET_AP, 30.0)
    async_fire_time_changed(hass, start + timedelta(seconds=61))
    await hass.async_block_till_done()
    logged = [action["value"] for action in hass_storage[key]["data"]["actions"]]
    assert logged == [40.0, 30.0]


async def test_emergency_stop_consumption(hass: HomeAssistant, site: Site) -> None:
    """Loads off (the charger throttled to its minimum and switched off)."""
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, 1)
    assert site.value(EV_SWITCH) == "off"
    assert site.number(EV_CURRENT) == 6.0
    assert site.value(BOILER) == "off"
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, 0)
    await site.tick()
    assert site.value(EV_SWITCH) == "on"
    assert site.value(BOILER) == "on"
    assert site.number(EV_CURRENT) == 32.0


async def test_asset_limit_ramps_back(hass: HomeAssistant, site: Site) -> None:
    """MAXSETAP at once; its release on the ramp (100 %/s here)."""
    await site.command(Command.MAX_SET_AP, 30.0)
    assert site.number(PV_LIMIT) == 30.0
    await site.command(Command.MAX_SET_AP, 100.0)
    assert site.number(PV_LIMIT) == 30.0
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "releasing"
    await site.tick(0.5)
    assert site.number(PV_LIMIT) == 80.0
    await site.tick(0.5)
    assert site.number(PV_LIMIT) == 100.0


async def test_export_limit_closed_loop(hass: HomeAssistant, site: Site) -> None:
    """Too much export: the battery takes it over (command source first)."""
    await site.grid(-30.0)
    await site.command(Command.MIN_SET_P, 10.0)
    assert site.value(BESS_SOURCE) == "remote"
    assert site.number(BESS_TARGET) == -20.5
    assert site.number(entity(hass, site, "sensor", "injection_headroom")) == -20.0
    assert site.value(entity(hass, site, "sensor", "active_constraint")) == "max_injection"


def edited(subentry: ConfigSubentryData, changes: dict[str, Any]) -> ConfigSubentryData:
    """The asset with some of its data changed."""
    return {**subentry, "data": {**subentry["data"], **changes}}


PV, BATTERY = ASSETS[:2]
BATTERY_CONTROL = BATTERY["data"][CONF_CONTROL]


@pytest.mark.parametrize(
    "assets",
    [[edited(BATTERY, {CONF_CONTROL: {**BATTERY_CONTROL, CONF_CHARGE_POSITIVE: True}})]],
)
@pytest.mark.usefixtures("helpers")
async def test_battery_setpoint_that_counts_charging_positive(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> None:
    """The same charge as above, written with the battery's own sign."""
    site = await start_site(hass, link_entry)
    await site.grid(-30.0)
    await site.command(Command.MIN_SET_P, 10.0)
    assert site.number(BESS_TARGET) == 20.5
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_remote_q(hass: HomeAssistant, site: Site) -> None:
    """Remote Q mode writes the Q setpoint; local mode gives it back."""
    await site.command(Command.MIN_SET_Q, 5.0)
    await site.command(Command.Q_MODE, 2)
    assert site.number(PV_Q) == 5.0
    await site.command(Command.Q_MODE, 1)
    assert site.number(PV_Q) == 0.0


@pytest.mark.parametrize(
    "assets",
    # The PV's Q setpoint doubles as its Q sensor (an inverter that follows exactly).
    [
        [
            edited(PV, {CONF_Q_SENSOR: PV_Q}),
            edited(BATTERY, {CONF_Q_SENSOR: "sensor.bess_reactive"}),
        ]
    ],
)
@pytest.mark.usefixtures("helpers")
async def test_remote_q_closed_on_the_assets_q_sensors(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> None:
    """The battery's 30 kvar put the site out of the +-10 kvar band: the PV takes them back."""
    hass.states.async_set("sensor.bess_reactive", "30", {"unit_of_measurement": "kvar"})
    site = await start_site(hass, link_entry)
    await site.command(Command.MIN_SET_Q, -10.0)
    await site.command(Command.MAX_SET_Q, 10.0)
    await site.command(Command.Q_MODE, 2)
    assert site.number(PV_Q) == 0.0
    await site.tick()
    assert site.number(PV_Q) == -30.0
    await site.tick()
    assert site.number(PV_Q) == -30.0
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_self_consumption_and_peak_shaving_entities(hass: HomeAssistant, site: Site) -> None:
    """The optimization switches and the target steer the battery and survive a restart."""
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": entity(hass, site, "switch", "self_consumption")},
        blocking=True,
    )
    # 5 kW import at the start: the battery covers it; the grid shows 0 since.
    assert site.number(BESS_TARGET) == 5.0
    await site.grid(0.0)
    assert site.number(BESS_TARGET) == 5.0
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "optimizing"
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": entity(hass, site, "switch", "peak_shaving")},
        blocking=True,
    )
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity(hass, site, "number", "peak_shaving_target"), "value": 7.5},
        blocking=True,
    )
    assert site.enforcement.peak_shaving
    assert site.enforcement.peak_shaving_target_kw == 7.5
    await hass.config_entries.async_reload(site.entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert site.value(entity(hass, site, "switch", "self_consumption")) == "on"
    assert site.value(entity(hass, site, "switch", "peak_shaving")) == "on"
    assert site.value(entity(hass, site, "number", "peak_shaving_target")) == "7.5"
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity(hass, site, "switch", "self_consumption")},
        blocking=True,
    )
    assert site.value(entity(hass, site, "switch", "self_consumption")) == "off"


async def test_restart_keeps_what_the_ems_held(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> None:
    """The restored DSO state is enforced at start, and a later release restores the original."""
    site = await start_site(hass, link_entry)
    await site.command(Command.MAX_SET_AP, 40.0)
    assert site.number(PV_LIMIT) == 40.0
    assert await hass.config_entries.async_unload(link_entry.entry_id)
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": PV_LIMIT, "value": 100}, blocking=True
    )
    site = await start_site(hass, link_entry)
    # Enforced again at once, from the stored DSO state.
    assert site.number(PV_LIMIT) == 40.0
    await site.command(Command.MAX_SET_AP, 100.0)
    await site.tick()
    # 100 %, from before the EMS first touched it, not the 40 % it found at the restart.
    assert site.number(PV_LIMIT) == 100.0
    # The actions before the restart are still in the audit trail, each with its command.
    logged = [
        (action["value"], action["restore"], action["command_value"])
        for action in site.enforcement.actions
        if action["entity_id"] == PV_LIMIT
    ]
    # Held, held again after the restart, ramped back and restored, by the commands of 40 and 100 %.
    assert logged[:2] == [(40.0, False, 40.0)] * 2
    assert all(40 < value < 100 and cause == 100.0 for value, _, cause in logged[2:-1])
    assert logged[-1] == (100.0, True, 100.0)
    assert await hass.config_entries.async_unload(link_entry.entry_id)


@pytest.mark.parametrize(
    "link_options",
    [
        {
            "test_mode": True,
            CONF_ENFORCEMENT: {
                **ENFORCEMENT_OPTIONS,
                CONF_LINK_LOSS_TIMEOUT: 60,
                CONF_LINK_LOSS_FALLBACK: 50.0,
            },
        }
    ],
)
async def test_lost_link_falls_back_after_the_timeout(hass: HomeAssistant, site: Site) -> None:
    """No RTU: the last limits hold for the timeout, then the fallback applies."""
    await site.command(Command.MAX_SET_AP, 80.0)
    assert site.number(PV_LIMIT) == 80.0
    await site.tick(59.0)
    assert site.number(PV_LIMIT) == 80.0
    await site.tick(2.0)
    assert site.number(PV_LIMIT) == 50.0
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "fail_safe"
    assert site.value(entity(hass, site, "sensor", "constraint_source")) == "link_lost"


async def setup_follower(
    hass: HomeAssistant,
    name: str,
    helper: str,
    before_write: dict[str, Any],
    number: dict[str, Any],
) -> None:
    """A template number showing an input_number ``helper``; a write runs ``before_write`` (a
    condition that may stop it, a delay...), then sets the helper."""
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "number": [
                        {
                            "name": name,
                            "state": f"{{{{ states('{helper}') }}}}",
                            **number,
                            "set_value": [
                                before_write,
                                {
                                    "action": "input_number.set_value",
                                    "target": {"entity_id": helper},
                                    "data": {"value": "{{ value }}"},
                                },
                            ],
                        }
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()


STUCK_CHARGER = "number.charger_current"
CHARGER_WORKS = "input_boolean.charger_works"


@pytest.fixture
async def stuck_charger(hass: HomeAssistant, helpers: None) -> None:
    """A charger current (template number) that ignores writes while it does not work."""
    await setup_follower(
        hass,
        "Charger current",
        EV_CURRENT,
        {"condition": "state", "entity_id": CHARGER_WORKS, "state": "on"},
        {"min": 0, "max": 32, "step": 1, "unit_of_measurement": "A"},
    )


@pytest.mark.usefixtures("stuck_charger")
@pytest.mark.parametrize(
    "assets",
    [[asset("Charger", "ev", 22.08, "sensor.ev_power", {CONF_POWER_ENTITY: STUCK_CHARGER})]],
)
async def test_failed_write_raises_an_issue_and_lowers_the_feedback(
    hass: HomeAssistant, link_entry: MockConfigEntry, actions: Events
) -> None:
    """A setpoint the device does not follow: retried, a repair issue, invalid feedback; until
    it follows again."""
    site = await start_site(hass, link_entry)
    feedback: list[tuple[Command, Quality]] = []
    original = site.link.async_set_feedback_quality

    def spy(command: Command, quality: Quality) -> None:
        feedback.append((command, quality))
        original(command, quality)

    site.link.async_set_feedback_quality = spy  # type: ignore[method-assign]
    await site.command(Command.MIN_SET_AP, 50.0)
    failed = [action for action in actions if not action["ok"]]
    assert [action["entity_id"] for action in failed] == [STUCK_CHARGER]
    assert failed[0]["command"] == "min_set_ap"
    line = describe_in_logbook(hass, Event(EVENT_ENFORCEMENT_ACTION, failed[0]))
    assert line["entity_id"] == STUCK_CHARGER
    assert line["message"].startswith(
        "Failed: Set to 16.0 for Max asset consumption (MINSETAP) (Grid operator), after the "
        "command Asset consumption limit setpoint = 50 % at "
    )
    assert line["message"].endswith(" (it still shows 32.0)")
    issue_id = f"enforcement_write_failed_{STUCK_CHARGER}"
    assert (DOMAIN, issue_id) in ir.async_get(hass).issues
    assert feedback == [(Command.MIN_SET_AP, Quality.INVALID)]
    diagnostics = await async_get_config_entry_diagnostics(hass, site.entry)
    assert STUCK_CHARGER in diagnostics["runtime"]["enforcement"]["failures"]
    # Not hammered: the next steps wait for the backoff.
    await site.tick(1.0)
    assert len([action for action in actions if not action["ok"]]) == 1
    # The charger works again: the next attempt succeeds and everything clears.
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": CHARGER_WORKS}, blocking=True
    )
    await site.tick(10.0)
    assert site.number(STUCK_CHARGER) == 16.0
    assert (DOMAIN, issue_id) not in ir.async_get(hass).issues
    assert feedback[-1] == (Command.MIN_SET_AP, Quality.GOOD)
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_diagnostics(hass: HomeAssistant, site: Site) -> None:
    """The enforcement's state is in the link's diagnostics."""
    await site.command(Command.MAX_SET_AP, 40.0)
    diagnostics = await async_get_config_entry_diagnostics(hass, site.entry)
    enforcement: dict[str, Any] = diagnostics["runtime"]["enforcement"]
    assert enforcement["state"] == "limiting"
    assert enforcement["active"] == {"constraint": "max_asset_production", "source": "dso"}
    assert PV_LIMIT in enforcement["held"]
    assert enforcement["actions"][-1]["entity_id"] == PV_LIMIT


async def test_unload_leaves_nothing_running(hass: HomeAssistant, site: Site) -> None:
    """Unloading stops the loop and keeps the held entities for the next start."""
    await site.command(Command.MAX_SET_AP, 40.0)
    assert await hass.config_entries.async_unload(site.entry.entry_id)
    assert site.entry.state is ConfigEntryState.NOT_LOADED
    # A step scheduled before the unload does nothing.
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": PV_LIMIT, "value": 100}, blocking=True
    )
    site.enforcement.async_step()
    await site.settle()
    assert site.number(PV_LIMIT) == 100.0


SLOW_Q = "number.slow_reactive_power"


@pytest.fixture
async def slow_q(hass: HomeAssistant, helpers: None) -> None:
    """A reactive power setpoint that takes a moment to apply (a slow inverter or gateway)."""
    await setup_follower(
        hass,
        "Slow reactive power",
        PV_Q,
        {"delay": 0.05},
        {"min": -50, "max": 50, "step": 0.1, "unit_of_measurement": "kvar"},
    )


@pytest.mark.usefixtures("slow_q")
@pytest.mark.parametrize(
    "assets",
    [[asset("PV", "solar", 50.0, "sensor.pv_power", {CONF_Q_ENTITY: SLOW_Q})]],
)
async def test_release_during_a_write_still_restores(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> None:
    """Released while the EMS's write is still on its way: once it lands, it is restored."""
    site = await start_site(hass, link_entry)
    writing = asyncio.Event()

    @callback
    def service_called(event: Event) -> None:
        if event.data["domain"] == "number":
            writing.set()

    hass.bus.async_listen(EVENT_CALL_SERVICE, service_called)
    await site.command(Command.MIN_SET_Q, 5.0)
    await site.link.async_simulate_command(Command.Q_MODE, 2)
    async with asyncio.timeout(5):
        await writing.wait()
    # Back to local Q control while the 5 kvar are still on their way to the inverter.
    await site.link.async_simulate_command(Command.Q_MODE, 1)
    await site.settle()
    assert site.number(SLOW_Q) == 0.0
    # The next step sees the restore landed and lets the entity go.
    await site.tick(0.0)
    assert site.enforcement.controller.ledger.entities() == []
    assert await hass.config_entries.async_unload(link_entry.entry_id)


@pytest.mark.parametrize(
    "assets",
    [
        [
            asset(
                "Boiler",
                "flexible_consumption",
                5.0,
                "sensor.boiler_power",
                {"switch_entity": "input_boolean.missing"},
            ),
            asset(
                "PV",
                "solar",
                50.0,
                "sensor.pv_power",
                {CONF_POWER_ENTITY: "sensor.not_a_setpoint", "power_unit": "kW"},
            ),
        ]
    ],
)
async def test_writes_that_cannot_work_fail_cleanly(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry, actions: Events
) -> None:
    """An entity without the service, or one that is gone: failed, recorded, raised."""
    site = await start_site(hass, link_entry)
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, 1)
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, 1)
    errors = {action["entity_id"]: action["error"] for action in actions if not action["ok"]}
    assert set(errors) == {"sensor.not_a_setpoint", "input_boolean.missing"}
    assert errors["sensor.not_a_setpoint"] == "no action sensor.set_value"
    issues = ir.async_get(hass).issues
    assert (DOMAIN, "enforcement_write_failed_input_boolean.missing") in issues
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_grid_power_sensor_changes_and_bad_readings(hass: HomeAssistant, site: Site) -> None:
    """A new grid sensor in the options is followed at once; an unreadable one counts as lost."""
    await site.command(Command.MAX_SET_P, 50.0)
    assert site.number(entity(hass, site, "sensor", "consumption_headroom")) == 45.0
    hass.states.async_set("sensor.other_grid", "2000", {"unit_of_measurement": "W"})
    hass.config_entries.async_update_entry(
        site.entry,
        options={
            **site.entry.options,
            CONF_ENFORCEMENT: {**ENFORCEMENT_OPTIONS, "grid_power_sensor": "sensor.other_grid"},
        },
    )
    await site.settle()
    await site.tick(0.0)
    assert site.number(entity(hass, site, "sensor", "consumption_headroom")) == 48.0
    hass.states.async_set("sensor.other_grid", "garbage", {"unit_of_measurement": "W"})
    await site.settle()
    await site.tick(0.0)
    assert site.value(entity(hass, site, "sensor", "consumption_headroom")) == "unknown"
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "fail_safe"


async def test_steady_grid_power_is_not_lost(hass: HomeAssistant, site: Site) -> None:
    """A sensor that reports the same value again (no state change) is still a live reading."""
    await site.command(Command.MAX_SET_P, 50.0)
    for _second in range(15):
        site.now += 1.0
        hass.states.async_set(GRID_POWER, "5.0", {"unit_of_measurement": "kW"})
        await site.tick(0.0)
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "idle"
    assert site.number(entity(hass, site, "sensor", "consumption_headroom")) == 45.0
    # Silent for longer than the loop allows: lost.
    await site.tick(11.0)
    assert site.value(entity(hass, site, "sensor", "enforcement_state")) == "fail_safe"


async def test_owner_change_while_held_is_left_alone(hass: HomeAssistant, site: Site) -> None:
    """The owner lowers a limit the EMS holds: theirs stands, and the release keeps it."""
    await site.command(Command.MAX_SET_AP, 50.0)
    assert site.number(PV_LIMIT) == 50.0
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": PV_LIMIT, "value": 10}, blocking=True
    )
    await site.tick(0.0)
    await site.command(Command.MAX_SET_AP, 100.0)
    await site.tick(1.0)
    assert site.number(PV_LIMIT) == 10.0


async def test_diagnostics_at_rest(hass: HomeAssistant, site: Site) -> None:
    """Nothing active: no constraint in the diagnostics."""
    diagnostics = await async_get_config_entry_diagnostics(hass, site.entry)
    assert diagnostics["runtime"]["enforcement"]["active"] is None
    assert diagnostics["runtime"]["enforcement"]["link_up"] is False


@pytest.mark.usefixtures("helpers")
async def test_one_accepted_command_runs_one_controller_step(
    hass: HomeAssistant, link_entry: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link hands each accepted command to the enforcement once: one controller step."""
    # No beat during the test: only the command steps the controller.
    monkeypatch.setattr(enforcement_coordinator, "TICK", timedelta(hours=1))
    site = await start_site(hass, link_entry)
    steps: list[float] = []
    step = Controller.step

    def counted(controller: Controller, control_input: ControlInput, now: float) -> Decision:
        steps.append(now)
        return step(controller, control_input, now)

    monkeypatch.setattr(Controller, "step", counted)
    for command, value in ((Command.MAX_SET_P, 50.0), (Command.EMERGENCY_STOP_PRODUCTION, 1)):
        before = len(steps)
        record = await site.link.async_simulate_command(command, value)
        assert record.accepted
        await site.settle()  # its writes done, and whatever they would trigger
        assert len(steps) - before == 1
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_the_site_is_taken_again_only_when_it_changes(
    hass: HomeAssistant, site: Site
) -> None:
    """The control setup is kept across steps and taken again after a change of the site."""
    setup = site.enforcement.controller.setup
    for _ in range(3):
        await site.tick()
    assert site.enforcement.controller.setup is setup
    # A new value of a setpoint entity is no change of the site.
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": BESS_TARGET, "value": 5.0}, blocking=True
    )
    await site.tick()
    assert site.enforcement.controller.setup is setup
    # A new range is (a battery's can follow its state of energy).
    state = hass.states.get(BESS_TARGET)
    assert state is not None
    hass.states.async_set(BESS_TARGET, state.state, {**state.attributes, "max": 20.0})
    await site.settle()
    await site.tick()
    ranged = site.enforcement.controller.setup
    assert ranged is not setup
    battery = next(
        control.power
        for control in ranged.assets
        if control.power is not None and control.power.entity_id == BESS_TARGET
    )
    assert battery.maximum == 20.0
    # So is an asset the installer adds.
    hass.config_entries.async_add_subentry(
        site.entry,
        ConfigSubentry(
            data=MappingProxyType(CHARGER["data"]),
            subentry_type=CHARGER["subentry_type"],
            title=CHARGER["title"],
            unique_id=None,
        ),
    )
    await site.settle()  # the link's update listener
    assert site.enforcement.controller.setup is not ranged
    assert len(site.enforcement.controller.setup.assets) == len(ranged.assets) + 1
