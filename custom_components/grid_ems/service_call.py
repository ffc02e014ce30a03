"""What every service of Grid EMS takes: the entry it acts on, checked to be a loaded one."""

from __future__ import annotations

from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import ServiceCall
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_VALUE: Final = "value"


def loaded_runtime_data[T](call: ServiceCall, kind: type[T], translation_key: str) -> T:
    """The runtime data of the call's entry.

    Raises the validation error ``translation_key`` (naming the entry id) unless the entry is
    a loaded one of that kind.
    """
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if (
        entry is None
        or entry.domain != DOMAIN
        or entry.state is not ConfigEntryState.LOADED
        or not isinstance(entry.runtime_data, kind)
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=translation_key,
            translation_placeholders={"entry_id": entry_id},
        )
    return entry.runtime_data
