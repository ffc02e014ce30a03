"""Persistence of the DSO state: the feedback value of every command, in an append-only journal.

Storing what the grid operator sent (rather than the dataclass fields) means restoring is
replaying those commands through the same validation, so a damaged file cannot smuggle in a
state no command could produce.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from .commands import CommandValue, apply_command
from .points import Command
from .state import DsoState

STATE_STORAGE_VERSION: Final = 1
AUDIT_STORAGE_VERSION: Final = 1


def dump_state(state: DsoState) -> dict[str, CommandValue]:
    """The state as ``{command: accepted value}``."""
    return {command.value: state.feedback(command) for command in Command}


def load_state(data: Mapping[str, object]) -> DsoState:
    """Replay stored values over the start-up state; raise ValueError if one is not valid.

    Commands missing from the data keep their start-up value.
    """
    state = DsoState()
    for key, value in data.items():
        command = Command(key)
        if not isinstance(value, bool | int | float):
            raise ValueError(f"{key}: {value!r} is not a command value")
        new_state = apply_command(state, command, value)
        if new_state is None:
            raise ValueError(f"{key}: {value!r} is not valid")
        state = new_state
    return state


JOURNAL_COMPACT_AFTER: Final = 1000
"""Lines after which the journal is rewritten with the last state only."""


class StateJournal:
    """The DSO state on disk as an append-only journal; blocking, for one thread at a time.

    Each line is one accepted state (``dump_state``) in JSON. ``append`` writes its line and
    flushes it to the disk (``fdatasync``) before it returns, so a state confirmed after it
    survives a crash or a power cut; that costs one disk flush per command and no rewrite of
    the whole store. A line cut short by a crash is ignored on load (its command was never
    confirmed). ``load`` and every ``compact_after`` lines rewrite the file with the last state
    only, atomically (temporary file, fsync, rename, fsync of the directory).
    """

    def __init__(self, path: Path, compact_after: int = JOURNAL_COMPACT_AFTER) -> None:
        """Use the journal at ``path`` (created on the first write)."""
        self.path = path
        self.compact_after = compact_after
        self._fd: int | None = None
        self._lines = 0

    def load(self) -> dict[str, object] | None:
        """The last complete state, None if there is none; compacts the journal to it.

        Raises ValueError if that line is not a JSON object.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        complete = text[: text.rfind("\n") + 1].splitlines()
        if not complete:
            return None
        data = json.loads(complete[-1])
        if not isinstance(data, dict):
            raise ValueError(f"journal line is not an object: {complete[-1]!r}")
        self.compact(data)
        return data

    def append(self, data: Mapping[str, object]) -> None:
        """Write one state and flush it to the disk; raises OSError if that fails."""
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        line = _line(data)
        if os.write(self._fd, line) != len(line):
            raise OSError(f"short write to {self.path}")
        os.fdatasync(self._fd)
        self._lines += 1
        if self._lines >= self.compact_after:
            self.compact(data)

    def compact(self, data: Mapping[str, object]) -> None:
        """Replace the journal by one line holding ``data``, atomically."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _line(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._lines = 1

    def close(self) -> None:
        """Close the file (a later ``append`` opens it again)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def remove(self) -> None:
        """Close and delete the journal."""
        self.close()
        self.path.unlink(missing_ok=True)


def _line(data: Mapping[str, object]) -> bytes:
    return (json.dumps(data, separators=(",", ":"), allow_nan=False) + "\n").encode()
