"""Sans-IO IEC 60870-5-104 session of the controlled station (server side).

The session owns the APCI procedures: STARTDT/STOPDT/TESTFR, send and receive sequence
numbers, the k and w windows and the t1, t2 and t3 timers. It takes received bytes and a
monotonic `now` (seconds) and returns events; bytes to send are collected with
`data_to_send()`. Timers are explicit: call `handle_timeout(now)` at `next_deadline()`.

Besides the standard's timers, the session can supervise the peer: with a `supervision` time
it reports `SupervisionLost` once data transfer has been stopped (or never started), or nothing
has been received, for that long, and `SupervisionRestored` when that ends.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .apci import (
    SEQUENCE_MODULO,
    FrameError,
    FrameReader,
    IFrame,
    SFrame,
    UFrame,
    UFunction,
    encode_apdu,
)
from .asdu import ASDU, ASDUDecodeError, decode_asdu


@dataclass(frozen=True, slots=True)
class ProtocolParameters:
    """APCI parameters; the defaults are the standard's (times in seconds).

    t0 bounds connection establishment (the server applies it to the TLS handshake).
    t1 bounds the wait for an acknowledgement of a sent I-frame or TESTFR act, and how long
    an incomplete frame may stay incomplete. t2 bounds the delay before acknowledging received
    I-frames. t3 is the idle time after which a TESTFR act is sent.
    """

    k: int = 12
    w: int = 8
    t0: float = 30.0
    t1: float = 15.0
    t2: float = 10.0
    t3: float = 20.0

    def __post_init__(self) -> None:
        """Reject values the standard does not allow."""
        if not 1 <= self.k <= 32767:
            raise ValueError(f"k={self.k} outside 1..32767")
        if not 1 <= self.w <= self.k:
            raise ValueError(f"w={self.w} outside 1..k")
        if min(self.t0, self.t1, self.t2, self.t3) <= 0:
            raise ValueError("timeouts must be positive")
        if self.t2 >= self.t1:
            raise ValueError("t2 must be shorter than t1")


@dataclass(frozen=True, slots=True)
class DataTransferStarted:
    """STARTDT act received and confirmed: I-frames may now flow."""


@dataclass(frozen=True, slots=True)
class DataTransferStopped:
    """STOPDT act received; the session confirms it once its sent I-frames are acknowledged."""


@dataclass(frozen=True, slots=True)
class ASDUReceived:
    """An I-frame carried this ASDU (raw: its octets, for mirrored replies)."""

    asdu: ASDU
    raw: bytes


@dataclass(frozen=True, slots=True)
class InvalidASDUReceived:
    """An I-frame carried an ASDU that does not decode."""

    raw: bytes
    error: ASDUDecodeError


@dataclass(frozen=True, slots=True)
class IFrameIgnored:
    """An I-frame arrived before STARTDT: acknowledged, but its ASDU is not processed."""


@dataclass(frozen=True, slots=True)
class LinkTestConfirmed:
    """The peer answered our TESTFR act: the link is alive."""


@dataclass(frozen=True, slots=True)
class SupervisionLost:
    """Data transfer stopped, or the peer silent, for the supervision time; still connected."""

    reason: str


@dataclass(frozen=True, slots=True)
class SupervisionRestored:
    """Data transfer is started again and the peer answers."""


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """The session ended (protocol error or timeout); the transport must close."""

    reason: str


type Event = (
    DataTransferStarted
    | DataTransferStopped
    | ASDUReceived
    | InvalidASDUReceived
    | IFrameIgnored
    | LinkTestConfirmed
    | SupervisionLost
    | SupervisionRestored
    | SessionClosed
)


class Session:
    """Server-side APCI state machine of one TCP connection."""

    def __init__(
        self, parameters: ProtocolParameters, now: float, *, supervision: float | None = None
    ) -> None:
        """Start in the stopped state, with t3 running from `now`.

        supervision: seconds of stopped data transfer or of silence after which the session
        reports `SupervisionLost`; None never does. Longer than t3, or an idle link whose
        peer answers our TESTFR would count as silent.
        """
        if supervision is not None and supervision <= 0:
            raise ValueError("supervision time must be positive")
        self.parameters = parameters
        self.supervision = supervision
        self._heard_at = now  # last frame received (t3 restarts on a test, this does not)
        self._stopped_since: float | None = now
        self._supervision_lost: str | None = None
        self._reader = FrameReader()
        self._out = bytearray()
        self._queue: deque[bytes] = deque()  # encoded ASDUs waiting for the k window
        self._unacknowledged: deque[tuple[int, float]] = deque()  # (N(S), sent at) in order
        self._send_seq = 0  # V(S)
        self._recv_seq = 0  # V(R)
        self._received_unacknowledged = 0
        self._first_unacknowledged_at = 0.0  # receive time of the oldest unacknowledged I-frame
        self._last_received_at = now
        self._partial_since: float | None = None
        self._test_sent_at: float | None = None
        self._started = False
        self._stopping = False
        self._closed_reason: str | None = None

    # State --------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether data transfer is started (STARTDT confirmed and no STOPDT since)."""
        return self._started

    @property
    def closed(self) -> bool:
        """Whether the session ended; nothing more is received or sent."""
        return self._closed_reason is not None

    @property
    def pending(self) -> int:
        """ASDUs queued or sent but not yet acknowledged by the peer."""
        return len(self._queue) + len(self._unacknowledged)

    # Input --------------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Process received bytes and return the resulting events."""
        if self.closed:
            return []
        try:
            frames = self._reader.feed(data)
        except FrameError as err:
            return [self._close(f"framing error: {err}")]
        events: list[Event] = []
        if frames:
            self._last_received_at = self._heard_at = now
        for frame in frames:
            event: Event | None
            match frame:
                case IFrame():
                    event = self._receive_i_frame(frame, now)
                case SFrame(recv_seq):
                    event = self._acknowledge(recv_seq, now)
                case UFrame(function):
                    event = self._receive_u_frame(function, now)
            if event is not None:
                events.append(event)
                if isinstance(event, SessionClosed):
                    return events
        if not self._reader.has_partial_frame:
            self._partial_since = None
        elif frames or self._partial_since is None:
            self._partial_since = now  # a new frame began in this chunk
        self._flush(now)
        self._supervise(now, events)
        return events

    def _receive_i_frame(self, frame: IFrame, now: float) -> Event:
        if frame.send_seq != self._recv_seq:
            return self._close(f"sequence error: N(S)={frame.send_seq}, expected {self._recv_seq}")
        closed = self._acknowledge(frame.recv_seq, now)
        if closed is not None:
            return closed
        self._recv_seq = (self._recv_seq + 1) % SEQUENCE_MODULO
        if self._received_unacknowledged == 0:
            self._first_unacknowledged_at = now
        self._received_unacknowledged += 1
        if self._received_unacknowledged >= self.parameters.w:
            self._send_s_frame()
        if not self._started:
            # Like lib60870: counted and acknowledged, but not processed before STARTDT.
            return IFrameIgnored()
        try:
            return ASDUReceived(decode_asdu(frame.asdu), frame.asdu)
        except ASDUDecodeError as err:
            return InvalidASDUReceived(frame.asdu, err)

    def _receive_u_frame(self, function: UFunction, now: float) -> Event | None:
        match function:
            case UFunction.STARTDT_ACT:
                self._write_u(UFunction.STARTDT_CON)
                was_started = self._started
                self._started = True
                self._stopping = False
                self._stopped_since = None
                return None if was_started else DataTransferStarted()
            case UFunction.STOPDT_ACT:
                was_started = self._started
                self._started = False
                self._stopping = True
                if self._stopped_since is None:
                    self._stopped_since = now
                self._confirm_stop_when_acknowledged()
                return DataTransferStopped() if was_started else None
            case UFunction.TESTFR_ACT:
                self._write_u(UFunction.TESTFR_CON)
                return None
            case UFunction.TESTFR_CON:
                if self._test_sent_at is None:
                    return None
                self._test_sent_at = None
                return LinkTestConfirmed()
            case _:
                # STARTDT/STOPDT con: only a controlling station expects them.
                return None

    def _acknowledge(self, recv_seq: int, now: float) -> SessionClosed | None:
        """Release our sent I-frames up to N(R) = recv_seq."""
        unacknowledged = self._unacknowledged
        oldest = unacknowledged[0][0] if unacknowledged else self._send_seq
        if (recv_seq - oldest) % SEQUENCE_MODULO > len(unacknowledged):
            return self._close(
                f"sequence error: N(R)={recv_seq} outside {oldest}..{self._send_seq}"
            )
        for _ in range((recv_seq - oldest) % SEQUENCE_MODULO):
            unacknowledged.popleft()
        if self._stopping:
            self._confirm_stop_when_acknowledged()
        return None

    def _confirm_stop_when_acknowledged(self) -> None:
        if self._stopping and not self._unacknowledged:
            if self._received_unacknowledged:
                self._send_s_frame()
            self._write_u(UFunction.STOPDT_CON)
            self._stopping = False

    # Output -------------------------------------------------------------------------------

    def send_asdu(self, asdu: bytes, now: float) -> None:
        """Queue an encoded ASDU; it is sent in order as soon as STARTDT and the k window allow.

        Queued ASDUs stay queued across STOPDT and are only dropped with the session.
        """
        if self.closed:
            return
        self._queue.append(asdu)
        self._flush(now)

    def data_to_send(self) -> bytes:
        """Return and clear the bytes to write to the transport."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def _flush(self, now: float) -> None:
        """Move queued ASDUs into I-frames while started and within the k window."""
        queue = self._queue
        if not (self._started and queue):
            return
        k = self.parameters.k
        unacknowledged = self._unacknowledged
        while queue and len(unacknowledged) < k:
            frame = IFrame(self._send_seq, self._recv_seq, queue.popleft())
            self._out += encode_apdu(frame)
            unacknowledged.append((self._send_seq, now))
            self._send_seq = (self._send_seq + 1) % SEQUENCE_MODULO
            self._received_unacknowledged = 0  # the I-frame acknowledges what we received

    def _send_s_frame(self) -> None:
        self._out += encode_apdu(SFrame(self._recv_seq))
        self._received_unacknowledged = 0

    def _write_u(self, function: UFunction) -> None:
        self._out += encode_apdu(UFrame(function))

    def _close(self, reason: str) -> SessionClosed:
        self._closed_reason = reason
        self._queue.clear()
        self._unacknowledged.clear()
        return SessionClosed(reason)

    # Timers -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """Monotonic time at which `handle_timeout` must run next, None if no timer runs."""
        if self.closed:
            return None
        parameters = self.parameters
        deadlines = [self._last_received_at + parameters.t3]
        if self._unacknowledged:
            deadlines.append(self._unacknowledged[0][1] + parameters.t1)
        if self._test_sent_at is not None:
            deadlines.append(self._test_sent_at + parameters.t1)
        if self._partial_since is not None:
            deadlines.append(self._partial_since + parameters.t1)
        if self._received_unacknowledged:
            deadlines.append(self._first_unacknowledged_at + parameters.t2)
        if self.supervision is not None and self._supervision_lost is None:
            deadlines.append(self._heard_at + self.supervision)
            if self._stopped_since is not None:
                deadlines.append(self._stopped_since + self.supervision)
        return min(deadlines)

    def handle_timeout(self, now: float) -> list[Event]:
        """Run the timers due at `now`: close on t1, acknowledge on t2, test on t3."""
        if self.closed:
            return []
        parameters = self.parameters
        if self._unacknowledged and now >= self._unacknowledged[0][1] + parameters.t1:
            return [self._close("t1 expired: sent I-frames not acknowledged")]
        if self._test_sent_at is not None and now >= self._test_sent_at + parameters.t1:
            return [self._close("t1 expired: TESTFR act not confirmed")]
        if self._partial_since is not None and now >= self._partial_since + parameters.t1:
            return [self._close("t1 expired: incomplete frame")]
        if self._received_unacknowledged and now >= self._first_unacknowledged_at + parameters.t2:
            self._send_s_frame()
        if now >= self._last_received_at + parameters.t3:
            if self._test_sent_at is None:
                self._write_u(UFunction.TESTFR_ACT)
                self._test_sent_at = now
            self._last_received_at = now  # t3 restarts; t1 now guards the test frame
        events: list[Event] = []
        self._supervise(now, events)
        return events

    # Supervision --------------------------------------------------------------------------

    def _supervision_fault(self, now: float) -> str | None:
        """Why the peer counts as lost at `now`, None while it does not."""
        time = self.supervision
        if time is None:
            return None
        if self._stopped_since is not None and now >= self._stopped_since + time:
            return f"data transfer stopped for {time:g} s"
        if now >= self._heard_at + time:
            return f"nothing received for {time:g} s"
        return None

    def _supervise(self, now: float, events: list[Event]) -> None:
        fault = self._supervision_fault(now)
        if (fault is None) == (self._supervision_lost is None):
            return
        self._supervision_lost = fault
        events.append(SupervisionRestored() if fault is None else SupervisionLost(fault))
