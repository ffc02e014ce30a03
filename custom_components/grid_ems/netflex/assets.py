"""The site behind the connection point: contractual capacities and the asset registry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AssetCategory(StrEnum):
    """Netflex measurement categories, in the order of the data model (13001..13007)."""

    SOLAR = "solar"
    WIND = "wind"
    CHP = "chp"
    STORAGE = "storage"
    EV = "ev"
    FLEXIBLE_CONSUMPTION = "flexible_consumption"
    OTHER_PRODUCTION = "other_production"

    @property
    def produces(self) -> bool:
        """Whether assets of this category can inject (storage by discharging)."""
        return self not in _CONSUMING_ONLY

    @property
    def consumes(self) -> bool:
        """Whether assets of this category can draw power (storage by charging)."""
        return self in _CONSUMING_ONLY or self is AssetCategory.STORAGE


_CONSUMING_ONLY = frozenset({AssetCategory.EV, AssetCategory.FLEXIBLE_CONSUMPTION})


@dataclass(frozen=True, slots=True)
class Asset:
    """One asset of the site, as the installer registered it.

    ``p_sensor`` and ``q_sensor`` name the measurements that feed the category sums; their sign is
    flipped when ``invert_sign`` is set, so that production and discharge count positive.
    """

    asset_id: str
    name: str
    category: AssetCategory
    installed_power_kw: float
    p_sensor: str
    q_sensor: str | None = None
    invert_sign: bool = False


@dataclass(frozen=True, slots=True)
class SiteParameters:
    """What the DSO percentages refer to: contractual capacities and installed assets."""

    import_capacity_kw: float
    export_capacity_kw: float
    assets: tuple[Asset, ...] = ()

    @property
    def reactive_capacity_kvar(self) -> float:
        """Reference of the Q band: the connection's capacity, the larger of import and export."""
        return max(self.import_capacity_kw, self.export_capacity_kw)

    @property
    def installed_production_kw(self) -> float:
        """Installed power of every asset that can inject."""
        return sum(asset.installed_power_kw for asset in self.assets if asset.category.produces)

    @property
    def installed_consumption_kw(self) -> float:
        """Installed power of every asset that can draw power."""
        return sum(asset.installed_power_kw for asset in self.assets if asset.category.consumes)
