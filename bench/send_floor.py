"""The floor of the send scenarios: SEND frames written with nothing but ``socket.sendall``.

Run with the project's interpreter, from anywhere::

    python bench/send_floor.py                 # 64 KiB bodies, 1,000 frames, 11 trials
    python bench/send_floor.py --body 100 --n 30000

It starts ``suite_server.py`` (the counting sink of ``run.py`` and ``aio_run.py``), connects
one plain socket, and writes prebuilt SEND frames (the headers the asyncio worker sends, a
``content-length``, the same text body), the last with ``receipt`` and ``expect-frames``,
then waits for the sink's RECEIPT: what any client library does at the least for the same
scenario, without building a single frame.  It prints the wall time and the process CPU time
per frame (median and range over the trials).  No client can send faster than the sink
takes frames; when this loop's wall time per frame is about a library's, that library is
bound by the sink, not by itself.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench_run  # (bench/run.py: the server process)
from aio_worker import SINK, text_body


def frames(body: int, n: int) -> tuple[bytes, bytes]:
    """The SEND frame repeated, and the last one (with its receipt)."""
    data = text_body(body).encode()
    head = f"SEND\ndestination:{SINK}\ncontent-type:text/plain\ncontent-length:{len(data)}\n"
    last = f"expect-frames:{n}\nreceipt:floor\n"
    return (head + "\n").encode() + data + b"\0", (head + last + "\n").encode() + data + b"\0"


def read_frame(sock: socket.socket) -> bytes:
    data = b""
    while b"\0" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the sink closed the connection")
        data += chunk
    return data


def trial(port: int, body: int, n: int) -> tuple[float, float]:
    """Wall and CPU seconds per frame of one trial."""
    frame, last = frames(body, n)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:localhost\n\n\0")
        read_frame(sock)  # CONNECTED
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(n - 1):
            sock.sendall(frame)
        sock.sendall(last)
        answer = read_frame(sock)
        t1, c1 = time.perf_counter(), time.process_time()
    if not answer.startswith(b"RECEIPT"):
        raise RuntimeError(f"the sink answered {answer[:200]!r}")
    return (t1 - t0) / n, (c1 - c0) / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--body", type=int, default=65536, help="body bytes (65536)")
    parser.add_argument("--n", type=int, default=1000, help="frames per trial (1000)")
    parser.add_argument("--trials", type=int, default=11, help="trials (11)")
    args = parser.parse_args()
    cwd = tempfile.mkdtemp(prefix="stomp-ng-floor-")
    server, port = bench_run.start_server(cwd)
    try:
        trial(port, args.body, min(args.n, 100))  # (warm-up)
        results = [trial(port, args.body, args.n) for _ in range(args.trials)]
    finally:
        bench_run.stop_server(server)
    for what, values in (("wall", [r[0] for r in results]), ("CPU", [r[1] for r in results])):
        us = [v * 1e6 for v in values]
        print(
            f"{what} per frame: {statistics.median(us):.1f} us "
            f"({min(us):.1f}-{max(us):.1f}, {args.trials} trials of {args.n} "
            f"{args.body}-byte frames)"
        )
    print(f"rate: {1 / statistics.median(r[0] for r in results):,.0f} frames/s")


if __name__ == "__main__":
    main()
