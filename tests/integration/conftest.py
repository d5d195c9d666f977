"""Fixtures for the integration tests: the real brokers started by scripts/brokers.

Each broker fixture checks that its port accepts connections. When it does
not, the test is skipped on a developer's machine but fails in CI (the ``CI``
environment variable is set), where a missing broker is a broken setup.
Every test under this directory is marked ``integration``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import clusters
from support.brokers import missing, require
from support.clusters import ActiveMQPair, RabbitMQCluster
from support.tcpproxy import TcpProxy

from brokerinfo import (
    ACTIVEMQ,
    ACTIVEMQ_SSL,
    ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED,
    ACTIVEMQ_TLS,
    EMBEDDED,
    RABBITMQ,
    RABBITMQ_WEB_STOMP,
    TLSFiles,
)
from stomp.broker import Broker as EmbeddedBroker

_HERE = Path(__file__).parent.resolve()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from tests/integration as ``integration``."""
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def rabbitmq_stomp() -> tuple[str, int]:
    """``("127.0.0.1", 61613)``: RabbitMQ's STOMP listener."""
    return require(RABBITMQ)


@pytest.fixture(scope="session")
def embedded_stomp() -> Iterator[tuple[str, int]]:
    """The embedded broker (stomp.broker), started for the session on EMBEDDED's port."""
    with EmbeddedBroker(
        EMBEDDED.host, EMBEDDED.port, login=EMBEDDED.login, passcode=EMBEDDED.passcode
    ) as running:
        yield running.address


@pytest.fixture(scope="session")
def activemq_stomp() -> tuple[str, int]:
    """``("127.0.0.1", 61623)``: ActiveMQ's STOMP listener."""
    return require(ACTIVEMQ)


@pytest.fixture(scope="session")
def rabbitmq_web_stomp() -> tuple[str, int]:
    """``("127.0.0.1", 15674)``: RabbitMQ's STOMP over WebSocket listener (path ``/ws``)."""
    return require(RABBITMQ_WEB_STOMP)


@pytest.fixture(scope="session")
def rabbitmq_credentials() -> tuple[str, str]:
    """``(login, passcode)`` for RabbitMQ: guest/guest."""
    return (RABBITMQ.login, RABBITMQ.passcode)


@pytest.fixture(scope="session")
def activemq_credentials() -> tuple[str, str]:
    """``(login, passcode)`` for ActiveMQ: admin/password."""
    return (ACTIVEMQ.login, ACTIVEMQ.passcode)


@pytest.fixture(scope="session")
def activemq_tls_files() -> TLSFiles:
    """The CA, client certificate and key (PEM) of ActiveMQ's STOMP+SSL connectors."""
    absent = ACTIVEMQ_TLS.missing()
    if absent:
        missing(f"the TLS files made by scripts/brokers start are missing: {', '.join(absent)}")
    return ACTIVEMQ_TLS


@pytest.fixture(scope="session")
def activemq_ssl(activemq_tls_files: TLSFiles) -> tuple[str, int]:
    """``("127.0.0.1", 61624)``: ActiveMQ's STOMP+SSL listener (client certificate optional)."""
    return require(ACTIVEMQ_SSL)


@pytest.fixture(scope="session")
def activemq_ssl_client_cert_required(activemq_tls_files: TLSFiles) -> tuple[str, int]:
    """``("127.0.0.1", 61625)``: ActiveMQ's STOMP+SSL listener that requires a client
    certificate signed by the test CA."""
    return require(ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED)


@pytest.fixture
def rabbitmq_cluster() -> Iterator[RabbitMQCluster]:
    """The 3-node RabbitMQ cluster of ``scripts/brokers cluster-start``, with all three
    nodes running (a node a previous test left down is started again). The test may kill,
    stop, pause and start its nodes: at teardown every node runs again."""
    cluster = clusters.rabbitmq_cluster()
    yield cluster
    cluster.restore()


@pytest.fixture
def activemq_pair() -> Iterator[ActiveMQPair]:
    """The ActiveMQ master/slave pair of ``scripts/brokers cluster-start``, one broker
    master and the other its slave (which of the two is master depends on what earlier
    tests did: ``activemq_pair.master()``). At teardown both run again."""
    pair = clusters.activemq_pair()
    yield pair
    pair.restore()


#: The real brokers the proxy tests run against, by fixture parameter.
PROXIED_BROKERS = {"rabbitmq": RABBITMQ, "activemq": ACTIVEMQ}


@pytest.fixture(params=list(PROXIED_BROKERS))
def proxied(request: pytest.FixtureRequest) -> Iterator[tuple[Any, TcpProxy]]:
    """``(broker info, proxy)``: a loopback proxy (:mod:`support.tcpproxy`) to RabbitMQ or
    ActiveMQ, which a test can cut or freeze (skipped without them, failed in CI)."""
    name = request.param
    request.getfixturevalue(f"{name}_stomp")
    with TcpProxy(PROXIED_BROKERS[name].address) as proxy:
        yield PROXIED_BROKERS[name], proxy
