"""Per-category P and Q: the sums over the registered assets that the link reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ..iec104 import Quality
from .assets import Asset, AssetCategory

_TO_KILO: Final[Mapping[str, float]] = {
    "W": 1e-3,
    "kW": 1.0,
    "MW": 1e3,
    "var": 1e-3,
    "kvar": 1.0,
    "Mvar": 1e3,
}
"""Units of power sensors, as factors to kW (active) or kvar (reactive)."""


def to_kilo(value: float, unit: str | None) -> float | None:
    """Convert a W/kW/MW or var/kvar/Mvar reading to kW or kvar; None for another unit."""
    factor = _TO_KILO.get(unit or "")
    return None if factor is None else value * factor


class SignConvention(StrEnum):
    """Sign of the reported category measurements."""

    PRODUCTION_POSITIVE = "production_positive"
    """DESIGN.md: production and discharge positive, consumption and charge negative."""
    CONSUMPTION_POSITIVE = "consumption_positive"
    """Load convention, for a site whose Annex B asks for it."""


@dataclass(frozen=True, slots=True)
class CategoryPower:
    """One category's reported P (kW) and Q (kvar) with their quality."""

    p_kw: float = 0.0
    q_kvar: float = 0.0
    p_quality: Quality = Quality.GOOD
    q_quality: Quality = Quality.GOOD


type CategoryPowers = Mapping[AssetCategory, CategoryPower]

ZERO_POWERS: Final[CategoryPowers] = {category: CategoryPower() for category in AssetCategory}
"""Every category at 0: what a site without assets reports."""


def _sum(values: list[float | None]) -> tuple[float, Quality]:
    """Sum the available values; one missing value makes the sum invalid."""
    total = sum((value for value in values if value is not None), 0.0)
    return total, Quality.INVALID if None in values else Quality.GOOD


def category_sums(
    assets: tuple[Asset, ...],
    readings: Mapping[str, float | None],
    convention: SignConvention = SignConvention.PRODUCTION_POSITIVE,
) -> CategoryPowers:
    """Sum P and Q of each category's assets from sensor readings in kW/kvar, by entity id.

    An asset's ``invert_sign`` turns its sensor into the production-positive convention; the
    report convention is applied last. Assets without a Q sensor contribute 0 kvar. A sensor
    without a reading makes its category's value invalid (the sum of the others is still sent).
    """
    sign = 1.0 if convention is SignConvention.PRODUCTION_POSITIVE else -1.0
    p_values: dict[AssetCategory, list[float | None]] = {category: [] for category in AssetCategory}
    q_values: dict[AssetCategory, list[float | None]] = {category: [] for category in AssetCategory}
    for asset in assets:
        asset_sign = -sign if asset.invert_sign else sign
        for sensor, values in ((asset.p_sensor, p_values), (asset.q_sensor, q_values)):
            if sensor is None:
                continue
            reading = readings.get(sensor)
            values[asset.category].append(None if reading is None else asset_sign * reading)
    sums: dict[AssetCategory, CategoryPower] = {}
    for category in AssetCategory:
        p_kw, p_quality = _sum(p_values[category])
        q_kvar, q_quality = _sum(q_values[category])
        sums[category] = CategoryPower(p_kw, q_kvar, p_quality, q_quality)
    return sums
