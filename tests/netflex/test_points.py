"""The default point map is DESIGN.md's, and overrides are checked."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.netflex import (
    DEFAULT_IOAS,
    DEFAULT_POINT_MAP,
    AssetCategory,
    Command,
    CommandType,
    MonitorType,
    PointMap,
    PointMapError,
)


def test_default_command_points() -> None:
    """Commands sit at 1001-1003, 1101 and 2001-2008 with their types."""
    expected = {
        1001: (Command.EMERGENCY_STOP_PRODUCTION, CommandType.SINGLE),
        1002: (Command.EMERGENCY_STOP_CONSUMPTION, CommandType.SINGLE),
        1003: (Command.TEST, CommandType.SINGLE),
        1101: (Command.Q_MODE, CommandType.DOUBLE),
        2001: (Command.MIN_SET_P, CommandType.SETPOINT_FLOAT),
        2002: (Command.MAX_SET_P, CommandType.SETPOINT_FLOAT),
        2003: (Command.MAX_SET_AP, CommandType.SETPOINT_FLOAT),
        2004: (Command.MIN_SET_AP, CommandType.SETPOINT_FLOAT),
        2005: (Command.MIN_SET_Q, CommandType.SETPOINT_FLOAT),
        2006: (Command.MAX_SET_Q, CommandType.SETPOINT_FLOAT),
        2007: (Command.REASON_P, CommandType.SETPOINT_FLOAT),
        2008: (Command.REASON_Q, CommandType.SETPOINT_FLOAT),
    }
    for ioa, (command, command_type) in expected.items():
        assert DEFAULT_POINT_MAP.command_at(ioa) is command
        assert DEFAULT_POINT_MAP.command_ioa(command) == ioa
        assert command.command_type is command_type
        assert DEFAULT_POINT_MAP.feedback_ioa(command) == ioa + 10000
    assert DEFAULT_POINT_MAP.command_at(11001) is None
    assert DEFAULT_POINT_MAP.command_at(3000) is None


def test_default_monitor_points() -> None:
    """27 monitor points: 12 feedback, the version at 12100, P at 13001.., Q at 13101.."""
    monitor = list(DEFAULT_POINT_MAP.monitor_ioas())
    assert len(monitor) == len(set(monitor)) == 27
    assert DEFAULT_POINT_MAP.interface_version_ioa == 12100
    assert DEFAULT_POINT_MAP.active_power_ioa(AssetCategory.SOLAR) == 13001
    assert DEFAULT_POINT_MAP.active_power_ioa(AssetCategory.STORAGE) == 13004
    assert DEFAULT_POINT_MAP.active_power_ioa(AssetCategory.OTHER_PRODUCTION) == 13007
    assert DEFAULT_POINT_MAP.reactive_power_ioa(AssetCategory.SOLAR) == 13101
    assert DEFAULT_POINT_MAP.reactive_power_ioa(AssetCategory.OTHER_PRODUCTION) == 13107
    assert Command.Q_MODE.feedback_type is MonitorType.DOUBLE_POINT
    assert Command.TEST.feedback_type is MonitorType.SINGLE_POINT
    assert Command.REASON_Q.feedback_type is MonitorType.FLOAT
    assert len(DEFAULT_IOAS) == 12 + 27


def test_options_override_and_default() -> None:
    """Options move a point; points they do not name keep the default; floats like 5.0 pass."""
    point_map = PointMap.from_options({"ioa_emergency_stop_production": 5001.0, "other": "x"})
    assert point_map.command_at(5001) is Command.EMERGENCY_STOP_PRODUCTION
    assert point_map.command_at(1001) is None
    assert point_map.command_ioa(Command.TEST) == 1003
    assert PointMap.from_options({}) == DEFAULT_POINT_MAP


@pytest.mark.parametrize(
    ("options", "keys"),
    [
        ({"ioa_test": 1001}, ("ioa_emergency_stop_production", "ioa_test")),
        ({"ioa_p_solar": 0}, ("ioa_p_solar",)),
        ({"ioa_q_ev": 0x1000000}, ("ioa_q_ev",)),
        ({"ioa_q_mode": 1101.5}, ("ioa_q_mode",)),
        ({"ioa_q_mode": "1101"}, ("ioa_q_mode",)),
    ],
)
def test_invalid_maps_name_their_keys(options: dict[str, object], keys: tuple[str, ...]) -> None:
    """Duplicates, IOAs out of 1..16777215 and non-integers are refused, naming the fields."""
    with pytest.raises(PointMapError) as error:
        PointMap.from_options(options)
    assert error.value.keys == keys


def test_incomplete_map_is_refused() -> None:
    """A map must name every point."""
    ioas = dict(DEFAULT_IOAS)
    del ioas["ioa_interface_version"]
    with pytest.raises(PointMapError) as error:
        PointMap(ioas)
    assert error.value.keys == ("ioa_interface_version",)
