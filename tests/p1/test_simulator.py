"""The P1 simulator: its telegrams, power profiles, faults and commands."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from custom_components.grid_ems.p1 import P1Reader, RejectReason, TelegramReceived, TelegramRejected
from simulators.p1 import (
    Fault,
    MeterConfig,
    P1Simulator,
    PowerProfile,
    SimulatedMeter,
    add_arguments,
    apply_command,
    demo_power,
    p1_timestamp,
)


class Clock:
    """A clock moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday, day tariff

    def __call__(self) -> datetime:
        return self.now


class Client:
    """A TCP client of the simulator feeding a P1Reader."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stream = reader
        self.writer = writer
        self.reader = P1Reader()
        self.events: list[TelegramReceived | TelegramRejected] = []

    async def read_until(self, count: int) -> None:
        """Read until ``count`` events (telegrams or rejections) have come."""
        async with asyncio.timeout(5):
            while len(self.events) < count:
                self.events += self.reader.feed(await self.stream.read(4096))


@pytest.fixture(name="simulator")
async def simulator_fixture() -> AsyncIterator[P1Simulator]:
    """A simulator sending on demand."""
    simulator = P1Simulator(SimulatedMeter(clock=Clock()), interval=None)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture(name="client")
async def client_fixture(simulator: P1Simulator) -> AsyncIterator[Client]:
    """One connected client."""
    client = Client(*await asyncio.open_connection("127.0.0.1", simulator.port))
    await simulator.wait_for_clients(1)
    yield client
    client.writer.close()
    await client.writer.wait_closed()


def test_meter_follows_power_and_integrates_energy() -> None:
    """Import power raises the day-tariff import register by power x time."""
    clock = Clock()
    meter = SimulatedMeter(power=PowerProfile.parse("3600:1800"), clock=clock)
    reader = P1Reader()
    reader.feed(meter.telegram(), clock.now.timestamp())
    first = reader.feed(meter.telegram(), clock.now.timestamp())[0]
    clock.now += timedelta(hours=1)  # the counter guard allows what an hour can deliver
    second = reader.feed(meter.telegram(), clock.now.timestamp())[0]
    assert isinstance(first, TelegramReceived)
    assert isinstance(second, TelegramReceived)
    before = first.telegram.decimal("1-0:1.8.1")
    after = second.telegram.decimal("1-0:1.8.1")
    assert before is not None
    assert after is not None
    assert after - before == Decimal("1.800")
    assert second.telegram.net_power == Decimal(1800)
    assert second.telegram.text("0-0:96.14.0") == "0001"


def test_meter_export_night_tariff_and_quarter_peak() -> None:
    """Export at night goes to the low tariff; a busy quarter-hour becomes the month's peak."""
    clock = Clock()
    clock.now = datetime(2025, 3, 8, 23, 0, tzinfo=UTC)  # Sunday, low tariff
    meter = SimulatedMeter(MeterConfig(phases=1, gas=False, water=False), clock=clock)
    meter.override_power = -2000
    reader = P1Reader()
    start = reader.feed(meter.telegram(), clock.now.timestamp())[0]
    clock.now += timedelta(minutes=15)
    meter.override_power = 12000
    reader.feed(meter.telegram(), clock.now.timestamp())
    clock.now += timedelta(minutes=15)
    end = reader.feed(meter.telegram(), clock.now.timestamp())[0]
    assert isinstance(start, TelegramReceived)
    assert isinstance(end, TelegramReceived)
    exported = [event.telegram.decimal("1-0:2.8.2") or Decimal(0) for event in (start, end)]
    assert exported[1] - exported[0] == Decimal("0.500")
    assert end.telegram.text("0-0:96.14.0") == "0002"
    peak = end.telegram.captured("1-0:1.6.0")
    assert peak is not None
    assert peak.value == Decimal("12.000")
    assert end.telegram.decimal("1-0:1.4.0") == Decimal("0.000")
    assert "1-0:52.7.0" not in end.telegram.objects
    assert end.telegram.mbus == {}


def test_power_profile() -> None:
    """Steps repeat when looping and hold the last value otherwise; specs and files both work."""
    profile = PowerProfile.parse("10:1500, 5:-3000")
    assert [profile(t) for t in (0, 9.9, 10, 14.9, 15, 26)] == [
        1500,
        1500,
        -3000,
        -3000,
        1500,
        -3000,
    ]
    once = PowerProfile.parse("10:1500,5:-3000", loop=False)
    assert once(100) == -3000
    assert -2100 < demo_power(450) < 3000


def test_power_profile_file(tmp_path: Path) -> None:
    """One step per line, comments allowed."""
    path = tmp_path / "profile.txt"
    path.write_text("# morning\n60:500\n60:-2500  # sunny\n", "utf-8")
    assert PowerProfile.parse(str(path)).steps[1].watts == -2500


@pytest.mark.parametrize("spec", ["", "10", "0:100", "x:1"])
def test_power_profile_invalid(spec: str) -> None:
    """Malformed steps are refused."""
    with pytest.raises(ValueError, match="invalid power profile"):
        PowerProfile.parse(spec)


def test_timestamp_summer_and_winter() -> None:
    """Belgian local time with the DST flag."""
    assert p1_timestamp(datetime(2025, 7, 1, 10, 0, tzinfo=UTC)) == "250701120000S"
    assert p1_timestamp(datetime(2025, 1, 1, 10, 0, tzinfo=UTC)) == "250101110000W"


async def test_faults_on_demand(simulator: P1Simulator, client: Client) -> None:
    """Each fault ends up as the reader must see it."""
    await simulator.send_telegram()
    await simulator.send_telegram(Fault.CORRUPT)
    await simulator.send_telegram(Fault.SPLIT)
    await simulator.send_telegram(Fault.CONCATENATED)
    await simulator.send_telegram(Fault.GARBAGE)
    await simulator.send_telegram(Fault.TRUNCATED)
    await simulator.send_telegram()
    await client.read_until(8)
    assert [
        event.reason if isinstance(event, TelegramRejected) else "ok" for event in client.events
    ] == [
        "ok",
        RejectReason.CRC_MISMATCH,
        "ok",
        "ok",
        "ok",
        "ok",
        RejectReason.TRUNCATED,
        "ok",
    ]
    assert client.reader.stats.garbage_bytes > 0
    assert simulator.sent == 7


async def test_periodic_telegrams_with_faults() -> None:
    """The ticker sends by itself and injects the configured faults in turn."""
    simulator = P1Simulator(
        SimulatedMeter(clock=Clock()), interval=0.01, faults=[Fault.CORRUPT], fault_every=2
    )
    await simulator.start()
    try:
        client = Client(*await asyncio.open_connection("127.0.0.1", simulator.port))
        await client.read_until(6)
        client.writer.close()
    finally:
        await simulator.stop()
    assert client.reader.stats.crc_errors >= 2
    assert client.reader.stats.telegrams >= 2


async def test_commands(simulator: P1Simulator, client: Client) -> None:
    """The stdin commands of the command line."""
    assert await apply_command(simulator, "power 2500") == "power held at 2500 W"
    assert await apply_command(simulator, "corrupt") == "sent a corrupt telegram"
    await client.read_until(1)
    assert await apply_command(simulator, "power auto") == "power follows the profile"
    assert simulator.meter.override_power is None
    assert (await apply_command(simulator, "power lots")).startswith("not a number")
    assert "commands:" in await apply_command(simulator, "help")
    assert (await apply_command(simulator, "dance")).startswith("unknown command")
    assert await apply_command(simulator, "drop") == "connections dropped"
    await simulator.wait_for_clients(0)


def test_command_line_options() -> None:
    """The options of ``python -m simulators p1``."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--fault", "split", "--fault", "garbage", "--heat"])
    assert args.port == 0
    assert args.fault == ["split", "garbage"]
    assert args.heat
    assert args.run.__name__ == "run"
