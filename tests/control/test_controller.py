"""The controller against the control rules of DESIGN.md, on a simulated site."""

from __future__ import annotations

import dataclasses

import pytest

from custom_components.grid_ems.control.controller import Controller, distribute
from custom_components.grid_ems.control.ledger import EntityLedger
from custom_components.grid_ems.control.model import (
    Action,
    AssetControl,
    AssetOutcome,
    Constraint,
    ConstraintCause,
    ControlInput,
    ControllerState,
    ControlSettings,
    LinkLossPolicy,
    Measurements,
    Source,
)
from custom_components.grid_ems.control.units import NumberControl, Unit
from custom_components.grid_ems.netflex.assets import AssetCategory
from custom_components.grid_ems.netflex.points import Command
from custom_components.grid_ems.netflex.state import DsoState, QMode

from .plant import BESS, BOILER, EV, PV, Plant, Run, setup

FAST = ControlSettings(ramp_pct_per_s=100.0)


def run_with(
    *assets: AssetControl,
    settings: ControlSettings | None = None,
    load_kw: float = 10.0,
    pv_potential_kw: float = 0.0,
    ev_demand_kw: float = 0.0,
    soe_pct: float = 50.0,
) -> Run:
    plant = Plant(load_kw, pv_potential_kw, ev_demand_kw, soe_pct)
    return Run(Controller(setup(*assets, settings=settings)), plant)


def written(decision_actions: tuple[Action, ...]) -> dict[str, float | bool | str]:
    return {action.entity_id: action.value for action in decision_actions}


def test_distribute() -> None:
    assert distribute(6.0, [1.0, 2.0]) == [2.0, 4.0]
    assert distribute(6.0, [0.0, 0.0]) == [0.0, 0.0]


def test_constraint_commands() -> None:
    assert Constraint.MAX_INJECTION.commands == (Command.MIN_SET_P,)
    assert Constraint.PEAK_SHAVING.commands == ()


def test_asset_role_and_validation() -> None:
    assert BESS.role == "storage"
    assert PV.role == "production"
    assert EV.role == "consumption"
    assert not AssetControl("x", AssetCategory.STORAGE, 1.0).controllable
    with pytest.raises(ValueError, match="installed power"):
        AssetControl("x", AssetCategory.SOLAR, 0.0)


def test_start_up_state_changes_nothing() -> None:
    run = run_with(load_kw=10.0, pv_potential_kw=5.0)
    decision = run.run(3)
    assert decision.state is ControllerState.IDLE
    assert decision.active is None
    assert decision.actions == ()
    assert decision.assets["pv"] == AssetOutcome()
    assert decision.injection_limit_kw == 100.0
    assert decision.headroom_injection_kw == pytest.approx(105.0)
    assert decision.headroom_consumption_kw == pytest.approx(95.0)
    assert decision.unmet_kw == 0.0


# --- asset limits (MAXSETAP / MINSETAP) ---


def test_max_asset_production_caps_pv_and_battery_discharge_at_once() -> None:
    run = run_with(PV, BESS, pv_potential_kw=40.0)
    run.plant.values.update({"select.bess_source": "remote", "number.bess_target": 20.0})
    run.dso = DsoState(max_set_ap=30.0)
    decision = run.step()
    assert written(decision.actions) == {"number.pv_limit": 30.0, "number.bess_target": 9.0}
    cause = ConstraintCause(Constraint.MAX_ASSET_PRODUCTION)
    assert decision.assets["pv"] == AssetOutcome(15.0, cause)
    assert decision.assets["bess"] == AssetOutcome(9.0, cause)
    assert decision.state is ControllerState.LIMITING
    assert decision.active == cause


def test_max_asset_consumption_throttles_ev_and_switches_off_an_on_off_load() -> None:
    run = run_with(EV, BOILER, ev_demand_kw=22.0)
    run.plant.values["switch.boiler"] = True
    run.dso = DsoState(min_set_ap=50.0)
    decision = run.step()
    # 11.04 kW on 3 x 230 V is 16 A; the boiler cannot run at half power: off.
    assert written(decision.actions) == {"number.ev_current": 16.0, "switch.boiler": False}
    assert decision.assets["boiler"].applied_kw == 0.0
    assert decision.active == ConstraintCause(Constraint.MAX_ASSET_CONSUMPTION)


def test_relaxing_ramps_and_restores_the_original_value() -> None:
    run = run_with(PV, settings=ControlSettings(ramp_pct_per_s=20.0), pv_potential_kw=50.0)
    run.plant.values["number.pv_limit"] = 90.0
    run.dso = DsoState(max_set_ap=20.0)
    run.step()
    assert run.plant.value("number.pv_limit") == 20.0
    run.dso = DsoState()
    limits = []
    for _ in range(5):
        decision = run.step()
        limits.append(run.plant.values["number.pv_limit"])
    assert limits == [40.0, 60.0, 80.0, 90.0, 90.0]
    assert decision.state is ControllerState.IDLE
    assert "number.pv_limit" not in run.controller.ledger


def test_releasing_state_while_ramping() -> None:
    run = run_with(PV, settings=ControlSettings(ramp_pct_per_s=10.0))
    run.dso = DsoState(max_set_ap=0.0)
    run.step()
    run.dso = DsoState()
    decision = run.step()
    assert decision.state is ControllerState.RELEASING
    assert decision.assets["pv"].releasing
    assert decision.assets["pv"].cause == ConstraintCause(Constraint.MAX_ASSET_PRODUCTION)


def test_an_owner_limit_stricter_than_the_dso_is_left_alone() -> None:
    run = run_with(PV, pv_potential_kw=50.0)
    run.plant.values["number.pv_limit"] = 20.0
    run.dso = DsoState(max_set_ap=50.0)
    assert run.step().actions == ()
    run.dso = DsoState()
    assert run.step().actions == ()
    assert run.plant.value("number.pv_limit") == 20.0


def test_an_owner_change_during_the_limit_is_not_undone_on_release() -> None:
    run = run_with(PV, settings=FAST, pv_potential_kw=50.0)
    run.dso = DsoState(max_set_ap=50.0)
    run.step()
    run.plant.values["number.pv_limit"] = 10.0  # the owner lowers it further meanwhile
    decision = run.step()
    assert decision.abandoned == ("number.pv_limit",)
    run.dso = DsoState()
    assert run.step().actions == ()
    assert run.plant.value("number.pv_limit") == 10.0


# --- emergency stops ---


def test_emergency_stop_production_on_both_layers_and_exact_release() -> None:
    run = run_with(settings=FAST, pv_potential_kw=30.0, load_kw=5.0)
    run.plant.values.update({"select.bess_source": "remote", "number.bess_target": 10.0})
    run.dso = DsoState(stop_production=True)
    decision = run.step()
    assert written(decision.actions) == {
        "switch.relay_injection": True,
        "number.pv_limit": 1.0,  # the minimum that keeps the inverter online
        "number.bess_target": 0.0,
    }
    assert decision.state is ControllerState.EMERGENCY_STOP
    assert decision.active == ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION)
    stop = next(
        action for action in decision.actions if action.entity_id == "switch.relay_injection"
    )
    assert stop.group == "switch.relay_injection"
    assert stop.cause == ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION)
    # The EV and the consumption relay are not touched.
    assert run.plant.value("switch.ev") is True
    run.dso = DsoState()
    decision = run.step()
    restored = written(decision.actions)
    assert restored["switch.relay_injection"] is False
    assert restored["number.pv_limit"] == 100.0
    # Restores, each with the stop that had held the entity.
    assert all(
        action.restore and action.cause == ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION)
        for action in decision.actions
        if action.entity_id != "number.bess_target"
    )
    run.run(5)
    assert run.plant.values == Plant().values | {
        "select.bess_source": "remote",
        "number.bess_target": 10.0,
    }
    assert run.last is not None
    assert run.last.state is ControllerState.IDLE


def test_emergency_stop_consumption() -> None:
    run = run_with(settings=FAST, ev_demand_kw=11.0, load_kw=5.0)
    run.plant.values.update(
        {"switch.boiler": True, "select.bess_source": "remote", "number.bess_target": -10.0}
    )
    run.dso = DsoState(stop_consumption=True)
    decision = run.step()
    assert written(decision.actions) == {
        "switch.relay_consumption": True,
        "number.ev_current": 6.0,
        "switch.ev": False,
        "switch.boiler": False,
        "number.bess_target": 0.0,
    }
    assert decision.assets["ev"].applied_kw == 0.0
    assert decision.active == ConstraintCause(Constraint.EMERGENCY_STOP_CONSUMPTION)
    run.dso = DsoState()
    run.run(5)
    assert run.plant.values == Plant().values | {
        "switch.boiler": True,
        "select.bess_source": "remote",
        "number.bess_target": -10.0,
    }


def test_emergency_stop_takes_over_a_battery_in_local_control() -> None:
    run = run_with(BESS, settings=FAST)
    decision = run.controller.step(
        ControlInput(
            DsoState(stop_production=True),
            Measurements(
                asset_power_kw={"bess": 8.0},
                values={"select.bess_source": "local", "number.bess_target": 0.0},
            ),
        ),
        run.now,
    )
    # The setpoint already reads 0, but the battery discharges on its own: take control.
    assert "select.bess_source" in written(decision.actions)
    assert "number.bess_target" not in written(decision.actions)
    assert decision.assets["bess"].applied_kw == 0.0


def test_switch_only_production_is_switched_off() -> None:
    chp = AssetControl("chp", AssetCategory.CHP, 10.0, switch_entity_id="switch.chp")
    run = Run(Controller(setup(chp, relays=())), Plant())
    run.plant.values["switch.chp"] = True
    run.dso = DsoState(stop_production=True)
    assert written(run.step().actions) == {"switch.chp": False}


def test_both_stops_report_production_first() -> None:
    run = run_with(settings=FAST)
    run.dso = DsoState(stop_production=True, stop_consumption=True)
    decision = run.step()
    assert decision.active == ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION)
    assert run.plant.value("switch.relay_injection") is True
    assert run.plant.value("switch.relay_consumption") is True


def test_local_stops_act_as_the_grid_operators_and_release_what_they_set() -> None:
    """A local input stops a direction on both layers, with its own cause; released, restored."""
    run = run_with(settings=FAST, pv_potential_kw=30.0, ev_demand_kw=11.0, load_kw=5.0)
    run.plant.values.update({"select.bess_source": "remote", "number.bess_target": 10.0})
    before = dict(run.plant.values)
    local_production = ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION, Source.LOCAL_STOP)
    run.local_stop_production = True
    decision = run.step()
    assert written(decision.actions) == {
        "switch.relay_injection": True,
        "number.pv_limit": 1.0,
        "number.bess_target": 0.0,
    }
    assert {action.cause for action in decision.actions} == {local_production}
    assert decision.state is ControllerState.EMERGENCY_STOP
    assert decision.active == local_production
    run.local_stop_consumption = True
    decision = run.step()
    assert written(decision.actions) == {
        "switch.relay_consumption": True,
        "number.ev_current": 6.0,
        "switch.ev": False,
    }
    assert decision.active == local_production  # production first, as for the operator's
    # The grid operator's own stop takes the cause over; nothing is written again for it.
    run.dso = DsoState(stop_production=True)
    decision = run.step()
    assert decision.actions == ()
    assert decision.active == ConstraintCause(Constraint.EMERGENCY_STOP_PRODUCTION)
    run.dso = DsoState()
    run.local_stop_production = run.local_stop_consumption = False
    decision = run.step()
    assert written(decision.actions)["switch.relay_injection"] is False
    assert written(decision.actions)["switch.relay_consumption"] is False
    run.run(5)
    assert run.plant.values == before
    assert run.last is not None
    assert run.last.state is ControllerState.IDLE


# --- connection-point limits, closed loop ---


def test_export_limit_absorbs_in_the_battery_before_curtailing() -> None:
    run = run_with(PV, BESS, settings=FAST, pv_potential_kw=30.0, load_kw=0.0)
    run.dso = DsoState(min_set_p=-10.0)  # 10 kW; the sign does not matter
    decision = run.step()
    # 30 kW export: the battery charges 20.5 kW (0.5 kW margin), the PV is not touched.
    assert written(decision.actions) == {
        "select.bess_source": "remote",
        "number.bess_target": -20.5,
    }
    assert decision.assets["bess"].cause == ConstraintCause(Constraint.MAX_INJECTION)
    assert run.plant.grid_kw() == pytest.approx(-9.5)
    run.plant.pv_potential_kw = 50.0
    decision = run.run(4)
    # 50 kW surplus: the battery is at its 30 kW maximum, the PV gives up the rest.
    assert run.plant.value("number.bess_target") == -30.0
    assert run.plant.grid_kw() >= -10.0
    assert run.plant.grid_kw() == pytest.approx(-9.5, abs=0.3)
    assert decision.assets["pv"].cause == ConstraintCause(Constraint.MAX_INJECTION)
    assert decision.assets["bess"].cause == ConstraintCause(Constraint.MAX_INJECTION)
    assert decision.active == ConstraintCause(Constraint.MAX_INJECTION)
    assert decision.headroom_injection_kw == pytest.approx(run.plant.grid_kw() + 10.0, abs=0.3)


def test_export_release_gives_production_back_before_the_battery() -> None:
    run = run_with(
        PV, BESS, settings=ControlSettings(ramp_pct_per_s=5.0), pv_potential_kw=50.0, load_kw=0.0
    )
    run.dso = DsoState(min_set_p=10.0)
    run.run(10)
    pv_limit = run.plant.value("number.pv_limit")
    assert isinstance(pv_limit, float)
    assert pv_limit < 100.0
    run.dso = DsoState()
    decision = run.step()
    decision = run.step()
    # Production is released first; the battery keeps absorbing meanwhile.
    assert run.plant.value("number.bess_target") == -30.0
    assert decision.state is ControllerState.LIMITING or decision.state is ControllerState.RELEASING
    decision = run.run(60)
    assert decision.state is ControllerState.IDLE
    assert run.plant.values == Plant().values
    assert run.controller.ledger.as_dict() == {}


def test_import_limit_discharges_then_throttles_then_switches_off() -> None:
    run = run_with(BESS, EV, BOILER, settings=FAST, load_kw=15.0, ev_demand_kw=22.0)
    run.plant.values["switch.boiler"] = True
    run.dso = DsoState(max_set_p=10.0)  # 10 kW import
    decision = run.run(5)
    assert run.plant.grid_kw() <= 10.0
    # 42 kW of demand, 30 kW from the battery: the EV goes down, the boiler stays on.
    assert run.plant.value("number.bess_target") == 30.0
    assert run.plant.value("switch.boiler") is True
    assert run.plant.value("number.ev_current") == 28.0
    assert decision.assets["ev"].cause == ConstraintCause(Constraint.MAX_CONSUMPTION)
    # An empty battery: the EV goes to its minimum, then the boiler goes off.
    run.plant.soe_pct = 2.0
    run.plant.load_kw = 3.0
    decision = run.run(5)
    assert run.plant.grid_kw() <= 10.0
    assert run.plant.value("number.bess_target") == 0.0
    assert run.plant.value("select.bess_source") == "remote"  # held: it must not charge now
    assert run.plant.value("switch.boiler") is False
    assert decision.assets["boiler"] == AssetOutcome(
        0.0, ConstraintCause(Constraint.MAX_CONSUMPTION)
    )
    # The EV went to its minimum before the boiler went off, and takes the room left since.
    assert run.plant.value("switch.ev") is True
    ev_current = run.plant.value("number.ev_current")
    assert isinstance(ev_current, float)
    assert 6.0 <= ev_current < 28.0
    # Settled: no more writes (the steps of the EV current do not make it hunt).
    assert run.run(5).actions == ()
    assert run.plant.grid_kw() <= 10.0
    # The limit lifted: everything comes back as it was.
    run.plant.soe_pct = 50.0
    run.dso = DsoState()
    run.run(30)
    assert run.plant.values == Plant().values | {"switch.boiler": True}
    assert run.controller.ledger.as_dict() == {}


def test_switched_off_load_comes_back_only_when_it_fits() -> None:
    run = run_with(BOILER, settings=FAST, load_kw=12.0)
    run.plant.values["switch.boiler"] = True
    run.dso = DsoState(max_set_p=10.0)
    run.step()
    assert run.plant.value("switch.boiler") is False
    run.run(5)
    assert run.plant.value("switch.boiler") is False  # 7 kW + 5 kW would exceed 10 kW
    run.plant.load_kw = 2.0
    run.run(2)
    assert run.plant.value("switch.boiler") is True


def test_loop_waits_for_the_assets_to_respond() -> None:
    run = run_with(
        PV, settings=ControlSettings(response_s=3.0, ramp_pct_per_s=100.0), pv_potential_kw=50.0
    )
    run.dso = DsoState(min_set_p=0.0)
    run.grid = True
    first = run.step()
    assert first.actions
    # The next samples predate the response time: no second correction on top of the first.
    assert run.step().actions == ()
    assert run.step().actions == ()


def test_unmet_limit_is_reported() -> None:
    uncontrolled = AssetControl("wind", AssetCategory.WIND, 30.0)
    run = Run(Controller(setup(uncontrolled)), Plant(load_kw=-25.0))
    run.dso = DsoState(min_set_p=10.0)
    decision = run.step()
    assert decision.unmet_kw == pytest.approx(15.0)
    assert decision.assets["wind"] == AssetOutcome()


def test_zero_export_keeps_a_margin_of_import() -> None:
    run = run_with(PV, settings=FAST, pv_potential_kw=20.0, load_kw=5.0)
    run.dso = DsoState(min_set_p=0.0)
    run.run(6)
    assert 0.0 <= run.plant.grid_kw() <= 1.0


# --- local optimization ---


def test_self_consumption_keeps_the_grid_near_zero() -> None:
    run = run_with(
        PV, BESS, settings=ControlSettings(self_consumption=True), pv_potential_kw=15.0, load_kw=5.0
    )
    decision = run.run(4)
    assert abs(run.plant.grid_kw()) < 0.3
    assert decision.state is ControllerState.OPTIMIZING
    assert decision.active == ConstraintCause(Constraint.SELF_CONSUMPTION, Source.LOCAL)
    run.plant.pv_potential_kw = 0.0
    run.run(4)
    assert run.plant.value("number.bess_target") == pytest.approx(5.0)
    # A full battery does not charge.
    run.plant.soe_pct = 100.0
    run.plant.pv_potential_kw = 20.0
    run.run(4)
    assert run.plant.value("number.bess_target") == 0.0


def test_self_consumption_stops_when_the_measurement_is_lost() -> None:
    run = run_with(
        BESS, settings=ControlSettings(self_consumption=True, ramp_pct_per_s=100.0), load_kw=5.0
    )
    run.run(3)
    assert run.plant.value("select.bess_source") == "remote"
    run.grid = False
    run.run(3)
    assert run.plant.value("select.bess_source") == "local"
    assert run.plant.value("number.bess_target") == 0.0


def test_peak_shaving_discharges_and_throttles_but_never_switches_off() -> None:
    settings = ControlSettings(peak_shaving_target_kw=8.0, ramp_pct_per_s=100.0)
    run = run_with(
        BESS, EV, BOILER, settings=settings, load_kw=10.0, ev_demand_kw=11.0, soe_pct=3.0
    )
    run.plant.values["switch.boiler"] = True
    decision = run.run(10)
    assert run.plant.value("switch.boiler") is True
    assert run.plant.value("number.ev_current") == 6.0
    assert run.plant.value("switch.ev") is True
    assert decision.active == ConstraintCause(Constraint.PEAK_SHAVING, Source.LOCAL)
    assert decision.state is ControllerState.OPTIMIZING


def test_peak_shaving_uses_the_battery_first() -> None:
    settings = ControlSettings(peak_shaving_target_kw=8.0, ramp_pct_per_s=100.0)
    run = run_with(BESS, EV, settings=settings, load_kw=10.0, ev_demand_kw=5.0)
    run.run(5)
    assert run.plant.value("number.ev_current") == 32.0
    assert run.plant.grid_kw() <= 8.0


# --- fail-safe ---


def test_lost_measurement_falls_back_to_open_loop_caps() -> None:
    run = run_with(PV, BESS, settings=FAST, pv_potential_kw=10.0, load_kw=10.0)
    run.dso = DsoState(min_set_p=20.0)
    run.run(3)
    run.grid = False
    decision = run.step()
    # 20 kW of export shared over 80 kW of production: 25 % of each installed power.
    assert decision.state is ControllerState.FAIL_SAFE
    assert run.plant.value("number.pv_limit") == 25.0
    assert decision.assets["pv"].cause == ConstraintCause(
        Constraint.MAX_INJECTION, Source.MEASUREMENT_LOST
    )
    assert decision.headroom_injection_kw is None
    run.grid = True
    run.run(5)
    assert run.plant.value("number.pv_limit") == 100.0


def test_stale_measurement_counts_as_lost() -> None:
    run = run_with(EV, settings=FAST, ev_demand_kw=5.0)
    run.dso = DsoState(max_set_p=10.0)
    stale = run.plant.measurements(run.now - 60.0)
    decision = run.controller.step(ControlInput(run.dso, stale), run.now)
    assert decision.state is ControllerState.FAIL_SAFE
    # 10 kW for the only consumer: 14 A on three phases.
    assert written(decision.actions) == {"number.ev_current": 14.0}
    assert decision.active == ConstraintCause(Constraint.MAX_CONSUMPTION, Source.MEASUREMENT_LOST)


def test_lost_measurement_is_fail_safe_while_a_limit_is_set() -> None:
    run = run_with(EV, settings=FAST)
    run.grid = False
    assert run.step().state is ControllerState.IDLE
    run.dso = DsoState(max_set_p=90.0)
    decision = run.step()
    assert decision.state is ControllerState.FAIL_SAFE
    assert decision.actions == ()


def test_lost_link_keeps_the_last_limits_without_a_timeout() -> None:
    run = run_with(PV, settings=FAST, pv_potential_kw=50.0)
    run.dso = DsoState(max_set_ap=40.0)
    run.link_up = False
    run.step()
    decision = run.step(3600.0)
    assert run.plant.value("number.pv_limit") == 40.0
    assert decision.state is ControllerState.LIMITING


def test_lost_link_falls_back_after_the_timeout() -> None:
    policy = LinkLossPolicy(timeout_s=60.0, max_asset_production_pct=70.0)
    run = run_with(
        PV, settings=ControlSettings(ramp_pct_per_s=100.0, link_loss=policy), pv_potential_kw=50.0
    )
    run.dso = DsoState(max_set_ap=40.0, stop_consumption=True)
    run.link_up = False
    run.run(59)
    assert run.plant.value("number.pv_limit") == 40.0
    decision = run.run(2)
    assert run.plant.value("number.pv_limit") == 70.0
    # The emergency stop stays until the grid operator releases it.
    assert run.plant.value("switch.relay_consumption") is True
    assert decision.state is ControllerState.EMERGENCY_STOP
    run.dso = DsoState(max_set_ap=40.0)
    decision = run.step()
    assert decision.state is ControllerState.FAIL_SAFE
    assert decision.assets["pv"].cause == ConstraintCause(
        Constraint.MAX_ASSET_PRODUCTION, Source.LINK_LOST
    )
    run.link_up = True
    run.step()
    assert run.plant.value("number.pv_limit") == 40.0


def test_restart_with_a_stored_ledger_restores_the_original() -> None:
    run = run_with(PV, settings=FAST, pv_potential_kw=50.0)
    run.dso = DsoState(max_set_ap=40.0)
    run.step()
    stored = run.controller.ledger.as_dict()
    # A new controller after a restart: the restored DSO state applies on the first step.
    restarted = Run(
        Controller(setup(PV, settings=FAST), EntityLedger.from_dict(stored)),
        run.plant,
        dso=DsoState(max_set_ap=40.0),
        now=run.now,
    )
    assert restarted.step().actions == ()
    restarted.dso = DsoState()
    restarted.run(3)
    assert run.plant.value("number.pv_limit") == 100.0


# --- reactive power ---


def test_remote_q_mode_sets_the_reactive_setpoints_and_local_releases_them() -> None:
    pv = dataclasses.replace(PV, reactive=NumberControl("number.pv_q", Unit.KILOVAR, step=0.1))
    run = Run(Controller(setup(pv, settings=FAST)), Plant())
    run.dso = DsoState(q_mode=QMode.REMOTE, min_set_q=5.0, max_set_q=10.0)
    decision = run.step()
    assert written(decision.actions) == {"number.pv_q": 5.0}
    assert decision.active == ConstraintCause(Constraint.REACTIVE_BAND)
    assert decision.state is ControllerState.LIMITING
    run.dso = DsoState(q_mode=QMode.REMOTE)  # band -100..100 holds 0
    run.step()
    assert run.plant.value("number.pv_q") == 0.0
    run.dso = DsoState(q_mode=QMode.REMOTE, min_set_q=-10.0, max_set_q=-20.0)
    run.step()
    assert run.plant.value("number.pv_q") == -10.0
    run.dso = DsoState(q_mode=QMode.LOCAL, min_set_q=-10.0, max_set_q=-20.0)
    decision = run.step()
    assert written(decision.actions) == {"number.pv_q": 0.0}
    assert decision.state is ControllerState.IDLE


def test_remote_q_closes_the_loop_on_the_measured_reactive_power() -> None:
    """The battery's inverter pushes the site out of the band: the PV's Q takes it back in."""
    pv = dataclasses.replace(
        PV,
        reactive=NumberControl("number.pv_q", Unit.KILOVAR, minimum=-40.0, maximum=40.0, step=0.1),
    )
    run = Run(Controller(setup(pv, BESS, settings=FAST)), Plant(battery_q_kvar=30.0))
    run.dso = DsoState(q_mode=QMode.REMOTE, min_set_q=-10.0, max_set_q=10.0)  # +-10 kvar
    run.step()
    assert run.plant.value("number.pv_q") == 0.0  # the point nearest 0, then measured
    run.step()
    assert run.plant.value("number.pv_q") == -30.0
    decision = run.run(3)
    assert decision.actions == ()  # 0 kvar in all: inside the band, held
    run.plant.battery_q_kvar = 35.0
    assert run.run(3).actions == ()  # 5 kvar: still inside
    run.plant.battery_q_kvar = 60.0
    run.run(3)
    # The PV's Q cannot go below -40 kvar: it stays there, and the error does not pile up.
    assert run.plant.value("number.pv_q") == -40.0
    run.plant.battery_q_kvar = 10.0
    run.run(2)
    assert run.plant.value("number.pv_q") == -10.0  # from -30 kvar in all back to the middle
    run.dso = DsoState(q_mode=QMode.LOCAL)
    assert written(run.step().actions) == {"number.pv_q": 0.0}


# --- registry changes ---


def test_removed_assets_are_forgotten_and_their_entities_restored() -> None:
    run = run_with(PV, EV, settings=FAST, pv_potential_kw=50.0)
    run.dso = DsoState(max_set_ap=40.0)
    run.step()
    run.controller.setup = setup(EV, settings=FAST)
    decision = run.step()
    assert written(decision.actions) == {"number.pv_limit": 100.0}
    assert "pv" not in decision.assets


def test_relaxing_keeps_its_rate_when_steps_wait_for_the_assets() -> None:
    """Steps twice as fast as the response time: the release still follows the ramp."""
    settings = ControlSettings(ramp_pct_per_s=10.0, response_s=1.0)
    run = run_with(PV, settings=settings, pv_potential_kw=50.0, load_kw=5.0)
    run.dso = DsoState(min_set_p=0.0)
    run.run(6)
    assert run.plant.value("number.pv_limit") == 9.0  # 4.5 kW: 0.5 kW of import kept
    run.dso = DsoState()
    run.step(1.0)
    for _ in range(8):
        run.step(0.5)
    # 10 %/s of 50 kW for the 5 s since the last correction: 25 kW more, 29.5 kW in all.
    assert run.plant.value("number.pv_limit") == pytest.approx(59.0, abs=1.0)


# --- the battery plan ---


def test_battery_follows_the_plan_under_the_grid_operators_limits() -> None:
    """The plan's setpoint is followed; a limit caps it at once and a stop wins over it."""
    plan = ControlSettings(ramp_pct_per_s=100.0, battery_plan_kw=-20.0)
    run = run_with(BESS, settings=plan, load_kw=5.0)
    decision = run.run(5)
    # Charging at 20 kW from the grid, as planned.
    assert run.plant.value("number.bess_target") == -20.0
    assert decision.assets["bess"].cause == ConstraintCause(Constraint.BATTERY_PLAN, Source.LOCAL)
    # MAXSETP 15 % of 100 kW: the import stays under 15 kW less the margin, whatever the plan.
    run.dso = DsoState(max_set_p=15.0)
    run.run(5)
    assert run.plant.grid_kw() <= 15.0
    assert run.plant.value("number.bess_target") == pytest.approx(-9.5)
    # Discharging into an emergency stop of production: the stop wins at the next step.
    run.controller.setup = dataclasses.replace(
        run.controller.setup,
        settings=dataclasses.replace(plan, battery_plan_kw=25.0),
    )
    run.run(3)
    assert run.plant.value("number.bess_target") == 25.0
    run.dso = DsoState(stop_production=True)
    decision = run.step()
    assert run.plant.powers()["bess"] <= 0.0
    assert decision.state is ControllerState.EMERGENCY_STOP
