"""pytest fixtures that run your STOMP code against stomp-ng's embedded broker.

Installed with stomp-ng and registered as the pytest plugin ``stomp`` (entry point group
``pytest11``), so the fixtures are available in any test suite without configuration::

    def test_order_is_published(stomp_connection):
        listener = stomp.listener.TestListener()
        stomp_connection.set_listener("test", listener)
        stomp_connection.subscribe("/queue/orders", id="1")
        publish_order(stomp_connection, "book")      # your code
        assert listener.wait_for_message(timeout=5)

Fixtures (function scope: every test gets a fresh broker, so no state leaks between
tests):

``stomp_broker``
    A started :class:`stomp.broker.Broker` on a free loopback port; stopped after the test.
    Connect with ``stomp.Connection12([stomp_broker.address])``.
``stomp_connection``
    A ``stomp.Connection12`` connected to ``stomp_broker`` (with its login, if any);
    disconnected after the test.
``stomp_broker_options``
    The keyword arguments given to :class:`~stomp.broker.Broker`: ``{}``.  Override it in
    your ``conftest.py`` to change them, e.g. ``{"login": "app", "passcode": "secret"}``.

Disable the plugin with ``pytest -p no:stomp``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from stomp.broker import Broker
    from stomp.connect import StompConnection12

__all__ = ["stomp_broker", "stomp_broker_options", "stomp_connection"]

# Bound on connect() and disconnect() in the fixtures, so a broken test cannot hang.
_TIMEOUT = 10.0


@pytest.fixture
def stomp_broker_options() -> dict[str, Any]:
    """Keyword arguments for the ``stomp_broker`` fixture's :class:`~stomp.broker.Broker`
    (override in a ``conftest.py``); ``host`` defaults to ``127.0.0.1`` and ``port`` to a
    free one."""
    return {}


@pytest.fixture
def stomp_broker(stomp_broker_options: dict[str, Any]) -> Iterator[Broker]:
    """A started embedded broker on a free loopback port, stopped after the test."""
    from stomp.broker import Broker

    with Broker(**stomp_broker_options) as broker:
        yield broker


@pytest.fixture
def stomp_connection(
    stomp_broker: Broker, stomp_broker_options: dict[str, Any]
) -> Iterator[StompConnection12]:
    """A ``stomp.Connection12`` connected to ``stomp_broker``, disconnected afterwards."""
    from stomp.connect import StompConnection12

    connection = StompConnection12([stomp_broker.address], timeout=_TIMEOUT)
    connection.connect(
        stomp_broker_options.get("login"), stomp_broker_options.get("passcode"), wait=True
    )
    try:
        yield connection
    finally:
        connection.disconnect()
