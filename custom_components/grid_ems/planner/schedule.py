"""The horizon as arrays, and what a battery schedule does and costs on it.

One evaluation serves the plan, its baselines (no battery, self-consumption only) and the tests'
LP reference, so that all are compared on the same terms. Where a limit cannot be kept with the
battery alone, the grid power is clipped to it: the enforcement controller curtails the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .model import SLOT_H, Costs, PlanInput

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Horizon:
    """The planner's input per slot, as arrays of the horizon's length."""

    net_kw: FloatArray
    """Load minus PV: the grid power with the battery idle."""
    import_price: FloatArray
    export_price: FloatArray
    min_grid_kw: FloatArray
    max_grid_kw: FloatArray
    max_charge_kw: FloatArray
    max_discharge_kw: FloatArray
    free_peak_kw: float
    """The month's peak so far, at least the tariff's free level: import up to it costs nothing."""
    stored_eur_per_kwh: float


def horizon(inputs: PlanInput) -> Horizon:
    """Turn the input into per-slot arrays, the grid operator's limits intersected."""
    slots = inputs.slots
    tariff = inputs.tariff
    battery = inputs.battery
    day_ahead = np.asarray(inputs.day_ahead_eur_per_kwh, dtype=np.float64)
    load = np.zeros(slots) if inputs.load_kw is None else np.asarray(inputs.load_kw, np.float64)
    pv = np.zeros(slots) if inputs.pv_kw is None else np.asarray(inputs.pv_kw, np.float64)
    import_price = tariff.import_factor * day_ahead + tariff.import_adder
    min_grid = np.full(slots, -inputs.connection.export_capacity_kw)
    max_grid = np.full(slots, inputs.connection.import_capacity_kw)
    max_charge = np.full(slots, battery.max_charge_kw)
    max_discharge = np.full(slots, battery.max_discharge_kw)
    for limits in inputs.limits:
        covered = np.array([limits.covers(inputs.slot_start(index)) for index in range(slots)])
        for array, value, tighter in (
            (min_grid, limits.min_grid_kw, np.maximum),
            (max_grid, limits.max_grid_kw, np.minimum),
            (max_charge, limits.max_battery_charge_kw, np.minimum),
            (max_discharge, limits.max_battery_discharge_kw, np.minimum),
        ):
            if value is not None:
                array[covered] = tighter(array[covered], value)
    stored = inputs.stored_energy_eur_per_kwh
    if stored is None:
        stored = float(np.median(import_price)) * battery.discharge_efficiency
    return Horizon(
        net_kw=load - pv,
        import_price=import_price,
        export_price=tariff.export_factor * day_ahead + tariff.export_adder,
        min_grid_kw=min_grid,
        max_grid_kw=np.maximum(max_grid, min_grid),
        max_charge_kw=np.maximum(max_charge, 0.0),
        max_discharge_kw=np.maximum(max_discharge, 0.0),
        free_peak_kw=max(tariff.free_peak_kw, inputs.month_peak_kw),
        stored_eur_per_kwh=stored,
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """A battery schedule carried out: its powers, energy states and costs."""

    battery_kw: FloatArray
    grid_kw: FloatArray
    soe_kwh: FloatArray
    """At the end of each slot."""
    slot_cost_eur: FloatArray
    costs: Costs


def carry_out(inputs: PlanInput, span: Horizon, requested_kw: FloatArray) -> Outcome:
    """Run the battery at the requested powers as far as its limits allow, and cost it."""
    battery = inputs.battery
    lower = min(battery.min_soe_kwh, battery.soe_kwh)
    upper = max(battery.upper_soe_kwh, battery.soe_kwh)
    power = np.clip(requested_kw, -span.max_charge_kw, span.max_discharge_kw)
    soe = np.empty(inputs.slots)
    level = battery.soe_kwh
    for index, wanted in enumerate(power):
        if wanted >= 0:
            delivered = min(wanted, (level - lower) * battery.discharge_efficiency / SLOT_H)
            level = max(level - delivered / battery.discharge_efficiency * SLOT_H, lower)
        else:
            delivered = max(wanted, -(upper - level) / battery.charge_efficiency / SLOT_H)
            level = min(level - delivered * battery.charge_efficiency * SLOT_H, upper)
        power[index] = delivered
        soe[index] = level
    grid = np.clip(span.net_kw - power, span.min_grid_kw, span.max_grid_kw)
    energy = SLOT_H * np.where(grid > 0, span.import_price * grid, span.export_price * grid)
    wear = SLOT_H * battery.wear_eur_per_kwh * np.abs(power)
    highest = max(float(grid.max()), 0.0)
    costs = Costs(
        energy_eur=float(energy.sum()),
        capacity_eur=inputs.tariff.capacity_eur_per_kw * max(highest - span.free_peak_kw, 0.0),
        wear_eur=float(wear.sum()),
        stored_value_eur=float((level - battery.soe_kwh) * span.stored_eur_per_kwh),
        peak_kw=max(highest, inputs.month_peak_kw),
    )
    return Outcome(power, grid, soe, energy + wear, costs)


def self_consumption_kw(span: Horizon) -> FloatArray:
    """Self-consumption only: charge from the PV surplus, discharge into the load, no more."""
    return span.net_kw.copy()
