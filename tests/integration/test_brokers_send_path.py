"""The send path against RabbitMQ and ActiveMQ: frames from many threads on one
connection arrive whole and in each thread's order; a burst is all written before
DISCONNECT; a send with a receipt and the frames before it are on their way when it
returns (the broker's receipt proves it)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import stomp
from brokerinfo import ACTIVEMQ, RABBITMQ, Broker

WAIT = 20.0

BROKERS = {"rabbitmq": (RABBITMQ, "rabbitmq_stomp"), "activemq": (ACTIVEMQ, "activemq_stomp")}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    target, fixture = BROKERS[request.param]
    request.getfixturevalue(fixture)  # skipped (or failed in CI) when it is down
    return target


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
def connect(broker: Broker) -> Iterator[Any]:
    opened: list[Any] = []

    def open_(listener: Any = None) -> Any:
        conn = stomp.Connection12([broker.address], vhost=broker.vhost, timeout=WAIT)
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
