"""Register arithmetic: data types, word order, scaling, enumerations, read planning."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, strategies as st

from custom_components.grid_ems.modbus.codec import (
    ReadBlock,
    decode,
    encode,
    extract,
    number_to_words,
    plan_reads,
    split_block,
    words_to_number,
)
from custom_components.grid_ems.modbus.errors import ModbusValueError
from custom_components.grid_ems.modbus.profile import (
    DataType,
    RegisterSpec,
    Table,
    WordOrder,
)
from custom_components.grid_ems.modbus.profiles import PROFILES

HOLDING = Table.HOLDING_REGISTER


def spec(address: int, data_type: DataType = DataType.UINT16, **kwargs: object) -> RegisterSpec:
    return RegisterSpec(
        key=f"r{address}",
        table=kwargs.pop("table", HOLDING),  # type: ignore[arg-type]
        address=address,
        data_type=data_type,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("data_type", "words", "expected"),
    [
        (DataType.UINT16, [0xFFFF], 65535),
        (DataType.INT16, [0xFFFF], -1),
        (DataType.INT16, [0x8000], -32768),
        (DataType.UINT32, [0x0001, 0x0002], 0x00010002),
        (DataType.INT32, [0xFFFF, 0xFFFE], -2),
        (DataType.FLOAT32, list(struct.unpack(">HH", struct.pack(">f", 230.5))), 230.5),
    ],
)
def test_words_to_number_high_word_first(
    data_type: DataType, words: list[int], expected: float
) -> None:
    """Each data type reads its words as the big-endian number they form."""
    assert words_to_number(data_type, WordOrder.HIGH_FIRST, words) == expected


def test_low_word_first_swaps_the_registers() -> None:
    """With the low word first, the second register is the high half."""
    assert words_to_number(DataType.UINT32, WordOrder.LOW_FIRST, [0x0002, 0x0001]) == 0x00010002
    assert number_to_words(DataType.UINT32, WordOrder.LOW_FIRST, 0x00010002) == [2, 1]
    high, low = struct.unpack(">HH", struct.pack(">f", -12.25))
    assert words_to_number(DataType.FLOAT32, WordOrder.LOW_FIRST, [low, high]) == -12.25


@given(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.sampled_from(WordOrder))
def test_int32_round_trip(number: int, order: WordOrder) -> None:
    """Encoding then decoding an int32 gives it back, in either word order."""
    words = number_to_words(DataType.INT32, order, number)
    assert all(0 <= word <= 0xFFFF for word in words)
    assert words_to_number(DataType.INT32, order, words) == number


def test_number_that_does_not_fit_is_refused() -> None:
    """A value outside the data type's range raises a translated error."""
    with pytest.raises(ModbusValueError) as caught:
        number_to_words(DataType.INT16, WordOrder.HIGH_FIRST, 40000)
    assert caught.value.translation_key == "modbus_invalid_value"
    assert caught.value.placeholders == {"value": "40000"}


def test_bool_is_not_a_word_type() -> None:
    """Bits never go through the word conversions."""
    with pytest.raises(ValueError, match="bits"):
        words_to_number(DataType.BOOL, WordOrder.HIGH_FIRST, [1])
    with pytest.raises(ValueError, match="bits"):
        number_to_words(DataType.BOOL, WordOrder.HIGH_FIRST, 1)
    coil = spec(0, DataType.BOOL, table=Table.COIL)
    with pytest.raises(ValueError, match="coil"):
        encode(coil, True)
    assert decode(coil, [True]) is True


def test_scaled_values() -> None:
    """Scale multiplies on read and divides on write, without float noise."""
    energy = spec(0, DataType.UINT32, scale=0.1)
    assert decode(energy, [0x0001, 0xE240]) == 12345.6
    assert encode(energy, 12345.6) == [0x0001, 0xE240]
    assert decode(spec(0, DataType.INT16), [0xFFCE]) == -50


def test_float32_noise_is_rounded_to_the_register_digits() -> None:
    """A float32 carries noise past the device's resolution: 230.9 V decodes as 230.899993896."""
    for value, digits, read in ((230.9, 1, 230.9), (0.95, 3, 0.95), (1234.5678, 0, 1235.0)):
        words = number_to_words(DataType.FLOAT32, WordOrder.HIGH_FIRST, value)
        assert decode(spec(0, DataType.FLOAT32), words) != read
        assert decode(spec(0, DataType.FLOAT32, digits=digits), words) == read


def test_every_float_register_of_the_profiles_has_its_digits() -> None:
    """Every float32 value a shipped profile decodes is rounded at the source."""
    unrounded = [
        f"{profile.kind}.{register.key}"
        for profile in PROFILES.values()
        for register in profile.registers
        if register.data_type is DataType.FLOAT32 and register.digits is None
    ]
    assert unrounded == []


def test_float_nan_and_infinity_read_as_unknown() -> None:
    """A meter reporting NaN or infinity has no value rather than a nonsense one."""
    for number in (math.nan, math.inf):
        words = number_to_words(DataType.FLOAT32, WordOrder.HIGH_FIRST, number)
        assert decode(spec(0, DataType.FLOAT32), words) is None


def test_float_is_written_unrounded() -> None:
    """FLOAT32 keeps fractions; integer types round to the nearest step."""
    assert decode(spec(0, DataType.FLOAT32), encode(spec(0, DataType.FLOAT32), 1.5)) == 1.5
    assert encode(spec(0, DataType.INT16, scale=0.1), 1.26) == [13]


def test_enumerations_use_option_keys() -> None:
    """An enumeration reads as its option key and writes from it."""
    status = spec(0, options={0: "local", 1: "remote"})
    assert decode(status, [1]) == "remote"
    assert decode(status, [7]) is None
    assert encode(status, "local") == [0]
    with pytest.raises(ModbusValueError):
        encode(status, "elsewhere")
    with pytest.raises(ModbusValueError):
        encode(status, 1)
    with pytest.raises(ModbusValueError):
        encode(spec(0), "text")
    with pytest.raises(ModbusValueError):
        encode(spec(0), True)


def test_plan_batches_contiguous_registers_per_table() -> None:
    """Registers close together share one read; tables never mix."""
    specs = [
        spec(10),
        spec(11, DataType.FLOAT32),
        spec(20),
        spec(100),
        spec(0, DataType.BOOL, table=Table.COIL),
        spec(3, DataType.BOOL, table=Table.COIL),
        spec(5, table=Table.INPUT_REGISTER),
    ]
    blocks = plan_reads(specs, max_registers=125, max_bits=2000, max_gap=8)
    assert [(b.table, b.address, b.count) for b in blocks] == [
        (Table.COIL, 0, 4),
        (HOLDING, 10, 11),
        (HOLDING, 100, 1),
        (Table.INPUT_REGISTER, 5, 1),
    ]
    assert [s.address for s in blocks[1].registers] == [10, 11, 20]


def test_plan_respects_the_read_size_limit() -> None:
    """A block never exceeds the registers one read may carry."""
    specs = [spec(address, DataType.FLOAT32) for address in range(0, 300, 2)]
    blocks = plan_reads(specs, max_registers=125, max_bits=2000, max_gap=0)
    assert [b.count for b in blocks] == [124, 124, 52]
    assert sum(len(b.registers) for b in blocks) == len(specs)
    bits = [spec(a, DataType.BOOL, table=Table.COIL) for a in range(10)]
    assert [b.count for b in plan_reads(bits, max_registers=125, max_bits=4, max_gap=0)] == [
        4,
        4,
        2,
    ]


def test_split_at_the_widest_gap() -> None:
    """A refused block splits where most unmapped addresses are; a gapless one cannot split."""
    block = plan_reads(
        [spec(0), spec(2), spec(10), spec(11)], max_registers=125, max_bits=2000, max_gap=32
    )[0]
    halves = split_block(block)
    assert halves is not None
    assert [(h.address, h.count) for h in halves] == [(0, 3), (10, 2)]
    assert split_block(halves[1]) is None


def test_extract_decodes_each_register_at_its_offset() -> None:
    """Values come from their own offset within the block's data."""
    specs = (spec(100), spec(102, DataType.INT16))
    block = ReadBlock(HOLDING, 100, 3, specs)
    assert extract(block, [7, 99, 0xFFFF]) == {"r100": 7, "r102": -1}
