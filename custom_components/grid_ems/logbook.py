"""Logbook entries for the grid operator's commands and the enforcement's actions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.event import DOMAIN as EVENT_DOMAIN
from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN
from .enforcement import EVENT_ENFORCEMENT_ACTION
from .grid_link.const import EVENT_DSO_COMMAND


def _dso_command_message(data: Mapping[str, Any]) -> str:
    """E.g. 'accepted min_set_p = 40.0 (IOA 2001) from 10.0.0.2'."""
    target = data["command"] or "no command point"
    origin = "simulated in Home Assistant" if data["local"] else f"from {data['source']}"
    message = f"{target} = {data['value']} (IOA {data['ioa']}, {data['type']}) {origin}"
    if data["accepted"]:
        return f"accepted {message}"
    return f"refused {message}: {data['refusal']}"


def _enforcement_action_message(data: Mapping[str, Any]) -> str:
    """E.g. 'set to 1.0 for emergency_stop_production (dso), command ... = True of <time>'."""
    message = f"{'restored' if data['restore'] else 'set'} to {data['value']}"
    if data["constraint"] is not None:
        message += f" for {data['constraint']} ({data['source']})"
    if data["command"] is not None:
        command = f"{data['command']} = {data['command_value']}"
        message += f", command {command} of {data['command_time']}"
    if data["ok"]:
        return message
    return f"could not be {message}: {data['error']}"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the grid operator's commands and the enforcement's actions."""

    @callback
    def async_describe_dso_command(event: Event) -> dict[str, str]:
        data = event.data
        description = {
            LOGBOOK_ENTRY_NAME: "Grid operator",
            LOGBOOK_ENTRY_MESSAGE: _dso_command_message(data),
        }
        # Shown on the link's command event entity too.
        if entity_id := er.async_get(hass).async_get_entity_id(
            EVENT_DOMAIN, DOMAIN, f"{data['entry_id']}_dso_command"
        ):
            description[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return description

    @callback
    def async_describe_enforcement_action(event: Event) -> dict[str, str]:
        # On the written entity's own logbook.
        return {
            LOGBOOK_ENTRY_NAME: "Grid EMS enforcement",
            LOGBOOK_ENTRY_MESSAGE: _enforcement_action_message(event.data),
            LOGBOOK_ENTRY_ENTITY_ID: event.data["entity_id"],
        }

    async_describe_event(DOMAIN, EVENT_DSO_COMMAND, async_describe_dso_command)
    async_describe_event(DOMAIN, EVENT_ENFORCEMENT_ACTION, async_describe_enforcement_action)
