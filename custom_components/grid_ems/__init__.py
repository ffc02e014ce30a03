"""Grid EMS: the energy management system of a Belgian site under grid-operator telecontrol.

Every device (P1 meter, Modbus device) and the grid operator link is its own config entry of the one
domain; ``entry.data[CONF_KIND]`` says which, and the kind's module sets the entry up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.helpers import config_validation as cv

from .const import DOMAIN
from .frontend import async_setup_frontend
from .kinds import kind_of
from .services import async_setup_services

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry
    from homeassistant.helpers.typing import ConfigType

    from .kinds import GridEmsConfigEntry

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's services and its Lovelace card, shared by all entries."""
    async_setup_services(hass)
    async_setup_frontend(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> bool:
    """Bring an entry of an older version up to date; a newer (major) version cannot load."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        # 1.2: names say what a device is; its address moved to the device information.
        rename = kind_of(entry).rename
        title = entry.title if rename is None else rename(hass, entry)
        hass.config_entries.async_update_entry(entry, title=title, minor_version=2)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> bool:
    """Set up one device or the grid operator link."""
    kind = kind_of(entry)
    entry.runtime_data = await kind.setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, kind.platforms)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> bool:
    """Unload an entry; the kind's own clean-ups run through ``entry.async_on_unload``."""
    return await hass.config_entries.async_unload_platforms(entry, kind_of(entry).platforms)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: GridEmsConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device the entry no longer reports: an M-Bus meter taken away.

    The P1 meter adds M-Bus devices as they appear; every other device is the entry's own.
    """
    return kind_of(entry).remove_device(entry, device)


async def async_remove_entry(hass: HomeAssistant, entry: GridEmsConfigEntry) -> None:
    """Delete what a removed entry kept in storage (link state and audit, P1 counter guard)."""
    if (remove := kind_of(entry).remove) is not None:
        await remove(hass, entry)
