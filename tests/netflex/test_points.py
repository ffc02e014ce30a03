"""The default point map is DESIGN.md's, and overrides are checked."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.iec104 import TypeID
from custom_components.grid_ems.netflex import (
    DEFAULT_IOAS,
    DEFAULT_POINT_MAP,
    AssetCategory,
    Command,
    PointMap,
    PointMapError,
)


def test_default_command_points() -> None:
    """Commands sit at 1001-1003, 1101 and 2001-2008 with their types."""
    expected = {
        1001: (Command.EMERGENCY_STOP_PRODUCTION, TypeID.C_SC_NA_1),
        1002: (Command.EMERGENCY_STOP_CONSUMPTION, TypeID.C_SC_NA_1),
        1003: (Command.TEST, TypeID.C_SC_NA_1),
        1101: (Command.Q_MODE, TypeID.C_DC_NA_1),
        2001: (Command.MIN_SET_P, TypeID.C_SE_NC_1),
        2002: (Command.MAX_SET_P, TypeID.C_SE_NC_1),
        2003: (Command.MAX_SET_AP, TypeID.C_SE_NC_1),
        2004: (Command.MIN_SET_AP, TypeID.C_SE_NC_1),
        2005: (Command.MIN_SET_Q, TypeID.C_SE_NC_1),
        2006: (Command.MAX_SET_Q, TypeID.C_SE_NC_1),
        2007: (Command.REASON_P, TypeID.C_SE_NC_1),
        2008: (Command.REASON_Q, TypeID.C_SE_NC_1),
    }
    for ioa, (command, type_id) in expected.items():
        assert DEFAULT_POINT_MAP.command_at(ioa) is command
        assert DEFAULT_POINT_MAP.command_ioa(command) == ioa
        assert type_id in command.accepted_types
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
    assert Command.Q_MODE.feedback_type is TypeID.M_DP_NA_1
    assert Command.TEST.feedback_type is TypeID.M_SP_NA_1
    assert Command.REASON_Q.feedback_type is TypeID.M_ME_NC_1
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
