"""Admission when the connection slot is taken: the RTU that reconnects is always served."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from custom_components.grid_ems.iec104 import (
    CommandResult,
    ConnectionState,
    ProcessCommand,
    Server,
)
from custom_components.grid_ems.iec104.apci import UFunction
from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    CauseOfTransmission,
    SetpointCommand,
    TypeID,
)

from .conftest import COMMON_ADDRESS, FAST, RawClient, Recorder, ServerFactory

type Connect = Callable[..., Awaitable[RawClient]]
OTHER_ADDRESS = ("127.0.0.2", 0)
"""Loopback, but not the RTU's 127.0.0.1: an address outside the allow-list."""


async def started(server: Server, connect: Connect, **kwargs: object) -> RawClient:
    client = await connect(server, **kwargs)
    assert (await client.start()).type_id is TypeID.M_EI_NA_1
    return client


async def test_an_immediate_reconnect_is_served_every_time(
    make_server: ServerFactory,
    connect: Connect,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await make_server(allowed_clients=["127.0.0.1"])
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            client = await started(server, connect)
            # Close and connect again at once, before the server has seen the close.
            client.writer.close()
        await recorder.wait_for(ConnectionState.STARTED, 100)
    assert "Refused" not in caplog.text
    assert server.connection_count == 1


async def test_a_half_open_connection_is_replaced_at_once(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server(allowed_clients=["127.0.0.1"])
    old = await started(server, connect)  # from now on it never answers: half-open
    loop = asyncio.get_running_loop()
    connecting_at = loop.time()
    new = await started(server, connect)
    closed = await recorder.wait_for(ConnectionState.CLOSED)
    assert loop.time() - connecting_at < 1.0
    old_peer = old.writer.get_extra_info("sockname")
    new_peer = new.writer.get_extra_info("sockname")
    assert closed.peer == old_peer
    assert closed.reason == f"replaced by a new connection from {new_peer[0]}:{new_peer[1]}"
    assert closed.replaced_by == new_peer
    # The old connection's end comes before the new one's start, so a listener never sees two.
    states = [(event.peer, event.state) for event in recorder.events]
    assert states.index((old_peer, ConnectionState.CLOSED)) < states.index(
        (new_peer, ConnectionState.CONNECTED)
    )
    assert await old.closed_by_server()
    assert server.connection_count == 1
    assert server.started_connection_count == 1


async def test_a_client_not_allowed_never_displaces_the_rtu(
    make_server: ServerFactory,
    connect: Connect,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = await make_server(allowed_clients=["127.0.0.1"])
    rtu = await started(server, connect)
    intruder = await connect(server, local_addr=OTHER_ADDRESS)
    assert await intruder.closed_by_server()
    assert "Refused IEC 104 connection from 127.0.0.2: address not in the allow-list" in (
        caplog.text
    )
    await rtu.send_u(UFunction.TESTFR_ACT)
    assert (await rtu.read_frame()).function is UFunction.TESTFR_CON  # type: ignore[union-attr]
    assert ConnectionState.CLOSED not in [event.state for event in recorder.events]
    assert server.connection_count == 1


async def test_stopped_data_transfer_past_the_supervision_time_is_lost(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server(parameters=FAST, supervision=0.5)
    client = await started(server, connect)
    await client.send_u(UFunction.STOPDT_ACT)
    assert (await client.read_frame()).function is UFunction.STOPDT_CON  # type: ignore[union-attr]
    await recorder.wait_for(ConnectionState.STOPPED)
    lost = await recorder.wait_for(ConnectionState.LOST)
    assert lost.reason == "data transfer stopped for 0.5 s"
    await client.send_u(UFunction.STARTDT_ACT)
    await recorder.wait_for(ConnectionState.RESTORED)
    assert server.connection_count == 1


async def test_a_command_being_carried_out_completes_when_its_connection_is_replaced(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    """The handler may already be enforcing and saving the command: it is not cut short."""
    handling, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow(_request: ProcessCommand) -> CommandResult:
        handling.set()
        await release.wait()
        finished.set()
        return CommandResult.accept()

    server = await make_server(on_command=slow)
    old = await started(server, connect)
    setpoint = ASDU(
        TypeID.C_SE_NC_1,
        CauseOfTransmission.ACTIVATION,
        COMMON_ADDRESS,
        (SetpointCommand(2001, 42.5),),
    )
    await old.send_asdu(setpoint)
    await asyncio.wait_for(handling.wait(), 5)
    await started(server, connect)
    await recorder.wait_for(ConnectionState.CLOSED)
    release.set()
    await asyncio.wait_for(finished.wait(), 5)
    assert await old.closed_by_server()
    assert server.connection_count == 1
