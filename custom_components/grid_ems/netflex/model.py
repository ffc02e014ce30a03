"""The Fluvius Netflex data model: commands in, feedback and measurements out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..iec104 import DoublePointValue, Quality, TypeID
from .assets import AssetCategory
from .commands import CommandRequest, Verdict, decide
from .measurements import CategoryPowers
from .points import INTERFACE_VERSION, Command, PointMap
from .state import DsoState


@dataclass(frozen=True, slots=True)
class MonitorValue:
    """One monitor point to report: bool (single point), double point value or float."""

    ioa: int
    type_id: TypeID
    value: bool | DoublePointValue | float
    quality: Quality = Quality.GOOD


class NetflexModel:
    """Netflex interface data model version 1.0 over a point map."""

    __slots__ = ("point_map",)

    def __init__(self, point_map: PointMap) -> None:
        """Use the site's point map."""
        self.point_map = point_map

    def command_at(self, ioa: int) -> Command | None:
        """The command received on an IOA, if it is a command point."""
        return self.point_map.command_at(ioa)

    def command_ioa(self, command: Command) -> int:
        """IOA a command is received on."""
        return self.point_map.command_ioa(command)

    def command_points(self) -> dict[int, frozenset[TypeID]]:
        """IOA of every command point and the types it accepts."""
        return {self.point_map.command_ioa(command): command.accepted_types for command in Command}

    def decide(self, state: DsoState, request: CommandRequest) -> Verdict:
        """Accept or refuse a command."""
        return decide(state, self.point_map, request)

    def feedback_value(
        self, state: DsoState, command: Command, quality: Quality = Quality.GOOD
    ) -> MonitorValue:
        """The point mirroring a command's accepted value."""
        return MonitorValue(
            self.point_map.feedback_ioa(command),
            command.feedback_type,
            state.feedback(command),
            quality,
        )

    def measurement_values(self, powers: CategoryPowers) -> list[MonitorValue]:
        """P and Q of every category (the periodic report)."""
        active = [
            MonitorValue(
                self.point_map.active_power_ioa(category),
                TypeID.M_ME_NC_1,
                powers[category].p_kw,
                powers[category].p_quality,
            )
            for category in AssetCategory
        ]
        reactive = [
            MonitorValue(
                self.point_map.reactive_power_ioa(category),
                TypeID.M_ME_NC_1,
                powers[category].q_kvar,
                powers[category].q_quality,
            )
            for category in AssetCategory
        ]
        return active + reactive

    def monitor_values(
        self,
        state: DsoState,
        feedback_quality: Mapping[Command, Quality],
        powers: CategoryPowers,
    ) -> list[MonitorValue]:
        """Every monitor point, as a general interrogation returns them."""
        return [
            *(
                self.feedback_value(state, command, feedback_quality.get(command, Quality.GOOD))
                for command in Command
            ),
            MonitorValue(self.point_map.interface_version_ioa, TypeID.M_ME_NC_1, INTERFACE_VERSION),
            *self.measurement_values(powers),
        ]
