"""The planning section of the link's options: where prices and forecasts come from, the tariff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.helpers.selector import (
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)

from .const import (
    CONF_BATTERY_CAPACITY,
    CONF_CAPACITY_TARIFF,
    CONF_EXPORT_ADDER,
    CONF_EXPORT_FACTOR,
    CONF_IMPORT_ADDER,
    CONF_IMPORT_FACTOR,
    CONF_LOAD_HISTORY_DAYS,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PLANNING,
    CONF_PRICE_SENSOR,
    CONF_PV_FORECAST_ENTRY,
    CONF_WEAR_COST,
)

DEFAULT_OPTIONS: Final[Mapping[str, Any]] = {
    CONF_IMPORT_FACTOR: 1.0,
    CONF_IMPORT_ADDER: 0.0,
    CONF_EXPORT_FACTOR: 1.0,
    CONF_EXPORT_ADDER: 0.0,
    CONF_LOAD_HISTORY_DAYS: 7,
    CONF_CAPACITY_TARIFF: 40.0,
    CONF_WEAR_COST: 0.0,
}
_OPTIONAL: Final = (
    CONF_NORDPOOL_ENTRY,
    CONF_NORDPOOL_AREA,
    CONF_PRICE_SENSOR,
    CONF_BATTERY_CAPACITY,
    CONF_PV_FORECAST_ENTRY,
)


def _number(unit: str | None = None, minimum: float | None = None) -> NumberSelector:
    config = NumberSelectorConfig(step="any", mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    if minimum is not None:
        config["min"] = minimum
    return NumberSelector(config)


OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_NORDPOOL_ENTRY): ConfigEntrySelector(
            ConfigEntrySelectorConfig(integration="nordpool")
        ),
        vol.Optional(CONF_NORDPOOL_AREA): TextSelector(),
        vol.Optional(CONF_PRICE_SENSOR): EntitySelector(EntitySelectorConfig(domain="sensor")),
        vol.Required(CONF_IMPORT_FACTOR): _number(),
        vol.Required(CONF_IMPORT_ADDER): _number("€/kWh"),
        vol.Required(CONF_EXPORT_FACTOR): _number(),
        vol.Required(CONF_EXPORT_ADDER): _number("€/kWh"),
        vol.Optional(CONF_BATTERY_CAPACITY): _number("kWh", 0),
        vol.Optional(CONF_PV_FORECAST_ENTRY): ConfigEntrySelector(),
        vol.Required(CONF_LOAD_HISTORY_DAYS): NumberSelector(
            NumberSelectorConfig(min=0, max=10, step=1, unit_of_measurement="d")
        ),
        vol.Required(CONF_CAPACITY_TARIFF): _number("€/kW", 0),
        vol.Required(CONF_WEAR_COST): _number("€/kWh", 0),
    }
)
"""Day-ahead prices (Nord Pool's action or a sensor's forecast attribute), the supplier's
formula, the batteries' capacity, the PV forecast (an energy forecast entry), the load history,
the capacity tariff per kW and year, and the wear of a kWh through the battery."""


def planning_options(section: Mapping[str, Any]) -> dict[str, Any]:
    """The planning section of the link's options form, for the entry's options (blanks out)."""
    options: dict[str, Any] = {
        key: int(section[key]) if key == CONF_LOAD_HISTORY_DAYS else float(section[key])
        for key in DEFAULT_OPTIONS
        if section.get(key) is not None
    }
    for key in _OPTIONAL:
        value = section.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            options[key] = float(value) if key == CONF_BATTERY_CAPACITY else value
    return options


def validate_planning(section: Mapping[str, Any]) -> str | None:
    """The error of a planning section, if any."""
    if section.get(CONF_NORDPOOL_ENTRY) and section.get(CONF_PRICE_SENSOR):
        return "planning_two_price_sources"
    return None


def planning_section(options: Mapping[str, Any]) -> dict[str, Any]:
    """The planning options in force, defaults filled in."""
    return {**DEFAULT_OPTIONS, **options.get(CONF_PLANNING, {})}
