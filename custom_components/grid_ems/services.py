"""Services of Grid EMS, registered once for the whole integration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import callback

from .kinds import KINDS

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services of every kind of entry."""
    for kind in KINDS.values():
        if kind.services is not None:
            kind.services(hass)
