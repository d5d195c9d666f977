"""The send path against real brokers (RabbitMQ, ActiveMQ, RabbitMQ over WebSocket) and
the embedded one: frames from many threads on one connection arrive whole and in each
thread's order; a burst is all written before DISCONNECT, and at interpreter exit; a send
with a receipt and the frames before it are on their way when it returns (the broker's
receipt proves it); a write error closes the connection and the next call raises; and a
broker that stops reading (RabbitMQ under a memory alarm, ActiveMQ's producer flow
control) bounds the queue and the send."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.brokers import missing
from support.fakebroker import EventLog
from support.sending import fill_to_high_water

import stomp
from brokerinfo import ACTIVEMQ, EMBEDDED, RABBITMQ, RABBITMQ_WEB_STOMP, Broker
from stomp.exception import NotConnectedException, SendTimeoutException

WAIT = 20.0
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Target:
    """A broker and how to reach it: ``Connection12`` over TCP, or ``WSConnection``."""

    broker: Broker
    fixture: str
    websocket: bool = False

    def connection(self) -> Any:
        if self.websocket:
            return stomp.WSConnection(
                [self.broker.address], ws_path="/ws", vhost=self.broker.vhost, timeout=WAIT
            )
        return stomp.Connection12([self.broker.address], vhost=self.broker.vhost, timeout=WAIT)

    def source(self) -> str:
        """The same connection, as the code of a script."""
        cls = "WSConnection" if self.websocket else "Connection12"
        extra = ', ws_path="/ws"' if self.websocket else ""
        return f"stomp.{cls}([{self.broker.address!r}], vhost={self.broker.vhost!r}{extra})"


TARGETS = {
    "rabbitmq": Target(RABBITMQ, "rabbitmq_stomp"),
    "activemq": Target(ACTIVEMQ, "activemq_stomp"),
    "embedded": Target(EMBEDDED, "embedded_stomp"),
    "rabbitmq-ws": Target(RABBITMQ_WEB_STOMP, "rabbitmq_web_stomp", websocket=True),
}


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest) -> Target:
    chosen = TARGETS[request.param]
    request.getfixturevalue(chosen.fixture)  # skipped (or failed in CI) when it is down
    return chosen


class Bodies(stomp.ConnectionListener):
    """Collects message bodies; waits for a count."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.receipts: list[str] = []
        self._changed = threading.Condition()

    def on_message(self, frame: Any) -> None:
        with self._changed:
            self.bodies.append(frame.body)
            self._changed.notify_all()

    def on_receipt(self, frame: Any) -> None:
        with self._changed:
            self.receipts.append(frame.headers["receipt-id"])
            self._changed.notify_all()

    def wait_for(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.bodies) >= count, WAIT)

    def wait_receipt(self, receipt: str) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: receipt in self.receipts, WAIT)


@pytest.fixture
def connect(target: Target) -> Iterator[Any]:
    opened: list[Any] = []
    broker = target.broker

    def open_(listener: Any = None) -> Any:
        conn = target.connection()
        if listener is not None:
            conn.set_listener("bodies", listener)
        conn.connect(broker.login, broker.passcode, wait=True)
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.disconnect()


def _queue() -> str:
    return f"/queue/stompng-send-{uuid.uuid4().hex[:12]}"


def _consume(connect: Any, queue: str, count: int) -> list[str]:
    bodies = Bodies()
    consumer = connect(bodies)
    consumer.subscribe(queue, id=1)
    assert bodies.wait_for(count), f"{len(bodies.bodies)} of {count} messages arrived"
    return bodies.bodies


def test_eight_threads_on_one_connection_keep_their_order(connect: Any) -> None:
    queue, count = _queue(), 200
    producer = connect()

    def sender(n: int) -> None:
        for i in range(count):
            producer.send(queue, f"{n}:{i}")

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    producer.flush(WAIT)
    bodies = _consume(connect, queue, 8 * count)
    assert len(bodies) == 8 * count
    for n in range(8):
        assert [int(b.split(":")[1]) for b in bodies if b.startswith(f"{n}:")] == list(range(count))


def test_a_burst_is_all_written_before_disconnect(connect: Any) -> None:
    queue, count = _queue(), 3000
    producer = connect()
    for i in range(count):
        producer.send(queue, f"m{i}")
    producer.disconnect()  # (right away: the frames queued go first)
    assert _consume(connect, queue, count) == [f"m{i}" for i in range(count)]


def test_send_then_send_with_receipt_round(connect: Any) -> None:
    queue = _queue()
    listener = Bodies()
    producer = connect(listener)
    for round_ in range(20):
        producer.send(queue, f"a{round_}")
        producer.send(queue, f"b{round_}", receipt=f"r{round_}")
        assert listener.wait_receipt(f"r{round_}")
    assert _consume(connect, queue, 40) == [f"{x}{r}" for r in range(20) for x in "ab"]


def test_frames_queued_at_exit_are_written(target: Target, connect: Any, tmp_path: Path) -> None:
    queue, count = _queue(), 3000
    broker = target.broker
    script = tmp_path / "burst.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import stomp
            conn = {target.source()}
            conn.connect({broker.login!r}, {broker.passcode!r}, wait=True)
            for i in range({count}):
                conn.send({queue!r}, "m%d" % i)
            # no flush, no disconnect: the interpreter exits with frames queued
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert _consume(connect, queue, count) == [f"m{i}" for i in range(count)]


def test_a_write_error_closes_the_connection_and_the_next_call_raises(
    target: Target, connect: Any
) -> None:
    producer = connect()
    log = EventLog()
    producer.set_listener("log", log)
    transport = producer.transport
    sock = transport.socket.sock if target.websocket else transport.socket
    # Every later write fails (EPIPE); the broker, seeing the end of the stream, may close
    # the connection first, and then the send raises NotConnectedException: either way
    # the send fails, on_disconnected comes once and the next call raises.
    sock.shutdown(socket.SHUT_WR)
    with pytest.raises((OSError, NotConnectedException)):
        for i in range(1000):
            producer.send(_queue(), f"m{i}", receipt=f"r{i}")
    log.wait_for("disconnected", timeout=WAIT)
    with pytest.raises(NotConnectedException):
        producer.send(_queue(), "next")
    assert log.count("disconnected") == 1


# -- a broker that stops reading -----------------------------------------------------------


def _rabbitmqctl(*args: str) -> None:
    done = subprocess.run(
        [str(REPO / "scripts" / "brokers"), "rabbitmqctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        missing(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()[-300:]}")


@pytest.fixture(params=["rabbitmq", "activemq"])
def stalling(request: pytest.FixtureRequest) -> Iterator[tuple[Target, str, Any]]:
    """``(target, queue, stall)``: a broker, a queue, and ``stall()``, after which the
    broker stops reading from a connection that sends to that queue.

    RabbitMQ: ``stall()`` sets the memory high watermark to 0, which raises its memory
    alarm (cleared afterwards).  ActiveMQ: queues named ``stompng.flow.*`` have a 256 KiB
    memory limit with producer flow control (tests/broker-configs/activemq/activemq.xml);
    once it is full the broker stops reading by itself."""
    target = TARGETS[request.param]
    request.getfixturevalue(target.fixture)
    raised: list[bool] = []

    def stall() -> None:
        if request.param == "rabbitmq":
            raised.append(True)
            _rabbitmqctl("set_vm_memory_high_watermark", "0")

    queue = f"/queue/stompng.flow.{uuid.uuid4().hex[:12]}"
    yield target, queue, stall
    if raised:
        _rabbitmqctl("set_vm_memory_high_watermark", "0.4")  # (RabbitMQ's default, ours too)


def test_a_broker_that_stops_reading_bounds_the_queue_and_the_send(stalling: Any) -> None:
    target, queue, stall = stalling
    broker = target.broker
    conn = target.connection()
    log = EventLog()
    conn.set_listener("log", log)
    conn.connect(broker.login, broker.passcode, wait=True)
    transport = conn.transport
    transport.high_water = 256 * 1024
    transport.send_timeout = 3.0
    stall()
    peak, outcome = fill_to_high_water(conn, "x" * 65536, queue, timeout=WAIT * 3)
    assert len(outcome) == 2
    assert all(isinstance(e, (SendTimeoutException, NotConnectedException)) for e in outcome)
    assert any(isinstance(e, SendTimeoutException) for e in outcome)
    assert transport.high_water < peak <= transport.high_water + 65536 + 300
    log.wait_for("disconnected", timeout=WAIT)
    with pytest.raises(NotConnectedException):
        conn.send(queue, "next")
