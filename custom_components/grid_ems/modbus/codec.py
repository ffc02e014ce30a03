"""Pure register arithmetic: words to values and back, and batching registers into few reads.

Nothing here does I/O, so every rule (word order, scaling, ranges, how reads are grouped and
split) is tested on its own.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from .errors import ModbusValueError
from .profile import DataType, RegisterSpec, Table, WordOrder

type Value = int | float | bool | str | None

_STRUCT_CODES: Final = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.FLOAT32: ">f",
}


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request: a span of a table and the profile registers it carries."""

    table: Table
    address: int
    count: int
    registers: tuple[RegisterSpec, ...]


def words_to_number(data_type: DataType, word_order: WordOrder, words: Sequence[int]) -> float:
    """Read the raw number a register holds (before scaling)."""
    if data_type is DataType.BOOL:
        raise ValueError("BOOL values are bits, not words")
    ordered = list(words) if word_order is WordOrder.HIGH_FIRST else list(reversed(words))
    raw = b"".join(word.to_bytes(2, "big") for word in ordered)
    (number,) = struct.unpack(_STRUCT_CODES[data_type], raw)
    return float(number) if data_type is DataType.FLOAT32 else int(number)


def number_to_words(data_type: DataType, word_order: WordOrder, number: float) -> list[int]:
    """Encode a raw number (after unscaling) into the register words, checking it fits."""
    if data_type is DataType.BOOL:
        raise ValueError("BOOL values are bits, not words")
    try:
        raw = struct.pack(_STRUCT_CODES[data_type], number)
    except struct.error as err:
        raise ModbusValueError(number) from err
    words = [int.from_bytes(raw[index : index + 2], "big") for index in range(0, len(raw), 2)]
    return words if word_order is WordOrder.HIGH_FIRST else list(reversed(words))


def decode(spec: RegisterSpec, data: Sequence[int] | Sequence[bool]) -> Value:
    """The engineering value of a register from its words (or its bit).

    Scaled numbers come out as floats, unscaled integers as ints, enumerations as option keys
    (None for a raw value the profile does not know), and NaN or infinite floats as None; a
    register with ``digits`` is rounded to them.
    """
    if spec.data_type is DataType.BOOL:
        return bool(data[0])
    number = words_to_number(spec.data_type, spec.word_order, [int(word) for word in data])
    if spec.options:
        return spec.option_for(int(number))
    if not math.isfinite(number):
        return None
    if spec.digits is not None:
        return round(number * spec.scale, spec.digits)
    if spec.scale == 1:
        return number
    return round(number * spec.scale, 10)


def encode(spec: RegisterSpec, value: Value) -> list[int]:
    """The words that write an engineering value (a number, or an option key) to a register."""
    if spec.data_type is DataType.BOOL:
        raise ValueError(f"{spec.key} is a bit: write it as a coil")
    if spec.options:
        if not isinstance(value, str) or value not in spec.options.values():
            raise ModbusValueError(value)
        raw: float = spec.raw_for_option(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        raw = value / spec.scale
        if spec.data_type is not DataType.FLOAT32:
            raw = round(raw)
    else:
        raise ModbusValueError(value)
    return number_to_words(spec.data_type, spec.word_order, raw)


def plan_reads(
    registers: Iterable[RegisterSpec], *, max_registers: int, max_bits: int, max_gap: int
) -> tuple[ReadBlock, ...]:
    """Group registers into as few reads as the device allows.

    Registers of one table join the current block while the gap since its end is at most
    ``max_gap`` addresses and the block stays within the per-read maximum.
    """
    blocks: list[ReadBlock] = []
    for table in Table:
        limit = max_bits if table.is_bits else max_registers
        current: list[RegisterSpec] = []
        for spec in sorted((s for s in registers if s.table is table), key=lambda s: s.address):
            if current and (
                spec.address - current[-1].end > max_gap or spec.end - current[0].address > limit
            ):
                blocks.append(_block(table, current))
                current = []
            current.append(spec)
        if current:
            blocks.append(_block(table, current))
    return tuple(blocks)


def split_block(block: ReadBlock) -> tuple[ReadBlock, ReadBlock] | None:
    """Split a block at its widest unmapped gap, or None when it spans no gap.

    Used when a device refuses a read that spans unmapped addresses (exception 0x02).
    """
    gaps = [
        (current.address - previous.end, index)
        for index, (previous, current) in enumerate(itertools.pairwise(block.registers), start=1)
        if current.address > previous.end
    ]
    if not gaps:
        return None
    _, index = max(gaps)
    return (
        _block(block.table, list(block.registers[:index])),
        _block(block.table, list(block.registers[index:])),
    )


def extract(block: ReadBlock, data: Sequence[int] | Sequence[bool]) -> dict[str, Value]:
    """The values of a block's registers from the data a read returned."""
    values: dict[str, Value] = {}
    for spec in block.registers:
        offset = spec.address - block.address
        values[spec.key] = decode(spec, data[offset : offset + spec.width])
    return values


def _block(table: Table, registers: list[RegisterSpec]) -> ReadBlock:
    start = registers[0].address
    return ReadBlock(table, start, registers[-1].end - start, tuple(registers))
