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
:class:`fakebroker.FakeBroker`.  Tests using a real broker are marked ``integration``.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakebroker import FakeBroker

import stomp
from brokerinfo import ACTIVEMQ, BROKERS_HINT, RABBITMQ, Broker
from stomp.cli import StompCLI

#: Bound of every wait in these tests, in seconds.
WAIT = 10.0

_BROKER_FIXTURES = {"rabbitmq", "activemq", "broker"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that use a real broker ``integration``."""
    for item in items:
        if _BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _require(broker: Broker) -> Broker:
    try:
        socket.create_connection(broker.address, timeout=2).close()
    except OSError as exc:
        message = f"{broker.name} not running on {broker.host}:{broker.port}; {BROKERS_HINT}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} ({exc}); in CI a missing broker is a failure", pytrace=False)
        pytest.skip(message)
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


def login_args(broker: Broker, version: str = "1.1") -> list[str]:
    """The command-line options that connect to ``broker`` with ``version``."""
    return [
        "-H",
        broker.host,
        "-P",
        str(broker.port),
        "-U",
        broker.login,
        "-W",
        broker.passcode,
        "-S",
        version,
        "--vhost",
        broker.vhost,
    ]


# -- the client as a program ------------------------------------------------------------------


@dataclass
class Result:
    """A finished run of the program."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the program: HOME in a temporary directory (for the history)."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env["HOME"] = str(home)
    env.pop("PYTHONUNBUFFERED", None)  # the program must flush by itself
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


class CliProcess:
    """A running client, driven through pipes.  Its stdout and stderr are collected by
    two threads; :meth:`expect` waits (bounded) for text to appear."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stomp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=env,
        )
        self._out: list[str] = []
        self._err: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self._out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        while True:
            chunk = stream.readline()
            if not chunk:
                return
            with self._changed:
                into.append(chunk)
                self._changed.notify_all()

    @property
    def stdout(self) -> str:
        with self._changed:
            return "".join(self._out)

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._err)

    def expect(self, text: str, timeout: float = WAIT, count: int = 1) -> None:
        """Wait until ``text`` appeared ``count`` times on stdout."""
        with self._changed:
            if not self._changed.wait_for(lambda: "".join(self._out).count(text) >= count, timeout):
                raise AssertionError(
                    f"{text!r} (x{count}) not printed within {timeout} s;"
                    f" stdout={''.join(self._out)!r} stderr={''.join(self._err)!r}"
                )

    def send(self, line: str) -> None:
        """Type one command line."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        """End of input (Ctrl-D)."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def wait(self, timeout: float = WAIT) -> int:
        """Wait for the end of the program and of its output; return the exit status."""
        status = self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(WAIT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()


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


class Output:
    """A thread-safe text stream that remembers everything written to it."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            self._parts.append(text)
            self._changed.notify_all()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self._parts)

    def mark(self) -> int:
        """The current length, for :meth:`since`."""
        return len(self.text)

    def since(self, mark: int) -> str:
        """What was written after :meth:`mark` returned ``mark``."""
        return self.text[mark:]

    def wait_for(self, text: str, timeout: float = WAIT, count: int = 1) -> str:
        """Wait until ``text`` was written ``count`` times; return everything written."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: "".join(self._parts).count(text) >= count, timeout
            ):
                raise AssertionError(f"{text!r} not written within {timeout} s: {self.text!r}")
            return "".join(self._parts)


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


def fake_args(broker: FakeBroker, *extra: str) -> list[str]:
    """Command-line options for the fake broker."""
    return ["-H", broker.host, "-P", str(broker.port), *extra]


# -- talking to a real broker with the library ------------------------------------------------


class Collector(stomp.ConnectionListener):
    """Collects the messages and receipts of a library connection."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.receipts: list[str] = []
        self._changed = threading.Condition()

    def on_message(self, frame: Any) -> None:
        with self._changed:
            self.messages.append(frame)
            self._changed.notify_all()

    def on_receipt(self, frame: Any) -> None:
        with self._changed:
            self.receipts.append(frame.headers.get("receipt-id"))
            self._changed.notify_all()

    def wait_messages(self, count: int, timeout: float = WAIT) -> list[Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages within {timeout} s")
            return list(self.messages)

    def wait_body(self, body: Any, timeout: float = WAIT) -> list[Any]:
        """Wait for a message with ``body``; return the bodies received so far."""
        with self._changed:
            if not self._changed.wait_for(lambda: body in [m.body for m in self.messages], timeout):
                raise AssertionError(f"no message {body!r} within {timeout} s")
            return [m.body for m in self.messages]

    def wait_receipt(self, receipt: str, timeout: float = WAIT) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: receipt in self.receipts, timeout):
                raise AssertionError(f"no receipt {receipt} within {timeout} s")


@contextlib.contextmanager
def library_connection(broker: Broker) -> Iterator[tuple[Any, Collector]]:
    """A connected library connection (1.1) and its :class:`Collector`."""
    conn = stomp.Connection11([broker.address], vhost=broker.vhost, timeout=5)
    collector = Collector()
    conn.set_listener("collector", collector)
    conn.connect(broker.login, broker.passcode, wait=True)
    try:
        yield conn, collector
    finally:
        conn.disconnect()


@contextlib.contextmanager
def consumer(broker: Broker, destination: str, ack: str = "auto") -> Iterator[Collector]:
    """A subscription to ``destination`` that is active when the block starts."""
    with library_connection(broker) as (conn, collector):
        receipt = f"sub-{uuid.uuid4().hex}"
        conn.subscribe(destination, id="collector", ack=ack, receipt=receipt)
        collector.wait_receipt(receipt)
        yield collector


def publish(broker: Broker, destination: str, *bodies: Any, **headers: Any) -> None:
    """Send ``bodies`` to ``destination``; returns once the broker has confirmed each."""
    with library_connection(broker) as (conn, collector):
        receipts = []
        for body in bodies:
            receipt = f"pub-{uuid.uuid4().hex}"
            receipts.append(receipt)
            conn.send(destination, body, headers=dict(headers, receipt=receipt))
        for receipt in receipts:
            collector.wait_receipt(receipt)


def queue_contents(broker: Broker, destination: str) -> list[Any]:
    """The bodies waiting in ``destination`` (consumed): a marker message is sent after
    them and the bodies received before it are returned (no sleeping on silence)."""
    marker = f"marker-{uuid.uuid4().hex}"
    with consumer(broker, destination) as collector:
        publish(broker, destination, marker)
        bodies = collector.wait_body(marker)
    return bodies[: bodies.index(marker)]
