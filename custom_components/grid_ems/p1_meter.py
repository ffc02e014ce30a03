"""Home Assistant side of the P1 meter entries (placeholder until its issue lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.const import Platform
    from homeassistant.core import HomeAssistant

    from .models import GridEmsConfigEntry

PLATFORMS: tuple[Platform, ...] = ()


@dataclass(slots=True)
class P1MeterData:
    """Runtime data of a P1 meter entry."""

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's runtime state for diagnostics, identifiers redacted."""
        return {}


async def async_setup_kind(hass: HomeAssistant, entry: GridEmsConfigEntry) -> P1MeterData:
    """Set up a P1 meter entry."""
    return P1MeterData()
