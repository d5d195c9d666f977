"""A loopback TCP proxy for tests of connection failures against real brokers.

The client connects to the proxy's address; each connection is relayed to the target
broker over a connection of its own.  The test can then break the links the way networks
and hosts break them, while the broker itself keeps running:

* :meth:`TcpProxy.cut`: close every current link at both ends (the broker sees its client
  go away; the client sees the connection closed);
* :meth:`TcpProxy.freeze`: stop relaying on every current link, both ways, and leave the
  sockets open: a half-open link, detectable only by heart-beats (new connections are
  relayed normally).

Every thread it starts polls its stop flag and ends at :meth:`TcpProxy.close`.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from typing import Any

__all__ = ["TcpProxy"]

_POLL = 0.05


class _Link:
    """One client connection and its broker connection, relayed by one thread."""

    def __init__(self, client: socket.socket, broker: socket.socket) -> None:
        self.client = client
        self.broker = broker
        self.frozen = threading.Event()
        self.closed = threading.Event()

    def run(self, stopping: threading.Event) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.client, selectors.EVENT_READ, self.broker)
        selector.register(self.broker, selectors.EVENT_READ, self.client)
        try:
            while not stopping.is_set() and not self.closed.is_set():
                if self.frozen.is_set():
                    self.closed.wait(_POLL)
                    continue
                for key, _ in selector.select(_POLL):
                    source: Any = key.fileobj
                    try:
                        data = source.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    try:
                        key.data.sendall(data)
                    except OSError:
                        return
        finally:
            selector.close()
            self.close()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.broker):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class TcpProxy:
    """Relays connections from ``address`` (127.0.0.1, a free port) to ``target``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(_POLL)
        self.address: tuple[str, int] = self._listener.getsockname()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.links: list[_Link] = []
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="TcpProxy", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                broker = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, broker):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = _Link(client, broker)
            thread = threading.Thread(
                target=link.run, args=(self._stopping,), name="TcpProxyLink", daemon=True
            )
            with self._lock:
                self.links.append(link)
                self._threads.append(thread)
            thread.start()

    def _current(self) -> list[_Link]:
        with self._lock:
            return [link for link in self.links if not link.closed.is_set()]

    def cut(self) -> int:
        """Close every current link; returns how many there were."""
        current = self._current()
        for link in current:
            link.close()
        return len(current)

    def freeze(self) -> int:
        """Stop relaying on every current link (left open); returns how many."""
        current = self._current()
        for link in current:
            link.frozen.set()
        return len(current)

    def close(self) -> None:
        """Stop accepting, close every link, and wait for the threads."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        self._accepting.join(5)
        for link in list(self.links):
            link.close()
        for thread in list(self._threads):
            thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
