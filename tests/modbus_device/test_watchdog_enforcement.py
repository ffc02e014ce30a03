"""A relay module's watchdog trips under the enforcement: the alarm is cleared, logged in the
action log, and the emergency-stop relay the enforcement holds is written again at once."""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant, callback

from custom_components.grid_ems.enforcement import EVENT_ENFORCEMENT_ACTION
from custom_components.grid_ems.netflex import Command
from simulators.modbus import MoxaModel
from tests.enforcement.test_end_to_end import Site, site
from tests.simulated_site import INJECTION_RELAY

__all__ = ["site"]

ALARM_SENSOR = "binary_sensor.relays_watchdog_alarm"
FAST_S = 5.0
"""Less than the enforcement's pause after a failed write (10 s)."""


async def test_tripped_watchdog_is_cleared_and_the_held_relay_written_again(
    hass: HomeAssistant, site: Site
) -> None:
    """The relay's last write failed (the enforcement waits 10 s before the next). Then the
    module's watchdog trips: relay 0 goes to its safe state (off), writes are locked. The next
    poll clears the alarm and the enforcement writes the relay again without waiting."""
    actions: list[dict[str, Any]] = []
    changed = asyncio.Event()

    @callback
    def on_action(event: Any) -> None:
        actions.append(event.data)
        changed.set()

    async def wait_for_action(entity_id: str, *, ok: bool) -> int:
        """The index of the next action on ``entity_id`` with this outcome."""
        async with asyncio.timeout(FAST_S):
            while True:
                for index, action in enumerate(actions):
                    if action["entity_id"] == entity_id and action["ok"] is ok:
                        return index
                changed.clear()
                await changed.wait()

    hass.bus.async_listen(EVENT_ENFORCEMENT_ACTION, on_action)
    await site.command(Command.EMERGENCY_STOP_PRODUCTION, True)
    await site.wait_for(lambda: site.state(INJECTION_RELAY) == "on")
    site.relays.ignore_writes = 1000  # stuck: every write of the enforcement fails its read-back
    site.relays.coils[0] = False
    await wait_for_action(INJECTION_RELAY, ok=False)
    actions.clear()

    site.relays.ignore_writes = 0
    site.relays.coils[MoxaModel.WATCHDOG_ALARM] = True
    cleared = await wait_for_action(ALARM_SENSOR, ok=True)
    rewritten = await wait_for_action(INJECTION_RELAY, ok=True)

    assert cleared < rewritten
    assert (actions[rewritten]["value"], actions[rewritten]["constraint"]) == (
        True,
        "emergency_stop_production",
    )
    assert site.coil(0)
    assert not site.relays.watchdog_tripped
    assert site.state(ALARM_SENSOR) == "off"
    assert list(site.enforcement.actions)[-2]["entity_id"] == ALARM_SENSOR
