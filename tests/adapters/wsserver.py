"""A loopback WebSocket server (RFC 6455, server side only) for the adapter tests, and
the constants they share."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import struct
import threading
from typing import Any

#: Every wait in these tests is bounded by this many seconds.
WAIT = 5.0

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


# ---------------------------------------------------------------- loopback WebSocket server


class WSPeer:
    """The server side of one WebSocket connection (RFC 6455, unfragmented reads).

    Attributes:
        request: the handshake request lines (request line first).
        headers: the request headers, names in lower case.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(WAIT)
        self._buf = b""
        self.request: list[str] = []
        self.headers: dict[str, str] = {}

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("client closed the connection")
            self._buf += chunk
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def handshake(self, subprotocol: str | None = "pick") -> None:
        """Read the upgrade request and accept it; ``subprotocol="pick"`` chooses the
        first one offered, ``None`` chooses none."""
        while b"\r\n\r\n" not in self._buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError("no handshake")
            self._buf += chunk
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        self.request = head.decode("latin-1").split("\r\n")
        for line in self.request[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(
            hashlib.sha1((self.headers["sec-websocket-key"] + _GUID).encode()).digest()
        ).decode()
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {accept}",
        ]
        offered = [p.strip() for p in self.headers.get("sec-websocket-protocol", "").split(",")]
        if subprotocol == "pick" and offered[0]:
            lines.append(f"Sec-WebSocket-Protocol: {offered[0]}")
        elif subprotocol not in (None, "pick"):
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def recv_frame(self) -> tuple[int, bool, bytes]:
        """One WebSocket frame from the client: ``(opcode, fin, unmasked payload)``."""
        b0, b1 = self._read(2)
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._read(8))
        assert b1 & 0x80, "client frames must be masked"
        mask = self._read(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(length)))
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def recv_stomp(self) -> tuple[int, bytes]:
        """The next data message (a STOMP frame, or a heart-beat) and its opcode."""
        while True:
            opcode, fin, payload = self.recv_frame()
            assert fin, "the client sends every STOMP frame as one unfragmented message"
            if opcode in (OP_TEXT, OP_BINARY):
                return opcode, payload

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """Send one (unmasked) frame."""
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        self.sock.sendall(head + payload)

    def send_text(self, payload: bytes) -> None:
        self.send_frame(OP_TEXT, payload)

    def close(self) -> None:
        self.sock.close()


class WSServer:
    """A one-connection-at-a-time WebSocket server on a loopback port.

    ``accept()`` returns the :class:`WSPeer` of the next client, handshake not yet done.
    """

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(4)
        self.listener.settimeout(WAIT)
        self.host = host
        self.port = self.listener.getsockname()[1]
        self.tls = tls
        self.peers: list[WSPeer] = []

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def accept(self) -> WSPeer:
        sock, _ = self.listener.accept()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        peer = WSPeer(sock)
        self.peers.append(peer)
        return peer

    def serve(self, script: Any) -> threading.Thread:
        """Run ``script(peer)`` for the next client in a thread; its exception, if any,
        is re-raised by :meth:`join`."""
        self.error: BaseException | None = None

        def run() -> None:
            try:
                script(self.accept())
            except BaseException as exc:  # handed to the test by join()
                self.error = exc

        self.thread = threading.Thread(target=run, name="ws-test-server", daemon=True)
        self.thread.start()
        return self.thread

    def join(self) -> None:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the test server did not finish"
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.listener.close()
        for peer in self.peers:
            peer.close()


def connected_frame(version: str = "1.2", extra: str = "") -> bytes:
    """A CONNECTED frame as a server sends it."""
    return f"CONNECTED\nversion:{version}\n{extra}\n\x00".encode()
