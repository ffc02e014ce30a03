"""Device conditions of the grid operator link: whether a stop, a limit or the RTU link holds.

Each condition tests a situation of ``grid_link.situations``, the predicates the device
triggers use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.const import CONF_CONDITION, CONF_DEVICE_ID, CONF_DOMAIN, CONF_TYPE
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN
from .grid_link.situations import (
    SITUATIONS,
    LinkSituation,
    is_link_device,
    link_entity_ids,
    read_states,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.condition import ConditionCheckerType
    from homeassistant.helpers.typing import ConfigType, TemplateVarsType

CONDITIONS: Final[dict[str, tuple[LinkSituation, bool]]] = {
    **{situation.condition: (situation, True) for situation in SITUATIONS},
    **{
        situation.negated_condition: (situation, False)
        for situation in SITUATIONS
        if situation.negated_condition
    },
}
"""Condition types: the situation they test and whether it must hold (or must not)."""

CONDITION_SCHEMA: Final = cv.DEVICE_CONDITION_BASE_SCHEMA.extend(
    {vol.Required(CONF_TYPE): vol.In(CONDITIONS)}
)


async def async_get_conditions(hass: HomeAssistant, device_id: str) -> list[dict[str, Any]]:
    """List the conditions of a grid operator link device (none for other devices)."""
    if not is_link_device(hass, device_id):
        return []
    return [
        {CONF_CONDITION: "device", CONF_DOMAIN: DOMAIN, CONF_DEVICE_ID: device_id, CONF_TYPE: kind}
        for kind in CONDITIONS
    ]


@callback
def async_condition_from_config(hass: HomeAssistant, config: ConfigType) -> ConditionCheckerType:
    """Test the situation now; False while an entity it needs is unavailable."""
    situation, expected = CONDITIONS[config[CONF_TYPE]]
    device_id: str = config[CONF_DEVICE_ID]

    def test(hass: HomeAssistant, variables: TemplateVarsType = None) -> bool:
        states = read_states(hass, link_entity_ids(hass, device_id, situation.reads))
        holds = situation.holds(states)
        return holds is not None and holds == expected

    return test
