"""What Home Assistant shows of the link: device, entities, command events, logbook, diagnostics."""

from __future__ import annotations

import logging

import c104
import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.diagnostics import async_get_config_entry_diagnostics
from custom_components.grid_ems.grid_link import EVENT_DSO_COMMAND, GridLinkCoordinator
from custom_components.grid_ems.grid_link.binary_sensor import GRID_LINK_BINARY_SENSORS
from custom_components.grid_ems.grid_link.event import DSO_COMMAND_EVENT
from custom_components.grid_ems.grid_link.sensor import GRID_LINK_SENSORS
from custom_components.grid_ems.netflex import Command
from simulators.rtu import RtuSimulator
from tests.ha_fixtures import describe_in_logbook, entity_snapshots, entry_device

from .conftest import entity_id, setup_link


def _link_entities(
    entries: list[er.RegistryEntry], link_entry: MockConfigEntry
) -> list[er.RegistryEntry]:
    """The entities of the link itself (the enforcement adds its own to the device)."""
    keys = {
        description.key
        for description in (*GRID_LINK_SENSORS, *GRID_LINK_BINARY_SENSORS, DSO_COMMAND_EVENT)
    }
    return [
        entry
        for entry in entries
        if entry.unique_id.removeprefix(f"{link_entry.entry_id}_") in keys
    ]


@pytest.mark.usefixtures("enable_all_entities")
async def test_entities_snapshot(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Registry entries and start-up states of every entity of the link."""
    await setup_link(hass, link_entry)
    entries = _link_entities(
        er.async_entries_for_config_entry(entity_registry, link_entry.entry_id), link_entry
    )
    assert len(entries) == 4 + 1 + 20 + 14
    assert entity_snapshots(hass, entries) == snapshot
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_device(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """One device, "Grid operator link", holds every entity of the link."""
    device = entry_device(hass, link_entry.entry_id)
    assert device.name == "Grid operator link"
    assert device.model == "Fluvius Netflex 1.0 (IEC 60870-5-104)"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entries = er.async_entries_for_device(
        er.async_get(hass), device.id, include_disabled_entities=True
    )
    assert len(_link_entities(entries, link_entry)) == 4 + 1 + 20 + 14


async def test_command_event_entity(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """The event entity fires on each command, accepted or refused, with its details."""
    event_entity = entity_id(hass, link_entry, "event", "dso_command")
    min_set_p = entity_id(hass, link_entry, "sensor", "min_set_p")
    bus_events: list[Event] = []
    seen_by_automations: list[str] = []

    def heard(event: Event) -> None:
        bus_events.append(event)
        state = hass.states.get(min_set_p)
        assert state is not None
        seen_by_automations.append(state.state)

    hass.bus.async_listen(EVENT_DSO_COMMAND, heard)
    assert (await rtu.command(Command.MIN_SET_P, 25.0)).positive
    await hass.async_block_till_done()
    state = hass.states.get(event_entity)
    assert state is not None
    assert state.attributes["event_type"] == "command_accepted"
    assert state.attributes["command"] == "min_set_p"
    assert state.attributes["value"] == 25.0
    assert state.attributes["ioa"] == 2001
    assert state.attributes["refusal"] is None
    assert state.attributes["local"] is False
    assert not (await rtu.command(Command.REASON_P, 7.0)).positive
    await hass.async_block_till_done()
    state = hass.states.get(event_entity)
    assert state is not None
    assert state.attributes["event_type"] == "command_refused"
    assert state.attributes["refusal"] == "invalid_value"
    assert [event.data["accepted"] for event in bus_events] == [True, False]
    assert bus_events[0].data["entry_id"] == link_entry.entry_id
    # An automation on the event reads the entities as the command left them.
    assert seen_by_automations == ["25.0", "25.0"]


LOGBOOK_LINES = {
    "en": [
        "Emergency stop production switched on by the grid operator (RTU 127.0.0.1)",
        "Refused: IOA 1005 (no command point) = True from the grid operator (RTU 127.0.0.1) "
        "(No command point at this IOA)",
        "Consumption limit setpoint set to 80 % by a simulation in Home Assistant",
        "Q control mode set to Remote by the grid operator (RTU 127.0.0.1)",
        "Reason P set to Grid congestion by the grid operator (RTU 127.0.0.1)",
    ],
    "nl": [
        "Noodstop productie ingeschakeld door de netbeheerder (RTU 127.0.0.1)",
        "Geweigerd: IOA 1005 (geen commandopunt) = True van de netbeheerder (RTU 127.0.0.1) "
        "(Geen commandopunt op dit IOA)",
        "Setpunt afnamelimiet ingesteld op 80 % door een simulatie in Home Assistant",
        "Q-regelmodus ingesteld op Op afstand door de netbeheerder (RTU 127.0.0.1)",
        "Reden P ingesteld op Netcongestie door de netbeheerder (RTU 127.0.0.1)",
    ],
    "fr": [
        "Arrêt d'urgence production : activation par le gestionnaire de réseau (RTU 127.0.0.1)",
        "Refusé : IOA 1005 (pas un point de commande) = True, envoyé par le gestionnaire de "
        "réseau (RTU 127.0.0.1) (Pas de point de commande à cet IOA)",
        "Consigne de limite de prélèvement : réglage sur 80 % par une simulation dans Home "
        "Assistant",
        "Mode de réglage Q : réglage sur À distance par le gestionnaire de réseau (RTU 127.0.0.1)",
        "Raison P : réglage sur Congestion du réseau par le gestionnaire de réseau (RTU 127.0.0.1)",
    ],
}


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
async def test_logbook(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    rtu: RtuSimulator,
    language: str,
) -> None:
    """One sentence per command, in Home Assistant's language: what, by whom, and why refused."""
    # As Home Assistant does when its language changes.
    await hass.config.async_update(language=language)
    await async_get_translations(hass, language, "entity", {DOMAIN})
    bus_events: list[Event] = []
    hass.bus.async_listen(EVENT_DSO_COMMAND, bus_events.append)
    await rtu.command(Command.EMERGENCY_STOP_PRODUCTION, True)
    await rtu.send(1005, c104.Type.C_SC_NA_1, True)
    await hass.services.async_call(
        DOMAIN,
        "simulate_dso_command",
        {"config_entry_id": link_entry.entry_id, "command": "max_set_p", "value": 80},
        blocking=True,
    )
    await rtu.command(Command.Q_MODE, 2)
    await rtu.command(Command.REASON_P, 1.0)
    await hass.async_block_till_done()

    lines = [describe_in_logbook(hass, event) for event in bus_events]

    assert [line["message"] for line in lines] == LOGBOOK_LINES[language]
    assert lines[0]["name"] == "Grid operator"
    assert lines[0]["entity_id"] == entity_id(hass, link_entry, "event", "dso_command")


async def test_log_lines_are_sentences_and_a_burst_stays_quiet(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    rtu: RtuSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """200 setpoints in a row: a few info lines (never a repr), the rest at debug, so Home
    Assistant's "logging too frequently" count (200 lines of info or more) is never reached."""
    caplog.set_level(logging.DEBUG, logger="custom_components.grid_ems")
    for index in range(200):
        await rtu.command(Command.MAX_SET_P, float(index % 100))
    await rtu.command(Command.REASON_P, 7.0)
    await hass.async_block_till_done()

    ours = [record for record in caplog.records if record.name.startswith("custom_components")]
    loud = [record for record in ours if record.levelno >= logging.INFO]
    assert [record.getMessage() for record in loud] == [
        "Consumption limit setpoint set to 0 % by the grid operator (RTU 127.0.0.1)",
        "Refused: Reason P = 7.0 from the grid operator (RTU 127.0.0.1) (Invalid value)",
    ]
    commands = [
        record for record in ours if "Consumption limit setpoint set to" in record.getMessage()
    ]
    assert len(commands) == 200
    assert not [record for record in ours if "Record(" in record.getMessage()]
    assert "logging too frequently" not in caplog.text


async def test_diagnostics(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """State, limits, site, connection and the audit trail, addresses redacted."""
    await rtu.command(Command.MAX_SET_P, 50.0)
    await rtu.command(Command.MAX_SET_P, 500.0)
    diagnostics = await async_get_config_entry_diagnostics(hass, link_entry)
    runtime = diagnostics["runtime"]
    assert runtime["state"]["max_set_p"] == 50.0
    assert runtime["limits"]["max_consumption_kw"] == 100.0
    assert len(runtime["site"]["assets"]) == 4
    assert runtime["rtu"]["address"] == "**REDACTED**"
    assert runtime["rtu"]["started"] is True
    assert runtime["port"] == "**REDACTED**"
    assert runtime["options"] == {
        "measurement_period": 30.0,
        "sign_convention": "production_positive",
        "test_mode": True,
        "link": {
            "k": 12,
            "w": 8,
            "t0": 30.0,
            "t1": 15.0,
            "t2": 10.0,
            "t3": 20.0,
            "when_full": "replace",
            "link_lost_after": 30.0,
        },
    }
    assert runtime["link_up"] is True
    assert [record["event"] for record in runtime["connections"]] == ["connected", "started"]
    assert {record["address"] for record in runtime["connections"]} == {"**REDACTED**"}
    assert [record["accepted"] for record in runtime["audit"]] == [True, False]
    assert {record["source"] for record in runtime["audit"]} == {"**REDACTED**"}
    assert runtime["audit"][1]["refusal"] == "invalid_value"
    assert abs(runtime["clock_offset_s"]) < 5
