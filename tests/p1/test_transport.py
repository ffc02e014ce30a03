"""The serialx transport against the P1 simulator over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from custom_components.grid_ems.p1 import (
    Backoff,
    P1Connection,
    P1Event,
    P1NoTelegramError,
    P1PortError,
    PortState,
    TelegramReceived,
    TelegramRejected,
    read_telegram,
)
from simulators.p1 import Fault, P1Simulator

FAST = Backoff(initial=0.01, maximum=0.05)


@pytest.fixture(name="simulator")
async def simulator_fixture() -> AsyncIterator[P1Simulator]:
    """A simulated meter that sends only on demand."""
    simulator = P1Simulator(interval=None)
    await simulator.start()
    yield simulator
    await simulator.stop()


class Recorder:
    """Collects a connection's events and states and lets a test wait for them."""

    def __init__(self) -> None:
        self.events: list[P1Event] = []
        self.states: list[PortState] = []
        self._changed = asyncio.Condition()

    def on_event(self, event: P1Event) -> None:
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._notify())

    def on_state(self, state: PortState) -> None:
        self.states.append(state)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(condition)

    def telegrams(self) -> int:
        return sum(isinstance(event, TelegramReceived) for event in self.events)


def _url(simulator: P1Simulator) -> str:
    return f"socket://127.0.0.1:{simulator.port}"


@contextlib.asynccontextmanager
async def running(connection: P1Connection) -> AsyncIterator[None]:
    """Run the connection as a task for the duration of the block, then cancel it."""
    task = asyncio.create_task(connection.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_connection_reads_and_reconnects(simulator: P1Simulator) -> None:
    """Telegrams flow; a dropped link is reopened by itself and telegrams flow again."""
    recorder = Recorder()
    connection = P1Connection(_url(simulator), recorder.on_event, recorder.on_state, backoff=FAST)
    async with running(connection):
        await simulator.wait_for_clients(1)
        await recorder.wait_for(lambda: PortState.CONNECTED in recorder.states)
        await simulator.send_telegram()
        await recorder.wait_for(lambda: recorder.telegrams() == 1)
        simulator.drop_connections()
        await recorder.wait_for(lambda: connection.connects == 2)
        await simulator.wait_for_clients(1)
        await simulator.send_telegram(Fault.CORRUPT)
        await simulator.send_telegram()
        await recorder.wait_for(lambda: recorder.telegrams() == 2)
    assert recorder.states == [
        PortState.CONNECTING,
        PortState.CONNECTED,
        PortState.DISCONNECTED,
        PortState.CONNECTING,
        PortState.CONNECTED,
    ]
    assert [type(event) for event in recorder.events] == [
        TelegramReceived,
        TelegramRejected,
        TelegramReceived,
    ]
    assert connection.reader.stats.crc_errors == 1
    await simulator.wait_for_clients(0)


async def test_silent_port_is_reopened(simulator: P1Simulator) -> None:
    """No valid telegram within the timeout closes the link (half-open TCP) and reopens it."""
    recorder = Recorder()
    connection = P1Connection(
        _url(simulator), recorder.on_event, recorder.on_state, telegram_timeout=0.2, backoff=FAST
    )
    async with running(connection):
        await simulator.wait_for_clients(1)
        # Telegrams keep the link open past the timeout.
        for _ in range(3):
            await simulator.send_telegram()
            await recorder.wait_for(lambda: recorder.telegrams() > 0)
        await recorder.wait_for(lambda: connection.connects >= 2)
    assert PortState.DISCONNECTED in recorder.states


async def test_unreachable_port_retries_with_backoff(simulator: P1Simulator) -> None:
    """A port that cannot be opened is retried; it never counts as connected."""
    url = _url(simulator)
    await simulator.stop()
    recorder = Recorder()
    connection = P1Connection(url, recorder.on_event, recorder.on_state, backoff=FAST)
    async with running(connection):
        await recorder.wait_for(lambda: recorder.states.count(PortState.CONNECTING) >= 3)
    assert PortState.CONNECTED not in recorder.states
    assert connection.connects == 0


def test_backoff_is_exponential_and_capped() -> None:
    """1, 2, 4 ... up to the maximum."""
    backoff = Backoff(initial=1.0, maximum=30.0)
    assert [backoff.delay(attempt) for attempt in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_read_telegram(simulator: P1Simulator) -> None:
    """The first valid telegram is returned, after corrupted ones."""
    task = asyncio.create_task(read_telegram(_url(simulator), 5))
    await simulator.wait_for_clients(1)
    await simulator.send_telegram(Fault.CORRUPT)
    await simulator.send_telegram(Fault.GARBAGE)
    telegram = await task
    assert telegram.text("0-0:96.1.1") == "3153414733313031303231363035"
    await simulator.wait_for_clients(0)


async def test_read_telegram_only_bad_ones(simulator: P1Simulator) -> None:
    """Only rejected telegrams before the deadline: P1NoTelegramError says how many."""
    task = asyncio.create_task(read_telegram(_url(simulator), 0.3))
    await simulator.wait_for_clients(1)
    await simulator.send_telegram(Fault.CORRUPT)
    await simulator.send_telegram(Fault.CORRUPT)
    with pytest.raises(P1NoTelegramError) as raised:
        await task
    assert raised.value.rejected == 2


async def test_read_telegram_nothing(simulator: P1Simulator) -> None:
    """Silence: no telegram, none rejected."""
    with pytest.raises(P1NoTelegramError) as raised:
        await read_telegram(_url(simulator), 0.1)
    assert raised.value.rejected == 0


async def test_read_telegram_closed_by_peer(simulator: P1Simulator) -> None:
    """The reader hangs up before sending anything."""
    task = asyncio.create_task(read_telegram(_url(simulator), 5))
    await simulator.wait_for_clients(1)
    simulator.drop_connections()
    with pytest.raises(P1PortError, match="port closed"):
        await task


@pytest.mark.parametrize(
    "url", ["socket://127.0.0.1:1", "socket://127.0.0.1", "/dev/grid-ems-no-such-port"]
)
async def test_read_telegram_cannot_open(url: str) -> None:
    """Nothing listening, no port in the URL, no such device."""
    with pytest.raises(P1PortError):
        await read_telegram(url, 5)


async def test_read_telegram_connect_deadline(simulator: P1Simulator) -> None:
    """The deadline also bounds opening the port."""
    with pytest.raises(P1PortError, match="no connection within"):
        await read_telegram(_url(simulator), 0)
