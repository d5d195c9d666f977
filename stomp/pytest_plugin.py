"""pytest fixtures that run your STOMP code against stomp-ng's embedded broker, or against
a real broker with one option.

Installed with stomp-ng and registered as the pytest plugin ``stomp`` (entry point group
``pytest11``), so the fixtures are available in any test suite without configuration::

    def test_order_is_published(stomp_connection):
        listener = stomp.listener.TestListener()
        stomp_connection.set_listener("test", listener)
        stomp_connection.subscribe("/queue/orders", id="1")
        publish_order(stomp_connection, "book")      # your code
        assert listener.wait_for_message(timeout=5)

Fixtures:

``stomp_broker``
    A started :class:`stomp.broker.Broker` on a free loopback port, stopped after the test
    (function scope: every test gets a fresh broker, so no state leaks between tests).
    Connect with ``stomp.Connection12([stomp_broker.address])``.  With ``--stomp-broker``,
    a :class:`RealBroker` instead (see below).
``stomp_session_broker``
    The same, started once for the whole test session (faster; the tests share its
    queues, so use destinations of their own).
``stomp_connect``
    A factory: ``stomp_connect(**options)`` returns a ``stomp.Connection12`` connected to
    ``stomp_broker`` with its credentials and virtual host (``options`` are constructor
    arguments, e.g. ``heartbeats``); every connection it made is disconnected after the
    test.
``stomp_connection``
    One such connection.
``stomp_broker_options``
    The keyword arguments given to :class:`~stomp.broker.Broker` (``{}``; with
    ``--stomp-strict``, ``{"virtual_hosts": ("/",)}``).  Override it in your
    ``conftest.py`` to change them, e.g. ``{"login": "app", "passcode": "secret"}``.

Options (or environment variables, for CI):

``--stomp-broker HOST:PORT`` (``STOMP_TEST_BROKER``)
    Run the same fixtures against that real broker: ``stomp_broker`` and
    ``stomp_session_broker`` are then a :class:`RealBroker` (host, port, address, login,
    passcode, vhost; nothing is started or stopped) and the connections go there.
    ``--stomp-login``, ``--stomp-passcode`` and ``--stomp-vhost`` (``STOMP_TEST_LOGIN``,
    ``STOMP_TEST_PASSCODE``, ``STOMP_TEST_VHOST``) give its credentials and virtual host.
    A test that uses the embedded broker's own methods (``pending()`` ...) cannot run
    there.
``--stomp-strict`` (``STOMP_TEST_STRICT=1``)
    The embedded broker checks the ``host`` header of CONNECT as RabbitMQ does: only the
    virtual host ``/`` is accepted, so code that forgets ``vhost="/"`` fails here as it
    would there.  The fixtures' own connections pass ``vhost="/"``.

``stomp.listener.TestListener`` (a stomp.py name) is the listener to use in such tests:
``wait_for_message(timeout)`` returns whether a message arrived in time,
``get_latest_message()`` returns ``(headers, body)`` of the last one (``headers`` a dict,
``body`` a ``str``, or ``bytes`` with ``auto_decode=False``), ``wait_on_receipt()`` waits
for the receipt it was created for; its counters (``messages``, ``errors``, ...) come from
``StatsListener``.

Disable the plugin with ``pytest -p no:stomp``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from stomp.broker import Broker
    from stomp.connect import StompConnection12

__all__ = [
    "RealBroker",
    "stomp_broker",
    "stomp_broker_options",
    "stomp_connect",
    "stomp_connection",
    "stomp_session_broker",
]

# Bound on connect() and disconnect() in the fixtures, so a broken test cannot hang.
_TIMEOUT = 10.0

#: The virtual hosts the embedded broker accepts with --stomp-strict (RabbitMQ's default).
STRICT_VIRTUAL_HOSTS = ("/",)


@dataclass(frozen=True)
class RealBroker:
    """A real broker given with ``--stomp-broker``: where it is and how to log in.

    Attributes:
        host, port: its STOMP endpoint.
        login, passcode: the credentials (``None``: none).
        vhost: the virtual host (CONNECT's ``host`` header; ``None``: none given).
    """

    host: str
    port: int
    login: str | None = None
    passcode: str | None = None
    vhost: str | None = None

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``."""
        return (self.host, self.port)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stomp", "stomp-ng's STOMP fixtures")
    group.addoption(
        "--stomp-broker",
        metavar="HOST:PORT",
        default=os.environ.get("STOMP_TEST_BROKER"),
        help="run the STOMP fixtures against this real broker (env: STOMP_TEST_BROKER)",
    )
    group.addoption("--stomp-login", default=os.environ.get("STOMP_TEST_LOGIN"), help="its login")
    group.addoption(
        "--stomp-passcode",
        default=os.environ.get("STOMP_TEST_PASSCODE"),
        help="its passcode (env: STOMP_TEST_PASSCODE keeps it out of the process list)",
    )
    group.addoption(
        "--stomp-vhost", default=os.environ.get("STOMP_TEST_VHOST"), help="its virtual host"
    )
    group.addoption(
        "--stomp-strict",
        action="store_true",
        default=os.environ.get("STOMP_TEST_STRICT", "") not in ("", "0"),
        help="the embedded broker accepts only the virtual host '/', as RabbitMQ does "
        "(env: STOMP_TEST_STRICT=1)",
    )


def _real_broker(config: pytest.Config) -> RealBroker | None:
    address = config.getoption("--stomp-broker", None)
    if not address:
        return None
    host, sep, port = str(address).rpartition(":")
    if not sep or not port.isdigit():
        raise pytest.UsageError(f"--stomp-broker: expected HOST:PORT, got {address!r}")
    return RealBroker(
        host.strip("[]"),
        int(port),
        config.getoption("--stomp-login", None),
        config.getoption("--stomp-passcode", None),
        config.getoption("--stomp-vhost", None),
    )


def _strict(config: pytest.Config) -> bool:
    return bool(config.getoption("--stomp-strict", False))


@pytest.fixture
def stomp_broker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments for the embedded :class:`~stomp.broker.Broker` of the broker
    fixtures (override in a ``conftest.py``); ``host`` defaults to ``127.0.0.1`` and
    ``port`` to a free one.  ``{}``, or with ``--stomp-strict``
    ``{"virtual_hosts": ("/",)}``."""
    return {"virtual_hosts": STRICT_VIRTUAL_HOSTS} if _strict(request.config) else {}


@pytest.fixture
def stomp_broker(
    request: pytest.FixtureRequest, stomp_broker_options: dict[str, Any]
) -> Iterator[Broker | RealBroker]:
    """A started embedded broker on a free loopback port, stopped after the test (or the
    broker of ``--stomp-broker``)."""
    yield from _broker(request.config, stomp_broker_options)


@pytest.fixture(scope="session")
def stomp_session_broker(request: pytest.FixtureRequest) -> Iterator[Broker | RealBroker]:
    """An embedded broker started once for the test session (or the broker of
    ``--stomp-broker``).  Its options: ``{"virtual_hosts": ("/",)}`` with
    ``--stomp-strict``, else the defaults."""
    options: dict[str, Any] = (
        {"virtual_hosts": STRICT_VIRTUAL_HOSTS} if _strict(request.config) else {}
    )
    yield from _broker(request.config, options)


def _broker(config: pytest.Config, options: dict[str, Any]) -> Iterator[Broker | RealBroker]:
    real = _real_broker(config)
    if real is not None:
        yield real
        return
    from stomp.broker import Broker

    with Broker(**options) as broker:
        yield broker


def _login(
    broker: Broker | RealBroker, options: dict[str, Any], strict: bool
) -> tuple[str | None, str | None, str | None]:
    # The credentials and virtual host to connect to ``broker`` with.
    if isinstance(broker, RealBroker):
        return broker.login, broker.passcode, broker.vhost
    vhost = STRICT_VIRTUAL_HOSTS[0] if strict or options.get("virtual_hosts") else None
    return options.get("login"), options.get("passcode"), vhost


@pytest.fixture
def stomp_connect(
    request: pytest.FixtureRequest,
    stomp_broker: Broker | RealBroker,
    stomp_broker_options: dict[str, Any],
) -> Iterator[Callable[..., StompConnection12]]:
    """``stomp_connect(**options)``: a ``stomp.Connection12`` connected to
    ``stomp_broker`` (its credentials and virtual host; ``options`` are constructor
    arguments), disconnected after the test with every other one it made."""
    from stomp.connect import StompConnection12

    login, passcode, vhost = _login(stomp_broker, stomp_broker_options, _strict(request.config))
    made: list[StompConnection12] = []

    def connect(**options: Any) -> StompConnection12:
        options.setdefault("timeout", _TIMEOUT)
        options.setdefault("vhost", vhost)
        connection = StompConnection12([stomp_broker.address], **options)
        connection.connect(login, passcode, wait=True)
        made.append(connection)
        return connection

    try:
        yield connect
    finally:
        for connection in made:
            connection.disconnect()


@pytest.fixture
def stomp_connection(
    stomp_connect: Callable[..., StompConnection12],
) -> StompConnection12:
    """A ``stomp.Connection12`` connected to ``stomp_broker``, disconnected afterwards."""
    return stomp_connect()
