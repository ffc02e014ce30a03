"""Switches of the enforcement: the local optimizations the grid operator's limits sit on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import callback

from ..entity import GridEmsEntity
from .coordinator import EnforcementCoordinator

if TYPE_CHECKING:
    from collections.abc import Callable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OptimizationSwitchDescription(SwitchEntityDescription):
    """A local optimization the DSO limits sit on top of, switched on the link's device."""

    is_on_fn: Callable[[EnforcementCoordinator], bool]
    turn_fn: Callable[[EnforcementCoordinator, bool], None]


OPTIMIZATION_SWITCHES: tuple[OptimizationSwitchDescription, ...] = (
    OptimizationSwitchDescription(
        key="self_consumption",
        translation_key="self_consumption",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.self_consumption,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(self_consumption=on),
    ),
    OptimizationSwitchDescription(
        key="peak_shaving",
        translation_key="peak_shaving",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.peak_shaving,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(peak_shaving=on),
    ),
    OptimizationSwitchDescription(
        key="peak_shaving_follow_month",
        translation_key="peak_shaving_follow_month",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.peak_shaving_follow_month,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(
            peak_shaving_follow_month=on
        ),
    ),
    OptimizationSwitchDescription(
        key="follow_plan",
        translation_key="follow_plan",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda enforcement: enforcement.follow_plan,
        turn_fn=lambda enforcement, on: enforcement.async_set_optimization(follow_plan=on),
    ),
)


class OptimizationSwitch(GridEmsEntity[EnforcementCoordinator], SwitchEntity):
    """Self-consumption with the batteries, or peak shaving against the capacity tariff."""

    entity_description: OptimizationSwitchDescription

    def __init__(
        self, enforcement: EnforcementCoordinator, description: OptimizationSwitchDescription
    ) -> None:
        """Attach the switch to the link's device."""
        link = enforcement.link
        super().__init__(enforcement, description, link.device_ref)

    @property
    def is_on(self) -> bool:
        """Whether the optimization runs (kept across restarts by the enforcement)."""
        return self.entity_description.is_on_fn(self.coordinator)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start the optimization."""
        self.entity_description.turn_fn(self.coordinator, True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop the optimization; what it changed is restored."""
        self.entity_description.turn_fn(self.coordinator, False)
        self.async_write_ha_state()


@callback
def async_add_switches(
    enforcement: EnforcementCoordinator, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the enforcement's switches."""
    async_add_entities(
        OptimizationSwitch(enforcement, description) for description in OPTIMIZATION_SWITCHES
    )
