"""Selects of a Modbus device: one per profile register of this platform."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.select import SelectEntity, SelectEntityDescription

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
    """Add the device's selects."""
    data = entry.runtime_data
    async_add_entities(
        ModbusSelect(data.coordinator, modbus_select_description(register))
        for register in entity_registers(data.settings.profile, EntityPlatform.SELECT)
    )


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
