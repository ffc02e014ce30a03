"""The audit trail keeps the last 1000 commands and survives storage."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.grid_ems.netflex import (
    AUDIT_CAPACITY,
    LOCAL_SOURCE,
    AuditRecord,
    AuditTrail,
    ChainState,
    ChainStatus,
    Command,
    Refusal,
)

T0 = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)


def _record(index: int, refusal: Refusal | None = None, value: float = 50.0) -> AuditRecord:
    return AuditRecord(
        time=T0 + timedelta(seconds=index),
        source="10.0.0.2",
        common_address=100,
        ioa=2001,
        type_name="C_SE_NC_1",
        command=Command.MIN_SET_P,
        value=value,
        refusal=refusal,
    )


def test_keeps_the_newest_records() -> None:
    """Beyond the capacity the oldest records drop off."""
    trail = AuditTrail()
    for index in range(AUDIT_CAPACITY + 5):
        trail.append(_record(index))
    assert len(trail) == AUDIT_CAPACITY
    assert next(iter(trail)).time == T0 + timedelta(seconds=5)
    assert trail.last is not None
    assert trail.last.time == T0 + timedelta(seconds=AUDIT_CAPACITY + 4)
    assert AuditTrail().last is None


def test_round_trip_with_nan_and_refusal() -> None:
    """Records, NaN values and refusals survive the JSON form."""
    trail = AuditTrail()
    for record in (
        _record(0),
        _record(1, Refusal.INVALID_VALUE, math.nan),
        AuditRecord(T0, LOCAL_SOURCE, 100, 1001, "simulate_dso_command", None, True, None),
        # An undecodable ASDU: no value, and too short for an IOA.
        AuditRecord(T0, "10.0.0.2", 100, None, "type 255", None, None, Refusal.UNKNOWN_TYPE),
    ):
        trail.append(record)
    data = trail.as_list()
    assert data[1]["value"] == "nan"
    assert data[1]["accepted"] is False
    assert data[1]["refusal"] == "invalid_value"
    assert data[0]["accepted"] is True
    restored_trail = AuditTrail(data)
    assert restored_trail.status == ChainStatus(ChainState.VERIFIED, 4)
    restored = list(restored_trail)
    assert restored[0] == _record(0)
    assert isinstance(restored[1].value, float)
    assert math.isnan(restored[1].value)
    assert restored[1].refusal is Refusal.INVALID_VALUE
    assert restored[2].local
    assert not restored[0].local
    assert (restored[3].ioa, restored[3].value) == (None, None)
    assert restored[3].refusal is Refusal.UNKNOWN_TYPE


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", [1]), ("ioa", "2001"), ("ioa", True), ("command", "nope"), ("time", "x")],
)
def test_malformed_record_raises(field: str, value: object) -> None:
    """A damaged stored record raises rather than being half-read."""
    data = _record(0).as_dict() | {field: value}
    with pytest.raises((ValueError, TypeError)):
        AuditRecord.from_dict(data)


def test_unreadable_records_stay_in_the_chain() -> None:
    """A stored record that cannot be read is kept as stored, not among the records."""
    trail = AuditTrail()
    trail.append(_record(0))
    trail.append(_record(1))
    data = [dict(item) for item in trail.as_list()]
    data[0]["time"] = "yesterday"
    restored = AuditTrail(data)
    assert [record.time for record in restored] == [T0 + timedelta(seconds=1)]
    assert len(restored) == 1
    assert restored.last == _record(1)
    assert [index for index, _ in restored.unreadable] == [0]
    assert restored.as_list() == data
    assert restored.status == ChainStatus(ChainState.BROKEN, 2, broken_at=0)
    restored.append(_record(2))
    assert restored.status.broken_at == 0
    assert len(restored.as_list()) == 3
