"""The grid operator link's services: a grid operator command without an RTU, commissioning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import voluptuous as vol
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..commissioning import Tolerances
from ..const import DOMAIN
from ..netflex import Command
from ..service_call import ATTR_CONFIG_ENTRY_ID, ATTR_VALUE, loaded_runtime_data
from .coordinator import GridLinkData

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

SERVICE_SIMULATE_DSO_COMMAND: Final = "simulate_dso_command"
SERVICE_START_COMMISSIONING: Final = "start_commissioning"
SERVICE_ABORT_COMMISSIONING: Final = "abort_commissioning"
ATTR_COMMAND: Final = "command"
ATTR_SETTLE_TIME: Final = "settle_time"
ATTR_TOLERANCE: Final = "tolerance"

SIMULATE_DSO_COMMAND_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_COMMAND): vol.In([command.value for command in Command]),
        vol.Required(ATTR_VALUE): vol.Coerce(float),
    }
)

_DEFAULT_TOLERANCES: Final = Tolerances()
START_COMMISSIONING_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_SETTLE_TIME, default=_DEFAULT_TOLERANCES.settle_time_s): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=600)
        ),
        vol.Optional(ATTR_TOLERANCE, default=_DEFAULT_TOLERANCES.grid_kw): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=1000)
        ),
    }
)
ABORT_COMMISSIONING_SCHEMA: Final = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the link's services: a command without an RTU (test mode), commissioning."""

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

    async def async_start_commissioning(call: ServiceCall) -> ServiceResponse:
        """Start the commissioning run; the response confirms it (its id and step count)."""
        link = loaded_runtime_data(call, GridLinkData, "not_a_loaded_grid_link")
        progress = link.commissioning.async_start(
            Tolerances(
                settle_time_s=call.data[ATTR_SETTLE_TIME],
                grid_kw=call.data[ATTR_TOLERANCE],
            )
        )
        return (
            {"run_id": progress.run_id, "steps": progress.steps} if call.return_response else None
        )

    async def async_abort_commissioning(call: ServiceCall) -> None:
        """Abort the commissioning run; it restores the state from before it."""
        link = loaded_runtime_data(call, GridLinkData, "not_a_loaded_grid_link")
        link.commissioning.async_abort()

    hass.services.async_register(
        DOMAIN,
        SERVICE_START_COMMISSIONING,
        async_start_commissioning,
        schema=START_COMMISSIONING_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_ABORT_COMMISSIONING,
        async_abort_commissioning,
        schema=ABORT_COMMISSIONING_SCHEMA,
    )
