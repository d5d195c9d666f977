"""TCP keep-alive options (the ``keepalive`` connection parameter)."""

from __future__ import annotations

import logging
import socket
from typing import Any

log = logging.getLogger("stomp.py")

# The socket-module constants stomp.py's transport imports for keep-alive.
_LINUX_NAMES = (
    "SOL_SOCKET",
    "SO_KEEPALIVE",
    "SOL_TCP",
    "TCP_KEEPIDLE",
    "TCP_KEEPINTVL",
    "TCP_KEEPCNT",
)
_MAC_NAMES = ("SOL_SOCKET", "SO_KEEPALIVE", "IPPROTO_TCP")


def socket_constants() -> dict[str, int]:
    """The keep-alive constants the :mod:`socket` module has now, by name (those of
    ``SOL_SOCKET``, ``SO_KEEPALIVE``, ``SOL_TCP``, ``TCP_KEEPIDLE``, ``TCP_KEEPINTVL``,
    ``TCP_KEEPCNT`` and ``IPPROTO_TCP`` that exist; stomp.py's ``stomp.transport``
    exposes them)."""
    return {
        name: getattr(socket, name)
        for name in (*_LINUX_NAMES, "IPPROTO_TCP")
        if hasattr(socket, name)
    }


def linux_available() -> bool:
    """Whether the :mod:`socket` module offers Linux-style keep-alive tuning now."""
    return all(hasattr(socket, name) for name in _LINUX_NAMES)


def mac_available() -> bool:
    """Whether the :mod:`socket` module offers macOS-style keep-alive tuning now."""
    return all(hasattr(socket, name) for name in _MAC_NAMES)


#: The socket module offers Linux-style keep-alive tuning (checked at import).
LINUX_KEEPALIVE_AVAIL = linux_available()

#: The socket module offers macOS-style keep-alive tuning (checked at import).
MAC_KEEPALIVE_AVAIL = mac_available()

# macOS's TCP_KEEPALIVE (idle seconds before probes), missing from older socket modules.
_MAC_TCP_KEEPALIVE = getattr(socket, "TCP_KEEPALIVE", 0x10)


def _set(sock: socket.socket, level: int, option: int, name: str, value: Any) -> None:
    try:
        sock.setsockopt(level, option, value)
        log.debug("keepalive: set %s option to %s on socket", name, value)
    except OSError as exc:
        log.error("keepalive: unable to set %s option to %s on socket: %s", name, value, exc)


#: A ``keepalive`` argument: ``True``, ``("linux", idle, interval, count)`` or
#: ``("mac", interval)`` (``None`` or ``False``: off).
KeepaliveSpec = bool | tuple[Any, ...] | list[Any] | None


def apply_keepalive(
    sock: socket.socket,
    keepalive: KeepaliveSpec,
    linux: bool | None = None,
    mac: bool | None = None,
) -> None:
    """Apply a ``keepalive`` specification to ``sock``.

    ``True`` turns keep-alive on with the system's timings; ``("linux", idle, interval,
    count)`` sets Linux's timings (``None`` items are left alone); ``("mac", interval)``
    sets macOS's idle time.  Anything else is logged as an error and ignored.

    ``linux`` and ``mac`` say which styles ``True`` may pick (default: what this module
    found at import); the transport passes its own ``LINUX_KEEPALIVE_AVAIL`` and
    ``MAC_KEEPALIVE_AVAIL``, which code written for stomp.py may change.
    """
    if linux is None:
        linux = LINUX_KEEPALIVE_AVAIL
    if mac is None:
        mac = MAC_KEEPALIVE_AVAIL
    if keepalive is True:
        if linux:
            log.debug("keepalive: autodetected linux-style support")
            keepalive = ("linux", None, None, None)
        elif mac:
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
