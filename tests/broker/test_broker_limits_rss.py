"""The default limits keep the broker's memory bounded against one abusive connection:
200,000 SUBSCRIBEs, or a 293 MiB transaction, get an ERROR before the broker process's
resident size grows by 100 MiB (measured on ``python -m stomp.broker`` in a subprocess)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from brokerhelpers import WAIT

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def peak_rss(pid: int) -> int:
    """The peak resident size of process ``pid`` (``VmHWM``), in bytes (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def broker_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], tuple[str, int]]]:
    log = (tmp_path / "broker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "stomp.broker", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        port = int(first.split("listening on ")[1].split()[0].rsplit(":", 1)[1])
        yield process, ("127.0.0.1", port)
    finally:
        process.terminate()
        process.communicate(timeout=WAIT * 2)
        log.close()


def connected(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=WAIT * 4)
    sock.sendall(b"CONNECT\naccept-version:1.2\nhost:/\n\n\x00")
    reply = b""
    while b"\x00" not in reply:
        reply += sock.recv(4096)
    assert reply.startswith(b"CONNECTED")
    return sock


def send_until_error(sock: socket.socket, chunks: Iterator[bytes]) -> bytes:
    """Write ``chunks`` until the broker answers (its ERROR) or closes; return what it
    sent."""
    sock.setblocking(False)
    received = b""
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            try:
                received += sock.recv(65536)
            except BlockingIOError:
                pass
            except OSError:
                return received
            if b"ERROR" in received:
                return received
            try:
                sent = sock.send(view)
            except BlockingIOError:
                import select

                select.select([sock], [sock], [], 0.1)
                continue
            except OSError:  # the broker closed after its ERROR
                return received + _rest(sock)
            view = view[sent:]
    return received + _rest(sock)


def _rest(sock: socket.socket) -> bytes:
    sock.setblocking(True)
    sock.settimeout(WAIT)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_200000_subscribes_get_an_error_before_100_mib(broker_process) -> None:
    process, address = broker_process
    before = peak_rss(process.pid)
    sock = connected(address)

    def subscribes() -> Iterator[bytes]:
        for start in range(0, 200_000, 1000):
            yield b"".join(
                b"SUBSCRIBE\nid:%d\ndestination:/queue/many-%d\n\n\x00" % (n, n)
                for n in range(start, start + 1000)
            )

    received = send_until_error(sock, subscribes())
    sock.close()
    assert b"message:Too many subscriptions (max_subscriptions)" in received
    growth = peak_rss(process.pid) - before
    assert growth < 100 * MIB, f"the broker grew {growth / MIB:.0f} MiB"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_293_mib_transaction_gets_an_error_before_100_mib(broker_process) -> None:
    process, address = broker_process
    before = peak_rss(process.pid)
    sock = connected(address)
    body = b"t" * MIB
    frame = b"SEND\ndestination:/queue/big-tx\ntransaction:t1\ncontent-length:%d\n\n" % len(body)

    def sends() -> Iterator[bytes]:
        yield b"BEGIN\ntransaction:t1\n\n\x00"
        for _ in range(293):
            yield frame + body + b"\x00"

    received = send_until_error(sock, sends())
    sock.close()
    assert b"message:Transaction too large (max_transaction_bytes)" in received
    growth = peak_rss(process.pid) - before
    assert growth < 100 * MIB, f"the broker grew {growth / MIB:.0f} MiB"
