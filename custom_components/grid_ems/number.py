"""Numbers of Grid EMS: one section per kind of entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfPower

from .enforcement import EnforcementCoordinator
from .entity import GridEmsEntity
from .grid_link import GridLinkData
from .modbus.client import value_range
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
    """Add the numbers of an entry."""
    match entry.runtime_data:
        case GridLinkData(enforcement=enforcement):
            async_add_entities([PeakShavingTargetNumber(enforcement)])
        case ModbusDeviceData(coordinator=coordinator, settings=settings):
            async_add_entities(
                ModbusNumber(coordinator, modbus_number_description(register))
                for register in entity_registers(settings.profile, EntityPlatform.NUMBER)
            )


# --- Modbus device ---


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


# --- Enforcement ---

PEAK_SHAVING_TARGET: Final = NumberEntityDescription(
    key="peak_shaving_target",
    translation_key="peak_shaving_target",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    native_min_value=0.0,
    native_max_value=10000.0,
    native_step=0.1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)


class PeakShavingTargetNumber(GridEmsEntity[EnforcementCoordinator], NumberEntity):
    """The quarter-hour average import that peak shaving keeps under (capacity tariff)."""

    def __init__(self, enforcement: EnforcementCoordinator) -> None:
        """Attach the number to the link's device."""
        link = enforcement.link
        super().__init__(enforcement, PEAK_SHAVING_TARGET, link.device_info, link.device_unique_id)

    @property
    def native_value(self) -> float:
        """The target (kept across restarts by the enforcement)."""
        return self.coordinator.peak_shaving_target_kw

    async def async_set_native_value(self, value: float) -> None:
        """Set the target."""
        self.coordinator.async_set_optimization(peak_shaving_target_kw=value)
        self.async_write_ha_state()
