"""The DSO state resolved into kW limits, and its persistence format."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from custom_components.grid_ems.netflex import (
    Asset,
    AssetCategory,
    Command,
    DsoState,
    PowerLimits,
    QMode,
    Reason,
    SiteParameters,
    dump_state,
    load_state,
)

SITE = SiteParameters(
    import_capacity_kw=200.0,
    export_capacity_kw=150.0,
    assets=(
        Asset("pv", "PV", AssetCategory.SOLAR, 100.0, "sensor.pv"),
        Asset("bess", "Battery", AssetCategory.STORAGE, 50.0, "sensor.bess"),
        Asset("ev", "Chargers", AssetCategory.EV, 44.0, "sensor.ev"),
    ),
)


def test_limits_resolve_percentages() -> None:
    """Connection-point limits use the contractual capacities, asset limits installed power."""
    state = DsoState(
        min_set_p=-40.0, max_set_p=50.0, max_set_ap=20.0, min_set_ap=10.0, min_set_q=-10.0
    )
    assert state.limits(SITE) == PowerLimits(
        max_injection_kw=60.0,
        max_consumption_kw=100.0,
        max_asset_production_kw=30.0,
        max_asset_consumption_kw=9.4,
        min_reactive_kvar=-20.0,
        max_reactive_kvar=200.0,
    )


def test_emergency_stops_zero_their_direction() -> None:
    """A stopped direction has limit 0 at the connection point and on the assets."""
    limits = DsoState(stop_production=True, stop_consumption=True).limits(SITE)
    assert limits.max_injection_kw == 0.0
    assert limits.max_asset_production_kw == 0.0
    assert limits.max_consumption_kw == 0.0
    assert limits.max_asset_consumption_kw == 0.0


def test_site_totals() -> None:
    """Installed production counts producers and storage; consumption counts loads and storage."""
    assert SITE.installed_production_kw == 150.0
    assert SITE.installed_consumption_kw == 94.0
    assert SITE.reactive_capacity_kvar == 200.0


def test_dump_is_the_feedback_of_every_command() -> None:
    """The stored form is the accepted value of each command, keyed by its name."""
    state = DsoState(stop_production=True, q_mode=QMode.REMOTE, reason_q=Reason.TEST)
    dumped = dump_state(state)
    assert dumped == {command.value: state.feedback(command) for command in Command}
    assert dumped["q_mode"] == 2
    assert dumped["reason_q"] == 99.0
    assert dumped["emergency_stop_production"] is True


@given(
    st.builds(
        DsoState,
        stop_production=st.booleans(),
        stop_consumption=st.booleans(),
        test_mode=st.booleans(),
        q_mode=st.sampled_from(QMode),
        min_set_p=st.floats(-100, 100),
        max_set_p=st.floats(0, 100),
        max_set_ap=st.floats(0, 100),
        min_set_ap=st.floats(0, 100),
        min_set_q=st.floats(-100, 100),
        max_set_q=st.floats(-100, 100),
        reason_p=st.sampled_from(Reason),
        reason_q=st.sampled_from(Reason),
    )
)
def test_round_trip(state: DsoState) -> None:
    """Every reachable state survives dump and load unchanged."""
    assert load_state(dump_state(state)) == state


def test_load_keeps_start_up_values_for_missing_commands() -> None:
    """An older file without some commands restores the others."""
    assert load_state({"min_set_p": 20}) == DsoState(min_set_p=20.0)


@pytest.mark.parametrize(
    "data",
    [
        {"min_set_p": 120.0},
        {"q_mode": 0},
        {"reason_p": "1"},
        {"emergency_stop_production": None},
        {"no_such_command": True},
    ],
)
def test_load_refuses_what_no_command_could_produce(data: dict[str, object]) -> None:
    """A damaged file raises instead of restoring an impossible state."""
    with pytest.raises(ValueError):  # noqa: PT011
        load_state(data)
