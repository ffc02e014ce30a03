"""Grid EMS: the energy management system of a Belgian site under grid-operator telecontrol.

Every device (P1 meter, Modbus device) and the grid operator link is its own config entry of the one
domain; ``entry.data[CONF_KIND]`` says which, and the kind's module sets the entry up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.const import Platform
from homeassistant.helpers import config_validation as cv

from . import grid_link, modbus_device, p1_meter
from .const import CONF_KIND, DOMAIN, EntryKind
from .frontend import async_setup_frontend
from .services import async_setup_services

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry
    from homeassistant.helpers.typing import ConfigType

    from .models import GridEmsConfigEntry, GridEmsRuntimeData

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


@dataclass(frozen=True, slots=True)
class _KindHandler:
    """How one kind of entry is set up and which platforms it forwards."""

    platforms: tuple[Platform, ...]
    setup: Callable[[HomeAssistant, GridEmsConfigEntry], Awaitable[GridEmsRuntimeData]]


_KIND_HANDLERS: Final[dict[EntryKind, _KindHandler]] = {
    EntryKind.P1_METER: _KindHandler(p1_meter.PLATFORMS, p1_meter.async_setup_kind),
    EntryKind.MODBUS_DEVICE: _KindHandler(modbus_device.PLATFORMS, modbus_device.async_setup_kind),
    EntryKind.GRID_LINK: _KindHandler(grid_link.PLATFORMS, grid_link.async_setup_kind),
}


def _handler(entry: GridEmsConfigEntry) -> _KindHandler:
    return _KIND_HANDLERS[EntryKind(entry.data[CONF_KIND])]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services and its Lovelace card, shared by all entries."""
    async_setup_services(hass)
    async_setup_frontend(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> bool:
    """Set up one device or the grid operator link."""
    handler = _handler(entry)
    entry.runtime_data = await handler.setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, handler.platforms)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> bool:
    """Unload an entry; the kind's own clean-ups run through ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(entry, _handler(entry).platforms)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: GridEmsConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device the entry no longer reports: an M-Bus meter taken away.

    The P1 meter adds M-Bus devices as they appear; every other device is the entry's own.
    """
    match entry.runtime_data:
        case p1_meter.P1MeterData(coordinator=coordinator):
            reported = coordinator.reported_device_ids()
            return not any(
                domain == DOMAIN and unique_id in reported
                for domain, unique_id in device.identifiers
            )
    return False


async def async_remove_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> None:
    """Delete what a removed entry kept in storage (link state and audit, P1 counter guard)."""
    kind = EntryKind(entry.data[CONF_KIND])
    if kind is EntryKind.GRID_LINK:
        await grid_link.async_remove_kind(hass, entry)
    elif kind is EntryKind.P1_METER:
        await p1_meter.async_remove_kind(hass, entry)
