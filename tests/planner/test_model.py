"""The planner's input is checked with a clear reason; follow the month's peak."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from custom_components.grid_ems.planner import (
    Battery,
    OperatorLimits,
    PlanInput,
    PlanInputError,
    Tariff,
    month_peak_target_kw,
    plan,
)

from .days import MIDNIGHT, day_prices, site_input

GOOD = site_input(day_prices("winter_weekday"))
BATTERY = GOOD.battery


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"start": datetime(2026, 6, 1)}, "timezone-aware"),
        ({"start": MIDNIGHT + timedelta(minutes=7)}, "not on a quarter hour"),
        ({"day_ahead_eur_per_kwh": []}, "no day-ahead prices"),
        ({"pv_kw": [1.0] * 95}, "pv_kw has 95 slots, the prices 96"),
        ({"load_kw": [float("nan")] * 96}, "load_kw holds a value that is not a finite number"),
        ({"battery": replace(BATTERY, capacity_kwh=0.0)}, "capacity must be positive"),
        ({"battery": replace(BATTERY, min_soe_kwh=195.0)}, "min_soe_kwh < max_soe_kwh"),
        ({"battery": replace(BATTERY, max_charge_kw=-1.0)}, "must not be negative"),
        ({"battery": replace(BATTERY, discharge_efficiency=0.0)}, "efficiencies"),
        ({"battery": replace(BATTERY, soe_kwh=201.0)}, "within its capacity"),
        ({"connection": replace(GOOD.connection, export_capacity_kw=-1.0)}, "capacities"),
    ],
)
def test_bad_input_is_refused_with_its_reason(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(PlanInputError, match=reason):
        replace(GOOD, **change)


def test_input_in_time() -> None:
    assert GOOD.slots == 96
    assert GOOD.slot_start(4) == MIDNIGHT + timedelta(hours=1)
    window = OperatorLimits(
        start=MIDNIGHT + timedelta(minutes=20), end=MIDNIGHT + timedelta(hours=1)
    )
    assert not window.covers(MIDNIGHT)
    assert window.covers(MIDNIGHT + timedelta(minutes=15))
    assert window.covers(MIDNIGHT + timedelta(minutes=45))
    assert not window.covers(MIDNIGHT + timedelta(hours=1))
    assert OperatorLimits().covers(MIDNIGHT)


def test_supplier_formula() -> None:
    tariff = Tariff(import_factor=1.1, import_adder=0.12, export_factor=0.9, export_adder=-0.01)
    assert tariff.import_price(0.1) == pytest.approx(0.23)
    assert tariff.export_price(-0.05) == pytest.approx(-0.055)


def test_battery_without_a_maximum_may_fill_up() -> None:
    battery = Battery(capacity_kwh=10.0, soe_kwh=5.0, max_charge_kw=40.0, max_discharge_kw=5.0)
    assert battery.upper_soe_kwh == 10.0
    inputs = PlanInput(
        start=MIDNIGHT,
        day_ahead_eur_per_kwh=[-0.2, 0.3],
        battery=battery,
        connection=GOOD.connection,
        month_peak_kw=100.0,
        stored_energy_eur_per_kwh=0.5,
    )
    assert plan(inputs).soe_kwh[0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("month_peak", "target"), [(0.0, 2.5), (2.4, 2.5), (2.5, 2.5), (17.3, 17.3)]
)
def test_follow_the_month_peak(month_peak: float, target: float) -> None:
    assert month_peak_target_kw(month_peak) == target
    assert month_peak_target_kw(month_peak, free_peak_kw=5.0) == max(5.0, month_peak)
