"""Configuration keys, defaults and the bus event of grid operator link entries."""

from collections.abc import Mapping
from typing import Any, Final

from ..const import DOMAIN
from ..iec104 import ProtocolParameters, WhenFull

# Entry data: what the server is built from (a change reloads the entry) and the capacities.
CONF_PROVIDER: Final = "provider"
CONF_BIND_HOST: Final = "bind_host"
CONF_COMMON_ADDRESS: Final = "common_address"
CONF_ALLOWED_CLIENTS: Final = "allowed_clients"
CONF_TLS_CERTIFICATE: Final = "tls_certificate"
CONF_TLS_KEY: Final = "tls_key"
CONF_TLS_CLIENT_CA: Final = "tls_client_ca"
CONF_IMPORT_CAPACITY: Final = "import_capacity_kw"
CONF_EXPORT_CAPACITY: Final = "export_capacity_kw"
# Entry options besides the IOAs (``DEFAULT_IOAS`` keys).
CONF_MEASUREMENT_PERIOD: Final = "measurement_period"
CONF_SIGN_CONVENTION: Final = "sign_convention"
CONF_TEST_MODE: Final = "test_mode"
CONF_LINK: Final = "link"
"""Options section of the IEC-104 link itself (any change restarts the server)."""
CONF_WHEN_FULL: Final = "when_full"
CONF_LINK_LOST_AFTER: Final = "link_lost_after"
CONF_T0: Final = "t0"
CONF_T1: Final = "t1"
CONF_T2: Final = "t2"
CONF_T3: Final = "t3"
CONF_K: Final = "k"
CONF_W: Final = "w"
# Asset subentries; the subentry title is the asset's name.
SUBENTRY_ASSET: Final = "asset"
CONF_CATEGORY: Final = "category"
CONF_INSTALLED_POWER: Final = "installed_power_kw"
CONF_P_SENSOR: Final = "p_sensor"
CONF_Q_SENSOR: Final = "q_sensor"
CONF_INVERT_SIGN: Final = "invert_sign"

DEFAULT_BIND_HOST: Final = "0.0.0.0"  # noqa: S104  (the RTU connects over the site LAN)
DEFAULT_PORT: Final = 2404
DEFAULT_COMMON_ADDRESS: Final = 100
DEFAULT_MEASUREMENT_PERIOD: Final = 30
_STANDARD: Final = ProtocolParameters()
DEFAULT_LINK_OPTIONS: Final[Mapping[str, Any]] = {
    CONF_WHEN_FULL: WhenFull.REPLACE.value,
    CONF_LINK_LOST_AFTER: 30,
    CONF_T0: _STANDARD.t0,
    CONF_T1: _STANDARD.t1,
    CONF_T2: _STANDARD.t2,
    CONF_T3: _STANDARD.t3,
    CONF_K: _STANDARD.k,
    CONF_W: _STANDARD.w,
}
"""The standard's timers and windows; the grid operator may prescribe others."""
EVENT_DSO_COMMAND: Final = f"{DOMAIN}_dso_command"
"""Fired on the bus for every command received, accepted or refused (data: ``AuditRecord``)."""
