"""Modbus device entries: a battery, a meter or a relay module that speaks Modbus TCP.

Everything of this kind in Home Assistant is in this package: the coordinator (polling through
the host's shared connection) and runtime data, the entities of each platform made from the
device profile, its config and options flow steps, its services, its keys. Its modules log on the
package's logger, ``custom_components.grid_ems.modbus_device``.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError

from ..const import DOMAIN
from ..enforcement.ports import site_registry
from ..kind import Kind
from ..modbus.client import ModbusDevice
from ..modbus.errors import ModbusError
from ..modbus.profiles import PROFILES
from .binary_sensor import async_setup_entry as async_setup_binary_sensors
from .const import (
    CONF_CODES,
    CONF_FAILED_POLLS,
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_SAFE_STATES,
    CONF_UNIT_ID,
    DEFAULT_FAILED_POLLS,
    DEFAULT_POLICY,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
    IDENTIFY_POLICY,
    MAX_BACKOFF_S,
    SCAN_REQUEST_TIMEOUT,
)
from .coordinator import (
    MODBUS_CONNECTIONS,
    ModbusDeviceConfigEntry,
    ModbusDeviceCoordinator,
    ModbusDeviceData,
    ModbusDeviceSettings,
    address_title,
    async_identify,
    async_scan,
    connection_error_key,
    connection_pool,
    format_codes,
    parse_codes,
    suggested_name,
    translated_error,
    unique_id,
)
from .entity import EntityFields, ModbusEntity, entity_fields, entity_registers
from .number import async_setup_entry as async_setup_numbers
from .select import async_setup_entry as async_setup_selects
from .sensor import async_setup_entry as async_setup_sensors
from .services import async_setup_services
from .switch import async_setup_entry as async_setup_switches

__all__ = [
    "CONF_CODES",
    "CONF_FAILED_POLLS",
    "CONF_PROFILE",
    "CONF_RELAY_ROLES",
    "CONF_RETRIES",
    "CONF_SAFE_STATES",
    "CONF_UNIT_ID",
    "DEFAULT_FAILED_POLLS",
    "DEFAULT_POLICY",
    "DEFAULT_PORT",
    "DEFAULT_UNIT_ID",
    "IDENTIFY_POLICY",
    "KIND",
    "MAX_BACKOFF_S",
    "MODBUS_CONNECTIONS",
    "SCAN_REQUEST_TIMEOUT",
    "EntityFields",
    "ModbusDeviceConfigEntry",
    "ModbusDeviceCoordinator",
    "ModbusDeviceData",
    "ModbusDeviceSettings",
    "ModbusEntity",
    "async_identify",
    "async_scan",
    "async_setup_kind",
    "connection_error_key",
    "entity_fields",
    "entity_registers",
    "format_codes",
    "parse_codes",
    "translated_error",
    "unique_id",
]


async def _async_entry_updated(hass: HomeAssistant, entry: ModbusDeviceConfigEntry) -> None:
    """Apply new options (interval, timeout, relay roles) by reloading the entry."""
    hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_setup_kind(hass: HomeAssistant, entry: ModbusDeviceConfigEntry) -> ModbusDeviceData:
    """Connect a Modbus device entry through its host's shared connection and poll it once."""
    settings = ModbusDeviceSettings.from_entry(entry)
    pool = connection_pool(hass)
    connection = pool.acquire(settings.host, settings.port)
    entry.async_on_unload(lambda: pool.release(connection))
    device = ModbusDevice(connection, settings.profile, settings.unit_id, settings.policy)
    try:
        # Which of our own additions to the manufacturer's map this device has.
        await device.probe()
    except ModbusError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.placeholders,
        ) from err
    settings = dataclasses.replace(settings, profile=device.profile)
    coordinator = ModbusDeviceCoordinator(hass, entry, device, settings)
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady as err:
        cause = err.__cause__
        if isinstance(cause, HomeAssistantError) and cause.translation_key:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key=cause.translation_key,
                translation_placeholders=cause.translation_placeholders,
            ) from cause
        raise
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    data = ModbusDeviceData(coordinator, settings)
    # The enforcement's hardware emergency-stop layer: the outputs wired for a stop.
    entry.async_on_unload(
        site_registry(hass).async_add_relays(entry.entry_id, lambda: data.relays(hass))
    )
    return data


def renamed(hass: HomeAssistant, entry: ModbusDeviceConfigEntry) -> str:
    """The entry's name without its address, unless the installer had named it already.

    Only the title changes: the entity registry keeps every entity id and unique id, so the
    history and the automations stay as they were.
    """
    if entry.title != address_title(entry.data):
        return entry.title
    taken = {
        other.title
        for other in hass.config_entries.async_entries(DOMAIN)
        if other.entry_id != entry.entry_id
    }
    return suggested_name(PROFILES[entry.data[CONF_PROFILE]], taken)


KIND: Final = Kind(
    setup=async_setup_kind,
    rename=renamed,
    services=async_setup_services,
    entities={
        Platform.BINARY_SENSOR: async_setup_binary_sensors,
        Platform.NUMBER: async_setup_numbers,
        Platform.SELECT: async_setup_selects,
        Platform.SENSOR: async_setup_sensors,
        Platform.SWITCH: async_setup_switches,
    },
)
