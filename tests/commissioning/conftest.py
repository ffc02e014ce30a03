"""A demo-like site for the commissioning run: real simulators, real Home Assistant.

The PowerPack BESS and the Moxa E1214 run in the Modbus simulator, the P1 meter in the P1
simulator; the PV inverter (its limit and Q setpoint) and the EV charger are helper entities, as
assets of any other integration would be. The relays are the contactors of the emergency stops:
relay 0 (injection) cuts the PV, relay 1 (consumption) the load and the charger. Faults on
demand: the battery runs at a power of its own, relay 0 ignores its writes, the PV inverter
ignores its limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_SCAN_INTERVAL, CONF_TIMEOUT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.commissioning import Tolerances
from custom_components.grid_ems.const import CONF_KIND, DOMAIN, EntryKind
from custom_components.grid_ems.enforcement import (
    CONF_COMMAND_SOURCE_ENTITY,
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONF_LINK_LOSS_FALLBACK,
    CONF_LINK_LOSS_TIMEOUT,
    CONF_MARGIN,
    CONF_MINIMUM,
    CONF_POWER_ENTITY,
    CONF_Q_ENTITY,
    CONF_RAMP,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
    coordinator as enforcement_coordinator,
)
from custom_components.grid_ems.grid_link import (
    CONF_BIND_HOST,
    CONF_CATEGORY,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_INSTALLED_POWER,
    CONF_P_SENSOR,
    CONF_PROVIDER,
    CONF_Q_SENSOR,
    SUBENTRY_ASSET,
    GridLinkData,
)
from custom_components.grid_ems.modbus_device import (
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_UNIT_ID,
)
from simulators.modbus import ModbusSimulator, MoxaModel, PowerPackModel, start_demo
from simulators.p1 import P1Simulator, SimulatedMeter

PV_INSTALLED_KW = 50.0
EV_PHASE_KW = 3 * 230 / 1000
INJECTION_RELAY = "switch.relays_relay_0"
CONSUMPTION_RELAY = "switch.relays_relay_1"
QUICK = Tolerances(settle_time_s=4.0)
"""Settle time of the tests: the simulators settle within a second or two."""


@dataclass
class Site:
    """Home Assistant with the link, its devices and the simulators."""

    hass: HomeAssistant
    link_entry: MockConfigEntry
    data: GridLinkData
    bess: PowerPackModel
    relays: MoxaModel

    async def set(self, entity_id: str, value: float | bool) -> None:
        """Set a helper of the scenario (load, sun, EV demand, PV fault)."""
        if isinstance(value, bool):
            await self.hass.services.async_call(
                "input_boolean",
                "turn_on" if value else "turn_off",
                {"entity_id": entity_id},
                blocking=True,
            )
        else:
            await self.hass.services.async_call(
                "input_number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True
            )

    def state(self, entity_id: str) -> str:
        """An entity's state."""
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state


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
        options={CONF_TIMEOUT: 0.5, CONF_RETRIES: 1, CONF_SCAN_INTERVAL: 0.2, **options},
        unique_id=f"127.0.0.1:{simulator.port}:1",
    )


def _asset(
    title: str,
    category: str,
    installed_kw: float,
    p_sensor: str,
    control: dict[str, Any],
    *,
    q_sensor: str | None = None,
) -> ConfigSubentryData:
    return ConfigSubentryData(
        data={
            CONF_Q_SENSOR: q_sensor,
            CONF_CATEGORY: category,
            CONF_INSTALLED_POWER: installed_kw,
            CONF_P_SENSOR: p_sensor,
            CONF_CONTROL: control,
        },
        subentry_type=SUBENTRY_ASSET,
        title=title,
        unique_id=None,
    )


def _kw(name: str, template: str) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": name,
        "unit_of_measurement": "kW",
        "device_class": "power",
        "state": template,
    }


async def _helpers(hass: HomeAssistant) -> None:
    """The scenario, the PV inverter's limit, the charger's current and switch, their powers."""
    number = {"min": 0, "max": 100, "step": 0.1}
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "load": {**number, "initial": 10},
                "pv_potential": {**number, "initial": 45},
                "ev_demand": {**number, "initial": 0},
                "pv_limit": {**number, "initial": 100, "unit_of_measurement": "%"},
                # The inverter's Q setpoint: far outside the run's Q band until Grid EMS steers it.
                "pv_q": {
                    "min": -50,
                    "max": 50,
                    "step": 0.1,
                    "initial": -50,
                    "unit_of_measurement": "kvar",
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
        hass,
        "input_boolean",
        {"input_boolean": {"ev": {"initial": True}, "pv_ignores_limit": {"initial": False}}},
    )
    production_cut = f"is_state('{INJECTION_RELAY}', 'on')"
    consumption_cut = f"is_state('{CONSUMPTION_RELAY}', 'on')"
    pv = (
        f"{{% set potential = states('input_number.pv_potential') | float(0) %}}"
        f"{{% set limited = [potential, states('input_number.pv_limit') | float(0) / 100"
        f" * {PV_INSTALLED_KW}] | min %}}"
        f"{{{{ 0 if {production_cut} else (potential if is_state('input_boolean.pv_ignores_limit',"
        f" 'on') else limited) }}}}"
    )
    ev = (
        f"{{{{ 0 if {consumption_cut} or not is_state('input_boolean.ev', 'on') else"
        f" -([states('input_number.ev_demand') | float(0), states('input_number.ev_current')"
        f" | float(0) * {EV_PHASE_KW}] | min) }}}}"
    )
    load = f"{{{{ 0 if {consumption_cut} else states('input_number.load') | float(0) }}}}"
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {"sensor": [_kw("pv_power", pv), _kw("ev_power", ev), _kw("site_load", load)]}
            ]
        },
    )
    await hass.async_block_till_done()


def _site_power(hass: HomeAssistant, bess: PowerPackModel) -> Any:
    """The grid power in W the P1 meter reports: load and charging, less PV and the battery."""

    def power(_elapsed: float) -> float:
        def kw(entity_id: str) -> float:
            state = hass.states.get(entity_id)
            try:
                return float(state.state) if state is not None else 0.0
            except ValueError:
                return 0.0

        return (
            kw("sensor.site_load") - kw("sensor.pv_power") - kw("sensor.ev_power") - bess.active_kw
        ) * 1000

    return power


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry failed writes without pausing (a stuck relay fails within the settle time)."""
    monkeypatch.setattr(enforcement_coordinator, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setattr(enforcement_coordinator, "VERIFY_TIMEOUT_S", 0.5)


@pytest.fixture
async def site(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Site]:
    """The whole site running; everything stopped at the end."""
    hass.config.config_dir = str(tmp_path)
    modbus = await start_demo(ephemeral=True)
    bess = modbus["bess"].units[1]
    relays = modbus["e1214"].units[1]
    assert isinstance(bess, PowerPackModel)
    assert isinstance(relays, MoxaModel)
    p1 = P1Simulator(SimulatedMeter(power=_site_power(hass, bess)), interval=0.25)
    await _helpers(hass)
    entries = [
        _modbus_entry("powerpack_bess", modbus["bess"], "BESS"),
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
            CONF_IMPORT_CAPACITY: 100.0,
            CONF_EXPORT_CAPACITY: 100.0,
        },
        options={
            CONF_ENFORCEMENT: {
                CONF_RAMP: 100.0,
                CONF_MARGIN: 0.5,
                CONF_LINK_LOSS_TIMEOUT: 0,
                CONF_LINK_LOSS_FALLBACK: 100.0,
            }
        },
        subentries_data=[
            _asset(
                "Battery",
                "storage",
                200.0,
                "sensor.bess_power",
                {
                    CONF_POWER_ENTITY: "number.bess_target_power",
                    CONF_COMMAND_SOURCE_ENTITY: "select.bess_command_source",
                    CONF_SOE_SENSOR: "sensor.bess_state_of_energy",
                },
            ),
            _asset(
                "PV",
                "solar",
                PV_INSTALLED_KW,
                "sensor.pv_power",
                {
                    CONF_POWER_ENTITY: "input_number.pv_limit",
                    CONF_MINIMUM: 1.0,
                    CONF_Q_ENTITY: "input_number.pv_q",
                },
                q_sensor="sensor.pv_reactive_power",
            ),
            _asset(
                "Charger",
                "ev",
                22.08,
                "sensor.ev_power",
                {
                    CONF_POWER_ENTITY: "input_number.ev_current",
                    CONF_MINIMUM: 6.0,
                    CONF_SWITCH_ENTITY: "input_boolean.ev",
                },
            ),
        ],
    )
    for entry in (*entries, link_entry):
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(link_entry.entry_id)
    await hass.async_block_till_done()
    assert all(entry.state is ConfigEntryState.LOADED for entry in (*entries, link_entry))
    data = link_entry.runtime_data
    assert isinstance(data, GridLinkData)
    try:
        yield Site(hass, link_entry, data, bess, relays)
    finally:
        for entry in (link_entry, *entries):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await p1.stop()
        for simulator in modbus.values():
            await simulator.stop()
