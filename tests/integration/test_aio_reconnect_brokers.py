"""Automatic reconnection of the asyncio client against RabbitMQ and ActiveMQ, through a
loopback proxy (:mod:`support.tcpproxy`) that cuts the link in the middle of a stream, or
freezes it (a half-open link, found by heart-beats): the client connects again, subscribes
again, sends again the SENDs whose receipts were lost, and every receipted message is
consumed (at least once: duplicates come marked ``redelivered`` or are resends)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from support.aio import aio_test
from support.tcpproxy import TcpProxy

import stomp.aio
from stomp.exception import StaleAckException

COUNT = 300


def _conn(info: Any, proxy: TcpProxy, **options: Any) -> stomp.aio.Connection:
    return stomp.aio.Connection(
        [proxy.address],
        username=info.login,
        passcode=info.passcode,
        vhost=info.vhost,
        timeout=10.0,
        auto_reconnect=True,
        reconnect_sleep_initial=0.05,
        **options,
    )


async def _stream(info: Any, proxy: TcpProxy, break_link: Any, **options: Any) -> None:
    queue = f"/queue/stompng-aio-reconnect-{uuid.uuid4().hex[:12]}"
    producer = _conn(info, proxy, **options)
    consumer = _conn(info, proxy, **options)
    await producer.connect()
    await consumer.connect()
    seen: dict[str, int] = {}
    done = asyncio.Event()
    stale = 0

    async def consume() -> None:
        nonlocal stale
        sub = await consumer.subscribe(
            queue, ack="client-individual", prefetch=50, persistent="true"
        )
        async for message in sub:
            n = message.headers["n"]
            seen[n] = seen.get(n, 0) + 1
            try:
                await message.ack()
            except StaleAckException:
                stale += 1  # delivered again on the new connection
            if len(seen) == COUNT:
                done.set()
                return

    consuming = asyncio.ensure_future(consume())
    for n in range(COUNT):
        await producer.send(queue, f"m{n}", receipt=True, n=str(n), persistent="true")
        if n == COUNT // 3:
            break_link()
    await asyncio.wait_for(done.wait(), 60)
    await consuming
    assert sorted(seen, key=int) == [str(n) for n in range(COUNT)]
    assert producer.reconnections >= 1 and consumer.reconnections >= 1
    await producer.disconnect()
    await consumer.disconnect()


@aio_test
async def test_a_cut_link_loses_no_receipted_message(proxied: tuple[Any, TcpProxy]) -> None:
    info, proxy = proxied
    await _stream(info, proxy, proxy.cut)


@aio_test
async def test_a_frozen_link_is_found_by_heartbeats(proxied: tuple[Any, TcpProxy]) -> None:
    info, proxy = proxied
    await _stream(info, proxy, proxy.freeze, heartbeats=(500, 500))
