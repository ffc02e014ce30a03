"""Thin asyncio transport of the P1 port, over ``serialx``.

One port string covers both kinds of P1 connection: a serial device (``/dev/serial/by-id/...``,
opened at 115200 baud 8N1) or a network P1 reader / ser2net (``socket://host:port``); serialx
dispatches on it. The bytes go straight into a sans-IO ``P1Reader``.

``P1Connection`` keeps the port open: when it is lost, or no valid telegram arrived for
``telegram_timeout`` seconds (a half-open TCP connection, a meter that stopped sending), it closes
the port and opens it again after a capped exponential backoff. ``read_telegram`` opens the port
once and waits for one telegram (used to validate a port before it is saved).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final, override

import serialx

from .reader import P1Event, P1Reader, TelegramReceived
from .validate import MAX_POWER_KW

if TYPE_CHECKING:
    from collections.abc import Callable

    from .telegram import Telegram

_LOGGER = logging.getLogger(__name__)

BAUDRATE: Final = 115200
DEFAULT_TELEGRAM_TIMEOUT: Final = 10.0
"""The meter sends a telegram every second; ten missed in a row means the link is gone."""


class PortState(StrEnum):
    """State of the link to the P1 port."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class P1PortError(Exception):
    """The P1 port could not be opened."""


class P1NoTelegramError(Exception):
    """No valid telegram arrived in time; ``rejected`` telegrams came but were not accepted."""

    def __init__(self, rejected: int) -> None:
        """Record how many telegrams were received but rejected."""
        super().__init__(f"no valid P1 telegram ({rejected} rejected)")
        self.rejected = rejected


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential delays between reconnection attempts, in seconds."""

    initial: float = 1.0
    maximum: float = 60.0

    def delay(self, attempt: int) -> float:
        """Return the delay before attempt ``attempt`` (1 for the first retry)."""
        return min(self.maximum, self.initial * 2.0 ** (attempt - 1))


class _PortProtocol(asyncio.Protocol):
    """Feeds what the port receives into the reader; reports events and the end of the link."""

    def __init__(
        self,
        reader: P1Reader,
        on_event: Callable[[P1Event], None],
        closed: asyncio.Future[Exception | None],
    ) -> None:
        self._reader = reader
        self._on_event = on_event
        self._closed = closed

    @override
    def data_received(self, data: bytes) -> None:
        for event in self._reader.feed(data, time.time()):
            self._on_event(event)

    @override
    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(exc)


async def _open(url: str, protocol: _PortProtocol) -> serialx.BaseSerialTransport:
    """Open the port (serial device or ``socket://``) at 115200 baud 8N1."""
    try:
        transport, _ = await serialx.create_serial_connection(
            asyncio.get_running_loop(),
            lambda: protocol,
            url,
            baudrate=BAUDRATE,
            parity=serialx.Parity.NONE,
            stopbits=serialx.StopBits.ONE,
            byte_size=8,
        )
    except (OSError, ValueError) as err:
        raise P1PortError(str(err) or type(err).__name__) from err
    return transport


async def _close(transport: serialx.BaseSerialTransport) -> None:
    # Wait for the close so that a serial device is free again before it is reopened.
    transport.close()
    await transport.wait_closed()


async def read_telegram(url: str, wait: float) -> Telegram:
    """Open ``url``, return its first valid telegram and close it.

    Raises ``P1PortError`` when the port cannot be opened and ``P1NoTelegramError`` when no valid
    telegram arrives within ``wait`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    reader = P1Reader()
    first: asyncio.Future[Telegram] = loop.create_future()
    closed: asyncio.Future[Exception | None] = loop.create_future()

    def on_event(event: P1Event) -> None:
        if isinstance(event, TelegramReceived) and not first.done():
            first.set_result(event.telegram)

    try:
        async with asyncio.timeout_at(deadline):
            transport = await _open(url, _PortProtocol(reader, on_event, closed))
    except TimeoutError:
        raise P1PortError(f"no connection within {wait} s") from None
    try:
        async with asyncio.timeout_at(deadline):
            await asyncio.wait((first, closed), return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        raise P1NoTelegramError(reader.stats.crc_errors + reader.stats.dropped) from None
    finally:
        await _close(transport)
    if first.done():
        return first.result()
    raise P1PortError(f"port closed: {closed.result()}")


class P1Connection:
    """Keeps one P1 port open and reports its telegrams and its state."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[P1Event], None],
        on_state: Callable[[PortState], None],
        *,
        telegram_timeout: float = DEFAULT_TELEGRAM_TIMEOUT,
        backoff: Backoff = Backoff(),  # frozen, so one default instance is safe
        max_power_kw: Decimal = MAX_POWER_KW,
    ) -> None:
        """Prepare the connection, for a grid connection of up to ``max_power_kw``."""
        self.reader = P1Reader(max_power_kw=max_power_kw)
        self.state = PortState.DISCONNECTED
        self.connects = 0
        """How many times the port was opened."""
        self._url = url
        self._on_event = on_event
        self._on_state = on_state
        self._telegram_timeout = telegram_timeout
        self._backoff = backoff
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_telegram = 0.0

    async def run(self) -> None:
        """Keep the port open until cancelled; run it as a task."""
        attempt = 0
        while True:
            if attempt:
                await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1
            self._set_state(PortState.CONNECTING)
            if await self._serve():
                attempt = 1
            self._set_state(PortState.DISCONNECTED)

    async def _serve(self) -> bool:
        """Open the port and read until it is lost; return whether a telegram came through."""
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[Exception | None] = loop.create_future()
        received_before = self.reader.stats.telegrams
        try:
            transport = await _open(self._url, _PortProtocol(self.reader, self._event, closed))
        except P1PortError as err:
            _LOGGER.debug("Cannot open P1 port %s: %s", self._url, err)
            return False
        self.connects += 1
        self._set_state(PortState.CONNECTED)
        self._last_telegram = loop.time()
        self._watchdog = loop.call_at(
            self._last_telegram + self._telegram_timeout, self._watch, closed
        )
        try:
            reason = await closed
            _LOGGER.debug("P1 port %s closed: %s", self._url, reason)
        finally:
            self._watchdog.cancel()
            await _close(transport)
        return self.reader.stats.telegrams > received_before

    def _event(self, event: P1Event) -> None:
        if isinstance(event, TelegramReceived):
            self._last_telegram = asyncio.get_running_loop().time()
        self._on_event(event)

    def _watch(self, closed: asyncio.Future[Exception | None]) -> None:
        """Close the link when no valid telegram came for ``telegram_timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = self._last_telegram + self._telegram_timeout
        if loop.time() < deadline:
            self._watchdog = loop.call_at(deadline, self._watch, closed)
        elif not closed.done():  # the port may have closed just before
            closed.set_result(TimeoutError(f"no valid telegram for {self._telegram_timeout} s"))

    def _set_state(self, state: PortState) -> None:
        self.state = state
        self._on_state(state)
