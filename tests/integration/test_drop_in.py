"""stomp.py's own test idioms against RabbitMQ and ActiveMQ.

What stomp.py's test suite does to a connection, with real brokers: it wraps
``send_frame`` and checks the escaped NACK headers, reads ``get_ssl()`` and
``_Transport__ssl_params`` after a TLS connection, provokes a heart-beat timeout by
shortening ``receive_sleep`` at run time and reconnects, and runs the receiver on a
``concurrent.futures`` executor through ``override_threading``.  The same idioms against a
scripted loopback broker are in tests/compat/test_stomppy_idioms.py.
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import stomp
from brokerinfo import ACTIVEMQ, ACTIVEMQ_SSL, RABBITMQ, Broker, TLSFiles
from stomp.constants import CMD_NACK, HDR_ID, HDR_MESSAGE_ID, HDR_SUBSCRIPTION
from stomp.listener import ConnectionListener, TestListener

WAIT = 10.0

BROKERS = {"rabbitmq": (RABBITMQ, "rabbitmq_stomp"), "activemq": (ACTIVEMQ, "activemq_stomp")}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    target, fixture = BROKERS[request.param]
    request.getfixturevalue(fixture)  # skipped (or failed in CI) when it is down
    return target


@pytest.fixture
def connections() -> Iterator[list[Any]]:
    """Connections to disconnect (bounded) at teardown."""
    opened: list[Any] = []
    yield opened
    for conn in opened:
        conn.disconnect()
        conn.transport.disconnect_socket()


def _queue(name: str) -> str:
    return f"/queue/stompng-dropin-{name}-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_wrapped_send_frame_sees_the_nack_headers_escaped(
    broker: Broker, version: str, connections: list[Any], mocker: Any
) -> None:
    cls = stomp.Connection11 if version == "1.1" else stomp.Connection12
    conn = cls([broker.address], vhost=broker.vhost, timeout=WAIT)
    connections.append(conn)
    listener = TestListener("123", print_to_log=True)
    conn.set_listener("testlistener", listener)
    conn.connect(broker.login, broker.passcode, wait=True)
    queue = _queue("nack")
    conn.subscribe(destination=queue, id=1, ack="client-individual")
    conn.send(body="this is a test", destination=queue, receipt="123")
    assert listener.wait_on_receipt(WAIT) and listener.wait_for_message(WAIT)
    headers, _ = listener.get_latest_message()

    wrapped_send_frame = mocker.patch.object(conn, "send_frame", wraps=conn.send_frame)
    if version == "1.2":
        ack_id = headers["ack"]
        conn.nack(ack_id, requeue="false")
        expected = {HDR_ID: ack_id.replace(":", "\\c"), "requeue": "false"}
    else:
        ack_id = headers[HDR_MESSAGE_ID]
        conn.nack(ack_id, headers[HDR_SUBSCRIPTION], requeue="false")
        expected = {
            HDR_MESSAGE_ID: ack_id.replace(":", "\\c"),
            HDR_SUBSCRIPTION: "1",
            "requeue": "false",
        }
    wrapped_send_frame.assert_called_with(CMD_NACK, expected)
    if broker is ACTIVEMQ:
        assert ":" in ack_id  # ActiveMQ's ids (ID:host-...:1:1:1:1) make the test bite
    # The broker understood the id (escaped once on the wire): no ERROR, still connected.
    listener.receipt = "fence"  # (before the send: the receipt may come at once)
    conn.send(body="fence", destination=_queue("fence"), receipt="fence")
    assert listener.wait_on_receipt(WAIT)
    assert listener.errors == 0 and conn.is_connected()


def test_get_ssl_and_ssl_params_after_a_tls_connection(
    activemq_tls_files: TLSFiles, activemq_ssl: tuple[str, int], connections: list[Any]
) -> None:
    hosts = [ACTIVEMQ_SSL.address]
    conn = stomp.Connection(hosts, timeout=WAIT)
    connections.append(conn)
    conn.set_ssl(hosts, ca_certs=activemq_tls_files.ca_certs)
    listener = TestListener("123", print_to_log=True)
    conn.set_listener("testlistener", listener)
    conn.connect(ACTIVEMQ_SSL.login, ACTIVEMQ_SSL.passcode, wait=True)
    assert conn.transport.socket._sslobj.context.protocol == ssl.PROTOCOL_TLS_CLIENT
    queue = _queue("ssl")
    conn.subscribe(destination=queue, id=1, ack="auto")
    conn.send(body="this is a test", destination=queue, receipt="123")
    assert listener.wait_on_receipt(WAIT) and listener.wait_for_message(WAIT)
    assert conn.get_ssl() is not None
    conn.disconnect(receipt=None)
    settings = conn.get_ssl()
    assert settings is not None
    assert settings is conn.transport._Transport__ssl_params[ACTIVEMQ_SSL.address]
    assert settings["ca_certs"] == activemq_tls_files.ca_certs
    assert settings["ssl_version"] == stomp.transport.DEFAULT_SSL_VERSION
    assert listener.connections == 1 and listener.messages == 1 and listener.errors == 0


class TimeoutListener(ConnectionListener):
    """Halves the connection's receive_sleep after three heart-beats of each connection."""

    def __init__(self, protocol_listener: Any) -> None:
        self.protocol_listener = protocol_listener
        self.num = 3

    def on_connected(self, frame: Any) -> None:
        self.num = 3

    def on_heartbeat(self) -> None:
        self.num -= 1
        if self.num == 0:
            self.protocol_listener.receive_sleep = self.protocol_listener.receive_sleep / 2.0


def test_heartbeat_timeout_provoked_at_run_time_and_reconnect_loop(
    activemq_stomp: tuple[str, int], connections: list[Any]
) -> None:
    # ActiveMQ beats every 100 ms when asked to; with receive_sleep halved to 75 ms the
    # next silence is a timeout, every time.
    conn = stomp.Connection12([ACTIVEMQ.address], heartbeats=(0, 100), timeout=WAIT)
    connections.append(conn)
    listener = TestListener("123", print_to_log=True)
    conn.set_listener("testlistener", listener)
    conn.set_listener("timeout", TimeoutListener(conn.get_listener("protocol-listener")))
    conn.connect(ACTIVEMQ.login, ACTIVEMQ.passcode, wait=True)
    deadline = time.monotonic() + 30
    while listener.connections < 5:
        assert listener.wait_on_disconnected(WAIT)
        listener.disconnected = False
        while conn.transport.socket:  # stomp.py's users wait for the socket to go
            assert time.monotonic() < deadline
            time.sleep(0.05)
        conn.connect(ACTIVEMQ.login, ACTIVEMQ.passcode, wait=True)
    assert listener.wait_on_disconnected(WAIT)
    assert listener.heartbeat_timeouts == 5 and listener.disconnects == 5
    assert listener.errors == 0


def test_override_threading_with_an_executor(broker: Broker, connections: list[Any]) -> None:
    with ThreadPoolExecutor(max_workers=2) as executor:
        conn = stomp.Connection([broker.address], vhost=broker.vhost, timeout=WAIT)
        connections.append(conn)
        conn.transport.override_threading(executor.submit)
        listener = TestListener("123", print_to_log=True)
        conn.set_listener("testlistener", listener)
        conn.connect(broker.login, broker.passcode, wait=True)
        queue = _queue("threading")
        conn.subscribe(destination=queue, id=1, ack="auto")
        conn.send(body="this is a test", destination=queue, receipt="123")
        assert listener.wait_on_receipt(WAIT) and listener.wait_for_message(WAIT)
        conn.disconnect(receipt="112233")
        assert conn.transport.io_thread.done()
        conn.connect(broker.login, broker.passcode, wait=True)
        assert conn.is_connected()
        conn.disconnect()
        assert listener.connections == 2 and listener.errors == 0
