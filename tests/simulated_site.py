"""A site of simulators in a real Home Assistant, for the tests that run the whole chain.

The PowerPack BESS, the Acuvim II meter and the Moxa E1214 run in the Modbus simulator (as in
the demo), the P1 meter in the P1 simulator. The P1 meter's grid power is the site's: load and
EV charging, less PV and the BESS simulator's actual power. The PV inverter and the EV charger
are helper entities, as assets of any other integration would be; their power sensors are
templates each test site writes for what its assets do. The link's assets are subentries with a
control section, as the link's "Add asset" flow makes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import CONF_HOST, CONF_PORT, CONF_TIMEOUT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

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
    CONF_RAMP,
    CONF_SOE_SENSOR,
    CONF_SWITCH_ENTITY,
)
from custom_components.grid_ems.grid_link import (
    CONF_BIND_HOST,
    CONF_CATEGORY,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_INSTALLED_POWER,
    CONF_INVERT_SIGN,
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

LOAD = "input_number.load"
PV_POTENTIAL = "input_number.pv_potential"
EV_DEMAND = "input_number.ev_demand"
PV_LIMIT = "input_number.pv_limit"
EV_CURRENT = "input_number.ev_current"
EV_SWITCH = "input_boolean.ev"
BESS_TARGET = "number.bess_target_power"
BESS_SOURCE = "select.bess_command_source"
INJECTION_RELAY = "switch.relays_relay_0"
CONSUMPTION_RELAY = "switch.relays_relay_1"
PV_INSTALLED_KW = 50.0
EV_PHASE_KW = 3 * 230 / 1000
"""The charger's power per ampere (3 x 230 V)."""

LINK_DATA: dict[str, Any] = {
    CONF_KIND: EntryKind.GRID_LINK.value,
    CONF_PROVIDER: "fluvius",
    CONF_BIND_HOST: "127.0.0.1",
    CONF_PORT: 0,
    CONF_COMMON_ADDRESS: 100,
    CONF_IMPORT_CAPACITY: 100.0,
    CONF_EXPORT_CAPACITY: 100.0,
}
"""The link's data: a Fluvius link on a free loopback port, 100 kW each way."""
ENFORCEMENT: dict[str, Any] = {
    CONF_RAMP: 100.0,
    CONF_MARGIN: 0.5,
    CONF_LINK_LOSS_TIMEOUT: 0,
    CONF_LINK_LOSS_FALLBACK: 100.0,
}
"""The enforcement options the test sites start from."""

DEVICES: Mapping[str, tuple[str, str, Mapping[str, Any]]] = {
    "bess": ("powerpack_bess", "BESS", {}),
    "meter": ("acuvim_ii", "Meter", {}),
    "e1214": (
        "moxa_e1214",
        "Relays",
        {CONF_RELAY_ROLES: {"relay_0": "injection", "relay_1": "consumption"}},
    ),
}
"""The demo's Modbus simulators by name: their profile, entry title and options."""


def asset(
    title: str,
    category: str,
    installed_kw: float,
    p_sensor: str,
    control: dict[str, Any] | None = None,
    *,
    q_sensor: str | None = None,
    invert_sign: bool = False,
) -> ConfigSubentryData:
    """An asset subentry as the asset flow stores it, with its control section if it has one."""
    data: dict[str, Any] = {
        CONF_CATEGORY: category,
        CONF_INSTALLED_POWER: installed_kw,
        CONF_P_SENSOR: p_sensor,
        CONF_INVERT_SIGN: invert_sign,
    }
    if control is not None:
        data[CONF_CONTROL] = control
    if q_sensor is not None:
        data[CONF_Q_SENSOR] = q_sensor
    return ConfigSubentryData(data=data, subentry_type=SUBENTRY_ASSET, title=title, unique_id=None)


CHARGER = asset(
    "Charger",
    "ev",
    22.08,
    "sensor.ev_power",
    {CONF_POWER_ENTITY: EV_CURRENT, CONF_MINIMUM: 6.0, CONF_SWITCH_ENTITY: EV_SWITCH},
)
"""A charger throttled by its current (3 x 230 V, at least 6 A), switched off last."""
BATTERY = asset(
    "Battery",
    "storage",
    200.0,
    "sensor.bess_power",
    {
        CONF_POWER_ENTITY: BESS_TARGET,
        CONF_COMMAND_SOURCE_ENTITY: BESS_SOURCE,
        CONF_SOE_SENSOR: "sensor.bess_state_of_energy",
    },
)
"""The PowerPack BESS, steered through its Modbus entities."""


def modbus_entry(
    profile: str, simulator: ModbusSimulator, title: str, **options: Any
) -> MockConfigEntry:
    """A Modbus device entry for unit 1 of ``simulator``, quick to give up on a lost device."""
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


def grid_link_entry(
    data: Mapping[str, Any], options: Mapping[str, Any], assets: list[ConfigSubentryData]
) -> MockConfigEntry:
    """The grid operator link's entry with its ``assets``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Grid operator link (Fluvius)",
        unique_id=EntryKind.GRID_LINK.value,
        data=data,
        options=options,
        subentries_data=assets,
    )


async def setup_scenario(
    hass: HomeAssistant,
    *,
    load_kw: float,
    pv_potential_kw: float,
    power_sensors: Mapping[str, str],
    numbers: Mapping[str, Mapping[str, Any]] | None = None,
    booleans: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """The scenario (load, sun, EV demand), the PV inverter's limit, the charger's current and
    switch, the site's own ``numbers`` and ``booleans``, and the ``power_sensors`` in kW (name:
    template; production positive, consumption negative)."""
    number = {"min": 0, "max": 100, "step": 0.1}
    assert await async_setup_component(
        hass,
        "input_number",
        {
            "input_number": {
                "load": {**number, "initial": load_kw},
                "pv_potential": {**number, "initial": pv_potential_kw},
                "ev_demand": {**number, "initial": 0},
                "pv_limit": {**number, "initial": 100, "unit_of_measurement": "%"},
                "ev_current": {
                    "min": 0,
                    "max": 32,
                    "step": 1,
                    "initial": 32,
                    "unit_of_measurement": "A",
                },
                **(numbers or {}),
            }
        },
    )
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"ev": {"initial": True}, **(booleans or {})}}
    )
    sensors = [
        {
            "name": name,
            "unique_id": name,
            "unit_of_measurement": "kW",
            "device_class": "power",
            "state": template,
        }
        for name, template in power_sensors.items()
    ]
    assert await async_setup_component(hass, "template", {"template": [{"sensor": sensors}]})
    await hass.async_block_till_done()


def grid_power(hass: HomeAssistant, bess: PowerPackModel, load: str) -> Callable[[float], float]:
    """The grid power in W the P1 meter reports: ``load`` and EV charging, less PV and the
    battery (the simulator's actual power)."""

    def power(_elapsed: float) -> float:
        def kw(entity_id: str) -> float:
            state = hass.states.get(entity_id)
            try:
                return float(state.state) if state is not None else 0.0
            except ValueError:
                return 0.0

        return (kw(load) - kw("sensor.pv_power") - kw("sensor.ev_power") - bess.active_kw) * 1000

    return power


@dataclass
class SimulatedSite:
    """Home Assistant with the link, the site's device entries and the simulators."""

    hass: HomeAssistant
    link_entry: MockConfigEntry
    data: GridLinkData
    bess: PowerPackModel
    relays: MoxaModel
    modbus: dict[str, ModbusSimulator]
    p1: P1Simulator
    entries: list[MockConfigEntry]
    """The devices' entries: the Modbus devices' in the order asked, then the P1 meter's."""

    def state(self, entity_id: str) -> str:
        """An entity's state."""
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state


@asynccontextmanager
async def running_site(
    hass: HomeAssistant,
    *,
    devices: Sequence[str],
    load: str,
    assets: list[ConfigSubentryData],
    modbus_options: Mapping[str, Any] | None = None,
    link_data: Mapping[str, Any] | None = None,
    enforcement: Mapping[str, Any] | None = None,
) -> AsyncIterator[SimulatedSite]:
    """The demo's Modbus ``devices`` and the P1 meter (its grid power from ``load``) simulated,
    their entries and the link with ``assets`` loaded; everything stopped at the end.

    ``modbus_options`` go to every Modbus entry, ``link_data`` to the link's data, and
    ``enforcement`` over the link's enforcement options. Call ``setup_scenario`` first.
    """
    modbus = await start_demo(ephemeral=True)
    bess = modbus["bess"].units[1]
    relays = modbus["e1214"].units[1]
    assert isinstance(bess, PowerPackModel)
    assert isinstance(relays, MoxaModel)
    p1 = P1Simulator(SimulatedMeter(power=grid_power(hass, bess, load)), interval=0.25)
    entries = []
    for name in devices:
        profile, title, options = DEVICES[name]
        entries.append(
            modbus_entry(profile, modbus[name], title, **options, **(modbus_options or {}))
        )
    entries.append(
        MockConfigEntry(
            domain=DOMAIN,
            title="P1",
            data={
                CONF_KIND: EntryKind.P1_METER.value,
                CONF_PORT: f"socket://127.0.0.1:{await p1.start()}",
            },
            unique_id="p1",
        )
    )
    link_entry = grid_link_entry(
        {**LINK_DATA, **(link_data or {})},
        {CONF_ENFORCEMENT: {**ENFORCEMENT, **(enforcement or {})}},
        assets,
    )
    for entry in (*entries, link_entry):
        entry.add_to_hass(hass)
    # Setting up one entry loads the domain, which sets up every entry.
    assert await hass.config_entries.async_setup(link_entry.entry_id)
    await hass.async_block_till_done()
    assert all(entry.state is ConfigEntryState.LOADED for entry in (*entries, link_entry))
    data = link_entry.runtime_data
    assert isinstance(data, GridLinkData)
    try:
        yield SimulatedSite(hass, link_entry, data, bess, relays, modbus, p1, entries)
    finally:
        for entry in (link_entry, *entries):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await p1.stop()
        for simulator in modbus.values():
            await simulator.stop()
