"""Sensors of Grid EMS: one section per kind of entry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    Platform,
    UnitOfPower,
    UnitOfReactivePower,
    UnitOfTime,
)
from homeassistant.core import callback

from . import p1_meter
from .control.model import Constraint, ControllerState, Decision, Source
from .enforcement import EnforcementCoordinator
from .entity import GridEmsEntity
from .grid_link import GridLinkCoordinator, GridLinkData, LinkSnapshot
from .iec104 import Quality
from .modbus.profile import EntityPlatform, RegisterSpec
from .modbus_device import ModbusDeviceData, ModbusEntity, entity_fields, entity_registers
from .netflex import AssetCategory, QMode, Reason
from .p1_meter import P1MeterData

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

    from .models import GridEmsConfigEntry

_LOGGER = logging.getLogger(__name__)

# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of an entry."""
    match entry.runtime_data:
        case P1MeterData():
            await p1_meter.KIND.entities[Platform.SENSOR](hass, entry, async_add_entities)
        case GridLinkData(coordinator=coordinator, enforcement=enforcement):
            async_add_entities(
                GridLinkSensor(coordinator, description) for description in GRID_LINK_SENSORS
            )
            _async_add_enforcement_sensors(entry, enforcement, async_add_entities)
        case ModbusDeviceData(coordinator=modbus_coordinator, settings=settings):
            async_add_entities(
                ModbusSensor(modbus_coordinator, modbus_sensor_description(register))
                for register in entity_registers(settings.profile, EntityPlatform.SENSOR)
            )


# --- Grid operator link ---


@dataclass(frozen=True, kw_only=True)
class GridLinkSensorDescription(SensorEntityDescription):
    """A sensor of the grid operator link and how it reads the link's snapshot."""

    value_fn: Callable[[LinkSnapshot], StateType | datetime]


def _percentage(key: str, value_fn: Callable[[LinkSnapshot], float]) -> GridLinkSensorDescription:
    return GridLinkSensorDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        value_fn=value_fn,
    )


def _power(key: str, value_fn: Callable[[LinkSnapshot], float]) -> GridLinkSensorDescription:
    return GridLinkSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        value_fn=value_fn,
    )


def _reactive(key: str, value_fn: Callable[[LinkSnapshot], float]) -> GridLinkSensorDescription:
    """Reactive power in var: the unit Home Assistant's reactive power class accepts."""
    return GridLinkSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.REACTIVE_POWER,
        native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        suggested_display_precision=0,
        value_fn=lambda snapshot: value_fn(snapshot) * 1000,
    )


REASONS: Final = [reason.key for reason in Reason]


def _enum(
    key: str, options: list[str], value_fn: Callable[[LinkSnapshot], str]
) -> GridLinkSensorDescription:
    return GridLinkSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENUM,
        options=options,
        value_fn=value_fn,
    )


def _category_sensors(category: AssetCategory) -> tuple[GridLinkSensorDescription, ...]:
    """Reported P and Q of a category; unknown while an asset's sensor has no reading."""

    def active(snapshot: LinkSnapshot) -> float | None:
        power = snapshot.measurements[category]
        return None if power.p_quality & Quality.INVALID else power.p_kw

    def reactive(snapshot: LinkSnapshot) -> float | None:
        power = snapshot.measurements[category]
        return None if power.q_quality & Quality.INVALID else power.q_kvar * 1000

    return (
        GridLinkSensorDescription(
            key=f"active_power_{category}",
            translation_key=f"active_power_{category}",
            device_class=SensorDeviceClass.POWER,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfPower.KILO_WATT,
            suggested_display_precision=2,
            value_fn=active,
        ),
        GridLinkSensorDescription(
            key=f"reactive_power_{category}",
            translation_key=f"reactive_power_{category}",
            device_class=SensorDeviceClass.REACTIVE_POWER,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
            suggested_display_precision=0,
            entity_registry_enabled_default=False,
            value_fn=reactive,
        ),
    )


GRID_LINK_SENSORS: tuple[GridLinkSensorDescription, ...] = (
    _percentage("min_set_p", lambda snapshot: snapshot.state.min_set_p),
    _percentage("max_set_p", lambda snapshot: snapshot.state.max_set_p),
    _percentage("max_set_ap", lambda snapshot: snapshot.state.max_set_ap),
    _percentage("min_set_ap", lambda snapshot: snapshot.state.min_set_ap),
    _percentage("min_set_q", lambda snapshot: snapshot.state.min_set_q),
    _percentage("max_set_q", lambda snapshot: snapshot.state.max_set_q),
    _power("max_injection", lambda snapshot: snapshot.limits.max_injection_kw),
    _power("max_consumption", lambda snapshot: snapshot.limits.max_consumption_kw),
    _power("max_asset_production", lambda snapshot: snapshot.limits.max_asset_production_kw),
    _power("max_asset_consumption", lambda snapshot: snapshot.limits.max_asset_consumption_kw),
    _reactive("min_reactive_power", lambda snapshot: snapshot.limits.min_reactive_kvar),
    _reactive("max_reactive_power", lambda snapshot: snapshot.limits.max_reactive_kvar),
    _enum("reason_p", REASONS, lambda snapshot: snapshot.state.reason_p.key),
    _enum("reason_q", REASONS, lambda snapshot: snapshot.state.reason_q.key),
    _enum("q_mode", [mode.value for mode in QMode], lambda snapshot: snapshot.state.q_mode),
    GridLinkSensorDescription(
        key="last_command",
        translation_key="last_command",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda snapshot: (
            None if snapshot.last_command is None else snapshot.last_command.time
        ),
    ),
    GridLinkSensorDescription(
        key="clock_offset",
        translation_key="clock_offset",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: (
            None if snapshot.clock_offset is None else snapshot.clock_offset.total_seconds()
        ),
    ),
    GridLinkSensorDescription(
        key="rtu_address",
        translation_key="rtu_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: None if snapshot.rtu is None else snapshot.rtu.address,
    ),
    GridLinkSensorDescription(
        key="rtu_replaced",
        translation_key="rtu_replaced",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.rtu_replaced_at,
    ),
    *(description for category in AssetCategory for description in _category_sensors(category)),
)


class GridLinkSensor(GridEmsEntity[GridLinkCoordinator], SensorEntity):
    """A value of the grid operator link."""

    entity_description: GridLinkSensorDescription

    def __init__(
        self, coordinator: GridLinkCoordinator, description: GridLinkSensorDescription
    ) -> None:
        """Attach the sensor to the link's device."""
        super().__init__(
            coordinator, description, coordinator.device_info, coordinator.device_unique_id
        )

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the link's latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)


# --- Modbus device ---


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


# --- Enforcement ---


@dataclass(frozen=True, kw_only=True)
class EnforcementSensorDescription(SensorEntityDescription):
    """A sensor of the enforcement and how it reads the controller's latest decision."""

    value_fn: Callable[[Decision], StateType]


NO_CONSTRAINT: Final = "none"


def _headroom(
    key: str, value_fn: Callable[[Decision], float | None]
) -> EnforcementSensorDescription:
    return EnforcementSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        value_fn=value_fn,
    )


ENFORCEMENT_SENSORS: tuple[EnforcementSensorDescription, ...] = (
    EnforcementSensorDescription(
        key="enforcement_state",
        translation_key="enforcement_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in ControllerState],
        value_fn=lambda decision: decision.state.value,
    ),
    EnforcementSensorDescription(
        key="active_constraint",
        translation_key="active_constraint",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_CONSTRAINT, *(constraint.value for constraint in Constraint)],
        value_fn=lambda decision: (
            NO_CONSTRAINT if decision.active is None else decision.active.constraint.value
        ),
    ),
    EnforcementSensorDescription(
        key="constraint_source",
        translation_key="constraint_source",
        device_class=SensorDeviceClass.ENUM,
        options=[NO_CONSTRAINT, *(source.value for source in Source)],
        value_fn=lambda decision: (
            NO_CONSTRAINT if decision.active is None else decision.active.source.value
        ),
    ),
    _headroom("injection_headroom", lambda decision: decision.headroom_injection_kw),
    _headroom("consumption_headroom", lambda decision: decision.headroom_consumption_kw),
)


class EnforcementSensor(GridEmsEntity[EnforcementCoordinator], SensorEntity):
    """What the enforcement does, on the link's device."""

    entity_description: EnforcementSensorDescription

    def __init__(
        self, enforcement: EnforcementCoordinator, description: EnforcementSensorDescription
    ) -> None:
        """Attach the sensor to the link's device."""
        link = enforcement.link
        super().__init__(enforcement, description, link.device_info, link.device_unique_id)

    @property
    def native_value(self) -> StateType:
        """The value from the latest decision."""
        return self.entity_description.value_fn(self.coordinator.data)


class AppliedLimitSensor(GridEmsEntity[EnforcementCoordinator], SensorEntity):
    """The limit the enforcement applies to one asset, on the asset's device in its subentry.

    A production cap, a consumption cap (as a magnitude) or a battery's setpoint (+ discharge);
    unknown while the asset is free. The attributes say which constraint set it.
    """

    def __init__(self, enforcement: EnforcementCoordinator, subentry: ConfigSubentry) -> None:
        """Attach the sensor to the device of the asset of ``subentry``."""
        description = SensorEntityDescription(
            key=f"applied_limit_{subentry.subentry_id}",
            translation_key="applied_limit",
            device_class=SensorDeviceClass.POWER,
            native_unit_of_measurement=UnitOfPower.KILO_WATT,
            suggested_display_precision=2,
        )
        link = enforcement.link
        super().__init__(
            enforcement, description, link.asset_device_info(subentry), link.device_unique_id
        )
        self.asset_id = subentry.subentry_id

    @property
    def available(self) -> bool:
        """Whether the asset is still registered."""
        return super().available and self.asset_id in self.coordinator.data.assets

    @property
    def native_value(self) -> float | None:
        """The applied limit, None while the asset is free."""
        return self.coordinator.data.assets[self.asset_id].applied_kw

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Which constraint applies the limit, from which source, and whether it ramps back."""
        outcome = self.coordinator.data.assets[self.asset_id]
        if outcome.cause is None:
            return None
        return {
            "constraint": outcome.cause.constraint.value,
            "source": outcome.cause.source.value,
            "releasing": outcome.releasing,
        }


def _async_add_enforcement_sensors(
    entry: GridEmsConfigEntry,
    enforcement: EnforcementCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The enforcement's sensors, and one applied limit per asset (also for assets added later)."""
    async_add_entities(
        EnforcementSensor(enforcement, description) for description in ENFORCEMENT_SENSORS
    )
    added: set[str] = set()

    @callback
    def add_assets() -> None:
        for subentry_id, subentry in entry.subentries.items():
            if subentry_id in enforcement.data.assets and subentry_id not in added:
                added.add(subentry_id)
                async_add_entities(
                    [AppliedLimitSensor(enforcement, subentry)],
                    config_subentry_id=subentry_id,
                )

    add_assets()
    entry.async_on_unload(enforcement.async_add_listener(add_assets))
