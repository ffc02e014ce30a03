"""The enforcement coordinator: the pure controller (``control/``) run in Home Assistant."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
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

from ..const import DOMAIN
from ..control.controller import Controller
from ..control.demand import MonthPeak
from ..control.ledger import EntityLedger, EntityValue
from ..control.model import (
    Action,
    ConstraintCause,
    ControlInput,
    ControlSettings,
    ControlSetup,
    Decision,
    GridSample,
    Measurements,
    Relay,
)
from ..iec104 import Quality
from ..netflex import AuditRecord, Command, DsoState
from ..planner import month_peak_target_kw
from ..states import kilo_value
from .config import settings_from_options
from .const import (
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_GRID_POWER_SENSOR,
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

    def as_dict(self) -> dict[str, Any]:
        """JSON form, for the bus, the logbook and diagnostics."""
        command = self.command
        return {
            "time": self.time.isoformat(),
            "entity_id": self.entity_id,
            "value": self.value,
            "restore": self.restore,
            "constraint": None if self.cause is None else self.cause.constraint.value,
            "source": None if self.cause is None else self.cause.source.value,
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


def _action_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, list[dict[str, Any]]]]:
    """Where a link's enforcement keeps its recent actions."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.actions")


async def async_remove_enforcement_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what the enforcement of a removed link kept."""
    await _held_store(hass, entry_id).async_remove()
    await _action_store(hass, entry_id).async_remove()


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
        self._command_listeners: list[Callable[[], None]] = []
        self.month_peak = MonthPeak(_local_month)
        """The month's highest quarter-hour import so far, from the grid power (kept in storage)."""
        self.actions: deque[dict[str, Any]] = deque(maxlen=ACTION_LOG_SIZE)
        """The recent actions in their JSON form (``ActionRecord.as_dict``), oldest first; kept
        in storage across restarts: with the link's command audit, the site's audit trail."""
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
        self._unsubscribers: list[CALLBACK_TYPE] = []
        self._shown: tuple[object, ...] | None = None

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
        self.peak_shaving_follow_month = bool(stored.get("peak_shaving_follow_month", False))
        self.follow_plan = bool(stored.get("follow_plan", False))
        self.month_peak = MonthPeak(
            _local_month, stored.get("month"), float(stored.get("month_peak_kw", 0.0))
        )
        self._saved = self._storage_data()
        self.actions.extend((await self._action_store.async_load() or {}).get("actions", []))
        self._remember_commands()
        self._resolve_grid_source()
        self._unsubscribers += [
            # One subscription: accepted commands and changes of the link, one step each.
            self.link.async_subscribe(self._on_dso_state),
            self._sources.async_listen(self._resolve_grid_source),
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
        await self._store.async_save(self._storage_data())
        await self._action_store.async_save(self._action_data())

    def _storage_data(self) -> dict[str, Any]:
        return {
            "ledger": self.controller.ledger.as_dict(),
            "self_consumption": self.self_consumption,
            "peak_shaving": self.peak_shaving,
            "peak_shaving_target_kw": self.peak_shaving_target_kw,
            "peak_shaving_follow_month": self.peak_shaving_follow_month,
            "follow_plan": self.follow_plan,
            "month": self.month_peak.month,
            "month_peak_kw": self.month_peak.peak_kw,
        }

    def _action_data(self) -> dict[str, list[dict[str, Any]]]:
        self._actions_unsaved = False
        return {"actions": list(self.actions)}

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
                for listener in list(self._command_listeners):
                    listener()
            else:
                # Its state could not be saved: what the command said before holds again.
                self._commands.pop(record.command, None)
                self._remember_commands(record.command)
        self.async_step()

    @callback
    def async_listen_commands(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` after each accepted grid operator command (e.g. to replan)."""
        self._command_listeners.append(listener)
        return lambda: self._command_listeners.remove(listener)

    def _remember_commands(self, command: Command | None = None) -> None:
        """Take the last accepted record of each command (or of one) from the link's audit."""
        for record in self.link.audit:
            if record.accepted and record.command is not None and command in (None, record.command):
                self._commands[record.command] = record

    @callback
    def async_entry_changed(self) -> None:
        """The link's options or assets changed: take the grid power source they name."""
        self._resolve_grid_source()
        self.async_step()

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

    def _setup(self) -> ControlSetup:
        """The site as it is configured now (entity ranges can change, e.g. a battery's)."""
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
        settings = settings_from_options(self.config_entry.options)
        settings = ControlSettings(
            ramp_pct_per_s=settings.ramp_pct_per_s,
            margin_kw=settings.margin_kw,
            link_loss=settings.link_loss,
            self_consumption=self.self_consumption,
            peak_shaving_target_kw=self.effective_peak_target_kw() if self.peak_shaving else None,
            battery_plan_kw=(
                self.battery_plan(self.clock())
                if self.follow_plan and self.battery_plan is not None
                else None
            ),
        )
        return ControlSetup(site, assets, self._relays(), settings)

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
        setup = self._setup()
        self.controller.setup = setup
        decision = self.controller.step(
            ControlInput(self.link.state, self._measurements(setup), self.link_up), self.clock()
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

    async def _async_write(self, action: Action) -> bool:
        """Write one value and read it back, with retries; record the outcome."""
        error = ""
        for attempt in range(WRITE_ATTEMPTS):
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
            if await self._async_read_back(action):
                self._succeeded(action)
                return True
            shown = self.hass.states.get(action.entity_id)
            error = f"it still shows {'nothing' if shown is None else shown.state}"
        self._failed(action, error)
        return False

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
        if action.cause is not None and (commands := action.cause.constraint.commands):
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
            )
        )

    def _log_action(self, record: ActionRecord) -> None:
        """Keep, save, log and fire an action."""
        data = record.as_dict()
        error = record.error
        self.actions.append(data)
        if not self._actions_unsaved:
            # Not pushed back by each new action: written within the delay of the first.
            self._actions_unsaved = True
            self._action_store.async_delay_save(self._action_data, ACTION_LOG_SAVE_DELAY_S)
        if error is None:
            _LOGGER.info("Enforcement: %s", data)
        else:
            _LOGGER.warning("Enforcement write failed: %s", data)
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
        if action.cause is not None:
            # The grid operator sees that the command is not carried out as it should be.
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
            "grid_power_kw": None if self._grid is None else self._grid.power_kw,
            "link_up": self.link_up,
            "held": self.controller.ledger.as_dict(),
            "failures": {entity_id: failure.error for entity_id, failure in self.failures.items()},
            "degraded_feedback": sorted(command.value for command in self._degraded),
            "self_consumption": self.self_consumption,
            "peak_shaving": self.peak_shaving,
            "peak_shaving_target_kw": self.peak_shaving_target_kw,
            "peak_shaving_follow_month": self.peak_shaving_follow_month,
            "follow_plan": self.follow_plan,
            "month": self.month_peak.month,
            "month_peak_kw": self.month_peak.peak_kw,
            "actions": list(self.actions),
        }


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
