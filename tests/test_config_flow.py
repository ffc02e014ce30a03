"""The config flow menu offers each kind of entry."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.grid_ems.const import DOMAIN, EntryKind


async def test_user_menu_lists_every_kind(hass: HomeAssistant) -> None:
    """The first step is a menu with the P1 meter, a Modbus device and the grid operator link."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == [kind.value for kind in EntryKind]
