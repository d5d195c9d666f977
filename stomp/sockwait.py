"""Waiting for a socket to be readable or writable, for the transports.

``poll()`` where the platform has it: ``select()`` refuses descriptors above 1023, which a
busy process (or one that opened many files first) reaches.
"""

from __future__ import annotations

import select
from typing import Any

__all__ = ["wait"]


def wait(sock: Any, *, writing: bool = False, timeout: float | None = 0.0) -> bool:
    """Wait until ``sock`` is readable (bytes, or the end of the stream, wait in it) or,
    with ``writing``, writable; at most ``timeout`` seconds (0: do not wait; ``None``: no
    limit).  Returns whether it is."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLOUT if writing else select.POLLIN)
        return bool(poller.poll(None if timeout is None else timeout * 1000))
    watched = [sock]  # pragma: no cover - Windows
    ready = select.select([] if writing else watched, watched if writing else [], [], timeout)
    return bool(ready[0] or ready[1])  # pragma: no cover - Windows
