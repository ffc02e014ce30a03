"""The certification sequence as data, and what the site must show at each step.

Pure: the steps follow from the DSO state the grid operator can command (``netflex``), the
targets from that state resolved against the site's assets and emergency-stop relays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ..control.model import Relay, RelayRole
from ..iec104 import DoublePointValue
from ..netflex import Command, DsoState, QMode, SiteParameters

LIMIT_LEVELS: Final = (50.0, 10.0)
"""The levels (% of capacity or installed power) each limit is tried at, then released."""
Q_BAND: Final = (-30.0, 30.0)
"""The Q band tried in remote mode (% of the reactive reference)."""
TEST_REASON: Final = 99.0

RESTORE_ORDER: Final = (
    Command.MIN_SET_P,
    Command.MAX_SET_P,
    Command.MAX_SET_AP,
    Command.MIN_SET_AP,
    Command.MIN_SET_Q,
    Command.MAX_SET_Q,
    Command.Q_MODE,
    Command.EMERGENCY_STOP_PRODUCTION,
    Command.EMERGENCY_STOP_CONSUMPTION,
    Command.REASON_P,
    Command.REASON_Q,
    Command.TEST,
)
"""Limits first, stops next, test mode last: the site leaves the rehearsal in a known order."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step: the commands sent together, and how the report names it."""

    key: str
    """Translation key of the step's title."""
    commands: tuple[tuple[Command, float], ...]
    placeholders: Mapping[str, str] = field(default_factory=dict)


def _limit_steps(key: str, command: Command) -> list[Step]:
    return [
        Step(key, ((command, level),), {"level": f"{level:g}"}) for level in (*LIMIT_LEVELS, 100.0)
    ]


def certification_steps() -> tuple[Step, ...]:
    """The certification sequence, in the order of the grid operator's rehearsal.

    Test mode with reason 99, both emergency stops on and off, each connection-point and asset
    limit at a few levels and released, the Q band in remote mode and back to local.
    """
    low, high = Q_BAND
    remote, local = float(DoublePointValue.ON), float(DoublePointValue.OFF)
    return (
        Step(
            "test_mode",
            ((Command.TEST, 1.0), (Command.REASON_P, TEST_REASON), (Command.REASON_Q, TEST_REASON)),
        ),
        Step("stop_production_on", ((Command.EMERGENCY_STOP_PRODUCTION, 1.0),)),
        Step("stop_production_off", ((Command.EMERGENCY_STOP_PRODUCTION, 0.0),)),
        Step("stop_consumption_on", ((Command.EMERGENCY_STOP_CONSUMPTION, 1.0),)),
        Step("stop_consumption_off", ((Command.EMERGENCY_STOP_CONSUMPTION, 0.0),)),
        *_limit_steps("max_injection", Command.MIN_SET_P),
        *_limit_steps("max_consumption", Command.MAX_SET_P),
        *_limit_steps("max_asset_production", Command.MAX_SET_AP),
        *_limit_steps("max_asset_consumption", Command.MIN_SET_AP),
        Step(
            "q_band",
            ((Command.Q_MODE, remote), (Command.MIN_SET_Q, low), (Command.MAX_SET_Q, high)),
            {"low": f"{low:g}", "high": f"{high:g}"},
        ),
        Step(
            "q_local",
            ((Command.Q_MODE, local), (Command.MIN_SET_Q, -100.0), (Command.MAX_SET_Q, 100.0)),
        ),
    )


def command_number(state: DsoState, command: Command) -> float:
    """The number a local command carries to set ``command`` back to its value in ``state``."""
    return float(state.feedback(command))


def restore_commands(
    previous: DsoState, current: DsoState, sent: Mapping[Command, float]
) -> tuple[tuple[Command, float], ...]:
    """The commands that bring ``current`` back to ``previous``, in ``RESTORE_ORDER``.

    Only those the run changed (``sent``: the last number it sent for each command) and still
    holds: a command the grid operator sent during the run (in test mode) stands.
    """
    return tuple(
        (command, command_number(previous, command))
        for command in RESTORE_ORDER
        if command in sent
        and command_number(current, command) == sent[command]
        and previous.feedback(command) != current.feedback(command)
    )


@dataclass(frozen=True, slots=True)
class AssetTarget:
    """The power range (kW, production positive) an asset must keep to."""

    asset_id: str
    name: str
    installed_kw: float
    max_production_kw: float | None
    """None: the asset cannot produce (no production limit to check)."""
    max_consumption_kw: float | None


@dataclass(frozen=True, slots=True)
class Targets:
    """What the site must show under a DSO state."""

    max_injection_kw: float
    max_consumption_kw: float
    assets: tuple[AssetTarget, ...]
    relays: Mapping[str, bool]
    """Each emergency-stop relay's entity and whether it must be on."""
    reactive_band_kvar: tuple[float, float] | None
    """The Q band in remote Q mode; None in local mode."""


def targets(state: DsoState, site: SiteParameters, relays: Sequence[Relay]) -> Targets:
    """The connection-point limits, each asset's range, the relays and the Q band of ``state``."""
    limits = state.limits(site)
    production_pct = 0.0 if state.stop_production else state.max_set_ap
    consumption_pct = 0.0 if state.stop_consumption else state.min_set_ap
    return Targets(
        max_injection_kw=limits.max_injection_kw,
        max_consumption_kw=limits.max_consumption_kw,
        assets=tuple(
            AssetTarget(
                asset.asset_id,
                asset.name,
                asset.installed_power_kw,
                production_pct / 100 * asset.installed_power_kw
                if asset.category.produces
                else None,
                consumption_pct / 100 * asset.installed_power_kw
                if asset.category.consumes
                else None,
            )
            for asset in site.assets
        ),
        relays={
            relay.entity_id: state.stop_production
            if relay.role is RelayRole.INJECTION
            else state.stop_consumption
            for relay in relays
            if relay.role is not RelayRole.NONE
        },
        reactive_band_kvar=(limits.min_reactive_kvar, limits.max_reactive_kvar)
        if state.q_mode is QMode.REMOTE
        else None,
    )
