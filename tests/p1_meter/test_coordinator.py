"""The P1 coordinator in a real Home Assistant: faults, reconnects, guards, throttling, the API."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.grid_ems import p1_meter
from custom_components.grid_ems.p1 import PortState
from custom_components.grid_ems.p1.validate import DropReason
from custom_components.grid_ems.p1_meter import (
    GridPowerReading,
    P1MeterData,
    coordinator as p1_meter_coordinator,
)
from simulators.p1 import Fault, P1Simulator, seal

from .conftest import METER_ID, SetUp, StateWaiter, state_of

GRID_POWER = "sensor.p1_meter_grid_power"


class GridPowerListener:
    """Subscribes to the coordinator's grid power; lets a test wait for a given value."""

    def __init__(self, entry: MockConfigEntry) -> None:
        assert isinstance(entry.runtime_data, P1MeterData)
        self.coordinator = entry.runtime_data.coordinator
        self.readings: list[GridPowerReading | None] = []
        self._changed = asyncio.Event()
        self.unsubscribe = self.coordinator.async_subscribe_grid_power(self._on_reading)

    @callback
    def _on_reading(self, reading: GridPowerReading | None) -> None:
        self.readings.append(reading)
        self._changed.set()

    def powers(self) -> list[float | None]:
        return [None if reading is None else reading.power for reading in self.readings]

    async def wait_for(self, power: float | None) -> None:
        """Wait until the latest reading is ``power``; entities are updated by then."""
        async with asyncio.timeout(5):
            while not self.readings or (self.powers()[-1] != power):
                self._changed.clear()
                await self._changed.wait()


def _rewrite(telegram: bytes, old: bytes, new: bytes) -> bytes:
    """The telegram with ``old`` replaced by ``new`` and a new, valid CRC."""
    assert old in telegram
    body = telegram[: telegram.index(b"!") + 1].replace(old, new)
    return seal(body.decode("ascii"))


async def test_faults_keep_good_telegrams_and_count_bad_ones(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
) -> None:
    """Corrupted, truncated, split, two-in-one and garbage-preceded telegrams over TCP."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    meter = simulator.meter
    for fault, power, follow_up in (
        (Fault.CORRUPT, 2000, 2100),
        (Fault.TRUNCATED, 2200, 2300),
        (Fault.SPLIT, 2400, None),
        (Fault.CONCATENATED, 2500, None),
        (Fault.GARBAGE, 2600, None),
    ):
        meter.override_power = power
        await simulator.send_telegram(fault)
        if follow_up is not None:
            meter.override_power = follow_up
            await simulator.send_telegram()
        await listener.wait_for(follow_up or power)
        state = hass.states.get(GRID_POWER)
        assert state is not None
        assert state.state == str(follow_up or power)
    assert listener.powers() == [2100, 2300, 2400, 2500, 2500, 2600]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    telegrams = diagnostics["runtime"]["telegrams"]
    assert telegrams == {
        "good": 7,
        "bad": 1,
        "dropped": 1,
        "garbage_bytes": telegrams["garbage_bytes"],
        "rejected_counter_values": 0,
        "dropped_objects": dict.fromkeys(DropReason, 0),
    }
    assert telegrams["garbage_bytes"] > 0


async def test_disconnect_unavailable_then_back(
    hass: HomeAssistant,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lost port makes the entities unavailable at once (logged once); they come back alone."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    waiter = StateWaiter(hass, GRID_POWER)
    port = simulator.port
    caplog.set_level(logging.INFO, logger="custom_components.grid_ems.p1_meter")
    connection = listener.coordinator.connection
    report_state = connection._on_state
    failed_attempts = asyncio.Event()
    disconnects: list[PortState] = []

    def count_disconnects(state: PortState) -> None:
        report_state(state)
        if state is PortState.DISCONNECTED:
            disconnects.append(state)
        if len(disconnects) >= 3:
            failed_attempts.set()

    connection._on_state = count_disconnects
    await simulator.stop()
    await waiter.wait_for(STATE_UNAVAILABLE)
    assert listener.readings == [None]
    assert listener.coordinator.grid_power is None
    # The port stays closed for a while: the connection keeps retrying, without new warnings.
    async with asyncio.timeout(5):
        await failed_attempts.wait()
    assert listener.readings == [None]
    replacement = P1Simulator(simulator.meter, port=port, interval=None)
    await replacement.start()
    try:
        await replacement.wait_for_clients(1)
        await replacement.send_telegram()
        await waiter.wait_for("1500")
    finally:
        await replacement.stop()
    records = [r for r in caplog.records if r.name == "custom_components.grid_ems.p1_meter"]
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0].getMessage()
    assert [r.getMessage() for r in records if r.levelno == logging.INFO] == ["P1 meter is back"]
    assert listener.powers() == [None, 1500]


async def test_energy_counter_never_goes_back(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
) -> None:
    """A CRC-valid telegram with a lower register keeps the last value and is counted."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    telegram = simulator.meter.telegram()
    lower = _rewrite(telegram, b"1-0:1.8.1(001234.567*kWh)", b"1-0:1.8.1(001234.000*kWh)")
    lower = _rewrite(lower, b"1-0:1.7.0(01.500*kW)", b"1-0:1.7.0(01.600*kW)")
    await simulator.send_raw(lower)
    await listener.wait_for(1600)
    state = hass.states.get("sensor.p1_meter_energy_import_day")
    assert state is not None
    assert state.state == "1234.567"
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["runtime"]["telegrams"]["rejected_counter_values"] == 1


async def test_state_written_only_on_change(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """The same power twice writes nothing (not even a report); a new power writes once."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    events: list[str] = []

    @callback
    def record(event: Event[Any]) -> None:
        events.append(str(event.event_type))

    @callback
    def grid_power_only(event_data: Mapping[str, Any]) -> bool:
        return bool(event_data["entity_id"] == GRID_POWER)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record, grid_power_only)
    hass.bus.async_listen(EVENT_STATE_REPORTED, record, grid_power_only)
    await simulator.send_telegram()
    await simulator.send_telegram()
    await listener.wait_for(1500)
    await hass.async_block_till_done()
    assert len(listener.readings) == 2
    assert events == []
    simulator.meter.override_power = -800
    await simulator.send_telegram()
    await listener.wait_for(-800)
    await hass.async_block_till_done()
    assert events == [EVENT_STATE_CHANGED]
    assert state_of(hass, GRID_POWER) == "-800"


async def test_update_interval_option_throttles_entities(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """With an interval, entities get the latest telegram at its end; the controller gets all."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    coordinator = listener.coordinator
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], {p1_meter.CONF_UPDATE_INTERVAL: 1}
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator is coordinator
    assert coordinator.entity_update_interval == 1
    waiter = StateWaiter(hass, GRID_POWER)
    for power in (3000, 3100, 3200):
        simulator.meter.override_power = power
        await simulator.send_telegram()
    await listener.wait_for(3200)
    await waiter.wait_for("3200")
    assert listener.powers() == [3000, 3100, 3200]
    assert "3100" not in waiter.changes
    assert waiter.changes[-1] == "3200"


async def test_grid_power_unsubscribe(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """Readings carry the power (W, import positive) and when it came; unsubscribing stops them."""
    await set_up(entry)
    first = GridPowerListener(entry)
    second = GridPowerListener(entry)
    simulator.meter.override_power = -1234
    await simulator.send_telegram()
    await first.wait_for(-1234)
    reading = first.coordinator.grid_power
    assert reading is not None
    assert reading.power == -1234
    assert 0 <= hass.loop.time() - reading.received_at < 5
    first.unsubscribe()
    simulator.meter.override_power = 99
    await simulator.send_telegram()
    await second.wait_for(99)
    assert first.powers() == [-1234]


async def test_meter_without_power_objects(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """A telegram without 1.7.0/2.7.0 gives no grid power (None), not 0."""
    minimal = seal("/FLU5\\253769484_A\r\n\r\n0-0:96.1.1(31)\r\n1-0:1.8.1(000001.000*kWh)\r\n!")
    await set_up(entry, minimal)
    assert entry.runtime_data.coordinator.grid_power is None
    assert hass.states.get(GRID_POWER) is None


async def test_new_mbus_device_later_and_shifted_channels(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """A gas meter added later gets entities; water keeps its own though its channel moved."""
    simulator.meter.config.gas = False
    await set_up(entry)
    assert hass.states.get("sensor.gas_meter_gas_consumption") is None
    water = hass.states.get("sensor.water_meter_water_consumption")
    assert water is not None
    assert water.state == "87.654"
    simulator.meter.config.gas = True
    gas = StateWaiter(hass, "sensor.gas_meter_gas_consumption")
    await simulator.send_telegram()
    await gas.wait_for("1512.345")
    water = hass.states.get("sensor.water_meter_water_consumption")
    assert water is not None
    assert water.state == "87.654"


async def test_only_a_device_the_meter_no_longer_reports_can_be_removed(
    hass: HomeAssistant,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A gas meter taken away can be deleted; the meter and its water meter cannot."""
    assert await async_setup_component(hass, "config", {})
    await set_up(entry)
    registry = dr.async_get(hass)
    devices = {
        device.name: device
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
    }
    simulator.meter.config.gas = False
    gas = StateWaiter(hass, "sensor.gas_meter_gas_consumption")
    await simulator.send_telegram()
    await gas.wait_for(STATE_UNKNOWN)
    client = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> bool:
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": entry.entry_id,
                "device_id": device.id,
            }
        )
        response = await client.receive_json()
        return bool(response["success"])

    assert not await remove(devices["P1 meter"])
    assert not await remove(devices["Water meter"])
    assert await remove(devices["Gas meter"])
    assert registry.async_get(devices["Gas meter"].id) is None


async def test_no_telegram_at_setup_retries(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """Setup waits for the first telegram; without it the entry retries and closes the port."""
    entry.add_to_hass(hass)
    with patch.object(p1_meter_coordinator, "FIRST_TELEGRAM_TIMEOUT", 0.2):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason == (
        f"No telegram from the P1 meter on socket://127.0.0.1:{simulator.port} yet; retrying"
    )
    await simulator.wait_for_clients(0)


async def test_port_closed_at_setup_retries(
    hass: HomeAssistant, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """Nothing listens on the port: the entry retries."""
    await simulator.stop()
    entry.add_to_hass(hass)
    with patch.object(p1_meter_coordinator, "FIRST_TELEGRAM_TIMEOUT", 0.2):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload_closes_the_port(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """Unloading leaves no connection, task or timer behind."""
    await set_up(entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    await simulator.wait_for_clients(0)
    assert state_of(hass, GRID_POWER) == STATE_UNAVAILABLE


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    set_up: SetUp,
    entry: MockConfigEntry,
) -> None:
    """Connection state, counts and the last telegram, without the meters' identifiers."""
    await set_up(entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    runtime = diagnostics["runtime"]
    assert runtime["connection"] == {"state": "connected", "connects": 1, "available": True}
    assert runtime["entity_update_interval"] == 0
    raw = runtime["last_telegram"]["raw"]
    assert raw.startswith("/FLU5\\253769484_A")
    assert "0-0:96.1.1(**REDACTED**)" in raw
    assert "0-1:96.1.1(**REDACTED**)" in raw
    assert "1-0:1.7.0(01.500*kW)" in raw
    text = json.dumps(diagnostics)
    assert METER_ID not in text
    assert "4730303132333435363738393031" not in text


async def test_unload_cancels_a_deferred_update(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """A throttled telegram waiting for its turn is dropped on unload: no timer is left."""
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={p1_meter.CONF_UPDATE_INTERVAL: 3600})
    entry.add_to_hass = lambda hass: None
    await set_up(entry)
    listener = GridPowerListener(entry)
    for power in (100, 200):
        simulator.meter.override_power = power
        await simulator.send_telegram()
    await listener.wait_for(200)
    assert state_of(hass, GRID_POWER) in {"1500", "100"}
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, GRID_POWER) == STATE_UNAVAILABLE
