"""Whether a real broker is up: a test that needs one is skipped on a developer's machine
when it is not, and fails in CI (the ``CI`` environment variable is set), where a missing
broker is a broken setup."""

from __future__ import annotations

import os
import socket

import pytest

from brokerinfo import BROKERS_HINT, Broker


def missing(message: str) -> None:
    """Skip the test, or fail it in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{message}; in CI a missing broker is a failure", pytrace=False)
    pytest.skip(message)


def require(broker: Broker) -> tuple[str, int]:
    """Return the broker's address, or skip/fail the test if nothing listens there."""
    try:
        socket.create_connection(broker.address, timeout=2).close()
    except OSError as exc:
        missing(f"{broker.name} not running on {broker.host}:{broker.port}; {BROKERS_HINT} ({exc})")
    return broker.address
