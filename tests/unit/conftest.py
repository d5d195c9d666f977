"""Fixtures for the connection-layer tests: the scripted fake broker, connections that are
always closed at teardown, refused ports and a test CA for TLS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakebroker import FakeBroker, RefusedPort, library_threads, wait_until

import stomp

CONNECTION_CLASSES = {
    "1.0": stomp.Connection10,
    "1.1": stomp.Connection11,
    "1.2": stomp.Connection12,
}


@pytest.fixture
def make_broker() -> Iterator[Callable[..., FakeBroker]]:
    """``make_broker(**options)``: a started :class:`FakeBroker`, stopped at teardown."""
    brokers: list[FakeBroker] = []

    def make(**options: Any) -> FakeBroker:
        broker = FakeBroker(**options).start()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()


@pytest.fixture
def broker(make_broker: Callable[..., FakeBroker]) -> FakeBroker:
    """A fake broker on 127.0.0.1 that answers CONNECTED and receipts."""
    return make_broker()


@pytest.fixture
def make_conn() -> Iterator[Callable[..., Any]]:
    """``make_conn(hosts, version="1.2", **options)``: a connection (not yet connected)
    to ``hosts`` (a broker, an address, or a list of them).

    At teardown every connection made is closed, and no receiver or heart-beat thread of
    the library may be left running.
    """
    connections: list[Any] = []

    def make(hosts: Any, version: str = "1.2", **options: Any) -> Any:
        if not isinstance(hosts, list):
            hosts = [hosts]
        addresses = [getattr(h, "address", h) for h in hosts]
        options.setdefault("timeout", 2)
        conn = CONNECTION_CLASSES[version](addresses, **options)
        connections.append(conn)
        return conn

    yield make
    for conn in connections:
        conn.transport.disconnect_socket()
        conn.transport.stop(5)
        conn.transport.stop_heartbeats()
    assert wait_until(lambda: not library_threads(), 5), f"threads left: {library_threads()}"


@pytest.fixture
def refused() -> Iterator[Callable[..., RefusedPort]]:
    """``refused(host="127.0.0.1")``: a port that refuses connections."""
    ports: list[RefusedPort] = []

    def make(host: str = "127.0.0.1") -> RefusedPort:
        port = RefusedPort(host)
        ports.append(port)
        return port

    yield make
    for port in ports:
        port.close()
