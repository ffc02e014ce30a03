"""The fast CRC-16/ARC agrees with the textbook bitwise algorithm."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from custom_components.grid_ems.p1.crc import crc16_arc


def _bitwise_crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_check_value() -> None:
    """The catalogue check value of CRC-16/ARC."""
    assert crc16_arc(b"123456789") == 0xBB3D


def test_empty_and_zeros() -> None:
    """Init 0: no bytes and zero bytes give 0."""
    assert crc16_arc(b"") == 0
    assert crc16_arc(bytes(5000)) == 0


@given(st.binary(max_size=3000))
@settings(max_examples=300)
def test_matches_bitwise(data: bytes) -> None:
    """Any message, any length."""
    assert crc16_arc(data) == _bitwise_crc16_arc(data)


def test_long_messages_use_every_fold() -> None:
    """Messages beyond the CRC's period (32767 bits) and beyond the largest fold still agree."""
    for length in (4095, 4096, 4097, 40_000, 200_000):
        data = bytes((index * 131 + 7) % 251 for index in range(length))
        assert crc16_arc(data) == _bitwise_crc16_arc(data), length
