"""Situations of the grid operator link that automations react to, read from the link's entities.

Device triggers fire when a situation starts or ends; device conditions test whether it holds.
Each situation is a predicate over the states of a few link entities, found on the link's device
by their translation keys, so triggers and conditions always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.helpers import device_registry as dr, entity_registry as er

from ..const import CONF_KIND, DOMAIN, EntryKind

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

# Translation keys of the link entities the situations read (grid_link.py's platforms).
RTU_CONNECTED: Final = "rtu_connected"
STOP_PRODUCTION: Final = "emergency_stop_production"
STOP_CONSUMPTION: Final = "emergency_stop_consumption"
TEST_MODE: Final = "test_mode"
REASON_P: Final = "reason_p"
MIN_SET_P: Final = "min_set_p"
MAX_SET_P: Final = "max_set_p"

GRID_CONGESTION: Final = "grid_congestion"
NO_LIMIT_PCT: Final = 100.0

type EntityStates = Mapping[str, str | None]
"""State of each read entity by translation key; None while unavailable or unknown."""


@dataclass(frozen=True, slots=True)
class LinkSituation:
    """A yes/no situation of the link, with the names of its triggers and conditions."""

    reads: tuple[str, ...]
    holds: Callable[[EntityStates], bool | None]
    """True or False, or None when an entity it needs has no state."""
    started: str
    ended: str
    condition: str
    negated_condition: str | None = None


def _on(key: str) -> Callable[[EntityStates], bool | None]:
    def holds(states: EntityStates) -> bool | None:
        state = states.get(key)
        return None if state not in (STATE_ON, STATE_OFF) else state == STATE_ON

    return holds


def _number(states: EntityStates, key: str) -> float | None:
    try:
        return float(states[key])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None


def _limited(stop_key: str, setpoint_key: str) -> Callable[[EntityStates], bool | None]:
    """Limited by an emergency stop, or by a setpoint below 100 % (its magnitude counts)."""

    def holds(states: EntityStates) -> bool | None:
        stopped = _on(stop_key)(states)
        setpoint = _number(states, setpoint_key)
        if stopped or (setpoint is not None and abs(setpoint) < NO_LIMIT_PCT):
            return True
        if stopped is None or setpoint is None:
            return None
        return False

    return holds


def _congestion(states: EntityStates) -> bool | None:
    reason = states.get(REASON_P)
    return None if reason is None else reason == GRID_CONGESTION


def _congestion_limit(states: EntityStates) -> bool | None:
    """A connection-point limit below 100 % for grid congestion."""
    congestion = _congestion(states)
    injection = _number(states, MIN_SET_P)
    consumption = _number(states, MAX_SET_P)
    if congestion is None or injection is None or consumption is None:
        return None
    return congestion and (abs(injection) < NO_LIMIT_PCT or consumption < NO_LIMIT_PCT)


SITUATIONS: Final[tuple[LinkSituation, ...]] = (
    LinkSituation(
        (STOP_PRODUCTION,),
        _on(STOP_PRODUCTION),
        started="emergency_stop_production_started",
        ended="emergency_stop_production_ended",
        condition="is_emergency_stop_production",
    ),
    LinkSituation(
        (STOP_CONSUMPTION,),
        _on(STOP_CONSUMPTION),
        started="emergency_stop_consumption_started",
        ended="emergency_stop_consumption_ended",
        condition="is_emergency_stop_consumption",
    ),
    LinkSituation(
        (TEST_MODE,),
        _on(TEST_MODE),
        started="test_mode_started",
        ended="test_mode_ended",
        condition="is_test_mode",
    ),
    LinkSituation(
        (REASON_P, MIN_SET_P, MAX_SET_P),
        _congestion_limit,
        started="congestion_limit_set",
        ended="congestion_limit_cleared",
        condition="is_congestion_limit",
    ),
    LinkSituation(
        (STOP_PRODUCTION, MIN_SET_P),
        _limited(STOP_PRODUCTION, MIN_SET_P),
        started="injection_limit_started",
        ended="injection_limit_ended",
        condition="is_injection_limited",
    ),
    LinkSituation(
        (STOP_CONSUMPTION, MAX_SET_P),
        _limited(STOP_CONSUMPTION, MAX_SET_P),
        started="consumption_limit_started",
        ended="consumption_limit_ended",
        condition="is_consumption_limited",
    ),
    LinkSituation(
        (RTU_CONNECTED,),
        _on(RTU_CONNECTED),
        started="link_restored",
        ended="link_lost",
        condition="is_link_connected",
        negated_condition="is_link_lost",
    ),
)


def link_entry_id(hass: HomeAssistant, device_id: str) -> str | None:
    """The entry id of the grid operator link whose own device this is, None for other devices.

    The link's device is identified by the link entry's id; the devices of its assets are not
    links.
    """
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for domain, unique_id in device.identifiers:
        entry = hass.config_entries.async_get_entry(unique_id) if domain == DOMAIN else None
        if entry and entry.domain == DOMAIN and entry.data.get(CONF_KIND) == EntryKind.GRID_LINK:
            return entry.entry_id
    return None


def is_link_device(hass: HomeAssistant, device_id: str) -> bool:
    """Whether the device is a grid operator link of Grid EMS."""
    return link_entry_id(hass, device_id) is not None


def link_entity_ids(hass: HomeAssistant, device_id: str, keys: tuple[str, ...]) -> dict[str, str]:
    """Entity id of each translation key among the device's Grid EMS entities."""
    return {
        entry.translation_key: entry.entity_id
        for entry in er.async_entries_for_device(er.async_get(hass), device_id)
        if entry.platform == DOMAIN and entry.translation_key in keys
    }


def read_states(hass: HomeAssistant, entity_ids: Mapping[str, str]) -> dict[str, str | None]:
    """Current state of each entity by translation key (None while unavailable or unknown)."""
    states: dict[str, str | None] = {}
    for key, entity_id in entity_ids.items():
        state = hass.states.get(entity_id)
        missing = state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        states[key] = None if missing or state is None else state.state
    return states
