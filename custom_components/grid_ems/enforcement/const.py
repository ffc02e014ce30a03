"""Configuration keys of the enforcement: an asset's control section and the link's options."""

from typing import Final

CONF_CONTROL: Final = "control"
CONF_POWER_ENTITY: Final = "power_entity"
CONF_POWER_UNIT: Final = "power_unit"
CONF_CHARGE_POSITIVE: Final = "charge_positive"
CONF_MINIMUM: Final = "minimum"
CONF_PHASES: Final = "phases"
CONF_PHASE_VOLTAGE: Final = "phase_voltage"
CONF_SWITCH_ENTITY: Final = "switch_entity"
CONF_COMMAND_SOURCE_ENTITY: Final = "command_source_entity"
CONF_REMOTE_OPTION: Final = "remote_option"
CONF_SOE_SENSOR: Final = "soe_sensor"
CONF_Q_ENTITY: Final = "q_entity"
CONF_Q_UNIT: Final = "q_unit"
DEFAULT_PHASES: Final = 3
DEFAULT_PHASE_VOLTAGE: Final = 230.0
DEFAULT_REMOTE_OPTION: Final = "remote"
CONF_ENFORCEMENT: Final = "enforcement"
CONF_GRID_POWER_SENSOR: Final = "grid_power_sensor"
CONF_RAMP: Final = "ramp_pct_per_s"
CONF_MARGIN: Final = "margin_kw"
CONF_LINK_LOSS_TIMEOUT: Final = "link_loss_timeout"
CONF_LINK_LOSS_FALLBACK: Final = "link_loss_fallback_pct"
CONF_LOCAL_STOP_PRODUCTION: Final = "local_stop_production"
CONF_LOCAL_STOP_CONSUMPTION: Final = "local_stop_consumption"
