"""APCI layer of IEC 60870-5-104: framing of I, S and U frames (sans-IO).

An APDU is a start byte 0x68, a length octet (4..253) and four control octets, followed in an
I-frame by the ASDU. Sequence numbers are 15 bit and travel shifted left by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

START_BYTE: Final = 0x68
CONTROL_FIELD_LENGTH: Final = 4
MAX_APDU_LENGTH: Final = 253
"""Largest value of the length octet: control field plus ASDU."""
MAX_ASDU_LENGTH: Final = MAX_APDU_LENGTH - CONTROL_FIELD_LENGTH
SEQUENCE_MODULO: Final = 1 << 15


class UFunction(IntEnum):
    """Unnumbered control functions; the value is the first control octet."""

    STARTDT_ACT = 0x07
    STARTDT_CON = 0x0B
    STOPDT_ACT = 0x13
    STOPDT_CON = 0x23
    TESTFR_ACT = 0x43
    TESTFR_CON = 0x83


@dataclass(frozen=True, slots=True)
class IFrame:
    """Numbered information transfer frame carrying one ASDU."""

    send_seq: int
    recv_seq: int
    asdu: bytes


@dataclass(frozen=True, slots=True)
class SFrame:
    """Numbered supervisory frame: acknowledges received I-frames."""

    recv_seq: int


@dataclass(frozen=True, slots=True)
class UFrame:
    """Unnumbered control frame."""

    function: UFunction


type APDU = IFrame | SFrame | UFrame


class FrameError(Exception):
    """The byte stream is not a valid APDU sequence; the connection must be closed."""


def encode_apdu(frame: APDU) -> bytes:
    """Encode one APDU to bytes."""
    match frame:
        case IFrame(send_seq, recv_seq, asdu):
            if not 0 < len(asdu) <= MAX_ASDU_LENGTH:
                raise ValueError(f"ASDU length {len(asdu)} outside 1..{MAX_ASDU_LENGTH}")
            header = bytes(
                (
                    START_BYTE,
                    CONTROL_FIELD_LENGTH + len(asdu),
                    (send_seq << 1) & 0xFE,
                    (send_seq >> 7) & 0xFF,
                    (recv_seq << 1) & 0xFE,
                    (recv_seq >> 7) & 0xFF,
                )
            )
            return header + asdu
        case SFrame(recv_seq):
            return bytes(
                (START_BYTE, 4, 0x01, 0x00, (recv_seq << 1) & 0xFE, (recv_seq >> 7) & 0xFF)
            )
        case UFrame(function):
            return bytes((START_BYTE, 4, function, 0x00, 0x00, 0x00))


def decode_apdu(frame: bytes | memoryview) -> APDU:
    """Decode one complete APDU (start byte and length included); raise FrameError if invalid."""
    if len(frame) < 2 + CONTROL_FIELD_LENGTH or frame[0] != START_BYTE:
        raise FrameError("not an APDU")
    length = frame[1]
    if length != len(frame) - 2:
        raise FrameError(f"length octet {length} does not match {len(frame) - 2} octets")
    c1, c2, c3, c4 = frame[2], frame[3], frame[4], frame[5]
    if not c1 & 0x01:
        if length == CONTROL_FIELD_LENGTH:
            raise FrameError("I-frame without ASDU")
        if c3 & 0x01:
            raise FrameError("I-frame with reserved receive sequence bit set")
        return IFrame((c1 >> 1) | (c2 << 7), (c3 >> 1) | (c4 << 7), bytes(frame[6:]))
    if length != CONTROL_FIELD_LENGTH:
        raise FrameError(f"S- or U-frame with length {length}")
    if c1 == 0x01:
        if c2 or c3 & 0x01:
            raise FrameError("S-frame with reserved bits set")
        return SFrame((c3 >> 1) | (c4 << 7))
    if c2 or c3 or c4:
        raise FrameError("U-frame with reserved octets set")
    try:
        return UFrame(UFunction(c1))
    except ValueError:
        raise FrameError(f"U-frame with invalid function 0x{c1:02x}") from None


class FrameReader:
    """Split a TCP byte stream into APDUs, keeping an incomplete frame for the next chunk."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        """Start with an empty buffer."""
        self._buffer = bytearray()

    @property
    def has_partial_frame(self) -> bool:
        """Whether part of a frame is waiting for more bytes."""
        return bool(self._buffer)

    def feed(self, data: bytes) -> list[APDU]:
        """Return the complete APDUs in the buffered bytes; raise FrameError on a bad frame.

        APDUs decoded before a bad frame are lost with the connection the error closes.
        """
        buffer = self._buffer
        buffer += data
        frames: list[APDU] = []
        start = 0
        end = len(buffer)
        view = memoryview(buffer)
        try:
            while start < end:
                if buffer[start] != START_BYTE:
                    raise FrameError(f"start byte 0x{buffer[start]:02x} instead of 0x68")
                if end - start < 2:
                    break
                length = buffer[start + 1]
                if not CONTROL_FIELD_LENGTH <= length <= MAX_APDU_LENGTH:
                    raise FrameError(f"length octet {length} outside 4..253")
                if end - start < 2 + length:
                    break
                frames.append(decode_apdu(view[start : start + 2 + length]))
                start += 2 + length
        finally:
            view.release()
        del buffer[:start]
        return frames
