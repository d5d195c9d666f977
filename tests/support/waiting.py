"""Bounded waits, and the threads the library starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Default bound, in seconds, of every wait.
WAIT = 5.0

#: Name prefixes of the library's threads (receiver, heart-beat and writer threads).
LIBRARY_THREAD_PREFIXES = ("StompReceiver", "StompHeartbeat", "StompWriter", "StompReconnect")


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT, step: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passed (for state of another
    thread that has no event to wait on); returns whether it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def library_threads() -> list[threading.Thread]:
    """The live threads the library started (receiver, heart-beat and writer threads)."""
    return [
        t
        for t in threading.enumerate()
        if t.is_alive() and t.name.startswith(LIBRARY_THREAD_PREFIXES)
    ]
