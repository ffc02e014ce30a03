"""The base of the entities of a Modbus device: one profile register each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from homeassistant.const import EntityCategory
from homeassistant.helpers.entity import EntityDescription

from ..entity import GridEmsEntity
from ..modbus.profile import DeviceProfile, EntityPlatform, RegisterSpec
from .coordinator import ModbusDeviceCoordinator

if TYPE_CHECKING:
    from ..modbus.codec import Value


class EntityFields(TypedDict):
    """The entity description fields every platform takes from a profile register."""

    key: str
    translation_key: str
    translation_placeholders: Mapping[str, str]
    entity_category: EntityCategory | None
    entity_registry_enabled_default: bool


def entity_registers(profile: DeviceProfile, platform: EntityPlatform) -> list[RegisterSpec]:
    """The profile registers that become entities of ``platform``."""
    return [s for s in profile.registers if s.entity and s.entity.platform is platform]


def entity_fields(register: RegisterSpec) -> EntityFields:
    """The common description fields of a register's entity."""
    entity = register.entity
    assert entity is not None
    return EntityFields(
        key=register.key,
        translation_key=entity.translation_key,
        translation_placeholders=entity.translation_placeholders,
        entity_category=EntityCategory(entity.entity_category) if entity.entity_category else None,
        entity_registry_enabled_default=entity.enabled_by_default,
    )


class ModbusEntity(GridEmsEntity[ModbusDeviceCoordinator]):
    """An entity showing one profile register of a Modbus device."""

    def __init__(
        self, coordinator: ModbusDeviceCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its device."""
        super().__init__(coordinator, description, coordinator.device_ref)

    @property
    def register(self) -> RegisterSpec:
        """The register this entity shows."""
        return self.coordinator.device.profile.register(self.entity_description.key)

    @property
    def register_value(self) -> Value:
        """The register's latest value (None when the device reported none)."""
        return self.coordinator.data.get(self.entity_description.key)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """An enumeration's raw code when it is outside the code map (the state is unknown)."""
        code = self.coordinator.device.unknown_codes.get(self.entity_description.key)
        return None if code is None else {"raw_code": code}
