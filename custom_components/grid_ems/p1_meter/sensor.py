"""Sensors of a P1 meter and of the gas, water and heat meters it reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfVolume,
)
from homeassistant.core import callback

from ..entity import GridEmsEntity
from ..p1 import telegram as p1
from ..p1.telegram import MBusDevice, Telegram, decode_hex_text
from .coordinator import P1Coordinator, P1MeterConfigEntry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
    from homeassistant.helpers.typing import StateType

_LOGGER = logging.getLogger(__package__)

# The coordinator pushes its data; entities never poll.
PARALLEL_UPDATES = 0

type P1Value = StateType | datetime | Decimal

_P1_KILO: Final = Decimal(1000)
_P1_MILLI: Final = Decimal("0.001")
_CAPACITY_TARIFF_MINIMUM_KW: Final = Decimal("2.5")
_P1_STATE_MAX_LENGTH: Final = 255
_P1_SWITCH_STATES: Final = {0: "disconnected", 1: "connected", 2: "ready_for_reconnection"}
"""Disconnect control state (COSEM class 70) of the breaker and of an M-Bus valve."""
_P1_GRID_CONFIGURATIONS: Final = {"230": "3x230v", "400": "3n400v"}
"""e-MUCS 2.x 1-0:94.32.1: a three-phase grid without neutral (3x230 V) or with it (3N400 V)."""
_P1_TARIFFS: Final = {"0001": "normal", "0002": "low"}
"""Belgian meters: tariff 1 is normal (day), tariff 2 is low (night); Dutch meters swap them."""


@dataclass(frozen=True, kw_only=True)
class P1SensorDescription(SensorEntityDescription):
    """A sensor of the P1 meter: the objects it reads and how it reads them from a telegram.

    The sensor exists when the meter sends all of ``codes`` (or as ``exists_fn`` says), and is
    only recomputed when one of these objects changed.
    """

    codes: tuple[str, ...]
    value_fn: Callable[[Telegram], P1Value]
    attributes_fn: Callable[[Telegram], dict[str, Any]] | None = None
    exists_fn: Callable[[Telegram], bool] | None = None

    def exists(self, telegram: Telegram) -> bool:
        """Whether the meter sends what this sensor shows."""
        if self.exists_fn is not None:
            return self.exists_fn(telegram)
        return all(code in telegram.objects for code in self.codes)


@dataclass(frozen=True, kw_only=True)
class P1MBusSensorDescription(SensorEntityDescription):
    """A sensor of a gas, water or heat meter connected to the P1 meter."""

    exists_fn: Callable[[MBusDevice], bool] = lambda device: True
    value_fn: Callable[[MBusDevice], P1Value]


def _p1_decimal(code: str) -> Callable[[Telegram], Decimal | None]:
    return lambda telegram: telegram.decimal(code)


def _p1_watts(code: str) -> Callable[[Telegram], int | None]:
    """Power in W (the meter writes kW with three decimals: 1 W resolution)."""

    def value(telegram: Telegram) -> int | None:
        kilowatts = telegram.decimal(code)
        return None if kilowatts is None else int(kilowatts * _P1_KILO)

    return value


def _p1_sum(*codes: str) -> Callable[[Telegram], Decimal | None]:
    def value(telegram: Telegram) -> Decimal | None:
        parts = [telegram.decimal(code) for code in codes]
        if None in parts:
            return None
        return sum((part for part in parts if part is not None), Decimal(0))

    return value


def _p1_energy(key: str, *codes: str) -> P1SensorDescription:
    return P1SensorDescription(
        key=key,
        translation_key=f"p1_{key}",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        codes=codes,
        value_fn=_p1_sum(*codes),
    )


def _p1_power(key: str, code: str, *, enabled: bool = True) -> P1SensorDescription:
    return P1SensorDescription(
        key=key,
        translation_key=f"p1_{key}",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=enabled,
        codes=(code,),
        value_fn=_p1_watts(code),
    )


def _p1_phase(
    key: str, code: str, device_class: SensorDeviceClass, unit: str, precision: int
) -> P1SensorDescription:
    """Voltage or current of one phase: diagnostic and disabled, as in HA core's dsmr."""
    return P1SensorDescription(
        key=key,
        translation_key=f"p1_{key}",
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        codes=(code,),
        value_fn=_p1_decimal(code),
    )


def _p1_count(key: str, code: str) -> P1SensorDescription:
    """Power failures, voltage sags and swells: diagnostic and disabled, as in HA core's dsmr."""
    return P1SensorDescription(
        key=key,
        translation_key=f"p1_{key}",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        codes=(code,),
        value_fn=lambda telegram: telegram.integer(code),
    )


def _p1_text(
    key: str, code: str, *, hex_encoded: bool, enabled: bool = True
) -> P1SensorDescription:
    """Versions, and identifiers and messages, which the meter sends hex-encoded."""

    def value(telegram: Telegram) -> str | None:
        text = telegram.text(code)
        if text is None:
            return None
        return (decode_hex_text(text) if hex_encoded else text)[:_P1_STATE_MAX_LENGTH]

    return P1SensorDescription(
        key=key,
        translation_key=f"p1_{key}",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=enabled,
        codes=(code,),
        value_fn=value,
    )


def _p1_switch_state(value: int | None) -> str | None:
    return None if value is None else _P1_SWITCH_STATES.get(value)


def _p1_month_peak_time(telegram: Telegram) -> datetime | None:
    peak = telegram.captured(p1.MONTH_PEAK_DEMAND)
    return None if peak is None else peak.captured_at


def _p1_month_peak(telegram: Telegram) -> Decimal | None:
    peak = telegram.captured(p1.MONTH_PEAK_DEMAND)
    return None if peak is None else peak.value


def _p1_average_monthly_peak(telegram: Telegram) -> Decimal | None:
    """Average of the 12 latest recorded monthly peaks: what the Flemish capacity tariff bills.

    The tariff counts a month's peak as at least 2.5 kW. The meter's placeholder months (no
    peak time) are left out.
    """
    recorded = sorted(
        (peak.month_start, peak.value)
        for peak in telegram.peak_history or ()
        if peak.month_start is not None and peak.occurred_at is not None and peak.value is not None
    )
    latest = [max(value, _CAPACITY_TARIFF_MINIMUM_KW) for _, value in recorded[-12:]]
    if not latest:
        return None
    return (sum(latest, Decimal(0)) / len(latest)).quantize(_P1_MILLI)


def _p1_peak_history_attributes(telegram: Telegram) -> dict[str, Any]:
    return {
        "peaks": [
            {
                "month": None if peak.month_start is None else peak.month_start.isoformat(),
                "occurred": None if peak.occurred_at is None else peak.occurred_at.isoformat(),
                "peak_kw": None if peak.value is None else float(peak.value),
            }
            for peak in telegram.peak_history or ()
        ]
    }


def _p1_last_power_failure(telegram: Telegram) -> datetime | None:
    ends = [failure.ended_at for failure in telegram.power_failure_log or () if failure.ended_at]
    return max(ends, default=None)


def _p1_power_failure_attributes(telegram: Telegram) -> dict[str, Any]:
    return {
        "failures": [
            {
                "ended": None if failure.ended_at is None else failure.ended_at.isoformat(),
                "duration_s": failure.duration,
            }
            for failure in telegram.power_failure_log or ()
        ]
    }


P1_SENSORS: Final[tuple[P1SensorDescription, ...]] = (
    _p1_energy("energy_import_tariff_1", p1.ENERGY_IMPORT_TARIFF_1),
    _p1_energy("energy_import_tariff_2", p1.ENERGY_IMPORT_TARIFF_2),
    _p1_energy("energy_export_tariff_1", p1.ENERGY_EXPORT_TARIFF_1),
    _p1_energy("energy_export_tariff_2", p1.ENERGY_EXPORT_TARIFF_2),
    _p1_energy("energy_import", p1.ENERGY_IMPORT_TARIFF_1, p1.ENERGY_IMPORT_TARIFF_2),
    _p1_energy("energy_export", p1.ENERGY_EXPORT_TARIFF_1, p1.ENERGY_EXPORT_TARIFF_2),
    P1SensorDescription(
        key="net_power",
        translation_key="p1_net_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        codes=(p1.POWER_IMPORT, p1.POWER_EXPORT),
        exists_fn=lambda telegram: telegram.net_power is not None,
        value_fn=lambda telegram: None if (power := telegram.net_power) is None else int(power),
    ),
    _p1_power("power_import", p1.POWER_IMPORT),
    _p1_power("power_export", p1.POWER_EXPORT),
    *(
        description
        for phase, codes in enumerate(
            zip(p1.VOLTAGE, p1.CURRENT, p1.PHASE_POWER_IMPORT, p1.PHASE_POWER_EXPORT, strict=True),
            start=1,
        )
        for description in (
            _p1_phase(
                f"voltage_l{phase}",
                codes[0],
                SensorDeviceClass.VOLTAGE,
                UnitOfElectricPotential.VOLT,
                1,  # the telegram's 0.1 V
            ),
            _p1_phase(
                f"current_l{phase}",
                codes[1],
                SensorDeviceClass.CURRENT,
                UnitOfElectricCurrent.AMPERE,
                2,  # the telegram's 0.01 A
            ),
            _p1_power(f"power_import_l{phase}", codes[2], enabled=False),
            _p1_power(f"power_export_l{phase}", codes[3], enabled=False),
        )
    ),
    P1SensorDescription(
        key="active_tariff",
        translation_key="p1_active_tariff",
        device_class=SensorDeviceClass.ENUM,
        options=list(_P1_TARIFFS.values()),
        codes=(p1.ACTIVE_TARIFF,),
        value_fn=lambda telegram: _P1_TARIFFS.get(telegram.text(p1.ACTIVE_TARIFF) or ""),
    ),
    P1SensorDescription(
        key="average_demand",
        translation_key="p1_average_demand",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=3,
        codes=(p1.AVERAGE_DEMAND,),
        value_fn=_p1_decimal(p1.AVERAGE_DEMAND),
    ),
    P1SensorDescription(
        key="month_peak_demand",
        translation_key="p1_month_peak_demand",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=3,
        codes=(p1.MONTH_PEAK_DEMAND,),
        value_fn=_p1_month_peak,
    ),
    P1SensorDescription(
        key="month_peak_demand_time",
        translation_key="p1_month_peak_demand_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        codes=(p1.MONTH_PEAK_DEMAND,),
        value_fn=_p1_month_peak_time,
    ),
    P1SensorDescription(
        key="peak_demand_history",
        translation_key="p1_peak_demand_history",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        codes=(p1.PEAK_DEMAND_HISTORY,),
        value_fn=_p1_average_monthly_peak,
        attributes_fn=_p1_peak_history_attributes,
    ),
    _p1_count("power_failures", p1.POWER_FAILURES),
    _p1_count("long_power_failures", p1.LONG_POWER_FAILURES),
    P1SensorDescription(
        key="last_power_failure",
        translation_key="p1_last_power_failure",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        codes=(p1.POWER_FAILURE_LOG,),
        value_fn=_p1_last_power_failure,
        attributes_fn=_p1_power_failure_attributes,
    ),
    *(_p1_count(f"voltage_sags_l{phase}", code) for phase, code in enumerate(p1.VOLTAGE_SAGS, 1)),
    *(
        _p1_count(f"voltage_swells_l{phase}", code)
        for phase, code in enumerate(p1.VOLTAGE_SWELLS, 1)
    ),
    P1SensorDescription(
        key="breaker_state",
        translation_key="p1_breaker_state",
        device_class=SensorDeviceClass.ENUM,
        options=list(_P1_SWITCH_STATES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        codes=(p1.BREAKER_STATE,),
        value_fn=lambda telegram: _p1_switch_state(telegram.integer(p1.BREAKER_STATE)),
    ),
    P1SensorDescription(
        key="limiter_threshold",
        translation_key="p1_limiter_threshold",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        codes=(p1.LIMITER_THRESHOLD,),
        value_fn=_p1_decimal(p1.LIMITER_THRESHOLD),
    ),
    *(
        P1SensorDescription(
            key=f"fuse_threshold_l{phase}",
            translation_key=f"p1_fuse_threshold_l{phase}",
            device_class=SensorDeviceClass.CURRENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=2,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            codes=(code,),
            value_fn=_p1_decimal(code),
        )
        for phase, code in enumerate(p1.FUSE_THRESHOLDS, 1)
    ),
    _p1_text("text_message", p1.TEXT_MESSAGE, hex_encoded=True, enabled=False),
    _p1_text("message_code", p1.MESSAGE_CODE, hex_encoded=True, enabled=False),
    _p1_text("version", p1.VERSION, hex_encoded=False),
    _p1_text("dsmr_version", p1.DSMR_VERSION, hex_encoded=False),
    _p1_text("equipment_identifier", p1.EQUIPMENT_IDENTIFIER, hex_encoded=True),
    _p1_text("ean_code", p1.EAN_CODE, hex_encoded=True, enabled=False),
    P1SensorDescription(
        key="grid_configuration",
        translation_key="p1_grid_configuration",
        device_class=SensorDeviceClass.ENUM,
        options=list(_P1_GRID_CONFIGURATIONS.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        codes=(p1.GRID_CONFIGURATION,),
        value_fn=lambda telegram: _P1_GRID_CONFIGURATIONS.get(
            telegram.text(p1.GRID_CONFIGURATION) or ""
        ),
    ),
)


def _p1_mbus_reading(
    medium: p1.MBusMedium, device_class: SensorDeviceClass, unit: str, meter_unit: str
) -> P1MBusSensorDescription:
    """The meter reading; a placeholder (no capture time) or a foreign unit reads as unknown."""

    def value(device: MBusDevice) -> Decimal | None:
        reading = device.reading
        if reading is None or reading.captured_at is None or reading.unit != meter_unit:
            return None
        return reading.value

    return P1MBusSensorDescription(
        key="reading",
        translation_key=f"p1_{medium}_reading",
        device_class=device_class,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=unit,
        suggested_display_precision=3,
        value_fn=value,
    )


P1_MBUS_READINGS: Final[dict[p1.MBusMedium, P1MBusSensorDescription]] = {
    p1.MBusMedium.GAS: _p1_mbus_reading(
        p1.MBusMedium.GAS, SensorDeviceClass.GAS, UnitOfVolume.CUBIC_METERS, "m3"
    ),
    p1.MBusMedium.WATER: _p1_mbus_reading(
        p1.MBusMedium.WATER, SensorDeviceClass.WATER, UnitOfVolume.CUBIC_METERS, "m3"
    ),
    p1.MBusMedium.HEAT: _p1_mbus_reading(
        p1.MBusMedium.HEAT, SensorDeviceClass.ENERGY, UnitOfEnergy.GIGA_JOULE, "GJ"
    ),
}

P1_MBUS_SENSORS: Final[tuple[P1MBusSensorDescription, ...]] = (
    P1MBusSensorDescription(
        key="reading_time",
        translation_key="p1_reading_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda device: None if device.reading is None else device.reading.captured_at,
    ),
    P1MBusSensorDescription(
        key="valve_state",
        translation_key="p1_valve_state",
        device_class=SensorDeviceClass.ENUM,
        options=list(_P1_SWITCH_STATES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: device.valve_state is not None,
        value_fn=lambda device: _p1_switch_state(device.valve_state),
    ),
    P1MBusSensorDescription(
        key="equipment_identifier",
        translation_key="p1_equipment_identifier",
        entity_category=EntityCategory.DIAGNOSTIC,
        exists_fn=lambda device: device.equipment_identifier is not None,
        value_fn=lambda device: decode_hex_text(device.equipment_identifier or ""),
    ),
    P1MBusSensorDescription(
        key="ean_code",
        translation_key="p1_ean_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        exists_fn=lambda device: device.ean_code is not None,
        value_fn=lambda device: decode_hex_text(device.ean_code or ""),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: P1MeterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a sensor for every object the meter sends, now and whenever new ones appear."""
    coordinator = entry.runtime_data.coordinator
    added: set[str] = set()
    seen_codes: frozenset[str] = frozenset()

    @callback
    def add_new_sensors() -> None:
        nonlocal seen_codes
        telegram = coordinator.data
        if telegram.codes is seen_codes:  # the parser keeps the same set while it is unchanged
            return
        seen_codes = telegram.codes
        new: list[SensorEntity] = [
            P1Sensor(coordinator, description)
            for description in P1_SENSORS
            if description.key not in added and description.exists(telegram)
        ]
        added.update(sensor.entity_description.key for sensor in new)
        for device in telegram.mbus.values():
            if (medium := device.medium) is None:
                continue
            for description in (P1_MBUS_READINGS[medium], *P1_MBUS_SENSORS):
                key = f"{coordinator.mbus_unique_id(device)}_{description.key}"
                if key not in added and description.exists_fn(device):
                    added.add(key)
                    new.append(P1MBusSensor(coordinator, description, device, medium))
        if new:
            async_add_entities(new)

    add_new_sensors()
    entry.async_on_unload(coordinator.async_add_listener(add_new_sensors))


class _P1SensorBase(GridEmsEntity[P1Coordinator], SensorEntity):
    """A P1 sensor that recomputes only when its objects changed and writes only new states."""

    _sources: tuple[object, ...] | None = None
    _shown: tuple[bool, P1Value, dict[str, Any] | None] | None = None

    def _source_objects(self) -> tuple[object, ...]:
        """The objects of the latest telegram the value is computed from."""
        raise NotImplementedError

    def _read(self) -> tuple[P1Value, dict[str, Any] | None]:
        """The value and the attributes from the coordinator's telegram."""
        raise NotImplementedError

    def _refresh(self) -> bool:
        """Take the latest value; return whether anything shown changed.

        Unchanged lines reuse their parsed object, so comparing the sources is mostly an
        identity check; only sensors whose objects changed compute their value.
        """
        available = self.coordinator.last_update_success
        sources = (available, *self._source_objects())
        if sources == self._sources:
            return False
        self._sources = sources
        try:
            shown = (available, *self._read())
        except (ArithmeticError, ValueError, TypeError, AttributeError) as err:
            # The reader validates every object; should one still not fit, the entity keeps
            # its last good state rather than failing the whole coordinator update.
            _LOGGER.debug("%s: cannot read the P1 value: %r", self.entity_id, err)
            return False
        if shown == self._shown:
            return False
        self._shown = shown
        _, self._attr_native_value, attributes = shown
        if attributes is not None:
            self._attr_extra_state_attributes = attributes
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        if self._refresh():
            self.async_write_ha_state()


class P1Sensor(_P1SensorBase):
    """A value of the P1 meter itself."""

    entity_description: P1SensorDescription

    def __init__(self, coordinator: P1Coordinator, description: P1SensorDescription) -> None:
        """Attach the sensor to the meter's device."""
        super().__init__(coordinator, description, coordinator.device_ref)
        self._refresh()

    def _source_objects(self) -> tuple[object, ...]:
        return tuple(map(self.coordinator.data.objects.get, self.entity_description.codes))

    def _read(self) -> tuple[P1Value, dict[str, Any] | None]:
        telegram = self.coordinator.data
        description = self.entity_description
        attributes = (
            None if description.attributes_fn is None else description.attributes_fn(telegram)
        )
        return description.value_fn(telegram), attributes


class P1MBusSensor(_P1SensorBase):
    """A value of a gas, water or heat meter, read through the P1 meter."""

    entity_description: P1MBusSensorDescription

    def __init__(
        self,
        coordinator: P1Coordinator,
        description: P1MBusSensorDescription,
        device: MBusDevice,
        medium: p1.MBusMedium,
    ) -> None:
        """Attach the sensor to the M-Bus device's own device."""
        super().__init__(
            coordinator, description, coordinator.mbus_device_ref(device, f"p1_{medium}_meter")
        )
        self._identifier = device.equipment_identifier
        self._channel = device.channel
        self._refresh()

    def _device(self) -> MBusDevice | None:
        """The device in the latest telegram: by its identifier (channels can shift), or channel."""
        devices = self.coordinator.data.mbus
        if self._identifier is None:
            return devices.get(self._channel)
        return next(
            (
                device
                for device in devices.values()
                if device.equipment_identifier == self._identifier
            ),
            None,
        )

    def _source_objects(self) -> tuple[object, ...]:
        return (self._device(),)

    def _read(self) -> tuple[P1Value, dict[str, Any] | None]:
        device = self._device()
        return (None if device is None else self.entity_description.value_fn(device)), None
