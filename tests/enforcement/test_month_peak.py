"""Peak shaving that follows the month's peak, tracked from the connection point's power."""

from __future__ import annotations

from datetime import UTC, datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.grid_link import GridLinkData

from .conftest import BESS_TARGET, Site

# 23:00 in Brussels on the last day of March; April starts at 22:00 UTC.
EVENING = datetime(2027, 3, 31, 21, 0, tzinfo=UTC).timestamp()
APRIL = datetime(2027, 3, 31, 22, 0, tzinfo=UTC).timestamp()


def _entity(hass: HomeAssistant, site: Site, platform: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{site.entry.entry_id}_{key}")
    assert found is not None, key
    return found


async def _switch_on(hass: HomeAssistant, site: Site, key: str) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": _entity(hass, site, "switch", key)}, blocking=True
    )
    await site.settle()


async def _load(site: Site, kw: float, *, after: float = 1.0) -> None:
    """The site's load: the grid power is what the battery does not cover; steps until steady."""
    await site.grid(kw - site.number(BESS_TARGET), after=after)
    for _ in range(5):
        await site.grid(kw - site.number(BESS_TARGET))


async def test_follow_the_months_peak(hass: HomeAssistant, site: Site) -> None:
    """The target is the month's peak (at least 2.5 kW), restored, and reset in a new month."""
    await hass.config.async_set_time_zone("Europe/Brussels")
    await _switch_on(hass, site, "peak_shaving_follow_month")
    site.now = EVENING - 6
    # A whole quarter at 6 kW without peak shaving: the month's peak.
    for _ in range(4):
        await _load(site, 6.0, after=300)
    assert site.enforcement.month_peak.peak_kw_at(site.now) == 6.0
    assert site.number(BESS_TARGET) == 0.0
    await _switch_on(hass, site, "peak_shaving")
    # 5 kW is under the peak (less the 0.5 kW margin): no battery needed.
    await _load(site, 5.0)
    assert site.number(BESS_TARGET) == 0.0
    await _load(site, 8.0)
    assert site.number(BESS_TARGET) >= 2.0

    await hass.config_entries.async_reload(site.entry.entry_id)
    await site.settle()
    data = site.entry.runtime_data
    assert isinstance(data, GridLinkData)
    site.enforcement = data.enforcement
    site.enforcement.clock = site.clock
    assert site.value(_entity(hass, site, "switch", "peak_shaving_follow_month")) == "on"
    assert site.enforcement.month_peak.peak_kw_at(site.now) == 6.0

    # April in Brussels: a new month, the target back at 2.5 kW, so 5 kW is shaved.
    site.now = APRIL
    await _load(site, 5.0)
    assert site.enforcement.month_peak.peak_kw_at(site.now) == 0.0
    assert site.enforcement.effective_peak_target_kw() == 2.5
    assert site.number(BESS_TARGET) >= 2.5
