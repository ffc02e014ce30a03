"""Fixtures shared by all Grid EMS tests."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

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
