"""Fuzzing over real TCP: random and mutated frames must not take the server down.

Bounded for CI: a fixed seed and a fixed number of connections, each answered or closed by
the server. Afterwards lib60870's client must still complete STARTDT and a GI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime

import c104
import pytest

from custom_components.grid_ems.iec104 import ConnectionState, ProtocolParameters, Server
from custom_components.grid_ems.iec104.apci import (
    IFrame,
    SFrame,
    UFrame,
    UFunction,
    encode_apdu,
)
from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    CauseOfTransmission,
    ClockSyncCommand,
    DoubleCommand,
    DoublePointValue,
    InformationObject,
    InterrogationCommand,
    ReadCommand,
    SetpointCommand,
    SingleCommand,
    TypeID,
    encode_asdu,
)

from .c104_peer import C104Client
from .conftest import TIMEOUT, Recorder, ServerFactory

SEED = 104
CONNECTIONS = 150
MOMENT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

REQUESTS: list[tuple[TypeID, InformationObject]] = [
    (TypeID.C_IC_NA_1, InterrogationCommand()),
    (TypeID.C_SC_NA_1, SingleCommand(1001, True)),
    (TypeID.C_SC_TA_1, SingleCommand(1001, True, time=MOMENT)),
    (TypeID.C_DC_NA_1, DoubleCommand(1101, DoublePointValue.ON)),
    (TypeID.C_SE_NC_1, SetpointCommand(2001, 50.0)),
    (TypeID.C_SE_TC_1, SetpointCommand(2001, 50.0, time=MOMENT)),
    (TypeID.C_CS_NA_1, ClockSyncCommand(MOMENT)),
    (TypeID.C_RD_NA_1, ReadCommand(12001)),
]
VALID_ASDUS = [
    encode_asdu(ASDU(type_id, CauseOfTransmission.ACTIVATION, 100, (obj,)))
    for type_id, obj in REQUESTS
]
STARTDT = encode_apdu(UFrame(UFunction.STARTDT_ACT))


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, insert, delete or truncate a few octets."""
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        operation = rng.randrange(4)
        position = rng.randrange(len(mutated) + 1)
        if operation == 0 and mutated:
            mutated[min(position, len(mutated) - 1)] ^= 1 << rng.randrange(8)
        elif operation == 1:
            mutated.insert(position, rng.randrange(256))
        elif operation == 2 and mutated:
            del mutated[min(position, len(mutated) - 1)]
        else:
            mutated = mutated[:position]
    return bytes(mutated)


def session_bytes(rng: random.Random) -> bytes:
    """A plausible session (STARTDT then numbered frames) or noise, possibly mutated."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randint(1, 600))
    frames = [STARTDT]
    for send_seq in range(rng.randint(1, 20)):
        choice = rng.randrange(10)
        if choice < 7:
            asdu = rng.choice(VALID_ASDUS)
            if kind == 2:
                asdu = mutate(asdu, rng) or asdu
            frames.append(encode_apdu(IFrame(send_seq, 0, asdu[:249])))
        elif choice < 9:
            frames.append(encode_apdu(SFrame(rng.randrange(32768))))
        else:
            frames.append(encode_apdu(UFrame(rng.choice(list(UFunction)))))
    stream = b"".join(frames)
    return mutate(stream, rng) if kind == 3 else stream


async def fuzz_once(server: Server, data: bytes, rng: random.Random) -> None:
    """Send the bytes in random chunks, then hang up; tolerate the server hanging up first."""
    host, port = server.address
    reader, writer = await asyncio.open_connection(host, port)
    try:
        position = 0
        while position < len(data):
            size = rng.randint(1, 64)
            writer.write(data[position : position + size])
            await writer.drain()
            position += size
        if rng.random() < 0.5:
            # Read whatever the server answers until it has nothing more to say quickly.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(65536), 0.05)
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest.mark.parametrize("seed", [SEED])
async def test_server_survives_fuzzing_and_serves_a_good_client(
    make_server: ServerFactory,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    server = await make_server(parameters=ProtocolParameters(t1=2.0, t2=1.0, t3=1.5))
    rng = random.Random(seed)
    async with asyncio.timeout(60):
        for _ in range(CONNECTIONS):
            await fuzz_once(server, session_bytes(rng), rng)
        await recorder.wait_for(ConnectionState.CLOSED, count=CONNECTIONS)
    assert server.connection_count == 0
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
    reasons = {event.reason for event in recorder.events if event.reason}
    # The corpus reaches the framing, sequence and peer-close paths.
    assert any("framing error" in reason for reason in reasons)
    assert any("sequence error" in reason for reason in reasons)
    assert "closed by peer" in reasons

    client = C104Client(server.address[1])
    client.monitor(12001, c104.Type.M_ME_NC_1)
    try:
        client.start()
        await recorder.wait_for(ConnectionState.CONNECTED, count=CONNECTIONS + 1)
        assert await client.call(client.connection.unmute)
        async with asyncio.timeout(TIMEOUT):
            assert await client.initialized.get() == "LOCAL_POWER_ON"
        assert await client.call(client.connection.interrogation, common_address=100)
        assert (await client.next_report()).value == 100.0
    finally:
        await asyncio.to_thread(client.stop)
