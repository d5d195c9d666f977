"""Starting and stopping: the object, ``python -m stomp.broker``, the quick start example
and the pytest plugin."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from brokerhelpers import WAIT, Collector, RawClient, wait_until
from support.usersuite import run_user_suite

import stomp
from stomp.broker import Broker
from stomp.exception import ConnectFailedException

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    # Subprocesses import this working tree's stomp, installed or not.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


# -- the object ---------------------------------------------------------------------------


def test_port_zero_picks_a_free_port() -> None:
    with Broker(port=0) as broker:
        assert broker.port > 0
        assert broker.address == ("127.0.0.1", broker.port)
        assert broker.running
        socket.create_connection(broker.address, timeout=WAIT).close()
    assert not broker.running


def test_start_and_stop_without_with() -> None:
    broker = Broker()
    assert broker.stop()  # never started: nothing to do
    assert broker.start() is broker
    try:
        with pytest.raises(RuntimeError):
            broker.start()
    finally:
        assert broker.stop()
    assert broker.stop()  # twice is fine
    with pytest.raises(OSError):
        socket.create_connection(broker.address, timeout=WAIT).close()


def test_port_in_use_raises(broker: Broker) -> None:
    with pytest.raises(OSError):
        Broker(port=broker.port).start()


def test_invalid_versions_are_refused() -> None:
    with pytest.raises(ValueError):
        Broker(versions=("1.3",))
    with pytest.raises(ValueError):
        Broker(versions=())


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        broker = Broker("::1").start()
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        connection = stomp.Connection12([broker.address], timeout=WAIT)
        connection.connect(wait=True)
        connection.disconnect()
    finally:
        broker.stop()


def test_stop_closes_every_connection_in_bounded_time() -> None:
    broker = Broker().start()
    connections = []
    collectors = []
    try:
        for version in ("1.0", "1.1", "1.2"):
            connection = getattr(stomp, "Connection" + version.replace(".", ""))(
                [broker.address], timeout=WAIT
            )
            collector = Collector()
            connection.set_listener("c", collector)
            connection.connect(wait=True)
            connection.subscribe("/queue/stop", id="1", ack="client")
            connections.append(connection)
            collectors.append(collector)
        silent = RawClient(broker.address)  # connected at TCP level only
        assert wait_until(lambda: broker.connection_count == 4)  # accepted
        start = time.monotonic()
        assert broker.stop(timeout=WAIT)
        assert time.monotonic() - start < 2.0
        for collector in collectors:
            assert collector.disconnected.wait(WAIT)
        assert silent.wait_closed()
        silent.close()
        assert broker.connection_count == 0
    finally:
        broker.stop()
        for connection in connections:
            connection.disconnect()
    assert not [t for t in threading.enumerate() if t.name.startswith("StompBroker-")]


def test_many_short_connections(broker: Broker) -> None:
    # Clients that connect and go at once, some without DISCONNECT.
    for n in range(50):
        peer = RawClient(broker.address)
        if n % 2:
            peer.connect()
            peer.send("DISCONNECT", {"receipt": "bye"})
            assert peer.receive().cmd == "RECEIPT"
        peer.close()
    last = RawClient(broker.address)
    last.connect()
    assert last.request("SEND", {"destination": "/topic/x"}, b"y").cmd == "RECEIPT"
    last.close()


def test_an_internal_error_closes_only_that_connection(
    broker: Broker,
    client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from stomp.broker.session import Session

    def broken(self: Session, frame: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Session, "_on_begin", broken)
    bystander, events = client("1.2")
    peer = RawClient(broker.address)
    try:
        peer.connect()
        peer.send("BEGIN", {"transaction": "t"})
        assert peer.wait_closed()
    finally:
        peer.close()
    assert "internal error" in caplog.text
    bystander.send("/queue/alive", "still here", receipt="alive")
    events.wait_receipt("alive")
    assert broker.running


def test_repr_hides_nothing_secret() -> None:
    broker = Broker(login="user", passcode="hunter2")
    assert "hunter2" not in repr(broker)
    assert "hunter2" not in repr(broker.settings)


# -- python -m stomp.broker -------------------------------------------------------------


def _start_cli(*args: str, passcode: str | None = None) -> tuple[subprocess.Popen[str], int]:
    env = _env()
    if passcode is not None:
        env["STOMP_BROKER_PASSCODE"] = passcode  # as documented: out of the process list
    process = subprocess.Popen(
        [sys.executable, "-m", "stomp.broker", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the first line names the port
    match = re.search(r"listening on ([\d.]+):(\d+)", line)
    if match is None:
        process.kill()
        _, err = process.communicate(timeout=WAIT)
        pytest.fail(f"unexpected first line {line!r}; stderr: {err}")
    return process, int(match.group(2))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_runs_and_stops_on_signal(signum: int) -> None:
    process, port = _start_cli()
    try:
        connection = stomp.Connection12([("127.0.0.1", port)], timeout=WAIT)
        collector = Collector()
        connection.set_listener("c", collector)
        connection.connect(wait=True)
        connection.subscribe("/queue/cli", id="1")
        connection.send("/queue/cli", "through a subprocess")
        assert collector.wait_messages(1)[0].body == "through a subprocess"
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "stopped" in out
        assert collector.disconnected.wait(WAIT)
        connection.disconnect()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=WAIT)


def test_cli_login_and_verbose_log_without_passcode() -> None:
    secret = "cli-s3cret-value"
    process, port = _start_cli("--login", "u", "-v", passcode=secret)
    try:
        connection = stomp.Connection12([("127.0.0.1", port)], timeout=WAIT)
        with pytest.raises(ConnectFailedException, match="Login failed"):
            connection.connect("u", secret + "-wrong", wait=True)
        connection.disconnect()
        connection = stomp.Connection12([("127.0.0.1", port)], timeout=WAIT)
        connection.connect("u", secret, wait=True)
        connection.disconnect()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "CONNECT" in err  # -v logs every frame...
        assert secret not in out + err  # ...but never the passcode
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=WAIT)


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--max-queue-bytes", "4000", "Queue full (max_queue_bytes)"),
        ("--max-subscriptions", "1", "Too many subscriptions (max_subscriptions)"),
        ("--max-transaction-bytes", "1500", "Transaction too large (max_transaction_bytes)"),
    ],
)
def test_cli_limit_options(option: str, value: str, error: str) -> None:
    process, port = _start_cli(option, value)
    try:
        connection = stomp.Connection12([("127.0.0.1", port)], timeout=WAIT)
        collector = Collector()
        connection.set_listener("c", collector)
        connection.connect(wait=True)
        transaction = connection.begin()
        for n in range(4):  # 4 KB into a queue, a transaction, 4 subscriptions
            connection.subscribe(f"/queue/cli-{n}", id=str(n))
            connection.send("/queue/cli-limits", "x" * 1000)
            connection.send("/queue/cli-tx", "y" * 1000, transaction=transaction)
        assert collector.wait_for(lambda: collector.errors, WAIT)
        assert collector.errors[0].headers["message"] == error
        connection.disconnect()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stomp.broker", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(),
    )
    assert result.returncode == 0
    assert "not for production" in " ".join(result.stdout.split())


# -- the quick start example ------------------------------------------------------------


@pytest.mark.slow
def test_quickstart_example() -> None:
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "received: hello from stomp-ng" in result.stdout
    assert time.monotonic() - start < 60


# -- the pytest plugin --------------------------------------------------------------------

USER_TESTS = """
import pytest
import stomp


@pytest.fixture
def stomp_broker_options():
    return {"login": "app", "passcode": "secret"}


def test_broker_fixture(stomp_broker):
    conn = stomp.Connection12([stomp_broker.address])
    conn.connect("app", "secret", wait=True)
    conn.disconnect()


def test_connection_fixture(stomp_connection):
    listener = stomp.listener.TestListener()
    stomp_connection.set_listener("t", listener)
    stomp_connection.subscribe("/queue/user", id="1")
    stomp_connection.send("/queue/user", "from a user's suite")
    assert listener.wait_for_message(timeout=5)
    assert listener.get_latest_message()[1] == "from a user's suite"
"""


@pytest.mark.slow
def test_pytest_plugin_in_a_users_suite(tmp_path: Path) -> None:
    result = run_user_suite(tmp_path, USER_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_fixtures_here(stomp_broker: Broker, stomp_connection: Any) -> None:
    collector = Collector()
    stomp_connection.set_listener("c", collector)
    stomp_connection.subscribe("/topic/fixture", id="1")
    stomp_connection.send("/queue/fixture", "queued", receipt="sent")
    collector.wait_receipt("sent")
    assert stomp_broker.pending("/queue/fixture") == 1


def test_refused_connection_does_not_hang(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(versions=("1.1",))
    connection = stomp.Connection12([broker.address], timeout=WAIT)
    start = time.monotonic()
    with pytest.raises(ConnectFailedException):
        connection.connect(wait=True)
    assert time.monotonic() - start < WAIT
