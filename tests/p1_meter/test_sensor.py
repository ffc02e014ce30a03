"""The P1 meter's entities: every object of the seed's table, in the right entity."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from simulators.p1 import P1Simulator, seal
from tests.ha_fixtures import entity_snapshots, entry_device

from .conftest import METER_ID, SetUp, StateWaiter, state_of

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "p1-telegrams" / "telegrams"
ENERGY, POWER, VOLTAGE, CURRENT = (
    SensorDeviceClass.ENERGY,
    SensorDeviceClass.POWER,
    SensorDeviceClass.VOLTAGE,
    SensorDeviceClass.CURRENT,
)
TOTAL, MEASUREMENT = SensorStateClass.TOTAL_INCREASING, SensorStateClass.MEASUREMENT

# OBIS code of the seed's table -> entity, state, unit, device class, state class (simulated meter).
SEED_OBJECTS: list[tuple[str, str, str, str | None, str | None, str | None]] = [
    ("0-0:96.1.1", "p1_meter_equipment_identifier", "1SAG3101021605", None, None, None),
    ("1-0:1.8.1", "p1_meter_energy_import_day", "1234.567", "kWh", ENERGY, TOTAL),
    ("1-0:1.8.2", "p1_meter_energy_import_night", "987.654", "kWh", ENERGY, TOTAL),
    ("1-0:2.8.1", "p1_meter_energy_export_day", "456.789", "kWh", ENERGY, TOTAL),
    ("1-0:2.8.2", "p1_meter_energy_export_night", "123.456", "kWh", ENERGY, TOTAL),
    ("1-0:1.8.1+2", "p1_meter_energy_import", "2222.221", "kWh", ENERGY, TOTAL),
    ("1-0:2.8.1+2", "p1_meter_energy_export", "580.245", "kWh", ENERGY, TOTAL),
    ("0-0:96.14.0", "p1_meter_active_tariff", "normal", None, SensorDeviceClass.ENUM, None),
    ("1-0:1.7.0-2.7.0", "p1_meter_grid_power", "1500", "W", POWER, MEASUREMENT),
    ("1-0:1.7.0", "p1_meter_power_import", "1500", "W", POWER, MEASUREMENT),
    ("1-0:2.7.0", "p1_meter_power_export", "0", "W", POWER, MEASUREMENT),
    ("1-0:1.4.0", "p1_meter_quarter_hour_average_demand", "0.000", "kW", POWER, MEASUREMENT),
    ("1-0:1.6.0", "p1_meter_monthly_peak_demand", "2.589", "kW", POWER, MEASUREMENT),
    ("1-0:1.6.0 time", "p1_meter_monthly_peak_demand_time", "2025-03-10T09:00:00+00:00", None,
     SensorDeviceClass.TIMESTAMP, None),
    ("0-0:98.1.0", "p1_meter_average_monthly_peak_12_months", "4.094", "kW", POWER, None),
    ("0-0:96.7.21", "p1_meter_power_failures", "4", None, None, None),
    ("0-0:96.7.9", "p1_meter_long_power_failures", "2", None, None, None),
    ("1-0:99.97.0", "p1_meter_last_long_power_failure", "2023-03-12T14:24:15+00:00", None,
     SensorDeviceClass.TIMESTAMP, None),
    ("1-0:32.32.0", "p1_meter_voltage_sags_l1", "2", None, None, None),
    ("1-0:52.32.0", "p1_meter_voltage_sags_l2", "3", None, None, None),
    ("1-0:72.32.0", "p1_meter_voltage_sags_l3", "4", None, None, None),
    ("1-0:32.36.0", "p1_meter_voltage_swells_l1", "0", None, None, None),
    ("1-0:52.36.0", "p1_meter_voltage_swells_l2", "1", None, None, None),
    ("1-0:72.36.0", "p1_meter_voltage_swells_l3", "2", None, None, None),
    ("1-0:32.7.0", "p1_meter_voltage_l1", "231.8", "V", VOLTAGE, MEASUREMENT),
    ("1-0:52.7.0", "p1_meter_voltage_l2", "234.3", "V", VOLTAGE, MEASUREMENT),
    ("1-0:72.7.0", "p1_meter_voltage_l3", "232.5", "V", VOLTAGE, MEASUREMENT),
    ("1-0:31.7.0", "p1_meter_current_l1", "2.91", "A", CURRENT, MEASUREMENT),
    ("1-0:51.7.0", "p1_meter_current_l2", "1.92", "A", CURRENT, MEASUREMENT),
    ("1-0:71.7.0", "p1_meter_current_l3", "1.61", "A", CURRENT, MEASUREMENT),
    ("1-0:21.7.0", "p1_meter_power_import_l1", "675", "W", POWER, MEASUREMENT),
    ("1-0:41.7.0", "p1_meter_power_import_l2", "450", "W", POWER, MEASUREMENT),
    ("1-0:61.7.0", "p1_meter_power_import_l3", "375", "W", POWER, MEASUREMENT),
    ("1-0:22.7.0", "p1_meter_power_export_l1", "0", "W", POWER, MEASUREMENT),
    ("1-0:42.7.0", "p1_meter_power_export_l2", "0", "W", POWER, MEASUREMENT),
    ("1-0:62.7.0", "p1_meter_power_export_l3", "0", "W", POWER, MEASUREMENT),
    ("0-0:96.3.10", "p1_meter_breaker", "connected", None, SensorDeviceClass.ENUM, None),
    ("0-0:17.0.0", "p1_meter_limiter_threshold", "999.9", "kW", POWER, None),
    ("1-0:31.4.0", "p1_meter_fuse_supervision_threshold_l1", "999", "A", CURRENT, None),
    ("0-0:96.1.4", "p1_meter_version", "50217", None, None, None),
    ("0-0:96.13.0", "p1_meter_text_message", "Welkom", None, None, None),
    ("0-0:96.13.1", "p1_meter_message_code", "01 61 81", None, None, None),
    ("0-1:24.2.3", "gas_meter_gas_consumption", "1512.345", "m³", SensorDeviceClass.GAS, TOTAL),
    ("0-1:24.2.3 time", "gas_meter_reading_time", "2025-03-10T09:00:00+00:00", None,
     SensorDeviceClass.TIMESTAMP, None),
    ("0-1:24.4.0", "gas_meter_valve", "connected", None, SensorDeviceClass.ENUM, None),
    ("0-1:96.1.1", "gas_meter_equipment_identifier", "G0012345678901", None, None, None),
    ("0-2:24.2.1", "water_meter_water_consumption", "87.654", "m³", SensorDeviceClass.WATER,
     TOTAL),
    ("0-2:24.2.1 time", "water_meter_reading_time", "2025-03-10T09:00:00+00:00", None,
     SensorDeviceClass.TIMESTAMP, None),
    ("0-2:96.1.1", "water_meter_equipment_identifier", "W0012345678902", None, None, None),
    ("0-3:24.2.1", "heat_meter_heat_consumption", "12.345", "GJ", ENERGY, TOTAL),
    ("0-3:24.2.1 time", "heat_meter_reading_time", "2025-03-10T09:00:00+00:00", None,
     SensorDeviceClass.TIMESTAMP, None),
    ("0-3:96.1.1", "heat_meter_equipment_identifier", "H0012345678903", None, None, None),
]  # fmt: skip

DISABLED_BY_DEFAULT = {
    *(f"p1_meter_{kind}_l{phase}" for kind in ("voltage", "current") for phase in (1, 2, 3)),
    *(f"p1_meter_power_{way}_l{phase}" for way in ("import", "export") for phase in (1, 2, 3)),
    *(f"p1_meter_voltage_{event}_l{phase}" for event in ("sags", "swells") for phase in (1, 2, 3)),
    "p1_meter_power_failures",
    "p1_meter_long_power_failures",
    "p1_meter_last_long_power_failure",
    "p1_meter_limiter_threshold",
    "p1_meter_fuse_supervision_threshold_l1",
    "p1_meter_text_message",
    "p1_meter_message_code",
}


@pytest.mark.usefixtures("enable_all_entities")
async def test_entities_snapshot(
    hass: HomeAssistant,
    set_up: SetUp,
    entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Registry entries and states of every entity of a meter with gas, water and heat."""
    await set_up(entry)
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert entity_snapshots(hass, entities) == snapshot


@pytest.mark.usefixtures("enable_all_entities")
async def test_every_seed_object_in_its_entity(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Each object of the seed's table: its entity, state, unit, device and state class."""
    await set_up(entry)
    for code, object_id, state, unit, device_class, state_class in SEED_OBJECTS:
        current = hass.states.get(f"sensor.{object_id}")
        assert current is not None, code
        assert current.state == state, code
        assert current.attributes.get(ATTR_UNIT_OF_MEASUREMENT) == unit, code
        assert current.attributes.get(ATTR_DEVICE_CLASS) == device_class, code
        assert current.attributes.get("state_class") == state_class, code
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert len(entities) == len(SEED_OBJECTS)


async def test_disabled_by_default_and_devices(
    hass: HomeAssistant,
    set_up: SetUp,
    entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Per-phase and diagnostic counters are disabled as in core's dsmr; M-Bus meters hang off."""
    await set_up(entry)
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    disabled = {entity.entity_id.removeprefix("sensor.") for entity in entities if entity.disabled}
    assert disabled == DISABLED_BY_DEFAULT
    meter = entry_device(hass, entry.entry_id, METER_ID)
    assert (meter.name, meter.manufacturer, meter.serial_number, meter.sw_version) == (
        "P1 meter",
        "Fluvius",
        "1SAG3101021605",
        "50217",
    )
    children = {
        device.name: device.serial_number
        for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        if device.via_device_id == meter.id
    }
    assert children == {
        "Gas meter": "G0012345678901",
        "Water meter": "W0012345678902",
        "Heat meter": "H0012345678903",
    }


def _corpus(number: str) -> bytes:
    return next(CORPUS.glob(f"{number}_*")).read_bytes()


async def test_only_objects_sent_get_entities(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """15: a single-phase meter without gas nor capacity tariff objects."""
    await set_up(entry, _corpus("15"))
    object_ids = {
        entity.entity_id.removeprefix("sensor.")
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert "p1_meter_voltage_l1" in object_ids
    assert not {"p1_meter_voltage_l2", "p1_meter_voltage_l3", "p1_meter_power_import_l2"} & (
        object_ids
    )
    assert not {name for name in object_ids if "peak" in name or "demand" in name}
    assert not {name for name in object_ids if not name.startswith("p1_meter_")}
    assert state_of(hass, "sensor.p1_meter_grid_power") == "278"


async def test_water_on_channel_1_gas_on_channel_2(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """08: the device type decides gas or water, not the channel; export is negative power."""
    await set_up(entry, _corpus("08"))
    states = {
        object_id: hass.states.get(f"sensor.{object_id}")
        for object_id in ("water_meter_water_consumption", "gas_meter_gas_consumption")
    }
    assert {object_id: state.state for object_id, state in states.items() if state} == {
        "water_meter_water_consumption": "3.830",
        "gas_meter_gas_consumption": "107.812",
    }
    assert state_of(hass, "sensor.p1_meter_grid_power") == "-1739"
    history = hass.states.get("sensor.p1_meter_average_monthly_peak_12_months")
    assert history is not None
    assert history.state == "unknown"
    assert history.attributes["peaks"] == []


async def test_peak_history(hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry) -> None:
    """12: 13 months of peaks; the 12 latest are averaged, all are listed.

    The tariff counts the 2.099 kW month as 2.5 kW: 42.628 / 12 (3.519 without the minimum).
    """
    await set_up(entry, _corpus("12"))
    history = hass.states.get("sensor.p1_meter_average_monthly_peak_12_months")
    assert history is not None
    assert history.state == "3.552"
    peaks = history.attributes["peaks"]
    assert len(peaks) == 13
    assert peaks[0] == {
        "month": "2023-06-30T22:00:00+00:00",
        "occurred": "2023-05-31T22:30:00+00:00",
        "peak_kw": 2.68,
    }
    peak_time = hass.states.get("sensor.p1_meter_monthly_peak_demand_time")
    assert peak_time is not None
    assert peak_time.state == "2024-07-07T17:15:00+00:00"


async def test_dutch_meter_power_failure_log_and_placeholder_gas(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """24: a failure log entry, and a gas channel with the meter's "no device" placeholder."""
    await set_up(entry, _corpus("24"))
    failure = hass.states.get("sensor.p1_meter_last_long_power_failure")
    assert failure is None  # disabled by default
    placeholder = hass.states.get("sensor.gas_meter_gas_consumption")
    second = hass.states.get("sensor.gas_meter_gas_consumption_2")
    assert placeholder is not None
    assert second is not None
    assert (placeholder.state, second.state) == ("unknown", "246.138")


@pytest.mark.usefixtures("enable_all_entities")
async def test_power_failure_log(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """25: ten failures; the state is the latest end, the attribute lists them all."""
    await set_up(entry, _corpus("25"))
    failure = hass.states.get("sensor.p1_meter_last_long_power_failure")
    assert failure is not None
    assert failure.state == "2019-05-08T07:43:03+00:00"
    assert len(failure.attributes["failures"]) == 10
    assert failure.attributes["failures"][0] == {
        "ended": "2019-05-08T07:43:03+00:00",
        "duration_s": 55374,
    }
    assert state_of(hass, "sensor.p1_meter_dsmr_version") == "50"
    gas = hass.states.get("sensor.gas_meter_gas_consumption")
    assert gas is not None
    assert gas.state == "unknown"


@pytest.mark.usefixtures("enable_all_entities")
async def test_text_message(hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry) -> None:
    """10: a hex-encoded text message is shown as text."""
    await set_up(entry, _corpus("10"))
    message = hass.states.get("sensor.p1_meter_text_message")
    assert message is not None
    assert message.state == "Flssiss"


async def test_objects_missing_later(
    hass: HomeAssistant,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Objects a later telegram lacks read as unknown; a device type Grid EMS does not show is
    left out."""
    await set_up(entry)
    entities = len(er.async_entries_for_config_entry(entity_registry, entry.entry_id))
    waiter = StateWaiter(hass, "sensor.p1_meter_energy_import")
    await simulator.send_raw(
        seal(
            "/FLU5\\253769484_A\r\n\r\n"
            f"0-0:96.1.1({METER_ID})\r\n"
            "1-0:1.8.1(001234.567*kWh)\r\n"
            "0-4:24.1.0(001)\r\n"
            "0-4:24.2.1(250310100000W)(00001.000*m3)\r\n"
            "!"
        )
    )
    await waiter.wait_for(STATE_UNKNOWN)
    for object_id in ("p1_meter_version", "gas_meter_gas_consumption", "p1_meter_grid_power"):
        state = hass.states.get(f"sensor.{object_id}")
        assert state is not None
        assert state.state == STATE_UNKNOWN, object_id
    assert len(er.async_entries_for_config_entry(entity_registry, entry.entry_id)) == entities


@pytest.mark.usefixtures("enable_all_entities")
async def test_emucs_2_objects(hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry) -> None:
    """22 (the e-MUCS 2.1.1 example, its placeholder CRC made valid): grid and EAN codes."""
    example = _corpus("22")
    await set_up(entry, seal(example[: example.index(b"!") + 1].decode("ascii")))
    assert state_of(hass, "sensor.p1_meter_grid_configuration") == "3n400v"
    assert state_of(hass, "sensor.p1_meter_ean_code") == "541440012345678900"
    assert state_of(hass, "sensor.gas_meter_ean_code") == "541440012345678900"
    assert state_of(hass, "sensor.water_meter_ean_code") == "541440012345678903"
