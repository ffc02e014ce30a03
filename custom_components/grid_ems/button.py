"""Buttons of Grid EMS: each kind of entry makes its own (the commissioning run of the link)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.const import Platform

from .kinds import async_setup_kind_entities

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of an entry's kind."""
    await async_setup_kind_entities(Platform.BUTTON, hass, entry, async_add_entities)
