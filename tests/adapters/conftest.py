"""Fixtures for the adapter tests: RabbitMQ web-stomp, a loopback WebSocket server, a
throw-away CA for ``wss://``, and loopback-only multicast settings."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fakebroker import library_threads, wait_until
from wsserver import WAIT, WSServer

from brokerinfo import BROKERS_HINT, RABBITMQ_WEB_STOMP


@pytest.fixture(scope="session")
def rabbitmq_web_stomp() -> tuple[str, int]:
    """``("127.0.0.1", 15674)``: RabbitMQ's STOMP over WebSocket (path ``/ws``); skipped
    when it is not running, a failure in CI."""
    try:
        socket.create_connection(RABBITMQ_WEB_STOMP.address, timeout=2).close()
    except OSError as exc:
        message = f"{RABBITMQ_WEB_STOMP.name} not running on port {RABBITMQ_WEB_STOMP.port}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} ({exc}); in CI a missing broker is a failure", pytrace=False)
        pytest.skip(f"{message}; {BROKERS_HINT}")
    return RABBITMQ_WEB_STOMP.address


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    """Every test leaves no receiver or heart-beat thread behind."""
    yield
    assert wait_until(lambda: not library_threads(), WAIT), library_threads()


@pytest.fixture
def ws_server() -> Iterator[WSServer]:
    """A loopback WebSocket server (``ws://127.0.0.1:<port>``)."""
    server = WSServer()
    yield server
    server.close()


# ---------------------------------------------------------------- multicast


@pytest.fixture
def mcast_options() -> dict[str, Any]:
    """Multicast settings that keep every datagram on this machine: the loopback
    interface, TTL 0, loop-back on; an administratively scoped group and a free port of
    its own, so that concurrent test runs do not hear each other."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    group = f"239.255.{random.randrange(1, 255)}.{random.randrange(1, 255)}"
    return {"interface": "127.0.0.1", "ttl": 0, "group": group, "port": port, "loop": True}
