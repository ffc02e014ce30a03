"""IEC 60870-5-104 server for Grid EMS, in pure Python on asyncio (no Home Assistant imports).

Layers: `apci` (framing), `asdu` (application data codec), `connection` (sans-IO session with
the k/w windows and t1-t3 timers), `station` (stations and points), `responder` (sans-IO ASDU
rules: refusals, interrogation, clock sync, commands) and `server` (asyncio transport,
admission, TLS and the glue). See README.md next to this file for an overview of the API.

The names below are the public API for the data model built on top: declare stations and
points on a `Server`, handle `CommandRequest`s with a `CommandResult`, hear of the commands
the server refuses by itself as `RefusedCommand`s, follow connections through
`ConnectionEvent`s and send monitor data with `Server.transmit`.
"""

from .asdu import (
    ASDU,
    BROADCAST_ADDRESS,
    ASDUDecodeError,
    CauseOfTransmission,
    DoubleCommand,
    DoublePointValue,
    InitializationCause,
    Quality,
    SetpointCommand,
    SingleCommand,
    TypeID,
)
from .connection import ProtocolParameters
from .responder import (
    ClockSyncRequest,
    CommandResult,
    Peer,
    ProcessCommand,
    RefusedCommand,
)
from .server import (
    DEFAULT_PORT,
    ClockSyncHandler,
    CommandHandler,
    CommandRefusedHandler,
    ConnectionEvent,
    ConnectionEventHandler,
    ConnectionState,
    Server,
    WhenFull,
    create_tls_context,
)
from .station import (
    CommandPoint,
    DoubleMonitorPoint,
    FloatMonitorPoint,
    MonitorPoint,
    SingleMonitorPoint,
    Station,
)

__all__ = [
    "ASDU",
    "BROADCAST_ADDRESS",
    "DEFAULT_PORT",
    "ASDUDecodeError",
    "CauseOfTransmission",
    "ClockSyncHandler",
    "ClockSyncRequest",
    "CommandHandler",
    "CommandPoint",
    "CommandRefusedHandler",
    "CommandResult",
    "ConnectionEvent",
    "ConnectionEventHandler",
    "ConnectionState",
    "DoubleCommand",
    "DoubleMonitorPoint",
    "DoublePointValue",
    "FloatMonitorPoint",
    "InitializationCause",
    "MonitorPoint",
    "Peer",
    "ProcessCommand",
    "ProtocolParameters",
    "Quality",
    "RefusedCommand",
    "Server",
    "SetpointCommand",
    "SingleCommand",
    "SingleMonitorPoint",
    "Station",
    "TypeID",
    "WhenFull",
    "create_tls_context",
]
