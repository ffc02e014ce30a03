"""The kinds of entries of Grid EMS, and the dispatch of an entry to its kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry

from . import grid_link, modbus_device, p1_meter
from .const import CONF_KIND, EntryKind

if TYPE_CHECKING:
    from homeassistant.const import Platform
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .kind import Kind

type GridEmsConfigEntry = ConfigEntry[
    p1_meter.P1MeterData | modbus_device.ModbusDeviceData | grid_link.GridLinkData
]
"""An entry of any kind; each kind's own modules take their kind's entries only."""

KINDS: Final[dict[EntryKind, Kind]] = {
    EntryKind.P1_METER: p1_meter.KIND,
    EntryKind.MODBUS_DEVICE: modbus_device.KIND,
    EntryKind.GRID_LINK: grid_link.KIND,
}


def kind_of(entry: ConfigEntry[Any]) -> Kind:
    """The kind of a Grid EMS entry."""
    return KINDS[EntryKind(entry.data[CONF_KIND])]


async def async_setup_kind_entities(
    platform: Platform,
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entities the entry's kind has on ``platform``."""
    await kind_of(entry).entities[platform](hass, entry, async_add_entities)
