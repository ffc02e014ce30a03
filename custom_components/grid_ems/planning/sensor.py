"""Sensors of the planning, on the link's device: the plan, its costs and savings, the peaks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import UnitOfPower
from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..entity import GridEmsEntity
from ..planner import SLOT, Plan
from .coordinator import PlanningCoordinator

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0

CURRENCY: Final = "EUR"
"""Belgian day-ahead prices and the capacity tariff are in euro."""


type ValueFn = Callable[[PlanningCoordinator, datetime], float | None]


@dataclass(frozen=True, kw_only=True)
class PlanningSensorDescription(SensorEntityDescription):
    """A sensor of the planning and how it reads the latest plan (None: unavailable)."""

    value_fn: ValueFn
    needs_plan: bool = True


def _day_cost(coordinator: PlanningCoordinator, now: datetime, days: int) -> float | None:
    """The plan's cost of a local day from now on; None unless the plan covers it to its end."""
    made = coordinator.data.plan
    if made is None:
        return None
    midnight = dt_util.start_of_local_day(dt_util.as_local(now)) + timedelta(days=days)
    end = dt_util.start_of_local_day(midnight + timedelta(days=1, hours=2))
    if made.start + len(made.battery_kw) * SLOT < end:
        return None
    return made.cost_between_eur(max(midnight, made.start), end)


def _plan_value(read: Callable[[Plan, datetime], float | None]) -> ValueFn:
    """Read the plan, None without one."""

    def value(coordinator: PlanningCoordinator, now: datetime) -> float | None:
        made = coordinator.data.plan
        return None if made is None else read(made, now)

    return value


def _money(key: str, value_fn: ValueFn) -> PlanningSensorDescription:
    return PlanningSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement=CURRENCY,
        suggested_display_precision=2,
        value_fn=value_fn,
    )


def _power(key: str, value_fn: ValueFn, *, needs_plan: bool = True) -> PlanningSensorDescription:
    return PlanningSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        value_fn=value_fn,
        needs_plan=needs_plan,
    )


PLANNED_BATTERY_POWER: Final = _power(
    "planned_battery_power",
    _plan_value(lambda made, now: made.setpoint_kw(now)),
)
PLANNING_SENSORS: Final[tuple[PlanningSensorDescription, ...]] = (
    _money("expected_cost_today", lambda coordinator, now: _day_cost(coordinator, now, 0)),
    _money("expected_cost_tomorrow", lambda coordinator, now: _day_cost(coordinator, now, 1)),
    _money(
        "savings_vs_no_battery",
        _plan_value(lambda made, _now: made.savings_vs_no_battery_eur),
    ),
    _money(
        "savings_vs_self_consumption",
        _plan_value(lambda made, _now: made.savings_vs_self_consumption_eur),
    ),
    _power(
        "month_peak",
        lambda coordinator, now: coordinator.enforcement.month_peak.peak_kw_at(now.timestamp()),
        needs_plan=False,
    ),
    _power(
        "predicted_month_peak",
        _plan_value(lambda made, _now: made.predicted_month_peak_kw),
    ),
)


class PlanningSensor(GridEmsEntity[PlanningCoordinator], SensorEntity):
    """A figure of the battery plan; unavailable without a plan (the diagnostics say why)."""

    entity_description: PlanningSensorDescription

    def __init__(
        self, coordinator: PlanningCoordinator, description: PlanningSensorDescription
    ) -> None:
        """Attach the sensor to the link's device."""
        super().__init__(coordinator, description, coordinator.enforcement.link.device_ref)

    @property
    def available(self) -> bool:
        """Whether there is a plan (or the sensor needs none)."""
        return super().available and (
            not self.entity_description.needs_plan or self.coordinator.data.plan is not None
        )

    @property
    def native_value(self) -> float | None:
        """The figure now."""
        return self.entity_description.value_fn(self.coordinator, dt_util.utcnow())


class PlannedBatteryPowerSensor(PlanningSensor):
    """The battery power planned for this quarter hour (+ discharge), the whole plan attached."""

    # The plan changes every quarter hour: the recorder keeps the state, not the whole plan.
    _unrecorded_attributes = frozenset({"forecast"})

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """The plan: per quarter hour its start, battery and grid power, state of energy, price."""
        state = self.coordinator.data
        made = state.plan
        if made is None:
            return None
        capacity = state.capacity_kwh
        return {
            "forecast": [
                {
                    "start": (made.start + index * SLOT).isoformat(),
                    "power_kw": round(power, 3),
                    "soe_pct": round(100 * made.soe_kwh[index] / capacity, 1),
                    "grid_kw": round(made.grid_kw[index], 3),
                    "price_eur_per_kwh": state.day_ahead_eur_per_kwh[index],
                }
                for index, power in enumerate(made.battery_kw)
            ]
        }


@callback
def async_add_sensors(
    planning: PlanningCoordinator, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the planning's sensors."""
    async_add_entities(
        [
            PlannedBatteryPowerSensor(planning, PLANNED_BATTERY_POWER),
            *(PlanningSensor(planning, description) for description in PLANNING_SENSORS),
        ]
    )
