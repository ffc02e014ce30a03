"""Switches of Grid EMS: one section per kind of entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory

from .enforcement import EnforcementCoordinator
from .entity import GridEmsEntity
from .grid_link import GridLinkData
from .modbus.profile import EntityPlatform, RegisterSpec, RelayRole, SafeState
from .modbus_device import (
    ModbusDeviceData,
    ModbusDeviceSettings,
    ModbusEntity,
    entity_fields,
    entity_registers,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

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
    """Add the switches of an entry."""
    match entry.runtime_data:
        case GridLinkData(enforcement=enforcement):
            async_add_entities(
                OptimizationSwitch(enforcement, description)
                for description in OPTIMIZATION_SWITCHES
            )
        case ModbusDeviceData(coordinator=coordinator, settings=settings):
            async_add_entities(
                ModbusSwitch(coordinator, modbus_switch_description(register, settings))
                for register in entity_registers(settings.profile, EntityPlatform.SWITCH)
            )


# --- Modbus device ---


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


# --- Enforcement ---


@dataclass(frozen=True, kw_only=True)
class OptimizationSwitchDescription(SwitchEntityDescription):
    """A local optimization the DSO limits sit on top of, switched on the link's device."""

    is_on_fn: Callable[[EnforcementCoordinator], bool]
    turn_fn: Callable[[EnforcementCoordinator, bool], None]


OPTIMIZATION_SWITCHES: tuple[OptimizationSwitchDescription, ...] = (
    OptimizationSwitchDescription(
        key="self_consumption",
        translation_key="self_consumption",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.self_consumption,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(self_consumption=on),
    ),
    OptimizationSwitchDescription(
        key="peak_shaving",
        translation_key="peak_shaving",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.peak_shaving,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(peak_shaving=on),
    ),
)


class OptimizationSwitch(GridEmsEntity[EnforcementCoordinator], SwitchEntity):
    """Self-consumption with the batteries, or peak shaving against the capacity tariff."""

    entity_description: OptimizationSwitchDescription

    def __init__(
        self, enforcement: EnforcementCoordinator, description: OptimizationSwitchDescription
    ) -> None:
        """Attach the switch to the link's device."""
        link = enforcement.link
        super().__init__(enforcement, description, link.device_info, link.device_unique_id)

    @property
    def is_on(self) -> bool:
        """Whether the optimization runs (kept across restarts by the enforcement)."""
        return self.entity_description.is_on_fn(self.coordinator)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the optimization."""
        self.entity_description.turn_fn(self.coordinator, True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the optimization; what it changed is restored."""
        self.entity_description.turn_fn(self.coordinator, False)
        self.async_write_ha_state()
