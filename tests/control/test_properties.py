"""Properties of the closed loop over many random sites and limits."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from custom_components.grid_ems.control.controller import Controller
from custom_components.grid_ems.control.model import ControlSettings
from custom_components.grid_ems.netflex.state import DsoState

from .plant import Plant, Run, setup

SETTINGS = ControlSettings(ramp_pct_per_s=20.0)


@st.composite
def plants(draw: st.DrawFn) -> Plant:
    """A site in any state the limits below can be met from."""
    plant = Plant(
        load_kw=draw(st.floats(0.0, 20.0)),
        pv_potential_kw=draw(st.floats(0.0, 50.0)),
        ev_demand_kw=draw(st.floats(0.0, 22.0)),
        soe_pct=draw(st.sampled_from([2.0, 50.0, 100.0])),
    )
    plant.values["switch.boiler"] = draw(st.booleans())
    return plant


@settings(max_examples=60, deadline=None)
@given(
    plant=plants(),
    injection_pct=st.floats(1.0, 100.0),
    consumption_pct=st.floats(20.0, 100.0),
)
def test_the_grid_power_settles_within_the_limits_and_release_restores(
    plant: Plant, injection_pct: float, consumption_pct: float
) -> None:
    before = dict(plant.values)
    run = Run(Controller(setup(settings=SETTINGS)), plant)
    run.dso = DsoState(min_set_p=injection_pct, max_set_p=consumption_pct)
    decision = run.run(20)
    # 100 kW of contractual capacity both ways: the percentages are kW.
    assert -injection_pct <= plant.grid_kw() <= consumption_pct
    assert decision.unmet_kw == 0.0
    assert decision.state.value in {"idle", "limiting", "releasing"}
    # A settled loop writes nothing more.
    assert run.run(3).actions == ()
    run.dso = DsoState()
    run.run(120)
    assert plant.values == before
    assert run.controller.ledger.as_dict() == {}
