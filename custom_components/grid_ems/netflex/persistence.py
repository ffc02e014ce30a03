"""Persistence format of the DSO state: the feedback value of every command.

Storing what the grid operator sent (rather than the dataclass fields) means restoring is
replaying those commands through the same validation, so a damaged file cannot smuggle in a
state no command could produce.
"""

from __future__ import annotations

from collections.abc import Mapping
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
