"""The enforcement in the flows: an asset's control section, the link's enforcement options."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.grid_ems.enforcement import (
    CONF_CHARGE_POSITIVE,
    CONF_COMMAND_SOURCE_ENTITY,
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_GRID_POWER_SENSOR,
    CONF_LINK_LOSS_FALLBACK,
    CONF_LINK_LOSS_TIMEOUT,
    CONF_LOCAL_STOP_CONSUMPTION,
    CONF_LOCAL_STOP_PRODUCTION,
    CONF_MARGIN,
    CONF_MINIMUM,
    CONF_PHASE_VOLTAGE,
    CONF_PHASES,
    CONF_POWER_ENTITY,
    CONF_POWER_UNIT,
    CONF_Q_ENTITY,
    CONF_RAMP,
    CONF_REMOTE_OPTION,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
    settings_from_options,
)
from custom_components.grid_ems.grid_link import SUBENTRY_ASSET, GridLinkData
from demo.site import link_options_form
from tests.simulated_site import EV_CURRENT, PV_LIMIT

from .conftest import BESS_SOURCE, BESS_TARGET, BOILER, PV_Q, Site

UNITLESS = "input_number.unitless"


def asset_input(category: str, control: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "New asset",
        "category": category,
        "installed_power_kw": 10.0,
        "p_sensor": "sensor.new_power",
        "invert_sign": False,
        CONF_CONTROL: control,
    }


async def add_asset(hass: HomeAssistant, site: Site, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (site.entry.entry_id, SUBENTRY_ASSET), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)


async def test_asset_with_control(hass: HomeAssistant, site: Site) -> None:
    """The control section is stored with the asset, blanks left out, numbers as numbers."""
    result = await add_asset(
        hass,
        site,
        asset_input(
            "ev",
            {
                CONF_POWER_ENTITY: EV_CURRENT,
                CONF_MINIMUM: "6",
                CONF_PHASES: "1",
                CONF_SWITCH_ENTITY: BOILER,
                CONF_REMOTE_OPTION: " ",
            },
        ),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(sub for sub in site.entry.subentries.values() if sub.title == "New asset")
    assert subentry.data[CONF_CONTROL] == {
        CONF_POWER_ENTITY: EV_CURRENT,
        CONF_MINIMUM: 6.0,
        CONF_PHASES: 1,
        CONF_SWITCH_ENTITY: BOILER,
    }


async def test_one_asset_control_is_not_suggested_for_the_next(
    hass: HomeAssistant, site: Site
) -> None:
    """Editing an asset with control values, then adding one: the new form suggests only the
    defaults (three phases at 230 V)."""
    battery = next(sub for sub in site.entry.subentries.values() if CONF_CONTROL in sub.data)
    edit = await hass.config_entries.subentries.async_init(
        (site.entry.entry_id, SUBENTRY_ASSET),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": battery.subentry_id},
    )
    defaults = {CONF_PHASES: "3", CONF_PHASE_VOLTAGE: 230.0}
    assert _suggested_control(edit) == defaults | battery.data[CONF_CONTROL]
    new = await hass.config_entries.subentries.async_init(
        (site.entry.entry_id, SUBENTRY_ASSET), context={"source": SOURCE_USER}
    )
    assert _suggested_control(new) == defaults


def _suggested_control(result: Any) -> dict[str, Any]:
    """The suggested values of the form's control section."""
    control = next(
        value for key, value in result["data_schema"].schema.items() if key == CONF_CONTROL
    )
    return {
        str(marker): marker.description["suggested_value"]
        for marker in control.schema.schema
        if marker.description and "suggested_value" in marker.description
    }


async def test_asset_without_control(hass: HomeAssistant, site: Site) -> None:
    """An asset the EMS only measures has no control data."""
    result = await add_asset(hass, site, asset_input("solar", {}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(sub for sub in site.entry.subentries.values() if sub.title == "New asset")
    assert CONF_CONTROL not in subentry.data


@pytest.mark.parametrize(
    ("category", "control", "error"),
    [
        ("solar", {CONF_POWER_ENTITY: UNITLESS}, "control_unit_required"),
        ("solar", {CONF_Q_ENTITY: UNITLESS}, "control_unit_required"),
        (
            "storage",
            {CONF_POWER_ENTITY: BESS_TARGET, CONF_SWITCH_ENTITY: BOILER},
            "control_switch_not_for_storage",
        ),
        (
            "solar",
            {CONF_POWER_ENTITY: PV_LIMIT, CONF_SOE_SENSOR: "sensor.bess_soe"},
            "control_battery_only",
        ),
        (
            "solar",
            {CONF_POWER_ENTITY: PV_LIMIT, CONF_CHARGE_POSITIVE: True},
            "control_battery_only",
        ),
        (
            "storage",
            {CONF_COMMAND_SOURCE_ENTITY: BESS_SOURCE, CONF_REMOTE_OPTION: "ems"},
            "control_unknown_option",
        ),
    ],
)
async def test_control_errors(
    hass: HomeAssistant, site: Site, category: str, control: dict[str, Any], error: str
) -> None:
    """A control section that cannot work is refused, on the section."""
    hass.states.async_set(UNITLESS, "5", {"min": 0, "max": 10, "step": 1})
    result = await add_asset(hass, site, asset_input(category, control))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CONTROL: error}


async def test_control_unit_chosen_for_a_unitless_entity(hass: HomeAssistant, site: Site) -> None:
    """Choosing the unit makes a unitless entity usable."""
    hass.states.async_set(UNITLESS, "5", {"min": 0, "max": 10, "step": 1})
    result = await add_asset(
        hass, site, asset_input("solar", {CONF_POWER_ENTITY: UNITLESS, CONF_POWER_UNIT: "kW"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_enforcement_options(hass: HomeAssistant, site: Site) -> None:
    """The link's options carry the enforcement section; the running loop uses it at once."""
    result = await hass.config_entries.options.async_init(site.entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    user_input = link_options_form(
        test_mode=True,
        **{
            CONF_ENFORCEMENT: {
                CONF_GRID_POWER_SENSOR: "sensor.grid_power",
                CONF_RAMP: 5,
                CONF_MARGIN: 1,
                CONF_LINK_LOSS_TIMEOUT: 900,
                CONF_LINK_LOSS_FALLBACK: 40,
            },
        },
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert site.entry.options[CONF_ENFORCEMENT] == {
        CONF_GRID_POWER_SENSOR: "sensor.grid_power",
        CONF_RAMP: 5.0,
        CONF_MARGIN: 1.0,
        CONF_LINK_LOSS_TIMEOUT: 900,
        CONF_LINK_LOSS_FALLBACK: 40.0,
    }
    # New IOAs reload the link; the enforcement reads its options at every step.
    await hass.async_block_till_done(wait_background_tasks=True)
    data = site.entry.runtime_data
    assert isinstance(data, GridLinkData)
    data.enforcement.async_step()
    settings = data.enforcement.controller.setup.settings
    assert settings.ramp_pct_per_s == 5.0
    assert settings.link_loss.timeout_s == 900.0
    assert settings.link_loss.max_injection_pct == 40.0


async def test_local_stop_inputs_in_the_options(hass: HomeAssistant, site: Site) -> None:
    """The installer picks a binary sensor per local stop; the running link follows it at once."""
    hass.states.async_set("binary_sensor.estop", "off")
    hass.states.async_set("binary_sensor.estop_loads", "off")
    result = await hass.config_entries.options.async_init(site.entry.entry_id)
    user_input = link_options_form(
        test_mode=True,
        **{
            CONF_ENFORCEMENT: {
                CONF_RAMP: 100,
                CONF_MARGIN: 0.5,
                CONF_LINK_LOSS_TIMEOUT: 0,
                CONF_LINK_LOSS_FALLBACK: 100,
                CONF_LOCAL_STOP_PRODUCTION: "binary_sensor.estop",
                CONF_LOCAL_STOP_CONSUMPTION: "binary_sensor.estop_loads",
            },
        },
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = site.entry.options[CONF_ENFORCEMENT]
    assert options[CONF_LOCAL_STOP_PRODUCTION] == "binary_sensor.estop"
    assert options[CONF_LOCAL_STOP_CONSUMPTION] == "binary_sensor.estop_loads"
    await hass.async_block_till_done(wait_background_tasks=True)
    hass.states.async_set("binary_sensor.estop", "on")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert site.number(PV_LIMIT) == 1.0


def test_settings_default_without_options() -> None:
    """No enforcement options yet: the defaults, and the last limits kept on a lost link."""
    settings = settings_from_options({})
    assert settings.ramp_pct_per_s == 10.0
    assert settings.link_loss.timeout_s is None


async def test_q_unit_from_the_entity(hass: HomeAssistant, site: Site) -> None:
    """A Q setpoint's unit comes from the entity when not chosen."""
    result = await add_asset(hass, site, asset_input("solar", {CONF_Q_ENTITY: PV_Q}))
    assert result["type"] is FlowResultType.CREATE_ENTRY
