"""The sentences of the logbook and the log, read from the integration's translations."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.wording import LOG_LANGUAGE, Texts, action_sentence

ACTION: dict[str, Any] = {
    "entity_id": "number.pv_limit",
    "value": 40.0,
    "restore": False,
    "constraint": None,
    "source": None,
    "command": None,
    "command_value": None,
    "command_time": None,
    "ok": True,
    "error": None,
}


async def test_actions_without_a_constraint_or_that_failed(hass: HomeAssistant) -> None:
    """An action of no constraint, a restore, and a failed one each read as one sentence."""
    await async_get_translations(hass, LOG_LANGUAGE, "exceptions", {DOMAIN})
    texts = Texts(hass, LOG_LANGUAGE)

    assert action_sentence(texts, ACTION) == "Set to 40.0 by Grid EMS"
    assert action_sentence(texts, ACTION | {"restore": True}) == (
        "Restored to 40.0, as it was before Grid EMS acted"
    )
    assert action_sentence(texts, ACTION | {"ok": False, "error": "it still shows 32.0"}) == (
        "Failed: Set to 40.0 by Grid EMS (it still shows 32.0)"
    )
    assert action_sentence(texts, ACTION | {"value": True}) == "Set to on by Grid EMS"


async def test_a_text_missing_in_a_language_falls_back_to_english(hass: HomeAssistant) -> None:
    """Texts of a language not loaded (yet) are the English ones, never the keys."""
    await async_get_translations(hass, LOG_LANGUAGE, "exceptions", {DOMAIN})

    assert action_sentence(Texts(hass, "de"), ACTION) == "Set to 40.0 by Grid EMS"
