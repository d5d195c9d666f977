"""The embedded broker out of file descriptors: more clients connect than it may open
files for.  It must not spin on the listening socket (which stays readable while
connections wait in the backlog) nor log every failed accept; the connections it has go on
being served, and it accepts again once descriptors are free."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from brokerhelpers import WAIT

import stomp

ROOT = Path(__file__).resolve().parents[2]

#: The broker's descriptor limit, and how many clients try to connect.
LIMIT, CLIENTS = 64, 120

#: Seconds over which the broker's CPU time is measured while the clients wait.
WINDOW = 3.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Messages(stomp.ConnectionListener):
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.arrived = threading.Event()

    def on_message(self, frame: stomp.utils.Frame) -> None:
        self.bodies.append(frame.body)
        self.arrived.set()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_out_of_file_descriptors_costs_little_and_open_connections_go_on(tmp_path: Path) -> None:
    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log_file = tmp_path / "broker.log"  # (a file, never full: a pipe would stall a busy logger)
    log = log_file.open("w")
    broker = subprocess.Popen(
        [sys.executable, "-m", "stomp.broker", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
        preexec_fn=limit_files,
    )
    flood: list[socket.socket] = []
    try:
        assert broker.stdout is not None
        first = broker.stdout.readline()
        port = int(first.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        address = ("127.0.0.1", port)

        messages = Messages()
        conn = stomp.Connection12([address], timeout=WAIT)
        conn.set_listener("messages", messages)
        conn.connect(wait=True)
        conn.subscribe("/queue/fd", id="1")

        # More clients than the broker has descriptors for: the kernel queues them.
        flood = [socket.create_connection(address, timeout=WAIT) for _ in range(CLIENTS)]
        before = cpu_seconds(broker.pid)
        time.sleep(WINDOW)  # (a time window is what is measured)
        spent = cpu_seconds(broker.pid) - before
        assert spent < 0.5, f"{spent:.2f} CPU seconds in {WINDOW} s with the descriptors used up"

        # The connection it has is still served.
        conn.send("/queue/fd", "still served")
        assert messages.arrived.wait(WAIT)
        assert messages.bodies == ["still served"]

        # Descriptors free again: new connections are accepted (after the pause).
        for sock in flood:
            sock.close()
        flood = []
        late = stomp.Connection12([address], timeout=WAIT)
        late.connect(wait=True)
        late.disconnect()
        conn.disconnect()
    finally:
        for sock in flood:
            sock.close()
        broker.terminate()
        broker.communicate(timeout=WAIT * 2)
        log.close()
    errors = log_file.read_text()
    refusals = [line for line in errors.splitlines() if "cannot accept connections" in line]
    assert 1 <= len(refusals) <= 3, errors[-2000:]
    assert len(errors.splitlines()) < 100, f"{len(errors.splitlines())} log lines"
