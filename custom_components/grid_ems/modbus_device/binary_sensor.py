"""Binary sensors of a Modbus device: one per profile register of this platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)

from ..modbus.profile import EntityPlatform, RegisterSpec
from .coordinator import ModbusDeviceConfigEntry
from .entity import ModbusEntity, entity_fields, entity_registers

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ModbusDeviceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the device's binary sensors."""
    data = entry.runtime_data
    async_add_entities(
        ModbusBinarySensor(data.coordinator, modbus_binary_sensor_description(register))
        for register in entity_registers(data.settings.profile, EntityPlatform.BINARY_SENSOR)
    )


def modbus_binary_sensor_description(register: RegisterSpec) -> BinarySensorEntityDescription:
    """The binary sensor a digital input becomes."""
    entity = register.entity
    assert entity is not None
    return BinarySensorEntityDescription(
        **entity_fields(register),
        device_class=BinarySensorDeviceClass(entity.device_class) if entity.device_class else None,
    )


class ModbusBinarySensor(ModbusEntity, BinarySensorEntity):
    """A digital input of a Modbus device."""

    @property
    def is_on(self) -> bool | None:
        """The input's state as the device reports it."""
        value = self.register_value
        return value if isinstance(value, bool) else None
