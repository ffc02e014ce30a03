"""The demo site replanned on forecasts that miss: the planner pays less than the baselines."""

from __future__ import annotations

from .week import make_week, simulate_week


def test_two_days_of_the_demo_site_replanned_hourly() -> None:
    result = simulate_week(make_week(), days=2, replan_every=4)
    assert result.plans == 48
    assert result.planner_eur < 0.9 * min(result.self_consumption_eur, result.no_battery_eur)
    # Following the month's peak in real time keeps forecast errors from ratcheting it up.
    assert result.planner_peak_kw < result.self_consumption_peak_kw
