"""Config flow, reconfiguration, options and asset subentries of the grid operator link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, section
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.grid_link import (
    CONF_CATEGORY,
    CONF_INSTALLED_POWER,
    CONF_P_SENSOR,
    SUBENTRY_ASSET,
    GridLinkCoordinator,
    GridLinkData,
)
from custom_components.grid_ems.iec104 import ProtocolParameters, WhenFull
from custom_components.grid_ems.netflex import Command
from tests.ha_fixtures import entry_device

from .conftest import CHARGER_POWER, LINK_DATA, PV_POWER, entity_id, self_signed_certificate

LINK_FORM = {
    "provider": "fluvius",
    "bind_host": " 127.0.0.1 ",
    "port": 0.0,
    "common_address": 100.0,
    "allowed_clients": ["127.0.0.1", " ", "10.0.0.0/24"],
    "import_capacity_kw": 200,
    "export_capacity_kw": 150,
}


def form_input(result: FlowResult[Any, Any], **overrides: Any) -> dict[str, Any]:
    """The form's suggested values (sections nested), with overrides."""
    values: dict[str, Any] = {}
    schema = result["data_schema"]
    assert schema is not None
    for key, validator in schema.schema.items():
        if isinstance(validator, section):
            values[str(key)] = {
                str(inner): inner.description["suggested_value"]
                for inner in validator.schema.schema
                if inner.description and "suggested_value" in inner.description
            }
        elif key.description and "suggested_value" in key.description:
            values[str(key)] = key.description["suggested_value"]
    return values | overrides


def _coordinator(entry: MockConfigEntry) -> GridLinkCoordinator:
    data = entry.runtime_data
    assert isinstance(data, GridLinkData)
    return data.coordinator


async def _start_link_flow(hass: HomeAssistant) -> FlowResult[Any, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "grid_link"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "grid_link"
    return result


async def test_add_link(hass: HomeAssistant) -> None:
    """The form's defaults are Netflex's; the entry data is normalized; one link only."""
    result = await _start_link_flow(hass)
    defaults = form_input(result)
    assert defaults == {
        "provider": "fluvius",
        "bind_host": "0.0.0.0",
        "port": 2404,
        "common_address": 100,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], LINK_FORM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Grid operator link (Fluvius)"
    assert result["data"] == {
        "kind": "grid_link",
        "provider": "fluvius",
        "bind_host": "127.0.0.1",
        "port": 0,
        "common_address": 100,
        "allowed_clients": ["127.0.0.1", "10.0.0.0/24"],
        "import_capacity_kw": 200.0,
        "export_capacity_kw": 150.0,
    }
    entry = result["result"]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "grid_link"

    result = await _start_link_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], LINK_FORM)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"bind_host": "link.local"}, {"bind_host": "invalid_bind_host"}),
        ({"allowed_clients": ["10.0.0.300"]}, {"allowed_clients": "invalid_allowed_clients"}),
        ({"tls_certificate": "/certs/link.pem"}, {"base": "tls_incomplete"}),
        ({"tls_client_ca": "/certs/ca.pem"}, {"base": "tls_incomplete"}),
        (
            {"tls_certificate": "/nonexistent/link.pem", "tls_key": "/nonexistent/link.key"},
            {"base": "tls_invalid"},
        ),
        ({"import_capacity_kw": 0}, {"import_capacity_kw": "positive_required"}),
        ({"export_capacity_kw": 0.0}, {"export_capacity_kw": "positive_required"}),
    ],
)
async def test_link_form_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Addresses and TLS files are checked before the link is added."""
    result = await _start_link_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], LINK_FORM | changes)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_capacities_are_empty_and_required(hass: HomeAssistant) -> None:
    """The capacities show empty (never a 0 that would make every limit 0 kW) and are required."""
    result = await _start_link_flow(hass)
    schema = result["data_schema"]
    assert schema is not None
    capacities = [key for key in schema.schema if str(key).endswith("_capacity_kw")]
    assert len(capacities) == 2
    assert all(
        key.description is None or "suggested_value" not in key.description for key in capacities
    )

    missing = {key: value for key, value in LINK_FORM.items() if not key.endswith("capacity_kw")}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], missing)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "import_capacity_kw": "positive_required",
        "export_capacity_kw": "positive_required",
    }


async def test_add_link_with_tls(hass: HomeAssistant, tmp_path: Path) -> None:
    """Usable certificate and key files are accepted."""
    certificate, key = await hass.async_add_executor_job(self_signed_certificate, tmp_path)
    result = await _start_link_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        LINK_FORM | {"tls_certificate": str(certificate), "tls_key": str(key)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["tls_certificate"] == str(certificate)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(result["result"].entry_id)


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, **changes: Any
) -> FlowResult[Any, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    assert result["step_id"] == "reconfigure_grid_link"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(result, **changes)
    )
    await hass.async_block_till_done()
    return result


async def test_reconfigure_capacities_in_place(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """New capacities apply at once, without restarting the server."""
    result = await _reconfigure(hass, link_entry, import_capacity_kw=400)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert _coordinator(link_entry) is link
    assert link.site.import_capacity_kw == 400.0
    assert link_entry.data == LINK_DATA | {"import_capacity_kw": 400.0}


async def test_reconfigure_connection_restarts(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """New connection settings restart the link; invalid ones are shown first."""
    result = await _reconfigure(hass, link_entry, allowed_clients=["not an address"])
    assert result["errors"] == {"allowed_clients": "invalid_allowed_clients"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form_input(result, allowed_clients=["127.0.0.1", "127.0.0.2"])
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert link_entry.state is ConfigEntryState.LOADED
    restarted = _coordinator(link_entry)
    assert restarted is not link
    assert restarted.settings.allowed_clients == ("127.0.0.1", "127.0.0.2")


async def test_options(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Every IOA is an option (defaults from the point map); a new map restarts the link."""
    result = await hass.config_entries.options.async_init(link_entry.entry_id)
    assert result["step_id"] == "grid_link"
    defaults = form_input(result)
    assert defaults["command_points"]["ioa_min_set_p"] == 2001
    assert defaults["feedback_points"]["ioa_interface_version"] == 12100
    assert defaults["measurement_points"]["ioa_q_other_production"] == 13107
    assert defaults["measurement_period"] == 30
    assert defaults["test_mode"] is True

    duplicate = form_input(
        result, command_points=defaults["command_points"] | {"ioa_min_set_p": 2002.0}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], duplicate)
    assert result["errors"] == {"base": "invalid_point_map"}
    assert result["description_placeholders"] == {"points": "ioa_min_set_p, ioa_max_set_p"}

    moved = form_input(
        result,
        measurement_period=15.0,
        command_points=defaults["command_points"] | {"ioa_min_set_p": 3001.0},
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], moved)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert link_entry.options["ioa_min_set_p"] == 3001
    assert link_entry.options["measurement_period"] == 15
    await hass.async_block_till_done()
    restarted = _coordinator(link_entry)
    assert restarted is not link
    assert restarted.model.command_at(3001) is Command.MIN_SET_P
    assert restarted.options.measurement_period.total_seconds() == 15


async def _asset_flow(
    hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]
) -> FlowResult[Any, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_ASSET), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    return await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)


NEW_ASSET = {
    "name": "Heat pump",
    "category": "flexible_consumption",
    "installed_power_kw": 12,
    "p_sensor": "sensor.heat_pump_power",
    "invert_sign": True,
}


async def test_add_and_edit_asset_in_place(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Assets are added and edited without restarting the link."""
    server = link.server
    result = await _asset_flow(hass, link_entry, NEW_ASSET)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _coordinator(link_entry) is link
    assert link.server is server
    heat_pump = next(asset for asset in link.site.assets if asset.name == "Heat pump")
    assert heat_pump.installed_power_kw == 12.0
    assert heat_pump.invert_sign

    result = await hass.config_entries.subentries.async_init(
        (link_entry.entry_id, SUBENTRY_ASSET),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": heat_pump.asset_id},
    )
    assert form_input(result)["p_sensor"] == "sensor.heat_pump_power"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        form_input(
            result,
            installed_power_kw=15,
            name="Heat pumps",
            q_sensor="sensor.heat_pump_reactive_power",
        ),
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert link.server is server
    heat_pumps = next(asset for asset in link.site.assets if asset.asset_id == heat_pump.asset_id)
    assert (heat_pumps.name, heat_pumps.installed_power_kw) == ("Heat pumps", 15.0)
    assert heat_pumps.q_sensor == "sensor.heat_pump_reactive_power"

    hass.config_entries.async_remove_subentry(link_entry, heat_pump.asset_id)
    await hass.async_block_till_done()
    assert len(link.site.assets) == 4
    assert link.server is server


async def test_an_asset_added_while_the_link_starts_is_taken(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An asset added while the link (re)starts, after it took its assets and before it
    listens for changes (as a script adding assets right after new options does), is taken."""
    start = GridLinkCoordinator.async_start

    async def start_while_an_asset_is_added(coordinator: GridLinkCoordinator) -> None:
        if coordinator is not link:
            result = await _asset_flow(hass, link_entry, NEW_ASSET)
            assert result["type"] is FlowResultType.CREATE_ENTRY
        await start(coordinator)

    monkeypatch.setattr(GridLinkCoordinator, "async_start", start_while_an_asset_is_added)
    assert await hass.config_entries.async_reload(link_entry.entry_id)
    await hass.async_block_till_done()
    restarted = _coordinator(link_entry)
    assert restarted is not link
    assert "Heat pump" in [asset.name for asset in restarted.site.assets]
    assets = hass.states.get("sensor.grid_operator_link_assets")
    assert assets is not None
    assert "Heat pump" in assets.attributes["assets"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"p_sensor": PV_POWER}, {"p_sensor": "sensor_in_use"}),
        ({"p_sensor": "sensor.heat_pump_energy"}, {"p_sensor": "unsupported_unit"}),
        ({"q_sensor": "sensor.heat_pump_energy"}, {"q_sensor": "unsupported_unit"}),
        ({"name": "  "}, {"name": "name_required"}),
        ({"installed_power_kw": 0}, {"installed_power_kw": "positive_required"}),
        ({"installed_power_kw": None}, {"installed_power_kw": "positive_required"}),
    ],
)
async def test_asset_errors(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A P sensor serves one asset only; sensors must be powers; a name is needed."""
    hass.states.async_set("sensor.heat_pump_energy", "3", {"unit_of_measurement": "kWh"})
    asset = {key: value for key, value in (NEW_ASSET | changes).items() if value is not None}
    result = await _asset_flow(hass, link_entry, asset)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_the_link_device_shows_its_assets(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """The link's device page counts the assets it controls and links to where one is added."""
    assets = entity_id(hass, link_entry, "sensor", "assets")
    state = hass.states.get(assets)
    assert state is not None
    assert state.state == "4"
    assert state.attributes["friendly_name"] == "Grid operator link Assets"
    device = entry_device(hass, link_entry.entry_id, link.device_unique_id)
    assert device.configuration_url == "homeassistant://config/integrations/integration/grid_ems"

    result = await _asset_flow(hass, link_entry, NEW_ASSET)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    state = hass.states.get(assets)
    assert state is not None
    assert state.state == "5"
    assert "Heat pump" in state.attributes["assets"]


async def test_asset_form_shows_the_defaults_selected(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Installed power shows empty, "Phases" 3 and the voltage 230 V; defaults are not stored."""
    result = await hass.config_entries.subentries.async_init(
        (link_entry.entry_id, SUBENTRY_ASSET), context={"source": SOURCE_USER}
    )
    shown = form_input(result)
    assert "installed_power_kw" not in shown
    assert shown["control"] == {"phases": "3", "phase_voltage": 230.0}

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form_input(result) | NEW_ASSET
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "control" not in result["data"]


async def test_asset_keeps_its_own_sensor_when_edited(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Editing an asset does not count its own P sensor as in use."""
    charger = next(asset for asset in link.site.assets if asset.p_sensor == CHARGER_POWER)
    result = await hass.config_entries.subentries.async_init(
        (link_entry.entry_id, SUBENTRY_ASSET),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": charger.asset_id},
    )
    values = form_input(result, installed_power_kw=66)
    assert values[CONF_P_SENSOR] == CHARGER_POWER
    assert values[CONF_CATEGORY] == "ev"
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], values)
    assert result["reason"] == "reconfigure_successful"
    subentry = link_entry.subentries[charger.asset_id]
    assert subentry.data[CONF_INSTALLED_POWER] == 66.0


async def test_link_timer_options(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """The IEC-104 timers, windows and connection policy are options; a change restarts."""
    result = await hass.config_entries.options.async_init(link_entry.entry_id)
    defaults = form_input(result)
    assert defaults["link"] == {
        "when_full": "replace",
        "link_lost_after": 30,
        "t0": 30.0,
        "t1": 15.0,
        "t2": 10.0,
        "t3": 20.0,
        "k": 12,
        "w": 8,
    }
    for invalid in ({"t2": 15.0}, {"w": 13.0}, {"link_lost_after": 20.0}):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], form_input(result, link=defaults["link"] | invalid)
        )
        assert result["errors"] == {"link": "invalid_link_timers"}, invalid
    prescribed = defaults["link"] | {
        "when_full": "refuse",
        "link_lost_after": 60.0,
        "t1": 20.0,
        "t2": 5.0,
        "t3": 40.0,
        "k": 24.0,
        "w": 16.0,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form_input(result, link=prescribed)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert link_entry.options["link"]["k"] == 24
    await hass.async_block_till_done()
    restarted = _coordinator(link_entry)
    assert restarted is not link
    assert restarted.server is not None
    assert restarted.server.parameters == ProtocolParameters(
        k=24, w=16, t0=30.0, t1=20.0, t2=5.0, t3=40.0
    )
    assert restarted.server.when_full is WhenFull.REFUSE
    assert restarted.server.supervision == 60.0
