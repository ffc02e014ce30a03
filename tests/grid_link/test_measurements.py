"""The periodic report carries the category sums of the mapped sensors, with Netflex's signs."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.grid_ems.grid_link import (
    CONF_MEASUREMENT_PERIOD,
    CONF_SIGN_CONVENTION,
    CONF_TEST_MODE,
    GridLinkCoordinator,
)
from custom_components.grid_ems.iec104 import CauseOfTransmission, Quality
from simulators.rtu import Report, RtuSimulator

from .conftest import (
    BATTERY_POWER,
    CARPORT_POWER,
    CHARGER_POWER,
    PV_POWER,
    PV_REACTIVE,
    state_of,
)

KW = {"unit_of_measurement": UnitOfPower.KILO_WATT}
W = {"unit_of_measurement": UnitOfPower.WATT}
PERIODIC = CauseOfTransmission.PERIODIC


def _set_site_power(hass: HomeAssistant) -> None:
    """PV 60 kW + 20 kW, battery charging 30 kW (its meter counts that positive), EV 11 kW."""
    hass.states.async_set(PV_POWER, "60000", W)
    hass.states.async_set(PV_REACTIVE, "-5", {"unit_of_measurement": "kvar"})
    hass.states.async_set(CARPORT_POWER, "20", KW)
    hass.states.async_set(BATTERY_POWER, "30", KW)
    hass.states.async_set(CHARGER_POWER, "11000", W)


async def _next_report(hass: HomeAssistant, rtu: RtuSimulator, seconds: float) -> int:
    """Let the measurement period elapse; return where the new reports start."""
    start = len(rtu.reports)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await rtu.wait_for(lambda: sum(r.cause is PERIODIC for r in rtu.reports[start:]) == 14)
    return start


async def test_periodic_report_sums_categories(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """Every 30 s: P and Q of all 7 categories with COT 1; categories without assets are 0."""
    _set_site_power(hass)
    start = await _next_report(hass, rtu, 30)
    periodic = {report.ioa: report for report in rtu.reports[start:]}
    assert periodic[13001] == Report(13001, 80.0, PERIODIC, 0)
    assert periodic[13004] == Report(13004, -30.0, PERIODIC, 0)
    assert periodic[13005] == Report(13005, -11.0, PERIODIC, 0)
    assert periodic[13101] == Report(13101, -5.0, PERIODIC, 0)
    for ioa in (13002, 13003, 13006, 13007, 13102, 13104, 13105, 13106, 13107):
        assert periodic[ioa] == Report(ioa, 0.0, PERIODIC, 0)
    # The same values in a general interrogation.
    start = len(rtu.reports)
    assert await rtu.interrogate()
    assert rtu.values[13001] == Report(13001, 80.0, CauseOfTransmission.INTERROGATED_BY_STATION, 0)
    assert len(rtu.reports[start:]) == 27
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "sensor", "active_power_solar") == "80.0"
    assert state_of(hass, link_entry, "sensor", "active_power_storage") == "-30.0"
    assert state_of(hass, link_entry, "sensor", "active_power_wind") == "0.0"


async def test_missing_reading_is_invalid(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """An unavailable or non-power sensor marks its category invalid; others stay good."""
    _set_site_power(hass)
    hass.states.async_set(BATTERY_POWER, "unavailable", KW)
    hass.states.async_set(CHARGER_POWER, "11", {"unit_of_measurement": "kWh"})
    hass.states.async_set(CARPORT_POWER, "nan", KW)
    start = await _next_report(hass, rtu, 30)
    periodic = {report.ioa: report for report in rtu.reports[start:]}
    assert periodic[13004].quality == Quality.INVALID
    assert periodic[13005].quality == Quality.INVALID
    assert periodic[13001] == Report(13001, 60.0, PERIODIC, Quality.INVALID)
    assert periodic[13006].quality == 0
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "sensor", "active_power_storage") == "unknown"


async def test_options_apply_without_restart(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """Sign convention and period change in place: same server, the RTU stays connected."""
    _set_site_power(hass)
    server = link.server
    hass.config_entries.async_update_entry(
        link_entry,
        options={
            CONF_TEST_MODE: True,
            CONF_SIGN_CONVENTION: "consumption_positive",
            CONF_MEASUREMENT_PERIOD: 10,
        },
    )
    await hass.async_block_till_done()
    assert link.server is server
    start = await _next_report(hass, rtu, 10)
    periodic = {report.ioa: report for report in rtu.reports[start:]}
    assert periodic[13001].value == -80.0
    assert periodic[13004].value == 30.0
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "on"


async def test_report_without_rtu(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Without an RTU the sums still reach the entities."""
    _set_site_power(hass)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=30))
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "sensor", "active_power_ev") == "-11.0"
