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
