"""Reading the states of power sensors of any integration, the same way for every kind."""

from __future__ import annotations

import math

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import State

from .netflex import to_kilo


def kilo_value(state: State | None) -> float | None:
    """A power sensor's value in kW (or a reactive one's in kvar).

    None while it is unavailable, unknown, not a finite number, or in a unit that is not one of
    power (W, kW, MW, var, kvar, Mvar).
    """
    if state is None:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return to_kilo(value, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
