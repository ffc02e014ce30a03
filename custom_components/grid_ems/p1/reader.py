"""Sans-IO P1 reader: bytes in, telegram events out.

``P1Reader.feed`` takes whatever the port delivered (a few bytes, a telegram split over reads,
several telegrams in one read, noise) and returns the telegrams completed by it:

* A telegram runs from ``/`` to ``!`` followed by its CRC: exactly four hex digits, upper or lower
  case (DSMR P1 5.0.2, 6.12). The check covers ``/`` up to and including ``!``.
* Bytes outside telegrams are skipped; all but line ends are counted as garbage.
* A ``/`` before the ``!`` means the telegram was cut off: it is dropped as truncated. A telegram
  longer than ``max_telegram_size`` without its ``!`` is dropped as oversized.
* A CRC that does not match, or that is not four hex digits, rejects the telegram. Policy: an
  unpadded CRC (``!B9F``, sent by some Dutch heat meters) is rejected like any malformed CRC: a
  frame whose check digits do not follow the standard cannot be told apart from a corrupted one.
* Every object is validated (``validate``): finite, in its OBIS code's unit and range; an object
  that is not is dropped and counted by reason in ``P1Reader.dropped``.
* Energy registers and M-Bus readings are guarded (``CounterGuard``): a value lower than the last
  accepted one, or higher than the connection could deliver since, is replaced by the last
  accepted one and counted in ``ReaderStats.rejected_values``; a run of consistent readings after
  it is accepted (a meter exchange, a rollover). A new meter (another equipment identifier)
  starts afresh. The guard's state can be saved and restored across restarts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from .crc import crc16_arc
from .parser import TelegramParser, group_mbus
from .telegram import (
    ENERGY_COUNTERS,
    EQUIPMENT_IDENTIFIER,
    MBUS_READINGS,
    CapturedReading,
    Reading,
    Telegram,
    TelegramObject,
)
from .validate import MAX_POWER_KW, DropReason

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_MAX_TELEGRAM_SIZE: Final = 16384
"""Largest telegram accepted; e-MUCS telegrams, even with a 1024-character text, stay below 4 KB."""

_START: Final = b"/"
_END: Final = b"!"
_CRC_LENGTH: Final = 4
_HEX_DIGITS: Final = frozenset(b"0123456789ABCDEFabcdef")
_LINE_END_BYTES: Final = b"\r\n"


class RejectReason(StrEnum):
    """Why a telegram was not accepted."""

    CRC_MISMATCH = "crc_mismatch"
    """The CRC does not match the contents, or is not four hex digits ("bad")."""
    TRUNCATED = "truncated"
    """A new telegram began before this one ended ("dropped")."""
    OVERSIZED = "oversized"
    """No end within the maximum telegram size ("dropped")."""


@dataclass(frozen=True, slots=True)
class TelegramReceived:
    """A telegram with a valid CRC, parsed, energy counters guarded."""

    telegram: Telegram
    raw: bytes


@dataclass(frozen=True, slots=True)
class TelegramRejected:
    """A telegram that was received but not accepted."""

    reason: RejectReason
    raw: bytes


type P1Event = TelegramReceived | TelegramRejected


@dataclass(slots=True)
class ReaderStats:
    """What the reader has seen since it was created."""

    telegrams: int = 0
    """Good telegrams (valid CRC)."""
    crc_errors: int = 0
    """Bad telegrams (CRC mismatch or malformed CRC)."""
    dropped: int = 0
    """Truncated or oversized telegrams."""
    garbage_bytes: int = 0
    """Bytes outside any telegram, line ends not counted."""
    rejected_values: int = 0
    """Energy counter values that went backwards, replaced by the last accepted value."""


class P1Reader:
    """Finds, checks and parses the telegrams in a P1 byte stream."""

    def __init__(
        self,
        *,
        max_telegram_size: int = DEFAULT_MAX_TELEGRAM_SIZE,
        max_power_kw: Decimal = MAX_POWER_KW,
    ) -> None:
        """Create a reader with an empty buffer, for a connection of up to ``max_power_kw``."""
        self._buffer = bytearray()
        self._max_telegram_size = max_telegram_size
        self._parser = TelegramParser(max_power_kw)
        self.guard = CounterGuard(max_power_kw)
        self.stats = ReaderStats()
        self._now = 0.0

    @property
    def malformed_lines(self) -> int:
        """Lines of valid telegrams that could not be parsed (skipped)."""
        return self._parser.malformed_lines

    @property
    def buffered(self) -> int:
        """Bytes waiting for the end of a telegram (bounded by the maximum telegram size)."""
        return len(self._buffer)

    @property
    def dropped(self) -> Mapping[DropReason, int]:
        """Objects of valid telegrams left out, by reason (each distinct line once)."""
        return self._parser.dropped

    def feed(self, data: bytes, now: float | None = None) -> list[P1Event]:
        """Add bytes from the port; return the telegrams they complete, in order.

        ``now`` is when the bytes arrived (seconds, wall clock: the counter guard's state
        outlives restarts); None reads the clock.
        """
        self._now = time.time() if now is None else now
        buffer = self._buffer
        buffer += data
        events: list[P1Event] = []
        while True:
            start = buffer.find(_START)
            if start < 0:
                self._skip(len(buffer))
                return events
            if start:
                self._skip(start)
            end = buffer.find(_END, 1)
            restart = buffer.find(_START, 1, end if end >= 0 else len(buffer))
            if restart >= 0:
                events.append(self._reject(RejectReason.TRUNCATED, restart))
                continue
            if end < 0:
                if len(buffer) > self._max_telegram_size:
                    events.append(self._reject(RejectReason.OVERSIZED, len(buffer)))
                return events
            crc_end = end + 1 + _CRC_LENGTH
            crc_field = buffer[end + 1 : crc_end]
            if _START[0] in crc_field:
                # The next telegram starts where the check digits should be.
                events.append(self._reject(RejectReason.CRC_MISMATCH, buffer.index(_START, end)))
                continue
            if len(crc_field) < _CRC_LENGTH:
                return events
            # Out of the buffer before it is looked at: nothing in it can be read twice.
            raw = bytes(buffer[:crc_end])
            del buffer[:crc_end]
            events.append(self._check(raw, end + 1, bytes(crc_field)))

    def _check(self, raw: bytes, checked_length: int, crc_field: bytes) -> P1Event:
        if not _HEX_DIGITS.issuperset(crc_field) or crc16_arc(raw[:checked_length]) != int(
            crc_field, 16
        ):
            self.stats.crc_errors += 1
            return TelegramRejected(RejectReason.CRC_MISMATCH, raw)
        self.stats.telegrams += 1
        telegram = self._parser.parse(raw[:checked_length])
        telegram, rejected = self.guard.check(telegram, self._now)
        self.stats.rejected_values += rejected
        return TelegramReceived(telegram, raw)

    def _reject(self, reason: RejectReason, length: int) -> TelegramRejected:
        raw = bytes(self._buffer[:length])
        del self._buffer[:length]
        if reason is RejectReason.CRC_MISMATCH:
            self.stats.crc_errors += 1
        else:
            self.stats.dropped += 1
        return TelegramRejected(reason, raw)

    def _skip(self, length: int) -> None:
        skipped = self._buffer[:length]
        del self._buffer[:length]
        self.stats.garbage_bytes += len(skipped.translate(None, _LINE_END_BYTES))


CONFIRMATIONS: Final = 10
"""Consistent readings in a row after a refused one that make it the counter's new course."""
_SLACK: Final = Decimal("0.01")
"""What any counter may add between two telegrams, whatever the time between them."""
_MBUS_RATES: Final[Mapping[str | None, Decimal]] = {"m3": Decimal(100), "GJ": Decimal(1)}
"""The most an M-Bus meter counts in an hour: a large gas meter (G65), 280 kW of heat."""
_STATE_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class _Course:
    """A counter's value and when it was read: what the next reading must follow."""

    value: Decimal
    at: float
    confirmations: int = 0

    def follows(self, value: Decimal, now: float, rate: Decimal) -> bool:
        """Whether ``value`` can follow: not lower, and not faster than ``rate`` an hour."""
        elapsed = Decimal(max(now - self.at, 0.0)) / 3600
        return Decimal(0) <= value - self.value <= rate * elapsed + _SLACK


class CounterGuard:
    """Keeps energy registers and M-Bus readings from going backwards or jumping ahead.

    A reading is accepted when it follows the last accepted one: not lower, and not higher than
    the connection could deliver in the time between them. Any other reading is refused (the
    last accepted value stands) and becomes a candidate course; ``CONFIRMATIONS`` readings in a
    row that follow it make it the accepted course (a meter exchange, a rollover, a counter the
    guard never saw), so one bad value cannot freeze a counter for good.
    """

    __slots__ = ("_accepted", "_candidates", "_max_power_kw", "_meter", "_unchanged")

    def __init__(self, max_power_kw: Decimal = MAX_POWER_KW) -> None:
        """Start with nothing accepted."""
        self._max_power_kw = max_power_kw
        self._meter: str | None = None
        self._accepted: dict[str, _Course] = {}
        self._candidates: dict[str, _Course] = {}
        self._unchanged: dict[str, TelegramObject] = {}
        """The object last accepted per counter: the same line again needs no check."""

    def check(self, telegram: Telegram, now: float) -> tuple[Telegram, int]:
        """Return the telegram with refused values replaced, and how many were."""
        meter = telegram.text(EQUIPMENT_IDENTIFIER)
        if meter != self._meter:
            self._meter = meter
            self._accepted.clear()
            self._candidates.clear()
            self._unchanged.clear()
        objects = telegram.objects
        unchanged = self._unchanged
        replaced: dict[str, TelegramObject] = {}
        for code, key in _counters(telegram):
            found = objects[code]
            if unchanged.get(key) is found:
                # The same line as the last accepted one: its course starts when it first came,
                # which is also what bounds the next change (the meter counts below the display).
                continue
            value = _counter_value(found)
            if value is None:
                continue
            accepted = self._accept(key, value, now, self._rate(found))
            if accepted is None:
                unchanged[key] = found
            else:
                unchanged.pop(key, None)
                replaced[code] = replace(found, value=accepted)  # type: ignore[type-var]
        if not replaced:
            return telegram, 0
        guarded = {**objects, **replaced}  # parses the telegram's other lines too: rare
        return (
            Telegram(telegram.header, guarded, telegram.codes, group_mbus(guarded)),
            len(replaced),
        )

    def _rate(self, found: TelegramObject) -> Decimal:
        """The most the counter of ``found`` can count in an hour."""
        if isinstance(found, CapturedReading):
            return _MBUS_RATES.get(found.unit, Decimal(0))
        return self._max_power_kw

    def _accept(self, key: str, value: Decimal, now: float, rate: Decimal) -> Decimal | None:
        """Take ``value`` if it follows; return the value that stands instead when it does not."""
        accepted = self._accepted.get(key)
        if accepted is None or accepted.follows(value, now, rate):
            self._accepted[key] = _Course(value, now)
            self._candidates.pop(key, None)
            return None
        candidate = self._candidates.get(key)
        confirmations = (
            candidate.confirmations + 1
            if candidate is not None and candidate.follows(value, now, rate)
            else 0
        )
        if confirmations >= CONFIRMATIONS:
            self._accepted[key] = _Course(value, now)
            del self._candidates[key]
            return None
        self._candidates[key] = _Course(value, now, confirmations)
        return accepted.value

    def state(self) -> dict[str, Any]:
        """The accepted readings as JSON-serializable data, to restore after a restart."""
        return {
            "version": _STATE_VERSION,
            "meter": self._meter,
            "counters": {
                key: [str(course.value), course.at] for key, course in self._accepted.items()
            },
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take the accepted readings of ``state()``; anything unreadable is left out."""
        counters = state.get("counters")
        meter = state.get("meter")
        if state.get("version") != _STATE_VERSION or not isinstance(counters, dict):
            return
        if not isinstance(meter, str | None):
            return
        self._meter = meter
        self._accepted.clear()
        self._candidates.clear()
        self._unchanged.clear()
        for key, saved in counters.items():
            try:
                value, at = Decimal(saved[0]), float(saved[1])
            except (TypeError, ValueError, IndexError, KeyError, InvalidOperation):
                continue
            if value.is_finite() and value >= 0:
                self._accepted[str(key)] = _Course(value, at)


def _counters(telegram: Telegram) -> list[tuple[str, str]]:
    """The energy registers and M-Bus readings of a telegram: (OBIS code, guard key).

    An M-Bus reading is keyed by its device's identifier when it has one: channels shift when
    a device is added, the device's counter stays its own.
    """
    objects = telegram.objects
    counters = [(code, code) for code in ENERGY_COUNTERS if code in objects]
    for channel, device in telegram.mbus.items():
        prefix = f"0-{channel}:"
        owner = f"0-{device.equipment_identifier}:" if device.equipment_identifier else prefix
        counters += [
            (prefix + suffix, owner + suffix)
            for suffix in MBUS_READINGS
            if prefix + suffix in objects
        ]
    return counters


def _counter_value(found: TelegramObject) -> Decimal | None:
    value = found.value if isinstance(found, Reading | CapturedReading) else None
    # Validated objects are finite; the check keeps the guard's comparisons safe regardless.
    return value if isinstance(value, Decimal) and value.is_finite() else None
