"""Audit trails of the grid operator's commands and of the RTU's connections.

Commands: the last 1000, accepted or refused, and why, in a hash chain. Connections: the last
100 changes.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .chain import GENESIS, ChainStatus, HashChain
from .commands import CommandValue, Refusal
from .points import Command

AUDIT_CAPACITY: Final = 1000
CONNECTION_LOG_CAPACITY: Final = 100
LOCAL_SOURCE: Final = "local"
"""Source of commands simulated in Home Assistant rather than sent by an RTU."""

type JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One received command and its outcome."""

    time: datetime
    """When it was received (timezone-aware)."""
    source: str
    """Address of the RTU that sent it, or ``LOCAL_SOURCE``."""
    common_address: int
    ioa: int | None
    """None when the RTU sent an ASDU too short to carry one."""
    type_name: str
    """Type identification as received (``C_SE_NC_1``, ``type 48`` for one the link does not
    know...), or the service that simulated it."""
    command: Command | None
    """The command at the IOA, None if the IOA is no command point."""
    value: CommandValue | None
    """None when the command could not be decoded (a type the link does not know)."""
    refusal: Refusal | None
    """None when accepted."""

    @property
    def accepted(self) -> bool:
        """Whether the command was accepted."""
        return self.refusal is None

    @property
    def local(self) -> bool:
        """Whether it was simulated in Home Assistant rather than sent by an RTU."""
        return self.source == LOCAL_SOURCE

    def as_dict(self) -> dict[str, JsonScalar]:
        """JSON form, for storage and diagnostics (NaN and infinities as text)."""
        value = self.value
        return {
            "time": self.time.isoformat(),
            "source": self.source,
            "common_address": self.common_address,
            "ioa": self.ioa,
            "type": self.type_name,
            "command": self.command,
            "value": str(value) if isinstance(value, float) and not math.isfinite(value) else value,
            "accepted": self.accepted,
            "refusal": self.refusal,
            "local": self.local,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AuditRecord:
        """Read back ``as_dict``; raise ValueError (or KeyError, TypeError) if malformed."""
        value = data["value"]
        if isinstance(value, str):
            value = float(value)
        if not isinstance(value, bool | int | float | None):
            raise TypeError(f"audit value {value!r}")
        command = data["command"]
        refusal = data["refusal"]
        ioa = data["ioa"]
        return cls(
            time=datetime.fromisoformat(str(data["time"])),
            source=str(data["source"]),
            common_address=_integer(data["common_address"]),
            ioa=None if ioa is None else _integer(ioa),
            type_name=str(data["type"]),
            command=None if command is None else Command(str(command)),
            value=value,
            refusal=None if refusal is None else Refusal(str(refusal)),
        )


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"not an integer: {value!r}")
    return value


class AuditTrail:
    """The most recent records, oldest first, in a hash chain (``chain.py``); older ones drop off.

    Stored records are kept as stored: one that cannot be read back stays in the chain and in
    storage (so it is never lost and an edit stays visible) but is not among the records.
    """

    __slots__ = ("_chain", "_records", "unreadable")

    def __init__(
        self,
        stored: Iterable[Mapping[str, Any]] = (),
        anchor: str = GENESIS,
        capacity: int = AUDIT_CAPACITY,
    ) -> None:
        """Start with stored records (``as_list``; only the newest ``capacity`` are kept)."""
        self._chain = HashChain(capacity, stored, anchor)
        self._records: deque[AuditRecord | None] = deque(maxlen=capacity)
        self.unreadable: list[tuple[int, str]] = []
        """The index and error of each stored record that could not be read back."""
        for index, data in enumerate(self._chain):
            try:
                self._records.append(AuditRecord.from_dict(data))
            except (KeyError, TypeError, ValueError) as err:
                self._records.append(None)
                self.unreadable.append((index, repr(err)))

    def append(self, record: AuditRecord) -> None:
        """Add the newest record, chained to the one before."""
        self._chain.append(record.as_dict())
        self._records.append(record)

    def __iter__(self) -> Iterator[AuditRecord]:
        """Readable records, oldest first."""
        return (record for record in self._records if record is not None)

    def __len__(self) -> int:
        """Number of readable records kept."""
        return sum(record is not None for record in self._records)

    @property
    def last(self) -> AuditRecord | None:
        """The newest readable record, if any."""
        return next((record for record in reversed(self._records) if record is not None), None)

    @property
    def anchor(self) -> str:
        """The hash the oldest kept record chains to."""
        return self._chain.anchor

    @property
    def status(self) -> ChainStatus:
        """Whether the kept records verify."""
        return self._chain.status

    def as_list(self) -> list[Mapping[str, Any]]:
        """JSON form with each record's hash, oldest first (stored records as stored)."""
        return self._chain.as_list()


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A change of an RTU connection: connected, started, stopped, lost, restored or closed.

    ``replaced_by`` is the address of the connection that took a closed one's slot.
    """

    time: datetime
    address: str
    event: str
    reason: str | None = None
    replaced_by: str | None = None

    def as_dict(self) -> dict[str, JsonScalar]:
        """JSON form, for storage and diagnostics."""
        return {
            "time": self.time.isoformat(),
            "address": self.address,
            "event": self.event,
            "reason": self.reason,
            "replaced_by": self.replaced_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ConnectionRecord:
        """Read back ``as_dict``; raise ValueError (or KeyError, TypeError) if malformed."""
        reason, replaced_by = data["reason"], data["replaced_by"]
        return cls(
            time=datetime.fromisoformat(str(data["time"])),
            address=str(data["address"]),
            event=str(data["event"]),
            reason=None if reason is None else str(reason),
            replaced_by=None if replaced_by is None else str(replaced_by),
        )


def connection_log(
    records: Iterable[ConnectionRecord] = (),
) -> deque[ConnectionRecord]:
    """The newest connection records, oldest first; older ones drop off."""
    return deque(records, maxlen=CONNECTION_LOG_CAPACITY)
