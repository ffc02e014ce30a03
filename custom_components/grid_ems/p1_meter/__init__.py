"""P1 meter entries: the Fluvius meter's P1 port, read directly or through a network reader.

Everything of this kind in Home Assistant is in this package: the coordinator (runtime data),
its sensors, its config and options flow steps, its keys. Its modules log on the package's
logger, ``custom_components.grid_ems.p1_meter``.
"""

from __future__ import annotations

from typing import Final

from homeassistant.const import CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry

from ..const import DOMAIN
from ..enforcement.ports import GridPowerReading, site_registry
from ..kind import Kind
from .const import CONF_CONNECTION_CAPACITY, CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL
from .coordinator import (
    RECONNECT_BACKOFF,
    P1Coordinator,
    P1MeterConfigEntry,
    P1MeterData,
    guard_store,
)
from .sensor import async_setup_entry as async_setup_sensors

__all__ = [
    "CONF_UPDATE_INTERVAL",
    "DEFAULT_UPDATE_INTERVAL",
    "KIND",
    "RECONNECT_BACKOFF",
    "GridPowerReading",
    "P1Coordinator",
    "P1MeterConfigEntry",
    "P1MeterData",
    "async_remove_device",
    "async_remove_kind",
    "async_setup_kind",
]


async def async_setup_kind(hass: HomeAssistant, entry: P1MeterConfigEntry) -> P1MeterData:
    """Open the meter's port and wait for its first telegram."""
    coordinator = P1Coordinator(hass, entry)
    port = entry.data[CONF_PORT]
    capacity = entry.options.get(CONF_CONNECTION_CAPACITY)

    async def entry_updated(hass: HomeAssistant, entry: P1MeterConfigEntry) -> None:
        """Reconnect on a new port or capacity; apply the update interval without reconnecting."""
        if entry.data[CONF_PORT] != port or entry.options.get(CONF_CONNECTION_CAPACITY) != capacity:
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return
        coordinator.async_set_entity_update_interval(
            entry.options.get(CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL)
        )

    entry.async_on_unload(coordinator.async_shutdown_dispatch)
    entry.async_on_unload(entry.add_update_listener(entry_updated))
    await coordinator.async_start()
    # Every telegram's grid power for the enforcement's closed loop.
    entry.async_on_unload(
        site_registry(hass).async_add_grid_power_source(entry.entry_id, coordinator)
    )
    return P1MeterData(coordinator)


async def async_remove_kind(hass: HomeAssistant, entry: P1MeterConfigEntry) -> None:
    """Delete the counter guard's state of a removed meter entry."""
    await guard_store(hass, entry.entry_id).async_remove()


def async_remove_device(entry: P1MeterConfigEntry, device: DeviceEntry) -> bool:
    """Whether the user may delete ``device``: an M-Bus meter the meter no longer reports."""
    reported = entry.runtime_data.coordinator.reported_device_ids()
    return not any(
        domain == DOMAIN and unique_id in reported for domain, unique_id in device.identifiers
    )


KIND: Final = Kind(
    setup=async_setup_kind,
    entities={Platform.SENSOR: async_setup_sensors},
    remove=async_remove_kind,
    remove_device=async_remove_device,
)
