"""Fixtures for the embedded broker's tests.

The plugin's fixtures (``stomp_broker``, ``stomp_connection``, ``stomp_connect`` ...)
are imported here rather than through ``pytest_plugins``, which pytest allows only in the
top-level conftest; once stomp-ng is installed with its ``pytest11`` entry point they are
registered anyway, and these definitions (the same functions) take precedence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from brokerhelpers import CONNECTIONS, WAIT, Collector, RawClient

from stomp.broker import Broker
from stomp.pytest_plugin import (
    stomp_broker,
    stomp_broker_options,
    stomp_connect,
    stomp_connection,
    stomp_session_broker,
)

__all__ = [
    "stomp_broker",
    "stomp_broker_options",
    "stomp_connect",
    "stomp_connection",
    "stomp_session_broker",
]


@pytest.fixture
def broker() -> Iterator[Broker]:
    """A started broker with the default settings."""
    with Broker() as started:
        yield started


@pytest.fixture
def make_broker() -> Iterator[Callable[..., Broker]]:
    """``make_broker(**options)``: a started broker with options, stopped at teardown."""
    brokers: list[Broker] = []

    def make(**options: Any) -> Broker:
        started = Broker(**options).start()
        brokers.append(started)
        return started

    yield make
    for started in brokers:
        assert started.stop(WAIT)


@pytest.fixture
def raw(broker: Broker) -> Iterator[Callable[..., RawClient]]:
    """``raw(version="1.2", connect=True, target=broker)``: a raw-socket client, closed at
    teardown."""
    clients: list[RawClient] = []

    def make(version: str = "1.2", connect: bool = True, target: Broker | None = None) -> RawClient:
        client = RawClient((target or broker).address, version)
        clients.append(client)
        if connect:
            client.connect()
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(broker: Broker) -> Iterator[Callable[..., tuple[Any, Collector]]]:
    """``client(version="1.2", target=broker, **connection_kwargs)``: a connected library
    connection and its :class:`Collector`; disconnected at teardown."""
    made: list[Any] = []

    def make(
        version: str = "1.2",
        target: Broker | None = None,
        login: str | None = None,
        passcode: str | None = None,
        **kwargs: Any,
    ) -> tuple[Any, Collector]:
        connection = CONNECTIONS[version]([(target or broker).address], timeout=WAIT, **kwargs)
        collector = Collector()
        connection.set_listener("collector", collector)
        made.append(connection)
        connection.connect(login, passcode, wait=True)
        return connection, collector

    yield make
    for connection in made:
        connection.disconnect()


@pytest.fixture(autouse=True)
def _no_broker_thread_left() -> Iterator[None]:
    """Every broker a test started has ended its thread by the end of the test."""
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("StompBroker-")]
    assert not left, f"broker threads still running: {left}"
