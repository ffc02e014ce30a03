"""The services of Modbus devices: read or write any register, checked against the profile."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import voluptuous as vol
from homeassistant.core import ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..const import DOMAIN
from ..modbus.codec import number_to_words, words_to_number
from ..modbus.errors import ModbusError, ModbusValueError
from ..modbus.profile import DataType, Table, WordOrder
from ..service_call import ATTR_CONFIG_ENTRY_ID, ATTR_VALUE, loaded_runtime_data
from .coordinator import ModbusDeviceData, translated_error

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.util.json import JsonValueType


SERVICE_READ_REGISTER: Final = "read_register"
SERVICE_WRITE_REGISTER: Final = "write_register"
ATTR_TABLE: Final = "table"
ATTR_ADDRESS: Final = "address"
ATTR_COUNT: Final = "count"
ATTR_DATA_TYPE: Final = "data_type"
ATTR_WORD_ORDER: Final = "word_order"
ATTR_FORCE: Final = "force"

_REGISTER_FIELDS: Final = {
    vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Required(ATTR_ADDRESS): vol.All(vol.Coerce(int), vol.Range(min=0, max=0xFFFF)),
    vol.Optional(ATTR_DATA_TYPE, default=DataType.UINT16.value): vol.In(
        [data_type.value for data_type in DataType if data_type is not DataType.BOOL]
    ),
    vol.Optional(ATTR_WORD_ORDER, default=WordOrder.HIGH_FIRST.value): vol.In(
        [order.value for order in WordOrder]
    ),
}
READ_REGISTER_SCHEMA: Final = vol.Schema(
    {
        **_REGISTER_FIELDS,
        vol.Optional(ATTR_TABLE, default=Table.HOLDING_REGISTER.value): vol.In(
            [table.value for table in Table]
        ),
        vol.Optional(ATTR_COUNT, default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=125)),
    }
)
WRITE_REGISTER_SCHEMA: Final = vol.Schema(
    {
        **_REGISTER_FIELDS,
        vol.Optional(ATTR_TABLE, default=Table.HOLDING_REGISTER.value): vol.In(
            [Table.HOLDING_REGISTER.value, Table.COIL.value]
        ),
        vol.Required(ATTR_VALUE): vol.Coerce(float),
        vol.Optional(ATTR_FORCE, default=False): cv.boolean,
    }
)


def _modbus_invalid(translation_key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=translation_key,
        translation_placeholders=placeholders,
    )


def _finite(number: float) -> float | None:
    """JSON has no NaN or infinity: a float register holding one reads as None."""
    return number if math.isfinite(number) else None


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services that read and write any register of a Modbus device."""

    async def async_read_register(call: ServiceCall) -> ServiceResponse:
        """Read any registers of a Modbus device (commissioning), decoded and raw."""
        data = loaded_runtime_data(call, ModbusDeviceData, "not_a_loaded_modbus_device")
        device = data.coordinator.device
        table = Table(call.data[ATTR_TABLE])
        data_type = DataType(call.data[ATTR_DATA_TYPE])
        order = WordOrder(call.data[ATTR_WORD_ORDER])
        address = call.data[ATTR_ADDRESS]
        width = 1 if table.is_bits else data_type.words
        span = call.data[ATTR_COUNT] * width
        if address + span > 0x10000 or span > 125:
            raise _modbus_invalid("modbus_span_too_long", address=str(address), count=str(span))
        try:
            raw = await device.read_raw(table, address, span)
        except ModbusError as err:
            raise translated_error(err) from err
        registers: list[JsonValueType] = [int(item) for item in raw]
        values: list[JsonValueType] = (
            [bool(bit) for bit in raw]
            if table.is_bits
            else [
                _finite(
                    words_to_number(data_type, order, [int(word) for word in raw[i : i + width]])
                )
                for i in range(0, span, width)
            ]
        )
        return {"values": values, "registers": registers}

    async def async_write_register(call: ServiceCall) -> None:
        """Write a register or coil of a Modbus device (commissioning).

        Registers the device's profile manages are refused unless ``force`` is set: the
        integration writes those itself and a stray write would fight it.
        """
        data = loaded_runtime_data(call, ModbusDeviceData, "not_a_loaded_modbus_device")
        table = Table(call.data[ATTR_TABLE])
        data_type = DataType(call.data[ATTR_DATA_TYPE])
        address = call.data[ATTR_ADDRESS]
        value = call.data[ATTR_VALUE]
        width = 1 if table.is_bits else data_type.words
        managed = data.profile.manages(table, address, width)
        if managed and not call.data[ATTR_FORCE]:
            raise _modbus_invalid(
                "modbus_managed_register", registers=", ".join(spec.key for spec in managed)
            )
        if table.is_bits and value not in (0, 1):
            raise _modbus_invalid("modbus_invalid_coil_value", value=f"{value:g}")
        if data_type is not DataType.FLOAT32 and not value.is_integer():
            raise _modbus_invalid("modbus_invalid_value", value=f"{value:g}")
        try:
            words = (
                [int(value)]
                if table.is_bits
                else number_to_words(
                    data_type,
                    WordOrder(call.data[ATTR_WORD_ORDER]),
                    value if data_type is DataType.FLOAT32 else int(value),
                )
            )
        except ModbusValueError as err:
            raise _modbus_invalid("modbus_invalid_value", value=f"{value:g}") from err
        try:
            await data.coordinator.device.write_raw(table, address, words)
        except ModbusError as err:
            raise translated_error(err) from err
        await data.coordinator.async_request_refresh()

    hass.services.async_register(
        DOMAIN,
        SERVICE_READ_REGISTER,
        async_read_register,
        schema=READ_REGISTER_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_WRITE_REGISTER,
        async_write_register,
        schema=WRITE_REGISTER_SCHEMA,
    )
