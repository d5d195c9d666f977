"""STOMP over WebSocket against RabbitMQ's web-stomp plugin (ws://127.0.0.1:15674/ws)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.fakebroker import EventLog
from wsserver import WAIT

import stomp
from brokerinfo import RABBITMQ_WEB_STOMP, RABBITMQ_WEB_STOMP_PATH
from stomp.adapter.ws import WSStompConnection

pytestmark = pytest.mark.integration

# Every byte value, NULs and invalid UTF-8 sequences: 16 KiB + 256 bytes.
BINARY_BODY = (
    bytes(range(256)) * 64 + b"\x00" * 128 + b"\xc3\x28\xff\xfe\x00" * 25 + b"\x00\x00\x00"
)


@pytest.fixture
def make_ws(rabbitmq_web_stomp: tuple[str, int]) -> Iterator[Callable[..., Any]]:
    """Connected WebSocket connections to RabbitMQ, each with an :class:`EventLog`
    listener ``conn.events``; all disconnected at the end."""
    made: list[Any] = []

    def make(connect: bool = True, **options: Any) -> Any:
        options.setdefault("ws_path", RABBITMQ_WEB_STOMP_PATH)
        options.setdefault("vhost", RABBITMQ_WEB_STOMP.vhost)
        options.setdefault("timeout", WAIT)
        conn = WSStompConnection([rabbitmq_web_stomp], **options)
        conn.events = EventLog()
        conn.set_listener("events", conn.events)
        made.append(conn)
        if connect:
            conn.connect(RABBITMQ_WEB_STOMP.login, RABBITMQ_WEB_STOMP.passcode, wait=True)
        return conn

    yield make
    for conn in made:
        conn.disconnect()


def queue() -> str:
    return f"/queue/stomp-ng-ws-{uuid.uuid4().hex}"


def test_top_level_names_are_the_ws_connection() -> None:
    assert stomp.WSConnection is WSStompConnection
    assert stomp.WSStompConnection is WSStompConnection
    assert stomp.adapter.ws.WSStompConnection is WSStompConnection


def test_connect_and_disconnect(make_ws: Callable[..., Any]) -> None:
    conn = make_ws()
    assert conn.is_connected()
    assert conn.transport.subprotocol == "v12.stomp"
    connected = conn.events.wait_for("connected")
    assert connected.headers["version"] == "1.2"
    conn.disconnect()
    assert not conn.is_connected()
    assert conn.events.count("disconnected") == 1
    assert conn.transport.socket is None


def test_send_and_subscribe_text(make_ws: Callable[..., Any]) -> None:
    conn = make_ws()
    destination = queue()
    conn.subscribe(destination, id="s1")
    conn.send(destination, "héllo wörld", headers={"x-colour": "blue:green\\red"})
    message = conn.events.wait_for("message", timeout=WAIT)
    assert message.body == "héllo wörld"
    assert message.headers["x-colour"] == "blue:green\\red"
    assert message.headers["subscription"] == "s1"


@pytest.mark.parametrize("binary_mode", [False, True], ids=["text-mode", "binary-mode"])
def test_binary_body_round_trips(make_ws: Callable[..., Any], binary_mode: bool) -> None:
    conn = make_ws(auto_decode=False, binary_mode=binary_mode)
    opcodes: list[int] = []
    ws = conn.transport.socket
    recv_frame = ws.recv_frame

    def recording_recv_frame() -> Any:
        frame = recv_frame()
        opcodes.append(frame.opcode)
        return frame

    ws.recv_frame = recording_recv_frame  # the receiver loop looks it up per frame
    destination = queue()
    conn.subscribe(destination, id="bin")
    conn.send(destination, BINARY_BODY, receipt="sent")
    conn.events.wait_for("receipt")
    message = conn.events.wait_for("message")
    assert type(message.body) is bytes
    assert message.body == BINARY_BODY
    assert message.headers["content-length"] == str(len(BINARY_BODY))
    # RabbitMQ's default web-stomp configuration sends TEXT messages, invalid UTF-8 or not.
    assert 0x1 in opcodes


def test_several_binary_messages_in_a_row(make_ws: Callable[..., Any]) -> None:
    conn = make_ws(auto_decode=False)
    destination = queue()
    conn.subscribe(destination, id="bin")
    bodies = [BINARY_BODY[i:] + bytes([i % 256]) for i in range(0, 2000, 97)]
    for body in bodies:
        conn.send(destination, body)
    conn.events.wait_for("message", count=len(bodies))
    received = [arg.body for name, arg in conn.events.events if name == "message"]
    assert received == bodies


def test_receipts(make_ws: Callable[..., Any]) -> None:
    conn = make_ws()
    destination = queue()
    conn.subscribe(destination, id="r", receipt="sub-receipt")
    assert conn.events.wait_for("receipt").headers["receipt-id"] == "sub-receipt"
    conn.send(destination, "x", receipt="send-receipt")
    assert conn.events.wait_for("receipt", count=2).headers["receipt-id"] == "send-receipt"


def test_ack_and_nack(make_ws: Callable[..., Any]) -> None:
    conn = make_ws()
    destination = queue()
    conn.subscribe(destination, id="acks", ack="client-individual")
    conn.send(destination, "first")
    conn.send(destination, "second")
    first = conn.events.wait_for("message", count=1)
    second = conn.events.wait_for("message", count=2)
    assert {first.body, second.body} == {"first", "second"}
    keep, drop = (first, second) if first.body == "first" else (second, first)
    conn.ack(keep.headers["ack"], receipt="acked")
    conn.nack(drop.headers["ack"], receipt="nacked")  # RabbitMQ requeues it
    again = conn.events.wait_for("message", count=3)
    assert again.body == drop.body
    assert again.headers.get("redelivered") == "true"
    conn.ack(again.headers["ack"], receipt="acked-again")
    receipts = {conn.events.wait_for("receipt", count=n).headers["receipt-id"] for n in (1, 2, 3)}
    assert receipts == {"acked", "nacked", "acked-again"}


def test_transactions_commit_and_abort(make_ws: Callable[..., Any]) -> None:
    conn = make_ws()
    destination = queue()
    conn.subscribe(destination, id="tx", receipt="subscribed")
    conn.events.wait_for("receipt")

    committed = conn.begin()
    conn.send(destination, "in committed transaction", transaction=committed)
    # A message sent outside the transaction, after it, arrives first: the transaction
    # holds its message until COMMIT.
    conn.send(destination, "marker 1")
    assert conn.events.wait_for("message").body == "marker 1"
    conn.commit(committed)
    assert conn.events.wait_for("message", count=2).body == "in committed transaction"

    aborted = conn.begin()
    conn.send(destination, "in aborted transaction", transaction=aborted)
    conn.abort(aborted)
    conn.send(destination, "marker 2")
    assert conn.events.wait_for("message", count=3).body == "marker 2"
    conn.send(destination, "marker 3", receipt="last")
    assert conn.events.wait_for("message", count=4).body == "marker 3"
    bodies = [arg.body for name, arg in conn.events.events if name == "message"]
    assert "in aborted transaction" not in bodies


def test_heartbeats_both_ways(make_ws: Callable[..., Any]) -> None:
    conn = make_ws(heartbeats=(200, 200))
    # RabbitMQ sends its beats; the connection survives several periods, so ours arrive.
    conn.events.wait_for("heartbeat", count=3, timeout=WAIT)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert conn.is_connected()
        time.sleep(0.1)
    assert conn.events.count("heartbeat_timeout") == 0
    destination = queue()
    conn.subscribe(destination, id="hb")
    conn.send(destination, "still alive")
    assert conn.events.wait_for("message").body == "still alive"


def test_context_manager_disconnects(rabbitmq_web_stomp: tuple[str, int]) -> None:
    events = EventLog()
    with WSStompConnection(
        [rabbitmq_web_stomp], ws_path=RABBITMQ_WEB_STOMP_PATH, vhost="/", timeout=WAIT
    ) as conn:
        conn.set_listener("events", events)
        conn.connect(RABBITMQ_WEB_STOMP.login, RABBITMQ_WEB_STOMP.passcode, wait=True)
    assert events.count("disconnected") == 1
    assert not any(t.name.startswith("StompReceiver") for t in threading.enumerate())


def test_wrong_password_is_refused(make_ws: Callable[..., Any]) -> None:
    conn = make_ws(connect=False)
    with pytest.raises(stomp.exception.ConnectFailedException):
        conn.connect(RABBITMQ_WEB_STOMP.login, "wrong password", wait=True)
    assert not conn.is_connected()


def test_wrong_path_fails_to_connect(make_ws: Callable[..., Any]) -> None:
    conn = make_ws(connect=False, ws_path="/no-such-path", reconnect_attempts_max=1)
    with pytest.raises(stomp.exception.ConnectFailedException):
        conn.connect(RABBITMQ_WEB_STOMP.login, RABBITMQ_WEB_STOMP.passcode, wait=True)
