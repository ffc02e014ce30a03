"""Device triggers of the grid operator link: build automations on its commands in the UI.

Situation triggers (``grid_link.situations.SITUATIONS``) fire when an emergency stop, test mode,
a limit or the RTU link starts or ends; command triggers fire on every command the grid
operator sends (the link's ``grid_ems_dso_command`` event), accepted or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_PLATFORM,
    CONF_TYPE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HassJob, callback
from homeassistant.helpers.event import async_track_state_change_event

from .const import DOMAIN
from .grid_link.const import EVENT_DSO_COMMAND
from .grid_link.situations import (
    SITUATIONS,
    LinkSituation,
    is_link_device,
    link_entity_ids,
    link_entry_id,
    read_states,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
    from homeassistant.helpers.typing import ConfigType

COMMAND_RECEIVED: Final = "command_received"
COMMAND_REFUSED: Final = "command_refused"
COMMAND_TRIGGERS: Final = {COMMAND_RECEIVED: True, COMMAND_REFUSED: False}
"""Command trigger types and whether the command they fire on was accepted."""

SITUATION_TRIGGERS: Final[dict[str, tuple[LinkSituation, bool]]] = {
    **{situation.started: (situation, True) for situation in SITUATIONS},
    **{situation.ended: (situation, False) for situation in SITUATIONS},
}
"""Situation trigger types: the situation and whether they fire when it starts (or ends)."""

TRIGGER_TYPES: Final = (*SITUATION_TRIGGERS, *COMMAND_TRIGGERS)

type _Run = Callable[..., None]
"""Runs the automation for an event, with extra trigger variables as keyword arguments."""

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {vol.Required(CONF_TYPE): vol.In(TRIGGER_TYPES)}
)


async def async_get_triggers(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """List the triggers of a grid operator link device (none for other devices)."""
    if not is_link_device(hass, device_id):
        return []
    return [
        {CONF_PLATFORM: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: kind}
        for kind in TRIGGER_TYPES
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Attach a trigger of the link."""
    kind: str = config[CONF_TYPE]
    device_id: str = config[CONF_DEVICE_ID]
    job = HassJob(action, f"grid_ems device trigger {trigger_info}")

    @callback
    def run(cause: Event[Any], **variables: Any) -> None:
        trigger = {
            **trigger_info["trigger_data"],
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: kind,
            "description": f"Grid EMS {kind}",
            **variables,
        }
        hass.async_run_hass_job(job, {"trigger": trigger}, cause.context)

    if kind in COMMAND_TRIGGERS:
        return _attach_command_trigger(hass, device_id, COMMAND_TRIGGERS[kind], run)
    situation, on_start = SITUATION_TRIGGERS[kind]
    return _attach_situation_trigger(hass, device_id, situation, on_start, run)


def _attach_command_trigger(
    hass: HomeAssistant, device_id: str, accepted: bool, run: _Run
) -> CALLBACK_TYPE:
    """Fire on each command of this link that was accepted (or refused)."""
    entry_id = link_entry_id(hass, device_id)

    @callback
    def matches(data: Mapping[str, Any]) -> bool:
        return data.get("entry_id") == entry_id and data.get("accepted") is accepted

    @callback
    def command(event: Event[Any]) -> None:
        run(event, event=event, command=event.data.get("command"), value=event.data.get("value"))

    return hass.bus.async_listen(EVENT_DSO_COMMAND, command, event_filter=matches)


def _attach_situation_trigger(
    hass: HomeAssistant, device_id: str, situation: LinkSituation, on_start: bool, run: _Run
) -> CALLBACK_TYPE:
    """Fire when the situation turns from not holding to holding (or back, ``on_start`` False).

    The states are followed event by event, so quick successive changes each count. Moves
    through an unknown state (an entity unavailable) are not transitions: a link that reloads
    does not look like a stop that ended and started again.
    """
    entity_ids = link_entity_ids(hass, device_id, situation.reads)
    key_of = {entity_id: key for key, entity_id in entity_ids.items()}
    states = read_states(hass, entity_ids)
    last = situation.holds(states)

    @callback
    def state_changed(event: Event[EventStateChangedData]) -> None:
        nonlocal last
        new_state = event.data["new_state"]
        usable = new_state is not None and new_state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
        states[key_of[event.data["entity_id"]]] = new_state.state if usable and new_state else None
        holds = situation.holds(states)
        if holds is None:
            return
        before, last = last, holds
        if before is not None and before != holds and holds == on_start:
            run(
                event,
                entity_id=event.data["entity_id"],
                from_state=event.data["old_state"],
                to_state=new_state,
            )

    return async_track_state_change_event(hass, list(key_of), state_changed)
