"""The device profiles Grid EMS ships, by kind; adding a device kind means adding one here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ..profile import DeviceProfile
from . import acuvim2, moxa_e1200, powerpack

PROFILES: Final[Mapping[str, DeviceProfile]] = {
    profile.kind: profile
    for profile in (
        powerpack.PROFILE,
        acuvim2.PROFILE,
        moxa_e1200.E1211,
        moxa_e1200.E1212,
        moxa_e1200.E1214,
    )
}
