"""The broker's settings and the CONNECT rules: version negotiation, login, heart-beats.

Pure functions over headers and :class:`Settings`; the connection applies their results.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from stomp import heartbeat
from stomp.codec import DEFAULT_MAX_HEADER_BYTES, VERSIONS
from stomp.log import MASK

__all__ = [
    "HandshakeError",
    "Settings",
    "check_login",
    "check_virtual_host",
    "heartbeat_intervals",
    "negotiate_version",
    "parse_heartbeat",
]


@dataclass(frozen=True)
class Settings:
    """How a broker behaves (see :class:`stomp.broker.Broker` for each field)."""

    versions: tuple[str, ...] = VERSIONS
    login: str | None = None
    passcode: str | None = None
    heartbeats: tuple[int, int] | None = None
    heartbeat_grace: float = 2.0
    min_heartbeat: int = 50
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_body_bytes: int = 16 * 1024 * 1024
    high_water_bytes: int = 1024 * 1024
    max_pending_bytes: int = 64 * 1024 * 1024
    connect_timeout: float = 30.0
    linger: float = 2.0
    server: str = "stomp-ng-broker"
    virtual_hosts: tuple[str, ...] | None = None
    max_subscriptions: int = 10_000
    max_transaction_bytes: int = 64 * 1024 * 1024
    max_queue_bytes: int = 64 * 1024 * 1024

    def __repr__(self) -> str:
        # The passcode stays out of reprs, logs and tracebacks.
        shown = "None" if self.passcode is None else repr(MASK)
        return (
            f"Settings(versions={self.versions!r}, login={self.login!r}, passcode={shown}, "
            f"heartbeats={self.heartbeats!r}, max_body_bytes={self.max_body_bytes})"
        )


class HandshakeError(Exception):
    """CONNECT is refused.  ``message`` goes into the ERROR frame's ``message`` header;
    ``headers`` are extra ERROR headers (the supported ``version`` list)."""

    def __init__(self, message: str, detail: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers = headers or {}


def negotiate_version(accept_version: str | None, supported: tuple[str, ...]) -> str:
    """The highest version both sides speak.  No ``accept-version`` means 1.0.

    Raises:
        HandshakeError: no common version (the ERROR carries ``version:<supported>``).
    """
    offered = ["1.0"] if accept_version is None else accept_version.split(",")
    common = [v.strip() for v in offered if v.strip() in supported]
    if not common:
        listed = ",".join(supported)
        raise HandshakeError(
            "Supported protocol versions are " + listed,
            f"The client offered {accept_version or '1.0'!r}; this broker speaks {listed}.",
            {"version": listed},
        )
    return max(common, key=lambda v: tuple(int(part) for part in v.split(".")))


def check_login(login: str | None, passcode: str | None, settings: Settings) -> None:
    """Refuse the wrong credentials when the broker has some.

    Raises:
        HandshakeError: login or passcode wrong (the message never shows the passcode).
    """
    if settings.login is None and settings.passcode is None:
        return
    login_ok = hmac.compare_digest((login or "").encode(), (settings.login or "").encode())
    passcode_ok = hmac.compare_digest((passcode or "").encode(), (settings.passcode or "").encode())
    if not (login_ok and passcode_ok):
        raise HandshakeError("Login failed", "The login or passcode is wrong.")


def check_virtual_host(host: str | None, settings: Settings) -> None:
    """With :attr:`Settings.virtual_hosts`, refuse a CONNECT whose ``host`` header names
    none of them, as RabbitMQ does (no ``host`` header: the default one, accepted).

    Raises:
        HandshakeError: ``Bad CONNECT``, with RabbitMQ's ``Virtual host '<host>' access
            denied`` as the detail.
    """
    hosts = settings.virtual_hosts
    if hosts is None or host is None or host in hosts:
        return
    raise HandshakeError("Bad CONNECT", f"Virtual host '{host}' access denied")


def parse_heartbeat(value: str | None) -> tuple[int, int]:
    """``"cx,cy"`` -> ``(cx, cy)`` in ms; a missing header is ``(0, 0)``.

    Raises:
        HandshakeError: not two non-negative integers.
    """
    try:
        return heartbeat.parse(value)
    except ValueError:
        raise HandshakeError(
            "Invalid heart-beat header", f"Expected two non-negative integers, got {value!r}."
        ) from None


def heartbeat_intervals(client: tuple[int, int], settings: Settings) -> tuple[int, int, str]:
    """Negotiate heart-beats with a client offering ``client = (cx, cy)``.

    The broker's own offer ``(sx, sy)`` is :attr:`Settings.heartbeats`, or, when that is
    ``None``, the client's wishes mirrored (``(cy, cx)``, each raised to
    :attr:`Settings.min_heartbeat` unless 0), so by default the client gets what it asked.

    Returns:
        ``(send_ms, receive_ms, header)``: how often the broker must send (0: never), how
        often the client promised to send (0: never), and the CONNECTED ``heart-beat``
        value.
    """
    cx, cy = client
    if settings.heartbeats is None:
        floor = settings.min_heartbeat
        sx = max(cy, floor) if cy else 0
        sy = max(cx, floor) if cx else 0
    else:
        sx, sy = settings.heartbeats
    send, receive = heartbeat.negotiate((sx, sy), client)
    return send, receive, f"{sx},{sy}"
