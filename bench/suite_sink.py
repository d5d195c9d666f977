"""The counting sink of ``bench/run.py``: serves one STOMP connection with plain sockets.

Shared by ``suite_server.py`` (the loopback server process, one thread per connection) and
``suite_worker.py`` (scenario ``send-100-inproc``: the same sink on a thread of the client
worker's own process).  Standard library only, so that both libraries' workers can import
it (never imported by the library):

* ``CONNECT``/``STOMP`` is answered with ``CONNECTED`` (1.2); the sink sends no heart-beats
  and asks for the client's own offer (``heart-beat:0,<cx>`` for a client's ``<cx>,<cy>``,
  ``0,0`` for a client that offers none), so a client that must send heart-beats sends them
  at the rate it chose (their EOLs are skipped between frames);
* ``SEND`` frames are counted, each frame's end found through its ``content-length`` header
  (or the NUL when there is none);
* any frame with a ``receipt`` header gets its ``RECEIPT`` (with a ``frames`` header: the
  ``SEND`` frames counted so far) once every frame before it has been counted, which is how
  the client learns that the sink has all of its frames;
* ``SUBSCRIBE`` to ``/queue/throttle/<bytes per second>`` makes the sink a slow reader from
  then on: reads of at most 64 KiB, paced (by sleeping) to that average rate;
* ``SUBSCRIBE`` to ``/queue/blast/<body bytes>/<count>`` calls ``blast(body, count, id)``
  (``id``: the SUBSCRIBE's) for the pieces of bytes to write back, when the caller gives one
  (the server process does);
* a frame with a ``receipt`` and an ``expect-frames`` header gets an ``ERROR`` (with
  ``receipt-id``) instead of its ``RECEIPT`` when the count differs, so a client library that
  hides the receipt's headers still learns of a shortfall;
* ``DISCONNECT`` (after its receipt) ends the connection.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable

# blast(body bytes, count, subscription id) -> the pieces of bytes to write, in order
Blaster = Callable[[int, int, str], Iterable[bytes]]

CONNECTED = "CONNECTED\nversion:1.2\nheart-beat:0,{}\nserver:bench-suite\n\n\0"
READ = 262144  # bytes per recv() at full speed
THROTTLED_READ = 65536  # bytes per recv() when throttled


class Throttle:
    """``recv`` paced to an average of ``rate`` bytes per second, from the first read.

    Each read is followed by a sleep until the time at which ``rate`` would have delivered
    every byte read so far.  A sender slower than ``rate`` earns at most ``BURST`` seconds
    of credit: the sink never reads faster than ``rate`` for longer than that.
    """

    BURST = 0.05

    def __init__(self, conn: socket.socket, rate: int) -> None:
        self.conn = conn
        self.rate = float(rate)
        self.start: float | None = None
        self.total = 0

    def recv(self, size: int) -> bytes:
        data = self.conn.recv(min(size, THROTTLED_READ))
        now = time.monotonic()
        if self.start is None:
            self.start = now
        self.total += len(data)
        delay = self.start + self.total / self.rate - now
        if delay > 0:
            time.sleep(delay)
        elif delay < -self.BURST:  # behind schedule: the sender was slower; cap the credit
            self.start -= delay + self.BURST
        return data


def serve(conn: socket.socket, blast: Blaster | None = None) -> None:
    """Read frames from one client until it disconnects or closes."""
    buf = bytearray()
    pos = 0
    sent_frames = 0
    recv = conn.recv
    with conn:
        while True:
            # Skip heart-beat EOLs between frames.
            while pos < len(buf) and buf[pos] in (10, 13):
                pos += 1
            head_end = buf.find(b"\n\n", pos)
            if head_end < 0:
                if pos:
                    del buf[:pos]
                    pos = 0
                data = recv(READ)
                if not data:
                    return
                buf += data
                continue
            header_block = bytes(buf[pos:head_end])
            body_start = head_end + 2
            cl_at = header_block.find(b"\ncontent-length:")
            if cl_at >= 0:
                line_end = header_block.find(b"\n", cl_at + 1)
                value = header_block[cl_at + 16 : line_end if line_end >= 0 else None]
                frame_end = body_start + int(value.strip())
                if frame_end >= len(buf):
                    more = _fill(recv, buf, frame_end + 1)
                    if not more:
                        return
                    continue
            else:
                frame_end = buf.find(b"\0", body_start)
                if frame_end < 0:
                    data = recv(READ)
                    if not data:
                        return
                    buf += data
                    continue
            pos = frame_end + 1
            command = header_block.split(b"\n", 1)[0].rstrip(b"\r")
            if command == b"SEND":
                sent_frames += 1
                if b"\nreceipt:" not in header_block:
                    continue
            headers = _headers(header_block)
            if command in (b"CONNECT", b"STOMP"):
                conn.sendall(CONNECTED.format(_client_beat(headers)).encode())
                continue
            if command == b"SUBSCRIBE":
                parts = headers.get("destination", "").split("/")
                if len(parts) == 5 and parts[2] == "blast" and blast is not None:
                    for piece in blast(int(parts[3]), int(parts[4]), headers.get("id", "")):
                        conn.sendall(piece)
                elif len(parts) == 4 and parts[2] == "throttle":
                    recv = Throttle(conn, int(parts[3])).recv
            receipt = headers.get("receipt")
            if receipt is not None:
                expected = headers.get("expect-frames")
                if expected is not None and int(expected) != sent_frames:
                    reply = f"ERROR\nreceipt-id:{receipt}\nmessage:counted {sent_frames} SEND frames, not {expected}\n\n\0"
                else:
                    reply = f"RECEIPT\nreceipt-id:{receipt}\nframes:{sent_frames}\n\n\0"
                conn.sendall(reply.encode())
            if command == b"DISCONNECT":
                return


def serve_quietly(conn: socket.socket, blast: Blaster | None = None) -> None:
    """``serve()``, a connection reset or a timeout ending it without a traceback."""
    try:
        serve(conn, blast)
    except OSError:
        pass


def _client_beat(headers: dict[str, str]) -> int:
    """The client's offer to send heart-beats (``cx`` of its ``heart-beat``), 0 if none."""
    try:
        return max(0, int(headers.get("heart-beat", "0,0").split(",")[0]))
    except ValueError:
        return 0


def _fill(recv: Callable[[int], bytes], buf: bytearray, size: int) -> bool:
    while len(buf) < size:
        data = recv(READ)
        if not data:
            return False
        buf += data
    return True


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\n")[1:]:
        key, _, value = line.rstrip("\r").partition(":")
        headers.setdefault(key, value)
    return headers
