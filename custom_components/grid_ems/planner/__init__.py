"""Battery planner: day-ahead prices, forecasts and the capacity tariff under the operator's limits.

Pure Python and numpy without Home Assistant imports; time is injected (``PlanInput.start``).
The HA layer gathers prices, forecasts, the battery's state and the grid operator's current
limits into a ``PlanInput`` and reads the battery's power per quarter hour from the ``Plan``.
"""

from .model import (
    SLOT,
    Battery,
    Connection,
    Costs,
    OperatorLimits,
    Plan,
    PlanInput,
    PlanInputError,
    Tariff,
)
from .peak import month_peak_target_kw
from .solver import plan

__all__ = [
    "SLOT",
    "Battery",
    "Connection",
    "Costs",
    "OperatorLimits",
    "Plan",
    "PlanInput",
    "PlanInputError",
    "Tariff",
    "month_peak_target_kw",
    "plan",
]
