"""A tamper-evident hash chain over JSON records (the audit trails' integrity).

Each record (a JSON object) carries, under ``"hash"``, the SHA-256 (hex) of the previous
record's hash followed by the record's canonical form::

    hash = sha256(previous_hash.encode("ascii") + b"\\n" + canonical(record without "hash"))

The canonical form is the record as compact JSON: keys sorted, no whitespace, UTF-8, no NaN or
infinities. The first record ever chains to ``GENESIS``. A chain keeps only its newest records;
its ``anchor`` is the hash the oldest kept record chains to (``GENESIS`` until records dropped
off). Anyone can verify a stored trail with ``verify(records, anchor)``.

What it shows: an edited, inserted, removed or reordered record breaks the chain at that
record. What it cannot show without a key or an outside witness: records cut from either end,
or a trail whose every hash was recomputed after an edit.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

GENESIS: Final = "0" * 64
"""What the first record of a chain chains to."""
HASH_KEY: Final = "hash"
ANCHOR_KEY: Final = "anchor"
"""Stored next to a trail's records: the hash its oldest kept record chains to."""
MIGRATIONS_KEY: Final = "chained_at_migration"
"""Stored next to a trail's records: when records made without a hash were given one."""


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers: its JSON without the hash, keys sorted, compact.

    Raises ValueError for NaN or infinities (they have no JSON form) and TypeError for values
    that are not JSON.
    """
    body = {key: value for key, value in record.items() if key != HASH_KEY}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(previous: str, record: Mapping[str, Any]) -> str:
    """The hash that chains ``record`` to the record whose hash is ``previous``."""
    return hashlib.sha256(previous.encode("utf-8") + b"\n" + canonical(record)).hexdigest()


class ChainState(StrEnum):
    """The outcome of a verification."""

    VERIFIED = "verified"
    BROKEN = "broken"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class ChainStatus:
    """Whether a chain verifies, and if not the index (0 = oldest kept) of its first break."""

    state: ChainState
    records: int
    broken_at: int | None = None

    @property
    def verified(self) -> bool:
        """Whether every record is chained to the one before (an empty chain is not broken)."""
        return self.state is not ChainState.BROKEN

    def as_dict(self) -> dict[str, str | int | None]:
        """JSON form, for diagnostics and the report."""
        return {"state": self.state.value, "records": self.records, "broken_at": self.broken_at}


def verify(records: Sequence[Mapping[str, Any]], anchor: str = GENESIS) -> ChainStatus:
    """Check every record's hash against its predecessor; the first mismatch is the break.

    A record without a hash, with one that is not text or whose content has no JSON form is a
    break too (it cannot be verified).
    """
    if not records:
        return ChainStatus(ChainState.EMPTY, 0)
    previous = anchor
    for index, record in enumerate(records):
        stored = record.get(HASH_KEY)
        try:
            expected = chain_hash(previous, record)
        except (TypeError, ValueError):
            expected = None
        if not isinstance(stored, str) or stored != expected:
            return ChainStatus(ChainState.BROKEN, len(records), index)
        previous = stored
    return ChainStatus(ChainState.VERIFIED, len(records))


def chain_records(
    records: Iterable[Mapping[str, Any]], previous: str = GENESIS
) -> tuple[list[dict[str, Any]], int]:
    """Stored records with a hash for each that has none, chained to the one before.

    For the migration of records made before the chain (or by a version without it); records
    that already carry a hash keep it. Returns the records and how many were given a hash.
    """
    chained: list[dict[str, Any]] = []
    adopted = 0
    for record in records:
        if isinstance(stored := record.get(HASH_KEY), str):
            chained.append(dict(record))
            previous = stored
            continue
        body = {key: value for key, value in record.items() if key != HASH_KEY}
        previous = chain_hash(previous, body)
        chained.append({**body, HASH_KEY: previous})
        adopted += 1
    return chained, adopted


class HashChain:
    """The newest ``capacity`` chained records, oldest first; older ones drop off.

    Stored records are kept exactly as loaded (an edit stays visible as a break after any
    number of saves); new ones are chained to the newest. The status is computed on load and
    kept up to date as records are added or drop off.
    """

    __slots__ = ("_anchor", "_records", "_status")

    def __init__(
        self,
        capacity: int,
        records: Iterable[Mapping[str, Any]] = (),
        anchor: str = GENESIS,
    ) -> None:
        """Take stored records (only the newest ``capacity``) and the hash they chain to."""
        loaded = list(records)
        dropped = loaded[: max(len(loaded) - capacity, 0)]
        self._records: deque[Mapping[str, Any]] = deque(loaded[len(dropped) :], maxlen=capacity)
        self._anchor = _hash_of(dropped[-1]) if dropped else anchor
        self._status = verify(self._records, self._anchor)

    @property
    def anchor(self) -> str:
        """The hash the oldest kept record chains to."""
        return self._anchor

    @property
    def status(self) -> ChainStatus:
        """Whether the kept records verify."""
        return self._status

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Chain a record (its JSON form, without hash) after the newest; return it chained.

        Raises ValueError or TypeError (nothing added) if the record has no JSON form.
        """
        previous = _hash_of(self._records[-1]) if self._records else self._anchor
        chained = {**record, HASH_KEY: chain_hash(previous, record)}
        dropped = len(self._records) == self._records.maxlen
        if dropped:
            self._anchor = _hash_of(self._records[0])
        self._records.append(chained)
        status = self._status
        if status.state is ChainState.BROKEN and dropped:
            self._status = verify(self._records, self._anchor)  # the break may have dropped off
        elif status.state is ChainState.BROKEN:
            self._status = ChainStatus(ChainState.BROKEN, len(self._records), status.broken_at)
        else:
            self._status = ChainStatus(ChainState.VERIFIED, len(self._records))
        return chained

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        """Records, oldest first, each with its hash."""
        return iter(self._records)

    def __len__(self) -> int:
        """Number of records kept."""
        return len(self._records)

    def as_list(self) -> list[Mapping[str, Any]]:
        """The records for storage or diagnostics, oldest first."""
        return list(self._records)


def stored_anchor(data: Mapping[str, Any]) -> str:
    """The anchor stored with a trail (``GENESIS`` if none); one that is no text chains nothing."""
    anchor = data.get(ANCHOR_KEY, GENESIS)
    return anchor if isinstance(anchor, str) else ""


def migrate_trail(data: Mapping[str, Any], key: str, at: str) -> dict[str, Any]:
    """Stored trail data whose records (under ``key``) lacking a hash are chained, once.

    The migration is noted under ``MIGRATIONS_KEY`` (how many records, when), so that records
    chained after the fact are told apart from those chained when they were made.
    """
    anchor = stored_anchor(data)
    records, adopted = chain_records(stored_records(data.get(key)), anchor)
    migrations = data.get(MIGRATIONS_KEY)
    migrations = list(migrations) if isinstance(migrations, list) else []
    if adopted:
        migrations.append({"records": adopted, "at": at})
    return {**data, key: records, ANCHOR_KEY: anchor, MIGRATIONS_KEY: migrations}


def stored_records(data: object) -> list[Mapping[str, Any]]:
    """The records of a stored list; an item that is no JSON object is kept, wrapped.

    Nothing stored is dropped: a wrapped item has no hash of its own, so it shows as a break.
    """
    if not isinstance(data, list):
        data = [] if data is None else [data]
    return [item if isinstance(item, dict) else {"unreadable": item} for item in data]


def _hash_of(record: Mapping[str, Any]) -> str:
    """A stored record's hash; a missing or malformed one chains nothing (breaks the next)."""
    stored = record.get(HASH_KEY)
    return stored if isinstance(stored, str) else ""
