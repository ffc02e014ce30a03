"""Typed inputs and outputs of the battery planner.

Signs follow ``control/``: the battery's power uses the asset convention (discharge positive,
charge negative), the grid power the load convention (import positive), like MINSETP and
MAXSETP. Energy prices are in € per kWh, powers in kW, energies in kWh; one slot is a quarter
hour, the market time unit of the Belgian day-ahead prices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

SLOT: Final = timedelta(minutes=15)
SLOT_H: Final = 0.25
FREE_PEAK_KW: Final = 2.5
"""The capacity tariff bills at least 2.5 kW each month: a peak up to it costs nothing."""


class PlanInputError(ValueError):
    """The planner's input is inconsistent; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class Tariff:
    """The supplier's formula on the day-ahead price and the grid operator's capacity tariff.

    Import costs ``import_factor * day_ahead + import_adder`` per kWh, injection earns
    ``export_factor * day_ahead + export_adder`` (both may be negative). Raising the month's
    peak by one kW costs ``capacity_eur_per_kw``: with the tariff on the 12-month average of the
    monthly peaks at about €40/kW/year, one month's extra kW costs 40/12 € in total.
    """

    import_factor: float = 1.0
    import_adder: float = 0.0
    export_factor: float = 1.0
    export_adder: float = 0.0
    capacity_eur_per_kw: float = 40.0 / 12.0
    free_peak_kw: float = FREE_PEAK_KW

    def import_price(self, day_ahead: float) -> float:
        """What one kWh drawn from the grid costs at this day-ahead price (€/kWh)."""
        return self.import_factor * day_ahead + self.import_adder

    def export_price(self, day_ahead: float) -> float:
        """What one kWh injected earns at this day-ahead price (€/kWh)."""
        return self.export_factor * day_ahead + self.export_adder


@dataclass(frozen=True, slots=True)
class Battery:
    """The battery now and its limits. Efficiencies are one way (AC to stored and back)."""

    capacity_kwh: float
    soe_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    min_soe_kwh: float = 0.0
    max_soe_kwh: float | None = None
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    wear_eur_per_kwh: float = 0.0
    """Cost of each kWh that goes in or out (AC side), for the cycles it uses up."""

    @property
    def upper_soe_kwh(self) -> float:
        """The highest state of energy the plan may reach."""
        return self.capacity_kwh if self.max_soe_kwh is None else self.max_soe_kwh


@dataclass(frozen=True, slots=True)
class Connection:
    """The connection's contractual capacities (kW, both positive)."""

    import_capacity_kw: float
    export_capacity_kw: float


@dataclass(frozen=True, slots=True)
class OperatorLimits:
    """The grid operator's limits as hard bounds, from ``start`` until ``end`` (None: open).

    ``min_grid_kw`` is MINSETP and ``max_grid_kw`` MAXSETP at the connection point; the battery
    bounds come from its asset limits (MAXSETAP caps discharge, MINSETAP charge).
    """

    start: datetime | None = None
    end: datetime | None = None
    min_grid_kw: float | None = None
    max_grid_kw: float | None = None
    max_battery_discharge_kw: float | None = None
    max_battery_charge_kw: float | None = None

    def covers(self, slot_start: datetime) -> bool:
        """Whether the limits hold during the slot starting at ``slot_start``."""
        slot_end = slot_start + SLOT
        return (self.start is None or self.start < slot_end) and (
            self.end is None or self.end > slot_start
        )


@dataclass(frozen=True, slots=True)
class PlanInput:
    """Everything the planner needs, slot by slot from ``start`` (the running quarter hour).

    The horizon is the length of ``day_ahead_eur_per_kwh``; a missing forecast counts as zero.
    ``stored_energy_eur_per_kwh`` values what the battery holds at the horizon's end (None: the
    median import price of the horizon after discharge losses), so that the plan does not empty
    it for nothing just before the prices it cannot see yet.
    """

    start: datetime
    day_ahead_eur_per_kwh: Sequence[float]
    battery: Battery
    connection: Connection
    tariff: Tariff = field(default_factory=Tariff)
    pv_kw: Sequence[float] | None = None
    load_kw: Sequence[float] | None = None
    limits: Sequence[OperatorLimits] = ()
    month_peak_kw: float = 0.0
    """The month's highest quarter-hour import so far (kW)."""
    stored_energy_eur_per_kwh: float | None = None

    def __post_init__(self) -> None:
        """Refuse input the planner cannot plan on, with the reason."""
        slots = len(self.day_ahead_eur_per_kwh)
        if self.start.tzinfo is None:
            raise PlanInputError("start must be timezone-aware")
        if self.start.minute % 15 or self.start.second or self.start.microsecond:
            raise PlanInputError(f"start {self.start.isoformat()} is not on a quarter hour")
        if slots == 0:
            raise PlanInputError("no day-ahead prices: nothing to plan")
        for name, series in (
            ("day_ahead_eur_per_kwh", self.day_ahead_eur_per_kwh),
            ("pv_kw", self.pv_kw),
            ("load_kw", self.load_kw),
        ):
            if series is None:
                continue
            if len(series) != slots:
                raise PlanInputError(f"{name} has {len(series)} slots, the prices {slots}")
            if not all(math.isfinite(value) for value in series):
                raise PlanInputError(f"{name} holds a value that is not a finite number")
        battery = self.battery
        if battery.capacity_kwh <= 0:
            raise PlanInputError("battery capacity must be positive")
        if not 0 <= battery.min_soe_kwh < battery.upper_soe_kwh <= battery.capacity_kwh:
            raise PlanInputError("battery needs 0 <= min_soe_kwh < max_soe_kwh <= capacity_kwh")
        if battery.max_charge_kw < 0 or battery.max_discharge_kw < 0:
            raise PlanInputError("battery power limits must not be negative")
        if not (0 < battery.charge_efficiency <= 1 and 0 < battery.discharge_efficiency <= 1):
            raise PlanInputError("battery efficiencies must be in (0, 1]")
        if not 0 <= battery.soe_kwh <= battery.capacity_kwh:
            raise PlanInputError("battery state of energy must be within its capacity")
        if self.connection.import_capacity_kw < 0 or self.connection.export_capacity_kw < 0:
            raise PlanInputError("connection capacities must not be negative")

    @property
    def slots(self) -> int:
        """Number of quarter hours planned."""
        return len(self.day_ahead_eur_per_kwh)

    def slot_start(self, index: int) -> datetime:
        """Start of slot ``index``."""
        return self.start + index * SLOT


@dataclass(frozen=True, slots=True)
class Costs:
    """What a battery schedule costs over the horizon (€), with its parts."""

    energy_eur: float
    """Import paid minus injection earned."""
    capacity_eur: float
    """Raising the month's peak above the peak so far (and the free 2.5 kW)."""
    wear_eur: float
    stored_value_eur: float
    """Value of the energy the battery gained over the horizon (negative when it lost some)."""
    peak_kw: float
    """The month's peak at the horizon's end."""

    @property
    def total_eur(self) -> float:
        """Energy, capacity and wear, less the value of the energy stored meanwhile."""
        return self.energy_eur + self.capacity_eur + self.wear_eur - self.stored_value_eur


@dataclass(frozen=True, slots=True)
class Plan:
    """The battery's power per quarter hour and what it is expected to cost and save.

    ``soe_kwh[i]`` is the state of energy at the end of slot ``i``; ``slot_cost_eur[i]`` the
    energy and wear cost of slot ``i`` (the capacity tariff belongs to the horizon as a whole).
    """

    start: datetime
    battery_kw: tuple[float, ...]
    grid_kw: tuple[float, ...]
    soe_kwh: tuple[float, ...]
    slot_cost_eur: tuple[float, ...]
    cost: Costs
    no_battery: Costs
    self_consumption: Costs

    @property
    def predicted_month_peak_kw(self) -> float:
        """The month's peak if the plan is followed and the forecasts come true."""
        return self.cost.peak_kw

    @property
    def savings_vs_no_battery_eur(self) -> float:
        """How much less the plan costs than leaving the battery idle."""
        return self.no_battery.total_eur - self.cost.total_eur

    @property
    def savings_vs_self_consumption_eur(self) -> float:
        """How much less the plan costs than using the battery for self-consumption only."""
        return self.self_consumption.total_eur - self.cost.total_eur

    def setpoint_kw(self, now: datetime) -> float | None:
        """The battery power planned for the quarter hour holding ``now`` (None outside)."""
        index = math.floor((now - self.start) / SLOT)
        return self.battery_kw[index] if 0 <= index < len(self.battery_kw) else None

    def cost_between_eur(self, start: datetime, end: datetime) -> float:
        """Energy and wear cost of the slots starting in [start, end), e.g. today or tomorrow."""
        return sum(
            cost
            for index, cost in enumerate(self.slot_cost_eur)
            if start <= self.start + index * SLOT < end
        )
