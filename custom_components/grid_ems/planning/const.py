"""Configuration keys of the planning: the ``planning`` section of the link's options."""

from typing import Final

CONF_PLANNING: Final = "planning"
CONF_NORDPOOL_ENTRY: Final = "nordpool_entry"
CONF_NORDPOOL_AREA: Final = "nordpool_area"
CONF_PRICE_SENSOR: Final = "price_sensor"
CONF_IMPORT_FACTOR: Final = "import_factor"
CONF_IMPORT_ADDER: Final = "import_adder"
CONF_EXPORT_FACTOR: Final = "export_factor"
CONF_EXPORT_ADDER: Final = "export_adder"
CONF_BATTERY_CAPACITY: Final = "battery_capacity_kwh"
CONF_PV_FORECAST_ENTRY: Final = "pv_forecast_entry"
CONF_LOAD_HISTORY_DAYS: Final = "load_history_days"
CONF_CAPACITY_TARIFF: Final = "capacity_tariff_eur_per_kw_year"
CONF_WEAR_COST: Final = "wear_eur_per_kwh"
