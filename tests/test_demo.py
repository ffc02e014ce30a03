"""The demo site (scripts/develop) set up in a real Home Assistant test instance.

The same flows the demo's bootstrap walks over HTTP are walked here through the flow manager,
against the demo's simulators on ephemeral ports.
"""

from __future__ import annotations

import asyncio
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
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict

from custom_components.grid_ems.const import DOMAIN
from demo.simulators import DemoSimulators
from demo.site import DEMO_PORTS, DEMO_PRICE_SENSOR, DemoPorts, demo_flows, modbus_entity_id

DEMO_CONFIGURATION = Path(__file__).parents[1] / "demo" / "configuration.yaml"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(name="simulators")
async def simulators_fixture() -> AsyncIterator[DemoSimulators]:
    """The demo's simulators on ephemeral ports."""
    zero = dict.fromkeys(
        ("p1", "bess", "meter", "e1214", "e1211", "rtu_control", "modbus_control"), 0
    )
    simulators = DemoSimulators(replace(DEMO_PORTS, link=_free_port(), **zero))
    await simulators.start()
    yield simulators
    await simulators.stop()


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
    assert len(prices.attributes["prices"]) == 36
    await _walk(hass, simulators.ports)
    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == len(demo_flows(simulators.ports))
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)

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
    relay = modbus_entity_id("switch", "moxa_e1214", simulators.ports.e1214, "relay_0")
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
