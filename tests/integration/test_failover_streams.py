"""Nothing receipted is lost when the broker node a client is on is killed mid-stream.

A producer sends thousands of persistent messages with confirmed publishing
(``send_confirmed``) and a consumer takes them with ``client-individual``
acknowledgements, both with ``auto_reconnect`` and every node of the cluster in their host
list, both on the same node.  Part way, that node is killed with ``kill -9``.  Then:

* every message whose send was confirmed is consumed at least once;
* every message consumed twice carries the broker's ``redelivered`` mark or was sent
  twice by the producer (a confirmed send unconfirmed at the loss is sent again: at least
  once); they are counted and printed;
* no call hangs (every wait is bounded), and the time from the kill until the consumer
  gets a message again is measured and printed.

RabbitMQ: the 3-node cluster with a quorum queue; ActiveMQ: the shared-store master/slave
pair (the slave takes over), and one ActiveMQ alone, killed and started again on its store.  Both from ``scripts/brokers cluster-start`` (skipped without
them, failed in CI); the fixtures make the clusters whole again afterwards.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from typing import Any

import pytest
from support.clusters import ActiveMQPair, RabbitMQCluster

import stomp
from brokerinfo import RABBITMQ_QUORUM, ClusterNode
from stomp.codec import Frame
from stomp.exception import NotConnectedException, StaleAckException

pytestmark = pytest.mark.timeout(300)

#: How many messages the producer sends; the node is killed after KILL_AFTER of them
#: were consumed.
COUNT = 3000
KILL_AFTER = 800
WAIT = 120.0  # the longest any phase may take, in seconds


class Consumer(stomp.ConnectionListener):
    """Acknowledges each message; records each delivery as (n, redelivered, when)."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.deliveries: list[tuple[int, bool, float]] = []
        self.changed = threading.Condition()
        self.connected = 0
        self.connected_at: list[float] = []

    def on_connected(self, frame: Frame) -> None:
        with self.changed:
            self.connected += 1
            self.connected_at.append(time.monotonic())

    def on_message(self, frame: Frame) -> None:
        with self.changed:
            self.deliveries.append(
                (
                    int(frame.headers["n"]),
                    frame.headers.get("redelivered") == "true",
                    time.monotonic(),
                )
            )
            self.changed.notify_all()
        try:
            self.conn.ack(frame.headers["ack"])
        except (NotConnectedException, StaleAckException, OSError):
            pass  # (the link is going: the broker delivers it again)

    def wait(self, predicate: Any, timeout: float = WAIT) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def numbers(self) -> set[int]:
        with self.changed:
            return {n for n, _, _ in self.deliveries}


class Sends(stomp.ConnectionListener):
    """Counts the SEND frames written per message number (a resend writes it again)."""

    def __init__(self) -> None:
        self.written: collections.Counter[int] = collections.Counter()

    def on_send(self, frame: Frame) -> None:
        if frame.cmd == "SEND" and "n" in frame.headers:
            self.written[int(frame.headers["n"])] += 1


def _run_stream(
    nodes: list[ClusterNode],
    destination: str,
    send_headers: dict[str, str],
    subscribe_headers: dict[str, str],
    kill: Any,
    what: str = "killed",
) -> None:
    first = nodes[0]
    policy = stomp.ReconnectPolicy(max_time=WAIT, wait=WAIT)

    def connection() -> Any:
        return stomp.Connection12(
            [node.address for node in nodes],
            vhost=first.vhost,
            timeout=10,
            heartbeats=(1000, 1000),
            auto_reconnect=policy,
            reconnect_sleep_initial=0.1,
            reconnect_sleep_max=1.0,
        )

    consumer = Consumer()
    consumer_conn = consumer.conn = connection()
    consumer_conn.set_listener("consumer", consumer)
    consumer_conn.connect(first.login, first.passcode, wait=True)
    producer = connection()
    sends = Sends()
    producer.set_listener("sends", sends)
    producer.connect(first.login, first.passcode, wait=True)
    assert consumer_conn.transport.current_host_and_port == first.address
    assert producer.transport.current_host_and_port == first.address
    try:
        consumer_conn.subscribe(
            destination, id="1", ack="client-individual", headers=subscribe_headers
        )
        futures = []
        killed_at = None
        for n in range(COUNT):
            futures.append(
                producer.send_confirmed(
                    destination,
                    f"m{n}",
                    headers={**send_headers, "n": str(n), "persistent": "true"},
                )
            )
            if n == KILL_AFTER * 2:
                assert consumer.wait(lambda: len(consumer.deliveries) >= KILL_AFTER)
                killed_at = time.monotonic()
                kill()
        assert killed_at is not None
        producer.wait_for_confirms(WAIT)  # (raises if any failed)
        confirmed = {n for n, future in enumerate(futures) if future.exception() is None}
        assert confirmed == set(range(COUNT))
        assert consumer.wait(lambda: confirmed <= consumer.numbers()), (
            f"missing: {sorted(confirmed - consumer.numbers())[:20]}"
        )
        with consumer.changed:
            deliveries = list(consumer.deliveries)
        # Each broker message's first delivery is unmarked, later ones are marked
        # redelivered: a number delivered unmarked more often than it was written is a
        # duplicate nothing explains.
        unmarked = collections.Counter(n for n, again, _ in deliveries if not again)
        unexplained = [n for n, count in unmarked.items() if count > sends.written[n]]
        assert not unexplained, unexplained[:20]
        resent = {n for n, times in sends.written.items() if times > 1}
        redeliveries = sum(1 for _, again, _ in deliveries if again)
        reconnected = consumer.connected_at[-1]
        after = [when for _, _, when in deliveries if when > reconnected]
        print(
            f"{first.node} {what} after {KILL_AFTER} of {COUNT} consumed: the consumer was "
            f"connected again {reconnected - killed_at:.2f} s later and had a message "
            f"{(min(after) if after else float('nan')) - killed_at:.2f} s after the kill; "
            f"{len(resent)} sends written twice, {redeliveries} redeliveries, "
            f"{len(deliveries) - COUNT} duplicate deliveries in all"
        )
        assert consumer.connected >= 2
        if len(nodes) > 1:
            assert producer.transport.current_host_and_port != first.address
    finally:
        producer.disconnect()
        consumer_conn.disconnect()


def test_killing_the_rabbitmq_node_loses_nothing_confirmed(
    rabbitmq_cluster: RabbitMQCluster,
) -> None:
    cluster = rabbitmq_cluster
    nodes = list(cluster.nodes)
    queue = f"stompng.stream.{uuid.uuid4().hex[:12]}"
    try:
        _run_stream(
            nodes,
            f"/queue/{queue}",
            RABBITMQ_QUORUM,
            {**RABBITMQ_QUORUM, "prefetch-count": "200"},
            lambda: cluster.kill(nodes[0]),
        )
    finally:
        cluster.start(nodes[0])  # (back, and rejoined)
        cluster.delete_queue(nodes[1], queue)


def test_killing_the_activemq_master_loses_nothing_confirmed(
    activemq_pair: ActiveMQPair,
) -> None:
    pair = activemq_pair
    master = pair.master()
    nodes = [master, pair.other(master)]
    _run_stream(
        nodes,
        f"/queue/stompng.stream.{uuid.uuid4().hex[:12]}",
        {},
        {"activemq.prefetchSize": "200"},
        lambda: pair.kill(master),
    )


def test_restarting_a_single_activemq_loses_nothing_confirmed(
    activemq_pair: ActiveMQPair,
) -> None:
    # One broker on its own (the pair's slave stopped): killed with kill -9 and started
    # again on the same store; the clients wait for it and carry on.
    pair = activemq_pair
    master = pair.master()
    pair.stop(pair.other(master))

    def restart() -> None:
        pair.kill(master)
        pair.start(master)

    _run_stream(
        [master],
        f"/queue/stompng.restart.{uuid.uuid4().hex[:12]}",
        {},
        {"activemq.prefetchSize": "200"},
        restart,
    )


def test_a_paused_activemq_is_found_by_heartbeats_and_recovered(
    activemq_pair: ActiveMQPair,
) -> None:
    # A half-open link: the broker (alone, the pair's slave stopped) is stopped with
    # SIGSTOP, its sockets open and silent.  The clients find it through heart-beats (1 s,
    # so within about 2 s), try to connect again (the kernel still accepts TCP, nothing
    # answers CONNECT), and carry on once it runs again.  The pause lasts PAUSE seconds:
    # that is what is tested, so it is a sleep.
    pair = activemq_pair
    master = pair.master()
    pair.stop(pair.other(master))

    def pause() -> None:
        pair.pause(master)
        try:
            time.sleep(PAUSE)
        finally:
            pair.resume(master)

    _run_stream(
        [master],
        f"/queue/stompng.paused.{uuid.uuid4().hex[:12]}",
        {},
        {"activemq.prefetchSize": "200"},
        pause,
        f"paused for {PAUSE} s",
    )


#: How long the paused broker stays stopped, in seconds.
PAUSE = 5.0
