"""Quarter-hour import demand for peak shaving."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.control.demand import (
    QUARTER_HOUR_S,
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
