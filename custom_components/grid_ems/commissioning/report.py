"""The commissioning report: one self-contained HTML page (inline CSS and SVG, nothing fetched).

Pure: a run and the texts of one language in, the page out. It prints to PDF from a browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Final

from .steps import Step
from .verdict import Outcome, Run, StepResult, fill

CHART_WIDTH: Final = 180
CHART_HEIGHT: Final = 90
_PAD: Final = 4
_NONE: Final = "\u2013"
"""What a value not measured shows (an en dash)."""

_CSS: Final = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1c1c;
margin:24px auto;max-width:1400px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;
border-bottom:2px solid #03a9f4;padding-bottom:2px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid #d0d0d0;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f2f6f8}td.num{text-align:right;white-space:nowrap}
.verdict{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff}
.passed{background:#2e7d32}.failed{background:#c62828}.aborted{background:#ef6c00}
.unknown{background:#757575}.big{font-size:20px;padding:4px 16px}
.meta{color:#555}ul.reasons{margin:4px 0 0;padding-left:18px}
td.reasons{min-width:220px}td.step{min-width:120px}td.commands{overflow-wrap:anywhere}
td.assets{font-size:12px;white-space:nowrap}
svg{display:block}.grid{stroke:#1565c0;stroke-width:1.5;fill:none}
.limit{stroke:#c62828;stroke-width:1;stroke-dasharray:4 3}.zero{stroke:#9e9e9e;stroke-width:.5}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"""


@dataclass(frozen=True, slots=True)
class ReportTexts:
    """The texts of one language: labels, step titles and findings, by key."""

    labels: Mapping[str, str]
    steps: Mapping[str, str]
    findings: Mapping[str, str]

    def label(self, key: str, **placeholders: str) -> str:
        """A label, HTML-escaped."""
        return escape(fill(self.labels.get(key, key), placeholders))


def step_title(step: Step, steps: Mapping[str, str]) -> str:
    """A step's title in the language of ``steps``."""
    return fill(steps.get(step.key, step.key), step.placeholders)


def _verdict(outcome: str, text: str, *, big: bool = False) -> str:
    return f'<span class="verdict {outcome}{" big" if big else ""}">{escape(text)}</span>'


def _seconds(value: float | None) -> str:
    """A latency: in ms below a second (commands act within milliseconds), else in s."""
    if value is None:
        return _NONE
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _kw(value: float) -> str:
    return f"{value + 0.0:.1f}"  # + 0.0: no "-0.0"


def chart(result: StepResult) -> str:
    """Connection-point power against the limits during a step, as inline SVG."""
    series = result.series
    limits = (result.targets.max_consumption_kw, -result.targets.max_injection_kw)
    values = [power for _, power in series] + [*limits, 0.0]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    end = max((time for time, _ in series), default=0.0) or 1.0

    def x(time: float) -> float:
        return _PAD + (CHART_WIDTH - 2 * _PAD) * time / end

    def y(power: float) -> float:
        return _PAD + (CHART_HEIGHT - 2 * _PAD) * (high - power) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}"'
        f' viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img">',
        f'<line class="zero" x1="{_PAD}" x2="{CHART_WIDTH - _PAD}" y1="{y(0):.1f}"'
        f' y2="{y(0):.1f}"/>',
    ]
    parts += [
        f'<line class="limit" x1="{_PAD}" x2="{CHART_WIDTH - _PAD}" y1="{y(limit):.1f}"'
        f' y2="{y(limit):.1f}"/>'
        for limit in limits
    ]
    if series:
        points = " ".join(f"{x(time):.1f},{y(power):.1f}" for time, power in series)
        parts.append(f'<polyline class="grid" points="{points}"/>')
    parts.append(
        f'<text x="{CHART_WIDTH - _PAD}" y="{CHART_HEIGHT - _PAD}" font-size="9"'
        f' text-anchor="end" fill="#555">{end:.1f} s</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[str]], classes: tuple[str, ...] = ()) -> str:
    """A table; ``classes`` are the cells' classes by column."""
    head = "".join(f"<th>{header}</th>" for header in headers)

    def cell(column: int, content: str) -> str:
        css = classes[column] if column < len(classes) else ""
        return f'<td class="{css}">{content}</td>' if css else f"<td>{content}</td>"

    body = "".join(
        "<tr>" + "".join(cell(column, content) for column, content in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _step_row(result: StepResult, texts: ReportTexts) -> list[str]:
    commands = "<br>".join(
        escape(f"{item.command} = {item.value:g}")
        + ("" if item.accepted and item.mirrored else " ✗")
        for item in result.confirmations
    )
    reasons = (
        "<ul class='reasons'>"
        + "".join(f"<li>{escape(finding.text(texts.findings))}</li>" for finding in result.findings)
        + "</ul>"
        if result.findings
        else ""
    )
    grid = result.final.grid_kw
    targets = result.targets
    outcome = Outcome.PASSED if result.passed else Outcome.FAILED
    return [
        escape(step_title(result.step, texts.steps)),
        commands,
        _seconds(result.first_actuation_s),
        _seconds(result.settled_s),
        _NONE if grid is None else f"{_kw(grid)} kW",
        escape(f"≤ {_kw(targets.max_consumption_kw)} / ≥ {_kw(-targets.max_injection_kw)}"),
        _assets_and_relays(result, texts),
        chart(result),
        _verdict(outcome.value, texts.label(outcome.value)) + reasons,
    ]


def _assets_and_relays(result: StepResult, texts: ReportTexts) -> str:
    """Each asset's power against its range, and each relay as read back, when the step ended."""
    final = result.final
    lines = []
    for asset in result.targets.assets:
        power = final.asset_kw.get(asset.asset_id)
        bounds = []
        if asset.max_production_kw is not None:
            bounds.append(f"≤ {_kw(asset.max_production_kw)}")
        if asset.max_consumption_kw is not None:
            bounds.append(f"≥ {_kw(-asset.max_consumption_kw)}")
        measured = _NONE if power is None else f"{_kw(power)} kW"
        lines.append(escape(f"{asset.name}: {measured} ({' / '.join(bounds)})"))
    for entity_id, expected in result.targets.relays.items():
        channel, device = final.relay_labels.get(entity_id, (entity_id, ""))
        read_back = final.relays.get(entity_id)
        state = _NONE if read_back is None else texts.label("on" if read_back else "off")
        wanted = texts.label("on" if expected else "off")
        lines.append(f"{escape(f'{device} #{channel}'.strip())}: {state} ({wanted})")
    return "<br>".join(lines)


def chain_status(verified: bool | None, texts: ReportTexts) -> str:
    """The audit chain's status: verified, broken, or not checked."""
    if verified is None:
        return _verdict("unknown", texts.label("chain_not_checked"))
    if verified:
        return _verdict("passed", texts.label("chain_verified"))
    return _verdict("failed", texts.label("chain_broken"))


def render_report(run: Run, texts: ReportTexts) -> str:
    """The commissioning report of ``run`` as one self-contained HTML page."""
    label = texts.label
    site = run.site
    passed = sum(result.passed for result in run.results)
    latencies = [r.first_actuation_s for r in run.results if r.first_actuation_s is not None]
    settled = [r.settled_s for r in run.results if r.settled_s is not None]
    tolerances = run.tolerances
    sections = [
        f"<h1>{label('title')}</h1>",
        f'<p class="meta">{label("started")}: {escape(run.started.isoformat(timespec="seconds"))}'
        f" · {label('ended')}: {escape(run.ended.isoformat(timespec='seconds'))}"
        f" · {escape(run.run_id)}</p>",
        f"<p>{label('overall')}: {_verdict(run.outcome.value, label(run.outcome.value), big=True)}"
        f" {label('steps_passed', passed=str(passed), total=str(run.steps_planned))}</p>",
        f"<p>{label('chain')}: {chain_status(run.chain_verified, texts)}</p>",
        f"<h2>{label('site')}</h2>",
        _table(
            [label("setting"), label("value")],
            [[label(key), escape(value)] for key, value in site.settings],
        ),
        f"<h2>{label('assets')}</h2>",
        _table(
            [label("asset"), label("category"), label("installed"), label("sensor")],
            [
                [escape(name), escape(category), f"{installed:g} kW", escape(sensor)]
                for name, category, installed, sensor in site.assets
            ],
        ),
        f"<h2>{label('relays')}</h2>",
        _table(
            [label("relay"), label("role"), label("device")],
            [[escape(cell) for cell in relay] for relay in site.relays],
        ),
        f"<h2>{label('versions')}</h2>",
        _table(
            [label("software"), label("version")],
            [[escape(name), escape(version)] for name, version in site.versions],
        ),
        f"<h2>{label('latencies')}</h2>",
        _table(
            [label("measure"), label("median"), label("maximum")],
            [
                [label(key), _seconds(_median(values)), _seconds(max(values, default=None))]
                for key, values in (("first_actuation", latencies), ("settled", settled))
            ],
        ),
        '<p class="meta">'
        + label(
            "tolerances",
            settle=f"{tolerances.settle_time_s:g}",
            grid=f"{tolerances.grid_kw:g}",
            asset=f"{tolerances.asset_pct:g}",
        )
        + "</p>",
        f"<h2>{label('steps')}</h2>",
        _table(
            [
                label("step"),
                label("commands"),
                label("first_actuation"),
                label("settled"),
                label("connection_point"),
                label("limit"),
                label("assets_relays"),
                label("chart"),
                label("verdict"),
            ],
            [_step_row(result, texts) for result in run.results],
            ("step", "commands", "num", "num", "num", "num", "assets", "", "reasons"),
        ),
    ]
    language = escape(texts.labels.get("language", "en"))
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{label('title')} {escape(run.run_id)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
