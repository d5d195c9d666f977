"""A typed user's program, never run: ``mypy --strict tests/typing/usage.py`` checks it (a
check of ``scripts/run-tests``, the test command).

The ``assert_type`` lines pin what the main calls are to a type checker, so that a public
class that turns into ``Any`` fails the check.  The calls marked ``# type: ignore[...]`` are
wrong and must be rejected: with ``warn_unused_ignores`` (part of ``--strict``) an ignore
that is not needed, because the call was accepted, is itself an error.
"""

from __future__ import annotations

import ssl
from concurrent.futures import Future
from typing import Any

from typing_extensions import assert_type

import stomp
import stomp.aio
from stomp.adapter.ws import WSStompConnection
from stomp.connect import StompConnection10, StompConnection11, StompConnection12
from stomp.exception import ConnectFailedException, SendTimeoutException
from stomp.pull import Message
from stomp.utils import Frame


class Printer(stomp.ConnectionListener):
    def on_message(self, frame: Frame) -> None:
        print(frame.cmd, frame.headers.get("destination"), frame.body)


def connections() -> None:
    assert_type(stomp.Connection12([("127.0.0.1", 61613)], vhost="/"), StompConnection12)
    assert_type(stomp.Connection11([("127.0.0.1", 61613)], heartbeats=(0, 0)), StompConnection11)
    assert_type(stomp.Connection([("127.0.0.1", 61613)]), StompConnection11)
    assert_type(stomp.Connection10([("127.0.0.1", 61613)]), StompConnection10)
    assert_type(stomp.WSConnection([("127.0.0.1", 15674)], ws_path="/ws"), WSStompConnection)


def a_session() -> None:
    conn = stomp.Connection12([("127.0.0.1", 61613)], heartbeats=(4000, 4000), vhost="/")
    conn.set_listener("printer", Printer())
    try:
        conn.connect("guest", "guest", wait=True)
    except ConnectFailedException as exc:
        refusal: Frame | None = exc.frame
        if refusal is not None:
            print(refusal.headers.get("message"))
        raise
    assert_type(conn.is_connected(), bool)
    assert_type(conn.subscribe("/queue/a", id=1, ack="client-individual"), str | None)
    conn.send("/queue/a", "text", content_type="text/plain", headers={"priority": 4})
    conn.send("/queue/a", b"\x00bytes", receipt="r-1")
    conn.ack("ack-id")
    conn.nack("ack-id")
    conn.begin("tx-1")
    conn.send("/queue/a", "in a transaction", transaction="tx-1")
    conn.commit("tx-1")
    try:
        conn.flush(timeout=5.0)
    except SendTimeoutException:
        pass
    conn.unsubscribe(id=1)
    conn.disconnect()


def tls_and_keepalive() -> None:
    conn = stomp.Connection12([("127.0.0.1", 61614)], keepalive=("linux", 60, 10, 3))
    conn.set_ssl([("127.0.0.1", 61614)], ssl_context=ssl.create_default_context())
    conn.set_ssl([("127.0.0.1", 61614)], ca_certs="ca.pem", password=lambda: "secret")
    assert_type(conn.get_ssl(("127.0.0.1", 61614)), dict[str, Any] | None)
    stomp.Connection11(keepalive=True)


def reliability() -> None:
    policy = stomp.ReconnectPolicy(max_attempts=10, max_time=60.0)
    conn = stomp.Connection12([("127.0.0.1", 61613)], vhost="/", auto_reconnect=policy)
    stomp.Connection11(auto_reconnect=True)
    assert_type(conn.send_confirmed("/queue/a", "x", persistent="true"), Future[Frame])
    conn.wait_for_confirms(timeout=5.0)
    with conn.subscription("/queue/jobs", prefetch=10) as jobs:
        job = jobs.get(timeout=5.0)
        assert_type(job, Message)
        print(job.body, job.headers.get("message-id"))
        job.ack()
        for message in jobs:
            message.nack()


def wrong_calls(conn: stomp.Connection12) -> None:
    stomp.Connection12("127.0.0.1:61613")  # type: ignore[arg-type]
    stomp.Connection12([("127.0.0.1", "61613")])  # type: ignore[list-item]
    stomp.Connection12(heartbeats=4000)  # type: ignore[arg-type]
    stomp.Connection12(timeout="10")  # type: ignore[arg-type]
    stomp.Connection12(vhsot="/")  # type: ignore[call-arg]
    conn.send()  # type: ignore[call-arg]
    conn.connect(wait="yes")  # type: ignore[arg-type]
    conn.ack()  # type: ignore[call-arg]
    conn.set_ssl([("127.0.0.1", 61614)], ssl_context="ctx")  # type: ignore[arg-type]
    conn.set_ssl([("127.0.0.1", 61614)], verify_host=True)  # type: ignore[call-arg]
    stomp.Connection12(keepalive="yes")  # type: ignore[arg-type]
    stomp.Connection12(auto_reconnect="yes")  # type: ignore[arg-type]
    conn.send_confirmed()  # type: ignore[call-arg]


def listeners(conn: stomp.Connection12, *args: Any) -> None:
    waiting = stomp.WaitingListener("r-1")
    conn.set_listener("waiting", waiting)
    waiting.wait_on_receipt()
    stats = stomp.StatsListener()
    assert_type(stats.errors, int)


async def asyncio_client() -> None:
    context = ssl.create_default_context()
    async with stomp.aio.Connection(
        [("127.0.0.1", 61613)], vhost="/", heartbeats=(1000, 1000), ssl=context, timeout=5.0
    ) as conn:
        assert_type(conn, stomp.aio.Connection)
        assert_type(await conn.send("/queue/a", "x", receipt=True), Frame | None)
        sub = await conn.subscribe("/queue/a", ack="client-individual", prefetch=10)
        assert_type(sub, stomp.aio.Subscription)
        async for message in sub:
            assert_type(message, stomp.aio.Message)
            assert_type(message.headers, dict[str, Any])
            await message.ack()
            break
        assert_type(await sub.get(timeout=1.0), stomp.aio.Message)
        assert_type(sub.get_nowait(), stomp.aio.Message | None)
        async with await conn.begin() as tx:
            assert_type(tx, stomp.aio.Transaction)
            await tx.send("/queue/b", b"bytes")
        await conn.send("/queue/a", "x", timeout="soon")  # type: ignore[arg-type]
        await conn.subscribe("/queue/a", prefetch="ten")  # type: ignore[arg-type]
