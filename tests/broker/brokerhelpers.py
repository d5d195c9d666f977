"""Helpers for the embedded broker's tests: the raw STOMP peer
(:class:`~support.rawclient.RawClient`), the shared :class:`~support.recording.Collector`
and waits, and the connection classes by version.

Every wait is bounded (:data:`WAIT` seconds by default) and synchronises on frames
or callbacks, never on a fixed sleep.
"""

from __future__ import annotations

from typing import Any

from support.rawclient import RawClient, new_receipt
from support.recording import Collector
from support.waiting import WAIT, wait_until

import stomp
from stomp.codec import Frame

__all__ = [
    "CONNECTIONS",
    "WAIT",
    "Collector",
    "RawClient",
    "ack_args",
    "barrier",
    "new_receipt",
    "wait_until",
]

CONNECTIONS = {
    "1.0": stomp.Connection10,
    "1.1": stomp.Connection11,
    "1.2": stomp.Connection12,
}


def barrier(connection: Any, collector: Collector) -> None:
    """Wait until the broker has processed every frame ``connection`` sent before.

    A SEND to a topic nobody subscribes to is a no-op with a receipt: once the RECEIPT
    is back, the broker has handled everything that came earlier on the connection.
    """
    receipt = new_receipt()
    connection.send("/topic/stomp-ng-test-barrier", "sync", receipt=receipt)
    collector.wait_receipt(receipt)


def ack_args(version: str, frame: Frame) -> tuple[str, ...]:
    """The positional arguments of ``ack``/``nack`` for ``frame`` in ``version``."""
    if version == "1.2":
        return (frame.headers["ack"],)
    if version == "1.1":
        return (frame.headers["message-id"], frame.headers["subscription"])
    return (frame.headers["message-id"],)
