"""Automatic reconnection of the asyncio client (``auto_reconnect``), against the scripted
fake broker on loopback: a lost connection is made again, subscriptions carry on with the
same ids and headers, a SEND whose receipt was lost is sent again, calls made meanwhile
wait, acks of the lost connection's messages and its transactions raise, the policy gives
up, ``disconnect()`` stops it; no task left behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from support.aio import aio_test, in_thread
from support.fakebroker import FakeBroker

import stomp.aio
from stomp.exception import (
    NotConnectedException,
    ReconnectFailedException,
    StaleAckException,
    TransactionLostException,
)
from stomp.reconnect import ReconnectPolicy


def _conn(broker: FakeBroker, **options: Any) -> stomp.aio.Connection:
    options.setdefault("timeout", 5.0)
    options.setdefault("auto_reconnect", True)
    options.setdefault("reconnect_sleep_initial", 0.05)
    return stomp.aio.Connection([broker.address], **options)


@aio_test
async def test_subscriptions_carry_on_over_a_new_connection(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a", id="s1", ack="client-individual", selector="x=1")
        first = await in_thread(broker.wait_for_connection, 0)
        before = await in_thread(first.wait_for_frame, "SUBSCRIBE")
        first.send_message("/queue/a", "one", subscription="s1")
        message = await sub.get(timeout=5)
        await message.ack()
        await in_thread(first.wait_for_frame, "ACK")

        first.close()
        second = await in_thread(broker.wait_for_connection, 1)
        again = await in_thread(second.wait_for_frame, "SUBSCRIBE")
        assert again.headers == before.headers  # same id, ack mode, selector
        second.send_message("/queue/a", "two", subscription="s1")
        assert (await sub.get(timeout=5)).body == "two"
        assert conn.connected and conn.reconnections == 1
        assert second.frames[0].cmd == "STOMP"


@aio_test
async def test_a_send_whose_receipt_was_lost_is_sent_again(
    make_broker: Callable[..., Any],
) -> None:
    broker = make_broker(answer_receipts=False)
    async with _conn(broker) as conn:
        first = await in_thread(broker.wait_for_connection, 0)
        sending = asyncio.ensure_future(conn.send("/queue/a", "keep me", receipt="r-1"))
        await in_thread(first.wait_for_frame, "SEND")
        broker.answer_receipts = True  # the new connection answers
        first.close()
        receipt = await asyncio.wait_for(sending, 10)
        assert receipt is not None and receipt.headers["receipt-id"] == "r-1"
        second = broker.connections[1]
        assert [f.body for f in second.frames if f.cmd == "SEND"] == [b"keep me"]


@aio_test
async def test_calls_made_meanwhile_wait_for_the_new_connection(
    make_broker: Callable[..., Any],
) -> None:
    broker = make_broker()
    conn = _conn(broker, reconnect_sleep_initial=0.3)
    await conn.connect()
    first = await in_thread(broker.wait_for_connection, 0)
    # the next connection is answered only after a while: calls wait for it
    broker.connect_reply = "silent"
    first.close()
    while conn.connected:
        await asyncio.sleep(0.01)
    sending = asyncio.ensure_future(conn.send("/queue/a", "meanwhile", receipt=True))
    second = await in_thread(broker.wait_for_connection, 1)
    assert not sending.done()
    broker.connect_reply = "connected"
    second.close()  # that attempt times out or fails; the next is answered
    await asyncio.wait_for(sending, 20)
    assert conn.connected
    await conn.disconnect()


@aio_test
async def test_acks_of_the_lost_connection_and_its_transactions_raise(
    broker: FakeBroker,
) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a", id="s1", ack="client-individual")
        first = await in_thread(broker.wait_for_connection, 0)
        first.send_message("/queue/a", "old", subscription="s1")
        old = await sub.get(timeout=5)
        tx = await conn.begin("t-1")
        first.close()
        second = await in_thread(broker.wait_for_connection, 1)
        await in_thread(second.wait_for_frame, "SUBSCRIBE")
        with pytest.raises(StaleAckException):
            await old.ack()
        with pytest.raises(TransactionLostException):
            await conn.send("/queue/a", "x", transaction=tx)
        with pytest.raises(TransactionLostException):
            await tx.commit()
        await tx.abort()  # forgets it: nothing to abort
        second.send_message("/queue/a", "new", subscription="s1")
        new = await sub.get(timeout=5)
        await new.ack(receipt=True)
        assert [f.cmd for f in second.frames].count("ABORT") == 0


@aio_test
async def test_unread_client_ack_messages_of_the_lost_connection_are_dropped(
    broker: FakeBroker,
) -> None:
    async with _conn(broker) as conn:
        manual = await conn.subscribe("/queue/a", id="m", ack="client")
        auto = await conn.subscribe("/queue/b", id="a")
        first = await in_thread(broker.wait_for_connection, 0)
        first.send_message("/queue/a", "redelivered later", subscription="m")
        first.send_message("/queue/b", "kept", subscription="a")
        while manual.buffered == 0 or auto.buffered == 0:
            await asyncio.sleep(0.01)
        first.close()
        await in_thread(broker.wait_for_connection, 1)
        assert (await auto.get(timeout=5)).body == "kept"  # acknowledged already: kept
        assert manual.get_nowait() is None  # the broker delivers it again


@aio_test
async def test_the_policy_gives_up(make_broker: Callable[..., Any]) -> None:
    broker = make_broker()
    conn = _conn(
        broker,
        auto_reconnect=ReconnectPolicy(max_attempts=2, wait=0.2),
        reconnect_attempts_max=1,
    )
    await conn.connect()
    sub = await conn.subscribe("/queue/a")
    first = await in_thread(broker.wait_for_connection, 0)
    await in_thread(first.wait_for_frame, "SUBSCRIBE")
    await in_thread(broker.stop)  # nothing answers any more
    with pytest.raises(ReconnectFailedException, match="2 round"):
        await sub.get(timeout=10)
    with pytest.raises(NotConnectedException):
        await conn.send("/queue/a", "x")
    await conn.disconnect()


@aio_test
async def test_a_call_waits_at_most_the_policys_wait(make_broker: Callable[..., Any]) -> None:
    broker = make_broker()
    conn = _conn(broker, auto_reconnect=ReconnectPolicy(wait=0.2), reconnect_attempts_max=1)
    await conn.connect()
    await in_thread(broker.stop)
    while conn.connected:
        await asyncio.sleep(0.01)
    with pytest.raises(NotConnectedException, match="still reconnecting"):
        await conn.send("/queue/a", "x")
    await conn.disconnect()  # stops the reconnection at once
    assert conn._reconnection is None


@aio_test
async def test_disconnect_does_not_reconnect(broker: FakeBroker) -> None:
    conn = _conn(broker)
    await conn.connect()
    sub = await conn.subscribe("/queue/a")
    await conn.disconnect()
    with pytest.raises(StopAsyncIteration):
        await sub.get(timeout=1)
    assert len(broker.connections) == 1 and conn.reconnections == 0
