"""Properties of the plan over arbitrary batteries, connections, prices and limits."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from custom_components.grid_ems.planner import (
    Battery,
    Connection,
    OperatorLimits,
    PlanInput,
    Tariff,
    plan,
)

from .days import MIDNIGHT


@st.composite
def inputs(draw: st.DrawFn) -> PlanInput:
    """Any valid input, feasible or not: the planner must always answer within the battery."""
    slots = draw(st.integers(1, 24))
    capacity = draw(st.floats(0.5, 500.0))
    power = st.floats(0.0, 500.0)
    kw = st.lists(st.floats(0.0, 300.0), min_size=slots, max_size=slots)
    return PlanInput(
        start=MIDNIGHT,
        day_ahead_eur_per_kwh=draw(st.lists(st.floats(-0.5, 4.0), min_size=slots, max_size=slots)),
        battery=Battery(
            capacity_kwh=capacity,
            soe_kwh=draw(st.floats(0.0, 1.0)) * capacity,
            max_charge_kw=draw(power),
            max_discharge_kw=draw(power),
            min_soe_kwh=draw(st.floats(0.0, 0.5)) * capacity,
            charge_efficiency=draw(st.floats(0.5, 1.0)),
            discharge_efficiency=draw(st.floats(0.5, 1.0)),
            wear_eur_per_kwh=draw(st.floats(0.0, 0.1)),
        ),
        connection=Connection(draw(st.floats(0.0, 300.0)), draw(st.floats(0.0, 300.0))),
        tariff=Tariff(
            import_adder=draw(st.floats(0.0, 0.2)),
            capacity_eur_per_kw=draw(st.floats(0.0, 60.0)),
        ),
        pv_kw=draw(st.none() | kw),
        load_kw=draw(st.none() | kw),
        limits=draw(
            st.lists(
                st.builds(
                    OperatorLimits,
                    min_grid_kw=st.none() | st.floats(-300.0, 50.0),
                    max_grid_kw=st.none() | st.floats(-50.0, 300.0),
                    max_battery_discharge_kw=st.none() | power,
                    max_battery_charge_kw=st.none() | power,
                ),
                max_size=2,
            )
        ),
        month_peak_kw=draw(st.floats(0.0, 300.0)),
    )


@settings(max_examples=40, deadline=None)
@given(inputs=inputs())
def test_the_plan_always_answers_within_the_battery_and_the_month_peak(
    inputs: PlanInput,
) -> None:
    result = plan(inputs, soe_steps=20)
    battery = inputs.battery
    lowest = min(battery.min_soe_kwh, battery.soe_kwh)
    assert all(math.isfinite(value) for value in result.battery_kw + result.grid_kw)
    assert all(lowest - 1e-6 <= soe <= battery.upper_soe_kwh + 1e-6 for soe in result.soe_kwh)
    assert all(
        -battery.max_charge_kw - 1e-6 <= power <= battery.max_discharge_kw + 1e-6
        for power in result.battery_kw
    )
    assert result.predicted_month_peak_kw >= inputs.month_peak_kw
