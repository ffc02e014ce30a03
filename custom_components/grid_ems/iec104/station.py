"""Stations and their points: what the server exposes and which commands it accepts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from .asdu import (
    BROADCAST_ADDRESS,
    COMMAND_TYPES,
    MAX_IOA,
    UNTIMED_TYPE,
    DoublePoint,
    DoublePointValue,
    InformationObject,
    MeasuredFloat,
    Quality,
    SinglePoint,
    TypeID,
    encode_cp56time2a,
    pack_short_float,
)


class MonitorPoint(ABC):
    """A monitor-direction information object: its latest value, quality and timestamp."""

    __slots__ = ("ioa", "quality", "station", "timestamp", "type_id")

    def __init__(
        self, station: Station, ioa: int, type_id: TypeID, quality: Quality, timestamp: datetime
    ) -> None:
        """Bind the point to its station; use the Station.add_* methods to create points."""
        self.station = station
        self.ioa = ioa
        self.type_id = type_id
        self.quality = quality
        self.timestamp = timestamp
        """Time of the last update (aware); sent with time-tagged types."""

    def _stamp(self, quality: Quality, timestamp: datetime | None) -> None:
        if timestamp is not None:
            encode_cp56time2a(timestamp)  # aware and within the CP56Time2a range, or ValueError
        self.quality = quality
        self.timestamp = timestamp or datetime.now(UTC)

    @abstractmethod
    def information(self, *, time_tagged: bool) -> InformationObject:
        """The information object for the current state, with or without its time tag."""

    def __repr__(self) -> str:
        """Show address, type and state."""
        return (
            f"<{type(self).__name__} CA {self.station.common_address} IOA {self.ioa} "
            f"{self.type_id.name} {self.information(time_tagged=False)}>"
        )


class SingleMonitorPoint(MonitorPoint):
    """Single-point information (M_SP_NA_1 or M_SP_TB_1)."""

    __slots__ = ("value",)

    def __init__(self, station: Station, ioa: int, type_id: TypeID, value: bool) -> None:
        """Create with an initial value of good quality, timestamped now."""
        super().__init__(station, ioa, type_id, Quality.GOOD, datetime.now(UTC))
        self.value = value

    def update(
        self, value: bool, quality: Quality = Quality.GOOD, timestamp: datetime | None = None
    ) -> None:
        """Set the value, quality and timestamp (default now); transmit with Server.transmit."""
        if quality & Quality.OVERFLOW:
            raise ValueError("single points have no OVERFLOW quality bit")
        self._stamp(quality, timestamp)
        self.value = value

    def information(self, *, time_tagged: bool) -> SinglePoint:
        """The single-point information object."""
        return SinglePoint(
            self.ioa, self.value, self.quality, self.timestamp if time_tagged else None
        )


class DoubleMonitorPoint(MonitorPoint):
    """Double-point information (M_DP_NA_1 or M_DP_TB_1)."""

    __slots__ = ("value",)

    def __init__(
        self, station: Station, ioa: int, type_id: TypeID, value: DoublePointValue
    ) -> None:
        """Create with an initial value of good quality, timestamped now."""
        super().__init__(station, ioa, type_id, Quality.GOOD, datetime.now(UTC))
        self.value = value

    def update(
        self,
        value: DoublePointValue,
        quality: Quality = Quality.GOOD,
        timestamp: datetime | None = None,
    ) -> None:
        """Set the value, quality and timestamp (default now); transmit with Server.transmit."""
        if quality & Quality.OVERFLOW:
            raise ValueError("double points have no OVERFLOW quality bit")
        self._stamp(quality, timestamp)
        self.value = DoublePointValue(value)

    def information(self, *, time_tagged: bool) -> DoublePoint:
        """The double-point information object."""
        return DoublePoint(
            self.ioa, self.value, self.quality, self.timestamp if time_tagged else None
        )


class FloatMonitorPoint(MonitorPoint):
    """Measured value, short floating point (M_ME_NC_1 or M_ME_TF_1)."""

    __slots__ = ("value",)

    def __init__(self, station: Station, ioa: int, type_id: TypeID, value: float) -> None:
        """Create with an initial value of good quality, timestamped now."""
        super().__init__(station, ioa, type_id, Quality.GOOD, datetime.now(UTC))
        self.value = value

    def update(
        self, value: float, quality: Quality = Quality.GOOD, timestamp: datetime | None = None
    ) -> None:
        """Set the value, quality and timestamp (default now); transmit with Server.transmit.

        ValueError if the value does not fit a short float (infinity and NaN do).
        """
        pack_short_float(value)
        self._stamp(quality, timestamp)
        self.value = value

    def information(self, *, time_tagged: bool) -> MeasuredFloat:
        """The measured-value information object."""
        return MeasuredFloat(
            self.ioa, self.value, self.quality, self.timestamp if time_tagged else None
        )


class CommandPoint:
    """A control-direction information object and the command types it accepts."""

    __slots__ = ("accepted_types", "ioa", "station")

    def __init__(self, station: Station, ioa: int, accepted_types: frozenset[TypeID]) -> None:
        """Bind the point to its station; use Station.add_command_point to create points."""
        self.station = station
        self.ioa = ioa
        self.accepted_types = accepted_types

    def __repr__(self) -> str:
        """Show address and accepted types."""
        types = ", ".join(sorted(t.name for t in self.accepted_types))
        return f"<CommandPoint CA {self.station.common_address} IOA {self.ioa} {types}>"


class Station:
    """A common address (CA) and its points; an IOA is either a monitor or a command point."""

    def __init__(self, common_address: int) -> None:
        """Create an empty station; use Server.add_station."""
        if not 1 <= common_address < BROADCAST_ADDRESS:
            raise ValueError(f"common address {common_address} outside 1..65534")
        self.common_address = common_address
        self._monitor_points: dict[int, MonitorPoint] = {}
        self._command_points: dict[int, CommandPoint] = {}

    @property
    def monitor_points(self) -> Mapping[int, MonitorPoint]:
        """Monitor points by IOA, in declaration order (the order of a GI)."""
        return MappingProxyType(self._monitor_points)

    @property
    def command_points(self) -> Mapping[int, CommandPoint]:
        """Command points by IOA."""
        return MappingProxyType(self._command_points)

    def has_point(self, ioa: int) -> bool:
        """Whether a monitor or command point is declared at this IOA."""
        return ioa in self._monitor_points or ioa in self._command_points

    def _check_free(self, ioa: int) -> None:
        if not 1 <= ioa <= MAX_IOA:
            raise ValueError(f"IOA {ioa} outside 1..{MAX_IOA}")
        if self.has_point(ioa):
            raise ValueError(f"IOA {ioa} already declared in station {self.common_address}")

    def add_single_point(
        self, ioa: int, *, value: bool = False, time_tagged: bool = False
    ) -> SingleMonitorPoint:
        """Declare a single point (M_SP_TB_1 if time_tagged, else M_SP_NA_1)."""
        self._check_free(ioa)
        type_id = TypeID.M_SP_TB_1 if time_tagged else TypeID.M_SP_NA_1
        point = SingleMonitorPoint(self, ioa, type_id, value)
        self._monitor_points[ioa] = point
        return point

    def add_double_point(
        self,
        ioa: int,
        *,
        value: DoublePointValue = DoublePointValue.OFF,
        time_tagged: bool = False,
    ) -> DoubleMonitorPoint:
        """Declare a double point (M_DP_TB_1 if time_tagged, else M_DP_NA_1)."""
        self._check_free(ioa)
        type_id = TypeID.M_DP_TB_1 if time_tagged else TypeID.M_DP_NA_1
        point = DoubleMonitorPoint(self, ioa, type_id, value)
        self._monitor_points[ioa] = point
        return point

    def add_float_point(
        self, ioa: int, *, value: float = 0.0, time_tagged: bool = False
    ) -> FloatMonitorPoint:
        """Declare a short float measured value (M_ME_TF_1 if time_tagged, else M_ME_NC_1)."""
        self._check_free(ioa)
        type_id = TypeID.M_ME_TF_1 if time_tagged else TypeID.M_ME_NC_1
        point = FloatMonitorPoint(self, ioa, type_id, value)
        self._monitor_points[ioa] = point
        return point

    def add_command_point(self, ioa: int, accepted_types: Iterable[TypeID]) -> CommandPoint:
        """Declare a command point accepting these command types (e.g. C_SE_NC_1 and C_SE_TC_1)."""
        self._check_free(ioa)
        types = frozenset(accepted_types)
        if not types or not types <= COMMAND_TYPES:
            raise ValueError(f"command points accept a non-empty subset of {sorted(COMMAND_TYPES)}")
        point = CommandPoint(self, ioa, types)
        self._command_points[ioa] = point
        return point


def untimed(type_id: TypeID) -> TypeID:
    """The type without time tag used for interrogation and cyclic data."""
    return UNTIMED_TYPE.get(type_id, type_id)
