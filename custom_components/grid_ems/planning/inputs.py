"""Reading the planner's inputs in Home Assistant: prices, the PV forecast, the load history.

Each reader hands the payload to a pure parser (``planner.sources``) and says what went wrong
in a ``SourceError``; the caller falls back (no PV forecast: no PV; no history: a flat load).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..planner.sources import (
    PricePoint,
    SourceError,
    prices_from_attributes,
    prices_from_nordpool,
    pv_from_wh_periods,
)

_LOGGER = logging.getLogger(__package__)

NORDPOOL_DOMAIN = "nordpool"
NORDPOOL_PRICES = "get_prices_for_date"


class NordPoolPrices:
    """Day-ahead prices from HA core's Nord Pool integration, today's and tomorrow's.

    A day's prices are asked once; tomorrow's again until they are published (about 13:00).
    """

    def __init__(self, hass: HomeAssistant, entry_id: str, area: str | None) -> None:
        """Ask the Nord Pool entry ``entry_id`` for the prices of ``area`` (its only one: None)."""
        self.hass = hass
        self.entry_id = entry_id
        self.area = area
        self._days: dict[date, list[PricePoint]] = {}

    async def async_prices(self, now: datetime) -> list[PricePoint]:
        """The prices of today and tomorrow (local days) known so far."""
        today = dt_util.as_local(now).date()
        self._days = {day: points for day, points in self._days.items() if day >= today}
        for day in (today, today + timedelta(days=1)):
            if day in self._days:
                continue
            try:
                points = await self._async_day(day)
            except (HomeAssistantError, SourceError) as err:
                if day == today:
                    raise SourceError(f"Nord Pool: {err}") from err
                _LOGGER.debug("No prices for %s from Nord Pool yet: %s", day, err)
                continue
            if points:
                self._days[day] = points
        return sorted(
            (point for points in self._days.values() for point in points),
            key=lambda point: point.start,
        )

    async def _async_day(self, day: date) -> list[PricePoint]:
        data: dict[str, Any] = {"config_entry": self.entry_id, "date": day.isoformat()}
        if self.area:
            data["areas"] = self.area.upper()
        response = await self.hass.services.async_call(
            NORDPOOL_DOMAIN, NORDPOOL_PRICES, data, blocking=True, return_response=True
        )
        if not isinstance(response, Mapping):
            raise SourceError("Nord Pool's answer is not a mapping of areas")
        return prices_from_nordpool(response, self.area)


def sensor_prices(hass: HomeAssistant, entity_id: str) -> list[PricePoint]:
    """Prices from the forecast attribute of a price sensor."""
    state = hass.states.get(entity_id)
    if state is None:
        raise SourceError(f"{entity_id} does not exist")
    return prices_from_attributes(state.attributes, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))


async def async_pv_forecast(
    hass: HomeAssistant, entry_id: str, start: datetime, slots: int
) -> list[float]:
    """The PV forecast (kW per quarter hour) of an energy forecast entry, e.g. Forecast.Solar."""
    # The energy integration's own lookup of the integrations with a solar forecast platform.
    from homeassistant.components.energy.websocket_api import (  # noqa: PLC0415
        async_get_energy_platforms,
    )

    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None:
        raise SourceError(f"no config entry {entry_id}")
    platform = (await async_get_energy_platforms(hass)).get(entry.domain)
    if platform is None:
        raise SourceError(f"{entry.title} ({entry.domain}) has no solar forecast")
    forecast = await platform(hass, entry_id)
    if forecast is None or not isinstance(forecast.get("wh_hours"), Mapping):
        raise SourceError(f"{entry.title} has no forecast now")
    return pv_from_wh_periods(forecast["wh_hours"], start, slots)


async def async_consumption_history(
    hass: HomeAssistant, grid_sensor: str, production_sensors: Iterable[str], days: int
) -> list[tuple[datetime, float]]:
    """The site's consumption (kW) over the last days: grid power plus what the assets produce.

    From the recorder's 5-minute statistics (sensors with a state class), which it keeps for
    10 days by default. Production sensors follow the asset convention (production and battery
    discharge positive); a moment without a grid power value is left out.
    """
    if days <= 0 or "recorder" not in hass.config.components:
        return []
    from homeassistant.components.recorder.statistics import (  # noqa: PLC0415
        statistics_during_period,
    )
    from homeassistant.helpers.recorder import get_instance  # noqa: PLC0415

    sensors = {grid_sensor, *production_sensors}
    end = dt_util.utcnow()
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        end - timedelta(days=days),
        end,
        sensors,
        "5minute",
        {"power": "kW"},
        {"mean"},
    )
    by_time: dict[float, float] = {}
    for row in rows.get(grid_sensor, []):
        if (mean := row.get("mean")) is not None:
            by_time[row["start"]] = mean
    for sensor in sensors - {grid_sensor}:
        for row in rows.get(sensor, []):
            if row["start"] in by_time and (mean := row.get("mean")) is not None:
                by_time[row["start"]] += mean
    return [(dt_util.utc_from_timestamp(start), kw) for start, kw in sorted(by_time.items())]
