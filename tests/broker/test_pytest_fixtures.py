"""The pytest plugin's fixtures in a user's suite: the session-scoped broker, the
connection factory, and the strict mode that refuses a missing virtual host as RabbitMQ
does.  (Against a real broker: tests/integration/test_pytest_fixtures_real.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.usersuite import run_user_suite

SESSION_AND_FACTORY = """
import stomp

PORTS = []


def test_one(stomp_session_broker):
    PORTS.append(stomp_session_broker.port)


def test_two(stomp_session_broker, stomp_connect):
    PORTS.append(stomp_session_broker.port)
    assert PORTS[0] == PORTS[1]  # one broker for the session
    first = stomp_connect()
    second = stomp_connect(heartbeats=(0, 0))
    listener = stomp.listener.TestListener()
    second.set_listener("t", listener)
    second.subscribe("/queue/factory", id="1")
    first.send("/queue/factory", "between two connections")
    assert listener.wait_for_message(timeout=5)
    headers, body = listener.get_latest_message()
    assert body == "between two connections"
    assert headers["destination"] == "/queue/factory"


def test_factory_connections_are_closed(stomp_connect):
    conn = stomp_connect()
    assert conn.is_connected()
"""

STRICT = """
import pytest
import stomp
from stomp.exception import ConnectFailedException


def test_a_missing_vhost_is_refused_as_rabbitmq_does(stomp_broker):
    conn = stomp.Connection12([stomp_broker.address], timeout=5)
    with pytest.raises(ConnectFailedException, match="Virtual host '127.0.0.1' access denied"):
        conn.connect(wait=True)
    conn = stomp.Connection12([stomp_broker.address], timeout=5, vhost="/")
    conn.connect(wait=True)
    conn.disconnect()


def test_the_fixture_connection_passes_the_vhost(stomp_connection):
    assert stomp_connection.is_connected()
"""


@pytest.mark.slow
def test_session_broker_and_connection_factory(tmp_path: Path) -> None:
    done = run_user_suite(tmp_path, SESSION_AND_FACTORY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("how", ["option", "environment"])
def test_strict_mode_checks_the_virtual_host(tmp_path: Path, how: str) -> None:
    if how == "option":
        done = run_user_suite(tmp_path, STRICT, "--stomp-strict")
    else:
        import os

        done = run_user_suite(tmp_path, STRICT, env={**os.environ, "STOMP_TEST_STRICT": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


@pytest.mark.slow
def test_without_strict_mode_any_host_header_is_accepted(tmp_path: Path) -> None:
    done = run_user_suite(tmp_path, STRICT)
    assert done.returncode == 1
    assert "1 failed, 1 passed" in done.stdout  # (the refusal did not happen)
