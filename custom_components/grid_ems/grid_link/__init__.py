"""Grid operator link entries: the IEC-104 server the grid operator's RTU connects to.

Everything of this kind in Home Assistant is in this package: the link coordinator (the DSO
state, its storage and audit, the server), the runtime data, the link's entities, its config,
options and asset subentry flows, its keys. The link starts the enforcement (``enforcement/``),
which carries the DSO state out on the site's assets. Its modules log on the package's logger,
``custom_components.grid_ems.grid_link``.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback

from ..enforcement import async_remove_enforcement_storage, async_setup_enforcement
from ..kind import Kind
from ..planning import async_setup_planning
from ..wording import async_load_log_language
from .binary_sensor import async_setup_entry as async_setup_binary_sensors
from .button import async_setup_entry as async_setup_buttons
from .commissioning import CommissioningRunner, async_setup_commissioning
from .const import (
    CONF_ALLOWED_CLIENTS,
    CONF_BIND_HOST,
    CONF_CATEGORY,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_INSTALLED_POWER,
    CONF_INVERT_SIGN,
    CONF_K,
    CONF_LINK,
    CONF_LINK_LOST_AFTER,
    CONF_MEASUREMENT_PERIOD,
    CONF_P_SENSOR,
    CONF_PROVIDER,
    CONF_Q_SENSOR,
    CONF_SIGN_CONVENTION,
    CONF_T0,
    CONF_T1,
    CONF_T2,
    CONF_T3,
    CONF_TEST_MODE,
    CONF_TLS_CERTIFICATE,
    CONF_TLS_CLIENT_CA,
    CONF_TLS_KEY,
    CONF_W,
    CONF_WHEN_FULL,
    DEFAULT_BIND_HOST,
    DEFAULT_COMMON_ADDRESS,
    DEFAULT_LINK_OPTIONS,
    DEFAULT_MEASUREMENT_PERIOD,
    DEFAULT_PORT,
    EVENT_DSO_COMMAND,
    SUBENTRY_ASSET,
)
from .coordinator import (
    DsoStateStore,
    GridLinkConfigEntry,
    GridLinkCoordinator,
    GridLinkData,
    LinkOptions,
    LinkSettings,
    LinkSnapshot,
    audit_store,
    journal_path,
    link_options,
    protocol_parameters,
    site_from_entry,
    tls_context,
)
from .event import async_setup_entry as async_setup_events
from .number import async_setup_entry as async_setup_numbers
from .sensor import async_setup_entry as async_setup_sensors
from .services import async_setup_services
from .switch import async_setup_entry as async_setup_switches

__all__ = [
    "CONF_ALLOWED_CLIENTS",
    "CONF_BIND_HOST",
    "CONF_CATEGORY",
    "CONF_COMMON_ADDRESS",
    "CONF_EXPORT_CAPACITY",
    "CONF_IMPORT_CAPACITY",
    "CONF_INSTALLED_POWER",
    "CONF_INVERT_SIGN",
    "CONF_K",
    "CONF_LINK",
    "CONF_LINK_LOST_AFTER",
    "CONF_MEASUREMENT_PERIOD",
    "CONF_PROVIDER",
    "CONF_P_SENSOR",
    "CONF_Q_SENSOR",
    "CONF_SIGN_CONVENTION",
    "CONF_T0",
    "CONF_T1",
    "CONF_T2",
    "CONF_T3",
    "CONF_TEST_MODE",
    "CONF_TLS_CERTIFICATE",
    "CONF_TLS_CLIENT_CA",
    "CONF_TLS_KEY",
    "CONF_W",
    "CONF_WHEN_FULL",
    "DEFAULT_BIND_HOST",
    "DEFAULT_COMMON_ADDRESS",
    "DEFAULT_LINK_OPTIONS",
    "DEFAULT_MEASUREMENT_PERIOD",
    "DEFAULT_PORT",
    "EVENT_DSO_COMMAND",
    "KIND",
    "SUBENTRY_ASSET",
    "DsoStateStore",
    "GridLinkConfigEntry",
    "GridLinkCoordinator",
    "GridLinkData",
    "LinkOptions",
    "LinkSettings",
    "LinkSnapshot",
    "async_remove_kind",
    "async_setup_kind",
    "audit_store",
    "journal_path",
    "link_options",
    "protocol_parameters",
    "site_from_entry",
    "tls_context",
]


@callback
def _async_apply_entry(hass: HomeAssistant, entry: GridLinkConfigEntry, data: GridLinkData) -> None:
    """Restart the link for new connection settings; apply anything else in place."""
    if LinkSettings.from_entry(entry) != data.coordinator.settings:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    data.coordinator.async_apply(LinkOptions.from_entry(entry), site_from_entry(entry))
    data.enforcement.async_entry_changed()
    data.planning.async_entry_changed()


async def async_setup_kind(hass: HomeAssistant, entry: GridLinkConfigEntry) -> GridLinkData:
    """Restore the DSO state and start the IEC-104 server of a grid operator link entry."""
    await async_load_log_language(hass)
    coordinator = GridLinkCoordinator(hass, entry)
    runners: list[CommissioningRunner] = []

    async def async_stop() -> None:
        # A commissioning run under way restores the DSO state through the link: it ends first.
        for runner in runners:
            await runner.async_stop()
        await coordinator.async_stop()

    entry.async_on_unload(async_stop)
    taken = _contents(entry)
    await coordinator.async_start()
    # The restored DSO state is enforced at once, before the entities come up.
    enforcement = await async_setup_enforcement(hass, entry, coordinator)
    runners.append(await async_setup_commissioning(hass, entry, coordinator, enforcement))
    planning = await async_setup_planning(hass, entry, enforcement)
    data = GridLinkData(coordinator, enforcement, runners[0], planning)

    async def async_entry_updated(hass: HomeAssistant, entry: GridLinkConfigEntry) -> None:
        _async_apply_entry(hass, entry, data)

    entry.async_on_unload(entry.add_update_listener(async_entry_updated))
    # A change made while the link started (an asset added meanwhile) has told no listener.
    if _contents(entry) != taken:
        _async_apply_entry(hass, entry, data)
    return data


def _contents(entry: GridLinkConfigEntry) -> tuple[dict[str, Any], ...]:
    """What the link is made of: its settings, options and assets."""
    return dict(entry.data), dict(entry.options), dict(entry.subentries)


async def async_remove_kind(hass: HomeAssistant, entry: GridLinkConfigEntry) -> None:
    """Delete the stored DSO state, audit trail and enforcement of a removed link entry."""
    await DsoStateStore(hass, entry.entry_id).async_remove()
    await audit_store(hass, entry.entry_id).async_remove_trail(entry.entry_id)
    await async_remove_enforcement_storage(hass, entry.entry_id)


KIND: Final = Kind(
    setup=async_setup_kind,
    entities={
        Platform.BINARY_SENSOR: async_setup_binary_sensors,
        Platform.BUTTON: async_setup_buttons,
        Platform.EVENT: async_setup_events,
        Platform.NUMBER: async_setup_numbers,
        Platform.SENSOR: async_setup_sensors,
        Platform.SWITCH: async_setup_switches,
    },
    services=async_setup_services,
    remove=async_remove_kind,
)
