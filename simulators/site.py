"""One physical site behind one grid connection, for the demo's meters to measure.

Loads, PV and a battery make the grid power: grid = loads - PV - battery (W; import, load and PV
production positive, the battery's discharge positive). The emergency stops' contactors cut the PV
feeder (production) and the loads' feeder (consumption) while a stop holds them. Every meter of the
demo reads this one model at the moment it is asked, so the P1 meter, the grid meter and the PV
meter agree at every instant, and the battery's power shows at the connection point as soon as it
flows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def demo_loads(elapsed: float) -> float:
    """The site's consumption in W: a base load with quick wiggles."""
    return 3000.0 + 250.0 * math.sin(2 * math.pi * elapsed / 37)


def demo_pv(elapsed: float) -> float:
    """The PV's production in W: slow swings between 350 W and 4750 W (clouds passing)."""
    return 2550.0 - 2200.0 * math.sin(2 * math.pi * elapsed / 600)


@dataclass(frozen=True, slots=True)
class SiteReading:
    """The site's powers at one instant, in W."""

    loads_w: float
    pv_w: float
    battery_w: float

    @property
    def grid_w(self) -> float:
        """What the connection point carries: import positive."""
        return self.loads_w - self.pv_w - self.battery_w


@dataclass(slots=True)
class SiteModel:
    """The site: its loads and PV over time, and its battery's power as the battery delivers it."""

    loads_w: Callable[[float], float] = demo_loads
    pv_w: Callable[[float], float] = demo_pv
    battery_w: Callable[[], float] = lambda: 0.0
    """The battery's power now (discharge positive): the battery simulator's."""
    production_cut: Callable[[], bool] = lambda: False
    """Whether the emergency stop of production holds the PV feeder cut."""
    consumption_cut: Callable[[], bool] = lambda: False
    """Whether the emergency stop of consumption holds the loads' feeder cut."""
    clock: Callable[[], float] = time.monotonic
    start: float = field(init=False)

    def __post_init__(self) -> None:
        """Time starts now."""
        self.start = self.clock()

    def reading(self) -> SiteReading:
        """The powers now."""
        elapsed = self.clock() - self.start
        loads_w = 0.0 if self.consumption_cut() else self.loads_w(elapsed)
        pv_w = 0.0 if self.production_cut() else self.pv_w(elapsed)
        return SiteReading(loads_w, pv_w, self.battery_w())

    def grid_power_w(self) -> float:
        """The grid power now (import positive): what the P1 meter and the grid meter measure."""
        return self.reading().grid_w

    def pv_meter_power_w(self) -> float:
        """What a meter on the PV feeder measures now: the PV's production, imported negative."""
        return -self.reading().pv_w
