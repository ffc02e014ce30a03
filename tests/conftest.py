"""Fixtures shared by all Grid EMS tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from homeassistant.helpers import frame
from hypothesis import HealthCheck, settings

from custom_components.grid_ems import grid_link

# Property tests check results, not speed: on a loaded 2-core CI machine an example may take
# longer than hypothesis's default 200 ms deadline without anything being wrong.
settings.register_profile("grid_ems", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("grid_ems")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/grid_ems in every test."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Allow sockets: tests talk to real servers; the HA test plugin still allows 127.0.0.1 only."""


class _DeprecationReports(logging.Handler):
    """Collects what Home Assistant reports about Grid EMS's use of deprecated API.

    The frame helper says "Detected that custom integration 'grid_ems' ..."; the deprecation
    helper logs on the deprecated object's module "... was used from grid_ems, this is a
    deprecated ...".
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reports: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "integration 'grid_ems'" in message or (
            "grid_ems" in message and "deprecated" in message.lower()
        ):
            self.reports.append(message)


@pytest.fixture(autouse=True)
def no_deprecated_home_assistant_use() -> Iterator[None]:
    """Fail the test in which Home Assistant reports Grid EMS's use of a deprecated API.

    The frame helper reports each use once per process; forgetting the earlier reports lets
    every test that makes the call see its own report.
    """
    frame._REPORTED_INTEGRATIONS.clear()
    handler = _DeprecationReports()
    logger = logging.getLogger()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.reports, "deprecated Home Assistant API used:\n" + "\n".join(handler.reports)


@pytest.fixture(autouse=True)
def state_journals_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Links keep their state journal in the test's own folder.

    The journal is a real file, and Home Assistant's test configuration folder is shared by
    every test (and every checkout using the same environment).
    """

    def journal_path(_hass: object, entry_id: str) -> Path:
        return tmp_path / ".storage" / f"grid_ems.{entry_id}.dso_state.jsonl"

    # Where the link finds it, and where the tests read it.
    monkeypatch.setattr(grid_link.coordinator, "journal_path", journal_path)
    monkeypatch.setattr(grid_link, "journal_path", journal_path)
