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

import pytest
from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant

from custom_components.grid_ems.commissioning import Tolerances
from custom_components.grid_ems.enforcement import (
    CONF_MINIMUM,
    CONF_POWER_ENTITY,
    CONF_Q_ENTITY,
    coordinator as enforcement_coordinator,
)
from tests.simulated_site import (
    BATTERY,
    CHARGER,
    CONSUMPTION_RELAY,
    EV_PHASE_KW,
    INJECTION_RELAY,
    PV_INSTALLED_KW,
    SimulatedSite,
    asset,
    running_site,
    setup_scenario,
)

QUICK = Tolerances(settle_time_s=4.0)
"""Settle time of the tests: the simulators settle within a second or two."""


@dataclass
class Site(SimulatedSite):
    """Home Assistant with the link, its devices and the simulators."""

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


async def _helpers(hass: HomeAssistant) -> None:
    """The scenario with the PV inverter's Q setpoint and fault; the relays cut their feeders."""
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
    await setup_scenario(
        hass,
        load_kw=10.0,
        pv_potential_kw=45.0,
        power_sensors={"pv_power": pv, "ev_power": ev, "site_load": load},
        # The inverter's Q setpoint: far outside the run's Q band until Grid EMS steers it.
        numbers={
            "pv_q": {
                "min": -50,
                "max": 50,
                "step": 0.1,
                "initial": -50,
                "unit_of_measurement": "kvar",
            }
        },
        booleans={"pv_ignores_limit": {"initial": False}},
    )


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry failed writes without pausing (a stuck relay fails within the settle time)."""
    monkeypatch.setattr(enforcement_coordinator, "RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setattr(enforcement_coordinator, "VERIFY_TIMEOUT_S", 0.5)


@pytest.fixture
async def site(hass: HomeAssistant, tmp_path: Path) -> AsyncIterator[Site]:
    """The whole site running; everything stopped at the end."""
    hass.config.config_dir = str(tmp_path)
    await _helpers(hass)
    pv = asset(
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
    )
    async with running_site(
        hass,
        devices=("bess", "e1214"),
        load="sensor.site_load",
        assets=[BATTERY, pv, CHARGER],
        modbus_options={CONF_SCAN_INTERVAL: 0.2},
    ) as simulated:
        yield Site(**vars(simulated))
