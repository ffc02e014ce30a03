"""The planner against the LP reference on made-up Belgian days, and under the operator's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from custom_components.grid_ems.planner import OperatorLimits, Plan, PlanInput, Tariff, plan
from custom_components.grid_ems.planner.schedule import horizon

from .days import DAYS, MIDNIGHT, day_prices, demo_site, random_input, site_input
from .reference import solve_lp

GAP_PCT = 0.5


def assert_keeps_limits(inputs: PlanInput, result: Plan) -> None:
    """The battery within its power and energy limits, the grid within every bound."""
    span = horizon(inputs)
    battery = inputs.battery
    power = np.array(result.battery_kw)
    assert np.all(power <= span.max_discharge_kw + 1e-6)
    assert np.all(-power <= span.max_charge_kw + 1e-6)
    assert min(result.soe_kwh) >= battery.min_soe_kwh - 1e-6
    assert max(result.soe_kwh) <= battery.upper_soe_kwh + 1e-6
    # Before the enforcement's clipping: what the plan itself asks of the grid.
    grid = span.net_kw - power
    assert np.all(grid <= span.max_grid_kw + 1e-6)
    assert np.all(grid >= span.min_grid_kw - 1e-6)


def gap_pct(inputs: PlanInput, result: Plan) -> float:
    reference = solve_lp(inputs)
    return 100 * (result.cost.total_eur - reference.optimum_eur) / abs(reference.optimum_eur)


@pytest.mark.parametrize("day", DAYS)
def test_made_up_days_within_half_a_percent_of_the_lp(day: str) -> None:
    inputs = site_input(day_prices(day) + day_prices(day)[:48], month_peak_kw=30.0)
    result = plan(inputs)
    assert len(result.battery_kw) == 144
    assert -1e-9 < gap_pct(inputs, result) < GAP_PCT
    assert_keeps_limits(inputs, result)


@pytest.mark.parametrize("seed", range(10))
def test_random_days_within_half_a_percent_of_the_lp(seed: int) -> None:
    inputs = random_input(seed)
    result = plan(inputs)
    assert -1e-9 < gap_pct(inputs, result) < GAP_PCT
    assert_keeps_limits(inputs, result)


@pytest.mark.parametrize("day", DAYS)
def test_plan_costs_no_more_than_its_baselines(day: str) -> None:
    result = plan(site_input(day_prices(day), clearness=0.9))
    assert result.savings_vs_self_consumption_eur > 0
    assert result.savings_vs_no_battery_eur > 0
    assert result.savings_vs_no_battery_eur == pytest.approx(
        result.no_battery.total_eur - result.cost.total_eur
    )


def test_high_evening_peak_is_served_from_the_battery() -> None:
    prices = day_prices("evening_peak")
    # A weekend without sun, the weekdays' peak of 120 kW already paid for this month.
    inputs = site_input(prices, soe_kwh=30.0, clearness=0.0, weekday=False, month_peak_kw=120.0)
    result = plan(inputs)
    assert all(result.grid_kw[slot] <= 1e-6 for slot in range(18 * 4, 20 * 4))
    # The energy comes from the grid in the cheap hours before, up to the month's peak.
    assert sum(result.battery_kw[: 17 * 4]) < -400.0
    assert result.predicted_month_peak_kw == pytest.approx(120.0)
    assert result.savings_vs_self_consumption_eur > 20.0


def test_negative_prices_keep_the_pv_surplus_off_the_grid() -> None:
    prices = day_prices("sunny_negative")
    inputs = site_input(prices, soe_kwh=30.0, clearness=1.0, weekday=False)
    result = plan(inputs)
    paid_to_inject = [slot for slot, price in enumerate(prices) if price - 0.012 < 0]
    injected = -sum(min(result.grid_kw[slot], 0.0) for slot in paid_to_inject)
    injected_idle = -sum(min(net, 0.0) for net in horizon(inputs).net_kw[paid_to_inject])
    assert injected < injected_idle - 100.0


def test_month_peak_so_far_is_free_import() -> None:
    prices = day_prices("winter_weekday")
    high = plan(site_input(prices, clearness=0.0, month_peak_kw=200.0))
    assert high.cost.capacity_eur == 0.0
    assert high.predicted_month_peak_kw == 200.0
    low = plan(site_input(prices, clearness=0.0, month_peak_kw=0.0))
    # Raising the peak costs: the plan holds the day's import lower than without that price.
    assert low.predicted_month_peak_kw < max(high.grid_kw)
    assert low.predicted_month_peak_kw == pytest.approx(max(low.grid_kw))


def test_follows_an_export_limit_set_at_noon() -> None:
    prices = day_prices("evening_peak")
    morning = plan(site_input(prices, soe_kwh=150.0, month_peak_kw=120.0))
    noon = MIDNIGHT + timedelta(hours=12)
    # The plan made in the morning sells the battery's energy in the evening peak, injecting
    # more than the limit the operator sets at noon.
    assert min(morning.grid_kw[48:]) < -100.0
    limits = (OperatorLimits(start=noon, min_grid_kw=-20.0),)
    inputs = site_input(
        prices[48:], start=noon, soe_kwh=morning.soe_kwh[47], month_peak_kw=120.0, limits=limits
    )
    replanned = plan(inputs)
    assert min(replanned.grid_kw) == pytest.approx(-20.0)
    assert_keeps_limits(inputs, replanned)


def test_follows_import_and_asset_limits_in_their_window_only() -> None:
    prices = day_prices("evening_peak")
    start, end = MIDNIGHT + timedelta(hours=17), MIDNIGHT + timedelta(hours=19)
    limits = (OperatorLimits(start=start, end=end, max_battery_discharge_kw=0.0),)
    inputs = site_input(prices, soe_kwh=150.0, weekday=True, limits=limits)
    result = plan(inputs)
    window = range(17 * 4, 19 * 4)
    assert all(result.battery_kw[slot] <= 1e-9 for slot in window)
    # Outside the window the expensive evening is still served from the battery.
    assert sum(result.battery_kw[slot] for slot in range(19 * 4, 21 * 4)) > 100.0
    assert_keeps_limits(inputs, result)


def test_a_limit_the_battery_cannot_keep_is_strained_towards() -> None:
    # Weekday load of about 120 kW against an import limit of 0 and at most 50 kW of battery.
    limits = (OperatorLimits(max_grid_kw=0.0, max_battery_discharge_kw=50.0),)
    inputs = site_input(day_prices("winter_weekday"), soe_kwh=190.0, clearness=0.0, limits=limits)
    result = plan(inputs)
    # All the battery holds goes into the load, at no more than 50 kW, none bought back.
    assert min(result.battery_kw) >= 0.0
    assert max(result.battery_kw) == pytest.approx(50.0)
    assert result.soe_kwh[-1] == pytest.approx(inputs.battery.min_soe_kwh)
    # The enforcement curtails the rest: the grid power the plan expects stays at the limit.
    assert max(result.grid_kw) == 0.0


def test_plans_on_prices_alone() -> None:
    inputs = PlanInput(
        start=MIDNIGHT,
        day_ahead_eur_per_kwh=day_prices("evening_peak"),
        battery=demo_site().battery(100.0),
        connection=demo_site().connection,
    )
    result = plan(inputs)
    assert -1e-9 < gap_pct(inputs, result) < GAP_PCT
    assert min(result.battery_kw) < 0 < max(result.battery_kw)


def test_stored_energy_value_keeps_energy_for_after_the_horizon() -> None:
    prices = day_prices("winter_weekday")[:48]
    kept = plan(replace(site_input(prices, soe_kwh=150.0), stored_energy_eur_per_kwh=1.0))
    sold = plan(replace(site_input(prices, soe_kwh=150.0), stored_energy_eur_per_kwh=0.0))
    assert kept.soe_kwh[-1] == pytest.approx(190.0, abs=0.1)
    assert sold.soe_kwh[-1] == pytest.approx(20.0, abs=0.1)


def test_setpoint_and_costs_by_time() -> None:
    result = plan(site_input(day_prices("winter_weekday") * 2))
    assert result.setpoint_kw(MIDNIGHT) == result.battery_kw[0]
    assert result.setpoint_kw(MIDNIGHT + timedelta(minutes=29)) == result.battery_kw[1]
    assert result.setpoint_kw(MIDNIGHT - timedelta(seconds=1)) is None
    assert result.setpoint_kw(MIDNIGHT + timedelta(days=2)) is None
    tomorrow = MIDNIGHT + timedelta(days=1)
    today = result.cost_between_eur(MIDNIGHT, tomorrow)
    assert today == pytest.approx(sum(result.slot_cost_eur[:96]))
    assert today + result.cost_between_eur(tomorrow, tomorrow + timedelta(days=1)) == (
        pytest.approx(result.cost.energy_eur + result.cost.wear_eur)
    )


def test_a_single_quarter_hour_holds_the_import_at_the_free_peak() -> None:
    inputs = replace(
        site_input(day_prices("winter_weekday")),
        day_ahead_eur_per_kwh=[0.1],
        pv_kw=[10.0],
        load_kw=[50.0],
    )
    result = plan(inputs)
    assert result.grid_kw == pytest.approx((2.5,))
    assert result.predicted_month_peak_kw == pytest.approx(2.5)


def test_a_battery_the_operator_stopped_stays_idle() -> None:
    inputs = site_input(
        day_prices("evening_peak"),
        limits=(OperatorLimits(max_battery_charge_kw=0.0, max_battery_discharge_kw=0.0),),
    )
    result = plan(inputs)
    assert set(result.battery_kw) == {0.0}
    assert result.cost == result.no_battery


def test_a_battery_below_its_reserve_is_not_discharged_further() -> None:
    inputs = site_input(day_prices("evening_peak"), soe_kwh=5.0, clearness=0.0)
    result = plan(inputs)
    assert min(result.soe_kwh) >= 5.0
    assert max(result.soe_kwh) > 20.0


def test_without_a_capacity_tariff_the_peak_costs_nothing() -> None:
    inputs = replace(site_input(day_prices("winter_weekday")), tariff=Tariff(capacity_eur_per_kw=0))
    result = plan(inputs)
    assert result.cost.capacity_eur == 0.0
    assert -1e-9 < gap_pct(inputs, result) < GAP_PCT


def test_the_grid_needs_a_step() -> None:
    with pytest.raises(ValueError, match="soe_steps must be at least 1, not 0"):
        plan(site_input(day_prices("winter_weekday")), soe_steps=0)


def test_a_month_peak_just_below_the_plans_own_is_held() -> None:
    prices = day_prices("winter_weekday")
    unbounded = plan(site_input(prices, month_peak_kw=1000.0))
    own_peak = max(unbounded.grid_kw)
    result = plan(site_input(prices, month_peak_kw=own_peak - 0.05))
    assert result.predicted_month_peak_kw == pytest.approx(own_peak - 0.05)
