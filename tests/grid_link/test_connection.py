"""Who may connect, how the connection shows in Home Assistant, and start-up failures."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.grid_link import (
    CONF_ALLOWED_CLIENTS,
    CONF_TLS_CERTIFICATE,
    CONF_TLS_KEY,
    GridLinkCoordinator,
)
from custom_components.grid_ems.iec104.apci import UFrame, UFunction, encode_apdu
from custom_components.grid_ems.netflex import Command
from simulators.rtu import RtuSimulator

from .conftest import self_signed_certificate, setup_link, state_of, wait_for_snapshot

STARTDT_ACT = encode_apdu(UFrame(UFunction.STARTDT_ACT))


async def _refused(port: int) -> bool:
    """Connect with a plain socket: True if the server closes without answering STARTDT."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(STARTDT_ACT)
            await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(6), 5)
        except ConnectionError:
            answer = b""
        return answer == b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_connection_state_and_clock(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """RTU connected while it is; the clock sync's offset from HA's clock is recorded."""
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "off"
    assert state_of(hass, link_entry, "sensor", "clock_offset") == "unknown"
    async with RtuSimulator(port=link.port):
        await hass.async_block_till_done()
        assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "on"
        assert link.data.rtu is not None
        assert link.data.rtu.started
        assert abs(float(state_of(hass, link_entry, "sensor", "clock_offset"))) < 5
        assert link.data.clock_synced_at is not None
    await wait_for_snapshot(link, lambda snapshot: snapshot.rtu is None)
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "off"


async def test_second_connection_refused(link: GridLinkCoordinator, rtu: RtuSimulator) -> None:
    """While the RTU is connected, another client is turned away; the RTU carries on."""
    assert await _refused(link.port)
    confirmation = await rtu.command(Command.TEST, True)
    assert confirmation.positive


async def test_address_not_allowed(hass: HomeAssistant, link_entry: MockConfigEntry) -> None:
    """Only the allowed RTU addresses may connect: 127.0.0.1 is refused when only .2 is."""
    hass.config_entries.async_update_entry(
        link_entry, data={**link_entry.data, CONF_ALLOWED_CLIENTS: ["127.0.0.2"]}
    )
    link = await setup_link(hass, link_entry)
    assert await _refused(link.port)
    assert link.data.rtu is None
    assert await hass.config_entries.async_unload(link_entry.entry_id)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


async def test_port_in_use_retries(
    hass: HomeAssistant, link_entry: MockConfigEntry, busy_port: int
) -> None:
    """A port in use leaves the entry retrying, with the reason."""
    hass.config_entries.async_update_entry(link_entry, data={**link_entry.data, "port": busy_port})
    assert not await hass.config_entries.async_setup(link_entry.entry_id)
    assert link_entry.state is ConfigEntryState.SETUP_RETRY
    assert link_entry.reason is not None
    assert str(busy_port) in link_entry.reason


async def test_unusable_tls_files(
    hass: HomeAssistant, link_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """Missing TLS files are a configuration error, not something to retry."""
    hass.config_entries.async_update_entry(
        link_entry,
        data={
            **link_entry.data,
            CONF_TLS_CERTIFICATE: str(tmp_path / "missing.pem"),
            CONF_TLS_KEY: str(tmp_path / "missing.key"),
        },
    )
    assert not await hass.config_entries.async_setup(link_entry.entry_id)
    assert link_entry.state is ConfigEntryState.SETUP_ERROR


async def test_tls_link(hass: HomeAssistant, link_entry: MockConfigEntry, tmp_path: Path) -> None:
    """With certificate and key the link speaks TLS: the RTU starts data transfer over it."""
    certificate_file, key_file = await hass.async_add_executor_job(
        self_signed_certificate, tmp_path
    )
    hass.config_entries.async_update_entry(
        link_entry,
        data={
            **link_entry.data,
            CONF_TLS_CERTIFICATE: str(certificate_file),
            CONF_TLS_KEY: str(key_file),
        },
    )
    link = await setup_link(hass, link_entry)
    client_context = ssl.create_default_context(cafile=str(certificate_file))
    reader, writer = await asyncio.open_connection("127.0.0.1", link.port, ssl=client_context)
    writer.write(STARTDT_ACT)
    assert await asyncio.wait_for(reader.readexactly(6), 5) == encode_apdu(
        UFrame(UFunction.STARTDT_CON)
    )
    writer.close()
    await writer.wait_closed()
    assert await hass.config_entries.async_unload(link_entry.entry_id)
