"""Modbus TCP devices: profiles as data, pure register codec, typed client over pymodbus.

No Home Assistant imports here; the HA layer is ``modbus_device.py`` at the integration's top.
"""
