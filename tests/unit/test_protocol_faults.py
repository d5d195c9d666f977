"""Protocol faults from a scripted server (issue 3, item 9), the cases not already covered
elsewhere.

Already covered, and not repeated here:

* silent server, ``connect(wait=True)`` times out: ``test_connection_behaviour.py``
  (``test_connect_wait_times_out_on_a_silent_server``, ``test_failover_from_a_silent_server``);
* server that stops heart-beating, plain and TLS: ``test_heartbeats.py``
  (``test_silent_server_times_out[tcp|tls]``, ``test_silent_from_the_start_times_out``);
* ERROR then close after CONNECTED: ``test_connection_behaviour.py``
  (``test_error_frame_then_close``); ERROR instead of CONNECTED with ``wait=True``:
  ``test_error_before_connected_fails_connect_and_closes``.

Here: the silent server over TLS, a server dropping the connection in the middle of a
frame (plain, reset, TLS), frames delivered byte by byte, EOLs after frames (and how
they count as heart-beats, as ``stomp/codec`` documents), and the callback order when
an ERROR is followed by a close, with and without ``wait``.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from support.fakebroker import EventLog, library_threads, wait_until

from stomp.exception import ConnectFailedException

#: Bound of every wait for a callback, in seconds.
WAIT = 5.0

MESSAGE = b"MESSAGE\ndestination:/queue/a\nmessage-id:%d\nsubscription:1\n\nbody %d\0"


def _message(n: int) -> bytes:
    return MESSAGE % (n, n)


def _connected(make_conn: Any, broker: Any, version: str = "1.2", **options: Any) -> Any:
    conn = make_conn(broker, version, **options)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    return conn, log


def _bodies(log: EventLog) -> list[Any]:
    return [frame.body for name, frame in log.events if name == "message"]


# -- silent server over TLS ------------------------------------------------------------------


@pytest.mark.slow
def test_connect_wait_times_out_on_a_silent_tls_server(
    make_conn: Any, make_broker: Any, server_tls: Any, ca_file: str
) -> None:
    broker = make_broker(connect_reply="silent", tls_context=server_tls)
    conn = make_conn(broker, timeout=1)
    conn.set_ssl([broker.address], ca_certs=ca_file)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException):
        conn.connect(wait=True)
    assert 0.9 <= time.monotonic() - start < 3
    assert broker.last.handshake_done.is_set()  # TLS was up; STOMP never answered
    assert broker.last.wait_peer_closed(2)
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()


# -- a connection dropped in the middle of a frame ---------------------------------------------

PARTIAL_FRAMES = {
    "in-command": b"MESS",
    "in-headers": b"MESSAGE\ndestination:/queue/a\nmessage-",
    "in-body": b"MESSAGE\ndestination:/queue/a\nmessage-id:2\nsubscription:1\n\nbody 2",
    "in-sized-body": (
        b"MESSAGE\ndestination:/queue/a\nmessage-id:2\nsubscription:1\n"
        b"content-length:100\n\nonly part of the 100 bytes\0\0"
    ),
}


@pytest.mark.parametrize("rst", [False, True], ids=["close", "reset"])
@pytest.mark.parametrize("partial", list(PARTIAL_FRAMES), ids=list(PARTIAL_FRAMES))
def test_server_drops_mid_frame(make_conn: Any, broker: Any, partial: str, rst: bool) -> None:
    conn, log = _connected(make_conn, broker)
    server = broker.last
    server.send_raw(_message(1) + PARTIAL_FRAMES[partial])
    log.wait_for("message")  # the complete frame before the cut is delivered
    server.close(rst=rst)
    log.wait_for("disconnected", timeout=WAIT)
    assert _bodies(log) == ["body 1"]  # and nothing of the partial one
    assert log.count("disconnected") == 1
    assert "error" not in log.names()
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()
    conn.disconnect()  # returns at once: nothing left to close


def test_server_drops_mid_frame_over_tls(
    make_conn: Any, make_broker: Any, server_tls: Any, ca_file: str
) -> None:
    broker = make_broker(tls_context=server_tls, heartbeat="200,200")
    conn = make_conn(broker, heartbeats=(200, 200))
    conn.set_ssl([broker.address], ca_certs=ca_file)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = broker.last
    server.send_raw(_message(1) + PARTIAL_FRAMES["in-body"])
    log.wait_for("message")
    server.close()
    log.wait_for("disconnected", timeout=WAIT)
    assert _bodies(log) == ["body 1"]
    assert "heartbeat_timeout" not in log.names()  # a close is seen as such, at once
    assert wait_until(lambda: not library_threads(), 2), library_threads()


def test_server_drops_mid_frame_during_connect(make_conn: Any, make_broker: Any) -> None:
    def half_connected(connection: Any, frame: Any) -> str:
        connection.send_raw(b"CONNECTED\nversion:1.2\nsess")
        return "close"

    broker = make_broker(connect_reply=half_connected)
    conn = make_conn(broker, timeout=WAIT)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException):
        conn.connect(wait=True)
    assert time.monotonic() - start < 2  # the close ends the wait, not the timeout
    assert "connected" not in log.names()
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()


# -- frames delivered byte by byte --------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_frames_byte_by_byte(make_conn: Any, make_broker: Any, version: str) -> None:
    broker = make_broker(version=version)
    conn, log = _connected(make_conn, broker, version, auto_decode=False)
    eol = b"\r\n" if version == "1.2" else b"\n"
    binary = bytes(range(256))  # NULs, CRs and LFs inside a sized body
    stream = (
        _message(1)
        + b"\n"
        + b"MESSAGE"
        + eol
        + b"destination:/queue/a"
        + eol
        + b"message-id:2"
        + eol
        + b"subscription:1"
        + eol
        + b"content-length:256"
        + eol
        + eol
        + binary
        + b"\0"
        + b"\n\n"
        + "MESSAGE\ndestination:/queue/a\nmessage-id:3\nsubscription:1\n\nhéllo wörld\0".encode()
        + b"RECEIPT\nreceipt-id:r-1\n\n\0"
    )
    server = broker.last
    for i in range(len(stream)):
        server.send_raw(stream[i : i + 1])
        if i % 16 == 0:
            time.sleep(0.001)  # let the reader see small pieces, not one coalesced read
    log.wait_for("receipt", timeout=WAIT)
    assert _bodies(log) == [b"body 1", binary, "héllo wörld".encode()]
    ids = [frame.headers["message-id"] for name, frame in log.events if name == "message"]
    assert ids == ["1", "2", "3"]
    assert log.count("receipt") == 1
    assert log.names().index("receipt") > max(
        i for i, name in enumerate(log.names()) if name == "message"
    )
    assert "error" not in log.names() and "disconnected" not in log.names()
    assert conn.is_connected()


# -- EOLs after frames -----------------------------------------------------------------------


def test_trailing_eol_after_each_frame_is_no_frame_and_no_heartbeat(
    make_conn: Any, broker: Any
) -> None:
    conn, log = _connected(make_conn, broker)
    # ActiveMQ's habit: every frame ends with NUL LF.  In one chunk, the LF right after
    # each NUL is that frame's padding.
    broker.last.send_raw(b"".join(_message(n) + b"\n" for n in range(1, 6)))
    log.wait_for("message", 5)
    broker.last.send_raw(b"RECEIPT\nreceipt-id:end\n\n\0\n")
    log.wait_for("receipt")
    assert _bodies(log) == [f"body {n}" for n in range(1, 6)]
    assert log.count("heartbeat") == 0
    assert log.count("message") == 5 and log.count("receipt") == 1
    assert "error" not in log.names() and "disconnected" not in log.names()
    assert conn.is_connected()


@pytest.mark.parametrize(
    "padding",
    [b"\n", b"\r\n", b"\n\n", b"\n\n\n\n", b"\r\n\r\n\n"],
    ids=["lf", "crlf", "lf-lf", "4lf", "crlf-crlf-lf"],
)
def test_eols_right_after_a_frame_are_padding_not_heartbeats(
    make_conn: Any, broker: Any, padding: bytes
) -> None:
    # As stomp.py counts them (its users' tests assert it): EOLs that arrive with the
    # frame, right after its NUL, are the frame's padding.
    conn, log = _connected(make_conn, broker)
    broker.last.send_raw(_message(1) + padding)
    log.wait_for("message")
    # A receipt after them fences the heart-beats (the server writes in order).
    broker.last.send_raw(b"RECEIPT\nreceipt-id:end\n\n\0")
    log.wait_for("receipt")
    assert log.count("heartbeat") == 0
    assert log.count("message") == 1
    assert conn.is_connected()


def test_eol_in_a_later_read_is_a_heartbeat(make_conn: Any, broker: Any) -> None:
    # The padding rule holds within one read only: an LF arriving on its own after the
    # frame was handed over is a heart-beat.
    _conn, log = _connected(make_conn, broker)
    broker.last.send_raw(_message(1))
    log.wait_for("message")
    broker.last.send_raw(b"\n")
    log.wait_for("heartbeat")
    broker.last.send_raw(b"RECEIPT\nreceipt-id:end\n\n\0")
    log.wait_for("receipt")
    assert log.count("heartbeat") == 1 and log.count("message") == 1


def test_trailing_eols_keep_the_heartbeat_timeout_away(make_conn: Any, make_broker: Any) -> None:
    # EOLs are life: a server whose only traffic is frames with trailing EOLs and EOLs
    # is not timed out.
    broker = make_broker(heartbeat="200,0")
    conn = make_conn(broker, heartbeats=(0, 200))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = broker.last
    server.go_silent()  # no automatic heart-beats: the test writes everything
    for n in range(1, 9):
        server.send_raw(_message(n) + b"\n")
        time.sleep(0.1)
        server.send_raw(b"\n")
        time.sleep(0.1)
    log.wait_for("message", 8)
    assert "heartbeat_timeout" not in log.names()
    assert conn.is_connected()


# -- ERROR, then the server closes -----------------------------------------------------------


def test_error_then_close_calls_on_error_then_on_disconnected(make_conn: Any, broker: Any) -> None:
    conn, log = _connected(make_conn, broker)
    broker.last.send_raw(b"ERROR\nmessage:bad thing\n\ndetails\0")
    broker.last.close()
    log.wait_for("disconnected")
    names = [n for n in log.names() if n in ("error", "disconnected")]
    assert names == ["error", "disconnected"]
    error = log.wait_for("error")
    assert (error.headers["message"], error.body) == ("bad thing", "details")
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_error_then_close_on_connect_with_wait(
    make_conn: Any, make_broker: Any, version: str
) -> None:
    broker = make_broker(connect_reply="error", error_message="bad credentials")
    conn = make_conn(broker, version, timeout=WAIT)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException, match="bad credentials"):
        conn.connect("user", "wrong", wait=True)
    assert time.monotonic() - start < 2
    error = log.wait_for("error")
    assert error.headers["message"] == "bad credentials"
    assert "connected" not in log.names()
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()


def test_error_then_close_on_connect_without_wait(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(connect_reply="error")
    conn = make_conn(broker, timeout=WAIT)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect("user", "wrong", wait=False)  # does not raise
    log.wait_for("disconnected")
    names = [n for n in log.names() if n in ("error", "disconnected", "connected")]
    assert names == ["error", "disconnected"]
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()
