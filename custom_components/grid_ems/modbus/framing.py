"""Modbus TCP framing without I/O: requests to bytes, a byte stream to answers.

Each frame starts with the MBAP header: transaction id, protocol id (0), the length of what
follows, and the unit id. Answers are matched to requests by transaction id, so several requests
can be out on one connection and an answer that comes after its request was given up on is
recognised as late instead of being taken for the next request's.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

MBAP_HEADER: Final = struct.Struct(">HHHB")
_MAX_LENGTH: Final = 254
"""Unit id and a PDU of at most 253 bytes."""
_TRANSACTION_IDS: Final = 0x10000


class FramingError(ValueError):
    """The byte stream is not Modbus TCP (protocol id, length): its framing is lost."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One Modbus TCP frame: whose transaction, which unit, and the PDU."""

    transaction_id: int
    unit_id: int
    pdu: bytes

    @property
    def function_code(self) -> int:
        """The PDU's function code, without the exception bit."""
        return self.pdu[0] & 0x7F


def encode_frame(frame: Frame) -> bytes:
    """The bytes of a frame."""
    return MBAP_HEADER.pack(frame.transaction_id, 0, len(frame.pdu) + 1, frame.unit_id) + frame.pdu


class FrameReader:
    """Splits a Modbus TCP byte stream into frames, however it is cut into reads."""

    def __init__(self) -> None:
        """Start with nothing buffered."""
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data``; ``FramingError`` when the stream is not Modbus TCP."""
        buffer = self._buffer
        buffer += data
        frames: list[Frame] = []
        while len(buffer) >= MBAP_HEADER.size:
            transaction_id, protocol, length, unit_id = MBAP_HEADER.unpack_from(buffer)
            if protocol != 0 or not 2 <= length <= _MAX_LENGTH:
                raise FramingError(f"not Modbus TCP: protocol id {protocol}, length {length}")
            end = 6 + length
            if len(buffer) < end:
                break
            frames.append(Frame(transaction_id, unit_id, bytes(buffer[MBAP_HEADER.size : end])))
            del buffer[:end]
        return frames


class TransactionIds:
    """Hands out transaction ids, none of them one still in use (they wrap at 65536)."""

    def __init__(self) -> None:
        """Start at 1."""
        self._last = 0

    def take(self, in_use: Collection[int]) -> int:
        """The next transaction id not in ``in_use``."""
        candidate = self._last
        for _ in range(len(in_use) + 1):
            candidate = candidate % (_TRANSACTION_IDS - 1) + 1
            if candidate not in in_use:
                break
        self._last = candidate
        return candidate
