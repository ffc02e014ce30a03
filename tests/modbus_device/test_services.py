"""The commissioning services grid_ems.read_register and grid_ems.write_register."""

from __future__ import annotations

import struct
from typing import Any

import pytest
import voluptuous as vol
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.grid_ems.const import DOMAIN
from simulators.modbus import AcuvimModel, ModbusSimulator, MoxaE1214, PowerPackModel

from .conftest import MakeEntry, SetUpEntry, StartSimulator


@pytest.fixture
async def battery(
    start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> tuple[ModbusSimulator, str]:
    """A loaded PowerPack entry and its simulator."""
    model = PowerPackModel()
    simulator = await start_simulator({1: model})
    entry = make_entry("powerpack_bess", simulator, "Battery")
    await set_up(entry)
    return simulator, entry.entry_id


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    """Call a Modbus service and return its response (if any)."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=service == "read_register"
    )


async def test_read_holding_registers_decoded(
    hass: HomeAssistant, battery: tuple[ModbusSimulator, str]
) -> None:
    """Reading returns values decoded with the data type and the raw registers."""
    simulator, entry_id = battery
    model = simulator.units[1]
    assert isinstance(model, PowerPackModel)
    model.target_kw = -100

    response = await call(
        hass,
        "read_register",
        {"config_entry_id": entry_id, "address": 2008, "count": 3, "data_type": "int16"},
    )

    assert response["values"][0] == -100
    assert response["registers"][0] == 0xFF9C
    assert len(response["registers"]) == 3


async def test_read_floats_bits_and_word_order(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Float32 pairs, either word order, and the bit tables."""
    meter, relays = AcuvimModel(), MoxaE1214()
    relays.discrete_inputs[1] = True
    simulator = await start_simulator({1: meter, 2: relays})
    meter_entry = make_entry("acuvim_ii", simulator, "Meter")
    relay_entry = make_entry("moxa_e1214", simulator, "Relays", unit_id=2)
    await set_up(meter_entry)
    await set_up(relay_entry)

    floats = await call(
        hass,
        "read_register",
        {
            "config_entry_id": meter_entry.entry_id,
            "address": 0x4000,
            "count": 2,
            "data_type": "float32",
        },
    )
    assert floats["values"][0] == 50.0
    assert len(floats["registers"]) == 4
    swapped = await call(
        hass,
        "read_register",
        {
            "config_entry_id": meter_entry.entry_id,
            "address": 0x4000,
            "data_type": "float32",
            "word_order": "low_first",
        },
    )
    high, low = floats["registers"][:2]
    assert swapped["values"] == [struct.unpack(">f", struct.pack(">HH", low, high))[0]]
    bits = await call(
        hass,
        "read_register",
        {
            "config_entry_id": relay_entry.entry_id,
            "table": "discrete_input",
            "address": 0,
            "count": 3,
        },
    )
    assert bits == {"values": [False, True, False], "registers": [0, 1, 0]}


async def test_read_not_a_number_is_none(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """A float32 register holding NaN reads as None (JSON has no NaN)."""
    meter = AcuvimModel()
    meter.readings["frequency"] = float("nan")
    simulator = await start_simulator({1: meter})
    entry = make_entry("acuvim_ii", simulator, "Meter")
    await set_up(entry)

    response = await call(
        hass,
        "read_register",
        {"config_entry_id": entry.entry_id, "address": 0x4000, "data_type": "float32"},
    )

    assert response["values"] == [None]


async def test_write_refuses_managed_registers_unless_forced(
    hass: HomeAssistant, battery: tuple[ModbusSimulator, str]
) -> None:
    """The target power is the integration's; writing it needs force."""
    simulator, entry_id = battery
    data = {"config_entry_id": entry_id, "address": 2008, "value": -50, "data_type": "int16"}

    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, "write_register", data)
    assert caught.value.translation_key == "modbus_managed_register"
    assert caught.value.translation_placeholders == {"registers": "target_power"}
    assert not simulator.stats.writes

    await call(hass, "write_register", data | {"force": True})
    assert [(w.function_code, w.address, w.values) for w in simulator.stats.writes] == [
        (0x06, 2008, [0xFFCE])
    ]
    state = hass.states.get("number.battery_target_power")
    assert state is not None
    assert state.state == "-50"  # the entity refreshed after the write


async def test_forced_coil_write(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """A relay's coil is the integration's too; forced, it goes out with FC05."""
    relays = MoxaE1214()
    simulator = await start_simulator({1: relays})
    entry = make_entry("moxa_e1214", simulator, "Relays")
    await set_up(entry)
    data = {"config_entry_id": entry.entry_id, "table": "coil", "address": 4, "value": 1}

    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, "write_register", data)
    assert caught.value.translation_placeholders == {"registers": "relay_4"}
    await call(hass, "write_register", data | {"force": True})

    assert relays.coils[4] is True
    assert simulator.stats.writes[-1].function_code == 0x05


async def test_write_uses_fc16_for_32_bit_values(
    hass: HomeAssistant, start_simulator: StartSimulator, make_entry: MakeEntry, set_up: SetUpEntry
) -> None:
    """Registers outside the profile need no force; float32 is written in the chosen order."""
    meter = AcuvimModel()
    writes: list[tuple[int, int]] = []
    meter.write_register = lambda address, value: writes.append((address, value))  # type: ignore[method-assign]
    simulator = await start_simulator({1: meter})
    entry = make_entry("acuvim_ii", simulator, "Meter")
    await set_up(entry)

    await call(
        hass,
        "write_register",
        {
            "config_entry_id": entry.entry_id,
            "address": 0x1000,
            "value": 1.5,
            "data_type": "float32",
            "word_order": "low_first",
        },
    )

    assert simulator.stats.writes[-1].function_code == 0x10
    assert writes == [(0x1000, 0x0000), (0x1001, 0x3FC0)]


@pytest.mark.parametrize(
    ("data", "translation_key"),
    [
        ({"table": "coil", "address": 100, "value": 2}, "modbus_invalid_coil_value"),
        ({"address": 100, "value": 1.5}, "modbus_invalid_value"),
        ({"address": 100, "value": 70000}, "modbus_invalid_value"),
    ],
)
async def test_write_validation(
    hass: HomeAssistant,
    battery: tuple[ModbusSimulator, str],
    data: dict[str, Any],
    translation_key: str,
) -> None:
    """Values a register or coil cannot hold are refused before anything is sent."""
    simulator, entry_id = battery
    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, "write_register", {"config_entry_id": entry_id} | data)
    assert caught.value.translation_key == translation_key
    assert not simulator.stats.writes


async def test_read_validation_and_device_errors(
    hass: HomeAssistant, battery: tuple[ModbusSimulator, str]
) -> None:
    """Spans beyond one request, unknown entries and device exceptions are clear errors."""
    simulator, entry_id = battery
    with pytest.raises(ServiceValidationError) as caught:
        await call(
            hass,
            "read_register",
            {"config_entry_id": entry_id, "address": 0, "count": 100, "data_type": "uint32"},
        )
    assert caught.value.translation_key == "modbus_span_too_long"
    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, "read_register", {"config_entry_id": "nope", "address": 0})
    assert caught.value.translation_key == "not_a_loaded_modbus_device"
    with pytest.raises(vol.Invalid):
        await call(hass, "read_register", {"config_entry_id": entry_id, "address": 70000})

    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "read_register", {"config_entry_id": entry_id, "address": 9})
    assert failed.value.translation_key == "modbus_exception_illegal_data_address"
    simulator.faults.exception_code = 0x04
    with pytest.raises(HomeAssistantError) as failed:
        await call(
            hass,
            "write_register",
            {"config_entry_id": entry_id, "address": 9, "value": 1},
        )
    assert failed.value.translation_key == "modbus_exception_device_failure"
