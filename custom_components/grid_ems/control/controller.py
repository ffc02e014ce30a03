"""The enforcement controller: DSO state + measurements + asset registry -> entity writes.

Pure and deterministic: every step gets the time (UTC epoch seconds) from its caller, so ramps
and timeouts are testable without clocks. Each asset carries two layers of limits:

- caps from the grid operator's percentages and emergency stops (open loop): a stricter cap
  applies at once, a relaxed one ramps back at ``ramp_pct_per_s``;
- closed-loop restrictions that keep the grid power inside the connection-point limits (and the
  peak-shaving target): the batteries move first, then production is curtailed (export side),
  or loads are throttled and, for the grid operator's limits only, switched off (import side).
  They are released in the reverse order, on the same ramp.

The strictest layer wins. The resulting desires go through the :class:`EntityLedger`, which
turns them into writes and restores exactly what the EMS changed once it lets go.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from ..netflex.assets import SiteParameters
from ..netflex.state import DsoState, QMode
from .demand import QuarterHourDemand
from .ledger import Desire, EntityLedger, Strictness
from .model import (
    Action,
    AssetControl,
    AssetOutcome,
    AssetRole,
    Constraint,
    ConstraintCause,
    ControlInput,
    ControllerState,
    ControlSetup,
    Decision,
    Measurements,
    RelayRole,
    Source,
)

_MAX_STEP_S: Final = 5.0
"""A longer gap between steps (a stalled event loop, a clock jump) ramps no faster than this."""
_EPSILON: Final = 1e-6
_PRIORITY: Final = {constraint: rank for rank, constraint in enumerate(Constraint)}

type _Limit = tuple[float, ConstraintCause | None]


def distribute(total: float, weights: Sequence[float]) -> list[float]:
    """Split ``total`` in proportion to ``weights`` (nothing when they sum to zero)."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0.0] * len(weights)
    return [total * weight / weight_sum for weight in weights]


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _move(value: float, toward: float, step: float) -> float:
    """Move ``value`` toward ``toward`` by at most ``step``."""
    if value < toward:
        return min(toward, value + step)
    return max(toward, value - step)


def _tighter(current: _Limit, candidate: _Limit) -> _Limit:
    return candidate if candidate[0] < current[0] - _EPSILON else current


def _pct(value: float) -> float:
    return _clamp(value, 0.0, 100.0) / 100


@dataclass(frozen=True, slots=True)
class _Direction:
    """What the grid operator limits in one direction of the assets' power."""

    applies_to: Callable[[AssetControl], bool]
    asset_pct: Callable[[DsoState], float]
    """MAXSETAP or MINSETAP: the cap in % of each asset's installed power."""
    asset_limit: Constraint
    point_pct: Callable[[DsoState], float]
    """The connection-point limit in % of its capacity (MINSETP may be sent negative)."""
    capacity_kw: Callable[[SiteParameters], float]
    point_limit: Constraint
    stopped: Callable[[DsoState], bool]
    stop: Constraint


_PRODUCTION: Final = _Direction(
    applies_to=lambda asset: asset.category.produces,
    asset_pct=lambda dso: dso.max_set_ap,
    asset_limit=Constraint.MAX_ASSET_PRODUCTION,
    point_pct=lambda dso: abs(dso.min_set_p),
    capacity_kw=lambda site: site.export_capacity_kw,
    point_limit=Constraint.MAX_INJECTION,
    stopped=lambda dso: dso.stop_production,
    stop=Constraint.EMERGENCY_STOP_PRODUCTION,
)
_CONSUMPTION: Final = _Direction(
    applies_to=lambda asset: asset.category.consumes,
    asset_pct=lambda dso: dso.min_set_ap,
    asset_limit=Constraint.MAX_ASSET_CONSUMPTION,
    point_pct=lambda dso: max(dso.max_set_p, 0.0),
    capacity_kw=lambda site: site.import_capacity_kw,
    point_limit=Constraint.MAX_CONSUMPTION,
    stopped=lambda dso: dso.stop_consumption,
    stop=Constraint.EMERGENCY_STOP_CONSUMPTION,
)


class _Mode(Enum):
    """What this step can do with the grid measurement."""

    LOOP = auto()
    """A sample taken after the assets responded to the last change: correct."""
    WAIT = auto()
    """The measurement is fresh, but the assets are still responding: hold."""
    LOST = auto()
    """No fresh measurement: open-loop caps, closed-loop restrictions ramp away."""


@dataclass(slots=True)
class _Cap:
    """A cap on one direction of an asset: stricter values at once, relaxed ones ramped."""

    kw: float
    cause: ConstraintCause | None = None
    releasing: bool = False

    def update(self, target: _Limit, step_kw: float) -> None:
        target_kw, target_cause = target
        if target_kw <= self.kw + _EPSILON:
            self.kw, self.cause, self.releasing = target_kw, target_cause, False
            return
        self.kw = min(target_kw, self.kw + step_kw)
        self.releasing = self.kw < target_kw - _EPSILON
        if not self.releasing:
            self.cause = target_cause


@dataclass(slots=True)
class _AssetState:
    """The controller's memory of one asset."""

    production: _Cap
    consumption: _Cap
    loop_cap_kw: float | None = None
    """Closed-loop cap: production (production assets) or consumption (consumption assets)."""
    loop_cause: ConstraintCause | None = None
    off: bool = False
    """Switched off by the closed loop."""
    setpoint_kw: float | None = None
    """Storage: the setpoint while the EMS steers the battery."""
    setpoint_cause: ConstraintCause | None = None

    @property
    def restricted(self) -> bool:
        return self.loop_cap_kw is not None or self.off


@dataclass(frozen=True, slots=True)
class _Targets:
    """The grid power the closed loop aims between, and why each bound is there."""

    low_kw: float
    high_kw: float
    high_dso_kw: float
    """The import bound of the grid operator alone (without peak shaving)."""
    export_cause: ConstraintCause
    import_cause: ConstraintCause
    dso_import_cause: ConstraintCause


def _stops(dso: DsoState, control_input: ControlInput) -> dict[Constraint, ConstraintCause]:
    """The emergency stops in force, production first: the grid operator's, else a local one."""
    stops: dict[Constraint, ConstraintCause] = {}
    for direction, local in (
        (_PRODUCTION, control_input.local_stop_production),
        (_CONSUMPTION, control_input.local_stop_consumption),
    ):
        if direction.stopped(dso):
            stops[direction.stop] = ConstraintCause(direction.stop)
        elif local:
            stops[direction.stop] = ConstraintCause(direction.stop, Source.LOCAL_STOP)
    return stops


class Controller:
    """Turns the DSO state and the measurements into entity writes, one step at a time."""

    __slots__ = (
        "_demand",
        "_last_acted_at",
        "_last_change_at",
        "_last_step_at",
        "_link_lost_at",
        "_q_changed_at",
        "_q_setpoint_kvar",
        "_states",
        "_unmet_kw",
        "ledger",
        "setup",
    )

    def __init__(
        self, setup: ControlSetup, ledger: EntityLedger[ConstraintCause] | None = None
    ) -> None:
        """Control the site ``setup``; ``ledger`` carries what the EMS held before a restart."""
        self.setup = setup
        self.ledger: EntityLedger[ConstraintCause] = (
            ledger if ledger is not None else EntityLedger()
        )
        self._states: dict[str, _AssetState] = {}
        self._demand = QuarterHourDemand()
        self._last_step_at: float | None = None
        self._last_acted_at: float | None = None
        self._last_change_at = -math.inf
        self._link_lost_at: float | None = None
        self._q_setpoint_kvar: float | None = None
        """Remote Q mode: the total the Q setpoints are given."""
        self._q_changed_at = -math.inf
        self._unmet_kw = 0.0

    def step(self, control_input: ControlInput, now: float) -> Decision:
        """Decide what to write now."""
        settings = self.setup.settings
        site = self.setup.site
        elapsed = 0.0 if self._last_step_at is None else now - self._last_step_at
        elapsed = _clamp(elapsed, 0.0, _MAX_STEP_S)
        self._last_step_at = now
        dso, source = self._effective_dso(control_input, now)
        measurements = control_input.measurements
        grid = measurements.grid
        if grid is not None and now - grid.at > settings.measurement_timeout_s:
            grid = None
        injection_kw = abs(dso.min_set_p) / 100 * site.export_capacity_kw
        consumption_kw = max(dso.max_set_p, 0.0) / 100 * site.import_capacity_kw
        stops = _stops(dso, control_input)
        self._sync_states()
        self._update_caps(dso, source, stops, open_loop=grid is None, elapsed=elapsed)
        if grid is None:
            mode = _Mode.LOST
        else:
            self._demand.add(grid.power_kw, grid.at)
            mode = (
                _Mode.LOOP if grid.at >= self._last_change_at + settings.response_s else _Mode.WAIT
            )
        targets = self._targets(injection_kw, consumption_kw, source, now)
        grid_kw = grid.power_kw if grid is not None else 0.0
        if mode is not _Mode.WAIT:
            # Steps that waited for the assets to respond do not slow the ramps down.
            if self._last_acted_at is not None:
                elapsed = _clamp(now - self._last_acted_at, 0.0, _MAX_STEP_S)
            self._last_acted_at = now
        moved_kw, changed = self._steer_storage(mode, grid_kw, targets, measurements, elapsed)
        match mode:
            case _Mode.LOOP:
                predicted = grid_kw - moved_kw
                raised, changed_production = self._steer_production(
                    predicted, targets, measurements, elapsed
                )
                predicted += raised
                lowered, changed_consumption = self._steer_consumption(
                    predicted, targets, measurements, elapsed
                )
                predicted -= lowered
                changed = changed or changed_production or changed_consumption
                self._unmet_kw = max(-injection_kw - predicted, predicted - consumption_kw, 0.0)
            case _Mode.LOST:
                self._relax(AssetRole.PRODUCTION, math.inf, elapsed)
                self._relax(AssetRole.CONSUMPTION, math.inf, elapsed)
                self._unmet_kw = 0.0
            case _Mode.WAIT:
                pass
        if changed:
            self._last_change_at = now
        self._steer_reactive(dso, measurements, now)
        return self._decide(
            dso=dso,
            stops=stops,
            measurements=measurements,
            mode=mode,
            injection_kw=injection_kw,
            consumption_kw=consumption_kw,
            grid_kw=grid.power_kw if grid is not None else None,
            source=source,
        )

    # --- limits ---

    def _effective_dso(self, control_input: ControlInput, now: float) -> tuple[DsoState, Source]:
        """The DSO state in force: the last accepted one, or the fallback after a long link loss."""
        if control_input.link_up:
            self._link_lost_at = None
        elif self._link_lost_at is None:
            self._link_lost_at = now
        policy = self.setup.settings.link_loss
        if (
            self._link_lost_at is None
            or policy.timeout_s is None
            or now - self._link_lost_at < policy.timeout_s
        ):
            return control_input.dso, Source.DSO
        fallback = dataclasses.replace(
            control_input.dso,
            min_set_p=policy.max_injection_pct,
            max_set_p=policy.max_consumption_pct,
            max_set_ap=policy.max_asset_production_pct,
            min_set_ap=policy.max_asset_consumption_pct,
        )
        return fallback, Source.LINK_LOST

    def _sync_states(self) -> None:
        """Follow the asset registry: new assets start free, removed ones are forgotten."""
        assets = {asset.asset_id: asset for asset in self.setup.assets}
        for asset_id in [asset_id for asset_id in self._states if asset_id not in assets]:
            del self._states[asset_id]
        for asset_id, asset in assets.items():
            if asset_id not in self._states:
                self._states[asset_id] = _AssetState(
                    _Cap(asset.installed_kw), _Cap(asset.installed_kw)
                )

    def _update_caps(
        self,
        dso: DsoState,
        source: Source,
        stops: Mapping[Constraint, ConstraintCause],
        *,
        open_loop: bool,
        elapsed: float,
    ) -> None:
        """Move every asset's caps toward the grid operator's percentages and the stops."""
        assets = [asset for asset in self.setup.assets if asset.controllable]
        shares = {
            direction: self._open_loop_shares(direction, dso, assets) if open_loop else {}
            for direction in (_PRODUCTION, _CONSUMPTION)
        }
        for asset in self.setup.assets:
            state = self._states[asset.asset_id]
            step_kw = self.setup.settings.ramp_pct_per_s / 100 * asset.installed_kw * elapsed
            for direction, cap in (
                (_PRODUCTION, state.production),
                (_CONSUMPTION, state.consumption),
            ):
                share = shares[direction].get(asset.asset_id)
                stop = stops.get(direction.stop)
                cap.update(
                    self._dso_cap(direction, asset, dso, source, share_kw=share, stop=stop),
                    step_kw,
                )

    def _open_loop_shares(
        self, direction: _Direction, dso: DsoState, assets: list[AssetControl]
    ) -> dict[str, float]:
        """The connection-point limit shared over the assets, for when the grid power is lost.

        As if the site had no other load (or production): never more than the limit gets through.
        """
        percent = direction.point_pct(dso)
        if percent >= 100:
            return {}
        limited = [asset for asset in assets if direction.applies_to(asset)]
        total_kw = percent / 100 * direction.capacity_kw(self.setup.site)
        shares = distribute(total_kw, [asset.installed_kw for asset in limited])
        return {asset.asset_id: share for asset, share in zip(limited, shares, strict=True)}

    @staticmethod
    def _dso_cap(
        direction: _Direction,
        asset: AssetControl,
        dso: DsoState,
        source: Source,
        *,
        share_kw: float | None,
        stop: ConstraintCause | None,
    ) -> _Limit:
        """The grid operator's cap on one direction of an asset (or its stop), and its cause."""
        installed = asset.installed_kw
        cap: _Limit = (installed, None)
        if not direction.applies_to(asset):
            return cap
        cap = _tighter(
            cap,
            (
                installed * _pct(direction.asset_pct(dso)),
                ConstraintCause(direction.asset_limit, source),
            ),
        )
        if share_kw is not None:
            cap = _tighter(
                cap, (share_kw, ConstraintCause(direction.point_limit, Source.MEASUREMENT_LOST))
            )
        if stop is not None:
            cap = (0.0, stop)
        return cap

    def _targets(
        self, injection_kw: float, consumption_kw: float, source: Source, now: float
    ) -> _Targets:
        """The band the closed loop keeps the grid power in, a margin inside the limits."""
        settings = self.setup.settings
        margin = min(settings.margin_kw, (injection_kw + consumption_kw) / 4)
        high_dso = consumption_kw - margin
        high = high_dso
        import_cause = ConstraintCause(Constraint.MAX_CONSUMPTION, source)
        if settings.peak_shaving_target_kw is not None:
            allowed = self._demand.allowed_import_kw(settings.peak_shaving_target_kw, now) - margin
            if allowed < high:
                high = max(allowed, -injection_kw + margin)
                import_cause = ConstraintCause(Constraint.PEAK_SHAVING, Source.LOCAL)
        return _Targets(
            low_kw=-injection_kw + margin,
            high_kw=high,
            high_dso_kw=high_dso,
            export_cause=ConstraintCause(Constraint.MAX_INJECTION, source),
            import_cause=import_cause,
            dso_import_cause=ConstraintCause(Constraint.MAX_CONSUMPTION, source),
        )

    # --- storage ---

    def _storage(self) -> list[AssetControl]:
        return [
            asset
            for asset in self.setup.assets
            if asset.role is AssetRole.STORAGE and asset.power is not None
        ]

    def _storage_power(self, asset: AssetControl, measurements: Measurements) -> float:
        """What a battery the EMS does not steer does now (+ discharge)."""
        if (measured := measurements.asset_power_kw.get(asset.asset_id)) is not None:
            return measured
        return self._value_kw(asset, measurements.values.get(self._power_entity(asset)))

    def _storage_baseline(self, asset: AssetControl, measurements: Measurements) -> float:
        """The setpoint a battery returns to: its value from before the EMS took it."""
        entity_id = self._power_entity(asset)
        if entity_id in self.ledger:
            return self._value_kw(asset, self.ledger.original(entity_id))
        return self._value_kw(asset, measurements.values.get(entity_id))

    @staticmethod
    def _power_entity(asset: AssetControl) -> str:
        assert asset.power is not None
        return asset.power.entity_id

    @staticmethod
    def _value_kw(asset: AssetControl, value: object) -> float:
        if asset.power is None or isinstance(value, bool) or not isinstance(value, int | float):
            return 0.0
        return asset.power.to_kw(value, asset.installed_kw)

    def _steer_storage(
        self,
        mode: _Mode,
        grid_kw: float,
        targets: _Targets,
        measurements: Measurements,
        elapsed: float,
    ) -> tuple[float, bool]:
        """Set the batteries; returns how much more they discharge in all, and if they moved."""
        batteries = self._storage()
        if not batteries:
            return 0.0, False
        settings = self.setup.settings
        deadband = settings.deadband_kw
        planned = settings.battery_plan_kw if mode is _Mode.LOOP else None
        optimizing = mode is _Mode.LOOP and (settings.self_consumption or planned is not None)
        production_restricted = any(
            self._states[asset.asset_id].restricted
            for asset in self.setup.assets
            if asset.role is AssetRole.PRODUCTION
        )
        consumption_restricted = any(
            self._states[asset.asset_id].restricted
            for asset in self.setup.assets
            if asset.role is AssetRole.CONSUMPTION
        )
        storage_kw = sum(asset.installed_kw for asset in batteries)
        previous: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        wanted: list[float] = []
        baselines: list[float] = []
        for asset in batteries:
            state = self._states[asset.asset_id]
            before = (
                state.setpoint_kw
                if state.setpoint_kw is not None
                else self._storage_power(asset, measurements)
            )
            low, high = -state.consumption.kw, state.production.kw
            soe = measurements.state_of_energy_pct.get(asset.asset_id)
            if soe is not None and soe >= settings.soe_max_pct:
                low = 0.0
            if soe is not None and soe <= settings.soe_min_pct:
                high = 0.0
            baseline = self._storage_baseline(asset, measurements)
            if planned is not None:
                want = planned * asset.installed_kw / storage_kw
            elif optimizing:
                want = before + grid_kw * asset.installed_kw / storage_kw
            elif state.setpoint_kw is not None and mode is not _Mode.WAIT:
                # Back toward the baseline, but a battery absorbing for curtailed production (or
                # discharging for restricted loads) keeps doing so until those are free again.
                toward = baseline
                if mode is _Mode.LOOP and (
                    (toward > before and production_restricted)
                    or (toward < before and consumption_restricted)
                ):
                    toward = before
                step_kw = settings.ramp_pct_per_s / 100 * asset.installed_kw * elapsed
                want = _move(before, toward, step_kw)
            else:
                want = before
            previous.append(before)
            lows.append(low)
            highs.append(high)
            wanted.append(_clamp(want, low, high))
            baselines.append(baseline)
        chosen = list(wanted)
        forced: ConstraintCause | None = None
        if mode is _Mode.LOOP:
            before_total = sum(previous)
            # Any total in [least, most] keeps the predicted grid power inside the targets.
            least = before_total + grid_kw - targets.high_kw
            most = before_total + grid_kw - targets.low_kw
            wanted_total = sum(wanted)
            constrained = _clamp(wanted_total, least, most)
            if abs(constrained - wanted_total) > _EPSILON:
                # Held by the limit even where the battery cannot follow (empty, full, capped).
                forced = (
                    targets.import_cause if constrained > wanted_total else targets.export_cause
                )
            total = _clamp(constrained, sum(lows), sum(highs))
            if abs(total - wanted_total) > _EPSILON:
                extra = total - wanted_total
                room = [
                    (high - want) if extra > 0 else (want - low)
                    for want, low, high in zip(wanted, lows, highs, strict=True)
                ]
                for index, share in enumerate(distribute(extra, room)):
                    chosen[index] += share
        moved = 0.0
        changed = False
        for index, asset in enumerate(batteries):
            state = self._states[asset.asset_id]
            before, low, high, baseline = (
                previous[index],
                lows[index],
                highs[index],
                baselines[index],
            )
            setpoint = chosen[index]
            if abs(setpoint - before) < deadband and low - _EPSILON <= before <= high + _EPSILON:
                setpoint = before
            steered = state.setpoint_kw is not None
            if (
                steered
                and not optimizing
                and forced is None
                and mode is not _Mode.WAIT
                and not (production_restricted or consumption_restricted)
                and abs(setpoint - baseline) < deadband
                and low - _EPSILON <= baseline <= high + _EPSILON
            ):
                state.setpoint_kw, state.setpoint_cause = None, None
                changed = True
                continue
            if not steered and not optimizing and setpoint == before:
                continue
            if setpoint != before or not steered:
                changed = True
            moved += setpoint - before
            state.setpoint_kw = setpoint
            state.setpoint_cause = self._storage_cause(
                state,
                setpoint,
                forced,
                None
                if not optimizing
                else ConstraintCause(
                    Constraint.SELF_CONSUMPTION if planned is None else Constraint.BATTERY_PLAN,
                    Source.LOCAL,
                ),
                installed=asset.installed_kw,
            )
        return moved, changed

    @staticmethod
    def _storage_cause(
        state: _AssetState,
        setpoint: float,
        forced: ConstraintCause | None,
        optimizing: ConstraintCause | None,
        installed: float,
    ) -> ConstraintCause | None:
        if state.production.cause is not None and setpoint >= state.production.kw - _EPSILON:
            return state.production.cause
        if state.consumption.cause is not None and setpoint <= -state.consumption.kw + _EPSILON:
            return state.consumption.cause
        if forced is not None:
            return forced
        if optimizing is not None:
            return optimizing
        return state.setpoint_cause

    # --- production and consumption ---

    def _flexible(self, role: AssetRole) -> list[AssetControl]:
        """The controllable assets of one side (production or consumption)."""
        return [asset for asset in self.setup.assets if asset.role is role and asset.controllable]

    def _cap_in_force(self, asset: AssetControl) -> tuple[float, ConstraintCause | None, bool]:
        """The cap on an asset's side: the stricter of the two layers, and whether it ramps."""
        state = self._states[asset.asset_id]
        cap = state.production if asset.role is AssetRole.PRODUCTION else state.consumption
        if state.loop_cap_kw is not None and state.loop_cap_kw < cap.kw:
            return state.loop_cap_kw, state.loop_cause, False
        return cap.kw, cap.cause, cap.releasing

    def _open_cap(self, asset: AssetControl) -> float:
        """The cap the closed loop releases toward: the open-loop cap."""
        state = self._states[asset.asset_id]
        cap = state.production if asset.role is AssetRole.PRODUCTION else state.consumption
        return min(asset.installed_kw, cap.kw)

    def _power_now(self, asset: AssetControl, measurements: Measurements) -> float:
        """What the asset produces (or draws, as a magnitude) now, at most its cap."""
        if self._states[asset.asset_id].off:
            return 0.0
        cap = self._cap_in_force(asset)[0]
        measured = measurements.asset_power_kw.get(asset.asset_id)
        if measured is None:
            return cap
        return _clamp(measured if asset.role is AssetRole.PRODUCTION else -measured, 0.0, cap)

    @staticmethod
    def _minimum_kw(asset: AssetControl) -> float:
        return 0.0 if asset.power is None else asset.power.minimum_kw(asset.installed_kw)

    @staticmethod
    def _applied_kw(asset: AssetControl, cap_kw: float) -> float:
        """The cap the asset's entity can actually carry (its steps and bounds)."""
        if asset.power is None:
            return cap_kw
        return asset.power.to_kw(
            asset.power.limit_value(cap_kw, asset.installed_kw), asset.installed_kw
        )

    @staticmethod
    def _switchable(asset: AssetControl) -> bool:
        """Loads switch off after throttling; production only when it has no setpoint."""
        return asset.switch_entity_id is not None and (
            asset.power is None or asset.role is AssetRole.CONSUMPTION
        )

    def _curtail(
        self,
        role: AssetRole,
        *,
        need_kw: float,
        switch_need_kw: float,
        cause: ConstraintCause,
        switch_cause: ConstraintCause,
        measurements: Measurements,
    ) -> float:
        """Throttle, then switch off, assets of one side; returns the power taken away.

        Switching off stops once ``switch_need_kw`` is covered (peak shaving never switches).
        """
        deadband = self.setup.settings.deadband_kw
        assets = self._flexible(role)
        throttled = [
            asset
            for asset in assets
            if asset.power is not None and not self._states[asset.asset_id].off
        ]
        now = [self._power_now(asset, measurements) for asset in throttled]
        reducible = [
            max(now_kw - self._minimum_kw(asset), 0.0)
            for asset, now_kw in zip(throttled, now, strict=True)
        ]
        taken = 0.0
        for asset, now_kw, cut in zip(
            throttled, now, distribute(min(need_kw, sum(reducible)), reducible), strict=True
        ):
            if cut > _EPSILON:
                state = self._states[asset.asset_id]
                state.loop_cap_kw = self._applied_kw(asset, now_kw - cut)
                state.loop_cause = cause
                taken += now_kw - state.loop_cap_kw
        switchable = sorted(
            (
                asset
                for asset in assets
                if self._switchable(asset) and not self._states[asset.asset_id].off
            ),
            key=lambda asset: -self._power_now(asset, measurements),
        )
        for asset in switchable:
            if min(need_kw, switch_need_kw) - taken <= deadband:
                break
            now_kw = self._power_now(asset, measurements)
            if now_kw <= _EPSILON:
                continue
            state = self._states[asset.asset_id]
            state.off, state.loop_cause = True, switch_cause
            if asset.power is None:
                state.loop_cap_kw = 0.0
            taken += now_kw
        return taken

    def _relax(self, role: AssetRole, room_kw: float, elapsed: float) -> bool:
        """Give one side back what the loop took, within ``room_kw`` and the ramp.

        Switched-off assets come back first (at their minimum), one per step so that the next
        waits for the measurement; then throttled ones rise on the ramp.
        """
        changed = False
        for asset in self._flexible(role):
            state = self._states[asset.asset_id]
            if not state.off:
                continue
            expected = self._minimum_kw(asset) if asset.power is not None else self._open_cap(asset)
            if expected <= room_kw:
                state.off = False
                if asset.power is None:
                    state.loop_cap_kw, state.loop_cause = None, None
                room_kw -= expected
                changed = True
            break
        throttled = [
            asset
            for asset in self._flexible(role)
            if asset.power is not None
            and not self._states[asset.asset_id].off
            and self._states[asset.asset_id].loop_cap_kw is not None
        ]
        if not throttled or room_kw <= 0:
            return changed
        ramp = self.setup.settings.ramp_pct_per_s / 100 * elapsed
        installed = [asset.installed_kw for asset in throttled]
        total = min(room_kw, ramp * sum(installed))
        for asset, share in zip(throttled, distribute(total, installed), strict=True):
            state = self._states[asset.asset_id]
            assert state.loop_cap_kw is not None
            raised = state.loop_cap_kw + share
            if raised >= self._open_cap(asset) - _EPSILON:
                state.loop_cap_kw, state.loop_cause = None, None
                changed = True
                continue
            # Only whole steps of the entity: a partial one would be rounded away anyway.
            applied = self._applied_kw(asset, raised)
            if applied > state.loop_cap_kw + _EPSILON:
                state.loop_cap_kw = applied
                changed = True
        return changed

    def _steer_production(
        self, grid_kw: float, targets: _Targets, measurements: Measurements, elapsed: float
    ) -> tuple[float, bool]:
        """Curtail production on too much export; returns by how much the grid power rises."""
        deadband = self.setup.settings.deadband_kw
        if grid_kw > targets.low_kw + deadband:
            return 0.0, self._relax(AssetRole.PRODUCTION, grid_kw - targets.low_kw, elapsed)
        if grid_kw >= targets.low_kw - deadband:
            return 0.0, False
        need = targets.low_kw - grid_kw
        raised = self._curtail(
            AssetRole.PRODUCTION,
            need_kw=need,
            switch_need_kw=need,
            cause=targets.export_cause,
            switch_cause=targets.export_cause,
            measurements=measurements,
        )
        return raised, True

    def _steer_consumption(
        self, grid_kw: float, targets: _Targets, measurements: Measurements, elapsed: float
    ) -> tuple[float, bool]:
        """Throttle, then switch off, loads on too much import; returns the grid power drop."""
        deadband = self.setup.settings.deadband_kw
        if grid_kw < targets.high_kw - deadband:
            return 0.0, self._relax(AssetRole.CONSUMPTION, targets.high_kw - grid_kw, elapsed)
        if grid_kw <= targets.high_kw + deadband:
            return 0.0, False
        # Peak shaving only throttles; switching loads off is for the grid operator's limits.
        switch_need = grid_kw - targets.high_dso_kw
        cause = targets.dso_import_cause if switch_need > deadband else targets.import_cause
        lowered = self._curtail(
            AssetRole.CONSUMPTION,
            need_kw=grid_kw - targets.high_kw,
            switch_need_kw=switch_need,
            cause=cause,
            switch_cause=targets.dso_import_cause,
            measurements=measurements,
        )
        return lowered, True

    # --- decision ---

    def _decide(
        self,
        *,
        dso: DsoState,
        stops: Mapping[Constraint, ConstraintCause],
        measurements: Measurements,
        mode: _Mode,
        injection_kw: float,
        consumption_kw: float,
        grid_kw: float | None,
        source: Source,
    ) -> Decision:
        desires: dict[str, Desire[ConstraintCause]] = {}
        groups: dict[str, str] = {}
        for relay in self.setup.relays:
            groups[relay.entity_id] = relay.entity_id
            stop = stops.get(
                Constraint.EMERGENCY_STOP_PRODUCTION
                if relay.role is RelayRole.INJECTION
                else Constraint.EMERGENCY_STOP_CONSUMPTION
            )
            if stop is not None:
                desires[relay.entity_id] = Desire(True, Strictness.ON, stop)
        outcomes: dict[str, AssetOutcome] = {}
        for asset in self.setup.assets:
            for entity_id in self._entities(asset):
                groups[entity_id] = asset.asset_id
            if not asset.controllable:
                outcomes[asset.asset_id] = AssetOutcome()
                continue
            match asset.role:
                case AssetRole.PRODUCTION:
                    outcome = self._production_desires(asset, desires)
                case AssetRole.CONSUMPTION:
                    outcome = self._consumption_desires(asset, desires)
                case AssetRole.STORAGE:
                    outcome = self._storage_desires(asset, desires)
            outcomes[asset.asset_id] = outcome
        reactive = self._reactive_desires(desires)
        writes, abandoned = self.ledger.reconcile(desires, measurements.values)
        actions = tuple(
            Action(
                groups.get(write.entity_id, write.entity_id),
                write.entity_id,
                write.value,
                write.cause,
                write.restore,
                write.tolerance,
            )
            for write in writes
        )
        causes = [outcome.cause for outcome in outcomes.values() if outcome.cause is not None]
        if reactive is not None:
            causes.append(reactive)
        active = min(causes, key=lambda cause: _PRIORITY[cause.constraint], default=None)
        if stops:
            state = ControllerState.EMERGENCY_STOP
            active = next(iter(stops.values()))
        elif source is Source.LINK_LOST or (
            mode is _Mode.LOST and (abs(dso.min_set_p) < 100 or dso.max_set_p < 100)
        ):
            state = ControllerState.FAIL_SAFE
        elif (
            any(
                cause.source is not Source.LOCAL and not outcome.releasing
                for outcome in outcomes.values()
                if (cause := outcome.cause) is not None
            )
            or reactive is not None
        ):
            state = ControllerState.LIMITING
        elif any(outcome.releasing for outcome in outcomes.values()):
            state = ControllerState.RELEASING
        elif causes:
            state = ControllerState.OPTIMIZING
        else:
            state = ControllerState.IDLE
        return Decision(
            state=state,
            active=active,
            assets=outcomes,
            actions=actions,
            abandoned=tuple(abandoned),
            injection_limit_kw=injection_kw,
            consumption_limit_kw=consumption_kw,
            headroom_injection_kw=None if grid_kw is None else grid_kw + injection_kw,
            headroom_consumption_kw=None if grid_kw is None else consumption_kw - grid_kw,
            unmet_kw=self._unmet_kw if mode is not _Mode.LOST else 0.0,
        )

    @staticmethod
    def _entities(asset: AssetControl) -> list[str]:
        entities = [
            control.entity_id for control in (asset.power, asset.reactive) if control is not None
        ]
        if asset.switch_entity_id is not None:
            entities.append(asset.switch_entity_id)
        if asset.command_source is not None:
            entities.append(asset.command_source.entity_id)
        return entities

    def _production_desires(
        self, asset: AssetControl, desires: dict[str, Desire[ConstraintCause]]
    ) -> AssetOutcome:
        cap, cause, releasing = self._cap_in_force(asset)
        if cause is None or cap >= asset.installed_kw - _EPSILON:
            return AssetOutcome()
        if asset.power is not None:
            power = asset.power
            desires[power.entity_id] = Desire(
                power.limit_value(cap, asset.installed_kw),
                Strictness.LOWER,
                cause,
                power.tolerance,
            )
            return AssetOutcome(max(cap, self._minimum_kw(asset)), cause, releasing)
        if asset.switch_entity_id is not None:
            desires[asset.switch_entity_id] = Desire(False, Strictness.OFF, cause)
            return AssetOutcome(0.0, cause, releasing)
        return AssetOutcome()

    def _consumption_desires(
        self, asset: AssetControl, desires: dict[str, Desire[ConstraintCause]]
    ) -> AssetOutcome:
        state = self._states[asset.asset_id]
        cap, cause, releasing = self._cap_in_force(asset)
        if state.off:
            cause = state.loop_cause
        if cause is None or (not state.off and cap >= asset.installed_kw - _EPSILON):
            return AssetOutcome()
        minimum = self._minimum_kw(asset)
        off = state.off or (
            asset.switch_entity_id is not None
            and (cap < minimum - _EPSILON or (asset.power is None and cap < asset.installed_kw))
        )
        if asset.power is not None:
            power = asset.power
            desires[power.entity_id] = Desire(
                power.limit_value(cap, asset.installed_kw),
                Strictness.LOWER,
                cause,
                power.tolerance,
            )
        if off and asset.switch_entity_id is not None:
            desires[asset.switch_entity_id] = Desire(False, Strictness.OFF, cause)
        return AssetOutcome(0.0 if off else max(cap, minimum), cause, releasing)

    def _storage_desires(
        self, asset: AssetControl, desires: dict[str, Desire[ConstraintCause]]
    ) -> AssetOutcome:
        state = self._states[asset.asset_id]
        if state.setpoint_kw is None or asset.power is None:
            return AssetOutcome()
        cause = state.setpoint_cause or ConstraintCause(Constraint.SELF_CONSUMPTION, Source.LOCAL)
        if asset.command_source is not None:
            desires[asset.command_source.entity_id] = Desire(
                asset.command_source.remote_option, Strictness.EXACT, cause
            )
        power = asset.power
        desires[power.entity_id] = Desire(
            power.target_value(state.setpoint_kw, asset.installed_kw),
            Strictness.EXACT,
            cause,
            power.tolerance,
        )
        releasing = state.production.releasing or state.consumption.releasing
        return AssetOutcome(state.setpoint_kw, cause, releasing)

    def _steer_reactive(self, dso: DsoState, measurements: Measurements, now: float) -> None:
        """Remote Q mode: keep the site's reactive power inside the band with the Q setpoints.

        The setpoints start at the point of the band nearest 0. When every asset with a Q
        setpoint has a Q sensor, the loop is closed on the total of all the assets' Q (what the
        link reports): while it is outside the band, the setpoints move by the error. Without
        those sensors it stays open loop at that point.
        """
        controlled = [asset for asset in self.setup.assets if asset.reactive is not None]
        if dso.q_mode is not QMode.REMOTE or not controlled:
            self._q_setpoint_kvar = None
            return
        reference = self.setup.site.reactive_capacity_kvar
        low, high = sorted((dso.min_set_q / 100 * reference, dso.max_set_q / 100 * reference))
        preferred = _clamp(0.0, low, high)
        measured = measurements.asset_reactive_kvar
        settings = self.setup.settings
        if self._q_setpoint_kvar is None or any(
            asset.asset_id not in measured for asset in controlled
        ):
            self._q_setpoint_kvar, self._q_changed_at = preferred, now
            return
        total = sum(measured.values())
        deadband = settings.deadband_kw
        if now < self._q_changed_at + settings.response_s or (
            low - deadband <= total <= high + deadband
        ):
            return
        self._q_setpoint_kvar += preferred - total
        self._q_changed_at = now

    def _reactive_desires(
        self, desires: dict[str, Desire[ConstraintCause]]
    ) -> ConstraintCause | None:
        """Every Q setpoint takes its share (by installed power) of the total it is given."""
        if self._q_setpoint_kvar is None:
            return None
        assets = [asset for asset in self.setup.assets if asset.reactive is not None]
        installed = sum(asset.installed_kw for asset in assets)
        cause = ConstraintCause(Constraint.REACTIVE_BAND)
        reachable = 0.0
        for asset in assets:
            reactive = asset.reactive
            assert reactive is not None
            share = self._q_setpoint_kvar * asset.installed_kw / installed
            value = reactive.target_value(share, asset.installed_kw)
            reachable += reactive.to_kw(value, asset.installed_kw)
            desires[reactive.entity_id] = Desire(value, Strictness.EXACT, cause, reactive.tolerance)
        # What the entities cannot take is not piled up for later (no wind-up at their bounds).
        self._q_setpoint_kvar = reachable
        return cause
