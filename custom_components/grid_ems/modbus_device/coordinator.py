"""Home Assistant side of the Modbus device entries: shared connections, polling, writes.

One entry per device: a unit id of a device kind (profile) at a host. Every entry behind the same
host:port uses one serialized connection from the ``ConnectionPool`` kept in ``hass.data`` (the
config flow's device test and scan use it too, for devices that accept one client); each device
has its own coordinator polling its profile's registers, and its entities are generated from the
profile by the platforms' Modbus sections.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
)
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from ..control.model import Relay, RelayRole
from ..enforcement.ports import SIGNAL_RELAYS_RESET
from ..entity import DeviceCoordinator
from ..modbus.client import (
    ConnectionPool,
    ModbusDevice,
    RetryPolicy,
    WatchdogAlarm,
)
from ..modbus.errors import (
    GATEWAY_EXCEPTIONS,
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionError,
    ModbusTimeoutError,
    ModbusWrongDeviceError,
)
from ..modbus.profile import DeviceProfile, RegisterSpec, SafeState
from ..modbus.profiles import PROFILES
from ..modbus.scan import ScanReport, scan_unit_ids
from .const import (
    CONF_CODES,
    CONF_FAILED_POLLS,
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_SAFE_STATES,
    CONF_UNIT_ID,
    DEFAULT_FAILED_POLLS,
    DEFAULT_POLICY,
    IDENTIFY_POLICY,
    MAX_BACKOFF_S,
    SCAN_REQUEST_TIMEOUT,
)

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from ..modbus.codec import Value

_LOGGER = logging.getLogger(__package__)

MODBUS_CONNECTIONS: HassKey[ConnectionPool] = HassKey(f"{DOMAIN}_modbus_connections")


@dataclass(frozen=True, slots=True)
class ModbusDeviceSettings:
    """An entry's device, address and polling, from its data and options."""

    profile: DeviceProfile
    host: str
    port: int
    unit_id: int
    scan_interval: float
    policy: RetryPolicy
    relay_roles: Mapping[str, RelayRole]
    safe_states: Mapping[str, SafeState]
    failed_polls: int = DEFAULT_FAILED_POLLS

    @classmethod
    def from_entry(cls, entry: ModbusDeviceConfigEntry) -> ModbusDeviceSettings:
        """Read the settings; options not set yet take the profile's defaults.

        The profile carries the installer's code maps of its enumerations.
        """
        options = entry.options
        profile = PROFILES[entry.data[CONF_PROFILE]].with_codes(options.get(CONF_CODES, {}))
        roles = options.get(CONF_RELAY_ROLES, {})
        safe_states = options.get(CONF_SAFE_STATES, {})
        return cls(
            profile=profile,
            host=entry.data[CONF_HOST],
            port=entry.data[CONF_PORT],
            unit_id=entry.data[CONF_UNIT_ID],
            scan_interval=options.get(CONF_SCAN_INTERVAL, profile.poll_interval),
            policy=RetryPolicy(
                timeout=options.get(CONF_TIMEOUT, DEFAULT_POLICY.timeout),
                retries=options.get(CONF_RETRIES, DEFAULT_POLICY.retries),
            ),
            relay_roles={
                relay.key: RelayRole(roles.get(relay.key, RelayRole.NONE))
                for relay in profile.relays
            },
            safe_states={
                relay.key: SafeState(safe_states.get(relay.key, SafeState.UNKNOWN))
                for relay in profile.relays
                if profile.host_watchdog
            },
            failed_polls=options.get(CONF_FAILED_POLLS, DEFAULT_FAILED_POLLS),
        )


def format_codes(spec: RegisterSpec) -> str:
    """An enumeration's code map as the options form shows it: ``ready=1, running=2``."""
    return ", ".join(f"{option}={raw}" for raw, option in sorted(spec.options.items()))


def parse_codes(text: str, spec: RegisterSpec) -> dict[str, int]:
    """The installer's code map of an enumeration (option -> code) from the options form.

    Options are the profile's own (their names are translated); each option and each code at
    most once; an option left out has no code on this device. Raises ``ValueError``.
    """
    codes: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        option, separator, raw = (part.strip() for part in item.partition("="))
        code = int(raw)  # ValueError for anything but an integer
        if (
            not separator
            or option not in spec.options.values()
            or option in codes
            or code in codes.values()
            or not 0 <= code <= 0xFFFF
        ):
            raise ValueError(item)
        codes[option] = code
    return codes


def translated_error(err: ModbusError) -> HomeAssistantError:
    """The Home Assistant error that shows a Modbus error in the user's language."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders=err.placeholders,
    )


class ModbusDeviceCoordinator(DeviceCoordinator[dict[str, "Value"]]):
    """Polls one device's profile registers and writes its values.

    The entities keep their last values through ``failed_polls - 1`` failed polls and become
    unavailable at the next; the coordinator logs the failure and the recovery. A device that
    stops answering is polled half as often after each failure (down to ``MAX_BACKOFF_S``), so a
    dead unit behind a gateway leaves the connection to the others; it comes back by itself.
    A module's watchdog alarm is cleared by the poll that finds it: logged, a repair issue while
    it cannot be cleared, and ``SIGNAL_RELAYS_RESET`` for the enforcement.
    """

    config_entry: ModbusDeviceConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ModbusDeviceConfigEntry,
        device: ModbusDevice,
        settings: ModbusDeviceSettings,
    ) -> None:
        """Poll ``device`` every ``settings.scan_interval`` seconds."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=timedelta(seconds=settings.scan_interval),
            always_update=False,
        )
        self.device = device
        self.scan_interval = settings.scan_interval
        self.failed_polls = settings.failed_polls
        device.on_watchdog_alarm = self._on_watchdog_alarm

    async def _async_update_data(self) -> dict[str, Value]:
        device = self.device
        try:
            values = await device.poll()
        except ModbusError as err:
            failed = device.failed_polls
            self.update_interval = timedelta(
                seconds=min(self.scan_interval * 2**failed, max(MAX_BACKOFF_S, self.scan_interval))
            )
            if failed < self.failed_polls and self.data is not None:
                _LOGGER.debug(
                    "%s: poll %s failed (%s), showing the last values", self.name, failed, err
                )
                return self.data
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders=err.placeholders,
            ) from err
        self.update_interval = timedelta(seconds=self.scan_interval)
        return values

    @callback
    def _on_watchdog_alarm(self, alarm: WatchdogAlarm) -> None:
        """The module's watchdog had tripped (outputs in their safe state, writes locked)."""
        issue_id = f"modbus_watchdog_alarm_{self.config_entry.entry_id}"
        if alarm.error is None:
            _LOGGER.warning(
                "%s: the watchdog alarm was set (the outputs went to their safe state); cleared",
                self.config_entry.title,
            )
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        else:
            _LOGGER.error(
                "%s: the watchdog alarm is set and could not be cleared: %s",
                self.config_entry.title,
                alarm.error,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="modbus_watchdog_alarm",
                translation_placeholders={
                    "device": self.config_entry.title,
                    "error": str(alarm.error),
                },
            )
        async_dispatcher_send(
            self.hass,
            SIGNAL_RELAYS_RESET,
            self.config_entry.entry_id,
            None if alarm.error is None else str(alarm.error),
        )

    async def async_write(self, key: str, value: Value) -> None:
        """Write a register's value and show it at once (the next poll confirms the rest)."""
        try:
            written = await self.device.write(key, value)
        except ModbusError as err:
            raise translated_error(err) from err
        self.async_set_updated_data({**self.data, key: written})

    @property
    def device_info(self) -> DeviceInfo:
        """The device, as its profile describes it."""
        profile = self.device.profile
        data = self.config_entry.data
        # The address is the device's information, not its name: the device keeps its name and
        # entity ids when it moves. Its own page, where it has one, is where the address shows.
        return DeviceInfo(
            identifiers={(DOMAIN, self.device_unique_id)},
            manufacturer=profile.manufacturer,
            model=profile.model,
            name=self.config_entry.title,
            configuration_url=f"http://{data[CONF_HOST]}/" if profile.web_page else None,
        )


@dataclass(slots=True)
class ModbusDeviceData:
    """Runtime data of a Modbus device entry.

    The enforcement controller finds the emergency-stop outputs with ``relays_with_role``.
    """

    coordinator: ModbusDeviceCoordinator
    settings: ModbusDeviceSettings

    @property
    def profile(self) -> DeviceProfile:
        """The device's kind."""
        return self.settings.profile

    def relays(self, hass: HomeAssistant) -> tuple[Relay, ...]:
        """The emergency-stop relays of the module: its outputs' switches that have a role."""
        registry = er.async_get(hass)
        relays: list[Relay] = []
        for role in (RelayRole.INJECTION, RelayRole.CONSUMPTION):
            for key in self.relays_with_role(role):
                unique_id = f"{self.coordinator.device_unique_id}_{key}"
                if entity_id := registry.async_get_entity_id("switch", DOMAIN, unique_id):
                    relays.append(Relay(entity_id, role))
        return tuple(relays)

    def relays_with_role(self, role: RelayRole) -> tuple[str, ...]:
        """Keys of the outputs wired for ``role`` (their entities' unique ids end with them)."""
        return tuple(key for key, given in self.settings.relay_roles.items() if given is role)

    def diagnostics(self) -> dict[str, Any]:
        """Return the entry's runtime state for diagnostics (no host or port)."""
        coordinator, settings = self.coordinator, self.settings
        device = coordinator.device
        connection = device.connection
        error = coordinator.last_exception
        return {
            "profile": settings.profile.kind,
            "unit_id": settings.unit_id,
            "scan_interval": settings.scan_interval,
            "timeout": settings.policy.timeout,
            "retries": settings.policy.retries,
            "failed_polls": settings.failed_polls,
            "absent_registers": sorted(
                {spec.key for spec in PROFILES[settings.profile.kind].optional}
                - {spec.key for spec in settings.profile.optional}
            ),
            "unknown_codes": dict(device.unknown_codes),
            "relay_roles": {key: role.value for key, role in settings.relay_roles.items()},
            "safe_states": {key: state.value for key, state in settings.safe_states.items()},
            "last_update_success": coordinator.last_update_success,
            "last_error": None if error is None else str(error),
            "values": dict(coordinator.data or {}),
            "reads_per_poll": [
                {"table": block.table.value, "address": block.address, "count": block.count}
                for block in device.plan
            ],
            "connection": {
                "connected": connection.connected,
                "connects": connection.connects,
                "failures": connection.failures,
                "late_answers": connection.late_answers,
                "requests_by_function": {
                    f"0x{code:02X}": count for code, count in sorted(connection.requests.items())
                },
            },
        }


def unique_id(data: Mapping[str, Any]) -> str:
    """One entry per unit id at a host and port."""
    return f"{str(data[CONF_HOST]).lower()}:{data[CONF_PORT]}:{data[CONF_UNIT_ID]}"


def suggested_name(profile: DeviceProfile, taken: Collection[str]) -> str:
    """What the installer calls such a device, numbered to differ from the ``taken`` names.

    "Grid meter", then "Grid meter 2"; "Relays cabinet 1", "Relays cabinet 2".
    """
    pattern = profile.name or profile.model
    first = 1
    if "{n}" not in pattern:
        if pattern not in taken:
            return pattern
        pattern, first = f"{pattern} {{n}}", 2
    return next(
        name
        for number in itertools.count(first)
        if (name := pattern.replace("{n}", str(number))) not in taken
    )


def address_title(data: Mapping[str, Any]) -> str:
    """The name of entries of version 1.1: the model and where it answers (see the migration)."""
    model = PROFILES[data[CONF_PROFILE]].model
    return f"{model} {data[CONF_HOST]}:{data[CONF_PORT]} unit {data[CONF_UNIT_ID]}"


def connection_error_key(err: ModbusError) -> str:
    """The config flow's error key for why a device could not be added."""
    if isinstance(err, ModbusConnectionError):
        return "modbus_cannot_connect"
    if isinstance(err, ModbusTimeoutError):
        return "modbus_timeout"
    if isinstance(err, ModbusExceptionError) and err.code in GATEWAY_EXCEPTIONS:
        return "modbus_wrong_unit_id"
    if isinstance(err, ModbusWrongDeviceError):
        return "modbus_wrong_device"
    return "modbus_device_error"


def connection_pool(hass: HomeAssistant) -> ConnectionPool:
    return hass.data.setdefault(MODBUS_CONNECTIONS, ConnectionPool())


async def async_identify(
    hass: HomeAssistant, profile: DeviceProfile, host: str, port: int, unit_id: int
) -> None:
    """Check that a device of ``profile``'s kind answers at host:port and unit id.

    Through the connection the running devices of host:port share (a device or gateway may accept
    one client), or a short-lived one of its own.
    """
    pool = connection_pool(hass)
    connection = pool.acquire(host, port)
    try:
        await ModbusDevice(connection, profile, unit_id, IDENTIFY_POLICY).identify()
    finally:
        pool.release(connection)


async def async_scan(
    hass: HomeAssistant, profile: DeviceProfile, host: str, port: int
) -> ScanReport:
    """Which unit ids 1..247 answer on host:port (bounded to about half a minute).

    Through the running devices' shared connection when there is one, else four of its own.
    """
    return await scan_unit_ids(
        host,
        port,
        profile,
        request_timeout=SCAN_REQUEST_TIMEOUT,
        shared=connection_pool(hass).get(host, port),
    )


type ModbusDeviceConfigEntry = ConfigEntry[ModbusDeviceData]
