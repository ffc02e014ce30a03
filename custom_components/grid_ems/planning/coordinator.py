"""The planning coordinator: the battery's plan, kept up to date, for the enforcement to follow.

It gathers the planner's input (prices, forecasts, the batteries' state, the grid operator's
limits in force, the month's peak), solves in the executor (tens of milliseconds) and hands the
enforcement the planned power of each quarter hour. It replans every quarter hour, at once on
an accepted grid operator command (the enforcement's subscription) or a new price forecast (a
change of the price sensor), and when the grid power strays far from the plan.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..enforcement import (
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_GRID_POWER_SENSOR,
    CONF_POWER_ENTITY,
    CONF_SOE_SENSOR,
)
from ..enforcement.coordinator import EnforcementCoordinator
from ..enforcement.readings import entity_value
from ..netflex import AssetCategory, DsoState, SiteParameters
from ..planner import (
    SLOT,
    Battery,
    Connection,
    OperatorLimits,
    Plan,
    PlanInput,
    PlanInputError,
    Tariff,
    plan,
)
from ..planner.sources import MAX_SLOTS, SourceError, load_profile, slot_prices
from ..states import kilo_value
from .config import planning_section
from .const import (
    CONF_BATTERY_CAPACITY,
    CONF_CAPACITY_TARIFF,
    CONF_EXPORT_ADDER,
    CONF_EXPORT_FACTOR,
    CONF_IMPORT_ADDER,
    CONF_IMPORT_FACTOR,
    CONF_LOAD_HISTORY_DAYS,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PRICE_SENSOR,
    CONF_PV_FORECAST_ENTRY,
    CONF_WEAR_COST,
)
from .inputs import (
    NordPoolPrices,
    async_consumption_history,
    async_pv_forecast,
    sensor_prices,
)

_LOGGER = logging.getLogger(__package__)

FORECAST_ERROR_KW: Final = 2.0
"""A grid power this far from the plan's, in two checks a minute apart, is a large forecast
error: the plan is made again on what is measured now."""
ERROR_CHECK: Final = timedelta(minutes=1)
QUARTER_DELAY_S: Final = 10
RETRIED: Final = frozenset({"no_state_of_energy", "prices_unreadable", "no_prices"})
"""Reasons for no plan that a minute may mend (the others wait for new options)."""
SOE_MIN_PCT: Final = 5.0
"""The lowest state of energy planned (the controller's own floor)."""


class NoPlanError(Exception):
    """Why there is no plan; ``reason`` is a key, the message the details."""

    def __init__(self, reason: str, detail: str = "") -> None:
        """Say why."""
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PlanningState:
    """The latest plan (None: why not, in ``reason`` and ``detail``) and what it was made on."""

    plan: Plan | None = None
    day_ahead_eur_per_kwh: tuple[float, ...] = ()
    capacity_kwh: float = 0.0
    reason: str | None = "not_planned_yet"
    detail: str = ""
    planned_at: datetime | None = None
    trigger: str = ""
    fallbacks: tuple[str, ...] = field(default=())
    """The inputs that were missing and what stood in for them."""

    def as_dict(self) -> dict[str, Any]:
        """Diagnostics: why there is a plan or not, and the plan's figures."""
        result: dict[str, Any] = {
            "reason": self.reason,
            "detail": self.detail,
            "planned_at": None if self.planned_at is None else self.planned_at.isoformat(),
            "trigger": self.trigger,
            "fallbacks": list(self.fallbacks),
        }
        if (made := self.plan) is not None:
            result |= {
                "start": made.start.isoformat(),
                "slots": len(made.battery_kw),
                "total_cost_eur": made.cost.total_eur,
                "savings_vs_no_battery_eur": made.savings_vs_no_battery_eur,
                "savings_vs_self_consumption_eur": made.savings_vs_self_consumption_eur,
                "predicted_month_peak_kw": made.predicted_month_peak_kw,
            }
        return result


def operator_limits(state: DsoState, site: SiteParameters, battery_kw: float) -> OperatorLimits:
    """The grid operator's limits in force now, as hard bounds for the rest of the horizon.

    Stops and asset limits bound the batteries (a stop of production stops discharging, of
    consumption charging); MINSETP and MAXSETP the connection point.
    """
    discharge = 0.0 if state.stop_production else state.max_set_ap / 100 * battery_kw
    charge = 0.0 if state.stop_consumption else state.min_set_ap / 100 * battery_kw
    return OperatorLimits(
        min_grid_kw=-abs(state.min_set_p) / 100 * site.export_capacity_kw,
        max_grid_kw=state.max_set_p / 100 * site.import_capacity_kw,
        max_battery_discharge_kw=discharge,
        max_battery_charge_kw=charge,
    )


class PlanningCoordinator(DataUpdateCoordinator[PlanningState]):
    """Plans the link's batteries and hands the enforcement the plan's setpoint."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry[Any], enforcement: EnforcementCoordinator
    ) -> None:
        """Prepare the planning of the link's batteries; ``async_start`` starts it."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} planning")
        self.enforcement = enforcement
        self.data = PlanningState()
        self._lock = asyncio.Lock()
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._price_unsubscribe: CALLBACK_TYPE | None = None
        self._nordpool: NordPoolPrices | None = None
        self._strays = 0
        self._replan_waiting = False

    # Life cycle ----------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Plan now and keep planning; the enforcement follows the plan from now on."""
        self.enforcement.battery_plan = self.setpoint_kw
        self._unsubscribers += [
            self.enforcement.async_listen_commands(self._on_command),
            # A few seconds in: the month's peak has taken the quarter that just ended.
            async_track_time_change(
                self.hass, self._on_quarter, minute=(0, 15, 30, 45), second=QUARTER_DELAY_S
            ),
            async_track_time_interval(
                self.hass,
                self._check_forecast_error,
                ERROR_CHECK,
                name=f"{DOMAIN} planning forecast error",
                cancel_on_shutdown=True,
            ),
        ]
        self._configure()
        await self.async_replan("start")

    async def async_stop(self) -> None:
        """Stop planning; the enforcement no longer has a plan to follow."""
        self.enforcement.battery_plan = None
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
        if self._price_unsubscribe is not None:
            self._price_unsubscribe()
            self._price_unsubscribe = None

    @callback
    def async_entry_changed(self) -> None:
        """The link's options changed: take the sources they name and plan again."""
        self._configure()
        self._schedule("options")

    def _configure(self) -> None:
        options = planning_section(self.config_entry.options)
        if self._price_unsubscribe is not None:
            self._price_unsubscribe()
            self._price_unsubscribe = None
        if (sensor := options.get(CONF_PRICE_SENSOR)) is not None:
            self._price_unsubscribe = async_track_state_change_event(
                self.hass, [sensor], self._on_prices
            )
        entry_id = options.get(CONF_NORDPOOL_ENTRY)
        area = options.get(CONF_NORDPOOL_AREA)
        if entry_id is None:
            self._nordpool = None
        elif self._nordpool is None or (self._nordpool.entry_id, self._nordpool.area) != (
            entry_id,
            area,
        ):
            self._nordpool = NordPoolPrices(self.hass, entry_id, area)

    # Triggers ------------------------------------------------------------------------------

    def _schedule(self, trigger: str) -> None:
        """Replan soon; a replan already waiting to start takes this trigger's inputs too."""
        if self._replan_waiting:
            return  # a burst of set-points makes one plan, not one each
        self._replan_waiting = True
        self.config_entry.async_create_background_task(
            self.hass, self.async_replan(trigger), f"{DOMAIN} planning {trigger}"
        )

    @callback
    def _on_command(self) -> None:
        self._schedule("command")

    @callback
    def _on_prices(self, _event: Event[EventStateChangedData]) -> None:
        self._schedule("prices")

    @callback
    def _on_quarter(self, _now: datetime) -> None:
        self._schedule("quarter")

    @callback
    def _check_forecast_error(self, now: datetime) -> None:
        """Replan when the grid power strays from the plan's in two checks in a row.

        Without a plan for want of a state (a battery or prices not read yet), try again.
        """
        made = self.data.plan
        if made is None and self.data.reason in RETRIED:
            self._schedule("retry")
        measured = self.enforcement.grid_power_kw
        if made is None or measured is None:
            self._strays = 0
            return
        index = math.floor((now - made.start) / SLOT)
        if not 0 <= index < len(made.grid_kw):
            return
        if abs(measured - made.grid_kw[index]) <= FORECAST_ERROR_KW:
            self._strays = 0
            return
        self._strays += 1
        if self._strays >= 2:
            self._strays = 0
            self._schedule("forecast_error")

    # Planning ------------------------------------------------------------------------------

    def setpoint_kw(self, at: float) -> float | None:
        """The planned battery power at a UTC epoch moment (None: no plan for it)."""
        made = self.data.plan
        return None if made is None else made.setpoint_kw(dt_util.utc_from_timestamp(at))

    async def async_replan(self, trigger: str) -> None:
        """Make the plan again (one at a time) and let the enforcement follow it at once."""
        async with self._lock:
            self._replan_waiting = False
            now = dt_util.utcnow()
            before = self.setpoint_kw(now.timestamp())
            fallbacks: list[str] = []
            try:
                inputs, prices = await self._async_inputs(now, fallbacks)
                made = await self.hass.async_add_executor_job(plan, inputs)
            except NoPlanError as err:
                _LOGGER.debug("No plan (%s): %s", err.reason, err)
                state = PlanningState(
                    reason=err.reason, detail=str(err), planned_at=now, trigger=trigger
                )
            else:
                state = PlanningState(
                    plan=made,
                    day_ahead_eur_per_kwh=tuple(prices),
                    capacity_kwh=inputs.battery.capacity_kwh,
                    reason=None,
                    planned_at=now,
                    trigger=trigger,
                    fallbacks=tuple(fallbacks),
                )
            self.async_set_updated_data(state)
            # A new setpoint is followed at once, not at the next beat.
            if self.enforcement.follow_plan and self.setpoint_kw(now.timestamp()) != before:
                self.enforcement.async_step()

    async def _async_inputs(
        self, now: datetime, fallbacks: list[str]
    ) -> tuple[PlanInput, list[float]]:
        options = planning_section(self.config_entry.options)
        start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
        prices = slot_prices(await self._async_prices(options, now), start, MAX_SLOTS)
        if not prices:
            raise NoPlanError("no_prices", f"no prices from {start.isoformat()} on")
        slots = len(prices)
        battery = self._battery(options)
        site = self.enforcement.link.site
        pv = [0.0] * slots
        if (entry_id := options.get(CONF_PV_FORECAST_ENTRY)) is None:
            fallbacks.append("pv: none configured, zero")
        else:
            try:
                pv = await async_pv_forecast(self.hass, entry_id, start, slots)
            except SourceError as err:
                fallbacks.append(f"pv: {err}; zero")
        load = await self._async_load(options, start, slots, fallbacks)
        tariff = Tariff(
            import_factor=float(options[CONF_IMPORT_FACTOR]),
            import_adder=float(options[CONF_IMPORT_ADDER]),
            export_factor=float(options[CONF_EXPORT_FACTOR]),
            export_adder=float(options[CONF_EXPORT_ADDER]),
            capacity_eur_per_kw=float(options[CONF_CAPACITY_TARIFF]) / 12,
        )
        limits = operator_limits(self.enforcement.link.state, site, battery.max_discharge_kw)
        try:
            inputs = PlanInput(
                start=start,
                day_ahead_eur_per_kwh=prices,
                battery=battery,
                connection=Connection(site.import_capacity_kw, site.export_capacity_kw),
                tariff=tariff,
                pv_kw=pv,
                load_kw=load,
                limits=(limits,),
                month_peak_kw=self.enforcement.month_peak.peak_kw_at(now.timestamp()),
            )
        except PlanInputError as err:
            raise NoPlanError("invalid_input", str(err)) from err
        return inputs, prices

    async def _async_prices(self, options: dict[str, Any], now: datetime) -> list[Any]:
        try:
            if self._nordpool is not None:
                return await self._nordpool.async_prices(now)
            if (sensor := options.get(CONF_PRICE_SENSOR)) is not None:
                return sensor_prices(self.hass, sensor)
        except SourceError as err:
            raise NoPlanError("prices_unreadable", str(err)) from err
        raise NoPlanError("no_price_source", "no day-ahead prices configured: peak shaving only")

    def _battery(self, options: dict[str, Any]) -> Battery:
        """The link's controlled batteries as one, with their state of energy now."""
        capacity = options.get(CONF_BATTERY_CAPACITY)
        installed = 0.0
        soes: list[float] = []
        categories = {asset.asset_id: asset for asset in self.enforcement.link.site.assets}
        for subentry in self.config_entry.subentries.values():
            asset = categories.get(subentry.subentry_id)
            control = subentry.data.get(CONF_CONTROL, {})
            # Only the batteries the enforcement steers (through their power entity).
            if asset is None or asset.category is not AssetCategory.STORAGE:
                continue
            if CONF_POWER_ENTITY not in control:
                continue
            installed += asset.installed_power_kw
            sensor = control.get(CONF_SOE_SENSOR)
            soe = None if sensor is None else entity_value(self.hass.states.get(sensor))
            soes.append(soe if isinstance(soe, float) else math.nan)
        if installed <= 0:
            raise NoPlanError("no_battery", "no storage asset with a power entity to control")
        if not capacity:
            raise NoPlanError("no_battery_capacity", "the batteries' capacity (kWh) is not set")
        if not soes or not all(math.isfinite(soe) for soe in soes):
            raise NoPlanError("no_state_of_energy", "a battery's state of energy is unknown")
        soe_pct = min(max(sum(soes) / len(soes), 0.0), 100.0)
        return Battery(
            capacity_kwh=float(capacity),
            soe_kwh=soe_pct / 100 * float(capacity),
            max_charge_kw=installed,
            max_discharge_kw=installed,
            min_soe_kwh=SOE_MIN_PCT / 100 * float(capacity),
            wear_eur_per_kwh=float(options[CONF_WEAR_COST]),
        )

    async def _async_load(
        self, options: dict[str, Any], start: datetime, slots: int, fallbacks: list[str]
    ) -> list[float]:
        """The load per quarter hour from its history; a flat one from what is measured now."""
        site = self.enforcement.link.site
        producing = [asset for asset in site.assets if asset.category.produces]
        now_kw = self.enforcement.grid_power_kw
        if now_kw is not None:
            for asset in producing:
                power = kilo_value(self.hass.states.get(asset.p_sensor))
                if power is not None:
                    now_kw += -power if asset.invert_sign else power
        grid_sensor = self.config_entry.options.get(CONF_ENFORCEMENT, {}).get(
            CONF_GRID_POWER_SENSOR
        )
        history: list[tuple[datetime, float]] = []
        days = int(options[CONF_LOAD_HISTORY_DAYS])
        if grid_sensor is not None:
            history = await async_consumption_history(
                self.hass,
                grid_sensor,
                [asset.p_sensor for asset in producing],
                days,
            )
        if not history:
            fallbacks.append(f"load: no history, flat {now_kw or 0.0:.1f} kW")
        return load_profile(
            history, start, slots, dt_util.get_default_time_zone(), max(now_kw or 0.0, 0.0)
        )

    def diagnostics(self) -> dict[str, Any]:
        """Why there is a plan or not, and what it was made on."""
        return self.data.as_dict()
