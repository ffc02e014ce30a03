"""Fluvius Netflex data model: point map, DSO state, validation, persistence, audit, sums.

Plain Python without Home Assistant; see README.md for the shape the enforcement relies on.
"""

from .assets import Asset, AssetCategory, SiteParameters
from .audit import (
    AUDIT_CAPACITY,
    LOCAL_SOURCE,
    AuditRecord,
    AuditTrail,
    ConnectionRecord,
    connection_log,
)
from .commands import (
    Accepted,
    CommandRequest,
    CommandValue,
    Refusal,
    Refused,
    Verdict,
    apply_command,
    decide,
)
from .measurements import (
    ZERO_POWERS,
    CategoryPower,
    CategoryPowers,
    SignConvention,
    category_sums,
    to_kilo,
)
from .model import MonitorValue, NetflexModel
from .persistence import (
    AUDIT_STORAGE_VERSION,
    STATE_STORAGE_VERSION,
    StateJournal,
    dump_state,
    load_state,
)
from .points import (
    COMMAND_KEYS,
    DEFAULT_IOAS,
    DEFAULT_POINT_MAP,
    FEEDBACK_KEYS,
    INTERFACE_VERSION,
    MAX_IOA,
    MEASUREMENT_KEYS,
    Command,
    PointMap,
    PointMapError,
)
from .provider import GridOperatorModel, Provider, create_model
from .state import DsoState, PowerLimits, QMode, Reason

__all__ = [
    "AUDIT_CAPACITY",
    "AUDIT_STORAGE_VERSION",
    "COMMAND_KEYS",
    "DEFAULT_IOAS",
    "DEFAULT_POINT_MAP",
    "FEEDBACK_KEYS",
    "INTERFACE_VERSION",
    "LOCAL_SOURCE",
    "MAX_IOA",
    "MEASUREMENT_KEYS",
    "STATE_STORAGE_VERSION",
    "ZERO_POWERS",
    "Accepted",
    "Asset",
    "AssetCategory",
    "AuditRecord",
    "AuditTrail",
    "CategoryPower",
    "CategoryPowers",
    "Command",
    "CommandRequest",
    "CommandValue",
    "ConnectionRecord",
    "DsoState",
    "GridOperatorModel",
    "MonitorValue",
    "NetflexModel",
    "PointMap",
    "PointMapError",
    "PowerLimits",
    "Provider",
    "QMode",
    "Reason",
    "Refusal",
    "Refused",
    "SignConvention",
    "SiteParameters",
    "StateJournal",
    "Verdict",
    "apply_command",
    "category_sums",
    "connection_log",
    "create_model",
    "decide",
    "dump_state",
    "load_state",
    "to_kilo",
]
