"""Tests of Grid EMS."""
