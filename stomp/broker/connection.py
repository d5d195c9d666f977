"""One client connection of the embedded broker: its socket, buffers, timers and states.

A :class:`ClientConnection` is driven by the broker's event loop (``server.py``), on that
loop's thread only: :meth:`~ClientConnection.read` when the socket is readable,
:meth:`~ClientConnection.flush` when output is waiting, :meth:`~ClientConnection.tick`
for timers.  It decodes frames with the project's codec (strictly: an undefined escape is
an error) and hands them to its :class:`~stomp.broker.session.Session`, which applies
them; it queues the encoded answers and writes them without blocking.

Life cycle: ``AWAITING`` (no CONNECT yet) -> ``OPEN`` -> ``CLOSING`` (an ERROR or the
DISCONNECT receipt is being flushed; input is read and dropped) -> ``LINGER`` (our side is
shut; waiting briefly for the client to close) -> ``CLOSED``.  The session's subscriptions
and transactions are released as soon as it leaves ``OPEN``, so unacknowledged messages go
back to their queues at once.
"""

from __future__ import annotations

import logging
import socket
import time
from collections import deque
from enum import Enum
from typing import Protocol

from stomp.broker.destinations import Router
from stomp.broker.handshake import Settings
from stomp.broker.session import Session, describe
from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder, encode_frame
from stomp.exception import FrameError

__all__ = ["ClientConnection", "State"]

log = logging.getLogger("stomp.py.broker")

_RECV_BYTES = 65536
_WRITE_CHUNK = 256 * 1024  # small frames are joined into writes of up to this size


class State(Enum):
    """Where a connection is in its life (see the module docstring)."""

    AWAITING = "awaiting CONNECT"
    OPEN = "open"
    CLOSING = "closing"
    LINGER = "lingering"
    CLOSED = "closed"


class Host(Protocol):
    """What a connection needs from the broker's event loop."""

    settings: Settings
    router: Router
    token: str

    def wants_flush(self, connection: ClientConnection) -> None:
        """Output was queued: flush it at the end of this loop turn."""

    def wake_at(self, when: float) -> None:
        """Call :meth:`ClientConnection.tick` no later than ``when``."""

    def closed(self, connection: ClientConnection) -> None:
        """The socket is closed: forget the connection."""


class ClientConnection:
    """The broker's side of one accepted socket (see the module docstring)."""

    def __init__(self, host: Host, sock: socket.socket, peer: str, number: int) -> None:
        settings = host.settings
        self.host = host
        self.sock = sock
        self.settings = settings
        #: ``host:port`` of the client, for log lines.
        self.peer = peer
        self.state = State.AWAITING
        self.session = Session(self, host.router, settings, f"session-{host.token}-{number}")
        # Before CONNECT, 1.2 line rules: they accept CR LF and LF alike.
        self.decoder = FrameDecoder(
            "1.2",
            strict=True,
            max_header_bytes=settings.max_header_bytes,
            max_body_bytes=settings.max_body_bytes,
        )
        #: Encoded frames waiting to be written, oldest first.
        self.out: deque[bytes | memoryview] = deque()
        self.out_size = 0
        #: Too much output waits: no queue deliveries, no reading, until it drains.
        self.throttled = False
        self.peer_closed = False
        now = time.monotonic()
        self.last_received = self.last_sent = now
        self.send_interval = 0.0  # seconds between our heart-beats (0: none)
        self.receive_timeout = 0.0  # seconds of client silence we allow (0: forever)
        self.deadline = now + settings.connect_timeout  # for CONNECT, or for closing
        host.wake_at(self.deadline)

    def __repr__(self) -> str:
        return f"ClientConnection({self.peer}, {self.state.value})"

    # -- the event loop's calls ---------------------------------------------------------

    def read(self, now: float) -> None:
        """Read what the socket has and act on the frames it completes."""
        try:
            data = self.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.debug("%s: read failed: %s", self.peer, exc)
            self.close()
            return
        if not data:
            self._on_eof()
            return
        self.last_received = now
        if self.state is State.AWAITING or self.state is State.OPEN:
            self._received(data)

    def flush(self, now: float) -> None:
        """Write as much queued output as the socket takes."""
        out = self.out
        while out and self.state is not State.CLOSED:
            data = out.popleft()
            if out and len(data) < _WRITE_CHUNK:
                # Many small frames go out in one send.
                parts = [data]
                size = len(data)
                while out and size + len(out[0]) <= _WRITE_CHUNK:
                    part = out.popleft()
                    parts.append(part)
                    size += len(part)
                data = b"".join(parts)
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                log.debug("%s: write failed: %s", self.peer, exc)
                self.close()
                return
            self.out_size -= sent
            if sent:
                self.last_sent = now
            if sent < len(data):
                # The socket is full: keep the rest (a view, not a copy) for later.
                out.appendleft(memoryview(data)[sent:])
                break
        if self.throttled and self.out_size <= self.settings.high_water_bytes // 2:
            self.throttled = False
            if self.state is State.OPEN:
                self.session.wake()
        if not self.out and self.state is State.CLOSING:
            self._shut_output()

    def tick(self, now: float) -> float:
        """Do what is due (heart-beats, timeouts); return when to be called next."""
        state = self.state
        if state is State.AWAITING:
            if now >= self.deadline:
                limit = self.settings.connect_timeout
                self.fail("No CONNECT frame", f"Nothing connected within {limit} s.")
                return self.deadline
            return self.deadline
        if state is not State.OPEN:
            if now >= self.deadline:
                self.close()
                return float("inf")
            return self.deadline
        next_due = float("inf")
        if self.receive_timeout:
            if self.throttled:
                self.last_received = now  # we do not read now, so cannot judge silence
            elif now - self.last_received > self.receive_timeout:
                silent = now - self.last_received
                log.info("%s: no heart-beat for %.3f s, closing", self.peer, silent)
                self.fail("Heart-beat timeout", f"Nothing received for {silent:.3f} s.")
                return self.deadline
            next_due = self.last_received + self.receive_timeout + 0.001
        if self.send_interval:
            # Beat when idle for half the interval, so a beat is never late.
            half = self.send_interval / 2
            if now - self.last_sent >= half and not self.out:
                self.send_bytes(b"\n")
                self.last_sent = now
            next_due = min(next_due, self.last_sent + half)
        return next_due

    def close(self) -> None:
        """Close the socket now (releasing the session first)."""
        if self.state is State.CLOSED:
            return
        self.session.release()
        self.state = State.CLOSED
        self.out.clear()
        self.out_size = 0
        try:
            self.sock.close()
        except OSError:
            pass
        self.host.closed(self)

    def interest(self) -> tuple[bool, bool]:
        """``(read, write)``: what the event loop should watch the socket for."""
        state = self.state
        if state is State.CLOSED:
            return (False, False)
        reading = not self.peer_closed and not (self.throttled and state is State.OPEN)
        return (reading, bool(self.out))

    # -- what the session calls (the Link interface) ----------------------------------------

    def can_accept(self) -> bool:
        """Whether a queue may give this connection a message now."""
        return self.state is State.OPEN and not self.throttled

    def use_version(self, version: str) -> None:
        """Decode (and, through the session, encode) by ``version``'s rules from now on."""
        self.decoder.version = version

    def opened(self, send_interval: float, receive_timeout: float) -> None:
        """CONNECT was accepted: start the heart-beat timers (seconds; 0: none)."""
        self.state = State.OPEN
        self.send_interval = send_interval
        self.receive_timeout = receive_timeout
        now = time.monotonic()
        self.last_received = now
        if send_interval:
            self.host.wake_at(now + send_interval / 2)
        if receive_timeout:
            self.host.wake_at(now + receive_timeout)

    def send_frame(self, frame: Frame) -> None:
        """Encode ``frame`` with the session's version and queue it."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s <- %s", self.peer, describe(frame))
        self.send_bytes(encode_frame(frame, self.session.version))

    def send_bytes(self, data: bytes) -> None:
        """Queue bytes for the socket (dropped once the connection is shutting)."""
        if self.state is State.CLOSED or self.state is State.LINGER:
            return
        self.out.append(data)
        self.out_size += len(data)
        self.host.wants_flush(self)
        if self.out_size >= self.settings.high_water_bytes:
            self.throttled = True
            if self.out_size > self.settings.max_pending_bytes and self.state is State.OPEN:
                log.warning(
                    "%s: slow consumer, %d bytes waiting to be read; closing",
                    self.peer,
                    self.out_size,
                )
                self._drop_output()
                limit = self.settings.max_pending_bytes
                self.fail(
                    "Slow consumer (max_pending_bytes)",
                    f"More than {limit} bytes waited to be written to this client (the limit "
                    "of this broker, max_pending_bytes): it did not read its messages.",
                )

    def fail(
        self,
        message: str,
        detail: str = "",
        receipt: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Send an ERROR frame, then close: every ERROR this broker sends ends the
        connection."""
        headers = dict(extra or {})
        headers["message"] = _one_line(message)
        if receipt is not None:
            headers["receipt-id"] = receipt
        body = (detail or message).encode()
        if body:
            headers["content-type"] = "text/plain"
            headers["content-length"] = ""
        log.info("%s: ERROR %s", self.peer, headers["message"])
        self.send_frame(Frame("ERROR", headers, body))
        self.close_gracefully()

    def close_gracefully(self) -> None:
        """Flush what is queued, shut our side, and give the client ``linger`` seconds to
        read it and close before the socket is closed anyway."""
        if self.state is State.CLOSED:
            return
        self.session.release()
        self.state = State.CLOSING
        self.deadline = time.monotonic() + self.settings.linger
        self.host.wake_at(self.deadline)
        self.host.wants_flush(self)

    # -- internals ----------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        error: FrameError | None = None
        try:
            frames = self.decoder.feed(data)
        except FrameError as exc:
            frames, error = exc.frames, exc
        for frame in frames:
            if self.state is not State.AWAITING and self.state is not State.OPEN:
                return  # an earlier frame ended the session (ERROR or DISCONNECT)
            if frame is not HEARTBEAT_FRAME:
                self.session.handle(frame)
        if error is not None and (self.state is State.AWAITING or self.state is State.OPEN):
            self.fail("Malformed frame", error.reason)

    def _drop_output(self) -> None:
        # Forget the queued frames, except the rest of a partly written write (a view at
        # the head), without which the client would see a truncated frame.
        out = self.out
        head = out[0] if out and isinstance(out[0], memoryview) else None
        out.clear()
        self.out_size = 0
        if head is not None:
            out.append(head)
            self.out_size = len(head)

    def _shut_output(self) -> None:
        if self.peer_closed:
            self.close()
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self.state = State.LINGER

    def _on_eof(self) -> None:
        self.peer_closed = True
        if self.state is State.CLOSING and self.out:
            return  # the client may still read what we queued; flush() closes after
        if self.state is State.OPEN:
            log.debug("%s: closed by the client without DISCONNECT", self.peer)
        self.close()


def _one_line(text: str) -> str:
    # ERROR messages may reach a 1.0 client, whose headers cannot hold line ends.
    return " ".join(text.split())
