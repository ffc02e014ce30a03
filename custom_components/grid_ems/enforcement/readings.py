"""Reading entities for the enforcement: their values and units, how an asset is controlled."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.number import ATTR_MAX, ATTR_MIN, ATTR_STEP
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    HomeAssistant,
    State,
)

from ..control.ledger import EntityValue
from ..control.model import (
    AssetControl,
    CommandSource,
)
from ..control.units import NumberControl, Unit
from ..netflex import AssetCategory
from .const import (
    CONF_CHARGE_POSITIVE,
    CONF_COMMAND_SOURCE_ENTITY,
    CONF_CONTROL,
    CONF_MINIMUM,
    CONF_PHASE_VOLTAGE,
    CONF_PHASES,
    CONF_POWER_ENTITY,
    CONF_POWER_UNIT,
    CONF_Q_ENTITY,
    CONF_Q_UNIT,
    CONF_REMOTE_OPTION,
    CONF_SWITCH_ENTITY,
    DEFAULT_PHASE_VOLTAGE,
    DEFAULT_PHASES,
    DEFAULT_REMOTE_OPTION,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry


POWER_UNITS: Final = (Unit.WATT, Unit.KILOWATT, Unit.PERCENT, Unit.AMPERE)
REACTIVE_UNITS: Final = (Unit.VAR, Unit.KILOVAR, Unit.PERCENT)


def unit_of(state: State | None, units: tuple[Unit, ...]) -> Unit | None:
    """The entity's unit if the controller knows it."""
    if state is None:
        return None
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    return next((known for known in units if known.value == unit), None)


def entity_value(state: State | None) -> EntityValue | None:
    """A controlled entity's value: a number, on/off, or an option; None when unavailable."""
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    match state.domain:
        case "switch" | "input_boolean":
            return state.state == STATE_ON
        case "select" | "input_select":
            return state.state
        case _:
            try:
                value = float(state.state)
            except ValueError:
                return None
            return value if math.isfinite(value) else None


def _number(state: State | None, attribute: str) -> float | None:
    value = None if state is None else state.attributes.get(attribute)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _number_control(
    hass: HomeAssistant,
    entity_id: str,
    unit: str | None,
    units: tuple[Unit, ...],
    control: Mapping[str, Any],
) -> NumberControl | None:
    """A number entity as a setpoint, bounded and stepped as its state says."""
    state = hass.states.get(entity_id)
    chosen = Unit(unit) if unit is not None else unit_of(state, units)
    if chosen is None:
        return None
    minimum = _number(state, ATTR_MIN)
    inverted = False
    if units is POWER_UNITS:
        if (configured := control.get(CONF_MINIMUM)) is not None:
            minimum = float(configured)
        inverted = bool(control.get(CONF_CHARGE_POSITIVE, False))
    return NumberControl(
        entity_id,
        chosen,
        minimum=minimum,
        maximum=_number(state, ATTR_MAX),
        step=_number(state, ATTR_STEP),
        phases=int(control.get(CONF_PHASES, DEFAULT_PHASES)),
        phase_voltage_v=float(control.get(CONF_PHASE_VOLTAGE, DEFAULT_PHASE_VOLTAGE)),
        inverted=inverted,
    )


def asset_control(
    hass: HomeAssistant, subentry: ConfigSubentry, category: AssetCategory, installed_kw: float
) -> AssetControl:
    """How the EMS controls the asset of a subentry (nothing if no control is configured)."""
    control: Mapping[str, Any] = subentry.data.get(CONF_CONTROL, {})
    power = reactive = None
    if (entity_id := control.get(CONF_POWER_ENTITY)) is not None:
        power = _number_control(hass, entity_id, control.get(CONF_POWER_UNIT), POWER_UNITS, control)
    if (entity_id := control.get(CONF_Q_ENTITY)) is not None:
        reactive = _number_control(
            hass, entity_id, control.get(CONF_Q_UNIT), REACTIVE_UNITS, control
        )
    command_source = None
    if (entity_id := control.get(CONF_COMMAND_SOURCE_ENTITY)) is not None:
        command_source = CommandSource(
            entity_id, control.get(CONF_REMOTE_OPTION, DEFAULT_REMOTE_OPTION)
        )
    return AssetControl(
        asset_id=subentry.subentry_id,
        category=category,
        installed_kw=installed_kw,
        power=power,
        switch_entity_id=control.get(CONF_SWITCH_ENTITY),
        command_source=command_source,
        reactive=reactive,
    )
