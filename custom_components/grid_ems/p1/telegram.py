"""Typed model of a parsed P1 telegram, and the OBIS codes Grid EMS uses.

Objects are keyed by their reduced OBIS code as the meter writes it (``"1-0:1.8.1"``); M-Bus
objects (channel 1-4: gas, water, heat) are also grouped per channel in ``Telegram.mbus``.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

# Electricity (channel 0). Belgian tariff 1 is the normal (day) tariff, tariff 2 the low (night)
# one: the opposite of the Dutch meters, which is why the names say "tariff 1/2", not "high/low".
VERSION: Final = "0-0:96.1.4"
DSMR_VERSION: Final = "1-3:0.2.8"
EQUIPMENT_IDENTIFIER: Final = "0-0:96.1.1"
EAN_CODE: Final = "0-0:96.1.2"
"""e-MUCS 2.x: the EAN (GSRN) code of the meter, hex-encoded."""
GRID_CONFIGURATION: Final = "1-0:94.32.1"
"""e-MUCS 2.x: the grid the meter is connected to, 230 (3x230 V) or 400 (3N400 V)."""
TIMESTAMP: Final = "0-0:1.0.0"
ENERGY_IMPORT_TARIFF_1: Final = "1-0:1.8.1"
ENERGY_IMPORT_TARIFF_2: Final = "1-0:1.8.2"
ENERGY_EXPORT_TARIFF_1: Final = "1-0:2.8.1"
ENERGY_EXPORT_TARIFF_2: Final = "1-0:2.8.2"
ACTIVE_TARIFF: Final = "0-0:96.14.0"
POWER_IMPORT: Final = "1-0:1.7.0"
POWER_EXPORT: Final = "1-0:2.7.0"
AVERAGE_DEMAND: Final = "1-0:1.4.0"
MONTH_PEAK_DEMAND: Final = "1-0:1.6.0"
PEAK_DEMAND_HISTORY: Final = "0-0:98.1.0"
POWER_FAILURES: Final = "0-0:96.7.21"
LONG_POWER_FAILURES: Final = "0-0:96.7.9"
POWER_FAILURE_LOG: Final = "1-0:99.97.0"
BREAKER_STATE: Final = "0-0:96.3.10"
LIMITER_THRESHOLD: Final = "0-0:17.0.0"
TEXT_MESSAGE: Final = "0-0:96.13.0"
MESSAGE_CODE: Final = "0-0:96.13.1"
# Per phase: (L1, L2, L3).
VOLTAGE: Final = ("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0")
CURRENT: Final = ("1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0")
PHASE_POWER_IMPORT: Final = ("1-0:21.7.0", "1-0:41.7.0", "1-0:61.7.0")
PHASE_POWER_EXPORT: Final = ("1-0:22.7.0", "1-0:42.7.0", "1-0:62.7.0")
VOLTAGE_SAGS: Final = ("1-0:32.32.0", "1-0:52.32.0", "1-0:72.32.0")
VOLTAGE_SWELLS: Final = ("1-0:32.36.0", "1-0:52.36.0", "1-0:72.36.0")
FUSE_THRESHOLDS: Final = ("1-0:31.4.0", "1-0:51.4.0", "1-0:71.4.0")

ENERGY_COUNTERS: Final = frozenset(
    {ENERGY_IMPORT_TARIFF_1, ENERGY_IMPORT_TARIFF_2, ENERGY_EXPORT_TARIFF_1, ENERGY_EXPORT_TARIFF_2}
)
"""Registers that only ever increase (besides the M-Bus readings)."""

# M-Bus objects, as "0-<channel>:" + suffix.
MBUS_DEVICE_TYPE: Final = "24.1.0"
MBUS_EQUIPMENT_IDENTIFIERS: Final = ("96.1.1", "96.1.0")
"""Belgian meters write the M-Bus identifier as 96.1.1, Dutch ones as 96.1.0."""
MBUS_EAN_CODE: Final = "96.1.2"
"""e-MUCS 2.x: the EAN code of an M-Bus device."""
MBUS_VALVE_STATE: Final = "24.4.0"
MBUS_READINGS: Final = ("24.2.3", "24.2.1")
"""24.2.3: gas not temperature corrected (Belgium); 24.2.1: water, heat, Dutch gas."""

_KILO: Final = Decimal(1000)


class MBusMedium(StrEnum):
    """What an M-Bus device on the P1 meter measures."""

    GAS = "gas"
    WATER = "water"
    HEAT = "heat"


MBUS_MEDIUM_BY_DEVICE_TYPE: Final[Mapping[int, MBusMedium]] = {
    # EN 13757-3 device types, as the meter reports them on 0-n:24.1.0.
    0x03: MBusMedium.GAS,
    0x04: MBusMedium.HEAT,  # heat, volume measured at the outlet
    0x0C: MBusMedium.HEAT,  # heat, volume measured at the inlet
    0x0D: MBusMedium.HEAT,  # heat/cooling load meter
    0x06: MBusMedium.WATER,  # warm water (30-90 degC)
    0x07: MBusMedium.WATER,
    0x15: MBusMedium.WATER,  # hot water (>= 90 degC)
    0x16: MBusMedium.WATER,  # cold water
}


@dataclass(frozen=True, slots=True)
class Reading:
    """A single value with its unit: ``(123.456*kWh)``, or a plain value: ``(0001)``."""

    value: Decimal | int | str | datetime | None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class CapturedReading:
    """A value with the time the meter captured it: ``(200512134558S)(00112.384*m3)``."""

    captured_at: datetime | None
    value: Decimal | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class MonthlyPeak:
    """One month of the 13-month peak demand history (0-0:98.1.0).

    ``occurred_at`` is None for the meter's placeholder entry (``632525252525W``).
    """

    month_start: datetime | None
    occurred_at: datetime | None
    value: Decimal | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class PowerFailure:
    """One entry of the long power failure log (1-0:99.97.0): when it ended and how long it was."""

    ended_at: datetime | None
    duration: int | None
    unit: str | None


type TelegramObject = Reading | CapturedReading | tuple[MonthlyPeak, ...] | tuple[PowerFailure, ...]


@dataclass(frozen=True, slots=True)
class MBusDevice:
    """The objects of one M-Bus channel (gas, water or heat meter)."""

    channel: int
    device_type: int | None
    equipment_identifier: str | None
    valve_state: int | None
    reading: CapturedReading | None
    ean_code: str | None = None

    @property
    def medium(self) -> MBusMedium | None:
        """Return what the device measures, or None for device types Grid EMS does not show."""
        if self.device_type is None:
            return None
        return MBUS_MEDIUM_BY_DEVICE_TYPE.get(self.device_type)


@dataclass(frozen=True, slots=True)
class Telegram:
    """One CRC-checked telegram: its identification line and its objects by OBIS code.

    ``codes`` are the OBIS codes of the lines the telegram carries, known without parsing
    them: the parser's ``objects`` parse each line when it is first asked for.
    """

    header: str
    objects: Mapping[str, TelegramObject]
    codes: frozenset[str]
    mbus: Mapping[int, MBusDevice] = field(default_factory=dict)

    def reading(self, obis: str) -> Reading | None:
        """Return the single-value object ``obis``, or None when absent."""
        found = self.objects.get(obis)
        return found if isinstance(found, Reading) else None

    def decimal(self, obis: str) -> Decimal | None:
        """Return the numeric value of ``obis``, or None."""
        found = self.objects.get(obis)
        if isinstance(found, Reading) and isinstance(found.value, Decimal):
            return found.value
        return None

    def integer(self, obis: str) -> int | None:
        """Return the integer value of ``obis`` (counters, states), or None."""
        found = self.objects.get(obis)
        if isinstance(found, Reading) and isinstance(found.value, int):
            return found.value
        return None

    def text(self, obis: str) -> str | None:
        """Return the raw text value of ``obis`` (identifiers, versions, codes), or None."""
        found = self.objects.get(obis)
        if isinstance(found, Reading) and isinstance(found.value, str | None):
            return found.value or ""
        return None

    def captured(self, obis: str) -> CapturedReading | None:
        """Return the captured value of ``obis`` (1-0:1.6.0 and M-Bus readings), or None."""
        found = self.objects.get(obis)
        return found if isinstance(found, CapturedReading) else None

    @property
    def peak_history(self) -> tuple[MonthlyPeak, ...] | None:
        """Return the 13-month peak demand history, or None when the meter does not send it."""
        found = self.objects.get(PEAK_DEMAND_HISTORY)
        if isinstance(found, tuple):
            return tuple(peak for peak in found if isinstance(peak, MonthlyPeak))
        return None

    @property
    def power_failure_log(self) -> tuple[PowerFailure, ...] | None:
        """Return the long power failure log, or None when the meter does not send it."""
        found = self.objects.get(POWER_FAILURE_LOG)
        if isinstance(found, tuple):
            return tuple(failure for failure in found if isinstance(failure, PowerFailure))
        return None

    @property
    def net_power(self) -> Decimal | None:
        """Return the grid power in W, import positive, or None when the meter does not send it."""
        imported = self.decimal(POWER_IMPORT)
        exported = self.decimal(POWER_EXPORT)
        if imported is None and exported is None:
            return None
        return ((imported or 0) - (exported or 0)) * _KILO


def decode_hex_text(value: str) -> str:
    """Decode a hex-encoded text object (text message, equipment identifiers).

    Returns ``value`` itself when it is not hex-encoded printable text.
    """
    try:
        decoded = binascii.unhexlify(value).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value
    return decoded if decoded.isprintable() else value


BELGIUM: Final = ZoneInfo("Europe/Brussels")
_DST_OFFSETS: Final = {"S": timedelta(hours=2), "W": timedelta(hours=1)}
"""DSMR's flag of a timestamp: S, summer time (UTC+2 in Belgium); W, winter time (UTC+1)."""
_NEAR_DST_CHANGE: Final = timedelta(hours=2)


def p1_timestamp(text: str) -> datetime | None:
    """The moment of a P1 timestamp ``YYMMDDhhmmssX`` (local time, X the DST flag), in UTC.

    The flag gives the offset, as DSMR defines it: the repeated hour of autumn and a meter
    clock that changes a little before or after the official instant are read right. A flag
    that contradicts the date far from any DST change is a typo (the e-MUCS 1.7.1 example
    writes a March date with S): the Belgian calendar decides then. None for anything else
    (the meter's ``632525252525`` placeholder among them).
    """
    if len(text) not in {12, 13} or not text[:12].isdigit():
        return None
    try:  # faster than strptime, once per distinct line
        written = datetime(
            2000 + int(text[0:2]),
            int(text[2:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
        )  # local time: its offset follows
    except ValueError:
        return None
    if len(text) == 12:
        return written.replace(tzinfo=BELGIUM).astimezone(UTC)
    offset = _DST_OFFSETS.get(text[12])
    if offset is None:
        return None
    moment = (written - offset).replace(tzinfo=UTC)
    calendar = moment.astimezone(BELGIUM).utcoffset()
    if calendar != offset and all(
        (moment + delta).astimezone(BELGIUM).utcoffset() == calendar
        for delta in (-_NEAR_DST_CHANGE, _NEAR_DST_CHANGE)
    ):
        return written.replace(tzinfo=BELGIUM).astimezone(UTC)
    return moment


REDACTED: Final = "**REDACTED**"
_IDENTIFIER_SUFFIXES: Final = frozenset({"96.1.0", "96.1.1", "96.1.2"})


def redact_identifiers(raw: bytes) -> str:
    """Return a raw telegram as text with its equipment identifiers (96.1.0-2) redacted.

    The CRC line is left as it is: it no longer matches, which is harmless in diagnostics.
    """
    lines = raw.decode("latin-1").split("\r\n")
    for index, line in enumerate(lines):
        code, bracket, _ = line.partition("(")
        if bracket and code[4:] in _IDENTIFIER_SUFFIXES:
            lines[index] = f"{code}({REDACTED})"
    return "\r\n".join(lines)
