"""Load: 200 concurrent clients on loopback exchange 100,000 messages, none lost or
duplicated, within a bounded time."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import stomp
from stomp.broker import Broker

CLIENTS = 200
MESSAGES_PER_CLIENT = 500  # 100,000 in all
QUEUES = 20  # each shared by 10 competing consumers
SENDER_THREADS = 8
DEADLINE = 60.0  # seconds for the whole exchange


class Counter(stomp.ConnectionListener):
    """Counts what every connection receives, acknowledging each message."""

    def __init__(self, connection: Any, totals: Totals) -> None:
        self.connection = connection
        self.totals = totals

    def on_message(self, frame: Any) -> None:
        self.connection.ack(frame.headers["ack"])
        self.totals.add(frame.body, frame.headers.get("redelivered") == "true")

    def on_error(self, frame: Any) -> None:
        self.totals.error(frame.headers.get("message", "?"))


class Totals:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen: collections.Counter[str] = collections.Counter()
        self.count = 0
        self.redelivered = 0
        self.errors: list[str] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def add(self, body: str, redelivered: bool) -> None:
        with self._lock:
            self.seen[body] += 1
            self.count += 1
            self.redelivered += redelivered
            if self.count >= self.expected:
                self.done.set()

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)
        self.done.set()


@pytest.fixture
def connections(broker: Broker) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for connection in made:
        connection.disconnect()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_200_clients_exchange_100000_messages(broker: Broker, connections: list[Any]) -> None:
    total = CLIENTS * MESSAGES_PER_CLIENT
    totals = Totals(total)
    start = time.monotonic()
    for n in range(CLIENTS):
        connection = stomp.Connection12([broker.address], timeout=30)
        connection.set_listener("counter", Counter(connection, totals))
        connection.connect(wait=True)
        connections.append(connection)
        connection.subscribe(f"/queue/load.{n % QUEUES}", id="s", ack="client-individual")
    assert broker.connection_count == CLIENTS
    connected = time.monotonic()

    def send(indexes: range) -> None:
        for seq in range(MESSAGES_PER_CLIENT):
            for n in indexes:
                connections[n].send(f"/queue/load.{(n + seq) % QUEUES}", f"{n}-{seq}")

    senders = [
        threading.Thread(target=send, args=(range(k, CLIENTS, SENDER_THREADS),), name=f"sender-{k}")
        for k in range(SENDER_THREADS)
    ]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join(DEADLINE)
    sent = time.monotonic()
    assert not any(thread.is_alive() for thread in senders), "sending took too long"

    assert totals.done.wait(max(0.0, DEADLINE - (sent - start))), (
        f"{totals.count} of {total} messages arrived within {DEADLINE} s"
    )
    received = time.monotonic()
    assert totals.errors == []
    assert totals.count == total
    duplicates = [body for body, times in totals.seen.items() if times > 1]
    assert duplicates == []
    expected = {f"{n}-{seq}" for n in range(CLIENTS) for seq in range(MESSAGES_PER_CLIENT)}
    assert set(totals.seen) == expected
    assert totals.redelivered == 0
    for q in range(QUEUES):
        assert broker.pending(f"/queue/load.{q}") == 0
    print(
        f"\n{CLIENTS} clients: connected in {connected - start:.1f} s, "
        f"{total} messages sent in {sent - connected:.1f} s, "
        f"all received and acknowledged after {received - connected:.1f} s "
        f"({total / (received - connected):.0f} msg/s)"
    )
