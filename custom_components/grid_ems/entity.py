"""Base entity shared by every Grid EMS entity."""

from __future__ import annotations

from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator


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
        device_info: DeviceInfo,
        device_unique_id: str,
    ) -> None:
        """Bind the entity to its coordinator, description and device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_device_info = device_info
        self._attr_unique_id = f"{device_unique_id}_{description.key}"
