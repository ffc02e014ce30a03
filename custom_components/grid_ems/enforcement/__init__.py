"""Enforcement: the grid operator's limits carried out on the site's assets through Home Assistant.

The Home Assistant adapter of the pure controller (``control/``), started by the grid operator
link entry. It gathers the controller's inputs (the link's DSO state and asset registry, the
grid power of a P1 meter or a grid meter, the assets' sensors and the entities that control
them), runs a controller step on every accepted DSO command and about once a second, and carries
out the resulting writes with Home Assistant's own services (``number.set_value``,
``switch.turn_on``...), each verified by reading the entity back. A write that keeps failing is
retried, raises a repair issue and lowers the quality of the feedback point the grid operator
sees for the command behind it. Every action is logged, fired on the bus (and so in the
logbook) and kept in a bounded action log, with the grid operator's command that caused it.

How an asset is controlled is part of its asset subentry (the ``control`` section, see
``CONTROL_SCHEMA``); the loop's tuning and the fail-safe on a lost RTU link are link options (the
``enforcement`` section, see ``OPTIONS_SCHEMA``).
"""

from __future__ import annotations

from .config import (
    CONTROL_DEFAULTS,
    CONTROL_SCHEMA,
    DEFAULT_OPTIONS,
    OPTIONS_SCHEMA,
    control_data,
    enforcement_options,
    settings_from_options,
    validate_control,
)
from .const import (
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
    CONF_Q_UNIT,
    CONF_RAMP,
    CONF_REMOTE_OPTION,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
    DEFAULT_PHASE_VOLTAGE,
    DEFAULT_PHASES,
    DEFAULT_REMOTE_OPTION,
)
from .coordinator import (
    EVENT_ENFORCEMENT_ACTION,
    EnforcementCoordinator,
    async_remove_enforcement_storage,
    async_setup_enforcement,
)

__all__ = [
    "CONF_CHARGE_POSITIVE",
    "CONF_COMMAND_SOURCE_ENTITY",
    "CONF_CONTROL",
    "CONF_ENFORCEMENT",
    "CONF_GRID_POWER_SENSOR",
    "CONF_LINK_LOSS_FALLBACK",
    "CONF_LINK_LOSS_TIMEOUT",
    "CONF_LOCAL_STOP_CONSUMPTION",
    "CONF_LOCAL_STOP_PRODUCTION",
    "CONF_MARGIN",
    "CONF_MINIMUM",
    "CONF_PHASES",
    "CONF_PHASE_VOLTAGE",
    "CONF_POWER_ENTITY",
    "CONF_POWER_UNIT",
    "CONF_Q_ENTITY",
    "CONF_Q_UNIT",
    "CONF_RAMP",
    "CONF_REMOTE_OPTION",
    "CONF_SOE_SENSOR",
    "CONF_SWITCH_ENTITY",
    "CONTROL_DEFAULTS",
    "CONTROL_SCHEMA",
    "DEFAULT_OPTIONS",
    "DEFAULT_PHASES",
    "DEFAULT_PHASE_VOLTAGE",
    "DEFAULT_REMOTE_OPTION",
    "EVENT_ENFORCEMENT_ACTION",
    "OPTIONS_SCHEMA",
    "EnforcementCoordinator",
    "async_remove_enforcement_storage",
    "async_setup_enforcement",
    "control_data",
    "enforcement_options",
    "settings_from_options",
    "validate_control",
]
