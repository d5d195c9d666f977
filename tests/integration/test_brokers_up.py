"""Smoke tests: the real brokers are up and speak STOMP as configured.

These use a raw socket and the codec only (support.rawclient), not the connection
classes, so a failure here points at the broker setup (scripts/brokers,
tests/broker-configs/) rather than at stomp-ng's client.
"""

from __future__ import annotations

import base64
import os
import socket

from support.rawclient import RawClient

from brokerinfo import ACTIVEMQ, RABBITMQ, RABBITMQ_WEB_STOMP_PATH, Broker

TIMEOUT = 5.0


def connect_and_disconnect(address: tuple[str, int], broker: Broker) -> None:
    peer = RawClient(address)
    try:
        connected = peer.connect(host=broker.vhost, login=broker.login, passcode=broker.passcode)
        assert connected.headers["version"] == "1.2", connected

        peer.send("DISCONNECT", {"receipt": "smoke-bye"})
        receipt = peer.receive(TIMEOUT)
        assert receipt.cmd == "RECEIPT", receipt
        assert receipt.headers["receipt-id"] == "smoke-bye", receipt
    finally:
        peer.close()


def test_rabbitmq_answers_stomp_12(rabbitmq_stomp: tuple[str, int]) -> None:
    connect_and_disconnect(rabbitmq_stomp, RABBITMQ)


def test_activemq_answers_stomp_12(activemq_stomp: tuple[str, int]) -> None:
    connect_and_disconnect(activemq_stomp, ACTIVEMQ)


def test_activemq_refuses_a_wrong_passcode(activemq_stomp: tuple[str, int]) -> None:
    peer = RawClient(activemq_stomp)
    try:
        peer.send(
            "CONNECT",
            {
                "accept-version": "1.2",
                "host": ACTIVEMQ.vhost,
                "login": ACTIVEMQ.login,
                "passcode": "not-the-passcode",
            },
            version="1.0",  # (CONNECT headers are never escaped)
        )
        assert peer.receive(TIMEOUT).cmd == "ERROR"
    finally:
        peer.close()


def _http_exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send one HTTP request and return the status line and headers."""
    with socket.create_connection(address, timeout=TIMEOUT) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendall(request)
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
    return response.partition(b"\r\n\r\n")[0]


def test_web_stomp_talks_http(rabbitmq_web_stomp: tuple[str, int]) -> None:
    host, port = rabbitmq_web_stomp
    head = _http_exchange(
        rabbitmq_web_stomp,
        f"GET {RABBITMQ_WEB_STOMP_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert head.startswith(b"HTTP/1."), head
    status = int(head.split(b" ", 2)[1])
    assert 400 <= status < 500, head


def test_web_stomp_accepts_a_websocket_upgrade(rabbitmq_web_stomp: tuple[str, int]) -> None:
    host, port = rabbitmq_web_stomp
    protocol = "v12.stomp"
    key = base64.b64encode(os.urandom(16)).decode()
    head = _http_exchange(
        rabbitmq_web_stomp,
        (
            f"GET {RABBITMQ_WEB_STOMP_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
        ).encode(),
    )
    assert head.startswith(b"HTTP/1.1 101"), head
    assert protocol.encode() in head.lower(), head
