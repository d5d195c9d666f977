"""Where the test brokers listen and how to log in to them.

One place for the hosts, ports and credentials that ``scripts/brokers``
configures (see ``tests/brokers/``), so tests never repeat them. Importable
as ``brokerinfo`` because pytest puts ``tests/`` on ``sys.path``
(``pythonpath`` in ``pyproject.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass


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
RABBITMQ = Broker("RabbitMQ", "127.0.0.1", 61613, "guest", "guest", "/")

#: RabbitMQ's STOMP over WebSocket (rabbitmq_web_stomp), ws://127.0.0.1:15674/ws.
RABBITMQ_WEB_STOMP = Broker("RabbitMQ web-stomp", "127.0.0.1", 15674, "guest", "guest", "/")
RABBITMQ_WEB_STOMP_PATH = "/ws"

#: ActiveMQ Classic 5.17 (tests/brokers/activemq/activemq.xml): STOMP on 61623,
#: simple authentication with the single user admin/password.
ACTIVEMQ = Broker("ActiveMQ", "127.0.0.1", 61623, "admin", "password", "localhost")

BROKERS_HINT = "start it with scripts/brokers start"
