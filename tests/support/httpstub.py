"""A loopback port that answers like a web server: whatever arrives gets an HTTP 400, then
the connection is closed (what a client pointed at an HTTP port instead of a STOMP one
meets)."""

from __future__ import annotations

import socket
import threading

from support.waiting import WAIT

#: What the stub answers.
RESPONSE = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class HTTPStub:
    """Serves one connection on ``127.0.0.1:<port>`` in a thread; :meth:`close` ends it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(WAIT)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="http-stub", daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def _serve(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:  # closed, or nobody came
            return
        with sock:
            sock.settimeout(WAIT)
            try:
                sock.recv(65536)
                sock.sendall(RESPONSE)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(WAIT)
