"""Sans-IO session: APCI procedures, windows and timers, with an explicit clock."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.iec104.apci import (
    APDU,
    FrameReader,
    IFrame,
    SFrame,
    UFrame,
    UFunction,
    encode_apdu,
)
from custom_components.grid_ems.iec104.asdu import (
    ASDU,
    CauseOfTransmission,
    InterrogationCommand,
    TypeID,
    decode_asdu,
    encode_asdu,
)
from custom_components.grid_ems.iec104.connection import (
    ASDUReceived,
    DataTransferStarted,
    DataTransferStopped,
    Event,
    IFrameIgnored,
    InvalidASDUReceived,
    LinkTestConfirmed,
    ProtocolParameters,
    Session,
    SessionClosed,
    SupervisionLost,
    SupervisionRestored,
)

PARAMETERS = ProtocolParameters(k=3, w=2, t1=15, t2=10, t3=20)
GI = encode_asdu(
    ASDU(TypeID.C_IC_NA_1, CauseOfTransmission.ACTIVATION, 100, (InterrogationCommand(),))
)
STARTDT = encode_apdu(UFrame(UFunction.STARTDT_ACT))


def output(session: Session) -> list[APDU]:
    return FrameReader().feed(session.data_to_send())


def i_frame(send_seq: int, recv_seq: int = 0, asdu: bytes = GI) -> bytes:
    return encode_apdu(IFrame(send_seq, recv_seq, asdu))


def started_session(parameters: ProtocolParameters = PARAMETERS) -> Session:
    session = Session(parameters, now=0.0)
    assert session.receive_data(STARTDT, 0.0) == [DataTransferStarted()]
    assert output(session) == [UFrame(UFunction.STARTDT_CON)]
    return session


def test_parameters_default_to_the_standard() -> None:
    assert ProtocolParameters() == ProtocolParameters(k=12, w=8, t0=30, t1=15, t2=10, t3=20)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"k": 0}, "k=0"),
        ({"k": 32768}, "k=32768"),
        ({"w": 13}, "w=13"),
        ({"w": 0}, "w=0"),
        ({"t0": 0}, "positive"),
        ({"t2": 15}, "t2 must be shorter than t1"),
    ],
)
def test_parameters_are_validated(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProtocolParameters(**fields)  # type: ignore[arg-type]


def test_start_and_receive_asdu() -> None:
    session = started_session()
    assert session.started
    events = session.receive_data(i_frame(0), 1.0)
    assert events == [ASDUReceived(decode_asdu(GI), GI)]
    assert output(session) == []  # w=2 not reached yet, t2 pending
    assert session.next_deadline() == 11.0


def test_repeated_startdt_is_confirmed_without_event() -> None:
    session = started_session()
    assert session.receive_data(STARTDT, 1.0) == []
    assert output(session) == [UFrame(UFunction.STARTDT_CON)]


def test_testfr_is_answered_in_any_state() -> None:
    session = Session(PARAMETERS, 0.0)
    assert session.receive_data(encode_apdu(UFrame(UFunction.TESTFR_ACT)), 1.0) == []
    assert output(session) == [UFrame(UFunction.TESTFR_CON)]
    assert not session.started


def test_confirmations_a_server_does_not_expect_are_ignored() -> None:
    session = Session(PARAMETERS, 0.0)
    for function in (UFunction.STARTDT_CON, UFunction.STOPDT_CON, UFunction.TESTFR_CON):
        assert session.receive_data(encode_apdu(UFrame(function)), 1.0) == []
    assert output(session) == []
    assert not session.closed


def test_i_frame_before_startdt_is_acknowledged_but_ignored() -> None:
    session = Session(PARAMETERS, 0.0)
    assert session.receive_data(i_frame(0) + i_frame(1), 1.0) == [IFrameIgnored()] * 2
    assert output(session) == [SFrame(2)]
    assert not session.closed


def test_invalid_asdu_is_reported() -> None:
    session = started_session()
    raw = bytes.fromhex("090103006400010000000000")
    [event] = session.receive_data(i_frame(0, asdu=raw), 1.0)
    assert isinstance(event, InvalidASDUReceived)
    assert event.raw == raw
    assert event.error.cause is CauseOfTransmission.UNKNOWN_TYPE


def test_w_received_frames_are_acknowledged_at_once() -> None:
    session = started_session()
    events = session.receive_data(i_frame(0) + i_frame(1) + i_frame(2), 1.0)
    assert len(events) == 3
    assert output(session) == [SFrame(2)]


def test_t2_acknowledges_the_remaining_frames() -> None:
    session = started_session()
    session.receive_data(i_frame(0), 3.0)
    assert session.handle_timeout(12.9) == []
    assert output(session) == []
    assert session.handle_timeout(13.0) == []
    assert output(session) == [SFrame(1)]


def test_k_window_holds_back_and_acknowledgements_release() -> None:
    session = started_session()
    for index in range(5):
        session.send_asdu(bytes([index + 1]) * 6, 1.0)
    sent = output(session)
    assert [frame.send_seq for frame in sent if isinstance(frame, IFrame)] == [0, 1, 2]
    assert session.pending == 5
    session.receive_data(encode_apdu(SFrame(2)), 2.0)
    assert [frame.send_seq for frame in output(session) if isinstance(frame, IFrame)] == [3, 4]
    assert session.pending == 3
    session.receive_data(i_frame(0, recv_seq=5), 3.0)
    assert session.pending == 0


def test_sent_i_frames_carry_the_receive_sequence_and_acknowledge() -> None:
    session = started_session()
    session.receive_data(i_frame(0), 1.0)
    session.send_asdu(GI, 1.0)
    assert output(session) == [IFrame(0, 1, GI)]
    assert session.handle_timeout(11.0) == []  # nothing left to acknowledge on t2
    assert output(session) == []


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (i_frame(1), "N(S)=1, expected 0"),
        (i_frame(0, recv_seq=2), "N(R)=2 outside 0..1"),
        (encode_apdu(SFrame(32767)), "N(R)=32767 outside 0..1"),
        (b"\x67", "framing error"),
    ],
)
def test_protocol_errors_close_the_session(frame: bytes, reason: str) -> None:
    session = started_session()
    session.send_asdu(GI, 0.0)
    output(session)
    [event] = session.receive_data(frame + STARTDT, 1.0)
    assert isinstance(event, SessionClosed)
    assert reason in event.reason
    assert session.closed
    assert session.pending == 0
    # A closed session is inert.
    assert session.receive_data(STARTDT, 2.0) == []
    session.send_asdu(GI, 2.0)
    assert session.data_to_send() == b""
    assert session.next_deadline() is None
    assert session.handle_timeout(100.0) == []


def test_t1_closes_when_sent_frames_stay_unacknowledged() -> None:
    session = started_session()
    session.send_asdu(GI, 5.0)
    assert session.next_deadline() == 5.0 + 15
    assert session.handle_timeout(19.9) == []
    assert session.handle_timeout(20.0) == [
        SessionClosed("t1 expired: sent I-frames not acknowledged")
    ]


def test_t3_sends_testfr_and_t1_guards_it() -> None:
    session = started_session()
    assert session.next_deadline() == 20.0
    assert session.handle_timeout(20.0) == []
    assert output(session) == [UFrame(UFunction.TESTFR_ACT)]
    assert session.next_deadline() == 35.0
    assert session.receive_data(encode_apdu(UFrame(UFunction.TESTFR_CON)), 21.0) == [
        LinkTestConfirmed()
    ]
    assert session.next_deadline() == 41.0
    assert session.handle_timeout(41.0) == []
    assert output(session) == [UFrame(UFunction.TESTFR_ACT)]
    assert session.handle_timeout(56.0) == [SessionClosed("t1 expired: TESTFR act not confirmed")]


def test_t3_does_not_repeat_an_unconfirmed_testfr() -> None:
    session = started_session(ProtocolParameters(t1=15, t2=10, t3=5))
    session.handle_timeout(5.0)
    session.handle_timeout(10.0)
    assert output(session) == [UFrame(UFunction.TESTFR_ACT)]


def test_incomplete_frame_is_closed_after_t1() -> None:
    session = started_session()
    session.receive_data(STARTDT[:3], 1.0)
    session.receive_data(STARTDT[3:5], 9.0)  # trickling bytes do not restart the clock
    assert session.next_deadline() == 16.0
    assert session.handle_timeout(16.0) == [SessionClosed("t1 expired: incomplete frame")]


def test_completed_frame_clears_the_incomplete_frame_clock() -> None:
    session = started_session()
    session.receive_data(STARTDT[:3], 1.0)
    session.receive_data(STARTDT[3:] + STARTDT[:2], 9.0)
    assert session.next_deadline() == 9.0 + 15  # the new partial frame began at 9
    session.receive_data(STARTDT[2:], 10.0)
    assert session.next_deadline() == 30.0  # only t3 left


def test_stopdt_waits_for_acknowledgement_and_keeps_the_queue() -> None:
    session = started_session()
    session.send_asdu(b"\x01" * 6, 1.0)
    output(session)
    session.receive_data(i_frame(0, recv_seq=0), 1.5)
    assert session.receive_data(encode_apdu(UFrame(UFunction.STOPDT_ACT)), 2.0) == [
        DataTransferStopped()
    ]
    assert not session.started
    assert output(session) == []  # STOPDT con waits for our I-frame's acknowledgement
    session.send_asdu(b"\x02" * 6, 2.5)
    assert output(session) == []  # stopped: queued, not sent
    session.receive_data(encode_apdu(SFrame(1)), 3.0)
    assert output(session) == [SFrame(1), UFrame(UFunction.STOPDT_CON)]
    assert session.pending == 1
    assert session.receive_data(STARTDT, 4.0) == [DataTransferStarted()]
    assert output(session) == [UFrame(UFunction.STARTDT_CON), IFrame(1, 1, b"\x02" * 6)]


def test_stopdt_in_stopped_state_is_confirmed_without_event() -> None:
    session = Session(PARAMETERS, 0.0)
    assert session.receive_data(encode_apdu(UFrame(UFunction.STOPDT_ACT)), 1.0) == []
    assert output(session) == [UFrame(UFunction.STOPDT_CON)]


def test_startdt_while_stopping_resumes() -> None:
    session = started_session()
    session.send_asdu(GI, 1.0)
    output(session)
    session.receive_data(encode_apdu(UFrame(UFunction.STOPDT_ACT)), 2.0)
    session.receive_data(STARTDT, 3.0)
    session.receive_data(encode_apdu(SFrame(1)), 4.0)
    assert output(session) == [UFrame(UFunction.STARTDT_CON)]  # no late STOPDT con
    assert session.started


def test_sequence_numbers_wrap_at_32768() -> None:
    session = started_session(ProtocolParameters(k=12, w=8))
    events: list[Event] = []
    for send_seq in range(32770):
        frame = i_frame(send_seq % 32768)
        events += session.receive_data(frame, 1.0)
        if send_seq % 8 == 7:
            output(session)
    assert len(events) == 32770
    assert all(isinstance(event, ASDUReceived) for event in events)
    session.send_asdu(GI, 2.0)
    assert output(session)[-1] == IFrame(0, 2, GI)
    for send_seq in range(1, 32769):
        session.send_asdu(GI, 2.0)
        session.receive_data(encode_apdu(SFrame(send_seq % 32768)), 2.0)
    assert [frame for frame in output(session) if isinstance(frame, IFrame)][-1].send_seq == 0
    assert session.pending == 1
    session.receive_data(encode_apdu(SFrame(1)), 2.0)
    assert session.pending == 0


def test_supervision_reports_a_transfer_never_started_or_stopped_too_long() -> None:
    session = Session(PARAMETERS, 0.0, supervision=30)
    testfr_con = encode_apdu(UFrame(UFunction.TESTFR_CON))
    assert session.next_deadline() == 20  # t3 comes first
    assert session.handle_timeout(20) == []
    assert session.receive_data(testfr_con, 21) == [LinkTestConfirmed()]
    assert session.handle_timeout(29.9) == []
    assert session.handle_timeout(30) == [SupervisionLost("data transfer stopped for 30 s")]
    assert session.handle_timeout(31) == []  # reported once
    assert session.receive_data(STARTDT, 32) == [DataTransferStarted(), SupervisionRestored()]
    stopdt = encode_apdu(UFrame(UFunction.STOPDT_ACT))
    assert session.receive_data(stopdt, 40) == [DataTransferStopped()]
    assert session.next_deadline() == 40 + 20  # t3 of the STOPDT, before 40 + 30
    assert session.handle_timeout(60) == []
    assert session.receive_data(testfr_con, 61) == [LinkTestConfirmed()]  # answers, but stopped
    assert session.handle_timeout(70) == [SupervisionLost("data transfer stopped for 30 s")]
    assert session.receive_data(stopdt, 71) == []  # still stopped: still lost


def test_supervision_reports_a_silent_peer_until_it_answers() -> None:
    session = started_session()
    session.supervision = 25
    testfr_con = encode_apdu(UFrame(UFunction.TESTFR_CON))
    assert session.receive_data(encode_apdu(UFrame(UFunction.TESTFR_ACT)), 10) == []
    output(session)
    assert session.handle_timeout(30) == []  # t3: our TESTFR act
    assert output(session) == [UFrame(UFunction.TESTFR_ACT)]
    assert session.next_deadline() == 35
    assert session.handle_timeout(35) == [SupervisionLost("nothing received for 25 s")]
    assert session.next_deadline() == 45  # t1 of the test frame; supervision waits for data
    assert session.receive_data(testfr_con, 36) == [LinkTestConfirmed(), SupervisionRestored()]


def test_supervision_time_must_be_positive() -> None:
    with pytest.raises(ValueError, match="supervision"):
        Session(PARAMETERS, 0.0, supervision=0)
