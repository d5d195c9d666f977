"""The embedded broker's limits per connection: subscriptions, and the message bytes of an
open transaction.  Past a limit the client gets an ERROR that names it (a SEND or SUBSCRIBE
with a receipt gets no RECEIPT), never a silent drop; what was receipted before stays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brokerhelpers import WAIT, new_receipt

from stomp.broker import Broker


def test_subscriptions_past_the_limit_get_an_error_naming_it(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_subscriptions=3)
    conn, events = client("1.2", target=broker)
    for n in range(3):
        receipt = new_receipt()
        conn.subscribe(f"/queue/limit-{n}", id=str(n), receipt=receipt)
        events.wait_receipt(receipt)
    refused = new_receipt()
    conn.subscribe("/queue/limit-3", id="3", receipt=refused)
    assert events.wait_for(lambda: events.errors, WAIT)
    error = events.errors[0]
    assert error.headers["message"] == "Too many subscriptions (max_subscriptions)"
    assert error.headers["receipt-id"] == refused
    assert "the limit of this broker (max_subscriptions) is 3" in error.body
    assert refused not in events.receipts
    assert events.disconnected.wait(WAIT)  # (an ERROR ends the connection)
    assert broker.subscriber_count("/queue/limit-3") == 0


def test_a_transaction_past_its_byte_limit_gets_an_error_and_what_was_sent_stays(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_transaction_bytes=1000)
    conn, events = client("1.2", target=broker)
    receipt = new_receipt()
    conn.send("/queue/before", "receipted before", receipt=receipt)
    events.wait_receipt(receipt)
    transaction = conn.begin()
    conn.send("/queue/tx-limit", "x" * 600, transaction=transaction)
    refused = new_receipt()
    conn.send("/queue/tx-limit", "y" * 600, transaction=transaction, receipt=refused)
    assert events.wait_for(lambda: events.errors, WAIT)
    error = events.errors[0]
    assert error.headers["message"] == "Transaction too large (max_transaction_bytes)"
    assert error.headers["receipt-id"] == refused
    assert "would hold 1200 bytes" in error.body and "is 1000" in error.body
    assert refused not in events.receipts
    assert events.disconnected.wait(WAIT)
    assert broker.pending("/queue/tx-limit") == 0  # the transaction died with the connection
    assert broker.pending("/queue/before") == 1  # what was receipted before stays


def test_commit_and_abort_give_the_transaction_bytes_back(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_transaction_bytes=1000)
    conn, events = client("1.2", target=broker)
    for end in ("commit", "abort", "commit"):
        transaction = conn.begin()
        conn.send("/queue/tx-reuse", "z" * 900, transaction=transaction)
        receipt = new_receipt()
        getattr(conn, end)(transaction, receipt=receipt)
        events.wait_receipt(receipt)
    assert events.errors == []
    assert broker.pending("/queue/tx-reuse") == 2


def test_a_send_past_the_queue_limit_gets_an_error_and_what_was_receipted_stays(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_queue_bytes=8000)
    conn, events = client("1.2", target=broker)
    receipted = []
    refused = None
    for n in range(20):  # each message counts ~1.6 KB: the queue is full after 4 or 5
        receipt = new_receipt()
        conn.send("/queue/q-limit", "m" * 1000, headers={"n": str(n)}, receipt=receipt)
        answered = lambda r=receipt: r in events.receipts or bool(events.errors)  # noqa: E731
        if not events.wait_for(answered, WAIT):
            raise AssertionError("neither RECEIPT nor ERROR")
        if events.errors:
            refused = receipt
            break
        receipted.append(n)
    assert refused is not None, "the queue took 20 messages of 1 KB with a limit of 8000"
    error = events.errors[0]
    assert error.headers["message"] == "Queue full (max_queue_bytes)"
    assert error.headers["receipt-id"] == refused
    assert "'/queue/q-limit'" in error.body and "max_queue_bytes), 8000" in error.body
    assert refused not in events.receipts
    assert events.disconnected.wait(WAIT)
    assert 3 <= len(receipted) <= 5, receipted
    assert broker.pending("/queue/q-limit") == len(receipted)  # nothing kept of the refused

    reader, collected = client("1.2", target=broker)
    reader.subscribe("/queue/q-limit", id="1")
    messages = collected.wait_messages(len(receipted), timeout=WAIT)
    assert [int(m.headers["n"]) for m in messages] == receipted


def test_the_queue_limit_counts_unacknowledged_deliveries_until_their_ack(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_queue_bytes=8000)
    consumer, received = client("1.2", target=broker)
    receipt = new_receipt()
    consumer.subscribe("/queue/q-unacked", id="1", ack="client-individual", receipt=receipt)
    received.wait_receipt(receipt)
    producer, events = client("1.2", target=broker)
    for n in range(4):
        receipt = new_receipt()
        producer.send("/queue/q-unacked", "u" * 1000, headers={"n": str(n)}, receipt=receipt)
        events.wait_receipt(receipt)
    messages = received.wait_messages(4, timeout=WAIT)
    held = broker.router.held("/queue/q-unacked")
    assert broker.pending("/queue/q-unacked") == 0 and 4 * 1000 < held <= 8000
    for message in messages:  # delivered but not acknowledged: still held
        consumer.ack(message.headers["ack"])
    barrier_receipt = new_receipt()
    consumer.send("/topic/sync", "", receipt=barrier_receipt)
    received.wait_receipt(barrier_receipt)
    assert broker.router.held("/queue/q-unacked") == 0
    for n in range(4, 8):  # the room is back
        receipt = new_receipt()
        producer.send("/queue/q-unacked", "u" * 1000, headers={"n": str(n)}, receipt=receipt)
        events.wait_receipt(receipt)
    assert events.errors == []


def test_an_auto_ack_delivery_frees_its_room_at_once(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_queue_bytes=8000)
    consumer, received = client("1.2", target=broker)
    receipt = new_receipt()
    consumer.subscribe("/queue/q-auto", id="1", receipt=receipt)
    received.wait_receipt(receipt)
    producer, events = client("1.2", target=broker)
    for _ in range(50):  # 50 KB through a queue that holds 8000 bytes
        receipt = new_receipt()
        producer.send("/queue/q-auto", "a" * 1000, receipt=receipt)
        events.wait_receipt(receipt)
    assert received.wait_messages(50, timeout=WAIT)
    assert events.errors == [] and broker.router.held("/queue/q-auto") == 0


def test_messages_going_back_to_a_full_queue_are_never_refused(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_queue_bytes=8000)
    consumer, received = client("1.2", target=broker)
    receipt = new_receipt()
    consumer.subscribe("/queue/q-back", id="1", ack="client-individual", receipt=receipt)
    received.wait_receipt(receipt)
    producer, events = client("1.2", target=broker)
    for n in range(4):
        receipt = new_receipt()
        producer.send("/queue/q-back", "b" * 1000, headers={"n": str(n)}, receipt=receipt)
        events.wait_receipt(receipt)
    messages = received.wait_messages(4, timeout=WAIT)
    consumer.nack(messages[0].headers["ack"])
    consumer.disconnect()  # the other three go back too
    assert broker.pending("/queue/q-back") == 4
    reader, collected = client("1.2", target=broker)
    reader.subscribe("/queue/q-back", id="1")
    again = collected.wait_messages(4, timeout=WAIT)
    assert sorted(m.headers["n"] for m in again) == ["0", "1", "2", "3"]
    assert all(m.headers["redelivered"] == "true" for m in again)


def test_a_commit_past_the_queue_limit_is_refused_whole(
    make_broker: Callable[..., Broker], client: Callable[..., Any]
) -> None:
    broker = make_broker(max_queue_bytes=8000)
    conn, events = client("1.2", target=broker)
    receipt = new_receipt()
    conn.send("/queue/q-tx", "r" * 1000, receipt=receipt)
    events.wait_receipt(receipt)
    transaction = conn.begin()
    for _ in range(5):  # fits the transaction limit, not the queue beside the first one
        conn.send("/queue/q-tx", "t" * 1000, transaction=transaction)
    conn.send("/queue/q-tx-other", "o", transaction=transaction)
    refused = new_receipt()
    conn.commit(transaction, receipt=refused)
    assert events.wait_for(lambda: events.errors, WAIT)
    error = events.errors[0]
    assert error.headers["message"] == "Queue full (max_queue_bytes)"
    assert error.headers["receipt-id"] == refused
    assert "nothing of it is" in error.body
    assert events.disconnected.wait(WAIT)
    assert broker.pending("/queue/q-tx") == 1  # only what was receipted before
    assert broker.pending("/queue/q-tx-other") == 0


def test_the_per_message_overhead_covers_what_a_queued_message_costs() -> None:
    # MESSAGE_OVERHEAD must not undercount, or the queue limit would not bound memory.
    import tracemalloc

    from stomp.broker.destinations import Router
    from stomp.codec import FrameDecoder

    decoder = FrameDecoder("1.2")
    frames = [
        b"SEND\ndestination:/queue/cost\ncontent-type:text/plain\nn:%d\n"
        b"content-length:100\nreceipt:r-%d\n\n%s\x00" % (n, n, b"c" * 100)
        for n in range(20_000)
    ]
    router = Router("t0k3n", max_queue_bytes=1 << 40)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for data in frames:  # as the broker does: decode, keep a message, drop the frame
            (frame,) = decoder.feed(data)
            kept = {
                k: v for k, v in frame.headers.items() if k not in ("receipt", "content-length")
            }
            router.send(router.new_message("/queue/cost", kept, frame.body))
        del frame
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    held = router.held("/queue/cost")
    assert used <= held, f"{used / 20_000:.0f} bytes per message, counted {held / 20_000:.0f}"
    assert held - used < 20_000 * 200  # and not grossly over
