"""Fixtures of the grid operator link tests: a link on an ephemeral port and the RTU simulator."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import DOMAIN, EntryKind
from custom_components.grid_ems.grid_link import (
    CONF_ALLOWED_CLIENTS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_TEST_MODE,
    GridLinkCoordinator,
    GridLinkData,
    LinkSnapshot,
)
from simulators.rtu import RtuSimulator
from tests import simulated_site
from tests.ha_fixtures import enable_all_entities, snapshot  # noqa: F401  (fixtures, used by name)
from tests.simulated_site import asset

LINK_DATA: dict[str, Any] = {
    **simulated_site.LINK_DATA,
    CONF_ALLOWED_CLIENTS: ["127.0.0.1"],
    CONF_IMPORT_CAPACITY: 200.0,
    CONF_EXPORT_CAPACITY: 150.0,
}
"""The simulated site's link, with an allow-list and other capacities."""

LINK_ENTRY_ID = "01JGRIDLINK0000000000000000"
"""Fixed, so that snapshots of unique ids do not change."""

PV_POWER = "sensor.pv_power"
PV_REACTIVE = "sensor.pv_reactive_power"
CARPORT_POWER = "sensor.carport_pv_power"
BATTERY_POWER = "sensor.battery_power"
CHARGER_POWER = "sensor.charger_power"


ASSETS = [
    asset("PV roof", "solar", 100.0, PV_POWER, q_sensor=PV_REACTIVE),
    asset("PV carport", "solar", 50.0, CARPORT_POWER),
    # The battery's meter counts charging positive.
    asset("Battery", "storage", 50.0, BATTERY_POWER, invert_sign=True),
    asset("Chargers", "ev", 44.0, CHARGER_POWER, invert_sign=True),
]


@pytest.fixture
def link_options() -> dict[str, Any]:
    """Options of the link entry: test mode on for the simulation service."""
    return {CONF_TEST_MODE: True}


@pytest.fixture
def link_entry(hass: HomeAssistant, link_options: dict[str, Any]) -> MockConfigEntry:
    """The grid operator link entry with the site's four assets, added to hass."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=LINK_ENTRY_ID,
        title="Grid operator link (Fluvius)",
        unique_id=EntryKind.GRID_LINK.value,
        data=LINK_DATA,
        options=link_options,
        subentries_data=ASSETS,
    )
    entry.add_to_hass(hass)
    return entry


async def setup_link(hass: HomeAssistant, entry: MockConfigEntry) -> GridLinkCoordinator:
    """Set the link entry up and return its coordinator."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    data = entry.runtime_data
    assert isinstance(data, GridLinkData)
    return data.coordinator


@pytest.fixture
async def link(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> AsyncIterator[GridLinkCoordinator]:
    """The link, listening on an ephemeral port; unloaded at the end."""
    yield await setup_link(hass, link_entry)
    if link_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(link_entry.entry_id)


@pytest.fixture
async def rtu(link: GridLinkCoordinator) -> AsyncIterator[RtuSimulator]:
    """The RTU simulator, connected, interrogated and clock synchronized."""
    async with RtuSimulator(port=link.port) as simulator:
        yield simulator


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    """Entity id of one of the link's entities, found by its unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert found is not None, key
    return found


def state_of(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    """Current state of one of the link's entities."""
    state = hass.states.get(entity_id(hass, entry, platform, key))
    assert state is not None, key
    return state.state


async def wait_for_snapshot(
    link: GridLinkCoordinator, condition: Callable[[LinkSnapshot], bool]
) -> None:
    """Wait until the link's snapshot meets the condition."""
    changed = asyncio.Event()
    unsubscribe = link.async_add_listener(changed.set)
    try:
        async with asyncio.timeout(5):
            while not condition(link.data):
                changed.clear()
                await changed.wait()
    finally:
        unsubscribe()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "grid-ems-test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_file = directory / "link.pem"
    key_file = directory / "link.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file
