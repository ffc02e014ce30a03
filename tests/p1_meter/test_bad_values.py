"""Wrong values in CRC-valid telegrams, through Home Assistant: the meter and its entities go on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.grid_ems import p1_meter
from custom_components.grid_ems.p1.telegram import (
    POWER_FAILURE_LOG,
    POWER_IMPORT,
    PowerFailure,
    Reading,
    Telegram,
)
from custom_components.grid_ems.p1.validate import DropReason
from custom_components.grid_ems.p1_meter.const import CONF_CONNECTION_CAPACITY
from simulators.p1 import P1Simulator, seal

from .conftest import SetUp, StateWaiter, state_of
from .test_coordinator import GRID_POWER, GridPowerListener

RECONNECT_BACKOFF = p1_meter.RECONNECT_BACKOFF
"""The real backoff: the tests' autouse fixture shortens it while a test runs."""
ENERGY = "sensor.p1_meter_energy_import_day"
LAST_FAILURE = "sensor.p1_meter_last_long_power_failure"


def _rewrite(telegram: bytes, *changes: tuple[bytes, bytes]) -> bytes:
    """The telegram with each ``old`` replaced by ``new``, and a valid CRC."""
    body = telegram[: telegram.index(b"!") + 1]
    for old, new in changes:
        assert old in body
        body = body.replace(old, new)
    return seal(body.decode("ascii"))


@pytest.mark.usefixtures("enable_all_entities")
async def test_bad_values_never_stop_the_meter(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
) -> None:
    """NaN, Infinity, a foreign failure log, a duplicate: dropped; the next telegram is read."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    assert state_of(hass, ENERGY) == "1234.567"
    failure = state_of(hass, LAST_FAILURE)
    bad = _rewrite(
        simulator.meter.telegram(),
        (b"1-0:1.8.1(001234.567*kWh)", b"1-0:1.8.1(NaN*kWh)"),
        (b"1-0:1.7.0(01.500*kW)", b"1-0:1.7.0(Infinity*kW)"),
        (b"(0-0:96.7.19)", b"(0-0:96.7.18)"),
        (b"1-0:2.7.0(00.000*kW)", b"1-0:2.7.0(00.000*kW)\r\n1-0:2.7.0(00.100*kW)"),
    )
    energy = StateWaiter(hass, ENERGY)
    await simulator.send_raw(bad)
    await energy.wait_for(STATE_UNKNOWN)  # the dropped counter is unknown, not NaN
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, LAST_FAILURE) in (failure, STATE_UNKNOWN)
    simulator.meter.override_power = 2000
    await simulator.send_telegram()
    await listener.wait_for(2000)
    assert state_of(hass, GRID_POWER) == "2000"
    assert state_of(hass, ENERGY) == "1234.567"
    assert state_of(hass, LAST_FAILURE) == failure
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dropped = diagnostics["runtime"]["telegrams"]["dropped_objects"]
    assert dropped[DropReason.NOT_FINITE] == 2
    assert dropped[DropReason.INCONSISTENT] == 1
    assert dropped[DropReason.DUPLICATE] == 1


async def test_power_in_watts_is_converted(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry, simulator: P1Simulator
) -> None:
    """``01193*W`` is 1193 W, not 1 193 000 W."""
    await set_up(entry)
    listener = GridPowerListener(entry)
    await simulator.send_raw(
        _rewrite(simulator.meter.telegram(), (b"1-0:1.7.0(01.500*kW)", b"1-0:1.7.0(01193*W)"))
    )
    await listener.wait_for(1193)
    assert state_of(hass, GRID_POWER) == "1193"


async def test_guard_state_survives_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, object],
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
) -> None:
    """A lower register after a reload is still refused: the accepted one was stored."""
    await set_up(entry)
    key = f"grid_ems.{entry.entry_id}.p1_counters"
    assert key not in hass_storage
    start = dt_util.utcnow()
    for seconds in (20, 40, 59):  # telegrams do not push the write back
        await simulator.send_telegram()
        async_fire_time_changed(hass, start + timedelta(seconds=seconds))
        await hass.async_block_till_done()
    assert key not in hass_storage
    async_fire_time_changed(hass, start + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert key in hass_storage
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert f"grid_ems.{entry.entry_id}.p1_counters" in hass_storage
    lower = _rewrite(
        simulator.meter.telegram(), (b"1-0:1.8.1(001234.567*kWh)", b"1-0:1.8.1(000100.000*kWh)")
    )
    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await simulator.wait_for_clients(1)
    await simulator.send_raw(lower)
    assert await setup
    await hass.async_block_till_done()
    assert state_of(hass, ENERGY) == "1234.567"
    assert entry.runtime_data.diagnostics()["telegrams"]["rejected_counter_values"] == 1
    # Removing the entry removes its store.
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert f"grid_ems.{entry.entry_id}.p1_counters" not in hass_storage


def test_reconnect_delay_is_at_most_five_seconds() -> None:
    """However long the port was gone, it is retried at least every 5 s."""
    assert max(RECONNECT_BACKOFF.delay(attempt) for attempt in range(1, 30)) <= 5


@pytest.mark.usefixtures("enable_all_entities")
async def test_sensors_never_raise_on_what_they_are_handed(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """Objects the reader would drop, handed to the entities anyway: last state or unknown."""
    await set_up(entry)
    coordinator = entry.runtime_data.coordinator
    power, failure = state_of(hass, GRID_POWER), state_of(hass, LAST_FAILURE)
    telegram = coordinator.data
    objects = {
        **telegram.objects,
        POWER_IMPORT: Reading(Decimal("Infinity"), "kW"),
        POWER_FAILURE_LOG: (PowerFailure("101208152415W", 240, "s"),),  # type: ignore[arg-type]
    }
    coordinator.async_set_updated_data(Telegram(telegram.header, objects, telegram.codes))
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, GRID_POWER) == power
    assert state_of(hass, LAST_FAILURE) == failure
    assert state_of(hass, "sensor.p1_meter_power_export") == "0"


async def test_power_above_the_connection_capacity_is_refused(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    set_up: SetUp,
    entry: MockConfigEntry,
    simulator: P1Simulator,
) -> None:
    """A meter option: 12 kW on a 10 kW connection is dropped as out of range; 5 kW is read."""
    capped = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, CONF_CONNECTION_CAPACITY: 10.0},
    )
    await set_up(capped)
    listener = GridPowerListener(capped)
    simulator.meter.override_power = 12000
    await simulator.send_telegram()
    simulator.meter.override_power = 5000
    await simulator.send_telegram()
    await listener.wait_for(5000)
    assert 12000 not in listener.powers()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, capped)
    assert diagnostics["runtime"]["telegrams"]["dropped_objects"][DropReason.OUT_OF_RANGE] >= 1


async def test_connection_capacity_option(
    hass: HomeAssistant, set_up: SetUp, entry: MockConfigEntry
) -> None:
    """The options flow takes the capacity in kW; left empty, none is stored."""
    await set_up(entry)
    for given, stored in ((None, {}), (27.6, {CONF_CONNECTION_CAPACITY: 27.6})):
        flow = await hass.config_entries.options.async_init(entry.entry_id)
        user_input: dict[str, float] = {p1_meter.CONF_UPDATE_INTERVAL: 5}
        if given is not None:
            user_input[CONF_CONNECTION_CAPACITY] = given
        result = await hass.config_entries.options.async_configure(flow["flow_id"], user_input)
        assert result["data"] == {p1_meter.CONF_UPDATE_INTERVAL: 5, **stored}
