"""Typed runtime data of the config entries of Grid EMS."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .grid_link import GridLinkData
from .modbus_device import ModbusDeviceData
from .p1_meter import P1MeterData

type GridEmsRuntimeData = P1MeterData | ModbusDeviceData | GridLinkData
type GridEmsConfigEntry = ConfigEntry[GridEmsRuntimeData]
