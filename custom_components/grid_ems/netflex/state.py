"""The DSO state: what the grid operator has commanded, as the enforcement consumes it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..iec104 import DoublePointValue
from .assets import SiteParameters
from .points import Command


class QMode(StrEnum):
    """Who controls the site's reactive power."""

    LOCAL = "local"
    REMOTE = "remote"


class Reason(IntEnum):
    """Reason code of a P or Q control (REDENP / REDENQ)."""

    NORMAL_OPERATION = 0
    GRID_CONGESTION = 1
    TEST = 99

    @property
    def key(self) -> str:
        """Lower-case name, as enum sensors and translations use it."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class PowerLimits:
    """The DSO state resolved against the site: what the site may do, in kW and kvar.

    Emergency stops are folded in: a stopped direction has a limit of 0.
    """

    max_injection_kw: float
    """At the connection point (MINSETP, magnitude, of the export capacity)."""
    max_consumption_kw: float
    """At the connection point (MAXSETP of the import capacity)."""
    max_asset_production_kw: float
    """Summed over the assets that can inject (MAXSETAP of their installed power)."""
    max_asset_consumption_kw: float
    """Summed over the assets that can draw power (MINSETAP of their installed power)."""
    min_reactive_kvar: float
    """Lower bound of the Q band (MINSETQ of the reactive reference)."""
    max_reactive_kvar: float
    """Upper bound of the Q band (MAXSETQ of the reactive reference)."""


@dataclass(frozen=True, slots=True)
class DsoState:
    """Last accepted value of every command; the defaults are the start-up state of DESIGN.md.

    Setpoints are percentages exactly as the grid operator sent them (``min_set_p`` may be
    negative: its magnitude is the limit). Immutable: every accepted command yields a new state.
    """

    stop_production: bool = False
    stop_consumption: bool = False
    test_mode: bool = False
    q_mode: QMode = QMode.LOCAL
    min_set_p: float = 100.0
    """MINSETP: max injection at the connection point, % of contractual export capacity."""
    max_set_p: float = 100.0
    """MAXSETP: max consumption at the connection point, % of contractual import capacity."""
    max_set_ap: float = 100.0
    """MAXSETAP: max asset production, % of installed power."""
    min_set_ap: float = 100.0
    """MINSETAP: max asset consumption, % of installed power."""
    min_set_q: float = -100.0
    """MINSETQ: lower bound of the Q band, % of the reactive reference."""
    max_set_q: float = 100.0
    """MAXSETQ: upper bound of the Q band, % of the reactive reference."""
    reason_p: Reason = Reason.NORMAL_OPERATION
    reason_q: Reason = Reason.NORMAL_OPERATION

    def feedback(self, command: Command) -> bool | DoublePointValue | float:
        """Value of the point mirroring a command: bool, double point state, or float."""
        match command:
            case Command.EMERGENCY_STOP_PRODUCTION:
                return self.stop_production
            case Command.EMERGENCY_STOP_CONSUMPTION:
                return self.stop_consumption
            case Command.TEST:
                return self.test_mode
            case Command.Q_MODE:
                if self.q_mode is QMode.REMOTE:
                    return DoublePointValue.ON
                return DoublePointValue.OFF
            case Command.MIN_SET_P:
                return self.min_set_p
            case Command.MAX_SET_P:
                return self.max_set_p
            case Command.MAX_SET_AP:
                return self.max_set_ap
            case Command.MIN_SET_AP:
                return self.min_set_ap
            case Command.MIN_SET_Q:
                return self.min_set_q
            case Command.MAX_SET_Q:
                return self.max_set_q
            case Command.REASON_P:
                return float(self.reason_p)
            case Command.REASON_Q:
                return float(self.reason_q)

    def limits(self, site: SiteParameters) -> PowerLimits:
        """Resolve the percentages against the site's capacities and installed power."""
        reactive = site.reactive_capacity_kvar
        return PowerLimits(
            max_injection_kw=0.0
            if self.stop_production
            else abs(self.min_set_p) / 100 * site.export_capacity_kw,
            max_consumption_kw=0.0
            if self.stop_consumption
            else self.max_set_p / 100 * site.import_capacity_kw,
            max_asset_production_kw=0.0
            if self.stop_production
            else self.max_set_ap / 100 * site.installed_production_kw,
            max_asset_consumption_kw=0.0
            if self.stop_consumption
            else self.min_set_ap / 100 * site.installed_consumption_kw,
            min_reactive_kvar=self.min_set_q / 100 * reactive,
            max_reactive_kvar=self.max_set_q / 100 * reactive,
        )
