"""Loopback STOMP peer for ``bench/run.py``: a frame blaster and a counting sink, plain sockets.

Run by ``run.py`` as a separate process (never imported by the library).  It listens on
127.0.0.1 (an ephemeral port, printed as one JSON line on stdout) and serves each connection
on its own thread:

* it answers ``CONNECT``/``STOMP`` with ``CONNECTED`` (1.2, no heart-beats);
* on ``SUBSCRIBE`` to ``/queue/blast/<body bytes>/<count>`` it writes ``<count>``
  pre-encoded 1.2 ``MESSAGE`` frames (9 headers, two needing escapes, built by
  ``codec_worker.message_frame_bytes``, so the same bytes as the codec benchmark) in one
  ``sendall`` of a cached blob; their ``subscription`` header is ``sub-0``, the id that
  ``suite_worker.py`` subscribes with.  A SUBSCRIBE with another id (a library that picks
  its own ids, as the asyncio benchmark's do) gets the same frames with its id instead, the
  blob rewritten and written piece by piece (about 256 KiB each, cut at frame ends), so that
  the first bytes leave at once rather than after a rewrite of the whole blob;
* it counts ``SEND`` frames, finding each frame's end through its ``content-length`` header
  (or the NUL when there is none);
* any frame with a ``receipt`` header gets its ``RECEIPT`` once every frame before it has
  been counted, which is how the client learns that the sink has all of its frames;
* on ``SUBSCRIBE`` to ``/queue/throttle/<bytes per second>`` it becomes a slow reader for
  that connection (scenario ``send-1k-slow``);
* ``DISCONNECT`` (after its receipt) closes the connection.

All but the blaster is ``suite_sink.serve``, which ``suite_worker.py`` also runs on a
thread of its own process (scenario ``send-100-inproc``).

The server stops when its stdin closes (the driver exiting, or crashing, ends it).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from codec_worker import _text_body, message_frame_bytes
from suite_sink import serve_quietly

_BLOBS: dict[tuple[int, int], list[bytes]] = {}
_BLOBS_LOCK = threading.Lock()
PIECE = 262144  # bytes per piece of a blob (at least one frame) when its ids are rewritten
SUB_0 = b"\nsubscription:sub-0\n"


def blob(body_size: int, count: int, sub_id: str = "sub-0") -> Iterator[bytes]:
    """``count`` MESSAGE frames with ``body_size``-byte bodies, each ended by NUL LF.

    Yields the cached blob whole for subscription ``sub-0``; for any other id, its pieces
    with the ``subscription`` header rewritten, one piece at a time.
    """
    key = (body_size, count)
    with _BLOBS_LOCK:
        if key not in _BLOBS:
            # Frames are built once per distinct body and then repeated with only the
            # per-message headers changing, so that a large blob is cheap to build.
            body = _text_body(body_size, 1).encode("ascii") if body_size else b""
            frames = [message_frame_bytes(i, body) + b"\0\n" for i in range(count)]
            pieces, piece, size = [b"".join(frames)], [], 0
            for frame in frames:  # the pieces follow the whole blob in the list
                piece.append(frame)
                size += len(frame)
                if size >= PIECE:
                    pieces.append(b"".join(piece))
                    piece, size = [], 0
            if piece:
                pieces.append(b"".join(piece))
            _BLOBS[key] = pieces
        pieces = _BLOBS[key]
    if sub_id == "sub-0":
        yield pieces[0]
        return
    ours = f"\nsubscription:{sub_id}\n".encode()
    for piece in pieces[1:]:
        yield piece.replace(SUB_0, ours)


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
        threading.Thread(target=serve_quietly, args=(conn, blob), daemon=True).start()
    listener.close()


if __name__ == "__main__":
    main()
