"""The pytest plugin's fixtures run against a real broker with ``--stomp-broker`` (or
``STOMP_TEST_BROKER``): the same user's tests that pass on the embedded broker pass on
RabbitMQ and ActiveMQ."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from support.usersuite import run_user_suite

from brokerinfo import ACTIVEMQ, RABBITMQ, Broker

USER_TESTS = """
import stomp

QUEUE = "/queue/stompng-fixtures-{unique}"


def test_connection(stomp_connection):
    listener = stomp.listener.TestListener()
    stomp_connection.set_listener("t", listener)
    stomp_connection.subscribe(QUEUE, id="1")
    stomp_connection.send(QUEUE, "through the fixtures")
    assert listener.wait_for_message(timeout=10)
    assert listener.get_latest_message()[1] == "through the fixtures"


def test_factory_and_session_broker(stomp_session_broker, stomp_connect):
    assert stomp_session_broker.port == {port}
    conn = stomp_connect(heartbeats=(0, 0))
    assert conn.is_connected()
"""

TARGETS = {"rabbitmq": (RABBITMQ, "rabbitmq_stomp"), "activemq": (ACTIVEMQ, "activemq_stomp")}


@pytest.mark.parametrize("name", sorted(TARGETS))
@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_fixtures_run_against_a_real_broker(
    name: str, how: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    broker: Broker = TARGETS[name][0]
    request.getfixturevalue(TARGETS[name][1])  # skipped (failed in CI) when it is down
    tests = USER_TESTS.format(unique=uuid.uuid4().hex[:12], port=broker.port)
    where = f"{broker.host}:{broker.port}"
    if how == "option":
        done = run_user_suite(
            tmp_path,
            tests,
            "--stomp-broker",
            where,
            "--stomp-login",
            broker.login,
            "--stomp-passcode",
            broker.passcode,
            "--stomp-vhost",
            broker.vhost,
        )
    else:
        env = {
            **os.environ,
            "STOMP_TEST_BROKER": where,
            "STOMP_TEST_LOGIN": broker.login,
            "STOMP_TEST_PASSCODE": broker.passcode,
            "STOMP_TEST_VHOST": broker.vhost,
        }
        done = run_user_suite(tmp_path, tests, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
