"""What every suite shares: no thread of the library outlives its test; the scripted fake
broker and connections to it; a throw-away certificate authority.

The library names its threads ``StompReceiver-<peer>`` and ``StompHeartbeat-<peer>``
(daemon threads).  Once a test is over -- its connections disconnected, its fixtures torn
down -- none of the ones it started may still run: a thread left behind is a connection
that ``disconnect()`` did not really close.  Threads that were already running before the
test (leaked by an earlier one, which was reported there) are not counted again.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.fakebroker import FakeBroker, RefusedPort
from support.waiting import library_threads, wait_until

import stomp

#: How long, in seconds, a thread may take to end after the test's teardown.
GRACE = 5.0


def _library_threads() -> set[threading.Thread]:
    return set(library_threads())


@pytest.fixture(autouse=True)
def _no_library_thread_left() -> Iterator[None]:
    """Fail the test if a receiver or heart-beat thread it started is alive ``GRACE``
    seconds after it ended (autouse, so it is torn down after the test's own fixtures)."""
    before = _library_threads()
    yield
    deadline = time.monotonic() + GRACE
    while True:
        left = _library_threads() - before
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if left:
        names = sorted(t.name for t in left)
        pytest.fail(f"library threads still running after the test: {names}", pytrace=False)


# ---------------------------------------------------------------- the fake broker

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


# ---------------------------------------------------------------- TLS (trustme)


@pytest.fixture(scope="session")
def ca() -> Any:
    """A throw-away certificate authority (``trustme``)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test CA's certificate, as a PEM file."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls(ca: Any) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for 127.0.0.1, ::1 and localhost."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "::1", "localhost").configure_cert(context)
    return context
