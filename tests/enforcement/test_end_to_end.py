"""End to end: the RTU commands, Grid EMS enforces on simulated devices, the P1 meter shows it.

Every simulator runs: the P1 meter reports the site's grid power, computed from what the assets
do (load and EV charging, less PV and the battery simulator's actual power); the PowerPack BESS
follows its Modbus target power; the Moxa E1214's relays carry the emergency stops; the RTU
sends the grid operator's commands over IEC-104. The PV inverter and the EV charger are helper
entities, as assets of any other integration would be. Waits are on state changes, with
timeouts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TIMEOUT, EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.enforcement import (
    CONF_COMMAND_SOURCE_ENTITY,
    CONF_ENFORCEMENT,
    CONF_LINK_LOSS_FALLBACK,
    CONF_LINK_LOSS_TIMEOUT,
    CONF_LOCAL_STOP_PRODUCTION,
    CONF_MARGIN,
    CONF_MINIMUM,
    CONF_POWER_ENTITY,
    CONF_RAMP,
    CONF_SOE_SENSOR,
    EnforcementCoordinator,
)
from custom_components.grid_ems.grid_link import (
    CONF_ALLOWED_CLIENTS,
    CONF_BIND_HOST,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_PROVIDER,
    GridLinkData,
)
from custom_components.grid_ems.modbus_device import (
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_UNIT_ID,
)
from custom_components.grid_ems.netflex import Command
from simulators.modbus import ModbusSimulator, MoxaModel, PowerPackModel, start_demo
from simulators.p1 import P1Simulator, SimulatedMeter
from simulators.rtu import RtuSimulator

from .conftest import CHARGER, EV_CURRENT, EV_SWITCH, PV_LIMIT, asset

SETTLE_S = 10.0
"""Longest wait for the site to settle (the loop runs once a second)."""

BESS_TARGET = "number.bess_target_power"
BESS_SOURCE = "select.bess_command_source"
INJECTION_RELAY = "switch.relays_relay_0"
CONSUMPTION_RELAY = "switch.relays_relay_1"
LOCAL_STOP_CHANNEL = 5
LOCAL_STOP_INPUT = f"binary_sensor.relays_input_{LOCAL_STOP_CHANNEL}"
"""A Moxa digital input wired as the local emergency stop of production."""
PV_INSTALLED_KW = 50.0
EV_PHASE_KW = 3 * 230 / 1000


LOAD = "input_number.load"
PV_POTENTIAL = "input_number.pv_potential"
EV_DEMAND = "input_number.ev_demand"


@dataclass
class Site:
    """Home Assistant with the site's entries, the simulators and the RTU."""

    hass: HomeAssistant
    link_entry: MockConfigEntry
    enforcement: EnforcementCoordinator
    bess: PowerPackModel
    relays: MoxaModel
    relays_simulator: ModbusSimulator
    p1: P1Simulator
    rtu: RtuSimulator
    entries: list[MockConfigEntry] = field(default_factory=list)

    async def scenario(
        self, *, pv_potential_kw: float | None = None, ev_demand_kw: float | None = None
    ) -> None:
        """Change what the sun and the EV do."""
        for entity_id, value in ((PV_POTENTIAL, pv_potential_kw), (EV_DEMAND, ev_demand_kw)):
            if value is not None:
                await self.hass.services.async_call(
                    "input_number",
                    "set_value",
                    {"entity_id": entity_id, "value": value},
                    blocking=True,
                )

    def number(self, entity_id: str) -> float:
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return float(state.state)

    def state(self, entity_id: str) -> str:
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state

    def coil(self, channel: int) -> bool:
        """A relay's coil in the Moxa simulator."""
        return self.relays.coils[channel]

    def grid_kw(self) -> float:
        """The grid power the P1 meter reported last."""
        return self.p1.meter.net_power / 1000

    async def wait_for(self, condition: Callable[[], bool], limit_s: float = SETTLE_S) -> float:
        """Wait until ``condition`` holds, re-checked on every state change; return the wait."""
        start = time.monotonic()
        changed = asyncio.Event()

        @callback
        def on_change(_event: Any) -> None:
            changed.set()

        unsubscribe = self.hass.bus.async_listen(EVENT_STATE_CHANGED, on_change)
        try:
            async with asyncio.timeout(limit_s):
                while not condition():
                    changed.clear()
                    await changed.wait()
        finally:
            unsubscribe()
        return time.monotonic() - start

    async def command(self, command: Command, value: float | bool | int) -> None:
        """The RTU sends a command, and the EMS confirms it."""
        confirmation = await self.rtu.command(command, value)
        assert confirmation.positive, (command, value)


def _site_power(hass: HomeAssistant, bess: PowerPackModel) -> Callable[[float], float]:
    """The grid power in W the P1 meter reports: load and EV, less PV and the battery."""

    def power(_elapsed: float) -> float:
        def kw(entity_id: str) -> float:
            state = hass.states.get(entity_id)
            return float(state.state) if state is not None else 0.0

        return (kw(LOAD) - kw("sensor.pv_power") - kw("sensor.ev_power") - bess.active_kw) * 1000

    return power


def _modbus_entry(
    profile: str, simulator: ModbusSimulator, title: str, **options: Any
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={
            CONF_KIND: EntryKind.MODBUS_DEVICE.value,
            CONF_PROFILE: profile,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: simulator.port,
            CONF_UNIT_ID: 1,
        },
        options={CONF_TIMEOUT: 0.5, CONF_RETRIES: 1, **options},
        unique_id=f"127.0.0.1:{simulator.port}:1",
    )


def _kw(sensor: str, template: str) -> dict[str, Any]:
    return {
        "name": sensor,
        "unique_id": sensor,
        "unit_of_measurement": "kW",
        "device_class": "power",
        "state": template,
    }


async def _helpers(hass: HomeAssistant) -> None:
    """The scenario (load, sun, EV demand), the PV inverter's limit, the EV charger's current
    and switch, and their power sensors (production positive, consumption negative)."""
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "load": {"min": 0, "max": 100, "step": 0.1, "initial": 20},
                "pv_potential": {"min": 0, "max": 100, "step": 0.1, "initial": 0},
                "ev_demand": {"min": 0, "max": 100, "step": 0.1, "initial": 0},
                "pv_limit": {
                    "min": 0,
                    "max": 100,
                    "step": 0.1,
                    "initial": 100,
                    "unit_of_measurement": "%",
                },
                "ev_current": {
                    "min": 0,
                    "max": 32,
                    "step": 1,
                    "initial": 32,
                    "unit_of_measurement": "A",
                },
            }
        },
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"ev": {"initial": True}}}
    )
    pv = (
        f"{{{{ [states('{PV_POTENTIAL}') | float(0),"
        f" states('{PV_LIMIT}') | float(0) / 100 * {PV_INSTALLED_KW}] | min }}}}"
    )
    ev = (
        f"{{{{ -([states('{EV_DEMAND}') | float(0), states('{EV_CURRENT}') | float(0)"
        f" * {EV_PHASE_KW}] | min) if is_state('{EV_SWITCH}', 'on') else 0 }}}}"
    )
    assert await async_setup_component(
        hass,
        "template",
        {"template": [{"sensor": [_kw("pv_power", pv), _kw("ev_power", ev)]}]},
    )
    await hass.async_block_till_done()


@pytest.fixture
async def site(hass: HomeAssistant) -> AsyncIterator[Site]:
    """The whole site running; everything stopped at the end."""
    modbus = await start_demo(ephemeral=True)
    bess = modbus["bess"].units[1]
    relays = modbus["e1214"].units[1]
    assert isinstance(bess, PowerPackModel)
    assert isinstance(relays, MoxaModel)
    p1 = P1Simulator(SimulatedMeter(power=_site_power(hass, bess)), interval=0.25)
    await _helpers(hass)
    entries = [
        _modbus_entry("powerpack_bess", modbus["bess"], "BESS"),
        _modbus_entry("acuvim_ii", modbus["meter"], "Meter"),
        _modbus_entry(
            "moxa_e1214",
            modbus["e1214"],
            "Relays",
            **{CONF_RELAY_ROLES: {"relay_0": "injection", "relay_1": "consumption"}},
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="P1",
            data={
                CONF_KIND: EntryKind.P1_METER.value,
                CONF_PORT: f"socket://127.0.0.1:{await p1.start()}",
            },
            unique_id="p1",
        ),
    ]
    link_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Grid operator link (Fluvius)",
        unique_id=EntryKind.GRID_LINK.value,
        data={
            CONF_KIND: EntryKind.GRID_LINK.value,
            CONF_PROVIDER: "fluvius",
            CONF_BIND_HOST: "127.0.0.1",
            CONF_PORT: 0,
            CONF_COMMON_ADDRESS: 100,
            CONF_ALLOWED_CLIENTS: ["127.0.0.1"],
            CONF_IMPORT_CAPACITY: 100.0,
            CONF_EXPORT_CAPACITY: 100.0,
        },
        options={
            CONF_ENFORCEMENT: {
                CONF_RAMP: 50.0,
                CONF_MARGIN: 0.5,
                CONF_LINK_LOSS_TIMEOUT: 0,
                CONF_LINK_LOSS_FALLBACK: 100.0,
                CONF_LOCAL_STOP_PRODUCTION: LOCAL_STOP_INPUT,
            }
        },
        subentries_data=[
            asset(
                "Battery",
                "storage",
                200.0,
                "sensor.bess_power",
                {
                    CONF_POWER_ENTITY: BESS_TARGET,
                    CONF_COMMAND_SOURCE_ENTITY: BESS_SOURCE,
                    CONF_SOE_SENSOR: "sensor.bess_state_of_energy",
                },
            ),
            asset(
                "PV",
                "solar",
                PV_INSTALLED_KW,
                "sensor.pv_power",
                {CONF_POWER_ENTITY: PV_LIMIT, CONF_MINIMUM: 1.0},
            ),
            CHARGER,
        ],
    )
    for entry in (*entries, link_entry):
        entry.add_to_hass(hass)
    # Setting up one entry loads the domain, which sets up every entry.
    assert await hass.config_entries.async_setup(link_entry.entry_id)
    await hass.async_block_till_done()
    assert all(entry.state is ConfigEntryState.LOADED for entry in (*entries, link_entry))
    data = link_entry.runtime_data
    assert isinstance(data, GridLinkData)
    rtu = RtuSimulator(port=data.coordinator.port)
    await rtu.start()
    site = Site(hass, link_entry, data.enforcement, bess, relays, modbus["e1214"], p1, rtu, entries)
    try:
        yield site
    finally:
        await rtu.stop()
        for entry in (link_entry, *entries):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await p1.stop()
        for simulator in modbus.values():
            await simulator.stop()


async def test_connection_point_limits_settle_at_p1_and_release(site: Site) -> None:
    """MINSETP: the battery absorbs the surplus; MAXSETP: it covers the load, then the EV is
    throttled; each time the P1 grid power ends within the limit. Releases restore the start."""
    await site.scenario(pv_potential_kw=45.0)
    await site.wait_for(lambda: site.grid_kw() < -20)
    await site.command(Command.MIN_SET_P, 10.0)
    settled = await site.wait_for(lambda: -10.0 <= site.grid_kw() < -5.0)
    assert settled < SETTLE_S
    # The battery simulator received its Modbus writes: remote control, charging.
    assert site.bess.remote
    assert site.bess.target_kw < 0
    assert site.state("sensor.grid_operator_link_active_constraint") == "max_injection"
    # More sun than the battery may take (MINSETAP caps charging): the PV is curtailed.
    await site.command(Command.MIN_SET_AP, 5.0)
    await site.wait_for(lambda: site.bess.target_kw == -10 and site.number(PV_LIMIT) < 100.0)
    await site.wait_for(lambda: site.grid_kw() >= -10.0)
    # Released: the PV limit first, then the battery goes back to local control.
    await site.command(Command.MIN_SET_AP, 100.0)
    await site.command(Command.MIN_SET_P, 100.0)
    await site.wait_for(lambda: site.number(PV_LIMIT) == 100.0 and not site.bess.remote)
    assert site.bess.target_kw == 0
    await site.wait_for(lambda: site.state("sensor.grid_operator_link_enforcement") == "idle")
    # Import: 20 kW load and a 22 kW EV session against 15 kW.
    await site.scenario(pv_potential_kw=0.0, ev_demand_kw=22.0)
    await site.command(Command.MAX_SET_AP, 10.0)  # the battery may discharge 20 kW only
    await site.command(Command.MAX_SET_P, 15.0)
    settled = await site.wait_for(lambda: 5.0 < site.grid_kw() <= 15.0)
    assert settled < SETTLE_S
    assert site.bess.target_kw > 0
    assert site.number(EV_CURRENT) < 32.0
    assert site.state(EV_SWITCH) == "on"
    await site.command(Command.MAX_SET_P, 100.0)
    await site.command(Command.MAX_SET_AP, 100.0)
    await site.wait_for(lambda: site.number(EV_CURRENT) == 32.0 and not site.bess.remote)


async def test_emergency_stops_on_both_layers(site: Site) -> None:
    """Each stop switches its relay (read back) and stops its assets; releases restore them."""
    await site.scenario(pv_potential_kw=30.0, ev_demand_kw=11.0)
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, True)
    await site.wait_for(lambda: site.state(INJECTION_RELAY) == "on")
    assert site.coil(0) is True
    assert site.coil(1) is False
    await site.wait_for(lambda: site.number(PV_LIMIT) == 1.0)
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, True)
    await site.wait_for(lambda: site.state(CONSUMPTION_RELAY) == "on")
    assert site.coil(1) is True
    await site.wait_for(lambda: site.state(EV_SWITCH) == "off")
    assert site.state("sensor.grid_operator_link_enforcement") == "emergency_stop"
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, False)
    await site.command(Command.EMERGENCY_STOP_CONSUMPTION, False)
    await site.wait_for(
        lambda: (
            site.state(INJECTION_RELAY) == "off"
            and site.state(CONSUMPTION_RELAY) == "off"
            and site.state(EV_SWITCH) == "on"
            and site.number(PV_LIMIT) == 100.0
        )
    )
    assert site.coil(0) is False
    assert site.coil(1) is False


async def test_local_stop_from_a_moxa_input_on_both_layers(site: Site) -> None:
    """A Moxa digital input stops production on both layers (relay and PV), released restores.

    The grid operator's state and the feedback points the RTU sees stay as they were; the
    action log records the local stop and stays a verified chain.
    """
    await site.scenario(pv_potential_kw=30.0)
    await site.wait_for(lambda: site.state(LOCAL_STOP_INPUT) == "off")
    feedback = dict(site.rtu.values)
    reports = len(site.rtu.reports)
    site.relays.feedback = False  # the input is wired to the stop button, not to a relay
    site.relays.discrete_inputs[LOCAL_STOP_CHANNEL] = True
    await site.wait_for(
        lambda: site.state(INJECTION_RELAY) == "on" and site.number(PV_LIMIT) == 1.0
    )
    assert site.coil(0) is True
    assert site.coil(1) is False
    assert site.state("sensor.grid_operator_link_enforcement") == "emergency_stop"
    link = site.link_entry.runtime_data.coordinator
    assert not link.state.stop_production
    site.relays.discrete_inputs[LOCAL_STOP_CHANNEL] = False
    await site.wait_for(
        lambda: site.state(INJECTION_RELAY) == "off" and site.number(PV_LIMIT) == 100.0
    )
    assert site.coil(0) is False
    # Nothing was reported to the RTU about it: its feedback mirrors its own commands only
    # (what it received since are the periodic measurements, 13001 and up).
    assert all(report.ioa > 13000 for report in site.rtu.reports[reports:])
    assert {ioa: report for ioa, report in site.rtu.values.items() if ioa < 13000} == {
        ioa: report for ioa, report in feedback.items() if ioa < 13000
    }
    local = [
        action
        for action in site.enforcement.actions
        if action["source"] == f"local input {LOCAL_STOP_INPUT}"
    ]
    assert (local[0]["entity_id"], local[0]["value"]) == (LOCAL_STOP_INPUT, True)
    assert {
        (action["entity_id"], action["value"]) for action in local if not action["restore"]
    } >= {(LOCAL_STOP_INPUT, True), (INJECTION_RELAY, True), (PV_LIMIT, 1.0)}
    # Released: the input's own record, the relay restored, the PV ramped back (cause: the stop).
    assert (LOCAL_STOP_INPUT, False) in {(action["entity_id"], action["value"]) for action in local}
    assert any(action["restore"] and action["entity_id"] == INJECTION_RELAY for action in local)
    assert site.enforcement.actions.status.verified
    data = site.link_entry.runtime_data
    assert all(status.verified for status in data.chain_status().values())


async def test_fail_safes(hass: HomeAssistant, site: Site) -> None:
    """Lost grid power: open-loop caps; lost RTU: the limits stay; restart: enforced at once."""
    await site.scenario(pv_potential_kw=45.0)
    await site.command(Command.MIN_SET_P, 10.0)
    await site.wait_for(lambda: -10.0 <= site.grid_kw() < -5.0)
    # The P1 meter goes silent: 10 kW shared over the 250 kW that can inject is 4 % of the PV.
    await site.p1.stop()
    await site.wait_for(lambda: site.number(PV_LIMIT) == 4.0)
    assert site.state("sensor.grid_operator_link_enforcement") == "fail_safe"
    assert site.state("sensor.grid_operator_link_constraint_source") == "measurement_lost"
    # The RTU goes away: the limits stay in force.
    await site.rtu.stop()
    await site.wait_for(lambda: not site.enforcement.link_up)
    assert site.number(PV_LIMIT) == 4.0
    # Home Assistant restarts (the link reloads): the stored limit is enforced at once.
    assert await hass.config_entries.async_unload(site.link_entry.entry_id)
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": PV_LIMIT, "value": 100}, blocking=True
    )
    assert await hass.config_entries.async_setup(site.link_entry.entry_id)
    assert site.number(PV_LIMIT) == 4.0


async def test_a_write_our_device_cannot_make_is_retried_by_the_device_alone(site: Site) -> None:
    """One owner for retries: the Moxa module's own retries, not the enforcement's on top."""
    relays = site.entries[2]
    assert relays.title == "Relays"
    simulator_writes = site.relays_simulator.stats.requests
    site.relays_simulator.faults.drop_before_write = 1000
    written_before = simulator_writes[0x05] + simulator_writes[0x0F]
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, True)
    await site.wait_for(lambda: INJECTION_RELAY in site.enforcement.failures)
    # CONF_RETRIES is 1: the first write and one retry reach the wire, and nothing else does.
    assert simulator_writes[0x05] + simulator_writes[0x0F] - written_before == 2
    assert site.coil(0) is False
    site.relays_simulator.faults.clear()
