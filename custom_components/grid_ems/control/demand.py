"""Quarter-hour import demand, the quantity the Fluvius capacity tariff bills.

The tariff charges the month's highest quarter-hour average of the power drawn from the grid.
Peak shaving keeps the running quarter's average under a target: it integrates the measured
import and tells how much may still be drawn for the rest of the quarter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

QUARTER_HOUR_S: Final = 900.0


def quarter_start(at: float) -> float:
    """Start (UTC epoch seconds) of the quarter hour holding ``at``."""
    return math.floor(at / QUARTER_HOUR_S) * QUARTER_HOUR_S


class QuarterHourDemand:
    """Import energy of the running quarter hour, from grid power samples (held until the next)."""

    __slots__ = ("_energy_kws", "_first_at", "_last_at", "_last_import_kw", "_start")

    def __init__(self) -> None:
        """Start without samples."""
        self._start: float | None = None
        self._first_at: float | None = None
        self._energy_kws = 0.0
        self._last_at: float | None = None
        self._last_import_kw = 0.0

    def add(self, grid_power_kw: float, at: float) -> None:
        """Take a grid power sample (import positive) measured at ``at``."""
        if self._last_at is not None and at <= self._last_at:
            return
        if self._first_at is None:
            self._first_at = at
        if self._last_at is not None:
            moment = self._last_at
            while moment < at:
                start = quarter_start(moment)
                self._enter(start)
                end = min(at, start + QUARTER_HOUR_S)
                self._energy_kws += self._last_import_kw * (end - moment)
                moment = end
        self._enter(quarter_start(at))
        self._last_at = at
        self._last_import_kw = max(grid_power_kw, 0.0)

    def _enter(self, start: float) -> None:
        if start != self._start:
            self._start = start
            self._energy_kws = 0.0

    def average_kw(self, now: float) -> float:
        """Average import since the start of the quarter holding ``now``."""
        start = quarter_start(now)
        elapsed = now - start
        return self._energy_at(now) / elapsed if elapsed > 0 else self._last_import_kw

    def allowed_import_kw(self, target_kw: float, now: float) -> float:
        """The import that, held to the end of the quarter, ends it exactly at the target.

        The part of the quarter before the first sample (a start mid-quarter) is unknown and
        counts as spent at the target, so no budget is assumed that may not be there.
        """
        start = quarter_start(now)
        remaining = start + QUARTER_HOUR_S - now
        unmeasured_s = 0.0
        if self._first_at is None:
            unmeasured_s = now - start
        elif self._first_at > start:
            unmeasured_s = min(self._first_at, now) - start
        budget = target_kw * (QUARTER_HOUR_S - unmeasured_s) - self._energy_at(now)
        return max(budget / max(remaining, 1.0), 0.0)

    def _energy_at(self, now: float) -> float:
        if self._last_at is None:
            return 0.0
        start = quarter_start(now)
        if self._start == start:
            return self._energy_kws + self._last_import_kw * max(now - self._last_at, 0.0)
        # No sample yet in this quarter: the last one holds since the quarter began.
        return self._last_import_kw * (now - start) if self._last_at < start else 0.0


class MonthPeak:
    """The month's highest quarter-hour average import so far, the capacity tariff's base.

    Each sample holds until the next, for one quarter hour at most (a silent meter is no import
    after that). A quarter measured for less than half its length (a start late in it) is not
    counted: its average is not known. ``month_of`` names the month of a moment (the tariff's
    months are local time, which the caller knows); a new month starts from nothing.
    """

    __slots__ = (
        "_energy_kws",
        "_last_at",
        "_last_kw",
        "_measured_s",
        "month",
        "month_of",
        "peak_kw",
    )

    def __init__(
        self, month_of: Callable[[float], str], month: str | None = None, peak_kw: float = 0.0
    ) -> None:
        """Start from a restored month and its peak, or from nothing."""
        self.month_of = month_of
        self.month = month
        self.peak_kw = peak_kw
        self._last_at: float | None = None
        self._last_kw = 0.0
        self._energy_kws = 0.0
        self._measured_s = 0.0

    def add(self, grid_power_kw: float, at: float) -> None:
        """Take a grid power sample (import positive) measured at ``at``."""
        if self._last_at is not None:
            if at <= self._last_at:
                return
            held_to = min(at, self._last_at + QUARTER_HOUR_S)
            moment = self._last_at
            while True:
                end = quarter_start(moment) + QUARTER_HOUR_S
                span = min(held_to, end) - moment
                if span > 0:
                    self._energy_kws += self._last_kw * span
                    self._measured_s += span
                if at < end:
                    break
                self._close(end - QUARTER_HOUR_S)
                # Quarters nothing held into stay empty: jump to the sample's own.
                moment = end if held_to > end else max(end, quarter_start(at))
        self._last_at = at
        self._last_kw = max(grid_power_kw, 0.0)

    def _close(self, start: float) -> None:
        if self._measured_s >= QUARTER_HOUR_S / 2:
            average = self._energy_kws / self._measured_s
            month = self.month_of(start)
            if month != self.month:
                self.month, self.peak_kw = month, 0.0
            self.peak_kw = max(self.peak_kw, average)
        self._energy_kws = self._measured_s = 0.0

    def peak_kw_at(self, now: float) -> float:
        """The peak of the month holding ``now`` (0 until a quarter of it is finished)."""
        return self.peak_kw if self.month_of(now) == self.month else 0.0
