"""Finish the demo's set-up through Home Assistant's own HTTP API, as a user would in the UI.

Waits for Home Assistant, completes onboarding with the documented demo user, then adds every
Grid EMS entry of the demo site (``demo.site``) through the config flows, unless they exist.
"""

from __future__ import annotations

import asyncio
import os
from http import HTTPStatus
from typing import Any

import aiohttp

from demo.site import DEMO_PASSWORD, DEMO_PORTS, DEMO_USER, DemoFlow, DemoPorts, demo_flows

# The end-to-end test runs its own demo on a free port (tests/e2e).
BASE = os.environ.get("GRID_EMS_DEMO_URL", "http://127.0.0.1:8123")
CLIENT_ID = f"{BASE}/"
STARTUP_TIMEOUT_S = 300
ONBOARDING_ENTRIES_TIMEOUT_S = 15
ONLINE_INTEGRATIONS = ("met", "radio_browser")


class BootstrapError(Exception):
    """Home Assistant answered something the demo set-up did not expect."""


async def _json(response: aiohttp.ClientResponse) -> Any:
    if response.status >= 400:
        raise BootstrapError(
            f"{response.method} {response.url}: {response.status} {await response.text()}"
        )
    return await response.json()


async def _wait_for_home_assistant(session: aiohttp.ClientSession) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    while True:
        try:
            async with session.get(f"{BASE}/manifest.json") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if loop.time() > deadline:
            raise BootstrapError(
                f"Home Assistant did not answer on {BASE} within {STARTUP_TIMEOUT_S} s"
            )
        await asyncio.sleep(1)


async def _token(session: aiohttp.ClientSession, auth_code: str) -> str:
    form = {"grant_type": "authorization_code", "code": auth_code, "client_id": CLIENT_ID}
    async with session.post(f"{BASE}/auth/token", data=form) as response:
        return str((await _json(response))["access_token"])


async def _login(session: aiohttp.ClientSession) -> str:
    """Log in with the demo user through the login flow and return an access token."""
    body = {"client_id": CLIENT_ID, "handler": ["homeassistant", None], "redirect_uri": CLIENT_ID}
    async with session.post(f"{BASE}/auth/login_flow", json=body) as response:
        flow = await _json(response)
    credentials = {"client_id": CLIENT_ID, "username": DEMO_USER, "password": DEMO_PASSWORD}
    async with session.post(
        f"{BASE}/auth/login_flow/{flow['flow_id']}", json=credentials
    ) as response:
        result = await _json(response)
    if result.get("type") != "create_entry":
        raise BootstrapError(f"the demo user could not log in: {result.get('errors')}")
    return await _token(session, result["result"])


async def _onboard(session: aiohttp.ClientSession) -> str:
    """Complete onboarding if needed and return an access token of the demo user."""
    async with session.get(f"{BASE}/api/onboarding") as response:
        # Home Assistant stops serving the onboarding API once onboarding is complete.
        onboarded = response.status == HTTPStatus.NOT_FOUND
        steps = {} if onboarded else {step["step"]: step["done"] for step in await _json(response)}
    if onboarded or steps.get("user"):
        return await _login(session)
    user = {
        "client_id": CLIENT_ID,
        "name": "Demo",
        "username": DEMO_USER,
        "password": DEMO_PASSWORD,
        "language": "en",
    }
    async with session.post(f"{BASE}/api/onboarding/users", json=user) as response:
        token = await _token(session, (await _json(response))["auth_code"])
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        async with session.post(
            f"{BASE}/api/onboarding/{step}", json=body, headers=headers
        ) as response:
            await _json(response)
    await _remove_online_integrations(session, headers)
    return token


async def _remove_online_integrations(
    session: aiohttp.ClientSession, headers: dict[str, str]
) -> None:
    """Remove what onboarding adds that needs the internet, which the demo does not have.

    Onboarding starts their flows in the background, so wait (briefly) for their entries.
    """
    pending = set(ONLINE_INTEGRATIONS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ONBOARDING_ENTRIES_TIMEOUT_S
    while pending and loop.time() < deadline:
        for domain in sorted(pending):
            url = f"{BASE}/api/config/config_entries/entry?domain={domain}"
            async with session.get(url, headers=headers) as response:
                entries = await _json(response)
            for entry in entries:
                url = f"{BASE}/api/config/config_entries/entry/{entry['entry_id']}"
                async with session.delete(url, headers=headers) as response:
                    await _json(response)
                pending.discard(domain)
        await asyncio.sleep(0.5)


async def _walk(
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    path: str,
    start: dict[str, Any],
    steps: tuple[dict[str, Any], ...],
) -> dict[str, Any]:
    async with session.post(f"{BASE}{path}", json=start, headers=headers) as response:
        result: dict[str, Any] = await _json(response)
    for user_input in steps:
        async with session.post(
            f"{BASE}{path}/{result['flow_id']}", json=user_input, headers=headers
        ) as response:
            result = await _json(response)
    if result["type"] != "create_entry":
        raise BootstrapError(f"flow {path} ended with {result}")
    return result


async def _add_entry(
    session: aiohttp.ClientSession, headers: dict[str, str], flow: DemoFlow
) -> None:
    start = {"handler": "grid_ems", "show_advanced_options": False}
    result = await _walk(session, headers, "/api/config/config_entries/flow", start, flow.steps)
    entry_id = result["result"]["entry_id"]
    if flow.options:
        start = {"handler": entry_id}
        await _walk(
            session, headers, "/api/config/config_entries/options/flow", start, flow.options
        )
    for subentry in flow.subentries:
        start = {"handler": [entry_id, subentry.subentry_type]}
        await _walk(
            session, headers, "/api/config/config_entries/subentries/flow", start, subentry.steps
        )
    print(f"  added {result['title']}")


async def main(ports: DemoPorts = DEMO_PORTS) -> None:
    """Onboard Home Assistant and add the demo site's Grid EMS entries (simulators on ``ports``)."""
    async with aiohttp.ClientSession() as session:
        await _wait_for_home_assistant(session)
        headers = {"Authorization": f"Bearer {await _onboard(session)}"}
        async with session.get(
            f"{BASE}/api/config/config_entries/entry?domain=grid_ems", headers=headers
        ) as response:
            if await _json(response):
                print("Grid EMS is already set up in config/.")
                return
        print("Adding the demo site to Grid EMS:")
        for flow in demo_flows(ports):
            await _add_entry(session, headers, flow)


if __name__ == "__main__":
    asyncio.run(main())
