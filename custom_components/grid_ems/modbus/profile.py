"""Device profiles: a Modbus device kind's register map and the entities it becomes, as data.

A profile says, per register, where it lives (table and address), how its words turn into a value
(data type, word order, scale), whether it can be written, and which entity shows it. The client
and the Home Assistant layer are generic over profiles, so a new device kind is a new profile.

Strings for device classes, state classes, units and entity categories are Home Assistant's own
values (``"power"``, ``"measurement"``, ``"W"``, ``"diagnostic"``); this package does not import
Home Assistant, and the HA layer turns them into its enums, which also validates them.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

MAX_READ_REGISTERS: Final = 125
MAX_READ_BITS: Final = 2000


class Table(StrEnum):
    """The four Modbus data tables, each with its own function codes."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING_REGISTER = "holding_register"
    INPUT_REGISTER = "input_register"

    @property
    def is_bits(self) -> bool:
        """Whether the table holds single bits rather than 16-bit words."""
        return self in (Table.COIL, Table.DISCRETE_INPUT)

    @property
    def is_writable(self) -> bool:
        """Whether the Modbus protocol can write to this table at all."""
        return self in (Table.COIL, Table.HOLDING_REGISTER)

    @property
    def read_function_code(self) -> int:
        """The function code that reads this table."""
        return _READ_FUNCTION_CODES[self]


_READ_FUNCTION_CODES: Final = {
    Table.COIL: 0x01,
    Table.DISCRETE_INPUT: 0x02,
    Table.HOLDING_REGISTER: 0x03,
    Table.INPUT_REGISTER: 0x04,
}


class DataType(StrEnum):
    """How the words of a register are read as a number."""

    BOOL = "bool"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"

    @property
    def words(self) -> int:
        """How many 16-bit registers (or bits, for BOOL) the value spans."""
        return 2 if self in (DataType.INT32, DataType.UINT32, DataType.FLOAT32) else 1


class WordOrder(StrEnum):
    """Which register of a 32-bit value comes first (bytes within a word are always big-endian)."""

    HIGH_FIRST = "high_first"
    LOW_FIRST = "low_first"


class EntityPlatform(StrEnum):
    """The Home Assistant platform a register becomes (values equal HA's ``Platform``)."""

    SENSOR = "sensor"
    BINARY_SENSOR = "binary_sensor"
    NUMBER = "number"
    SELECT = "select"
    SWITCH = "switch"


class SafeState(StrEnum):
    """The state a module's host-connection watchdog puts an output in when the host goes silent.

    It is set on the module itself; the installer records it so the controller can rely on it.
    """

    UNKNOWN = "unknown"
    OFF = "off"
    ON = "on"


@dataclass(frozen=True, slots=True, kw_only=True)
class EntitySpec:
    """The entity a register becomes.

    ``limit_key``/``limit_factor`` make a number's range follow another register: the range is
    ``±value(limit_key) * limit_factor`` (a battery's power range from its available blocks),
    within the static ``min_value``..``max_value``.
    """

    platform: EntityPlatform
    translation_key: str
    translation_placeholders: Mapping[str, str] = field(default_factory=dict)
    device_class: str | None = None
    state_class: str | None = None
    entity_category: str | None = None
    enabled_by_default: bool = True
    precision: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None
    limit_key: str | None = None
    limit_factor: float = 1.0
    relay: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterSpec:
    """One value of a device: where it is, how it is encoded, and what it becomes.

    ``options`` maps raw values to option keys for enumerations (the value is then the key);
    ``plausible`` bounds the value a device of this kind can report, so identification can tell a
    wrong device kind from the right one. ``verify_write`` reads a written value back.
    ``optional`` marks a register that is not in the manufacturer's map (our own addition): it is
    probed at setup and polled only on devices that have it. ``digits`` is the device's resolution
    in decimal places: a value is rounded to it when decoded (a float32 carries noise beyond it).
    """

    key: str
    table: Table
    address: int
    data_type: DataType = DataType.UINT16
    word_order: WordOrder = WordOrder.HIGH_FIRST
    scale: float = 1.0
    unit: str | None = None
    writable: bool = False
    verify_write: bool = False
    options: Mapping[int, str] = field(default_factory=dict)
    plausible: tuple[float, float] | None = None
    optional: bool = False
    digits: int | None = None
    entity: EntitySpec | None = None

    def __post_init__(self) -> None:
        """Reject specs that no device could have."""
        if self.table.is_bits != (self.data_type is DataType.BOOL):
            raise ValueError(f"{self.key}: bit tables hold BOOL values and only they do")
        if self.writable and not self.table.is_writable:
            raise ValueError(f"{self.key}: {self.table} cannot be written")
        if not 0 <= self.address <= 0xFFFF - self.width + 1:
            raise ValueError(f"{self.key}: address {self.address} out of range")
        if self.scale == 0:
            raise ValueError(f"{self.key}: scale must not be 0")

    @property
    def width(self) -> int:
        """How many addresses the value occupies."""
        return self.data_type.words

    @property
    def end(self) -> int:
        """The address just after the value."""
        return self.address + self.width

    def option_for(self, raw: int) -> str | None:
        """The option key of a raw enumeration value; None for a value the profile does not know."""
        return self.options.get(raw)

    def raw_for_option(self, option: str) -> int:
        """The raw value of an option key."""
        for raw, key in self.options.items():
            if key == option:
                return raw
        raise KeyError(option)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    """A device kind: its identity, register map, polling and the quirks the client must honour.

    ``max_gap`` is how many unmapped addresses a batched read may span; devices that refuse such
    reads (exception 0x02) are split further at run time, see ``codec.split_block``.
    ``identify_keys`` are read to check a device is of this kind before an entry is created.
    ``host_watchdog`` says the device has a host-connection watchdog that puts each output in a
    configured safe state when the host stops talking to it (configured on the device itself);
    ``watchdog_alarm`` is the key of the coil that reads 1 once it tripped (writing 1 clears it;
    until then the device refuses output writes with exception 0x04).
    ``hole_address`` is a holding register the manufacturer's map leaves empty: a device that
    answers it answers any address (with 0), so answering an optional register proves nothing.
    ``name`` is what an installer calls such a device on site ("Grid meter"); ``{n}`` in it is
    replaced by the first free number ("Relays cabinet {n}"). The model when not given.
    ``web_page`` says the device serves its own configuration page over HTTP at its host.
    """

    kind: str
    manufacturer: str
    model: str
    registers: tuple[RegisterSpec, ...]
    identify_keys: tuple[str, ...]
    poll_interval: float
    max_read_registers: int = MAX_READ_REGISTERS
    max_read_bits: int = MAX_READ_BITS
    max_gap: int = 32
    host_watchdog: bool = False
    watchdog_alarm: str | None = None
    hole_address: int | None = None
    name: str | None = None
    web_page: bool = False

    def __post_init__(self) -> None:
        """Check the map is consistent: unique keys, no overlapping values, known references."""
        keys = [spec.key for spec in self.registers]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.kind}: duplicate register keys")
        by_key = {spec.key: spec for spec in self.registers}
        for key in self.identify_keys:
            if key not in by_key or by_key[key].optional:
                raise ValueError(f"{self.kind}: unknown or optional identify key {key}")
        if self.watchdog_alarm is not None and (
            self.watchdog_alarm not in by_key or not by_key[self.watchdog_alarm].writable
        ):
            raise ValueError(f"{self.kind}: unknown watchdog alarm {self.watchdog_alarm}")
        for spec in self.registers:
            if spec.entity and spec.entity.limit_key and spec.entity.limit_key not in by_key:
                raise ValueError(f"{self.kind}: unknown limit key {spec.entity.limit_key}")
        for table in Table:
            ordered = sorted(
                (s for s in self.registers if s.table is table), key=lambda s: s.address
            )
            for previous, current in itertools.pairwise(ordered):
                if current.address < previous.end:
                    raise ValueError(f"{self.kind}: {previous.key} overlaps {current.key}")

    def register(self, key: str) -> RegisterSpec:
        """The register with this key."""
        for spec in self.registers:
            if spec.key == key:
                return spec
        raise KeyError(key)

    @property
    def optional(self) -> tuple[RegisterSpec, ...]:
        """The registers beyond the manufacturer's map, polled only where the device has them."""
        return tuple(s for s in self.registers if s.optional)

    @property
    def enumerations(self) -> tuple[RegisterSpec, ...]:
        """The registers decoded through a code map (``options``)."""
        return tuple(s for s in self.registers if s.options)

    def without(self, keys: frozenset[str]) -> DeviceProfile:
        """The profile of a device that lacks the (optional) registers ``keys``."""
        if not keys:
            return self
        return dataclasses.replace(
            self, registers=tuple(s for s in self.registers if s.key not in keys)
        )

    def with_codes(self, codes: Mapping[str, Mapping[str, int]]) -> DeviceProfile:
        """The profile with the installer's code maps (option key -> raw code) for enumerations.

        An option left out of a register's map has no code on this device.
        """
        if not codes:
            return self
        return dataclasses.replace(
            self,
            registers=tuple(
                dataclasses.replace(
                    spec, options={raw: option for option, raw in codes[spec.key].items()}
                )
                if spec.options and spec.key in codes
                else spec
                for spec in self.registers
            ),
        )

    @property
    def relays(self) -> tuple[RegisterSpec, ...]:
        """The outputs that can take a relay role (emergency stop of production or consumption)."""
        return tuple(s for s in self.registers if s.entity is not None and s.entity.relay)

    def manages(self, table: Table, address: int, count: int) -> tuple[RegisterSpec, ...]:
        """The profile registers that a raw access to ``address``..``address+count`` touches."""
        end = address + count
        return tuple(
            s for s in self.registers if s.table is table and s.address < end and address < s.end
        )
