"""The pull API (``conn.subscription()``) against RabbitMQ, ActiveMQ and the embedded
broker, on STOMP 1.0, 1.1 and 1.2 where it applies: messages taken with ``get`` and by
iterating, acknowledged and refused, prefetch bounding what the broker sends ahead,
leaving the block unsubscribing (unacknowledged messages redelivered), listeners beside
it, and a subscription carrying on across a reconnection."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from support.recording import Collector
from support.tcpproxy import TcpProxy

import stomp
from brokerinfo import ACTIVEMQ, EMBEDDED, RABBITMQ
from stomp.exception import NotConnectedException, StaleAckException

WAIT = 20.0
BROKERS = {
    "rabbitmq": (RABBITMQ, "rabbitmq_stomp"),
    "activemq": (ACTIVEMQ, "activemq_stomp"),
    "embedded": (EMBEDDED, "embedded_stomp"),
}
CONNECTIONS = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Any:
    info, fixture = BROKERS[request.param]
    request.getfixturevalue(fixture)  # skipped (or failed in CI) when it is down
    return info


def _connect(info: Any, version: str = "1.2", **options: Any) -> Any:
    cls = CONNECTIONS[version]
    if version != "1.0":
        options["vhost"] = info.vhost
    conn = cls([info.address], timeout=WAIT, **options)
    conn.connect(info.login, info.passcode, wait=True)
    return conn


def _queue() -> str:
    return f"/queue/stompng-pull-{uuid.uuid4().hex[:12]}"


def _send(conn: Any, queue: str, count: int) -> None:
    for n in range(count):
        conn.send(queue, f"m{n}", headers={"n": str(n)})
    receipt = f"sent-{uuid.uuid4().hex[:8]}"
    collector = Collector()
    conn.set_listener("sync", collector)
    conn.send("/topic/stompng-sync", "", receipt=receipt)
    collector.wait_receipt(receipt)
    conn.remove_listener("sync")


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_get_ack_and_leaving_the_block(broker: Any, version: str) -> None:
    queue = _queue()
    conn = _connect(broker, version)
    try:
        _send(conn, queue, 6)
        with conn.subscription(queue, prefetch=10) as jobs:
            got = [jobs.get(timeout=WAIT) for _ in range(4)]
            assert [m.body for m in got] == ["m0", "m1", "m2", "m3"]
            for message in got:
                message.ack()
            assert jobs.buffered <= 2
        assert conn.get_listener(f"stomp-ng-pull-{jobs.id}") is None and jobs.closed
    finally:
        conn.disconnect()
    # m4 and m5 were delivered but not acknowledged: the broker has them again (ActiveMQ
    # and the embedded broker at UNSUBSCRIBE; RabbitMQ once the connection is gone).
    conn = _connect(broker, version)
    try:
        with conn.subscription(queue) as again:
            rest = sorted(again.get(timeout=WAIT).body for _ in range(2))
        assert rest == ["m4", "m5"]
    finally:
        conn.disconnect()


def test_iterating_nack_and_listeners_beside_it(broker: Any) -> None:
    queue = _queue()
    conn = _connect(broker)
    beside = Collector()
    conn.set_listener("beside", beside)
    try:
        _send(conn, queue, 3)
        taken = []
        # A refused message: RabbitMQ and the embedded broker deliver it again, ActiveMQ
        # sends it to its dead-letter queue (ActiveMQ.DLQ).
        expected = ["m0", "m1", "m2"] if broker is ACTIVEMQ else ["m0", "m1", "m1", "m2"]
        with conn.subscription(queue) as jobs:
            for message in jobs:
                taken.append(message.body)
                if message.body == "m1" and message.headers.get("redelivered") != "true":
                    message.nack()
                else:
                    message.ack()
                if len(taken) == len(expected):
                    break
            with pytest.raises(TimeoutError):
                jobs.get(timeout=0.5)  # nothing more
        assert sorted(taken) == expected
        assert len(beside.wait_messages(len(expected), timeout=WAIT)) == len(expected)
    finally:
        conn.disconnect()


def test_prefetch_bounds_what_the_broker_sends_ahead(broker: Any) -> None:
    queue = _queue()
    conn = _connect(broker)
    try:
        _send(conn, queue, 20)
        with conn.subscription(queue, prefetch=5) as jobs:
            first = jobs.get(timeout=WAIT)
            # Nothing acknowledged: the broker holds the other 15 back.
            probe = Collector()
            conn.set_listener("probe", probe)
            conn.send("/topic/stompng-sync", "", receipt="probe")
            probe.wait_receipt("probe")
            assert jobs.buffered + 1 <= 5
            first.ack()
            bodies = {first.body}
            while len(bodies) < 20:
                message = jobs.get(timeout=WAIT)
                bodies.add(message.body)
                message.ack()
        assert bodies == {f"m{n}" for n in range(20)}
    finally:
        conn.disconnect()


def test_disconnect_ends_an_iteration_waiting_in_another_thread(broker: Any) -> None:
    conn = _connect(broker)
    jobs = conn.subscription(_queue())
    with pytest.raises(TimeoutError):
        jobs.get(timeout=0.2)  # (an empty queue)
    ended = threading.Event()

    def consume() -> None:
        for _ in jobs:
            pass
        ended.set()

    thread = threading.Thread(target=consume)
    thread.start()
    conn.disconnect()
    assert ended.wait(WAIT)
    thread.join(WAIT)
    assert jobs.closed
    with pytest.raises(NotConnectedException):
        jobs.get(timeout=0.1)


def test_a_subscription_carries_on_across_a_reconnection(broker: Any) -> None:
    queue = _queue()
    with TcpProxy(broker.address) as proxy:
        conn = stomp.Connection12(
            [proxy.address], vhost=broker.vhost, timeout=WAIT, auto_reconnect=True
        )
        conn.connect(broker.login, broker.passcode, wait=True)
        try:
            with conn.subscription(queue, prefetch=50) as jobs:
                _send(conn, queue, 3)
                kept = jobs.get(timeout=WAIT)
                assert kept.body == "m0"
                kept.ack()
                assert proxy.cut() == 1
                # m1 and m2 come again (or for the first time) on the new connection (m0
                # too, if its ACK was lost with the link)
                bodies: set[str] = set()
                while not {"m1", "m2"} <= bodies:
                    message = jobs.get(timeout=WAIT)
                    try:
                        message.ack()
                    except (NotConnectedException, StaleAckException, OSError):
                        continue  # taken as the link broke: it comes again
                    bodies.add(message.body)
                assert not jobs.closed
        finally:
            conn.disconnect()
