"""Fixtures shared by the tests of Home Assistant entities; a package's conftest imports them.

They are not in the root conftest because ``snapshot`` would then switch every package's
snapshots (also those kept with syrupy's own serializer) to Home Assistant's.
"""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import PropertyMock, patch

import pytest
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (ids and times masked)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def enable_all_entities() -> Iterator[None]:
    """Create the entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield
