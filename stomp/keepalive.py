"""TCP keep-alive options (the ``keepalive`` connection parameter)."""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger("stomp.py")

#: The socket module offers Linux-style keep-alive tuning.
LINUX_KEEPALIVE_AVAIL = all(
    hasattr(socket, name)
    for name in (
        "SOL_SOCKET",
        "SO_KEEPALIVE",
        "SOL_TCP",
        "TCP_KEEPIDLE",
        "TCP_KEEPINTVL",
        "TCP_KEEPCNT",
    )
)

#: The socket module offers macOS-style keep-alive tuning.
MAC_KEEPALIVE_AVAIL = hasattr(socket, "SOL_SOCKET") and hasattr(socket, "IPPROTO_TCP")

# macOS's TCP_KEEPALIVE (idle seconds before probes), missing from older socket modules.
_MAC_TCP_KEEPALIVE = getattr(socket, "TCP_KEEPALIVE", 0x10)


def _set(sock: socket.socket, level: int, option: int, name: str, value: Any) -> None:
    try:
        sock.setsockopt(level, option, value)
        log.debug("keepalive: set %s option to %s on socket", name, value)
    except OSError as exc:
        log.error("keepalive: unable to set %s option to %s on socket: %s", name, value, exc)


def apply_keepalive(sock: socket.socket, keepalive: Any) -> None:
    """Apply a ``keepalive`` specification to ``sock``.

    ``True`` turns keep-alive on with the system's timings; ``("linux", idle, interval,
    count)`` sets Linux's timings (``None`` items are left alone); ``("mac", interval)``
    sets macOS's idle time.  Anything else is logged as an error and ignored.
    """
    if keepalive is True:
        if LINUX_KEEPALIVE_AVAIL:
            log.debug("keepalive: autodetected linux-style support")
            keepalive = ("linux", None, None, None)
        elif MAC_KEEPALIVE_AVAIL:
            log.debug("keepalive: autodetected mac-style support")
            keepalive = ("mac", None)
        else:
            log.error("keepalive: unable to detect any implementation, DISABLED!")
            return
    if not isinstance(keepalive, (tuple, list)) or not keepalive:
        log.error("keepalive: bad specification %s", keepalive)
        return
    kind = keepalive[0]
    if kind == "linux":
        log.debug("keepalive: activating linux-style support")
        _, idle, interval, count = keepalive
        _set(sock, socket.SOL_SOCKET, socket.SO_KEEPALIVE, "SO_KEEPALIVE", 1)
        for name, value in (
            ("TCP_KEEPIDLE", idle),
            ("TCP_KEEPINTVL", interval),
            ("TCP_KEEPCNT", count),
        ):
            if value is not None:
                _set(sock, socket.SOL_TCP, getattr(socket, name), name, value)
    elif kind == "mac":
        log.debug("keepalive: activating mac-style support")
        _set(sock, socket.SOL_SOCKET, socket.SO_KEEPALIVE, "SO_KEEPALIVE", 1)
        interval = keepalive[1] if len(keepalive) > 1 else None
        if interval is not None:
            _set(sock, socket.IPPROTO_TCP, _MAC_TCP_KEEPALIVE, "TCP_KEEPALIVE", interval)
    else:
        log.error("keepalive: implementation %s not recognized or not supported", kind)
