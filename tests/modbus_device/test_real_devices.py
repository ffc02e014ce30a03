"""Home Assistant with devices as their manuals say they behave: strict maps, watchdog locks,
one-client gateways."""

from __future__ import annotations

import pytest
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_HOST,
    CONF_PORT,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from custom_components.grid_ems import modbus_device
from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.modbus.client import RetryPolicy
from custom_components.grid_ems.modbus_device import CONF_PROFILE, CONF_UNIT_ID
from simulators.modbus import MoxaE1214, MoxaModel, PowerPackModel

from .conftest import MakeEntry, SetUpEntry, StartSimulator, state_of

ALARM = MoxaModel.WATCHDOG_ALARM


@pytest.fixture(autouse=True)
def quick_identify(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection test and the scan wait for answers as long as a loaded machine needs."""
    monkeypatch.setattr(modbus_device, "IDENTIFY_POLICY", RetryPolicy(timeout=3.0, retries=0))
    monkeypatch.setattr(modbus_device, "SCAN_REQUEST_TIMEOUT", 3.0)


@pytest.mark.parametrize("answer_unmapped", [False, True])
async def test_a_battery_without_the_power_register_loads_without_its_sensor(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
    answer_unmapped: bool,
) -> None:
    """A strict unit refuses 2012 (it would never load); one that answers any address with 0
    would show 0 kW while it delivers 120 kW. Neither gets a power sensor."""
    model = PowerPackModel(active_power_register=False, refuse_gaps=not answer_unmapped)
    model.answer_unmapped = answer_unmapped
    model.remote, model.target_kw = True, 120
    simulator = await start_simulator({1: model})
    entry = make_entry("powerpack_bess", simulator, "Battery")

    await set_up(entry)

    assert state_of(hass, "sensor.battery_status") == "running"
    assert hass.states.get("sensor.battery_power") is None
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_active_power") is None


async def test_a_second_unit_behind_a_one_client_gateway_is_tested_and_scanned(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """While the first unit's entry runs, the device test and the scan of the second go through
    its connection: the gateway never sees a second client."""
    gateway = await start_simulator({1: PowerPackModel(), 2: PowerPackModel()}, max_clients=1)
    await set_up(make_entry("powerpack_bess", gateway, "Battery"))
    form = {
        CONF_PROFILE: "powerpack_bess",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: gateway.port,
        CONF_UNIT_ID: 2,
    }

    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "modbus_device"}
    )
    progress = await hass.config_entries.flow.async_configure(
        menu["flow_id"], form | {"scan": True}
    )
    assert progress["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    scanned = await hass.config_entries.flow.async_configure(menu["flow_id"])
    assert scanned["description_placeholders"] is not None
    assert scanned["description_placeholders"]["found"] == "1, 2"
    created = await hass.config_entries.flow.async_configure(menu["flow_id"], {CONF_UNIT_ID: "2"})
    await hass.async_block_till_done()

    assert created["type"] is FlowResultType.CREATE_ENTRY
    assert gateway.stats.refused_connections == 0
    assert gateway.stats.connections == 1
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_unload(entry.entry_id)


async def test_watchdog_alarm_is_cleared_by_the_next_poll(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """The alarm is read with the outputs and cleared; while it cannot be cleared, the problem
    sensor is on and a repair issue says so."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    entry = make_entry("moxa_e1214", simulator, "Relays")
    coordinator = (await set_up(entry)).coordinator
    issue_id = f"modbus_watchdog_alarm_{entry.entry_id}"
    issues = ir.async_get(hass)

    model.coils[ALARM] = True
    simulator.faults.drop_before_write = 2  # the clear and its retry are lost
    await coordinator.async_refresh()

    assert state_of(hass, "binary_sensor.relays_watchdog_alarm") == STATE_ON
    assert issues.async_get_issue(DOMAIN, issue_id) is not None

    await coordinator.async_refresh()

    assert not model.watchdog_tripped
    assert state_of(hass, "binary_sensor.relays_watchdog_alarm") == STATE_OFF
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_a_switching_refused_by_the_watchdog_clears_it_and_switches(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Turning a relay on while the alarm is set (0x04) clears it and turns it on at once."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    await set_up(make_entry("moxa_e1214", simulator, "Relays"))
    model.coils[ALARM] = True

    await hass.services.async_call(
        Platform.SWITCH,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.relays_relay_2"},
        blocking=True,
    )

    assert model.coils[2] is True
    assert state_of(hass, "switch.relays_relay_2") == STATE_ON
    assert [write.address for write in simulator.stats.writes] == [2, ALARM, 2]
    assert "watchdog alarm was set" in caplog.text
