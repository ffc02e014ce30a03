"""The grid operator link's event entity: each command of the grid operator, accepted or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, callback

from ..entity import GridEmsEntity
from .const import EVENT_DSO_COMMAND
from .coordinator import GridLinkConfigEntry, GridLinkCoordinator

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

# Events are pushed; nothing polls.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GridLinkConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the link's command event."""
    async_add_entities([DsoCommandEvent(entry.runtime_data.coordinator)])


COMMAND_ACCEPTED: Final = "command_accepted"
COMMAND_REFUSED: Final = "command_refused"
# Attributes of the event: what the audit trail records, minus what the event type says.
_EVENT_ATTRIBUTES: Final = ("command", "ioa", "value", "refusal", "source", "type", "local")

DSO_COMMAND_EVENT: Final = EventEntityDescription(
    key="dso_command",
    translation_key="dso_command",
    event_types=[COMMAND_ACCEPTED, COMMAND_REFUSED],
)


class DsoCommandEvent(GridEmsEntity[GridLinkCoordinator], EventEntity):
    """Fires on every command of the grid operator, so that automations can react."""

    def __init__(self, coordinator: GridLinkCoordinator) -> None:
        """Attach the event entity to the link's device."""
        super().__init__(coordinator, DSO_COMMAND_EVENT, coordinator.device_ref)

    async def async_added_to_hass(self) -> None:
        """Listen to the link's command events."""
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id

        @callback
        def of_this_link(event_data: Mapping[str, Any]) -> bool:
            return bool(event_data["entry_id"] == entry_id)

        self.async_on_remove(
            self.hass.bus.async_listen(
                EVENT_DSO_COMMAND, self._async_command, event_filter=of_this_link
            )
        )

    @callback
    def _async_command(self, event: Event) -> None:
        data = event.data
        self._trigger_event(
            COMMAND_ACCEPTED if data["accepted"] else COMMAND_REFUSED,
            {key: data[key] for key in _EVENT_ATTRIBUTES},
        )
        self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Snapshots change no event; only commands fire it."""
