"""The bytes each connection method puts on the wire, per STOMP version (reference §2.14),
checked against the fake broker's record of what it received."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from support.fakebroker import EventLog

import stomp
from stomp.exception import FrameError, NotConnectedException

VERSIONS = ["1.0", "1.1", "1.2"]


def _open(make_conn: Any, broker: Any, version: str, **options: Any) -> tuple[Any, Any]:
    conn = make_conn(broker, version, **options)
    conn.connect("user", "pw", wait=True)
    return conn, broker.last


def _after_connect(server: Any, cmd: str, count: int = 1) -> list[bytes]:
    """The raw frames after CONNECT/STOMP, once the ``count``-th ``cmd`` has arrived."""
    server.wait_for_frame(cmd, count)
    return server.raw_frames()[1:]


# -- CONNECT / STOMP ---------------------------------------------------------------------


def test_connect_1_2_exact_frame(make_conn: Any, broker: Any) -> None:
    # The example of reference §2.4: sorted headers, host = the host connected to,
    # heart-beat added by the protocol listener, CONNECT header values never escaped.
    conn = make_conn(broker, "1.2", heartbeats=(1000, 2000))
    conn.connect("user", "pw", wait=True, headers={"x-h": "a:b"}, extra="1")
    assert broker.last.raw_frames()[0] == (
        b"STOMP\naccept-version:1.2\nextra:1\nheart-beat:1000,2000\n"
        b"host:127.0.0.1\nlogin:user\npasscode:pw\nx-h:a:b\n\n\0"
    )


def test_connect_1_1_has_no_host_without_vhost(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, "1.1", heartbeats=(1000, 2000))
    conn.connect("user", "pw", wait=True, headers={"x-h": "a:b"}, extra="1")
    assert broker.last.raw_frames()[0] == (
        b"STOMP\naccept-version:1.1\nextra:1\nheart-beat:1000,2000\n"
        b"login:user\npasscode:pw\nx-h:a:b\n\n\0"
    )


def test_connect_1_0_uses_connect_without_heartbeat_or_host(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, "1.0")
    conn.connect("user", "pw", wait=True, headers={"x-h": "a:b"}, extra="1")
    assert broker.last.raw_frames()[0] == (
        b"CONNECT\naccept-version:1.0\nextra:1\nlogin:user\npasscode:pw\nx-h:a:b\n\n\0"
    )


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_connect_vhost_is_the_host_header(make_conn: Any, broker: Any, version: str) -> None:
    conn = make_conn(broker, version, vhost="/vh")
    conn.connect(wait=True)
    assert broker.last.frames[0].headers == {"accept-version": version, "host": "/vh"}


def test_connect_1_2_host_overrides_a_caller_host_without_vhost(
    make_conn: Any, broker: Any
) -> None:
    conn = make_conn(broker, "1.2")
    conn.connect(wait=True, host="elsewhere")
    assert broker.last.frames[0].headers["host"] == "127.0.0.1"


def test_connect_1_1_keeps_a_caller_host(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, "1.1")
    conn.connect(wait=True, host="mine")
    assert broker.last.frames[0].headers["host"] == "mine"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_with_connect_command_sends_connect(make_conn: Any, broker: Any, version: str) -> None:
    conn = make_conn(broker, version)
    conn.connect(wait=True, with_connect_command=True)
    assert broker.last.frames[0].cmd == "CONNECT"


def test_with_connect_command_is_a_header_on_1_0(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, "1.0")
    conn.connect(wait=True, with_connect_command=True)
    frame = broker.last.frames[0]
    assert frame.cmd == "CONNECT"
    assert frame.headers["with_connect_command"] == "True"


@pytest.mark.parametrize("version", VERSIONS)
def test_connect_without_credentials_sends_no_login(
    make_conn: Any, broker: Any, version: str
) -> None:
    conn = make_conn(broker, version)
    conn.connect(wait=True)
    headers = broker.last.frames[0].headers
    assert "login" not in headers and "passcode" not in headers


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_connect_heartbeat_header_only_when_requested(
    make_conn: Any, broker: Any, version: str
) -> None:
    conn = make_conn(broker, version)
    conn.connect(wait=True)
    assert "heart-beat" not in broker.last.frames[0].headers


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_connect_requested_heartbeat_overrides_the_callers(
    make_conn: Any, broker: Any, version: str
) -> None:
    conn = make_conn(broker, version, heartbeats=(300, 400))
    conn.connect(wait=True, headers={"heart-beat": "9,9"})
    assert broker.last.frames[0].headers["heart-beat"] == "300,400"


def test_connect_header_with_line_end_is_refused_not_sent(make_conn: Any, broker: Any) -> None:
    # CONNECT headers are never escaped, so an LF cannot be carried: a clear error rather
    # than a broken frame on the wire.
    conn = make_conn(broker, "1.2")
    with pytest.raises(FrameError):
        conn.connect(wait=True, x="a\nb")


# -- DISCONNECT --------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_disconnect_always_asks_for_a_receipt(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.disconnect()
    frame = server.wait_for_frame("DISCONNECT")
    assert list(frame.headers) == ["receipt"]
    assert len(frame.headers["receipt"]) == 36  # a fresh uuid


@pytest.mark.parametrize("version", VERSIONS)
def test_disconnect_with_receipt_and_headers(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.disconnect("bye", headers={"a": "1"}, b="2")
    assert _after_connect(server, "DISCONNECT") == [b"DISCONNECT\na:1\nb:2\nreceipt:bye\n\n\0"]


# -- SEND --------------------------------------------------------------------------------


def test_send_1_1_exact_frame(make_conn: Any, broker: Any) -> None:
    # Reference §2.6: byte length of the UTF-8 body, 1.1 escaping (CR left raw).
    conn, server = _open(make_conn, broker, "1.1")
    conn.send("/queue/a", "héllo", content_type="text/plain", transaction="t", h="x:y\nz\\w\r")
    assert _after_connect(server, "SEND") == [
        b"SEND\ncontent-length:6\ncontent-type:text/plain\ndestination:/queue/a\n"
        b"h:x\\cy\\nz\\\\w\r\ntransaction:t\n\nh\xc3\xa9llo\0"
    ]


def test_send_1_2_escapes_cr_too(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.2")
    conn.send("/queue/a", "héllo", content_type="text/plain", h="x:y\nz\\w\r")
    assert _after_connect(server, "SEND") == [
        b"SEND\ncontent-length:6\ncontent-type:text/plain\ndestination:/queue/a\n"
        b"h:x\\cy\\nz\\\\w\\r\n\nh\xc3\xa9llo\0"
    ]
    assert server.frames[1].headers["h"] == "x:y\nz\\w\r"  # decodes back to the original


def test_send_1_0_writes_values_raw(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.0")
    conn.send("/queue/a", "héllo", h="x:y\\w")
    assert _after_connect(server, "SEND") == [
        b"SEND\ncontent-length:6\ndestination:/queue/a\nh:x:y\\w\n\nh\xc3\xa9llo\0"
    ]


def test_send_1_0_refuses_a_line_end_in_a_header(make_conn: Any, broker: Any) -> None:
    # 1.0 has no escaping: an LF would break the frame, so it is refused before writing.
    conn, server = _open(make_conn, broker, "1.0")
    with pytest.raises(FrameError):
        conn.send("/queue/a", "x", h="a\nb")
    conn.send("/queue/a", "after")
    assert server.wait_for_frame("SEND").body == b"after"


@pytest.mark.parametrize("version", VERSIONS)
def test_send_bytes_body_and_headers_dict(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.send(
        body=b"\x00\x01ab",
        destination="/queue/b",
        headers={"correlation-id": "c1", "persistent": "false"},
        persistent="true",
    )
    # A body with a NUL travels whole thanks to content-length.
    frame = server.wait_for_frame("SEND")
    assert (frame.headers, frame.body) == (
        {
            "content-length": "4",
            "correlation-id": "c1",
            "destination": "/queue/b",
            "persistent": "true",
        },
        b"\x00\x01ab",
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_send_content_length_rules(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.send("/q", "")  # empty body: no content-length
    conn.send("/q", "ab", headers={"content-length": 99})  # corrected to the byte count
    conn.auto_content_length = False
    conn.send("/q", "abc")  # none added
    frames = _after_connect(server, "SEND", 3)
    assert frames == [
        b"SEND\ndestination:/q\n\n\0",
        b"SEND\ncontent-length:2\ndestination:/q\n\nab\0",
        b"SEND\ndestination:/q\n\nabc\0",
    ]


def test_on_send_sees_unescaped_values_and_the_character_count(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.2")
    log = EventLog()
    conn.set_listener("a", log)
    conn.send("/queue/a", "héllo", h="a:b")
    frame = log.wait_for("send")
    assert frame.headers == {"content-length": 5, "destination": "/queue/a", "h": "a:b"}
    assert server.wait_for_frame("SEND").headers["content-length"] == "6"


# -- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------------------------


def test_subscribe_1_0_id_optional(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.0")
    assert conn.subscribe("/queue/a") is None
    assert conn.subscribe("/queue/a", id="s1", ack="client") == "s1"
    assert _after_connect(server, "SUBSCRIBE", 2) == [
        b"SUBSCRIBE\nack:auto\ndestination:/queue/a\n\n\0",
        b"SUBSCRIBE\nack:client\ndestination:/queue/a\nid:s1\n\n\0",
    ]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_subscribe_1_1_and_1_2(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    assert conn.subscribe("/queue/a", "s1", ack="client-individual") == "s1"
    assert conn.subscribe(destination="/queue/b", id=7, headers={"x": "1"}, y="2") == "7"
    assert _after_connect(server, "SUBSCRIBE", 2) == [
        b"SUBSCRIBE\nack:client-individual\ndestination:/queue/a\nid:s1\n\n\0",
        b"SUBSCRIBE\nack:auto\ndestination:/queue/b\nid:7\nx:1\ny:2\n\n\0",
    ]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_subscribe_generates_an_id_when_omitted(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    sub_id = conn.subscribe("/queue/a")
    assert sub_id and len(sub_id) == 36
    assert server.wait_for_frame("SUBSCRIBE").headers["id"] == sub_id


def test_unsubscribe_1_0_by_id_or_destination(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.0")
    conn.unsubscribe("/queue/a")
    conn.unsubscribe(id="s1")
    conn.unsubscribe(destination="/queue/b", id="s2")
    assert _after_connect(server, "UNSUBSCRIBE", 3) == [
        b"UNSUBSCRIBE\ndestination:/queue/a\n\n\0",
        b"UNSUBSCRIBE\nid:s1\n\n\0",
        b"UNSUBSCRIBE\ndestination:/queue/b\nid:s2\n\n\0",
    ]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_unsubscribe_1_1_and_1_2_by_id(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.unsubscribe("s1")
    conn.unsubscribe(id="s2", headers={"x": "1"}, destination="/queue/a")
    assert _after_connect(server, "UNSUBSCRIBE", 2) == [
        b"UNSUBSCRIBE\nid:s1\n\n\0",
        b"UNSUBSCRIBE\ndestination:/queue/a\nid:s2\nx:1\n\n\0",
    ]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_unsubscribe_by_destination_of_own_subscriptions(
    make_conn: Any, broker: Any, version: str
) -> None:
    conn, server = _open(make_conn, broker, version)
    conn.subscribe("/queue/a", "s1")
    conn.unsubscribe(destination="/queue/a")
    frame = server.wait_for_frame("UNSUBSCRIBE")
    assert frame.headers == {"id": "s1", "destination": "/queue/a"}
    with pytest.raises(AssertionError, match="'id' is required"):
        conn.unsubscribe(destination="/queue/never-subscribed")


# -- ACK / NACK --------------------------------------------------------------------------


def test_ack_1_0(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.0")
    conn.ack("m1")
    conn.ack("m2", transaction="t1", receipt="r1")
    conn.ack("m3", headers={"x": "1"}, y="2")
    assert _after_connect(server, "ACK", 3) == [
        b"ACK\nmessage-id:m1\n\n\0",
        b"ACK\nmessage-id:m2\nreceipt:r1\ntransaction:t1\n\n\0",
        b"ACK\nmessage-id:m3\nx:1\ny:2\n\n\0",
    ]


def test_ack_and_nack_1_1(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.1")
    conn.ack("m1", "s1")
    conn.ack("m2", "s1", transaction="t1", receipt="r1")
    conn.nack("m3", "s1", headers={"x": "1"}, requeue="false")
    conn.nack("m4", subscription="s1", transaction="t1", receipt="r2")
    assert _after_connect(server, "NACK", 2) == [
        b"ACK\nmessage-id:m1\nsubscription:s1\n\n\0",
        b"ACK\nmessage-id:m2\nreceipt:r1\nsubscription:s1\ntransaction:t1\n\n\0",
        b"NACK\nmessage-id:m3\nrequeue:false\nsubscription:s1\nx:1\n\n\0",
        b"NACK\nmessage-id:m4\nreceipt:r2\nsubscription:s1\ntransaction:t1\n\n\0",
    ]


def test_ack_and_nack_1_2(make_conn: Any, broker: Any) -> None:
    conn, server = _open(make_conn, broker, "1.2")
    conn.ack("a:1")
    conn.ack("a2", transaction="t1", receipt="r1", headers={"x": "1"})
    conn.nack("a3", requeue="false")
    conn.nack("a4", "t1", "r2")
    assert _after_connect(server, "NACK", 2) == [
        b"ACK\nid:a\\c1\n\n\0",
        b"ACK\nid:a2\nreceipt:r1\ntransaction:t1\nx:1\n\n\0",
        b"NACK\nid:a3\nrequeue:false\n\n\0",
        b"NACK\nid:a4\nreceipt:r2\ntransaction:t1\n\n\0",
    ]


def test_ack_receipt_is_answered(make_conn: Any, broker: Any) -> None:
    conn, _ = _open(make_conn, broker, "1.2")
    log = EventLog()
    conn.set_listener("a", log)
    conn.ack("a1", receipt="r-ack")
    assert log.wait_for("receipt").headers["receipt-id"] == "r-ack"


def test_no_nack_on_1_0() -> None:
    conn = stomp.Connection10()
    assert not hasattr(conn, "nack")
    with pytest.raises(AttributeError):
        conn.nack("m1")


# -- BEGIN / COMMIT / ABORT ----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_transactions(make_conn: Any, broker: Any, version: str) -> None:
    conn, server = _open(make_conn, broker, version)
    generated = conn.begin()
    assert len(generated) == 36
    assert conn.begin("t1", headers={"transaction": "ignored", "x": "1"}) == "t1"
    conn.send("/q", "x", transaction="t1")
    conn.commit("t1")
    conn.abort(transaction=generated, y="2")
    assert _after_connect(server, "ABORT") == [
        b"BEGIN\ntransaction:" + generated.encode() + b"\n\n\0",
        b"BEGIN\ntransaction:t1\nx:1\n\n\0",
        b"SEND\ncontent-length:1\ndestination:/q\ntransaction:t1\n\nx\0",
        b"COMMIT\ntransaction:t1\n\n\0",
        b"ABORT\ntransaction:" + generated.encode() + b"\ny:2\n\n\0",
    ]


# -- missing arguments and unconnected connections ----------------------------------------

# Each call, by version, and the AssertionError message it must raise.
_MISSING = [
    ("1.0", "conn.send(None, 'x')", "'destination' is required"),
    ("1.0", "conn.send('/q', None)", "'body' is required"),
    ("1.0", "conn.subscribe(None)", "'destination' is required"),
    ("1.0", "conn.unsubscribe()", "'id' or 'destination' is required"),
    ("1.0", "conn.ack(None)", "'id' is required"),
    ("1.0", "conn.commit()", "'transaction' is required"),
    ("1.0", "conn.abort(None)", "'transaction' is required"),
    ("1.1", "conn.send(None, 'x')", "'destination' is required"),
    ("1.1", "conn.unsubscribe()", "'id' is required"),
    ("1.1", "conn.ack(None, 's')", "'id' is required"),
    ("1.1", "conn.ack('m', None)", "'subscription' is required"),
    ("1.1", "conn.nack('m')", "'subscription' is required"),
    ("1.2", "conn.send('/q', None)", "'body' is required"),
    ("1.2", "conn.unsubscribe(None)", "'id' is required"),
    ("1.2", "conn.ack(None)", "'id' is required"),
    ("1.2", "conn.nack(None)", "'id' is required"),
    ("1.2", "conn.commit(None)", "'transaction' is required"),
    ("1.2", "conn.set_listener('x', None)", "'listener' is required"),
]


@pytest.mark.parametrize(("version", "call", "message"), _MISSING)
def test_missing_argument_messages(version: str, call: str, message: str) -> None:
    conn = getattr(stomp, "Connection" + version.replace(".", ""))()
    with pytest.raises(AssertionError) as info:
        eval(call, {"conn": conn})
    assert str(info.value) == message


def test_missing_argument_checks_survive_python_dash_o() -> None:
    script = textwrap.dedent(
        """
        import json, stomp
        results = []
        for version, call in json.loads(CASES):
            conn = getattr(stomp, "Connection" + version.replace(".", ""))()
            try:
                eval(call, {"conn": conn})
                results.append(None)
            except AssertionError as exc:
                results.append(str(exc))
        print(json.dumps(results))
        """
    ).replace("CASES", repr(json.dumps([[v, c] for v, c, _ in _MISSING])))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [sys.executable, "-O", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert json.loads(result.stdout) == [m for _, _, m in _MISSING]


@pytest.mark.parametrize("version", VERSIONS)
def test_send_when_not_connected_raises_after_on_send(version: str) -> None:
    conn = getattr(stomp, "Connection" + version.replace(".", ""))()
    log = EventLog()
    conn.set_listener("a", log)
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "x")
    assert log.names() == ["send"]


@pytest.mark.parametrize("version", VERSIONS)
def test_send_after_disconnect_raises(make_conn: Any, broker: Any, version: str) -> None:
    conn, _ = _open(make_conn, broker, version)
    conn.disconnect()
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "x")
