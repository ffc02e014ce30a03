"""Numbers of a Modbus device: one per profile register of this platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)

from ..modbus.client import value_range
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
    """Add the device's numbers."""
    data = entry.runtime_data
    async_add_entities(
        ModbusNumber(data.coordinator, modbus_number_description(register))
        for register in entity_registers(data.settings.profile, EntityPlatform.NUMBER)
    )


def modbus_number_description(register: RegisterSpec) -> NumberEntityDescription:
    """The number a writable profile register becomes (a setpoint)."""
    entity = register.entity
    assert entity is not None
    return NumberEntityDescription(
        **entity_fields(register),
        device_class=NumberDeviceClass(entity.device_class) if entity.device_class else None,
        native_unit_of_measurement=register.unit,
        native_step=entity.step,
        mode=NumberMode.BOX,
    )


class ModbusNumber(ModbusEntity, NumberEntity):
    """A setpoint register; its range can follow another register (a battery's blocks)."""

    @property
    def native_value(self) -> float | None:
        """The setpoint the device reports."""
        value = self.register_value
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def native_min_value(self) -> float:
        """The lowest value the device accepts now."""
        return value_range(self.register, self.coordinator.data)[0]

    @property
    def native_max_value(self) -> float:
        """The highest value the device accepts now."""
        return value_range(self.register, self.coordinator.data)[1]

    async def async_set_native_value(self, value: float) -> None:
        """Write the setpoint."""
        await self.coordinator.async_write(self.entity_description.key, value)
