"""Loopback STOMP peer for ``bench/run.py``: a frame blaster and a counting sink, plain sockets.

Run by ``run.py`` as a separate process (never imported by the library).  It listens on
127.0.0.1 (an ephemeral port, printed as one JSON line on stdout) and serves each connection
on its own thread:

* it answers ``CONNECT``/``STOMP`` with ``CONNECTED`` (1.2, no heart-beats);
* on ``SUBSCRIBE`` to ``/queue/blast/<body bytes>/<count>`` it writes ``<count>``
  pre-encoded 1.2 ``MESSAGE`` frames (9 headers, two needing escapes, built by
  ``codec_worker.message_frame_bytes``, so the same bytes as the codec benchmark) in one
  ``sendall`` of a cached blob;
* it counts ``SEND`` frames, finding each frame's end through its ``content-length`` header
  (or the NUL when there is none);
* any frame with a ``receipt`` header gets its ``RECEIPT`` once every frame before it has
  been counted, which is how the client learns that the sink has all of its frames;
* ``DISCONNECT`` (after its receipt) closes the connection.

The server stops when its stdin closes (the driver exiting, or crashing, ends it).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from codec_worker import _text_body, message_frame_bytes

_BLOBS: dict[tuple[int, int], bytes] = {}
_BLOBS_LOCK = threading.Lock()
CONNECTED = b"CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:bench-suite\n\n\0"


def blob(body_size: int, count: int) -> bytes:
    """``count`` MESSAGE frames with ``body_size``-byte bodies, each ended by NUL LF."""
    key = (body_size, count)
    with _BLOBS_LOCK:
        if key not in _BLOBS:
            # Frames are built once per distinct body and then repeated with only the
            # per-message headers changing, so that a large blob is cheap to build.
            body = _text_body(body_size, 1).encode("ascii") if body_size else b""
            _BLOBS[key] = b"".join(message_frame_bytes(i, body) + b"\0\n" for i in range(count))
        return _BLOBS[key]


def serve(conn: socket.socket) -> None:
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
                data = recv(262144)
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
                    more = _fill(conn, buf, frame_end + 1)
                    if not more:
                        return
                    continue
            else:
                frame_end = buf.find(b"\0", body_start)
                if frame_end < 0:
                    data = recv(262144)
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
                conn.sendall(CONNECTED)
                continue
            if command == b"SUBSCRIBE":
                parts = headers.get("destination", "").split("/")
                if len(parts) == 5 and parts[2] == "blast":
                    conn.sendall(blob(int(parts[3]), int(parts[4])))
            receipt = headers.get("receipt")
            if receipt is not None:
                conn.sendall(f"RECEIPT\nreceipt-id:{receipt}\nframes:{sent_frames}\n\n\0".encode())
            if command == b"DISCONNECT":
                return


def _fill(conn: socket.socket, buf: bytearray, size: int) -> bool:
    while len(buf) < size:
        data = conn.recv(262144)
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


def main() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.5)
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(120)  # a stuck client never holds a thread for ever
        threading.Thread(target=_serve_quietly, args=(conn,), daemon=True).start()
    listener.close()


def _serve_quietly(conn: socket.socket) -> None:
    try:
        serve(conn)
    except OSError:
        pass


if __name__ == "__main__":
    main()
