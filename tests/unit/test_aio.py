"""The asyncio client (stomp.aio) against the scripted fake broker on loopback: the frames
on the wire per STOMP version, receipts and their timeouts, ERROR frames, refusal,
failover, heart-beats both ways, flow control, cancellation, malformed input, TLS; and no
task left behind by any of it (``support.aio.run`` checks)."""

from __future__ import annotations

import asyncio
import inspect
import ssl
import time
from collections.abc import Callable
from typing import Any

import pytest
from support.aio import aio_test, in_thread, run
from support.fakebroker import FakeBroker, RefusedPort

import stomp.aio
from stomp.codec import Frame
from stomp.exception import (
    BrokerErrorException,
    ConnectFailedException,
    ConnectionClosedException,
    FrameError,
    NotConnectedException,
)

VERSIONS = ["1.0", "1.1", "1.2"]


def _conn(*brokers: Any, version: str = "1.2", **options: Any) -> stomp.aio.Connection:
    options.setdefault("timeout", 5.0)
    addresses = [getattr(b, "address", b) for b in brokers]
    return stomp.aio.Connection(addresses, version=version, **options)


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_connect_frame_per_version(broker: FakeBroker, version: str) -> None:
    conn = _conn(broker, version=version, username="u", passcode="p", heartbeats=(0, 0))
    async with conn:
        assert conn.connected and conn.version == version
        server = broker.last
        frame = server.frames[0]
        assert frame.cmd == ("CONNECT" if version == "1.0" else "STOMP")
        assert frame.headers["accept-version"] == version
        assert frame.headers["login"] == "u" and frame.headers["passcode"] == "p"
        # 1.2 names the host connected to; 1.1 sends no host without a vhost
        assert frame.headers.get("host") == ("127.0.0.1" if version == "1.2" else None)
        assert conn.server.get("version", "1.0") == version
    assert not conn.connected
    assert broker.last.commands()[-1] == "DISCONNECT"


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_subscribe_message_and_ack_per_version(broker: FakeBroker, version: str) -> None:
    async with _conn(broker, version=version) as conn:
        sub = await conn.subscribe("/queue/a", ack="client-individual", prefetch=5)
        server = broker.last
        subscribe = await in_thread(server.wait_for_frame, "SUBSCRIBE")
        assert subscribe.headers["id"] == sub.id and subscribe.headers["ack"] == "client-individual"
        assert subscribe.headers["activemq.prefetchSize"] == "5"
        assert subscribe.headers["prefetch-count"] == "5"
        message_id = server.send_message("/queue/a", "hello", subscription=sub.id)
        message = await sub.get(timeout=5)
        assert (message.body, message.message_id, message.destination) == (
            "hello",
            message_id,
            "/queue/a",
        )
        await message.ack()
        ack = await in_thread(server.wait_for_frame, "ACK")
        if version == "1.2":
            assert ack.headers == {"id": message_id}
        elif version == "1.1":
            assert ack.headers == {"message-id": message_id, "subscription": sub.id}
        else:
            assert ack.headers == {"message-id": message_id}
        if version == "1.0":
            with pytest.raises(ValueError, match="no NACK"):
                await message.nack()
        else:
            await message.nack(receipt=True)
            assert (await in_thread(server.wait_for_frame, "NACK")).cmd == "NACK"


@aio_test
async def test_ack_on_an_auto_subscription_is_refused(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        broker.last.send_message("/queue/a", "x", subscription=sub.id)
        message = await sub.get(timeout=5)
        with pytest.raises(ValueError, match="automatically"):
            await message.ack()


@aio_test
async def test_send_frame_with_headers_and_receipt(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        await conn.send(
            "/queue/a", "héllo", content_type="text/plain", headers={"a": "1"}, b="2", receipt=True
        )
        frame = broker.last.wait_for_frame("SEND")
        assert frame.headers["destination"] == "/queue/a"
        assert frame.headers["content-type"] == "text/plain"
        assert frame.headers["content-length"] == str(len("héllo".encode()))
        assert (frame.headers["a"], frame.headers["b"]) == ("1", "2")
        assert frame.headers["receipt"]
        assert frame.body == "héllo".encode()
        assert not conn._receipts


@aio_test
async def test_a_receipt_that_does_not_come_times_out(make_broker: Callable[..., Any]) -> None:
    broker = make_broker(answer_receipts=False)
    conn = _conn(broker, timeout=0.3)
    await conn.connect()
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError, match="no RECEIPT for SEND"):
        await conn.send("/queue/a", "x", receipt=True)
    assert 0.25 < time.monotonic() - started < 3
    assert not conn._receipts
    await conn.disconnect()  # its own receipt does not come either: bounded


@aio_test
async def test_an_error_answering_a_receipt_raises_from_that_call(
    make_broker: Callable[..., Any],
) -> None:
    broker = make_broker(answer_receipts=False)
    async with _conn(broker) as conn:
        sending = asyncio.ensure_future(conn.send("/queue/a", "x", receipt="r-7"))
        await in_thread(broker.last.wait_for_frame, "SEND")
        broker.last.send_frame("ERROR", {"receipt-id": "r-7", "message": "not allowed"})
        with pytest.raises(BrokerErrorException, match="not allowed") as raised:
            await sending
        assert raised.value.frame.headers["receipt-id"] == "r-7"
        assert conn.error is None and conn.connected
        broker.answer_receipts = True


@aio_test
async def test_an_error_then_close_ends_subscriptions_saying_why(broker: FakeBroker) -> None:
    errors: list[Any] = []
    conn = _conn(broker)
    conn.on_error = errors.append
    await conn.connect()
    sub = await conn.subscribe("/queue/a")
    server = broker.last
    server.send_message("/queue/a", "before", subscription=sub.id)
    server.send_frame("ERROR", {"message": "malformed frame received"}, "details")
    await in_thread(server.wait_for_frame, "SUBSCRIBE")
    server.close()
    assert (await sub.get(timeout=5)).body == "before"  # what came first is kept
    with pytest.raises(ConnectionClosedException, match="after an ERROR: malformed frame"):
        await sub.get(timeout=5)
    assert [e.headers["message"] for e in errors] == ["malformed frame received"]
    assert conn.error is errors[0] and not conn.connected
    with pytest.raises(NotConnectedException, match="lost"):
        await conn.send("/queue/a", "x")
    await conn.disconnect()


@aio_test
async def test_refusal_is_not_retried_on_other_hosts(make_broker: Callable[..., Any]) -> None:
    refusing = make_broker(connect_reply="error", error_message="Access refused")
    other = make_broker()
    conn = _conn(refusing, other, vhost=None)
    with pytest.raises(ConnectFailedException, match="refused the connection: Access refused"):
        await conn.connect()
    assert not other.connections and not conn.connected


@aio_test
async def test_failover_goes_to_the_next_host_then_gives_up_with_back_off(
    broker: FakeBroker, refused: Callable[..., RefusedPort]
) -> None:
    closed = refused()
    conn = _conn(closed, broker)
    await conn.connect()
    assert conn.host == broker.address
    await conn.disconnect()

    conn = _conn(closed, refused(), reconnect_sleep_initial=0.2, reconnect_attempts_max=4)
    started = time.monotonic()
    with pytest.raises(ConnectFailedException, match="after 4 attempt"):
        await conn.connect()
    assert time.monotonic() - started >= 0.2  # one sleep between the two passes


@aio_test
async def test_a_broker_that_never_answers_connect(make_broker: Callable[..., Any]) -> None:
    silent = make_broker(connect_reply="silent")
    conn = _conn(silent, timeout=0.3, reconnect_attempts_max=1)
    with pytest.raises(ConnectFailedException, match=r"no CONNECTED within 0\.3 s"):
        await conn.connect()
    assert await in_thread(silent.last.wait_peer_closed)


@aio_test
async def test_cancelled_connect_leaves_nothing_open(make_broker: Callable[..., Any]) -> None:
    silent = make_broker(connect_reply="silent")
    conn = _conn(silent)
    connecting = asyncio.ensure_future(conn.connect())
    server = await in_thread(silent.wait_for_connection)
    await in_thread(server.wait_for_frame, "STOMP")
    connecting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await connecting
    assert await in_thread(silent.last.wait_peer_closed)
    assert conn._link is None and not conn.connected


@aio_test
async def test_heartbeats_both_ways_and_a_silent_broker(make_broker: Callable[..., Any]) -> None:
    broker = make_broker(heartbeat="100,100")
    conn = _conn(broker, heartbeats=(100, 100))
    await conn.connect()
    assert conn.session.heartbeats == (100, 100)
    sub = await conn.subscribe("/queue/a")
    server = broker.last
    await in_thread(server.wait_for_heartbeats, 3)  # ours, every 0.1 s
    await asyncio.sleep(0.5)  # the broker's keep us connected meanwhile
    assert conn.connected
    server.go_silent()
    started = time.monotonic()
    with pytest.raises(ConnectionClosedException, match="no heart-beat from the broker"):
        await sub.get(timeout=5)
    assert time.monotonic() - started < 2
    assert conn._heartbeat_task is None or conn._heartbeat_task.done()
    assert await in_thread(server.wait_peer_closed)
    await conn.disconnect()


@aio_test
async def test_cancelled_send_leaves_no_partial_frame(make_broker: Callable[..., Any]) -> None:
    broker = make_broker(answer_receipts=False)
    conn = _conn(broker)
    await conn.connect()
    body = "x" * 3_000_000
    sending = asyncio.ensure_future(conn.send("/queue/a", body, receipt=True))
    await asyncio.sleep(0)  # queued whole; now waiting for its receipt
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert not conn._receipts
    await conn.send("/queue/a", "after")
    server = broker.last
    second = await in_thread(server.wait_for_frame, "SEND", 2)
    first = server.wait_for_frame("SEND", 1)
    assert len(first.body) == len(body) and second.body == b"after"
    await conn.disconnect(timeout=0.2)


@aio_test
async def test_a_broker_that_stops_reading_makes_send_wait_then_time_out(
    broker: FakeBroker,
) -> None:
    conn = _conn(broker, timeout=0.5)
    await conn.connect()
    broker.last.stop_reading()
    body = b"x" * 1_000_000
    with pytest.raises(asyncio.TimeoutError):
        for _ in range(200):  # bounded: the buffers hold some MB at most
            await conn.send("/queue/a", body)
    assert conn.connected  # still connected: the caller decides
    conn._link.abort()  # type: ignore[union-attr]
    await conn.disconnect(timeout=0.2)


@aio_test
async def test_max_buffered_pauses_reading_until_messages_are_taken(broker: FakeBroker) -> None:
    async with _conn(broker, max_buffered=10) as conn:
        sub = await conn.subscribe("/queue/a")
        server = broker.last
        for n in range(50):
            server.send_message("/queue/a", str(n), subscription=sub.id)
        # wait until reading stopped: at least max_buffered messages are waiting
        for _ in range(500):
            if sub.buffered >= 10:
                break
            await asyncio.sleep(0.01)
        assert conn._link is not None and conn._link.holding
        got = [(await sub.get(timeout=5)).body for _ in range(50)]
        assert got == [str(n) for n in range(50)]
        assert not conn._link.holding


@aio_test
async def test_malformed_input_ends_the_connection_after_the_good_frames(
    broker: FakeBroker,
) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        server = broker.last
        server.send_message("/queue/a", "good", subscription=sub.id)
        server.send_raw(b"MESSAGE\nno colon here\n\n\0")
        assert (await sub.get(timeout=5)).body == "good"
        with pytest.raises(ConnectionClosedException) as raised:
            await sub.get(timeout=5)
        assert isinstance(raised.value.__cause__, FrameError)
        assert await in_thread(server.wait_peer_closed)


@aio_test
async def test_a_lost_connection_fails_the_calls_waiting(make_broker: Callable[..., Any]) -> None:
    broker = make_broker(answer_receipts=False)
    conn = _conn(broker)
    await conn.connect()
    sending = asyncio.ensure_future(conn.send("/queue/a", "x", receipt=True))
    await in_thread(broker.last.wait_for_frame, "SEND")
    broker.last.close()
    with pytest.raises(ConnectionClosedException, match="lost"):
        await sending
    assert not conn.connected
    await conn.disconnect()


@aio_test
async def test_disconnect_ends_iteration_and_waits_for_its_receipt(broker: FakeBroker) -> None:
    conn = _conn(broker)
    await conn.connect()
    sub = await conn.subscribe("/queue/a")
    broker.last.send_message("/queue/a", "one", subscription=sub.id)

    got: list[str] = []
    first = asyncio.Event()

    async def consume() -> None:
        async for message in sub:
            got.append(message.body)
            first.set()

    consuming = asyncio.ensure_future(consume())
    await asyncio.wait_for(first.wait(), 5)
    await conn.disconnect()
    await asyncio.wait_for(consuming, 5)  # the iteration ended, without an error
    assert got == ["one"]
    disconnect = broker.last.wait_for_frame("DISCONNECT")
    assert disconnect.headers["receipt"]
    assert not conn.connected and conn._heartbeat_task is None


@aio_test
async def test_unsubscribe_and_leaving_the_block(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        async with await conn.subscribe("/queue/a", id="mine") as sub:
            assert sub.active
        unsubscribe = await in_thread(broker.last.wait_for_frame, "UNSUBSCRIBE")
        assert unsubscribe.headers == {"id": "mine"}
        assert not sub.active
        with pytest.raises(StopAsyncIteration):
            await sub.get(timeout=1)
        # a message of it still on its way is dropped quietly
        broker.last.send_message("/queue/a", "late", subscription="mine")
        await conn.send("/queue/b", "x", receipt=True)


@aio_test
async def test_transactions_commit_or_abort(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        async with await conn.begin() as tx:
            await tx.send("/queue/a", "in")
        with pytest.raises(RuntimeError):
            async with await conn.begin("t-2") as tx2:
                await conn.send("/queue/a", "out", transaction=tx2)
                raise RuntimeError("changed my mind")
        await conn.send("/queue/a", "sync", receipt=True)
        frames = [f for f in broker.last.frames if f.cmd != "STOMP"]
        begin, send, commit, begin2, send2, abort = [
            (f.cmd, f.headers.get("transaction")) for f in frames[:6]
        ]
        assert begin[0] == "BEGIN" and send == ("SEND", begin[1]) and commit[0] == "COMMIT"
        assert begin2 == ("BEGIN", "t-2") and send2 == ("SEND", "t-2")
        assert abort == ("ABORT", "t-2")


@pytest.mark.parametrize("version", ["1.0"])
@aio_test
async def test_1_0_messages_without_subscription_header_go_by_destination(
    broker: FakeBroker, version: str
) -> None:
    async with _conn(broker, version=version) as conn:
        sub = await conn.subscribe("/queue/plain")
        await in_thread(broker.last.wait_for_frame, "SUBSCRIBE")
        broker.last.send_frame("MESSAGE", {"destination": "/queue/plain", "message-id": "m1"}, "hi")
        assert (await sub.get(timeout=5)).body == "hi"


@aio_test
async def test_calls_before_connect_raise() -> None:
    conn = _conn(("127.0.0.1", 1))
    with pytest.raises(NotConnectedException):
        await conn.send("/queue/a", "x")
    with pytest.raises(NotConnectedException):
        await conn.subscribe("/queue/a")
    await conn.disconnect()  # nothing to do


@aio_test
async def test_bytes_bodies_and_no_decoding(broker: FakeBroker) -> None:
    async with _conn(broker, auto_decode=False) as conn:
        sub = await conn.subscribe("/queue/a")
        broker.last.send_message("/queue/a", b"\x00\xff", subscription=sub.id)
        assert (await sub.get(timeout=5)).body == b"\x00\xff"


@aio_test
async def test_messages_keep_no_copy_of_their_headers(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        broker.last.send_message("/queue/a", "x", headers={"k": "v"}, subscription=sub.id)
        message = await sub.get(timeout=5)
        assert message.headers["k"] == "v"
        assert message.original_headers is message.headers


@aio_test
async def test_reads_grow_only_while_large_frames_arrive(broker: FakeBroker) -> None:
    from stomp.aio._link import LARGE_READ_BYTES, READ_BYTES

    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        link = conn._link
        assert link is not None and link.transport is not None
        assert link.transport.max_size == READ_BYTES  # type: ignore[attr-defined]
        body = b"b" * (1 << 20)
        head = (
            f"MESSAGE\ndestination:/queue/a\nmessage-id:1\nsubscription:{sub.id}\n"
            f"content-length:{len(body)}\n\n"
        ).encode()
        broker.last.send_raw(head + body[:1000])
        awaiting = len(body) - 1000 + 1  # (the rest of the body and its NUL)
        for _ in range(500):  # (until all of it is read)
            if link._decoder.awaiting == awaiting:
                break
            await asyncio.sleep(0.01)
        assert link._decoder.awaiting == awaiting
        assert link.transport.max_size == LARGE_READ_BYTES  # type: ignore[attr-defined]
        broker.last.send_raw(body[1000:] + b"\0")
        assert (await sub.get(timeout=5)).body == body.decode()
        # (large frames come in a row: reads stay large until a small one)
        assert link.transport.max_size == LARGE_READ_BYTES  # type: ignore[attr-defined]
        broker.last.send_message("/queue/a", "small", subscription=sub.id)
        assert (await sub.get(timeout=5)).body == "small"
        assert link.transport.max_size == READ_BYTES  # type: ignore[attr-defined]


@aio_test
async def test_ipv6_loopback(make_broker: Callable[..., Any]) -> None:
    try:
        broker = make_broker(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    async with _conn(broker) as conn:
        await conn.send("/queue/a", "x", receipt=True)


@aio_test
async def test_tls(make_broker: Callable[..., Any], server_tls: ssl.SSLContext, ca: Any) -> None:
    broker = make_broker(tls_context=server_tls)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with _conn(broker, ssl=context) as conn:
        await conn.send("/queue/a", "secret", receipt=True)
    assert broker.last.wait_for_frame("SEND").body == b"secret"

    untrusting = ssl.create_default_context()  # the test CA is not in it
    conn = _conn(broker, ssl=untrusting, reconnect_attempts_max=1)
    with pytest.raises(ConnectFailedException, match="CERTIFICATE_VERIFY_FAILED"):
        await conn.connect()


@aio_test
async def test_a_subscribe_that_raises_leaves_no_subscription(
    make_broker: Callable[..., Any],
) -> None:
    broker = make_broker(answer_receipts=False)
    conn = _conn(broker, timeout=0.3)
    await conn.connect()
    with pytest.raises(asyncio.TimeoutError):
        await conn.subscribe("/queue/a", id="s1", receipt=True)
    unsubscribe = await in_thread(broker.last.wait_for_frame, "UNSUBSCRIBE")
    assert unsubscribe.headers["id"] == "s1"
    assert not conn._subscriptions and "s1" not in conn.session.subscriptions
    await conn.disconnect(timeout=0.2)


@aio_test
async def test_a_failing_abort_does_not_hide_the_blocks_exception(broker: FakeBroker) -> None:
    async with _conn(broker) as conn:
        tx = await conn.begin("t-1")

        async def abort_fails(*args: Any, **kwargs: Any) -> None:
            raise NotConnectedException("gone")

        conn.abort = abort_fails  # type: ignore[method-assign]
        with pytest.raises(KeyError):
            async with tx:
                raise KeyError("the block's own")


# --- async for: how a message is taken -------------------------------------------------------
# With the C accelerator, Subscription.__anext__ comes from stomp._speedups.BufferBase (no
# coroutine per buffered message); without it, it is the ``_next`` coroutine.  Each test runs
# on both: "python" puts ``_next`` back as ``__anext__`` for the test.


@pytest.fixture(params=["accelerated", "python"])
def take_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    from stomp.aio.subscription import Subscription
    from stomp.codec.decode import _accelerator

    if request.param == "accelerated":
        if _accelerator is None:
            pytest.skip("the C accelerator is not built (or STOMP_NO_SPEEDUPS=1)")
        assert "__anext__" not in vars(Subscription)
    else:
        monkeypatch.setattr(Subscription, "__anext__", Subscription._next, raising=False)
    return str(request.param)


async def _buffered(sub: stomp.aio.Subscription, count: int) -> None:
    # (the messages the fake broker sent have been read and buffered)
    for _ in range(500):
        if sub.buffered >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{sub.buffered} messages buffered, not {count}")


def test_async_for_takes_buffered_messages_without_a_coroutine(broker: FakeBroker) -> None:
    from stomp.aio.subscription import Subscription
    from stomp.codec.decode import _accelerator

    if _accelerator is None:
        pytest.skip("the C accelerator is not built (or STOMP_NO_SPEEDUPS=1)")
    assert Subscription.__mro__[1] is _accelerator.BufferBase

    async def main() -> None:
        async with _conn(broker) as conn:
            sub = await conn.subscribe("/queue/a")
            broker.last.send_message("/queue/a", "one", subscription=sub.id)
            await _buffered(sub, 1)
            awaitable = sub.__anext__()
            assert not inspect.iscoroutine(awaitable)  # (no coroutine object was made)
            assert asyncio.iscoroutine(awaitable)  # (though it has a coroutine's methods)
            message = await awaitable
            assert message.body == "one" and message.subscription is sub
            with pytest.raises(RuntimeError, match="already awaited"):
                await awaitable

    run(main())


@aio_test
async def test_async_for_in_order_and_until_the_end(broker: FakeBroker, take_path: str) -> None:
    async with _conn(broker, max_buffered=10) as conn:
        sub = await conn.subscribe("/queue/a")
        server = broker.last
        for n in range(40):
            server.send_message("/queue/a", str(n), subscription=sub.id)
        await _buffered(sub, 10)
        assert conn._link is not None and conn._link.holding  # (full: reading held)
        got: list[str] = []
        async for message in sub:
            got.append(message.body)
            assert message.subscription is sub
            if len(got) == 40:
                await sub.unsubscribe()  # (the iteration then ends)
        assert got == [str(n) for n in range(40)]
        assert not conn._link.holding


@aio_test
async def test_a_next_never_awaited_takes_nothing(broker: FakeBroker, take_path: str) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        for body in ("one", "two"):
            broker.last.send_message("/queue/a", body, subscription=sub.id)
        await _buffered(sub, 2)
        # made and dropped; put in a task that is cancelled before it ever runs
        dropped = sub.__anext__()
        if asyncio.iscoroutine(dropped):
            dropped.close()  # (a coroutine never awaited: closed, as a task would)
        del dropped
        task = asyncio.ensure_future(anext(sub))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert sub.buffered == 2
        assert [(await anext(sub)).body, (await anext(sub)).body] == ["one", "two"]


@aio_test
async def test_a_wait_cancelled_loses_no_message(broker: FakeBroker, take_path: str) -> None:
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(sub), 0.05)  # (waiting: nothing buffered)
        waiting = asyncio.ensure_future(anext(sub))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        broker.last.send_message("/queue/a", "one", subscription=sub.id)
        message = await asyncio.wait_for(anext(sub), 5)  # (the wait, through _next)
        assert message.body == "one" and sub.buffered == 0


@aio_test
async def test_a_subscription_and_its_messages_are_collected(
    broker: FakeBroker, take_path: str
) -> None:
    import gc
    import weakref

    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        broker.last.send_message("/queue/a", "one", subscription=sub.id)
        await _buffered(sub, 1)
        await sub.unsubscribe()
    # (a buffered message refers to its subscription, which holds the buffer: a cycle)
    gone = weakref.ref(sub)
    del sub
    gc.collect()
    assert gone() is None


def test_the_c_routing_leaves_other_classes_and_a_replaced_buffer_is_used() -> None:
    # route() routes only MessageBase classes (anything else is the Python loop's: it
    # returns 0); a subscription's buffer replaced is the one route() fills and `async for`
    # takes from (its append and popleft are bound when it is set).
    from collections import deque

    from stomp.aio.subscription import Message, Subscription
    from stomp.codec.decode import _accelerator

    if _accelerator is None:
        pytest.skip("the C accelerator is not built (or STOMP_NO_SPEEDUPS=1)")

    async def main() -> None:
        conn = _conn(("127.0.0.1", 9))
        sub = Subscription(conn, "a", "/queue/a", "auto", 100)
        plain = [Frame("MESSAGE", {"subscription": "a"}, "x")]
        fed: list[Subscription] = []
        assert _accelerator.route(plain, {"a": sub}, Frame, fed) == 0 and not fed
        old = sub._queue
        sub._queue = deque()
        messages = [Message("MESSAGE", {"subscription": "a"}, str(i)) for i in range(2)]
        assert _accelerator.route(messages, {"a": sub}, Message, fed) == 2 and fed == [sub]
        assert not old and [m.body for m in sub._queue] == ["0", "1"]
        assert (await sub.__anext__()).body == "0" and sub.buffered == 1
        del sub._queue
        with pytest.raises(AttributeError):
            sub._queue

    run(main())


def test_a_message_copies_and_pickles_with_its_attributes() -> None:
    # With the accelerator a message's frame attributes and subscription are C fields
    # (not in its __dict__); a copy and a pickle keep them either way, and any other
    # attribute set on it.
    import copy
    import pickle

    from stomp.aio.subscription import Message
    from stomp.codec.decode import _accelerator

    assert issubclass(Message, Frame)
    assert (_accelerator is not None) is (
        Message.__mro__[2] is getattr(_accelerator, "MessageBase", None)
    )
    message = Message("MESSAGE", {"message-id": "m-1", "destination": "/queue/a"}, "body")
    assert not hasattr(message, "subscription")  # (none until routed)
    message.note = "mine"  # type: ignore[attr-defined]
    for twin in (copy.copy(message), pickle.loads(pickle.dumps(message))):
        assert type(twin) is Message
        assert (twin.cmd, twin.headers, twin.body) == ("MESSAGE", message.headers, "body")
        assert twin.original_headers == message.original_headers
        assert twin.note == "mine"  # type: ignore[attr-defined]
        assert not hasattr(twin, "subscription")
    message.subscription = "sub"  # type: ignore[assignment]
    assert copy.copy(message).subscription == "sub"
    del message.subscription
    assert not hasattr(message, "subscription")


@pytest.mark.parametrize("path", ["accelerated", "python"])
def test_the_frames_of_a_read_are_delivered_in_order(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # _deliver on a crafted read: MESSAGEs of two subscriptions, a RECEIPT between them, one
    # for no subscription and one without a subscription header (1.0: by destination).  The
    # accelerated path routes the leading MESSAGEs in C and the Python loop the rest.
    import stomp.aio.connection as connection_module
    from stomp.aio.subscription import Message, Subscription

    if path == "python":
        monkeypatch.setattr(connection_module, "_route", None)
    elif connection_module._route is None:
        pytest.skip("the C accelerator is not built (or STOMP_NO_SPEEDUPS=1)")

    def message(body: str, **headers: str) -> Message:
        frame = Message("MESSAGE", {"message-id": body, **headers}, body)
        return frame

    async def main() -> None:
        conn = _conn(("127.0.0.1", 9))
        a = Subscription(conn, "a", "/queue/a", "auto", 100)
        b = Subscription(conn, "b", "/queue/b", "auto", 100)
        conn._subscriptions.update(a=a, b=b)
        receipt = asyncio.get_running_loop().create_future()
        conn._receipts["r-1"] = receipt
        woken: list[str] = []
        for sub in (a, b):
            monkeypatch.setattr(sub, "_fed", lambda sub=sub: woken.append(sub.id))
        frames: list[Frame] = [
            message("1", subscription="a", destination="/queue/a"),
            message("2", subscription="b", destination="/queue/b"),
            message("3", subscription="a", destination="/queue/a"),
            Frame("RECEIPT", {"receipt-id": "r-1"}),
            message("4", subscription="b", destination="/queue/b"),
            message("5", subscription="zz", destination="/queue/zz"),  # (none: dropped)
            message("6", destination="/queue/a"),  # (no header: by destination)
        ]
        conn._deliver(frames)
        assert [m.body for m in a._queue] == ["1", "3", "6"]
        assert [m.body for m in b._queue] == ["2", "4"]
        assert all(m.subscription is a for m in a._queue)
        assert all(m.subscription is b for m in b._queue)
        assert woken == ["a", "b"]  # (each once, in the order first fed)
        assert receipt.done() and receipt.result() is frames[3]

    run(main())


@aio_test
async def test_a_step_driven_by_hand_is_a_coroutine(broker: FakeBroker, take_path: str) -> None:
    # send(), throw() and close() on what __anext__ returns behave as on a coroutine: what
    # other schedulers (and Python 3.12's SEND with a value) use.
    async with _conn(broker) as conn:
        sub = await conn.subscribe("/queue/a")
        broker.last.send_message("/queue/a", "one", subscription=sub.id)
        await _buffered(sub, 1)

        step = sub.__anext__()
        with pytest.raises(ValueError, match="not now"):
            step.throw(ValueError("not now"))  # (before it ran: nothing taken)
        with pytest.raises(RuntimeError, match="already awaited"):
            step.send(None)
        sub.__anext__().close()
        assert sub.buffered == 1

        step = sub.__anext__()
        with pytest.raises(StopIteration) as stop:
            step.send(None)
        assert stop.value.value.body == "one" and sub.buffered == 0

        step = sub.__anext__()  # (nothing buffered: it waits, through _next)
        waiter = step.send(None)
        assert isinstance(waiter, asyncio.Future) and not waiter.done()
        waiter._asyncio_future_blocking = False  # (as a task does with what it is given)
        with pytest.raises(asyncio.CancelledError):
            step.throw(asyncio.CancelledError())
        step = sub.__anext__()
        waiter = step.send(None)
        assert isinstance(waiter, asyncio.Future)
        waiter._asyncio_future_blocking = False
        step.close()
        broker.last.send_message("/queue/a", "two", subscription=sub.id)
        assert (await asyncio.wait_for(anext(sub), 5)).body == "two"
