"""Sensors of the grid operator link: DSO state, limits in kW, reasons, RTU, powers per category."""

from __future__ import annotations

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
    UnitOfPower,
    UnitOfTime,
)

from ..compat import KILOVAR, REACTIVE_KILOVAR_CLASS
from ..enforcement.sensor import async_add_sensors as async_add_enforcement_sensors
from ..entity import GridEmsEntity
from ..iec104 import Quality
from ..netflex import AssetCategory, QMode, Reason
from ..planning.sensor import async_add_sensors as async_add_planning_sensors
from .commissioning import CommissioningRunner
from .coordinator import GridLinkConfigEntry, GridLinkCoordinator, LinkSnapshot

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridLinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the link's sensors and its enforcement's."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        GridLinkSensor(coordinator, description) for description in GRID_LINK_SENSORS
    )
    async_add_enforcement_sensors(entry, entry.runtime_data.enforcement, async_add_entities)
    async_add_entities(
        [
            CommissioningSensor(
                entry.runtime_data.commissioning, COMMISSIONING_SENSOR, coordinator.device_ref
            )
        ]
    )
    async_add_planning_sensors(entry.runtime_data.planning, async_add_entities)


@dataclass(frozen=True, kw_only=True)
class GridLinkSensorDescription(SensorEntityDescription):
    """A sensor of the grid operator link and how it reads the link's snapshot."""

    value_fn: Callable[[LinkSnapshot], StateType | datetime]
    attributes_fn: Callable[[LinkSnapshot], Mapping[str, Any]] | None = None


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
    """Reactive power in kvar, shown like the powers in kW beside it."""
    return GridLinkSensorDescription(
        key=key,
        translation_key=key,
        device_class=REACTIVE_KILOVAR_CLASS,
        native_unit_of_measurement=KILOVAR,
        suggested_display_precision=1,
        value_fn=value_fn,
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
        return None if power.q_quality & Quality.INVALID else power.q_kvar

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
            device_class=REACTIVE_KILOVAR_CLASS,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=KILOVAR,
            suggested_display_precision=2,
            entity_registry_enabled_default=False,
            value_fn=reactive,
        ),
    )


GRID_LINK_SENSORS: tuple[GridLinkSensorDescription, ...] = (
    # On the link's device page: the assets it controls (added with "Add asset" on the entry).
    GridLinkSensorDescription(
        key="assets",
        translation_key="assets",
        suggested_display_precision=0,
        value_fn=lambda snapshot: len(snapshot.site.assets),
        attributes_fn=lambda snapshot: {"assets": [asset.name for asset in snapshot.site.assets]},
    ),
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
        # Rarely more than "never" (no state): enabled by whoever looks for it.
        entity_registry_enabled_default=False,
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
        super().__init__(coordinator, description, coordinator.device_ref)

    @property
    def native_value(self) -> StateType | datetime:
        """The value from the link's latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """More of the snapshot, for the sensors that show it."""
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else attributes_fn(self.coordinator.data)


COMMISSIONING_SENSOR: Final = SensorEntityDescription(
    key="commissioning",
    translation_key="commissioning",
    device_class=SensorDeviceClass.ENUM,
    options=["idle", "running", "passed", "failed", "aborted"],
)


class CommissioningSensor(GridEmsEntity[CommissioningRunner], SensorEntity):
    """The commissioning run: idle, running or the last outcome; the step, progress, report."""

    # A signature is a key to the report: not kept in the history.
    _unrecorded_attributes = frozenset({"report_link"})

    @property
    def native_value(self) -> str:
        """Idle, running, or how the last run ended."""
        return self.coordinator.data.state

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current step, the progress in %, and the path of the last report."""
        progress = self.coordinator.data
        return {
            "run_id": progress.run_id,
            "step": progress.step,
            "step_index": progress.step_index,
            "steps": progress.steps,
            "progress": progress.percentage,
            "report": progress.report,
            "report_link": progress.report_link,
        }
