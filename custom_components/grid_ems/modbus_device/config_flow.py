"""Config flow steps and options flow of Modbus device entries.

The integration's config flow (``config_flow.py``) takes the steps of ``ModbusDeviceFlowSteps``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from ..const import CONF_KIND, EntryKind
from ..control.model import RelayRole
from ..modbus.errors import ModbusError
from ..modbus.profile import DeviceProfile, SafeState
from ..modbus.profiles import PROFILES
from ..modbus.scan import ScanReport
from .const import (
    CONF_CODES,
    CONF_FAILED_POLLS,
    CONF_PROFILE,
    CONF_RELAY_ROLES,
    CONF_RETRIES,
    CONF_SAFE_STATES,
    CONF_UNIT_ID,
    DEFAULT_FAILED_POLLS,
    DEFAULT_PORT,
    DEFAULT_UNIT_ID,
)
from .coordinator import (
    ModbusDeviceSettings,
    async_identify,
    async_scan,
    connection_error_key,
    format_codes,
    parse_codes,
    suggested_name,
    unique_id as entry_unique_id,
)


class ModbusDeviceFlowSteps(ConfigFlow):
    """The config flow's steps that add a Modbus device (with a unit id scan) and move it."""

    _modbus_input: dict[str, Any]
    _modbus_name: str = ""
    _modbus_scan: asyncio.Task[ScanReport] | None = None

    async def async_step_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a Modbus device: name, kind, host, port and unit id, tested before the entry exists.

        The name is what the installer calls the device; left empty, the kind's own suggestion
        ("Grid meter", "Relays cabinet 1"). The address is never part of it.

        Ticking "scan" probes unit ids 1..247 on the host, with progress shown in this step, and
        then lets the user pick one of those that answered.
        """
        if self._modbus_scan is not None:
            return self._modbus_scan_progress()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._modbus_input = data = _modbus_address(user_input)
            self._modbus_name = str(user_input.get(CONF_NAME, "")).strip()
            if user_input[CONF_MODBUS_SCAN]:
                profile = PROFILES[data[CONF_PROFILE]]
                self._modbus_scan = self.hass.async_create_task(
                    async_scan(self.hass, profile, data[CONF_HOST], data[CONF_PORT])
                )
                return self._modbus_scan_progress()
            errors = await _async_identify_modbus(self.hass, data)
            if not errors:
                return await self._async_create_modbus_entry(data)
        return self._modbus_device_form(user_input, errors)

    def _modbus_device_form(
        self, user_input: Mapping[str, Any] | None, errors: dict[str, str]
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="modbus_device",
            data_schema=self.add_suggested_values_to_schema(
                _MODBUS_DEVICE_SCHEMA,
                {CONF_NAME: self._modbus_name, **(user_input or _MODBUS_DEVICE_DEFAULTS)},
            ),
            errors=errors,
        )

    def _modbus_scan_progress(self) -> ConfigFlowResult:
        assert self._modbus_scan is not None
        if not self._modbus_scan.done():
            return self.async_show_progress(
                progress_action="modbus_scan",
                progress_task=self._modbus_scan,
                description_placeholders={"host": self._modbus_input[CONF_HOST]},
            )
        return self.async_show_progress_done(next_step_id="modbus_scan_result")

    async def async_step_modbus_scan_result(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick one of the unit ids that answered like the chosen device kind."""
        data = self._modbus_input
        if user_input is not None:
            data[CONF_UNIT_ID] = int(user_input[CONF_UNIT_ID])
            errors = await _async_identify_modbus(self.hass, data)
            if not errors:
                return await self._async_create_modbus_entry(data)
            return self._modbus_device_form(data | {CONF_MODBUS_SCAN: False}, errors)
        assert self._modbus_scan is not None
        scan, self._modbus_scan = self._modbus_scan, None
        try:
            report = scan.result()
        except ModbusError as err:
            return self._modbus_device_form(data, {"base": connection_error_key(err)})
        found = [str(hit.unit_id) for hit in report.hits if hit.matches]
        if not found:
            return self._modbus_device_form(data, {"base": "modbus_scan_nothing_found"})
        others = [str(hit.unit_id) for hit in report.hits if not hit.matches]
        return self.async_show_form(
            step_id="modbus_scan_result",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_UNIT_ID, default=found[0]): SelectSelector(
                        SelectSelectorConfig(options=found)
                    )
                }
            ),
            description_placeholders={
                "host": data[CONF_HOST],
                "found": ", ".join(found),
                "others": ", ".join(others) or "-",
                "scanned": str(report.scanned),
            },
        )

    async def _async_create_modbus_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        await self.async_set_unique_id(entry_unique_id(data))
        self._abort_if_unique_id_configured()
        taken = {entry.title for entry in self._async_current_entries(include_ignore=False)}
        return self.async_create_entry(
            title=self._modbus_name or suggested_name(PROFILES[data[CONF_PROFILE]], taken),
            data={CONF_KIND: EntryKind.MODBUS_DEVICE, **data},
        )

    async def async_step_reconfigure_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move a Modbus device to another host, port or unit id (tested first)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _modbus_address(user_input | {CONF_PROFILE: entry.data[CONF_PROFILE]})
            unique_id = entry_unique_id(data)
            if any(
                other.unique_id == unique_id and other.entry_id != entry.entry_id
                for other in self._async_current_entries(include_ignore=False)
            ):
                return self.async_abort(reason="already_configured")
            errors = await _async_identify_modbus(self.hass, data)
            if not errors:
                # The entry's update listener reloads it with the new address; its name stays.
                self.hass.config_entries.async_update_entry(
                    entry, unique_id=unique_id, data={**entry.data, **data}
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure_modbus_device",
            data_schema=self.add_suggested_values_to_schema(
                _MODBUS_ADDRESS_SCHEMA, user_input or entry.data
            ),
            errors=errors,
        )


CONF_MODBUS_SCAN: Final = "scan"
CONF_INJECTION_OUTPUTS: Final = "injection_outputs"
CONF_CONSUMPTION_OUTPUTS: Final = "consumption_outputs"
CONF_SAFE_ON_OUTPUTS: Final = "safe_on_outputs"
CONF_SAFE_OFF_OUTPUTS: Final = "safe_off_outputs"

_MODBUS_ADDRESS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT): NumberSelector(
            NumberSelectorConfig(min=1, max=65535, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_UNIT_ID): NumberSelector(
            NumberSelectorConfig(min=0, max=255, mode=NumberSelectorMode.BOX)
        ),
    }
)
_MODBUS_DEVICE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_NAME): TextSelector(),
        vol.Required(CONF_PROFILE): SelectSelector(
            SelectSelectorConfig(options=list(PROFILES), translation_key="modbus_profile")
        ),
        **_MODBUS_ADDRESS_SCHEMA.schema,
        vol.Required(CONF_MODBUS_SCAN): BooleanSelector(),
    }
)
_MODBUS_DEVICE_DEFAULTS: Final = {
    CONF_PORT: DEFAULT_PORT,
    CONF_UNIT_ID: DEFAULT_UNIT_ID,
    CONF_MODBUS_SCAN: False,
}


def _modbus_address(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The entry data of a Modbus device from a form (numbers as ints, host trimmed)."""
    return {
        CONF_PROFILE: user_input[CONF_PROFILE],
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_UNIT_ID: int(user_input[CONF_UNIT_ID]),
    }


async def _async_identify_modbus(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Errors of a connection test: none when the device answers like its kind."""
    try:
        await async_identify(
            hass,
            PROFILES[data[CONF_PROFILE]],
            data[CONF_HOST],
            data[CONF_PORT],
            data[CONF_UNIT_ID],
        )
    except ModbusError as err:
        return {"base": connection_error_key(err)}
    return {}


class ModbusDeviceOptionsFlow(OptionsFlow):
    """Options of a Modbus device: polling, timeout, retries, and the outputs' roles."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the device's options (own step id: each kind has its own options texts)."""
        return await self.async_step_modbus_device()

    async def async_step_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the options; an output has at most one role and one safe state."""
        settings = ModbusDeviceSettings.from_entry(self.config_entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            roles = _modbus_choices(
                user_input,
                {
                    CONF_INJECTION_OUTPUTS: RelayRole.INJECTION,
                    CONF_CONSUMPTION_OUTPUTS: RelayRole.CONSUMPTION,
                },
            )
            safe_states = _modbus_choices(
                user_input,
                {CONF_SAFE_ON_OUTPUTS: SafeState.ON, CONF_SAFE_OFF_OUTPUTS: SafeState.OFF},
            )
            codes = _modbus_codes(user_input, settings.profile)
            if roles is None:
                errors["base"] = "modbus_role_conflict"
            elif safe_states is None:
                errors["base"] = "modbus_safe_state_conflict"
            elif codes is None:
                errors["base"] = "modbus_invalid_codes"
            else:
                return self.async_create_entry(
                    data={
                        CONF_SCAN_INTERVAL: float(user_input[CONF_SCAN_INTERVAL]),
                        CONF_TIMEOUT: float(user_input[CONF_TIMEOUT]),
                        CONF_RETRIES: int(user_input[CONF_RETRIES]),
                        CONF_FAILED_POLLS: int(user_input[CONF_FAILED_POLLS]),
                        CONF_RELAY_ROLES: roles,
                        CONF_SAFE_STATES: safe_states,
                        CONF_CODES: codes,
                    }
                )
        current = {
            CONF_SCAN_INTERVAL: settings.scan_interval,
            CONF_TIMEOUT: settings.policy.timeout,
            CONF_RETRIES: settings.policy.retries,
            CONF_FAILED_POLLS: settings.failed_polls,
            **{
                f"{_CODES_PREFIX}{spec.key}": format_codes(spec)
                for spec in settings.profile.enumerations
            },
            CONF_INJECTION_OUTPUTS: _modbus_keys(settings.relay_roles, RelayRole.INJECTION),
            CONF_CONSUMPTION_OUTPUTS: _modbus_keys(settings.relay_roles, RelayRole.CONSUMPTION),
            CONF_SAFE_ON_OUTPUTS: _modbus_keys(settings.safe_states, SafeState.ON),
            CONF_SAFE_OFF_OUTPUTS: _modbus_keys(settings.safe_states, SafeState.OFF),
        }
        return self.async_show_form(
            step_id="modbus_device",
            data_schema=self.add_suggested_values_to_schema(
                _modbus_options_schema(settings.profile), user_input or current
            ),
            errors=errors,
        )


def _modbus_options_schema(profile: DeviceProfile) -> vol.Schema:
    """Polling fields for every device; role and safe-state fields for devices with outputs."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_SCAN_INTERVAL): NumberSelector(
            NumberSelectorConfig(
                min=0.2, max=3600, step=0.1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
            )
        ),
        vol.Required(CONF_TIMEOUT): NumberSelector(
            NumberSelectorConfig(
                min=0.1, max=30, step=0.1, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
            )
        ),
        vol.Required(CONF_RETRIES): NumberSelector(
            NumberSelectorConfig(min=0, max=5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_FAILED_POLLS, default=DEFAULT_FAILED_POLLS): NumberSelector(
            NumberSelectorConfig(min=1, max=20, mode=NumberSelectorMode.BOX)
        ),
    }
    # The codes of each enumeration (an assumption the installer confirms or corrects).
    for spec in profile.enumerations:
        fields[vol.Optional(f"{_CODES_PREFIX}{spec.key}")] = TextSelector()
    outputs = SelectSelector(
        SelectSelectorConfig(
            options=[relay.key for relay in profile.relays],
            multiple=True,
            translation_key="modbus_output",
        )
    )
    if profile.relays:
        fields[vol.Optional(CONF_INJECTION_OUTPUTS)] = outputs
        fields[vol.Optional(CONF_CONSUMPTION_OUTPUTS)] = outputs
    if profile.relays and profile.host_watchdog:
        fields[vol.Optional(CONF_SAFE_ON_OUTPUTS)] = outputs
        fields[vol.Optional(CONF_SAFE_OFF_OUTPUTS)] = outputs
    return vol.Schema(fields)


_CODES_PREFIX: Final = "codes_"


def _modbus_codes(
    user_input: Mapping[str, Any], profile: DeviceProfile
) -> dict[str, dict[str, int]] | None:
    """The installer's code maps of the profile's enumerations; None when one is invalid.

    A map left out of the form stays as ``profile`` has it.
    """
    codes: dict[str, dict[str, int]] = {}
    for spec in PROFILES[profile.kind].enumerations:
        text = user_input.get(f"{_CODES_PREFIX}{spec.key}")
        if text is None:
            current = profile.register(spec.key).options
            codes[spec.key] = {option: raw for raw, option in current.items()}
            continue
        try:
            codes[spec.key] = parse_codes(text, spec)
        except ValueError:
            return None
    return codes


def _modbus_choices[T](
    user_input: Mapping[str, Any], fields: Mapping[str, T]
) -> dict[str, T] | None:
    """Output -> choice from one multi-select per choice; None when an output is in two."""
    chosen: dict[str, T] = {}
    for field, choice in fields.items():
        for key in user_input.get(field, []):
            if key in chosen:
                return None
            chosen[key] = choice
    return chosen


def _modbus_keys[T](mapping: Mapping[str, T], wanted: T) -> list[str]:
    """The outputs given ``wanted``, to prefill a multi-select."""
    return [key for key, value in mapping.items() if value == wanted]


# Options and subentry flows of each kind (registered by kind in the sections above).
