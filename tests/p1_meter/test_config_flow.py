"""The P1 meter's config flow: add, errors, duplicates, reconfigure and options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems import p1_meter
from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.p1_meter import config_flow as p1_meter_flow
from simulators.p1 import Fault, MeterConfig, P1Simulator, SimulatedMeter

from .conftest import METER_ID, SetUp

MINIMAL = (
    Path(__file__).parents[2] / ".." / "shared" / "p1-telegrams" / "telegrams"
    / "13_fluvius-minimal-4-objects-peak13.txt"
)  # fmt: skip


@pytest.fixture(name="ticking")
async def ticking_fixture() -> AsyncIterator[P1Simulator]:
    """A meter sending a telegram every 20 ms, as a real one does every second."""
    simulator = P1Simulator(interval=0.02)
    await simulator.start()
    yield simulator
    await simulator.stop()


def _url(simulator: P1Simulator) -> str:
    return f"socket://127.0.0.1:{simulator.port}"


async def _p1_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_meter"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "p1_meter"
    return result["flow_id"]


async def test_add_meter(hass: HomeAssistant, ticking: P1Simulator) -> None:
    """The flow reads a telegram; the equipment identifier becomes the unique id."""
    flow_id = await _p1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PORT: f"  {_url(ticking)} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "P1 meter"
    assert result["data"] == {CONF_KIND: EntryKind.P1_METER, CONF_PORT: _url(ticking)}
    assert result["options"] == {p1_meter.CONF_UPDATE_INTERVAL: 0}
    assert result["result"].unique_id == METER_ID
    await hass.async_block_till_done()


async def test_the_meter_takes_the_installer_s_name(
    hass: HomeAssistant, ticking: P1Simulator
) -> None:
    """The form suggests "P1 meter"; a name typed instead names the entry, never the port."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_meter"}
    )
    schema = form["data_schema"]
    assert schema is not None
    name = next(key for key in schema.schema if key == CONF_NAME)
    assert name.description == {"suggested_value": "P1 meter"}
    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], {CONF_NAME: " Main meter ", CONF_PORT: _url(ticking)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Main meter"
    await hass.async_block_till_done()


async def test_same_meter_twice(hass: HomeAssistant, ticking: P1Simulator) -> None:
    """The same meter on any port cannot be added again."""
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=METER_ID,
        data={CONF_KIND: EntryKind.P1_METER, CONF_PORT: "/dev/ttyUSB0"},
    ).add_to_hass(hass)
    flow_id = await _p1_form(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: _url(ticking)})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_cannot_connect_then_fixed(hass: HomeAssistant, ticking: P1Simulator) -> None:
    """An error keeps the form (with the input); a good port then completes the flow."""
    flow_id = await _p1_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_PORT: "socket://127.0.0.1:1"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "p1_cannot_connect"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_PORT: _url(ticking)})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_no_telegram(hass: HomeAssistant) -> None:
    """The port opens but stays silent."""
    silent = P1Simulator(interval=None)
    await silent.start()
    try:
        flow_id = await _p1_form(hass)
        with patch.object(p1_meter_flow, "PROBE_WAIT", 0.2):
            result = await hass.config_entries.flow.async_configure(
                flow_id, {CONF_PORT: _url(silent)}
            )
    finally:
        await silent.stop()
    assert result["errors"] == {"base": "p1_no_telegram"}


async def test_crc_errors_only(hass: HomeAssistant) -> None:
    """Telegrams arrive, all corrupted."""
    noisy = P1Simulator(interval=0.02, faults=[Fault.CORRUPT], fault_every=1)
    await noisy.start()
    try:
        flow_id = await _p1_form(hass)
        with patch.object(p1_meter_flow, "PROBE_WAIT", 0.3):
            result = await hass.config_entries.flow.async_configure(
                flow_id, {CONF_PORT: _url(noisy)}
            )
    finally:
        await noisy.stop()
    assert result["errors"] == {"base": "p1_crc_errors"}


async def test_meter_without_identifier(hass: HomeAssistant) -> None:
    """13: a valid telegram without 0-0:96.1.1 cannot tell meters apart."""
    simulator = P1Simulator(interval=None)
    await simulator.start()

    async def send_when_connected() -> None:
        await simulator.wait_for_clients(1)
        await simulator.send_raw(MINIMAL.read_bytes())

    sender = asyncio.create_task(send_when_connected())
    try:
        flow_id = await _p1_form(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_PORT: _url(simulator)}
        )
        await sender
    finally:
        await simulator.stop()
    assert result["errors"] == {"base": "p1_no_identifier"}


async def test_reconfigure_to_another_port(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, ticking: P1Simulator
) -> None:
    """The same meter on another port: the entry is updated and reloaded."""
    await set_up(entry)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_p1_meter"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: "socket://127.0.0.1:1"}
    )
    assert result["errors"] == {"base": "p1_cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PORT: _url(ticking)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == _url(ticking)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.p1_meter_grid_power") is not None


async def test_reconfigure_to_another_meter(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """A port with another meter's telegrams is refused."""
    await set_up(entry)
    other = P1Simulator(SimulatedMeter(MeterConfig(equipment_id="1SAG9999999999")), interval=0.02)
    await other.start()
    try:
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_PORT: _url(other)}
        )
    finally:
        await other.stop()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "p1_wrong_meter"
    assert entry.data[CONF_PORT] != _url(other)


async def test_options_flow_form(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """The options form shows the meter's own step with the current interval."""
    await set_up(entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "p1_meter"
    schema = result["data_schema"]
    assert schema is not None
    schema_keys = {str(key): key for key in schema.schema}
    assert schema_keys[p1_meter.CONF_UPDATE_INTERVAL].description == {"suggested_value": 0}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {p1_meter.CONF_UPDATE_INTERVAL: 30.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {p1_meter.CONF_UPDATE_INTERVAL: 30}
