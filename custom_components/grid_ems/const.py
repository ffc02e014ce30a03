"""Constants shared by every part of Grid EMS."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "grid_ems"
TITLE: Final = "Grid EMS"

CONF_KIND: Final = "kind"


class EntryKind(StrEnum):
    """What a config entry of Grid EMS stands for: one device or the grid operator link."""

    P1_METER = "p1_meter"
    MODBUS_DEVICE = "modbus_device"
    GRID_LINK = "grid_link"
