"""Planning: the battery's plan over day-ahead prices and forecasts, followed by the enforcement.

The Home Assistant side of the pure planner (``planner/``), started by the grid operator link
entry after its enforcement: where prices and forecasts come from is the ``planning`` section
of the link's options (``OPTIONS_SCHEMA``); the coordinator replans and hands the enforcement
the planned battery power, which it follows under the grid operator's limits.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..enforcement.coordinator import EnforcementCoordinator
from .config import DEFAULT_OPTIONS, OPTIONS_SCHEMA, planning_options, validate_planning
from .const import CONF_PLANNING
from .coordinator import PlanningCoordinator, PlanningState

__all__ = [
    "CONF_PLANNING",
    "DEFAULT_OPTIONS",
    "OPTIONS_SCHEMA",
    "PlanningCoordinator",
    "PlanningState",
    "async_setup_planning",
    "planning_options",
    "validate_planning",
]


async def async_setup_planning(
    hass: HomeAssistant, entry: ConfigEntry[Any], enforcement: EnforcementCoordinator
) -> PlanningCoordinator:
    """Start the planning of a grid operator link entry (stopped when the entry unloads)."""
    planning = PlanningCoordinator(hass, entry, enforcement)
    entry.async_on_unload(planning.async_stop)
    await planning.async_start()
    return planning
