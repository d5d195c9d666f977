"""Helpers of the connection integration tests: a recording listener, a version-aware
client wrapper and fences.

A *fence* is a marker message sent to a destination after the operation under test; once
it arrives, everything the broker was going to deliver before it has been delivered, so
"nothing was delivered" can be asserted without sleeping.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from broker_targets import BrokerTarget

import stomp

#: The longest any single wait may take, in seconds.
TIMEOUT = 10.0

CONNECTIONS: dict[str, type[Any]] = {
    "1.0": stomp.Connection10,
    "1.1": stomp.Connection11,
    "1.2": stomp.Connection12,
}

#: Header carrying the token of a fence message.
FENCE = "x-fence"


def unique(kind: str = "queue") -> str:
    """A destination no other test (or test run) uses."""
    return f"/{kind}/stompng-it-{uuid.uuid4().hex[:16]}"


# ------------------------------------------------------------------ recording listener


class Recorder(stomp.ConnectionListener):
    """Records every event under one condition, so tests can wait on any of them."""

    def __init__(self, cond: threading.Condition | None = None) -> None:
        # Recorders of several connections may share one condition, to wait on all of them.
        self.cond = cond if cond is not None else threading.Condition()
        self.connected: list[Any] = []
        self.messages: list[Any] = []
        self.receipts: list[str] = []
        self.errors: list[Any] = []
        self.sent: list[Any] = []
        self.heartbeats = 0
        self.heartbeat_timeouts = 0
        self.disconnects = 0

    def _record(self, change: Callable[[], None]) -> None:
        with self.cond:
            change()
            self.cond.notify_all()

    def on_connected(self, frame: Any) -> None:
        self._record(lambda: self.connected.append(frame))

    def on_message(self, frame: Any) -> None:
        self._record(lambda: self.messages.append(frame))

    def on_receipt(self, frame: Any) -> None:
        self._record(lambda: self.receipts.append(frame.headers.get("receipt-id")))

    def on_error(self, frame: Any) -> None:
        self._record(lambda: self.errors.append(frame))

    def on_send(self, frame: Any) -> None:
        self._record(lambda: self.sent.append(frame))

    def on_heartbeat(self) -> None:
        def change() -> None:
            self.heartbeats += 1

        self._record(change)

    def on_heartbeat_timeout(self) -> None:
        def change() -> None:
            self.heartbeat_timeouts += 1

        self._record(change)

    def on_disconnected(self) -> None:
        def change() -> None:
            self.disconnects += 1

        self._record(change)

    # -- waiting --------------------------------------------------------------------------

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> None:
        """Wait until ``predicate()`` holds; fail the test after ``timeout`` seconds."""
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):
                raise AssertionError(f"no {what} within {timeout} s; {self.summary()}")

    def happens(self, predicate: Callable[[], Any], within: float) -> bool:
        """Whether ``predicate()`` becomes true within ``within`` seconds (for asserting
        that something does *not* happen while time passes)."""
        with self.cond:
            return bool(self.cond.wait_for(predicate, within))

    def wait_receipt(self, receipt_id: str) -> None:
        self.wait(lambda: receipt_id in self.receipts, f"RECEIPT {receipt_id}")

    def wait_messages(self, count: int, since: int = 0) -> list[Any]:
        """Wait for ``count`` messages after the first ``since``; return them."""
        self.wait(lambda: len(self.messages) >= since + count, f"{count} message(s)")
        with self.cond:
            return self.messages[since : since + count]

    def summary(self) -> str:
        with self.cond:
            return (
                f"messages={[(m.headers, _short(m.body)) for m in self.messages]}, "
                f"receipts={self.receipts}, errors={[(e.headers, e.body) for e in self.errors]}, "
                f"heartbeats={self.heartbeats}, disconnects={self.disconnects}"
            )


def _short(body: Any) -> Any:
    return body if body is None or len(body) <= 60 else f"<{len(body)} bytes/chars>"


def bodies(frames: list[Any]) -> list[Any]:
    return [frame.body for frame in frames]


# ------------------------------------------------------------------ client wrapper


@dataclass
class Client:
    """A connection, its recorder, and version-aware helpers."""

    conn: Any
    rec: Recorder
    version: str
    broker: BrokerTarget

    def connect(self, **kwargs: Any) -> None:
        self.conn.connect(self.broker.login, self.broker.passcode, wait=True, **kwargs)

    def subscribe(self, destination: str, ack: str = "auto", **headers: Any) -> str:
        """Subscribe with a fresh id and wait for the broker's receipt."""
        sub_id = f"sub-{uuid.uuid4().hex[:8]}"
        receipt = f"rcpt-{uuid.uuid4().hex}"
        self.conn.subscribe(destination, id=sub_id, ack=ack, receipt=receipt, **headers)
        self.rec.wait_receipt(receipt)
        return sub_id

    def unsubscribe(self, sub_id: str) -> None:
        receipt = f"rcpt-{uuid.uuid4().hex}"
        self.conn.unsubscribe(id=sub_id, receipt=receipt)
        self.rec.wait_receipt(receipt)

    def send(self, destination: str, body: Any, **headers: Any) -> None:
        """SEND with a receipt, and wait for it."""
        receipt = f"rcpt-{uuid.uuid4().hex}"
        self.conn.send(destination, body, receipt=receipt, **headers)
        self.rec.wait_receipt(receipt)

    def ack_args(self, frame: Any) -> tuple[Any, ...]:
        """The positional arguments of ``ack``/``nack`` for ``frame`` in this version."""
        headers = frame.headers
        if self.version == "1.2":
            return (headers["ack"],)
        if self.version == "1.1":
            return (headers["message-id"], headers["subscription"])
        return (headers["message-id"],)

    def ack(self, frame: Any, **kwargs: Any) -> None:
        """ACK ``frame`` with a receipt and wait for it."""
        receipt = f"rcpt-{uuid.uuid4().hex}"
        self.conn.ack(*self.ack_args(frame), receipt=receipt, **kwargs)
        self.rec.wait_receipt(receipt)

    def nack(self, frame: Any, **kwargs: Any) -> None:
        receipt = f"rcpt-{uuid.uuid4().hex}"
        self.conn.nack(*self.ack_args(frame), receipt=receipt, **kwargs)
        self.rec.wait_receipt(receipt)

    def fence(
        self,
        destination: str,
        since: int = 0,
        expect: int = 0,
        headers: dict[str, str] | None = None,
    ) -> Fence:
        """Send a marker to ``destination`` (which this client must be subscribed to) and
        wait until it and at least ``expect`` other messages (after the first ``since``)
        have arrived.  ``headers`` go on the marker (e.g. to pass a selector)."""
        token = uuid.uuid4().hex
        self.conn.send(destination, f"fence {token}", headers={**(headers or {}), FENCE: token})

        def is_marker(frame: Any) -> bool:
            return frame.headers.get(FENCE) == token

        def done() -> bool:
            got = self.rec.messages[since:]
            return any(map(is_marker, got)) and sum(not is_marker(m) for m in got) >= expect

        self.rec.wait(done, f"fence message (and {expect} other message(s)) on {destination}")
        with self.rec.cond:
            got = self.rec.messages[since:]
        position = next(i for i, frame in enumerate(got) if is_marker(frame))
        return Fence(before=got[:position], others=[frame for frame in got if not is_marker(frame)])

    def io_thread_ended(self, timeout: float = TIMEOUT) -> bool:
        thread = self.conn.transport.io_thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()


@dataclass
class Fence:
    """What a fence saw: messages before the marker, and all non-marker messages."""

    before: list[Any]
    others: list[Any]
