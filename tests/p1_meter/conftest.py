"""Fixtures of the P1 meter tests: the simulator on an ephemeral port and a meter entry on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime
from typing import Protocol
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PORT
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems import p1_meter
from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.p1 import Backoff
from simulators.p1 import MeterConfig, P1Simulator, PowerProfile, SimulatedMeter
from tests.ha_fixtures import enable_all_entities, snapshot  # noqa: F401  (fixtures, used by name)

METER_ID = "3153414733313031303231363035"
"""The simulated meter's equipment identifier as it is sent (hex of "1SAG3101021605")."""
NOW = datetime(2025, 3, 10, 9, 0, 30, tzinfo=UTC)
"""A Monday morning: day tariff."""


class SetUp(Protocol):
    """Set an entry up against the simulator."""

    def __call__(self, entry: MockConfigEntry, first: bytes | None = None) -> Awaitable[None]:
        """Set ``entry`` up; ``first`` is the first telegram (default: the meter's own)."""
        ...


class FixedClock:
    """The simulated meter's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def fast_reconnect() -> Iterator[None]:
    """Reconnect within milliseconds instead of seconds."""
    with patch.object(p1_meter, "RECONNECT_BACKOFF", Backoff(initial=0.01, maximum=0.05)):
        yield


@pytest.fixture
def clock() -> FixedClock:
    """The simulated meter's clock."""
    return FixedClock()


@pytest.fixture
def meter_config() -> MeterConfig:
    """A meter sending every object of the seed's table, with gas, water and heat meters."""
    return MeterConfig(heat=True, extended=True, text_message="Welkom")


@pytest.fixture
async def simulator(clock: FixedClock, meter_config: MeterConfig) -> AsyncIterator[P1Simulator]:
    """A simulated meter importing 1500 W, sending on demand."""
    meter = SimulatedMeter(meter_config, power=PowerProfile.parse("60:1500"), clock=clock)
    simulator = P1Simulator(meter, interval=None)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
def entry(simulator: P1Simulator) -> MockConfigEntry:
    """A P1 meter entry on the simulator's port."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="P1 meter",
        unique_id=METER_ID,
        data={CONF_KIND: EntryKind.P1_METER, CONF_PORT: f"socket://127.0.0.1:{simulator.port}"},
        options={p1_meter.CONF_UPDATE_INTERVAL: 0},
    )


@pytest.fixture
def set_up(hass: HomeAssistant, simulator: P1Simulator) -> SetUp:
    """Set an entry up: the meter sends its first telegram once the entry has connected."""

    async def set_up(entry: MockConfigEntry, first: bytes | None = None) -> None:
        entry.add_to_hass(hass)
        setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
        await simulator.wait_for_clients(1)
        if first is None:
            await simulator.send_telegram()
        else:
            await simulator.send_raw(first)
        assert await setup
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED

    return set_up


class StateWaiter:
    """Waits for the state of one entity to satisfy a condition, on state change events."""

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        self.hass = hass
        self.entity_id = entity_id
        self.changes: list[str | None] = []
        self._changed = asyncio.Event()

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            new_state = event.data["new_state"]
            self.changes.append(None if new_state is None else new_state.state)
            self._changed.set()

        self.unsubscribe = async_track_state_change_event(hass, entity_id, changed)

    async def wait_for(self, state: str) -> None:
        """Return once the entity is in ``state`` (at once if it already is)."""
        async with asyncio.timeout(5):
            while (current := self.hass.states.get(self.entity_id)) is None or (
                current.state != state
            ):
                self._changed.clear()
                await self._changed.wait()


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state
