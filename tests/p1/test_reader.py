"""Framing, CRC, parsing details and the counters guard of the sans-IO reader."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from custom_components.grid_ems.p1.reader import (
    DEFAULT_MAX_TELEGRAM_SIZE,
    P1Reader,
    RejectReason,
    TelegramReceived,
    TelegramRejected,
)
from custom_components.grid_ems.p1.telegram import (
    MBusMedium,
    Reading,
    Telegram,
    decode_hex_text,
    redact_identifiers,
)
from simulators.p1 import MeterConfig, SimulatedMeter, seal

from .conftest import load_corpus

CORPUS = {corpus.name[:2]: corpus.data for corpus in load_corpus()}
THREE_PHASE = CORPUS["02"]
SINGLE_PHASE = CORPUS["03"]


def _telegrams(events: list[TelegramReceived | TelegramRejected]) -> list[Telegram]:
    return [event.telegram for event in events if isinstance(event, TelegramReceived)]


def _body(*lines: str) -> bytes:
    return seal("\r\n".join(["/FLU5\\253769484_A", "", *lines]) + "\r\n!")


def test_split_at_every_byte() -> None:
    """A telegram split in two anywhere gives exactly one telegram, on the read that ends it."""
    for cut in range(1, len(THREE_PHASE)):
        reader = P1Reader()
        first = reader.feed(THREE_PHASE[:cut])
        second = reader.feed(THREE_PHASE[cut:])
        assert len(_telegrams(first + second)) == 1, cut
        assert reader.stats.crc_errors == reader.stats.dropped == reader.stats.garbage_bytes == 0


def test_byte_by_byte() -> None:
    """One byte per read, as a slow serial port delivers it."""
    reader = P1Reader()
    events = [event for byte in THREE_PHASE + SINGLE_PHASE for event in reader.feed(bytes([byte]))]
    assert len(_telegrams(events)) == 2


def test_two_in_one_read_and_garbage_between() -> None:
    """Telegrams sharing a read, with noise before, between and after them."""
    reader = P1Reader()
    events = reader.feed(b"\x00\xffnoise" + THREE_PHASE + b"zz\r\n" + SINGLE_PHASE + b"tail")
    telegrams = _telegrams(events)
    assert [telegram.header for telegram in telegrams] == [
        "FLU5\\253769484_A",
        "FLU5\\253770234_A",
    ]
    assert reader.stats.telegrams == 2
    assert reader.stats.garbage_bytes == len(b"\x00\xffnoise") + len(b"zz") + len(b"tail")


def test_truncated_telegram_is_dropped() -> None:
    """A telegram cut off by the next one is dropped; the next one is kept."""
    reader = P1Reader()
    cut = THREE_PHASE[:300]
    events = reader.feed(cut + SINGLE_PHASE)
    assert isinstance(events[0], TelegramRejected)
    assert events[0].reason is RejectReason.TRUNCATED
    assert events[0].raw == cut
    assert len(_telegrams(events)) == 1
    assert reader.stats.dropped == 1


def test_oversized_telegram_is_dropped() -> None:
    """A start without an end within the size limit is dropped; reading resumes at the next one."""
    reader = P1Reader(max_telegram_size=1000)
    events = reader.feed(b"/" + b"x" * 1000)
    assert [event.reason for event in events if isinstance(event, TelegramRejected)] == [
        RejectReason.OVERSIZED
    ]
    events = reader.feed(b"y" * 50 + SINGLE_PHASE)
    assert len(_telegrams(events)) == 1
    assert reader.stats.dropped == 1
    assert reader.stats.garbage_bytes == 50
    assert 4 * len(THREE_PHASE) <= DEFAULT_MAX_TELEGRAM_SIZE


def test_incomplete_crc_waits_for_more() -> None:
    """Nothing is decided until the four check digits are in."""
    reader = P1Reader()
    end = THREE_PHASE.index(b"!") + 3
    assert reader.feed(THREE_PHASE[:end]) == []
    assert len(_telegrams(reader.feed(THREE_PHASE[end:]))) == 1


@pytest.mark.parametrize("check", [b"!12G4\r\n", b"!0x12\r\n", b"! 123\r\n", b"!+123\r\n"])
def test_malformed_check_digits_are_bad(check: bytes) -> None:
    """Only four hex digits are a CRC; int() leniencies (0x, signs, spaces) are refused."""
    reader = P1Reader()
    body = THREE_PHASE[: THREE_PHASE.index(b"!")]
    events = reader.feed(body + check)
    assert [type(event) for event in events] == [TelegramRejected]
    assert reader.stats.crc_errors == 1


def test_next_telegram_inside_the_check_digits() -> None:
    """A telegram whose CRC is missing does not swallow the start of the next one."""
    reader = P1Reader()
    body = THREE_PHASE[: THREE_PHASE.index(b"!") + 1]
    events = reader.feed(body + b"\r\n" + SINGLE_PHASE)
    assert isinstance(events[0], TelegramRejected)
    assert events[0].reason is RejectReason.CRC_MISMATCH
    assert events[0].raw == body + b"\r\n"
    assert len(_telegrams(events)) == 1


def test_corrupted_byte_is_bad_and_stream_recovers() -> None:
    """A flipped byte fails the CRC; the telegrams around it are kept."""
    corrupted = bytearray(THREE_PHASE)
    corrupted[200] ^= 0x01
    reader = P1Reader()
    events = reader.feed(SINGLE_PHASE + bytes(corrupted) + SINGLE_PHASE)
    assert [type(event) for event in events] == [
        TelegramReceived,
        TelegramRejected,
        TelegramReceived,
    ]
    assert (reader.stats.telegrams, reader.stats.crc_errors) == (2, 1)


def test_order_unknown_lines_and_look_alike_codes() -> None:
    """Any order; unknown codes, look-alikes of known ones and lines without a value are skipped."""
    telegram = _body(
        "1-0:2.7.0(00.250*kW)",
        "1-0:1.8.10(000001.000*kWh)",
        "9-9:99.99.9(whatever)",
        "no value here",
        "1-0:1.7.0(01.500*kW)",
    )
    reader = P1Reader()
    for parsed in _telegrams(reader.feed(telegram + telegram)):
        assert list(parsed.objects) == ["1-0:2.7.0", "1-0:1.7.0"]
        assert parsed.codes == {"1-0:2.7.0", "1-0:1.7.0"}
        assert parsed.net_power == Decimal(1250)


def test_malformed_line_is_skipped_and_counted() -> None:
    """A line a value parser refuses is left out; the rest of the telegram is kept."""
    reader = P1Reader()
    telegram = _telegrams(
        reader.feed(
            _body(
                "1-0:1.7.0(00.1.5*kW)",
                "0-0:98.1.0(2)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)",
                "1-0:2.7.0(00.250*kW)",
            )
        )
    )[0]
    assert list(telegram.objects) == ["1-0:2.7.0"]
    assert reader.malformed_lines == 2
    assert telegram.net_power == Decimal(-250)


def test_unchanged_lines_are_reused_and_changed_ones_parsed() -> None:
    """The line cache never serves a stale value."""
    reader = P1Reader()
    first = _telegrams(reader.feed(_body("1-0:1.7.0(00.100*kW)", "0-0:96.14.0(0001)")))[0]
    second = _telegrams(reader.feed(_body("1-0:1.7.0(00.200*kW)", "0-0:96.14.0(0001)")))[0]
    assert first.decimal("1-0:1.7.0") == Decimal("0.100")
    assert second.decimal("1-0:1.7.0") == Decimal("0.200")
    assert second.objects["0-0:96.14.0"] is first.objects["0-0:96.14.0"]


def test_power_failure_log_parses_every_time() -> None:
    """dsmr_parser's profile parser grows with each use; ours must give the same result always."""
    reader = P1Reader()
    line = "1-0:99.97.0(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)"
    logs = [
        _telegrams(reader.feed(_body(line, f"1-0:1.7.0(00.{index:03d}*kW)")))[0].power_failure_log
        for index in range(3)
    ]
    assert logs[0] == logs[2]
    assert logs[0] is not None
    assert [failure.duration for failure in logs[0]] == [240, 301]
    # A changed log is parsed anew, with a fresh parser.
    changed = line.replace("(2)", "(1)").split("(101208151004W)")[0]
    log = _telegrams(reader.feed(_body(changed)))[0].power_failure_log
    assert log is not None
    assert [failure.duration for failure in log] == [240]


def test_empty_power_failure_log() -> None:
    """A meter without failures writes ``()``."""
    log = _telegrams(P1Reader().feed(_body("1-0:99.97.0()")))[0].power_failure_log
    assert log == ()


def test_mbus_grouping_water_first() -> None:
    """08: water on channel 1 and gas on channel 2, each with its own identifier and reading."""
    telegram = _telegrams(P1Reader().feed(CORPUS["08"]))[0]
    assert {channel: device.medium for channel, device in telegram.mbus.items()} == {
        1: MBusMedium.WATER,
        2: MBusMedium.GAS,
    }
    gas = telegram.mbus[2]
    assert gas.reading is not None
    assert gas.reading.unit == "m3"
    assert gas.valve_state == 1
    assert gas.equipment_identifier is not None
    assert decode_hex_text(gas.equipment_identifier).isprintable()


def test_mbus_dutch_identifier_heat_and_unknown_type() -> None:
    """96.1.0 identifiers, a heat meter in GJ, a device type Grid EMS does not show."""
    telegram = _telegrams(
        P1Reader().feed(
            _body(
                "0-1:24.1.0(004)",
                "0-1:96.1.0(4730303332)",
                "0-1:24.2.1(260215200523W)(240.860*GJ)",
                "0-2:24.1.0(001)",
                "0-3:24.2.1(260215200523W)(1.000*m3)",
            )
        )
    )[0]
    heat, oil, untyped = telegram.mbus[1], telegram.mbus[2], telegram.mbus[3]
    assert heat.medium is MBusMedium.HEAT
    assert heat.equipment_identifier == "4730303332"
    assert heat.reading is not None
    assert heat.reading.value == Decimal("240.860")
    assert oil.medium is None
    assert untyped.device_type is None
    assert untyped.medium is None


def test_telegram_accessors() -> None:
    """Typed accessors return None for absent objects and objects of another kind."""
    telegram = _telegrams(P1Reader().feed(CORPUS["12"]))[0]
    assert telegram.text("0-0:96.13.0") == ""
    assert telegram.text("0-0:96.14.0") == "0001"
    assert telegram.text("1-0:1.7.0") is None
    assert telegram.integer("0-0:96.3.10") == 1
    assert telegram.integer("1-0:1.7.0") is None
    assert telegram.decimal("0-0:96.14.0") is None
    assert telegram.reading("1-0:1.6.0") is None
    assert telegram.captured("1-0:1.7.0") is None
    peak = telegram.captured("1-0:1.6.0")
    assert peak is not None
    assert peak.captured_at == datetime(2024, 7, 7, 17, 15, tzinfo=UTC)
    history = telegram.peak_history
    assert history is not None
    assert len(history) == 13
    assert telegram.power_failure_log is None
    assert Telegram("x", {}, frozenset()).net_power is None
    assert Telegram("x", {}, frozenset()).peak_history is None
    only_export = Telegram("x", {"1-0:2.7.0": Reading(Decimal("0.5"), "kW")}, frozenset())
    assert only_export.net_power == Decimal(-500)


def test_decode_hex_text() -> None:
    """Hex-encoded text is decoded; anything else is returned as it is."""
    assert decode_hex_text("3153414733313031303231363035") == "1SAG3101021605"
    assert decode_hex_text("466C7373697373") == "Flssiss"
    assert decode_hex_text("") == ""
    assert decode_hex_text("ADC3100000158491") == "ADC3100000158491"
    assert decode_hex_text("0102") == "0102"
    assert decode_hex_text("XYZ") == "XYZ"


def test_counter_going_back_is_rejected_and_counted() -> None:
    """A register lower than the last accepted one keeps the last one; the rest goes through."""
    reader = P1Reader()
    identity = "0-0:96.1.1(3153414733313031303231363035)"
    gas = "0-1:24.1.0(003)"
    high = _body(
        identity, "1-0:1.8.1(000100.000*kWh)", "1-0:1.7.0(00.100*kW)", gas,
        "0-1:24.2.3(200512134558S)(00112.384*m3)",
    )  # fmt: skip
    low = _body(
        identity, "1-0:1.8.1(000099.999*kWh)", "1-0:1.7.0(00.200*kW)", gas,
        "0-1:24.2.3(200512134558S)(00100.000*m3)",
    )  # fmt: skip
    first, second = _telegrams(reader.feed(high + low))
    assert second.decimal("1-0:1.8.1") == Decimal("100.000")
    assert second.decimal("1-0:1.7.0") == Decimal("0.200")
    gas_reading = second.mbus[1].reading
    assert gas_reading is not None
    assert gas_reading.value == Decimal("112.384")
    assert reader.stats.rejected_values == 2
    assert reader.stats.telegrams == 2
    # Going up again is accepted.
    third = _telegrams(reader.feed(_body(identity, "1-0:1.8.1(000100.001*kWh)")))[0]
    assert third.decimal("1-0:1.8.1") == Decimal("100.001")
    assert first.decimal("1-0:1.8.1") == Decimal("100.000")


def test_counter_guard_starts_afresh_for_another_meter() -> None:
    """A different equipment identifier is another meter: its lower registers are accepted."""
    reader = P1Reader()
    reader.feed(_body("0-0:96.1.1(31)", "1-0:1.8.1(000100.000*kWh)"))
    other = _telegrams(reader.feed(_body("0-0:96.1.1(32)", "1-0:1.8.1(000001.000*kWh)")))[0]
    assert other.decimal("1-0:1.8.1") == Decimal("1.000")
    assert reader.stats.rejected_values == 0


def test_simulated_meter_telegrams_parse_completely() -> None:
    """Every object the simulator writes (the seed's whole table) is understood."""
    meter = SimulatedMeter(MeterConfig(heat=True, extended=True, text_message="Hallo"))
    reader = P1Reader()
    telegram = _telegrams(reader.feed(meter.telegram()))[0]
    assert reader.malformed_lines == 0
    assert len(telegram.objects) == 49
    assert decode_hex_text(telegram.text("0-0:96.13.0") or "") == "Hallo"
    assert {device.medium for device in telegram.mbus.values()} == set(MBusMedium)


def test_objects_are_parsed_on_demand() -> None:
    """Lines are parsed when first read; a malformed one is absent; codes are known upfront."""
    reader = P1Reader()
    telegram = _telegrams(
        reader.feed(_body("1-0:1.7.0(00.1.5*kW)", "1-0:2.7.0(00.250*kW)", "0-0:96.14.0(0001)"))
    )[0]
    assert telegram.codes == {"1-0:1.7.0", "1-0:2.7.0", "0-0:96.14.0"}
    assert reader.malformed_lines == 0  # nothing read yet
    assert "1-0:1.7.0" not in telegram.objects
    assert reader.malformed_lines == 1
    assert telegram.objects.get("1-0:1.7.0") is None
    assert telegram.objects.get("1-0:99.99.9", "absent") == "absent"
    assert telegram.objects.get("0-0:96.14.0", "absent") == Reading("0001")
    not_a_code: object = 42
    assert not_a_code not in telegram.objects
    assert "1-0:99.99.9" not in telegram.objects
    assert len(telegram.objects) == 2
    assert reader.malformed_lines == 1  # a line is parsed once
    with pytest.raises(KeyError):
        telegram.objects["1-0:1.7.0"]


def test_redact_identifiers() -> None:
    """Equipment identifiers (96.1.0, 96.1.1, 96.1.2) go; versions and values stay."""
    text = redact_identifiers(CORPUS["22"])
    assert "0-0:96.1.4(50221)" in text
    assert "0-0:96.1.1(**REDACTED**)" in text
    assert "0-0:96.1.2(**REDACTED**)" in text
    assert "0-2:96.1.1(**REDACTED**)" in text
    assert "1-0:1.8.1(000000.034*kWh)" in text
    assert "3153414733313031303231363035" not in text
