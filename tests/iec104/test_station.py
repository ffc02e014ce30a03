"""Stations and points: declarations, updates and their validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.grid_ems.iec104 import (
    DoublePointValue,
    Quality,
    Server,
    Station,
    TypeID,
)
from custom_components.grid_ems.iec104.asdu import DoublePoint, MeasuredFloat, SinglePoint

MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_points_are_declared_with_their_types() -> None:
    station = Station(100)
    single = station.add_single_point(11001, value=True)
    double = station.add_double_point(11101, time_tagged=True)
    measured = station.add_float_point(12001, value=100.0)
    command = station.add_command_point(2001, [TypeID.C_SE_NC_1, TypeID.C_SE_TC_1])
    assert (single.type_id, double.type_id, measured.type_id) == (
        TypeID.M_SP_NA_1,
        TypeID.M_DP_TB_1,
        TypeID.M_ME_NC_1,
    )
    assert list(station.monitor_points) == [11001, 11101, 12001]
    assert station.command_points[2001].accepted_types == {TypeID.C_SE_NC_1, TypeID.C_SE_TC_1}
    assert command.station is station
    assert repr(command) == "<CommandPoint CA 100 IOA 2001 C_SE_NC_1, C_SE_TC_1>"
    assert repr(single) == (
        "<SingleMonitorPoint CA 100 IOA 11001 M_SP_NA_1 "
        "SinglePoint(ioa=11001, value=True, quality=<Quality.GOOD: 0>, time=None)>"
    )


def test_updates_set_value_quality_and_time() -> None:
    station = Station(1)
    single = station.add_single_point(1, time_tagged=True)
    double = station.add_double_point(2)
    measured = station.add_float_point(3, time_tagged=True)
    single.update(True, Quality.INVALID, MOMENT)
    double.update(DoublePointValue.ON, Quality.NOT_TOPICAL, MOMENT)
    measured.update(-12.5, Quality.OVERFLOW, MOMENT)
    assert single.information(time_tagged=True) == SinglePoint(1, True, Quality.INVALID, MOMENT)
    assert double.information(time_tagged=False) == DoublePoint(
        2, DoublePointValue.ON, Quality.NOT_TOPICAL
    )
    assert measured.information(time_tagged=True) == MeasuredFloat(
        3, -12.5, Quality.OVERFLOW, MOMENT
    )


def test_update_without_timestamp_stamps_now() -> None:
    point = Station(1).add_float_point(1)
    before = datetime.now(UTC)
    point.update(1.0)
    assert before <= point.timestamp <= datetime.now(UTC)
    assert point.quality is Quality.GOOD


@pytest.mark.parametrize(
    ("update", "message"),
    [
        (lambda s: s.add_single_point(1).update(True, Quality.OVERFLOW), "no OVERFLOW"),
        (
            lambda s: s.add_double_point(1).update(DoublePointValue.ON, Quality.OVERFLOW),
            "no OVERFLOW",
        ),
        (lambda s: s.add_float_point(1).update(3.5e38), "short floating point"),
        (
            lambda s: s.add_float_point(1).update(1.0, timestamp=datetime(2026, 1, 1)),
            "aware",
        ),
        (
            lambda s: s.add_float_point(1).update(1.0, timestamp=datetime(1990, 1, 1, tzinfo=UTC)),
            "year 1990",
        ),
    ],
)
def test_invalid_updates_are_refused(update: object, message: str) -> None:
    station = Station(1)
    with pytest.raises(ValueError, match=message):
        update(station)  # type: ignore[operator]


def test_float_points_accept_infinity_and_nan() -> None:
    point = Station(1).add_float_point(1)
    point.update(float("inf"))
    assert point.value == float("inf")


@pytest.mark.parametrize("ioa", [0, 0x1000000])
def test_ioa_range(ioa: int) -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.16777215"):
        Station(1).add_single_point(ioa)


def test_an_ioa_is_declared_once() -> None:
    station = Station(1)
    station.add_float_point(5)
    station.add_command_point(6, [TypeID.C_SE_NC_1])
    assert [station.has_point(ioa) for ioa in (4, 5, 6)] == [False, True, True]
    with pytest.raises(ValueError, match="IOA 5 already declared"):
        station.add_command_point(5, [TypeID.C_SE_NC_1])


@pytest.mark.parametrize("types", [[], [TypeID.M_SP_NA_1], [TypeID.C_IC_NA_1]])
def test_command_points_accept_process_commands_only(types: list[TypeID]) -> None:
    with pytest.raises(ValueError, match="non-empty subset"):
        Station(1).add_command_point(1, types)


@pytest.mark.parametrize("common_address", [0, 65535])
def test_common_address_range(common_address: int) -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.65534"):
        Station(common_address)


def test_server_declares_each_station_once() -> None:
    server = Server()
    station = server.add_station(100)
    assert server.stations == {100: station}
    with pytest.raises(ValueError, match="already declared"):
        server.add_station(100)
