"""The certification sequence: test mode with reason 99, every limit and both emergency stops."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.grid_ems.grid_link import GridLinkCoordinator
from custom_components.grid_ems.iec104 import CauseOfTransmission
from custom_components.grid_ems.netflex import (
    DEFAULT_POINT_MAP,
    AuditRecord,
    Command,
    DsoState,
    QMode,
    Reason,
)
from simulators.rtu import CERTIFICATION, Confirmation, RtuSimulator


async def test_certification_feedback_trail(
    hass: HomeAssistant, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """Every step confirmed and mirrored once, in order, and enforced as it came."""
    states: list[DsoState] = []

    def remember(state: DsoState, record: AuditRecord | None) -> None:
        states.append(state)

    link.async_subscribe(remember)
    start = len(rtu.reports)
    confirmations = await rtu.play(CERTIFICATION)
    assert confirmations == [Confirmation(True, CauseOfTransmission.ACTIVATION_CON)] * len(
        CERTIFICATION
    )
    last = CERTIFICATION[-1]
    await rtu.wait_for_report(
        DEFAULT_POINT_MAP.feedback_ioa(last.command),
        last.value,
        CauseOfTransmission.SPONTANEOUS,
        after=start,
    )
    trail = [
        (report.ioa, report.value, report.quality)
        for report in rtu.reports[start:]
        if report.cause is CauseOfTransmission.SPONTANEOUS
    ]
    assert trail == [
        (DEFAULT_POINT_MAP.feedback_ioa(step.command), step.value, 0) for step in CERTIFICATION
    ]
    await hass.async_block_till_done()
    assert len(states) == len(CERTIFICATION)
    # Under test with reason 99, each limit and each stop was in force in its turn.
    assert (
        DsoState(
            test_mode=True,
            reason_p=Reason.TEST,
            reason_q=Reason.TEST,
            min_set_p=50.0,
            max_set_p=50.0,
            max_set_ap=50.0,
            min_set_ap=50.0,
            q_mode=QMode.REMOTE,
            min_set_q=-30.0,
            max_set_q=30.0,
            stop_production=True,
        )
        in states
    )
    assert any(state.stop_consumption and state.test_mode for state in states)
    assert states[-1] == DsoState()
    assert link.state == DsoState()
    assert all(record.accepted for record in link.audit)
    assert [record.command for record in link.audit] == [step.command for step in CERTIFICATION]
    assert Command.TEST is CERTIFICATION[0].command
