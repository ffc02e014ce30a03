"""The enforcement coordinator: the pure controller (``control/``) run in Home Assistant."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.components.number import ATTR_MAX, ATTR_MIN, ATTR_STEP
from homeassistant.config_entries import (
    ConfigEntry,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceNotFound
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..audit_chain import ChainedStore
from ..const import DOMAIN
from ..control.controller import Controller
from ..control.demand import MonthPeak
from ..control.ledger import EntityLedger, EntityValue
from ..control.model import (
    Action,
    Constraint,
    ConstraintCause,
    ControlInput,
    ControlSetup,
    Decision,
    GridSample,
    Measurements,
    Relay,
    Source,
)
from ..iec104 import Quality
from ..netflex import AuditRecord, Command, DsoState, HashChain
from ..planner import month_peak_target_kw
from ..states import kilo_value
from ..wording import LOG_LANGUAGE, BurstLog, Texts, action_sentence
from .config import settings_from_options
from .const import (
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_GRID_POWER_SENSOR,
    CONF_LOCAL_STOP_CONSUMPTION,
    CONF_LOCAL_STOP_PRODUCTION,
    CONF_POWER_ENTITY,
    CONF_Q_ENTITY,
    CONF_SOE_SENSOR,
)
from .ports import (
    SIGNAL_RELAYS_RESET,
    DsoSource,
    GridPowerReading,
    GridPowerSource,
    site_registry,
)
from .readings import asset_control, entity_value

_LOGGER = logging.getLogger(__package__)


# --- The adapter ---

STORAGE_VERSION: Final = 1
TICK: Final = timedelta(seconds=1)
WRITE_ATTEMPTS: Final = 3
RETRY_DELAYS_S: tuple[float, ...] = (0.2, 1.0)
"""Pause before the second and third attempt of a write."""
VERIFY_TIMEOUT_S: float = 3.0
"""How long a written entity may take to show the value (devices polled by other integrations)."""
FAILED_ENTITY_BACKOFF_S: float = 10.0
"""An entity whose write failed is tried again (by the next steps) after this long."""
STORAGE_SAVE_DELAY_S: Final = 1.0
ACTION_LOG_SIZE: Final = 500
ACTION_LOG_SAVE_DELAY_S: Final = 60.0
"""The action log is written at most this often (a flash card's wear; the logbook has them too)."""
DEFAULT_PEAK_SHAVING_TARGET_KW: Final = 2.5
"""The Fluvius capacity tariff bills at least 2.5 kW: shaving below it saves nothing."""

EVENT_ENFORCEMENT_ACTION: Final = f"{DOMAIN}_enforcement_action"
"""Fired for every write the enforcement makes (data: ``ActionRecord.as_dict``)."""
LOCAL_STOP_INPUTS: Final = {
    Constraint.EMERGENCY_STOP_PRODUCTION: CONF_LOCAL_STOP_PRODUCTION,
    Constraint.EMERGENCY_STOP_CONSUMPTION: CONF_LOCAL_STOP_CONSUMPTION,
}
"""The option naming each stop's local input (a binary sensor, on = stop)."""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One write of the enforcement, its outcome and the command behind it."""

    time: datetime
    entity_id: str
    value: EntityValue
    restore: bool
    cause: ConstraintCause | None
    command: AuditRecord | None
    """The last accepted grid operator command that set the constraint, if it is theirs."""
    error: str | None
    """None when written and read back."""
    local_input: str | None = None
    """The local emergency stop input behind it (its cause's source is then ``local_stop``)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON form, for the bus, the logbook and diagnostics."""
        command = self.command
        source = None if self.cause is None else self.cause.source.value
        return {
            "time": self.time.isoformat(),
            "entity_id": self.entity_id,
            "value": self.value,
            "restore": self.restore,
            "constraint": None if self.cause is None else self.cause.constraint.value,
            "source": source if self.local_input is None else f"local input {self.local_input}",
            "command": None if command is None else command.command,
            "command_value": None if command is None else command.value,
            "command_time": None if command is None else command.time.isoformat(),
            "ok": self.error is None,
            "error": self.error,
        }


@dataclass(slots=True)
class _Failure:
    action: Action
    error: str
    retry_at: float


def _held_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a link's enforcement keeps what the EMS holds and the optimization settings."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.enforcement", atomic_writes=True)


def _action_store(hass: HomeAssistant, entry_id: str) -> ChainedStore:
    """Where a link's enforcement keeps its recent actions (hash-chained)."""
    return ChainedStore(hass, f"{DOMAIN}.{entry_id}.actions", "actions")


async def async_remove_enforcement_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what the enforcement of a removed link kept."""
    await _held_store(hass, entry_id).async_remove()
    await _action_store(hass, entry_id).async_remove_trail(entry_id)
    for stop in LOCAL_STOP_INPUTS:
        ir.async_delete_issue(hass, DOMAIN, _input_issue_id(entry_id, stop))


def _input_issue_id(entry_id: str, stop: Constraint) -> str:
    """The repair issue of a local emergency stop input that cannot be read."""
    return f"local_stop_unavailable_{entry_id}_{stop.value}"


class EnforcementCoordinator(DataUpdateCoordinator[Decision]):
    """Runs the controller for one grid operator link and carries out its decisions."""

    config_entry: ConfigEntry[Any]

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any], link: DsoSource) -> None:
        """Prepare the enforcement of ``link``; ``async_start`` restores and starts it."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} enforcement")
        self.link = link
        self.clock: Callable[[], float] = time.time
        """UTC epoch seconds; the controller's ramps and timeouts run on it."""
        self.controller = Controller(ControlSetup(link.site))
        self.self_consumption = False
        self.peak_shaving = False
        self.peak_shaving_target_kw = DEFAULT_PEAK_SHAVING_TARGET_KW
        self.peak_shaving_follow_month = False
        self.follow_plan = False
        self.battery_plan: Callable[[float], float | None] | None = None
        """The planned battery power (kW, + discharge) at a UTC epoch moment, None where there
        is no plan: set by the planning, followed when ``follow_plan`` is on."""
        self.month_peak = MonthPeak(_local_month)
        """The month's highest quarter-hour import so far, from the grid power (kept in storage)."""
        self.actions = HashChain(ACTION_LOG_SIZE)
        """The recent actions in their JSON form (``ActionRecord.as_dict``), oldest first, in a
        hash chain; kept in storage across restarts: with the link's command audit, the site's
        audit trail."""
        self._action_log = BurstLog(_LOGGER)
        self.failures: dict[str, _Failure] = {}
        self._store = _held_store(hass, entry.entry_id)
        self._saved: dict[str, Any] | None = None
        self._action_store = _action_store(hass, entry.entry_id)
        self._actions_unsaved = False
        self._context = Context()
        self._in_flight: set[str] = set()
        self._step_when_idle = False
        self._stopped = False
        self._degraded: dict[Command, set[str]] = {}
        self._commands: dict[Command, AuditRecord] = {}
        self._grid: GridSample | None = None
        self._grid_source: object | None = None
        self._grid_unsubscribers: list[CALLBACK_TYPE] = []
        self._sources = site_registry(hass)
        self._local_inputs: dict[Constraint, str] = {}
        """The configured local emergency stop input of each stop."""
        self._local_stops: dict[Constraint, bool] = {}
        """Whether each configured local stop is on: as its input last reported (kept while
        the input is unavailable, and across restarts)."""
        self._local_unsubscribe: CALLBACK_TYPE | None = None
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._shown: tuple[object, ...] | None = None
        self._setup: ControlSetup | None = None
        """The site as configured; None when it must be taken again (``_control_setup``)."""
        self._setup_unsubscribers: list[CALLBACK_TYPE] = []
        self._write_listeners: list[Callable[[str], None]] = []

    # Life cycle ----------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Restore what the EMS held, enforce the restored DSO state at once, then keep at it."""
        stored = await self._store.async_load() or {}
        self.controller.ledger = EntityLedger.from_dict(stored.get("ledger", {}))
        self.self_consumption = bool(stored.get("self_consumption", False))
        self.peak_shaving = bool(stored.get("peak_shaving", False))
        self.peak_shaving_target_kw = float(
            stored.get("peak_shaving_target_kw", DEFAULT_PEAK_SHAVING_TARGET_KW)
        )
        self._local_stops = {
            stop: bool(stored.get("local_stops", {}).get(stop.value, False))
            for stop in LOCAL_STOP_INPUTS
        }
        self.peak_shaving_follow_month = bool(stored.get("peak_shaving_follow_month", False))
        self.follow_plan = bool(stored.get("follow_plan", False))
        self.month_peak = MonthPeak(
            _local_month, stored.get("month"), float(stored.get("month_peak_kw", 0.0))
        )
        self._saved = self._storage_data()
        _, actions, anchor = await self._action_store.async_load_trail()
        self.actions = HashChain(ACTION_LOG_SIZE, actions, anchor)
        self._action_store.async_report(self.config_entry.entry_id, self.actions.status)
        self._remember_commands()
        self._resolve_grid_source()
        self._resolve_local_stops()
        self._unsubscribers += [
            # One subscription: accepted commands and changes of the link, one step each.
            self.link.async_subscribe(self._on_dso_state),
            self._sources.async_listen(self._on_sources_changed),
            async_dispatcher_connect(self.hass, SIGNAL_RELAYS_RESET, self._on_relays_reset),
            async_track_time_interval(
                self.hass,
                self._on_tick,
                TICK,
                name=f"{DOMAIN} enforcement",
                cancel_on_shutdown=True,
            ),
        ]
        self.async_step()

    async def async_stop(self) -> None:
        """Stop stepping and save what the EMS holds (it stays held until the next start)."""
        self._stopped = True
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
        self._stop_grid_source()
        self._forget_setup()
        if self._local_unsubscribe is not None:
            self._local_unsubscribe()
            self._local_unsubscribe = None
        await self._store.async_save(self._storage_data())
        await self._action_store.async_save(self._action_data())

    def _storage_data(self) -> dict[str, Any]:
        return {
            "ledger": self.controller.ledger.as_dict(),
            "self_consumption": self.self_consumption,
            "peak_shaving": self.peak_shaving,
            "peak_shaving_target_kw": self.peak_shaving_target_kw,
            "local_stops": {stop.value: on for stop, on in self._local_stops.items()},
            "peak_shaving_follow_month": self.peak_shaving_follow_month,
            "follow_plan": self.follow_plan,
            "month": self.month_peak.month,
            "month_peak_kw": self.month_peak.peak_kw,
        }

    def _action_data(self) -> dict[str, Any]:
        self._actions_unsaved = False
        return self._action_store.trail_data(self.actions.as_list(), self.actions.anchor)

    def action_chain(self) -> dict[str, Any]:
        """The action log's chain for diagnostics: status, anchor and migrations."""
        return self._action_store.diagnostics(self.actions.status, self.actions.anchor)

    def _save_when_changed(self) -> None:
        """Save what the EMS holds and its settings, once they changed."""
        storage = self._storage_data()
        if storage != self._saved:
            self._saved = storage
            self._store.async_delay_save(self._storage_data, STORAGE_SAVE_DELAY_S)

    @callback
    def async_set_optimization(
        self,
        *,
        self_consumption: bool | None = None,
        peak_shaving: bool | None = None,
        peak_shaving_target_kw: float | None = None,
        peak_shaving_follow_month: bool | None = None,
        follow_plan: bool | None = None,
    ) -> None:
        """Switch the local optimization (the switch and number entities)."""
        if self_consumption is not None:
            self.self_consumption = self_consumption
        if peak_shaving is not None:
            self.peak_shaving = peak_shaving
        if peak_shaving_target_kw is not None:
            self.peak_shaving_target_kw = peak_shaving_target_kw
        if peak_shaving_follow_month is not None:
            self.peak_shaving_follow_month = peak_shaving_follow_month
        if follow_plan is not None:
            self.follow_plan = follow_plan
        self.async_step()

    # Inputs --------------------------------------------------------------------------------

    @callback
    def _on_tick(self, _now: datetime) -> None:
        """The loop's beat: about once a second."""
        self.async_step()

    @callback
    def _on_dso_state(self, state: DsoState, record: AuditRecord | None) -> None:
        """A command accepted, its unsaved state taken back, or the link changed: act now."""
        if record is not None and record.command is not None:
            if record.accepted:
                self._commands[record.command] = record
            else:
                # Its state could not be saved: what the command said before holds again.
                self._commands.pop(record.command, None)
                self._remember_commands(record.command)
        self.async_step()

    @callback
    def async_listen_commands(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after accepted grid operator commands (e.g. to replan).

        Once they are confirmed and announced: what follows them never delays a confirmation.
        """
        return self.link.async_listen_commands(listener)

    def _remember_commands(self, command: Command | None = None) -> None:
        """Take the last accepted record of each command (or of one) from the link's audit."""
        for record in self.link.audit:
            if record.accepted and record.command is not None and command in (None, record.command):
                self._commands[record.command] = record

    @callback
    def async_entry_changed(self) -> None:
        """The link's options or assets changed: take the grid power source and inputs named."""
        self._resolve_grid_source()
        self._resolve_local_stops()
        self._forget_setup()
        self.async_step()

    @callback
    def _on_sources_changed(self) -> None:
        """A meter or a relay module came or went."""
        self._resolve_grid_source()
        self._forget_setup()

    @callback
    def _resolve_local_stops(self) -> None:
        """Follow the configured local emergency stop inputs; an unconfigured stop is off."""
        options = self.config_entry.options.get(CONF_ENFORCEMENT, {})
        inputs = {stop: options[key] for stop, key in LOCAL_STOP_INPUTS.items() if options.get(key)}
        for stop in LOCAL_STOP_INPUTS:
            if stop not in inputs:
                ir.async_delete_issue(
                    self.hass, DOMAIN, _input_issue_id(self.config_entry.entry_id, stop)
                )
                self._set_local_stop(stop, False, self._local_inputs.get(stop))
        if inputs == self._local_inputs:
            return
        if self._local_unsubscribe is not None:
            self._local_unsubscribe()
            self._local_unsubscribe = None
        self._local_inputs = inputs
        if inputs:
            self._local_unsubscribe = async_track_state_change_event(
                self.hass, sorted(set(inputs.values())), self._on_local_input
            )
        for stop, entity_id in inputs.items():
            self._take_local_input(stop, self.hass.states.get(entity_id))

    @callback
    def _on_local_input(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        for stop, input_id in self._local_inputs.items():
            if input_id == entity_id:
                self._take_local_input(stop, event.data["new_state"])
        self.async_step()

    def _take_local_input(self, stop: Constraint, state: State | None) -> None:
        """Follow an input's on/off; unavailable or unknown keeps the last state (fail-safe).

        A stop in force stays in force while its input cannot be read, and a site running
        keeps running: the input's last word holds, and a repair issue says so.
        """
        entity_id = self._local_inputs[stop]
        issue_id = _input_issue_id(self.config_entry.entry_id, stop)
        if state is None or state.state not in (STATE_ON, STATE_OFF):
            shown = "missing" if state is None else state.state
            _LOGGER.warning(
                "Local emergency stop input %s is %s; keeping it %s",
                entity_id,
                shown,
                "on" if self._local_stops.get(stop) else "off",
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="local_stop_unavailable",
                translation_placeholders={"entity_id": entity_id, "state": shown},
            )
            return
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        self._set_local_stop(stop, state.state == STATE_ON, entity_id)

    def _set_local_stop(self, stop: Constraint, on: bool, entity_id: str | None) -> None:
        """Switch a local stop, logged in the action log as the input's own record."""
        if self._local_stops.get(stop, False) == on:
            return
        self._local_stops[stop] = on
        _LOGGER.warning(
            "Local emergency stop %s %s by %s", stop.value, "on" if on else "released", entity_id
        )
        self._log_action(
            ActionRecord(
                dt_util.utcnow(),
                entity_id or stop.value,
                on,
                not on,
                ConstraintCause(stop, Source.LOCAL_STOP),
                None,
                None,
                local_input=entity_id,
            )
        )

    @callback
    def _on_relays_reset(self, entry_id: str, error: str | None) -> None:
        """A relay module's watchdog had tripped and its outputs went to their safe state.

        Logged in the action log (as the write that cleared the alarm); the module's relays are
        written again at once where the enforcement holds them (the step after this poll's
        states), a failed write's pause included.
        """
        registry = er.async_get(self.hass)
        alarm_entity = registry.async_get_entity_id(
            "binary_sensor", DOMAIN, f"{entry_id}_watchdog_alarm"
        )
        self._log_action(
            ActionRecord(
                dt_util.utcnow(),
                alarm_entity or entry_id,
                False,
                False,
                None,
                None,
                error,
            )
        )
        for relay in self._relays():
            relay_entry = registry.async_get(relay.entity_id)
            failure = self.failures.get(relay.entity_id)
            if failure is not None and relay_entry and relay_entry.config_entry_id == entry_id:
                failure.retry_at = 0.0
        # After the poll that found the alarm has updated the relays' states.
        self.hass.loop.call_soon(self.async_step)

    @callback
    def _resolve_grid_source(self) -> None:
        """Listen to the configured grid power sensor's meter, the sensor itself, or a meter."""
        options = self.config_entry.options.get(CONF_ENFORCEMENT, {})
        sensor: str | None = options.get(CONF_GRID_POWER_SENSOR)
        sources = self._sources.grid_power_sources
        meter: GridPowerSource | None
        if sensor is None:
            meter = next(iter(sources.values()), None)
        else:
            # A sensor of a meter that pushes its readings: the meter itself, every reading.
            sensor_entry = er.async_get(self.hass).async_get(sensor)
            owner = None if sensor_entry is None else sensor_entry.config_entry_id
            meter = None if owner is None else sources.get(owner)
        source: object | None = meter if meter is not None else sensor
        if source == self._grid_source:
            return
        self._stop_grid_source()
        self._grid_source = source
        self._grid = None
        if meter is not None:
            self._grid_unsubscribers.append(meter.async_subscribe_grid_power(self._on_p1_reading))
            self._on_p1_reading(meter.grid_power)
        elif sensor is not None:
            # A report of an unchanged value counts too: a steady grid power is not a lost one.
            self._grid_unsubscribers += [
                async_track_state_change_event(self.hass, [sensor], self._on_grid_sensor),
                async_track_state_report_event(self.hass, [sensor], self._on_grid_sensor),
            ]
            self._take_grid_sensor(self.hass.states.get(sensor))
        _LOGGER.debug("Grid power from %s", source)

    def _stop_grid_source(self) -> None:
        for unsubscribe in self._grid_unsubscribers:
            unsubscribe()
        self._grid_unsubscribers.clear()

    @callback
    def _on_p1_reading(self, reading: GridPowerReading | None) -> None:
        if reading is None:
            self._grid = None
            return
        age = self.hass.loop.time() - reading.received_at
        self._grid = GridSample(reading.power / 1000, self.clock() - age)

    @callback
    def _on_grid_sensor(
        self, event: Event[EventStateChangedData] | Event[EventStateReportedData]
    ) -> None:
        self._take_grid_sensor(event.data["new_state"])

    def _take_grid_sensor(self, state: State | None) -> None:
        power = kilo_value(state)
        self._grid = None if power is None else GridSample(power, self.clock())

    def _control_setup(self) -> ControlSetup:
        """The site as configured, taken again only after it changed.

        That is a change of the link's options or assets, of the relay modules, of the
        settings, or of a setpoint entity's range or unit (a battery's range can follow its
        state of energy).
        """
        if self._setup is None:
            self._setup = self._read_setup()
            # Configured ones, not only those with a known unit: one may appear later.
            number_entities = [
                entity_id
                for subentry in self.config_entry.subentries.values()
                for key in (CONF_POWER_ENTITY, CONF_Q_ENTITY)
                if (entity_id := subentry.data.get(CONF_CONTROL, {}).get(key)) is not None
            ]
            self._setup_unsubscribers.append(
                async_track_state_change_event(
                    self.hass, number_entities, self._on_setpoint_entity_changed
                )
            )
        return self._setup

    @callback
    def _on_setpoint_entity_changed(self, event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if _range_of(old) != _range_of(new):
            self._forget_setup()

    def _forget_setup(self) -> None:
        self._setup = None
        for unsubscribe in self._setup_unsubscribers:
            unsubscribe()
        self._setup_unsubscribers.clear()

    def _read_setup(self) -> ControlSetup:
        site = self.link.site
        installed = {asset.asset_id: asset for asset in site.assets}
        assets = tuple(
            asset_control(
                self.hass,
                subentry,
                installed[subentry.subentry_id].category,
                installed[subentry.subentry_id].installed_power_kw,
            )
            for subentry in self.config_entry.subentries.values()
            if subentry.subentry_id in installed
        )
        return ControlSetup(
            site, assets, self._relays(), settings_from_options(self.config_entry.options)
        )

    def _step_setup(self) -> ControlSetup:
        """The control setup with this moment's optimization: the peak target, the plan.

        Those change with the month's peak and the plan's quarter hours; the setup kept is
        renewed only when one of them did.
        """
        setup = self._control_setup()
        settings = setup.settings
        optimization = (
            self.self_consumption,
            self.effective_peak_target_kw() if self.peak_shaving else None,
            self.battery_plan(self.clock())
            if self.follow_plan and self.battery_plan is not None
            else None,
        )
        if optimization != (
            settings.self_consumption,
            settings.peak_shaving_target_kw,
            settings.battery_plan_kw,
        ):
            self_consumption, peak_shaving_target_kw, battery_plan_kw = optimization
            setup = self._setup = replace(
                setup,
                settings=replace(
                    settings,
                    self_consumption=self_consumption,
                    peak_shaving_target_kw=peak_shaving_target_kw,
                    battery_plan_kw=battery_plan_kw,
                ),
            )
        return setup

    def effective_peak_target_kw(self) -> float:
        """The fixed target, or the month's peak so far (at least the tariff's free 2.5 kW)."""
        if self.peak_shaving_follow_month:
            return month_peak_target_kw(self.month_peak.peak_kw_at(self.clock()))
        return self.peak_shaving_target_kw

    def _relays(self) -> tuple[Relay, ...]:
        """The emergency-stop outputs of the relay modules, by the role the installer gave them."""
        return self._sources.relays()

    def _measurements(self, setup: ControlSetup) -> Measurements:
        states = self.hass.states
        powers: dict[str, float] = {}
        reactive: dict[str, float] = {}
        for asset in setup.site.assets:
            for sensor, measured in ((asset.p_sensor, powers), (asset.q_sensor, reactive)):
                if sensor is not None and (power := kilo_value(states.get(sensor))) is not None:
                    measured[asset.asset_id] = -power if asset.invert_sign else power
        soe: dict[str, float] = {}
        for subentry in self.config_entry.subentries.values():
            sensor = subentry.data.get(CONF_CONTROL, {}).get(CONF_SOE_SENSOR)
            if sensor is not None and isinstance(value := entity_value(states.get(sensor)), float):
                soe[subentry.subentry_id] = value
        entities = [relay.entity_id for relay in setup.relays]
        for control in setup.assets:
            entities += [
                entity_id
                for entity_id in (
                    control.power and control.power.entity_id,
                    control.reactive and control.reactive.entity_id,
                    control.switch_entity_id,
                    control.command_source and control.command_source.entity_id,
                )
                if entity_id
            ]
        entities += self.controller.ledger.entities()
        # An entity with a write on its way has no value to decide on yet: the ledger waits.
        values = {
            entity_id: None if entity_id in self._in_flight else entity_value(states.get(entity_id))
            for entity_id in entities
        }
        return Measurements(
            grid=self._grid,
            asset_power_kw=powers,
            asset_reactive_kvar=reactive,
            state_of_energy_pct=soe,
            values=values,
        )

    @property
    def grid_power_kw(self) -> float | None:
        """The latest net grid power (kW, import positive), None while it is lost."""
        return None if self._grid is None else self._grid.power_kw

    @property
    def link_up(self) -> bool:
        """Whether the RTU link is up: connected, and neither stopped nor silent too long."""
        return self.link.link_up

    # Steps ---------------------------------------------------------------------------------

    @callback
    def async_step(self) -> None:
        """Run one controller step and start its writes."""
        if self._stopped:
            return  # a step scheduled before the entry unloaded
        # What this step could not decide (entities with writes on their way) is decided again
        # as soon as those writes end, not a tick later.
        self._step_when_idle |= bool(self._in_flight)
        if self._grid is not None:
            self.month_peak.add(self._grid.power_kw, self._grid.at)
        setup = self._step_setup()
        self.controller.setup = setup
        decision = self.controller.step(
            ControlInput(
                self.link.state,
                self._measurements(setup),
                self.link_up,
                local_stop_production=self._local_stops.get(
                    Constraint.EMERGENCY_STOP_PRODUCTION, False
                ),
                local_stop_consumption=self._local_stops.get(
                    Constraint.EMERGENCY_STOP_CONSUMPTION, False
                ),
            ),
            self.clock(),
        )
        for entity_id in decision.abandoned:
            _LOGGER.info(
                "%s was changed by someone else while the EMS held it; left as it is", entity_id
            )
        self._execute(decision.actions)
        self._save_when_changed()
        shown = _shown(decision)
        if shown != self._shown:
            self._shown = shown
            self.async_set_updated_data(decision)
        else:
            self.data = decision

    def _execute(self, actions: tuple[Action, ...]) -> None:
        """Start each group's writes (in order within a group), unless still busy or failing."""
        groups: dict[str, list[Action]] = {}
        blocked: set[str] = set()
        now = self.clock()
        for action in actions:
            failure = self.failures.get(action.entity_id)
            busy = action.entity_id in self._in_flight
            if action.group in blocked or busy or (failure is not None and now < failure.retry_at):
                blocked.add(action.group)
                groups.pop(action.group, None)
                continue
            groups.setdefault(action.group, []).append(action)
        # All in flight before the first starts: a task may run to its end right away.
        for group_actions in groups.values():
            self._in_flight.update(action.entity_id for action in group_actions)
        for group, group_actions in groups.items():
            self.config_entry.async_create_background_task(
                self.hass, self._async_run(group_actions), f"{DOMAIN} enforcement {group}"
            )

    async def _async_run(self, actions: list[Action]) -> None:
        """Write a group's actions in order; a failed one holds back the rest of the group."""
        try:
            for action in actions:
                if not await self._async_write(action):
                    break
        finally:
            self._in_flight.difference_update(action.entity_id for action in actions)
            if self._step_when_idle:
                self._step_when_idle = False
                self.hass.loop.call_soon(self.async_step)

    @callback
    def async_listen_writes(self, listener: Callable[[str], None]) -> CALLBACK_TYPE:
        """Call ``listener(entity_id)`` as each write starts; returns the unsubscribe callback.

        The commissioning run's actuation time: the first write after a command.
        """
        self._write_listeners.append(listener)
        return lambda: self._write_listeners.remove(listener)

    @property
    def settled(self) -> bool:
        """Whether the enforcement is done: no write on its way, no relaxed limit ramping back."""
        return not self._in_flight and not any(
            outcome.releasing for outcome in self.data.assets.values()
        )

    async def _async_write(self, action: Action) -> bool:
        """Write one value and record the outcome.

        One layer retries: our own Modbus entities are written once, as their device retries
        transport errors and reads the value back before the action returns; the entities of
        other integrations are read back here, and written again when they do not show it.
        """
        for listener in list(self._write_listeners):
            listener(action.entity_id)
        own = self._own_entity(action.entity_id)
        error = ""
        for attempt in range(1 if own else WRITE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(RETRY_DELAYS_S[attempt - 1])
            try:
                await self._async_call(action)
            except ServiceNotFound as err:
                # Said the same on every HA version (2026.x translates its own message); an
                # action that does not exist will not appear on a retry.
                error = f"no action {err.domain}.{err.service}"
                break
            except (HomeAssistantError, vol.Invalid, ValueError) as err:
                error = str(err) or type(err).__name__
                continue
            if own or await self._async_read_back(action):
                self._succeeded(action)
                return True
            shown = self.hass.states.get(action.entity_id)
            error = f"it still shows {'nothing' if shown is None else shown.state}"
        self._failed(action, error)
        return False

    def _own_entity(self, entity_id: str) -> bool:
        """Whether Grid EMS itself provides the entity (a Modbus device's output or setpoint)."""
        registered = er.async_get(self.hass).async_get(entity_id)
        return registered is not None and registered.platform == DOMAIN

    async def _async_call(self, action: Action) -> None:
        domain = action.entity_id.partition(".")[0]
        data: dict[str, Any] = {ATTR_ENTITY_ID: action.entity_id}
        match action.value:
            case bool() as on:
                service = SERVICE_TURN_ON if on else SERVICE_TURN_OFF
            case str() as option:
                service, data["option"] = "select_option", option
            case value:
                service, data["value"] = "set_value", value
        await self.hass.services.async_call(
            domain, service, data, blocking=True, context=self._context
        )

    async def _async_read_back(self, action: Action) -> bool:
        """Whether the entity shows the written value, now or within the verify timeout."""
        if self._shows(action, self.hass.states.get(action.entity_id)):
            return True
        shown = self.hass.loop.create_future()

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            if not shown.done() and self._shows(action, event.data["new_state"]):
                shown.set_result(None)

        unsubscribe = async_track_state_change_event(self.hass, [action.entity_id], changed)
        try:
            async with asyncio.timeout(VERIFY_TIMEOUT_S):
                await shown
        except TimeoutError:
            return False
        finally:
            unsubscribe()
        return True

    @staticmethod
    def _shows(action: Action, state: State | None) -> bool:
        value = entity_value(state)
        if value is None:
            return False
        if isinstance(action.value, bool | str) or isinstance(value, bool | str):
            return value == action.value
        return abs(value - action.value) <= action.tolerance + 1e-9

    def _record(self, action: Action, error: str | None) -> None:
        command = None
        local_input = None
        cause = action.cause
        if cause is not None and cause.source is Source.LOCAL_STOP:
            local_input = self._local_inputs.get(cause.constraint)
        elif cause is not None and (commands := cause.constraint.commands):
            known = [self._commands[command] for command in commands if command in self._commands]
            command = max(known, key=lambda record: record.time, default=None)
        self._log_action(
            ActionRecord(
                dt_util.utcnow(),
                action.entity_id,
                action.value,
                action.restore,
                action.cause,
                command,
                error,
                local_input,
            )
        )

    def _log_action(self, record: ActionRecord) -> None:
        """Keep, save, log and fire an action."""
        data = self.actions.append(record.as_dict())
        error = record.error
        self._action_store.async_report(self.config_entry.entry_id, self.actions.status)
        if not self._actions_unsaved:
            # Not pushed back by each new action: written within the delay of the first.
            self._actions_unsaved = True
            self._action_store.async_delay_save(self._action_data, ACTION_LOG_SAVE_DELAY_S)
        # A burst of writes to one entity (a setpoint followed each second) logs its first line.
        self._action_log.log(
            logging.INFO if error is None else logging.WARNING,
            (record.entity_id, error is None),
            f"{record.entity_id}: {action_sentence(Texts(self.hass, LOG_LANGUAGE), data)}",
        )
        self.hass.bus.async_fire(
            EVENT_ENFORCEMENT_ACTION, {"entry_id": self.config_entry.entry_id, **data}
        )

    def _succeeded(self, action: Action) -> None:
        self._record(action, None)
        if self.failures.pop(action.entity_id, None) is not None:
            ir.async_delete_issue(self.hass, DOMAIN, _issue_id(action.entity_id))
            self.async_update_listeners()
        for command, entities in list(self._degraded.items()):
            entities.discard(action.entity_id)
            if not entities:
                del self._degraded[command]
                self.link.async_set_feedback_quality(command, Quality.GOOD)

    def _failed(self, action: Action, error: str) -> None:
        self._record(action, error)
        self.failures[action.entity_id] = _Failure(
            action, error, self.clock() + FAILED_ENTITY_BACKOFF_S
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            _issue_id(action.entity_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="enforcement_write_failed",
            translation_placeholders={
                "entity_id": action.entity_id,
                "value": str(action.value),
                "error": error,
            },
        )
        if action.cause is not None and action.cause.source is not Source.LOCAL_STOP:
            # The grid operator sees that the command is not carried out as it should be (a
            # local stop is none of theirs: their feedback mirrors their commands only).
            for command in action.cause.constraint.commands:
                self._degraded.setdefault(command, set()).add(action.entity_id)
                self.link.async_set_feedback_quality(command, Quality.INVALID)
        self.async_update_listeners()

    # Diagnostics ---------------------------------------------------------------------------

    def diagnostics(self) -> dict[str, Any]:
        """The controller's view and the recent actions."""
        decision = self.data
        return {
            "state": decision.state,
            "active": _cause_dict(decision.active),
            "grid_power_kw": self.grid_power_kw,
            "link_up": self.link_up,
            "held": self.controller.ledger.as_dict(),
            "failures": {entity_id: failure.error for entity_id, failure in self.failures.items()},
            "degraded_feedback": sorted(command.value for command in self._degraded),
            "self_consumption": self.self_consumption,
            "peak_shaving": self.peak_shaving,
            "peak_shaving_target_kw": self.peak_shaving_target_kw,
            "local_stops": {
                stop.value: {"input": self._local_inputs.get(stop), "on": on}
                for stop, on in self._local_stops.items()
            },
            "peak_shaving_follow_month": self.peak_shaving_follow_month,
            "follow_plan": self.follow_plan,
            "month": self.month_peak.month,
            "month_peak_kw": self.month_peak.peak_kw,
            "actions": list(self.actions),
        }


def _range_of(state: State | None) -> tuple[object, ...] | None:
    """What of a setpoint entity's state the control setup is made of (not its value)."""
    if state is None:
        return None
    attributes = state.attributes
    return tuple(
        attributes.get(name) for name in (ATTR_MIN, ATTR_MAX, ATTR_STEP, ATTR_UNIT_OF_MEASUREMENT)
    )


def _local_month(at: float) -> str:
    """The month (local time, as the capacity tariff counts it) of a UTC epoch moment."""
    return dt_util.as_local(dt_util.utc_from_timestamp(at)).strftime("%Y-%m")


def _issue_id(entity_id: str) -> str:
    return f"enforcement_write_failed_{entity_id}"


def _cause_dict(cause: ConstraintCause | None) -> dict[str, str] | None:
    if cause is None:
        return None
    return {"constraint": cause.constraint.value, "source": cause.source.value}


def _shown(decision: Decision) -> tuple[object, ...]:
    """What the entities show of a decision, rounded as they show it (no needless updates)."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return (
        decision.state,
        decision.active,
        rounded(decision.headroom_injection_kw),
        rounded(decision.headroom_consumption_kw),
        tuple(
            (asset_id, rounded(outcome.applied_kw), outcome.cause, outcome.releasing)
            for asset_id, outcome in decision.assets.items()
        ),
    )


async def async_setup_enforcement(
    hass: HomeAssistant, entry: ConfigEntry[Any], link: DsoSource
) -> EnforcementCoordinator:
    """Start the enforcement of a grid operator link entry (stopped when the entry unloads)."""
    enforcement = EnforcementCoordinator(hass, entry, link)
    entry.async_on_unload(enforcement.async_stop)
    await enforcement.async_start()
    return enforcement
