"""Typed inputs and outputs of the enforcement controller.

Signs: asset powers use the asset convention (production and battery discharge positive,
consumption and charge negative); the grid power uses the load convention (import positive),
like the connection-point limits MINSETP and MAXSETP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..netflex.assets import AssetCategory, SiteParameters
from ..netflex.points import Command
from ..netflex.state import DsoState
from .ledger import EntityValue
from .units import NumberControl


class Constraint(StrEnum):
    """What restricts an asset, from the most to the least important."""

    EMERGENCY_STOP_PRODUCTION = "emergency_stop_production"
    EMERGENCY_STOP_CONSUMPTION = "emergency_stop_consumption"
    MAX_INJECTION = "max_injection"
    """MINSETP at the connection point."""
    MAX_CONSUMPTION = "max_consumption"
    """MAXSETP at the connection point."""
    MAX_ASSET_PRODUCTION = "max_asset_production"
    """MAXSETAP on each asset."""
    MAX_ASSET_CONSUMPTION = "max_asset_consumption"
    """MINSETAP on each asset."""
    REACTIVE_BAND = "reactive_band"
    """MINSETQ..MAXSETQ in remote Q mode."""
    PEAK_SHAVING = "peak_shaving"
    SELF_CONSUMPTION = "self_consumption"
    BATTERY_PLAN = "battery_plan"
    """The planned battery power (day-ahead prices, forecasts, capacity tariff)."""

    @property
    def commands(self) -> tuple[Command, ...]:
        """The grid operator's commands that set this constraint (none for local ones)."""
        return _COMMANDS[self]


_COMMANDS: Mapping[Constraint, tuple[Command, ...]] = {
    Constraint.EMERGENCY_STOP_PRODUCTION: (Command.EMERGENCY_STOP_PRODUCTION,),
    Constraint.EMERGENCY_STOP_CONSUMPTION: (Command.EMERGENCY_STOP_CONSUMPTION,),
    Constraint.MAX_INJECTION: (Command.MIN_SET_P,),
    Constraint.MAX_CONSUMPTION: (Command.MAX_SET_P,),
    Constraint.MAX_ASSET_PRODUCTION: (Command.MAX_SET_AP,),
    Constraint.MAX_ASSET_CONSUMPTION: (Command.MIN_SET_AP,),
    Constraint.REACTIVE_BAND: (Command.Q_MODE, Command.MIN_SET_Q, Command.MAX_SET_Q),
    Constraint.PEAK_SHAVING: (),
    Constraint.SELF_CONSUMPTION: (),
    Constraint.BATTERY_PLAN: (),
}


class Source(StrEnum):
    """Where the value of a constraint comes from."""

    DSO = "dso"
    """The grid operator's last accepted command."""
    MEASUREMENT_LOST = "measurement_lost"
    """An open-loop limit derived from the DSO percentage while the grid power is unknown."""
    LINK_LOST = "link_lost"
    """The configured fallback, once the RTU link has been down for the timeout."""
    LOCAL = "local"
    """The site's own optimization."""
    LOCAL_STOP = "local_stop"
    """A local emergency stop input of the site (not the grid operator's command)."""


@dataclass(frozen=True, slots=True)
class ConstraintCause:
    """Why the controller restricts or steers an asset."""

    constraint: Constraint
    source: Source = Source.DSO


class AssetRole(StrEnum):
    """How the controller treats an asset, from its category."""

    PRODUCTION = "production"
    STORAGE = "storage"
    CONSUMPTION = "consumption"


@dataclass(frozen=True, slots=True)
class CommandSource:
    """The select that hands a battery's control to the EMS (and back on release)."""

    entity_id: str
    remote_option: str


@dataclass(frozen=True, slots=True)
class AssetControl:
    """One asset of the registry and how the EMS controls it.

    ``power`` is a power limit (production or consumption assets) or, for storage, a signed
    setpoint (+ discharge, - charge). ``switch_entity_id`` switches the asset off: the only
    control of an on/off asset, or the last resort after throttling a load to its minimum.
    ``reactive`` is an optional reactive power setpoint (for remote Q control).
    """

    asset_id: str
    category: AssetCategory
    installed_kw: float
    power: NumberControl | None = None
    switch_entity_id: str | None = None
    command_source: CommandSource | None = None
    reactive: NumberControl | None = None

    def __post_init__(self) -> None:
        """Refuse an installed power the percentages cannot refer to."""
        if self.installed_kw <= 0:
            raise ValueError(f"{self.asset_id}: installed power must be positive")

    @property
    def role(self) -> AssetRole:
        """Production, storage or consumption."""
        if self.category is AssetCategory.STORAGE:
            return AssetRole.STORAGE
        return AssetRole.PRODUCTION if self.category.produces else AssetRole.CONSUMPTION

    @property
    def controllable(self) -> bool:
        """Whether the EMS can change the asset's active power."""
        if self.role is AssetRole.STORAGE:
            return self.power is not None
        return self.power is not None or self.switch_entity_id is not None


class RelayRole(StrEnum):
    """What a relay or digital output is wired to; the controller acts on the roles."""

    NONE = "none"
    INJECTION = "injection"  # emergency stop of production
    CONSUMPTION = "consumption"  # emergency stop of consumption


@dataclass(frozen=True, slots=True)
class Relay:
    """A relay output of the hardware emergency-stop layer: on while its stop is active.

    ``role`` is INJECTION (emergency stop production) or CONSUMPTION (emergency stop
    consumption); outputs without a role are no relays of the controller.
    """

    entity_id: str
    role: RelayRole


@dataclass(frozen=True, slots=True)
class LinkLossPolicy:
    """What happens when the RTU link stays down.

    Until ``timeout_s`` has passed (forever when None) the last accepted limits stay in force.
    After it, the fallback percentages replace the P setpoints; emergency stops and the Q band
    stay as last commanded (only the grid operator releases an emergency stop).
    """

    timeout_s: float | None = None
    max_injection_pct: float = 100.0
    max_consumption_pct: float = 100.0
    max_asset_production_pct: float = 100.0
    max_asset_consumption_pct: float = 100.0


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """Tuning of the control loop and the local optimization."""

    ramp_pct_per_s: float = 10.0
    """Relaxing speed, % of each asset's installed power per second."""
    margin_kw: float = 0.5
    """How far inside a connection-point limit the loop aims."""
    deadband_kw: float = 0.2
    """Deviations smaller than this are not corrected (avoids needless writes)."""
    response_s: float = 1.0
    """Time the assets need to respond: a grid sample is used only if taken this long after
    the loop's last change, so that a change is not corrected twice."""
    measurement_timeout_s: float = 10.0
    """A grid power older than this counts as lost."""
    link_loss: LinkLossPolicy = LinkLossPolicy()
    self_consumption: bool = False
    """Steer the batteries to keep the grid power at zero."""
    peak_shaving_target_kw: float | None = None
    """Keep the quarter-hour average import under this (None: no peak shaving)."""
    battery_plan_kw: float | None = None
    """The batteries' planned power in all (+ discharge), followed under every limit; it
    takes the place of self-consumption (None: no plan)."""
    soe_min_pct: float = 5.0
    soe_max_pct: float = 100.0


@dataclass(frozen=True, slots=True)
class ControlSetup:
    """The site as the controller sees it; replaced whenever the configuration changes."""

    site: SiteParameters
    assets: tuple[AssetControl, ...] = ()
    relays: tuple[Relay, ...] = ()
    settings: ControlSettings = ControlSettings()


@dataclass(frozen=True, slots=True)
class GridSample:
    """Net grid power (kW, import positive) measured at ``at`` (UTC epoch seconds)."""

    power_kw: float
    at: float


@dataclass(frozen=True, slots=True)
class Measurements:
    """What the site reports now.

    ``values`` is the current value of every controlled entity (None when unavailable).
    """

    grid: GridSample | None = None
    asset_power_kw: Mapping[str, float] = field(default_factory=dict)
    asset_reactive_kvar: Mapping[str, float] = field(default_factory=dict)
    """Of the assets with a Q sensor."""
    state_of_energy_pct: Mapping[str, float] = field(default_factory=dict)
    values: Mapping[str, EntityValue | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ControlInput:
    """Everything one controller step looks at."""

    dso: DsoState
    measurements: Measurements
    link_up: bool = True
    local_stop_production: bool = False
    """A local emergency stop input: the site stops as for the grid operator's stop."""
    local_stop_consumption: bool = False


class ControllerState(StrEnum):
    """What the controller is doing, for the state entity."""

    IDLE = "idle"
    OPTIMIZING = "optimizing"
    LIMITING = "limiting"
    RELEASING = "releasing"
    EMERGENCY_STOP = "emergency_stop"
    FAIL_SAFE = "fail_safe"


@dataclass(frozen=True, slots=True)
class Action:
    """One entity write, and why.

    ``restore`` marks a write of the value from before the EMS (a release); its ``cause`` is
    then the constraint that held the entity (None if unknown, after a restart). Actions of one
    ``group`` (an asset or a relay) run in order; groups are independent. ``tolerance`` is how
    far the read-back value may differ.
    """

    group: str
    entity_id: str
    value: EntityValue
    cause: ConstraintCause | None
    restore: bool = False
    tolerance: float = 0.0


@dataclass(frozen=True, slots=True)
class AssetOutcome:
    """What the controller applies to one asset.

    ``applied_kw`` is the production cap (production assets), the consumption cap as a magnitude
    (consumption assets) or the setpoint (storage, + discharge); None when the EMS leaves the
    asset free. ``releasing`` is set while a relaxed limit ramps back.
    """

    applied_kw: float | None = None
    cause: ConstraintCause | None = None
    releasing: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of one controller step."""

    state: ControllerState
    active: ConstraintCause | None
    """The most important constraint currently restricting something."""
    assets: Mapping[str, AssetOutcome]
    actions: tuple[Action, ...]
    abandoned: tuple[str, ...]
    """Entities let go without a restore: someone else changed them while the EMS held them."""
    injection_limit_kw: float
    consumption_limit_kw: float
    headroom_injection_kw: float | None
    """How much more the site may inject before the limit (None when the grid power is lost)."""
    headroom_consumption_kw: float | None
    unmet_kw: float
    """How far the predicted grid power stays beyond a connection-point limit after every
    available action (0 when the assets can meet it)."""
