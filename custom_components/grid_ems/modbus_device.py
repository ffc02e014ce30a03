"""Home Assistant side of the Modbus device entries (placeholder until its issue lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.const import Platform
    from homeassistant.core import HomeAssistant

    from .models import GridEmsConfigEntry

PLATFORMS: tuple[Platform, ...] = ()


@dataclass(slots=True)
class ModbusDeviceData:
    """Runtime data of a Modbus device entry."""

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's runtime state for diagnostics, identifiers redacted."""
        return {}


async def async_setup_kind(hass: HomeAssistant, entry: GridEmsConfigEntry) -> ModbusDeviceData:
    """Set up a Modbus device entry."""
    return ModbusDeviceData()
