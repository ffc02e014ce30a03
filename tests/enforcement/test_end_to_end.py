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
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant, callback

from custom_components.grid_ems.enforcement import (
    CONF_LOCAL_STOP_PRODUCTION,
    CONF_MINIMUM,
    CONF_POWER_ENTITY,
    CONF_RAMP,
    EnforcementCoordinator,
)
from custom_components.grid_ems.grid_link import CONF_ALLOWED_CLIENTS
from custom_components.grid_ems.netflex import Command
from simulators.modbus import ModbusSimulator
from simulators.rtu import RtuSimulator
from tests.simulated_site import (
    BATTERY,
    CHARGER,
    CONSUMPTION_RELAY,
    EV_CURRENT,
    EV_DEMAND,
    EV_PHASE_KW,
    EV_SWITCH,
    INJECTION_RELAY,
    LOAD,
    PV_INSTALLED_KW,
    PV_LIMIT,
    PV_POTENTIAL,
    SimulatedSite,
    asset,
    running_site,
    setup_scenario,
)

SETTLE_S = 10.0
"""Longest wait for the site to settle (the loop runs once a second)."""

LOCAL_STOP_CHANNEL = 5
LOCAL_STOP_INPUT = f"binary_sensor.relays_input_{LOCAL_STOP_CHANNEL}"
"""A Moxa digital input wired as the local emergency stop of production."""


@dataclass
class Site(SimulatedSite):
    """Home Assistant with the site's entries, the simulators and the RTU."""

    rtu: RtuSimulator

    @property
    def enforcement(self) -> EnforcementCoordinator:
        """The link's enforcement."""
        return self.data.enforcement

    @property
    def relays_simulator(self) -> ModbusSimulator:
        """The Modbus simulator of the Moxa E1214."""
        return self.modbus["e1214"]

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
        return float(self.state(entity_id))

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


async def _helpers(hass: HomeAssistant) -> None:
    """The scenario (load, sun, EV demand), the PV inverter's limit, the EV charger's current
    and switch, and their power sensors (production positive, consumption negative)."""
    pv = (
        f"{{{{ [states('{PV_POTENTIAL}') | float(0),"
        f" states('{PV_LIMIT}') | float(0) / 100 * {PV_INSTALLED_KW}] | min }}}}"
    )
    ev = (
        f"{{{{ -([states('{EV_DEMAND}') | float(0), states('{EV_CURRENT}') | float(0)"
        f" * {EV_PHASE_KW}] | min) if is_state('{EV_SWITCH}', 'on') else 0 }}}}"
    )
    await setup_scenario(
        hass,
        load_kw=20.0,
        pv_potential_kw=0.0,
        power_sensors={"pv_power": pv, "ev_power": ev},
    )


@pytest.fixture
async def site(hass: HomeAssistant) -> AsyncIterator[Site]:
    """The whole site running, the RTU connected; everything stopped at the end."""
    await _helpers(hass)
    pv = asset(
        "PV",
        "solar",
        PV_INSTALLED_KW,
        "sensor.pv_power",
        {CONF_POWER_ENTITY: PV_LIMIT, CONF_MINIMUM: 1.0},
    )
    async with running_site(
        hass,
        devices=("bess", "meter", "e1214"),
        load=LOAD,
        assets=[BATTERY, pv, CHARGER],
        link_data={CONF_ALLOWED_CLIENTS: ["127.0.0.1"]},
        enforcement={CONF_RAMP: 50.0, CONF_LOCAL_STOP_PRODUCTION: LOCAL_STOP_INPUT},
    ) as simulated:
        rtu = RtuSimulator(port=simulated.data.coordinator.port)
        await rtu.start()
        try:
            yield Site(**vars(simulated), rtu=rtu)
        finally:
            await rtu.stop()


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
