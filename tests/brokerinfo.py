"""Where the test brokers listen and how to log in to them.

One place for the hosts, ports and credentials that ``scripts/brokers``
configures (see ``tests/broker-configs/``), so tests never repeat them. Importable
as ``brokerinfo`` because pytest puts ``tests/`` on ``sys.path``
(``pythonpath`` in ``pyproject.toml``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Broker:
    """A STOMP endpoint of a test broker.

    Attributes:
        name: Human-readable name used in skip and failure messages.
        host: Address to connect to (always loopback).
        port: TCP port.
        login: User name for the ``login`` header.
        passcode: Password for the ``passcode`` header.
        vhost: Value for the ``host`` header of CONNECT.
    """

    name: str
    host: str
    port: int
    login: str
    passcode: str
    vhost: str

    @property
    def address(self) -> tuple[str, int]:
        """The ``(host, port)`` pair, as stomp.py's ``host_and_ports`` wants it."""
        return (self.host, self.port)


#: RabbitMQ 3.10 with the rabbitmq_stomp plugin; user guest is loopback-only.
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RABBITMQ = Broker("RabbitMQ", "127.0.0.1", 61613, "guest", "guest", "/")

#: stomp-ng's own embedded broker (stomp.broker), started in-process by the
#: ``embedded_stomp`` fixture on a port free when the tests start.
EMBEDDED = Broker("Embedded", "127.0.0.1", _free_port(), "guest", "guest", "")

#: RabbitMQ's STOMP over WebSocket (rabbitmq_web_stomp), ws://127.0.0.1:15674/ws.
RABBITMQ_WEB_STOMP = Broker("RabbitMQ web-stomp", "127.0.0.1", 15674, "guest", "guest", "/")
RABBITMQ_WEB_STOMP_PATH = "/ws"

#: ActiveMQ Classic 5.17 (tests/broker-configs/activemq/activemq.xml): STOMP on 61623,
#: simple authentication with the single user admin/password.
ACTIVEMQ = Broker("ActiveMQ", "127.0.0.1", 61623, "admin", "password", "localhost")

#: ActiveMQ's STOMP over TLS: asks for a client certificate but lets clients without
#: one in (``wantClientAuth``); one that does not chain to the test CA is refused.
ACTIVEMQ_SSL = Broker("ActiveMQ STOMP+SSL", "127.0.0.1", 61624, "admin", "password", "localhost")

#: ActiveMQ's STOMP over TLS that requires a client certificate signed by the test CA
#: (``needClientAuth``).
ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED = Broker(
    "ActiveMQ STOMP+SSL (client certificate required)",
    "127.0.0.1",
    61625,
    "admin",
    "password",
    "localhost",
)


@dataclass(frozen=True)
class ClusterNode(Broker):
    """A node of one of the failure tests' clusters (``scripts/brokers cluster-start``).

    Attributes:
        node: its name for ``scripts/brokers node-kill`` and the like (``rabbit1``..
            ``rabbit3``, ``amq1``, ``amq2``).
        erlang_node: the RabbitMQ node name (``stompng-c1@localhost``); empty for
            ActiveMQ.
    """

    node: str = ""
    erlang_node: str = ""


#: The 3-node RabbitMQ 3.10 cluster (tests/broker-configs/rabbitmq-cluster/): STOMP on
#: 61701-61703, guest/guest, vhost "/". Quorum queues: SEND and SUBSCRIBE to
#: ``/queue/NAME`` with the header ``x-queue-type: quorum`` (see RABBITMQ_QUORUM).
RABBITMQ_CLUSTER = tuple(
    ClusterNode(
        f"RabbitMQ cluster node rabbit{i}",
        "127.0.0.1",
        61700 + i,
        "guest",
        "guest",
        "/",
        node=f"rabbit{i}",
        erlang_node=f"stompng-c{i}@localhost",
    )
    for i in (1, 2, 3)
)

#: The headers that declare a quorum queue when sent with a SEND or SUBSCRIBE to
#: ``/queue/NAME`` (RabbitMQ's STOMP plugin makes such queues durable by default). Every
#: SEND and SUBSCRIBE to that destination must carry them: without them, or with another
#: type, RabbitMQ answers ERROR ``PRECONDITION_FAILED - inequivalent arg 'x-queue-type'``
#: and closes the connection. ``/amq/queue/NAME`` uses an existing queue and needs none.
RABBITMQ_QUORUM = {"x-queue-type": "quorum"}

#: The ActiveMQ 5.17 master/slave pair on one shared KahaDB directory
#: (tests/broker-configs/activemq-pair/): amq1 on 61711, amq2 on 61712, admin/password,
#: host header "localhost". Only the master has its port open.
ACTIVEMQ_PAIR = tuple(
    ClusterNode(
        f"ActiveMQ pair broker amq{i}",
        "127.0.0.1",
        61710 + i,
        "admin",
        "password",
        "localhost",
        node=f"amq{i}",
    )
    for i in (1, 2)
)

#: How long, in seconds, the slave of ACTIVEMQ_PAIR may take to answer STOMP after the
#: master was killed with kill -9 (measured: 0.9-2.0 s; it tries the lock every second).
ACTIVEMQ_TAKEOVER_BOUND = 20.0

CLUSTERS_HINT = "start them with scripts/brokers cluster-start"

#: Where scripts/brokers keeps the brokers' data, logs and generated certificates.
STATE_DIR = Path(os.environ.get("STOMP_NG_BROKER_DIR") or "/tmp/stomp-ng-brokers")


@dataclass(frozen=True)
class TLSFiles:
    """The PEM files scripts/brokers generates on each start of ActiveMQ.

    Attributes:
        directory: where they are.
    """

    directory: Path

    def _file(self, name: str) -> str:
        return str(self.directory / name)

    @property
    def ca_certs(self) -> str:
        """The test CA, which signed the broker's certificate (CN=localhost, for
        ``localhost``, ``127.0.0.1`` and ``::1``) and the client certificate."""
        return self._file("ca.pem")

    @property
    def client_cert(self) -> str:
        """A client certificate (CN=stomp-ng test client) the broker trusts."""
        return self._file("client.pem")

    @property
    def client_key(self) -> str:
        """The key of :attr:`client_cert` (no password)."""
        return self._file("client.key")

    @property
    def other_ca_certs(self) -> str:
        """A CA unrelated to the broker's certificate (the "wrong CA")."""
        return self._file("other-ca.pem")

    @property
    def other_client_cert(self) -> str:
        """A client certificate signed by :attr:`other_ca_certs`: the broker refuses it."""
        return self._file("other-client.pem")

    @property
    def other_client_key(self) -> str:
        """The key of :attr:`other_client_cert`."""
        return self._file("other-client.key")

    def missing(self) -> list[str]:
        """The files that do not exist."""
        names = ("ca.pem", "client.pem", "client.key", "other-ca.pem")
        names += ("other-client.pem", "other-client.key")
        return [self._file(name) for name in names if not (self.directory / name).is_file()]


#: The certificates of ActiveMQ's STOMP+SSL connectors.
ACTIVEMQ_TLS = TLSFiles(STATE_DIR / "activemq" / "tls")

BROKERS_HINT = "start it with scripts/brokers start"
