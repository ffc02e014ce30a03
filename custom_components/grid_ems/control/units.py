"""How a power in kW (or kvar) maps to the value of the entity that controls an asset."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

# Values are compared and rounded with this much slack, so that 0.30000000000000004 is 0.3.
_EPSILON: Final = 1e-9


class Unit(StrEnum):
    """Unit of a setpoint entity."""

    WATT = "W"
    KILOWATT = "kW"
    PERCENT = "%"
    """Of the asset's installed power."""
    AMPERE = "A"
    """Per phase; converted with the phase count and the phase voltage."""
    VAR = "var"
    KILOVAR = "kvar"


@dataclass(frozen=True, slots=True)
class NumberControl:
    """A number entity that sets an asset's power limit, power setpoint or reactive setpoint.

    ``minimum`` and ``maximum`` are in the entity's unit: the EMS never writes below the minimum
    (1 % keeps some inverters online, 6 A is the lowest current of an EV charger; for a battery
    setpoint, the largest charge) nor above the maximum. ``step`` is the entity's resolution;
    written values are rounded to it so that the read-back compares exactly. ``inverted`` is for
    a battery setpoint that counts charging positive: its values have the opposite sign.
    """

    entity_id: str
    unit: Unit
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    phases: int = 1
    phase_voltage_v: float = 230.0
    inverted: bool = False

    def __post_init__(self) -> None:
        """Refuse settings that make the conversion meaningless."""
        if self.phases < 1 or self.phase_voltage_v <= 0:
            raise ValueError(f"{self.entity_id}: phases and voltage must be positive")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"{self.entity_id}: step must be positive")
        if self.minimum is not None and self.maximum is not None and self.maximum < self.minimum:
            raise ValueError(f"{self.entity_id}: maximum below minimum")

    def _kw_per_unit(self, installed_kw: float) -> float:
        sign = -1.0 if self.inverted else 1.0
        match self.unit:
            case Unit.WATT | Unit.VAR:
                return sign * 0.001
            case Unit.KILOWATT | Unit.KILOVAR:
                return sign
            case Unit.PERCENT:
                return sign * installed_kw / 100
            case Unit.AMPERE:
                return sign * self.phases * self.phase_voltage_v / 1000

    def to_kw(self, value: float, installed_kw: float) -> float:
        """The power (kW or kvar) an entity value stands for."""
        return value * self._kw_per_unit(installed_kw)

    def to_value(self, kw: float, installed_kw: float) -> float:
        """The entity value for a power, exact (not rounded nor bounded)."""
        return kw / self._kw_per_unit(installed_kw)

    @property
    def tolerance(self) -> float:
        """How far a read-back value may be from the written one and still match."""
        return self.step / 2 if self.step is not None else 1e-6

    def limit_value(self, kw: float, installed_kw: float) -> float:
        """The value that caps an asset at ``kw``: rounded down to the step, within the bounds."""
        value = self.to_value(kw, installed_kw)
        if self.step is not None:
            value = math.floor(value / self.step + _EPSILON) * self.step
        return self._bounded(value, max(self.minimum or 0.0, 0.0))

    def target_value(self, kw: float, installed_kw: float) -> float:
        """The value that sets a signed power: rounded toward zero to the step, within bounds.

        Rounding toward zero keeps a clamped charge or discharge within its cap.
        """
        value = self.to_value(kw, installed_kw)
        if self.step is not None:
            value = math.trunc(value / self.step + math.copysign(_EPSILON, value)) * self.step
        return self._bounded(value, self.minimum)

    def _bounded(self, value: float, minimum: float | None) -> float:
        if self.maximum is not None:
            value = min(value, self.maximum)
        if minimum is not None:
            value = max(value, minimum)
        return round(value, 9)

    def minimum_kw(self, installed_kw: float) -> float:
        """The lowest power limit the EMS can set through this entity (never negative)."""
        return max(self.to_kw(self.minimum or 0.0, installed_kw), 0.0)
