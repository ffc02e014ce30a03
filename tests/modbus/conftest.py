"""Fixtures for the Modbus tests: simulators on ephemeral ports, stopped after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import pytest

from custom_components.grid_ems.modbus.client import (
    ModbusDevice,
    ModbusHostConnection,
    RetryPolicy,
)
from custom_components.grid_ems.modbus.profile import DeviceProfile
from simulators.modbus import DeviceModel, ModbusSimulator

type StartSimulator = Callable[..., Awaitable[ModbusSimulator]]
type Connect = Callable[..., ModbusDevice]

# Short deadlines keep the fault tests fast, yet stay well above the event-loop stalls of a
# loaded test machine; the behaviour does not depend on the values.
FAST = RetryPolicy(timeout=0.5, retries=1, backoff=0.01, backoff_max=0.02)


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock for the device models."""
    return FakeClock()


@pytest.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    """Start a simulator for some unit ids on a free port."""
    started: list[ModbusSimulator] = []

    async def start(
        units: Mapping[int, DeviceModel],
        *,
        unknown_unit_exception: int | None = 0x0B,
        silent_units: frozenset[int] = frozenset(),
        max_clients: int | None = None,
    ) -> ModbusSimulator:
        simulator = ModbusSimulator(
            units,
            unknown_unit_exception=unknown_unit_exception,
            silent_units=silent_units,
            max_clients=max_clients,
        )
        await simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        await simulator.stop()


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Bind a profile to a unit on a simulator, over a connection closed after the test."""
    connections: list[ModbusHostConnection] = []

    def make(
        simulator: ModbusSimulator,
        profile: DeviceProfile,
        unit_id: int = 1,
        policy: RetryPolicy = FAST,
        connection: ModbusHostConnection | None = None,
    ) -> ModbusDevice:
        if connection is None:
            connection = ModbusHostConnection(simulator.host, simulator.port)
            connections.append(connection)
        return ModbusDevice(connection, profile, unit_id, policy)

    yield make
    for connection in connections:
        connection.close()
