"""The integration serves its Lovelace card and loads it on every dashboard by itself."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.components.onboarding import STORAGE_KEY, STORAGE_VERSION
from homeassistant.components.onboarding.const import STEPS
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.grid_ems.const import DOMAIN
from custom_components.grid_ems.frontend import CARD_BUNDLE, CARD_URL_PATH

type ClientSessionGenerator = Callable[[], Awaitable[TestClient[Any, Any]]]

CARD_URL = f"{CARD_URL_PATH}?v={hashlib.sha256(CARD_BUNDLE.read_bytes()).hexdigest()[:12]}"


@pytest.fixture(autouse=True)
async def http_on_loopback(
    hass: HomeAssistant, hass_storage: dict[str, Any], socket_enabled: None
) -> None:
    """Onboarded HA whose HTTP server listens on a free loopback port, not on 0.0.0.0:8123."""
    hass_storage[STORAGE_KEY] = {"version": STORAGE_VERSION, "data": {"done": list(STEPS)}}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    http = {"server_host": ["127.0.0.1"], "server_port": port}
    assert await async_setup_component(hass, "http", {"http": http})


def test_bundle_is_committed() -> None:
    """The committed bundle defines the card and its editor (built from frontend/)."""
    bundle = CARD_BUNDLE.read_text("utf-8")
    assert CARD_BUNDLE.relative_to(CARD_BUNDLE.parents[2]).as_posix() == (
        "grid_ems/dist/grid-ems-card.js"
    )
    for name in ('"grid-ems-card"', '"grid-ems-card-editor"', "customCards"):
        assert name in bundle


async def test_card_served_and_loaded_on_every_page(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The bundle is served with a content-hash URL that every frontend page loads."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    assert CARD_URL in hass.data[DATA_EXTRA_MODULE_URL].urls
    client = await hass_client()
    response = await client.get(CARD_URL)
    assert response.status == 200
    assert await response.read() == CARD_BUNDLE.read_bytes()
    assert "javascript" in response.headers["Content-Type"]
    page = await (await client.get("/")).text()
    assert CARD_URL in page


async def test_card_registered_when_frontend_comes_later(hass: HomeAssistant) -> None:
    """Set up before the frontend, Grid EMS registers its card as soon as the frontend is up."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert DATA_EXTRA_MODULE_URL not in hass.data

    assert await async_setup_component(hass, "frontend", {})
    await hass.async_block_till_done()
    assert CARD_URL in hass.data[DATA_EXTRA_MODULE_URL].urls
