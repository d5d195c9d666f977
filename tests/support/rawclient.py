"""A raw STOMP peer: a plain socket and the codec, for what the library would never send
(the embedded broker's tests) and for checking a broker without the connection classes
(the real brokers' smoke tests).

Every wait is bounded (:data:`~support.waiting.WAIT` seconds by default).
"""

from __future__ import annotations

import itertools
import socket
import time
from collections import deque
from typing import Any

from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder, encode_frame
from support.waiting import WAIT

__all__ = ["RawClient", "new_receipt"]

_receipt_numbers = itertools.count(1)


def new_receipt() -> str:
    """A receipt id unique within the test run."""
    return f"r-{next(_receipt_numbers)}"


class RawClient:
    """A STOMP peer over a plain socket, for what the library would never send."""

    def __init__(self, address: tuple[str, int], version: str = "1.2") -> None:
        self.sock = socket.create_connection(address, timeout=WAIT)
        self.version = version
        self.decoder = FrameDecoder(version)
        self.pending: deque[Frame] = deque()
        #: ``time.monotonic()`` of every heart-beat EOL received.
        self.heartbeats: list[float] = []
        self.eof = False

    def send(
        self,
        cmd: str,
        headers: dict[str, Any] | None = None,
        body: bytes | str = b"",
        version: str | None = None,
    ) -> None:
        """Encode one frame (per ``version``, default the client's) and write it."""
        frame = Frame(cmd, dict(headers or {}), body)
        self.sock.sendall(encode_frame(frame, version or self.version))

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are."""
        self.sock.sendall(data)

    def connect(self, command: str = "CONNECT", **headers: str) -> Frame:
        """Send CONNECT (accept-version = the client's version, unless given) and return
        the CONNECTED frame."""
        headers.setdefault("accept-version", self.version)
        headers.setdefault("host", "localhost")
        self.send(command, headers, version="1.0")
        frame = self.receive()
        assert frame.cmd == "CONNECTED", frame
        return frame

    def _read(self, deadline: float) -> bool:
        # Read one chunk; False at end of stream or when the deadline passed.
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.eof:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        now = time.monotonic()
        for frame in self.decoder.feed(data):
            if frame is HEARTBEAT_FRAME:
                self.heartbeats.append(now)
            else:
                self.pending.append(frame)
        return True

    def receive(self, timeout: float = WAIT) -> Frame:
        """The next frame other than a heart-beat (AssertionError if none comes)."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            if not self._read(deadline):
                state = "closed" if self.eof else f"silent for {timeout} s"
                raise AssertionError(f"no frame from the broker: the connection is {state}")
        return self.pending.popleft()

    def request(self, cmd: str, headers: dict[str, Any] | None = None, body: bytes = b"") -> Frame:
        """Send a frame with a fresh receipt and return the RECEIPT (or whatever came)."""
        headers = dict(headers or {})
        headers["receipt"] = receipt = new_receipt()
        self.send(cmd, headers, body)
        frame = self.receive()
        if frame.cmd == "RECEIPT":
            assert frame.headers["receipt-id"] == receipt, frame
        return frame

    def wait_heartbeats(self, count: int, timeout: float = WAIT) -> list[float]:
        """Wait until ``count`` heart-beats arrived in all; returns their arrival times."""
        deadline = time.monotonic() + timeout
        while len(self.heartbeats) < count:
            if not self._read(deadline):
                raise AssertionError(f"{len(self.heartbeats)} of {count} heart-beats arrived")
        return list(self.heartbeats)

    def wait_closed(self, timeout: float = WAIT) -> bool:
        """Read until the broker closes the connection; returns whether it did in time."""
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        return self.eof

    def expect_error(self, timeout: float = WAIT) -> Frame:
        """The next frame must be ERROR, and the broker must then close the connection."""
        frame = self.receive(timeout)
        assert frame.cmd == "ERROR", frame
        assert self.wait_closed(timeout), "the broker did not close the connection after ERROR"
        return frame

    def close(self) -> None:
        self.sock.close()
