"""The switches of the grid operator link: its enforcement's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..enforcement.switch import async_add_switches
from .coordinator import GridLinkConfigEntry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# The enforcement pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridLinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the link's switches."""
    async_add_switches(entry.runtime_data.enforcement, async_add_entities)
