"""Binary sensors of Grid EMS: one section per kind of entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform

from .kinds import async_setup_kind_entities
from .modbus.profile import EntityPlatform, RegisterSpec
from .modbus_device import ModbusDeviceData, ModbusEntity, entity_fields, entity_registers

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .models import GridEmsConfigEntry

# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of an entry."""
    await async_setup_kind_entities(Platform.BINARY_SENSOR, hass, entry, async_add_entities)
    match entry.runtime_data:
        case ModbusDeviceData(coordinator=modbus_coordinator, settings=settings):
            async_add_entities(
                ModbusBinarySensor(modbus_coordinator, modbus_binary_sensor_description(register))
                for register in entity_registers(settings.profile, EntityPlatform.BINARY_SENSOR)
            )


# --- Modbus device ---


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
