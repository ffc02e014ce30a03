"""The hash chain: canonical bytes, verification, breaks at the right record, migration."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest

from custom_components.grid_ems.netflex import (
    ANCHOR_KEY,
    GENESIS,
    MIGRATIONS_KEY,
    ChainState,
    ChainStatus,
    HashChain,
    canonical,
    chain_hash,
    chain_records,
    migrate_trail,
    stored_anchor,
    stored_records,
    verify,
)


def _records(count: int) -> list[dict[str, Any]]:
    chain = HashChain(100)
    for index in range(count):
        chain.append({"time": f"2026-12-06T04:{index:02d}:00+00:00", "value": index * 1.5})
    return [dict(record) for record in chain]


def test_canonical_form_is_sorted_compact_utf8_without_the_hash() -> None:
    """The bytes hashed are fixed: anyone can recompute them from the stored JSON."""
    record = {"value": 1.0, "b": None, "a": "é", "hash": "ignored", "ok": True}
    assert canonical(record) == '{"a":"é","b":null,"ok":true,"value":1.0}'.encode()


def test_hash_is_sha256_of_previous_newline_and_canonical_form() -> None:
    """The first record chains to 64 zeros; the link is the previous hash's text."""
    record = {"n": 1}
    expected = hashlib.sha256(b"0" * 64 + b'\n{"n":1}').hexdigest()
    assert GENESIS == "0" * 64
    assert chain_hash(GENESIS, record) == expected
    second = hashlib.sha256(expected.encode() + b'\n{"n":2}').hexdigest()
    assert chain_hash(expected, {"n": 2}) == second


def test_no_json_form_raises() -> None:
    """NaN has no JSON form; the chain refuses it rather than hashing something else."""
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical({"value": math.nan})
    chain = HashChain(3)
    with pytest.raises(ValueError, match="JSON compliant"):
        chain.append({"value": math.inf})
    assert len(chain) == 0


def test_a_chain_verifies() -> None:
    """Records appended to a chain verify from the genesis; an empty chain is empty."""
    records = _records(5)
    assert verify(records) == ChainStatus(ChainState.VERIFIED, 5)
    assert verify(records).verified
    assert verify([]) == ChainStatus(ChainState.EMPTY, 0)
    assert verify([]).verified
    assert HashChain(10, records).status == ChainStatus(ChainState.VERIFIED, 5)


def test_an_edited_record_breaks_it_at_that_record() -> None:
    """One value changed (even 1.5 -> 1.50001) breaks the chain at that record."""
    records = _records(5)
    records[2]["value"] += 0.00001
    assert verify(records) == ChainStatus(ChainState.BROKEN, 5, broken_at=2)
    assert not verify(records).verified


def test_an_added_field_breaks_it() -> None:
    """A field slipped into a record changes its canonical form."""
    records = _records(3)
    records[0]["note"] = "fine"
    assert verify(records).broken_at == 0


def test_a_removed_record_breaks_it_at_the_next() -> None:
    """The record after the removed one no longer chains to its predecessor."""
    records = _records(5)
    del records[1]
    assert verify(records) == ChainStatus(ChainState.BROKEN, 4, broken_at=1)


def test_a_removed_last_record_is_not_seen() -> None:
    """A cut at the end leaves a shorter valid chain (the documented limit)."""
    assert verify(_records(5)[:-1]).state is ChainState.VERIFIED


def test_reordered_records_break_it_at_the_first_moved() -> None:
    """Two records swapped: the first of them no longer chains to the record before."""
    records = _records(5)
    records[2], records[3] = records[3], records[2]
    assert verify(records).broken_at == 2


def test_a_recomputed_hash_breaks_the_next() -> None:
    """An edited record given a fresh hash still breaks the chain at its successor."""
    records = _records(4)
    records[1]["value"] = 99.0
    records[1]["hash"] = chain_hash(records[0]["hash"], records[1])
    assert verify(records).broken_at == 2


@pytest.mark.parametrize("bad_hash", [None, 7, "", "é"])
def test_a_missing_or_malformed_hash_is_a_break(bad_hash: object) -> None:
    """A record whose hash is missing, no text or not the right text cannot be verified."""
    records: list[dict[str, Any]] = _records(3)
    if bad_hash is None:
        del records[1]["hash"]
    else:
        records[1]["hash"] = bad_hash
    assert verify(records).broken_at == 1
    # The chain still takes new records after such a one.
    chain = HashChain(10, records)
    chain.append({"value": 1})
    assert chain.status == ChainStatus(ChainState.BROKEN, 4, broken_at=1)


def test_records_dropping_off_move_the_anchor() -> None:
    """Past its capacity the oldest record drops off and the anchor is its hash."""
    chain = HashChain(3)
    hashes = [chain.append({"n": index})["hash"] for index in range(5)]
    assert chain.anchor == hashes[1]
    assert [record["n"] for record in chain] == [2, 3, 4]
    assert chain.status == ChainStatus(ChainState.VERIFIED, 3)
    assert verify(chain.as_list(), chain.anchor).verified
    assert not verify(chain.as_list()).verified  # not from the genesis any more


def test_stored_records_beyond_the_capacity_keep_the_anchor() -> None:
    """Loading more records than the capacity keeps the newest, chained from the dropped one."""
    records = _records(6)
    chain = HashChain(4, records)
    assert chain.anchor == records[1]["hash"]
    assert chain.status.verified
    assert len(chain) == 4


def test_a_break_that_drops_off_clears() -> None:
    """Once the broken record drops off, the rest verifies again."""
    records = _records(3)
    records[1]["value"] = -1.0
    chain = HashChain(3, records)
    assert chain.status.broken_at == 1
    chain.append({"n": 3})
    assert chain.status == ChainStatus(ChainState.BROKEN, 3, broken_at=0)
    chain.append({"n": 4})
    assert chain.status == ChainStatus(ChainState.VERIFIED, 3)


def test_stored_records_are_kept_as_stored() -> None:
    """The chain never rewrites what it loaded: an edit survives any number of saves."""
    records = _records(2)
    records[0]["value"] = 42
    chain = HashChain(10, records)
    chain.append({"n": 9})
    assert chain.as_list()[:2] == records
    assert HashChain(10, chain.as_list()).status.broken_at == 0


def test_migration_chains_records_without_hash() -> None:
    """Records from before the chain get a hash once; those with one keep theirs."""
    legacy: list[dict[str, Any]] = [{"n": 0}, {"n": 1}]
    chained, adopted = chain_records(legacy)
    assert adopted == 2
    assert verify(chained).verified
    assert [record["n"] for record in chained] == [0, 1]
    # A newer record without hash (written by an older version) is chained after them.
    more, adopted = chain_records([*chained, {"n": 2}])
    assert adopted == 1
    assert more[:2] == chained
    assert verify(more).verified


def test_stored_items_that_are_no_objects_are_kept() -> None:
    """Nothing stored is dropped: an odd item is wrapped and shows as a break."""
    assert stored_records(None) == []
    assert stored_records({"n": 1}) == [{"n": 1}]
    records = stored_records([*_records(2), 5])
    assert records[2] == {"unreadable": 5}
    assert verify(records).broken_at == 2


def test_status_as_dict() -> None:
    """The JSON form the diagnostics and the report show."""
    assert ChainStatus(ChainState.BROKEN, 4, 1).as_dict() == {
        "state": "broken",
        "records": 4,
        "broken_at": 1,
    }


def test_migrating_a_stored_trail_notes_what_it_chained() -> None:
    """A trail from before the chain: every record chained from the genesis, noted once."""
    data = {"records": [{"n": 0}, {"n": 1}], "connections": []}
    migrated = migrate_trail(data, "records", "2026-12-06T05:00:00+00:00")
    assert migrated["connections"] == []
    assert migrated[ANCHOR_KEY] == GENESIS
    assert migrated[MIGRATIONS_KEY] == [{"records": 2, "at": "2026-12-06T05:00:00+00:00"}]
    assert verify(migrated["records"], stored_anchor(migrated)).verified
    # Migrating again (a newer minor version) chains nothing and notes nothing.
    assert migrate_trail(migrated, "records", "later") == migrated
    assert stored_anchor({ANCHOR_KEY: 5}) == ""
    assert migrate_trail({}, "records", "now")["records"] == []


def test_a_record_without_json_form_is_a_break() -> None:
    """A record that cannot be serialised (NaN) cannot be verified."""
    assert verify([{"value": math.nan, "hash": GENESIS}]).broken_at == 0
