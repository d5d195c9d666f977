"""Frames on the wire: receipts, protocol-violation ERRORs, escaping, bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import RawClient, barrier

from stomp.broker import Broker

# -- receipts ---------------------------------------------------------------------------


def test_every_frame_but_connect_gets_a_receipt(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    peer.send("CONNECT", {"accept-version": "1.2", "host": "x", "receipt": "no"})
    assert peer.receive().cmd == "CONNECTED"
    frames: list[tuple[str, dict[str, str], bytes]] = [
        ("SUBSCRIBE", {"destination": "/queue/r", "id": "1", "ack": "client-individual"}, b""),
        ("SEND", {"destination": "/queue/r"}, b"one"),
        ("SEND", {"destination": "/queue/r"}, b"two"),
        ("BEGIN", {"transaction": "t"}, b""),
        ("SEND", {"destination": "/queue/r", "transaction": "t"}, b"three"),
        ("COMMIT", {"transaction": "t"}, b""),
        ("BEGIN", {"transaction": "u"}, b""),
        ("ABORT", {"transaction": "u"}, b""),
    ]
    acks = []
    for n, (command, headers, body) in enumerate(frames):
        peer.send(command, {**headers, "receipt": f"r{n}"}, body)
        while True:
            frame = peer.receive()
            if frame.cmd == "MESSAGE":
                acks.append(frame.headers["ack"])
                continue
            assert frame.cmd == "RECEIPT", frame
            assert frame.headers["receipt-id"] == f"r{n}"  # not "no": CONNECT had none
            assert frame.body == b""
            break
    assert len(acks) == 3
    assert peer.request("ACK", {"id": acks[0]}).cmd == "RECEIPT"
    # The NACKed message comes straight back (the only subscriber), then the RECEIPT.
    assert peer.request("NACK", {"id": acks[1]}).cmd == "MESSAGE"
    assert peer.receive().cmd == "RECEIPT"
    assert peer.request("UNSUBSCRIBE", {"id": "1"}).cmd == "RECEIPT"
    assert peer.request("DISCONNECT").cmd == "RECEIPT"
    assert peer.wait_closed()


def test_receipt_comes_after_the_frame_took_effect(
    client: Callable[..., Any], broker: Broker
) -> None:
    connection, collector = client("1.2")
    connection.send("/queue/effect", "x", receipt="done")
    collector.wait_receipt("done")
    assert broker.pending("/queue/effect") == 1


# -- protocol violations: ERROR, then the connection closes ---------------------------

# (name, version, raw bytes after CONNECT, words expected in the ERROR message)
VIOLATIONS = [
    ("undefined escape", "1.2", b"SEND\ndestination:/queue/a\nx:bad\\tescape\n\n\x00", "malformed"),
    ("\\r escape in 1.1", "1.1", b"SEND\ndestination:/queue/a\nx:a\\rb\n\n\x00", "malformed"),
    ("lone backslash", "1.2", b"SEND\ndestination:/queue/a\nx:end\\\n\n\x00", "malformed"),
    ("missing destination", "1.2", b"SEND\nx:y\n\nbody\x00", "destination"),
    ("subscribe without destination", "1.2", b"SUBSCRIBE\nid:1\n\n\x00", "destination"),
    ("subscribe without id", "1.1", b"SUBSCRIBE\ndestination:/queue/a\n\n\x00", "id"),
    ("bad ack mode", "1.2", b"SUBSCRIBE\ndestination:/queue/a\nid:1\nack:sometimes\n\n\x00", "ack"),
    ("body on SUBSCRIBE", "1.2", b"SUBSCRIBE\ndestination:/queue/a\nid:1\n\nbody\x00", "body"),
    ("body on BEGIN", "1.1", b"BEGIN\ntransaction:t\n\nbody\x00", "body"),
    ("unknown command", "1.2", b"PUBLISH\ndestination:/queue/a\n\n\x00", "unknown command"),
    ("lower-case command", "1.2", b"send\ndestination:/queue/a\n\n\x00", "unknown command"),
    ("NACK in 1.0", "1.0", b"NACK\nmessage-id:1\n\n\x00", "unknown command"),
    ("server command", "1.2", b"MESSAGE\ndestination:/queue/a\n\n\x00", "unknown command"),
    ("second CONNECT", "1.2", b"CONNECT\naccept-version:1.2\n\n\x00", "already connected"),
    ("ACK without id", "1.2", b"ACK\nmessage-id:1\n\n\x00", "id"),
    ("unsubscribe unknown", "1.2", b"UNSUBSCRIBE\nid:nope\n\n\x00", "subscription"),
    ("unsubscribe without id", "1.1", b"UNSUBSCRIBE\ndestination:/queue/a\n\n\x00", "id"),
    (
        "bad content-length",
        "1.2",
        b"SEND\ndestination:/queue/a\ncontent-length:ten\n\n\x00",
        "malformed",
    ),
    (
        "no NUL after body",
        "1.2",
        b"SEND\ndestination:/queue/a\ncontent-length:2\n\nabc\x00",
        "malformed",
    ),
    ("header without colon", "1.2", b"SEND\ndestination:/queue/a\nnocolon\n\n\x00", "malformed"),
    (
        "bad prefetch",
        "1.2",
        b"SUBSCRIBE\ndestination:/q\nid:1\nprefetch-count:-1\n\n\x00",
        "prefetch",
    ),
]


@pytest.mark.parametrize(
    ("version", "data", "words"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS]
)
def test_protocol_violation_gets_error_and_close(
    raw: Callable[..., RawClient], version: str, data: bytes, words: str
) -> None:
    peer = raw(version)
    peer.send_raw(data)
    error = peer.expect_error()
    assert words in error.headers["message"].lower(), error.headers
    assert error.headers["content-type"] == "text/plain"
    assert error.body  # a detail for humans


def test_error_names_the_frames_receipt(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    peer.send("SEND", {"receipt": "mine"})
    error = peer.expect_error()
    assert error.headers["receipt-id"] == "mine"


def test_frames_before_connect_are_refused(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    peer.send("SEND", {"destination": "/queue/a"}, b"early")
    error = peer.expect_error()
    assert "expected connect" in error.headers["message"].lower()


def test_frames_after_an_error_are_ignored(raw: Callable[..., RawClient], broker: Broker) -> None:
    peer = raw("1.2")
    peer.send_raw(
        b"FOO\n\n\x00"  # ERROR: unknown command
        b"SEND\ndestination:/queue/after-error\n\nlost\x00"
    )
    peer.expect_error()
    assert broker.pending("/queue/after-error") == 0


def test_body_on_subscribe_is_ignored_in_10(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.0")
    reply = peer.request("SUBSCRIBE", {"destination": "/queue/b10", "id": "1"}, b"ignored")
    assert reply.cmd == "RECEIPT"


def test_content_length_zero_on_any_frame_is_fine(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    reply = peer.request("SUBSCRIBE", {"destination": "/q", "id": "1", "content-length": "0"})
    assert reply.cmd == "RECEIPT"


@pytest.mark.parametrize("with_length", [True, False])
def test_body_over_the_limit(make_broker: Callable[..., Broker], with_length: bool) -> None:
    broker = make_broker(max_body_bytes=1000)
    peer = RawClient(broker.address)
    try:
        peer.connect()
        body = b"x" * 2000
        headers = {"destination": "/queue/big"}
        if with_length:
            headers["content-length"] = str(len(body))
        peer.send("SEND", headers, body)
        error = peer.expect_error()
        assert "max_body_bytes" in error.body.decode()
        assert broker.pending("/queue/big") == 0
    finally:
        peer.close()


def test_body_at_the_limit_is_fine(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(max_body_bytes=1000)
    peer = RawClient(broker.address)
    try:
        peer.connect()
        reply = peer.request("SEND", {"destination": "/queue/edge"}, b"x" * 1000)
        assert reply.cmd == "RECEIPT"
    finally:
        peer.close()


def test_headers_over_the_limit(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(max_header_bytes=1024)
    peer = RawClient(broker.address)
    try:
        peer.connect()
        peer.send("SEND", {"destination": "/queue/h", "x": "y" * 2000})
        assert "max_header_bytes" in peer.expect_error().body.decode()
    finally:
        peer.close()


def test_a_connection_that_never_sends_connect_is_closed(
    make_broker: Callable[..., Broker],
) -> None:
    broker = make_broker(connect_timeout=0.2)
    peer = RawClient(broker.address)
    try:
        assert "no connect" in peer.expect_error().headers["message"].lower()
    finally:
        peer.close()


# -- escaping and bodies ------------------------------------------------------------------

ODD_VALUES = {
    "1.0": ["a:b", "back\\slash", "ü ñ ✓", " padded "],
    "1.1": ["a:b", "back\\slash", "line\nbreak", "\\n literally", "ü ñ ✓", "", " padded "],
    "1.2": ["a:b", "back\\slash", "line\nbreak", "cr\rhere", "\\r\\c", "ü ñ ✓", "", " padded "],
}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_header_values_round_trip(client: Callable[..., Any], version: str) -> None:
    connection, collector = client(version)
    connection.subscribe("/queue/escape", id="1")
    headers = {f"x-{n}": value for n, value in enumerate(ODD_VALUES[version])}
    if version != "1.0":
        headers["odd:name"] = "colon in a name"
    connection.send("/queue/escape", "x", headers=headers)
    (message,) = collector.wait_messages(1)
    for name, value in headers.items():
        assert message.headers[name] == value, name


@pytest.mark.parametrize(
    ("version", "wire"), [("1.1", b"x:a\\cb\\\\c\\nd\n"), ("1.2", b"x:a\\cb\\\\c\\nd\n")]
)
def test_escaped_on_the_wire(raw: Callable[..., RawClient], version: str, wire: bytes) -> None:
    peer = raw(version)
    peer.send("SUBSCRIBE", {"destination": "/queue/wire", "id": "1"})
    peer.send_raw(b"SEND\ndestination:/queue/wire\n" + wire + b"\n\x00")
    peer.sock.settimeout(5)
    data = b""
    while b"\x00" not in data:
        chunk = peer.sock.recv(65536)
        assert chunk
        data += chunk
    assert wire in data


def test_10_headers_are_not_escaped(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.0")
    peer.send("SUBSCRIBE", {"destination": "/queue/raw10", "id": "1"})
    peer.send_raw(b"SEND\ndestination:/queue/raw10\nx:a\\cb:c\n\n\x00")
    message = peer.receive()
    assert message.headers["x"] == "a\\cb:c"


def test_crlf_lines_in_12(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    peer.send_raw(b"SUBSCRIBE\r\ndestination:/queue/crlf\r\nid:1\r\nreceipt:s\r\n\r\n\x00\r\n")
    assert peer.receive().cmd == "RECEIPT"
    peer.send_raw(b"SEND\r\ndestination:/queue/crlf\r\n\r\nhi\x00")
    message = peer.receive()
    assert message.body == b"hi"
    assert message.headers["destination"] == "/queue/crlf"


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_binary_bodies(client: Callable[..., Any], version: str) -> None:
    body = bytes(range(256)) * 4 + b"\x00\x00end\x00"
    connection, collector = client(version, auto_decode=False)
    connection.subscribe("/queue/binary", id="1")
    connection.send("/queue/binary", body, content_type="application/octet-stream")
    (message,) = collector.wait_messages(1)
    assert message.body == body
    assert message.headers["content-length"] == str(len(body))


def test_body_without_content_length_ends_at_nul(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    peer.send("SUBSCRIBE", {"destination": "/queue/nul", "id": "1"})
    peer.send_raw(b"SEND\ndestination:/queue/nul\n\ntext body\x00")
    message = peer.receive()
    assert message.body == b"text body"
    assert message.headers["content-length"] == "9"


def test_large_body(client: Callable[..., Any]) -> None:
    body = bytes(range(256)) * 8192  # 2 MiB
    connection, collector = client("1.2", auto_decode=False)
    connection.subscribe("/queue/large", id="1")
    connection.send("/queue/large", body)
    (message,) = collector.wait_messages(1)
    assert message.body == body


def test_utf8_destination_and_body(client: Callable[..., Any]) -> None:
    connection, collector = client("1.2")
    connection.subscribe("/queue/café", id="1")
    barrier(connection, collector)
    connection.send("/queue/café", "naïve ☕")
    (message,) = collector.wait_messages(1)
    assert message.body == "naïve ☕"
    assert message.headers["destination"] == "/queue/café"
