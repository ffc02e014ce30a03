"""Setting up, sharing connections, surviving faults, unloading, diagnostics."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_SCAN_INTERVAL,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.modbus.client import ModbusDevice
from custom_components.grid_ems.modbus_device import MODBUS_CONNECTIONS
from simulators.modbus import AcuvimModel, MoxaE1214, PowerPackModel

from .conftest import MakeEntry, SetUpEntry, StartSimulator, state_of


async def test_unreachable_device_is_not_ready(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry
) -> None:
    """A device that cannot be reached at start retries later, with a translated reason."""
    simulator = await start_simulator({1: PowerPackModel()})
    entry = make_entry("powerpack_bess", simulator, "Battery")
    await simulator.stop()

    assert not await hass.config_entries.async_setup(entry.entry_id)

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "modbus_cannot_connect"
    assert len(hass.data[MODBUS_CONNECTIONS]) == 0  # the failed setup gave its connection back


@pytest.mark.parametrize("fault", ["latency", "stall", "drop", "exception"])
async def test_fault_makes_entities_unavailable_until_recovery(
    *,
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """Any fault: the last values stay through two failed polls, the third makes the entities
    unavailable (logged once); the device is polled less often meanwhile and comes back by itself
    when the fault clears."""
    model = MoxaE1214()
    model.coils[0] = True
    simulator = await start_simulator({1: model})
    data = await set_up(make_entry("moxa_e1214", simulator, "Relays"))
    coordinator = data.coordinator
    match fault:
        case "latency":
            simulator.faults.latency = 2.0
        case "stall":
            simulator.faults.stall = True
        case "drop":
            simulator.faults.drop = True
        case _:
            simulator.faults.exception_code = 0x04
    caplog.set_level(logging.INFO)

    for _ in range(2):
        await coordinator.async_refresh()
        assert state_of(hass, "switch.relays_relay_0") == "on"
    await coordinator.async_refresh()
    await coordinator.async_refresh()

    assert state_of(hass, "switch.relays_relay_0") == STATE_UNAVAILABLE
    assert state_of(hass, "binary_sensor.relays_input_0") == STATE_UNAVAILABLE
    assert caplog.text.count("Error fetching") == 1
    assert coordinator.update_interval == timedelta(seconds=16)

    simulator.faults.clear()
    # Restarted: the slow device's queued requests (and late answers) are gone.
    simulator.drop_connections()
    await coordinator.async_refresh()

    assert state_of(hass, "switch.relays_relay_0") == "on"
    assert "data recovered" in caplog.text
    assert coordinator.update_interval == timedelta(seconds=1)


async def test_unavailable_after_the_failed_polls_of_the_options(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """With 1 in the options, the first failed poll makes the entities unavailable."""
    simulator = await start_simulator({1: MoxaE1214()})
    data = await set_up(make_entry("moxa_e1214", simulator, "Relays", options={"failed_polls": 1}))
    simulator.faults.stall = True

    await data.coordinator.async_refresh()

    assert state_of(hass, "switch.relays_relay_0") == STATE_UNAVAILABLE


async def test_one_transient_exception_does_not_blank_the_device(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """A single 0x04 answer is tried again within the poll: nothing becomes unavailable."""
    simulator = await start_simulator({1: MoxaE1214()})
    data = await set_up(make_entry("moxa_e1214", simulator, "Relays", options={"failed_polls": 1}))
    simulator.faults.exception_code, simulator.faults.exception_count = 0x04, 1

    await data.coordinator.async_refresh()

    assert data.coordinator.last_update_success
    assert state_of(hass, "switch.relays_relay_0") == "off"


async def test_devices_behind_one_gateway_share_a_connection(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Two entries on one host:port use one TCP connection, safely under concurrency."""
    bess_model, relays_model = PowerPackModel(blocks=4), MoxaE1214()
    simulator = await start_simulator({1: bess_model, 2: relays_model, 3: AcuvimModel()})
    simulator.faults.latency = 0.001
    bess = await set_up(make_entry("powerpack_bess", simulator, "Battery", unit_id=1))
    relays = await set_up(make_entry("moxa_e1214", simulator, "Relays", unit_id=2))
    meter_entry = make_entry("acuvim_ii", simulator, "Meter", unit_id=3)
    meter = await set_up(meter_entry)
    connection = bess.coordinator.device.connection
    assert relays.coordinator.device.connection is connection
    assert meter.coordinator.device.connection is connection

    for round_number in range(5):
        await asyncio.gather(
            bess.coordinator.async_refresh(),
            relays.coordinator.async_refresh(),
            meter.coordinator.async_refresh(),
            bess.coordinator.async_write("target_power", 10 * round_number),
            hass.services.async_call(
                Platform.SWITCH,
                SERVICE_TURN_ON,
                {ATTR_ENTITY_ID: f"switch.relays_relay_{round_number}"},
                blocking=True,
            ),
        )

    assert simulator.stats.connections == 1
    assert simulator.stats.max_busy == 1
    assert bess_model.target_kw == 40
    assert [relays_model.coils[n] for n in range(6)] == [True] * 5 + [False]
    assert state_of(hass, "sensor.meter_frequency") == "50.0"
    assert len(hass.data[MODBUS_CONNECTIONS]) == 1

    pool = hass.data[MODBUS_CONNECTIONS]
    assert await hass.config_entries.async_unload(meter_entry.entry_id)
    assert (len(pool), connection.connected) == (1, True)
    for data in (bess, relays):
        assert await hass.config_entries.async_unload(data.coordinator.config_entry.entry_id)
    assert (len(pool), connection.connected) == (0, False)
    await asyncio.wait_for(simulator.wait_for_no_connections(), 5)


async def test_options_change_reloads_with_new_interval(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """New options apply by reloading the entry."""
    simulator = await start_simulator({1: PowerPackModel()})
    entry = make_entry("powerpack_bess", simulator, "Battery")
    data = await set_up(entry)
    assert data.coordinator.update_interval == timedelta(seconds=1)

    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SCAN_INTERVAL: 2.5}
    )
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    reloaded = entry.runtime_data
    assert reloaded is not data
    assert reloaded.coordinator.update_interval == timedelta(seconds=2.5)


async def test_diagnostics(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics show settings, values, reads and connection counters, without the address."""
    simulator = await start_simulator({1: PowerPackModel(blocks=2, state_of_energy=60.0)})
    entry = make_entry("powerpack_bess", simulator, "Battery", options={CONF_SCAN_INTERVAL: 2.0})
    await set_up(entry)

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)

    assert diagnostics["entry"]["data"]["host"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["port"] == "**REDACTED**"
    assert diagnostics["runtime"] == snapshot


async def test_unexpected_error_at_start_is_not_ready(
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
) -> None:
    """A bug-like error during the first poll still leaves the entry retrying, not broken."""
    simulator = await start_simulator({1: PowerPackModel()})
    entry = make_entry("powerpack_bess", simulator, "Battery")

    async def broken(self: object) -> None:
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(ModbusDevice, "poll", broken)
    assert not await hass.config_entries.async_setup(entry.entry_id)

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key is None
