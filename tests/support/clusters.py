"""Control of the failure tests' clusters: kill, stop, start, pause and resume their nodes.

Everything goes through ``scripts/brokers`` (``node-kill NAME`` and the like), so the
tests and a person at a terminal do the same things. Each call is bounded in time and
raises ``ClusterError`` with the script's output when it fails.

The fixtures ``rabbitmq_cluster`` and ``activemq_pair`` (tests/integration/conftest.py)
hand out the objects below and make the cluster whole again after each test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from brokerinfo import ACTIVEMQ_PAIR, CLUSTERS_HINT, RABBITMQ_CLUSTER, ClusterNode
from support.brokers import missing

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "brokers"

#: Bound, in seconds, of one call of scripts/brokers (a node-start waits at most
#: STOMP_NG_CLUSTER_TIMEOUT, 180 s by default, for its node).
SCRIPT_TIMEOUT = float(os.environ.get("STOMP_NG_CLUSTER_TIMEOUT") or 180) + 30


class ClusterError(AssertionError):
    """scripts/brokers failed (or took too long) doing what a test asked."""


def brokers(*args: str, timeout: float = SCRIPT_TIMEOUT) -> str:
    """Run ``scripts/brokers ARGS...``; returns its standard output."""
    try:
        done = subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"scripts/brokers {' '.join(args)} took more than {timeout} s") from exc
    if done.returncode != 0:
        raise ClusterError(
            f"scripts/brokers {' '.join(args)} failed (exit status {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    return done.stdout


def answers_stomp(node: ClusterNode, timeout: float = 2.0) -> bool:
    """Whether the node answers a STOMP CONNECT with CONNECTED right now."""
    connect = (
        f"CONNECT\naccept-version:1.2\nhost:{node.vhost}\nlogin:{node.login}\n"
        f"passcode:{node.passcode}\n\n\x00"
    ).encode()
    try:
        with socket.create_connection(node.address, timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(connect)
            data = b""
            while b"\x00" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            ok = data.lstrip(b"\r\n").startswith(b"CONNECTED")
            if ok:
                sock.sendall(b"DISCONNECT\n\n\x00")
            return ok
    except OSError:
        return False


def wait_answers_stomp(node: ClusterNode, timeout: float) -> float:
    """Poll the node's port until it answers STOMP; returns the seconds that took.

    Raises ClusterError when it does not within ``timeout`` seconds.
    """
    start = time.monotonic()
    while not answers_stomp(node):
        if time.monotonic() - start >= timeout:
            raise ClusterError(f"{node.name} did not answer STOMP within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


@dataclass(frozen=True)
class Cluster:
    """The nodes of one cluster and what a test may do to them."""

    nodes: tuple[ClusterNode, ...]
    kind: str  # "rabbitmq" or "activemq", as scripts/brokers cluster-start takes it

    def node(self, name: str) -> ClusterNode:
        """The node called ``name`` (``rabbit1``, ``amq2``...)."""
        for node in self.nodes:
            if name in (node.node, node.erlang_node):
                return node
        raise KeyError(name)

    def kill(self, node: ClusterNode) -> None:
        """kill -9 the node's process (returns once it is gone)."""
        brokers("node-kill", node.node)

    def stop(self, node: ClusterNode) -> None:
        """Stop the node cleanly (returns once its process is gone)."""
        brokers("node-stop", node.node)

    def start(self, node: ClusterNode) -> None:
        """Start the node again; returns once it answers STOMP and has rejoined the
        cluster (RabbitMQ), or is master or the waiting slave (ActiveMQ)."""
        brokers("node-start", node.node)

    def pause(self, node: ClusterNode) -> None:
        """SIGSTOP the node's process: its sockets stay open, nothing answers."""
        brokers("node-pause", node.node)

    def resume(self, node: ClusterNode) -> None:
        """SIGCONT the node's process."""
        brokers("node-resume", node.node)

    def role(self, node: ClusterNode) -> str:
        """``up``/``paused``/``starting``/``down`` (RabbitMQ), ``master``/``slave``/
        ``starting``/``paused``/``down`` (ActiveMQ)."""
        return brokers("node-role", node.node).strip()

    def roles(self) -> dict[str, str]:
        """Every node's role, by node name."""
        return {node.node: self.role(node) for node in self.nodes}

    def whole(self) -> bool:
        """Every node runs: all three RabbitMQ nodes up; one ActiveMQ master, one slave."""
        roles = sorted(self.roles().values())
        if self.kind == "rabbitmq":
            return roles == ["up", "up", "up"]
        return roles == ["master", "slave"]

    def restore(self) -> None:
        """Make the cluster whole again: resume paused nodes, start those that are down."""
        if self.whole():
            return
        roles = self.roles()
        for node in self.nodes:
            if roles[node.node] == "paused":
                self.resume(node)
        if all(role == "down" for role in roles.values()):
            brokers("cluster-start", self.kind)
            return
        # (node by node: cluster-start also re-checks the nodes that never went down)
        for node in self.nodes:
            if self.role(node) == "down":
                self.start(node)


@dataclass(frozen=True)
class RabbitMQCluster(Cluster):
    """The 3-node RabbitMQ cluster."""

    def rabbitmqctl(self, node: ClusterNode, *args: str) -> str:
        """``rabbitmqctl -n NODE ARGS...`` (through scripts/brokers cluster-rabbitmqctl)."""
        return brokers("cluster-rabbitmqctl", node.node, *args, timeout=90)

    def running_nodes(self, node: ClusterNode) -> list[str]:
        """The cluster's running nodes (Erlang names) as ``node`` sees them."""
        status = json.loads(self.rabbitmqctl(node, "cluster_status", "--formatter", "json"))
        return sorted(status.get("running_nodes", []))

    def queue(self, node: ClusterNode, name: str) -> dict[str, object]:
        """``name``, ``type``, ``members`` and ``leader`` of queue ``name`` in vhost "/"."""
        listing = json.loads(
            self.rabbitmqctl(
                node, "list_queues", "--formatter", "json", "name", "type", "members", "leader"
            )
        )
        for queue in listing:
            if queue.get("name") == name:
                return dict(queue)
        raise ClusterError(f"no queue {name!r} on {node.erlang_node}: {listing}")

    def delete_queue(self, node: ClusterNode, name: str) -> None:
        """Delete queue ``name`` (vhost "/")."""
        self.rabbitmqctl(node, "delete_queue", name)


@dataclass(frozen=True)
class ActiveMQPair(Cluster):
    """The ActiveMQ master/slave pair."""

    def master(self) -> ClusterNode:
        """The broker that is master now (its port is open)."""
        for node in self.nodes:
            if self.role(node) == "master":
                return node
        raise ClusterError(f"no master in the ActiveMQ pair: {self.roles()}")

    def other(self, node: ClusterNode) -> ClusterNode:
        """The other broker of the pair."""
        (other,) = [n for n in self.nodes if n != node]
        return other


def _require(cluster: Cluster, what: str) -> None:
    """Skip (fail in CI) unless the cluster was started; make it whole if a node is down."""
    if not any(answers_stomp(node) for node in cluster.nodes):
        missing(f"the {what} is not running (none of its nodes answers STOMP); {CLUSTERS_HINT}")
    cluster.restore()


def rabbitmq_cluster() -> RabbitMQCluster:
    """The RabbitMQ cluster, whole (skipped, or failed in CI, when it was not started)."""
    cluster = RabbitMQCluster(RABBITMQ_CLUSTER, "rabbitmq")
    _require(cluster, "RabbitMQ cluster")
    return cluster


def activemq_pair() -> ActiveMQPair:
    """The ActiveMQ pair, whole (skipped, or failed in CI, when it was not started)."""
    pair = ActiveMQPair(ACTIVEMQ_PAIR, "activemq")
    _require(pair, "ActiveMQ master/slave pair")
    return pair
