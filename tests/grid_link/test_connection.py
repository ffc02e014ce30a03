"""Who may connect, how the connection shows in Home Assistant, and start-up failures."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import freezegun.api
import pytest
from freezegun import freeze_time
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.grid_link import (
    CONF_ALLOWED_CLIENTS,
    CONF_LINK,
    CONF_LINK_LOST_AFTER,
    CONF_MEASUREMENT_PERIOD,
    CONF_T3,
    CONF_TLS_CERTIFICATE,
    CONF_TLS_KEY,
    CONF_WHEN_FULL,
    GridLinkCoordinator,
)
from custom_components.grid_ems.iec104 import CauseOfTransmission
from custom_components.grid_ems.iec104.apci import UFrame, UFunction, encode_apdu
from custom_components.grid_ems.netflex import Command
from simulators.rtu import RtuSimulator

from .conftest import self_signed_certificate, setup_link, state_of, wait_for_snapshot

STARTDT_ACT = encode_apdu(UFrame(UFunction.STARTDT_ACT))
STARTDT_CON = encode_apdu(UFrame(UFunction.STARTDT_CON))
STOPDT_ACT = encode_apdu(UFrame(UFunction.STOPDT_ACT))


async def _refused(port: int, **kwargs: Any) -> bool:
    """Connect with a plain socket: True if the server closes without answering STARTDT."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, **kwargs)
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


async def _started(port: int, **kwargs: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain client that started data transfer (the end of initialization is left unread)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, **kwargs)
    writer.write(STARTDT_ACT)
    assert await asyncio.wait_for(reader.readexactly(6), 5) == STARTDT_CON
    return reader, writer


@pytest.mark.usefixtures("enable_all_entities")
async def test_a_reconnecting_rtu_replaces_its_old_connection(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """The RTU connects again while its old connection is open (half-open): served at once."""
    old_reader, old_writer = await _started(link.port)  # then silent: half-open
    await wait_for_snapshot(link, lambda snapshot: snapshot.link_up)
    assert state_of(hass, link_entry, "sensor", "rtu_replaced") == "unknown"
    loop = asyncio.get_running_loop()
    connecting_at = loop.time()
    _, writer = await _started(link.port)
    new_port = writer.get_extra_info("sockname")[1]
    await wait_for_snapshot(
        link, lambda snapshot: snapshot.rtu is not None and snapshot.rtu.port == new_port
    )
    assert loop.time() - connecting_at < 1.0
    await asyncio.wait_for(_read_to_end(old_reader), 5)  # the old connection is closed
    await hass.async_block_till_done()
    assert link.data.link_up
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "on"
    assert state_of(hass, link_entry, "sensor", "rtu_replaced") != "unknown"
    closed = [record for record in link.connections if record.event == "closed"]
    assert closed[-1].replaced_by == "127.0.0.1"
    assert closed[-1].reason == f"replaced by a new connection from 127.0.0.1:{new_port}"
    assert link.server is not None
    assert link.server.connection_count == 1
    old_writer.close()
    writer.close()


async def _read_to_end(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(4096):
            pass


async def test_another_address_never_displaces_the_rtu(
    link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """A client outside the allow-list (127.0.0.2) is refused; the RTU carries on."""
    assert await _refused(link.port, local_addr=("127.0.0.2", 0))
    confirmation = await rtu.command(Command.TEST, True)
    assert confirmation.positive
    assert [record.event for record in link.connections] == ["connected", "started"]


async def test_refusing_when_full(hass: HomeAssistant, link_entry: MockConfigEntry) -> None:
    """With the "refuse" option a second connection waits until the first is closed."""
    hass.config_entries.async_update_entry(
        link_entry, options={**link_entry.options, CONF_LINK: {CONF_WHEN_FULL: "refuse"}}
    )
    link = await setup_link(hass, link_entry)
    async with RtuSimulator(port=link.port) as rtu:
        assert await _refused(link.port)
        assert (await rtu.command(Command.TEST, True)).positive
    assert await hass.config_entries.async_unload(link_entry.entry_id)


async def test_a_stopped_rtu_counts_as_link_lost(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> None:
    """STOPDT for longer than the link-lost time: RTU connected off, enforcement link down."""
    hass.config_entries.async_update_entry(
        link_entry,
        options={**link_entry.options, CONF_LINK: {CONF_LINK_LOST_AFTER: 1, CONF_T3: 0.5}},
    )
    link = await setup_link(hass, link_entry)
    enforcement = link_entry.runtime_data.enforcement
    _, writer = await _started(link.port)
    await wait_for_snapshot(link, lambda snapshot: snapshot.rtu is not None)
    assert link.data.link_up
    assert enforcement.link_up
    writer.write(STOPDT_ACT)
    await wait_for_snapshot(link, lambda snapshot: not snapshot.link_up)
    assert link.data.rtu is not None  # still connected
    assert link.data.rtu.lost == "data transfer stopped for 1 s"
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "off"
    assert not enforcement.link_up
    writer.write(STARTDT_ACT)
    await wait_for_snapshot(link, lambda snapshot: snapshot.link_up)
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "binary_sensor", "rtu_connected") == "on"
    events = [record.event for record in link.connections]
    assert events[-4:] == ["stopped", "lost", "started", "restored"]
    writer.close()
    assert await hass.config_entries.async_unload(link_entry.entry_id)


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


async def test_moving_the_system_clock_by_hours_changes_nothing_in_the_link(
    hass: HomeAssistant, link_entry: MockConfigEntry
) -> None:
    """The link's timers run on the monotonic clock: a clock set hours ahead or back (a clock
    synchronization) neither loses the RTU nor closes its connection."""
    hass.config_entries.async_update_entry(
        link_entry,
        options={
            **link_entry.options,
            CONF_MEASUREMENT_PERIOD: 1,
            CONF_LINK: {CONF_LINK_LOST_AFTER: 2, CONF_T3: 0.5},
        },
    )
    link = await setup_link(hass, link_entry)
    async with RtuSimulator(port=link.port) as rtu:
        await wait_for_snapshot(link, lambda snapshot: snapshot.link_up)
        connections = len(link.connections)
        for jump in (timedelta(hours=5), timedelta(hours=-7)):
            with system_clock_moved(jump):
                # Three measurement periods: beyond t3 and the link-lost time.
                target = _periodic_reports(rtu) + 3 * 14
                await rtu.wait_for(lambda: _periodic_reports(rtu) >= target)  # noqa: B023
                assert (await rtu.command(Command.TEST, True)).positive
                assert link.data.link_up
        assert len(link.connections) == connections  # no lost, closed or new connection
    assert await hass.config_entries.async_unload(link_entry.entry_id)


@contextlib.contextmanager
def system_clock_moved(by: timedelta) -> Iterator[None]:
    """The system clock set `by` ahead or back, as a clock synchronization does: the wall clock
    (``time.time``, ``datetime``) moves, the monotonic clock (the event loop's) does not."""
    with (
        freeze_time(dt_util.utcnow() + by, tick=True),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(time, "monotonic", freezegun.api.real_monotonic)
        patch.setattr(time, "monotonic_ns", freezegun.api.real_monotonic_ns)
        yield


def _periodic_reports(rtu: RtuSimulator) -> int:
    return sum(report.cause is CauseOfTransmission.PERIODIC for report in rtu.reports)
