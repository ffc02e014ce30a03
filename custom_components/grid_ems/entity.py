"""Base entity shared by every Grid EMS entity, and the base of its devices' coordinators."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """The device entities belong to, and the prefix of their unique ids."""

    info: DeviceInfo
    unique_id: str
    """Stays what it was when an entity moves to another device (an asset's own, since 0.2)."""


class DeviceCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """The coordinator of a config entry's device: the device its entities belong to."""

    config_entry: ConfigEntry[Any]

    @property
    def device_unique_id(self) -> str:
        """Unique id of the device, the prefix of its entities' unique ids: the entry's id."""
        return self.config_entry.entry_id

    @property
    @abstractmethod
    def device_info(self) -> DeviceInfo:
        """The device, as the device registry shows it."""

    @property
    def device_ref(self) -> DeviceRef:
        """The device of the entities, with their unique ids' prefix."""
        return DeviceRef(self.device_info, self.device_unique_id)


class GridEmsEntity[CoordinatorT: DataUpdateCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity of a Grid EMS device, fed by that device's coordinator.

    The unique id is ``<device unique id>_<description key>`` so entities keep their identity
    across restarts and reconfiguration.
    """

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CoordinatorT,
        description: EntityDescription,
        device: DeviceRef,
    ) -> None:
        """Bind the entity to its coordinator, description and device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_device_info = device.info
        self._attr_unique_id = f"{device.unique_id}_{description.key}"
