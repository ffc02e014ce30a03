"""Wrong values in CRC-valid telegrams: dropped or converted, never raised, never frozen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from custom_components.grid_ems.p1.reader import (
    CONFIRMATIONS,
    CounterGuard,
    P1Reader,
    TelegramReceived,
)
from custom_components.grid_ems.p1.telegram import (
    EAN_CODE,
    GRID_CONFIGURATION,
    Reading,
    Telegram,
    decode_hex_text,
    p1_timestamp,
)
from custom_components.grid_ems.p1.validate import DropReason
from simulators.p1 import seal

from .conftest import load_corpus

CORPUS = {corpus.name[:2]: corpus.data for corpus in load_corpus()}
METER = "0-0:96.1.1(3153414733313031303231363035)"


def _body(*lines: str) -> bytes:
    return seal("\r\n".join(["/FLU5\\253769484_A", "", *lines]) + "\r\n!")


def _one(reader: P1Reader, data: bytes, now: float = 0.0) -> Telegram:
    events = reader.feed(data, now)
    assert len(events) == 1
    assert isinstance(events[0], TelegramReceived)
    return events[0].telegram


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_non_finite_counter_is_dropped_and_the_meter_goes_on(value: str) -> None:
    """The guard never compares a NaN; the buffer is empty; the next telegram is read."""
    reader = P1Reader()
    good = _one(reader, _body(METER, "1-0:1.8.1(000100.000*kWh)", "1-0:1.7.0(00.100*kW)"))
    assert good.decimal("1-0:1.8.1") == Decimal("100.000")
    bad = _one(reader, _body(METER, f"1-0:1.8.1({value}*kWh)", f"1-0:1.7.0({value}*kW)"), 1)
    assert bad.decimal("1-0:1.8.1") is None
    assert bad.decimal("1-0:1.7.0") is None
    assert bad.net_power is None
    assert reader.dropped[DropReason.NOT_FINITE] + reader.dropped[DropReason.MALFORMED] == 2
    after = _one(reader, _body(METER, "1-0:1.8.1(000100.001*kWh)"), 2)
    assert after.decimal("1-0:1.8.1") == Decimal("100.001")
    assert reader.stats.rejected_values == 0


def test_one_jump_is_refused_and_the_counter_goes_on() -> None:
    """An extra digit (003015.480 for 000301.548) is refused; the real readings after it count."""
    reader = P1Reader()
    _one(reader, _body(METER, "1-0:1.8.1(000301.548*kWh)"), 0)
    jumped = _one(reader, _body(METER, "1-0:1.8.1(003015.480*kWh)"), 1)
    assert jumped.decimal("1-0:1.8.1") == Decimal("301.548")
    for second in range(2, 2 + 2 * CONFIRMATIONS):
        later = _one(reader, _body(METER, f"1-0:1.8.1(000301.{547 + second}*kWh)"), second)
        assert later.decimal("1-0:1.8.1") == Decimal(f"301.{547 + second}")
    assert reader.stats.rejected_values == 1


def test_what_an_hour_can_deliver_is_accepted() -> None:
    """The allowance grows with the time between readings: 50 kWh in an hour is possible."""
    reader = P1Reader()
    _one(reader, _body(METER, "1-0:1.8.1(000100.000*kWh)"), 0)
    assert _one(reader, _body(METER, "1-0:1.8.1(000150.000*kWh)"), 3600).decimal(
        "1-0:1.8.1"
    ) == Decimal("150.000")
    assert _one(reader, _body(METER, "1-0:1.8.1(000160.000*kWh)"), 3601).decimal(
        "1-0:1.8.1"
    ) == Decimal("150.000")


def test_meter_exchange_is_accepted_after_a_consistent_run() -> None:
    """A lower register that then counts on consistently is a new course; one alone is not."""
    reader = P1Reader()
    _one(reader, _body(METER, "1-0:1.8.1(000500.000*kWh)"), 0)
    values = []
    for second in range(1, CONFIRMATIONS + 2):
        telegram = _one(reader, _body(METER, f"1-0:1.8.1(000000.{second:03d}*kWh)"), second)
        values.append(telegram.decimal("1-0:1.8.1"))
    assert values[:CONFIRMATIONS] == [Decimal("500.000")] * CONFIRMATIONS
    assert values[CONFIRMATIONS] == Decimal(f"0.{CONFIRMATIONS + 1:03d}")
    # A single step back afterwards is refused again.
    back = _one(reader, _body(METER, "1-0:1.8.1(000000.001*kWh)"), 100)
    assert back.decimal("1-0:1.8.1") == Decimal(f"0.{CONFIRMATIONS + 1:03d}")


def test_guard_state_survives_a_restart() -> None:
    """The accepted readings are saved as JSON data and restored into a new guard."""
    reader = P1Reader()
    _one(reader, _body(METER, "1-0:1.8.1(000100.000*kWh)"), 0)
    state = reader.guard.state()
    restarted = P1Reader()
    restarted.guard.restore(state)
    lower = _one(restarted, _body(METER, "1-0:1.8.1(000090.000*kWh)"), 10)
    assert lower.decimal("1-0:1.8.1") == Decimal("100.000")
    assert restarted.stats.rejected_values == 1


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"version": 99, "meter": None, "counters": {}},
        {"version": 1, "meter": 5, "counters": {}},
        {"version": 1, "meter": None, "counters": []},
        {"version": 1, "meter": None, "counters": {"1-0:1.8.1": ["NaN", 0]}},
        {"version": 1, "meter": None, "counters": {"1-0:1.8.1": ["x", 0]}},
        {"version": 1, "meter": None, "counters": {"1-0:1.8.1": None}},
    ],
)
def test_unreadable_guard_state_is_ignored(state: dict[str, object]) -> None:
    """A damaged store never blocks a reading."""
    guard = CounterGuard()
    guard.restore(state)
    reader = P1Reader()
    reader.guard.restore(state)
    assert _one(reader, _body("1-0:1.8.1(000001.000*kWh)")).decimal("1-0:1.8.1") == Decimal(1)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1-0:1.7.0(01193*W)", Reading(Decimal("1.193"), "kW")),
        ("1-0:1.7.0(01.193*kW)", Reading(Decimal("1.193"), "kW")),
        ("1-0:1.8.1(000301548*Wh)", Reading(Decimal("301.548"), "kWh")),
        ("1-0:1.7.0(01.193)", None),
        ("1-0:1.7.0(01.193*kWh)", None),
        ("1-0:1.7.0(-000001.000*kW)", None),
        ("1-0:1.7.0(150.000*kW)", None),
        ("1-0:1.8.1(0000301.548*kWh)", None),
        ("1-0:1.8.1(*kWh)", None),
        ("1-0:1.8.1()", None),
        ("1-0:32.7.0(230.0*kV)", None),
        ("0-0:96.7.21(00004*s)", None),
    ],
)
def test_units_and_ranges(line: str, expected: Reading | None) -> None:
    """Known multiples are converted; other units, none, negative or too large are dropped."""
    reader = P1Reader()
    telegram = _one(reader, _body(line, "0-0:96.14.0(0001)"))
    code = line.partition("(")[0]
    assert telegram.objects.get(code) == expected
    assert telegram.text("0-0:96.14.0") == "0001"  # the rest of the telegram is used
    assert sum(reader.dropped.values()) == (expected is None)


def test_duplicate_line_is_dropped() -> None:
    """Two lines of one code: which is right cannot be told, neither is used."""
    reader = P1Reader()
    telegram = _one(reader, _body("1-0:1.7.0(01.000*kW)", "1-0:1.7.0(02.000*kW)"))
    assert "1-0:1.7.0" not in telegram.codes
    assert telegram.net_power is None
    assert reader.dropped[DropReason.DUPLICATE] == 1


@pytest.mark.parametrize(
    "line",
    [
        # Says 3 months, holds 2.
        "0-0:98.1.0(3)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)"
        "(200401000000S)(200305122139S)(05.980*kW)",
        # Says 1 month, holds 2.
        "0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)"
        "(200401000000S)(200305122139S)(05.980*kW)",
        # A peak in W is converted, one without a unit is not a peak.
        "0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695)",
    ],
)
def test_inconsistent_peak_history_is_dropped(line: str) -> None:
    """A 98.1.0 whose count disagrees with its entries is not partly used."""
    reader = P1Reader()
    telegram = _one(reader, _body(line))
    assert telegram.peak_history is None
    assert sum(reader.dropped.values()) == 1


def test_peak_history_in_watts_is_converted() -> None:
    """A known multiple is converted in the history too."""
    line = "0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03695*W)"
    history = _one(P1Reader(), _body(line)).peak_history
    assert history is not None
    assert [(peak.value, peak.unit) for peak in history] == [(Decimal("3.695"), "kW")]


@pytest.mark.parametrize(
    "line",
    [
        "1-0:99.97.0(1)(0-0:96.7.18)(101208152415W)(0000000240*s)",
        "1-0:99.97.0(1)(0-0:96.7.19)(101208152415W)(0000000240*min)",
        "1-0:99.97.0(1)(0-0:96.7.19)(nottime)(0000000240*s)",
    ],
)
def test_foreign_power_failure_log_is_dropped(line: str) -> None:
    """Entries of another reference code, unit or form never reach the sensors."""
    reader = P1Reader()
    telegram = _one(reader, _body(line))
    assert telegram.power_failure_log is None
    assert sum(reader.dropped.values()) == 1


def test_emucs_2_objects() -> None:
    """22 (e-MUCS 2.1.1 spec example, CRC resealed): grid configuration and EAN codes."""
    body = CORPUS["22"][: CORPUS["22"].index(b"!") + 1].decode("ascii")
    telegram = _one(P1Reader(), seal(body))
    assert telegram.text(GRID_CONFIGURATION) == "400"
    assert decode_hex_text(telegram.text(EAN_CODE) or "") == "541440012345678900"
    assert {
        channel: device.ean_code for channel, device in telegram.mbus.items() if device.ean_code
    } == {
        1: "353431343430303132333435363738393030",
        2: "353431343430303132333435363738393033",
    }


def test_buffer_stays_bounded_without_an_end() -> None:
    """Noise with starts and no end never grows the buffer past the maximum telegram size."""
    reader = P1Reader(max_telegram_size=1000)
    for _ in range(50):
        reader.feed(b"/" + b"x" * 300)
        assert reader.buffered <= 1000 + 301
    events = reader.feed(CORPUS["02"])
    assert isinstance(events[-1], TelegramReceived)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Autumn 2025: 02:30 local happens twice, first in summer time, then in winter time.
        ("251026023000S", "2025-10-26T00:30:00+00:00"),
        ("251026023000W", "2025-10-26T01:30:00+00:00"),
        # Spring 2025: a meter clock that has not switched yet at 02:00:10 (the gap) or 03:00:10.
        ("250330020010W", "2025-03-30T01:00:10+00:00"),
        ("250330030010W", "2025-03-30T02:00:10+00:00"),
        ("250330030010S", "2025-03-30T01:00:10+00:00"),
        # Far from any change the flag agrees with the calendar...
        ("250715120000S", "2025-07-15T10:00:00+00:00"),
        ("250115120000W", "2025-01-15T11:00:00+00:00"),
        # ...or is a typo (01: a March date with S): the calendar decides.
        ("200301000000S", "2020-02-29T23:00:00+00:00"),
        ("250115120000", "2025-01-15T11:00:00+00:00"),
        ("632525252525W", None),
        ("250115120000X", None),
        ("25011512000", None),
    ],
)
def test_timestamps_use_the_dst_flag(text: str, expected: str | None) -> None:
    """DSMR: local time with S (UTC+2) or W (UTC+1); through a whole telegram as well."""
    moment = p1_timestamp(text)
    assert (None if moment is None else moment.isoformat()) == expected
    telegram = _one(P1Reader(), _body(f"0-0:1.0.0({text})"))
    assert telegram.objects.get("0-0:1.0.0") == Reading(moment)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1-0:1.6.0(200509134558S)(*kW)", DropReason.MALFORMED),
        ("1-0:1.6.0(200509134558S)(02.589*kWh)", DropReason.WRONG_UNIT),
        ("0-0:1.6.0(200509134558S)(02.589*kW)", DropReason.WRONG_UNIT),
        ("0-1:24.2.3(200512134558S)(00112.384*kWh)", DropReason.WRONG_UNIT),
        ("0-1:24.2.3(200512134558S)(NaN*xx)", DropReason.NOT_FINITE),
        ("0-1:24.2.3(200512134558S)(Infinity*m3)", DropReason.NOT_FINITE),
        ("0-1:24.2.3(200512134558S)(000112.384*m3)", DropReason.OUT_OF_RANGE),
        ("0-0:96.3.10(1*kW)", DropReason.WRONG_UNIT),
        ("1-1:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)",
         DropReason.INCONSISTENT),
        ("0-0:98.1.0(x)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)",
         DropReason.MALFORMED),
        ("0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)(x)",
         DropReason.INCONSISTENT),
        ("0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)()",
         DropReason.MALFORMED),
        ("1-0:99.97.0(1)(0-0:96.7.19)(101208152415W)(-000000240*s)", DropReason.OUT_OF_RANGE),
    ],
)  # fmt: skip
def test_captured_readings_and_histories(line: str, reason: DropReason) -> None:
    """Each way a captured reading, a history or a log can be wrong drops it, for its reason."""
    reader = P1Reader()
    telegram = _one(reader, _body(line, "0-0:96.14.0(0001)"))
    assert line.partition("(")[0] not in telegram.objects
    assert {key: count for key, count in reader.dropped.items() if count} == {reason: 1}


def test_month_peak_in_watts_and_gas_placeholders() -> None:
    """1-0:1.6.0 in W is converted; M-Bus placeholders (no time, or 0 without unit) are kept."""
    telegram = _one(
        P1Reader(),
        _body(
            "1-0:1.6.0(200509134558S)(02589*W)",
            "0-1:24.2.1(632525252525S)(00000.000)",
            "0-2:24.2.1(700101010000W)(00000000)",
        ),
    )
    peak = telegram.captured("1-0:1.6.0")
    assert peak is not None
    assert (peak.value, peak.unit) == (Decimal("2.589"), "kW")
    assert telegram.captured("0-1:24.2.1") is not None
    assert telegram.captured("0-2:24.2.1") is not None


def test_guard_leaves_what_is_not_a_number() -> None:
    """The guard alone, handed a NaN or no value: nothing compared, nothing replaced."""
    guard = CounterGuard()
    for value in (Decimal("NaN"), Decimal("sNaN"), None, Decimal(5)):
        telegram = Telegram("x", {"1-0:1.8.1": Reading(value, "kWh")}, frozenset({"1-0:1.8.1"}))
        assert guard.check(telegram, 0.0) == (telegram, 0)
