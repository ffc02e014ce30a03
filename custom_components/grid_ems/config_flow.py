"""Config flow for Grid EMS: one entry per P1 meter, Modbus device or grid operator link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import CONF_KIND, DOMAIN, EntryKind

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class GridEmsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a P1 meter, a Modbus device or the grid operator link."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(step_id="user", menu_options=[kind.value for kind in EntryKind])

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Route to the reconfigure step of the entry's kind."""
        steps: dict[EntryKind, Callable[[], Awaitable[ConfigFlowResult]]] = {
            EntryKind.P1_METER: self.async_step_reconfigure_p1_meter,
            EntryKind.MODBUS_DEVICE: self.async_step_reconfigure_modbus_device,
            EntryKind.GRID_LINK: self.async_step_reconfigure_grid_link,
        }
        return await steps[EntryKind(self._get_reconfigure_entry().data[CONF_KIND])]()

    # --- P1 meter ---

    async def async_step_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a P1 meter (completed by the P1 issue)."""
        return self.async_abort(reason="not_implemented")

    async def async_step_reconfigure_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure a P1 meter (completed by the P1 issue)."""
        return self.async_abort(reason="not_implemented")

    # --- Modbus device ---

    async def async_step_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a Modbus device (completed by the Modbus issue)."""
        return self.async_abort(reason="not_implemented")

    async def async_step_reconfigure_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure a Modbus device (completed by the Modbus issue)."""
        return self.async_abort(reason="not_implemented")

    # --- Grid operator link ---

    async def async_step_grid_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the grid operator link (completed by the grid operator link issue)."""
        return self.async_abort(reason="not_implemented")

    async def async_step_reconfigure_grid_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure the grid operator link (completed by the grid operator link issue)."""
        return self.async_abort(reason="not_implemented")
