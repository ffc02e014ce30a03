"""Reading prices, the PV forecast and the load history from realistic payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.grid_ems.planner.sources import (
    SourceError,
    load_profile,
    prices_from_attributes,
    prices_from_nordpool,
    pv_from_wh_periods,
    slot_prices,
    unit_factor,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
# 00:00 in Brussels on a winter day.
MIDNIGHT = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)

# HA core's nordpool.get_prices_for_date (2025.4 and 2026.x alike): per area, €/MWh, 15 minutes.
NORDPOOL = {
    "BE": [
        {
            "start": (MIDNIGHT + timedelta(minutes=15 * i)).isoformat(),
            "end": (MIDNIGHT + timedelta(minutes=15 * (i + 1))).isoformat(),
            "price": 80.0 + i,
        }
        for i in range(96)
    ]
}
# The ENTSO-e custom integration's `prices` attribute: local times with offsets, €/kWh, hourly.
ENTSOE = {
    "prices": [
        {
            "time": (MIDNIGHT + timedelta(hours=h)).astimezone(BRUSSELS).isoformat(),
            "price": 0.1 + h / 100,
        }
        for h in range(24)
    ],
    "unit_of_measurement": "€/kWh",
}


def test_nordpool_response_in_euro_per_kwh_per_quarter() -> None:
    prices = slot_prices(prices_from_nordpool(NORDPOOL, None), MIDNIGHT + timedelta(hours=1))
    assert len(prices) == 92  # until the end of the day
    assert prices[0] == pytest.approx(0.084)


def test_nordpool_area_must_be_named_when_several() -> None:
    both = {**NORDPOOL, "NL": NORDPOOL["BE"]}
    with pytest.raises(SourceError, match="several areas"):
        prices_from_nordpool(both, None)
    with pytest.raises(SourceError, match="no area FR"):
        prices_from_nordpool(both, "fr")
    assert prices_from_nordpool(both, "nl")[0].eur_per_kwh == pytest.approx(0.08)


def test_entsoe_hourly_prices_hold_for_four_quarters() -> None:
    points = prices_from_attributes(ENTSOE, "€/kWh")
    prices = slot_prices(points, MIDNIGHT)
    assert len(prices) == 96  # the last hour holds as long as the one before
    assert prices[:5] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.11])


def test_other_shapes_and_units() -> None:
    # EPEX Spot: start_time/end_time, price per kWh; Nord Pool (custom): raw_today + raw_tomorrow.
    epex = {
        "data": [
            {
                "start_time": MIDNIGHT.isoformat(),
                "end_time": (MIDNIGHT + timedelta(hours=1)).isoformat(),
                "price_per_kwh": 0.2,
            }
        ]
    }
    assert slot_prices(prices_from_attributes(epex, None), MIDNIGHT) == [0.2] * 4
    raw = {
        "raw_today": [{"start": MIDNIGHT, "end": MIDNIGHT + timedelta(hours=1), "value": 95.0}],
        "raw_tomorrow": [
            {
                "start": MIDNIGHT + timedelta(hours=1),
                "end": MIDNIGHT + timedelta(hours=2),
                "value": -5.0,
            }
        ],
    }
    prices = slot_prices(prices_from_attributes(raw, "EUR/MWh"), MIDNIGHT)
    assert prices == pytest.approx([0.095] * 4 + [-0.005] * 4)
    assert unit_factor("c€/kWh") == pytest.approx(0.01)
    assert unit_factor("ct/kWh") == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"friendly_name": "Price"}, "no price forecast attribute"),
        ({"prices": [{"price": 0.1}]}, "no start time"),
        ({"prices": [{"time": MIDNIGHT.isoformat()}]}, "no price"),
        ({"prices": [{"time": "tomorrow", "price": 0.1}]}, "not a date and time"),
        ({"prices": [{"time": "2026-01-15T00:00:00", "price": 0.1}]}, "no time zone"),
        ({"prices": [{"time": MIDNIGHT.isoformat(), "price": "n/a"}]}, "not a number"),
        ({"prices": ["0.1"]}, "not a mapping"),
    ],
)
def test_unreadable_prices_say_why(attributes: dict[str, object], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        prices_from_attributes(attributes, None)


def test_prices_stop_at_a_gap() -> None:
    points = prices_from_attributes(ENTSOE, None)
    del points[3]
    assert len(slot_prices(points, MIDNIGHT)) == 12


def test_pv_forecast_from_the_energy_platforms_wh_per_hour() -> None:
    # Forecast.Solar's wh_hours: the energy of each hour, local times.
    noon = (MIDNIGHT + timedelta(hours=12)).astimezone(BRUSSELS)
    wh = {noon.isoformat(): 4000, (noon + timedelta(hours=1)).isoformat(): 2000}
    pv = pv_from_wh_periods(wh, MIDNIGHT + timedelta(hours=11, minutes=45), 10)
    assert pv == pytest.approx([0.0, 4.0, 4.0, 4.0, 4.0, 2.0, 2.0, 2.0, 2.0, 0.0])


def test_load_profile_averages_the_same_quarter_and_falls_back() -> None:
    history = [
        (MIDNIGHT - timedelta(days=day) + timedelta(minutes=minute), 1.0 + day)
        for day in (1, 2)
        for minute in (0, 5, 10)
    ]
    profile = load_profile(history, MIDNIGHT, 2, BRUSSELS, fallback_kw=9.0)
    # The first quarter after midnight: 2 kW one day, 3 kW the other; nothing seen: the average.
    assert profile == pytest.approx([2.5, 2.5])
    assert load_profile([], MIDNIGHT, 3, BRUSSELS, fallback_kw=9.0) == [9.0] * 3
