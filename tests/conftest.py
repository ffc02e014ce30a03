"""Fixtures shared by all Grid EMS tests."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.fixture(autouse=True)
def state_journals_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Links keep their state journal in the test's own folder.

    The journal is a real file, and Home Assistant's test configuration folder is shared by
    every test (and every checkout using the same environment).
    """
    monkeypatch.setattr(
        grid_link,
        "journal_path",
        lambda _hass, entry_id: tmp_path / ".storage" / f"grid_ems.{entry_id}.dso_state.jsonl",
    )
