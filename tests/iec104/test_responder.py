"""Sans-IO ASDU rules, byte by byte: no sockets, no event loop, no clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    ASDUDecodeError,
    CauseOfTransmission,
    ClockSyncCommand,
    DoubleCommand,
    DoublePointValue,
    MeasuredFloat,
    SetpointCommand,
    SinglePoint,
    TestCommand as TimeTaggedTestCommand,  # not named Test* so pytest does not collect it
    TypeID,
    decode_asdu,
    encode_asdu,
)
from custom_components.grid_ems.iec104.connection import ASDUReceived, InvalidASDUReceived
from custom_components.grid_ems.iec104.responder import (
    ASDUIgnored,
    ClockSynchronized,
    ClockSyncReceived,
    CommandReceived,
    CommandRefused,
    CommandResult,
    InterrogationAnswered,
    Responder,
    ResponderEvent,
    ServiceRefused,
)
from custom_components.grid_ems.iec104.station import Station

PEER = ("10.1.2.3", 40000)
MOMENT = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)

GI = bytes.fromhex("64 01 06 00 6400 000000 14")
"""C_IC_NA_1, ACTIVATION, CA 100, IOA 0, QOI 20 (station interrogation)."""
SETPOINT = bytes.fromhex("32 01 06 00 6400 d10700 0000c842 00")
"""C_SE_NC_1, ACTIVATION, CA 100, IOA 2001, 100.0, QOS 0 (execute)."""


def stations() -> dict[int, Station]:
    """Station 100 with two monitor points and a set-point; station 101 with one point."""
    station = Station(100)
    station.add_single_point(11001, value=True)
    station.add_float_point(12001, value=42.5)
    station.add_command_point(2001, [TypeID.C_SE_NC_1, TypeID.C_SE_TC_1])
    station.add_command_point(1101, [TypeID.C_DC_NA_1])
    other = Station(101)
    other.add_single_point(11001)
    return {100: station, 101: other}


def receive(responder: Responder, raw: bytes) -> list[ResponderEvent]:
    """Feed one ASDU as the session reports it."""
    try:
        return responder.receive(ASDUReceived(decode_asdu(raw), raw))
    except ASDUDecodeError as err:
        return responder.receive(InvalidASDUReceived(raw, err))


def with_cause(raw: bytes, cause: int, *, negative: bool = False) -> bytes:
    """The ASDU with another cause octet (P/N is its bit 6), everything else kept."""
    return raw[:2] + bytes([cause | (0x40 if negative else 0)]) + raw[3:]


def with_ca(raw: bytes, common_address: int) -> bytes:
    return raw[:4] + common_address.to_bytes(2, "little") + raw[6:]


def test_general_interrogation_act_con_points_with_cot_20_act_term() -> None:
    responder = Responder(stations(), PEER)
    assert receive(responder, GI) == [InterrogationAnswered(100, 20, 2, positive=True)]
    confirmation, *points, termination = responder.data_to_send()
    assert confirmation == bytes.fromhex("64 01 07 00 6400 000000 14")
    assert termination == bytes.fromhex("64 01 0a 00 6400 000000 14")
    assert [decode_asdu(asdu) for asdu in points] == [
        ASDU(
            TypeID.M_SP_NA_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            100,
            (SinglePoint(11001, True),),
        ),
        ASDU(
            TypeID.M_ME_NC_1,
            CauseOfTransmission.INTERROGATED_BY_STATION,
            100,
            (MeasuredFloat(12001, 42.5),),
        ),
    ]
    assert responder.data_to_send() == []


def test_broadcast_interrogation_is_answered_per_station() -> None:
    responder = Responder(stations(), PEER)
    events = receive(responder, with_ca(GI, 0xFFFF))
    assert events == [
        InterrogationAnswered(100, 20, 2, positive=True),
        InterrogationAnswered(101, 20, 1, positive=True),
    ]
    answered = [decode_asdu(asdu) for asdu in responder.data_to_send()]
    assert [(asdu.common_address, asdu.cause) for asdu in answered] == [
        (100, CauseOfTransmission.ACTIVATION_CON),
        (100, CauseOfTransmission.INTERROGATED_BY_STATION),
        (100, CauseOfTransmission.INTERROGATED_BY_STATION),
        (100, CauseOfTransmission.ACTIVATION_TERMINATION),
        (101, CauseOfTransmission.ACTIVATION_CON),
        (101, CauseOfTransmission.INTERROGATED_BY_STATION),
        (101, CauseOfTransmission.ACTIVATION_TERMINATION),
    ]


def test_group_interrogation_gets_a_negative_act_con_only() -> None:
    responder = Responder(stations(), PEER)
    group = GI[:-1] + bytes([21])
    assert receive(responder, group) == [InterrogationAnswered(100, 21, 0, positive=False)]
    assert responder.data_to_send() == [with_cause(group, 7, negative=True)]


@pytest.mark.parametrize(
    ("raw", "reply_cause", "reason"),
    [
        pytest.param(
            bytes.fromhex("32 01 06 00 6400 b70b00 0000c842 00"),
            CauseOfTransmission.UNKNOWN_IOA,
            "no point at IOA 2999",
            id="47-unknown-ioa",
        ),
        pytest.param(
            bytes.fromhex("2d 01 06 00 6400 d10700 01"),
            CauseOfTransmission.UNKNOWN_TYPE,
            "C_SC_NA_1 is not accepted at IOA 2001",
            id="44-type-not-taken-at-the-point",
        ),
        pytest.param(
            bytes.fromhex("32 01 06 00 6400 f92a00 0000c842 00"),
            CauseOfTransmission.UNKNOWN_TYPE,
            "C_SE_NC_1 is not accepted at IOA 11001",
            id="44-command-at-a-monitor-point",
        ),
        pytest.param(
            bytes.fromhex("01 01 06 00 6400 f92a00 01"),
            CauseOfTransmission.UNKNOWN_TYPE,
            "M_SP_NA_1 is not served in the control direction",
            id="44-monitor-type",
        ),
        pytest.param(
            with_cause(SETPOINT, CauseOfTransmission.SPONTANEOUS),
            CauseOfTransmission.UNKNOWN_CAUSE,
            "C_SE_NC_1 with cause SPONTANEOUS, not ACTIVATION",
            id="45-cause",
        ),
        pytest.param(
            with_ca(SETPOINT, 102),
            CauseOfTransmission.UNKNOWN_COMMON_ADDRESS,
            "no station at common address 102",
            id="46-common-address",
        ),
        pytest.param(
            with_ca(SETPOINT, 0xFFFF),
            CauseOfTransmission.UNKNOWN_COMMON_ADDRESS,
            "no station at common address 65535",
            id="46-broadcast-command",
        ),
        pytest.param(
            SETPOINT[:-1] + bytes([0x80]),
            CauseOfTransmission.ACTIVATION_CON,
            "select-before-operate is not supported (direct execute only)",
            id="select",
        ),
        pytest.param(
            bytes.fromhex("2e 01 06 00 6400 4d0400 03"),
            CauseOfTransmission.ACTIVATION_CON,
            "double command states 0 and 3 are not permitted",
            id="double-state-3",
        ),
    ],
)
def test_refused_command_is_mirrored_with_its_negative_cause(
    raw: bytes, reply_cause: CauseOfTransmission, reason: str
) -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, raw)
    assert isinstance(event, CommandRefused)
    refused = event.refused
    assert (refused.peer, refused.reply_cause, refused.reason) == (PEER, reply_cause, reason)
    assert refused.ioa == int.from_bytes(raw[6:9], "little")
    assert event.reason == reason
    assert responder.data_to_send() == [with_cause(raw, reply_cause, negative=True)]


def test_refused_command_names_what_it_could_decode() -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, bytes.fromhex("30 01 06 00 6400 d10700 0000"))  # type 48
    assert isinstance(event, CommandRefused)
    assert event.description == "type 48 (CA 100, IOA 2001)"
    assert (event.refused.type_id, event.refused.reply_cause) == (
        48,
        CauseOfTransmission.UNKNOWN_TYPE,
    )
    assert event.refused.command is None
    [reply] = responder.data_to_send()
    assert reply[2] == 0x40 | CauseOfTransmission.UNKNOWN_TYPE


def test_command_waits_for_the_decision_then_act_con_and_act_term() -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, SETPOINT)
    assert isinstance(event, CommandReceived)
    assert event.request.command == SetpointCommand(2001, 100.0)
    assert (event.request.common_address, event.request.peer) == (100, PEER)
    assert responder.data_to_send() == []  # nothing before the application decides
    responder.confirm_command(event, CommandResult.accept(terminate=True))
    assert responder.data_to_send() == [with_cause(SETPOINT, 7), with_cause(SETPOINT, 10)]


def test_rejected_command_gets_a_negative_act_con_only() -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, SETPOINT)
    assert isinstance(event, CommandReceived)
    responder.confirm_command(event, CommandResult.reject())
    assert responder.data_to_send() == [with_cause(SETPOINT, 7, negative=True)]


def test_accepted_double_command_reaches_the_application() -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, bytes.fromhex("2e 01 06 00 6400 4d0400 02"))
    assert isinstance(event, CommandReceived)
    assert event.request.command == DoubleCommand(1101, DoublePointValue.ON)


@pytest.mark.parametrize(("accepted", "negative"), [(True, False), (False, True)])
def test_clock_sync_act_con(accepted: bool, negative: bool) -> None:
    responder = Responder(stations(), PEER)
    raw = encode_asdu(
        ASDU(
            TypeID.C_CS_NA_1,
            CauseOfTransmission.ACTIVATION,
            100,
            (ClockSyncCommand(MOMENT),),
            originator=7,
        )
    )
    [event] = receive(responder, raw)
    assert isinstance(event, ClockSyncReceived)
    assert (event.request.time, event.request.originator, event.request.peer) == (MOMENT, 7, PEER)
    assert responder.data_to_send() == []
    assert responder.confirm_clock_sync(event, accepted) == ClockSynchronized(MOMENT, accepted)
    assert responder.data_to_send() == [with_cause(raw, 7, negative=negative)]


def test_broadcast_clock_sync_is_confirmed_by_every_station() -> None:
    responder = Responder(stations(), PEER)
    raw = encode_asdu(
        ASDU(TypeID.C_CS_NA_1, CauseOfTransmission.ACTIVATION, 0xFFFF, (ClockSyncCommand(MOMENT),))
    )
    [event] = receive(responder, raw)
    assert isinstance(event, ClockSyncReceived)
    responder.confirm_clock_sync(event, True)
    assert responder.data_to_send() == [with_cause(with_ca(raw, ca), 7) for ca in (100, 101)]


@pytest.mark.parametrize(
    ("raw", "reply_cause", "description"),
    [
        (with_ca(GI, 102), CauseOfTransmission.UNKNOWN_COMMON_ADDRESS, "C_IC_NA_1 (CA 102, IOA 0)"),
        (
            with_cause(GI, CauseOfTransmission.DEACTIVATION),
            CauseOfTransmission.UNKNOWN_CAUSE,
            "C_IC_NA_1 (CA 100, IOA 0)",
        ),
        (
            GI[:6] + bytes.fromhex("010000 14"),
            CauseOfTransmission.UNKNOWN_IOA,
            "C_IC_NA_1 (CA 100, IOA 1)",
        ),
        (
            bytes.fromhex("66 01 05 00 6400 b70b00"),
            CauseOfTransmission.UNKNOWN_IOA,
            "C_RD_NA_1 (CA 100, IOA 2999)",
        ),
    ],
)
def test_refused_service_is_no_refused_command(
    raw: bytes, reply_cause: CauseOfTransmission, description: str
) -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, raw)
    assert isinstance(event, ServiceRefused)
    assert (event.description, event.reply_cause) == (description, reply_cause)
    assert responder.data_to_send() == [with_cause(raw, reply_cause, negative=True)]


def test_read_answers_the_point_with_cot_5() -> None:
    responder = Responder(stations(), PEER)
    assert receive(responder, bytes.fromhex("66 01 05 00 6400 e12e00")) == []
    [answer] = responder.data_to_send()
    assert decode_asdu(answer) == ASDU(
        TypeID.M_ME_NC_1, CauseOfTransmission.REQUEST, 100, (MeasuredFloat(12001, 42.5),)
    )


def test_test_command_is_confirmed() -> None:
    responder = Responder(stations(), PEER)
    raw = encode_asdu(
        ASDU(
            TypeID.C_TS_TA_1,
            CauseOfTransmission.ACTIVATION,
            100,
            (TimeTaggedTestCommand(0x1234, MOMENT),),
        )
    )
    assert receive(responder, raw) == []
    assert responder.data_to_send() == [with_cause(raw, 7)]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes.fromhex("64 02 06 00 6400 000000 14 000000 14"), "C_IC_NA_1 with 2 objects"),
        (bytes.fromhex("64 02 06 00 6400 000000 14"), "malformed ASDU 64020600640000000014: "),
    ],
)
def test_asdu_without_an_answer_is_ignored(raw: bytes, reason: str) -> None:
    responder = Responder(stations(), PEER)
    [event] = receive(responder, raw)
    assert isinstance(event, ASDUIgnored)
    assert event.reason.startswith(reason)
    assert responder.data_to_send() == []


def test_end_of_initialization_once_per_station_after_the_first_startdt() -> None:
    responder = Responder(stations(), PEER)
    responder.data_transfer_started()
    assert responder.data_to_send() == [
        bytes.fromhex("46 01 04 00 6400 000000 00"),
        bytes.fromhex("46 01 04 00 6500 000000 00"),
    ]
    responder.data_transfer_started()
    assert responder.data_to_send() == []
