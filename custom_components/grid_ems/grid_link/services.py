"""The grid operator link's service: execute a grid operator command without an RTU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import voluptuous as vol
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..const import DOMAIN
from ..netflex import Command
from ..service_call import ATTR_CONFIG_ENTRY_ID, ATTR_VALUE, loaded_runtime_data
from .coordinator import GridLinkData

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SERVICE_SIMULATE_DSO_COMMAND: Final = "simulate_dso_command"
ATTR_COMMAND: Final = "command"

SIMULATE_DSO_COMMAND_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_COMMAND): vol.In([command.value for command in Command]),
        vol.Required(ATTR_VALUE): vol.Coerce(float),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the link's service: a grid operator command without an RTU (test mode)."""

    async def async_simulate_dso_command(call: ServiceCall) -> ServiceResponse:
        """Execute a grid operator command without an RTU; recorded as local."""
        link = loaded_runtime_data(call, GridLinkData, "not_a_loaded_grid_link")
        record = await link.coordinator.async_simulate_command(
            Command(call.data[ATTR_COMMAND]), call.data[ATTR_VALUE]
        )
        if not record.accepted:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="dso_command_refused",
                translation_placeholders={"refusal": str(record.refusal)},
            )
        return {"accepted": True, "ioa": record.ioa} if call.return_response else None

    hass.services.async_register(
        DOMAIN,
        SERVICE_SIMULATE_DSO_COMMAND,
        async_simulate_dso_command,
        schema=SIMULATE_DSO_COMMAND_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
