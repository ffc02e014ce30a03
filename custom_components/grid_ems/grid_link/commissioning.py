"""The commissioning run in Home Assistant: the certification rehearsal, measured on the site.

The steps, their targets and verdicts and the report are pure (``commissioning/``). This runner
sends each step's commands on the link's own command path (as local commands, audited), samples
the site until it meets the targets or the settle time is up, restores the DSO state from before
the run, and keeps the report in the configuration directory (the last ``REPORTS_KEPT``), served
to logged-in users by ``CommissioningReportView``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from aiohttp import web
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_ON, __version__ as ha_version
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.translation import async_get_translations
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_when_setup
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..commissioning import (
    Confirmation,
    Finding,
    Outcome,
    ReportTexts,
    Run,
    Sample,
    SiteDescription,
    Step,
    StepResult,
    Targets,
    Tolerances,
    certification_steps,
    check,
    confirmation_findings,
    outcome,
    render_report,
    restore_commands,
    step_title,
    targets,
)
from ..const import DOMAIN, TITLE
from ..enforcement.ports import site_registry
from ..iec104 import Quality
from ..netflex import AuditTrail, Command, DsoState
from ..states import kilo_value
from .const import (
    CONF_ALLOWED_CLIENTS,
    CONF_BIND_HOST,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_PROVIDER,
    CONF_TLS_CERTIFICATE,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from ..control.model import Relay
    from ..enforcement import EnforcementCoordinator
    from ..netflex import AuditRecord, MonitorValue, SiteParameters

_LOGGER = logging.getLogger(__package__)

REPORTS_KEPT: Final = 10
REPORT_DIR: Final = f"{DOMAIN}_commissioning"
"""Folder of the reports in Home Assistant's configuration directory, one subfolder a link."""
REPORT_URL: Final = "/api/grid_ems/commissioning/{entry_id}/{run_id}"
LATEST: Final = "latest"
RUN_ID: Final = re.compile(r"\d{8}T\d{6}\d{6}Z")
NOTIFICATION_LINK_VALID: Final = timedelta(days=7)
"""How long the report link in the notification works (a signed path)."""
MAX_SERIES: Final = 300
"""Connection-point samples kept per step for its chart."""
TEXT_GROUPS: Final = ("labels", "steps", "findings")


class CommissionedLink(Protocol):
    """What the run needs of the grid operator link (``GridLinkCoordinator``)."""

    @property
    def state(self) -> DsoState:
        """The DSO state the site obeys."""

    @property
    def site(self) -> SiteParameters:
        """Contractual capacities and the registered assets."""

    @property
    def port(self) -> int:
        """The port the IEC-104 server listens on."""

    @property
    def audit(self) -> AuditTrail:
        """The grid operator's commands, in their hash chain."""

    @property
    def commissioning_allowed(self) -> bool:
        """Whether local commands may drive the site: test mode, or no RTU connected."""

    async def async_execute_local(self, command: Command, number: float) -> AuditRecord:
        """Execute a command on the RTU's own path, audited as local."""

    def feedback(self, command: Command) -> MonitorValue:
        """What the feedback point of ``command`` shows."""

    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Call ``update_callback`` whenever the link's snapshot changes."""


class CommissioningAbortedError(Exception):
    """The run was aborted (button, action, or the link unloading)."""

    result: StepResult | None = None
    """The step under way, as far as it got."""


@dataclass(frozen=True, slots=True)
class Progress:
    """What the progress sensor shows."""

    state: str = "idle"
    """idle, running, or the last run's outcome (passed, failed, aborted)."""
    run_id: str | None = None
    step: str | None = None
    """The current step's title."""
    step_index: int = 0
    """Steps done."""
    steps: int = 0
    report: str | None = None
    """Path of the last run's report."""
    report_link: str | None = None
    """The last report's whole address with a signature valid NOTIFICATION_LINK_VALID, where
    Home Assistant knows its own address: Home Assistant shows it as a link on the device page
    (a path without a signature cannot open: a browser sends no token when it follows a link)."""

    @property
    def percentage(self) -> int:
        """Progress of the run in %."""
        return round(100 * self.step_index / self.steps) if self.steps else 0


def report_dir(hass: HomeAssistant, entry_id: str) -> Path:
    """Where a link's reports are kept."""
    return Path(hass.config.path(REPORT_DIR, entry_id))


def report_path(entry_id: str, run_id: str) -> str:
    """The URL path of a report."""
    return REPORT_URL.format(entry_id=entry_id, run_id=run_id)


async def async_texts(hass: HomeAssistant) -> ReportTexts:
    """The commissioning texts in Home Assistant's language (English where one is missing)."""
    strings = await async_get_translations(hass, hass.config.language, "selector", [DOMAIN])
    groups: dict[str, dict[str, str]] = {group: {} for group in TEXT_GROUPS}
    for group in TEXT_GROUPS:
        prefix = f"component.{DOMAIN}.selector.commissioning_{group}.options."
        groups[group] = {
            key.removeprefix(prefix): text
            for key, text in strings.items()
            if key.startswith(prefix)
        }
    return ReportTexts(groups["labels"], groups["steps"], groups["findings"])


def _mirrored(shown: object, number: float) -> bool:
    """Whether a feedback value shows a command's number (ON/OFF as 1/0, double points 1/2)."""
    return isinstance(shown, bool | int | float) and float(shown) == number


class CommissioningRunner(DataUpdateCoordinator[Progress]):
    """Runs the certification rehearsal on one link and keeps its reports."""

    config_entry: ConfigEntry[Any]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        link: CommissionedLink,
        enforcement: EnforcementCoordinator,
    ) -> None:
        """Prepare the runner; ``async_load`` reads the last run's summary."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} commissioning")
        self.link = link
        self.enforcement = enforcement
        self.tolerances = Tolerances()
        """Used when a run is started without its own."""
        self.data = Progress()
        self.last_summary: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._abort = asyncio.Event()
        self._changed = asyncio.Event()
        self._stopping = False
        self._writes: list[float] = []
        self._sent: dict[Command, float] = {}
        """The last number the run under way sent for each command (what it restores)."""
        """Loop times of the enforcement's writes during the step under way."""

    @property
    def directory(self) -> Path:
        """Where this link's reports are kept."""
        return report_dir(self.hass, self.config_entry.entry_id)

    @property
    def running(self) -> bool:
        """Whether a run is under way."""
        return self._task is not None and not self._task.done()

    async def async_load(self) -> None:
        """Read the last run's summary, if a run was made."""
        self.last_summary = await self.hass.async_add_executor_job(
            _read_last_summary, self.directory
        )
        if self.last_summary is not None:
            run_id = self.last_summary["run_id"]
            path = report_path(self.config_entry.entry_id, run_id)
            self.data = Progress(
                state=self.last_summary["outcome"],
                run_id=run_id,
                report=path,
                report_link=self._report_link(self._signed(path)),
            )

    def _signed(self, path: str) -> str:
        """``path`` with a signature that opens it without a login for a while."""
        if "http" not in self.hass.config.components:
            return path  # no web server: nobody can follow it anyway
        from homeassistant.components.http.auth import async_sign_path  # noqa: PLC0415

        return async_sign_path(self.hass, path, NOTIFICATION_LINK_VALID)

    def _report_link(self, signed: str) -> str | None:
        """The whole address of a signed path, where Home Assistant knows its own address."""
        try:
            return f"{get_url(self.hass)}{signed}"
        except NoURLAvailableError:
            return None

    async def async_stop(self) -> None:
        """Abort a run under way and wait until it has restored the state (the link unloads).

        The link stops after this; the enforcement stops meanwhile, so the restore does not wait
        for it (it gives the setpoints back when it starts again).
        """
        self._stopping = True
        if self.running:
            assert self._task is not None
            self._abort.set()
            self._changed.set()
            await asyncio.wait([self._task])

    # Start and abort -----------------------------------------------------------------------

    @callback
    def async_start(self, tolerances: Tolerances | None = None) -> Progress:
        """Start a run; refused while one runs, or while an RTU is connected outside test mode."""
        if self.running:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="commissioning_running"
            )
        if not self.link.commissioning_allowed:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="commissioning_not_allowed"
            )
        steps = certification_steps()
        run_id = dt_util.utcnow().strftime("%Y%m%dT%H%M%S%fZ")
        self._abort.clear()
        self.async_set_updated_data(
            replace(
                self.data, state="running", run_id=run_id, step=None, step_index=0, steps=len(steps)
            )
        )
        # Not one of the entry's tasks: those are cancelled when it unloads, and a run must
        # restore the state first (``async_stop`` waits for it).
        self._task = self.hass.async_create_background_task(
            self._async_run(run_id, steps, tolerances or self.tolerances),
            f"{DOMAIN} commissioning {run_id}",
        )
        return self.data

    @callback
    def async_abort(self) -> None:
        """Abort the run under way; it restores the state from before it."""
        if not self.running:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="commissioning_not_running"
            )
        self._abort.set()
        self._changed.set()

    async def async_wait(self) -> None:
        """Wait until the run under way has ended (and its report is kept)."""
        if self._task is not None:
            await asyncio.wait([self._task])

    # The run -------------------------------------------------------------------------------

    async def _async_run(
        self, run_id: str, steps: tuple[Step, ...], tolerances: Tolerances
    ) -> None:
        texts = await async_texts(self.hass)
        self._sent.clear()
        previous = self.link.state
        started = dt_util.utcnow()
        results: list[StepResult] = []
        aborted = False
        unsubscribe = self._listen()
        try:
            for index, step in enumerate(steps):
                self.async_set_updated_data(
                    replace(
                        self.data,
                        step=step_title(step, texts.steps),
                        step_index=index,
                    )
                )
                results.append(await self._async_step(step, tolerances))
        except CommissioningAbortedError as err:
            aborted = True
            if err.result is not None:
                results.append(err.result)
        except Exception:
            # A fault of the run itself must not leave the site in a rehearsal's state, nor the
            # progress at "running": it ends as aborted, restored, with what it measured.
            _LOGGER.exception("Commissioning run %s failed; restoring the state", run_id)
            aborted = True
        finally:
            try:
                await self._async_restore(previous, tolerances)
            finally:
                unsubscribe()
        run = Run(
            run_id=run_id,
            started=started,
            ended=dt_util.utcnow(),
            outcome=outcome(tuple(results), aborted=aborted),
            site=await self._async_site(),
            results=tuple(results),
            steps_planned=len(steps),
            tolerances=tolerances,
            # The report says whether the audit trail could have been edited: both chains.
            chain_verified=self.link.audit.status.verified
            and self.enforcement.actions.status.verified,
        )
        await self._async_keep(run, texts)

    def _listen(self) -> CALLBACK_TYPE:
        """Wake the run on every state change and every enforcement write."""

        @callback
        def on_write(_entity_id: str) -> None:
            self._writes.append(self.hass.loop.time())
            self._changed.set()

        @callback
        def on_change(_event: Event[Any]) -> None:
            self._changed.set()

        unsubscribers = [
            self.enforcement.async_listen_writes(on_write),
            self.hass.bus.async_listen(EVENT_STATE_CHANGED, on_change),
            self.link.async_add_listener(self._changed.set),
            self.enforcement.async_add_listener(self._changed.set),
        ]

        def unsubscribe() -> None:
            for unsubscriber in unsubscribers:
                unsubscriber()

        return unsubscribe

    async def _async_wait_for(
        self, condition: Callable[[], bool], deadline: float, *, abortable: bool = True
    ) -> bool:
        """Wait until ``condition`` holds (True) or the deadline (False); raise when aborted."""
        while True:
            if abortable and self._abort.is_set():
                raise CommissioningAbortedError
            if condition():
                return True
            if self.hass.loop.time() >= deadline:
                return False
            self._changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                pass

    async def _async_step(self, step: Step, tolerances: Tolerances) -> StepResult:
        """Send a step's commands, then sample the site until it meets the targets or time is up."""
        loop = self.hass.loop
        start = loop.time()
        self._writes.clear()
        confirmations: list[Confirmation] = []
        for command, number in step.commands:
            if self._abort.is_set():
                raise CommissioningAbortedError
            record = await self.link.async_execute_local(command, number)
            self._sent[command] = number
            shown = self.link.feedback(command)
            confirmations.append(
                Confirmation(
                    command.value,
                    number,
                    record.accepted,
                    f"{float(shown.value):g}",
                    record.accepted
                    and shown.quality is Quality.GOOD
                    and _mirrored(shown.value, number),
                )
            )
        goal = targets(self.link.state, self.link.site, self._relays())
        labels = self._relay_labels()
        series: list[tuple[float, float]] = []
        latest: list[Sample] = []

        def met() -> bool:
            sample = self._sample(loop.time() - start, goal, labels)
            latest[:] = [sample]
            if sample.grid_kw is not None and len(series) < MAX_SERIES:
                series.append((sample.elapsed_s, sample.grid_kw))
            return not check(goal, sample, tolerances) and self.enforcement.settled

        def result(final: Sample, *, settled: bool, aborted: bool = False) -> StepResult:
            first_write = next((time for time in self._writes if time >= start), None)
            findings = confirmation_findings(tuple(confirmations))
            if aborted:
                findings += (Finding("step_aborted", {"seconds": f"{final.elapsed_s:.0f}"}),)
            return StepResult(
                step=step,
                confirmations=tuple(confirmations),
                targets=goal,
                first_actuation_s=None if first_write is None else first_write - start,
                settled_s=final.elapsed_s if settled else None,
                final=final,
                findings=findings + check(goal, final, tolerances),
                series=tuple(series),
            )

        try:
            settled = await self._async_wait_for(met, start + tolerances.settle_time_s)
        except CommissioningAbortedError as err:
            # The step under way goes in the report too, with what it showed when aborted.
            err.result = result(
                self._sample(loop.time() - start, goal, labels), settled=False, aborted=True
            )
            raise
        return result(latest[0], settled=settled)

    async def _async_restore(self, previous: DsoState, tolerances: Tolerances) -> None:
        """Bring back the DSO state from before the run; wait for the enforcement to settle.

        Not abortable: the state is restored even while the link unloads (up to the settle time).
        """
        for command, number in restore_commands(previous, self.link.state, self._sent):
            record = await self.link.async_execute_local(command, number)
            if not record.accepted:
                _LOGGER.error("Commissioning could not restore %s: %s", command, record.refusal)
        if self._stopping:
            return
        await self._async_wait_for(
            lambda: self.enforcement.settled,
            self.hass.loop.time() + tolerances.settle_time_s,
            abortable=False,
        )

    # Sampling ------------------------------------------------------------------------------

    def _relays(self) -> tuple[Relay, ...]:
        return site_registry(self.hass).relays()

    def _relay_labels(self) -> dict[str, tuple[str, str]]:
        """Each relay's channel and device model, as a finding names them."""
        entities = er.async_get(self.hass)
        devices = dr.async_get(self.hass)
        labels: dict[str, tuple[str, str]] = {}
        for relay in self._relays():
            entry = entities.async_get(relay.entity_id)
            device = (
                None
                if entry is None or entry.device_id is None
                else devices.async_get(entry.device_id)
            )
            match = None if entry is None else re.search(r"(\d+)$", entry.unique_id)
            labels[relay.entity_id] = (
                relay.entity_id if match is None else match.group(1),
                "" if device is None else (device.model or device.name or ""),
            )
        return labels

    def _sample(
        self, elapsed: float, goal: Targets, labels: Mapping[str, tuple[str, str]]
    ) -> Sample:
        states = self.hass.states
        asset_kw: dict[str, float | None] = {}
        reactive: list[float | None] = []
        for asset in self.link.site.assets:
            power = kilo_value(states.get(asset.p_sensor))
            asset_kw[asset.asset_id] = (
                None if power is None else (-power if asset.invert_sign else power)
            )
            if asset.q_sensor is not None:
                q = kilo_value(states.get(asset.q_sensor))
                reactive.append(None if q is None else (-q if asset.invert_sign else q))
        relays: dict[str, bool | None] = {}
        for entity_id in goal.relays:
            state = states.get(entity_id)
            relays[entity_id] = (
                None
                if state is None or state.state not in ("on", "off")
                else state.state == STATE_ON
            )
        return Sample(
            elapsed_s=elapsed,
            grid_kw=self.enforcement.grid_power_kw,
            asset_kw=asset_kw,
            relays=relays,
            relay_labels=labels,
            reactive_kvar=None
            if not reactive or any(q is None for q in reactive)
            else sum(q for q in reactive if q is not None),
        )

    # The report ----------------------------------------------------------------------------

    async def _async_site(self) -> SiteDescription:
        entry = self.config_entry
        data = entry.data
        integration = await async_get_integration(self.hass, DOMAIN)
        labels = self._relay_labels()
        return SiteDescription(
            settings=(
                ("provider", str(data[CONF_PROVIDER])),
                ("bind_host", str(data[CONF_BIND_HOST])),
                ("port", str(self.link.port)),
                ("common_address", str(data[CONF_COMMON_ADDRESS])),
                ("allowed_clients", ", ".join(data.get(CONF_ALLOWED_CLIENTS, ())) or "*"),
                ("tls", "TLS" if data.get(CONF_TLS_CERTIFICATE) else "-"),
                ("import_capacity", f"{float(data[CONF_IMPORT_CAPACITY]):g} kW"),
                ("export_capacity", f"{float(data[CONF_EXPORT_CAPACITY]):g} kW"),
            ),
            assets=tuple(
                (asset.name, asset.category.value, asset.installed_power_kw, asset.p_sensor)
                for asset in self.link.site.assets
            ),
            relays=tuple(
                (relay.entity_id, relay.role.value, _relay_device(*labels[relay.entity_id]))
                for relay in self._relays()
            ),
            versions=((TITLE, str(integration.version)), ("Home Assistant", ha_version)),
        )

    async def _async_keep(self, run: Run, texts: ReportTexts) -> None:
        """Store the report, keep the last ones, tell the user, and show the outcome."""
        entry_id = self.config_entry.entry_id
        summary = run.summary(texts.findings)
        await self.hass.async_add_executor_job(
            _write_report, self.directory, run.run_id, render_report(run, texts), summary
        )
        self.last_summary = summary
        path = report_path(entry_id, run.run_id)
        passed = sum(result.passed for result in run.results)
        link = self._signed(path)
        persistent_notification.async_create(
            self.hass,
            texts.label(
                "notification_message",
                outcome=texts.label(run.outcome.value),
                passed=str(passed),
                total=str(run.steps_planned),
                url=link,
            ),
            title=texts.label("notification_title"),
            notification_id=f"{DOMAIN}_commissioning_{entry_id}",
        )
        _LOGGER.info("Commissioning run %s ended: %s", run.run_id, run.outcome.value)
        self.async_set_updated_data(
            replace(
                self.data,
                state=run.outcome.value,
                step=None,
                step_index=len(run.results)
                if run.outcome is not Outcome.PASSED
                else run.steps_planned,
                report=path,
                report_link=self._report_link(link),
            )
        )

    def diagnostics(self) -> dict[str, Any] | None:
        """The last run's summary."""
        return self.last_summary


def _relay_device(channel: str, device: str) -> str:
    """A relay's module and channel, as the report lists it."""
    return f"{device} #{channel}" if device else channel


def _write_report(directory: Path, run_id: str, html: str, summary: dict[str, Any]) -> None:
    """Write a report and its summary; delete all but the last ``REPORTS_KEPT``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{run_id}.html").write_text(html, "utf-8")
    (directory / f"{run_id}.json").write_text(json.dumps(summary, indent=1), "utf-8")
    for old in sorted(directory.glob("*.html"))[:-REPORTS_KEPT]:
        old.unlink()
        old.with_suffix(".json").unlink(missing_ok=True)


def _read_last_summary(directory: Path) -> dict[str, Any] | None:
    """The summary of the newest report, None without one (or an unreadable one)."""
    summaries = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not summaries:
        return None
    try:
        summary: dict[str, Any] = json.loads(summaries[-1].read_text("utf-8"))
    except (OSError, ValueError) as err:
        _LOGGER.warning("Last commissioning summary not readable: %s", err)
        return None
    return summary


def _read_report(directory: Path, run_id: str) -> str | None:
    if run_id == LATEST:
        reports = sorted(directory.glob("*.html")) if directory.is_dir() else []
        return reports[-1].read_text("utf-8") if reports else None
    path = directory / f"{run_id}.html"
    return path.read_text("utf-8") if path.is_file() else None


class CommissioningReportView(HomeAssistantView):
    """A link's commissioning report (``latest`` or a run id), for logged-in users."""

    url = REPORT_URL
    name = "api:grid_ems:commissioning_report"
    requires_auth = True

    async def get(self, request: web.Request, entry_id: str, run_id: str) -> web.Response:
        """The report page."""
        hass = request.app[KEY_HASS]
        entry = hass.config_entries.async_get_entry(entry_id)
        if (
            entry is None
            or entry.domain != DOMAIN
            or entry.state is not ConfigEntryState.LOADED
            or not (run_id == LATEST or RUN_ID.fullmatch(run_id))
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        html = await hass.async_add_executor_job(_read_report, report_dir(hass, entry_id), run_id)
        if html is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(text=html, content_type="text/html")


_VIEW_REGISTERED: HassKey[bool] = HassKey(f"{DOMAIN}_commissioning_view")


@callback
def async_register_report_view(hass: HomeAssistant) -> None:
    """Serve the reports once HTTP is up (once for every link)."""
    if hass.data.get(_VIEW_REGISTERED):
        return
    hass.data[_VIEW_REGISTERED] = True

    async def register(hass: HomeAssistant, _component: str) -> None:
        hass.http.register_view(CommissioningReportView())

    async_when_setup(hass, "http", register)


async def async_setup_commissioning(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    link: CommissionedLink,
    enforcement: EnforcementCoordinator,
) -> CommissioningRunner:
    """The link's commissioning runner.

    A run under way is aborted, and restores the state, when Home Assistant stops: in its first
    stage, while the link still runs (the link's unload does the same when the entry unloads).
    """
    runner = CommissioningRunner(hass, entry, link, enforcement)
    await runner.async_load()
    entry.async_on_unload(
        hass.async_add_shutdown_job(HassJob(runner.async_stop, f"{DOMAIN} commissioning stop"))
    )
    async_register_report_view(hass)
    return runner
