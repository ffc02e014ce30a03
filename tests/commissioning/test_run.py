"""The commissioning run on a demo-like site: every step passes; faults fail exactly their steps.

Real Home Assistant, real simulators; the run is started from the link's button and action and
measured on the simulated devices. Waits are on the run's end (its task), never on time.
"""

from __future__ import annotations

import asyncio

import pytest
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from custom_components.grid_ems.commissioning import certification_steps
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.netflex import LOCAL_SOURCE, DsoState

from .conftest import CONSUMPTION_RELAY, INJECTION_RELAY, QUICK, Site

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
