"""The LP reference the planner is measured against: the same problem, solved exactly by HiGHS.

Per slot: charge and discharge power (AC), import, export, the state of energy at the slot's
end and the parts of the grid power beyond the limits (penalised like the planner does); one
more variable is the peak, which bounds every import and is billed above the month's peak so
far. Its optimum is expressed in the terms of ``Costs.total_eur``; its battery powers are also
carried out like the planner's, to check them against the limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array, lil_array

from custom_components.grid_ems.planner.model import SLOT_H, PlanInput
from custom_components.grid_ems.planner.schedule import FloatArray, Outcome, carry_out, horizon
from custom_components.grid_ems.planner.solver import PENALTY_EUR_PER_KWH

# Variable blocks, each one slot long, then the peak.
CHARGE, DISCHARGE, IMPORT, EXPORT, SOE, OVER, UNDER = range(7)
BLOCKS = 7


@dataclass(frozen=True, slots=True)
class Reference:
    """The LP's optimum (€, as ``Costs.total_eur``) and its battery powers carried out."""

    optimum_eur: float
    outcome: Outcome


def solve_lp(inputs: PlanInput) -> Reference:
    """Solve the planning problem as an LP."""
    span = horizon(inputs)
    battery = inputs.battery
    slots = inputs.slots
    peak = BLOCKS * slots

    def var(block: int, slot: int) -> int:
        return block * slots + slot

    cost = np.zeros(peak + 1)
    wear = SLOT_H * battery.wear_eur_per_kwh
    cost[var(CHARGE, 0) : var(CHARGE, slots)] = wear
    cost[var(DISCHARGE, 0) : var(DISCHARGE, slots)] = wear
    cost[var(IMPORT, 0) : var(IMPORT, slots)] = SLOT_H * span.import_price
    cost[var(EXPORT, 0) : var(EXPORT, slots)] = -SLOT_H * span.export_price
    cost[var(OVER, 0) : var(UNDER, slots)] = SLOT_H * PENALTY_EUR_PER_KWH
    cost[var(SOE, slots - 1)] = -span.stored_eur_per_kwh
    cost[peak] = inputs.tariff.capacity_eur_per_kw

    equal = lil_array((2 * slots, peak + 1))
    equal_rhs = np.zeros(2 * slots)
    below = lil_array((3 * slots, peak + 1))
    below_rhs = np.zeros(3 * slots)
    for slot in range(slots):
        # Grid power = net load + charge - discharge.
        equal[slot, var(IMPORT, slot)] = 1
        equal[slot, var(EXPORT, slot)] = -1
        equal[slot, var(CHARGE, slot)] = -1
        equal[slot, var(DISCHARGE, slot)] = 1
        equal_rhs[slot] = span.net_kw[slot]
        row = slots + slot
        equal[row, var(SOE, slot)] = 1
        equal[row, var(CHARGE, slot)] = -battery.charge_efficiency * SLOT_H
        equal[row, var(DISCHARGE, slot)] = SLOT_H / battery.discharge_efficiency
        if slot:
            equal[row, var(SOE, slot - 1)] = -1
        else:
            equal_rhs[row] = battery.soe_kwh
        below[slot, var(IMPORT, slot)] = 1
        below[slot, var(EXPORT, slot)] = -1
        below[slot, var(OVER, slot)] = -1
        below_rhs[slot] = span.max_grid_kw[slot]
        below[slots + slot, var(IMPORT, slot)] = -1
        below[slots + slot, var(EXPORT, slot)] = 1
        below[slots + slot, var(UNDER, slot)] = -1
        below_rhs[slots + slot] = -span.min_grid_kw[slot]
        below[2 * slots + slot, var(IMPORT, slot)] = 1
        below[2 * slots + slot, peak] = -1

    lower_soe = min(battery.min_soe_kwh, battery.soe_kwh)
    upper_soe = max(battery.upper_soe_kwh, battery.soe_kwh)
    bounds = (
        [(0.0, float(limit)) for limit in span.max_charge_kw]
        + [(0.0, float(limit)) for limit in span.max_discharge_kw]
        + [(0.0, None)] * (2 * slots)
        + [(lower_soe, upper_soe)] * slots
        + [(0.0, None)] * (2 * slots)
        + [(span.free_peak_kw, None)]
    )
    result = linprog(
        cost,
        A_ub=csr_array(below),
        b_ub=below_rhs,
        A_eq=csr_array(equal),
        b_eq=equal_rhs,
        bounds=bounds,
        method="highs",
    )
    assert result.status == 0, result.message
    solution: FloatArray = result.x
    power = (
        solution[var(DISCHARGE, 0) : var(DISCHARGE, slots)]
        - solution[var(CHARGE, 0) : var(CHARGE, slots)]
    )
    # The LP bills the whole peak and values the whole stored energy: shift to Costs' terms.
    optimum = (
        float(result.fun)
        - inputs.tariff.capacity_eur_per_kw * span.free_peak_kw
        + span.stored_eur_per_kwh * battery.soe_kwh
    )
    return Reference(optimum, carry_out(inputs, span, power))
