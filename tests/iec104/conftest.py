"""Fixtures of the IEC 60870-5-104 tests: a server on an ephemeral port and raw clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from custom_components.grid_ems.iec104 import (
    CommandResult,
    ConnectionEvent,
    ConnectionState,
    ProcessCommand,
    ProtocolParameters,
    RefusedCommand,
    Server,
    TypeID,
)
from custom_components.grid_ems.iec104.apci import (
    APDU,
    FrameReader,
    IFrame,
    SFrame,
    UFrame,
    UFunction,
    encode_apdu,
)
from custom_components.grid_ems.iec104.asdu import ASDU, decode_asdu, encode_asdu

TIMEOUT = 5.0
COMMON_ADDRESS = 100
"""Station of the test server; its points follow the Netflex layout in miniature."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The protocol stack needs no Home Assistant instance (overrides the root fixture)."""


@dataclass
class Recorder:
    """Collects what the server reports, with events to await."""

    commands: list[ProcessCommand] = field(default_factory=list)
    events: list[ConnectionEvent] = field(default_factory=list)
    refused: list[RefusedCommand] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    result: CommandResult = field(default_factory=CommandResult.accept)

    async def on_command(self, request: ProcessCommand) -> CommandResult:
        self.commands.append(request)
        return self.result

    def on_command_refused(self, refused: RefusedCommand) -> None:
        self.refused.append(refused)

    def on_connection_event(self, event: ConnectionEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def wait_for(self, state: ConnectionState, count: int = 1) -> ConnectionEvent:
        """Wait until `count` events of this state arrived; return the last one."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                matching = [event for event in self.events if event.state is state]
                if len(matching) >= count:
                    return matching[count - 1]
                self.changed.clear()
                await self.changed.wait()


FAST = ProtocolParameters(t0=2.0, t1=1.0, t2=0.2, t3=0.4)
"""Short timers so timeout behaviour shows within a test."""

type ServerFactory = Callable[..., Awaitable[Server]]


@pytest.fixture
def recorder() -> Recorder:
    """What the test server reports."""
    return Recorder()


@pytest.fixture
async def make_server(recorder: Recorder) -> AsyncIterator[ServerFactory]:
    """Start servers on 127.0.0.1:0 with the Netflex-like station 100; stop them afterwards."""
    servers: list[Server] = []

    async def make(**options: object) -> Server:
        options.setdefault("on_command", recorder.on_command)
        options.setdefault("on_connection_event", recorder.on_connection_event)
        options.setdefault("on_command_refused", recorder.on_command_refused)
        server = Server("127.0.0.1", 0, **options)  # type: ignore[arg-type]
        station = server.add_station(COMMON_ADDRESS)
        station.add_single_point(11001)
        station.add_double_point(11101, time_tagged=True)
        station.add_float_point(12001, value=100.0)
        station.add_command_point(1001, [TypeID.C_SC_NA_1, TypeID.C_SC_TA_1])
        station.add_command_point(1101, [TypeID.C_DC_NA_1, TypeID.C_DC_TA_1])
        station.add_command_point(2001, [TypeID.C_SE_NC_1, TypeID.C_SE_TC_1])
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


class RawClient:
    """A minimal controlling station over asyncio streams, speaking our own codec."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._frames = FrameReader()
        self._pending: list[APDU] = []
        self.send_seq = 0
        self.recv_seq = 0

    @classmethod
    async def connect(cls, server: Server, **kwargs: object) -> RawClient:
        host, port = server.address
        reader, writer = await asyncio.open_connection(host, port, **kwargs)  # type: ignore[arg-type]
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_u(self, function: UFunction) -> None:
        await self.send_raw(encode_apdu(UFrame(function)))

    async def send_asdu(self, asdu: ASDU | bytes) -> None:
        raw = asdu if isinstance(asdu, bytes) else encode_asdu(asdu)
        await self.send_raw(encode_apdu(IFrame(self.send_seq, self.recv_seq, raw)))
        self.send_seq = (self.send_seq + 1) % 32768

    async def read_frame(self) -> APDU:
        """Next APDU from the server (I-frames are counted for acknowledgement)."""
        async with asyncio.timeout(TIMEOUT):
            while not self._pending:
                data = await self.reader.read(4096)
                if not data:
                    raise ConnectionError("server closed the connection")
                self._pending.extend(self._frames.feed(data))
        frame = self._pending.pop(0)
        if isinstance(frame, IFrame):
            self.recv_seq = (frame.send_seq + 1) % 32768
        return frame

    async def read_asdu(self) -> ASDU:
        """Next ASDU, skipping S-frames and answering TESTFR act; acknowledges it."""
        while True:
            frame = await self.read_frame()
            if isinstance(frame, IFrame):
                await self.send_raw(encode_apdu(SFrame(self.recv_seq)))
                return decode_asdu(frame.asdu)
            if isinstance(frame, UFrame) and frame.function is UFunction.TESTFR_ACT:
                await self.send_u(UFunction.TESTFR_CON)

    async def start(self) -> ASDU:
        """STARTDT; return the end of initialization that follows the confirmation."""
        await self.send_u(UFunction.STARTDT_ACT)
        assert await self.read_frame() == UFrame(UFunction.STARTDT_CON)
        return await self.read_asdu()

    async def closed_by_server(self) -> bool:
        """Read until the server closes the connection; True when it did."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                try:
                    if not await self.reader.read(4096):
                        return True
                except ConnectionError:
                    return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[RawClient]]]:
    """Open raw clients to a server; close them afterwards."""
    clients: list[RawClient] = []

    async def open_client(server: Server, **kwargs: object) -> RawClient:
        client = await RawClient.connect(server, **kwargs)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()
