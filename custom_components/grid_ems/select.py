"""Selects of Grid EMS: one section per kind of entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.select import SelectEntity, SelectEntityDescription

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
    """Add the selects of an entry."""
    match entry.runtime_data:
        case ModbusDeviceData(coordinator=coordinator, settings=settings):
            async_add_entities(
                ModbusSelect(coordinator, modbus_select_description(register))
                for register in entity_registers(settings.profile, EntityPlatform.SELECT)
            )


# --- Modbus device ---


def modbus_select_description(register: RegisterSpec) -> SelectEntityDescription:
    """The select a writable enumeration register becomes (a battery's command source)."""
    return SelectEntityDescription(
        **entity_fields(register), options=list(register.options.values())
    )


class ModbusSelect(ModbusEntity, SelectEntity):
    """A writable enumeration register."""

    @property
    def current_option(self) -> str | None:
        """The option the device reports."""
        value = self.register_value
        return value if isinstance(value, str) else None

    async def async_select_option(self, option: str) -> None:
        """Write the option."""
        await self.coordinator.async_write(self.entity_description.key, option)
