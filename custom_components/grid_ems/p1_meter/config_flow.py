"""Config flow steps and options flow of P1 meter entries.

The integration's config flow (``config_flow.py``) takes the steps of ``P1MeterFlowSteps``; the
options flow is the kind's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import serialx
import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME, CONF_PORT, UnitOfPower, UnitOfTime
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from ..const import CONF_KIND, EntryKind
from ..p1 import P1NoTelegramError, P1PortError, read_telegram
from ..p1.telegram import EQUIPMENT_IDENTIFIER
from ..p1.validate import MAX_POWER_KW
from .const import (
    CONF_CONNECTION_CAPACITY,
    CONF_UPDATE_INTERVAL,
    DEFAULT_UPDATE_INTERVAL,
    MAX_UPDATE_INTERVAL,
    TITLE,
)

_LOGGER = logging.getLogger(__package__)

SERIAL_BY_ID: Final = "/serial/by-id/"
"""In udev's stable paths of USB serial adapters (/dev/serial/by-id/...): the same whatever the
plug order, unlike /dev/ttyUSB0."""
PROBE_WAIT: Final = 10.0
"""The config flow waits this long for a valid telegram from a new port."""


class P1ProbeError(Exception):
    """A port given in the config flow does not deliver a usable meter."""

    def __init__(self, error: str) -> None:
        """Keep the translation key of the form error."""
        super().__init__(error)
        self.error = error


async def async_identify_meter(port: str) -> str:
    """Read one telegram from ``port`` and return the meter's equipment identifier.

    Raises ``P1ProbeError`` with the config flow's error key: ``p1_cannot_connect``,
    ``p1_no_telegram``, ``p1_crc_errors`` (telegrams came, none valid) or ``p1_no_identifier``.
    """
    try:
        telegram = await read_telegram(port, PROBE_WAIT)
    except P1PortError as err:
        _LOGGER.debug("Cannot open P1 port %s: %s", port, err)
        raise P1ProbeError("p1_cannot_connect") from err
    except P1NoTelegramError as err:
        raise P1ProbeError("p1_crc_errors" if err.rejected else "p1_no_telegram") from err
    if not (identifier := telegram.text(EQUIPMENT_IDENTIFIER)):
        raise P1ProbeError("p1_no_identifier")
    return identifier


@dataclass(frozen=True, slots=True)
class SerialPort:
    """A serial port found on the host, for the config flow's list."""

    path: str
    description: str


async def async_list_serial_ports() -> list[SerialPort]:
    """The serial ports of the host: stable /dev/serial/by-id paths first, then the others."""
    ports = await serialx.async_list_serial_ports()
    found = [
        SerialPort(
            str(port.device),
            # Manufacturer and product name the cable; unique parts, in order.
            " - ".join(dict.fromkeys(part for part in (port.manufacturer, port.product) if part)),
        )
        for port in ports
    ]
    return sorted(found, key=lambda port: (SERIAL_BY_ID not in port.path, port.path))


async def _p1_schema() -> vol.Schema:
    """The port field: the serial ports found (by-id paths first), or any path or socket:// URL."""
    ports = await async_list_serial_ports()
    return vol.Schema(
        {
            vol.Required(CONF_PORT): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(
                            value=port.path,
                            label=f"{port.path} ({port.description})"
                            if port.description
                            else port.path,
                        )
                        for port in ports
                    ],
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            )
        }
    )


_P1_OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_UPDATE_INTERVAL): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=MAX_UPDATE_INTERVAL,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=UnitOfTime.SECONDS,
            )
        ),
        vol.Optional(CONF_CONNECTION_CAPACITY): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=float(MAX_POWER_KW),
                step=0.001,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=UnitOfPower.KILO_WATT,
            )
        ),
    }
)


class P1MeterOptionsFlow(OptionsFlow):
    """Options of a P1 meter: how often its entities are updated."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the meter's options (own step id: each kind has its own options texts)."""
        return await self.async_step_p1_meter()

    async def async_step_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the entity update interval (0: every telegram) and the connection's capacity."""
        if user_input is not None:
            options: dict[str, Any] = {CONF_UPDATE_INTERVAL: int(user_input[CONF_UPDATE_INTERVAL])}
            if (capacity := user_input.get(CONF_CONNECTION_CAPACITY)) is not None:
                options[CONF_CONNECTION_CAPACITY] = float(capacity)
            return self.async_create_entry(data=options)
        current = {
            CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
            **self.config_entry.options,
        }
        return self.async_show_form(
            step_id="p1_meter",
            data_schema=self.add_suggested_values_to_schema(_P1_OPTIONS_SCHEMA, current),
        )


class P1MeterFlowSteps(ConfigFlow):
    """The config flow's steps that add a P1 meter and move it to another port."""

    async def async_step_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a P1 meter: read a telegram from the port; the meter's identifier is unique."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = user_input[CONF_PORT].strip()
            try:
                identifier = await async_identify_meter(port)
            except P1ProbeError as err:
                errors["base"] = err.error
            else:
                await self.async_set_unique_id(identifier)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    # What the installer calls the meter; the port is not part of its name.
                    title=str(user_input.get(CONF_NAME, "")).strip() or TITLE,
                    data={CONF_KIND: EntryKind.P1_METER, CONF_PORT: port},
                    options={CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL},
                )
        schema = vol.Schema(
            {vol.Optional(CONF_NAME): TextSelector(), **(await _p1_schema()).schema}
        )
        return self.async_show_form(
            step_id="p1_meter",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_NAME: TITLE}
            ),
            errors=errors,
        )

    async def async_step_reconfigure_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the meter to another port; it must still be the same meter."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            port = user_input[CONF_PORT].strip()
            try:
                identifier = await async_identify_meter(port)
            except P1ProbeError as err:
                errors["base"] = err.error
            else:
                await self.async_set_unique_id(identifier)
                self._abort_if_unique_id_mismatch(reason="p1_wrong_meter")
                # The entry's update listener reloads it on the new port.
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, CONF_PORT: port}
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure_p1_meter",
            data_schema=self.add_suggested_values_to_schema(
                await _p1_schema(), user_input or entry.data
            ),
            errors=errors,
        )
