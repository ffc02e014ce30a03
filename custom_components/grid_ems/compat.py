"""What differs between the Home Assistant versions Grid EMS supports (2025.4 to current).

Reactive power in kvar needs a release after 2025.4 (``REACTIVE_KILOVAR_CLASS``).

Home Assistant 2026.8 gave every device a single config entry and config subentry (before, a
device had sets of both) and links a device to the one it is connected through by registry id
(``via_device_id``) instead of by identifier (``via_device``). Everything of Grid EMS that
depends on that goes through this module; raising the minimum to 2026.8 means deleting the
branches for the older model.
"""

from __future__ import annotations

from typing import Final, cast

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.components.sensor.const import DEVICE_CLASS_UNITS
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo

# HA 2026.8+: one config entry and one config subentry per device.
SINGLE_OWNER_DEVICES: Final = hasattr(DeviceEntry, "config_subentry_id")

KILOVAR: Final = "kvar"
# Reactive power shows in kvar beside kW. HA's reactive power class accepts kvar (and converts
# it to var) since 2025.x; before, only var, so a kvar sensor there has no device class.
REACTIVE_KILOVAR_CLASS: Final = (
    SensorDeviceClass.REACTIVE_POWER
    if KILOVAR in DEVICE_CLASS_UNITS[SensorDeviceClass.REACTIVE_POWER]
    else None
)


def via_device(parent: DeviceEntry) -> DeviceInfo:
    """The part of a device's info that says it is connected through ``parent``."""
    if SINGLE_OWNER_DEVICES:
        return cast("DeviceInfo", {"via_device_id": parent.id})
    return cast("DeviceInfo", {"via_device": next(iter(sorted(parent.identifiers)))})


def find_device(
    hass: HomeAssistant, identifier: tuple[str, str], entry_id: str
) -> DeviceEntry | None:
    """The device of config entry ``entry_id`` with ``identifier``, if registered."""
    registry = dr.async_get(hass)
    if SINGLE_OWNER_DEVICES:
        found: DeviceEntry | None = registry.async_get_device_by_identifier(  # type: ignore[attr-defined,unused-ignore]
            identifier, entry_id
        )
        return found
    device = registry.async_get_device(identifiers={identifier})
    return device if device is not None and entry_id in device.config_entries else None


def device_subentry_ids(device: DeviceEntry, entry_id: str) -> set[str | None]:
    """The subentries of ``entry_id`` that the device belongs to (None: the entry itself)."""
    if SINGLE_OWNER_DEVICES:
        return {getattr(device, "config_subentry_id")}  # noqa: B009 - absent before HA 2026.8
    return set(device.config_entries_subentries.get(entry_id, set()))


@callback
def async_register_main_device(
    hass: HomeAssistant, entry_id: str, device_info: DeviceInfo
) -> DeviceEntry:
    """Register the device of the entry itself (in no subentry), taking it out of any subentry.

    Grid EMS 0.1 put the entities of asset subentries on the grid operator link's own device.
    HA 2025.4 then counted that device in those subentries; HA 2026.8 moved it into one of them
    and removed every link entity outside it. The entities of subentries are detached here (their
    subentry's own device takes them when they are added), then the device is given back to
    the entry alone, so every entity of the entry itself stays, with its entity id and history.
    """
    identifiers = device_info.get("identifiers", set())
    device = next(
        (
            found
            for identifier in identifiers
            if (found := find_device(hass, identifier, entry_id)) is not None
        ),
        None,
    )
    devices = dr.async_get(hass)
    if device is not None and (subentries := device_subentry_ids(device, entry_id) - {None}):
        entities = er.async_get(hass)
        for entity in er.async_entries_for_device(
            entities, device.id, include_disabled_entities=True
        ):
            if entity.config_subentry_id is not None:
                entities.async_update_entity(entity.entity_id, device_id=None)
        if SINGLE_OWNER_DEVICES:
            devices.async_update_device(device.id, new_config_subentry_id=None)  # type: ignore[call-arg,unused-ignore]
        else:
            # Keep the device in the entry itself before leaving the subentries: a device in
            # no subentry of any entry would be deleted.
            devices.async_update_device(
                device.id, add_config_entry_id=entry_id, add_config_subentry_id=None
            )
            for subentry_id in subentries:
                devices.async_update_device(
                    device.id,
                    remove_config_entry_id=entry_id,
                    remove_config_subentry_id=subentry_id,
                )
    return devices.async_get_or_create(
        config_entry_id=entry_id, config_subentry_id=None, **device_info
    )
