"""Errors of the Modbus client, each with a translation key the Home Assistant layer shows.

``translation_key`` names an entry under ``exceptions`` in the integration's translations;
``placeholders`` fill it. The English text is also the exception's ``str`` for logs.
"""

from __future__ import annotations

from typing import Final

EXCEPTION_NAMES: Final = {
    0x01: "illegal_function",
    0x02: "illegal_data_address",
    0x03: "illegal_data_value",
    0x04: "device_failure",
    0x05: "acknowledge",
    0x06: "device_busy",
    0x0A: "gateway_path_unavailable",
    0x0B: "gateway_no_response",
}
_EXCEPTION_TEXTS: Final = {
    0x01: "the device does not support this function",
    0x02: "the device has no such register",
    0x03: "the device refused the value",
    0x04: "the device failed to process the request",
    0x05: "the device accepted the request but has not finished it",
    0x06: "the device is busy",
    0x0A: "the gateway has no path to this unit id",
    0x0B: "the unit id behind the gateway does not answer",
}
GATEWAY_EXCEPTIONS: Final = frozenset({0x0A, 0x0B})


class ModbusError(Exception):
    """A Modbus request that did not succeed."""

    translation_key = "modbus_error"

    def __init__(self, message: str, **placeholders: str) -> None:
        """Keep the placeholders for the translated message."""
        super().__init__(message)
        self.placeholders = placeholders


class ModbusConnectionError(ModbusError):
    """The TCP connection could not be opened or was lost."""

    translation_key = "modbus_cannot_connect"

    def __init__(self, host: str, port: int, reason: str) -> None:
        """Say which host refused and why."""
        super().__init__(
            f"Cannot connect to {host}:{port}: {reason}", host=host, port=str(port), reason=reason
        )


class ModbusTimeoutError(ModbusError):
    """The device did not answer in time."""

    translation_key = "modbus_timeout"

    def __init__(self, host: str, port: int, unit_id: int, timeout: float) -> None:
        """Say which unit was silent for how long."""
        super().__init__(
            f"Unit {unit_id} at {host}:{port} did not answer within {timeout:g} s",
            host=host,
            port=str(port),
            unit_id=str(unit_id),
            timeout=f"{timeout:g}",
        )


class ModbusExceptionError(ModbusError):
    """The device answered with a Modbus exception."""

    def __init__(self, code: int, function_code: int, address: int) -> None:
        """Keep the exception code; the translation key names it."""
        self.code = code
        text = _EXCEPTION_TEXTS.get(code, "the device reported an error")
        super().__init__(
            f"Modbus exception 0x{code:02X} ({text}) for function 0x{function_code:02X} "
            f"at address {address}",
            code=f"0x{code:02X}",
            function=f"0x{function_code:02X}",
            address=str(address),
        )
        self.translation_key = f"modbus_exception_{EXCEPTION_NAMES.get(code, 'other')}"


class ModbusInvalidResponseError(ModbusError):
    """The device answered with something that is not a valid reply to the request."""

    translation_key = "modbus_invalid_response"

    def __init__(self, detail: str) -> None:
        """Keep what was wrong."""
        super().__init__(f"Invalid Modbus response: {detail}", detail=detail)


class ModbusValueError(ModbusError):
    """A value cannot be written to a register (wrong type or out of range)."""

    translation_key = "modbus_invalid_value"

    def __init__(self, value: object) -> None:
        """Keep the offending value."""
        super().__init__(f"Value {value!r} cannot be written to this register", value=str(value))


class ModbusReadbackError(ModbusError):
    """A written value read back different: the device did not take the write."""

    translation_key = "modbus_readback_mismatch"

    def __init__(self, key: str, written: object, read_back: object) -> None:
        """Keep both values."""
        super().__init__(
            f"{key}: wrote {written!r} but read back {read_back!r}",
            key=key,
            written=str(written),
            read_back=str(read_back),
        )


class ModbusWrongDeviceError(ModbusError):
    """The device answers, but not like a device of the selected kind."""

    translation_key = "modbus_wrong_device"

    def __init__(self, model: str, detail: str) -> None:
        """Say which kind was expected and what did not fit."""
        super().__init__(f"This is not a {model}: {detail}", model=model, detail=detail)
