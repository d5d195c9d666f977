"""The WebSocket transport against a minimal loopback WebSocket server: handshake,
fragmentation, close handling, pings, TLS, IPv6, and life without websocket-client."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
from typing import Any

import pytest
from support.fakebroker import EventLog
from wsserver import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    WAIT,
    WSPeer,
    WSServer,
    connected_frame,
)

from stomp.adapter import ws as ws_adapter
from stomp.adapter.ws import WSStompConnection, WSTransport


def make_conn(server: WSServer, **options: Any) -> tuple[WSStompConnection, EventLog]:
    options.setdefault("timeout", WAIT)
    options.setdefault("reconnect_attempts_max", 1)
    conn = WSStompConnection([server.address], **options)
    events = EventLog()
    conn.set_listener("events", events)
    return conn, events


def accept_stomp(peer: WSPeer, subprotocol: str | None = "pick") -> bytes:
    """Handshake, read CONNECT, answer CONNECTED; returns the CONNECT frame."""
    peer.handshake(subprotocol)
    _, connect = peer.recv_stomp()
    peer.send_text(connected_frame())
    return connect


def finish_disconnect(peer: WSPeer) -> tuple[int, bytes]:
    """Answer DISCONNECT with its RECEIPT, then take part in the closing handshake;
    returns the client's CLOSE frame (opcode and payload)."""
    _, disconnect = peer.recv_stomp()
    assert disconnect.startswith(b"DISCONNECT\n")
    receipt = disconnect.split(b"receipt:")[1].split(b"\n")[0]
    peer.send_text(b"RECEIPT\nreceipt-id:" + receipt + b"\n\n\x00")
    opcode, _, payload = peer.recv_frame()
    peer.send_frame(OP_CLOSE, payload[:2])
    return opcode, payload


def test_handshake_path_headers_and_subprotocols(ws_server: WSServer) -> None:
    seen: dict[str, Any] = {}

    def script(peer: WSPeer) -> None:
        seen["connect"] = accept_stomp(peer)
        seen["request"], seen["headers"] = peer.request, peer.headers
        seen["close"] = finish_disconnect(peer)

    ws_server.serve(script)
    conn, events = make_conn(ws_server, ws_path="/stomp", header={"X-Test": "1"}, vhost="vh")
    conn.connect("user", "secret", wait=True)
    assert conn.transport.subprotocol == "v12.stomp"
    conn.disconnect()
    ws_server.join()
    assert seen["request"][0] == "GET /stomp HTTP/1.1"
    assert seen["headers"]["x-test"] == "1"
    assert seen["headers"]["host"] == f"127.0.0.1:{ws_server.port}"
    offered = [p.strip() for p in seen["headers"]["sec-websocket-protocol"].split(",")]
    assert offered == ["v12.stomp", "v11.stomp", "v10.stomp"]
    assert seen["connect"].startswith(b"STOMP\n")
    assert b"\nhost:vh\n" in seen["connect"]
    # A clean close: a CLOSE frame with status 1000 after DISCONNECT's receipt.
    assert seen["close"] == (OP_CLOSE, b"\x03\xe8")
    assert events.count("disconnected") == 1


def test_server_choosing_no_subprotocol_is_accepted(ws_server: WSServer) -> None:
    def script(peer: WSPeer) -> None:
        accept_stomp(peer, subprotocol=None)
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, _ = make_conn(ws_server, header=["X-List-Header: yes"])
    conn.connect(wait=True)
    assert conn.transport.subprotocol is None
    conn.disconnect()
    ws_server.join()


def test_one_stomp_frame_over_several_websocket_messages(ws_server: WSServer) -> None:
    message = (
        b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:s\ncontent-length:5\n\nab\x00de\x00"
    )

    def script(peer: WSPeer) -> None:
        peer.handshake()
        peer.recv_stomp()
        # CONNECTED in three messages.
        frame = connected_frame()
        peer.send_text(frame[:4])
        peer.send_text(frame[4:12])
        peer.send_text(frame[12:])
        # A MESSAGE in fragments of one WebSocket message (TEXT, CONT, CONT), then one
        # split inside its body across two messages.
        peer.send_frame(OP_TEXT, message[:10], fin=False)
        peer.send_frame(OP_CONT, message[10:30], fin=False)
        peer.send_frame(OP_CONT, message[30:], fin=True)
        peer.send_frame(OP_BINARY, message[:-4])
        peer.send_text(message[-4:])
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, events = make_conn(ws_server, auto_decode=False)
    conn.connect(wait=True)
    first = events.wait_for("message")
    second = events.wait_for("message", count=2)
    assert first.body == second.body == b"ab\x00de"
    conn.disconnect()
    ws_server.join()


def test_several_stomp_frames_in_one_websocket_message(ws_server: WSServer) -> None:
    def script(peer: WSPeer) -> None:
        peer.handshake()
        peer.recv_stomp()
        batch = connected_frame("1.2", "heart-beat:0,0\n")
        for n in range(3):
            batch += f"MESSAGE\ndestination:/q\nmessage-id:{n}\nsubscription:s\n\nm{n}\x00".encode()
        batch += b"RECEIPT\nreceipt-id:r1\n\n\x00"
        peer.send_text(batch)
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, events = make_conn(ws_server)
    conn.connect(wait=True)
    events.wait_for("receipt")
    assert [f.body for n, f in events.events if n == "message"] == ["m0", "m1", "m2"]
    conn.disconnect()
    ws_server.join()


def test_binary_bytes_in_text_messages_are_kept_exactly(ws_server: WSServer) -> None:
    body = bytes(range(256)) * 64 + b"\x00\xff\xc3\x28"

    def script(peer: WSPeer) -> None:
        accept_stomp(peer)
        opcode, sent = peer.recv_stomp()
        # Not valid UTF-8: sent as BINARY even in text mode (RFC 6455).
        assert opcode == OP_BINARY
        assert sent.endswith(body + b"\x00")
        frame = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:s\n"
        frame += f"content-length:{len(body)}\n\n".encode() + body + b"\x00"
        peer.send_text(frame)  # as RabbitMQ does: invalid UTF-8 in a TEXT message
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, events = make_conn(ws_server, auto_decode=False)
    conn.connect(wait=True)
    conn.send("/q", body)
    assert events.wait_for("message").body == body
    conn.disconnect()
    ws_server.join()


@pytest.mark.parametrize("binary_mode", [False, True])
def test_text_and_binary_mode_opcodes(ws_server: WSServer, binary_mode: bool) -> None:
    opcodes: list[int] = []

    def script(peer: WSPeer) -> None:
        peer.handshake()
        opcodes.append(peer.recv_stomp()[0])  # CONNECT
        peer.send_text(connected_frame())
        opcodes.append(peer.recv_stomp()[0])  # SEND, UTF-8 text
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, _ = make_conn(ws_server, binary_mode=binary_mode)
    conn.connect(wait=True)
    conn.send("/q", "grüße")
    conn.disconnect()
    ws_server.join()
    assert opcodes == [OP_BINARY if binary_mode else OP_TEXT] * 2


def test_server_close_ends_the_connection(ws_server: WSServer) -> None:
    replies: list[tuple[int, bytes]] = []

    def script(peer: WSPeer) -> None:
        accept_stomp(peer)
        # The close payload (status 1001 and a reason) must not reach the STOMP decoder.
        peer.send_frame(OP_CLOSE, b"\x03\xe9going away\x00ERROR\n\n\x00")
        opcode, _, payload = peer.recv_frame()
        replies.append((opcode, payload))

    ws_server.serve(script)
    conn, events = make_conn(ws_server)
    conn.connect(wait=True)
    events.wait_for("disconnected")
    ws_server.join()
    assert replies == [(OP_CLOSE, b"\x03\xe9")]
    assert events.count("error") == 0
    assert not conn.is_connected()
    conn.disconnect()  # a no-op now
    assert events.count("disconnected") == 1


def test_server_dropping_tcp_ends_the_connection(ws_server: WSServer) -> None:
    def script(peer: WSPeer) -> None:
        accept_stomp(peer)
        peer.recv_stomp()  # the client is connected: it sends
        peer.sock.shutdown(socket.SHUT_RDWR)

    ws_server.serve(script)
    conn, events = make_conn(ws_server)
    conn.connect(wait=True)
    conn.send("/q", "then the server goes away")
    events.wait_for("disconnected")
    ws_server.join()
    assert not conn.is_connected()


def test_pings_are_answered(ws_server: WSServer) -> None:
    pongs: list[tuple[int, bytes]] = []

    def script(peer: WSPeer) -> None:
        accept_stomp(peer)
        peer.send_frame(OP_PING, b"are you there")
        opcode, _, payload = peer.recv_frame()
        pongs.append((opcode, payload))
        peer.send_frame(OP_PONG, b"unsolicited")  # ignored by the client
        peer.send_text(b"RECEIPT\nreceipt-id:after-ping\n\n\x00")
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, events = make_conn(ws_server)
    conn.connect(wait=True)
    events.wait_for("receipt")
    conn.disconnect()
    ws_server.join()
    assert pongs == [(OP_PONG, b"are you there")]


def test_disconnect_without_receipt_still_closes_cleanly(ws_server: WSServer) -> None:
    frames: list[tuple[int, bytes]] = []

    def script(peer: WSPeer) -> None:
        accept_stomp(peer)
        peer.recv_stomp()  # DISCONNECT, never answered
        opcode, _, payload = peer.recv_frame()
        frames.append((opcode, payload))
        peer.send_frame(OP_CLOSE, payload)

    ws_server.serve(script)
    conn, events = make_conn(ws_server, timeout=0.5)
    conn.connect(wait=True)
    conn.disconnect()
    ws_server.join()
    assert frames == [(OP_CLOSE, b"\x03\xe8")]
    assert events.count("disconnected") == 1


def test_heartbeats_over_websocket(ws_server: WSServer) -> None:
    beats: list[bytes] = []
    two_beats = threading.Event()

    def script(peer: WSPeer) -> None:
        peer.handshake()
        peer.recv_stomp()
        peer.send_text(connected_frame("1.2", "heart-beat:0,100\n"))  # wants beats
        while len(beats) < 2:
            beats.append(peer.recv_stomp()[1])
        two_beats.set()
        finish_disconnect(peer)

    ws_server.serve(script)
    conn, _ = make_conn(ws_server, heartbeats=(100, 0))
    conn.connect(wait=True)
    assert two_beats.wait(WAIT)
    assert beats == [b"\n", b"\n"]
    conn.disconnect()
    ws_server.join()


def test_ipv6_host_is_bracketed() -> None:
    try:
        server = WSServer("::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    try:
        transport = WSTransport([("::1", server.port)], ws_path="ws")
        assert transport.url_for(("::1", server.port)) == f"ws://[::1]:{server.port}/ws"

        def script(peer: WSPeer) -> None:
            accept_stomp(peer)
            finish_disconnect(peer)

        server.serve(script)
        conn, _ = make_conn(server)
        conn.connect(wait=True)
        assert conn.is_connected()
        conn.disconnect()
        server.join()
    finally:
        server.close()


def test_connection_refused_raises(ws_server: WSServer) -> None:
    port = ws_server.port
    ws_server.close()
    conn = WSStompConnection(
        [("127.0.0.1", port)], reconnect_attempts_max=2, reconnect_sleep_initial=0.01
    )
    with pytest.raises(ws_adapter.ConnectFailedException, match="2 attempt"):
        conn.connect(wait=True)


# ---------------------------------------------------------------- TLS


def test_wss_with_ca_verification(server_tls: ssl.SSLContext, ca_file: str) -> None:
    server = WSServer(tls=server_tls)
    try:

        def script(peer: WSPeer) -> None:
            accept_stomp(peer)
            peer.send_text(b"RECEIPT\nreceipt-id:over-tls\n\n\x00")
            finish_disconnect(peer)

        server.serve(script)
        conn, events = make_conn(server)
        conn.set_ssl([server.address], ca_certs=ca_file)
        assert conn.transport.url_for(server.address).startswith("wss://")
        conn.connect(wait=True)
        assert events.wait_for("receipt").headers["receipt-id"] == "over-tls"
        conn.disconnect()
        server.join()
    finally:
        server.close()


def test_wss_refuses_an_unknown_ca(server_tls: ssl.SSLContext) -> None:
    server = WSServer(tls=server_tls)
    try:
        server.serve(lambda peer: None)
        conn, _ = make_conn(server)
        conn.set_ssl([server.address])  # system CAs: the test CA is not among them
        with pytest.raises(ws_adapter.ConnectFailedException):
            conn.connect(wait=True)
        server.thread.join(WAIT)
        assert isinstance(server.error, ssl.SSLError)  # the client rejected the certificate
    finally:
        server.close()


def test_ssl_settings_map_to_websocket_client_sslopt() -> None:
    transport = WSTransport([("broker", 443)])
    transport.set_ssl(
        [("broker", 443)], key_file="k.pem", cert_file="c.pem", ca_certs="ca.pem", password="pw"
    )
    settings = transport.get_ssl(("broker", 443))
    assert settings is not None and settings["cert_file"] == "c.pem"
    opts = ws_adapter._sslopt(settings, None)
    assert opts["certfile"] == "c.pem" and opts["keyfile"] == "k.pem"
    assert opts["ca_certs"] == "ca.pem" and opts["password"] == "pw"
    assert opts["cert_reqs"] == ssl.CERT_REQUIRED and opts["check_hostname"] is True
    transport.set_ssl([("broker", 443)], verify=False)
    opts = ws_adapter._sslopt(transport.get_ssl(("broker", 443)) or {}, "name")
    assert opts["cert_reqs"] == ssl.CERT_NONE and opts["check_hostname"] is False
    assert opts["server_hostname"] == "name" and "certfile" not in opts


# ---------------------------------------------------------------- without websocket-client


def test_import_stomp_works_without_websocket_client() -> None:
    code = """
import sys
sys.modules["websocket"] = None  # makes "import websocket" fail
import stomp
assert "stomp.adapter.ws" not in sys.modules
assert stomp.Connection12 is not None
conn_class = stomp.WSConnection  # the class is there ...
try:
    conn_class([("127.0.0.1", 1)])  # ... using it says what is missing
except ImportError as exc:
    assert "websocket-client" in str(exc), exc
else:
    raise SystemExit("no ImportError")
import stomp.adapter.multicast
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_import_stomp_does_not_load_websocket_client() -> None:
    code = "import sys, stomp; print('websocket' in sys.modules, 'stomp.adapter' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.stdout.split() == ["False", "False"], result.stderr
