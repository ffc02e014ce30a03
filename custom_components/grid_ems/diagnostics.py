"""Diagnostics of a Grid EMS entry: its configuration and the runtime state of its kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .kinds import GridEmsConfigEntry

# Addresses and ports identify the site's network; the kinds redact their own identifiers.
TO_REDACT: Final = {
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    "unique_id",
    "allowed_clients",
    "bind_host",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: GridEmsConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "runtime": entry.runtime_data.diagnostics(),
    }
