"""Asyncio server over real TCP on 127.0.0.1, driven by a raw controlling station."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest

from custom_components.grid_ems.iec104 import (
    CauseOfTransmission,
    ClockSyncRequest,
    CommandResult,
    ConnectionState,
    DoubleMonitorPoint,
    DoublePointValue,
    ProcessCommand,
    Quality,
    RefusedCommand,
    Server,
    TypeID,
    WhenFull,
)
from custom_components.grid_ems.iec104.apci import IFrame, SFrame, UFrame, UFunction, encode_apdu
from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    ClockSyncCommand,
    DoubleCommand,
    DoublePoint,
    EndOfInitialization,
    InformationObject,
    InterrogationCommand,
    MeasuredFloat,
    ReadCommand,
    SetpointCommand,
    SingleCommand,
    SinglePoint,
    TestCommand as LinkTestCommand,
    decode_asdu,
    encode_asdu,
)
from custom_components.grid_ems.iec104.server import _Connection

from .conftest import COMMON_ADDRESS, FAST, RawClient, Recorder, ServerFactory

type Connect = Callable[..., Awaitable[RawClient]]
MOMENT = datetime(2026, 5, 4, 3, 2, 1, 123000, tzinfo=UTC)


def request(
    type_id: TypeID,
    obj: InformationObject,
    *,
    cause: CauseOfTransmission = CauseOfTransmission.ACTIVATION,
    common_address: int = COMMON_ADDRESS,
    originator: int = 0,
) -> ASDU:
    return ASDU(type_id, cause, common_address, (obj,), originator=originator)


def reply(sent: ASDU, cause: CauseOfTransmission, *, negative: bool = False) -> ASDU:
    """The mirrored answer the standard expects."""
    return ASDU(
        sent.type_id,
        cause,
        sent.common_address,
        sent.objects,
        negative=negative,
        originator=sent.originator,
    )


GI = request(TypeID.C_IC_NA_1, InterrogationCommand())
SETPOINT = request(TypeID.C_SE_NC_1, SetpointCommand(2001, 42.5), originator=7)


def double_point(server: Server) -> DoubleMonitorPoint:
    point = server.stations[COMMON_ADDRESS].monitor_points[11101]
    assert isinstance(point, DoubleMonitorPoint)
    return point


async def started(server: Server, connect: Connect) -> RawClient:
    client = await connect(server)
    end_of_init = await client.start()
    assert end_of_init == ASDU(
        TypeID.M_EI_NA_1, CauseOfTransmission.INITIALIZED, COMMON_ADDRESS, (EndOfInitialization(),)
    )
    return client


async def interrogation_replies(client: RawClient) -> list[ASDU]:
    """ASDUs up to and including the next ACT_TERM or negative confirmation."""
    replies = [await client.read_asdu()]
    while (
        replies[-1].cause is not CauseOfTransmission.ACTIVATION_TERMINATION
        and not replies[-1].negative
    ):
        replies.append(await client.read_asdu())
    return replies


async def test_startdt_end_of_initialization_and_events(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server()
    client = await started(server, connect)
    await recorder.wait_for(ConnectionState.STARTED)
    assert [event.state for event in recorder.events] == [
        ConnectionState.CONNECTED,
        ConnectionState.STARTED,
    ]
    assert recorder.events[0].peer[0] == "127.0.0.1"
    assert server.connection_count == 1
    assert server.started_connection_count == 1
    # A second STARTDT on the same connection sends no second end of initialization.
    await client.send_u(UFunction.STOPDT_ACT)
    assert await client.read_frame() == UFrame(UFunction.STOPDT_CON)
    await recorder.wait_for(ConnectionState.STOPPED)
    assert server.started_connection_count == 0
    await client.send_u(UFunction.STARTDT_ACT)
    assert await client.read_frame() == UFrame(UFunction.STARTDT_CON)
    await client.send_asdu(GI)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON


async def test_i_frame_before_startdt_is_logged_and_ignored(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server()
    client = await connect(server)
    with caplog.at_level(logging.WARNING):
        await client.send_asdu(GI)
        # The session handles frames in order: the warning is out before STARTDT's answer.
        assert (await client.start()).type_id is TypeID.M_EI_NA_1
    assert "Ignored an I-frame received in the stopped state" in caplog.text


@pytest.mark.parametrize("common_address", [COMMON_ADDRESS, 65535])
async def test_general_interrogation(
    make_server: ServerFactory, connect: Connect, common_address: int
) -> None:
    server = await make_server()
    double_point(server).update(DoublePointValue.ON, Quality.GOOD, MOMENT)
    client = await started(server, connect)
    sent = request(
        TypeID.C_IC_NA_1, InterrogationCommand(), common_address=common_address, originator=3
    )
    await client.send_asdu(sent)
    replies = await interrogation_replies(client)
    assert replies == [
        ASDU(
            TypeID.C_IC_NA_1,
            CauseOfTransmission.ACTIVATION_CON,
            COMMON_ADDRESS,
            (InterrogationCommand(),),
            originator=3,
        ),
        ASDU(
            TypeID.M_SP_NA_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            COMMON_ADDRESS,
            (SinglePoint(11001, False),),
            originator=3,
        ),
        # The time-tagged double point answers a GI without its time tag.
        ASDU(
            TypeID.M_DP_NA_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            COMMON_ADDRESS,
            (DoublePoint(11101, DoublePointValue.ON),),
            originator=3,
        ),
        ASDU(
            TypeID.M_ME_NC_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            COMMON_ADDRESS,
            (MeasuredFloat(12001, 100.0),),
            originator=3,
        ),
        ASDU(
            TypeID.C_IC_NA_1,
            CauseOfTransmission.ACTIVATION_TERMINATION,
            COMMON_ADDRESS,
            (InterrogationCommand(),),
            originator=3,
        ),
    ]


async def test_group_interrogation_is_refused(make_server: ServerFactory, connect: Connect) -> None:
    client = await started(await make_server(), connect)
    sent = ASDU(
        TypeID.C_IC_NA_1,
        CauseOfTransmission.ACTIVATION,
        COMMON_ADDRESS,
        (InterrogationCommand(qualifier=21),),
        test=True,
    )
    await client.send_asdu(sent)
    assert await client.read_asdu() == ASDU(
        TypeID.C_IC_NA_1,
        CauseOfTransmission.ACTIVATION_CON,
        COMMON_ADDRESS,
        (InterrogationCommand(qualifier=21),),
        negative=True,
        test=True,
    )


SELECTED = request(TypeID.C_DC_NA_1, DoubleCommand(1101, DoublePointValue.ON, select=True))
SERVICES = frozenset({TypeID.C_IC_NA_1, TypeID.C_RD_NA_1, TypeID.C_CS_NA_1, TypeID.C_TS_TA_1})
"""The server's own services: their negative answers are not reported as refused commands."""


@pytest.mark.parametrize(
    ("sent", "cause"),
    [
        (request(TypeID.C_IC_NA_1, InterrogationCommand(), common_address=5), 46),
        (request(TypeID.C_IC_NA_1, InterrogationCommand(ioa=1)), 47),
        (request(TypeID.C_IC_NA_1, InterrogationCommand(ioa=1001)), 44),
        (
            request(
                TypeID.C_IC_NA_1, InterrogationCommand(), cause=CauseOfTransmission.DEACTIVATION
            ),
            45,
        ),
        (request(TypeID.C_SC_NA_1, SingleCommand(1001, True), common_address=5), 46),
        (request(TypeID.C_SC_NA_1, SingleCommand(1001, True), common_address=65535), 46),
        # No point at the IOA: unknown IOA. A point that does not take the type: unknown type.
        (request(TypeID.C_SC_NA_1, SingleCommand(9999, True)), 47),
        (request(TypeID.C_SC_NA_1, SingleCommand(11001, True)), 44),
        (request(TypeID.C_DC_NA_1, DoubleCommand(1001, DoublePointValue.ON)), 44),
        (request(TypeID.C_SE_TC_1, SetpointCommand(1101, 1.0, time=MOMENT)), 44),
        (
            request(
                TypeID.C_SE_NC_1, SetpointCommand(2001, 1.0), cause=CauseOfTransmission.SPONTANEOUS
            ),
            45,
        ),
        (request(TypeID.M_SP_NA_1, SinglePoint(1001, True)), 44),
        (request(TypeID.M_EI_NA_1, EndOfInitialization()), 44),
        (request(TypeID.C_RD_NA_1, ReadCommand(9999), cause=CauseOfTransmission.REQUEST), 47),
        (request(TypeID.C_RD_NA_1, ReadCommand(1001), cause=CauseOfTransmission.REQUEST), 44),
        (request(TypeID.C_RD_NA_1, ReadCommand(12001)), 45),
        (
            request(
                TypeID.C_RD_NA_1,
                ReadCommand(12001),
                cause=CauseOfTransmission.REQUEST,
                common_address=9,
            ),
            46,
        ),
        (request(TypeID.C_CS_NA_1, ClockSyncCommand(MOMENT), common_address=5), 46),
        (SELECTED, 7),
        (request(TypeID.C_DC_NA_1, DoubleCommand(1101, DoublePointValue.INTERMEDIATE)), 7),
        (
            request(
                TypeID.C_DC_TA_1, DoubleCommand(1101, DoublePointValue.INDETERMINATE, time=MOMENT)
            ),
            7,
        ),
    ],
    ids=lambda value: value.type_id.name if isinstance(value, ASDU) else str(value),
)
async def test_negative_confirmations(
    make_server: ServerFactory, connect: Connect, recorder: Recorder, sent: ASDU, cause: int
) -> None:
    client = await started(await make_server(), connect)
    await client.send_asdu(sent)
    assert await client.read_asdu() == reply(sent, CauseOfTransmission(cause), negative=True)
    assert recorder.commands == []
    if sent.type_id in SERVICES:
        assert recorder.refused == []
        return
    # Every refused command is reported, before its negative answer.
    [refused] = recorder.refused
    obj = sent.objects[0]
    command = obj if isinstance(obj, SingleCommand | DoubleCommand | SetpointCommand) else None
    assert refused == RefusedCommand(
        peer=refused.peer,
        common_address=sent.common_address,
        ioa=obj.ioa,
        type_id=sent.type_id,
        cause=sent.cause,
        reply_cause=CauseOfTransmission(cause),
        reason=refused.reason,
        command=command,
    )
    assert refused.peer[0] == "127.0.0.1"
    assert refused.reason
    assert refused.value == (None if command is None else command.value)
    assert refused.select is (sent is SELECTED)
    assert refused.type_name == sent.type_id.name


class Undecodable(NamedTuple):
    """An ASDU the server cannot decode, how it answers and what it reports."""

    raw: str
    cause: CauseOfTransmission
    received_cause: int
    ioa: int | None
    type_name: str


@pytest.mark.parametrize(
    "case",
    [
        Undecodable(
            "090106006400e12e0000000000", CauseOfTransmission.UNKNOWN_TYPE, 6, 12001, "type 9"
        ),
        Undecodable(
            "300106006400d10700004000", CauseOfTransmission.UNKNOWN_TYPE, 6, 2001, "type 48"
        ),
        Undecodable("ff0106006400", CauseOfTransmission.UNKNOWN_TYPE, 6, None, "type 255"),
        Undecodable(
            "2d010e006400e903000001", CauseOfTransmission.UNKNOWN_CAUSE, 14, 1001, "C_SC_NA_1"
        ),
    ],
    ids=["M_ME_NA_1", "C_SE_NA_1", "no_ioa", "cause_14"],
)
async def test_undecodable_asdus_are_answered_with_their_cause(
    make_server: ServerFactory,
    connect: Connect,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    case: Undecodable,
) -> None:
    client = await started(await make_server(), connect)
    await client.send_asdu(bytes.fromhex(case.raw))
    frame = await client.read_frame()
    assert isinstance(frame, IFrame)
    answer = bytearray.fromhex(case.raw)
    answer[2] = 0x40 | case.cause
    assert frame.asdu == bytes(answer)
    # Reported with what the header says; the value is unknown.
    [refused] = recorder.refused
    assert (refused.common_address, refused.ioa, refused.cause, refused.reply_cause) == (
        COMMON_ADDRESS,
        case.ioa,
        case.received_cause,
        case.cause,
    )
    assert (refused.type_id, refused.type_name) == (answer[0], case.type_name)
    assert (refused.command, refused.value) == (None, None)
    assert f"refused {case.type_name} (CA 100, IOA {case.ioa}): unknown" in caplog.text


async def test_refusals_are_reported_once_per_asdu(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    """Two commands in one ASDU with a wrong cause: one report, no command to show."""
    client = await started(await make_server(), connect)
    sent = ASDU(
        TypeID.C_SC_NA_1,
        CauseOfTransmission.DEACTIVATION,
        COMMON_ADDRESS,
        (SingleCommand(1001, True), SingleCommand(1002, True)),
    )
    await client.send_asdu(sent)
    assert await client.read_asdu() == reply(sent, CauseOfTransmission.UNKNOWN_CAUSE, negative=True)
    [refused] = recorder.refused
    assert (refused.ioa, refused.command, refused.reply_cause) == (
        1001,
        None,
        CauseOfTransmission.UNKNOWN_CAUSE,
    )


async def test_refusal_handler_errors_are_contained(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(refused: RefusedCommand) -> None:
        raise RuntimeError("audit bug")

    client = await started(await make_server(on_command_refused=broken), connect)
    await client.send_asdu(SELECTED)
    assert await client.read_asdu() == reply(
        SELECTED, CauseOfTransmission.ACTIVATION_CON, negative=True
    )
    assert "Command refusal handler failed" in caplog.text
    assert "audit bug" in caplog.text


async def test_refusals_without_handler(make_server: ServerFactory, connect: Connect) -> None:
    client = await started(await make_server(on_command_refused=None), connect)
    await client.send_asdu(SELECTED)
    assert await client.read_asdu() == reply(
        SELECTED, CauseOfTransmission.ACTIVATION_CON, negative=True
    )


@pytest.mark.parametrize(
    "raw",
    [
        "2d0206006400e9030001",  # two objects announced, one present
        "2d0206006400e9030001ea030000",  # two commands in one ASDU
    ],
)
async def test_malformed_asdus_are_ignored(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    client = await started(await make_server(), connect)
    with caplog.at_level(logging.WARNING):
        await client.send_asdu(bytes.fromhex(raw))
        await client.send_asdu(GI)
        assert (await client.read_asdu()).type_id is TypeID.C_IC_NA_1  # still served
    assert "ignor" in caplog.text


@pytest.mark.parametrize(
    "case",
    [
        (SETPOINT, CommandResult.accept(), [(CauseOfTransmission.ACTIVATION_CON, False)]),
        (
            SETPOINT,
            CommandResult.accept(terminate=True),
            [
                (CauseOfTransmission.ACTIVATION_CON, False),
                (CauseOfTransmission.ACTIVATION_TERMINATION, False),
            ],
        ),
        (SETPOINT, CommandResult.reject(), [(CauseOfTransmission.ACTIVATION_CON, True)]),
        (
            request(TypeID.C_SC_TA_1, SingleCommand(1001, True, time=MOMENT)),
            CommandResult.accept(),
            [(CauseOfTransmission.ACTIVATION_CON, False)],
        ),
        (
            request(TypeID.C_DC_TA_1, DoubleCommand(1101, DoublePointValue.OFF, time=MOMENT)),
            CommandResult.accept(),
            [(CauseOfTransmission.ACTIVATION_CON, False)],
        ),
        (
            request(TypeID.C_SE_TC_1, SetpointCommand(2001, -5.0, time=MOMENT)),
            CommandResult.accept(),
            [(CauseOfTransmission.ACTIVATION_CON, False)],
        ),
    ],
)
async def test_commands_reach_the_handler(
    make_server: ServerFactory,
    connect: Connect,
    recorder: Recorder,
    case: tuple[ASDU, CommandResult, list[tuple[CauseOfTransmission, bool]]],
) -> None:
    sent, recorder.result, answers = case
    client = await started(await make_server(), connect)
    await client.send_asdu(sent)
    for cause, negative in answers:
        assert await client.read_asdu() == reply(sent, cause, negative=negative)
    [command] = recorder.commands
    obj = sent.objects[0]
    assert isinstance(obj, SingleCommand | DoubleCommand | SetpointCommand)
    assert command.command == obj
    assert (command.ioa, command.value, command.time) == (obj.ioa, obj.value, obj.time)
    assert (command.common_address, command.type_id) == (COMMON_ADDRESS, sent.type_id)
    assert (command.originator, command.test) == (sent.originator, False)
    assert command.peer[0] == "127.0.0.1"


async def test_feedback_is_sent_spontaneously_after_the_confirmation(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server()
    feedback = server.stations[COMMON_ADDRESS].add_float_point(12002, time_tagged=True)

    async def on_command(command: ProcessCommand) -> CommandResult:
        feedback.update(float(command.value), timestamp=MOMENT)
        return CommandResult.accept(feedback=[feedback])

    server.on_command = on_command
    client = await started(server, connect)
    await client.send_asdu(SETPOINT)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON
    assert await client.read_asdu() == ASDU(
        TypeID.M_ME_TF_1,
        CauseOfTransmission.SPONTANEOUS,
        COMMON_ADDRESS,
        (MeasuredFloat(12002, 42.5, time=MOMENT),),
    )


async def test_commands_are_answered_in_order(make_server: ServerFactory, connect: Connect) -> None:
    release = asyncio.Event()

    async def slow(command: ProcessCommand) -> CommandResult:
        await release.wait()
        return CommandResult.accept()

    server = await make_server(on_command=slow)
    client = await started(server, connect)
    await client.send_asdu(SETPOINT)
    await client.send_asdu(GI)
    read = asyncio.ensure_future(client.read_asdu())
    done, _ = await asyncio.wait([read], timeout=FAST.t2)
    assert not done  # the GI waits behind the unfinished command
    release.set()
    assert (await read).type_id is TypeID.C_SE_NC_1
    assert (await client.read_asdu()).type_id is TypeID.C_IC_NA_1


async def test_a_request_to_an_idle_connection_is_answered_from_its_data(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    """Eager dispatch: the handler runs within the callback that received the request."""
    server = await make_server()
    client = await started(server, connect)
    [connection] = server._connections
    assert isinstance(connection, _Connection)
    frame = encode_apdu(IFrame(client.send_seq, client.recv_seq, encode_asdu(SETPOINT)))
    client.send_seq += 1
    connection.data_received(frame)
    assert [command.value for command in recorder.commands] == [42.5]
    assert await client.read_asdu() == reply(SETPOINT, CauseOfTransmission.ACTIVATION_CON)


async def test_requests_are_answered_one_at_a_time_in_order(
    make_server: ServerFactory, connect: Connect
) -> None:
    """Requests in one segment and in a later one, while a command waits: answered in order.

    The handler never runs for two commands at once.
    """
    gate = asyncio.Event()
    running: list[float] = []
    overlapping: list[list[float]] = []

    async def handler(command: ProcessCommand) -> CommandResult:
        running.append(float(command.value))
        overlapping.append(list(running))
        if command.value == 1.0:
            await gate.wait()
        await asyncio.sleep(0)  # every command waits for something, as a saved state does
        running.remove(float(command.value))
        return CommandResult.accept()

    server = await make_server(on_command=handler, parameters=FAST)
    client = await started(server, connect)
    [connection] = server._connections
    assert isinstance(connection, _Connection)
    first, second, third = (
        request(TypeID.C_SE_NC_1, SetpointCommand(2001, value)) for value in (1.0, 2.0, 3.0)
    )
    frames = []
    for asdu in (first, GI, second):
        frames.append(encode_apdu(IFrame(client.send_seq, client.recv_seq, encode_asdu(asdu))))
        client.send_seq += 1
    await client.send_raw(b"".join(frames))
    await client.send_asdu(third)
    # The server acknowledges all four after t2: the last three wait behind the first command.
    assert await client.read_frame() == SFrame(4)
    assert len(connection._requests) == 3
    gate.set()
    answers: list[tuple[TypeID, float | None]] = []
    while len(answers) < 4 or answers[-1] != (TypeID.C_SE_NC_1, 3.0):
        asdu = await client.read_asdu()
        if asdu.cause is CauseOfTransmission.ACTIVATION_CON:
            obj = asdu.objects[0]
            answers.append((asdu.type_id, obj.value if isinstance(obj, SetpointCommand) else None))
    assert answers == [
        (TypeID.C_SE_NC_1, 1.0),
        (TypeID.C_IC_NA_1, None),
        (TypeID.C_SE_NC_1, 2.0),
        (TypeID.C_SE_NC_1, 3.0),
    ]
    assert overlapping == [[1.0], [2.0], [3.0]]


async def _raising(command: ProcessCommand) -> CommandResult:
    raise RuntimeError("handler bug")


async def _hanging(command: ProcessCommand) -> CommandResult:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _wrong_type(command: ProcessCommand) -> CommandResult:
    return True  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("handler", "logged"),
    [
        (None, "No command handler"),
        (_raising, "handler bug"),
        (_hanging, "Command handler failed"),
        (_wrong_type, "returned True"),
    ],
)
async def test_failing_handlers_get_a_negative_confirmation(
    make_server: ServerFactory,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    handler: object,
    logged: str,
) -> None:
    server = await make_server(on_command=handler, command_timeout=0.05)
    client = await started(server, connect)
    await client.send_asdu(SETPOINT)
    assert await client.read_asdu() == reply(
        SETPOINT, CauseOfTransmission.ACTIVATION_CON, negative=True
    )
    assert logged in caplog.text


async def _accept_sync(request: ClockSyncRequest) -> bool:
    return True


async def _refuse_sync(request: ClockSyncRequest) -> bool:
    return False


async def _failing_sync(request: ClockSyncRequest) -> bool:
    raise RuntimeError("clock broken")


@pytest.mark.parametrize(
    ("handler", "negative"),
    [(None, False), (_accept_sync, False), (_refuse_sync, True), (_failing_sync, True)],
)
@pytest.mark.parametrize("common_address", [COMMON_ADDRESS, 65535])
async def test_clock_sync(
    make_server: ServerFactory,
    connect: Connect,
    handler: object,
    negative: bool,
    common_address: int,
) -> None:
    received: list[ClockSyncRequest] = []

    async def recording(sync: ClockSyncRequest) -> bool:
        received.append(sync)
        assert callable(handler)
        result: bool = await handler(sync)
        return result

    server = await make_server(on_clock_sync=recording if handler else None)
    client = await started(server, connect)
    sent = request(TypeID.C_CS_NA_1, ClockSyncCommand(MOMENT), common_address=common_address)
    await client.send_asdu(sent)
    answer = await client.read_asdu()
    assert answer == ASDU(
        TypeID.C_CS_NA_1,
        CauseOfTransmission.ACTIVATION_CON,
        COMMON_ADDRESS,
        (ClockSyncCommand(MOMENT),),
        negative=negative,
    )
    if handler:
        [sync] = received
        assert (sync.time, sync.common_address) == (MOMENT, common_address)
        assert sync.time.tzinfo is UTC


async def test_read_and_test_commands(make_server: ServerFactory, connect: Connect) -> None:
    server = await make_server()
    double_point(server).update(DoublePointValue.ON, Quality.GOOD, MOMENT)
    client = await started(server, connect)
    await client.send_asdu(
        request(TypeID.C_RD_NA_1, ReadCommand(11101), cause=CauseOfTransmission.REQUEST)
    )
    assert await client.read_asdu() == ASDU(
        TypeID.M_DP_TB_1,
        CauseOfTransmission.REQUEST,
        COMMON_ADDRESS,
        (DoublePoint(11101, DoublePointValue.ON, time=MOMENT),),
    )
    test = request(TypeID.C_TS_TA_1, LinkTestCommand(0x55AA, MOMENT))
    await client.send_asdu(test)
    assert await client.read_asdu() == reply(test, CauseOfTransmission.ACTIVATION_CON)


async def test_transmit_spontaneous_and_periodic(
    make_server: ServerFactory, connect: Connect
) -> None:
    server = await make_server()
    station = server.stations[COMMON_ADDRESS]
    double = double_point(server)
    measured = station.monitor_points[12001]
    double.update(DoublePointValue.OFF, Quality.GOOD, MOMENT)
    server.transmit([double, measured])  # nobody started yet: nothing to send
    client = await started(server, connect)
    server.transmit([])
    server.transmit([double, measured], CauseOfTransmission.SPONTANEOUS)
    assert await client.read_asdu() == ASDU(
        TypeID.M_DP_TB_1,
        CauseOfTransmission.SPONTANEOUS,
        COMMON_ADDRESS,
        (DoublePoint(11101, DoublePointValue.OFF, time=MOMENT),),
    )
    assert (await client.read_asdu()).type_id is TypeID.M_ME_NC_1
    server.transmit([double], CauseOfTransmission.PERIODIC)
    assert await client.read_asdu() == ASDU(
        TypeID.M_DP_NA_1,
        CauseOfTransmission.PERIODIC,
        COMMON_ADDRESS,
        (DoublePoint(11101, DoublePointValue.OFF),),
    )
    with pytest.raises(ValueError, match="ACTIVATION is not a cause for monitor data"):
        server.transmit([double], CauseOfTransmission.ACTIVATION)


async def test_transmit_skips_connections_not_started(
    make_server: ServerFactory, connect: Connect
) -> None:
    server = await make_server()
    client = await connect(server)
    server.transmit(server.stations[COMMON_ADDRESS].monitor_points.values())
    await client.start()  # end of initialization first: the transmission was not queued
    await client.send_asdu(GI)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON


async def test_large_transmissions_respect_the_k_window(
    make_server: ServerFactory, connect: Connect
) -> None:
    server = await make_server()
    station = server.stations[COMMON_ADDRESS]
    points = [station.add_float_point(100_000 + index) for index in range(600)]
    client = await started(server, connect)
    server.transmit(points)
    received: list[InformationObject] = []
    unacknowledged = 0
    while len(received) < 600:
        frame = await client.read_frame()
        if isinstance(frame, IFrame):
            unacknowledged += 1
            assert unacknowledged <= 12
            if unacknowledged == 12 or len(received) > 560:
                await client.send_raw(encode_apdu(SFrame(client.recv_seq)))
                unacknowledged = 0
            received += decode_asdu(frame.asdu).objects
    assert [obj.ioa for obj in received] == [point.ioa for point in points]


async def test_allow_list_refuses_other_addresses(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    server = await make_server(allowed_clients=["10.0.0.0/8", "::1"])
    with caplog.at_level(logging.WARNING):
        client = await connect(server)
        assert await client.closed_by_server()
    assert "Refused IEC 104 connection from 127.0.0.1: address not in the allow-list" in (
        caplog.text
    )
    assert caplog.text.count("Refused") == 1
    allowed = await make_server(allowed_clients=["127.0.0.1"])
    await started(allowed, connect)


async def test_connection_limit_when_refusing(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server(when_full=WhenFull.REFUSE)
    first = await started(server, connect)
    second = await connect(server)
    assert await second.closed_by_server()
    await first.close()
    await recorder.wait_for(ConnectionState.CLOSED)
    await started(server, connect)
    assert server.connection_count == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (encode_apdu(IFrame(5, 0, encode_asdu(GI))), "sequence error"),
        (b"\x00\x01\x02", "framing error"),
        (bytes.fromhex("6805070000000000"), "framing error"),
    ],
)
async def test_protocol_errors_close_the_connection(
    make_server: ServerFactory, connect: Connect, recorder: Recorder, data: bytes, reason: str
) -> None:
    server = await make_server()
    client = await started(server, connect)
    await client.send_raw(data)
    assert await client.closed_by_server()
    event = await recorder.wait_for(ConnectionState.CLOSED)
    assert event.reason is not None
    assert reason in event.reason


async def test_slowloris_is_closed_after_t1(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server(parameters=FAST)
    client = await connect(server)
    await client.send_raw(b"\x68\x04\x07")
    assert await client.closed_by_server()
    event = await recorder.wait_for(ConnectionState.CLOSED)
    assert event.reason == "t1 expired: incomplete frame"


async def test_idle_link_is_tested_and_closed_without_answer(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server(parameters=FAST)
    client = await started(server, connect)
    await client.send_asdu(GI)
    replies = await interrogation_replies(client)
    assert len(replies) == 5
    assert await client.read_frame() == UFrame(UFunction.TESTFR_ACT)  # t3
    await client.send_u(UFunction.TESTFR_CON)
    assert await client.read_frame() == UFrame(UFunction.TESTFR_ACT)  # t3 again
    assert await client.closed_by_server()  # t1
    event = await recorder.wait_for(ConnectionState.CLOSED)
    assert event.reason == "t1 expired: TESTFR act not confirmed"


async def test_received_frames_are_acknowledged_after_t2(
    make_server: ServerFactory, connect: Connect
) -> None:
    server = await make_server(parameters=FAST)
    client = await started(server, connect)
    await client.send_asdu(bytes.fromhex("2d0206006400e9030001"))  # ignored: no answer
    assert await client.read_frame() == SFrame(1)


async def test_flood_of_requests_is_served_completely(
    make_server: ServerFactory, connect: Connect
) -> None:
    client = await started(await make_server(), connect)
    floods = 300
    flood = [encode_apdu(IFrame(index, 1, encode_asdu(GI))) for index in range(floods)]
    read = request(TypeID.C_RD_NA_1, ReadCommand(12001), cause=CauseOfTransmission.REQUEST)
    flood.append(encode_apdu(IFrame(floods, 1, encode_asdu(read))))
    await client.send_raw(b"".join(flood))
    terminations = 0
    while terminations < floods:
        asdu = await client.read_asdu()
        terminations += asdu.cause is CauseOfTransmission.ACTIVATION_TERMINATION
    assert (await client.read_asdu()).cause is CauseOfTransmission.REQUEST


async def test_flow_control_pauses_reading_while_writes_are_paused(
    make_server: ServerFactory, connect: Connect
) -> None:
    server = await make_server()
    client = await started(server, connect)
    [connection] = server._connections
    assert isinstance(connection, _Connection)
    transport = connection._transport
    assert transport is not None
    connection.pause_writing()
    assert not transport.is_reading()
    connection.resume_writing()
    assert transport.is_reading()
    await client.send_asdu(GI)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON


async def test_connection_event_handler_errors_are_contained(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("observer bug")

    server = await make_server(on_connection_event=broken)
    client = await started(server, connect)
    await client.send_asdu(GI)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON
    assert "observer bug" in caplog.text


async def test_stop_closes_connections(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    server = await make_server()
    client = await started(server, connect)
    await server.stop()
    assert await client.closed_by_server()
    event = await recorder.wait_for(ConnectionState.CLOSED)
    assert event.reason == "server stopped"
    assert server.connection_count == 0
    await server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address


async def test_stop_aborts_connections_that_do_not_close(
    make_server: ServerFactory, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await make_server()
    await started(server, connect)
    [connection] = server._connections
    monkeypatch.setattr(connection, "close", lambda: None)
    monkeypatch.setattr("custom_components.grid_ems.iec104.server._STOP_GRACE", 0.05)
    await server.stop()
    assert server.connection_count == 0


async def test_server_lifecycle_errors(connect: Connect) -> None:
    server = Server("127.0.0.1", 0)
    server.add_station(COMMON_ADDRESS)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address
    async with server:
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()
        assert server.address[0] == "127.0.0.1"
        client = await connect(server)  # no event handler: events are dropped
        assert (await client.start()).type_id is TypeID.M_EI_NA_1
    with pytest.raises(ValueError, match="max_connections"):
        Server(max_connections=0)


async def test_admission_rules() -> None:
    server = Server("127.0.0.1", 0, allowed_clients=["127.0.0.1"])
    assert server._admit(("127.0.0.1", 1)) == "server stopping"  # not listening
    async with server:
        assert server._admit(("::ffff:127.0.0.1", 1)) is None
        assert server._admit(("fe80::1%eth0", 1)) == "address not in the allow-list"


async def test_dispatch_bugs_are_contained(
    make_server: ServerFactory,
    connect: Connect,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await make_server()
    dispatch = server._dispatch
    calls = 0

    async def first_call_fails(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("dispatch bug")
        await dispatch(*args)

    monkeypatch.setattr(server, "_dispatch", first_call_fails)
    client = await started(server, connect)
    await client.send_asdu(GI)
    await client.send_asdu(GI)
    assert (await client.read_asdu()).cause is CauseOfTransmission.ACTIVATION_CON
    assert "failed to answer" in caplog.text
    assert "dispatch bug" in caplog.text
