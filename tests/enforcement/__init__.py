"""Tests of the enforcement in Home Assistant."""
