"""Configuration keys and defaults of P1 meter entries."""

from typing import Final

TITLE: Final = "P1 meter"
CONF_UPDATE_INTERVAL: Final = "update_interval"
DEFAULT_UPDATE_INTERVAL: Final = 0
"""Seconds between entity updates; 0 updates the entities on every telegram (every second)."""
MAX_UPDATE_INTERVAL: Final = 3600
CONF_CONNECTION_CAPACITY: Final = "connection_capacity_kw"
"""What the grid connection can carry (kW): readings above it, or counters rising faster, are
refused. Unset: the most a DSMR power value can write (99.999 kW)."""
