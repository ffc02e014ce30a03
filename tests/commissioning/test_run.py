"""The commissioning run on a demo-like site: every step passes; faults fail exactly their steps.

Real Home Assistant, real simulators; the run is started from the link's button and action and
measured on the simulated devices. Waits are on the run's progress and end, never on time.
"""

from __future__ import annotations

import asyncio
import re
from http import HTTPStatus
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_get_persistent_notifications
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.grid_ems.commissioning import certification_steps
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.netflex import LOCAL_SOURCE, Command, DsoState, Reason
from simulators.rtu import RtuSimulator
from tests.simulated_site import CONSUMPTION_RELAY, INJECTION_RELAY

from .conftest import QUICK, Site

PROGRESS = "sensor.grid_operator_link_commissioning"
START = "button.grid_operator_link_start_commissioning_run"
ABORT = "button.grid_operator_link_abort_commissioning_run"


async def wait_for_step(site: Site, index: int) -> None:
    """Wait until the run has reached step ``index``."""
    runner = site.data.commissioning
    reached = asyncio.Event()

    @callback
    def progressed() -> None:
        if runner.data.step_index >= index:
            reached.set()

    unsubscribe = runner.async_add_listener(progressed)
    try:
        progressed()
        async with asyncio.timeout(30):
            await reached.wait()
    finally:
        unsubscribe()


async def test_demo_site_passes_every_step(hass: HomeAssistant, site: Site) -> None:
    """Started by the action: every step is confirmed, mirrored, actuated and settled."""
    link = site.data.coordinator
    audited = len(link.audit)
    response = await hass.services.async_call(
        DOMAIN,
        "start_commissioning",
        {"config_entry_id": site.link_entry.entry_id, "settle_time": QUICK.settle_time_s},
        blocking=True,
        return_response=True,
    )
    steps = len(certification_steps())
    assert response is not None
    assert response["steps"] == steps
    assert site.state(PROGRESS) == "running"
    await site.data.commissioning.async_wait()
    summary = site.data.commissioning.last_summary
    assert summary is not None
    failed = [step for step in summary["steps"] if not step["passed"]]
    assert failed == []
    assert summary["outcome"] == "passed"
    assert len(summary["steps"]) == steps
    # The stops and the limits that bite were carried out by writes, and settled.
    by_step = {(step["step"], step.get("level")): step for step in summary["steps"]}
    for key in (
        ("stop_production_on", None),
        ("max_injection", "10"),
        ("max_asset_production", "50"),
    ):
        assert by_step[key]["first_actuation_s"] is not None, key
        assert by_step[key]["settled_s"] is not None, key
    # The Q band (remote Q) moved the PV's reactive power from -50 kvar into -30..30 kvar.
    assert by_step[("q_band", None)]["first_actuation_s"] is not None
    assert site.state("input_number.pv_q") == "-50.0"
    state = hass.states.get(PROGRESS)
    assert state is not None
    assert state.state == "passed"
    assert state.attributes["progress"] == 100
    assert state.attributes["report"].endswith(summary["run_id"])
    # Every command was a local one, and the state from before the run is back.
    records = list(link.audit)[audited:]
    assert records
    assert {record.source for record in records} == {LOCAL_SOURCE}
    assert link.state == DsoState()
    assert site.state(INJECTION_RELAY) == site.state(CONSUMPTION_RELAY) == "off"


async def test_faulty_site_fails_exactly_the_faulty_steps(hass: HomeAssistant, site: Site) -> None:
    """A battery that ignores its setpoint, a stuck relay and a PV inverter that ignores its
    limit: the steps they spoil fail, with their reasons, and no other step does."""
    site.bess.stuck_kw = 30
    site.relays.stuck.add(0)
    await site.set("input_boolean.pv_ignores_limit", True)
    site.data.commissioning.tolerances = QUICK
    await hass.services.async_call("button", "press", {"entity_id": START}, blocking=True)
    await site.data.commissioning.async_wait()
    summary = site.data.commissioning.last_summary
    assert summary is not None
    assert summary["outcome"] == "failed"
    failed = {
        (step["step"], step.get("level")): step["reasons"]
        for step in summary["steps"]
        if not step["passed"]
    }
    assert failed == {
        ("stop_production_on", None): [
            "connection point injects 65.0 kW: 65.0 kW above its limit of 0.0 kW after 4 s",
            "Battery did not follow: 30.0 kW above its limit after 4 s",
            "PV did not follow: 45.0 kW above its limit after 4 s",
            "relay 0 of ioLogik E1214 did not switch",
        ],
        # 45 kW of PV and 30 kW of battery over a load of 10 kW: nothing holds the export back.
        ("max_injection", "50"): [
            "connection point injects 65.0 kW: 15.0 kW above its limit of 50.0 kW after 4 s"
        ],
        ("max_injection", "10"): [
            "connection point injects 65.0 kW: 55.0 kW above its limit of 10.0 kW after 4 s"
        ],
        ("max_asset_production", "50"): ["PV did not follow: 20.0 kW above its limit after 4 s"],
        ("max_asset_production", "10"): [
            "Battery did not follow: 10.0 kW above its limit after 4 s",
            "PV did not follow: 40.0 kW above its limit after 4 s",
        ],
    }


async def test_aborted_run_restores_the_state_from_before(hass: HomeAssistant, site: Site) -> None:
    """Aborted during the stops: the DSO state, relays and setpoints are as before the run."""
    link = site.data.coordinator
    before = link.state
    await hass.services.async_call("button", "press", {"entity_id": START}, blocking=True)
    with pytest.raises(HomeAssistantError, match="already under way"):
        await hass.services.async_call("button", "press", {"entity_id": START}, blocking=True)
    await wait_for_step(site, 3)
    await hass.services.async_call("button", "press", {"entity_id": ABORT}, blocking=True)
    await site.data.commissioning.async_wait()
    summary = site.data.commissioning.last_summary
    assert summary is not None
    assert summary["outcome"] == "aborted"
    assert 3 <= len(summary["steps"]) < len(certification_steps())
    # The step under way is reported as aborted, with the time it had run.
    interrupted = summary["steps"][-1]
    assert not interrupted["passed"]
    assert re.fullmatch(r"aborted after \d+ s", interrupted["reasons"][0])
    assert site.state(PROGRESS) == "aborted"
    assert link.state == before
    assert site.state(INJECTION_RELAY) == site.state(CONSUMPTION_RELAY) == "off"
    assert site.relays.coils[0] is site.relays.coils[1] is False
    assert site.state("input_number.pv_limit") == "100.0"
    assert site.state("input_boolean.ev") == "on"
    assert site.state("select.bess_command_source") == "local"
    with pytest.raises(HomeAssistantError, match="No commissioning run"):
        await hass.services.async_call(
            DOMAIN,
            "abort_commissioning",
            {"config_entry_id": site.link_entry.entry_id},
            blocking=True,
        )


async def test_refused_while_an_rtu_is_connected_outside_test_mode(
    hass: HomeAssistant, site: Site
) -> None:
    """With the grid operator's RTU connected, a run needs test mode (theirs or the link's); what
    they command during the run is not undone by its restore."""
    link = site.data.coordinator
    connected = asyncio.Event()
    unsubscribe = link.async_add_listener(
        lambda: connected.set() if link.data.rtu is not None else None
    )
    rtu = RtuSimulator(port=link.port)
    await rtu.start()
    try:
        async with asyncio.timeout(10):
            await connected.wait()
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call("button", "press", {"entity_id": START}, blocking=True)
        assert refused.value.translation_key == "commissioning_not_allowed"
        assert site.state(PROGRESS) == "idle"
        assert not site.data.commissioning.running
        # The grid operator switches test mode on: the run may start; it leaves test mode on.
        assert (await rtu.command(Command.TEST, True)).positive
        await hass.services.async_call(
            DOMAIN,
            "start_commissioning",
            {"config_entry_id": site.link_entry.entry_id, "settle_time": QUICK.settle_time_s},
            blocking=True,
        )
        await wait_for_step(site, 1)
        # The grid operator's own command during the run stands after it.
        assert (await rtu.command(Command.REASON_P, 1.0)).positive
        site.data.commissioning.async_abort()
        await site.data.commissioning.async_wait()
        assert link.state == DsoState(test_mode=True, reason_p=Reason.GRID_CONGESTION)
    finally:
        unsubscribe()
        await rtu.stop()


async def test_report_served_to_logged_in_users_and_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    site: Site,
) -> None:
    """The report behind the login and by the notification's signed link; its summary in the
    diagnostics; the last ten runs kept."""
    # Before the first client: the router takes no views after it started.
    assert await async_setup_component(hass, "diagnostics", {})
    await hass.config.async_update(internal_url="http://grid-ems.local:8123")
    runner = site.data.commissioning
    entry_id = site.link_entry.entry_id
    for _ in range(2):
        runner.async_start(QUICK)
        await wait_for_step(site, 2)
        runner.async_abort()
        await runner.async_wait()
    summary = runner.last_summary
    assert summary is not None
    path = f"/api/grid_ems/commissioning/{entry_id}/{summary['run_id']}"
    assert site.state(PROGRESS) == "aborted"
    assert hass.states.get(PROGRESS).attributes["report"] == path  # type: ignore[union-attr]
    client = await hass_client()
    for url in (path, f"/api/grid_ems/commissioning/{entry_id}/latest"):
        response = await client.get(url)
        assert response.status == HTTPStatus.OK
        html = await response.text()
        assert "Grid EMS commissioning report" in html
        assert summary["run_id"] in html
        assert 'Audit trail hash chain: <span class="verdict passed">verified</span>' in html
    for url in (
        f"/api/grid_ems/commissioning/{entry_id}/20200101T000000000000Z",
        f"/api/grid_ems/commissioning/{entry_id}/secrets",
        f"/api/grid_ems/commissioning/not-an-entry/{summary['run_id']}",
    ):
        assert (await client.get(url)).status == HTTPStatus.NOT_FOUND, url
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(path)).status == HTTPStatus.UNAUTHORIZED
    # The notification links the report with a signed path.
    notification = async_get_persistent_notifications(hass)[f"{DOMAIN}_commissioning_{entry_id}"]
    assert notification["title"] == "Commissioning run ended"
    link = re.search(r"\((/api/grid_ems/commissioning/[^)]+)\)", notification["message"])
    assert link is not None
    assert link.group(1).startswith(f"{path}?authSig=")
    assert (await anonymous.get(link.group(1))).status == HTTPStatus.OK
    # The sensor on the link's device page links it too: a whole address, signed.
    report_link = hass.states.get(PROGRESS).attributes["report_link"]  # type: ignore[union-attr]
    assert report_link.startswith(f"http://grid-ems.local:8123{path}?authSig=")
    signed = report_link.removeprefix("http://grid-ems.local:8123")
    assert (await anonymous.get(signed)).status == HTTPStatus.OK
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, site.link_entry)
    assert diagnostics["runtime"]["commissioning"]["run_id"] == summary["run_id"]
    assert diagnostics["runtime"]["commissioning"]["outcome"] == "aborted"
    assert diagnostics["runtime"]["commissioning"]["chain_verified"] is True


async def test_only_the_last_ten_reports_are_kept(hass: HomeAssistant, site: Site) -> None:
    """Twelve runs: the ten newest reports stay, and the newest summary is read back on start."""
    runner = site.data.commissioning
    for _ in range(12):
        runner.async_start(QUICK)
        runner.async_abort()
        await runner.async_wait()
    reports = sorted(runner.directory.glob("*.html"))
    assert len(reports) == 10
    assert len(list(runner.directory.glob("*.json"))) == 10
    newest = runner.last_summary
    assert newest is not None
    assert reports[-1].stem == newest["run_id"]
    assert await hass.config_entries.async_reload(site.link_entry.entry_id)
    reloaded = site.link_entry.runtime_data.commissioning
    assert reloaded.last_summary == newest
    assert reloaded.data.state == "aborted"
    # Home Assistant knows no address of its own here: the report has no link to show.
    assert (
        reloaded.data.report
        == f"/api/grid_ems/commissioning/{site.link_entry.entry_id}/{newest['run_id']}"
    )
    assert reloaded.data.report_link is None


async def test_unloading_the_link_aborts_the_run_and_restores(
    hass: HomeAssistant, site: Site
) -> None:
    """Home Assistant stops (the link unloads) during a run: the state before it is kept."""
    runner = site.data.commissioning
    runner.async_start(QUICK)
    await wait_for_step(site, 2)
    assert runner.data.state == "running"
    assert await hass.config_entries.async_unload(site.link_entry.entry_id)
    assert not runner.running
    assert runner.last_summary is not None
    assert runner.last_summary["outcome"] == "aborted"
    assert await hass.config_entries.async_setup(site.link_entry.entry_id)
    assert site.link_entry.runtime_data.coordinator.state == DsoState()


async def test_an_unreadable_summary_is_no_last_run(hass: HomeAssistant, site: Site) -> None:
    """A damaged summary file: no last run shown, nothing else lost."""
    runner = site.data.commissioning
    runner.directory.mkdir(parents=True)
    (runner.directory / "20261206T000000000000Z.json").write_text("{not json", "utf-8")
    assert await hass.config_entries.async_reload(site.link_entry.entry_id)
    reloaded = site.link_entry.runtime_data.commissioning
    assert reloaded.last_summary is None
    assert site.state(PROGRESS) == "idle"


async def test_a_fault_of_the_run_itself_restores_and_ends_it(
    hass: HomeAssistant,
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unexpected error in a step: logged, the state restored, the run ended as aborted."""
    link = site.data.coordinator
    feedback = link.feedback

    def failing_feedback(command: Command) -> Any:
        if command is Command.MIN_SET_P:
            raise RuntimeError("broken feedback")
        return feedback(command)

    monkeypatch.setattr(link, "feedback", failing_feedback)
    runner = site.data.commissioning
    runner.async_start(QUICK)
    await runner.async_wait()
    assert "broken feedback" in caplog.text
    assert runner.last_summary is not None
    assert runner.last_summary["outcome"] == "aborted"
    assert [step["step"] for step in runner.last_summary["steps"]][-1] == "stop_consumption_off"
    assert site.state(PROGRESS) == "aborted"
    assert link.state == DsoState()
