"""Quarter-hour import demand for peak shaving."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.control.demand import (
    QUARTER_HOUR_S,
    MonthPeak,
    QuarterHourDemand,
    quarter_start,
)

START = 1_700_000_100.0 - 1_700_000_100.0 % QUARTER_HOUR_S


def test_quarter_start() -> None:
    assert quarter_start(START + 899.9) == START
    assert quarter_start(START + 900.0) == START + 900


def test_no_samples_means_no_demand() -> None:
    demand = QuarterHourDemand()
    assert demand.average_kw(START + 10) == 0.0
    assert demand.allowed_import_kw(5.0, START) == pytest.approx(5.0)


def test_average_holds_each_sample_until_the_next() -> None:
    demand = QuarterHourDemand()
    demand.add(10.0, START)
    demand.add(-4.0, START + 300)  # export counts as no import
    assert demand.average_kw(START + 300) == pytest.approx(10.0)
    assert demand.average_kw(START + 600) == pytest.approx(5.0)


def test_allowed_import_spreads_the_remaining_budget() -> None:
    demand = QuarterHourDemand()
    demand.add(8.0, START)
    demand.add(8.0, START + 450)
    # 450 s at 8 kW used 3600 kWs of the 4500 kWs a 5 kW target allows; 450 s remain.
    assert demand.allowed_import_kw(5.0, START + 450) == pytest.approx(2.0)
    demand.add(20.0, START + 600)
    assert demand.allowed_import_kw(5.0, START + 600) == 0.0


def test_a_new_quarter_starts_from_zero_and_splits_the_held_sample() -> None:
    demand = QuarterHourDemand()
    demand.add(6.0, START + 800)
    demand.add(2.0, START + 1000)
    # 100 s of the held 6 kW fall in the new quarter, then 2 kW from 1000 s on.
    assert demand.average_kw(START + 1000) == pytest.approx(6.0)
    assert demand.average_kw(START + 1100) == pytest.approx((600 + 200) / 200)


def test_quarter_without_samples_holds_the_last_one() -> None:
    demand = QuarterHourDemand()
    demand.add(4.0, START + 10)
    assert demand.average_kw(START + 1800 + 300) == pytest.approx(4.0)
    assert demand.average_kw(START + 900) == pytest.approx(4.0)
    # A moment before the first sample: nothing known, so only the target is allowed.
    assert demand.allowed_import_kw(4.0, START - 100) == pytest.approx(4.0)


def test_a_start_mid_quarter_assumes_the_unknown_part_ran_at_the_target() -> None:
    demand = QuarterHourDemand()
    demand.add(20.0, START + 600)
    assert demand.allowed_import_kw(8.0, START + 600) == pytest.approx(8.0)
    # 100 s at 20 kW used 2000 of the 2400 kWs left: 400 kWs over the last 200 s.
    assert demand.allowed_import_kw(8.0, START + 700) == pytest.approx(2.0)


def test_out_of_order_samples_are_ignored() -> None:
    demand = QuarterHourDemand()
    demand.add(6.0, START + 100)
    demand.add(100.0, START + 50)
    assert demand.average_kw(START + 200) == pytest.approx(6.0 * 100 / 200)


def _month(at: float) -> str:
    """Months of 10 quarters, so that a test crosses one quickly."""
    return str(int((at - START) // (10 * QUARTER_HOUR_S)))


def test_month_peak_is_the_highest_finished_quarter() -> None:
    peak = MonthPeak(_month)
    peak.add(6.0, START)
    peak.add(2.0, START + 450)
    assert peak.peak_kw_at(START + 899) == 0.0  # the running quarter is not finished
    peak.add(2.0, START + 900)
    assert peak.peak_kw_at(START + 900) == pytest.approx(4.0)
    peak.add(-3.0, START + 1800)  # a quarter at 2 kW: lower, the peak stays
    assert peak.peak_kw_at(START + 1800) == pytest.approx(4.0)


def test_month_peak_skips_quarters_measured_less_than_half() -> None:
    peak = MonthPeak(_month)
    peak.add(9.0, START + 600)  # started 10 minutes into the quarter
    peak.add(9.0, START + 900)
    assert peak.peak_kw_at(START + 900) == 0.0
    # A sample holds for one quarter at most: a silent meter is no import.
    peak.add(1.0, START + 10 * 900 - 1)
    assert peak.peak_kw_at(START + 10 * 900 - 1) == pytest.approx(9.0)


def test_month_peak_resets_at_the_month_change_and_restores() -> None:
    peak = MonthPeak(_month)
    peak.add(7.0, START)
    peak.add(7.0, START + 900)
    assert peak.month == "0"
    assert peak.peak_kw == pytest.approx(7.0)
    restored = MonthPeak(_month, peak.month, peak.peak_kw)
    assert restored.peak_kw_at(START + 9 * 900) == pytest.approx(7.0)
    assert restored.peak_kw_at(START + 10 * 900) == 0.0  # next month, nothing yet
    restored.add(3.0, START + 10 * 900)
    restored.add(3.0, START + 11 * 900)
    assert restored.month == "1"
    assert restored.peak_kw == pytest.approx(3.0)
