"""Tests of the Modbus library (profiles, codec, client, scan) and the Modbus simulators."""
