"""Modbus TCP framing, byte by byte: frames out, a stream in, transaction ids."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.modbus.framing import (
    Frame,
    FrameReader,
    FramingError,
    TransactionIds,
    encode_frame,
)

READ_ANSWER = Frame(0x1234, 7, bytes.fromhex("030400010002"))
EXCEPTION_ANSWER = Frame(0x1235, 7, bytes.fromhex("8302"))


def test_a_frame_is_its_mbap_header_and_pdu() -> None:
    """Transaction id, protocol 0, the length of unit id and PDU, the unit id, the PDU."""
    assert encode_frame(READ_ANSWER).hex() == "1234000000070703" + "0400010002"
    assert READ_ANSWER.function_code == 0x03
    assert EXCEPTION_ANSWER.function_code == 0x03


def test_frames_are_read_however_the_stream_is_cut() -> None:
    """One byte at a time or two frames in one read: the same frames, in order."""
    stream = encode_frame(READ_ANSWER) + encode_frame(EXCEPTION_ANSWER)
    reader = FrameReader()
    frames: list[Frame] = []
    for index in range(len(stream)):
        frames += reader.feed(stream[index : index + 1])
        if index < len(encode_frame(READ_ANSWER)) - 1:
            assert frames == []
    assert frames == [READ_ANSWER, EXCEPTION_ANSWER]
    assert FrameReader().feed(stream) == [READ_ANSWER, EXCEPTION_ANSWER]


@pytest.mark.parametrize(
    "header",
    [
        "12340001000707",  # protocol id 1
        "12340000000107",  # length 1: no PDU
        "1234000000ff07",  # length 255: more than a PDU can be
    ],
)
def test_a_stream_that_is_not_modbus_tcp_is_refused(header: str) -> None:
    """A wrong protocol id or an impossible length: the framing is lost."""
    with pytest.raises(FramingError, match="not Modbus TCP"):
        FrameReader().feed(bytes.fromhex(header) + bytes(8))


def test_transaction_ids_skip_those_in_use_and_wrap() -> None:
    """From 1 up, past ids still in use, and after 65535 back to 1 (never 0)."""
    ids = TransactionIds()
    assert [ids.take(set()) for _ in range(3)] == [1, 2, 3]
    assert ids.take({4, 5}) == 6
    for _ in range(65535 - 6):
        ids.take(set())
    assert ids.take(set()) == 1
    assert ids.take({2}) == 3
