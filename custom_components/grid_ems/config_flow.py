"""Config flow for Grid EMS: one entry per P1 meter, Modbus device or grid operator link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import CONF_KIND, DOMAIN, EntryKind
from .grid_link.config_flow import AssetSubentryFlow, GridLinkFlowSteps, GridLinkOptionsFlow
from .grid_link.const import SUBENTRY_ASSET
from .modbus_device.config_flow import ModbusDeviceFlowSteps, ModbusDeviceOptionsFlow
from .p1_meter.config_flow import P1MeterFlowSteps, P1MeterOptionsFlow


class GridEmsConfigFlow(P1MeterFlowSteps, ModbusDeviceFlowSteps, GridLinkFlowSteps, domain=DOMAIN):
    """Add a P1 meter, a Modbus device or the grid operator link."""

    VERSION = 1
    MINOR_VERSION = 2

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

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of the entry's kind."""
        return _OPTIONS_FLOWS[EntryKind(config_entry.data[CONF_KIND])]()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options only for the kinds that have an options flow."""
        return EntryKind(config_entry.data[CONF_KIND]) in _OPTIONS_FLOWS

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry flows of the entry's kind (the link's assets)."""
        return _SUBENTRY_FLOWS.get(EntryKind(config_entry.data[CONF_KIND]), {})


_OPTIONS_FLOWS: Final[dict[EntryKind, Callable[[], OptionsFlow]]] = {
    EntryKind.MODBUS_DEVICE: ModbusDeviceOptionsFlow,
    EntryKind.P1_METER: P1MeterOptionsFlow,
    EntryKind.GRID_LINK: GridLinkOptionsFlow,
}
_SUBENTRY_FLOWS: Final[dict[EntryKind, dict[str, type[ConfigSubentryFlow]]]] = {
    EntryKind.GRID_LINK: {SUBENTRY_ASSET: AssetSubentryFlow},
}
