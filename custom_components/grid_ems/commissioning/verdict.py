"""What the site did at a step, judged against its targets: findings, step results, the run.

Pure: the Home Assistant runner takes samples of the site and hands them in; this module says
whether they meet the targets, with findings the report and the notification translate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .steps import Step, Targets


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far the site may be from a target and still pass; how long it has to get there."""

    settle_time_s: float = 30.0
    grid_kw: float = 1.0
    """At the connection point."""
    asset_pct: float = 2.0
    """Per asset, % of its installed power (an inverter's 1 % minimum stays within it)."""
    reactive_kvar: float = 1.0


@dataclass(frozen=True, slots=True)
class Sample:
    """The site at one moment of a step."""

    elapsed_s: float
    """Seconds since the step's first command."""
    grid_kw: float | None
    """Connection point, import positive; None while not measured."""
    asset_kw: Mapping[str, float | None]
    """Each asset's power by asset id, production (and discharge) positive."""
    relays: Mapping[str, bool | None]
    """Each emergency-stop relay's read-back state by entity id."""
    relay_labels: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Each relay's channel and device, as the finding names it."""
    reactive_kvar: float | None = None
    """Sum of the assets' reactive power; None without a reactive sensor."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a step failed: a translation key and its placeholders."""

    key: str
    placeholders: Mapping[str, str] = field(default_factory=dict)

    def text(self, texts: Mapping[str, str]) -> str:
        """The finding in the language of ``texts`` (the key itself if it has no text)."""
        return fill(texts.get(self.key, self.key), self.placeholders)


def fill(template: str, placeholders: Mapping[str, str]) -> str:
    """A translated text with its placeholders; a placeholder it lacks stays visible."""
    try:
        return template.format_map(dict(placeholders))
    except (KeyError, IndexError, ValueError):
        return f"{template} {dict(placeholders)}"


def _kw(value: float) -> str:
    return f"{value:.1f}"


def check(targets: Targets, sample: Sample, tolerances: Tolerances) -> tuple[Finding, ...]:
    """Every way ``sample`` misses ``targets``; empty when the site meets them all."""
    seconds = f"{sample.elapsed_s:.0f}"
    findings: list[Finding] = []
    grid = sample.grid_kw
    if grid is None:
        findings.append(Finding("grid_power_unknown"))
    else:
        for key, power, limit in (
            ("injection_above_limit", -grid, targets.max_injection_kw),
            ("consumption_above_limit", grid, targets.max_consumption_kw),
        ):
            if power > limit + tolerances.grid_kw:
                findings.append(
                    Finding(
                        key,
                        {
                            "power": _kw(power),
                            "excess": _kw(power - limit),
                            "limit": _kw(limit),
                            "seconds": seconds,
                        },
                    )
                )
    for asset in targets.assets:
        measured = sample.asset_kw.get(asset.asset_id)
        if measured is None:
            findings.append(Finding("asset_power_unknown", {"asset": asset.name}))
            continue
        power = measured
        tolerance = tolerances.asset_pct / 100 * asset.installed_kw
        excess = max(
            0.0 if asset.max_production_kw is None else power - asset.max_production_kw,
            0.0 if asset.max_consumption_kw is None else -power - asset.max_consumption_kw,
        )
        if excess > tolerance:
            findings.append(
                Finding(
                    "asset_above_limit",
                    {"asset": asset.name, "excess": _kw(excess), "seconds": seconds},
                )
            )
    for entity_id, expected in targets.relays.items():
        if sample.relays.get(entity_id) is not expected:
            channel, device = sample.relay_labels.get(entity_id, (entity_id, ""))
            findings.append(Finding("relay_not_switched", {"channel": channel, "device": device}))
    band = targets.reactive_band_kvar
    reactive = sample.reactive_kvar
    if band is not None and reactive is not None:
        low, high = band
        if not low - tolerances.reactive_kvar <= reactive <= high + tolerances.reactive_kvar:
            findings.append(
                Finding(
                    "reactive_outside_band",
                    {
                        "power": _kw(reactive),
                        "low": _kw(low),
                        "high": _kw(high),
                        "seconds": seconds,
                    },
                )
            )
    return tuple(findings)


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A command of a step: whether the link accepted it and mirrored it on its feedback."""

    command: str
    value: float
    accepted: bool
    feedback: str
    """What the feedback point showed right after the confirmation."""
    mirrored: bool


def confirmation_findings(confirmations: tuple[Confirmation, ...]) -> tuple[Finding, ...]:
    """A finding for every command refused or not mirrored."""
    findings: list[Finding] = []
    for confirmation in confirmations:
        placeholders = {"command": confirmation.command, "value": f"{confirmation.value:g}"}
        if not confirmation.accepted:
            findings.append(Finding("command_refused", placeholders))
        elif not confirmation.mirrored:
            findings.append(
                Finding("feedback_not_mirrored", {**placeholders, "shown": confirmation.feedback})
            )
    return tuple(findings)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What the site did at one step."""

    step: Step
    confirmations: tuple[Confirmation, ...]
    targets: Targets
    first_actuation_s: float | None
    """Seconds from the first command to the first write to an asset or relay (None: none)."""
    settled_s: float | None
    """Seconds until the site met every target (None: it did not within the settle time)."""
    final: Sample
    findings: tuple[Finding, ...]
    series: tuple[tuple[float, float], ...] = ()
    """The connection-point power during the step: (seconds, kW import positive)."""

    @property
    def passed(self) -> bool:
        """Whether the step passed."""
        return not self.findings


class Outcome(StrEnum):
    """How a run ended."""

    PASSED = "passed"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class SiteDescription:
    """The site as the report shows it."""

    settings: tuple[tuple[str, str], ...]
    """Link settings and capacities: (translation key, value)."""
    assets: tuple[tuple[str, str, float, str], ...]
    """Name, category, installed kW, power sensor."""
    relays: tuple[tuple[str, str, str], ...]
    """Entity, role, device."""
    versions: tuple[tuple[str, str], ...]
    """Software and version."""


@dataclass(frozen=True, slots=True)
class Run:
    """A commissioning run: when, on what site, each step's result, and how it ended."""

    run_id: str
    started: datetime
    ended: datetime
    outcome: Outcome
    site: SiteDescription
    results: tuple[StepResult, ...]
    steps_planned: int
    tolerances: Tolerances
    chain_verified: bool | None = None
    """Whether the audit trail's hash chain verifies; None: not checked."""

    def summary(self, texts: Mapping[str, str]) -> dict[str, Any]:
        """The run in short (diagnostics, the stored index): each step's verdict and reasons."""
        return {
            "run_id": self.run_id,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "outcome": self.outcome.value,
            "steps_planned": self.steps_planned,
            "chain_verified": self.chain_verified,
            "steps": [
                {
                    "step": result.step.key,
                    **result.step.placeholders,
                    "passed": result.passed,
                    "first_actuation_s": result.first_actuation_s,
                    "settled_s": result.settled_s,
                    "reasons": [finding.text(texts) for finding in result.findings],
                }
                for result in self.results
            ],
        }


def outcome(results: tuple[StepResult, ...], *, aborted: bool) -> Outcome:
    """A run's verdict: aborted, else passed only if every step passed."""
    if aborted:
        return Outcome.ABORTED
    return Outcome.PASSED if all(result.passed for result in results) else Outcome.FAILED
