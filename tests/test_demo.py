"""The demo site (scripts/develop) set up in a real Home Assistant test instance.

The same flows the demo's bootstrap walks over HTTP are walked here through the flow manager,
against the demo's simulators on ephemeral ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_ON
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict

from custom_components.grid_ems.commissioning import certification_steps
from custom_components.grid_ems.const import DOMAIN, EntryKind
from custom_components.grid_ems.modbus.client import ModbusDevice, ModbusHostConnection, RetryPolicy
from custom_components.grid_ems.modbus.profiles import PROFILES
from custom_components.grid_ems.p1.transport import read_telegram
from demo.simulators import DemoSimulators
from demo.site import (
    DEMO_PORTS,
    DEMO_PRICE_SENSOR,
    RELAYS_E1214,
    DemoPorts,
    demo_flows,
    modbus_entity_id,
)
from simulators import modbus
from simulators.site import SiteModel

DEMO_CONFIGURATION = Path(__file__).parents[1] / "demo" / "configuration.yaml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _ephemeral_ports() -> DemoPorts:
    zero = dict.fromkeys(
        ("p1", "bess", "meter", "e1214", "e1211", "rtu_control", "modbus_control"), 0
    )
    return replace(DEMO_PORTS, link=_free_port(), **zero)


@pytest.fixture(name="simulators")
async def simulators_fixture() -> AsyncIterator[DemoSimulators]:
    """The demo's simulators on ephemeral ports."""
    simulators = DemoSimulators(_ephemeral_ports())
    await simulators.start()
    yield simulators
    await simulators.stop()


@pytest.mark.parametrize("battery_kw", [0, 30, -20])
async def test_the_meters_measure_one_site(battery_kw: int) -> None:
    """The P1 meter, the grid meter and the PV meter agree: grid = loads - PV - battery.

    Read over their own protocols from the running simulators, at one instant of the site's
    clock (held still, so the two meters read the same instant).
    """
    clock = [0.0]
    site = SiteModel(clock=lambda: clock[0])
    clock[0] = 123.4  # loads, PV and grid power all differ there
    simulators = DemoSimulators(_ephemeral_ports(), site)
    bess = simulators.bess
    bess.remote, bess.target_kw = True, battery_kw
    bess.update(bess.clock())
    await simulators.start()
    meter = simulators.devices["meter"]
    connections = [ModbusHostConnection("127.0.0.1", meter.port) for _ in range(2)]
    try:
        telegram = await read_telegram(f"socket://127.0.0.1:{simulators.ports.p1}", 10)
        grid_meter, pv_meter = [
            await ModbusDevice(connection, PROFILES["acuvim_ii"], unit_id, RetryPolicy()).poll()
            for connection, unit_id in zip(connections, (1, 2), strict=True)
        ]
    finally:
        for connection in connections:
            connection.close()
        await simulators.stop()

    reading = site.reading()
    assert reading.battery_w == battery_kw * 1000
    expected_w = reading.loads_w - reading.pv_w - reading.battery_w
    assert telegram.net_power is not None
    assert float(telegram.net_power) == pytest.approx(expected_w, abs=1)
    assert grid_meter["power"] == pytest.approx(expected_w, abs=1)
    assert pv_meter["power"] == pytest.approx(-reading.pv_w, abs=1)


def test_the_emergency_stop_relays_are_the_feeders_contactors() -> None:
    """Relay 0 of the demo's E1214 cuts the PV, relay 1 the loads; the battery stays."""
    site = SiteModel(clock=lambda: 123.4)
    devices = modbus.demo_site(site=site)
    relays = devices["e1214"].units[1]
    bess = devices["bess"].units[1]
    assert isinstance(relays, modbus.MoxaE1214)
    assert isinstance(bess, modbus.PowerPackModel)
    bess.remote, bess.target_kw = True, 10
    bess.update(bess.clock())
    whole = site.reading()
    assert whole.loads_w > 0
    assert whole.pv_w > 0
    relays.write_coil(0, True)
    assert site.reading() == replace(whole, pv_w=0.0)
    assert site.pv_meter_power_w() == 0.0
    relays.write_coil(1, True)
    assert site.reading() == replace(whole, pv_w=0.0, loads_w=0.0)
    assert site.grid_power_w() == -10_000
    relays.write_coil(0, False)
    relays.write_coil(1, False)
    assert site.reading() == whole


async def _send_line(port: int, line: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{line}\n".encode())
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer.decode()


async def _walk(hass: HomeAssistant, ports: DemoPorts) -> None:
    for flow in demo_flows(ports):
        result: Any = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        for user_input in flow.steps:
            result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        entry_id = result["result"].entry_id
        if flow.options:
            result = await hass.config_entries.options.async_init(entry_id)
            for user_input in flow.options:
                result = await hass.config_entries.options.async_configure(
                    result["flow_id"], user_input
                )
            assert result["type"] is FlowResultType.CREATE_ENTRY, result
            await hass.async_block_till_done()
        for subentry in flow.subentries:
            result = await hass.config_entries.subentries.async_init(
                (entry_id, subentry.subentry_type), context={"source": SOURCE_USER}
            )
            for user_input in subentry.steps:
                result = await hass.config_entries.subentries.async_configure(
                    result["flow_id"], user_input
                )
            assert result["type"] is FlowResultType.CREATE_ENTRY, result
            await hass.async_block_till_done()


def _without_value(hass: HomeAssistant) -> list[str]:
    registry = er.async_get(hass)
    return [
        entity.entity_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        # A button has no state until it is pressed: that is no missing value.
        if entity.disabled_by is None
        and entity.domain != "button"
        and (state := hass.states.get(entity.entity_id)) is not None
        and state.state in ("unknown", "unavailable")
    ]


async def _every_entity_has_a_value(hass: HomeAssistant) -> None:
    """Return once no enabled entity of Grid EMS is unknown or unavailable."""
    changed = asyncio.Event()

    @callback
    def on_change(_event: Event[EventStateChangedData]) -> None:
        changed.set()

    unsubscribe = hass.bus.async_listen("state_changed", on_change)
    try:
        while _without_value(hass):
            changed.clear()
            await changed.wait()
    finally:
        unsubscribe()


# The template sensor of the made-up prices refreshes each minute on its own timer.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_demo_site_loads_and_unloads(hass: HomeAssistant, simulators: DemoSimulators) -> None:
    """The demo's entries load, the RTU links up, and removing them leaves nothing open."""
    # The demo's made-up day-ahead prices (a template sensor) for the battery plan.
    template = load_yaml_dict(DEMO_CONFIGURATION)["template"]
    assert await async_setup_component(hass, "template", {"template": template})
    await hass.async_block_till_done()
    prices = hass.states.get(DEMO_PRICE_SENSOR)
    assert prices is not None
    assert len(prices.attributes["prices"]) == 48  # today and tomorrow, as after 13:00
    await _walk(hass, simulators.ports)
    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == len(demo_flows(simulators.ports))
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)
    # Names say what a device is, never where it answers.
    devices, entities = dr.async_get(hass), er.async_get(hass)
    names = [entry.title for entry in entries]
    for entry in entries:
        names += [
            device.name or ""
            for device in dr.async_entries_for_config_entry(devices, entry.entry_id)
        ]
        names += [
            entity.entity_id
            for entity in er.async_entries_for_config_entry(entities, entry.entry_id)
        ]
    assert not [name for name in names if re.search(r"127[._]0[._]0[._]1|unit[ _]1", name)]

    # The P1 demo meter reports live: its grid power has a value.
    grid_power = hass.states.get("sensor.p1_meter_grid_power")
    assert grid_power is not None
    assert grid_power.state not in ("unknown", "unavailable")
    # The battery is planned on the made-up prices (replanned as the assets were added).
    planned_id = "sensor.grid_operator_link_planned_battery_power"
    planned_now = asyncio.Event()

    @callback
    def plan_changed(event: Event[EventStateChangedData]) -> None:
        if (new_state := event.data["new_state"]) is not None and new_state.state != "unavailable":
            planned_now.set()

    unsubscribe = async_track_state_change_event(hass, planned_id, plan_changed)
    if (shown := hass.states.get(planned_id)) is not None and shown.state != "unavailable":
        planned_now.set()
    await asyncio.wait_for(planned_now.wait(), 10)
    unsubscribe()
    planned = hass.states.get(planned_id)
    assert planned is not None
    assert len(planned.attributes["forecast"]) >= 4

    # The grid operator's RTU connects, interrogates and synchronizes the clock.
    await simulators.run_rtu()
    assert simulators.rtu is not None
    assert len(simulators.rtu.values) == 27

    # Commands typed on the demo's control ports reach the RTU and the Modbus devices.
    await simulators.serve_fault_commands()
    # An emergency stop of production switches the Moxa module's "Injection" relay on.
    relay = modbus_entity_id("switch", RELAYS_E1214, "relay_0")
    relay_on = asyncio.Event()

    @callback
    def relay_changed(event: Event[EventStateChangedData]) -> None:
        if (new_state := event.data["new_state"]) is not None and new_state.state == STATE_ON:
            relay_on.set()

    unsubscribe = async_track_state_change_event(hass, relay, relay_changed)
    assert "emergency_stop_production=True: confirmed" in await _send_line(
        simulators.ports.rtu_control, "emergency_stop_production=1"
    )
    await asyncio.wait_for(relay_on.wait(), 10)
    unsubscribe()
    # A healthy site, once the grid operator has sent a command: every entity has a value.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_every_entity_has_a_value(hass), 10)
    assert _without_value(hass) == []
    assert "DEVICE" in await _send_line(simulators.ports.modbus_control, "help")

    for entry in entries:
        assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    async with asyncio.timeout(5):
        await simulators.meter.wait_for_clients(0)
        for device in simulators.devices.values():
            await device.wait_for_no_connections()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", simulators.ports.link)


# The template sensor of the made-up prices refreshes each minute on its own timer.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_the_demo_site_passes_every_commissioning_step(
    hass: HomeAssistant, simulators: DemoSimulators, tmp_path: Path
) -> None:
    """The certification rehearsal on the demo as configured: every step passes.

    The emergency stop of production passes on the hardware layer: relay 0 of the E1214 is the
    PV feeder's contactor (the demo's PV inverter takes no limit), and its meter sees the cut.
    """
    hass.config.config_dir = str(tmp_path)
    template = load_yaml_dict(DEMO_CONFIGURATION)["template"]
    assert await async_setup_component(hass, "template", {"template": template})
    await _walk(hass, simulators.ports)
    link = next(
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.unique_id == EntryKind.GRID_LINK.value
    )
    # Shorter than the field's 30 s, longer than the meters' 5 s between readings.
    await hass.services.async_call(
        DOMAIN,
        "start_commissioning",
        {"config_entry_id": link.entry_id, "settle_time": 12},
        blocking=True,
        return_response=True,
    )
    runner = link.runtime_data.commissioning
    await runner.async_wait()
    summary = runner.last_summary
    assert summary is not None
    assert [step for step in summary["steps"] if not step["passed"]] == []
    assert summary["outcome"] == "passed"
    assert len(summary["steps"]) == len(certification_steps())
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
