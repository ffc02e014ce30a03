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


JOURNAL_SIZE: Final = 256 * 1024
"""Bytes the journal file is written out to (zeros) when it is created: about 1000 states."""


class StateJournal:
    """The DSO state on disk as an append-only journal; blocking, for one thread at a time.

    Each line is one accepted state (``dump_state``) in JSON. ``append`` writes its line and
    flushes it to the disk (``fdatasync``) before it returns, so a state confirmed after it
    survives a crash or a power cut; that costs one disk flush per command and no rewrite of
    the whole store. The file is written out to its full size with zeros beforehand and the
    lines overwrite them: the flush then changes no file size, so on ext4 it does not wait for
    a journal commit of everything else being written (Home Assistant's recorder...).

    A line cut short by a crash is ignored on load (its command was never confirmed). ``load``,
    and an ``append`` that finds the file full, rewrite it with the last state only, atomically
    (temporary file, fsync, rename, fsync of the directory).
    """

    def __init__(self, path: Path, size: int = JOURNAL_SIZE) -> None:
        """Use the journal at ``path`` (created on the first write), ``size`` bytes long."""
        self.path = path
        self.size = size
        self._fd: int | None = None
        self._end = 0  # where the next line goes

    def load(self) -> dict[str, object] | None:
        """The last complete state, None if there is none; compacts the journal to it.

        Raises ValueError if that line is not a JSON object.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        text = raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")
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
        line = _line(data)
        if self._fd is None or self._end + len(line) > self.size:
            self.compact(data)  # durable as well: written, flushed and renamed into place
            return
        os.pwrite(self._fd, line, self._end)  # a regular file takes it whole, or raises
        os.fdatasync(self._fd)
        self._end += len(line)

    def compact(self, data: Mapping[str, object]) -> None:
        """Replace the journal by one holding only ``data``, atomically, and keep it open."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = _line(data)
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, line.ljust(max(self.size, len(line)), b"\0"))
            os.fsync(fd)
            temporary.replace(self.path)
        except BaseException:
            os.close(fd)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._fd, self._end = fd, len(line)

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
