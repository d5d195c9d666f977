"""A listener that collects what a library connection receives; every wait is bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import stomp
from stomp.codec import Frame
from support.waiting import WAIT


class Collector(stomp.ConnectionListener):
    """Collects the messages, errors and receipts of a library connection.

    Args:
        timeout: the default bound of its waits, in seconds.

    Attributes:
        messages: the MESSAGE frames, in arrival order.
        errors: the ERROR frames.
        receipts: the ``receipt-id`` of each RECEIPT, in arrival order.
        disconnected: set once the connection closed.
    """

    def __init__(self, timeout: float = WAIT) -> None:
        self.timeout = timeout
        self.messages: list[Frame] = []
        self.errors: list[Frame] = []
        self.receipts: list[str] = []
        self.disconnected = threading.Event()
        self._changed = threading.Condition()

    def on_message(self, frame: Frame) -> None:
        with self._changed:
            self.messages.append(frame)
            self._changed.notify_all()

    def on_error(self, frame: Frame) -> None:
        with self._changed:
            self.errors.append(frame)
            self._changed.notify_all()

    def on_receipt(self, frame: Frame) -> None:
        with self._changed:
            self.receipts.append(frame.headers.get("receipt-id", ""))
            self._changed.notify_all()

    def on_disconnected(self) -> None:
        self.disconnected.set()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``predicate()`` is true; returns whether it became true in time."""
        with self._changed:
            return self._changed.wait_for(predicate, self.timeout if timeout is None else timeout)

    def wait_messages(self, count: int, timeout: float | None = None) -> list[Frame]:
        """Wait for at least ``count`` messages in all; returns a copy of them."""
        arrived = self.wait_for(lambda: len(self.messages) >= count, timeout)
        assert arrived, f"{len(self.messages)} of {count} messages arrived in time"
        with self._changed:
            return list(self.messages)

    def wait_body(self, body: Any, timeout: float | None = None) -> list[Any]:
        """Wait for a message with ``body``; returns the bodies received so far."""
        arrived = self.wait_for(lambda: body in [m.body for m in self.messages], timeout)
        assert arrived, f"no message {body!r} in time"
        return self.bodies()

    def wait_receipt(self, receipt: str, timeout: float | None = None) -> None:
        """Wait for the RECEIPT of ``receipt``."""
        assert self.wait_for(lambda: receipt in self.receipts, timeout), (
            f"no RECEIPT {receipt!r} in time; errors: {self.errors}"
        )

    def bodies(self) -> list[Any]:
        """The bodies received so far."""
        with self._changed:
            return [frame.body for frame in self.messages]
