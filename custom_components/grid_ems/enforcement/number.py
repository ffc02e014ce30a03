"""The enforcement's number: the peak-shaving target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfPower
from homeassistant.core import callback

from ..entity import GridEmsEntity
from .coordinator import EnforcementCoordinator

if TYPE_CHECKING:
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


# Coordinators push their data; entities never poll.
PARALLEL_UPDATES = 0


PEAK_SHAVING_TARGET: Final = NumberEntityDescription(
    key="peak_shaving_target",
    translation_key="peak_shaving_target",
    device_class=NumberDeviceClass.POWER,
    native_unit_of_measurement=UnitOfPower.KILO_WATT,
    native_min_value=0.0,
    native_max_value=10000.0,
    native_step=0.1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
)


class PeakShavingTargetNumber(GridEmsEntity[EnforcementCoordinator], NumberEntity):
    """The quarter-hour average import that peak shaving keeps under (capacity tariff)."""

    def __init__(self, enforcement: EnforcementCoordinator) -> None:
        """Attach the number to the link's device."""
        link = enforcement.link
        super().__init__(enforcement, PEAK_SHAVING_TARGET, link.device_ref)

    @property
    def native_value(self) -> float:
        """The target (kept across restarts by the enforcement)."""
        return self.coordinator.peak_shaving_target_kw

    async def async_set_native_value(self, value: float) -> None:
        """Set the target."""
        self.coordinator.async_set_optimization(peak_shaving_target_kw=value)
        self.async_write_ha_state()


@callback
def async_add_numbers(
    enforcement: EnforcementCoordinator, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the enforcement's numbers."""
    async_add_entities([PeakShavingTargetNumber(enforcement)])
