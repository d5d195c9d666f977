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

from stomp.codec import HEARTBEAT_FRAME, FrameDecoder

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
    print(f"broker RSS growth: {growth / MIB:.0f} MiB")
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
    print(f"broker RSS growth: {growth / MIB:.0f} MiB")
    assert growth < 100 * MIB, f"the broker grew {growth / MIB:.0f} MiB"


def _sends(destination: bytes, body: bytes, total: int) -> Iterator[bytes]:
    # SEND frames with receipts (receipt n, header n) adding up to ``total`` body bytes,
    # joined into chunks of about 1 MiB.
    count = total // len(body)
    per_chunk = max(1, MIB // (len(body) + 80))
    for start in range(0, count, per_chunk):
        yield b"".join(
            b"SEND\ndestination:%s\nreceipt:%d\nn:%d\ncontent-length:%d\n\n%s\x00"
            % (destination, n, n, len(body), body)
            for n in range(start, min(count, start + per_chunk))
        )


def _receipted(received: bytes) -> list[int]:
    frames = FrameDecoder("1.2").feed(received)
    return [int(f.headers["receipt-id"]) for f in frames if f.cmd == "RECEIPT"]


def _drain(sock: socket.socket, count: int) -> list[int]:
    """Read MESSAGE frames until ``count`` came; returns their ``n`` headers in order."""
    sock.setblocking(True)
    sock.settimeout(WAIT * 4)
    decoder = FrameDecoder("1.2")
    numbers: list[int] = []
    while len(numbers) < count:
        data = sock.recv(1 << 20)
        assert data, f"the broker closed after {len(numbers)} of {count} messages"
        for frame in decoder.feed(data):
            if frame.cmd == "MESSAGE":
                numbers.append(int(frame.headers["n"]))
            else:
                assert frame is HEARTBEAT_FRAME or frame.cmd == "RECEIPT", frame
    return numbers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("body_size", [65536, 100], ids=["64KiB", "100B"])
def test_384_mib_at_a_queue_consumer_that_does_not_read_stays_under_100_mib(
    broker_process, body_size: int
) -> None:
    process, address = broker_process
    before = peak_rss(process.pid)
    consumer = connected(address)
    consumer.sendall(b"SUBSCRIBE\nid:1\ndestination:/queue/stuck\nreceipt:s\n\n\x00")
    assert b"RECEIPT" in consumer.recv(4096)
    # ... and from now on it reads nothing, until the end.
    producer = connected(address)
    received = send_until_error(producer, _sends(b"/queue/stuck", b"q" * body_size, 384 * MIB))
    producer.close()
    growth = peak_rss(process.pid) - before
    assert b"message:Queue full (max_queue_bytes)" in received
    receipted = _receipted(received)
    assert receipted == list(range(len(receipted)))
    assert len(receipted) > 32 * MIB // (body_size + 1024)  # the queue took a good share first
    print(f"broker RSS growth: {growth / MIB:.0f} MiB")
    assert growth < 100 * MIB, f"the broker grew {growth / MIB:.0f} MiB"
    # Nothing receipted is lost: the consumer gets all of it, in order, once it reads.
    assert _drain(consumer, len(receipted)) == receipted
    consumer.close()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_384_mib_at_a_topic_consumer_that_does_not_read_stays_under_100_mib(
    broker_process, tmp_path: Path
) -> None:
    process, address = broker_process
    before = peak_rss(process.pid)
    consumer = connected(address)
    consumer.sendall(b"SUBSCRIBE\nid:1\ndestination:/topic/stuck\nreceipt:s\n\n\x00")
    assert b"RECEIPT" in consumer.recv(4096)
    producer = connected(address)
    received = send_until_error(producer, _sends(b"/topic/stuck", b"t" * 65536, 384 * MIB))
    producer.close()
    growth = peak_rss(process.pid) - before
    # Topics keep nothing: every SEND is receipted, and the consumer is closed as slow.
    assert b"ERROR" not in received
    assert len(_receipted(received)) == 384 * MIB // 65536
    print(f"broker RSS growth: {growth / MIB:.0f} MiB")
    assert growth < 100 * MIB, f"the broker grew {growth / MIB:.0f} MiB"
    # It was closed: what it did not read within the linger time is gone with it.
    consumer.setblocking(True)
    consumer.settimeout(WAIT * 4)
    try:
        while consumer.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    consumer.close()
    assert "ERROR Slow consumer (max_pending_bytes)" in (tmp_path / "broker.log").read_text()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_what_held_before_the_limits_still_holds(broker_process) -> None:
    # A 1 GiB content-length is refused on the header alone; connections that dribble a
    # partial CONNECT do not slow the others; 300 clients at once are served.
    process, address = broker_process
    before = peak_rss(process.pid)
    huge = connected(address)
    huge.sendall(b"SEND\ndestination:/queue/huge\ncontent-length:1073741824\n\nxyz")
    refusal = _rest(huge)
    huge.close()
    assert b"ERROR" in refusal and b"max_body_bytes" in refusal
    slow = [socket.create_connection(address, timeout=WAIT) for _ in range(20)]
    for sock in slow:
        sock.sendall(b"CONN")  # ... and never the rest
    clients = [connected(address) for _ in range(300)]
    reader = connected(address)
    reader.sendall(b"SUBSCRIBE\nid:1\ndestination:/queue/crowd\n\n\x00")
    for n, sock in enumerate(clients):
        sock.sendall(b"SEND\ndestination:/queue/crowd\nn:%d\nreceipt:%d\n\nhello\x00" % (n, n))
    for n, sock in enumerate(clients):
        reply = b""
        while b"\x00" not in reply:
            chunk = sock.recv(4096)
            assert chunk, f"client {n} closed"
            reply += chunk
        assert reply.startswith(b"RECEIPT\nreceipt-id:%d\n" % n), reply
    assert sorted(_drain(reader, 300)) == list(range(300))
    for sock in [*slow, *clients, reader]:
        sock.close()
    assert peak_rss(process.pid) - before < 100 * MIB
