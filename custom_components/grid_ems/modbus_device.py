"""Home Assistant side of the Modbus device entries: shared connections, polling, writes.

One entry per device: a unit id of a device kind (profile) at a host. Every entry behind the same
host:port uses one serialized connection from the ``ConnectionPool`` kept in ``hass.data``; each
device has its own coordinator polling its profile's registers, and its entities are generated
from the profile by the platforms' Modbus sections.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypedDict

from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    EntityCategory,
    Platform,
)
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .entity import GridEmsEntity
from .kind import Kind
from .modbus.client import ConnectionPool, ModbusDevice, ModbusHostConnection, RetryPolicy
from .modbus.errors import (
    GATEWAY_EXCEPTIONS,
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionError,
    ModbusTimeoutError,
    ModbusWrongDeviceError,
)
from .modbus.profile import DeviceProfile, EntityPlatform, RegisterSpec, RelayRole, SafeState
from .modbus.profiles import PROFILES
from .modbus.scan import ScanReport, scan_unit_ids

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .modbus.codec import Value
    from .models import GridEmsConfigEntry

_LOGGER = logging.getLogger(__name__)

PLATFORMS: tuple[Platform, ...] = (
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
)

CONF_PROFILE: Final = "profile"
CONF_UNIT_ID: Final = "unit_id"
CONF_RETRIES: Final = "retries"
CONF_RELAY_ROLES: Final = "relay_roles"
CONF_SAFE_STATES: Final = "safe_states"
DEFAULT_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 1
DEFAULT_POLICY: Final = RetryPolicy()
# The config flow's test asks once: the user is waiting, and a retry would not change the answer.
IDENTIFY_POLICY = RetryPolicy(timeout=3.0, retries=0)
# A scan asks each of 247 unit ids once, four at a time: 0.5 s each keeps it near half a minute.
SCAN_REQUEST_TIMEOUT = 0.5

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

    @classmethod
    def from_entry(cls, entry: GridEmsConfigEntry) -> ModbusDeviceSettings:
        """Read the settings; options not set yet take the profile's defaults."""
        profile = PROFILES[entry.data[CONF_PROFILE]]
        options = entry.options
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
        )


def translated_error(err: ModbusError) -> HomeAssistantError:
    """The Home Assistant error that shows a Modbus error in the user's language."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders=err.placeholders,
    )


class ModbusDeviceCoordinator(DataUpdateCoordinator[dict[str, "Value"]]):
    """Polls one device's profile registers and writes its values.

    A failed poll makes the entities unavailable; the coordinator logs the first failure and the
    recovery, and keeps polling at the same interval, so the device comes back by itself.
    """

    config_entry: GridEmsConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: GridEmsConfigEntry,
        device: ModbusDevice,
        scan_interval: float,
    ) -> None:
        """Poll ``device`` every ``scan_interval`` seconds."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{device.profile.model} {entry.title}",
            update_interval=timedelta(seconds=scan_interval),
            always_update=False,
        )
        self.device = device

    async def _async_update_data(self) -> dict[str, Value]:
        try:
            return await self.device.poll()
        except ModbusError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders=err.placeholders,
            ) from err

    async def async_write(self, key: str, value: Value) -> None:
        """Write a register's value and show it at once (the next poll confirms the rest)."""
        try:
            written = await self.device.write(key, value)
        except ModbusError as err:
            raise translated_error(err) from err
        self.async_set_updated_data({**self.data, key: written})

    @property
    def device_unique_id(self) -> str:
        """Unique id of the device, the prefix of its entities' unique ids."""
        return self.config_entry.entry_id

    @property
    def device_info(self) -> DeviceInfo:
        """The device, as its profile describes it."""
        profile = self.device.profile
        return DeviceInfo(
            identifiers={(DOMAIN, self.device_unique_id)},
            manufacturer=profile.manufacturer,
            model=profile.model,
            name=self.config_entry.title,
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
                "requests_by_function": {
                    f"0x{code:02X}": count for code, count in sorted(connection.requests.items())
                },
            },
        }


class EntityFields(TypedDict):
    """The entity description fields every platform takes from a profile register."""

    key: str
    translation_key: str
    translation_placeholders: Mapping[str, str]
    entity_category: EntityCategory | None
    entity_registry_enabled_default: bool


def entity_registers(profile: DeviceProfile, platform: EntityPlatform) -> list[RegisterSpec]:
    """The profile registers that become entities of ``platform``."""
    return [s for s in profile.registers if s.entity and s.entity.platform is platform]


def entity_fields(register: RegisterSpec) -> EntityFields:
    """The common description fields of a register's entity."""
    entity = register.entity
    assert entity is not None
    return EntityFields(
        key=register.key,
        translation_key=entity.translation_key,
        translation_placeholders=entity.translation_placeholders,
        entity_category=EntityCategory(entity.entity_category) if entity.entity_category else None,
        entity_registry_enabled_default=entity.enabled_by_default,
    )


class ModbusEntity(GridEmsEntity[ModbusDeviceCoordinator]):
    """An entity showing one profile register of a Modbus device."""

    def __init__(
        self, coordinator: ModbusDeviceCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its device."""
        super().__init__(
            coordinator, description, coordinator.device_info, coordinator.device_unique_id
        )

    @property
    def register(self) -> RegisterSpec:
        """The register this entity shows."""
        return self.coordinator.device.profile.register(self.entity_description.key)

    @property
    def register_value(self) -> Value:
        """The register's latest value (None when the device reported none)."""
        return self.coordinator.data.get(self.entity_description.key)


def unique_id(data: Mapping[str, Any]) -> str:
    """One entry per unit id at a host and port."""
    return f"{str(data[CONF_HOST]).lower()}:{data[CONF_PORT]}:{data[CONF_UNIT_ID]}"


def entry_title(data: Mapping[str, Any]) -> str:
    """The entry's (and its device's) name: the model and where it answers."""
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


async def async_identify(profile: DeviceProfile, host: str, port: int, unit_id: int) -> None:
    """Check that a device of ``profile``'s kind answers at host:port and unit id.

    Uses its own short-lived connection, so a test never disturbs running devices.
    """
    connection = ModbusHostConnection(host, port)
    try:
        await ModbusDevice(connection, profile, unit_id, IDENTIFY_POLICY).identify()
    finally:
        connection.close()


async def async_scan(profile: DeviceProfile, host: str, port: int) -> ScanReport:
    """Which unit ids 1..247 answer on host:port (bounded to about half a minute)."""
    return await scan_unit_ids(host, port, profile, request_timeout=SCAN_REQUEST_TIMEOUT)


async def _async_entry_updated(hass: HomeAssistant, entry: GridEmsConfigEntry) -> None:
    """Apply new options (interval, timeout, relay roles) by reloading the entry."""
    hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_setup_kind(hass: HomeAssistant, entry: GridEmsConfigEntry) -> ModbusDeviceData:
    """Connect a Modbus device entry through its host's shared connection and poll it once."""
    settings = ModbusDeviceSettings.from_entry(entry)
    pool = hass.data.setdefault(MODBUS_CONNECTIONS, ConnectionPool())
    connection = pool.acquire(settings.host, settings.port)
    entry.async_on_unload(lambda: pool.release(connection))
    device = ModbusDevice(connection, settings.profile, settings.unit_id, settings.policy)
    coordinator = ModbusDeviceCoordinator(hass, entry, device, settings.scan_interval)
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady as err:
        cause = err.__cause__
        if isinstance(cause, HomeAssistantError) and cause.translation_key:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key=cause.translation_key,
                translation_placeholders=cause.translation_placeholders,
            ) from cause
        raise
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return ModbusDeviceData(coordinator, settings)


KIND: Final = Kind(setup=async_setup_kind, platforms=PLATFORMS)
