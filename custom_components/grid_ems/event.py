"""Event entities of Grid EMS: each kind of entry makes its own (the link's command event)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import Platform

from .kinds import async_setup_kind_entities

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# Events are pushed; nothing polls.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of an entry's kind."""
    await async_setup_kind_entities(Platform.EVENT, hass, entry, async_add_entities)
