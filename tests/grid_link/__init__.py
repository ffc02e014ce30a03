"""Tests of the grid operator link in a Home Assistant test instance."""
