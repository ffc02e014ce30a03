"""Category sums follow the asset sensors with the documented signs and units."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.iec104 import Quality
from custom_components.grid_ems.netflex import (
    ZERO_POWERS,
    Asset,
    AssetCategory,
    CategoryPower,
    SignConvention,
    category_sums,
    to_kilo,
)

ASSETS = (
    Asset("pv1", "PV roof", AssetCategory.SOLAR, 100.0, "sensor.pv1", "sensor.pv1_q"),
    Asset("pv2", "PV carport", AssetCategory.SOLAR, 50.0, "sensor.pv2"),
    # The battery's own sensor counts charge positive: invert it.
    Asset("bess", "Battery", AssetCategory.STORAGE, 50.0, "sensor.bess", invert_sign=True),
    # A charger measures its consumption as a positive number.
    Asset("ev", "Chargers", AssetCategory.EV, 22.0, "sensor.ev", invert_sign=True),
)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1500.0, "W", 1.5),
        (1.5, "kW", 1.5),
        (0.5, "MW", 500.0),
        (-200.0, "var", -0.2),
        (3.0, "kvar", 3.0),
        (1.0, "Mvar", 1000.0),
        (1.0, "kWh", None),
        (1.0, None, None),
    ],
)
def test_to_kilo(value: float, unit: str | None, expected: float | None) -> None:
    """W, kW, MW and var, kvar, Mvar convert; other units are not powers."""
    result = to_kilo(value, unit)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_sums_per_category_production_positive() -> None:
    """Production and discharge positive, consumption and charge negative; others 0."""
    sums = category_sums(
        ASSETS,
        {
            "sensor.pv1": 60.0,
            "sensor.pv1_q": -5.0,
            "sensor.pv2": 20.0,
            "sensor.bess": 30.0,
            "sensor.ev": 11.0,
        },
    )
    assert sums[AssetCategory.SOLAR] == CategoryPower(80.0, -5.0)
    assert sums[AssetCategory.STORAGE] == CategoryPower(-30.0, 0.0)
    assert sums[AssetCategory.EV] == CategoryPower(-11.0, 0.0)
    for category in (
        AssetCategory.WIND,
        AssetCategory.CHP,
        AssetCategory.FLEXIBLE_CONSUMPTION,
        AssetCategory.OTHER_PRODUCTION,
    ):
        assert sums[category] == CategoryPower()


def test_consumption_positive_convention_flips_every_sum() -> None:
    """The load convention reports the same sums with the opposite sign."""
    readings = {"sensor.pv1": 60.0, "sensor.pv2": 0.0, "sensor.bess": -10.0, "sensor.ev": 7.0}
    sums = category_sums(ASSETS, readings, SignConvention.CONSUMPTION_POSITIVE)
    assert sums[AssetCategory.SOLAR].p_kw == -60.0
    assert sums[AssetCategory.STORAGE].p_kw == -10.0
    assert sums[AssetCategory.EV].p_kw == 7.0


def test_missing_reading_makes_the_category_invalid() -> None:
    """An unavailable sensor marks its category invalid; the available part is still summed."""
    sums = category_sums(ASSETS, {"sensor.pv1": 60.0, "sensor.pv1_q": None, "sensor.bess": 1.0})
    assert sums[AssetCategory.SOLAR] == CategoryPower(60.0, 0.0, Quality.INVALID, Quality.INVALID)
    assert sums[AssetCategory.STORAGE].p_quality is Quality.GOOD
    assert sums[AssetCategory.EV].p_quality is Quality.INVALID


def test_no_assets_report_zero() -> None:
    """A site without assets reports every category at 0 with good quality."""
    assert category_sums((), {}) == ZERO_POWERS
