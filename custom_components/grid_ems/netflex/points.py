"""The Netflex point map: which information object address (IOA) carries which function.

Fluvius hands the IOA list to each site; the defaults are those of DESIGN.md and every address
can be overridden. Points are named by option keys (``ioa_<point>``) so that the map round-trips
through a config entry's options.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from ..iec104 import TypeID
from .assets import AssetCategory

MAX_IOA: Final = 0xFFFFFF
"""IOAs are three octets; 0 means 'irrelevant' and is never a point."""


class Command(StrEnum):
    """Functions the grid operator commands, in the order of the default map."""

    EMERGENCY_STOP_PRODUCTION = "emergency_stop_production"
    EMERGENCY_STOP_CONSUMPTION = "emergency_stop_consumption"
    TEST = "test"
    Q_MODE = "q_mode"
    MIN_SET_P = "min_set_p"
    MAX_SET_P = "max_set_p"
    MAX_SET_AP = "max_set_ap"
    MIN_SET_AP = "min_set_ap"
    MIN_SET_Q = "min_set_q"
    MAX_SET_Q = "max_set_q"
    REASON_P = "reason_p"
    REASON_Q = "reason_q"

    @property
    def command_type(self) -> TypeID:
        """The plain command type of this function (without time tag)."""
        match self:
            case (
                Command.EMERGENCY_STOP_PRODUCTION
                | Command.EMERGENCY_STOP_CONSUMPTION
                | Command.TEST
            ):
                return TypeID.C_SC_NA_1
            case Command.Q_MODE:
                return TypeID.C_DC_NA_1
            case _:
                return TypeID.C_SE_NC_1

    @property
    def accepted_types(self) -> frozenset[TypeID]:
        """The types this function may be sent with: plain and time-tagged."""
        return _ACCEPTED_TYPES[self.command_type]

    @property
    def feedback_type(self) -> TypeID:
        """The monitor type of the point mirroring this function."""
        return _FEEDBACK_TYPES[self.command_type]


_ACCEPTED_TYPES: Final = {
    TypeID.C_SC_NA_1: frozenset({TypeID.C_SC_NA_1, TypeID.C_SC_TA_1}),
    TypeID.C_DC_NA_1: frozenset({TypeID.C_DC_NA_1, TypeID.C_DC_TA_1}),
    TypeID.C_SE_NC_1: frozenset({TypeID.C_SE_NC_1, TypeID.C_SE_TC_1}),
}
_FEEDBACK_TYPES: Final = {
    TypeID.C_SC_NA_1: TypeID.M_SP_NA_1,
    TypeID.C_DC_NA_1: TypeID.M_DP_NA_1,
    TypeID.C_SE_NC_1: TypeID.M_ME_NC_1,
}


INTERFACE_VERSION: Final = 1.0
"""Version of the Netflex data model (Annex B) this map implements."""


def command_key(command: Command) -> str:
    """Option key of a command point."""
    return f"ioa_{command}"


def feedback_key(command: Command) -> str:
    """Option key of the point mirroring a command."""
    return f"ioa_feedback_{command}"


def active_power_key(category: AssetCategory) -> str:
    """Option key of a category's active power measurement."""
    return f"ioa_p_{category}"


def reactive_power_key(category: AssetCategory) -> str:
    """Option key of a category's reactive power measurement."""
    return f"ioa_q_{category}"


INTERFACE_VERSION_KEY: Final = "ioa_interface_version"


def _default_ioas() -> dict[str, int]:
    command_ioas = (1001, 1002, 1003, 1101, *range(2001, 2009))
    defaults: dict[str, int] = {}
    for command, ioa in zip(Command, command_ioas, strict=True):
        defaults[command_key(command)] = ioa
    for command, ioa in zip(Command, command_ioas, strict=True):
        defaults[feedback_key(command)] = ioa + 10000
    defaults[INTERFACE_VERSION_KEY] = 12100
    for offset, category in enumerate(AssetCategory):
        defaults[active_power_key(category)] = 13001 + offset
    for offset, category in enumerate(AssetCategory):
        defaults[reactive_power_key(category)] = 13101 + offset
    return defaults


DEFAULT_IOAS: Final[Mapping[str, int]] = _default_ioas()
"""Every point's option key and its default IOA, commands first, then the monitor points."""

COMMAND_KEYS: Final = tuple(command_key(command) for command in Command)
FEEDBACK_KEYS: Final = (*(feedback_key(command) for command in Command), INTERFACE_VERSION_KEY)
MEASUREMENT_KEYS: Final = tuple(
    key(category) for key in (active_power_key, reactive_power_key) for category in AssetCategory
)
MONITOR_KEYS: Final = FEEDBACK_KEYS + MEASUREMENT_KEYS
"""Option keys of the 27 monitor points, in the order of a general interrogation."""


class PointMapError(ValueError):
    """The IOAs do not form a valid point map; ``keys`` are the offending option keys."""

    def __init__(self, message: str, keys: tuple[str, ...]) -> None:
        """Keep the keys so that a form can mark the fields."""
        super().__init__(message)
        self.keys = keys


@dataclass(frozen=True, slots=True)
class PointMap:
    """IOA of every point, by option key; complete and free of duplicates by construction."""

    ioas: Mapping[str, int]
    _commands_by_ioa: Mapping[int, Command] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check completeness, range and uniqueness, and index the command points."""
        if missing := tuple(key for key in DEFAULT_IOAS if key not in self.ioas):
            raise PointMapError(f"points without an IOA: {', '.join(missing)}", missing)
        if out_of_range := tuple(key for key in DEFAULT_IOAS if not 1 <= self.ioas[key] <= MAX_IOA):
            raise PointMapError(f"IOAs outside 1..{MAX_IOA}: {out_of_range}", out_of_range)
        keys_by_ioa: dict[int, list[str]] = {}
        for key in DEFAULT_IOAS:
            keys_by_ioa.setdefault(self.ioas[key], []).append(key)
        if duplicates := tuple(
            key for keys in keys_by_ioa.values() if len(keys) > 1 for key in keys
        ):
            raise PointMapError(f"IOAs used twice: {duplicates}", duplicates)
        object.__setattr__(
            self,
            "_commands_by_ioa",
            {self.ioas[command_key(command)]: command for command in Command},
        )

    @classmethod
    def from_options(cls, options: Mapping[str, object]) -> PointMap:
        """Build the map from entry options; points the options do not name keep their default."""
        ioas: dict[str, int] = {}
        for key, default in DEFAULT_IOAS.items():
            value = options.get(key, default)
            if not isinstance(value, int | float) or value != int(value):
                raise PointMapError(f"{key} is not an integer IOA: {value!r}", (key,))
            ioas[key] = int(value)
        return cls(ioas)

    def command_at(self, ioa: int) -> Command | None:
        """The command received on an IOA, or None if no command point has it."""
        return self._commands_by_ioa.get(ioa)

    def command_ioa(self, command: Command) -> int:
        """IOA the grid operator sends a command to."""
        return self.ioas[command_key(command)]

    def feedback_ioa(self, command: Command) -> int:
        """IOA of the point mirroring a command."""
        return self.ioas[feedback_key(command)]

    @property
    def interface_version_ioa(self) -> int:
        """IOA of the interface version point."""
        return self.ioas[INTERFACE_VERSION_KEY]

    def active_power_ioa(self, category: AssetCategory) -> int:
        """IOA of a category's active power."""
        return self.ioas[active_power_key(category)]

    def reactive_power_ioa(self, category: AssetCategory) -> int:
        """IOA of a category's reactive power."""
        return self.ioas[reactive_power_key(category)]

    def monitor_ioas(self) -> Iterator[int]:
        """IOA of every monitor point, in map order."""
        return (self.ioas[key] for key in MONITOR_KEYS)


DEFAULT_POINT_MAP: Final = PointMap(DEFAULT_IOAS)
