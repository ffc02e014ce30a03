"""The 26 real telegrams of the shared corpus: accepted with exactly their values, or rejected.

CRC policy: the check digits are compared case-insensitively (08 has a hand-typed lowercase CRC,
valid); they must be exactly four hex digits, so the unpadded ``!B9F`` of 26 is rejected.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.grid_ems.p1.reader import (
    P1Reader,
    RejectReason,
    TelegramReceived,
    TelegramRejected,
)
from custom_components.grid_ems.p1.telegram import (
    CapturedReading,
    MonthlyPeak,
    PowerFailure,
    Reading,
    TelegramObject,
)

from .conftest import CorpusTelegram, load_corpus

CORPUS = load_corpus()
BELGIUM = ZoneInfo("Europe/Brussels")


def _assert_timestamp(parsed: datetime | None, raw: str) -> None:
    """The parsed moment is the meter's Belgian wall-clock time; None only for placeholders.

    The S/W flag only matters in the repeated hour of autumn; examples get it wrong elsewhere
    (01 writes a March date with S), so only the wall-clock time is compared.
    """
    if parsed is None:
        assert raw[:12] == "632525252525"  # the meter's "no value" placeholder
        return
    assert parsed.astimezone(BELGIUM).strftime("%y%m%d%H%M%S") == raw[:12]


def _assert_number(parsed: Decimal | int | None, expected: float) -> None:
    assert parsed is not None
    assert float(parsed) == expected


def _assert_object(parsed: TelegramObject, expected: Any) -> None:
    match parsed:
        case Reading(value=Decimal() as value, unit=unit):
            assert [float(value), unit] == expected
        case Reading(value=datetime() as value):
            _assert_timestamp(value, expected)
        case Reading(value=int() as value):
            assert value == int(expected)
        case Reading(value=value):
            assert (value or "") == expected
        case CapturedReading():
            _assert_timestamp(parsed.captured_at, expected["timestamp"])
            _assert_number(parsed.value, expected["value"])
            assert parsed.unit == expected["unit"]
        case tuple():
            assert len(parsed) == expected["count"]
            assert len(expected["entries"]) == expected["count"]
            for entry, wanted in zip(parsed, expected["entries"], strict=True):
                if isinstance(entry, MonthlyPeak):
                    _assert_timestamp(entry.month_start, wanted[0])
                    _assert_timestamp(entry.occurred_at, wanted[1])
                    _assert_number(entry.value, wanted[2])
                    assert entry.unit == "kW"
                else:
                    assert isinstance(entry, PowerFailure)
                    _assert_timestamp(entry.ended_at, wanted[0])
                    _assert_number(entry.duration, wanted[1])
                    assert entry.unit == "s"


@pytest.mark.parametrize("corpus", [c for c in CORPUS if c.crc_ok], ids=lambda corpus: corpus.name)
def test_valid_telegram_gives_exactly_its_values(corpus: CorpusTelegram) -> None:
    """Every OBIS line becomes one object, with the expected value, and nothing else."""
    reader = P1Reader()
    events = reader.feed(corpus.data)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, TelegramReceived)
    assert event.raw == corpus.data.rstrip(b"\r\n")
    assert list(event.telegram.objects) == list(corpus.values)
    for code, expected in corpus.values.items():
        _assert_object(event.telegram.objects[code], expected)
    assert event.telegram.header == corpus.data.split(b"\r\n", 1)[0][1:].decode()
    assert reader.stats.telegrams == 1
    assert reader.malformed_lines == 0


@pytest.mark.parametrize(
    "corpus", [c for c in CORPUS if not c.crc_ok], ids=lambda corpus: corpus.name
)
def test_invalid_crc_is_rejected(corpus: CorpusTelegram) -> None:
    """A CRC that does not verify rejects the telegram, counted as bad."""
    reader = P1Reader()
    events = reader.feed(corpus.data)
    assert events == [TelegramRejected(RejectReason.CRC_MISMATCH, events[0].raw)]
    assert events[0].raw.startswith(b"/")
    assert reader.stats.crc_errors == 1
    assert reader.stats.telegrams == 0


def test_corpus_is_complete() -> None:
    """The corpus is there (CI clones shared/ beside the repository) and has 21 good telegrams."""
    assert len(CORPUS) == 26
    assert sum(corpus.crc_ok for corpus in CORPUS) == 21


def test_lowercase_crc_is_accepted_and_unpadded_crc_rejected() -> None:
    """The two policy cases of the corpus, stated on their own."""
    lowercase = next(c for c in CORPUS if c.name.startswith("08_"))
    assert lowercase.data.rstrip().endswith(b"!438b")
    assert isinstance(P1Reader().feed(lowercase.data)[0], TelegramReceived)
    unpadded = next(c for c in CORPUS if c.name.startswith("26_"))
    assert unpadded.data.rstrip().endswith(b"!B9F")
    # The same telegram with the CRC padded to four digits is valid: only the format is refused.
    padded = unpadded.data.replace(b"!B9F", b"!0B9F")
    assert isinstance(P1Reader().feed(padded)[0], TelegramReceived)
    assert isinstance(P1Reader().feed(unpadded.data)[0], TelegramRejected)
