"""The demo site: where its simulators listen and which Grid EMS entries it has.

``scripts/develop`` adds these entries to Home Assistant through the config flows
(``demo.bootstrap``); ``tests/test_demo.py`` walks the same flows in a test instance, with the
simulators on ephemeral ports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.util import slugify

from custom_components.grid_ems.enforcement import DEFAULT_OPTIONS as ENFORCEMENT_DEFAULTS
from custom_components.grid_ems.grid_link import DEFAULT_MEASUREMENT_PERIOD
from custom_components.grid_ems.netflex import (
    COMMAND_KEYS,
    DEFAULT_IOAS,
    FEEDBACK_KEYS,
    MEASUREMENT_KEYS,
)

# The names the Modbus device flow suggests, in the order the demo adds the devices.
BESS: Final = "PowerPack BESS"
GRID_METER: Final = "Grid meter"
PV_METER: Final = "PV meter"
"""The meter on the PV feeder (the grid meter's gateway, unit 2), named in its flow."""
RELAYS_E1214: Final = "Relays cabinet 1"
RELAYS_E1211: Final = "Relays cabinet 2"

DEMO_USER: Final = "demo"
# A documented local demo login: the demo listens on 127.0.0.1 only.
DEMO_PASSWORD: Final = "grid-ems-demo"  # noqa: S105


@dataclass(frozen=True, slots=True)
class DemoPorts:
    """TCP ports of the demo's simulators and of Grid EMS's IEC-104 link, all on 127.0.0.1."""

    p1: int
    bess: int
    meter: int
    e1214: int
    """Moxa ioLogik E1214 (6 relays, 6 digital inputs)."""
    e1211: int
    """Moxa ioLogik E1211 (16 digital outputs)."""
    link: int
    rtu_control: int
    """Where the demo's RTU simulator takes grid-operator commands, one ``name=value`` a line."""
    modbus_control: int
    """Where the demo's Modbus devices take fault commands (``help`` lists them)."""


DEMO_PRICE_SENSOR: Final = "sensor.demo_day_ahead_price"
"""The template sensor of configuration.yaml with made-up day-ahead prices."""

DEMO_PORTS: Final = DemoPorts(
    p1=8899,
    bess=5020,
    meter=5021,
    e1214=5022,
    e1211=5023,
    link=2404,
    rtu_control=2405,
    modbus_control=5029,
)


@dataclass(frozen=True, slots=True)
class DemoSubentry:
    """A config subentry added to the entry of a flow, walked through its own flow."""

    subentry_type: str
    steps: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class DemoFlow:
    """One config flow as a user walks it: the menu choice, then each form's input."""

    steps: tuple[dict[str, Any], ...]
    subentries: tuple[DemoSubentry, ...] = field(default=())
    options: tuple[dict[str, Any], ...] = field(default=())
    """The options flow's form inputs, walked after the entry is created (if any)."""


def demo_flows(ports: DemoPorts) -> list[DemoFlow]:
    """Return the config flows that set up the demo site against simulators on ``ports``."""

    def bess(domain: str, object_id: str) -> str:
        return modbus_entity_id(domain, BESS, object_id)

    return [
        DemoFlow(steps=({"next_step_id": "p1_meter"}, {"port": f"socket://127.0.0.1:{ports.p1}"})),
        _modbus_flow("powerpack_bess", ports.bess),
        _modbus_flow("acuvim_ii", ports.meter),
        _modbus_flow("acuvim_ii", ports.meter, unit_id=2, name=PV_METER),
        # Relay 0 is the hardware emergency stop of production, relay 1 that of consumption.
        _modbus_flow(
            "moxa_e1214",
            ports.e1214,
            options={
                "scan_interval": 1.0,
                "timeout": 2.0,
                "retries": 2,
                "injection_outputs": ["relay_0"],
                "consumption_outputs": ["relay_1"],
            },
        ),
        _modbus_flow("moxa_e1211", ports.e1211),
        DemoFlow(
            steps=(
                {"next_step_id": "grid_link"},
                {
                    "provider": "fluvius",
                    "bind_host": "127.0.0.1",
                    "port": ports.link,
                    "common_address": 100,
                    "allowed_clients": ["127.0.0.1"],
                    "import_capacity_kw": 250,
                    "export_capacity_kw": 150,
                },
            ),
            options=(_link_options(),),
            subentries=(
                _asset(
                    "Battery",
                    "storage",
                    200,
                    bess("sensor", "power"),
                    # Grid EMS steers the battery through its target power, in remote control.
                    control={
                        "power_entity": bess("number", "target_power"),
                        "power_unit": "kW",
                        "command_source_entity": bess("select", "command_source"),
                        "remote_option": "remote",
                        "soe_sensor": bess("sensor", "state_of_energy"),
                    },
                ),
                # The PV meter counts the production as export (negative): turned around.
                _asset(
                    "PV plant",
                    "solar",
                    120,
                    modbus_entity_id("sensor", PV_METER, "power"),
                    invert_sign=True,
                ),
            ),
        ),
    ]


def link_options_form(*, test_mode: bool = False, **sections: Any) -> dict[str, Any]:
    """The link's options form as an installer fills it, with the given sections.

    The default measurement period and point map; ``sections``: ``enforcement``, ``planning``.
    """
    return {
        "measurement_period": DEFAULT_MEASUREMENT_PERIOD,
        "sign_convention": "production_positive",
        "test_mode": test_mode,
        "command_points": {key: DEFAULT_IOAS[key] for key in COMMAND_KEYS},
        "feedback_points": {key: DEFAULT_IOAS[key] for key in FEEDBACK_KEYS},
        "measurement_points": {key: DEFAULT_IOAS[key] for key in MEASUREMENT_KEYS},
        **sections,
    }


def _link_options() -> dict[str, Any]:
    """The link's options as the form shows them, with the battery planned on made-up prices."""
    return link_options_form(
        enforcement=dict(ENFORCEMENT_DEFAULTS),
        planning={
            "price_sensor": DEMO_PRICE_SENSOR,
            "import_factor": 1.0,
            "import_adder": 0.12,
            "export_factor": 1.0,
            "export_adder": -0.01,
            "battery_capacity_kwh": 200.0,
            "load_history_days": 7,
            "capacity_tariff_eur_per_kw_year": 40.0,
            "wear_eur_per_kwh": 0.02,
        },
    )


def _modbus_flow(
    profile: str,
    port: int,
    options: dict[str, Any] | None = None,
    *,
    unit_id: int = 1,
    name: str = "",
) -> DemoFlow:
    """A Modbus device's flow; an empty name takes the flow's suggestion for the kind."""
    user_input = {
        "name": name,
        "profile": profile,
        "host": "127.0.0.1",
        "port": port,
        "unit_id": unit_id,
        "scan": False,
    }
    return DemoFlow(
        steps=({"next_step_id": "modbus_device"}, user_input),
        options=() if options is None else (options,),
    )


def modbus_entity_id(domain: str, device: str, object_id: str) -> str:
    """The entity id HA gives a demo Modbus device's entity: device name, then entity name."""
    return f"{domain}.{slugify(device)}_{object_id}"


def _asset(
    name: str,
    category: str,
    installed_kw: float,
    p_sensor: str,
    control: dict[str, Any] | None = None,
    *,
    invert_sign: bool = False,
) -> DemoSubentry:
    asset: dict[str, Any] = {
        "name": name,
        "category": category,
        "installed_power_kw": installed_kw,
        "p_sensor": p_sensor,
        "invert_sign": invert_sign,
    }
    if control is not None:
        asset["control"] = control
    return DemoSubentry("asset", (asset,))
