"""Tests of the Netflex data model (no Home Assistant)."""
