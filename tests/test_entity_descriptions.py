"""Every numeric sensor of every kind says how many decimals to show (a walk over all of them)."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.components.sensor import SensorDeviceClass, SensorEntityDescription

from custom_components.grid_ems.enforcement.sensor import (
    ENFORCEMENT_SENSORS,
    applied_limit_description,
)
from custom_components.grid_ems.grid_link.sensor import GRID_LINK_SENSORS
from custom_components.grid_ems.modbus.profile import EntityPlatform
from custom_components.grid_ems.modbus.profiles import PROFILES
from custom_components.grid_ems.modbus_device.entity import entity_registers
from custom_components.grid_ems.modbus_device.sensor import modbus_sensor_description
from custom_components.grid_ems.p1_meter.sensor import P1_MBUS_SENSORS, P1_SENSORS

# Classes whose state is not a number.
NOT_NUMERIC = {SensorDeviceClass.ENUM, SensorDeviceClass.TIMESTAMP, SensorDeviceClass.DATE}


def all_sensor_descriptions() -> Iterator[tuple[str, SensorEntityDescription]]:
    """Each sensor description of the integration, named by where it comes from."""
    for description in (*GRID_LINK_SENSORS, *ENFORCEMENT_SENSORS, *P1_SENSORS, *P1_MBUS_SENSORS):
        yield type(description).__name__, description
    yield "applied_limit", applied_limit_description("asset")
    for profile in PROFILES.values():
        for register in entity_registers(profile, EntityPlatform.SENSOR):
            yield profile.kind, modbus_sensor_description(register)


def is_numeric(description: SensorEntityDescription) -> bool:
    """A sensor whose state is a number: it has a unit or a state class, or a numeric class."""
    if description.device_class in NOT_NUMERIC or description.options:
        return False
    return (
        description.native_unit_of_measurement is not None
        or description.state_class is not None
        or description.device_class is not None
    )


def test_every_numeric_sensor_has_a_display_precision() -> None:
    """Home Assistant shows each number with a meaningful count of decimals, never float noise."""
    described = list(all_sensor_descriptions())
    assert len(described) > 100
    missing = [
        f"{source}.{description.key}"
        for source, description in described
        if is_numeric(description) and description.suggested_display_precision is None
    ]
    assert missing == []


def test_reactive_power_in_kvar_beside_kw() -> None:
    """The link's P is in kW and its Q in kvar, shown with the same decimals."""
    by_key = {description.key: description for description in GRID_LINK_SENSORS}
    assert by_key["max_injection"].native_unit_of_measurement == "kW"
    assert by_key["max_reactive_power"].native_unit_of_measurement == "kvar"
    assert (
        by_key["max_reactive_power"].suggested_display_precision
        == by_key["max_injection"].suggested_display_precision
    )
    assert by_key["reactive_power_solar"].native_unit_of_measurement == "kvar"
    assert (
        by_key["reactive_power_solar"].suggested_display_precision
        == by_key["active_power_solar"].suggested_display_precision
    )
