"""Transactions: SEND, ACK and NACK held until COMMIT, dropped on ABORT or disconnect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import RawClient, barrier, new_receipt

from stomp.broker import Broker


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_sends_wait_for_commit(client: Callable[..., Any], broker: Broker, version: str) -> None:
    producer, events = client(version)
    transaction = producer.begin()
    producer.send("/queue/tx", "one", transaction=transaction)
    producer.send("/queue/tx", "two", transaction=transaction)
    barrier(producer, events)
    assert broker.pending("/queue/tx") == 0
    receipt = new_receipt()
    producer.commit(transaction, receipt=receipt)
    events.wait_receipt(receipt)
    assert broker.pending("/queue/tx") == 2
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/tx", id="1")
    assert [m.body for m in collector.wait_messages(2)] == ["one", "two"]


def test_abort_drops_the_sends(client: Callable[..., Any], broker: Broker) -> None:
    producer, events = client("1.2")
    transaction = producer.begin()
    producer.send("/queue/abort", "dropped", transaction=transaction)
    producer.abort(transaction)
    producer.send("/queue/abort", "kept")
    barrier(producer, events)
    assert broker.pending("/queue/abort") == 1
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/abort", id="1")
    assert [m.body for m in collector.wait_messages(1)] == ["kept"]


def test_topic_send_in_a_transaction(client: Callable[..., Any]) -> None:
    subscriber, collector = client("1.2")
    subscriber.subscribe("/topic/tx", id="1")
    barrier(subscriber, collector)
    publisher, events = client("1.2")
    transaction = publisher.begin()
    publisher.send("/topic/tx", "later", transaction=transaction)
    barrier(publisher, events)
    barrier(subscriber, collector)
    assert collector.bodies() == []
    publisher.commit(transaction)
    assert [m.body for m in collector.wait_messages(1)] == ["later"]


@pytest.mark.parametrize(("end", "redelivered"), [("commit", []), ("abort", ["m"])])
def test_acks_in_a_transaction(
    client: Callable[..., Any], broker: Broker, end: str, redelivered: list[str]
) -> None:
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/txack", id="1", ack="client-individual")
    consumer.send("/queue/txack", "m")
    (message,) = collector.wait_messages(1)
    transaction = consumer.begin()
    consumer.ack(message.headers["ack"], transaction=transaction)
    getattr(consumer, end)(transaction)
    consumer.disconnect()  # what is still unacknowledged goes back to the queue
    assert broker.pending("/queue/txack") == len(redelivered)


def test_nack_in_a_transaction_waits_for_commit(client: Callable[..., Any]) -> None:
    consumer, collector = client("1.2")
    consumer.subscribe("/queue/txnack", id="1", ack="client-individual")
    consumer.send("/queue/txnack", "m")
    (message,) = collector.wait_messages(1)
    transaction = consumer.begin()
    consumer.nack(message.headers["ack"], transaction=transaction)
    barrier(consumer, collector)
    assert len(collector.messages) == 1  # not requeued yet
    consumer.commit(transaction)
    again = collector.wait_messages(2)[1]
    assert again.body == "m" and again.headers["redelivered"] == "true"


def test_disconnect_aborts_open_transactions(client: Callable[..., Any], broker: Broker) -> None:
    producer, _ = client("1.2")
    transaction = producer.begin()
    producer.send("/queue/implicit", "never", transaction=transaction)
    producer.disconnect()
    other, others = client("1.2")
    barrier(other, others)
    assert broker.pending("/queue/implicit") == 0


def test_socket_loss_aborts_open_transactions(
    raw: Callable[..., RawClient], client: Callable[..., Any], broker: Broker
) -> None:
    peer = raw("1.2")
    peer.send("BEGIN", {"transaction": "t"})
    assert peer.request("SEND", {"destination": "/queue/lost", "transaction": "t"}, b"x").cmd == (
        "RECEIPT"
    )
    peer.close()
    other, others = client("1.2")
    other.subscribe("/queue/lost", id="1")
    barrier(other, others)
    assert others.bodies() == []


@pytest.mark.parametrize(
    "frames",
    [
        [("COMMIT", {"transaction": "nope"})],
        [("ABORT", {"transaction": "nope"})],
        [("SEND", {"destination": "/queue/x", "transaction": "nope"})],
        [("BEGIN", {"transaction": "t"}), ("BEGIN", {"transaction": "t"})],
        [
            ("BEGIN", {"transaction": "t"}),
            ("COMMIT", {"transaction": "t"}),
            ("ABORT", {"transaction": "t"}),
        ],
        [("BEGIN", {})],
    ],
    ids=[
        "commit-unknown",
        "abort-unknown",
        "send-unknown",
        "begin-twice",
        "abort-after-commit",
        "no-id",
    ],
)
def test_transaction_errors(
    raw: Callable[..., RawClient], frames: list[tuple[str, dict[str, str]]]
) -> None:
    peer = raw("1.2")
    for command, headers in frames:
        peer.send(command, headers)
    error = peer.expect_error()
    assert "transaction" in error.headers["message"].lower()
