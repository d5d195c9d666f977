"""Queues and topics: round-robin, fan-out, retention, headers passed on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import RawClient, barrier, new_receipt

from stomp.broker import Broker


def test_queue_round_robin_is_fair(client: Callable[..., Any], broker: Broker) -> None:
    consumers = []
    for n in range(3):
        connection, collector = client("1.2")
        connection.subscribe("/queue/work", id=f"c{n}")
        barrier(connection, collector)
        consumers.append(collector)
    producer, producer_events = client("1.2")
    for i in range(30):
        producer.send("/queue/work", f"job {i}")
    barrier(producer, producer_events)
    for n, collector in enumerate(consumers):
        # Strict rotation in subscription order: consumer n gets jobs n, n+3, n+6, ...
        messages = collector.wait_messages(10)
        assert [m.body for m in messages] == [f"job {i}" for i in range(n, 30, 3)]
    assert broker.pending("/queue/work") == 0


def test_queue_keeps_messages_until_a_subscriber_comes(
    client: Callable[..., Any], broker: Broker
) -> None:
    producer, events = client("1.1")
    for i in range(5):
        producer.send("/queue/later", f"m{i}")
    barrier(producer, events)
    producer.disconnect()
    assert broker.pending("/queue/later") == 5
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/later", id="late")
    assert [m.body for m in collector.wait_messages(5)] == [f"m{i}" for i in range(5)]
    assert broker.pending("/queue/later") == 0


def test_each_queue_message_goes_to_exactly_one_consumer(client: Callable[..., Any]) -> None:
    collectors = []
    for _ in range(4):
        connection, collector = client("1.2")
        connection.subscribe("/queue/once", id="s", ack="client-individual")
        barrier(connection, collector)
        collectors.append((connection, collector))
    producer, events = client("1.2")
    for i in range(200):
        producer.send("/queue/once", str(i))
    barrier(producer, events)
    for connection, collector in collectors:
        for message in collector.wait_messages(50):
            connection.ack(message.headers["ack"])
    bodies = sorted(int(b) for _, c in collectors for b in c.bodies())
    assert bodies == list(range(200))


def test_topic_fans_out_to_every_subscriber(client: Callable[..., Any]) -> None:
    subscribers = []
    for version in ("1.0", "1.1", "1.2"):
        connection, collector = client(version)
        connection.subscribe("/topic/news", id="news")
        barrier(connection, collector)
        subscribers.append(collector)
    publisher, events = client("1.2")
    for i in range(10):
        publisher.send("/topic/news", f"item {i}")
    barrier(publisher, events)
    for collector in subscribers:
        messages = collector.wait_messages(10)
        assert [m.body for m in messages] == [f"item {i}" for i in range(10)]
    ids = {m.headers["message-id"] for c in subscribers for m in c.messages}
    assert len(ids) == 10  # one message, one id, whatever the number of copies


def test_topic_keeps_nothing(client: Callable[..., Any], broker: Broker) -> None:
    publisher, events = client("1.2")
    publisher.send("/topic/gone", "before anyone listens")
    barrier(publisher, events)
    subscriber, collector = client("1.2")
    subscriber.subscribe("/topic/gone", id="1")
    barrier(subscriber, collector)
    publisher.send("/topic/gone", "after")
    assert [m.body for m in collector.wait_messages(1)] == ["after"]
    barrier(publisher, events)
    barrier(subscriber, collector)
    assert collector.bodies() == ["after"]
    assert broker.pending("/topic/gone") == 0


def test_unsubscribe_stops_delivery(client: Callable[..., Any], broker: Broker) -> None:
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/stop", id="s1")
    barrier(consumer, collector)
    receipt = new_receipt()
    consumer.unsubscribe("s1", receipt=receipt)
    collector.wait_receipt(receipt)
    producer, events = client("1.2")
    producer.send("/queue/stop", "kept")
    barrier(producer, events)
    assert broker.pending("/queue/stop") == 1
    assert collector.bodies() == []
    assert broker.subscriber_count("/queue/stop") == 0


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_message_headers(client: Callable[..., Any], version: str) -> None:
    consumer, collector = client(version)
    consumer.subscribe("/queue/headers", id="sub-7")
    barrier(consumer, collector)
    producer, _ = client("1.2")
    transaction = producer.begin()
    producer.send(
        "/queue/headers",
        "body",
        content_type="text/plain",
        headers={"reply-to": "/queue/replies", "x-user": "value", "persistent": "true"},
        receipt=new_receipt(),
        transaction=transaction,
    )
    producer.commit(transaction)
    (message,) = collector.wait_messages(1)
    headers = message.headers
    assert headers["destination"] == "/queue/headers"
    assert headers["subscription"] == "sub-7"
    assert headers["message-id"]
    assert headers["reply-to"] == "/queue/replies"
    assert headers["x-user"] == "value"
    assert headers["persistent"] == "true"
    assert headers["content-type"] == "text/plain"
    assert headers["content-length"] == "4"
    assert "receipt" not in headers
    assert "transaction" not in headers
    assert "redelivered" not in headers
    assert ("ack" in headers) is False  # auto subscription: no ack header


def test_ack_header_only_for_12_client_subscriptions(client: Callable[..., Any]) -> None:
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/a1", id="auto", ack="auto")
    consumer.subscribe("/queue/a2", id="client", ack="client")
    barrier(consumer, collector)
    consumer.send("/queue/a1", "x")
    consumer.send("/queue/a2", "y")
    messages = {m.headers["subscription"]: m for m in collector.wait_messages(2)}
    assert "ack" not in messages["auto"].headers
    ack = messages["client"].headers["ack"]
    assert ack and ack != messages["client"].headers["message-id"]


def test_repeated_header_first_wins(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    assert peer.request("SUBSCRIBE", {"destination": "/queue/rep", "id": "1"}).cmd == "RECEIPT"
    peer.send_raw(b"SEND\ndestination:/queue/rep\nx:first\nx:second\n\nbody\x00")
    message = peer.receive()
    assert message.cmd == "MESSAGE"
    assert message.headers["x"] == "first"


def test_10_subscription_without_id(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.0")
    assert peer.request("SUBSCRIBE", {"destination": "/queue/noid"}).cmd == "RECEIPT"
    peer.send("SEND", {"destination": "/queue/noid"}, b"hi")
    message = peer.receive()
    assert message.cmd == "MESSAGE" and message.body == b"hi"
    assert "subscription" not in message.headers
    # UNSUBSCRIBE by destination, as 1.0 allows.
    assert peer.request("UNSUBSCRIBE", {"destination": "/queue/noid"}).cmd == "RECEIPT"


def test_header_lost_to_a_10_subscriber_is_left_out(client: Callable[..., Any]) -> None:
    old, collector = client("1.0")
    old.subscribe("/queue/multiline", id="1")
    barrier(old, collector)
    new, _ = client("1.2")
    new.send("/queue/multiline", "x", headers={"note": "line 1\nline 2", "plain": "ok"})
    (message,) = collector.wait_messages(1)
    assert "note" not in message.headers  # a 1.0 header cannot hold a line end
    assert message.headers["plain"] == "ok"
