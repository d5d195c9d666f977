"""Heart-beats against the fake broker: negotiation, sending on time, timeouts (over TCP
and TLS), slow listeners, reconnecting from ``on_disconnected``, threads."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from support.fakebroker import EventLog, library_threads, wait_until

# Small intervals keep the tests quick: a 200 ms rate and the default 1.5 scale give a
# 300 ms receive timeout.
RATE = 200
TIMEOUT = RATE / 1000 * 1.5
MARGIN = 0.5  # scheduling slack allowed on top of a deadline


def _heartbeat_threads() -> list[threading.Thread]:
    return [t for t in library_threads() if t.name.startswith("StompHeartbeat")]


# -- negotiation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client", "server", "negotiated"),
    [
        ((10000, 5000), "2000,15000", (15000, 5000)),  # the example of the spec
        ((30000, 0), "0,20000", (30000, 0)),
        ((0, 30000), "20000,0", (0, 30000)),
        ((30000, 30000), "0,0", (0, 0)),
        ((0, 0), "20000,20000", (0, 0)),
        ((30000, 30000), "00, 40000", (40000, 0)),  # zero as a number, spaces ignored
    ],
)
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_negotiation(
    make_conn: Any,
    make_broker: Any,
    version: str,
    client: tuple[int, int],
    server: str,
    negotiated: tuple[int, int],
) -> None:
    broker = make_broker(heartbeat=server)
    conn = make_conn(broker, version, heartbeats=client)
    conn.connect(wait=True)
    sent = broker.last.frames[0].headers.get("heart-beat")
    assert sent == (None if client == (0, 0) else f"{client[0]},{client[1]}")
    assert conn.heartbeats == negotiated
    assert conn.send_sleep == negotiated[0] / 1000
    assert conn.receive_sleep == pytest.approx(negotiated[1] / 1000 * 1.5)
    assert (conn.heartbeat_thread is not None) == (negotiated != (0, 0))
    assert conn.running == (negotiated != (0, 0))
    conn.disconnect()
    assert conn.heartbeat_thread is None
    assert not _heartbeat_threads()


def test_no_header_in_connected_keeps_the_request(make_conn: Any, broker: Any) -> None:
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    conn.connect(wait=True)
    assert conn.heartbeats == (RATE, RATE)
    assert conn.heartbeat_thread is None


def test_malformed_server_header_means_none(
    make_conn: Any, make_broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broker = make_broker(heartbeat="fast,please")
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    with caplog.at_level(logging.WARNING, logger="stomp.py"):
        conn.connect(wait=True)
    assert conn.heartbeats == (0, 0)
    assert conn.heartbeat_thread is None
    assert "malformed heart-beat" in caplog.text


def test_reconnect_requests_the_original_values(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat="0,30000")
    conn = make_conn(broker, "1.2", heartbeats=(10000, 20000))
    conn.connect(wait=True)
    assert conn.heartbeats == (30000, 0)
    conn.disconnect()
    conn.connect(wait=True)
    assert broker.wait_for_connection(1).frames[0].headers["heart-beat"] == "10000,20000"


def test_scale_applies_to_the_receive_timeout(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat="1000,0")
    conn = make_conn(broker, "1.2", heartbeats=(0, 2000), heart_beat_receive_scale=2.5)
    conn.connect(wait=True)
    assert conn.receive_sleep == pytest.approx(5.0)


# -- sending ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_heartbeats_are_sent_on_time(make_conn: Any, make_broker: Any, version: str) -> None:
    broker = make_broker(heartbeat=f"0,{RATE}")
    conn = make_conn(broker, version, heartbeats=(RATE, 0))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = broker.last
    connected_at = server.records[0].time
    beats = server.wait_for_heartbeats(5, timeout=3)[:5]
    gaps = [b - a for a, b in zip([connected_at, *beats[:-1]], beats, strict=True)]
    assert all(0.15 <= gap <= 0.2 + 0.15 for gap in gaps), gaps
    assert server.raw.endswith(b"\n")
    heartbeats_seen = [f for n, f in log.events if n == "send" and f.cmd is None]
    assert heartbeats_seen and heartbeats_seen[0].headers == {} and heartbeats_seen[0].body is None


@pytest.mark.slow
def test_frames_postpone_client_heartbeats(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat="0,300")
    conn = make_conn(broker, "1.2", heartbeats=(300, 0))
    conn.connect(wait=True)
    server = broker.last
    end = time.monotonic() + 0.9
    while time.monotonic() < end:  # a frame every 100 ms: no heart-beat is needed
        conn.send("/queue/a", "x")
        time.sleep(0.1)
    assert server.heartbeats == []
    server.wait_for_heartbeats(1, timeout=1)


def test_no_heartbeats_on_1_0(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},{RATE}")
    conn = make_conn(broker, "1.0")
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    time.sleep(3 * RATE / 1000)  # the test is about nothing happening
    assert broker.last.heartbeats == []
    assert not _heartbeat_threads()
    assert not hasattr(conn, "heartbeats")
    assert conn.is_connected()


def test_server_heartbeats_reach_on_heartbeat(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},0")
    conn = make_conn(broker, "1.2", heartbeats=(0, RATE))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    log.wait_for("heartbeat", 3, timeout=3)
    assert conn.is_connected()
    assert "heartbeat_timeout" not in log.names()


# -- timeouts --------------------------------------------------------------------------------


def _silence_and_time_out(conn: Any, broker: Any, log: EventLog) -> float:
    server = broker.last
    log.wait_for("heartbeat", 2, timeout=3)  # heart-beats flow before the silence
    server.go_silent()
    silent_since = time.monotonic()
    log.wait_for("heartbeat_timeout", timeout=TIMEOUT + 3)
    elapsed = time.monotonic() - silent_since
    log.wait_for("disconnected")
    assert server.wait_peer_closed()
    return elapsed


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_silent_server_times_out(
    make_conn: Any,
    make_broker: Any,
    tls: bool,
    request: pytest.FixtureRequest,
) -> None:
    broker_options: dict[str, Any] = {"heartbeat": f"{RATE},{RATE}"}
    if tls:
        broker_options["tls_context"] = request.getfixturevalue("server_tls")
    broker = make_broker(**broker_options)
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    if tls:
        conn.set_ssl([broker.address], ca_certs=request.getfixturevalue("ca_file"))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    elapsed = _silence_and_time_out(conn, broker, log)
    # The last heart-beat arrived at most RATE before the silence began.
    assert TIMEOUT - RATE / 1000 - 0.05 <= elapsed <= TIMEOUT + MARGIN, elapsed
    names = [n for n in log.names() if n in ("heartbeat_timeout", "disconnected")]
    assert names == ["heartbeat_timeout", "disconnected"]
    assert log.threads["heartbeat_timeout"].startswith("StompHeartbeat")
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2), library_threads()


def test_silent_from_the_start_times_out(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},0")
    conn = make_conn(broker, "1.2", heartbeats=(0, RATE))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    broker.last.go_silent()
    start = time.monotonic()
    log.wait_for("heartbeat_timeout", timeout=TIMEOUT + 3)
    assert time.monotonic() - start <= TIMEOUT + MARGIN


@pytest.mark.slow
def test_slow_listener_is_not_a_dead_broker(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},0")
    conn = make_conn(broker, "1.2", heartbeats=(0, RATE))

    class Slow(EventLog):
        def on_message(self, frame: Any) -> None:
            time.sleep(2 * TIMEOUT)
            super().on_message(frame)

    log = Slow()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = broker.last
    server.send_message(body="slow-1")
    server.send_message(body="slow-2")
    log.wait_for("message", 2, timeout=5)
    log.wait_for("heartbeat", 2)  # the heart-beats queued meanwhile are then read
    assert "heartbeat_timeout" not in log.names()
    assert "disconnected" not in log.names()
    assert conn.is_connected()


def test_slow_listener_over_tls(
    make_conn: Any, make_broker: Any, server_tls: Any, ca_file: str
) -> None:
    broker = make_broker(heartbeat=f"{RATE},0", tls_context=server_tls)
    conn = make_conn(broker, "1.2", heartbeats=(0, RATE))
    conn.set_ssl([broker.address], ca_certs=ca_file)

    class Slow(EventLog):
        def on_message(self, frame: Any) -> None:
            time.sleep(2 * TIMEOUT)
            super().on_message(frame)

    log = Slow()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    broker.last.send_message(body="slow")
    log.wait_for("message", timeout=5)
    log.wait_for("heartbeat", 2)
    assert "heartbeat_timeout" not in log.names()
    assert conn.is_connected()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a-listener", "zzz-listener"])
def test_heartbeats_after_reconnecting_from_on_disconnected(
    make_conn: Any, make_broker: Any, name: str
) -> None:
    # Listener names sorting before and after "protocol-listener": neither the order of
    # on_disconnected calls nor the thread they run on may stop the new connection's
    # heart-beats.
    broker = make_broker(heartbeat=f"{RATE},{RATE}")
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    reconnected = threading.Event()

    class Reconnector(EventLog):
        def on_disconnected(self) -> None:
            super().on_disconnected()
            if self.count("disconnected") == 1:
                conn.connect(wait=True)
                reconnected.set()

    log = Reconnector()
    conn.set_listener(name, log)
    conn.connect(wait=True)
    _silence_and_time_out(conn, broker, log)
    assert reconnected.wait(5)
    second = broker.wait_for_connection(1)
    second.wait_for_heartbeats(3, timeout=3)  # the client beats on the new connection
    assert conn.heartbeat_thread is not None and conn.heartbeat_thread.is_alive()
    # ... and watches it: a second silence is detected too.
    second.go_silent()
    log.wait_for("heartbeat_timeout", 2, timeout=TIMEOUT + 3)
    log.wait_for("disconnected", 2)
    assert second.wait_peer_closed()
    assert wait_until(lambda: not _heartbeat_threads(), 2)


@pytest.mark.slow
def test_reconnect_after_timeout_from_the_caller(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},{RATE}")
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    _silence_and_time_out(conn, broker, log)
    conn.connect(wait=True)
    broker.wait_for_connection(1).wait_for_heartbeats(2, timeout=3)
    assert len(_heartbeat_threads()) == 1


def test_no_heartbeat_thread_after_disconnect(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},{RATE}")
    conn = make_conn(broker, "1.1", heartbeats=(RATE, RATE))
    conn.connect(wait=True)
    thread = conn.heartbeat_thread
    assert thread is not None and thread.is_alive()
    conn.disconnect()
    assert not thread.is_alive()
    assert conn.heartbeat_thread is None
    assert library_threads() == []
    assert not conn.running


def test_heartbeats_stop_when_the_broker_closes(make_conn: Any, make_broker: Any) -> None:
    broker = make_broker(heartbeat=f"{RATE},{RATE}")
    conn = make_conn(broker, "1.2", heartbeats=(RATE, RATE))
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    broker.last.close()
    log.wait_for("disconnected")
    assert wait_until(lambda: not library_threads(), 2)
    assert "heartbeat_timeout" not in log.names()


@pytest.fixture
def high_fds() -> Any:
    """Occupy file descriptors so that the next sockets get numbers above 1024 (beyond
    what select() can watch)."""
    import os

    fds: list[int] = []
    try:
        while len(fds) < 1100:
            fds.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        for fd in fds:
            os.close(fd)
        pytest.skip("cannot open 1100 file descriptors")
    yield
    for fd in fds:
        os.close(fd)


@pytest.mark.slow
def test_slow_listener_with_a_high_socket_number(
    make_conn: Any, make_broker: Any, high_fds: None
) -> None:
    broker = make_broker(heartbeat=f"{RATE},0")
    conn = make_conn(broker, "1.2", heartbeats=(0, RATE))

    class Slow(EventLog):
        def on_message(self, frame: Any) -> None:
            time.sleep(2 * TIMEOUT)
            super().on_message(frame)

    log = Slow()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    assert conn.transport.socket.fileno() > 1024
    broker.last.send_message(body="slow")
    log.wait_for("message", timeout=5)
    log.wait_for("heartbeat", 2)
    assert "heartbeat_timeout" not in log.names()
    assert conn.is_connected()
