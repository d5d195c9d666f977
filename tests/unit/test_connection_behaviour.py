"""How a connection behaves against a scripted server: callback order, listener
isolation, errors, failover and back-off, bounded connect and disconnect, threads."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import pytest
from support.fakebroker import EventLog, library_threads, wait_until

import stomp
from stomp.exception import ConnectFailedException, NotConnectedException


def _connected(make_conn: Any, broker: Any, version: str = "1.2", **options: Any) -> Any:
    conn = make_conn(broker, version, **options)
    conn.connect(wait=True)
    return conn


class Raiser(EventLog):
    """Raises in on_message for bodies starting with ``boom``."""

    def on_message(self, frame: Any) -> None:
        super().on_message(frame)
        if frame.body.startswith("boom"):
            raise RuntimeError("listener failure " + frame.body)


# -- callback order ------------------------------------------------------------------------


def test_connect_wait_callback_order(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    assert log.names() == ["connecting", "send", "connected"]
    assert log.events[0][1] == broker.address
    assert log.events[1][1].cmd == "STOMP"
    assert log.events[2][1].headers["version"] == "1.2"
    assert log.threads["connecting"] == threading.current_thread().name
    assert log.threads["connected"].startswith("StompReceiver")
    assert conn.is_connected()


def test_message_goes_to_before_message_on_all_then_message_on_all(
    make_conn: Any, broker: Any
) -> None:
    conn = _connected(make_conn, broker)
    shared: list[Any] = []
    conn.set_listener("b", EventLog(shared, "b."))
    last = EventLog(shared, "c.")
    conn.set_listener("c", last)
    conn.set_listener("a", EventLog(shared, "a."))
    broker.last.send_message(body="hello")
    last.wait_for("message")
    assert [name for name, _ in shared] == [
        "a.before_message",
        "b.before_message",
        "c.before_message",
        "a.message",
        "b.message",
        "c.message",
    ]
    frames = {id(frame) for _, frame in shared}
    assert len(frames) == 1  # the same Frame object throughout
    assert shared[0][1].body == "hello"


def test_listeners_called_in_name_order(make_conn: Any, broker: Any) -> None:
    shared: list[Any] = []
    conn = make_conn(broker)
    for name in ["m", "z", "a", "protocol-listener-x", "0"]:
        conn.set_listener(name, EventLog(shared, name + "."))
    conn.connect(wait=True)
    assert [name for name, _ in shared if name.endswith(".connecting")] == [
        "0.connecting",
        "a.connecting",
        "m.connecting",
        "protocol-listener-x.connecting",
        "z.connecting",
    ]


def test_disconnect_callback_order(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    conn.disconnect(receipt="r-bye")
    assert log.names() == ["send", "disconnected", "receipt", "receiver_loop_completed"]
    assert log.events[2][1].headers["receipt-id"] == "r-bye"
    assert not conn.is_connected()
    assert broker.last.wait_peer_closed()


def test_broker_closing_the_socket(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.close()
    log.wait_for("disconnected")
    assert wait_until(lambda: "receiver_loop_completed" in log.names())
    assert log.names() == ["receiver_loop_completed", "disconnected"]
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads())


def test_broker_reset(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.close(rst=True)
    log.wait_for("disconnected")
    assert not conn.is_connected()


# -- listener failures -----------------------------------------------------------------------


def test_listener_exception_is_logged_and_later_frames_still_arrive(
    make_conn: Any, broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conn = _connected(make_conn, broker)
    a = Raiser()
    b = EventLog()
    conn.set_listener("a", a)
    conn.set_listener("b", b)
    server = broker.last
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        for body in ("boom-1", "two", "three"):
            server.send_message(body=body)
        b.wait_for("message", 3)
    assert [f.body for f in (b.wait_for("message", i) for i in (1, 2, 3))] == [
        "boom-1",
        "two",
        "three",
    ]
    assert a.count("message") == 3
    failures = [r for r in caplog.records if r.exc_info and "on_message" in r.getMessage()]
    assert len(failures) == 1
    assert isinstance(failures[0].exc_info[1], RuntimeError)
    assert "listener failure boom-1" in caplog.text  # the traceback's last line
    assert conn.is_connected()
    conn.send("/queue/a", "still works", receipt="r1")
    b.wait_for("receipt")


def test_listener_exception_in_on_connected_does_not_break_connect(
    make_conn: Any, broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    class Bad:
        def on_connected(self, frame: Any) -> None:
            raise ValueError("bad listener")

    conn = make_conn(broker)
    conn.set_listener("bad", Bad())
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        conn.connect(wait=True)
    assert conn.is_connected()
    assert "bad listener" in caplog.text


# -- ERROR frames ------------------------------------------------------------------------------


def test_error_frame_then_close(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.send_frame("ERROR", {"message": "bad thing"}, "details")
    frame = log.wait_for("error")
    assert (frame.headers["message"], frame.body) == ("bad thing", "details")
    assert conn.is_connected()  # an ERROR alone does not end the connection
    broker.last.close()
    log.wait_for("disconnected")
    assert log.names()[0] == "error"


@pytest.mark.parametrize("close_after_error", [True, False])
def test_error_before_connected_fails_connect_and_closes(
    make_conn: Any, make_broker: Any, close_after_error: bool
) -> None:
    broker = make_broker(connect_reply="error", close_after_error=close_after_error)
    conn = make_conn(broker)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException, match="go away"):
        conn.connect(wait=True)
    assert time.monotonic() - start < 1.5
    assert log.names()[:3] == ["connecting", "send", "error"]
    assert not conn.is_connected()
    if not close_after_error:  # the client closes the socket itself
        assert broker.last.wait_peer_closed(2)
    assert wait_until(lambda: not library_threads(), 2)
    assert len(broker.connections) == 1  # the refusal is final: no other host tried


def test_malformed_frame_closes_after_delivering_earlier_frames(
    make_conn: Any, broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    good = b"MESSAGE\ndestination:/q\nmessage-id:1\nsubscription:1\n\nfirst\0"
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        broker.last.send_raw(good + good.replace(b"first", b"second") + b"BAD FRAME\n\n\0")
        log.wait_for("disconnected")
    assert [f.body for n, f in log.events if n == "message"] == ["first", "second"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("malformed frame" in r.getMessage() for r in errors)
    assert "bad command line" in caplog.text
    assert broker.last.wait_peer_closed()
    assert not conn.is_connected()


# -- connecting: timeouts, failover, back-off -------------------------------------------------


@pytest.mark.slow
def test_connect_wait_times_out_on_a_silent_server(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(connect_reply="silent")
    conn = make_conn(broker, timeout=1)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException, match="no CONNECTED"):
        conn.connect(wait=True)
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 3
    assert broker.last.wait_peer_closed(2)
    assert not conn.is_connected()


@pytest.mark.slow
def test_failover_from_a_silent_server(make_conn: Any, make_broker: Any) -> None:
    silent = make_broker(connect_reply="silent")
    good = make_broker()
    conn = make_conn([silent, good], timeout=1)
    start = time.monotonic()
    conn.connect(wait=True)
    assert time.monotonic() - start < 3
    assert conn.is_connected()
    assert conn.transport.current_host_and_port == good.address
    assert silent.last.wait_peer_closed(2)
    conn.send("/queue/a", "x", receipt="r")
    assert good.last.wait_for_frame("SEND").body == b"x"


def test_failover_from_a_refused_port(make_conn: Any, broker: Any, refused: Any) -> None:
    conn = make_conn([refused(), broker])
    start = time.monotonic()
    conn.connect(wait=True)
    assert time.monotonic() - start < 1
    assert conn.transport.current_host_and_port == broker.address


def _attempt_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "could not connect" in r.getMessage()]


@pytest.mark.parametrize(
    ("ports", "attempts_max", "attempts"),
    [
        (1, 3, 3),  # three passes over one host
        (2, 3, 4),  # a pass is never cut short: 2 + 2
        (3, 3, 3),  # one pass
        (2, 1, 2),
        (1, 0, 0),  # no attempt at all
    ],
)
def test_all_refused_counts_attempts(
    make_conn: Any,
    refused: Any,
    caplog: pytest.LogCaptureFixture,
    ports: int,
    attempts_max: int,
    attempts: int,
) -> None:
    hosts = [refused() for _ in range(ports)]
    conn = make_conn(hosts, reconnect_attempts_max=attempts_max)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="stomp.py"), pytest.raises(ConnectFailedException):
        conn.connect(wait=True)
    assert time.monotonic() - start < 3
    assert len(_attempt_log(caplog)) == attempts
    assert not library_threads()


class _FakeWait:
    """Stands in for the transport's wake-up event: records each back-off delay without
    sleeping; after ``stop_after`` delays it stops the transport."""

    def __init__(self, transport: Any, stop_after: int | None = None) -> None:
        self.delays: list[float] = []
        self.transport = transport
        self.stop_after = stop_after

    def clear(self) -> None:
        pass

    def set(self) -> None:
        pass

    def wait(self, delay: float) -> bool:
        self.delays.append(delay)
        if self.stop_after is not None and len(self.delays) >= self.stop_after:
            self.transport.running = False
        return False


def test_back_off_grows_and_is_capped(
    make_conn: Any, refused: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = make_conn(
        [refused()],
        reconnect_sleep_initial=0.1,
        reconnect_sleep_increase=1.0,
        reconnect_sleep_jitter=0.5,
        reconnect_sleep_max=0.25,
        reconnect_attempts_max=5,
    )
    fake = _FakeWait(conn.transport)
    conn.transport._hosts._wakeup = fake
    monkeypatch.setattr("random.random", lambda: 1.0)
    with pytest.raises(ConnectFailedException):
        conn.connect()
    # 0.1, 0.2, then capped at 0.25 (the cap applies before the jitter); none after the
    # last failed pass.
    assert fake.delays == pytest.approx([0.15, 0.3, 0.375, 0.375])


def test_retry_forever_until_stopped(make_conn: Any, refused: Any) -> None:
    conn = make_conn([refused(), refused()], reconnect_attempts_max=-1)
    fake = _FakeWait(conn.transport, stop_after=20)
    conn.transport._hosts._wakeup = fake
    with pytest.raises(ConnectFailedException):
        conn.connect()
    assert len(fake.delays) == 20


def test_back_off_real_timing(make_conn: Any, refused: Any) -> None:
    # Defaults: 0.1 s then 0.15 s between the three passes (+ up to 10 % jitter).
    conn = make_conn([refused()])
    start = time.monotonic()
    with pytest.raises(ConnectFailedException):
        conn.connect()
    elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 2


def test_disconnect_socket_interrupts_a_retry_loop(make_conn: Any, refused: Any) -> None:
    conn = make_conn([refused()], reconnect_attempts_max=-1, reconnect_sleep_initial=0.2)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            conn.connect()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)  # let it retry a few times
    conn.transport.disconnect_socket()
    thread.join(2)
    assert not thread.is_alive()
    assert isinstance(failure[0], ConnectFailedException)


def _has_ipv6() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6(), reason="no IPv6 loopback")
@pytest.mark.parametrize("version", ["1.0", "1.2"])
def test_ipv6_loopback(make_conn: Any, make_broker: Any, version: str) -> None:
    broker = make_broker(host="::1")
    conn = make_conn(broker, version)
    conn.connect(wait=True)
    assert conn.transport.current_host_and_port == ("::1", broker.port)
    if version == "1.2":
        assert broker.last.frames[0].headers["host"] == "::1"
    conn.send("/queue/a", "six", receipt="r")
    assert broker.last.wait_for_frame("SEND").body == b"six"
    conn.disconnect()


# -- disconnecting -----------------------------------------------------------------------------


@pytest.mark.slow
def test_disconnect_is_bounded_without_a_receipt(
    make_conn: Any, make_broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broker = make_broker(answer_receipts=False)
    conn = _connected(make_conn, broker, timeout=1)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="stomp.py"):
        conn.disconnect()
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 2.5
    assert "no receipt for DISCONNECT" in caplog.text
    assert log.count("disconnected") == 1
    assert not conn.is_connected()
    assert not library_threads()
    assert broker.last.wait_peer_closed()


@pytest.mark.parametrize("rst", [False, True])
def test_disconnect_when_the_server_is_gone(make_conn: Any, broker: Any, rst: bool) -> None:
    conn = _connected(make_conn, broker, timeout=1)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.close(rst=rst)
    start = time.monotonic()
    conn.disconnect()  # may race with the receiver noticing the close: must not matter
    assert time.monotonic() - start < 2.5
    log.wait_for("disconnected")
    assert log.count("disconnected") == 1
    assert wait_until(lambda: not library_threads(), 2)


@pytest.mark.parametrize(
    "failure", [BrokenPipeError(32, "Broken pipe"), NotConnectedException("gone")]
)
def test_disconnect_when_the_connection_drops_meanwhile(
    make_conn: Any, broker: Any, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    # The drop races with disconnect(): the DISCONNECT cannot be written.  disconnect()
    # closes the connection without raising or waiting for a receipt.
    conn = _connected(make_conn, broker, timeout=1)
    log = EventLog()
    conn.set_listener("a", log)

    def broken(data: bytes) -> None:
        raise failure

    monkeypatch.setattr(conn.transport, "send", broken)
    start = time.monotonic()
    conn.disconnect()
    assert time.monotonic() - start < 0.5
    assert log.count("disconnected") == 1
    assert not conn.is_connected()
    assert not library_threads()
    assert broker.last.wait_peer_closed()


def test_disconnect_when_the_server_is_stopped(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker()
    conn = _connected(make_conn, broker, timeout=1)
    broker.stop()
    start = time.monotonic()
    conn.disconnect()
    assert time.monotonic() - start < 2.5
    assert not conn.is_connected()


def test_no_library_thread_after_disconnect(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat="200,200")
    conn = _connected(make_conn, broker, heartbeats=(200, 200))
    names = {t.name.split("-")[0] for t in library_threads()}
    assert names == {"StompReceiver", "StompHeartbeat"}
    conn.disconnect()
    assert library_threads() == []


def test_leaving_with_block_never_connected_is_immediate(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker)
    start = time.monotonic()
    with conn:
        pass
    assert time.monotonic() - start < 0.5


def test_leaving_with_block_after_failed_connect_is_immediate(make_conn: Any, refused: Any) -> None:
    conn = make_conn([refused()], reconnect_attempts_max=1)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException), conn:
        conn.connect(wait=True)
    assert time.monotonic() - start < 1


def test_with_block_disconnects(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker)
    with conn:
        conn.connect(wait=True)
        receipt = conn.disconnect_receipt_id
    frame = broker.last.wait_for_frame("DISCONNECT")
    assert frame.headers["receipt"] == receipt
    assert conn.disconnect_listener.disconnected
    assert not conn.is_connected()
    assert library_threads() == []


def test_second_connect_is_ignored_while_connected(
    make_conn: Any, broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conn = _connected(make_conn, broker)
    receiver = conn.transport.io_thread
    with caplog.at_level(logging.WARNING, logger="stomp.py"):
        conn.connect(wait=True)
    conn.send("/q", "x", receipt="r")
    server = broker.last
    server.wait_for_frame("SEND")
    assert server.commands() == ["STOMP", "SEND"]
    assert len(broker.connections) == 1
    assert conn.transport.io_thread is receiver
    assert len([t for t in library_threads() if t.name.startswith("StompReceiver")]) == 1
    assert "already connected" in caplog.text


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_reconnect_after_disconnect(make_conn: Any, broker: Any, version: str) -> None:
    conn = _connected(make_conn, broker, version)
    log = EventLog()
    conn.set_listener("a", log)
    conn.disconnect()
    conn.connect(wait=True)
    assert conn.is_connected()
    second = broker.wait_for_connection(1)
    second.send_message(body="again")
    assert log.wait_for("message").body == "again"
    conn.disconnect()
    assert log.names().count("connected") == 1
    assert log.count("disconnected") == 2
    assert library_threads() == []


def test_reconnect_after_the_broker_closed(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.close()
    log.wait_for("disconnected")
    conn.connect(wait=True)
    broker.wait_for_connection(1).send_message(body="back")
    assert log.wait_for("message").body == "back"


def test_reconnect_from_on_disconnected(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    reconnected = threading.Event()

    class Reconnector(EventLog):
        def on_disconnected(self) -> None:
            super().on_disconnected()
            if self.count("disconnected") == 1:
                conn.connect(wait=True)
                reconnected.set()

    log = Reconnector()
    conn.set_listener("a", log)
    broker.last.close()
    assert reconnected.wait(5)
    assert conn.is_connected()
    broker.wait_for_connection(1).send_message(body="back")
    assert log.wait_for("message").body == "back"


def test_connection_is_a_listener_named_protocol_listener(broker: Any) -> None:
    conn = stomp.Connection12([broker.address])
    assert conn.get_listener("protocol-listener") is conn
    assert isinstance(conn, stomp.ConnectionListener)


# -- more edge cases -----------------------------------------------------------------------------


def test_connect_again_before_connected_replaces_the_pending_connection(
    make_conn: Any, make_broker: Any
) -> None:
    broker = make_broker(connect_reply="silent")
    conn = make_conn(broker)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect()
    conn.connect()
    assert broker.wait_for_connection(0).wait_peer_closed()  # the first socket is closed
    assert broker.wait_for_connection(1).wait_for_frame("STOMP")
    assert wait_until(
        lambda: len([t for t in library_threads() if t.name.startswith("StompReceiver")]) == 1
    )
    assert log.count("disconnected") == 1


def test_connect_after_an_error_the_broker_did_not_close(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(connect_reply="error", close_after_error=False)
    conn = make_conn(broker)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect()
    log.wait_for("error")
    broker.connect_reply = "connected"
    conn.connect(wait=True)
    assert broker.connections[0].wait_peer_closed()
    assert conn.is_connected()
    # The old receiver thread ends on its own, shortly after its socket was closed.
    assert wait_until(
        lambda: len([t for t in library_threads() if t.name.startswith("StompReceiver")]) == 1
    )


def test_failover_from_a_server_that_closes(make_conn: Any, make_broker: Any) -> None:
    closing = make_broker(connect_reply="close")
    good = make_broker()
    conn = make_conn([closing, good])
    conn.connect(wait=True)
    assert conn.transport.current_host_and_port == good.address


def test_server_closing_is_a_failure_with_one_host(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(connect_reply="close")
    conn = make_conn(broker)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException, match="ended before CONNECTED"):
        conn.connect(wait=True)
    assert time.monotonic() - start < 1


def test_disconnect_from_a_listener(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)

    class Quitter(EventLog):
        def on_message(self, frame: Any) -> None:
            super().on_message(frame)
            conn.disconnect()  # on the receiver thread: must not wait for itself

    log = Quitter()
    conn.set_listener("a", log)
    broker.last.send_message(body="bye")
    log.wait_for("disconnected")
    assert broker.last.wait_for_frame("DISCONNECT")
    assert wait_until(lambda: not library_threads(), 2)


def test_concurrent_disconnects(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    threads = [threading.Thread(target=conn.disconnect) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads)
    assert log.count("disconnected") == 1
    assert not library_threads()


def test_all_frames_before_a_close_are_delivered(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    for i in range(100):
        broker.last.send_message(body=str(i))
    broker.last.close()
    log.wait_for("disconnected")
    assert [f.body for n, f in log.events if n == "message"] == [str(i) for i in range(100)]
    assert log.names()[-1] == "disconnected"


def test_odd_frames_from_the_server_are_survived(
    make_conn: Any, broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conn = _connected(make_conn, broker)
    log = EventLog()
    conn.set_listener("a", log)
    with caplog.at_level(logging.WARNING, logger="stomp.py"):
        # A RECEIPT without receipt-id (Q8), an unknown command, EOLs run together (Q3;
        # right after a NUL, so padding rather than heart-beats).
        broker.last.send_raw(b"RECEIPT\n\n\0SURPRISE\n\n\0\n\n\r\n")
        broker.last.send_message(body="after")
        log.wait_for("message")
    assert log.names() == ["receipt", "before_message", "message"]
    assert "unknown response frame type: 'surprise'" in caplog.text
    assert conn.is_connected()


def test_on_connected_frames_precede_the_callers_next_frame(make_conn: Any, broker: Any) -> None:
    # connect(wait=True) returns after the listeners' on_connected: a subscription made
    # there is on the wire before anything the caller sends next.
    conn = make_conn(broker)

    class Subscriber:
        def on_connected(self, frame: Any) -> None:
            time.sleep(0.05)
            conn.subscribe("/queue/replies", "r")

    conn.set_listener("a", Subscriber())
    conn.connect(wait=True)
    conn.send("/queue/requests", "ping")
    broker.last.wait_for_frame("SEND")
    assert broker.last.commands() == ["STOMP", "SUBSCRIBE", "SEND"]


def test_on_send_exception_stops_the_frame(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)

    class Censor:
        def on_send(self, frame: Any) -> None:
            if frame.body == "secret":
                raise ValueError("not this one")

    conn.set_listener("a", Censor())
    with pytest.raises(ValueError, match="not this one"):
        conn.send("/queue/a", "secret")
    conn.send("/queue/a", "public")
    assert broker.last.wait_for_frame("SEND").body == b"public"
    assert broker.last.commands() == ["STOMP", "SEND"]


def test_on_send_changes_are_sent(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker)

    class Stamper:
        def on_send(self, frame: Any) -> None:
            frame.headers["stamp"] = "a:b"

    conn.set_listener("a", Stamper())
    conn.send("/queue/a", "x")
    assert broker.last.wait_for_frame("SEND").headers["stamp"] == "a:b"


def test_auto_decode_false_gives_bytes(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker, auto_decode=False)
    log = EventLog()
    conn.set_listener("a", log)
    broker.last.send_message(body=b"\xff\x00binary")
    assert log.wait_for("message").body == b"\xff\x00binary"


def test_listener_without_some_callbacks(make_conn: Any, make_broker: Any) -> None:
    # Plain objects with only some on_* methods (no on_heartbeat_timeout: Q10).
    broker = make_broker(heartbeat="200,0")
    conn = make_conn(broker, heartbeats=(0, 200))
    got = threading.Event()

    class Minimal:
        def on_disconnected(self) -> None:
            got.set()

    conn.set_listener("a", Minimal())
    conn.connect(wait=True)
    broker.last.go_silent()
    assert got.wait(3)


def test_function_set_on_a_listener_instance_is_called(make_conn: Any, broker: Any) -> None:
    # A plain ConnectionListener whose on_message is an instance attribute (set before
    # registering): called, like a method of a subclass; the no-ops of the others are not.
    conn = _connected(make_conn, broker)
    got: list[Any] = []
    listener = stomp.ConnectionListener()
    listener.on_message = got.append  # type: ignore[method-assign]
    conn.set_listener("a", listener)
    conn.set_listener("b", stomp.ConnectionListener())
    assert conn.transport._callbacks["message"] == (got.append,)
    log = EventLog()
    conn.set_listener("c", log)  # called after "a" for each frame (name order)
    broker.last.send_message(body="hello")
    broker.last.send_message(body="again")
    log.wait_for("message", count=2)
    assert [frame.body for frame in got] == ["hello", "again"]


@pytest.mark.parametrize("reply", ["silent", "connected"])
def test_disconnect_right_after_connect_without_wait(
    make_conn: Any, make_broker: Any, reply: str
) -> None:
    # CONNECTED may not have arrived yet: disconnect() must still leave nothing open.
    broker = make_broker(connect_reply=reply)
    conn = make_conn(broker)
    conn.connect()
    start = time.monotonic()
    conn.disconnect()
    assert time.monotonic() - start < 1.5
    assert not conn.is_connected()
    assert library_threads() == []
    assert broker.last.wait_peer_closed()


def test_with_block_after_connect_without_wait(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(connect_reply="silent")
    conn = make_conn(broker)
    with conn:
        conn.connect()
    assert library_threads() == []
    assert broker.last.wait_peer_closed()


def test_slow_on_connected_does_not_fail_connect(make_conn: Any, broker: Any) -> None:
    # connect(wait=True) waits for on_connected, but not past its timeout: CONNECTED did
    # arrive, so the connection stands.
    conn = make_conn(broker, timeout=0.5)
    release = threading.Event()

    class Slow:
        def on_connected(self, frame: Any) -> None:
            release.wait(3)

    conn.set_listener("a", Slow())
    start = time.monotonic()
    conn.connect(wait=True)
    assert 0.4 <= time.monotonic() - start < 1.5
    release.set()
    assert conn.is_connected()


@pytest.mark.parametrize("answer_receipts", [True, False])
def test_broker_closing_on_disconnect(
    make_conn: Any, make_broker: Any, answer_receipts: bool, caplog: pytest.LogCaptureFixture
) -> None:
    # RabbitMQ answers DISCONNECT and closes at once; the receipt may also be lost (1.2
    # "connection lingering").  Either way disconnect() returns promptly.
    broker = make_broker(close_on_disconnect=True, answer_receipts=answer_receipts)
    conn = _connected(make_conn, broker, timeout=2)
    log = EventLog()
    conn.set_listener("a", log)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="stomp.py"):
        conn.disconnect(receipt="r-bye")
    assert time.monotonic() - start < 1
    assert log.count("disconnected") == 1
    assert ("receipt" in log.names()) == answer_receipts
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert library_threads() == []


def test_custom_thread_factory(make_conn: Any, broker: Any) -> None:
    # override_threading: the factory may return something other than a Thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        conn = make_conn(broker)
        conn.transport.override_threading(pool.submit)
        log = EventLog()
        conn.set_listener("a", log)
        conn.connect(wait=True)
        broker.last.send_message(body="pooled")
        assert log.wait_for("message").body == "pooled"
        start = time.monotonic()
        conn.disconnect()
        assert time.monotonic() - start < 1
        assert conn.transport.io_thread.result(timeout=1) is None


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="Linux keep-alive options")
def test_keepalive_options_are_set(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker, keepalive=("linux", 11, 7, 3))
    sock = conn.transport.socket
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 11
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 7
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3


def test_keepalive_true(make_conn: Any, broker: Any) -> None:
    conn = _connected(make_conn, broker, keepalive=True)
    assert conn.transport.socket.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


def test_bad_keepalive_tuple_raises_and_leaves_nothing_open(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, keepalive=("linux", 1, 2))
    with pytest.raises(ValueError):
        conn.connect(wait=True)
    assert conn.transport.socket is None
    assert not conn.transport.running
    assert library_threads() == []


def test_read_size_grows_only_while_large_frames_arrive() -> None:
    # The rest of a large frame, and the frames after one, are read in larger pieces
    # (fewer reads); small frames, even in bursts that fill every read, are read
    # recv_bytes at a time, since a large read costs more when little is waiting.
    from stomp.transport import Transport

    class Socket:
        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks
            self.sizes: list[int] = []

        def recv(self, size: int) -> bytes:
            self.sizes.append(size)
            chunk = self.chunks.pop(0)
            assert len(chunk) <= size
            return chunk

    small = b"MESSAGE\n\n" + b"x" * 90 + b"\0"  # 100 bytes: ten fill a read
    head = b"MESSAGE\ncontent-length:10000\n\n"
    body = b"y" * 10000 + b"\0"
    rest = body[1000 - len(head) :]
    chunks = [small * 10, small * 10, head + body[: 1000 - len(head)], rest[:4000]]
    chunks += [rest[4000:8000], rest[8000:] + small[:50], small[50:] + small * 3, small * 10]
    # a small frame with a content-length, cut: 39 bytes (< recv_bytes / 16) to come -> stay
    little = b"MESSAGE\ncontent-length:100\n\n" + b"z" * 100 + b"\0"
    chunks += [little[:90], little[90:]]
    transport = Transport([("127.0.0.1", 1)], recv_bytes=1000)
    sock = Socket(chunks)
    transport.socket = sock  # type: ignore[assignment]
    bodies = []
    for _ in range(len(chunks)):
        data = transport.receive()
        assert data is not None
        bodies += [frame.body for frame in transport._decoder.feed(data)]
    # full reads of small frames -> stay; a large frame's head -> grow while more than
    # recv_bytes / 16 of it is to come (9031, 5031, 1031 bytes), and for the read after it
    # (its body was more than recv_bytes / 4) -> back after a small frame.
    assert sock.sizes == [1000, 1000, 1000, 4000, 4000, 4000, 4000, 1000, 1000, 1000]
    assert bodies == ["x" * 90] * 20 + ["y" * 10000] + ["x" * 90] * 14 + ["z" * 100]
