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
* Energy registers and M-Bus readings never go backwards: a value lower than the last accepted
  one is replaced by that one and counted in ``ReaderStats.rejected_values``. A new meter
  (another equipment identifier) starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

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

    def __init__(self, *, max_telegram_size: int = DEFAULT_MAX_TELEGRAM_SIZE) -> None:
        """Create a reader with an empty buffer."""
        self._buffer = bytearray()
        self._max_telegram_size = max_telegram_size
        self._parser = TelegramParser()
        self._guard = CounterGuard()
        self.stats = ReaderStats()

    @property
    def malformed_lines(self) -> int:
        """Lines of valid telegrams that could not be parsed (skipped)."""
        return self._parser.malformed_lines

    def feed(self, data: bytes) -> list[P1Event]:
        """Add bytes from the port; return the telegrams they complete, in order."""
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
            events.append(self._check(bytes(buffer[:crc_end]), end + 1, crc_field))
            del buffer[:crc_end]

    def _check(self, raw: bytes, checked_length: int, crc_field: bytearray) -> P1Event:
        if not _HEX_DIGITS.issuperset(crc_field) or crc16_arc(raw[:checked_length]) != int(
            crc_field, 16
        ):
            self.stats.crc_errors += 1
            return TelegramRejected(RejectReason.CRC_MISMATCH, raw)
        self.stats.telegrams += 1
        telegram = self._parser.parse(raw[:checked_length])
        telegram, rejected = self._guard.check(telegram)
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


class CounterGuard:
    """Keeps energy registers and M-Bus readings from going backwards."""

    __slots__ = ("_accepted", "_meter")

    def __init__(self) -> None:
        """Start with nothing accepted."""
        self._meter: str | None = None
        self._accepted: dict[str, TelegramObject] = {}

    def check(self, telegram: Telegram) -> tuple[Telegram, int]:
        """Return the telegram with values that went backwards replaced, and how many were."""
        meter = telegram.text(EQUIPMENT_IDENTIFIER)
        if meter != self._meter:
            self._meter = meter
            self._accepted.clear()
        accepted = self._accepted
        objects = telegram.objects
        replaced: dict[str, TelegramObject] = {}
        for code in _counter_codes(telegram):
            found = objects[code]
            previous = accepted.get(code)
            if found is previous:
                continue  # the same line as before
            value = _counter_value(found)
            if previous is not None and value is not None:
                previous_value = _counter_value(previous)
                if previous_value is not None and value < previous_value:
                    replaced[code] = previous
                    continue
            accepted[code] = found
        if not replaced:
            return telegram, 0
        guarded = {**objects, **replaced}  # parses the telegram's other lines too: rare
        return (
            Telegram(telegram.header, guarded, telegram.codes, group_mbus(guarded)),
            len(replaced),
        )


def _counter_codes(telegram: Telegram) -> list[str]:
    """The energy registers and M-Bus readings of a telegram."""
    objects = telegram.objects
    codes = [code for code in ENERGY_COUNTERS if code in objects]
    for channel in telegram.mbus:
        prefix = f"0-{channel}:"
        codes += [prefix + suffix for suffix in MBUS_READINGS if prefix + suffix in objects]
    return codes


def _counter_value(found: TelegramObject) -> Decimal | None:
    value = found.value if isinstance(found, Reading | CapturedReading) else None
    return value if isinstance(value, Decimal) else None
