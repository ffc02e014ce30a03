"""What the enforcement needs of the other kinds of entries, in terms it owns.

The grid operator link hands the enforcement a ``DsoSource``; P1 meters add their grid power and
Modbus relay modules their emergency-stop relays to the ``SiteRegistry``. The enforcement knows
these ports only, never the kinds' modules, so a new kind of meter or relay fills the same ports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry

    from ..control.model import Relay
    from ..entity import DeviceRef
    from ..iec104 import Quality
    from ..netflex import AuditRecord, Command, DsoState, SiteParameters

SIGNAL_RELAYS_RESET: Final = f"{DOMAIN}_relays_reset"
"""Sent with an entry id and an error (or None) when a relay module put its outputs in their safe
state on its own (a tripped host-connection watchdog): the enforcement writes them again."""

type DsoListener = Callable[[DsoState, AuditRecord | None], None]
"""Called with the state to obey and the command record behind it (None: the link came or went)."""


class DsoSource(Protocol):
    """The grid operator's side of the site: the state it commands and where to report back."""

    @property
    def state(self) -> DsoState:
        """The DSO state the site obeys."""

    @property
    def site(self) -> SiteParameters:
        """Contractual capacities and the registered assets."""

    @property
    def audit(self) -> Iterable[AuditRecord]:
        """The commands received, oldest first."""

    @property
    def link_up(self) -> bool:
        """Whether the grid operator's RTU is connected and transferring data."""

    def async_subscribe(self, listener: DsoListener) -> CALLBACK_TYPE:
        """Call ``listener`` when a command is accepted (or taken back) or the link changes."""

    def async_listen_commands(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` once accepted commands are confirmed, kept and announced."""

    def async_set_feedback_quality(self, command: Command, quality: Quality) -> None:
        """Flag the feedback point of a command the site could (not) carry out."""

    @property
    def device_ref(self) -> DeviceRef:
        """The device the enforcement's own entities belong to."""

    def asset_device_ref(self, subentry: ConfigSubentry) -> DeviceRef:
        """The device of the asset of ``subentry``."""


@dataclass(frozen=True, slots=True)
class GridPowerReading:
    """The power at the connection point, as a meter measured it."""

    power: float
    """W, import positive."""
    received_at: float
    """When it was measured, in event-loop time (``loop.time()``, monotonic)."""


type GridPowerListener = Callable[[GridPowerReading | None], None]
"""Called with every reading, and with None when the meter is lost."""


class GridPowerSource(Protocol):
    """A meter of the connection point that pushes its readings (a P1 meter)."""

    @property
    def grid_power(self) -> GridPowerReading | None:
        """The latest reading; None while the meter is lost."""

    def async_subscribe_grid_power(self, listener: GridPowerListener) -> CALLBACK_TYPE:
        """Call ``listener`` with every reading."""


@dataclass(slots=True)
class SiteRegistry:
    """The grid power sources and emergency-stop relays of the site, by the entry that has them."""

    grid_power_sources: dict[str, GridPowerSource] = field(default_factory=dict)
    relay_sources: dict[str, Callable[[], tuple[Relay, ...]]] = field(default_factory=dict)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    @callback
    def async_add_grid_power_source(self, entry_id: str, source: GridPowerSource) -> CALLBACK_TYPE:
        """Register the grid power of entry ``entry_id`` until the returned callback."""
        self.grid_power_sources[entry_id] = source
        return self._changed(lambda: self.grid_power_sources.pop(entry_id, None))

    @callback
    def async_add_relays(
        self, entry_id: str, relays: Callable[[], tuple[Relay, ...]]
    ) -> CALLBACK_TYPE:
        """Register the relays of entry ``entry_id`` (read when needed) until the callback."""
        self.relay_sources[entry_id] = relays
        return self._changed(lambda: self.relay_sources.pop(entry_id, None))

    def relays(self) -> tuple[Relay, ...]:
        """Every emergency-stop relay of the site."""
        return tuple(relay for relays in self.relay_sources.values() for relay in relays())

    @callback
    def async_listen(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` when a source or a relay module comes or goes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _changed(self, remove: Callable[[], object]) -> CALLBACK_TYPE:
        self._notify()

        @callback
        def unregister() -> None:
            remove()
            self._notify()

        return unregister

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


_SITE_REGISTRY: HassKey[SiteRegistry] = HassKey(f"{DOMAIN}_site_registry")


@callback
def site_registry(hass: HomeAssistant) -> SiteRegistry:
    """The site registry of this Home Assistant."""
    return hass.data.setdefault(_SITE_REGISTRY, SiteRegistry())
