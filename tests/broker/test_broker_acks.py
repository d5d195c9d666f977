"""Ack modes, redelivery of unacknowledged messages, NACK, prefetch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import Collector, RawClient, ack_args, barrier, new_receipt

from stomp.broker import Broker

VERSIONS = ["1.0", "1.1", "1.2"]


def _fill(client: Callable[..., Any], destination: str, count: int) -> None:
    producer, events = client("1.2")
    for i in range(count):
        producer.send(destination, f"m{i}")
    barrier(producer, events)
    producer.disconnect()


def _ack(connection: Any, version: str, frame: Any, receipt: str | None = None) -> None:
    connection.ack(*ack_args(version, frame), receipt=receipt)


def _acked(connection: Any, collector: Collector, version: str, frame: Any) -> None:
    receipt = new_receipt()
    _ack(connection, version, frame, receipt)
    collector.wait_receipt(receipt)


def test_auto_ack_consumes_on_delivery(client: Callable[..., Any], broker: Broker) -> None:
    _fill(client, "/queue/auto", 3)
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/auto", id="1", ack="auto")
    collector.wait_messages(3)
    consumer.disconnect()
    assert broker.pending("/queue/auto") == 0  # nothing came back


@pytest.mark.parametrize("version", VERSIONS)
def test_client_ack_is_cumulative(client: Callable[..., Any], broker: Broker, version: str) -> None:
    _fill(client, "/queue/cumulative", 4)
    consumer, collector = client(version)
    consumer.subscribe("/queue/cumulative", id="1", ack="client")
    messages = collector.wait_messages(4)
    _acked(consumer, collector, version, messages[2])  # covers m0, m1 and m2
    consumer.disconnect()
    assert broker.pending("/queue/cumulative") == 1
    other, others = client("1.2")
    other.subscribe("/queue/cumulative", id="2")
    (again,) = others.wait_messages(1)
    assert again.body == "m3"
    assert again.headers["redelivered"] == "true"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_individual_ack_is_per_message(
    client: Callable[..., Any], broker: Broker, version: str
) -> None:
    _fill(client, "/queue/individual", 3)
    consumer, collector = client(version)
    consumer.subscribe("/queue/individual", id="1", ack="client-individual")
    messages = collector.wait_messages(3)
    _acked(consumer, collector, version, messages[1])
    consumer.disconnect()
    assert broker.pending("/queue/individual") == 2
    other, others = client("1.2")
    other.subscribe("/queue/individual", id="2")
    assert [m.body for m in others.wait_messages(2)] == ["m0", "m2"]


@pytest.mark.parametrize("version", VERSIONS)
def test_unacked_messages_are_redelivered_after_disconnect(
    client: Callable[..., Any], version: str
) -> None:
    _fill(client, "/queue/redeliver", 3)
    consumer, collector = client(version)
    consumer.subscribe("/queue/redeliver", id="1", ack="client")
    collector.wait_messages(3)
    other, others = client("1.2")
    other.subscribe("/queue/redeliver", id="2", ack="auto")
    barrier(other, others)
    assert others.bodies() == []  # all three are held by the first consumer
    consumer.disconnect()
    messages = others.wait_messages(3)
    assert [m.body for m in messages] == ["m0", "m1", "m2"]  # original order
    assert all(m.headers["redelivered"] == "true" for m in messages)


def test_unacked_messages_are_redelivered_when_the_socket_drops(
    raw: Callable[..., RawClient], client: Callable[..., Any]
) -> None:
    _fill(client, "/queue/dropped", 2)
    peer = raw("1.2")
    peer.send("SUBSCRIBE", {"destination": "/queue/dropped", "id": "1", "ack": "client"})
    assert [peer.receive().body for _ in range(2)] == [b"m0", b"m1"]
    other, others = client("1.2")
    other.subscribe("/queue/dropped", id="2")
    barrier(other, others)
    peer.close()  # no DISCONNECT, no ACK
    assert [m.body for m in others.wait_messages(2)] == ["m0", "m1"]


@pytest.mark.parametrize("version", VERSIONS)
def test_unacked_messages_are_redelivered_on_unsubscribe(
    client: Callable[..., Any], version: str
) -> None:
    _fill(client, "/queue/unsub", 2)
    consumer, collector = client(version)
    consumer.subscribe("/queue/unsub", id="1", ack="client")
    collector.wait_messages(2)
    other, others = client("1.2")
    other.subscribe("/queue/unsub", id="2")
    barrier(other, others)
    consumer.unsubscribe(id="1")
    messages = others.wait_messages(2)
    assert [m.body for m in messages] == ["m0", "m1"]
    assert all(m.headers["redelivered"] == "true" for m in messages)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_nack_requeues_the_message(client: Callable[..., Any], version: str) -> None:
    _fill(client, "/queue/nack", 2)
    consumer, collector = client(version)
    consumer.subscribe("/queue/nack", id="1", ack="client-individual")
    first, second = collector.wait_messages(2)
    consumer.nack(*ack_args(version, first))
    messages = collector.wait_messages(3)
    again = messages[2]
    assert again.body == "m0"
    assert again.headers["redelivered"] == "true"
    assert again.headers["message-id"] == first.headers["message-id"]
    if version == "1.2":
        assert again.headers["ack"] != first.headers["ack"]  # a new delivery, a new ack id
    _acked(consumer, collector, version, again)
    _acked(consumer, collector, version, second)


def test_nack_goes_to_the_next_consumer(client: Callable[..., Any]) -> None:
    first, firsts = client("1.2")
    first.subscribe("/queue/nack2", id="1", ack="client-individual")
    barrier(first, firsts)
    second, seconds = client("1.2")
    second.subscribe("/queue/nack2", id="2", ack="client-individual")
    barrier(second, seconds)
    _fill(client, "/queue/nack2", 1)
    (message,) = firsts.wait_messages(1)
    first.nack(message.headers["ack"])
    (again,) = seconds.wait_messages(1)
    assert again.body == "m0" and again.headers["redelivered"] == "true"


def test_nack_in_client_mode_is_cumulative(client: Callable[..., Any], broker: Broker) -> None:
    _fill(client, "/queue/nackc", 3)
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/nackc", id="1", ack="client", headers={"prefetch-count": "3"})
    messages = collector.wait_messages(3)
    consumer.nack(messages[1].headers["ack"])  # gives back m0 and m1; m2 stays held
    redelivered = collector.wait_messages(5)[3:]
    assert [m.body for m in redelivered] == ["m0", "m1"]
    assert broker.pending("/queue/nackc") == 0


def test_nack_on_a_topic_drops_the_message(client: Callable[..., Any]) -> None:
    subscriber, collector = client("1.2")
    subscriber.subscribe("/topic/nack", id="1", ack="client-individual")
    barrier(subscriber, collector)
    subscriber.send("/topic/nack", "once")
    (message,) = collector.wait_messages(1)
    subscriber.nack(message.headers["ack"])
    barrier(subscriber, collector)
    assert collector.bodies() == ["once"]


def test_prefetch_count_limits_unacked_messages(client: Callable[..., Any]) -> None:
    _fill(client, "/queue/prefetch", 3)
    consumer, collector = client("1.2")
    consumer.subscribe(
        "/queue/prefetch", id="1", ack="client-individual", headers={"prefetch-count": "1"}
    )
    (first,) = collector.wait_messages(1)
    barrier(consumer, collector)
    assert collector.bodies() == ["m0"]
    consumer.ack(first.headers["ack"])
    second = collector.wait_messages(2)[1]
    assert second.body == "m1"


@pytest.mark.parametrize(
    ("version", "headers"),
    [
        ("1.2", {"id": "no-such-ack"}),
        ("1.1", {"message-id": "no-such-message", "subscription": "1"}),
        ("1.1", {"message-id": "x", "subscription": "no-such-subscription"}),
        ("1.0", {"message-id": "no-such-message"}),
    ],
)
def test_ack_of_an_unknown_id_is_an_error(
    raw: Callable[..., RawClient], version: str, headers: dict[str, str]
) -> None:
    peer = raw(version)
    peer.send("SUBSCRIBE", {"destination": "/queue/unknown", "id": "1", "ack": "client"})
    peer.send("ACK", {**headers, "receipt": "ack-1"})
    error = peer.expect_error()
    assert error.headers["receipt-id"] == "ack-1"
    assert "unknown" in error.headers["message"].lower()


def test_ack_on_an_auto_subscription_is_an_error(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    peer.send("SUBSCRIBE", {"destination": "/queue/auto-ack", "id": "1"})
    peer.send("SEND", {"destination": "/queue/auto-ack"}, b"x")
    message = peer.receive()
    assert "ack" not in message.headers
    peer.send("ACK", {"id": message.headers["message-id"]})
    assert peer.expect_error().headers["message"] == "ACK for an unknown id"


def test_ack_twice_is_an_error(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.2")
    peer.send("SUBSCRIBE", {"destination": "/queue/twice", "id": "1", "ack": "client-individual"})
    peer.send("SEND", {"destination": "/queue/twice"}, b"x")
    ack = peer.receive().headers["ack"]
    assert peer.request("ACK", {"id": ack}).cmd == "RECEIPT"
    peer.send("ACK", {"id": ack})
    peer.expect_error()
