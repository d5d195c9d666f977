"""The send path of a real connection against the scripted broker: frames batched and in
order on the wire, what is written before a call returns, flush on disconnect and at
exit, write errors, and a broker that stops reading (bounded sends, disconnect and
heart-beat timeouts that release a blocked sender)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.fakebroker import EventLog
from support.sending import fill_to_high_water, raised_in_thread, send_until_raised
from support.waiting import WAIT, wait_until

from stomp.exception import NotConnectedException, SendTimeoutException

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["tcp", "tls"])
def open_link(request: Any, make_broker: Any, make_conn: Any) -> Any:
    """``open_link(broker_options=None, **connection_options)``: a scripted broker and a
    connected 1.2 connection to it, over plain TCP or TLS."""

    def open_(broker_options: dict[str, Any] | None = None, **options: Any) -> Any:
        broker_options = dict(broker_options or {})
        if request.param == "tls":
            broker_options["tls_context"] = request.getfixturevalue("server_tls")
        broker = make_broker(**broker_options)
        conn = make_conn(broker, "1.2", **options)
        if request.param == "tls":
            conn.set_ssl([broker.address], verify=False)
        conn.connect(wait=True)
        return conn, broker

    return open_


def test_eight_threads_frames_arrive_whole_and_in_each_threads_order(open_link) -> None:
    conn, broker = open_link()
    count = 200
    writer = conn.transport._writer
    write_all, writes = writer._write_all, []

    def counted(data: bytes, progress: list[int]) -> None:
        writes.append(len(data))
        write_all(data, progress)

    writer._write_all = counted

    def sender(n: int) -> None:
        for i in range(count):
            conn.send("/queue/a", f"{n}:{i}")

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    conn.flush(WAIT)
    broker.last.wait_for_frame("SEND", count=8 * count)
    bodies = [f.body.decode() for f in broker.last.frames if f.cmd == "SEND"]
    assert len(bodies) == 8 * count
    for n in range(8):
        assert [int(b.split(":")[1]) for b in bodies if b.startswith(f"{n}:")] == list(range(count))
    # Batched: far fewer writes than frames, and so far fewer reads at the broker.
    assert len(writes) < 8 * count / 2
    assert len(broker.last.chunks) < 8 * count / 2


def test_a_frame_with_a_receipt_and_all_before_it_are_written_when_send_returns(open_link) -> None:
    conn, broker = open_link()
    writer = conn.transport._writer

    def burst() -> None:
        for i in range(500):
            conn.send("/queue/a", f"m{i}")
        conn.send("/queue/a", "last", receipt="r-last")
        assert not writer.busy  # nothing left queued or under way: the OS has it all

    assert raised_in_thread(burst) == []
    conn.send("/queue/a", "from main", receipt="r-main")  # (the main thread too)
    assert not writer.busy
    broker.last.wait_for_frame("SEND", count=502)
    bodies = [f.body for f in broker.last.frames if f.cmd == "SEND"]
    assert bodies == [b"m%d" % i for i in range(500)] + [b"last", b"from main"]


def test_disconnect_writes_everything_queued_before_disconnect(open_link) -> None:
    conn, broker = open_link()
    for i in range(2000):
        conn.send("/queue/a", f"m{i}")  # the main thread: all through the writer thread
    conn.disconnect()
    commands = broker.last.commands()
    assert commands[-1] == "DISCONNECT"
    assert commands.count("SEND") == 2000


def test_frames_queued_at_exit_are_written(broker, tmp_path: Path) -> None:
    script = tmp_path / "burst.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import stomp
            conn = stomp.Connection12([("127.0.0.1", {broker.port})])
            conn.connect(wait=True)
            for i in range(3000):
                conn.send("/queue/a", "m%d" % i)
            # no flush, no disconnect: the interpreter exits with frames queued
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    broker.last.wait_for_frame("SEND", count=3000)
    bodies = [f.body for f in broker.last.frames if f.cmd == "SEND"]
    assert bodies == [b"m%d" % i for i in range(3000)]


def test_a_write_error_closes_the_connection_and_the_next_call_raises(open_link) -> None:
    conn, _ = open_link()
    log = EventLog()
    conn.set_listener("log", log)

    def broken(data: bytes, progress: list[int]) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # as the socket's send would

    conn.transport._writer._write_all = broken
    raised = raised_in_thread(lambda: conn.send("/queue/a", "lost"))
    assert len(raised) == 1 and isinstance(raised[0], BrokenPipeError)
    log.wait_for("disconnected")
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "next")
    assert log.count("disconnected") == 1


# -- a broker that stops reading ---------------------------------------------------------


def test_a_send_to_a_broker_that_stopped_reading_times_out(open_link) -> None:
    conn, broker = open_link()
    conn.transport.send_timeout = 0.5
    log = EventLog()
    conn.set_listener("log", log)
    broker.last.stop_reading()
    start = time.monotonic()
    raised = send_until_raised(conn, "x" * 65536)
    assert len(raised) == 1
    assert isinstance(raised[0], (SendTimeoutException, NotConnectedException)), raised
    assert time.monotonic() - start < WAIT
    log.wait_for("disconnected")
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "next")


def test_main_thread_sends_to_a_broker_that_stopped_reading_are_bounded(open_link) -> None:
    conn, broker = open_link()
    conn.transport.send_timeout = 0.5
    broker.last.stop_reading()
    start = time.monotonic()
    with pytest.raises((SendTimeoutException, NotConnectedException)):
        while True:
            conn.send("/queue/a", "x" * 65536)
    assert time.monotonic() - start < WAIT


def test_disconnect_from_another_thread_releases_a_blocked_send(open_link) -> None:
    conn, broker = open_link()  # the default send timeout: 30 s
    broker.last.stop_reading()
    outcome: list[BaseException] = []
    blocked = threading.Thread(
        target=lambda: outcome.extend(send_until_raised(conn, "x" * 65536)), name="filler"
    )
    blocked.start()
    assert wait_until(lambda: conn.transport.write_stalled(), WAIT)
    start = time.monotonic()
    conn.disconnect()
    blocked.join(WAIT)
    assert not blocked.is_alive()
    assert time.monotonic() - start < 2.5
    assert len(outcome) == 1 and isinstance(outcome[0], (NotConnectedException, OSError))


def test_a_silent_broker_is_reported_while_a_send_is_blocked(open_link) -> None:
    conn, broker = open_link({"heartbeat": "500,500"}, heartbeats=(500, 500))
    log = EventLog()
    conn.set_listener("log", log)
    broker.last.go_silent()
    broker.last.stop_reading()
    outcome: list[BaseException] = []
    blocked = threading.Thread(
        target=lambda: outcome.extend(send_until_raised(conn, "x" * 65536)), name="filler"
    )
    blocked.start()
    log.wait_for("heartbeat_timeout", timeout=WAIT)
    log.wait_for("disconnected")
    blocked.join(WAIT)
    assert not blocked.is_alive()
    assert len(outcome) == 1


def test_queued_bytes_stay_below_the_high_water_mark_then_the_send_times_out(open_link) -> None:
    conn, broker = open_link()
    transport = conn.transport
    transport.high_water = 256 * 1024
    transport.send_timeout = 1.0
    broker.last.stop_reading()
    peak, outcome = fill_to_high_water(conn, "x" * 65536)
    assert peak > transport.high_water  # (the queue did fill up to the mark)
    assert peak <= transport.high_water + 65536 + 200
    assert len(outcome) == 2
    assert all(isinstance(e, (SendTimeoutException, NotConnectedException)) for e in outcome)
