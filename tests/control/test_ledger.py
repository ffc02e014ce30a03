"""The ledger restores exactly what the EMS changed, and never loosens a foreign limit."""

from __future__ import annotations

import pytest

from custom_components.grid_ems.control.ledger import (
    Desire,
    EntityLedger,
    Strictness,
    Write,
    same,
    stricter,
)

LIMIT = "number.pv_limit"
RESTORE_100: Write[str] = Write(LIMIT, 100.0, "cap", restore=True, tolerance=0.05)


def limit(value: float) -> dict[str, Desire[str]]:
    return {LIMIT: Desire(value, Strictness.LOWER, "cap", tolerance=0.05)}


def test_same_compares_types_and_tolerance() -> None:
    assert same(1.0, 1.04, 0.05)
    assert not same(1.0, 1.06, 0.05)
    assert same(True, True)
    assert not same(True, 1.0)
    assert not same("remote", "local")
    assert not same(None, 1.0)


@pytest.mark.parametrize(
    ("candidate", "reference", "strictness", "expected"),
    [
        (10.0, 20.0, Strictness.LOWER, True),
        (20.0, 20.0, Strictness.LOWER, False),
        (True, 20.0, Strictness.LOWER, False),
        (False, True, Strictness.OFF, True),
        (True, False, Strictness.OFF, False),
        (True, False, Strictness.ON, True),
        (False, True, Strictness.ON, False),
        ("remote", "local", Strictness.EXACT, True),
        ("remote", "remote", Strictness.EXACT, False),
    ],
)
def test_stricter(
    candidate: float | bool | str,
    reference: float | bool | str,
    strictness: Strictness,
    expected: bool,
) -> None:
    assert stricter(candidate, reference, strictness) is expected


def test_a_limit_looser_than_the_current_value_is_not_written() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    writes, abandoned = ledger.reconcile(limit(50.0), {LIMIT: 20.0})
    assert writes == []
    assert abandoned == []
    assert LIMIT not in ledger


def test_hold_write_and_restore() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    writes, _ = ledger.reconcile(limit(30.0), {LIMIT: 100.0})
    assert writes == [Write(LIMIT, 30.0, "cap", tolerance=0.05)]
    assert ledger.original(LIMIT) == 100.0
    # Not yet read back: written again; once read back, nothing more to do.
    assert ledger.reconcile(limit(30.0), {LIMIT: 100.0})[0] == [
        Write(LIMIT, 30.0, "cap", tolerance=0.05)
    ]
    assert ledger.reconcile(limit(30.0), {LIMIT: 30.02})[0] == []
    # Released: the original comes back, and the entity is let go once it shows it.
    assert ledger.reconcile({}, {LIMIT: 30.0})[0] == [RESTORE_100]
    assert ledger.reconcile({}, {LIMIT: 100.0}) == ([], [])
    assert LIMIT not in ledger
    assert ledger.original(LIMIT) is None


def test_release_when_the_limit_is_no_longer_stricter_than_the_owners() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(limit(30.0), {LIMIT: 60.0})
    writes, _ = ledger.reconcile(limit(70.0), {LIMIT: 30.0})
    assert writes == [Write(LIMIT, 60.0, "cap", restore=True, tolerance=0.05)]


def test_a_value_changed_by_someone_else_is_left_alone_on_release() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(limit(30.0), {LIMIT: 100.0})
    writes, abandoned = ledger.reconcile({}, {LIMIT: 45.0})
    assert writes == []
    assert abandoned == [LIMIT]
    assert LIMIT not in ledger


def test_a_looser_value_set_meanwhile_is_overridden_while_held() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(limit(30.0), {LIMIT: 100.0})
    assert ledger.reconcile(limit(30.0), {LIMIT: 80.0})[0] == [
        Write(LIMIT, 30.0, "cap", tolerance=0.05)
    ]


def test_a_stricter_value_set_meanwhile_stands() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(limit(30.0), {LIMIT: 100.0})
    writes, abandoned = ledger.reconcile(limit(30.0), {LIMIT: 10.0})
    assert writes == []
    assert abandoned == [LIMIT]
    # From then on it is the owner's limit, and the EMS's is looser.
    assert ledger.reconcile(limit(30.0), {LIMIT: 10.0}) == ([], [])


def test_unknown_value_is_written_and_forgotten_on_release() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    assert ledger.reconcile(limit(30.0), {})[0] == [Write(LIMIT, 30.0, "cap", tolerance=0.05)]
    assert ledger.original(LIMIT) is None
    assert ledger.reconcile({}, {LIMIT: 30.0}) == ([], [])
    assert LIMIT not in ledger


def test_release_waits_while_the_entity_is_unavailable() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(limit(30.0), {LIMIT: 100.0})
    assert ledger.reconcile({}, {LIMIT: None}) == ([], [])
    assert LIMIT in ledger
    assert ledger.reconcile({}, {LIMIT: 30.0})[0] == [RESTORE_100]


def test_exact_targets_and_switches() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    desires: dict[str, Desire[str]] = {
        "select.source": Desire("remote", Strictness.EXACT, "steer"),
        "number.target": Desire(-5.0, Strictness.EXACT, "steer", 0.05),
        "switch.relay": Desire(True, Strictness.ON, "stop"),
        "switch.load": Desire(False, Strictness.OFF, "stop"),
    }
    values: dict[str, float | bool | str | None] = {
        "select.source": "local",
        "number.target": 0.0,
        "switch.relay": False,
        "switch.load": False,
    }
    writes, _ = ledger.reconcile(desires, values)
    # The load is off already: nothing to write and nothing to restore later.
    assert [write.entity_id for write in writes] == [
        "select.source",
        "number.target",
        "switch.relay",
    ]
    values.update({"select.source": "remote", "number.target": -5.0, "switch.relay": True})
    writes, _ = ledger.reconcile({}, values)
    # Restores run in the reverse order of taking: the setpoint before its command source.
    assert writes == [
        Write("switch.relay", False, "stop", restore=True),
        Write("number.target", 0.0, "steer", restore=True, tolerance=0.05),
        Write("select.source", "local", "steer", restore=True),
    ]


def test_exact_target_returning_to_the_original_stays_held() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    ledger.reconcile(
        {"number.target": Desire(-5.0, Strictness.EXACT, "steer")}, {"number.target": 0.0}
    )
    writes, _ = ledger.reconcile(
        {"number.target": Desire(0.0, Strictness.EXACT, "steer")}, {"number.target": -5.0}
    )
    assert writes == [Write("number.target", 0.0, "steer")]
    assert "number.target" in ledger


def test_round_trip_through_storage() -> None:
    ledger: EntityLedger[str] = EntityLedger()
    relay: dict[str, Desire[str]] = {"switch.relay": Desire(True, Strictness.ON, "stop")}
    ledger.reconcile(limit(30.0) | relay, {LIMIT: 100.0, "switch.relay": False})
    stored = ledger.as_dict()
    restored: EntityLedger[str] = EntityLedger.from_dict(
        {**stored, "bad": {"original": [1], "written": 2.0}, "worse": {"written": None}}
    )
    assert restored.as_dict() == stored
    assert restored.reconcile({}, {LIMIT: 30.0, "switch.relay": True})[0] == [
        # The cause of a hold does not survive a restart.
        Write("switch.relay", False, None, restore=True),
        Write(LIMIT, 100.0, None, restore=True, tolerance=0.05),
    ]
