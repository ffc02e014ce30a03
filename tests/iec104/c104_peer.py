"""lib60870 (through c104) as the reference controlling station, bridged to asyncio.

c104 checks its callbacks' annotations at run time, so this module keeps real annotations
(no `from __future__ import annotations`). Its threads report into asyncio queues with
`call_soon_threadsafe`; its blocking calls run in worker threads.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import c104

from .conftest import COMMON_ADDRESS, TIMEOUT


@dataclass(frozen=True)
class Report:
    """A monitor value the c104 client received."""

    ioa: int
    type: str
    cause: str
    value: Any


def some[T](value: T | None) -> T:
    """c104 returns None where it refuses; a test cannot go on then."""
    assert value is not None, "c104 refused the request"
    return value


class C104Client:
    """A c104 client with one connection to our server and station 100."""

    def __init__(
        self,
        port: int,
        *,
        init: c104.Init = c104.Init.NONE,
        t2_seconds: int | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self.client = c104.Client(tick_rate_ms=50, command_timeout_ms=int(TIMEOUT * 1000))
        self.connection = some(self.client.add_connection(ip="127.0.0.1", port=port, init=init))
        if t2_seconds is not None:
            self.connection.protocol_parameters.confirm_interval = t2_seconds
        self.station = some(self.connection.add_station(common_address=COMMON_ADDRESS))
        self.reports: asyncio.Queue[Report] = asyncio.Queue()
        self.initialized: asyncio.Queue[str] = asyncio.Queue()
        self.raw_received: asyncio.Queue[str] = asyncio.Queue()
        self.raw_sent: asyncio.Queue[str] = asyncio.Queue()

        def on_initialized(client: c104.Client, station: c104.Station, cause: c104.Coi) -> None:
            self._put(self.initialized, cause.name)

        def on_receive_raw(connection: c104.Connection, data: bytes) -> None:
            self._put(self.raw_received, c104.explain_bytes(apdu=data))

        def on_send_raw(connection: c104.Connection, data: bytes) -> None:
            self._put(self.raw_sent, c104.explain_bytes(apdu=data))

        self.client.on_station_initialized(callable=on_initialized)
        self.connection.on_receive_raw(callable=on_receive_raw)
        self.connection.on_send_raw(callable=on_send_raw)

    def _put[T](self, queue: asyncio.Queue[T], item: T) -> None:
        self._loop.call_soon_threadsafe(queue.put_nowait, item)

    def monitor(self, ioa: int, point_type: c104.Type) -> c104.Point:
        """Declare a monitor point whose received values go to `reports`."""
        point = some(self.station.add_point(io_address=ioa, type=point_type))

        def on_receive(
            point: c104.Point, previous_info: c104.Information, message: c104.IncomingMessage
        ) -> c104.ResponseState:
            report = Report(point.io_address, message.type.name, message.cot.name, point.value)
            self._put(self.reports, report)
            return c104.ResponseState.NONE

        point.on_receive(callable=on_receive)
        return point

    def command(self, ioa: int, point_type: c104.Type) -> c104.Point:
        """Declare a command point of this type."""
        return some(self.station.add_point(io_address=ioa, type=point_type))

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    async def call[T](self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking c104 call in a worker thread."""
        return await asyncio.to_thread(function, *args, **kwargs)

    async def transmit(self, point: c104.Point, value: Any) -> bool:
        """Send a command; True when the server confirmed it positively."""
        point.value = value
        confirmed: bool = await asyncio.to_thread(point.transmit, cause=c104.Cot.ACTIVATION)
        return confirmed

    @staticmethod
    async def next_matching(queue: "asyncio.Queue[str]", text: str) -> str:
        """Wait for the next queued explanation that contains `text`."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                item = await queue.get()
                if text in item:
                    return item

    async def next_report(self) -> Report:
        async with asyncio.timeout(TIMEOUT):
            return await self.reports.get()
