"""Accepting or refusing a grid operator command: the validation rules of DESIGN.md.

``decide`` is a pure function of the current state, the point map and the request; the link
persists the new state of an ``Accepted`` decision before it confirms the command.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from ..iec104 import DoublePointValue, TypeID
from .points import Command, PointMap
from .state import DsoState, QMode, Reason

type CommandValue = bool | int | float
"""Single commands carry a bool, double commands a ``DoublePointValue``, setpoints a float."""


class Refusal(StrEnum):
    """Why a command was refused; the link answers each with a negative confirmation."""

    UNKNOWN_TYPE = "unknown_type"
    """Type unknown, or not accepted at the IOA (cause 44)."""
    UNKNOWN_CAUSE = "unknown_cause"
    """Cause of transmission other than activation (cause 45)."""
    UNKNOWN_COMMON_ADDRESS = "unknown_common_address"
    """Common address of another station (cause 46)."""
    UNKNOWN_IOA = "unknown_ioa"
    """No command point at this IOA (cause 47)."""
    INVALID_VALUE = "invalid_value"
    """NaN, out of range or not a valid state (negative activation confirmation)."""
    SELECT_NOT_SUPPORTED = "select_not_supported"
    """Select of select-before-operate: the points are direct execute only."""
    NOT_PERSISTED = "not_persisted"
    """The new state could not be saved, so it must not be confirmed."""


SETPOINT_RANGES: Final[dict[Command, tuple[float, float]]] = {
    Command.MIN_SET_P: (-100.0, 100.0),
    Command.MAX_SET_P: (0.0, 100.0),
    Command.MAX_SET_AP: (0.0, 100.0),
    Command.MIN_SET_AP: (0.0, 100.0),
    Command.MIN_SET_Q: (-100.0, 100.0),
    Command.MAX_SET_Q: (-100.0, 100.0),
}
"""Valid range of each percentage setpoint, bounds included."""


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A command as received, with its type identification."""

    ioa: int
    type_id: TypeID
    value: CommandValue
    select: bool = False


@dataclass(frozen=True, slots=True)
class Accepted:
    """The command is valid; ``state`` is the state after it."""

    command: Command
    state: DsoState


@dataclass(frozen=True, slots=True)
class Refused:
    """The command is refused; the state stays as it was."""

    refusal: Refusal
    command: Command | None = None


type Verdict = Accepted | Refused


def apply_command(state: DsoState, command: Command, value: CommandValue) -> DsoState | None:
    """Return the state after a command, or None if the value is not valid for it."""
    match command.command_type:
        case TypeID.C_SC_NA_1:
            if not isinstance(value, bool):
                return None
            if command is Command.EMERGENCY_STOP_PRODUCTION:
                return replace(state, stop_production=value)
            if command is Command.EMERGENCY_STOP_CONSUMPTION:
                return replace(state, stop_consumption=value)
            return replace(state, test_mode=value)
        case TypeID.C_DC_NA_1:
            if isinstance(value, bool) or value not in (DoublePointValue.OFF, DoublePointValue.ON):
                return None
            remote = value == DoublePointValue.ON
            return replace(state, q_mode=QMode.REMOTE if remote else QMode.LOCAL)
        case _:
            if isinstance(value, bool) or not math.isfinite(value):
                return None
            return _apply_setpoint(state, command, float(value))


def _apply_setpoint(state: DsoState, command: Command, value: float) -> DsoState | None:
    if command in (Command.REASON_P, Command.REASON_Q):
        if value not in tuple(Reason):
            return None
        if command is Command.REASON_P:
            return replace(state, reason_p=Reason(int(value)))
        return replace(state, reason_q=Reason(int(value)))
    low, high = SETPOINT_RANGES[command]
    if not low <= value <= high:
        return None
    match command:
        case Command.MIN_SET_P:
            return replace(state, min_set_p=value)
        case Command.MAX_SET_P:
            return replace(state, max_set_p=value)
        case Command.MAX_SET_AP:
            return replace(state, max_set_ap=value)
        case Command.MIN_SET_AP:
            return replace(state, min_set_ap=value)
        case Command.MIN_SET_Q:
            return replace(state, min_set_q=value)
        case _:
            return replace(state, max_set_q=value)


def decide(state: DsoState, point_map: PointMap, request: CommandRequest) -> Verdict:
    """Accept or refuse a command received on a point of the map."""
    command = point_map.command_at(request.ioa)
    if command is None:
        return Refused(Refusal.UNKNOWN_IOA)
    if request.type_id not in command.accepted_types:
        return Refused(Refusal.UNKNOWN_TYPE, command)
    if request.select:
        return Refused(Refusal.SELECT_NOT_SUPPORTED, command)
    new_state = apply_command(state, command, request.value)
    if new_state is None:
        return Refused(Refusal.INVALID_VALUE, command)
    return Accepted(command, new_state)
