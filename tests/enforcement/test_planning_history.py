"""The planning's PV forecast (energy platform) and load history (recorder statistics)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import Mock

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_platform
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.grid_ems.planning import CONF_PLANNING

from .conftest import GRID_POWER, start_site

# The link's options with a planning section, as in test_planning.py.
from .test_planning import (  # noqa: F401
    forecast,
    link_options,
    planner_of,
    planning,
    set_prices,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder before Home Assistant starts (it must come first), and Grid EMS loadable."""


SOLAR_DOMAIN = "made_up_solar"
"""An integration with a solar forecast platform, as Forecast.Solar has (its API is online)."""


async def test_pv_forecast_and_load_history(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    helpers: None,
    link_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The PV forecast from the energy platform; the load from yesterday's same quarter hour."""
    # The sensor integration compiles the statistics of sensors with a state class.
    assert await async_setup_component(hass, "sensor", {})
    yesterday = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
    freezer.move_to(yesterday)
    attributes = {
        "unit_of_measurement": "kW",
        "device_class": "power",
        "state_class": "measurement",
    }
    hass.states.async_set(GRID_POWER, "7.0", attributes)
    await async_wait_recording_done(hass)
    freezer.move_to(yesterday + timedelta(minutes=5))
    hass.states.async_set(GRID_POWER, "7.0", attributes, force_update=True)
    do_adhoc_statistics(hass, start=yesterday)
    await async_wait_recording_done(hass)

    today = yesterday + timedelta(days=1)
    freezer.move_to(today)
    solar = MockConfigEntry(domain=SOLAR_DOMAIN, title="Roof forecast")
    solar.add_to_hass(hass)
    forecast_wh = {today.isoformat(): 8000, (today + timedelta(hours=1)).isoformat(): 4000}

    async def solar_forecast(_hass: HomeAssistant, entry_id: str) -> dict[str, Any] | None:
        return {"wh_hours": forecast_wh} if entry_id == solar.entry_id else None

    mock_platform(hass, f"{SOLAR_DOMAIN}.energy", Mock(async_get_solar_forecast=solar_forecast))
    hass.config.components.add(SOLAR_DOMAIN)
    set_prices(hass, forecast())
    hass.config_entries.async_update_entry(
        link_entry,
        options={
            **link_entry.options,
            CONF_PLANNING: {
                **link_entry.options[CONF_PLANNING],
                "pv_forecast_entry": solar.entry_id,
                "load_history_days": 2,
            },
        },
    )
    site = await start_site(hass, link_entry)
    state = planner_of(site).data
    assert state.plan is not None, state
    assert state.fallbacks == ()
    # 7 kW of load in yesterday's 14:00 quarter, 8 kW of PV now: 1 kW more than the load; after
    # the forecast's two hours no PV, and the load the history's average (the same 7 kW).
    made = state.plan
    assert made.grid_kw[0] == pytest.approx(-1.0 - made.battery_kw[0], abs=1e-6)
    assert made.grid_kw[8] == pytest.approx(7.0 - made.battery_kw[8], abs=1e-6)
