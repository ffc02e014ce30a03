"""Validation of parsed P1 objects: a value is used only with the unit and range its OBIS code has.

A telegram with a valid CRC can still carry wrong values (meter firmware, a dongle or ser2net
relaying a corrupted line with a fresh CRC). Every object is checked once per distinct line, when
it is parsed: a number must be finite, carry its OBIS code's unit (a known multiple is converted:
W -> kW, Wh -> kWh), fit the digits of its DSMR format and lie in its physical range. Anything
else drops that object with a ``DropReason``; the telegram's other objects are used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final, cast

from .telegram import (
    AVERAGE_DEMAND,
    CURRENT,
    ENERGY_COUNTERS,
    FUSE_THRESHOLDS,
    LIMITER_THRESHOLD,
    MBUS_READINGS,
    MONTH_PEAK_DEMAND,
    PEAK_DEMAND_HISTORY,
    PHASE_POWER_EXPORT,
    PHASE_POWER_IMPORT,
    POWER_EXPORT,
    POWER_FAILURE_LOG,
    POWER_IMPORT,
    VOLTAGE,
    CapturedReading,
    MonthlyPeak,
    PowerFailure,
    Reading,
    TelegramObject,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_POWER_KW: Final = Decimal("99.999")
"""The largest power the DSMR format F5(3) kW can write; no Fluvius connection carries more."""
POWER_FAILURE_EVENT: Final = "0-0:96.7.19"
"""The only capture object of the power failure log: the end time and duration of a failure."""


class DropReason(StrEnum):
    """Why an object of a CRC-valid telegram was not used."""

    MALFORMED = "malformed"
    """The value parser refused the line."""
    NOT_FINITE = "not_finite"
    """NaN or Infinity."""
    WRONG_UNIT = "wrong_unit"
    """A unit other than the OBIS code's (or a known multiple of it), or none."""
    OUT_OF_RANGE = "out_of_range"
    """More digits than the DSMR format, negative, or beyond the physical range."""
    DUPLICATE = "duplicate"
    """The OBIS code is on more than one line of the telegram."""
    INCONSISTENT = "inconsistent"
    """A history or log whose count disagrees with its entries, or with foreign entries."""


class InvalidObjectError(Exception):
    """An object that fails validation; ``reason`` says why."""

    def __init__(self, reason: DropReason) -> None:
        """Keep the reason."""
        super().__init__(reason)
        self.reason = reason


_KILO: Final = Decimal(1000)
_MILLI: Final = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Quantity:
    """What a numeric object must be: its unit, the multiples converted to it, its bounds."""

    unit: str | None
    limit: Decimal
    """Values must be below or at this (and not negative)."""
    digits: int
    """At most this many digits, as the DSMR format writes the value."""
    multiples: Mapping[str, Decimal] | None = None
    """Other units accepted, with the factor that converts them to ``unit``."""

    def check(self, value: object, unit: str | None, raw: str) -> Decimal | int:
        """Return the value in ``unit``; raise ``InvalidObjectError`` when it is not usable."""
        if not isinstance(value, Decimal | int):
            raise InvalidObjectError(DropReason.MALFORMED)  # an empty value
        if type(value) is Decimal and not value.is_finite():
            raise InvalidObjectError(DropReason.NOT_FINITE)
        factor = None
        if unit != self.unit:
            if self.multiples is None or unit is None or unit not in self.multiples:
                raise InvalidObjectError(DropReason.WRONG_UNIT)
            factor = self.multiples[unit]
        star = raw.find("*")
        number = raw if star < 0 else raw[:star]
        # The parsed value is a number: all but its decimal point are digits (or a sign).
        if len(number) - number.count(".") > self.digits:
            raise InvalidObjectError(DropReason.OUT_OF_RANGE)
        if factor is not None:
            value = value * factor
        if value < 0 or value > self.limit:
            raise InvalidObjectError(DropReason.OUT_OF_RANGE)
        return value


def _power(limit: Decimal) -> Quantity:
    # F5(3) kW; a W reading (F5(0)) may be written with more integer digits.
    return Quantity("kW", limit, 6, {"W": _MILLI})


_COUNT: Final = Quantity(None, Decimal(99999), 5)
"""Event counters (power failures, voltage sags and swells): F5(0), no unit."""


def quantities(max_power_kw: Decimal = MAX_POWER_KW) -> dict[str, Quantity]:
    """The numeric objects by OBIS code (M-Bus readings apart), for a connection's power limit."""
    power = _power(max_power_kw)
    energy = Quantity("kWh", Decimal("999999.999"), 9, {"Wh": _MILLI})
    return {
        **dict.fromkeys(ENERGY_COUNTERS, energy),
        **dict.fromkeys(
            (POWER_IMPORT, POWER_EXPORT, AVERAGE_DEMAND, MONTH_PEAK_DEMAND, PEAK_DEMAND_HISTORY),
            power,
        ),
        **dict.fromkeys((*PHASE_POWER_IMPORT, *PHASE_POWER_EXPORT), power),
        **dict.fromkeys(VOLTAGE, Quantity("V", Decimal("999.9"), 4)),
        **dict.fromkeys(CURRENT, Quantity("A", Decimal("999.99"), 5)),
        # 999.9 kW / 999 A: the "no limit" the meter writes when no limiter is set.
        LIMITER_THRESHOLD: Quantity("kW", Decimal("999.999"), 6, {"W": _MILLI}),
        **dict.fromkeys(FUSE_THRESHOLDS, Quantity("A", Decimal("999.99"), 5)),
        **dict.fromkeys(
            (
                "0-0:96.7.21",
                "0-0:96.7.9",
                "1-0:32.32.0",
                "1-0:52.32.0",
                "1-0:72.32.0",
                "1-0:32.36.0",
                "1-0:52.36.0",
                "1-0:72.36.0",
            ),
            _COUNT,
        ),
    }


MBUS_QUANTITIES: Final[Mapping[str, Quantity]] = {
    # F8(3): gas and water in m3, heat in GJ.
    "m3": Quantity("m3", Decimal("99999.999"), 8),
    "GJ": Quantity("GJ", Decimal("99999.999"), 8),
}


def value_text(line: str, group: int = 0) -> str:
    """The text of the ``group``-th bracketed value of a line, unit included."""
    parts = line.split("(")
    return parts[group + 1].partition(")")[0] if len(parts) > group + 1 else ""


class Validator:
    """Checks the objects of one reader against their OBIS code's unit and range."""

    __slots__ = ("_quantities",)

    def __init__(self, max_power_kw: Decimal = MAX_POWER_KW) -> None:
        """Build the table of quantities for a connection that carries up to ``max_power_kw``."""
        self._quantities = quantities(max_power_kw)

    def check(self, code: str, found: TelegramObject, line: str) -> TelegramObject:
        """Return the object in its code's unit; raise ``InvalidObjectError`` if it is unusable."""
        # Exact types: this runs for every new line, keep it cheap.
        if type(found) is Reading:
            quantity = self._quantities.get(code)
            value, unit = found.value, found.unit
            if quantity is None:
                return _unmeasured(found, unit)
            checked = quantity.check(value, unit, line[line.find("(") + 1 : line.find(")")])
            if checked is value and unit == quantity.unit:
                return found
            return Reading(checked, quantity.unit)
        if type(found) is CapturedReading:
            return self._captured(code, found, found.value, found.unit, line)
        if isinstance(found, tuple) and code == PEAK_DEMAND_HISTORY:
            return self._peaks(cast("tuple[MonthlyPeak, ...]", found), line)
        if isinstance(found, tuple) and code == POWER_FAILURE_LOG:
            return _power_failures(found, line)
        # A history or log under a damaged code (dsmr_parser's patterns take any first digits).
        raise InvalidObjectError(DropReason.INCONSISTENT)

    def _captured(
        self,
        code: str,
        found: CapturedReading,
        value: Decimal | None,
        unit: str | None,
        line: str,
    ) -> CapturedReading:
        if code[4:] in MBUS_READINGS:
            if found.captured_at is None or (unit is None and value == 0):
                return found  # the meter's placeholders for "no reading yet"
            quantity = MBUS_QUANTITIES.get(unit or "")
            if quantity is None:
                raise InvalidObjectError(
                    DropReason.NOT_FINITE
                    if isinstance(value, Decimal) and not value.is_finite()
                    else DropReason.WRONG_UNIT
                )
        elif (quantity := self._quantities.get(code)) is None:
            return _unmeasured(found, unit)
        checked = quantity.check(value, unit, value_text(line, 1))
        if checked is value and unit == quantity.unit:
            return found
        return replace(found, value=Decimal(checked), unit=quantity.unit)

    def _peaks(self, found: tuple[MonthlyPeak, ...], line: str) -> tuple[MonthlyPeak, ...]:
        # dsmr_parser reads as many months as the count says: a count above the months fails
        # there, one below leaves months over, counted here. An empty history may close with an
        # empty value: ``(0)(1-0:1.6.0)(1-0:1.6.0)()``.
        if line.count("(") - 3 - 3 * len(found) not in ((0, 1) if not found else (0,)):
            raise InvalidObjectError(DropReason.INCONSISTENT)
        quantity = self._quantities[PEAK_DEMAND_HISTORY]
        peaks: list[MonthlyPeak] = []
        for index, peak in enumerate(found):
            raw = value_text(line, 5 + 3 * index)
            checked = quantity.check(peak.value, peak.unit, raw)
            peaks.append(
                peak
                if checked is peak.value and peak.unit == quantity.unit
                else replace(peak, value=Decimal(checked), unit=quantity.unit)
            )
        return tuple(peaks)


def _unmeasured[Found: TelegramObject](found: Found, unit: str | None) -> Found:
    """An object of a code without a quantity (states, types, texts) has no unit.

    dsmr_parser's patterns take any digit for the first two OBIS groups, so a damaged code
    (``0-0:1.6.0`` for ``1-0:1.6.0``) reaches its value parser: with a unit, it is dropped.
    """
    if unit is not None:
        raise InvalidObjectError(DropReason.WRONG_UNIT)
    return found


def _power_failures(found: tuple[object, ...], line: str) -> tuple[PowerFailure, ...]:
    """The log holds failures only: each with an end time and a duration in seconds."""
    if not found:
        return ()
    if value_text(line, 1) != POWER_FAILURE_EVENT:
        raise InvalidObjectError(DropReason.INCONSISTENT)
    failures: list[PowerFailure] = []
    for failure in found:
        if not isinstance(failure, PowerFailure) or failure.ended_at is None:
            raise InvalidObjectError(DropReason.MALFORMED)
        if not isinstance(failure.duration, int) or failure.unit != "s":
            raise InvalidObjectError(DropReason.WRONG_UNIT)
        if failure.duration < 0:
            raise InvalidObjectError(DropReason.OUT_OF_RANGE)
        failures.append(failure)
    return tuple(failures)
