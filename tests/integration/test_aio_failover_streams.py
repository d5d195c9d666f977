"""The asyncio client survives the broker node it is on being killed mid-stream.

As ``test_failover_streams.py`` does it for the threaded connections: a producer sends
persistent messages with receipts (many in flight at once) and a consumer takes them with
``client-individual`` acknowledgements, both ``stomp.aio`` connections with
``auto_reconnect`` and every node in their host list, both on the first node, which is
killed with ``kill -9`` part way.  Every message whose send returned its receipt is
consumed at least once; the time from the kill until the consumer has a message again is
printed.  RabbitMQ: the 3-node cluster with a quorum queue; ActiveMQ: the shared-store
master/slave pair (skipped without ``scripts/brokers cluster-start``, failed in CI).
"""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from typing import Any

import pytest
from support.aio import aio_test, in_thread
from support.clusters import ActiveMQPair, RabbitMQCluster

import stomp.aio
from brokerinfo import RABBITMQ_QUORUM, ClusterNode
from stomp.exception import StaleAckException
from stomp.reconnect import ReconnectPolicy

pytestmark = pytest.mark.timeout(300)

COUNT = 2000
KILL_AFTER = 500  # consumed before the kill
IN_FLIGHT = 100  # sends awaiting their receipts at once
WAIT = 120.0


async def _run_stream(
    nodes: list[ClusterNode],
    destination: str,
    send_headers: dict[str, str],
    subscribe_headers: dict[str, str],
    kill: Any,
) -> None:
    first = nodes[0]

    def connection() -> stomp.aio.Connection:
        return stomp.aio.Connection(
            [node.address for node in nodes],
            username=first.login,
            passcode=first.passcode,
            vhost=first.vhost,
            timeout=30.0,
            heartbeats=(1000, 1000),
            auto_reconnect=ReconnectPolicy(max_time=WAIT, wait=WAIT),
            reconnect_sleep_initial=0.1,
            reconnect_sleep_max=1.0,
        )

    producer, consumer = connection(), connection()
    await producer.connect()
    await consumer.connect()
    assert producer.host == consumer.host == first.address
    deliveries: list[tuple[int, bool, float, int]] = []
    enough = asyncio.Event()
    everything = asyncio.Event()
    confirmed: set[int] = set()

    async def consume() -> None:
        sub = await consumer.subscribe(
            destination, id="1", ack="client-individual", prefetch=None, **subscribe_headers
        )
        async for message in sub:
            n = int(message.headers["n"])
            redelivered = message.headers.get("redelivered") == "true"
            deliveries.append((n, redelivered, time.monotonic(), consumer.reconnections))
            try:
                await message.ack()
            except StaleAckException:
                pass  # delivered on the lost connection: it comes again
            if len(deliveries) >= KILL_AFTER:
                enough.set()
            if len({d[0] for d in deliveries}) == COUNT:
                everything.set()
                return

    consuming = asyncio.ensure_future(consume())
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def send(n: int) -> None:
        async with in_flight:
            await producer.send(
                destination, f"m{n}", receipt=True, **send_headers, n=str(n), persistent="true"
            )
            confirmed.add(n)

    killed_at = 0.0
    try:
        sending = [asyncio.ensure_future(send(n)) for n in range(KILL_AFTER * 2)]
        await asyncio.wait_for(enough.wait(), WAIT)
        killed_at = time.monotonic()
        await in_thread(kill)
        sending += [asyncio.ensure_future(send(n)) for n in range(KILL_AFTER * 2, COUNT)]
        await asyncio.wait_for(asyncio.gather(*sending), WAIT)
        assert confirmed == set(range(COUNT))
        await asyncio.wait_for(everything.wait(), WAIT)
        await consuming
    finally:
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await producer.disconnect()
        await consumer.disconnect()
    unmarked = collections.Counter(n for n, again, _, _ in deliveries if not again)
    after = [when for _, _, when, reconnected in deliveries if reconnected]
    print(
        f"{first.node} killed after {KILL_AFTER} consumed: the asyncio consumer had a "
        f"message of its new connection {min(after) - killed_at:.2f} s after the kill; "
        "producer and "
        f"consumer reconnected {producer.reconnections} and {consumer.reconnections} "
        f"time(s); {sum(1 for d in deliveries if d[1])} redeliveries, "
        f"{len(deliveries) - COUNT} duplicate deliveries, "
        f"{sum(1 for c in unmarked.values() if c > 1)} numbers unmarked twice (resends)"
    )
    assert producer.reconnections >= 1 and consumer.reconnections >= 1
    if len(nodes) > 1:
        assert producer.host != first.address


@aio_test
async def test_killing_the_rabbitmq_node_loses_nothing_receipted(
    rabbitmq_cluster: RabbitMQCluster,
) -> None:
    cluster = rabbitmq_cluster
    nodes = list(cluster.nodes)
    queue = f"stompng.aio-stream.{uuid.uuid4().hex[:12]}"
    try:
        await _run_stream(
            nodes,
            f"/queue/{queue}",
            RABBITMQ_QUORUM,
            {**RABBITMQ_QUORUM, "prefetch-count": "200"},
            lambda: cluster.kill(nodes[0]),
        )
    finally:
        await in_thread(cluster.start, nodes[0])
        await in_thread(cluster.delete_queue, nodes[1], queue)


@aio_test
async def test_killing_the_activemq_master_loses_nothing_receipted(
    activemq_pair: ActiveMQPair,
) -> None:
    pair = activemq_pair
    master = pair.master()
    await _run_stream(
        [master, pair.other(master)],
        f"/queue/stompng.aio-stream.{uuid.uuid4().hex[:12]}",
        {},
        {"activemq.prefetchSize": "200"},
        lambda: pair.kill(master),
    )
