"""P1 port of the Fluvius digital meter (DSMR 5 with the e-MUCS extensions), without Home Assistant.

* ``crc``: CRC-16/ARC of a telegram.
* ``parser``: telegram body -> typed ``Telegram``, with dsmr_parser's value parsers.
* ``reader``: sans-IO byte stream -> telegram events (framing, CRC, counters guard, statistics).
* ``transport``: the serial or TCP port with ``serialx``, reconnecting with backoff.
"""

from .reader import P1Event, P1Reader, ReaderStats, RejectReason, TelegramReceived, TelegramRejected
from .telegram import Telegram
from .transport import (
    Backoff,
    P1Connection,
    P1NoTelegramError,
    P1PortError,
    PortState,
    read_telegram,
)

__all__ = [
    "Backoff",
    "P1Connection",
    "P1Event",
    "P1NoTelegramError",
    "P1PortError",
    "P1Reader",
    "PortState",
    "ReaderStats",
    "RejectReason",
    "Telegram",
    "TelegramReceived",
    "TelegramRejected",
    "read_telegram",
]
