"""Property tests of the byte stream: whatever arrives, nothing raises and good telegrams are read.

Telegrams of the corpus are mutated the way firmware, dongles and relays damage them, then given
a valid CRC, so that the mutation reaches the parser: bit flips, digits added, units changed,
NaN/Infinity, empty values, duplicated, reordered and truncated lines, telegrams glued together
and cut anywhere. After any of it, the next good telegram is read, and no value ever comes out
with a unit or scale other than its OBIS code's.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from custom_components.grid_ems.p1.crc import crc16_arc
from custom_components.grid_ems.p1.reader import P1Event, P1Reader, TelegramReceived
from custom_components.grid_ems.p1.telegram import (
    ENERGY_COUNTERS,
    CapturedReading,
    MonthlyPeak,
    PowerFailure,
    Reading,
    Telegram,
)
from custom_components.grid_ems.p1.validate import MBUS_QUANTITIES, quantities

from .conftest import load_corpus

GOOD = [corpus.data for corpus in load_corpus() if corpus.crc_ok]
QUANTITIES = quantities()
UNITS = ["kWh", "Wh", "MWh", "kW", "W", "V", "kV", "A", "mA", "m3", "GJ", "s", "", "KW"]
BAD_VALUES = ["NaN", "sNaN", "Infinity", "-Infinity", "", "-1", "1e9", "0x10", "1_000"]


def _seal(body: bytes) -> bytes:
    """A body from ``/`` through ``!`` with its valid CRC."""
    return body + f"{crc16_arc(body):04X}\r\n".encode()


def _lines(telegram: bytes) -> list[bytes]:
    return telegram[: telegram.index(b"!")].split(b"\r\n")


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A corpus telegram with one to four mutations, resealed with a valid CRC."""
    lines = _lines(draw(st.sampled_from(GOOD)))
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(1, len(lines) - 1))
        line = lines[index]
        match draw(st.sampled_from(range(8))):
            case 0:  # a bit flip anywhere in the line
                if line:
                    at = draw(st.integers(0, len(line) - 1))
                    bit = 1 << draw(st.integers(0, 7))
                    line = line[:at] + bytes([line[at] ^ bit]) + line[at + 1 :]
            case 1:  # a digit added
                digits = [at for at, byte in enumerate(line) if chr(byte).isdigit()]
                if digits:
                    at = draw(st.sampled_from(digits))
                    line = line[:at] + draw(st.sampled_from(b"0123456789")).to_bytes() + line[at:]
            case 2:  # a unit changed or removed
                unit = draw(st.sampled_from(UNITS)).encode()
                star = line.rfind(b"*")
                if star >= 0:
                    line = line[: star + 1] + unit + b")" if unit else line[:star] + b")"
            case 3:  # a value replaced
                bad = draw(st.sampled_from(BAD_VALUES)).encode()
                start, star = line.rfind(b"("), line.rfind(b"*")
                if start >= 0:
                    end = star if star > start else len(line) - 1
                    line = line[: start + 1] + bad + line[end:]
            case 4:  # a line duplicated
                lines.insert(index, line)
            case 5:  # lines reordered
                other = draw(st.integers(1, len(lines) - 1))
                lines[index], lines[other] = lines[other], lines[index]
                line = lines[index]
            case 6:  # a line truncated
                line = line[: draw(st.integers(0, len(line)))]
            case _:  # a line of another telegram
                line = draw(st.sampled_from(_lines(draw(st.sampled_from(GOOD)))[1:]))
        lines[index] = line
    return _seal(b"\r\n".join(lines) + b"\r\n!")


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given positions, as reads of a port deliver it."""
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


def _check_units(telegram: Telegram) -> None:
    """Every object a sensor can read has its code's unit, is finite and in range."""
    for code, found in telegram.objects.items():
        quantity = QUANTITIES.get(code)
        match found:
            case Reading(value=Decimal() | int() as value, unit=unit) if quantity is not None:
                assert unit == quantity.unit, (code, found)
                assert 0 <= value <= quantity.limit, (code, found)
            case CapturedReading(value=Decimal() as value, unit=unit, captured_at=moment):
                if quantity is not None:
                    assert unit == quantity.unit, (code, found)
                    assert 0 <= value <= quantity.limit, (code, found)
                elif moment is not None and unit is not None:
                    assert unit in MBUS_QUANTITIES, (code, found)
                    assert 0 <= value <= MBUS_QUANTITIES[unit].limit, (code, found)
            case tuple():
                for entry in found:
                    if isinstance(entry, MonthlyPeak):
                        assert entry.unit == "kW", (code, found)
                        assert entry.value is not None
                        assert entry.value.is_finite(), (code, found)
                    else:
                        assert isinstance(entry, PowerFailure)
                        assert entry.unit == "s", (code, found)
                        assert isinstance(entry.duration, int), (code, found)
    # What the HA layer computes from a telegram never raises either.
    _ = telegram.net_power, telegram.peak_history, telegram.power_failure_log
    for device in telegram.mbus.values():
        _ = device.medium, device.reading


def _feed(reader: P1Reader, chunks: list[bytes], now: float) -> list[P1Event]:
    events: list[P1Event] = []
    for chunk in chunks:
        events += reader.feed(chunk, now)
    for event in events:
        if isinstance(event, TelegramReceived):
            _check_units(event.telegram)
    return events


def _assert_good_is_read(reader: P1Reader, good: bytes, now: float) -> None:
    """The good telegram is the last event, with every object of an undisturbed reader."""
    events = _feed(reader, [good], now)
    assert events
    last = events[-1]
    assert isinstance(last, TelegramReceived)
    assert last.raw == good.rstrip(b"\r\n")
    expected = P1Reader().feed(good)[0]
    assert isinstance(expected, TelegramReceived)
    reference = dict(expected.telegram.objects)
    objects = dict(last.telegram.objects)
    assert objects.keys() == reference.keys()
    for code, found in objects.items():
        if code in ENERGY_COUNTERS or code[4:] in ("24.2.1", "24.2.3"):
            continue  # guarded: a damaged reading the guard took may stand a while
        assert found == reference[code], code
    assert reader.buffered == 0


@settings(max_examples=60)
@given(noise=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 4000), max_size=8))
def test_arbitrary_bytes(noise: bytes, cuts: list[int]) -> None:
    """Any bytes, in any reads: nothing raises; the buffer is bounded; a good telegram follows."""
    reader = P1Reader(max_telegram_size=2048)
    _feed(reader, _chunks(noise, cuts), 0.0)
    assert reader.buffered <= 2048 + 1
    _assert_good_is_read(reader, GOOD[0], 1.0)


@settings(max_examples=120)
@given(
    st.sampled_from(GOOD),
    st.lists(_mutated(), min_size=1, max_size=3),
    st.lists(st.integers(0, 20000), max_size=6),
)
def test_mutated_telegrams_with_valid_crc(
    good: bytes, mutated: list[bytes], cuts: list[int]
) -> None:
    """Mutated telegrams, glued and cut anywhere, between good ones: the good ones are read."""
    reader = P1Reader()
    _assert_good_is_read(reader, good, 0.0)
    _feed(reader, _chunks(b"".join(mutated), cuts), 1.0)
    _assert_good_is_read(reader, good, 2.0)
