"""Every profile register reaches its entity with the right unit and scaling; writes go out."""

from __future__ import annotations

import pytest
from homeassistant.components.number import ATTR_VALUE
from homeassistant.components.number.const import SERVICE_SET_VALUE
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_UNIT_OF_MEASUREMENT,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er

from custom_components.grid_ems.control.model import RelayRole
from simulators.modbus import AcuvimModel, MoxaE1211, MoxaE1214, PowerPackModel
from tests.ha_fixtures import entry_device

from .conftest import FakeClock, MakeEntry, SetUpEntry, StartSimulator, state_of

# entity id -> state, unit, device class, state class
type Expected = dict[str, tuple[str, str | None, str | None, str | None]]

BESS_ENTITIES: Expected = {
    "sensor.battery_status": ("running", None, "enum", None),
    "number.battery_target_power": ("-100", "kW", "power", None),
    "select.battery_command_source": ("remote", None, None, None),
    "sensor.battery_power": ("-100", "kW", "power", "measurement"),
    "sensor.battery_state_of_energy": ("42", "%", "battery", "measurement"),
    "sensor.battery_available_blocks": ("3", None, None, "measurement"),
}

# Values exact in float32, different for every register, so a wrong address or word order shows.
METER_READINGS = {
    "frequency": 49.875,
    "v1": 230.5,
    "v2": 231.25,
    "v3": 229.75,
    "i1": 10.5,
    "i2": 12.25,
    "i3": 8.125,
    "pa": 2400.5,
    "pb": -1200.25,
    "pc": 1800.0,
    "psum": 3000.25,
    "qa": 300.5,
    "qb": -150.25,
    "qc": 200.0,
    "qsum": 350.25,
    "sa": 2420.0,
    "sb": 1210.0,
    "sc": 1811.0,
    "ssum": 5441.0,
    "pfa": 0.875,
    "pfb": -0.5,
    "pfc": 0.9375,
    "pfsum": 0.8125,
}
# Rounded to the meter's resolution when decoded (0.1 V, 0.01 A, 1 W, 0.001).
METER_ENTITIES: Expected = {
    "sensor.meter_frequency": ("49.88", "Hz", "frequency", "measurement"),
    "sensor.meter_voltage_l1": ("230.5", "V", "voltage", "measurement"),
    "sensor.meter_voltage_l2": ("231.2", "V", "voltage", "measurement"),
    "sensor.meter_voltage_l3": ("229.8", "V", "voltage", "measurement"),
    "sensor.meter_current_l1": ("10.5", "A", "current", "measurement"),
    "sensor.meter_current_l2": ("12.25", "A", "current", "measurement"),
    "sensor.meter_current_l3": ("8.12", "A", "current", "measurement"),
    "sensor.meter_power_l1": ("2400.0", "W", "power", "measurement"),
    "sensor.meter_power_l2": ("-1200.0", "W", "power", "measurement"),
    "sensor.meter_power_l3": ("1800.0", "W", "power", "measurement"),
    "sensor.meter_power": ("3000.0", "W", "power", "measurement"),
    "sensor.meter_reactive_power_l1": ("300.0", "var", "reactive_power", "measurement"),
    "sensor.meter_reactive_power_l2": ("-150.0", "var", "reactive_power", "measurement"),
    "sensor.meter_reactive_power_l3": ("200.0", "var", "reactive_power", "measurement"),
    "sensor.meter_reactive_power": ("350.0", "var", "reactive_power", "measurement"),
    "sensor.meter_apparent_power_l1": ("2420.0", "VA", "apparent_power", "measurement"),
    "sensor.meter_apparent_power_l2": ("1210.0", "VA", "apparent_power", "measurement"),
    "sensor.meter_apparent_power_l3": ("1811.0", "VA", "apparent_power", "measurement"),
    "sensor.meter_apparent_power": ("5441.0", "VA", "apparent_power", "measurement"),
    "sensor.meter_power_factor_l1": ("0.875", None, "power_factor", "measurement"),
    "sensor.meter_power_factor_l2": ("-0.5", None, "power_factor", "measurement"),
    "sensor.meter_power_factor_l3": ("0.938", None, "power_factor", "measurement"),
    "sensor.meter_power_factor": ("0.812", None, "power_factor", "measurement"),
    "sensor.meter_energy_import": ("12345.6", "kWh", "energy", "total_increasing"),
    "sensor.meter_energy_export": ("2345.6", "kWh", "energy", "total_increasing"),
}
METER_DISABLED = (
    "sensor.meter_voltage_l1_l2",
    "sensor.meter_voltage_l2_l3",
    "sensor.meter_voltage_l3_l1",
    "sensor.meter_neutral_current",
)


def assert_entities(hass: HomeAssistant, expected: Expected) -> None:
    """Each entity has the expected state, unit, device class and state class."""
    for entity_id, (state, unit, device_class, state_class) in expected.items():
        current = hass.states.get(entity_id)
        assert current is not None, entity_id
        assert (
            current.state,
            current.attributes.get(ATTR_UNIT_OF_MEASUREMENT),
            current.attributes.get(ATTR_DEVICE_CLASS),
            current.attributes.get("state_class"),
        ) == (state, unit, device_class, state_class), entity_id


async def test_bess_entities(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
    clock: FakeClock,
) -> None:
    """Status, setpoint, command source, power, state of energy and blocks of the battery."""
    model = PowerPackModel(blocks=3, state_of_energy=42.0, clock=clock)
    model.remote, model.target_kw = True, -100
    simulator = await start_simulator({1: model})
    entry = make_entry("powerpack_bess", simulator, "Battery")

    await set_up(entry)

    assert_entities(hass, BESS_ENTITIES)
    target = hass.states.get("number.battery_target_power")
    assert target is not None
    assert (target.attributes["min"], target.attributes["max"], target.attributes["step"]) == (
        -150,
        150,
        1,
    )
    status = hass.states.get("sensor.battery_status")
    assert status is not None
    assert status.attributes["options"] == ["off", "standby", "ready", "running", "fault"]
    source = hass.states.get("select.battery_command_source")
    assert source is not None
    assert source.attributes["options"] == ["local", "remote"]
    device = entry_device(hass, entry.entry_id)
    assert (device.manufacturer, device.model, device.name) == (
        "PowerPack",
        "PowerPack BESS",
        "Battery",
    )
    registry = er.async_get(hass)
    assert len(er.async_entries_for_config_entry(registry, entry.entry_id)) == 6
    # The probe asks an unmapped address (refused) and the optional power register; one poll.
    assert simulator.stats.requests == {0x03: 3}


async def test_meter_entities(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Per-phase and total measurements and the energy counters, Energy-dashboard ready."""
    model = AcuvimModel()
    model.readings.update(METER_READINGS)
    model.update(model.clock())
    simulator = await start_simulator({1: model})

    await set_up(make_entry("acuvim_ii", simulator, "Meter"))

    assert_entities(hass, METER_ENTITIES)
    registry = er.async_get(hass)
    for entity_id in METER_DISABLED:
        entity = registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(entity_id) is None
    assert simulator.stats.requests == {0x03: 1}


async def test_relay_module_entities(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """One switch per relay and one binary sensor per input, with roles as attributes."""
    model = MoxaE1214()
    model.coils[1] = True
    model.discrete_inputs[4] = True
    simulator = await start_simulator({1: model})
    entry = make_entry(
        "moxa_e1214",
        simulator,
        "Relays",
        options={
            "relay_roles": {"relay_0": "injection", "relay_1": "consumption"},
            "safe_states": {"relay_0": "off"},
        },
    )

    data = await set_up(entry)

    assert [state_of(hass, f"switch.relays_relay_{n}") for n in range(6)] == [
        STATE_OFF,
        STATE_ON,
        STATE_OFF,
        STATE_OFF,
        STATE_OFF,
        STATE_OFF,
    ]
    assert [state_of(hass, f"binary_sensor.relays_input_{n}") for n in range(6)] == [
        STATE_OFF,
        STATE_OFF,
        STATE_OFF,
        STATE_OFF,
        STATE_ON,
        STATE_OFF,
    ]
    injection = hass.states.get("switch.relays_relay_0")
    assert injection is not None
    assert (injection.attributes["role"], injection.attributes["safe_state"]) == (
        "injection",
        "off",
    )
    other = hass.states.get("switch.relays_relay_5")
    assert other is not None
    assert (other.attributes["role"], other.attributes["safe_state"]) == ("none", "unknown")
    assert data.relays_with_role(RelayRole.INJECTION) == ("relay_0",)
    assert data.relays_with_role(RelayRole.CONSUMPTION) == ("relay_1",)
    # The outputs and the watchdog alarm (far apart: two reads), the inputs.
    assert simulator.stats.requests == {0x01: 2, 0x02: 1}
    alarm = hass.states.get("binary_sensor.relays_watchdog_alarm")
    assert alarm is not None
    assert (alarm.state, alarm.attributes["device_class"]) == (STATE_OFF, "problem")


async def test_digital_output_module(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """The E1211's sixteen outputs are switches; it has no inputs, only its watchdog alarm."""
    simulator = await start_simulator({1: MoxaE1211()})
    entry = make_entry("moxa_e1211", simulator, "Outputs")
    await set_up(entry)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert sorted(entity.entity_id for entity in entities) == sorted(
        [*(f"switch.outputs_output_{n}" for n in range(16)), "binary_sensor.outputs_watchdog_alarm"]
    )
    state = hass.states.get("switch.outputs_output_15")
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes["role"] == "none"


async def test_setpoint_and_command_source_writes(
    hass: HomeAssistant,
    start_simulator: StartSimulator,
    make_entry: MakeEntry,
    set_up: SetUpEntry,
) -> None:
    """Setting the target power and the command source writes FC06 and shows the new value."""
    model = PowerPackModel(blocks=3)
    simulator = await start_simulator({1: model})
    await set_up(make_entry("powerpack_bess", simulator, "Battery"))

    await hass.services.async_call(
        Platform.NUMBER,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: "number.battery_target_power", ATTR_VALUE: 120},
        blocking=True,
    )
    await hass.services.async_call(
        Platform.SELECT,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: "select.battery_command_source", ATTR_OPTION: "remote"},
        blocking=True,
    )

    assert (model.target_kw, model.remote) == (120, True)
    assert [(w.function_code, w.address, w.values) for w in simulator.stats.writes] == [
        (0x06, 2008, [120]),
        (0x06, 2010, [1]),
    ]
    assert state_of(hass, "number.battery_target_power") == "120"
    assert state_of(hass, "select.battery_command_source") == "remote"

    # The range follows the available blocks: 3 x 50 kW.
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            Platform.NUMBER,
            SERVICE_SET_VALUE,
            {ATTR_ENTITY_ID: "number.battery_target_power", ATTR_VALUE: 200},
            blocking=True,
        )
    assert model.target_kw == 120


async def test_relay_switching_is_read_back(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Turning a relay on writes FC05, reads the coil back (FC01) and shows it on."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    await set_up(make_entry("moxa_e1214", simulator, "Relays"))
    simulator.stats.requests.clear()

    await hass.services.async_call(
        Platform.SWITCH, SERVICE_TURN_ON, {ATTR_ENTITY_ID: "switch.relays_relay_2"}, blocking=True
    )
    assert [model.coils[n] for n in range(4)] == [False, False, True, False]
    assert state_of(hass, "switch.relays_relay_2") == STATE_ON
    assert simulator.stats.requests == {0x05: 1, 0x01: 1}

    await hass.services.async_call(
        Platform.SWITCH, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: "switch.relays_relay_2"}, blocking=True
    )
    assert [model.coils[n] for n in range(4)] == [False, False, False, False]
    assert state_of(hass, "switch.relays_relay_2") == STATE_OFF


async def test_relay_that_does_not_switch_raises(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """A coil that reads back wrong after every retry is a translated error; the state stays."""
    model = MoxaE1214()
    simulator = await start_simulator({1: model})
    await set_up(make_entry("moxa_e1214", simulator, "Relays"))
    model.ignore_writes = 10

    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            Platform.SWITCH,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: "switch.relays_relay_3"},
            blocking=True,
        )

    assert caught.value.translation_key == "modbus_readback_mismatch"
    assert caught.value.translation_placeholders == {
        "key": "relay_3",
        "written": "True",
        "read_back": "False",
    }
    assert str(caught.value) == (
        "relay_3 was written True but reads back False: the device did not take the write"
    )
    assert simulator.stats.requests[0x05] == 2  # the write and its one retry
    assert state_of(hass, "switch.relays_relay_3") == STATE_OFF


async def test_refused_write_is_a_translated_error(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """A device failure (0x04) on a write reaches the user as a clear message."""
    simulator = await start_simulator({1: PowerPackModel()})
    await set_up(make_entry("powerpack_bess", simulator, "Battery"))
    simulator.faults.exception_code = 0x04

    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            Platform.SELECT,
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: "select.battery_command_source", ATTR_OPTION: "remote"},
            blocking=True,
        )

    assert caught.value.translation_key == "modbus_exception_device_failure"
    assert "failed to process the request for address 2010" in str(caught.value)
