"""Binary sensors of the grid operator link: the emergency stops, test mode, the RTU link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from ..entity import GridEmsEntity
from .coordinator import GridLinkConfigEntry, GridLinkCoordinator, LinkSnapshot

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridLinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the link's binary sensors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        GridLinkBinarySensor(coordinator, description) for description in GRID_LINK_BINARY_SENSORS
    )


@dataclass(frozen=True, kw_only=True)
class GridLinkBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor of the grid operator link and how it reads the link's snapshot."""

    is_on_fn: Callable[[LinkSnapshot], bool]


GRID_LINK_BINARY_SENSORS: tuple[GridLinkBinarySensorDescription, ...] = (
    # SAFETY: on means unsafe, here that the grid operator stopped a direction.
    GridLinkBinarySensorDescription(
        key="emergency_stop_production",
        translation_key="emergency_stop_production",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda snapshot: snapshot.state.stop_production,
    ),
    GridLinkBinarySensorDescription(
        key="emergency_stop_consumption",
        translation_key="emergency_stop_consumption",
        device_class=BinarySensorDeviceClass.SAFETY,
        is_on_fn=lambda snapshot: snapshot.state.stop_consumption,
    ),
    GridLinkBinarySensorDescription(
        key="test_mode",
        translation_key="test_mode",
        is_on_fn=lambda snapshot: snapshot.state.test_mode,
    ),
    GridLinkBinarySensorDescription(
        key="rtu_connected",
        translation_key="rtu_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        is_on_fn=lambda snapshot: snapshot.link_up,
    ),
)


class GridLinkBinarySensor(GridEmsEntity[GridLinkCoordinator], BinarySensorEntity):
    """An on/off value of the grid operator link."""

    entity_description: GridLinkBinarySensorDescription

    def __init__(
        self, coordinator: GridLinkCoordinator, description: GridLinkBinarySensorDescription
    ) -> None:
        """Attach the binary sensor to the link's device."""
        super().__init__(coordinator, description, coordinator.device_ref)

    @property
    def is_on(self) -> bool:
        """The value from the link's latest snapshot."""
        return self.entity_description.is_on_fn(self.coordinator.data)
