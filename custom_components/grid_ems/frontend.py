"""Serve the Grid EMS Lovelace card and load it on every dashboard.

The integration serves its committed bundle (built from ``frontend/`` in the repository) and adds
it to the frontend's extra modules, so the card works right after installing the integration,
also from HACS, without adding a dashboard resource by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.setup import async_when_setup

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

CARD_BUNDLE: Final = Path(__file__).parent / "dist" / "grid-ems-card.js"
CARD_URL_PATH: Final = "/grid_ems/grid-ems-card.js"


def async_setup_frontend(hass: HomeAssistant) -> None:
    """Register the card once the frontend is up (it normally already is)."""
    async_when_setup(hass, "frontend", _async_register_card)


def _bundle_version() -> str:
    """Content hash of the bundle: browsers cache the card until it changes."""
    return hashlib.sha256(CARD_BUNDLE.read_bytes()).hexdigest()[:12]


async def _async_register_card(hass: HomeAssistant, _component: str) -> None:
    version = await hass.async_add_executor_job(_bundle_version)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL_PATH, str(CARD_BUNDLE), cache_headers=True)]
    )
    add_extra_js_url(hass, f"{CARD_URL_PATH}?v={version}")
