"""One client connection of the embedded broker: its socket buffers and its STOMP session.

A :class:`ClientConnection` is driven by the broker's event loop (``server.py``), on that
loop's thread only: :meth:`~ClientConnection.read` when the socket is readable,
:meth:`~ClientConnection.flush` when output is waiting, :meth:`~ClientConnection.tick`
for timers.  It decodes frames with the project's codec (strictly: an undefined escape is
an error), applies them to the :class:`~stomp.broker.destinations.Router`, and queues
the encoded answers.

Life cycle: ``AWAITING`` (no CONNECT yet) -> ``OPEN`` -> ``CLOSING`` (an ERROR or the
DISCONNECT receipt is being flushed; input is read and dropped) -> ``LINGER`` (our side is
shut; waiting briefly for the client to close) -> ``CLOSED``.  The session's subscriptions
and transactions are released as soon as it leaves ``OPEN``, so unacknowledged messages go
back to their queues at once.
"""

from __future__ import annotations

import functools
import logging
import socket
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Protocol

from stomp.broker.destinations import ACK_MODES, Message, Router, Subscription
from stomp.broker.handshake import (
    HandshakeError,
    Settings,
    check_login,
    heartbeat_intervals,
    negotiate_version,
    parse_heartbeat,
)
from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder, encode_frame
from stomp.exception import FrameError

__all__ = ["ClientConnection", "ProtocolError", "State"]

log = logging.getLogger("stomp.py.broker")

# SEND headers that are the broker's business, not passed on in MESSAGE frames.
_NOT_FORWARDED = frozenset(
    {"receipt", "transaction", "content-length", "message-id", "subscription", "ack", "redelivered"}
)

_RECV_BYTES = 65536
_WRITE_CHUNK = 256 * 1024  # small frames are joined into writes of up to this size


class State(Enum):
    """Where a connection is in its life (see the module docstring)."""

    AWAITING = "awaiting CONNECT"
    OPEN = "open"
    CLOSING = "closing"
    LINGER = "lingering"
    CLOSED = "closed"


class ProtocolError(Exception):
    """A client frame breaks the protocol: answered with ERROR, then the connection closes."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


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
        self.router = host.router
        #: ``host:port`` of the client, for log lines.
        self.peer = peer
        self.session = f"session-{host.token}-{number}"
        self.state = State.AWAITING
        #: The negotiated version (1.0 rules until CONNECT is answered).
        self.version = "1.0"
        self.login: str | None = None
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
        self.subscriptions: dict[str, Subscription] = {}
        self.transactions: dict[str, list[Callable[[], None]]] = {}
        now = time.monotonic()
        self.last_received = self.last_sent = now
        self.send_interval = 0.0  # seconds between our heart-beats (0: none)
        self.receive_timeout = 0.0  # seconds of client silence we allow (0: forever)
        self.deadline = now + settings.connect_timeout  # for CONNECT, or for closing
        host.wake_at(self.deadline)
        self._handlers: dict[str, Callable[[Frame], None]] = {
            "SEND": self._on_send,
            "SUBSCRIBE": self._on_subscribe,
            "UNSUBSCRIBE": self._on_unsubscribe,
            "ACK": self._on_ack,
            "BEGIN": self._on_begin,
            "COMMIT": self._on_commit,
            "ABORT": self._on_abort,
            "DISCONNECT": self._on_disconnect,
        }

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
                for subscription in list(self.subscriptions.values()):
                    self.router.wake(subscription)
        if not self.out and self.state is State.CLOSING:
            self._shut_output()

    def tick(self, now: float) -> float:
        """Do what is due (heart-beats, timeouts); return when to be called next."""
        state = self.state
        if state is State.AWAITING:
            if now >= self.deadline:
                limit = self.settings.connect_timeout
                self._fail("No CONNECT frame", f"Nothing connected within {limit} s.")
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
                self._fail("Heart-beat timeout", f"Nothing received for {silent:.3f} s.")
                return self.deadline
            next_due = self.last_received + self.receive_timeout + 0.001
        if self.send_interval:
            # Beat when idle for half the interval, so a beat is never late.
            half = self.send_interval / 2
            if now - self.last_sent >= half and not self.out:
                self._write(b"\n")
                self.last_sent = now
            next_due = min(next_due, self.last_sent + half)
        return next_due

    def close(self) -> None:
        """Close the socket now (releasing the session first)."""
        if self.state is State.CLOSED:
            return
        self._release()
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

    # -- what subscriptions call ----------------------------------------------------------

    def can_accept(self) -> bool:
        """Whether a queue may give this connection a message now."""
        return self.state is State.OPEN and not self.throttled

    def deliver(self, subscription: Subscription, message: Message, ack_id: str | None) -> None:
        """Write the MESSAGE frame of one delivery."""
        headers = dict(message.headers)
        headers["destination"] = message.destination
        headers["message-id"] = message.message_id
        if subscription.sub_id is not None:
            headers["subscription"] = subscription.sub_id
        if ack_id is not None and self.version == "1.2":
            headers["ack"] = ack_id
        if message.redelivered:
            headers["redelivered"] = "true"
        headers["content-length"] = ""  # the encoder writes the body's real length
        frame = Frame("MESSAGE", headers, message.body)
        try:
            data = encode_frame(frame, self.version)
        except FrameError:
            # A 1.0 frame cannot carry line ends in headers that a 1.1+ sender escaped:
            # leave those headers out rather than lose the message.
            frame.headers = {
                name: value
                for name, value in headers.items()
                if not any(c in name + value for c in "\r\n") and ":" not in name
            }
            data = encode_frame(frame, self.version)
        self._write(data)

    # -- frames in --------------------------------------------------------------------------

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
                self._handle(frame)
        if error is not None and (self.state is State.AWAITING or self.state is State.OPEN):
            self._fail("Malformed frame", error.reason)

    def _handle(self, frame: Frame) -> None:
        cmd = frame.cmd or ""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s -> %s", self.peer, _describe(frame))
        receipt = frame.headers.get("receipt")
        try:
            if self.state is State.AWAITING:
                if cmd not in ("CONNECT", "STOMP"):
                    raise ProtocolError(
                        f"Expected CONNECT, not {cmd}", "The first frame must be CONNECT or STOMP."
                    )
                self._on_connect(frame)
                return  # no RECEIPT for CONNECT
            handler = self._handlers.get(cmd)
            if handler is None:
                if cmd == "NACK" and self.version != "1.0":
                    handler = self._on_nack
                elif cmd in ("CONNECT", "STOMP"):
                    raise ProtocolError("Already connected", f"A second {cmd} frame.")
                else:
                    raise ProtocolError(f"Unknown command {cmd}", _UNKNOWN_DETAIL)
            if frame.body and cmd != "SEND" and self.version != "1.0":
                raise ProtocolError(f"{cmd} frame with a body", "Only SEND frames may have a body.")
            handler(frame)
        except ProtocolError as exc:
            self._fail(exc.message, exc.detail, receipt)
            return
        if receipt is not None:
            self._write_frame(Frame("RECEIPT", {"receipt-id": receipt}))
        if cmd == "DISCONNECT":
            self._close_gracefully()

    def _on_connect(self, frame: Frame) -> None:
        headers = frame.headers
        settings = self.settings
        try:
            version = negotiate_version(headers.get("accept-version"), settings.versions)
            # A refusal after this point is written with the negotiated version's rules.
            self.version = version
            self.decoder.version = version
            login = headers.get("login")
            check_login(login, headers.get("passcode"), settings)
            client_beats = (
                parse_heartbeat(headers.get("heart-beat")) if version != "1.0" else (0, 0)
            )
        except HandshakeError as exc:
            log.info("%s: CONNECT refused: %s", self.peer, exc.message)
            self._fail(exc.message, exc.detail, extra=exc.headers)
            return
        self.login = login
        send_ms, receive_ms, offer = heartbeat_intervals(client_beats, settings)
        self.send_interval = send_ms / 1000
        self.receive_timeout = receive_ms / 1000 * settings.heartbeat_grace
        reply = {"session": self.session, "server": settings.server}
        if version != "1.0":
            reply["version"] = version
            reply["heart-beat"] = offer
        self.state = State.OPEN
        self._write_frame(Frame("CONNECTED", reply))
        log.debug(
            "%s: connected (STOMP %s, login %r, heart-beats out %d ms, in %d ms)",
            self.peer,
            version,
            login,
            send_ms,
            receive_ms,
        )
        now = time.monotonic()
        self.last_received = now
        if self.send_interval:
            self.host.wake_at(now + self.send_interval / 2)
        if self.receive_timeout:
            self.host.wake_at(now + self.receive_timeout)

    def _on_send(self, frame: Frame) -> None:
        headers = frame.headers
        destination = _require(frame, "destination")
        kept = {name: value for name, value in headers.items() if name not in _NOT_FORWARDED}
        body = frame.body if isinstance(frame.body, bytes) else _bytes(frame.body)
        message = self.router.new_message(destination, kept, body)
        transaction = headers.get("transaction")
        if transaction is None:
            self.router.send(message)
        else:
            self._transaction(transaction).append(functools.partial(self.router.send, message))

    def _on_subscribe(self, frame: Frame) -> None:
        headers = frame.headers
        destination = _require(frame, "destination")
        sub_id = headers.get("id")
        if sub_id is None and self.version != "1.0":
            raise ProtocolError("Missing id header", "SUBSCRIBE needs an id in STOMP 1.1 and 1.2.")
        key = sub_id if sub_id is not None else destination
        if key in self.subscriptions:
            raise ProtocolError(
                "Duplicate subscription", f"This connection already has subscription {key!r}."
            )
        ack_mode = headers.get("ack", "auto")
        if ack_mode not in ACK_MODES:
            raise ProtocolError(
                "Invalid ack mode", f"ack must be auto, client or client-individual: {ack_mode!r}."
            )
        prefetch_text = headers.get("prefetch-count", headers.get("activemq.prefetchSize", "0"))
        if not (prefetch_text.isdigit() and prefetch_text.isascii()):
            raise ProtocolError(
                "Invalid prefetch-count", f"Expected a non-negative integer: {prefetch_text!r}."
            )
        subscription = Subscription(self, key, sub_id, destination, ack_mode, int(prefetch_text))
        self.subscriptions[key] = subscription
        self.router.subscribe(subscription)

    def _on_unsubscribe(self, frame: Frame) -> None:
        headers = frame.headers
        sub_id = headers.get("id")
        if sub_id is not None:
            subscription = self.subscriptions.pop(sub_id, None)
            if subscription is None:
                raise ProtocolError(
                    "Unknown subscription", f"No subscription {sub_id!r} on this connection."
                )
            self.router.unsubscribe(subscription)
            return
        destination = headers.get("destination")
        if self.version != "1.0" or destination is None:
            raise ProtocolError("Missing id header", "UNSUBSCRIBE needs the subscription id.")
        matching = [s for s in self.subscriptions.values() if s.destination == destination]
        if not matching:
            raise ProtocolError(
                "Unknown subscription", f"No subscription to {destination!r} on this connection."
            )
        for subscription in matching:
            del self.subscriptions[subscription.key]
            self.router.unsubscribe(subscription)

    def _on_ack(self, frame: Frame) -> None:
        self._settle(frame, self.router.ack)

    def _on_nack(self, frame: Frame) -> None:
        self._settle(frame, self.router.nack)

    def _settle(self, frame: Frame, action: Callable[[Subscription, str], None]) -> None:
        subscription, ack_id = self._locate(frame)
        transaction = frame.headers.get("transaction")
        if transaction is None:
            action(subscription, ack_id)
        else:
            # Checked now, applied at COMMIT (a no-op then if it was settled meanwhile).
            self._transaction(transaction).append(functools.partial(action, subscription, ack_id))

    def _locate(self, frame: Frame) -> tuple[Subscription, str]:
        # Find the unacknowledged delivery an ACK/NACK names: by the MESSAGE's ack header in
        # 1.2, by message-id (and subscription, when given) in 1.0 and 1.1.
        headers = frame.headers
        if self.version == "1.2":
            ack_id = _require(frame, "id")
            for subscription in self.subscriptions.values():
                if ack_id in subscription.unacked:
                    return subscription, ack_id
            raise ProtocolError(f"{frame.cmd} for an unknown id", _unknown_ack(ack_id))
        message_id = _require(frame, "message-id")
        sub_id = headers.get("subscription")
        if sub_id is None:
            candidates = list(self.subscriptions.values())
        elif sub_id in self.subscriptions:
            candidates = [self.subscriptions[sub_id]]
        else:
            raise ProtocolError(
                "Unknown subscription", f"No subscription {sub_id!r} on this connection."
            )
        for subscription in candidates:
            found = subscription.ack_id_of(message_id)
            if found is not None:
                return subscription, found
        raise ProtocolError(f"{frame.cmd} for an unknown message-id", _unknown_ack(message_id))

    def _on_begin(self, frame: Frame) -> None:
        transaction = _require(frame, "transaction")
        if transaction in self.transactions:
            raise ProtocolError(
                "Duplicate transaction", f"Transaction {transaction!r} is already open."
            )
        self.transactions[transaction] = []

    def _on_commit(self, frame: Frame) -> None:
        transaction = _require(frame, "transaction")
        for operation in self._transaction(transaction):
            operation()
        del self.transactions[transaction]

    def _on_abort(self, frame: Frame) -> None:
        transaction = _require(frame, "transaction")
        self._transaction(transaction)
        del self.transactions[transaction]

    def _on_disconnect(self, frame: Frame) -> None:
        self._release()

    def _transaction(self, name: str) -> list[Callable[[], None]]:
        operations = self.transactions.get(name)
        if operations is None:
            raise ProtocolError("Unknown transaction", f"No open transaction {name!r}.")
        return operations

    # -- frames out and closing ------------------------------------------------------------

    def _write_frame(self, frame: Frame) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s <- %s", self.peer, _describe(frame))
        self._write(encode_frame(frame, self.version))

    def _write(self, data: bytes) -> None:
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
                self.out.clear()
                self.out_size = 0
                self._fail("Slow consumer", "The client did not read its messages.")

    def _fail(
        self,
        message: str,
        detail: str = "",
        receipt: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        # ERROR, then close: every ERROR this broker sends ends the connection.
        headers = dict(extra or {})
        headers["message"] = _one_line(message)
        if receipt is not None:
            headers["receipt-id"] = receipt
        body = (detail or message).encode()
        if body:
            headers["content-type"] = "text/plain"
            headers["content-length"] = ""
        log.info("%s: ERROR %s", self.peer, headers["message"])
        self._write_frame(Frame("ERROR", headers, body))
        self._close_gracefully()

    def _close_gracefully(self) -> None:
        # Flush what is queued, shut our side, and give the client ``linger`` seconds to
        # read it and close before the socket is closed anyway.
        if self.state is State.CLOSED:
            return
        self._release()
        self.state = State.CLOSING
        self.deadline = time.monotonic() + self.settings.linger
        self.host.wake_at(self.deadline)
        self.host.wants_flush(self)

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

    def _release(self) -> None:
        # Abort open transactions and drop subscriptions (their unacknowledged queue
        # messages go back to their queues).  Safe to call more than once.
        self.transactions.clear()
        subscriptions = list(self.subscriptions.values())
        self.subscriptions.clear()
        for subscription in subscriptions:
            self.router.unsubscribe(subscription)


_UNKNOWN_DETAIL = (
    "Commands after CONNECT: SEND, SUBSCRIBE, UNSUBSCRIBE, BEGIN, COMMIT, ABORT, ACK, "
    "NACK (STOMP 1.1 and 1.2) and DISCONNECT."
)


def _unknown_ack(ack_id: str) -> str:
    return (
        f"No unacknowledged message {ack_id!r} on this connection: it was acknowledged "
        "already, its subscription acknowledges automatically or has ended, or it was "
        "never delivered here."
    )


def _require(frame: Frame, name: str) -> str:
    value = frame.headers.get(name)
    if value is None:
        raise ProtocolError(f"Missing {name} header", f"A {frame.cmd} frame needs a {name} header.")
    return str(value)


def _bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return bytes(body)  # type: ignore[call-overload]


def _one_line(text: str) -> str:
    # ERROR messages may reach a 1.0 client, whose headers cannot hold line ends.
    return " ".join(text.split())


def _describe(frame: Frame) -> str:
    # A frame for the debug log: headers with the passcode hidden, and the body's size.
    headers = dict(frame.headers)
    if "passcode" in headers:
        headers["passcode"] = "********"
    size = len(frame.body) if frame.body is not None else 0
    return f"{frame.cmd} {headers} ({size} body bytes)"
