"""What ``connect()`` says when it fails: the broker's reason (the ERROR frame's message
header and the first line of its body), the frame itself on the exception, and hints for
the common causes (no virtual host for RabbitMQ, an HTTP port)."""

from __future__ import annotations

from typing import Any

import pytest
from support.httpstub import HTTPStub
from support.waiting import WAIT

from stomp.codec import Frame
from stomp.exception import ConnectFailedException
from stomp.transport import refusal_reason


def refuse(message: str, body: str) -> Any:
    """A ``connect_reply`` that refuses with ERROR(message, body), then closes, as
    RabbitMQ does."""

    def reply(connection: Any, frame: Frame) -> str:
        connection.send_frame("ERROR", {"message": message}, body)
        return "close"

    return reply


def connect_error(make_broker: Any, make_conn: Any, reply: Any, **options: Any) -> Any:
    broker = make_broker(connect_reply=reply)
    conn = make_conn(broker, "1.2", **options)
    with pytest.raises(ConnectFailedException) as raised:
        conn.connect("guest", "guest", wait=True)
    return broker, raised.value


def test_a_missing_virtual_host_is_told_from_a_wrong_password(make_broker, make_conn) -> None:
    # RabbitMQ's two refusals: the same message header, the body says which.
    broker, vhost = connect_error(
        make_broker, make_conn, refuse("Bad CONNECT", "Virtual host '127.0.0.1' access denied")
    )
    assert str(vhost).startswith(
        f"127.0.0.1:{broker.port} refused the connection: "
        "Bad CONNECT (Virtual host '127.0.0.1' access denied) - give the virtual host with "
        'vhost=... (RabbitMQ\'s default one: vhost="/"'
    )
    assert vhost.frame is not None and vhost.frame.cmd == "ERROR"
    assert vhost.frame.headers["message"] == "Bad CONNECT"

    broker, password = connect_error(
        make_broker,
        make_conn,
        refuse("Bad CONNECT", "Access refused for user 'guest'\n"),
        vhost="/",
    )
    assert str(password) == (
        f"127.0.0.1:{broker.port} refused the connection: "
        "Bad CONNECT (Access refused for user 'guest')"
    )
    assert password.frame.body.startswith("Access refused")


def test_no_virtual_host_hint_when_one_was_given(make_broker, make_conn) -> None:
    _, exc = connect_error(
        make_broker,
        make_conn,
        refuse("Bad CONNECT", "Virtual host 'nope' access denied"),
        vhost="nope",
    )
    assert str(exc).endswith(
        "refused the connection: Bad CONNECT (Virtual host 'nope' access denied)"
    )


def test_refusal_reason_on_one_line() -> None:
    assert refusal_reason(Frame("ERROR", {"message": "Bad CONNECT"}, "Bad CONNECT\n")) == (
        "Bad CONNECT"
    )
    assert refusal_reason(Frame("ERROR", {}, b"\n  User name or\n password wrong\n")) == (
        "User name or"
    )
    assert refusal_reason(Frame("ERROR", {"message": "a\nb"}, "")) == "a b"
    assert refusal_reason(Frame("ERROR", {}, "")) == "ERROR frame"


def test_a_connection_error_without_a_frame_has_none() -> None:
    assert ConnectFailedException("x").frame is None
    assert ConnectFailedException("x").args == ("x",)


@pytest.fixture
def http_server() -> Any:
    server = HTTPStub()
    yield server
    server.close()


def test_an_http_port_is_named_as_such(http_server, make_conn) -> None:
    conn = make_conn(("127.0.0.1", http_server.port), "1.2", timeout=WAIT)
    with pytest.raises(ConnectFailedException) as raised:
        conn.connect("guest", "guest", wait=True)
    text = str(raised.value)
    assert "ended before CONNECTED: the server answered in HTTP (HTTP/1.1 400 Bad Request)" in text
    assert "not a STOMP one" in text
    assert raised.value.frame is None
