"""stomp.keepalive alone: what each ``keepalive`` specification sets on a real socket."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator

import pytest

from stomp import keepalive


@pytest.fixture
def sock() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        yield s


def test_detection_matches_the_socket_module() -> None:
    constants = keepalive.socket_constants()
    assert constants["SO_KEEPALIVE"] == socket.SO_KEEPALIVE
    assert keepalive.linux_available() == all(
        hasattr(socket, n) for n in ("SOL_TCP", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT")
    )
    assert keepalive.linux_available() == keepalive.LINUX_KEEPALIVE_AVAIL


def test_true_turns_keepalive_on_with_system_timings(sock: socket.socket) -> None:
    idle = (
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
        if hasattr(socket, "TCP_KEEPIDLE")
        else None
    )
    keepalive.apply_keepalive(sock, True)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    if idle is not None:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == idle


@pytest.mark.skipif(not keepalive.linux_available(), reason="Linux-style keep-alive only")
def test_linux_timings(sock: socket.socket) -> None:
    keepalive.apply_keepalive(sock, ("linux", 30, 7, None))
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.SOL_TCP, socket.TCP_KEEPIDLE) == 30
    assert sock.getsockopt(socket.SOL_TCP, socket.TCP_KEEPINTVL) == 7


@pytest.mark.skipif(sys.platform != "linux", reason="checks Linux's defaults")
def test_mac_style_without_an_interval_only_turns_it_on(sock: socket.socket) -> None:
    keepalive.apply_keepalive(sock, True, linux=False, mac=True)
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (1, "bad specification 1"),
        ("linux", "bad specification linux"),
        (("windows", 5), "implementation windows not recognized"),
    ],
)
def test_bad_specifications_are_logged_and_ignored(
    sock: socket.socket, spec: object, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        keepalive.apply_keepalive(sock, spec)
    assert message in caplog.text
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


def test_nothing_detected_is_logged(sock: socket.socket, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        keepalive.apply_keepalive(sock, True, linux=False, mac=False)
    assert "unable to detect any implementation, DISABLED!" in caplog.text
