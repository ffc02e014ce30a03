"""Every command and setpoint is accepted or refused by the rules of DESIGN.md."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from custom_components.grid_ems.iec104 import DoublePointValue, TypeID
from custom_components.grid_ems.netflex import (
    DEFAULT_POINT_MAP,
    Accepted,
    AssetCategory,
    Command,
    CommandRequest,
    CommandValue,
    DsoState,
    QMode,
    Reason,
    Refusal,
    Refused,
    decide,
)

START = DsoState()


def _send(ioa: int, type_id: TypeID, value: CommandValue) -> object:
    return decide(START, DEFAULT_POINT_MAP, CommandRequest(ioa, type_id, value))


def test_start_up_state() -> None:
    """Nothing received: setpoints 100 %, Q band -100..100, reasons 0, stops off, Q local."""
    assert DsoState() == DsoState(
        stop_production=False,
        stop_consumption=False,
        test_mode=False,
        q_mode=QMode.LOCAL,
        min_set_p=100.0,
        max_set_p=100.0,
        max_set_ap=100.0,
        min_set_ap=100.0,
        min_set_q=-100.0,
        max_set_q=100.0,
        reason_p=Reason.NORMAL_OPERATION,
        reason_q=Reason.NORMAL_OPERATION,
    )


@pytest.mark.parametrize(
    ("ioa", "type_id", "value", "expected"),
    [
        (1001, TypeID.C_SC_NA_1, True, DsoState(stop_production=True)),
        (1002, TypeID.C_SC_NA_1, True, DsoState(stop_consumption=True)),
        (1003, TypeID.C_SC_NA_1, True, DsoState(test_mode=True)),
        (1003, TypeID.C_SC_NA_1, False, DsoState()),
        (1101, TypeID.C_DC_NA_1, DoublePointValue.ON, DsoState(q_mode=QMode.REMOTE)),
        (1101, TypeID.C_DC_TA_1, DoublePointValue.OFF, DsoState()),
        (1001, TypeID.C_SC_TA_1, True, DsoState(stop_production=True)),
        (2003, TypeID.C_SE_TC_1, 12.0, DsoState(max_set_ap=12.0)),
        (1101, TypeID.C_DC_NA_1, 1, DsoState(q_mode=QMode.LOCAL)),
        (2001, TypeID.C_SE_NC_1, 40.0, DsoState(min_set_p=40.0)),
        (2001, TypeID.C_SE_NC_1, -40.0, DsoState(min_set_p=-40.0)),
        (2002, TypeID.C_SE_NC_1, 0.0, DsoState(max_set_p=0.0)),
        (2003, TypeID.C_SE_NC_1, 55.5, DsoState(max_set_ap=55.5)),
        (2004, TypeID.C_SE_NC_1, 100.0, DsoState(min_set_ap=100.0)),
        (2005, TypeID.C_SE_NC_1, -30.0, DsoState(min_set_q=-30.0)),
        (2006, TypeID.C_SE_NC_1, 30.0, DsoState(max_set_q=30.0)),
        (2007, TypeID.C_SE_NC_1, 1.0, DsoState(reason_p=Reason.GRID_CONGESTION)),
        (2008, TypeID.C_SE_NC_1, 99.0, DsoState(reason_q=Reason.TEST)),
        (2007, TypeID.C_SE_NC_1, 0, DsoState(reason_p=Reason.NORMAL_OPERATION)),
    ],
)
def test_accepted(ioa: int, type_id: TypeID, value: CommandValue, expected: DsoState) -> None:
    """A valid command yields the new state; its feedback mirrors the value sent."""
    decision = _send(ioa, type_id, value)
    assert isinstance(decision, Accepted)
    assert decision.state == expected
    assert decision.command is DEFAULT_POINT_MAP.command_at(ioa)
    assert decision.state.feedback(decision.command) == value


@pytest.mark.parametrize(
    ("ioa", "type_id", "value", "refusal"),
    [
        (9999, TypeID.C_SC_NA_1, True, Refusal.UNKNOWN_IOA),
        (11001, TypeID.C_SC_NA_1, True, Refusal.UNKNOWN_IOA),
        (1001, TypeID.C_SE_NC_1, 1.0, Refusal.UNKNOWN_TYPE),
        (1001, TypeID.C_DC_NA_1, 2, Refusal.UNKNOWN_TYPE),
        (2001, TypeID.C_SC_NA_1, True, Refusal.UNKNOWN_TYPE),
        (1101, TypeID.C_SC_NA_1, True, Refusal.UNKNOWN_TYPE),
        (1101, TypeID.C_SC_TA_1, True, Refusal.UNKNOWN_TYPE),
        (1001, TypeID.C_SC_NA_1, 1, Refusal.INVALID_VALUE),
        (1101, TypeID.C_DC_NA_1, 0, Refusal.INVALID_VALUE),
        (1101, TypeID.C_DC_NA_1, 3, Refusal.INVALID_VALUE),
        (1101, TypeID.C_DC_NA_1, True, Refusal.INVALID_VALUE),
        (2001, TypeID.C_SE_NC_1, math.nan, Refusal.INVALID_VALUE),
        (2001, TypeID.C_SE_NC_1, math.inf, Refusal.INVALID_VALUE),
        (2001, TypeID.C_SE_NC_1, -100.5, Refusal.INVALID_VALUE),
        (2001, TypeID.C_SE_NC_1, True, Refusal.INVALID_VALUE),
        (2002, TypeID.C_SE_NC_1, -0.1, Refusal.INVALID_VALUE),
        (2003, TypeID.C_SE_NC_1, 100.1, Refusal.INVALID_VALUE),
        (2004, TypeID.C_SE_NC_1, -5.0, Refusal.INVALID_VALUE),
        (2005, TypeID.C_SE_NC_1, -101.0, Refusal.INVALID_VALUE),
        (2006, TypeID.C_SE_NC_1, 101.0, Refusal.INVALID_VALUE),
        (2006, TypeID.C_SE_NC_1, -math.inf, Refusal.INVALID_VALUE),
        (2007, TypeID.C_SE_NC_1, 2.0, Refusal.INVALID_VALUE),
        (2007, TypeID.C_SE_NC_1, 0.5, Refusal.INVALID_VALUE),
        (2008, TypeID.C_SE_NC_1, 98.0, Refusal.INVALID_VALUE),
        (2008, TypeID.C_SE_NC_1, math.nan, Refusal.INVALID_VALUE),
    ],
)
def test_refused(ioa: int, type_id: TypeID, value: CommandValue, refusal: Refusal) -> None:
    """Unknown IOAs, wrong types and invalid values are refused with their reason."""
    decision = _send(ioa, type_id, value)
    assert isinstance(decision, Refused)
    assert decision.refusal is refusal
    assert decision.command is DEFAULT_POINT_MAP.command_at(ioa)


def test_select_is_refused() -> None:
    """The points are direct execute: a select is refused even with a valid value."""
    decision = decide(
        START, DEFAULT_POINT_MAP, CommandRequest(1001, TypeID.C_SC_NA_1, True, select=True)
    )
    assert decision == Refused(Refusal.SELECT_NOT_SUPPORTED, Command.EMERGENCY_STOP_PRODUCTION)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_max_set_p_accepts_exactly_its_range(value: float) -> None:
    """MAXSETP accepts 0..100 inclusive and nothing else, whatever float arrives."""
    decision = _send(2002, TypeID.C_SE_NC_1, value)
    if math.isfinite(value) and 0 <= value <= 100:
        assert isinstance(decision, Accepted)
        assert decision.state.max_set_p == value
    else:
        assert decision == Refused(Refusal.INVALID_VALUE, Command.MAX_SET_P)


def test_category_roles() -> None:
    """Storage both produces and consumes; EV and flexible loads only consume."""
    assert AssetCategory.STORAGE.produces
    assert AssetCategory.STORAGE.consumes
    assert AssetCategory.SOLAR.produces
    assert not AssetCategory.SOLAR.consumes
    assert AssetCategory.EV.consumes
    assert not AssetCategory.EV.produces
    assert AssetCategory.FLEXIBLE_CONSUMPTION.consumes
    assert not AssetCategory.FLEXIBLE_CONSUMPTION.produces
