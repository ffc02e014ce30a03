"""grid_ems.simulate_dso_command: commissioning without an RTU, in test mode only."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.grid_link import GridLinkCoordinator
from custom_components.grid_ems.iec104 import CauseOfTransmission
from custom_components.grid_ems.netflex import LOCAL_SOURCE, DsoState, QMode, Refusal
from simulators.rtu import Report, RtuSimulator

SERVICE = "simulate_dso_command"


async def _simulate(
    hass: HomeAssistant, entry: MockConfigEntry, command: str, value: float
) -> dict[str, Any] | None:
    response = await hass.services.async_call(
        DOMAIN,
        SERVICE,
        {"config_entry_id": entry.entry_id, "command": command, "value": value},
        blocking=True,
        return_response=True,
    )
    return None if response is None else dict(response)


async def test_simulated_commands_are_executed_and_mirrored(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator, rtu: RtuSimulator
) -> None:
    """Accepted like the RTU's own, mirrored to the RTU, recorded as local."""
    start = len(rtu.reports)
    assert await _simulate(hass, link_entry, "min_set_p", 30) == {"accepted": True, "ioa": 2001}
    await _simulate(hass, link_entry, "emergency_stop_consumption", 1)
    await _simulate(hass, link_entry, "q_mode", 2)
    assert link.state == DsoState(stop_consumption=True, q_mode=QMode.REMOTE, min_set_p=30.0)
    assert await rtu.wait_for_report(
        12001, 30.0, CauseOfTransmission.SPONTANEOUS, after=start
    ) == Report(12001, 30.0, CauseOfTransmission.SPONTANEOUS, 0)
    await rtu.wait_for_report(11101, 2, CauseOfTransmission.SPONTANEOUS, after=start)
    assert [(record.source, record.local) for record in link.audit] == [(LOCAL_SOURCE, True)] * 3


async def test_simulated_command_refused(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """An invalid value is refused by the same rules, and recorded."""
    with pytest.raises(ServiceValidationError) as error:
        await _simulate(hass, link_entry, "max_set_p", 150)
    assert error.value.translation_key == "dso_command_refused"
    assert link.state == DsoState()
    assert link.audit.last is not None
    assert link.audit.last.refusal is Refusal.INVALID_VALUE
    assert link.audit.last.local
    with pytest.raises(ServiceValidationError):
        await _simulate(hass, link_entry, "test", 0.5)


@pytest.mark.parametrize("link_options", [{}])
async def test_only_in_test_mode(
    hass: HomeAssistant, link_entry: MockConfigEntry, link: GridLinkCoordinator
) -> None:
    """Outside test mode the service refuses and records nothing."""
    with pytest.raises(ServiceValidationError) as error:
        await _simulate(hass, link_entry, "min_set_p", 30)
    assert error.value.translation_key == "link_not_in_test_mode"
    assert len(link.audit) == 0


async def test_unknown_entry(hass: HomeAssistant, link: GridLinkCoordinator) -> None:
    """The entry must be a loaded grid operator link."""
    with pytest.raises(ServiceValidationError) as error:
        await hass.services.async_call(
            DOMAIN,
            SERVICE,
            {"config_entry_id": "nope", "command": "test", "value": 1},
            blocking=True,
        )
    assert error.value.translation_key == "not_a_loaded_grid_link"
