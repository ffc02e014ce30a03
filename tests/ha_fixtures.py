"""Fixtures shared by the tests of Home Assistant entities; a package's conftest imports them.

They are not in the root conftest because ``snapshot`` would then switch every package's
snapshots (also those kept with syrupy's own serializer) to Home Assistant's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.grid_ems.logbook import async_describe_events


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


def describe_in_logbook(hass: HomeAssistant, event: Event) -> dict[str, str]:
    """The logbook's line for one of the integration's events, as the logbook asks for it."""
    described: dict[tuple[str, str], Callable[[Event], dict[str, str]]] = {}

    def describe(domain: str, event_type: str, function: Callable[[Event], Any]) -> None:
        described[domain, event_type] = function

    async_describe_events(hass, describe)
    return described["grid_ems", str(event.event_type)](event)
