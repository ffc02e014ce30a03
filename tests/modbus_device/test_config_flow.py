"""Adding, scanning for, reconfiguring and tuning Modbus devices in the UI."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PORT, CONF_SCAN_INTERVAL, CONF_TIMEOUT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems import modbus_device
from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.modbus.client import RetryPolicy
from custom_components.grid_ems.modbus_device import (
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_SAFE_STATES,
    CONF_UNIT_ID,
)
from simulators.modbus import AcuvimModel, ModbusSimulator, MoxaE1211, MoxaE1214, PowerPackModel
from tests.ha_fixtures import entry_device

from .conftest import MakeEntry, SetUpEntry, StartSimulator, modbus_data, state_of


@pytest.fixture(autouse=True)
def test_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection test waits 0.5 s instead of 3 s for a silent device; the scan, whose
    simulated units all answer at once, allows for a loaded test machine."""
    monkeypatch.setattr(modbus_device, "IDENTIFY_POLICY", RetryPolicy(timeout=0.5, retries=0))
    monkeypatch.setattr(modbus_device, "SCAN_REQUEST_TIMEOUT", 3.0)


def user_input(
    profile: str, simulator: ModbusSimulator, unit_id: int = 1, *, scan: bool = False
) -> dict[str, Any]:
    """The form as the user fills it in (numbers come as floats from the number selectors)."""
    return {
        CONF_PROFILE: profile,
        CONF_HOST: " 127.0.0.1 ",
        CONF_PORT: float(simulator.port),
        CONF_UNIT_ID: float(unit_id),
        "scan": scan,
    }


async def open_form(hass: HomeAssistant) -> str:
    """Open the Modbus device form from the menu; return the flow id."""
    menu = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    form = await hass.config_entries.flow.async_configure(
        menu["flow_id"], {"next_step_id": "modbus_device"}
    )
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "modbus_device"
    assert form["errors"] == {}
    return str(form["flow_id"])


async def unload_all(hass: HomeAssistant) -> None:
    """Unload the entries a flow created and set up."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)


async def test_add_a_device(hass: HomeAssistant, start_simulator: StartSimulator) -> None:
    """A device that answers like its kind becomes an entry named by what it is, not where.

    Its entity ids carry no address either; the address is the device's information (its own
    configuration page where it has one).
    """
    simulator = await start_simulator({1: PowerPackModel()})
    flow_id = await open_form(hass)

    result = await hass.config_entries.flow.async_configure(
        flow_id, user_input("powerpack_bess", simulator)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "PowerPack BESS"
    assert result["data"] == modbus_data("powerpack_bess", simulator.port)
    entry = result["result"]
    assert entry.unique_id == f"127.0.0.1:{simulator.port}:1"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    entity_ids = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    ]
    assert "sensor.powerpack_bess_power" in entity_ids
    assert not [entity_id for entity_id in entity_ids if "127" in entity_id]
    await unload_all(hass)


async def test_names_suggested_per_kind_and_numbered(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An empty name takes the kind's suggestion, numbered past the names taken; a typed name wins.

    The meter's and the relay module's device pages link to their own web page, at their host.
    """
    simulator = await start_simulator(
        {1: AcuvimModel(), 2: AcuvimModel(), 3: MoxaE1214(), 4: MoxaE1211(), 5: MoxaE1214()}
    )
    names = []
    for profile, unit_id, name in (
        ("acuvim_ii", 1, ""),
        ("acuvim_ii", 2, None),
        ("moxa_e1214", 3, ""),
        ("moxa_e1211", 4, None),
        ("moxa_e1214", 5, " Relays at the inverters "),
    ):
        form = user_input(profile, simulator, unit_id)
        if name is not None:
            form[CONF_NAME] = name
        result = await hass.config_entries.flow.async_configure(await open_form(hass), form)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        names.append(result["title"])
        await hass.async_block_till_done()

    assert names == [
        "Grid meter",
        "Grid meter 2",
        "Relays cabinet 1",
        "Relays cabinet 2",
        "Relays at the inverters",
    ]
    meter = entry_device(hass, hass.config_entries.async_entries(DOMAIN)[0].entry_id)
    assert meter.name == "Grid meter"
    assert meter.configuration_url == "http://127.0.0.1/"
    await unload_all(hass)


async def test_migration_renames_but_keeps_entity_ids(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """An entry of version 1.1, named after its address, is renamed; its entities keep their ids.

    The entities were registered with the old names (as the installation had them), so history,
    dashboards and automations still find them. A name the installer had typed stays.
    """
    simulator = await start_simulator({1: PowerPackModel(), 2: MoxaE1214()})
    entries = []
    for profile, unit_id, title in (
        ("powerpack_bess", 1, f"PowerPack BESS 127.0.0.1:{simulator.port} unit 1"),
        ("moxa_e1214", 2, "Relays of the PV plant"),
    ):
        data = modbus_data(profile, simulator.port, unit_id)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=title,
            data=data,
            unique_id=modbus_device.unique_id(data),
            version=1,
            minor_version=1,
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    old_id = f"sensor.powerpack_bess_127_0_0_1_{simulator.port}_unit_1_power"
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entries[0].entry_id}_active_power",
        config_entry=entries[0],
        suggested_object_id=old_id.removeprefix("sensor."),
    )

    assert await hass.config_entries.async_setup(entries[0].entry_id)
    await hass.async_block_till_done()

    battery, relays = entries
    assert (battery.version, battery.minor_version) == (1, 2)
    assert battery.title == "PowerPack BESS"
    assert relays.title == "Relays of the PV plant"
    assert battery.unique_id == f"127.0.0.1:{simulator.port}:1"
    assert (
        registry.async_get_entity_id("sensor", DOMAIN, f"{battery.entry_id}_active_power") == old_id
    )
    assert state_of(hass, old_id) not in ("unknown", "unavailable")
    assert entry_device(hass, battery.entry_id).name == "PowerPack BESS"
    # The status, not registered before, is named after the device as it is now.
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{battery.entry_id}_status") == (
        "sensor.powerpack_bess_status"
    )
    await unload_all(hass)


async def test_an_entry_of_a_newer_version_does_not_load(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A downgrade leaves an entry of a newer major version alone instead of misreading it."""
    simulator = await start_simulator({1: PowerPackModel()})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Battery",
        data=modbus_data("powerpack_bess", simulator.port),
        version=2,
    )
    entry.add_to_hass(hass)

    await hass.config_entries.async_setup(entry.entry_id)

    assert entry.state is ConfigEntryState.MIGRATION_ERROR
    assert entry.title == "Battery"


@pytest.mark.parametrize(
    ("situation", "error"),
    [
        ("stopped", "modbus_cannot_connect"),
        ("stalled", "modbus_timeout"),
        ("unknown_unit", "modbus_wrong_unit_id"),
        ("other_kind", "modbus_wrong_device"),
        ("failing", "modbus_device_error"),
    ],
)
async def test_connection_test_errors_then_success(
    hass: HomeAssistant, start_simulator: StartSimulator, situation: str, error: str
) -> None:
    """Each failure has its own message; once fixed, the same form creates the entry."""
    simulator = await start_simulator({1: PowerPackModel(), 2: AcuvimModel()})
    flow_id = await open_form(hass)
    profile, unit_id = "powerpack_bess", 1
    match situation:
        case "stopped":
            stopped = await start_simulator({1: PowerPackModel()})
            await stopped.stop()
            attempt = user_input(profile, stopped)
        case "stalled":
            simulator.faults.stall = True
            attempt = user_input(profile, simulator)
        case "unknown_unit":
            attempt = user_input(profile, simulator, unit_id=9)
        case "other_kind":
            attempt = user_input("powerpack_bess", simulator, unit_id=2)
            profile, unit_id = "acuvim_ii", 2
        case _:
            simulator.faults.exception_code = 0x04
            attempt = user_input(profile, simulator)

    failed = await hass.config_entries.flow.async_configure(flow_id, attempt)

    assert failed["type"] is FlowResultType.FORM
    assert failed["errors"] == {"base": error}
    simulator.faults.clear()
    created = await hass.config_entries.flow.async_configure(
        flow_id, user_input(profile, simulator, unit_id)
    )
    assert created["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_same_device_twice_is_refused(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry
) -> None:
    """The same unit id at the same host and port can be added only once."""
    simulator = await start_simulator({1: PowerPackModel()})
    make_entry("powerpack_bess", simulator, "Battery")
    flow_id = await open_form(hass)

    result = await hass.config_entries.flow.async_configure(
        flow_id, user_input("powerpack_bess", simulator)
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def _scan(hass: HomeAssistant, flow_id: str, form: dict[str, Any]) -> Any:
    progress = await hass.config_entries.flow.async_configure(flow_id, form)
    assert progress["type"] is FlowResultType.SHOW_PROGRESS
    assert progress["progress_action"] == "modbus_scan"
    await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(flow_id)


async def test_scan_lists_answering_units_and_adds_the_chosen_one(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A scan of 1..247 behind a gateway finds the batteries, mentions the meter, adds one."""
    gateway = await start_simulator({1: PowerPackModel(), 3: PowerPackModel(), 5: AcuvimModel()})
    flow_id = await open_form(hass)

    result = await _scan(hass, flow_id, user_input("powerpack_bess", gateway, scan=True))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "modbus_scan_result"
    assert result["description_placeholders"] == {
        "host": "127.0.0.1",
        "found": "1, 3",
        "others": "5",
        "scanned": "247",
    }
    assert gateway.stats.connections <= 4
    created = await hass.config_entries.flow.async_configure(flow_id, {CONF_UNIT_ID: "3"})
    assert created["type"] is FlowResultType.CREATE_ENTRY
    assert created["data"][CONF_UNIT_ID] == 3
    await hass.async_block_till_done()
    await unload_all(hass)


async def test_scan_that_finds_nothing(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """When no unit answers like the chosen kind, the form says so."""
    simulator = await start_simulator({1: PowerPackModel()})
    flow_id = await open_form(hass)

    result = await _scan(hass, flow_id, user_input("moxa_e1214", simulator, scan=True))

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "modbus_device"
    assert result["errors"] == {"base": "modbus_scan_nothing_found"}


async def test_scan_of_an_unreachable_host(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """A scan that cannot connect at all reports the connection error."""
    simulator = await start_simulator({1: PowerPackModel()})
    await simulator.stop()
    flow_id = await open_form(hass)

    result = await _scan(hass, flow_id, user_input("powerpack_bess", simulator, scan=True))

    assert result["errors"] == {"base": "modbus_cannot_connect"}


async def test_scanned_unit_that_then_fails_the_test(
    hass: HomeAssistant, start_simulator: StartSimulator
) -> None:
    """The chosen unit is still tested; a failure returns to the first form."""
    simulator = await start_simulator({2: MoxaE1214()})
    flow_id = await open_form(hass)
    await _scan(hass, flow_id, user_input("moxa_e1214", simulator, scan=True))
    simulator.faults.exception_code = 0x04

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_UNIT_ID: "2"})

    assert result["step_id"] == "modbus_device"
    assert result["errors"] == {"base": "modbus_device_error"}


async def test_reconfigure_moves_the_device(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Reconfigure tests the new address, then updates the entry and reloads it."""
    old = await start_simulator({1: PowerPackModel()})
    new = await start_simulator({4: PowerPackModel(state_of_energy=80.0)})
    other = await start_simulator({1: MoxaE1211()})
    entry = make_entry("powerpack_bess", old, "Battery")
    make_entry("moxa_e1211", other, "Outputs")
    await set_up(entry)

    flow = await entry.start_reconfigure_flow(hass)
    assert flow["step_id"] == "reconfigure_modbus_device"
    refused = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: new.port, CONF_UNIT_ID: 1}
    )
    assert refused["errors"] == {"base": "modbus_wrong_unit_id"}
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: new.port, CONF_UNIT_ID: 4}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == modbus_data("powerpack_bess", new.port, 4)
    assert entry.unique_id == f"127.0.0.1:{new.port}:4"
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.data["state_of_energy"] == 80

    taken = await entry.start_reconfigure_flow(hass)
    duplicate = await hass.config_entries.flow.async_configure(
        taken["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port, CONF_UNIT_ID: 1}
    )
    assert duplicate["type"] is FlowResultType.ABORT
    assert duplicate["reason"] == "already_configured"


async def test_options_of_a_relay_module(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Polling, timeout, retries, the emergency-stop roles and the watchdog's safe states."""
    simulator = await start_simulator({1: MoxaE1214()})
    entry = make_entry(
        "moxa_e1214", simulator, "Relays", options={CONF_RELAY_ROLES: {"relay_5": "consumption"}}
    )
    await set_up(entry)

    form = await hass.config_entries.options.async_init(entry.entry_id)
    assert form["step_id"] == "modbus_device"
    assert form["data_schema"] is not None
    schema = {str(key): key for key in form["data_schema"].schema}
    assert list(schema) == [
        CONF_SCAN_INTERVAL,
        CONF_TIMEOUT,
        CONF_RETRIES,
        "failed_polls",
        "injection_outputs",
        "consumption_outputs",
        "safe_on_outputs",
        "safe_off_outputs",
    ]
    assert schema[CONF_SCAN_INTERVAL].description == {"suggested_value": 1.0}
    assert schema["consumption_outputs"].description == {"suggested_value": ["relay_5"]}
    common = {CONF_SCAN_INTERVAL: 0.5, CONF_TIMEOUT: 1.5, CONF_RETRIES: 3.0, "failed_polls": 2}

    conflict = await hass.config_entries.options.async_configure(
        form["flow_id"],
        common | {"injection_outputs": ["relay_0"], "consumption_outputs": ["relay_0"]},
    )
    assert conflict["errors"] == {"base": "modbus_role_conflict"}
    unsafe = await hass.config_entries.options.async_configure(
        form["flow_id"],
        common | {"safe_on_outputs": ["relay_1"], "safe_off_outputs": ["relay_1"]},
    )
    assert unsafe["errors"] == {"base": "modbus_safe_state_conflict"}
    done = await hass.config_entries.options.async_configure(
        form["flow_id"],
        common
        | {
            "injection_outputs": ["relay_0"],
            "consumption_outputs": ["relay_1", "relay_2"],
            "safe_off_outputs": ["relay_0", "relay_1", "relay_2"],
        },
    )
    await hass.async_block_till_done()

    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_SCAN_INTERVAL: 0.5,
        CONF_TIMEOUT: 1.5,
        CONF_RETRIES: 3,
        "failed_polls": 2,
        "codes": {},
        CONF_RELAY_ROLES: {
            "relay_0": "injection",
            "relay_1": "consumption",
            "relay_2": "consumption",
        },
        CONF_SAFE_STATES: {"relay_0": "off", "relay_1": "off", "relay_2": "off"},
    }
    relay = hass.states.get("switch.relays_relay_1")
    assert relay is not None
    assert (relay.attributes["role"], relay.attributes["safe_state"]) == ("consumption", "off")


async def test_options_of_a_battery_have_no_outputs(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Devices without outputs tune polling and the codes of their enumerations: a unit with
    1 ready, 2 running, 3 fault shows its fault as a fault once the installer says so."""
    model = PowerPackModel(status_codes={"ready": 1, "running": 2, "fault": 3})
    model.fault = True
    simulator = await start_simulator({1: model})
    entry = make_entry("powerpack_bess", simulator, "Battery")
    await set_up(entry)
    assert state_of(hass, "sensor.battery_status") == "running"  # the default map's reading

    form = await hass.config_entries.options.async_init(entry.entry_id)
    assert form["data_schema"] is not None
    schema = {str(key): key for key in form["data_schema"].schema}
    assert list(schema) == [
        CONF_SCAN_INTERVAL,
        CONF_TIMEOUT,
        CONF_RETRIES,
        "failed_polls",
        "codes_status",
        "codes_command_source",
    ]
    assert schema["codes_status"].description == {
        "suggested_value": "off=0, standby=1, ready=2, running=3, fault=4"
    }
    common = {
        CONF_SCAN_INTERVAL: 5,
        CONF_TIMEOUT: 2,
        CONF_RETRIES: 0,
        "failed_polls": 3,
        "codes_command_source": "local=0, remote=1",
    }
    for invalid in ("ready=1, running=1", "ready=1, broken=2", "ready", "ready=x", "ready=-1"):
        refused = await hass.config_entries.options.async_configure(
            form["flow_id"], common | {"codes_status": invalid}
        )
        assert refused["errors"] == {"base": "modbus_invalid_codes"}, invalid
    done = await hass.config_entries.options.async_configure(
        form["flow_id"], common | {"codes_status": "ready=1, running=2, fault=3"}
    )
    await hass.async_block_till_done()
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_RELAY_ROLES] == {}
    assert entry.options["codes"]["status"] == {"ready": 1, "running": 2, "fault": 3}
    assert entry.data[CONF_KIND] == EntryKind.MODBUS_DEVICE
    assert state_of(hass, "sensor.battery_status") == "fault"

    # Left out of the form, the code maps stay as they are.
    again = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        again["flow_id"], {CONF_SCAN_INTERVAL: 5, CONF_TIMEOUT: 2, CONF_RETRIES: 0}
    )
    await hass.async_block_till_done()
    assert entry.options["codes"]["status"] == {"ready": 1, "running": 2, "fault": 3}
    assert entry.options["failed_polls"] == 3

    model.status_codes["fault"] = 9
    model.update(model.clock())
    await entry.runtime_data.coordinator.async_refresh()
    unknown = hass.states.get("sensor.battery_status")
    assert unknown is not None
    assert (unknown.state, unknown.attributes["raw_code"]) == ("unknown", 9)
