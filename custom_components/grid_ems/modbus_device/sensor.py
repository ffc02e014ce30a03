"""Sensors of a Modbus device: one per profile register of this platform."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)

from ..modbus.profile import EntityPlatform, RegisterSpec
from .coordinator import ModbusDeviceConfigEntry
from .entity import ModbusEntity, entity_fields, entity_registers

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType


_LOGGER = logging.getLogger(__name__)

# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ModbusDeviceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the device's sensors."""
    data = entry.runtime_data
    async_add_entities(
        ModbusSensor(data.coordinator, modbus_sensor_description(register))
        for register in entity_registers(data.settings.profile, EntityPlatform.SENSOR)
    )


def modbus_sensor_description(register: RegisterSpec) -> SensorEntityDescription:
    """The sensor a profile register becomes, with the profile's class, unit and precision."""
    entity = register.entity
    assert entity is not None
    return SensorEntityDescription(
        **entity_fields(register),
        device_class=SensorDeviceClass(entity.device_class) if entity.device_class else None,
        state_class=SensorStateClass(entity.state_class) if entity.state_class else None,
        native_unit_of_measurement=register.unit,
        suggested_display_precision=entity.precision,
        options=list(register.options.values()) or None,
    )


class ModbusSensor(ModbusEntity, SensorEntity):
    """A measured or reported register of a Modbus device."""

    @property
    def native_value(self) -> StateType:
        """The register's value: a number, or an option key for an enumeration."""
        return self.register_value
