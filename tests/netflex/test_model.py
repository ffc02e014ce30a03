"""The Netflex model reports feedback, the interface version and measurements."""

from __future__ import annotations

from custom_components.grid_ems.iec104 import Quality, TypeID
from custom_components.grid_ems.netflex import (
    DEFAULT_POINT_MAP,
    ZERO_POWERS,
    AssetCategory,
    CategoryPower,
    Command,
    CommandRequest,
    DsoState,
    MonitorValue,
    NetflexModel,
    Provider,
    QMode,
    Refusal,
    Refused,
    create_model,
)


def test_general_interrogation_has_the_27_points() -> None:
    """Feedback of every command, the version 1.0 and P, Q of every category."""
    model = NetflexModel(DEFAULT_POINT_MAP)
    state = DsoState(stop_production=True, q_mode=QMode.REMOTE, min_set_p=-25.0)
    powers = dict(ZERO_POWERS) | {AssetCategory.SOLAR: CategoryPower(12.5, -1.0)}
    values = model.monitor_values(state, {Command.MIN_SET_P: Quality.INVALID}, powers)
    by_ioa = {value.ioa: value for value in values}
    assert len(values) == len(by_ioa) == 27
    assert set(by_ioa) == set(DEFAULT_POINT_MAP.monitor_ioas())
    assert by_ioa[11001] == MonitorValue(11001, TypeID.M_SP_NA_1, True)
    assert by_ioa[11002] == MonitorValue(11002, TypeID.M_SP_NA_1, False)
    assert by_ioa[11101] == MonitorValue(11101, TypeID.M_DP_NA_1, 2)
    assert by_ioa[12001] == MonitorValue(12001, TypeID.M_ME_NC_1, -25.0, Quality.INVALID)
    assert by_ioa[12007] == MonitorValue(12007, TypeID.M_ME_NC_1, 0.0)
    assert by_ioa[12100] == MonitorValue(12100, TypeID.M_ME_NC_1, 1.0)
    assert by_ioa[13001] == MonitorValue(13001, TypeID.M_ME_NC_1, 12.5)
    assert by_ioa[13101] == MonitorValue(13101, TypeID.M_ME_NC_1, -1.0)
    assert by_ioa[13007] == MonitorValue(13007, TypeID.M_ME_NC_1, 0.0)


def test_measurement_report_carries_quality() -> None:
    """The periodic report is the 14 category values, with their quality."""
    model = NetflexModel(DEFAULT_POINT_MAP)
    powers = dict(ZERO_POWERS) | {
        AssetCategory.EV: CategoryPower(-3.0, 0.0, Quality.INVALID, Quality.GOOD)
    }
    values = model.measurement_values(powers)
    assert [value.ioa for value in values] == [*range(13001, 13008), *range(13101, 13108)]
    assert values[4] == MonitorValue(13005, TypeID.M_ME_NC_1, -3.0, Quality.INVALID)


def test_provider_builds_the_model_from_options() -> None:
    """Fluvius uses the Netflex model with the entry's point map."""
    model = create_model(Provider.FLUVIUS, {"ioa_test": 1500})
    assert model.command_at(1500) is Command.TEST
    assert model.command_at(1003) is None
    decision = model.decide(DsoState(), CommandRequest(1003, TypeID.C_SC_NA_1, True))
    assert decision == Refused(Refusal.UNKNOWN_IOA)
    feedback = model.feedback_value(DsoState(test_mode=True), Command.TEST, Quality.NOT_TOPICAL)
    assert feedback == MonitorValue(11003, TypeID.M_SP_NA_1, True, Quality.NOT_TOPICAL)
