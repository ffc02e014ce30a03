"""Sensors of the enforcement, on the link's device and on each asset's device."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    UnitOfPower,
)
from homeassistant.core import callback

from ..control.model import Constraint, ControllerState, Decision, Source
from ..entity import GridEmsEntity
from .coordinator import EnforcementCoordinator

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType


_LOGGER = logging.getLogger(__name__)

# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


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
        super().__init__(enforcement, description, link.device_ref)

    @property
    def native_value(self) -> StateType:
        """The value from the latest decision."""
        return self.entity_description.value_fn(self.coordinator.data)


def applied_limit_description(subentry_id: str) -> SensorEntityDescription:
    """The applied limit of the asset of subentry ``subentry_id``."""
    return SensorEntityDescription(
        key=f"applied_limit_{subentry_id}",
        translation_key="applied_limit",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=2,
    )


class AppliedLimitSensor(GridEmsEntity[EnforcementCoordinator], SensorEntity):
    """The limit the enforcement applies to one asset, on the asset's device in its subentry.

    A production cap, a consumption cap (as a magnitude) or a battery's setpoint (+ discharge);
    the asset's installed power while the asset is free (nothing limits it below its full power),
    never unknown on a healthy site. The attributes say which constraint set it ("none").
    """

    def __init__(self, enforcement: EnforcementCoordinator, subentry: ConfigSubentry) -> None:
        """Attach the sensor to the device of the asset of ``subentry``."""
        link = enforcement.link
        super().__init__(
            enforcement,
            applied_limit_description(subentry.subentry_id),
            link.asset_device_ref(subentry),
        )
        self.asset_id = subentry.subentry_id

    @property
    def available(self) -> bool:
        """Whether the asset is still registered."""
        return super().available and self.asset_id in self.coordinator.data.assets

    @property
    def native_value(self) -> float | None:
        """The applied limit; the asset's full power while it is free."""
        applied = self.coordinator.data.assets[self.asset_id].applied_kw
        if applied is not None:
            return applied
        assets = self.coordinator.link.site.assets
        asset = next((asset for asset in assets if asset.asset_id == self.asset_id), None)
        return None if asset is None else asset.installed_power_kw

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Which constraint applies the limit, from which source, and whether it ramps back."""
        outcome = self.coordinator.data.assets[self.asset_id]
        if outcome.cause is None:
            return {"constraint": NO_CONSTRAINT, "source": NO_CONSTRAINT, "releasing": False}
        return {
            "constraint": outcome.cause.constraint.value,
            "source": outcome.cause.source.value,
            "releasing": outcome.releasing,
        }


@callback
def async_add_sensors(
    entry: ConfigEntry[Any],
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
