"""A small site model for the controller tests: entity values in, powers and grid power out."""

from __future__ import annotations

from dataclasses import dataclass, field

from custom_components.grid_ems.control.controller import Controller
from custom_components.grid_ems.control.ledger import EntityValue
from custom_components.grid_ems.control.model import (
    AssetControl,
    CommandSource,
    ControlInput,
    ControlSettings,
    ControlSetup,
    Decision,
    GridSample,
    Measurements,
    Relay,
    RelayRole,
)
from custom_components.grid_ems.control.units import NumberControl, Unit
from custom_components.grid_ems.netflex.assets import AssetCategory, SiteParameters
from custom_components.grid_ems.netflex.state import DsoState

PV = AssetControl(
    "pv",
    AssetCategory.SOLAR,
    50.0,
    power=NumberControl("number.pv_limit", Unit.PERCENT, minimum=1.0, maximum=100.0, step=0.1),
)
BESS = AssetControl(
    "bess",
    AssetCategory.STORAGE,
    30.0,
    power=NumberControl("number.bess_target", Unit.KILOWATT, minimum=-30.0, maximum=30.0, step=0.1),
    command_source=CommandSource("select.bess_source", "remote"),
)
EV = AssetControl(
    "ev",
    AssetCategory.EV,
    22.08,
    power=NumberControl(
        "number.ev_current", Unit.AMPERE, minimum=6.0, maximum=32.0, step=1.0, phases=3
    ),
    switch_entity_id="switch.ev",
)
BOILER = AssetControl(
    "boiler", AssetCategory.FLEXIBLE_CONSUMPTION, 5.0, switch_entity_id="switch.boiler"
)
INJECTION_RELAY = Relay("switch.relay_injection", RelayRole.INJECTION)
CONSUMPTION_RELAY = Relay("switch.relay_consumption", RelayRole.CONSUMPTION)
SITE = SiteParameters(import_capacity_kw=100.0, export_capacity_kw=100.0)


def setup(
    *assets: AssetControl,
    settings: ControlSettings | None = None,
    relays: tuple[Relay, ...] = (INJECTION_RELAY, CONSUMPTION_RELAY),
    site: SiteParameters = SITE,
) -> ControlSetup:
    """A control setup of the test site with the given assets."""
    return ControlSetup(
        site=site,
        assets=assets or (PV, BESS, EV, BOILER),
        relays=relays,
        settings=settings or ControlSettings(),
    )


@dataclass
class Plant:
    """The site's physics: what each asset does given its entities, and the grid power.

    The PV produces ``pv_potential_kw`` up to its limit; the battery follows its target while its
    command source is remote; the EV draws ``ev_demand_kw`` up to its current limit while its
    switch is on; the boiler draws its installed power while on. With ``battery_q_kvar`` set,
    the PV and the battery have Q sensors: the PV's follows its Q setpoint, the battery's
    inverter (not controlled) runs at that reactive power.
    """

    load_kw: float = 10.0
    pv_potential_kw: float = 0.0
    ev_demand_kw: float = 0.0
    soe_pct: float = 50.0
    battery_q_kvar: float | None = None
    values: dict[str, EntityValue | None] = field(
        default_factory=lambda: {
            "number.pv_limit": 100.0,
            "number.bess_target": 0.0,
            "select.bess_source": "local",
            "number.ev_current": 32.0,
            "switch.ev": True,
            "switch.boiler": False,
            "switch.relay_injection": False,
            "switch.relay_consumption": False,
            "number.pv_q": 0.0,
        }
    )

    def value(self, entity_id: str) -> EntityValue | None:
        """The current value of an entity."""
        return self.values[entity_id]

    def _number(self, entity_id: str) -> float:
        value = self.values[entity_id]
        assert isinstance(value, float)
        return value

    def powers(self) -> dict[str, float]:
        """Asset powers in the asset convention."""
        pv = min(self.pv_potential_kw, self._number("number.pv_limit") / 100 * PV.installed_kw)
        bess = (
            self._number("number.bess_target")
            if self.values["select.bess_source"] == "remote"
            else 0.0
        )
        ev = 0.0
        if self.values["switch.ev"] is True:
            ev = min(self.ev_demand_kw, self._number("number.ev_current") * 3 * 230 / 1000)
        boiler = BOILER.installed_kw if self.values["switch.boiler"] is True else 0.0
        return {"pv": pv, "bess": bess, "ev": -ev, "boiler": -boiler}

    def grid_kw(self) -> float:
        """Net grid power, import positive."""
        return self.load_kw - sum(self.powers().values())

    def measurements(self, at: float, *, grid: bool = True) -> Measurements:
        """What the controller sees at ``at``."""
        return Measurements(
            grid=GridSample(self.grid_kw(), at) if grid else None,
            asset_power_kw=self.powers(),
            asset_reactive_kvar=(
                {}
                if self.battery_q_kvar is None
                else {"pv": self._number("number.pv_q"), "bess": self.battery_q_kvar}
            ),
            state_of_energy_pct={"bess": self.soe_pct},
            values=dict(self.values),
        )

    def apply(self, decision: Decision) -> None:
        """Carry out the decision's writes."""
        for action in decision.actions:
            self.values[action.entity_id] = action.value


@dataclass
class Run:
    """A controller driving a plant, one step per second."""

    controller: Controller
    plant: Plant
    dso: DsoState = field(default_factory=DsoState)
    now: float = 1_700_000_000.0
    link_up: bool = True
    grid: bool = True
    local_stop_production: bool = False
    local_stop_consumption: bool = False
    last: Decision | None = None

    def step(self, seconds: float = 1.0) -> Decision:
        """Advance the time, take one controller step and apply it."""
        self.now += seconds
        decision = self.controller.step(
            ControlInput(
                self.dso,
                self.plant.measurements(self.now, grid=self.grid),
                self.link_up,
                self.local_stop_production,
                self.local_stop_consumption,
            ),
            self.now,
        )
        self.plant.apply(decision)
        self.last = decision
        return decision

    def run(self, seconds: int) -> Decision:
        """Step once a second for ``seconds``; returns the last decision."""
        decision = self.step()
        for _ in range(seconds - 1):
            decision = self.step()
        return decision
