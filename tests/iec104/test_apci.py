"""APCI framing, byte for byte against the standard's frames and captures."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from custom_components.grid_ems.iec104.apci import (
    MAX_ASDU_LENGTH,
    FrameError,
    FrameReader,
    IFrame,
    SFrame,
    UFrame,
    UFunction,
    decode_apdu,
    encode_apdu,
)

U_FRAMES = {
    UFunction.STARTDT_ACT: "680407000000",
    UFunction.STARTDT_CON: "68040b000000",
    UFunction.STOPDT_ACT: "680413000000",
    UFunction.STOPDT_CON: "680423000000",
    UFunction.TESTFR_ACT: "680443000000",
    UFunction.TESTFR_CON: "680483000000",
}
# Captured from lib60870 (c104): C_SE_NC_1 activation with N(S) = N(R) = 33.
CAPTURED_I_FRAME = "681242004200320106006400d107000000044200"


@pytest.mark.parametrize(("function", "wire"), U_FRAMES.items())
def test_u_frames(function: UFunction, wire: str) -> None:
    assert encode_apdu(UFrame(function)).hex() == wire
    assert decode_apdu(bytes.fromhex(wire)) == UFrame(function)


def test_s_frame() -> None:
    # N(R) = 1 and the largest N(R), 32767.
    assert encode_apdu(SFrame(1)).hex() == "680401000200"
    assert encode_apdu(SFrame(32767)).hex() == "68040100feff"
    assert decode_apdu(bytes.fromhex("68040100feff")) == SFrame(32767)


def test_captured_i_frame() -> None:
    frame = decode_apdu(bytes.fromhex(CAPTURED_I_FRAME))
    assert frame == IFrame(33, 33, bytes.fromhex(CAPTURED_I_FRAME[12:]))
    assert encode_apdu(frame).hex() == CAPTURED_I_FRAME


@given(
    st.integers(0, 32767),
    st.integers(0, 32767),
    st.binary(min_size=1, max_size=MAX_ASDU_LENGTH),
)
def test_i_frame_round_trip(send_seq: int, recv_seq: int, asdu: bytes) -> None:
    frame = IFrame(send_seq, recv_seq, asdu)
    assert decode_apdu(encode_apdu(frame)) == frame


@given(st.integers(0, 32767))
def test_s_frame_round_trip(recv_seq: int) -> None:
    assert decode_apdu(encode_apdu(SFrame(recv_seq))) == SFrame(recv_seq)


@pytest.mark.parametrize("asdu", [b"", bytes(MAX_ASDU_LENGTH + 1)])
def test_i_frame_asdu_length_is_checked(asdu: bytes) -> None:
    with pytest.raises(ValueError, match="ASDU length"):
        encode_apdu(IFrame(0, 0, asdu))


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ("6904070000", "not an APDU"),
        ("69040700000000", "not an APDU"),
        ("6805070000000000", "does not match"),
        ("680400000000", "I-frame without ASDU"),
        ("680500000100ff", "reserved receive sequence bit"),
        ("680501000000ff", "S- or U-frame with length"),
        ("680401010000", "S-frame with reserved bits"),
        ("680401000100", "S-frame with reserved bits"),
        ("680407010000", "U-frame with reserved octets"),
        ("680407000001", "U-frame with reserved octets"),
        ("680403000000", "invalid function"),
        ("68040f000000", "invalid function"),
    ],
)
def test_decode_rejects_invalid_frames(wire: str, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_apdu(bytes.fromhex(wire))


def test_reader_splits_a_stream_and_keeps_partial_frames() -> None:
    stream = bytes.fromhex(U_FRAMES[UFunction.STARTDT_ACT] + CAPTURED_I_FRAME + "680401000200")
    reader = FrameReader()
    frames = []
    for index in range(len(stream)):
        frames += reader.feed(stream[index : index + 1])
        assert reader.has_partial_frame == (index + 1 not in {6, 26, 32})
    assert frames == [
        UFrame(UFunction.STARTDT_ACT),
        decode_apdu(bytes.fromhex(CAPTURED_I_FRAME)),
        SFrame(1),
    ]
    assert FrameReader().feed(stream) == frames


@pytest.mark.parametrize(
    ("wire", "message"),
    [("00", "start byte 0x00"), ("6803", "length octet 3"), ("68fe", "length octet 254")],
)
def test_reader_rejects_bad_start_and_length(wire: str, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        FrameReader().feed(bytes.fromhex(wire))


def test_reader_waits_for_the_length_octet() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x68") == []
    assert reader.has_partial_frame
    assert reader.feed(bytes.fromhex("0407000000")) == [UFrame(UFunction.STARTDT_ACT)]
    assert not reader.has_partial_frame


@given(st.lists(st.binary(min_size=1, max_size=MAX_ASDU_LENGTH), max_size=5), st.data())
def test_reader_round_trip_in_random_chunks(asdus: list[bytes], data: st.DataObject) -> None:
    frames = [IFrame(index, index, asdu) for index, asdu in enumerate(asdus)]
    stream = b"".join(encode_apdu(frame) for frame in frames)
    reader = FrameReader()
    decoded = []
    position = 0
    while position < len(stream):
        size = data.draw(st.integers(1, 300))
        decoded += reader.feed(stream[position : position + size])
        position += size
    assert decoded == frames
