"""Switchs of a Modbus device: one per profile register of this platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription

from ..control.model import RelayRole
from ..modbus.profile import EntityPlatform, RegisterSpec, SafeState
from .coordinator import ModbusDeviceConfigEntry, ModbusDeviceSettings
from .entity import ModbusEntity, entity_fields, entity_registers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ModbusDeviceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the device's switchs."""
    data = entry.runtime_data
    async_add_entities(
        ModbusSwitch(data.coordinator, modbus_switch_description(register, data.settings))
        for register in entity_registers(data.settings.profile, EntityPlatform.SWITCH)
    )


@dataclass(frozen=True, kw_only=True)
class ModbusSwitchDescription(SwitchEntityDescription):
    """An output of a Modbus device, with the role and safe state the installer gave it."""

    role: RelayRole | None
    safe_state: SafeState | None


def modbus_switch_description(
    register: RegisterSpec, settings: ModbusDeviceSettings
) -> ModbusSwitchDescription:
    """The switch an output coil becomes."""
    return ModbusSwitchDescription(
        **entity_fields(register),
        role=settings.relay_roles.get(register.key),
        safe_state=settings.safe_states.get(register.key),
    )


class ModbusSwitch(ModbusEntity, SwitchEntity):
    """A relay or digital output; every switching is verified by reading the coil back."""

    entity_description: ModbusSwitchDescription

    @property
    def is_on(self) -> bool | None:
        """The coil's state as the device reports it."""
        value = self.register_value
        return value if isinstance(value, bool) else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The relay's role (emergency stop of production or consumption) and safe state."""
        description = self.entity_description
        attributes = {
            name: value.value
            for name, value in (("role", description.role), ("safe_state", description.safe_state))
            if value is not None
        }
        return attributes or None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the output on, verified by reading it back."""
        await self.coordinator.async_write(self.entity_description.key, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the output off, verified by reading it back."""
        await self.coordinator.async_write(self.entity_description.key, False)
