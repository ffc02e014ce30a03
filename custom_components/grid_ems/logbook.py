"""Logbook entries for the grid operator's commands and the enforcement's actions.

One sentence each, in Home Assistant's language (``wording.py``).
"""

from __future__ import annotations

from collections.abc import Callable

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
from .wording import Texts, action_sentence, command_sentence


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
            LOGBOOK_ENTRY_MESSAGE: command_sentence(Texts(hass, hass.config.language), data),
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
            LOGBOOK_ENTRY_MESSAGE: action_sentence(Texts(hass, hass.config.language), event.data),
            LOGBOOK_ENTRY_ENTITY_ID: event.data["entity_id"],
        }

    async_describe_event(DOMAIN, EVENT_DSO_COMMAND, async_describe_dso_command)
    async_describe_event(DOMAIN, EVENT_ENFORCEMENT_ACTION, async_describe_enforcement_action)
