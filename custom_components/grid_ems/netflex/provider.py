"""Grid operator providers: each brings its own data model behind one interface.

Asset control only ever sees ``DsoState``; adding another operator means adding a provider and
its model here, nothing in the enforcement.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from ..iec104 import Quality, TypeID
from .commands import CommandRequest, Verdict
from .measurements import CategoryPowers
from .model import MonitorValue, NetflexModel
from .points import Command, PointMap
from .state import DsoState


class Provider(StrEnum):
    """Grid operators whose telecontrol interface Grid EMS implements."""

    FLUVIUS = "fluvius"


class GridOperatorModel(Protocol):
    """What the link needs from a grid operator's data model."""

    def command_at(self, ioa: int) -> Command | None:
        """The command received on an IOA, if it is a command point."""

    def command_ioa(self, command: Command) -> int:
        """IOA a command is received on."""

    def command_points(self) -> dict[int, frozenset[TypeID]]:
        """IOA of every command point and the types it accepts."""

    def decide(self, state: DsoState, request: CommandRequest) -> Verdict:
        """Accept or refuse a command."""

    def feedback_value(self, state: DsoState, command: Command, quality: Quality) -> MonitorValue:
        """The point mirroring a command."""

    def measurement_values(self, powers: CategoryPowers) -> list[MonitorValue]:
        """The periodic measurement report."""

    def monitor_values(
        self,
        state: DsoState,
        feedback_quality: Mapping[Command, Quality],
        powers: CategoryPowers,
    ) -> list[MonitorValue]:
        """Every monitor point, for a general interrogation."""


def create_model(provider: Provider, options: Mapping[str, object]) -> GridOperatorModel:
    """The data model of a provider, configured from the link's options."""
    match provider:
        case Provider.FLUVIUS:
            return NetflexModel(PointMap.from_options(options))
