"""Fixtures of the command-line client tests.

Two ways to drive the client:

* as a program: :func:`run_stomp` runs ``python -m stomp`` to completion (stdin from a
  string, stdout and stderr captured); :func:`spawn` starts it and returns a
  :class:`CliProcess` to talk to through pipes.  Every process is killed at teardown and
  every wait has a timeout.
* directly: :func:`make_cli` constructs :class:`stomp.cli.StompCLI` (which connects) with
  an :class:`Output` as stdout; every client is closed at teardown.

The brokers are the real ones of ``scripts/brokers`` (RabbitMQ on 61613, ActiveMQ on
61623; skipped locally and failed in CI when down, as in ``tests/integration``) and, for
what only the wire shows (DISCONNECT sent, receipts on a script's SENDs), the scripted
:class:`support.fakebroker.FakeBroker`.  Tests using a real broker are marked ``integration``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cliutil import WAIT, CliProcess, Output, Result
from support.brokers import require
from support.fakebroker import FakeBroker

from brokerinfo import ACTIVEMQ, RABBITMQ, Broker
from stomp.cli import StompCLI

_BROKER_FIXTURES = {"rabbitmq", "activemq", "broker"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that use a real broker ``integration``."""
    for item in items:
        if _BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _require(broker: Broker) -> Broker:
    require(broker)
    return broker


@pytest.fixture
def rabbitmq() -> Broker:
    """RabbitMQ (skip locally / fail in CI when it is down)."""
    return _require(RABBITMQ)


@pytest.fixture
def activemq() -> Broker:
    """ActiveMQ (skip locally / fail in CI when it is down)."""
    return _require(ACTIVEMQ)


@pytest.fixture(params=[RABBITMQ, ACTIVEMQ], ids=["rabbitmq", "activemq"])
def broker(request: pytest.FixtureRequest) -> Broker:
    """Each real broker in turn."""
    return _require(request.param)


@pytest.fixture
def queue() -> str:
    """A queue name of its own for the test."""
    return f"/queue/stomp-ng-cli-{uuid.uuid4().hex[:12]}"


# -- the client as a program ------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the program: HOME in a temporary directory (for the history)."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env["HOME"] = str(home)
    env.pop("PYTHONUNBUFFERED", None)  # the program must flush by itself
    env.pop("NO_COLOR", None)  # (the tests that want it set it)
    return env


@pytest.fixture
def run_stomp(tmp_path: Path, cli_env: dict[str, str]) -> Callable[..., Result]:
    """``run_stomp(*args, input="", timeout=WAIT, program=None)``: run the client to the
    end in ``tmp_path`` and return its :class:`Result` (killed after ``timeout``)."""

    def run(
        *args: str, input: str = "", timeout: float = WAIT, program: list[str] | None = None
    ) -> Result:
        command = (program or [sys.executable, "-m", "stomp"]) + list(args)
        done = subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp_path,
            env=cli_env,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def spawn(tmp_path: Path, cli_env: dict[str, str]) -> Iterator[Callable[..., CliProcess]]:
    """``spawn(*args)``: start the client; it is killed at teardown if still running."""
    processes: list[CliProcess] = []

    def start(*args: str) -> CliProcess:
        process = CliProcess(list(args), tmp_path, cli_env)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()


# -- the client as an object ------------------------------------------------------------------


@pytest.fixture
def make_cli() -> Iterator[Callable[..., StompCLI]]:
    """``make_cli(target, version="1.1", **options)``: a :class:`StompCLI` connected to
    ``target`` (a :class:`Broker` or a :class:`FakeBroker`), non-verbose, writing to an
    :class:`Output` (``cli.stdout``).  Closed at teardown."""
    clients: list[StompCLI] = []

    def make(target: Any, version: str = "1.1", **options: Any) -> StompCLI:
        options.setdefault("verbose", False)
        options.setdefault("stdout", Output())
        options.setdefault("stdin", io.StringIO(""))
        options.setdefault("timeout", 5.0)
        if isinstance(target, FakeBroker):
            host, port, user, passcode, vhost = target.host, target.port, None, None, None
        else:
            host, port, user, passcode = target.host, target.port, target.login, target.passcode
            vhost = target.vhost
        options.setdefault("vhost", vhost)
        cli = StompCLI(host, port, user, passcode, version, **options)
        clients.append(cli)
        return cli

    yield make
    for cli in clients:
        cli.close()


@pytest.fixture
def fake_broker() -> Iterator[FakeBroker]:
    """A scripted broker on 127.0.0.1 that answers CONNECTED and receipts."""
    broker = FakeBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
def make_fake() -> Iterator[Callable[..., FakeBroker]]:
    """``make_fake(**options)``: a started :class:`FakeBroker`, stopped at teardown."""
    brokers: list[FakeBroker] = []

    def make(**options: Any) -> FakeBroker:
        broker = FakeBroker(**options).start()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()
