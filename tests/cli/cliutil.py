"""Helpers of the command-line client tests (the fixtures are in ``conftest.py``).

Importable as ``cliutil`` because pytest puts ``tests/cli`` on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.fakebroker import FakeBroker
from support.recording import Collector

import stomp
from brokerinfo import Broker

#: Bound of every wait in these tests, in seconds.
WAIT = 10.0


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


@dataclass
class Result:
    """A finished run of the program."""

    returncode: int
    stdout: str
    stderr: str


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


def fake_args(broker: FakeBroker, *extra: str) -> list[str]:
    """Command-line options for the fake broker."""
    return ["-H", broker.host, "-P", str(broker.port), *extra]


@contextlib.contextmanager
def library_connection(broker: Broker) -> Iterator[tuple[Any, Collector]]:
    """A connected library connection (1.1) and its :class:`Collector`."""
    conn = stomp.Connection11([broker.address], vhost=broker.vhost, timeout=5)
    collector = Collector(timeout=WAIT)
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
