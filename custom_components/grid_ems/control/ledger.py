"""What the EMS changed on each entity, so that a release restores exactly that and no more.

Before the EMS first writes an entity it remembers the entity's value. While it holds the entity it
writes what the controller wants; when the controller no longer wants anything, the ledger writes
the remembered value back, but only if the entity still shows what the EMS wrote: a value someone
else set in the meantime is left alone. A limit the EMS did not set is never loosened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

type EntityValue = float | bool | str
"""A number's value, a switch's state (on = True) or a select's option."""


class Strictness(StrEnum):
    """Which values of an entity restrict the asset more."""

    LOWER = "lower"
    """A lower number is stricter (a power limit)."""
    OFF = "off"
    """Off is stricter (the switch of an inverter or a load)."""
    ON = "on"
    """On is stricter (an emergency-stop relay)."""
    EXACT = "exact"
    """A target without order (battery setpoint, command source, reactive setpoint)."""


@dataclass(frozen=True, slots=True)
class Desire[CauseT]:
    """The value the controller wants an entity to have, and why."""

    value: EntityValue
    strictness: Strictness
    cause: CauseT
    tolerance: float = 0.0


@dataclass(frozen=True, slots=True)
class Write[CauseT]:
    """A value to write; a ``restore`` puts back the value from before the EMS.

    A restore's ``cause`` is the last one the entity was held for (None when unknown).
    """

    entity_id: str
    value: EntityValue
    cause: CauseT | None
    restore: bool = False
    tolerance: float = 0.0


_RECENT_WRITES: Final = 4
"""How many of its last writes the EMS recognises as its own (a write may still be on its way)."""


@dataclass(slots=True)
class _Held[CauseT]:
    original: EntityValue | None
    written: EntityValue
    tolerance: float
    recent: tuple[EntityValue, ...] = ()
    cause: CauseT | None = None

    def write(self, value: EntityValue, tolerance: float) -> None:
        self.written, self.tolerance = value, tolerance
        self.recent = (*self.recent[1 - _RECENT_WRITES :], value)

    def ours(self, value: EntityValue | None) -> bool:
        """Whether the entity shows one of the EMS's own recent writes."""
        return any(same(value, written, self.tolerance) for written in self.recent)


def same(a: EntityValue | None, b: EntityValue | None, tolerance: float = 0.0) -> bool:
    """Whether two entity values match (numbers within the tolerance)."""
    if a is None or b is None:
        return False
    if isinstance(a, bool | str) or isinstance(b, bool | str):
        return type(a) is type(b) and a == b
    return abs(a - b) <= tolerance


def stricter(
    candidate: EntityValue, reference: EntityValue, strictness: Strictness, tolerance: float = 0.0
) -> bool:
    """Whether ``candidate`` restricts the asset more than ``reference``."""
    match strictness:
        case Strictness.LOWER:
            return (
                not isinstance(candidate, bool | str)
                and not isinstance(reference, bool | str)
                and candidate < reference - tolerance
            )
        case Strictness.OFF:
            return candidate is False and reference is True
        case Strictness.ON:
            return candidate is True and reference is False
        case Strictness.EXACT:
            return not same(candidate, reference, tolerance)


class EntityLedger[CauseT]:
    """The entities the EMS holds, with their value from before the EMS touched them."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        """Start holding nothing."""
        self._held: dict[str, _Held[CauseT]] = {}

    def __contains__(self, entity_id: object) -> bool:
        """Whether the EMS holds an entity."""
        return entity_id in self._held

    def entities(self) -> list[str]:
        """The entities the EMS holds, in the order it took them."""
        return list(self._held)

    def original(self, entity_id: str) -> EntityValue | None:
        """The value an entity had before the EMS first wrote it (None if unknown or not held)."""
        held = self._held.get(entity_id)
        return None if held is None else held.original

    def reconcile(
        self,
        desires: Mapping[str, Desire[CauseT]],
        values: Mapping[str, EntityValue | None],
    ) -> tuple[list[Write[CauseT]], list[str]]:
        """Writes that bring the entities to the desires, and the restores of released ones.

        ``values`` holds each entity's current value (None or absent when unknown). Returns the
        writes in order (desires first, in their order, then restores, the last held first) and
        the entities let go without a restore because someone else changed them.
        """
        writes: list[Write[CauseT]] = []
        abandoned: list[str] = []
        releasing: set[str] = set()
        for entity_id, desire in desires.items():
            current = values.get(entity_id)
            held = self._held.get(entity_id)
            if held is None:
                if current is not None and not stricter(
                    desire.value, current, desire.strictness, desire.tolerance
                ):
                    continue
                self._held[entity_id] = _Held(
                    current, desire.value, desire.tolerance, (desire.value,), desire.cause
                )
                writes.append(
                    Write(entity_id, desire.value, desire.cause, tolerance=desire.tolerance)
                )
                continue
            if desire.strictness is not Strictness.EXACT:
                if held.original is not None and not stricter(
                    desire.value, held.original, desire.strictness, desire.tolerance
                ):
                    # The limit is no longer stricter than the owner's own setting.
                    releasing.add(entity_id)
                    continue
                if (
                    current is not None
                    and not held.ours(current)
                    and stricter(current, desire.value, desire.strictness, desire.tolerance)
                ):
                    # Someone set a stricter value than the EMS asks: theirs stands.
                    del self._held[entity_id]
                    abandoned.append(entity_id)
                    continue
            if not same(held.written, desire.value, desire.tolerance):
                held.write(desire.value, desire.tolerance)
            held.cause = desire.cause
            if not same(current, desire.value, desire.tolerance):
                writes.append(
                    Write(entity_id, desire.value, desire.cause, tolerance=desire.tolerance)
                )
        for entity_id in reversed(list(self._held)):
            if entity_id in desires and entity_id not in releasing:
                continue
            self._release(entity_id, values.get(entity_id), writes, abandoned)
        return writes, abandoned

    def _release(
        self,
        entity_id: str,
        current: EntityValue | None,
        writes: list[Write[CauseT]],
        abandoned: list[str],
    ) -> None:
        held = self._held[entity_id]
        if held.original is None:
            # Nothing known to restore (the entity was unavailable when the EMS took it).
            del self._held[entity_id]
        elif current is None:
            return  # unknown now: decide once the entity reports again
        elif same(current, held.original, held.tolerance):
            del self._held[entity_id]
        elif held.ours(current):
            writes.append(
                Write(entity_id, held.original, held.cause, restore=True, tolerance=held.tolerance)
            )
        else:
            del self._held[entity_id]
            abandoned.append(entity_id)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """The held entities, for storage across restarts."""
        return {
            entity_id: {
                "original": held.original,
                "written": held.written,
                "tolerance": held.tolerance,
            }
            for entity_id, held in self._held.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> EntityLedger[CauseT]:
        """Rebuild a ledger from :meth:`as_dict`; malformed entries are skipped."""
        ledger: EntityLedger[CauseT] = cls()
        for entity_id, item in data.items():
            original = item.get("original")
            written = item.get("written")
            tolerance = item.get("tolerance", 0.0)
            if (
                isinstance(written, bool | str | int | float)
                and (original is None or isinstance(original, bool | str | int | float))
                and isinstance(tolerance, int | float)
            ):
                ledger._held[entity_id] = _Held(original, written, float(tolerance), (written,))
        return ledger
