"""Fixtures of the Modbus device tests: simulated devices and entries set up against them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TIMEOUT
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.modbus_device import (
    CONF_PROFILE,
    CONF_RETRIES,
    CONF_UNIT_ID,
    ModbusDeviceData,
    unique_id,
)
from simulators.modbus import ModbusSimulator
from tests.modbus.conftest import (
    FakeClock,
    StartSimulator,
    clock,
    start_simulator,
)

__all__ = ["FakeClock", "StartSimulator", "clock", "start_simulator"]

type MakeEntry = Callable[..., MockConfigEntry]
type SetUpEntry = Callable[[MockConfigEntry], Awaitable[ModbusDeviceData]]

# Short deadlines keep the fault tests fast, yet stay well above a loaded machine's loop stalls.
FAST_OPTIONS: dict[str, Any] = {CONF_TIMEOUT: 0.5, CONF_RETRIES: 1}


def modbus_data(profile: str, port: int, unit_id: int = 1) -> dict[str, Any]:
    """Entry data of a Modbus device on 127.0.0.1."""
    return {
        CONF_KIND: EntryKind.MODBUS_DEVICE.value,
        CONF_PROFILE: profile,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_UNIT_ID: unit_id,
    }


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


@pytest.fixture
def make_entry(hass: HomeAssistant) -> MakeEntry:
    """Add a Modbus device entry for a simulator, titled so entity ids do not depend on ports."""

    def make(
        profile: str,
        simulator: ModbusSimulator,
        title: str,
        *,
        unit_id: int = 1,
        options: dict[str, Any] | None = None,
    ) -> MockConfigEntry:
        data = modbus_data(profile, simulator.port, unit_id)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=title,
            data=data,
            options=FAST_OPTIONS | (options or {}),
            unique_id=unique_id(data),
        )
        entry.add_to_hass(hass)
        return entry

    return make


@pytest.fixture
async def set_up(hass: HomeAssistant) -> AsyncIterator[SetUpEntry]:
    """Set an entry up and return its runtime data; unload it after the test."""
    entries: list[MockConfigEntry] = []

    async def set_up_entry(entry: MockConfigEntry) -> ModbusDeviceData:
        entries.append(entry)
        # Setting up the first entry loads the domain, which sets up every entry added so far.
        if entry.state is not ConfigEntryState.LOADED:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        assert isinstance(entry.runtime_data, ModbusDeviceData)
        return entry.runtime_data

    yield set_up_entry
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
