"""The enforcement's configuration: an asset's control section, the link's enforcement options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.select import ATTR_OPTIONS
from homeassistant.const import (
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import (
    HomeAssistant,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from ..control.model import (
    ControlSettings,
    LinkLossPolicy,
)
from ..netflex import AssetCategory
from .const import (
    CONF_CHARGE_POSITIVE,
    CONF_COMMAND_SOURCE_ENTITY,
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
    CONF_Q_UNIT,
    CONF_RAMP,
    CONF_REMOTE_OPTION,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
    DEFAULT_PHASE_VOLTAGE,
    DEFAULT_PHASES,
    DEFAULT_REMOTE_OPTION,
)
from .readings import POWER_UNITS, REACTIVE_UNITS, unit_of

if TYPE_CHECKING:
    pass


# --- Configuration: the control section of an asset subentry ---


_NUMBER_DOMAINS: Final = ["number", "input_number"]
_SWITCH_DOMAINS: Final = ["switch", "input_boolean"]
_SELECT_DOMAINS: Final = ["select", "input_select"]
_OPTIONAL_NUMBER: Final = NumberSelector(
    NumberSelectorConfig(step="any", mode=NumberSelectorMode.BOX)
)

CONTROL_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_POWER_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=_NUMBER_DOMAINS)
        ),
        vol.Optional(CONF_POWER_UNIT): SelectSelector(
            SelectSelectorConfig(options=[unit.value for unit in POWER_UNITS])
        ),
        vol.Optional(CONF_CHARGE_POSITIVE): BooleanSelector(),
        vol.Optional(CONF_MINIMUM): _OPTIONAL_NUMBER,
        vol.Optional(CONF_PHASES): SelectSelector(SelectSelectorConfig(options=["1", "3"])),
        vol.Optional(CONF_PHASE_VOLTAGE): _OPTIONAL_NUMBER,
        vol.Optional(CONF_SWITCH_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=_SWITCH_DOMAINS)
        ),
        vol.Optional(CONF_COMMAND_SOURCE_ENTITY): EntitySelector(
            EntitySelectorConfig(domain=_SELECT_DOMAINS)
        ),
        vol.Optional(CONF_REMOTE_OPTION): TextSelector(),
        vol.Optional(CONF_SOE_SENSOR): EntitySelector(EntitySelectorConfig(domain="sensor")),
        vol.Optional(CONF_Q_ENTITY): EntitySelector(EntitySelectorConfig(domain=_NUMBER_DOMAINS)),
        vol.Optional(CONF_Q_UNIT): SelectSelector(
            SelectSelectorConfig(options=[unit.value for unit in REACTIVE_UNITS])
        ),
    }
)
"""How the EMS controls an asset: a power number (W, kW, % or A; for a battery its signed
setpoint, + discharge unless it counts charging positive), a switch, a battery's command source,
its state of energy, a Q number."""


CONTROL_DEFAULTS: Final[Mapping[str, Any]] = {
    CONF_PHASES: str(DEFAULT_PHASES),
    CONF_PHASE_VOLTAGE: DEFAULT_PHASE_VOLTAGE,
}
"""What the control section's form shows selected when the asset does not say otherwise."""


def control_data(section: Mapping[str, Any]) -> dict[str, Any]:
    """The control section of an asset form, normalized for the subentry's data.

    Blanks and the defaults the form shows are left out: an asset the EMS only measures has none.
    """
    data: dict[str, Any] = {}
    for key, value in section.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        match key:
            case "phases":
                data[key] = int(value)
            case "minimum" | "phase_voltage":
                data[key] = float(value)
            case _:
                data[key] = value.strip() if isinstance(value, str) else value
    if data.get(CONF_PHASES) == DEFAULT_PHASES:
        del data[CONF_PHASES]
    if data.get(CONF_PHASE_VOLTAGE) == DEFAULT_PHASE_VOLTAGE:
        del data[CONF_PHASE_VOLTAGE]
    return data


def validate_control(
    hass: HomeAssistant, category: AssetCategory, control: Mapping[str, Any]
) -> dict[str, str]:
    """Errors of an asset's control section, by field."""
    errors: dict[str, str] = {}
    power_entity = control.get(CONF_POWER_ENTITY)
    if (
        power_entity is not None
        and CONF_POWER_UNIT not in control
        and unit_of(hass.states.get(power_entity), POWER_UNITS) is None
    ):
        errors[CONF_POWER_UNIT] = "control_unit_required"
    q_entity = control.get(CONF_Q_ENTITY)
    if (
        q_entity is not None
        and CONF_Q_UNIT not in control
        and unit_of(hass.states.get(q_entity), REACTIVE_UNITS) is None
    ):
        errors[CONF_Q_UNIT] = "control_unit_required"
    if (source := control.get(CONF_COMMAND_SOURCE_ENTITY)) is not None:
        state = hass.states.get(source)
        options = [] if state is None else state.attributes.get(ATTR_OPTIONS, [])
        if options and control.get(CONF_REMOTE_OPTION, DEFAULT_REMOTE_OPTION) not in options:
            errors[CONF_REMOTE_OPTION] = "control_unknown_option"
    if category is AssetCategory.STORAGE:
        if CONF_SWITCH_ENTITY in control:
            errors[CONF_SWITCH_ENTITY] = "control_switch_not_for_storage"
    elif (
        CONF_COMMAND_SOURCE_ENTITY in control
        or CONF_SOE_SENSOR in control
        or control.get(CONF_CHARGE_POSITIVE)
    ):
        errors["base"] = "control_battery_only"
    return errors


# --- Configuration: the enforcement section of the link's options ---


DEFAULTS: Final = ControlSettings()
DEFAULT_OPTIONS: Final[Mapping[str, Any]] = {
    CONF_RAMP: DEFAULTS.ramp_pct_per_s,
    CONF_MARGIN: DEFAULTS.margin_kw,
    CONF_LINK_LOSS_TIMEOUT: 0,
    CONF_LINK_LOSS_FALLBACK: 100.0,
}

OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_GRID_POWER_SENSOR): EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class="power")
        ),
        vol.Required(CONF_RAMP): NumberSelector(
            NumberSelectorConfig(
                min=0.1, max=100, step="any", unit_of_measurement="%/s", mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_MARGIN): NumberSelector(
            NumberSelectorConfig(
                min=0,
                step="any",
                unit_of_measurement=UnitOfPower.KILO_WATT,
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(CONF_LINK_LOSS_TIMEOUT): NumberSelector(
            NumberSelectorConfig(
                min=0, step=1, unit_of_measurement=UnitOfTime.SECONDS, mode=NumberSelectorMode.BOX
            )
        ),
        vol.Required(CONF_LINK_LOSS_FALLBACK): NumberSelector(
            NumberSelectorConfig(
                min=0, max=100, step="any", unit_of_measurement="%", mode=NumberSelectorMode.BOX
            )
        ),
        vol.Optional(CONF_LOCAL_STOP_PRODUCTION): EntitySelector(
            EntitySelectorConfig(domain="binary_sensor")
        ),
        vol.Optional(CONF_LOCAL_STOP_CONSUMPTION): EntitySelector(
            EntitySelectorConfig(domain="binary_sensor")
        ),
    }
)
"""The loop and its fail-safe: grid power sensor (default: the P1 meter), relaxing ramp, margin
inside connection-point limits, after how long without the RTU (0: never) the P setpoints
fall back to which percentage, and the local emergency stop inputs (on = stop)."""


def enforcement_options(section: Mapping[str, Any]) -> dict[str, Any]:
    """The enforcement section of the link's options form, for the entry's options."""
    options = {
        CONF_RAMP: float(section[CONF_RAMP]),
        CONF_MARGIN: float(section[CONF_MARGIN]),
        CONF_LINK_LOSS_TIMEOUT: int(section[CONF_LINK_LOSS_TIMEOUT]),
        CONF_LINK_LOSS_FALLBACK: float(section[CONF_LINK_LOSS_FALLBACK]),
    }
    for key in (CONF_GRID_POWER_SENSOR, CONF_LOCAL_STOP_PRODUCTION, CONF_LOCAL_STOP_CONSUMPTION):
        if entity_id := section.get(key):
            options[key] = entity_id
    return options


def settings_from_options(options: Mapping[str, Any]) -> ControlSettings:
    """The controller's settings from the link's options (without the local optimization)."""
    section = {**DEFAULT_OPTIONS, **options.get(CONF_ENFORCEMENT, {})}
    timeout = int(section[CONF_LINK_LOSS_TIMEOUT])
    fallback = float(section[CONF_LINK_LOSS_FALLBACK])
    return ControlSettings(
        ramp_pct_per_s=float(section[CONF_RAMP]),
        margin_kw=float(section[CONF_MARGIN]),
        link_loss=LinkLossPolicy(
            timeout_s=float(timeout) if timeout > 0 else None,
            max_injection_pct=fallback,
            max_consumption_pct=fallback,
            max_asset_production_pct=fallback,
            max_asset_consumption_pct=fallback,
        ),
    )
