"""Parse the body of a CRC-checked P1 telegram with dsmr_parser's object parsers.

The specification is dsmr_parser's ``BELGIUM_FLUVIUS``, extended with the library's entries
for the objects of the Fluvius P1 port it lacks (power failures and their log, voltage sags and
swells, fuse thresholds L2/L3, the DSMR version line of Dutch meters) and with the consumer
message code (the library's reference, read as text).

dsmr_parser's ``TelegramParser.parse`` runs every object's regular expression over the whole
telegram and recomputes the CRC in pure Python. Here the telegram is split into lines; each
line's OBIS code is routed to the specification entry whose pattern matches it (looked up once
per code, with the library's own pattern), and the line is parsed with that entry's value
parser when its object is first asked for. A line identical to one of the previous telegram
keeps its parsed object: most lines (identifiers, counters within the same watt-hour, the peak
history) do not change from one second to the next, and lines nobody reads are not parsed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, overload

from dsmr_parser import obis_references, telegram_specifications
from dsmr_parser.parsers import (
    CosemParser,
    MaxDemandParser,
    MBusParser,
    ProfileGenericParser,
    ValueParser,
)
from dsmr_parser.profile_generic_specifications import (
    BUFFER_TYPES,
    PG_HEAD_PARSERS,
    PG_UNIDENTIFIED_BUFFERTYPE_PARSERS,
)

from .telegram import (
    MBUS_DEVICE_TYPE,
    MBUS_EAN_CODE,
    MBUS_EQUIPMENT_IDENTIFIERS,
    MBUS_READINGS,
    MBUS_VALVE_STATE,
    CapturedReading,
    MBusDevice,
    MonthlyPeak,
    PowerFailure,
    Reading,
    Telegram,
    TelegramObject,
    p1_timestamp,
)
from .validate import MAX_POWER_KW, DropReason, InvalidObjectError, Validator, value_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from decimal import Decimal

_LOGGER = logging.getLogger(__name__)

type _Converter = Callable[[Any, str], TelegramObject]
"""Turns what a dsmr_parser value parser returns (and its line) into our typed object.

Timestamps are read again from the line: dsmr_parser uses the S/W flag only in the repeated
hour of autumn, DSMR defines it as the offset of the time (``p1_timestamp``).
"""

_OBIS_PATTERN_TAIL: Final = r".+?\r\n"
"""dsmr_parser's references are ``^<OBIS code pattern>.+?\\r\\n``: the tail matches the values."""

_MBUS_CHANNELS: Final = frozenset("123456789")


def _entries(spec: Mapping[str, Any], *names: str) -> list[dict[str, Any]]:
    """Return the entries of a dsmr_parser specification with the given value names."""
    return [entry for entry in spec["objects"] if entry["value_name"] in names]


FLUVIUS_SPECIFICATION: Final[list[dict[str, Any]]] = [
    *telegram_specifications.BELGIUM_FLUVIUS["objects"],
    *_entries(
        telegram_specifications.V5,
        "P1_MESSAGE_HEADER",
        "SHORT_POWER_FAILURE_COUNT",
        "LONG_POWER_FAILURE_COUNT",
        "POWER_EVENT_FAILURE_LOG",
        "VOLTAGE_SAG_L1_COUNT",
        "VOLTAGE_SAG_L2_COUNT",
        "VOLTAGE_SAG_L3_COUNT",
        "VOLTAGE_SWELL_L1_COUNT",
        "VOLTAGE_SWELL_L2_COUNT",
        "VOLTAGE_SWELL_L3_COUNT",
    ),
    # V4 parses the message code as an integer; DSMR 5 sends it hex-encoded, like the text.
    {
        "obis_reference": obis_references.TEXT_MESSAGE_CODE,
        "value_parser": CosemParser(ValueParser(str)),
        "value_name": "TEXT_MESSAGE_CODE",
    },
    *_entries(telegram_specifications.EON_HUNGARY, "FUSE_THRESHOLD_L2", "FUSE_THRESHOLD_L3"),
    # e-MUCS 2.x: the grid configuration (1-0:94.32.1) and the EAN codes (0-n:96.1.2) of the
    # meter and of its M-Bus devices, which dsmr_parser does not know. Values are read as text.
    *(
        {
            "obis_reference": reference,
            "value_parser": CosemParser(ValueParser(str)),
            "value_name": name,
        }
        for reference, name in (
            (r"^\d-\d:94\.32\.1.+?\r\n", "GRID_CONFIGURATION"),
            (r"^\d-\d:96\.1\.2.+?\r\n", "EAN_CODE"),
        )
    ),
]
"""dsmr_parser's BELGIUM_FLUVIUS plus the library's entries for what it lacks (see module doc)."""


def _from_cosem(parsed: Any, line: str) -> TelegramObject:
    if isinstance(parsed.value, datetime):
        return Reading(p1_timestamp(value_text(line)), parsed.unit)
    return Reading(parsed.value, parsed.unit)


def _from_mbus(parsed: Any, line: str) -> TelegramObject:
    captured_at = p1_timestamp(value_text(line)) if parsed.datetime is not None else None
    return CapturedReading(captured_at, parsed.value, parsed.unit)


def _from_peaks(parsed: Any, line: str) -> TelegramObject:
    # (count)(code)(code) then, per month: (month start)(peak time)(peak)
    return tuple(
        MonthlyPeak(
            p1_timestamp(value_text(line, 3 + 3 * index)) if peak.datetime else None,
            p1_timestamp(value_text(line, 4 + 3 * index)) if peak.occurred else None,
            peak.value,
            peak.unit,
        )
        for index, peak in enumerate(parsed)
    )


def _from_power_failures(parsed: Any, line: str) -> TelegramObject:
    # (count)(code) then, per failure: (end time)(duration)
    return tuple(
        PowerFailure(
            # Entries of a foreign log are text; the validation drops such a log.
            p1_timestamp(value_text(line, 2 + 2 * index))
            if isinstance(event.datetime, datetime)
            else None,
            event.value,
            event.unit,
        )
        for index, event in enumerate(parsed.buffer)
    )


def _parse_power_failures(line: str) -> Any:
    # ProfileGenericParser appends to its own list of value parsers on every parse, so one
    # instance kept for a year would grow without end: each line gets a fresh one.
    parser = ProfileGenericParser(BUFFER_TYPES, PG_HEAD_PARSERS, PG_UNIDENTIFIED_BUFFERTYPE_PARSERS)
    return parser.parse(line)


class _Route:
    """How the lines of one OBIS code are parsed: dsmr_parser's value parser, then our type."""

    __slots__ = ("convert", "mbus", "parse")

    def __init__(self, code: str, value_parser: Any) -> None:
        self.mbus = _is_mbus(code)
        self.parse: Callable[[str], Any] = value_parser.parse
        self.convert: _Converter = _from_cosem
        if isinstance(value_parser, ProfileGenericParser):
            self.parse = _parse_power_failures
            self.convert = _from_power_failures
        elif isinstance(value_parser, MaxDemandParser):
            self.convert = _from_peaks
        elif isinstance(value_parser, MBusParser):
            self.convert = _from_mbus


_ROUTE_PATTERNS: Final = [
    (re.compile(entry["obis_reference"].removesuffix(_OBIS_PATTERN_TAIL)), entry["value_parser"])
    for entry in FLUVIUS_SPECIFICATION
]
"""The OBIS code pattern of each entry (the reference without its value tail), first match wins."""


class TelegramParser:
    """Parses telegram bodies; an object is parsed when first asked for, once per distinct line.

    Parsing on demand leaves the lines nobody reads alone (with HA core's defaults, the
    per-phase values are not shown); a line identical to one of the previous telegram keeps
    its parsed object, so unchanged values are not parsed again and keep their identity.
    """

    __slots__ = (
        "_codes",
        "_mbus",
        "_mbus_lines",
        "_objects",
        "_routes",
        "_unknown_codes",
        "_validator",
        "dropped",
    )

    def __init__(self, max_power_kw: Decimal = MAX_POWER_KW) -> None:
        """Start with no routes and no previous telegram."""
        self._validator = Validator(max_power_kw)
        self.dropped: dict[DropReason, int] = dict.fromkeys(DropReason, 0)
        """Objects of CRC-valid telegrams left out, by reason (each distinct line once)."""
        self._routes: dict[str, _Route] = {}
        self._unknown_codes: set[str] = set()
        self._objects: dict[str, TelegramObject | None] = {}
        self._codes: frozenset[str] = frozenset()
        self._mbus_lines: list[str] = []
        self._mbus: dict[int, MBusDevice] = {}

    @property
    def malformed_lines(self) -> int:
        """Lines of CRC-valid telegrams that a value parser rejected (skipped)."""
        return self.dropped[DropReason.MALFORMED]

    def parse(self, frame: bytes) -> Telegram:
        """Parse one telegram, from ``/`` up to ``!`` (the CRC is checked by the framer)."""
        lines = frame.decode("latin-1").splitlines()
        by_code: dict[str, str] = {}
        duplicates: list[str] = []
        mbus_lines: list[str] = []
        routes = self._routes
        for line in lines[1:]:
            code, bracket, _ = line.partition("(")
            if bracket and (route := routes.get(code) or self._route(code)) is not None:
                if code in by_code:
                    duplicates.append(code)
                by_code[code] = line
                if route.mbus:
                    mbus_lines.append(line)
        if duplicates:
            # Which of two lines is right cannot be told: neither is used.
            self.dropped[DropReason.DUPLICATE] += len(duplicates)
            for code in duplicates:
                by_code.pop(code, None)
            mbus_lines = [line for line in mbus_lines if line.partition("(")[0] in by_code]
        # Keep the parsed objects of this telegram's lines only: the cache never grows.
        objects = self._objects
        self._objects = {line: objects[line] for line in by_code.values() if line in objects}
        if by_code.keys() != self._codes:
            self._codes = frozenset(by_code)
        lazy = _LazyObjects(by_code, self)
        if mbus_lines != self._mbus_lines:
            self._mbus_lines = mbus_lines
            self._mbus = group_mbus(lazy)
        header = lines[0].strip().removeprefix("/")
        return Telegram(header, lazy, self._codes, self._mbus)

    def object_for(self, line: str) -> TelegramObject | None:
        """The object of a line (None if malformed), parsed the first time it is asked for."""
        try:
            return self._objects[line]
        except KeyError:
            pass
        code = line.partition("(")[0]
        route = self._routes[code]  # only lines of routed codes get here
        parsed: TelegramObject | None = None
        try:
            parsed = self._validator.check(code, route.convert(route.parse(line), line), line)
        except InvalidObjectError as dropped:
            self.dropped[dropped.reason] += 1
            _LOGGER.debug("Dropping P1 line %r: %s", line, dropped.reason)
        except Exception as err:  # third-party parsers on any CRC-valid input
            self.dropped[DropReason.MALFORMED] += 1
            _LOGGER.debug("Skipping malformed P1 line %r: %r", line, err)
        self._objects[line] = parsed
        return parsed

    def _route(self, code: str) -> _Route | None:
        """Find the route of a code not routed yet, with the library's patterns; None if unknown."""
        if code in self._unknown_codes:
            return None
        route = next(
            (
                _Route(code, parser)
                for pattern, parser in _ROUTE_PATTERNS
                if pattern.fullmatch(code)
            ),
            None,
        )
        if route is None:
            self._unknown_codes.add(code)
        else:
            self._routes[code] = route
        return route


class _LazyObjects(Mapping[str, TelegramObject]):
    """The objects of one telegram by OBIS code, each parsed when first asked for.

    A malformed line is not an object: looking it up fails as for an absent code, and
    iterating leaves it out (iterating parses every line).
    """

    __slots__ = ("_lines", "_parser")

    def __init__(self, lines: dict[str, str], parser: TelegramParser) -> None:
        self._lines = lines
        self._parser = parser

    def __getitem__(self, code: str) -> TelegramObject:
        found = self._parser.object_for(self._lines[code])
        if found is None:
            raise KeyError(code)
        return found

    @overload
    def get(self, code: str, /) -> TelegramObject | None: ...
    @overload
    def get[Default](
        self, code: str, /, default: TelegramObject | Default
    ) -> TelegramObject | Default: ...

    def get(self, code: str, /, default: object = None) -> object:
        """The object of ``code``, or ``default`` (a direct path: sensors call it a lot)."""
        line = self._lines.get(code)
        found = None if line is None else self._parser.object_for(line)
        return default if found is None else found

    def __contains__(self, code: object) -> bool:
        line = self._lines.get(code) if isinstance(code, str) else None
        return line is not None and self._parser.object_for(line) is not None

    def __iter__(self) -> Iterator[str]:
        object_for = self._parser.object_for
        return (code for code, line in self._lines.items() if object_for(line) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _is_mbus(line: str) -> bool:
    """Whether a line (or OBIS code) belongs to an M-Bus channel: ``0-1:`` to ``0-9:``."""
    return line[:2] == "0-" and line[2:3] in _MBUS_CHANNELS and line[3:4] == ":"


def group_mbus(objects: Mapping[str, TelegramObject]) -> dict[int, MBusDevice]:
    """Group the M-Bus objects (``0-<channel>:...``, channel 1-9) per channel."""
    channels = {code[2] for code in objects if _is_mbus(code)}
    devices: dict[int, MBusDevice] = {}
    for channel in sorted(channels):
        prefix = f"0-{channel}:"
        device_type = objects.get(prefix + MBUS_DEVICE_TYPE)
        valve = objects.get(prefix + MBUS_VALVE_STATE)
        identifier = next(
            (
                found.value
                for suffix in MBUS_EQUIPMENT_IDENTIFIERS
                if isinstance(found := objects.get(prefix + suffix), Reading)
                and isinstance(found.value, str)
            ),
            None,
        )
        reading = next(
            (
                found
                for suffix in MBUS_READINGS
                if isinstance(found := objects.get(prefix + suffix), CapturedReading)
            ),
            None,
        )
        ean_code = objects.get(prefix + MBUS_EAN_CODE)
        devices[int(channel)] = MBusDevice(
            channel=int(channel),
            device_type=_int_value(device_type),
            equipment_identifier=identifier,
            valve_state=_int_value(valve),
            reading=reading,
            ean_code=ean_code.value
            if isinstance(ean_code, Reading) and isinstance(ean_code.value, str) and ean_code.value
            else None,
        )
    return devices


def _int_value(found: TelegramObject | None) -> int | None:
    if isinstance(found, Reading) and isinstance(found.value, int):
        return found.value
    return None
