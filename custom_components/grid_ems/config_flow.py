"""Config flow for Grid EMS: one entry per P1 meter, Modbus device or grid operator link."""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import FlowHandler, section
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
)

from . import modbus_device, p1_meter
from .const import CONF_KIND, DOMAIN, EntryKind
from .enforcement import (
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONTROL_SCHEMA,
    DEFAULT_OPTIONS as ENFORCEMENT_DEFAULTS,
    OPTIONS_SCHEMA as ENFORCEMENT_OPTIONS_SCHEMA,
    control_data,
    enforcement_options,
    validate_control,
)
from .grid_link import (
    CONF_ALLOWED_CLIENTS,
    CONF_BIND_HOST,
    CONF_CATEGORY,
    CONF_COMMON_ADDRESS,
    CONF_EXPORT_CAPACITY,
    CONF_IMPORT_CAPACITY,
    CONF_INSTALLED_POWER,
    CONF_INVERT_SIGN,
    CONF_MEASUREMENT_PERIOD,
    CONF_P_SENSOR,
    CONF_PROVIDER,
    CONF_Q_SENSOR,
    CONF_SIGN_CONVENTION,
    CONF_TEST_MODE,
    CONF_TLS_CERTIFICATE,
    CONF_TLS_CLIENT_CA,
    CONF_TLS_KEY,
    DEFAULT_BIND_HOST,
    DEFAULT_COMMON_ADDRESS,
    DEFAULT_MEASUREMENT_PERIOD,
    DEFAULT_PORT,
    SUBENTRY_ASSET,
    tls_context,
)
from .modbus.errors import ModbusError
from .modbus.profile import DeviceProfile, RelayRole, SafeState
from .modbus.profiles import PROFILES
from .modbus.scan import ScanReport
from .netflex import (
    COMMAND_KEYS,
    DEFAULT_IOAS,
    FEEDBACK_KEYS,
    MAX_IOA,
    MEASUREMENT_KEYS,
    AssetCategory,
    PointMap,
    PointMapError,
    Provider,
    SignConvention,
    to_kilo,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigSubentry
    from homeassistant.core import HomeAssistant


def _with_suggestions(
    flow: FlowHandler[Any, Any, Any], schema: vol.Schema, suggested: Mapping[str, Any]
) -> vol.Schema:
    """The schema with suggested values, its sections copied first.

    Home Assistant 2025.4 writes a section's suggestions into the section object itself, so a
    module-level schema would carry one form's values into the next (another asset's control).
    """
    fresh = vol.Schema(
        {
            key: copy.copy(value) if isinstance(value, section) else value
            for key, value in schema.schema.items()
        }
    )
    return flow.add_suggested_values_to_schema(fresh, suggested)


class GridEmsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a P1 meter, a Modbus device or the grid operator link."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(step_id="user", menu_options=[kind.value for kind in EntryKind])

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Route to the reconfigure step of the entry's kind."""
        steps: dict[EntryKind, Callable[[], Awaitable[ConfigFlowResult]]] = {
            EntryKind.P1_METER: self.async_step_reconfigure_p1_meter,
            EntryKind.MODBUS_DEVICE: self.async_step_reconfigure_modbus_device,
            EntryKind.GRID_LINK: self.async_step_reconfigure_grid_link,
        }
        return await steps[EntryKind(self._get_reconfigure_entry().data[CONF_KIND])]()

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of the entry's kind."""
        return _OPTIONS_FLOWS[EntryKind(config_entry.data[CONF_KIND])]()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Offer options only for the kinds that have an options flow."""
        return EntryKind(config_entry.data[CONF_KIND]) in _OPTIONS_FLOWS

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentry flows of the entry's kind (the link's assets)."""
        return _SUBENTRY_FLOWS.get(EntryKind(config_entry.data[CONF_KIND]), {})

    # --- P1 meter ---

    async def async_step_p1_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a P1 meter: read a telegram from the port; the meter's identifier is unique."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = user_input[CONF_PORT].strip()
            try:
                identifier = await p1_meter.async_identify_meter(port)
            except p1_meter.P1ProbeError as err:
                errors["base"] = err.error
            else:
                await self.async_set_unique_id(identifier)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=p1_meter.TITLE,
                    data={CONF_KIND: EntryKind.P1_METER, CONF_PORT: port},
                    options={p1_meter.CONF_UPDATE_INTERVAL: p1_meter.DEFAULT_UPDATE_INTERVAL},
                )
        return self.async_show_form(
            step_id="p1_meter",
            data_schema=self.add_suggested_values_to_schema(_P1_SCHEMA, user_input),
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
                identifier = await p1_meter.async_identify_meter(port)
            except p1_meter.P1ProbeError as err:
                errors["base"] = err.error
            else:
                await self.async_set_unique_id(identifier)
                self._abort_if_unique_id_mismatch(reason="p1_wrong_meter")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_PORT: port})
        return self.async_show_form(
            step_id="reconfigure_p1_meter",
            data_schema=self.add_suggested_values_to_schema(_P1_SCHEMA, user_input or entry.data),
            errors=errors,
        )

    # --- Modbus device ---

    _modbus_input: dict[str, Any]
    _modbus_scan: asyncio.Task[ScanReport] | None = None

    async def async_step_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a Modbus device: kind, host, port and unit id, tested before the entry exists.

        Ticking "scan" probes unit ids 1..247 on the host, with progress shown in this step, and
        then lets the user pick one of those that answered.
        """
        if self._modbus_scan is not None:
            return self._modbus_scan_progress()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._modbus_input = data = _modbus_address(user_input)
            if user_input[CONF_MODBUS_SCAN]:
                profile = PROFILES[data[modbus_device.CONF_PROFILE]]
                self._modbus_scan = self.hass.async_create_task(
                    modbus_device.async_scan(self.hass, profile, data[CONF_HOST], data[CONF_PORT])
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
                _MODBUS_DEVICE_SCHEMA, user_input or _MODBUS_DEVICE_DEFAULTS
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
            data[modbus_device.CONF_UNIT_ID] = int(user_input[modbus_device.CONF_UNIT_ID])
            errors = await _async_identify_modbus(self.hass, data)
            if not errors:
                return await self._async_create_modbus_entry(data)
            return self._modbus_device_form(data | {CONF_MODBUS_SCAN: False}, errors)
        assert self._modbus_scan is not None
        scan, self._modbus_scan = self._modbus_scan, None
        try:
            report = scan.result()
        except ModbusError as err:
            return self._modbus_device_form(data, {"base": modbus_device.connection_error_key(err)})
        found = [str(hit.unit_id) for hit in report.hits if hit.matches]
        if not found:
            return self._modbus_device_form(data, {"base": "modbus_scan_nothing_found"})
        others = [str(hit.unit_id) for hit in report.hits if not hit.matches]
        return self.async_show_form(
            step_id="modbus_scan_result",
            data_schema=vol.Schema(
                {
                    vol.Required(modbus_device.CONF_UNIT_ID, default=found[0]): SelectSelector(
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
        await self.async_set_unique_id(modbus_device.unique_id(data))
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=modbus_device.entry_title(data),
            data={CONF_KIND: EntryKind.MODBUS_DEVICE, **data},
        )

    async def async_step_reconfigure_modbus_device(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move a Modbus device to another host, port or unit id (tested first)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _modbus_address(
                user_input | {modbus_device.CONF_PROFILE: entry.data[modbus_device.CONF_PROFILE]}
            )
            unique_id = modbus_device.unique_id(data)
            if any(
                other.unique_id == unique_id and other.entry_id != entry.entry_id
                for other in self._async_current_entries(include_ignore=False)
            ):
                return self.async_abort(reason="already_configured")
            errors = await _async_identify_modbus(self.hass, data)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=unique_id,
                    title=modbus_device.entry_title(data),
                    data_updates=data,
                )
        return self.async_show_form(
            step_id="reconfigure_modbus_device",
            data_schema=self.add_suggested_values_to_schema(
                _MODBUS_ADDRESS_SCHEMA, user_input or entry.data
            ),
            errors=errors,
        )

    # --- Grid operator link ---

    async def async_step_grid_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the grid operator link: IEC-104 server settings and contractual capacities."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await _async_validate_link(self.hass, user_input)
            if not errors:
                await self.async_set_unique_id(EntryKind.GRID_LINK)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=f"Grid operator link ({Provider(data[CONF_PROVIDER]).title()})",
                    data=data,
                )
        return self.async_show_form(
            step_id="grid_link",
            data_schema=self.add_suggested_values_to_schema(
                _LINK_SCHEMA, user_input or _LINK_DEFAULTS
            ),
            errors=errors,
        )

    async def async_step_reconfigure_grid_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the link's server settings (restarts it) or capacities (applied in place)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await _async_validate_link(self.hass, user_input)
            if not errors:
                # The link's update listener restarts the server only if its settings changed.
                self.hass.config_entries.async_update_entry(entry, data=data)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure_grid_link",
            data_schema=self.add_suggested_values_to_schema(
                _LINK_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
        )


_KILOWATT_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(
        min=0, step="any", unit_of_measurement=UnitOfPower.KILO_WATT, mode=NumberSelectorMode.BOX
    )
)
_LINK_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_PROVIDER): SelectSelector(
            SelectSelectorConfig(
                options=[provider.value for provider in Provider], translation_key="provider"
            )
        ),
        vol.Required(CONF_BIND_HOST): TextSelector(),
        # Port 0 picks a free port: for tests and tools, never for an RTU.
        vol.Required(CONF_PORT): NumberSelector(
            NumberSelectorConfig(min=0, max=65535, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_COMMON_ADDRESS): NumberSelector(
            NumberSelectorConfig(min=1, max=65534, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_ALLOWED_CLIENTS): TextSelector(TextSelectorConfig(multiple=True)),
        vol.Optional(CONF_TLS_CERTIFICATE): TextSelector(),
        vol.Optional(CONF_TLS_KEY): TextSelector(),
        vol.Optional(CONF_TLS_CLIENT_CA): TextSelector(),
        vol.Required(CONF_IMPORT_CAPACITY): _KILOWATT_SELECTOR,
        vol.Required(CONF_EXPORT_CAPACITY): _KILOWATT_SELECTOR,
    }
)
_LINK_DEFAULTS: Final = {
    CONF_PROVIDER: Provider.FLUVIUS.value,
    CONF_BIND_HOST: DEFAULT_BIND_HOST,
    CONF_PORT: DEFAULT_PORT,
    CONF_COMMON_ADDRESS: DEFAULT_COMMON_ADDRESS,
}


async def _async_validate_link(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Normalize the link form and return its entry data and the errors by field."""
    data: dict[str, Any] = {
        CONF_KIND: EntryKind.GRID_LINK.value,
        CONF_PROVIDER: user_input[CONF_PROVIDER],
        CONF_BIND_HOST: user_input[CONF_BIND_HOST].strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        CONF_COMMON_ADDRESS: int(user_input[CONF_COMMON_ADDRESS]),
        CONF_ALLOWED_CLIENTS: [
            client.strip() for client in user_input.get(CONF_ALLOWED_CLIENTS, []) if client.strip()
        ],
        CONF_IMPORT_CAPACITY: float(user_input[CONF_IMPORT_CAPACITY]),
        CONF_EXPORT_CAPACITY: float(user_input[CONF_EXPORT_CAPACITY]),
    }
    for key in (CONF_TLS_CERTIFICATE, CONF_TLS_KEY, CONF_TLS_CLIENT_CA):
        if value := user_input.get(key, "").strip():
            data[key] = value
    errors: dict[str, str] = {}
    try:
        ipaddress.ip_address(data[CONF_BIND_HOST])
    except ValueError:
        errors[CONF_BIND_HOST] = "invalid_bind_host"
    try:
        for client in data[CONF_ALLOWED_CLIENTS]:
            ipaddress.ip_network(client, strict=False)
    except ValueError:
        errors[CONF_ALLOWED_CLIENTS] = "invalid_allowed_clients"
    has_certificate = CONF_TLS_CERTIFICATE in data
    if has_certificate != (CONF_TLS_KEY in data) or (
        CONF_TLS_CLIENT_CA in data and not has_certificate
    ):
        errors["base"] = "tls_incomplete"
    elif has_certificate:
        try:
            await hass.async_add_executor_job(tls_context, data)
        except (OSError, ssl.SSLError):
            errors["base"] = "tls_invalid"
    return data, errors


class GridLinkOptionsFlow(OptionsFlow):
    """Options of the grid operator link: reporting, test mode and every IOA of the point map."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the link's options (own step id: each kind has its own options texts)."""
        return await self.async_step_grid_link()

    async def async_step_grid_link(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the options; IOAs must stay unique."""
        errors: dict[str, str] = {}
        placeholders = {"points": ""}
        if user_input is not None:
            options: dict[str, Any] = {
                CONF_MEASUREMENT_PERIOD: int(user_input[CONF_MEASUREMENT_PERIOD]),
                CONF_SIGN_CONVENTION: user_input[CONF_SIGN_CONVENTION],
                CONF_TEST_MODE: user_input[CONF_TEST_MODE],
                # Enforcement (loop tuning and fail-safe), see enforcement.py.
                CONF_ENFORCEMENT: enforcement_options(user_input[CONF_ENFORCEMENT]),
            }
            for section_key in _POINT_SECTIONS:
                options.update((key, int(ioa)) for key, ioa in user_input[section_key].items())
            try:
                PointMap.from_options(options)
            except PointMapError as err:
                errors["base"] = "invalid_point_map"
                placeholders["points"] = ", ".join(err.keys)
            else:
                return self.async_create_entry(data=options)
        current = {
            CONF_MEASUREMENT_PERIOD: DEFAULT_MEASUREMENT_PERIOD,
            CONF_SIGN_CONVENTION: SignConvention.PRODUCTION_POSITIVE.value,
            CONF_TEST_MODE: False,
            **DEFAULT_IOAS,
            **self.config_entry.options,
        }
        suggested = {key: current[key] for key in _RUNTIME_OPTIONS} | {
            section_key: {key: current[key] for key in keys}
            for section_key, keys in _POINT_SECTIONS.items()
        }
        suggested[CONF_ENFORCEMENT] = {
            **ENFORCEMENT_DEFAULTS,
            **self.config_entry.options.get(CONF_ENFORCEMENT, {}),
        }
        return self.async_show_form(
            step_id="grid_link",
            data_schema=_with_suggestions(self, _LINK_OPTIONS_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )


_RUNTIME_OPTIONS: Final = (CONF_MEASUREMENT_PERIOD, CONF_SIGN_CONVENTION, CONF_TEST_MODE)
_POINT_SECTIONS: Final = {
    "command_points": COMMAND_KEYS,
    "feedback_points": FEEDBACK_KEYS,
    "measurement_points": MEASUREMENT_KEYS,
}
_IOA_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(min=1, max=MAX_IOA, step=1, mode=NumberSelectorMode.BOX)
)
_LINK_OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_MEASUREMENT_PERIOD): NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=3600,
                step=1,
                unit_of_measurement=UnitOfTime.SECONDS,
                mode=NumberSelectorMode.BOX,
            )
        ),
        vol.Required(CONF_SIGN_CONVENTION): SelectSelector(
            SelectSelectorConfig(
                options=[convention.value for convention in SignConvention],
                translation_key="sign_convention",
            )
        ),
        vol.Required(CONF_TEST_MODE): BooleanSelector(),
        **{
            vol.Required(section_key): section(
                vol.Schema({vol.Required(key): _IOA_SELECTOR for key in keys}),
                {"collapsed": True},
            )
            for section_key, keys in _POINT_SECTIONS.items()
        },
        vol.Required(CONF_ENFORCEMENT): section(ENFORCEMENT_OPTIONS_SCHEMA, {"collapsed": True}),
    }
)


class AssetSubentryFlow(ConfigSubentryFlow):
    """Add or edit an asset of the site: what the category measurements sum over."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add an asset."""
        return await self._async_step_asset("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an asset; the link applies it without restarting."""
        return await self._async_step_asset(
            "reconfigure", user_input, self._get_reconfigure_subentry()
        )

    async def _async_step_asset(
        self,
        step_id: str,
        user_input: dict[str, Any] | None,
        subentry: ConfigSubentry | None,
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._validate_asset(user_input, subentry)
            if not errors:
                name = user_input[CONF_NAME].strip()
                data = {
                    CONF_CATEGORY: user_input[CONF_CATEGORY],
                    CONF_INSTALLED_POWER: float(user_input[CONF_INSTALLED_POWER]),
                    CONF_P_SENSOR: user_input[CONF_P_SENSOR],
                    CONF_INVERT_SIGN: user_input[CONF_INVERT_SIGN],
                }
                if q_sensor := user_input.get(CONF_Q_SENSOR):
                    data[CONF_Q_SENSOR] = q_sensor
                # How the enforcement controls the asset (enforcement.py).
                if control := control_data(user_input.get(CONF_CONTROL, {})):
                    data[CONF_CONTROL] = control
                if subentry is None:
                    return self.async_create_entry(title=name, data=data)
                return self.async_update_and_abort(
                    self._get_entry(), subentry, title=name, data=data
                )
        suggested: Mapping[str, Any] = user_input or (
            {CONF_INVERT_SIGN: False}
            if subentry is None
            else {CONF_NAME: subentry.title, **subentry.data}
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=_with_suggestions(self, _ASSET_SCHEMA, suggested),
            errors=errors,
        )

    def _validate_asset(
        self, user_input: Mapping[str, Any], subentry: ConfigSubentry | None
    ) -> dict[str, str]:
        """A P sensor counts for one asset only, and its unit must convert to kW/kvar."""
        errors: dict[str, str] = {}
        if not user_input[CONF_NAME].strip():
            errors[CONF_NAME] = "name_required"
        others = (
            other
            for other in self._get_entry().subentries.values()
            if other.subentry_type == SUBENTRY_ASSET
            and (subentry is None or other.subentry_id != subentry.subentry_id)
        )
        if any(other.data[CONF_P_SENSOR] == user_input[CONF_P_SENSOR] for other in others):
            errors[CONF_P_SENSOR] = "sensor_in_use"
        for key in (CONF_P_SENSOR, CONF_Q_SENSOR):
            entity_id = user_input.get(key)
            state = self.hass.states.get(entity_id) if entity_id else None
            if state is not None and (
                to_kilo(0.0, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)) is None
            ):
                errors.setdefault(key, "unsupported_unit")
        # Enforcement: the control section's errors show on the section.
        control = control_data(user_input.get(CONF_CONTROL, {}))
        category = AssetCategory(user_input[CONF_CATEGORY])
        if control_errors := validate_control(self.hass, category, control):
            errors[CONF_CONTROL] = next(iter(control_errors.values()))
        return errors


_ASSET_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_CATEGORY): SelectSelector(
            SelectSelectorConfig(
                options=[category.value for category in AssetCategory],
                translation_key="asset_category",
            )
        ),
        vol.Required(CONF_INSTALLED_POWER): _KILOWATT_SELECTOR,
        vol.Required(CONF_P_SENSOR): EntitySelector(
            EntitySelectorConfig(domain=SENSOR_DOMAIN, device_class=SensorDeviceClass.POWER)
        ),
        vol.Optional(CONF_Q_SENSOR): EntitySelector(
            EntitySelectorConfig(
                domain=SENSOR_DOMAIN, device_class=SensorDeviceClass.REACTIVE_POWER
            )
        ),
        vol.Required(CONF_INVERT_SIGN): BooleanSelector(),
        vol.Optional(CONF_CONTROL): section(CONTROL_SCHEMA, {"collapsed": True}),
    }
)


# --- P1 meter ---

_P1_SCHEMA: Final = vol.Schema({vol.Required(CONF_PORT): TextSelector()})
_P1_OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(p1_meter.CONF_UPDATE_INTERVAL): NumberSelector(
            NumberSelectorConfig(
                min=0,
                max=p1_meter.MAX_UPDATE_INTERVAL,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=UnitOfTime.SECONDS,
            )
        )
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
        """Edit the entity update interval (0: every telegram)."""
        if user_input is not None:
            interval = int(user_input[p1_meter.CONF_UPDATE_INTERVAL])
            return self.async_create_entry(data={p1_meter.CONF_UPDATE_INTERVAL: interval})
        current = {
            p1_meter.CONF_UPDATE_INTERVAL: p1_meter.DEFAULT_UPDATE_INTERVAL,
            **self.config_entry.options,
        }
        return self.async_show_form(
            step_id="p1_meter",
            data_schema=self.add_suggested_values_to_schema(_P1_OPTIONS_SCHEMA, current),
        )


# --- Modbus device ---

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
        vol.Required(modbus_device.CONF_UNIT_ID): NumberSelector(
            NumberSelectorConfig(min=0, max=255, mode=NumberSelectorMode.BOX)
        ),
    }
)
_MODBUS_DEVICE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(modbus_device.CONF_PROFILE): SelectSelector(
            SelectSelectorConfig(options=list(PROFILES), translation_key="modbus_profile")
        ),
        **_MODBUS_ADDRESS_SCHEMA.schema,
        vol.Required(CONF_MODBUS_SCAN): BooleanSelector(),
    }
)
_MODBUS_DEVICE_DEFAULTS: Final = {
    CONF_PORT: modbus_device.DEFAULT_PORT,
    modbus_device.CONF_UNIT_ID: modbus_device.DEFAULT_UNIT_ID,
    CONF_MODBUS_SCAN: False,
}


def _modbus_address(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The entry data of a Modbus device from a form (numbers as ints, host trimmed)."""
    return {
        modbus_device.CONF_PROFILE: user_input[modbus_device.CONF_PROFILE],
        CONF_HOST: str(user_input[CONF_HOST]).strip(),
        CONF_PORT: int(user_input[CONF_PORT]),
        modbus_device.CONF_UNIT_ID: int(user_input[modbus_device.CONF_UNIT_ID]),
    }


async def _async_identify_modbus(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """Errors of a connection test: none when the device answers like its kind."""
    try:
        await modbus_device.async_identify(
            hass,
            PROFILES[data[modbus_device.CONF_PROFILE]],
            data[CONF_HOST],
            data[CONF_PORT],
            data[modbus_device.CONF_UNIT_ID],
        )
    except ModbusError as err:
        return {"base": modbus_device.connection_error_key(err)}
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
        settings = modbus_device.ModbusDeviceSettings.from_entry(self.config_entry)
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
                        modbus_device.CONF_RETRIES: int(user_input[modbus_device.CONF_RETRIES]),
                        modbus_device.CONF_FAILED_POLLS: int(
                            user_input[modbus_device.CONF_FAILED_POLLS]
                        ),
                        modbus_device.CONF_RELAY_ROLES: roles,
                        modbus_device.CONF_SAFE_STATES: safe_states,
                        modbus_device.CONF_CODES: codes,
                    }
                )
        current = {
            CONF_SCAN_INTERVAL: settings.scan_interval,
            CONF_TIMEOUT: settings.policy.timeout,
            modbus_device.CONF_RETRIES: settings.policy.retries,
            modbus_device.CONF_FAILED_POLLS: settings.failed_polls,
            **{
                f"{_CODES_PREFIX}{spec.key}": modbus_device.format_codes(spec)
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
        vol.Required(modbus_device.CONF_RETRIES): NumberSelector(
            NumberSelectorConfig(min=0, max=5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(
            modbus_device.CONF_FAILED_POLLS, default=modbus_device.DEFAULT_FAILED_POLLS
        ): NumberSelector(NumberSelectorConfig(min=1, max=20, mode=NumberSelectorMode.BOX)),
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
            codes[spec.key] = modbus_device.parse_codes(text, spec)
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
_OPTIONS_FLOWS: Final[dict[EntryKind, Callable[[], OptionsFlow]]] = {
    EntryKind.MODBUS_DEVICE: ModbusDeviceOptionsFlow,
    EntryKind.P1_METER: P1MeterOptionsFlow,
    EntryKind.GRID_LINK: GridLinkOptionsFlow,
}
_SUBENTRY_FLOWS: Final[dict[EntryKind, dict[str, type[ConfigSubentryFlow]]]] = {
    EntryKind.GRID_LINK: {SUBENTRY_ASSET: AssetSubentryFlow},
}
