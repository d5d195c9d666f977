"""Automatic reconnection and confirmed publishing, against the scripted fake broker:
the frames on the wire of each connection, the callbacks and their order, the errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from support.fakebroker import WAIT, FakeBroker, RefusedPort, library_threads, wait_until

import stomp
from stomp.codec import Frame
from stomp.exception import (
    NotConnectedException,
    PublishFailedException,
    ReconnectFailedException,
    StaleAckException,
    TransactionLostException,
)
from stomp.reconnect import ReconnectPolicy


class Events(stomp.ConnectionListener):
    """Every callback, in order, as (name, argument)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.changed = threading.Condition()

    def _add(self, name: str, value: Any = None) -> None:
        with self.changed:
            self.seen.append((name, value))
            self.changed.notify_all()

    def on_connecting(self, host_and_port: Any) -> None:
        self._add("connecting", host_and_port)

    def on_connected(self, frame: Frame) -> None:
        self._add("connected")

    def on_disconnected(self) -> None:
        self._add("disconnected")

    def on_message(self, frame: Frame) -> None:
        self._add("message", frame)

    def on_reconnect_failed(self, exception: Exception) -> None:
        self._add("reconnect_failed", exception)

    def names(self) -> list[str]:
        with self.changed:
            return [name for name, _ in self.seen]

    def wait_count(self, name: str, count: int, timeout: float = WAIT) -> None:
        with self.changed:
            if not self.changed.wait_for(
                lambda: self.names_unlocked().count(name) >= count, timeout
            ):
                raise AssertionError(f"{name} x{count} not seen: {self.names_unlocked()}")

    def names_unlocked(self) -> list[str]:
        return [name for name, _ in self.seen]


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    with FakeBroker(version="1.2") as started:
        yield started


def connection(broker: FakeBroker, **options: Any) -> tuple[Any, Events]:
    options.setdefault("auto_reconnect", True)
    conn = stomp.Connection12([broker.address], timeout=WAIT, **options)
    events = Events()
    conn.set_listener("events", events)
    conn.connect("user", "secret", wait=True, headers={"client-id": "c1"})
    return conn, events


def test_a_lost_connection_reconnects_and_subscribes_again(broker: FakeBroker) -> None:
    conn, events = connection(broker)
    conn.subscribe("/queue/a", id="s1", ack="client-individual", headers={"prefetch-count": "5"})
    conn.subscribe("/topic/b", id="s2")
    first = broker.wait_for_connection(0)
    first.wait_for_frame("SUBSCRIBE", 2)
    first.close()
    second = broker.wait_for_connection(1)
    subscribes = [second.wait_for_frame("SUBSCRIBE", 2)]
    connect = second.frames[0]
    assert connect.cmd == "STOMP"
    assert connect.headers["login"] == "user" and connect.headers["passcode"] == "secret"
    assert connect.headers["client-id"] == "c1"
    again = [f for f in second.frames if f.cmd == "SUBSCRIBE"]
    assert [(f.headers["id"], f.headers["destination"], f.headers["ack"]) for f in again] == [
        ("s1", "/queue/a", "client-individual"),
        ("s2", "/topic/b", "auto"),
    ]
    assert again[0].headers["prefetch-count"] == "5" and subscribes
    events.wait_count("connected", 2)
    assert events.names() == [
        "connecting",
        "connected",
        "disconnected",
        "connecting",
        "connected",
    ]
    conn.send("/queue/a", "after")  # works on the new connection
    assert second.wait_for_frame("SEND").body == b"after"
    conn.disconnect()


def test_calls_made_while_reconnecting_wait_and_go_after_the_subscriptions(
    broker: FakeBroker,
) -> None:
    refuse_first = {"n": 0}

    def reply(connection: Any, frame: Frame) -> str:
        refuse_first["n"] += 1
        return "close" if refuse_first["n"] in (2, 3) else "connected"

    broker.connect_reply = reply
    conn, _ = connection(broker)
    try:
        conn.subscribe("/queue/a", id="s1")
        broker.wait_for_connection(0).wait_for_frame("SUBSCRIBE")
        broker.wait_for_connection(0).close()
        # (a call made before the loss is noticed fails: it is not "while reconnecting")
        assert wait_until(lambda: conn.transport.gate is not None)
        sent = threading.Event()

        def sender() -> None:
            conn.send("/queue/a", "while reconnecting")
            sent.set()

        threading.Thread(target=sender).start()
        assert sent.wait(WAIT)
        final = broker.connections[-1]
        final.wait_for_frame("SEND")
        assert len(broker.connections) == 4
        assert final.commands()[:3] == ["STOMP", "SUBSCRIBE", "SEND"]
    finally:
        conn.disconnect()


def test_disconnect_while_reconnecting_stops_at_once() -> None:
    refused = RefusedPort()
    with FakeBroker(version="1.2") as broker:
        conn, events = connection(
            broker, auto_reconnect=ReconnectPolicy(max_time=None), reconnect_sleep_initial=0.2
        )
        broker.wait_for_connection(0)
        broker.stop()
    try:
        events.wait_count("disconnected", 1)
        assert wait_until(lambda: any(t.name == "StompReconnect" for t in threading.enumerate()))
        started = time.monotonic()
        conn.disconnect()
        assert time.monotonic() - started < 2.0
        assert wait_until(lambda: not library_threads(), WAIT), library_threads()
        assert "reconnect_failed" not in events.names()  # (the application asked for it)
    finally:
        refused.close()


def test_giving_up_calls_on_reconnect_failed_and_waiting_calls_raise() -> None:
    broker = FakeBroker(version="1.2").start()
    conn, events = connection(
        broker, auto_reconnect=ReconnectPolicy(max_attempts=2), reconnect_sleep_initial=0.05
    )
    broker.wait_for_connection(0)
    broker.stop()
    events.wait_count("reconnect_failed", 1)
    (failure,) = [value for name, value in events.seen if name == "reconnect_failed"]
    assert isinstance(failure, ReconnectFailedException)
    assert "after 2 attempt(s)" in str(failure)
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "too late")
    assert wait_until(lambda: not library_threads(), WAIT), library_threads()


def test_an_ack_of_a_message_from_the_lost_connection_raises(broker: FakeBroker) -> None:
    conn, events = connection(broker)
    conn.subscribe("/queue/a", id="s1", ack="client-individual")
    first = broker.wait_for_connection(0)
    first.wait_for_frame("SUBSCRIBE")
    first.send_frame(
        "MESSAGE",
        {"destination": "/queue/a", "subscription": "s1", "message-id": "m1", "ack": "a1"},
        "old",
    )
    events.wait_count("message", 1)
    first.close()
    second = broker.wait_for_connection(1)
    second.wait_for_frame("SUBSCRIBE")
    events.wait_count("connected", 2)
    with pytest.raises(StaleAckException, match="earlier connection"):
        conn.ack("a1")
    second.send_frame(
        "MESSAGE",
        {"destination": "/queue/a", "subscription": "s1", "message-id": "m1", "ack": "a2"},
        "old, again",
    )
    events.wait_count("message", 2)
    conn.ack("a2")
    assert second.wait_for_frame("ACK").headers["id"] == "a2"
    assert "a1" not in [f.headers.get("id") for f in second.frames if f.cmd == "ACK"]
    conn.disconnect()


def test_a_transaction_of_the_lost_connection_is_reported_lost(broker: FakeBroker) -> None:
    conn, events = connection(broker)
    lost = conn.begin()
    conn.send("/queue/a", "in it", transaction=lost)
    broker.wait_for_connection(0).wait_for_frame("SEND")
    broker.wait_for_connection(0).close()
    events.wait_count("connected", 2)
    with pytest.raises(TransactionLostException):
        conn.send("/queue/a", "more", transaction=lost)
    with pytest.raises(TransactionLostException):
        conn.commit(lost)
    other = conn.begin()
    conn.abort(lost)  # forgotten, nothing sent
    conn.commit(other)
    second = broker.wait_for_connection(1)
    second.wait_for_frame("COMMIT")
    assert [f.cmd for f in second.frames if f.cmd in ("SEND", "ABORT", "BEGIN", "COMMIT")] == [
        "BEGIN",
        "COMMIT",
    ]
    conn.disconnect()


def test_without_auto_reconnect_a_lost_connection_stays_lost(broker: FakeBroker) -> None:
    conn, events = connection(broker, auto_reconnect=False)
    broker.wait_for_connection(0).close()
    events.wait_count("disconnected", 1)
    with pytest.raises(NotConnectedException):
        conn.send("/queue/a", "x")
    assert len(broker.connections) == 1
    assert events.names() == ["connecting", "connected", "disconnected"]


# -- confirmed publishing -------------------------------------------------------------------


def test_confirmed_sends_resolve_with_their_receipts(broker: FakeBroker) -> None:
    conn, _ = connection(broker, auto_reconnect=False)
    futures = [conn.send_confirmed("/queue/c", f"m{n}") for n in range(50)]
    conn.wait_for_confirms(WAIT)
    receipts = [f.result(0).headers["receipt-id"] for f in futures]
    sent = [f for f in broker.wait_for_connection(0).frames if f.cmd == "SEND"]
    assert [f.headers["receipt"] for f in sent] == receipts
    assert len(set(receipts)) == 50
    conn.disconnect()


def test_an_error_for_a_receipt_fails_that_send_only(broker: FakeBroker) -> None:
    broker.answer_receipts = False
    conn, _ = connection(broker, auto_reconnect=False)
    good = conn.send_confirmed("/queue/c", "good", receipt="r-good")
    bad = conn.send_confirmed("/queue/c", "bad", receipt="r-bad")
    server = broker.wait_for_connection(0)
    server.wait_for_frame("SEND", 2)
    server.send_frame("RECEIPT", {"receipt-id": "r-good"})
    server.send_frame("ERROR", {"receipt-id": "r-bad", "message": "no such queue"})
    assert good.result(WAIT).headers["receipt-id"] == "r-good"
    with pytest.raises(PublishFailedException, match="no such queue") as caught:
        bad.result(WAIT)
    assert caught.value.frame.headers["receipt-id"] == "r-bad"
    with pytest.raises(PublishFailedException, match="1 confirmed send"):
        conn.wait_for_confirms(WAIT)
    conn.wait_for_confirms(WAIT)  # (reported once)
    conn.disconnect()


def test_unconfirmed_sends_fail_when_the_connection_ends_for_good(broker: FakeBroker) -> None:
    broker.answer_receipts = False
    conn, _ = connection(broker, auto_reconnect=False)
    future: Future[Frame] = conn.send_confirmed("/queue/c", "lost")
    broker.wait_for_connection(0).wait_for_frame("SEND")
    broker.wait_for_connection(0).close()
    with pytest.raises(PublishFailedException, match="may or may not"):
        future.result(WAIT)


def test_unconfirmed_sends_are_sent_again_in_order_after_reconnecting(
    broker: FakeBroker,
) -> None:
    broker.answer_receipts = False
    conn, _ = connection(broker)
    futures = [conn.send_confirmed("/queue/c", f"m{n}", receipt=f"r{n}") for n in range(5)]
    first = broker.wait_for_connection(0)
    first.wait_for_frame("SEND", 5)
    first.send_frame("RECEIPT", {"receipt-id": "r0"})
    first.send_frame("RECEIPT", {"receipt-id": "r1"})
    assert futures[1].result(WAIT)
    broker.answer_receipts = True
    first.close()
    second = broker.wait_for_connection(1)
    second.wait_for_frame("SEND", 3)
    assert [f.headers["receipt"] for f in second.frames if f.cmd == "SEND"] == ["r2", "r3", "r4"]
    assert [f.body for f in second.frames if f.cmd == "SEND"] == [b"m2", b"m3", b"m4"]
    conn.wait_for_confirms(WAIT)
    assert all(f.done() and f.exception() is None for f in futures)
    conn.disconnect()


@pytest.mark.parametrize("confirmed", [False, True])
def test_a_send_as_the_connection_breaks_arrives_once_on_the_new_one(
    broker: FakeBroker, confirmed: bool
) -> None:
    # Whether the write fails (the loss not noticed yet) or waits at the gate (noticed),
    # the message goes out once, on the new connection, and the call does not raise.
    conn, _ = connection(broker)
    try:
        first = broker.wait_for_connection(0)
        first.close(rst=True)
        if confirmed:
            assert conn.send_confirmed("/queue/a", "across").result(WAIT)
        else:
            conn.send("/queue/a", "across")
        second = broker.wait_for_connection(1)
        second.wait_for_frame("SEND")
        conn.send("/queue/a", "sync", receipt="sync")
        second.wait_for_frame("SEND", 2)
        bodies = [f.body for f in second.frames if f.cmd == "SEND"]
        assert bodies == [b"across", b"sync"]
        assert not [f for f in first.frames if f.cmd == "SEND"]
    finally:
        conn.disconnect()


def test_the_futures_of_confirmed_sends_behave_as_futures(broker: FakeBroker) -> None:
    # (They share one condition per connection: waits, callbacks, concurrent.futures.wait
    # and cancel() must work as with any Future.)
    import concurrent.futures

    broker.answer_receipts = False
    conn, _ = connection(broker, auto_reconnect=False)
    try:
        first = conn.send_confirmed("/queue/c", "1", receipt="r1")
        second = conn.send_confirmed("/queue/c", "2", receipt="r2")
        cancelled = conn.send_confirmed("/queue/c", "3", receipt="r3")
        assert isinstance(first, concurrent.futures.Future) and not first.done()
        called: list[Any] = []
        second.add_done_callback(called.append)
        assert cancelled.cancel()
        results: list[Any] = []
        waiter = threading.Thread(target=lambda: results.append(first.result(WAIT)))
        waiter.start()
        server = broker.wait_for_connection(0)
        server.wait_for_frame("SEND", 3)
        server.send_frame("RECEIPT", {"receipt-id": "r2"})
        done, not_done = concurrent.futures.wait(
            [first, second], timeout=WAIT, return_when="FIRST_COMPLETED"
        )
        assert done == {second} and not_done == {first}
        assert called == [second]
        server.send_frame("RECEIPT", {"receipt-id": "r1"})
        server.send_frame("RECEIPT", {"receipt-id": "r3"})  # (its owner cancelled it)
        waiter.join(WAIT)
        assert results and results[0].headers["receipt-id"] == "r1"
        conn.wait_for_confirms(WAIT)
        assert cancelled.cancelled()
    finally:
        conn.disconnect()


def test_an_error_while_restoring_ends_the_reconnection_with_a_reason(broker: FakeBroker) -> None:
    conn, events = connection(broker)
    conn.subscribe("/queue/a", id="s1")
    broker.wait_for_connection(0).wait_for_frame("SUBSCRIBE")

    class Refuses(stomp.ConnectionListener):
        def on_send(self, frame: Frame) -> None:
            if frame.cmd == "SUBSCRIBE":
                raise RuntimeError("no subscribing now")

    conn.set_listener("refuses", Refuses())
    broker.wait_for_connection(0).close()
    events.wait_count("reconnect_failed", 1)
    (failure,) = [value for name, value in events.seen if name == "reconnect_failed"]
    assert "no subscribing now" in str(failure)
    assert wait_until(lambda: not any(t.name == "StompReconnect" for t in threading.enumerate()))
    conn.disconnect()
