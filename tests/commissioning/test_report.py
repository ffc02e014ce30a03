"""The pure part of commissioning: targets, verdicts and the self-contained HTML report."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.grid_ems.commissioning import (
    Confirmation,
    Finding,
    Outcome,
    ReportTexts,
    Run,
    Sample,
    SiteDescription,
    StepResult,
    Tolerances,
    certification_steps,
    check,
    confirmation_findings,
    outcome,
    render_report,
    restore_commands,
    targets,
)
from custom_components.grid_ems.control.model import Relay, RelayRole
from custom_components.grid_ems.netflex import (
    Asset,
    AssetCategory,
    Command,
    DsoState,
    QMode,
    Reason,
    SiteParameters,
)

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "grid_ems" / "translations"
SITE = SiteParameters(
    import_capacity_kw=100.0,
    export_capacity_kw=80.0,
    assets=(
        Asset("pv", "PV", AssetCategory.SOLAR, 50.0, "sensor.pv"),
        Asset("bess", "Battery", AssetCategory.STORAGE, 200.0, "sensor.bess"),
        Asset("ev", "Charger", AssetCategory.EV, 22.0, "sensor.ev"),
    ),
)
RELAYS = (
    Relay("switch.relay_0", RelayRole.INJECTION),
    Relay("switch.relay_1", RelayRole.CONSUMPTION),
    Relay("switch.relay_2", RelayRole.NONE),
)
LABELS = {"switch.relay_0": ("0", "ioLogik E1214"), "switch.relay_1": ("1", "ioLogik E1214")}


def texts(language: str) -> ReportTexts:
    """The report's texts of a language, as Home Assistant hands them to the runner."""
    selector = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))["selector"]
    return ReportTexts(
        *(
            selector[f"commissioning_{group}"]["options"]
            for group in ("labels", "steps", "findings")
        )
    )


def sample(
    grid_kw: float | None = 0.0,
    *,
    pv: float | None = 0.0,
    bess: float = 0.0,
    ev: float = 0.0,
    relays: tuple[bool | None, bool | None] = (False, False),
    reactive: float | None = None,
    elapsed: float = 30.0,
) -> Sample:
    return Sample(
        elapsed_s=elapsed,
        grid_kw=grid_kw,
        asset_kw={"pv": pv, "bess": bess, "ev": ev},
        relays=dict(zip(("switch.relay_0", "switch.relay_1"), relays, strict=True)),
        relay_labels=LABELS,
        reactive_kvar=reactive,
    )


def keys(findings: tuple[Finding, ...]) -> list[str]:
    return [finding.key for finding in findings]


def test_targets_of_the_stops_and_limits() -> None:
    """A stop zeroes its direction and switches its relay; asset limits are per installed kW."""
    stopped = targets(DsoState(stop_production=True, min_set_ap=50.0), SITE, RELAYS)
    assert stopped.max_injection_kw == 0.0
    assert stopped.max_consumption_kw == 100.0
    assert [(a.max_production_kw, a.max_consumption_kw) for a in stopped.assets] == [
        (0.0, None),
        (0.0, 100.0),
        (None, 11.0),
    ]
    assert stopped.relays == {"switch.relay_0": True, "switch.relay_1": False}
    assert stopped.reactive_band_kvar is None
    remote = targets(DsoState(q_mode=QMode.REMOTE, min_set_q=-30.0, max_set_q=30.0), SITE, ())
    assert remote.reactive_band_kvar == (-30.0, 30.0)


def test_check_finds_every_miss() -> None:
    """Grid power, assets, relays and the Q band, each against its target with tolerances."""
    goal = targets(
        DsoState(stop_production=True, min_set_p=10.0, q_mode=QMode.REMOTE, max_set_q=10.0),
        SITE,
        RELAYS,
    )
    tolerances = Tolerances()
    assert check(goal, sample(5.0, pv=0.9, relays=(True, False), reactive=10.5), tolerances) == ()
    findings = check(
        goal, sample(-12.0, pv=20.0, bess=30.0, relays=(False, None), reactive=-120.0), tolerances
    )
    assert [finding.text(texts("en").findings) for finding in findings] == [
        "connection point injects 12.0 kW: 12.0 kW above its limit of 0.0 kW after 30 s",
        "PV did not follow: 20.0 kW above its limit after 30 s",
        "Battery did not follow: 30.0 kW above its limit after 30 s",
        "relay 0 of ioLogik E1214 did not switch",
        "relay 1 of ioLogik E1214 did not switch",
        "reactive power -120.0 kvar outside the band -100.0 to 10.0 kvar after 30 s",
    ]
    unknown = check(goal, sample(None, pv=None, relays=(True, False)), tolerances)
    assert keys(unknown) == ["grid_power_unknown", "asset_power_unknown"]
    import_goal = targets(DsoState(max_set_p=10.0, min_set_ap=10.0), SITE, ())
    assert keys(check(import_goal, sample(15.0, ev=-5.0), tolerances)) == [
        "consumption_above_limit",
        "asset_above_limit",
    ]


def test_confirmations_and_outcome() -> None:
    """Refused or unmirrored commands fail their step; a run passes only if every step does."""
    findings = confirmation_findings(
        (
            Confirmation("min_set_p", 10.0, True, "10", True),
            Confirmation("max_set_p", 120.0, False, "100", False),
            Confirmation("test", 1.0, True, "0", False),
        )
    )
    assert [finding.text(texts("en").findings) for finding in findings] == [
        "max_set_p = 120 was refused",
        "test = 1 not mirrored: the feedback shows 0",
    ]
    assert outcome((), aborted=True) is Outcome.ABORTED
    assert outcome((), aborted=False) is Outcome.PASSED


def test_restore_commands_in_order() -> None:
    """Limits first, then stops, reasons, and test mode last; only what the run changed and
    still holds."""
    during = DsoState(
        test_mode=True,
        stop_consumption=True,
        min_set_p=10.0,
        reason_p=Reason.TEST,
        q_mode=QMode.REMOTE,
    )
    sent = {
        Command.TEST: 1.0,
        Command.MIN_SET_P: 10.0,
        Command.Q_MODE: 2.0,
        Command.EMERGENCY_STOP_CONSUMPTION: 1.0,
        Command.REASON_P: 99.0,
        Command.MAX_SET_P: 50.0,
    }
    assert restore_commands(DsoState(), during, sent) == (
        (Command.MIN_SET_P, 100.0),
        (Command.Q_MODE, 1.0),
        (Command.EMERGENCY_STOP_CONSUMPTION, 0.0),
        (Command.REASON_P, 0.0),
        (Command.TEST, 0.0),
    )
    assert restore_commands(during, during, sent) == ()
    # The grid operator set MINSETP to 40 during the run: it stands.
    assert Command.MIN_SET_P not in dict(
        restore_commands(DsoState(), replace(during, min_set_p=40.0), sent)
    )
    # Nothing the run did not send is touched.
    assert restore_commands(DsoState(), during, {}) == ()


def test_finding_text_keeps_a_missing_placeholder_visible() -> None:
    """A translation asking for a placeholder the finding lacks does not raise."""
    finding = Finding("relay_not_switched", {"channel": "3"})
    assert finding.text({"relay_not_switched": "relay {channel} of {device}"}) == (
        "relay {channel} of {device} {'channel': '3'}"
    )
    assert finding.text({}) == "relay_not_switched"


def run(chain_verified: bool | None) -> Run:
    """A run of three steps: a pass, a fail, and one that never settled."""
    steps = certification_steps()
    stop = steps[1]
    goal = targets(DsoState(stop_production=True), SITE, RELAYS)
    passing = StepResult(
        step=steps[0],
        confirmations=(Confirmation("test", 1.0, True, "1", True),),
        targets=targets(DsoState(test_mode=True), SITE, RELAYS),
        first_actuation_s=None,
        settled_s=0.02,
        final=sample(5.0),
        findings=(),
        series=((0.0, 5.0), (0.01, 5.0)),
    )
    failing = StepResult(
        step=stop,
        confirmations=(Confirmation("emergency_stop_production", 1.0, True, "1", True),),
        targets=goal,
        first_actuation_s=0.004,
        settled_s=None,
        final=sample(-12.0, pv=12.0, relays=(False, False)),
        findings=check(goal, sample(-12.0, pv=12.0, relays=(False, False)), Tolerances()),
        series=((0.0, -30.0), (1.0, -20.0), (30.0, -12.0)),
    )
    return Run(
        run_id="20261206T050000000000Z",
        started=datetime(2026, 12, 6, 5, 0, tzinfo=UTC),
        ended=datetime(2026, 12, 6, 5, 1, tzinfo=UTC),
        outcome=outcome((passing, failing), aborted=False),
        site=SiteDescription(
            settings=(("provider", "fluvius"), ("import_capacity", "100 kW")),
            assets=(("PV <roof>", "solar", 50.0, "sensor.pv"),),
            relays=(("switch.relay_0", "injection", "ioLogik E1214"),),
            versions=(("Grid EMS", "0.1.0"), ("Home Assistant", "2025.4.4")),
        ),
        results=(passing, failing),
        steps_planned=len(steps),
        tolerances=Tolerances(),
        chain_verified=chain_verified,
    )


@pytest.mark.parametrize(
    ("verified", "status"),
    [
        (None, '<span class="verdict unknown">not checked</span>'),
        (True, '<span class="verdict passed">verified</span>'),
        (False, '<span class="verdict failed">broken</span>'),
    ],
)
def test_report_shows_steps_verdicts_and_chain(verified: bool | None, status: str) -> None:
    """Each step's row with its verdict, reasons and chart; the overall verdict; the chain."""
    html = render_report(run(verified), texts("en"))
    assert html.startswith("<!DOCTYPE html>")
    assert f"Audit trail hash chain: {status}" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<h2>Steps</h2>")[1].split("<tbody>")[1])
    assert len(rows) == 2
    assert "Test mode on, reasons 99" in rows[0]
    assert '<span class="verdict passed">Passed</span>' in rows[0]
    assert "Emergency stop production on" in rows[1]
    assert '<span class="verdict failed">Failed</span>' in rows[1]
    assert "PV did not follow: 12.0 kW above its limit after 30 s" in rows[1]
    assert "relay 0 of ioLogik E1214 did not switch" in rows[1]
    # Each asset against its range and each relay as read back, when the step ended.
    assert "PV: 12.0 kW (≤ 0.0)" in rows[1]
    assert "Battery: 0.0 kW (≤ 0.0 / ≥ -200.0)" in rows[1]
    assert "Charger: 0.0 kW (≥ -22.0)" in rows[1]
    assert "ioLogik E1214 #0: off (on)" in rows[1]
    assert all(row.count("<svg") == 1 and "<polyline" in row for row in rows)
    assert '<span class="verdict failed big">Failed</span>' in html
    assert "1 of 19 steps passed" in html
    assert "PV &lt;roof&gt;" in html
    assert "2025.4.4" in html


def test_report_is_self_contained_and_translated() -> None:
    """No script, stylesheet, image or font fetched; the other languages render too."""
    for language, title in (
        ("nl", "Inbedrijfstellingsrapport"),
        ("fr", "Rapport de mise en service"),
    ):
        html = render_report(run(None), texts(language))
        assert title in html
        assert f'<html lang="{language}">' in html
        assert not re.search(r"<script|<link|<img|src=|url\(|@import", html)
        assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 2
