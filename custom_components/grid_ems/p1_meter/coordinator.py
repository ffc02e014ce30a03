"""The push coordinator of a P1 meter entry, and the entry's runtime data.

The coordinator runs the P1 port (``p1.P1Connection``) as a background task of the entry. Every
valid telegram goes at once to the grid power listeners (the enforcement controller closes its
loop on it, once a second, without the state machine); entities get the latest telegram at most
once per ``update_interval`` seconds (option; 0 = every telegram) and write their state only
when it changed. When the port is lost the entities go unavailable at once (logged once) and
come back by themselves when telegrams flow again (the port is retried at least every
``RECONNECT_BACKOFF.maximum`` seconds). The counter guard's accepted readings are kept in a store,
so a value refused before a restart is still refused after it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PORT
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..compat import async_register_main_device, via_device
from ..const import DOMAIN
from ..enforcement.ports import GridPowerReading
from ..entity import DeviceCoordinator, DeviceRef
from ..p1 import Backoff, P1Connection, P1Event, PortState, Telegram, TelegramReceived
from ..p1.telegram import (
    EQUIPMENT_IDENTIFIER,
    VERSION,
    MBusDevice,
    decode_hex_text,
    redact_identifiers,
)
from ..p1.validate import MAX_POWER_KW
from .const import CONF_CONNECTION_CAPACITY, CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

_LOGGER = logging.getLogger(__package__)

FIRST_TELEGRAM_TIMEOUT: Final = 15.0
"""Setup waits this long for the first telegram: the entities are made from its objects."""
RECONNECT_BACKOFF: Final = Backoff(initial=1.0, maximum=5.0)
"""A replugged USB cable or a restarted reader is back within 5 s."""
GUARD_STORE_VERSION: Final = 1
GUARD_SAVE_DELAY: Final = 60.0
"""Seconds between writes of the counter guard's state (flash wear); written at shutdown too."""

_MANUFACTURERS: Final = {"FLU": "Fluvius"}
"""Manufacturer by the three-letter code that opens the meter's identification line."""


class P1Coordinator(DeviceCoordinator[Telegram]):
    """Pushes the telegrams of one P1 meter to its entities and grid power listeners."""

    config_entry: P1MeterConfigEntry
    device: DeviceEntry
    """The meter's device, registered from the first telegram (M-Bus devices refer to it)."""

    def __init__(self, hass: HomeAssistant, entry: P1MeterConfigEntry) -> None:
        """Prepare the coordinator of ``entry``; ``async_start`` opens the port."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"P1 meter {entry.title}")
        capacity = entry.options.get(CONF_CONNECTION_CAPACITY)
        self.connection = P1Connection(
            entry.data[CONF_PORT],
            self._handle_event,
            self._handle_state,
            backoff=RECONNECT_BACKOFF,
            max_power_kw=MAX_POWER_KW if capacity is None else Decimal(str(capacity)),
        )
        self.entity_update_interval: float = entry.options.get(
            CONF_UPDATE_INTERVAL, DEFAULT_UPDATE_INTERVAL
        )
        self.grid_power: GridPowerReading | None = None
        """The latest grid power; None while the meter is unavailable."""
        self.last_raw: bytes | None = None
        self.last_received: datetime | None = None
        self._grid_power_listeners: list[Callable[[GridPowerReading | None], None]] = []
        self._first_telegram: asyncio.Future[None] = hass.loop.create_future()
        self._last_dispatch = -float("inf")
        self._pending_dispatch: asyncio.TimerHandle | None = None
        self._guard_store = guard_store(hass, entry.entry_id)
        self._guard_save_pending = False

    async def async_start(self) -> None:
        """Open the port and wait for the first telegram; ConfigEntryNotReady without it."""
        saved = await self._guard_store.async_load()
        if isinstance(saved, dict):
            self.connection.reader.guard.restore(saved)
        self.config_entry.async_on_unload(self._async_save_guard)
        self.config_entry.async_create_background_task(
            self.hass, self.connection.run(), f"grid_ems P1 port {self.config_entry.title}"
        )
        try:
            async with asyncio.timeout(FIRST_TELEGRAM_TIMEOUT):
                await self._first_telegram
        except TimeoutError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="p1_no_telegram",
                translation_placeholders={"port": self.config_entry.data[CONF_PORT]},
            ) from err
        self.device = async_register_main_device(
            self.hass, self.config_entry.entry_id, self.device_info
        )

    def _guard_state(self) -> dict[str, Any]:
        """The guard's state, as it is written."""
        self._guard_save_pending = False
        return self.connection.reader.guard.state()

    async def _async_save_guard(self) -> None:
        """Write the guard's state now (on unload), instead of at the end of the delay."""
        await self._guard_store.async_save(self._guard_state())

    @callback
    def async_shutdown_dispatch(self) -> None:
        """Cancel a deferred entity update (on unload)."""
        if self._pending_dispatch is not None:
            self._pending_dispatch.cancel()
            self._pending_dispatch = None

    @callback
    def async_subscribe_grid_power(
        self, listener: Callable[[GridPowerReading | None], None]
    ) -> CALLBACK_TYPE:
        """Call ``listener`` with every telegram's grid power, and None when the meter is lost."""
        self._grid_power_listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            self._grid_power_listeners.remove(listener)

        return unsubscribe

    @property
    def device_unique_id(self) -> str:
        """The meter's identifier, the entry's unique id; the entry's id for an entry without."""
        return self.config_entry.unique_id or self.config_entry.entry_id

    @property
    def device_info(self) -> DeviceInfo:
        """The meter's device, from the first telegram."""
        telegram = self.data
        identifier = telegram.text(EQUIPMENT_IDENTIFIER)
        return DeviceInfo(
            identifiers={(DOMAIN, self.device_unique_id)},
            name=self.config_entry.title,
            manufacturer=_MANUFACTURERS.get(telegram.header[:3]),
            model=telegram.header,
            serial_number=decode_hex_text(identifier) if identifier else None,
            sw_version=telegram.text(VERSION),
        )

    def mbus_unique_id(self, device: MBusDevice) -> str:
        """Unique id of an M-Bus device: the meter's id and the device's own id or channel."""
        own = device.equipment_identifier or f"channel_{device.channel}"
        return f"{self.device_unique_id}_mbus_{own}"

    def reported_device_ids(self) -> set[str]:
        """Unique ids of the meter's device and of the M-Bus devices its last telegram reports."""
        return {self.device_unique_id} | {
            self.mbus_unique_id(device) for device in self.data.mbus.values()
        }

    def mbus_device_ref(self, device: MBusDevice, translation_key: str) -> DeviceRef:
        """The device of a gas, water or heat meter, with its entities' unique id prefix."""
        return DeviceRef(
            self.mbus_device_info(device, translation_key), self.mbus_unique_id(device)
        )

    def mbus_device_info(self, device: MBusDevice, translation_key: str) -> DeviceInfo:
        """The device of a gas, water or heat meter, connected through the P1 meter."""
        identifier = device.equipment_identifier
        return DeviceInfo(
            identifiers={(DOMAIN, self.mbus_unique_id(device))},
            translation_key=translation_key,
            serial_number=decode_hex_text(identifier) if identifier else None,
            **via_device(self.device),
        )

    @callback
    def async_set_entity_update_interval(self, seconds: float) -> None:
        """Apply a new entity update interval (options flow)."""
        self.entity_update_interval = seconds

    @callback
    def _handle_event(self, event: P1Event) -> None:
        if not isinstance(event, TelegramReceived):
            _LOGGER.debug("P1 telegram rejected (%s)", event.reason)
            return
        telegram = event.telegram
        if not self._guard_save_pending:
            # Not pushed back by each telegram: written within the delay of the first.
            self._guard_save_pending = True
            self._guard_store.async_delay_save(self._guard_state, GUARD_SAVE_DELAY)
        self.last_raw = event.raw
        self.last_received = dt_util.utcnow()
        net_power = telegram.net_power
        self.grid_power = (
            None if net_power is None else GridPowerReading(float(net_power), self.hass.loop.time())
        )
        for listener in self._grid_power_listeners:
            listener(self.grid_power)
        if not self._first_telegram.done():
            self.data = telegram
            self._first_telegram.set_result(None)
            return
        self._schedule_dispatch(telegram)

    def _schedule_dispatch(self, telegram: Telegram) -> None:
        """Give the entities the telegram now, or at the end of the update interval."""
        self.data = telegram
        if not self.last_update_success:
            _LOGGER.info("%s is back", self.config_entry.title)
            self._dispatch()
            return
        due = self._last_dispatch + self.entity_update_interval
        now = self.hass.loop.time()
        if now >= due:
            self._dispatch()
        elif self._pending_dispatch is None:
            self._pending_dispatch = self.hass.loop.call_at(due, self._dispatch)

    @callback
    def _dispatch(self) -> None:
        self._pending_dispatch = None
        self._last_dispatch = self.hass.loop.time()
        self.async_set_updated_data(self.data)

    @callback
    def _handle_state(self, state: PortState) -> None:
        """Make the meter unavailable when its port is lost (once, not at every retry)."""
        if (
            state is not PortState.DISCONNECTED
            or not self._first_telegram.done()
            or not self.last_update_success
        ):
            return
        _LOGGER.warning(
            "%s is unavailable: the connection to its port was lost; reconnecting",
            self.config_entry.title,
        )
        self.async_shutdown_dispatch()
        self.grid_power = None
        for listener in self._grid_power_listeners:
            listener(None)
        self.last_update_success = False
        self.async_update_listeners()

    def diagnostics(self) -> dict[str, Any]:
        """The state of the port and the telegram counts, identifiers redacted."""
        stats = self.connection.reader.stats
        return {
            "connection": {
                "state": self.connection.state,
                "connects": self.connection.connects,
                "available": self.last_update_success,
            },
            "telegrams": {
                "good": stats.telegrams,
                "bad": stats.crc_errors,
                "dropped": stats.dropped,
                "garbage_bytes": stats.garbage_bytes,
                "rejected_counter_values": stats.rejected_values,
                "dropped_objects": dict(self.connection.reader.dropped),
            },
            "entity_update_interval": self.entity_update_interval,
            "last_telegram": {
                "received": None if self.last_received is None else self.last_received.isoformat(),
                "raw": None if self.last_raw is None else redact_identifiers(self.last_raw),
            },
        }


def guard_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The store of a meter entry's counter guard (its accepted readings)."""
    return Store(hass, GUARD_STORE_VERSION, f"{DOMAIN}.{entry_id}.p1_counters")


@dataclass(slots=True)
class P1MeterData:
    """Runtime data of a P1 meter entry."""

    coordinator: P1Coordinator

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's runtime state for diagnostics, identifiers redacted."""
        return self.coordinator.diagnostics()


type P1MeterConfigEntry = ConfigEntry[P1MeterData]
