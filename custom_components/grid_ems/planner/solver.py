"""The plan: a dynamic program over (quarter hour, state of energy), the peak by outer search.

Under a given import ceiling a slot's cost depends only on the energy the battery gains in it,
so the backward pass is a min-plus convolution of the next slot's values with that cost,
vectorised over a uniform state-of-energy grid from the lowest to the highest level allowed.
The grid's steps cannot follow the load exactly, so each slot also offers the moves where its
cost bends (grid power at zero, at the ceiling or a limit; full power), which end between grid
points and are valued by linear interpolation; the forward pass starts from the energy held
now and chooses each move again the same way, back onto grid points included.

The capacity tariff's maximum over the horizon couples the slots. For a fixed ceiling they
are independent again: import above it is charged the tariff per kW in each slot (what one
slot above the ceiling would add to the bill). The ceiling of least total cost as carried out
(convex in the ceiling for the exact problem) is found by golden-section search on a coarser
grid (``SEARCH_SOE_STEPS``), between the peak already paid for and the highest one the tariff
can pay back. Limits the battery cannot keep (a grid operator limit beyond what it can absorb)
are penalised at ``PENALTY_EUR_PER_KWH``, far above any price, so the plan keeps them wherever
it can and otherwise strains towards them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .model import SLOT_H, Battery, Plan, PlanInput
from .schedule import FloatArray, Horizon, Outcome, carry_out, horizon, self_consumption_kw

PENALTY_EUR_PER_KWH: Final = 1000.0
DEFAULT_SOE_STEPS: Final = 100
SEARCH_SOE_STEPS: Final = 50
PEAK_TOLERANCE_KW: Final = 0.1
_SEARCH_MARGIN_KW: Final = 1.0
_GOLDEN: Final = (math.sqrt(5.0) - 1.0) / 2.0


class _Grid:
    """The state-of-energy grid and the energy steps the battery can take in a slot."""

    def __init__(self, inputs: PlanInput, steps: int) -> None:
        battery = inputs.battery
        self.lower = min(battery.min_soe_kwh, battery.soe_kwh)
        upper = max(battery.upper_soe_kwh, battery.soe_kwh)
        self.step = (upper - self.lower) / steps
        self.levels = np.linspace(self.lower, upper, steps + 1, dtype=np.float64)
        drawn = battery.max_discharge_kw / battery.discharge_efficiency * SLOT_H
        self.down = min(math.ceil(drawn / self.step), steps)
        stored = battery.max_charge_kw * battery.charge_efficiency * SLOT_H
        self.up = min(math.ceil(stored / self.step), steps)
        self.gains = self.step * np.arange(-self.down, self.up + 1, dtype=np.float64)


def _power(battery: Battery, gained: FloatArray) -> FloatArray:
    """Battery power (discharge positive) that changes the stored energy by ``gained`` in a slot."""
    return np.where(
        gained < 0,
        -gained * battery.discharge_efficiency / SLOT_H,
        -gained / battery.charge_efficiency / SLOT_H,
    )


def _gained(battery: Battery, power: FloatArray) -> FloatArray:
    """The stored energy that battery power ``power`` gains in a slot (inverse of ``_power``)."""
    return np.where(
        power > 0,
        -power / battery.discharge_efficiency * SLOT_H,
        -power * battery.charge_efficiency * SLOT_H,
    )


class _Costs:
    """The cost of a slot for any battery power, under an import ceiling."""

    def __init__(self, inputs: PlanInput, span: Horizon, ceiling: float) -> None:
        self.battery = inputs.battery
        self.span = span
        self.ceiling = ceiling
        self.rate = inputs.tariff.capacity_eur_per_kw
        self.upper = np.minimum(span.max_grid_kw, ceiling)

    def of(self, gained: FloatArray) -> FloatArray:
        """Cost of each slot (rows) when the battery gains ``gained`` (columns) in it.

        Import above the ceiling costs the capacity tariff per kW in each slot: what one slot
        above it would add to the bill.
        """
        span = self.span
        power = _power(self.battery, gained)
        grid_kw = span.net_kw[:, None] - power
        energy = np.where(
            grid_kw > 0,
            span.import_price[:, None] * grid_kw,
            span.export_price[:, None] * grid_kw,
        )
        beyond = np.maximum(grid_kw - span.max_grid_kw[:, None], 0.0) + np.maximum(
            span.min_grid_kw[:, None] - grid_kw, 0.0
        )
        above = np.maximum(grid_kw - self.ceiling, 0.0)
        wear = self.battery.wear_eur_per_kwh * np.abs(power)
        cost: FloatArray = SLOT_H * (energy + wear + PENALTY_EUR_PER_KWH * beyond)
        cost += self.rate * above
        allowed = (power <= span.max_discharge_kw[:, None] + 1e-9) & (
            -power <= span.max_charge_kw[:, None] + 1e-9
        )
        return np.where(allowed, cost, np.inf)

    def kinks(self) -> FloatArray:
        """Per slot, the gains where the cost bends: grid at zero, at a bound, full power.

        The grid's steps cannot hit these exactly; offered as extra moves that end between
        grid points (valued by interpolation), they make the plan follow load and limits.
        """
        span = self.span
        net = span.net_kw
        powers = np.stack(
            (
                net,
                net - self.upper,
                net - span.min_grid_kw,
                span.max_discharge_kw,
                -span.max_charge_kw,
            ),
            axis=1,
        )
        powers = np.clip(powers, -span.max_charge_kw[:, None], span.max_discharge_kw[:, None])
        return _gained(self.battery, powers)


@dataclass(frozen=True, slots=True)
class _Values:
    """The backward pass under one import ceiling: each slot's cost-to-go per grid point."""

    costs: _Costs
    kinks: FloatArray
    values: FloatArray


def _backward(inputs: PlanInput, span: Horizon, grid: _Grid, ceiling: float) -> _Values:
    costs = _Costs(inputs, span, ceiling)
    kinks = costs.kinks()
    slots = inputs.slots
    moves = np.concatenate((np.broadcast_to(grid.gains, (slots, len(grid.gains))), kinks), axis=1)
    move_costs = costs.of(moves)
    steps = len(grid.gains)
    levels = grid.levels
    count = len(levels)
    # Each slot's values padded with the unreachable beyond the grid's ends, and a view of
    # them in which row i holds the values of the grid's steps away from grid point i.
    padded = np.full((slots + 1, grid.down + count + grid.up), np.inf)
    values = padded[:, grid.down : grid.down + count]
    values[slots] = -span.stored_eur_per_kwh * (levels - inputs.battery.soe_kwh)
    windows = sliding_window_view(padded, steps, axis=1)
    landings = levels[None, None, :] + kinks[:, :, None]
    smallest = np.minimum.reduce
    for slot in range(slots - 1, -1, -1):
        best = smallest(windows[slot + 1] + move_costs[slot, :steps], axis=1)
        between = np.interp(landings[slot], levels, values[slot + 1], left=np.inf, right=np.inf)
        between += move_costs[slot, steps:, None]
        np.minimum(best, smallest(between, axis=0), out=values[slot])
    return _Values(costs, kinks, values)


def _forward(inputs: PlanInput, grid: _Grid, backward: _Values) -> FloatArray:
    """The battery powers from the energy held now, each slot's move chosen on the values.

    From between grid points (at the start, after a kink) the moves onto grid points and to
    the kinks are offered, valued by interpolation like the backward pass valued the kinks.
    A slot's cost is linear between its kinks, so it is interpolated exactly between them.
    """
    levels = grid.levels
    bends = np.sort(np.concatenate((backward.kinks, np.zeros((inputs.slots, 1))), axis=1))
    bend_costs = backward.costs.of(bends)
    gained = np.empty(inputs.slots)
    level = inputs.battery.soe_kwh
    count = len(levels)
    moves = np.empty(count + backward.kinks.shape[1])
    for slot in range(inputs.slots):
        np.subtract(levels, level, out=moves[:count])
        moves[count:] = backward.kinks[slot]
        total = np.interp(moves, bends[slot], bend_costs[slot], left=np.inf, right=np.inf)
        total += np.interp(
            level + moves, levels, backward.values[slot + 1], left=np.inf, right=np.inf
        )
        gained[slot] = moves[total.argmin()]
        level += gained[slot]
    return _power(inputs.battery, gained)


def _lowest(cost: Callable[[float], float], low: float, high: float, at_start: float) -> float:
    """Golden-section search for the ceiling in [low, high] of least ``cost``.

    The lowest ceiling (``at_start`` its cost), the peak already paid for, is a candidate of its
    own: the search would only come within its tolerance of it.
    """
    start = low
    if high - low <= PEAK_TOLERANCE_KW:
        return start
    inner_low = high - _GOLDEN * (high - low)
    inner_high = low + _GOLDEN * (high - low)
    at_low, at_high = cost(inner_low), cost(inner_high)
    while high - low > PEAK_TOLERANCE_KW:
        if at_low <= at_high:
            high, inner_high, at_high = inner_high, inner_low, at_low
            inner_low = high - _GOLDEN * (high - low)
            at_low = cost(inner_low)
        else:
            low, inner_low, at_low = inner_low, inner_high, at_high
            inner_high = low + _GOLDEN * (high - low)
            at_high = cost(inner_high)
    return min((at_start, start), (at_low, inner_low), (at_high, inner_high))[1]


def plan(inputs: PlanInput, *, soe_steps: int = DEFAULT_SOE_STEPS) -> Plan:
    """Plan the battery over the input's horizon at least total cost.

    ``soe_steps`` sets the resolution of the state-of-energy grid: finer is closer to the exact
    optimum and slower. The ceiling is searched on a coarser grid, then planned on this one.
    """
    if soe_steps < 1:
        raise ValueError(f"soe_steps must be at least 1, not {soe_steps}")
    span = horizon(inputs)
    fine = _Grid(inputs, soe_steps)
    coarse = _Grid(inputs, min(SEARCH_SOE_STEPS, soe_steps))

    def outcome(grid: _Grid, ceiling: float) -> Outcome:
        backward = _backward(inputs, span, grid, ceiling)
        return carry_out(inputs, span, _forward(inputs, grid, backward))

    best = unbounded = outcome(fine, math.inf)
    highest = float(unbounded.grid_kw.max())
    rate = inputs.tariff.capacity_eur_per_kw
    free = span.free_peak_kw
    if highest > free and rate > 0:
        # On the cost as carried out, not on the grid's values: those overcharge a ceiling
        # the battery can just keep (interpolated between grid points on either side of it).
        def cost(ceiling: float) -> float:
            return outcome(coarse, ceiling).costs.total_eur

        at_free = cost(free)
        # No ceiling buys energy cheaper than none at all: above this one the tariff alone
        # costs more than holding the peak where it is.
        energy_floor = unbounded.costs.total_eur - unbounded.costs.capacity_eur
        worth = free + (at_free - energy_floor) / rate + _SEARCH_MARGIN_KW
        capped = outcome(fine, _lowest(cost, free, min(highest, worth), at_free))
        if capped.costs.total_eur < best.costs.total_eur:
            best = capped
    idle = carry_out(inputs, span, np.zeros(inputs.slots))
    own_use = carry_out(inputs, span, self_consumption_kw(span))
    return Plan(
        start=inputs.start,
        battery_kw=tuple(map(float, best.battery_kw)),
        grid_kw=tuple(map(float, best.grid_kw)),
        soe_kwh=tuple(map(float, best.soe_kwh)),
        slot_cost_eur=tuple(map(float, best.slot_cost_eur)),
        cost=best.costs,
        no_battery=idle.costs,
        self_consumption=own_use.costs,
    )
