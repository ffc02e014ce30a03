"""The buttons of the grid operator link: start and abort the commissioning run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory

from ..entity import GridEmsEntity
from .commissioning import CommissioningRunner
from .coordinator import GridLinkConfigEntry

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# The runner pushes its progress; entities never poll.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CommissioningButtonDescription(ButtonEntityDescription):
    """A button of the commissioning run and what it does to the runner."""

    press_fn: Callable[[CommissioningRunner], object]


COMMISSIONING_BUTTONS: Final = (
    CommissioningButtonDescription(
        key="start_commissioning",
        translation_key="start_commissioning",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda runner: runner.async_start(),
    ),
    CommissioningButtonDescription(
        key="abort_commissioning",
        translation_key="abort_commissioning",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda runner: runner.async_abort(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridLinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the link's commissioning buttons."""
    data = entry.runtime_data
    async_add_entities(
        CommissioningButton(data.commissioning, description, data.coordinator.device_ref)
        for description in COMMISSIONING_BUTTONS
    )


class CommissioningButton(GridEmsEntity[CommissioningRunner], ButtonEntity):
    """Starts or aborts the commissioning run (refused with a translated error)."""

    entity_description: CommissioningButtonDescription

    async def async_press(self) -> None:
        """Start or abort the run."""
        self.entity_description.press_fn(self.coordinator)
