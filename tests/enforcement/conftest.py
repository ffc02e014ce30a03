"""Fixtures of the enforcement tests: a link whose assets are controlled through helper entities.

The assets' setpoints are ``input_number``/``input_boolean``/``input_select`` helpers, as an
installer would map entities of any integration; their power sensors and the grid power are
plain states the tests set.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.enforcement import (
    CONF_COMMAND_SOURCE_ENTITY,
    CONF_ENFORCEMENT,
    CONF_GRID_POWER_SENSOR,
    CONF_MINIMUM,
    CONF_POWER_ENTITY,
    CONF_Q_ENTITY,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
    EVENT_ENFORCEMENT_ACTION,
    EnforcementCoordinator,
    coordinator as enforcement_coordinator,
)
from custom_components.grid_ems.grid_link import (
    CONF_TEST_MODE,
    GridLinkCoordinator,
    GridLinkData,
)
from custom_components.grid_ems.netflex import Command
from tests.simulated_site import (
    CHARGER,
    ENFORCEMENT,
    LINK_DATA,
    PV_LIMIT,
    asset,
    grid_link_entry,
)

PV_Q = "input_number.pv_q"
BESS_TARGET = "input_number.bess_target"
BESS_SOURCE = "input_select.bess_source"
BOILER = "input_boolean.boiler"
GRID_POWER = "sensor.grid_power"

HELPERS: dict[str, dict[str, Any]] = {
    "input_number": {
        "pv_limit": {"min": 0, "max": 100, "step": 1, "initial": 100, "unit_of_measurement": "%"},
        "pv_q": {"min": -50, "max": 50, "step": 0.1, "initial": 0, "unit_of_measurement": "kvar"},
        "bess_target": {
            "min": -30,
            "max": 30,
            "step": 0.1,
            "initial": 0,
            "unit_of_measurement": "kW",
        },
        "ev_current": {"min": 0, "max": 32, "step": 1, "initial": 32, "unit_of_measurement": "A"},
    },
    "input_select": {"bess_source": {"options": ["local", "remote"], "initial": "local"}},
    "input_boolean": {
        "ev": {"initial": True},
        "boiler": {"initial": True},
        # Whether the template charger of the failure test follows its writes.
        "charger_works": {"initial": False},
    },
}


ASSETS = [
    asset(
        "PV",
        "solar",
        50.0,
        "sensor.pv_power",
        {CONF_POWER_ENTITY: PV_LIMIT, CONF_MINIMUM: 1.0, CONF_Q_ENTITY: PV_Q},
    ),
    asset(
        "Battery",
        "storage",
        30.0,
        "sensor.bess_power",
        {
            CONF_POWER_ENTITY: BESS_TARGET,
            CONF_COMMAND_SOURCE_ENTITY: BESS_SOURCE,
            CONF_SOE_SENSOR: "sensor.bess_soe",
        },
    ),
    CHARGER,
    asset(
        "Boiler", "flexible_consumption", 5.0, "sensor.boiler_power", {CONF_SWITCH_ENTITY: BOILER}
    ),
]

ENFORCEMENT_OPTIONS: dict[str, Any] = {CONF_GRID_POWER_SENSOR: GRID_POWER, **ENFORCEMENT}


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry failed writes without pausing, and give up on a read-back quickly."""
    monkeypatch.setattr(enforcement_coordinator, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setattr(enforcement_coordinator, "VERIFY_TIMEOUT_S", 0.05)


@pytest.fixture
async def helpers(hass: HomeAssistant) -> None:
    """The helper entities that stand for the assets' setpoints, and their power sensors."""
    for domain, config in HELPERS.items():
        assert await async_setup_component(hass, domain, {domain: config})
    for sensor, value in (
        ("sensor.pv_power", 0.0),
        ("sensor.bess_power", 0.0),
        ("sensor.ev_power", 0.0),
        ("sensor.boiler_power", 0.0),
        (GRID_POWER, 5.0),
    ):
        hass.states.async_set(sensor, str(value), {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.bess_soe", "50", {"unit_of_measurement": "%"})


@pytest.fixture
def link_options() -> dict[str, Any]:
    """Options of the link: test mode (simulated commands) and the enforcement section."""
    return {CONF_TEST_MODE: True, CONF_ENFORCEMENT: dict(ENFORCEMENT_OPTIONS)}


@pytest.fixture
def assets() -> list[ConfigSubentryData]:
    """The link's asset subentries."""
    return ASSETS


@pytest.fixture
def link_entry(
    hass: HomeAssistant, link_options: dict[str, Any], assets: list[ConfigSubentryData]
) -> MockConfigEntry:
    """The link entry with the controlled assets."""
    entry = grid_link_entry(LINK_DATA, link_options, assets)
    entry.add_to_hass(hass)
    return entry


@dataclass
class Site:
    """The running link and its enforcement, with a clock the test moves."""

    hass: HomeAssistant
    entry: MockConfigEntry
    link: GridLinkCoordinator
    enforcement: EnforcementCoordinator
    now: float = 0.0

    def clock(self) -> float:
        """The enforcement's time."""
        return self.now

    async def command(self, command: Command, value: float) -> None:
        """A grid operator command (simulated, as in commissioning), and its writes done."""
        record = await self.link.async_simulate_command(command, value)
        assert record.accepted, record
        await self.settle()

    async def settle(self) -> None:
        """Let the enforcement's step and writes finish."""
        await self.hass.async_block_till_done(wait_background_tasks=True)

    async def tick(self, seconds: float = 1.0) -> None:
        """Move the clock, take a step, and let its writes finish."""
        self.now += seconds
        self.enforcement.async_step()
        await self.settle()

    def value(self, entity_id: str) -> str:
        """An entity's state."""
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state

    def number(self, entity_id: str) -> float:
        """A number entity's value."""
        return float(self.value(entity_id))

    def set_power(self, sensor: str, kw: float) -> None:
        """Set a power sensor (a new reading even when the value stays the same)."""
        self.hass.states.async_set(
            sensor, str(kw), {"unit_of_measurement": "kW"}, force_update=True
        )

    async def grid(self, kw: float, *, after: float = 1.0) -> None:
        """A new grid power reading ``after`` seconds on, and the step it triggers on the tick."""
        self.now += after
        self.set_power(GRID_POWER, kw)
        await self.hass.async_block_till_done()
        await self.tick(0.0)


async def start_site(hass: HomeAssistant, entry: MockConfigEntry) -> Site:
    """Set the link entry up, with the enforcement on the test's clock."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    data = entry.runtime_data
    assert isinstance(data, GridLinkData)
    site = Site(hass, entry, data.coordinator, data.enforcement, now=time.time())
    data.enforcement.clock = site.clock
    return site


@pytest.fixture
async def site(
    hass: HomeAssistant, helpers: None, link_entry: MockConfigEntry
) -> AsyncIterator[Site]:
    """The running site; unloaded at the end."""
    yield await start_site(hass, link_entry)
    if link_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(link_entry.entry_id)


type Events = list[dict[str, Any]]


@pytest.fixture
def actions(hass: HomeAssistant) -> Events:
    """Every enforcement action fired on the bus."""
    fired: Events = []

    def listener(event: Any) -> None:
        fired.append(dict(event.data))

    hass.bus.async_listen(EVENT_ENFORCEMENT_ACTION, listener)
    return fired
