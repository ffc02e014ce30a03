"""Follow the month's peak: peak shaving's target from the capacity tariff, without prices."""

from __future__ import annotations

from .model import FREE_PEAK_KW


def month_peak_target_kw(month_peak_kw: float, free_peak_kw: float = FREE_PEAK_KW) -> float:
    """The import target that costs no capacity tariff: this month's peak so far, at least 2.5 kW.

    Import up to the month's peak is already paid for; holding it there instead of at zero
    saves battery cycles, and keeping below it raises no bill.
    """
    return max(free_peak_kw, month_peak_kw)
