"""The send path over WebSocket (``ws://`` and ``wss://``) against a loopback WebSocket
server: the same contract as over TCP (see tests/unit/test_send_path.py): messages batched
into few writes and in order, what is written before a call returns, everything queued
written before DISCONNECT and the closing handshake, write errors, and a server that stops
reading (bounded sends, disconnect and heart-beat timeouts that release a blocked sender).
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import pytest
from support.fakebroker import EventLog
from support.sending import fill_to_high_water, raised_in_thread, send_until_raised
from support.waiting import wait_until
from wsserver import OP_BINARY, OP_CLOSE, OP_TEXT, WAIT, WSPeer, WSServer, connected_frame

from stomp.adapter.ws import WSStompConnection
from stomp.exception import NotConnectedException, SendTimeoutException


class StompServer:
    """What the loopback server does for one client, on its own thread: the handshake,
    CONNECTED (with ``heartbeat``), then every message read and recorded, each ``receipt``
    answered, the client's CLOSE answered.  :meth:`stop_reading` makes it stop reading
    (the connection stays open, it neither reads nor writes); :meth:`go_silent` makes it
    stop answering."""

    def __init__(self, server: WSServer, heartbeat: str = "0,0") -> None:
        self.server = server
        self.heartbeat = heartbeat
        self.messages: list[tuple[int, bytes]] = []  # (opcode, payload) of data messages
        self.closes: list[bytes] = []  # payloads of the client's CLOSE frames
        self.peer: WSPeer | None = None
        self._reading = threading.Event()
        self._reading.set()
        self._silent = threading.Event()
        self._done = threading.Event()
        self._changed = threading.Condition()
        server.serve(self._script)

    def _script(self, peer: WSPeer) -> None:
        self.peer = peer
        peer.handshake()
        peer.recv_stomp()  # CONNECT
        peer.send_text(connected_frame("1.2", f"heart-beat:{self.heartbeat}\n"))
        try:
            while not self._done.is_set():
                if not self._reading.is_set():
                    self._done.wait(WAIT)  # neither reads nor writes, until the test ends
                    return
                try:
                    opcode, _, payload = peer.recv_frame()
                except TimeoutError:
                    continue
                if opcode == OP_CLOSE:
                    with self._changed:
                        self.closes.append(payload)
                        self._changed.notify_all()
                    peer.send_frame(OP_CLOSE, payload[:2])
                    return
                if opcode not in (OP_TEXT, OP_BINARY):
                    continue
                with self._changed:
                    self.messages.append((opcode, payload))
                    self._changed.notify_all()
                if b"\nreceipt:" in payload.split(b"\n\n", 1)[0] and not self._silent.is_set():
                    receipt = payload.split(b"\nreceipt:")[1].split(b"\n")[0]
                    peer.send_text(b"RECEIPT\nreceipt-id:" + receipt + b"\n\n\x00")
        except (EOFError, OSError):
            return  # the client went away

    def stop_reading(self) -> None:
        self._reading.clear()

    def go_silent(self) -> None:
        self._silent.set()

    def finish(self) -> None:
        """End the server's thread (it stops waiting) and check it raised nothing."""
        self._done.set()
        self.server.join()

    def frames(self, command: bytes) -> list[bytes]:
        """The STOMP frames received with that command."""
        return [p for _, p in self.messages if p.startswith(command + b"\n")]

    def wait_for(self, command: bytes, count: int = 1) -> list[bytes]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.frames(command)) >= count, WAIT), (
                f"{len(self.frames(command))} of {count} {command!r} frames"
            )
            return self.frames(command)


def body(frame: bytes) -> bytes:
    return frame.split(b"\n\n", 1)[1].rstrip(b"\x00")


@pytest.fixture(params=["ws", "wss"])
def open_link(request: Any) -> Any:
    """``open_link(heartbeat="0,0", **connection_options)``: a loopback WebSocket server
    (plain or TLS) and a connected connection to it."""
    made: list[tuple[WSStompConnection, StompServer, WSServer]] = []

    def open_(heartbeat: str = "0,0", **options: Any) -> tuple[WSStompConnection, StompServer]:
        tls: ssl.SSLContext | None = None
        if request.param == "wss":
            tls = request.getfixturevalue("server_tls")
        server = WSServer(tls=tls)
        stomp_server = StompServer(server, heartbeat)
        options.setdefault("timeout", WAIT)
        options.setdefault("reconnect_attempts_max", 1)
        conn = WSStompConnection([server.address], **options)
        if tls is not None:
            conn.set_ssl([server.address], verify=False)
        made.append((conn, stomp_server, server))
        conn.connect(wait=True)
        return conn, stomp_server

    yield open_
    for conn, stomp_server, server in made:
        conn.disconnect()
        stomp_server._done.set()
        server.close()


def test_eight_threads_messages_arrive_whole_and_in_each_threads_order(open_link) -> None:
    conn, server = open_link()
    count = 150
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
    bodies = [body(f).decode() for f in server.wait_for(b"SEND", 8 * count)]
    assert len(bodies) == 8 * count
    for n in range(8):
        assert [int(b.split(":")[1]) for b in bodies if b.startswith(f"{n}:")] == list(range(count))
    # One STOMP frame per WebSocket message, and the messages batched into few writes.
    assert all(opcode == OP_TEXT for opcode, _ in server.messages)
    assert len(writes) < 8 * count / 2


def test_a_frame_with_a_receipt_and_all_before_it_are_written_when_send_returns(
    open_link,
) -> None:
    conn, server = open_link()
    writer = conn.transport._writer

    def burst() -> None:
        for i in range(300):
            conn.send("/queue/a", f"m{i}")
        conn.send("/queue/a", "last", receipt="r-last")
        assert not writer.busy  # nothing left queued or under way: the OS has it all

    assert raised_in_thread(burst) == []
    frames = server.wait_for(b"SEND", 301)
    assert [body(f) for f in frames] == [b"m%d" % i for i in range(300)] + [b"last"]


def test_binary_bodies_go_as_binary_messages_in_turn_with_text_ones(open_link) -> None:
    conn, server = open_link()
    for i in range(200):
        conn.send("/queue/a", b"\xff\x00%d" % i if i % 2 else b"t%d" % i)
    conn.flush(WAIT)
    frames = server.wait_for(b"SEND", 200)
    assert [body(f) for f in frames] == [
        b"\xff\x00%d" % i if i % 2 else b"t%d" % i for i in range(200)
    ]
    assert [op for op, _ in server.messages[:200]] == [
        OP_BINARY if i % 2 else OP_TEXT for i in range(200)
    ]


def test_disconnect_writes_everything_queued_then_disconnect_then_close(open_link) -> None:
    conn, server = open_link()
    for i in range(1000):
        conn.send("/queue/a", f"m{i}")
    conn.disconnect()
    commands = [p.split(b"\n", 1)[0] for _, p in server.messages]
    assert commands == [b"SEND"] * 1000 + [b"DISCONNECT"]
    assert [body(f) for f in server.frames(b"SEND")] == [b"m%d" % i for i in range(1000)]
    assert server.closes == [b"\x03\xe8"]
    server.finish()


def test_a_write_error_closes_the_connection_and_the_next_call_raises(open_link) -> None:
    conn, _ = open_link()
    log = EventLog()
    conn.set_listener("log", log)

    def broken(data: bytes, progress: list[int]) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # as the socket's send would

    conn.transport._writer._write_all = broken
    start = time.monotonic()
    raised = raised_in_thread(lambda: conn.send("/queue/a", "lost"))
    assert len(raised) == 1 and isinstance(raised[0], BrokenPipeError)
    log.wait_for("disconnected")
    assert time.monotonic() - start < 1.5  # no closing handshake waited for
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "next")
    assert log.count("disconnected") == 1


# -- a server that stops reading -----------------------------------------------------------


def test_a_send_to_a_server_that_stopped_reading_times_out(open_link) -> None:
    conn, server = open_link()
    conn.transport.send_timeout = 0.5
    log = EventLog()
    conn.set_listener("log", log)
    server.stop_reading()
    start = time.monotonic()
    raised = send_until_raised(conn, "x" * 65536)
    assert len(raised) == 1
    assert isinstance(raised[0], (SendTimeoutException, NotConnectedException)), raised
    log.wait_for("disconnected")
    assert time.monotonic() - start < WAIT
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "next")


def test_disconnect_from_another_thread_releases_a_blocked_send(open_link) -> None:
    conn, server = open_link()  # the default send timeout: 30 s
    server.stop_reading()
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


def test_a_silent_server_is_reported_while_a_send_is_blocked(open_link) -> None:
    conn, server = open_link(heartbeat="500,500", heartbeats=(500, 500))
    log = EventLog()
    conn.set_listener("log", log)
    server.go_silent()
    server.stop_reading()
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
    conn, server = open_link()
    transport = conn.transport
    transport.high_water = 256 * 1024
    transport.send_timeout = 1.0
    server.stop_reading()
    peak, outcome = fill_to_high_water(conn, "x" * 65536)
    assert peak > transport.high_water  # (the queue did fill up to the mark)
    assert peak <= transport.high_water + 65536 + 300
    assert len(outcome) == 2
    assert all(isinstance(e, (SendTimeoutException, NotConnectedException)) for e in outcome)
