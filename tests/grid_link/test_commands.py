"""Every command from the RTU is accepted or refused correctly, mirrored, persisted and shown."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime
from typing import Any, NamedTuple
from unittest.mock import patch

import c104
import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems import grid_link
from custom_components.grid_ems.grid_link import DsoStateStore, GridLinkCoordinator
from custom_components.grid_ems.iec104 import CauseOfTransmission, TypeID
from custom_components.grid_ems.iec104.apci import IFrame, encode_apdu
from custom_components.grid_ems.iec104.asdu import ASDU, SetpointCommand, encode_asdu
from custom_components.grid_ems.netflex import (
    DEFAULT_POINT_MAP,
    AuditRecord,
    Command,
    DsoState,
    QMode,
    Reason,
    Refusal,
    StateJournal,
    dump_state,
)
from simulators.rtu import Confirmation, RtuSimulator, Value
from tests.iec104.conftest import RawClient

from .conftest import state_of

CONFIRMED = Confirmation(positive=True, cause=CauseOfTransmission.ACTIVATION_CON)
NEGATIVE = Confirmation(positive=False, cause=CauseOfTransmission.ACTIVATION_CON)
ACTIVATION = CauseOfTransmission.ACTIVATION

EVERY_COMMAND: list[tuple[Command, Value]] = [
    (Command.EMERGENCY_STOP_PRODUCTION, True),
    (Command.EMERGENCY_STOP_CONSUMPTION, True),
    (Command.TEST, True),
    (Command.Q_MODE, 2),
    (Command.MIN_SET_P, -40.0),
    (Command.MAX_SET_P, 60.0),
    (Command.MAX_SET_AP, 30.0),
    (Command.MIN_SET_AP, 20.0),
    (Command.MIN_SET_Q, -10.0),
    (Command.MAX_SET_Q, 10.0),
    (Command.REASON_P, 1.0),
    (Command.REASON_Q, 99.0),
]
AFTER_EVERY_COMMAND = DsoState(
    stop_production=True,
    stop_consumption=True,
    test_mode=True,
    q_mode=QMode.REMOTE,
    min_set_p=-40.0,
    max_set_p=60.0,
    max_set_ap=30.0,
    min_set_ap=20.0,
    min_set_q=-10.0,
    max_set_q=10.0,
    reason_p=Reason.GRID_CONGESTION,
    reason_q=Reason.TEST,
)


async def _stored_state(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """The last state in the link's journal, as a restart would read it."""
    path = grid_link.journal_path(hass, entry.entry_id)
    raw = await hass.async_add_executor_job(path.read_bytes)
    return json.loads(raw.rstrip(b"\0").splitlines()[-1])


async def test_every_command_accepted_mirrored_and_persisted(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    rtu: RtuSimulator,
) -> None:
    """Positive ACT_CON, spontaneous feedback of the value, state saved by the confirmation."""
    for command, value in EVERY_COMMAND:
        before = len(rtu.reports)
        assert await rtu.command(command, value) == CONFIRMED, command
        stored = await _stored_state(hass, link_entry)
        assert stored[command.value] == value, command
        report = await rtu.wait_for_report(
            DEFAULT_POINT_MAP.feedback_ioa(command),
            value,
            CauseOfTransmission.SPONTANEOUS,
            after=before,
        )
        assert report.quality == 0
    assert link.state == AFTER_EVERY_COMMAND
    assert await _stored_state(hass, link_entry) == dump_state(AFTER_EVERY_COMMAND)
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "binary_sensor", "emergency_stop_production") == "on"
    assert state_of(hass, link_entry, "binary_sensor", "emergency_stop_consumption") == "on"
    assert state_of(hass, link_entry, "binary_sensor", "test_mode") == "on"
    assert state_of(hass, link_entry, "sensor", "q_mode") == "remote"
    assert state_of(hass, link_entry, "sensor", "min_set_p") == "-40.0"
    assert state_of(hass, link_entry, "sensor", "reason_p") == "grid_congestion"
    assert state_of(hass, link_entry, "sensor", "reason_q") == "test"
    # Stops fold into the limits: nothing may be injected or consumed.
    assert state_of(hass, link_entry, "sensor", "max_injection") == "0.0"
    assert state_of(hass, link_entry, "sensor", "max_consumption") == "0.0"
    assert state_of(hass, link_entry, "sensor", "min_reactive_power") == "-20.0"  # kvar
    assert [record.accepted for record in link.audit] == [True] * len(EVERY_COMMAND)
    assert {record.source for record in link.audit} == {"127.0.0.1"}


async def test_limits_follow_the_setpoints(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """The kW limits are the percentages of the capacities and of the installed power."""
    for command, value in (
        (Command.MIN_SET_P, -40.0),
        (Command.MAX_SET_P, 25.0),
        (Command.MAX_SET_AP, 50.0),
        (Command.MIN_SET_AP, 50.0),
    ):
        assert await rtu.command(command, value) == CONFIRMED
    await hass.async_block_till_done()
    assert state_of(hass, link_entry, "sensor", "max_injection") == "60.0"
    assert state_of(hass, link_entry, "sensor", "max_consumption") == "50.0"
    # Producers: 150 kW of PV and the 50 kW battery; consumers: the battery and 44 kW of chargers.
    assert state_of(hass, link_entry, "sensor", "max_asset_production") == "100.0"
    assert state_of(hass, link_entry, "sensor", "max_asset_consumption") == "47.0"


async def test_repeated_command_confirmed_and_mirrored_again(
    link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """Sending the value in force again is confirmed and mirrored again."""
    for _ in range(2):
        start = len(rtu.reports)
        assert await rtu.command(Command.MIN_SET_P, 40.0) == CONFIRMED
        await rtu.wait_for_report(12001, 40.0, CauseOfTransmission.SPONTANEOUS, after=start)
    assert [record.accepted for record in link.audit] == [True, True]


async def test_time_tagged_commands_accepted(link: GridLinkCoordinator, rtu: RtuSimulator) -> None:
    """Each command point also accepts its time-tagged type."""
    time = datetime.now(UTC)
    assert await rtu.send(1001, c104.Type.C_SC_TA_1, True, time=time) == CONFIRMED
    assert await rtu.send(1101, c104.Type.C_DC_TA_1, 2, time=time) == CONFIRMED
    assert await rtu.send(2003, c104.Type.C_SE_TC_1, 12.5, time=time) == CONFIRMED
    assert link.state == DsoState(stop_production=True, q_mode=QMode.REMOTE, max_set_ap=12.5)
    assert [record.type_name for record in link.audit] == ["C_SC_TA_1", "C_DC_TA_1", "C_SE_TC_1"]


INVALID_VALUES: list[tuple[Command, Value]] = [
    (Command.Q_MODE, 0),
    (Command.Q_MODE, 3),
    (Command.MIN_SET_P, math.nan),
    (Command.MIN_SET_P, -100.5),
    (Command.MAX_SET_P, -1.0),
    (Command.MAX_SET_AP, 101.0),
    (Command.MIN_SET_AP, math.inf),
    (Command.MIN_SET_Q, -100.1),
    (Command.MAX_SET_Q, 150.0),
    (Command.REASON_P, 2.0),
    (Command.REASON_Q, 0.5),
]


async def test_invalid_values_refused_without_change(
    hass: HomeAssistant,
    link_entry: MockConfigEntry,
    link: GridLinkCoordinator,
    rtu: RtuSimulator,
) -> None:
    """Negative ACT_CON, state and storage unchanged, no feedback, refusal recorded."""
    start = len(rtu.reports)
    for command, value in INVALID_VALUES:
        assert await rtu.command(command, value) == NEGATIVE, (command, value)
    # Replies come in order: once this feedback is in, any for the refused ones would be too.
    assert await rtu.command(Command.TEST, True) == CONFIRMED
    await rtu.wait_for_report(11003, True, CauseOfTransmission.SPONTANEOUS, after=start)
    assert [report.ioa for report in rtu.reports[start:]] == [11003]
    assert link.state == DsoState(test_mode=True)
    assert await _stored_state(hass, link_entry) == dump_state(DsoState(test_mode=True))
    refused = list(link.audit)[:-1]
    assert [record.refusal for record in refused] == [Refusal.INVALID_VALUE] * len(INVALID_VALUES)
    assert [record.command for record in refused] == [command for command, _ in INVALID_VALUES]


class RefusalCase(NamedTuple):
    """A command the protocol layer refuses, and how."""

    ioa: int
    point_type: c104.Type
    value: Value
    common_address: int
    cause: CauseOfTransmission
    answer: CauseOfTransmission
    refusal: Refusal


@pytest.mark.parametrize(
    "case",
    [
        RefusalCase(
            1005,
            c104.Type.C_SC_NA_1,
            True,
            100,
            CauseOfTransmission.ACTIVATION,
            CauseOfTransmission.UNKNOWN_IOA,
            Refusal.UNKNOWN_IOA,
        ),
        # A type the point does not take: "unknown type", the IOA is right.
        RefusalCase(
            1001,
            c104.Type.C_SE_NC_1,
            1.0,
            100,
            CauseOfTransmission.ACTIVATION,
            CauseOfTransmission.UNKNOWN_TYPE,
            Refusal.UNKNOWN_TYPE,
        ),
        RefusalCase(
            1001,
            c104.Type.C_SC_NA_1,
            True,
            101,
            CauseOfTransmission.ACTIVATION,
            CauseOfTransmission.UNKNOWN_COMMON_ADDRESS,
            Refusal.UNKNOWN_COMMON_ADDRESS,
        ),
        RefusalCase(
            1001,
            c104.Type.C_SC_NA_1,
            True,
            100,
            CauseOfTransmission.DEACTIVATION,
            CauseOfTransmission.UNKNOWN_CAUSE,
            Refusal.UNKNOWN_CAUSE,
        ),
    ],
    ids=["unknown_ioa", "wrong_type", "wrong_common_address", "wrong_cause"],
)
async def test_protocol_refusals(
    link: GridLinkCoordinator, rtu: RtuSimulator, case: RefusalCase
) -> None:
    """Unknown IOA, wrong type, wrong common address and wrong cause: the standard causes."""
    confirmation = await rtu.send(
        case.ioa,
        case.point_type,
        case.value,
        common_address=case.common_address,
        cause=case.cause,
    )
    assert confirmation == Confirmation(positive=False, cause=case.answer)
    assert link.state == DsoState()
    record = link.audit.last
    assert record is not None
    assert (record.ioa, record.common_address, record.refusal) == (
        case.ioa,
        case.common_address,
        case.refusal,
    )
    assert record.source == "127.0.0.1"


async def test_unknown_type_refused(link: GridLinkCoordinator, rtu: RtuSimulator) -> None:
    """A type the interface does not use (normalized set-point) gets cause 44, and is audited."""
    assert await rtu.send(2001, c104.Type.C_SE_NA_1, 0.5) == Confirmation(
        False, CauseOfTransmission.UNKNOWN_TYPE
    )
    assert link.state == DsoState()
    record = link.audit.last
    assert record is not None
    # The server does not decode this type: the value is unknown, the rest is in the header.
    assert (record.ioa, record.common_address, record.type_name, record.value) == (
        2001,
        100,
        "type 48",
        None,
    )
    assert (record.command, record.refusal) == (Command.MIN_SET_P, Refusal.UNKNOWN_TYPE)
    assert record.source == "127.0.0.1"


async def test_confirmation_waits_for_the_saved_state(
    hass: HomeAssistant, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """While the state is being written, the RTU has no confirmation; the site obeys already."""
    release = asyncio.Event()
    saving = asyncio.Event()
    original_save = DsoStateStore.async_save

    async def slow_save(store: DsoStateStore, data: Any) -> None:
        saving.set()
        await release.wait()
        await original_save(store, data)

    with patch.object(DsoStateStore, "async_save", slow_save):
        sent = hass.async_create_task(rtu.command(Command.MIN_SET_P, 10.0))
        await asyncio.wait_for(saving.wait(), 5)
        assert not sent.done()
        assert link.state == DsoState(min_set_p=10.0)
        assert link.data.state == DsoState()  # what the grid operator reads back
        release.set()
        assert await sent == CONFIRMED
    assert link.state == DsoState(min_set_p=10.0)


async def test_state_that_cannot_be_saved_is_refused(
    link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """A full or read-only disk: the command is refused, not confirmed and then lost.

    The site, told to obey the command while it was being saved, is told to go back.
    """
    heard: list[tuple[DsoState, Refusal | None]] = []

    def hear(state: DsoState, record: AuditRecord | None) -> None:
        if record is not None:  # the link's own comings and goings
            heard.append((state, record.refusal))

    link.async_subscribe(hear)

    def failing_append(journal: StateJournal, data: Any) -> None:
        raise OSError(28, "No space left on device")

    # The journal's own thread fails the write, and hands the error back.
    with patch.object(StateJournal, "append", failing_append):
        assert await rtu.command(Command.MIN_SET_P, 10.0) == NEGATIVE
    assert link.state == DsoState()
    assert link.audit.last is not None
    assert link.audit.last.refusal is Refusal.NOT_PERSISTED
    assert heard == [(DsoState(min_set_p=10.0), None), (DsoState(), Refusal.NOT_PERSISTED)]
    # The thread goes on: the next command is saved and confirmed.
    assert await rtu.command(Command.MIN_SET_P, 20.0) == CONFIRMED
    assert link.state == DsoState(min_set_p=20.0)


async def test_select_refused(link: GridLinkCoordinator, rtu: RtuSimulator) -> None:
    """Select-before-operate is refused: the points are direct execute."""
    assert await rtu.send(1001, c104.Type.C_SC_NA_1, True, select=True) == NEGATIVE
    assert link.state == DsoState()
    assert link.audit.last is not None
    assert link.audit.last.refusal is Refusal.SELECT_NOT_SUPPORTED


async def test_commands_sent_together_are_answered_and_audited_in_order(
    hass: HomeAssistant, link: GridLinkCoordinator
) -> None:
    """Three commands in one segment: replies and audit records keep the RTU's order.

    The audit trail takes a record after its reply; a command the server refuses by itself,
    answered in between, comes between the others.
    """
    assert link.server is not None
    client = await RawClient.connect(link.server)
    try:
        await client.start()
        sent = [
            ASDU(TypeID.C_SE_NC_1, ACTIVATION, 100, (SetpointCommand(2001, 10.0),)),
            ASDU(TypeID.C_SE_NC_1, ACTIVATION, 100, (SetpointCommand(2999, 5.0),)),
            ASDU(TypeID.C_SE_NC_1, ACTIVATION, 100, (SetpointCommand(2002, 60.0),)),
        ]
        await client.send_raw(
            b"".join(
                encode_apdu(IFrame(index, client.recv_seq, encode_asdu(asdu)))
                for index, asdu in enumerate(sent)
            )
        )
        confirmations: list[tuple[int, CauseOfTransmission, bool]] = []
        while len(confirmations) < len(sent):
            asdu = await client.read_asdu()
            if asdu.cause is not CauseOfTransmission.SPONTANEOUS:
                confirmations.append((asdu.objects[0].ioa, asdu.cause, asdu.negative))
    finally:
        await client.close()
    assert confirmations == [
        (2001, CauseOfTransmission.ACTIVATION_CON, False),
        (2999, CauseOfTransmission.UNKNOWN_IOA, True),
        (2002, CauseOfTransmission.ACTIVATION_CON, False),
    ]
    await hass.async_block_till_done()
    assert [(record.ioa, record.refusal) for record in link.audit] == [
        (2001, None),
        (2999, Refusal.UNKNOWN_IOA),
        (2002, None),
    ]
    assert link.state == DsoState(min_set_p=10.0, max_set_p=60.0)
