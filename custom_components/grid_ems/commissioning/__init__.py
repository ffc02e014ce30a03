"""Commissioning: the certification rehearsal's steps, their verdicts and the report.

Pure (no Home Assistant): ``steps`` defines the sequence and the targets of each DSO state,
``verdict`` judges samples of the site against them, ``report`` renders a run as a
self-contained HTML page. The Home Assistant runner is ``grid_link/commissioning.py``.
"""

from .report import ReportTexts, chain_status, chart, render_report, step_title
from .steps import (
    AssetTarget,
    Step,
    Targets,
    certification_steps,
    restore_commands,
    targets,
)
from .verdict import (
    Confirmation,
    Finding,
    Outcome,
    Run,
    Sample,
    SiteDescription,
    StepResult,
    Tolerances,
    check,
    confirmation_findings,
    outcome,
)

__all__ = [
    "AssetTarget",
    "Confirmation",
    "Finding",
    "Outcome",
    "ReportTexts",
    "Run",
    "Sample",
    "SiteDescription",
    "Step",
    "StepResult",
    "Targets",
    "Tolerances",
    "certification_steps",
    "chain_status",
    "chart",
    "check",
    "confirmation_findings",
    "outcome",
    "render_report",
    "restore_commands",
    "step_title",
    "targets",
]
