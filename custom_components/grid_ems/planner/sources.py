"""The planner's inputs read from what Home Assistant integrations publish, per quarter hour.

Pure functions on the payloads as they come (an action's response, a sensor's attributes, the
energy platform's solar forecast, recorder history): they return the planner's slot series or
raise ``SourceError`` saying what is wrong with the payload. No Home Assistant imports.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

from .model import SLOT

MAX_SLOTS: Final = 48 * 4
"""The longest horizon planned, as far as the day-ahead prices reach: they end with tomorrow
(about 35 hours once tomorrow's are published, about 13:00); 48 hours bounds it."""

_TIME_KEYS: Final = ("start", "start_time", "time", "startsAt", "hour", "from", "datetime")
_END_KEYS: Final = ("end", "end_time", "endsAt", "till", "to")
# Each price key with the factor to € per kWh (None: the sensor's unit decides).
_PRICE_KEYS: Final[tuple[tuple[str, float | None], ...]] = (
    ("price", None),
    ("value", None),
    ("total", None),
    ("price_per_kwh", None),
    ("price_eur_per_mwh", 0.001),
    ("price_ct_per_kwh", 0.01),
)
# Attributes that hold a price forecast, each group read together (today and tomorrow).
_PRICE_ATTRIBUTES: Final = (
    ("prices",),  # ENTSO-e: [{time, price}] over today and tomorrow
    ("data",),  # EPEX Spot: [{start_time, end_time, price_per_kwh}]
    ("raw_today", "raw_tomorrow"),  # Nord Pool (custom), Energi Data Service
    ("prices_today", "prices_tomorrow"),
    ("forecast",),
)


class SourceError(ValueError):
    """A payload the planner cannot read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class PricePoint:
    """The day-ahead price (€/kWh) from ``start`` until ``end`` (None: until the next one)."""

    start: datetime
    end: datetime | None
    eur_per_kwh: float


def unit_factor(unit: str | None) -> float:
    """The factor from a price unit (``EUR/MWh``, ``€/kWh``, ``c€/kWh``...) to € per kWh."""
    if not unit:
        return 1.0
    text = unit.replace(" ", "").lower()
    factor = 0.001 if "mwh" in text else 1.0
    if text.startswith(("c", "ct")) and not text.startswith("chf"):
        factor /= 100
    return factor


def _time(value: object, key: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as err:
            raise SourceError(f"{key} {value!r} is not a date and time") from err
    else:
        raise SourceError(f"{key} {value!r} is not a date and time")
    if moment.tzinfo is None:
        raise SourceError(f"{key} {value!r} has no time zone")
    return moment


def _price_point(item: object, factor: float) -> PricePoint:
    if not isinstance(item, Mapping):
        raise SourceError(f"a price entry {item!r} is not a mapping")
    time_key = next((key for key in _TIME_KEYS if key in item), None)
    if time_key is None:
        raise SourceError(f"a price entry has no start time (one of {', '.join(_TIME_KEYS)})")
    end_key = next((key for key in _END_KEYS if key in item), None)
    found = next(((key, scale) for key, scale in _PRICE_KEYS if key in item), None)
    if found is None:
        raise SourceError(f"a price entry has no price ({', '.join(k for k, _ in _PRICE_KEYS)})")
    key, key_factor = found
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SourceError(f"price {value!r} is not a number")
    return PricePoint(
        _time(item[time_key], time_key),
        None if end_key is None else _time(item[end_key], end_key),
        float(value) * (factor if key_factor is None else key_factor),
    )


def price_points(items: Iterable[object], factor: float = 1.0) -> list[PricePoint]:
    """Price entries (mappings with a start time and a price), sorted, prices times ``factor``."""
    return sorted((_price_point(item, factor) for item in items), key=lambda point: point.start)


def prices_from_nordpool(response: Mapping[str, Any], area: str | None) -> list[PricePoint]:
    """Prices from Nord Pool's ``get_prices_for_date`` response: ``{area: [{start, end, price}]}``.

    Nord Pool's prices are per MWh in the entry's currency (€ for Belgium).
    """
    if area:
        area = area.upper()
        if area not in response:
            raise SourceError(f"no area {area} in Nord Pool's answer ({', '.join(response)})")
    elif len(response) == 1:
        area = next(iter(response))
    else:
        raise SourceError(f"Nord Pool answered for several areas ({', '.join(response)}): name one")
    entries = response[area]
    if not isinstance(entries, list):
        raise SourceError(f"Nord Pool's prices of {area} are not a list")
    return price_points(entries, 0.001)


def prices_from_attributes(attributes: Mapping[str, Any], unit: str | None) -> list[PricePoint]:
    """Prices from a sensor's forecast attributes, in the shapes common price integrations use."""
    factor = unit_factor(unit)
    for group in _PRICE_ATTRIBUTES:
        lists = [attributes[key] for key in group if isinstance(attributes.get(key), list)]
        items = [item for values in lists for item in values]
        if items:
            return price_points(items, factor)
    names = ", ".join(" + ".join(group) for group in _PRICE_ATTRIBUTES)
    raise SourceError(f"the sensor has no price forecast attribute ({names})")


def slot_prices(
    points: Sequence[PricePoint], start: datetime, max_slots: int = MAX_SLOTS
) -> list[float]:
    """The price of each quarter hour from ``start``, as far as the prices reach without a gap.

    Hourly prices hold for their four quarters. A point without an end holds until the next
    one, for the points' shortest spacing at most (an hour when it is alone): a missing point
    is a gap, not the one before it held longer.
    """
    spacings = [later.start - earlier.start for earlier, later in itertools.pairwise(points)]
    spacing = min((step for step in spacings if step > timedelta(0)), default=timedelta(hours=1))
    spans: list[tuple[datetime, datetime, float]] = []
    for index, point in enumerate(points):
        end = point.end
        if end is None:
            end = point.start + spacing
            if index + 1 < len(points):
                end = min(end, points[index + 1].start)
        spans.append((point.start, end, point.eur_per_kwh))
    prices: list[float] = []
    span_index = 0
    while len(prices) < max_slots:
        moment = start + len(prices) * SLOT
        while span_index < len(spans) and spans[span_index][1] <= moment:
            span_index += 1
        if span_index == len(spans) or spans[span_index][0] > moment:
            break
        prices.append(spans[span_index][2])
    return prices


def pv_from_wh_periods(wh_periods: Mapping[str, float], start: datetime, slots: int) -> list[float]:
    """The PV power (kW) per quarter hour from the energy platform's ``wh_hours``.

    Each entry is the energy (Wh) from its time until the next entry's (the last: as long as
    the one before it, an hour when alone). Quarters it does not cover count as no PV.
    """
    moments = sorted(
        ((_time(moment, "forecast time"), float(wh)) for moment, wh in wh_periods.items()),
        key=lambda pair: pair[0],
    )
    power = [0.0] * slots
    for index, (begin, wh) in enumerate(moments):
        if index + 1 < len(moments):
            end = moments[index + 1][0]
        elif index:
            end = begin + (begin - moments[index - 1][0])
        else:
            end = begin + timedelta(hours=1)
        hours = (end - begin).total_seconds() / 3600
        if hours <= 0 or not math.isfinite(wh):
            continue
        kw = max(wh, 0.0) / 1000 / hours
        for slot in range(slots):
            slot_start = start + slot * SLOT
            overlap = (min(end, slot_start + SLOT) - max(begin, slot_start)).total_seconds()
            if overlap > 0:
                power[slot] += kw * overlap / SLOT.total_seconds()
    return power


def load_profile(
    history: Sequence[tuple[datetime, float]],
    start: datetime,
    slots: int,
    zone: tzinfo,
    fallback_kw: float,
) -> list[float]:
    """The load per quarter hour: the same quarter of the day (local time) over the history.

    ``history`` holds the site's consumption (kW) at moments of the last days. A quarter the
    history never saw takes the history's average; without history, ``fallback_kw`` holds.
    """
    by_quarter: dict[tuple[int, int], list[float]] = defaultdict(list)
    for moment, kw in history:
        if math.isfinite(kw):
            local = moment.astimezone(zone)
            by_quarter[(local.hour, local.minute // 15)].append(kw)
    if not by_quarter:
        return [fallback_kw] * slots
    average = statistics.fmean(kw for values in by_quarter.values() for kw in values)
    profile = []
    for slot in range(slots):
        local = (start + slot * SLOT).astimezone(zone)
        values = by_quarter.get((local.hour, local.minute // 15))
        profile.append(statistics.fmean(values) if values else average)
    return profile
