"""What ``connect()`` says when a real broker refuses, or when the port is not STOMP:
RabbitMQ's missing virtual host and wrong password read differently, ActiveMQ's reason is
passed on, and RabbitMQ's web-stomp port (an HTTP server) is named as one."""

from __future__ import annotations

import pytest

import stomp
from brokerinfo import ACTIVEMQ, RABBITMQ, RABBITMQ_WEB_STOMP
from stomp.exception import ConnectFailedException

WAIT = 20.0


def refusal(address: tuple[str, int], login: str, passcode: str, **options: object) -> str:
    conn = stomp.Connection12([address], timeout=WAIT, reconnect_attempts_max=1, **options)
    with pytest.raises(ConnectFailedException) as raised:
        conn.connect(login, passcode, wait=True)
    conn.disconnect()
    return str(raised.value)


def test_rabbitmq_missing_vhost_and_wrong_password(rabbitmq_stomp: tuple[str, int]) -> None:
    host, port = RABBITMQ.address
    assert refusal(RABBITMQ.address, RABBITMQ.login, RABBITMQ.passcode) == (
        f"{host}:{port} refused the connection: Bad CONNECT (Virtual host '{host}' access "
        "denied) - give the virtual host with vhost=... (RabbitMQ's default one: "
        'vhost="/"; without it the host name is sent as the virtual host)'
    )
    assert refusal(RABBITMQ.address, RABBITMQ.login, "wrong", vhost=RABBITMQ.vhost) == (
        f"{host}:{port} refused the connection: Bad CONNECT (Access refused for user "
        f"'{RABBITMQ.login}')"
    )


def test_activemq_wrong_password(activemq_stomp: tuple[str, int]) -> None:
    host, port = ACTIVEMQ.address
    text = refusal(ACTIVEMQ.address, ACTIVEMQ.login, "wrong", vhost=ACTIVEMQ.vhost)
    assert text == (
        f"{host}:{port} refused the connection: User name [{ACTIVEMQ.login}] or password is "
        "invalid."
    )


def test_rabbitmq_web_stomp_port_is_named_as_http(rabbitmq_web_stomp: tuple[str, int]) -> None:
    text = refusal(RABBITMQ_WEB_STOMP.address, "guest", "guest", vhost="/")
    assert "ended before CONNECTED: the server answered in HTTP (HTTP/1.1 400" in text
    assert "for STOMP over WebSocket use stomp.WSConnection" in text
