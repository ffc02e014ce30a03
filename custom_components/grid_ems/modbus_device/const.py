"""Configuration keys and defaults of Modbus device entries."""

from typing import Final

from ..modbus.client import RetryPolicy

CONF_PROFILE: Final = "profile"
CONF_UNIT_ID: Final = "unit_id"
CONF_RETRIES: Final = "retries"
CONF_RELAY_ROLES: Final = "relay_roles"
CONF_SAFE_STATES: Final = "safe_states"
CONF_FAILED_POLLS: Final = "failed_polls"
CONF_CODES: Final = "codes"
DEFAULT_FAILED_POLLS: Final = 3
"""Consecutive failed polls before a device's entities become unavailable."""
MAX_BACKOFF_S: Final = 60.0
"""A device that stops answering is polled less and less often, down to once in this long."""
DEFAULT_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 1
DEFAULT_POLICY: Final = RetryPolicy()
# The config flow's test asks once: the user is waiting, and a retry would not change the answer.
IDENTIFY_POLICY = RetryPolicy(timeout=3.0, retries=0)
# A scan asks each of 247 unit ids once, four at a time: 0.5 s each keeps it near half a minute.
SCAN_REQUEST_TIMEOUT = 0.5
