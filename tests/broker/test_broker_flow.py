"""Clients that do not read: bounded output per connection, nothing lost on queues."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import WAIT, RawClient, barrier

from stomp.broker import Broker

BODY = b"x" * 4096


@pytest.mark.slow
def test_a_stuck_queue_consumer_loses_nothing(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(high_water_bytes=256 * 1024)
    stuck = RawClient(broker.address)
    stuck.connect()
    stuck.send("SUBSCRIBE", {"destination": "/queue/flow", "id": "1", "ack": "client-individual"})
    assert stuck.request("SEND", {"destination": "/topic/sync"}, b"").cmd == "RECEIPT"
    reader, collector = client("1.2", target=broker, auto_decode=False)
    reader.subscribe("/queue/flow", id="1", ack="auto")
    barrier(reader, collector)
    producer, events = client("1.2", target=broker)
    count = 5000  # 20 MB: far more than the stuck consumer's socket and high-water mark
    for n in range(count):
        producer.send("/queue/flow", BODY, headers={"n": str(n)})
    barrier(producer, events)
    # The stuck consumer got what its socket buffers and the high-water mark hold; the
    # rest went to the reader.  Once it goes, what it held comes back.
    stuck.close()
    messages = collector.wait_messages(count, timeout=30)
    numbers = sorted(int(m.headers["n"]) for m in messages)
    assert numbers == list(range(count))
    redelivered = [m for m in messages if m.headers.get("redelivered") == "true"]
    assert 0 < len(redelivered) < count / 2, len(redelivered)  # the stuck one's share
    assert broker.pending("/queue/flow") == 0


@pytest.mark.slow
def test_a_slow_topic_consumer_is_closed(
    make_broker: Callable[..., Broker],
    client: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="stomp.py.broker")
    broker = make_broker(high_water_bytes=64 * 1024, max_pending_bytes=1024 * 1024, linger=0.5)
    stuck = RawClient(broker.address)
    try:
        stuck.connect()
        assert stuck.request("SUBSCRIBE", {"destination": "/topic/flood", "id": "1"}).cmd == (
            "RECEIPT"
        )
        publisher, events = client("1.2", target=broker)
        for _ in range(5000):  # 20 MB
            publisher.send("/topic/flood", BODY)
        barrier(publisher, events)
        assert stuck.wait_closed(timeout=WAIT * 2)
        assert "slow consumer" in caplog.text
        assert broker.subscriber_count("/topic/flood") == 0
    finally:
        stuck.close()
