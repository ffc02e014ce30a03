"""Configuration keys and defaults of P1 meter entries."""

from typing import Final

TITLE: Final = "P1 meter"
CONF_UPDATE_INTERVAL: Final = "update_interval"
DEFAULT_UPDATE_INTERVAL: Final = 0
"""Seconds between entity updates; 0 updates the entities on every telegram (every second)."""
MAX_UPDATE_INTERVAL: Final = 3600
