"""Fixtures for the adapter tests: RabbitMQ web-stomp, a loopback WebSocket server, a
throw-away CA for ``wss://``, and loopback-only multicast settings."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from support.brokers import require
from wsserver import WSServer

from brokerinfo import RABBITMQ_WEB_STOMP


@pytest.fixture(scope="session")
def rabbitmq_web_stomp() -> tuple[str, int]:
    """``("127.0.0.1", 15674)``: RabbitMQ's STOMP over WebSocket (path ``/ws``); skipped
    when it is not running, a failure in CI."""
    return require(RABBITMQ_WEB_STOMP)


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
