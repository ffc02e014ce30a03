"""Conversions between powers and setpoint entity values."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.control.units import NumberControl, Unit


@pytest.mark.parametrize(
    ("unit", "value", "kw"),
    [
        (Unit.WATT, 5000.0, 5.0),
        (Unit.KILOWATT, 5.0, 5.0),
        (Unit.PERCENT, 50.0, 5.0),
        (Unit.AMPERE, 16.0, 11.04),
        (Unit.VAR, 2000.0, 2.0),
        (Unit.KILOVAR, 2.0, 2.0),
    ],
)
def test_conversion_round_trips(unit: Unit, value: float, kw: float) -> None:
    control = NumberControl("number.x", unit, phases=3)
    assert control.to_kw(value, 10.0) == pytest.approx(kw)
    assert control.to_value(kw, 10.0) == pytest.approx(value)


def test_limit_value_rounds_down_and_keeps_bounds() -> None:
    control = NumberControl("number.ev", Unit.AMPERE, minimum=6.0, maximum=32.0, step=1.0, phases=3)
    # 7 kW on 3 x 230 V is 10.14 A: rounded down so the cap holds.
    assert control.limit_value(7.0, 22.0) == 10.0
    assert control.limit_value(0.0, 22.0) == 6.0
    assert control.limit_value(50.0, 22.0) == 32.0
    assert control.minimum_kw(22.0) == pytest.approx(6 * 3 * 230 / 1000)
    assert control.tolerance == 0.5


def test_limit_value_without_bounds_never_negative() -> None:
    control = NumberControl("number.pv", Unit.PERCENT)
    assert control.limit_value(-3.0, 10.0) == 0.0
    assert control.limit_value(3.3, 10.0) == pytest.approx(33.0)
    assert control.tolerance == 1e-6
    assert control.minimum_kw(10.0) == 0.0


def test_step_rounding_absorbs_float_noise() -> None:
    control = NumberControl("number.pv", Unit.PERCENT, step=0.1)
    # 0.3 / 0.1 is 2.9999999999999996 in binary floating point.
    assert control.limit_value(0.03, 10.0) == 0.3


def test_target_value_rounds_toward_zero_within_bounds() -> None:
    control = NumberControl("number.bess", Unit.KILOWATT, minimum=-20.0, maximum=25.0, step=0.5)
    assert control.target_value(-7.9, 30.0) == -7.5
    assert control.target_value(7.9, 30.0) == 7.5
    assert control.target_value(-40.0, 30.0) == -20.0
    assert control.target_value(40.0, 30.0) == 25.0
    assert control.target_value(-1.0, 30.0) == -1.0


def test_inverted_setpoint_counts_charging_positive() -> None:
    control = NumberControl(
        "number.bess", Unit.KILOWATT, minimum=-25.0, maximum=20.0, step=0.5, inverted=True
    )
    assert control.to_kw(10.0, 30.0) == -10.0
    assert control.target_value(-7.9, 30.0) == 7.5
    assert control.target_value(40.0, 30.0) == -25.0
    assert control.target_value(-40.0, 30.0) == 20.0


def test_target_value_without_step_or_bounds_is_exact() -> None:
    control = NumberControl("number.q", Unit.VAR)
    assert control.target_value(-1.2345, 10.0) == pytest.approx(-1234.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"phases": 0},
        {"phase_voltage_v": 0.0},
        {"step": 0.0},
        {"minimum": 10.0, "maximum": 5.0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"number\.x"):
        NumberControl("number.x", Unit.KILOWATT, **kwargs)  # type: ignore[arg-type]
