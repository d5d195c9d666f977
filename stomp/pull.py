"""Pulling messages: a subscription whose messages the program takes when it wants them.

Listeners are pushed every message on the receiver thread.  A :class:`PullSubscription`
instead keeps its messages until the program takes them, on its own thread::

    with conn.subscription("/queue/jobs", ack="client-individual", prefetch=10) as jobs:
        for message in jobs:          # blocks until a message comes; ends at disconnect()
            handle(message.body)
            message.ack()

    job = jobs.get(timeout=5)        # one message, or TimeoutError

It is a listener of the connection like any other (listeners keep working beside it) that
takes only the MESSAGE frames of its own subscription id.  The buffer is bounded by the
broker: with ``client`` or ``client-individual`` acknowledgements the SUBSCRIBE carries
``prefetch`` as both ``activemq.prefetchSize`` (ActiveMQ) and ``prefetch-count``
(RabbitMQ, and the embedded broker), so the broker sends at most that many messages not
yet acknowledged.  (With ``ack="auto"`` brokers do not wait for the program: the buffer
holds whatever arrives.)  Leaving the ``with`` block unsubscribes; messages delivered and
not acknowledged (those still buffered too) go back to the broker, which delivers them
again: ActiveMQ and the embedded broker at once, RabbitMQ when the connection closes (it
keeps a cancelled subscription's unacknowledged messages with the connection).

With ``auto_reconnect``, the subscription carries on over a new connection (the
reconnection subscribes again with the same id); messages buffered from the lost connection
and not acknowledged are dropped, as the broker delivers them again.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from stomp.codec import Frame
from stomp.exception import NotConnectedException
from stomp.listener import ConnectionListener

__all__ = ["Message", "PullSubscription"]


class Message:
    """A message taken from a :class:`PullSubscription`.

    Attributes:
        frame: the MESSAGE frame.
        headers: its headers.
        body: its body (``str``, or ``bytes`` with ``auto_decode=False``).
    """

    __slots__ = ("_subscription", "body", "frame", "headers")

    def __init__(self, subscription: PullSubscription, frame: Frame) -> None:
        self._subscription = subscription
        self.frame = frame
        self.headers: dict[str, Any] = frame.headers
        self.body = frame.body

    def __repr__(self) -> str:
        return f"Message({self.headers.get('message-id')!r}, {self.headers.get('destination')!r})"

    def ack(self, transaction: str | None = None) -> None:
        """Acknowledge it (``client`` mode: it and every earlier message of the
        subscription), with the headers its protocol version needs.

        Raises:
            NotConnectedException: the connection it came on is gone (or ``OSError``,
                when the write fails as it goes; with ``auto_reconnect``,
                :class:`~stomp.exception.StaleAckException` once a new one is up): nothing
                was acknowledged, and the broker delivers the message again.  A loop that
                rides over broker failures catches these and goes on.
        """
        self._subscription._acknowledge("ack", self, transaction)

    def nack(self, transaction: str | None = None) -> None:
        """Refuse it (STOMP 1.1 and 1.2).  What then is the broker's: RabbitMQ and the
        embedded broker deliver it again, ActiveMQ sends it to its dead-letter queue."""
        self._subscription._acknowledge("nack", self, transaction)


class PullSubscription(ConnectionListener):
    """A subscription whose messages are taken with :meth:`get` or by iterating; made by
    the connections' ``subscription()`` (see the module docstring).

    Attributes:
        id: the subscription id.
        destination: where the messages come from.
        ack: the ack mode.
    """

    def __init__(
        self,
        connection: Any,
        destination: str,
        id: str | int | None = None,
        ack: str = "client-individual",
        prefetch: int = 100,
        headers: dict[str, Any] | None = None,
    ) -> None:
        if prefetch < 1:
            raise ValueError(f"prefetch must be at least 1: {prefetch!r}")
        self.connection = connection
        self.destination = destination
        self.ack = ack
        self.prefetch = prefetch
        self._headers = dict(headers or {})
        if ack != "auto":
            self._headers.setdefault("activemq.prefetchSize", str(prefetch))
            self._headers.setdefault("prefetch-count", str(prefetch))
        self.id: str = str(id) if id is not None else f"pull-{threading.get_ident()}-{_next()}"
        self._buffer: collections.deque[Frame] = collections.deque()
        self._changed = threading.Condition()
        self._open = False
        self._name = f"stomp-ng-pull-{self.id}"

    def __repr__(self) -> str:
        return f"PullSubscription({self.id!r}, {self.destination!r}, ack={self.ack!r})"

    # -- life --------------------------------------------------------------------------------

    def open(self) -> PullSubscription:
        """Register with the connection and subscribe (what entering ``with`` does)."""
        self.connection.set_listener(self._name, self)
        self._open = True
        try:
            self.connection.subscribe(
                self.destination, id=self.id, ack=self.ack, headers=self._headers
            )
        except BaseException:
            self._open = False
            self.connection.remove_listener(self._name)
            raise
        return self

    def close(self) -> None:
        """Unsubscribe (when connected), stop taking messages and wake every :meth:`get`.
        Messages buffered and not acknowledged go back to the broker (see the module
        docstring).  Safe to call twice."""
        with self._changed:
            if not self._open:
                return
            self._open = False
            self._buffer.clear()
            self._changed.notify_all()
        try:
            if self.connection.is_connected():
                self.connection.unsubscribe(id=self.id)
        except NotConnectedException:
            pass
        finally:
            if self.connection.get_listener(self._name) is self:
                self.connection.remove_listener(self._name)

    def __enter__(self) -> PullSubscription:
        return self if self._open else self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether it was closed (or its connection disconnected)."""
        return not self._open

    @property
    def buffered(self) -> int:
        """How many messages wait to be taken."""
        return len(self._buffer)

    # -- taking messages -------------------------------------------------------------------

    def get(self, timeout: float | None = None) -> Message:
        """The next message, waiting for one at most ``timeout`` seconds (``None``: as long
        as the subscription is open).

        Raises:
            TimeoutError: none came in time.
            NotConnectedException: the subscription is closed (``close()``, the end of the
                ``with`` block, or the connection's ``disconnect()``) and nothing is left.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self._buffer:
                if not self._open:
                    raise NotConnectedException(f"the subscription {self.id!r} is closed")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"no message on {self.destination} within {timeout} s")
                self._changed.wait(remaining)
            frame = self._buffer.popleft()
        return Message(self, frame)

    def __iter__(self) -> Iterator[Message]:
        """The messages as they come, until the subscription is closed."""
        while True:
            try:
                yield self.get()
            except NotConnectedException:
                return

    # -- the listener side ---------------------------------------------------------------------

    def on_message(self, frame: Frame) -> None:
        if frame.headers.get("subscription") != self.id or not self._open:
            return
        with self._changed:
            self._buffer.append(frame)
            self._changed.notify()

    def on_disconnected(self) -> None:
        # Unacknowledged messages of a lost connection cannot be acknowledged on another:
        # the broker delivers them again.  The subscription ends unless the connection
        # reconnects (then the reconnection subscribes again with this id).
        reconnects = getattr(self.connection, "_reconnector", None) is not None
        with self._changed:
            if self.ack != "auto":
                self._buffer.clear()
            if not reconnects or self._stopping():
                self._open = False
            self._changed.notify_all()

    def on_reconnect_failed(self, exception: Exception) -> None:
        with self._changed:
            self._open = False
            self._changed.notify_all()

    def _stopping(self) -> bool:
        reconnector = getattr(self.connection, "_reconnector", None)
        return reconnector is None or reconnector.stopped

    def _acknowledge(self, kind: str, message: Message, transaction: str | None) -> None:
        if self.ack == "auto":
            raise ValueError(f"subscription {self.id!r} acknowledges automatically")
        headers = message.headers
        version = self.connection.session.version
        method = getattr(self.connection, kind)
        if version == "1.2":
            method(headers["ack"], transaction=transaction)
        elif version == "1.1":
            method(headers["message-id"], headers["subscription"], transaction=transaction)
        else:
            method(headers["message-id"], transaction=transaction)


_numbers = itertools.count(1)


def _next() -> int:
    return next(_numbers)
