"""Config flow steps, options flow and asset subentry flow of the grid operator link.

The integration's config flow (``config_flow.py``) takes the steps of ``GridLinkFlowSteps``.
"""

from __future__ import annotations

import copy
import ipaddress
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorDeviceClass
from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_NAME,
    CONF_PORT,
    UnitOfPower,
    UnitOfTime,
)
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

from ..const import CONF_KIND, EntryKind
from ..enforcement import (
    CONF_CONTROL,
    CONF_ENFORCEMENT,
    CONTROL_DEFAULTS,
    CONTROL_SCHEMA,
    DEFAULT_OPTIONS as ENFORCEMENT_DEFAULTS,
    OPTIONS_SCHEMA as ENFORCEMENT_OPTIONS_SCHEMA,
    control_data,
    enforcement_options,
    validate_control,
)
from ..iec104 import WhenFull
from ..netflex import (
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
from ..planning import (
    CONF_PLANNING,
    DEFAULT_OPTIONS as PLANNING_DEFAULTS,
    OPTIONS_SCHEMA as PLANNING_OPTIONS_SCHEMA,
    planning_options,
    validate_planning,
)
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
    SUBENTRY_ASSET,
)
from .coordinator import link_options, protocol_parameters, tls_context

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


class GridLinkFlowSteps(ConfigFlow):
    """The config flow's steps that add the grid operator link and change its settings."""

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
        # Optional only for the form: a required number shows as 0 there, and a capacity of 0
        # would make every percentage limit 0 kW. ``_positive`` requires it.
        vol.Optional(CONF_IMPORT_CAPACITY): _KILOWATT_SELECTOR,
        vol.Optional(CONF_EXPORT_CAPACITY): _KILOWATT_SELECTOR,
    }
)
_LINK_DEFAULTS: Final = {
    CONF_PROVIDER: Provider.FLUVIUS.value,
    CONF_BIND_HOST: DEFAULT_BIND_HOST,
    CONF_PORT: DEFAULT_PORT,
    CONF_COMMON_ADDRESS: DEFAULT_COMMON_ADDRESS,
}


def _positive(user_input: Mapping[str, Any], key: str, errors: dict[str, str]) -> float | None:
    """A required quantity of the form, above 0; else None and the field's error."""
    value = user_input.get(key)
    if value is None or float(value) <= 0:
        errors[key] = "positive_required"
        return None
    return float(value)


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
    }
    errors: dict[str, str] = {}
    for key in (CONF_IMPORT_CAPACITY, CONF_EXPORT_CAPACITY):
        if (capacity := _positive(user_input, key, errors)) is not None:
            data[key] = capacity
    for key in (CONF_TLS_CERTIFICATE, CONF_TLS_KEY, CONF_TLS_CLIENT_CA):
        if value := user_input.get(key, "").strip():
            data[key] = value
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
                # Kept as it is when a client leaves the section out.
                CONF_LINK: _link_section(
                    user_input.get(CONF_LINK) or link_options(self.config_entry.options)
                ),
            }
            # Prices, forecasts and tariff of the planning; kept when a client leaves it out.
            planning = user_input.get(CONF_PLANNING)
            if planning is not None:
                options[CONF_PLANNING] = planning_options(planning)
                if error := validate_planning(planning):
                    errors[CONF_PLANNING] = error
            elif CONF_PLANNING in self.config_entry.options:
                options[CONF_PLANNING] = self.config_entry.options[CONF_PLANNING]
            for section_key in _POINT_SECTIONS:
                options.update((key, int(ioa)) for key, ioa in user_input[section_key].items())
            try:
                PointMap.from_options(options)
            except PointMapError as err:
                errors["base"] = "invalid_point_map"
                placeholders["points"] = ", ".join(err.keys)
            try:
                protocol_parameters(options[CONF_LINK])
            except ValueError:
                errors[CONF_LINK] = "invalid_link_timers"
            if not errors:
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
        suggested[CONF_LINK] = link_options(self.config_entry.options)
        suggested[CONF_PLANNING] = {
            **PLANNING_DEFAULTS,
            **self.config_entry.options.get(CONF_PLANNING, {}),
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
_LINK_INTEGERS: Final = (CONF_LINK_LOST_AFTER, CONF_K, CONF_W)


def _link_section(link: Mapping[str, Any]) -> dict[str, Any]:
    """The link section as stored: windows and the link-lost time whole, timers in seconds."""
    stored: dict[str, Any] = {CONF_WHEN_FULL: link[CONF_WHEN_FULL]}
    for key in DEFAULT_LINK_OPTIONS.keys() - {CONF_WHEN_FULL}:
        stored[key] = int(link[key]) if key in _LINK_INTEGERS else float(link[key])
    return stored


def _seconds(minimum: float, maximum: float, step: float) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=UnitOfTime.SECONDS,
            mode=NumberSelectorMode.BOX,
        )
    )


_WINDOW_SELECTOR: Final = NumberSelector(
    NumberSelectorConfig(min=1, max=32767, step=1, mode=NumberSelectorMode.BOX)
)
_PROTOCOL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_WHEN_FULL): SelectSelector(
            SelectSelectorConfig(
                options=[policy.value for policy in WhenFull], translation_key="when_full"
            )
        ),
        vol.Required(CONF_LINK_LOST_AFTER): _seconds(1, 3600, 1),
        **{vol.Required(key): _seconds(0.1, 255, 0.1) for key in (CONF_T0, CONF_T1, CONF_T2)},
        vol.Required(CONF_T3): _seconds(0.1, 172800, 0.1),
        vol.Required(CONF_K): _WINDOW_SELECTOR,
        vol.Required(CONF_W): _WINDOW_SELECTOR,
    }
)
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
).extend(
    # Optional: a client that leaves it out keeps the link as it is.
    {
        vol.Optional(CONF_LINK): section(_PROTOCOL_SCHEMA, {"collapsed": True}),
        vol.Optional(CONF_PLANNING): section(PLANNING_OPTIONS_SCHEMA, {"collapsed": True}),
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
            installed_kw = _positive(user_input, CONF_INSTALLED_POWER, errors)
            if not errors and installed_kw is not None:
                name = user_input[CONF_NAME].strip()
                data = {
                    CONF_CATEGORY: user_input[CONF_CATEGORY],
                    CONF_INSTALLED_POWER: installed_kw,
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
            {CONF_INVERT_SIGN: False, CONF_CONTROL: CONTROL_DEFAULTS}
            if subentry is None
            else {
                CONF_NAME: subentry.title,
                **subentry.data,
                CONF_CONTROL: {**CONTROL_DEFAULTS, **subentry.data.get(CONF_CONTROL, {})},
            }
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
        # Optional only for the form (see the link's capacities); ``_positive`` requires it.
        vol.Optional(CONF_INSTALLED_POWER): _KILOWATT_SELECTOR,
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
