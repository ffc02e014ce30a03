"""MADE-UP quarter-hourly day-ahead price days and the demo site's PV and load profiles.

None of these prices are market data: they are shaped by hand after typical Belgian days
(night trough, morning and evening peaks, a solar dip at noon that goes negative on a sunny
spring Sunday) to test the planner on realistic situations. Prices are in € per kWh.
The site is the demo's (``demo/site.py``, ``simulators/modbus.py``): a 200 kWh PowerPack of
4 blocks of 50 kW, 120 kWp of PV and a 250 kW import / 150 kW export connection; its load is
a made-up small business (a base load with working hours).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from custom_components.grid_ems.planner import (
    SLOT,
    Battery,
    Connection,
    OperatorLimits,
    PlanInput,
    Tariff,
)
from demo.site import DEMO_PORTS, demo_flows
from simulators.modbus import PowerPackModel

SLOTS_PER_DAY = 96
# Quarter-hour prices move within each hour: a ramp towards the next hour's price.
_HOURLY = {
    "winter_weekday": (
        0.085,
        0.080,
        0.078,
        0.077,
        0.079,
        0.088,
        0.115,
        0.142,
        0.150,
        0.138,
        0.125,
        0.118,
        0.112,
        0.110,
        0.114,
        0.122,
        0.138,
        0.162,
        0.178,
        0.171,
        0.150,
        0.128,
        0.109,
        0.095,
    ),
    "sunny_negative": (
        0.062,
        0.058,
        0.055,
        0.053,
        0.052,
        0.055,
        0.064,
        0.072,
        0.045,
        0.012,
        -0.008,
        -0.031,
        -0.052,
        -0.047,
        -0.025,
        0.004,
        0.048,
        0.089,
        0.121,
        0.132,
        0.118,
        0.095,
        0.081,
        0.070,
    ),
    "evening_peak": (
        0.095,
        0.088,
        0.084,
        0.082,
        0.083,
        0.091,
        0.118,
        0.149,
        0.157,
        0.131,
        0.108,
        0.096,
        0.089,
        0.087,
        0.093,
        0.118,
        0.186,
        0.312,
        0.455,
        0.418,
        0.265,
        0.167,
        0.128,
        0.104,
    ),
}
DAYS = tuple(_HOURLY)
TARIFF = Tariff(import_factor=1.0, import_adder=0.12, export_factor=1.0, export_adder=-0.012)
"""A made-up dynamic contract: day-ahead plus 12 c€/kWh of fees and taxes on import, minus
1.2 c€/kWh on injection."""


def _quarters(hourly: tuple[float, ...]) -> list[float]:
    prices: list[float] = []
    for hour, price in enumerate(hourly):
        following = hourly[(hour + 1) % len(hourly)]
        prices.extend(price + (following - price) * (quarter - 1.5) / 8 for quarter in range(4))
    return prices


def day_prices(name: str) -> list[float]:
    """One of the made-up price days, 96 quarter hours from midnight."""
    return _quarters(_HOURLY[name])


def random_prices(rng: random.Random) -> list[float]:
    """A random made-up day: a named day's shape scaled, shifted and with noise."""
    base = _HOURLY[rng.choice(DAYS)]
    scale, shift = rng.uniform(0.6, 1.8), rng.uniform(-0.03, 0.04)
    return [price * scale + shift + rng.gauss(0, 0.01) for price in _quarters(base)]


def pv_kw(slot: int, clearness: float, peak_kw: float) -> float:
    """PV power in the quarter hour ``slot`` of a day: a bell from 6:00 to 21:00 (summer time)."""
    hour = (slot % SLOTS_PER_DAY + 0.5) / 4
    if not 6.0 < hour < 21.0:
        return 0.0
    return peak_kw * clearness * math.sin(math.pi * (hour - 6.0) / 15.0) ** 2


def load_kw(slot: int, weekday: bool) -> float:
    """The made-up business: 30 kW at night, up to about 120 kW in working hours on weekdays."""
    hour = (slot % SLOTS_PER_DAY + 0.5) / 4
    load = 30.0 + 8.0 * math.sin(2 * math.pi * hour / 24)
    if weekday and 7.0 <= hour < 18.0:
        load += 70.0 + 20.0 * math.sin(math.pi * (hour - 7.0) / 11.0)
    return load


@dataclass(frozen=True, slots=True)
class Site:
    """The demo site as the planner sees it."""

    pv_peak_kw: float
    battery_capacity_kwh: float
    battery_power_kw: float
    connection: Connection

    def battery(self, soe_kwh: float) -> Battery:
        """The demo battery holding ``soe_kwh``, with a made-up wear cost."""
        return Battery(
            capacity_kwh=self.battery_capacity_kwh,
            soe_kwh=soe_kwh,
            max_charge_kw=self.battery_power_kw,
            max_discharge_kw=self.battery_power_kw,
            min_soe_kwh=0.1 * self.battery_capacity_kwh,
            max_soe_kwh=0.95 * self.battery_capacity_kwh,
            charge_efficiency=0.95,
            discharge_efficiency=0.95,
            wear_eur_per_kwh=0.01,
        )


def demo_site() -> Site:
    """The demo's battery, PV and connection, read from its set-up."""
    link = next(
        flow for flow in demo_flows(DEMO_PORTS) if flow.steps[0] == {"next_step_id": "grid_link"}
    )
    assets = {sub.steps[0]["category"]: sub.steps[0] for sub in link.subentries}
    bess = PowerPackModel(clock=lambda: 0.0)
    return Site(
        pv_peak_kw=assets["solar"]["installed_power_kw"],
        battery_capacity_kwh=bess.capacity_kwh,
        battery_power_kw=bess.blocks * bess.BLOCK_KW,
        connection=Connection(
            import_capacity_kw=link.steps[1]["import_capacity_kw"],
            export_capacity_kw=link.steps[1]["export_capacity_kw"],
        ),
    )


MIDNIGHT = datetime(2026, 6, 1, tzinfo=UTC)


def site_input(
    prices: list[float],
    *,
    start: datetime = MIDNIGHT,
    soe_kwh: float = 100.0,
    clearness: float = 0.8,
    weekday: bool = True,
    month_peak_kw: float = 0.0,
    limits: tuple[OperatorLimits, ...] = (),
) -> PlanInput:
    """The demo site's planning input over ``prices``, its forecasts from ``start``'s slot."""
    site = demo_site()
    first = (start - start.replace(hour=0, minute=0)) // SLOT
    slots = range(first, first + len(prices))
    return PlanInput(
        start=start,
        day_ahead_eur_per_kwh=prices,
        battery=site.battery(soe_kwh),
        connection=site.connection,
        tariff=TARIFF,
        pv_kw=[pv_kw(slot, clearness, site.pv_peak_kw) for slot in slots],
        load_kw=[load_kw(slot, weekday) for slot in slots],
        limits=limits,
        month_peak_kw=month_peak_kw,
    )


def random_input(seed: int) -> PlanInput:
    """A random 36-hour case: prices, forecasts, state of energy, the month's peak so far and,
    for odd seeds, a window of grid operator limits."""
    rng = random.Random(seed)
    prices = (random_prices(rng) + random_prices(rng))[:144]
    start_slot = rng.randrange(40, 100)
    limits = (
        OperatorLimits(
            start=MIDNIGHT + start_slot * SLOT,
            end=MIDNIGHT + (start_slot + rng.randrange(4, 12)) * SLOT,
            min_grid_kw=-rng.uniform(10.0, 60.0),
            max_grid_kw=rng.uniform(70.0, 120.0),
            max_battery_charge_kw=rng.uniform(50.0, 200.0),
        ),
    )
    return site_input(
        prices,
        soe_kwh=rng.uniform(20.0, 190.0),
        clearness=rng.uniform(0.1, 1.0),
        weekday=rng.random() < 0.7,
        month_peak_kw=rng.uniform(0.0, 110.0),
        limits=limits if seed % 2 else (),
    )
