"""What a kind of entry (P1 meter, Modbus device, grid operator link) gives the integration.

Each kind's package describes itself with a ``Kind``; the integration's set-up and its platform
modules dispatch to it by the entry's kind, without knowing its insides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.const import Platform
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# The entry parameters are ConfigEntry[Any]: each kind types its own entries (P1MeterConfigEntry,
# ...), and the dispatch only ever hands a kind its own entries.
type PlatformSetup = Callable[
    [HomeAssistant, ConfigEntry[Any], AddConfigEntryEntitiesCallback], Awaitable[None]
]


@dataclass(frozen=True, slots=True)
class Kind:
    """How entries of one kind are set up, which entities they have, and what they clean up."""

    setup: Callable[[HomeAssistant, ConfigEntry[Any]], Awaitable[Any]]
    """Set the entry up and return its runtime data."""
    entities: Mapping[Platform, PlatformSetup]
    """The kind's entity set-up on each platform it has entities on (the platform modules
    dispatch to it)."""
    services: Callable[[HomeAssistant], None] | None = None
    """Register the kind's services (once, for all its entries)."""
    remove: Callable[[HomeAssistant, ConfigEntry[Any]], Awaitable[None]] | None = None
    """Delete what a removed entry kept in storage."""
    rename: Callable[[HomeAssistant, ConfigEntry[Any]], str] | None = None
    """The title of an entry of version 1.1 (named after its address) from version 1.2 on."""
    remove_device: Callable[[ConfigEntry[Any], DeviceEntry], bool] = field(
        default=lambda entry, device: False
    )
    """Whether the user may delete one of the entry's devices."""

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """The platforms the kind's entries have entities on."""
        return tuple(self.entities)
