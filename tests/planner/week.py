"""A week of the demo site, replanned every quarter hour on forecasts that do not come true.

Day-ahead prices are known up to the end of the day, and from 13:00 (after the market's
publication) up to the end of the next. The forecasts miss: the PV by a slowly wandering
cloud factor, the load by a few per cent, all made up with a fixed seed. The battery follows
the plan's setpoint for the quarter hour, except where the actual import would then exceed
the month's peak the plan predicts: there the controller's peak shaving, following the
month's peak, discharges more or charges less (a plan that imports right up to the peak
would otherwise ratchet it up on every forecast error). Self-consumption reacts to the
actual load and PV. All three strategies are costed alike over the week by ``carry_out`` on
the actual values, the month's peak starting at zero (the first week of June).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np

from custom_components.grid_ems.planner import SLOT, Plan, PlanInput, month_peak_target_kw, plan
from custom_components.grid_ems.planner.schedule import (
    FloatArray,
    carry_out,
    horizon,
    self_consumption_kw,
)

from .days import (
    MIDNIGHT,
    SLOTS_PER_DAY,
    TARIFF,
    day_prices,
    demo_site,
    load_kw,
    pv_kw,
    random_prices,
)

_PUBLISHED_SLOT = 13 * 4
# Monday to Sunday (and the next Monday, seen from Sunday afternoon); None: a random day.
_WEEK_DAYS = (
    "winter_weekday",
    "evening_peak",
    None,
    None,
    "winter_weekday",
    "sunny_negative",
    None,
    "evening_peak",
)
_CLEARNESS = (0.35, 0.8, 0.55, 0.95, 0.2, 1.0, 0.7, 0.5)


@dataclass(frozen=True, slots=True)
class Week:
    """The week's actual values, forecasts and prices, slot by slot."""

    prices: list[float]
    pv_forecast: list[float]
    load_forecast: list[float]
    pv: list[float]
    load: list[float]


def make_week(seed: int = 19) -> Week:
    """Eight made-up days (the eighth only as the seventh's look-ahead)."""
    rng = random.Random(seed)
    site = demo_site()
    prices: list[float] = []
    for name in _WEEK_DAYS:
        prices.extend(random_prices(rng) if name is None else day_prices(name))
    slots = range(len(_WEEK_DAYS) * SLOTS_PER_DAY)
    pv_forecast = [
        pv_kw(slot, _CLEARNESS[slot // SLOTS_PER_DAY], site.pv_peak_kw) for slot in slots
    ]
    load_forecast = [load_kw(slot, slot // SLOTS_PER_DAY % 7 < 5) for slot in slots]
    cloud = 1.0
    pv, load = [], []
    for slot in slots:
        cloud = min(1.3, max(0.5, cloud + rng.gauss(0.0, 0.04)))
        pv.append(pv_forecast[slot] * cloud)
        load.append(load_forecast[slot] * (1.0 + rng.gauss(0.0, 0.05)))
    return Week(prices, pv_forecast, load_forecast, pv, load)


@dataclass(frozen=True, slots=True)
class WeekResult:
    """The week's total cost (€) per strategy and what the planner did."""

    no_battery_eur: float
    self_consumption_eur: float
    planner_eur: float
    plans: int
    planner_peak_kw: float
    self_consumption_peak_kw: float

    @property
    def savings_vs_self_consumption_pct(self) -> float:
        """How much less the planner paid than self-consumption only, in per cent of that."""
        return 100 * (self.self_consumption_eur - self.planner_eur) / self.self_consumption_eur


def _actual(week: Week, first: int, count: int, soe_kwh: float, month_peak_kw: float) -> PlanInput:
    site = demo_site()
    return PlanInput(
        start=MIDNIGHT + first * SLOT,
        day_ahead_eur_per_kwh=week.prices[first : first + count],
        battery=site.battery(soe_kwh),
        connection=site.connection,
        tariff=TARIFF,
        pv_kw=week.pv[first : first + count],
        load_kw=week.load[first : first + count],
        month_peak_kw=month_peak_kw,
    )


def simulate_week(week: Week, *, days: int = 7, replan_every: int = 1) -> WeekResult:
    """Run the three strategies over ``days`` of ``week``, replanning every ``replan_every``."""
    site = demo_site()
    soe, peak = 100.0, 0.0
    applied: list[float] = []
    plans = 0
    current: Plan | None = None
    for slot in range(days * SLOTS_PER_DAY):
        if slot % replan_every == 0:
            day_end = (slot // SLOTS_PER_DAY + 1) * SLOTS_PER_DAY
            visible = day_end + (SLOTS_PER_DAY if slot % SLOTS_PER_DAY >= _PUBLISHED_SLOT else 0)
            current = plan(
                PlanInput(
                    start=MIDNIGHT + slot * SLOT,
                    day_ahead_eur_per_kwh=week.prices[slot:visible],
                    battery=site.battery(soe),
                    connection=site.connection,
                    tariff=TARIFF,
                    pv_kw=week.pv_forecast[slot:visible],
                    load_kw=week.load_forecast[slot:visible],
                    month_peak_kw=peak,
                )
            )
            plans += 1
        assert current is not None
        setpoint = current.setpoint_kw(MIDNIGHT + slot * SLOT + timedelta(minutes=7))
        assert setpoint is not None
        net = week.load[slot] - week.pv[slot]
        target = max(month_peak_target_kw(peak), current.predicted_month_peak_kw)
        setpoint = max(setpoint, net - target)
        done = carry_out_one(week, slot, soe, peak, setpoint)
        applied.append(done[0])
        soe, peak = done[1], max(peak, done[2])
    whole = _actual(week, 0, days * SLOTS_PER_DAY, 100.0, 0.0)
    span = horizon(whole)
    # Stored energy is valued alike for all three, at the week's own median price.
    span = replace(span, stored_eur_per_kwh=float(np.median(span.import_price)) * 0.95)
    none = carry_out(whole, span, np.zeros(whole.slots)).costs
    own = carry_out(whole, span, self_consumption_kw(span)).costs
    planned = carry_out(whole, span, np.array(applied)).costs
    return WeekResult(
        no_battery_eur=none.total_eur,
        self_consumption_eur=own.total_eur,
        planner_eur=planned.total_eur,
        plans=plans,
        planner_peak_kw=planned.peak_kw,
        self_consumption_peak_kw=own.peak_kw,
    )


def carry_out_one(
    week: Week, slot: int, soe_kwh: float, month_peak_kw: float, setpoint_kw: float
) -> tuple[float, float, float]:
    """The battery's actual power, its energy after and the grid power in one actual slot."""
    actual = _actual(week, slot, 1, soe_kwh, month_peak_kw)
    done = carry_out(actual, horizon(actual), np.array([setpoint_kw], dtype=np.float64))
    power: FloatArray = done.battery_kw
    return float(power[0]), float(done.soe_kwh[0]), float(done.grid_kw[0])
