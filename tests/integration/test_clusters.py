"""The failure tests' clusters work: a node killed with kill -9 loses no receipted message.

The RabbitMQ cluster (three nodes, a quorum queue on all of them) and the ActiveMQ
master/slave pair (one shared KahaDB store) are started by ``scripts/brokers
cluster-start``; the fixtures ``rabbitmq_cluster`` and ``activemq_pair`` skip these tests
when they are not running (and fail them in CI), and make the clusters whole again after
each test, so the tests run in any order. Every wait is bounded: receipts and messages
are waited for on listener events, a port coming up is polled with a deadline.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from support.clusters import ActiveMQPair, RabbitMQCluster, wait_answers_stomp
from support.recording import Collector

from brokerinfo import ACTIVEMQ_TAKEOVER_BOUND, RABBITMQ_QUORUM, ClusterNode

#: A test starts a node again (a RabbitMQ node takes about 8 s to boot and rejoin) and
#: may have to make the cluster whole first.
pytestmark = pytest.mark.timeout(300)

#: How long a message may take to arrive, in seconds: after a leader's death the quorum
#: queue needs a new leader (a few seconds) before it delivers again.
DELIVERY_TIMEOUT = 30.0

#: SUBSCRIBE headers for the quorum queue: its type (which every SEND and SUBSCRIBE to
#: /queue/NAME must repeat) and one unacknowledged message at a time.
SUBSCRIBE_QUORUM = {**RABBITMQ_QUORUM, "prefetch-count": "1"}


@contextmanager
def connected(
    make_conn: Callable[..., Any], node: ClusterNode, collector: Collector
) -> Iterator[Any]:
    """A stomp.Connection12 to ``node``, connected and disconnected politely at the end."""
    conn = make_conn(node.address, vhost=node.vhost)
    conn.set_listener("collector", collector)
    conn.connect(node.login, node.passcode, wait=True)
    try:
        yield conn
    finally:
        if conn.is_connected():
            conn.disconnect()


def send_receipted(
    make_conn: Callable[..., Any],
    node: ClusterNode,
    destination: str,
    body: str,
    headers: dict[str, str],
) -> None:
    """Send a persistent message through ``node`` and wait for the broker's RECEIPT."""
    collector = Collector(timeout=DELIVERY_TIMEOUT)
    receipt = f"send-{uuid.uuid4().hex[:8]}"
    with connected(make_conn, node, collector) as conn:
        conn.send(destination, body, headers={**headers, "persistent": "true", "receipt": receipt})
        collector.wait_receipt(receipt)
        assert not collector.errors, collector.errors


def receive_one(
    make_conn: Callable[..., Any],
    node: ClusterNode,
    destination: str,
    headers: dict[str, str],
) -> str:
    """Receive one message through ``node`` (SUBSCRIBE with ``headers``, client-individual
    ack, acknowledged with a receipt before the connection closes); returns its body."""
    collector = Collector(timeout=DELIVERY_TIMEOUT)
    with connected(make_conn, node, collector) as conn:
        conn.subscribe(
            destination,
            id="1",
            ack="client-individual",
            headers=headers,
        )
        (message,) = collector.wait_messages(1)[:1]
        conn.ack(message.headers["ack"], receipt="acked")
        collector.wait_receipt("acked")
        assert not collector.errors, collector.errors
        return str(message.body)


def test_rabbitmq_quorum_queue_keeps_a_receipted_message_when_its_leader_is_killed(
    rabbitmq_cluster: RabbitMQCluster, make_conn: Callable[..., Any]
) -> None:
    cluster = rabbitmq_cluster
    rabbit1, rabbit2, rabbit3 = cluster.nodes
    everyone = sorted(node.erlang_node for node in cluster.nodes)
    queue = f"stompng.cluster.{uuid.uuid4().hex[:12]}"
    destination = f"/queue/{queue}"
    try:
        # Declared as a quorum queue by the SEND's x-queue-type header, through node 1;
        # received through node 3.
        send_receipted(make_conn, rabbit1, destination, "first", RABBITMQ_QUORUM)
        declared = cluster.queue(rabbit3, queue)
        assert declared["type"] == "quorum", declared
        assert sorted(declared["members"]) == everyone, declared  # type: ignore[call-overload]
        assert receive_one(make_conn, rabbit3, destination, SUBSCRIBE_QUORUM) == "first"

        # A second message, receipted, then the node holding the queue's leader dies.
        send_receipted(make_conn, rabbit1, destination, "second", RABBITMQ_QUORUM)
        leader = cluster.node(str(cluster.queue(rabbit1, queue)["leader"]))
        cluster.kill(leader)
        survivor = next(node for node in (rabbit3, rabbit2, rabbit1) if node != leader)
        assert receive_one(make_conn, survivor, destination, SUBSCRIBE_QUORUM) == "second"

        # The killed node comes back and rejoins: three running nodes, as each sees it.
        cluster.start(leader)
        for node in cluster.nodes:
            assert cluster.running_nodes(node) == everyone, node.node
        assert sorted(cluster.queue(leader, queue)["members"]) == everyone  # type: ignore[call-overload]
    finally:
        cluster.restore()
        cluster.delete_queue(rabbit1, queue)


def test_activemq_slave_takes_over_with_the_persistent_message(
    activemq_pair: ActiveMQPair, make_conn: Callable[..., Any]
) -> None:
    pair = activemq_pair
    master = pair.master()
    slave = pair.other(master)
    destination = f"/queue/stompng.pair.{uuid.uuid4().hex[:12]}"

    send_receipted(make_conn, master, destination, "kept", {})
    killed_at = time.monotonic()
    pair.kill(master)
    wait_answers_stomp(slave, ACTIVEMQ_TAKEOVER_BOUND)
    took = time.monotonic() - killed_at
    print(f"{slave.node} answered STOMP {took:.2f} s after kill -9 of {master.node}")
    assert took <= ACTIVEMQ_TAKEOVER_BOUND, took
    assert receive_one(make_conn, slave, destination, {"activemq.prefetchSize": "1"}) == "kept"

    # The old master comes back as the slave.
    pair.start(master)
    assert pair.role(master) == "slave"
    assert pair.role(slave) == "master"
