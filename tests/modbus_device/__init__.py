"""Tests of the Modbus device entries in Home Assistant, against the simulators."""
