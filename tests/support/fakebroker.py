"""A small scripted STOMP server for the connection-layer tests.

It listens on a loopback address (``127.0.0.1`` or ``::1``, port 0), optionally with TLS,
and is built on the library's own codec.  Each accepted socket gets a
:class:`ServerConnection` that

* records every byte and every frame it receives (with ``time.monotonic()`` stamps), and
  every heart-beat EOL, so tests can assert the exact frames on the wire;
* answers CONNECT/STOMP as told by :attr:`FakeBroker.connect_reply`: ``"connected"`` (a
  CONNECTED frame with the configured ``version`` and ``heart-beat`` headers), ``"error"``
  (an ERROR frame, then a close), ``"silent"`` (nothing at all) or ``"close"`` (drops the
  socket);
* answers every frame that has a ``receipt`` header with a RECEIPT (unless
  :attr:`FakeBroker.answer_receipts` is false);
* sends heart-beats at the negotiated rate, until told to :meth:`~ServerConnection.go_silent`;
* stops reading when told to (:meth:`~ServerConnection.stop_reading`): a broker that no
  longer takes the client's bytes;
* pushes MESSAGE frames, any frame or raw bytes on demand, and can close abruptly.

Every thread it starts polls a stop flag and ends at :meth:`FakeBroker.stop`; every wait
takes a timeout.  One thread per connection owns its socket (TLS objects are not shared
between threads): pushes from the test thread are queued and the owner is woken through a
socket pair.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder, encode_frame
from stomp.exception import FrameError
from support.waiting import WAIT, library_threads, wait_until

__all__ = [
    "WAIT",
    "EventLog",
    "FakeBroker",
    "RefusedPort",
    "ServerConnection",
    "library_threads",
    "wait_until",
]

_POLL = 0.05  # how often the threads look at their stop flags


class Record:
    """One frame received by the server: the frame and when it arrived."""

    __slots__ = ("frame", "time")

    def __init__(self, frame: Frame, when: float) -> None:
        self.frame = frame
        self.time = when

    def __repr__(self) -> str:
        return f"Record({self.frame!r}, {self.time:.3f})"


class ServerConnection:
    """The server side of one accepted socket (see the module docstring)."""

    def __init__(self, broker: FakeBroker, sock: socket.socket, address: Any, index: int) -> None:
        self.broker = broker
        self.address = address
        self.index = index
        self.version = broker.version
        #: Every byte received, in order.
        self.raw = bytearray()
        #: The frames received (heart-beats excluded), with their arrival time.
        self.records: list[Record] = []
        #: Arrival times of the client's heart-beat EOLs.
        self.heartbeats: list[float] = []
        #: Arrival times of each chunk of bytes received.
        self.chunks: list[float] = []
        #: The heart-beat intervals negotiated on CONNECT, in seconds: (to send, to receive).
        self.send_interval = 0.0
        #: Set when the client closed the socket (or it failed); not when we closed it.
        self.peer_closed = threading.Event()
        #: Set once the socket is closed, by whichever side.
        self.closed = threading.Event()
        #: Set when the TLS handshake succeeded (or at once without TLS).
        self.handshake_done = threading.Event()
        #: The TLS handshake error, if any.
        self.tls_error: BaseException | None = None
        self.silent = False
        self.reading = True
        self._sock = sock
        self._decoder = FrameDecoder(self.version or "1.2")
        self._changed = threading.Condition()
        self._out: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._close_request = False
        self._rst = False
        self._last_sent = time.monotonic()
        self._message_ids = itertools.count(1)
        self.thread = threading.Thread(
            target=self._run, name=f"FakeBrokerConn-{broker.port}-{index}", daemon=True
        )

    # -- what the test reads --------------------------------------------------------------

    @property
    def frames(self) -> list[Frame]:
        """The frames received so far (heart-beats excluded)."""
        with self._changed:
            return [r.frame for r in self.records]

    def commands(self) -> list[str]:
        """The commands of the frames received so far."""
        return [f.cmd for f in self.frames]  # type: ignore[misc]

    def raw_frames(self) -> list[bytes]:
        """The received bytes cut into frames at each NUL (heart-beat EOLs between frames
        dropped); each item ends with its NUL.  Meant for frames without NULs in bodies."""
        with self._changed:
            data = bytes(self.raw)
        out = []
        for piece in data.split(b"\0")[:-1]:
            out.append(piece.lstrip(b"\r\n") + b"\0")
        return out

    def wait_for(self, predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
        """Wait until ``predicate()`` (evaluated under the record lock) is true."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def wait_for_frame(self, cmd: str, count: int = 1, timeout: float = WAIT) -> Frame:
        """Wait for the ``count``-th frame with command ``cmd`` and return it.

        Raises:
            AssertionError: it did not arrive in time.
        """

        def found() -> list[Frame]:
            return [r.frame for r in self.records if r.frame.cmd == cmd]

        if not self.wait_for(lambda: len(found()) >= count, timeout):
            raise AssertionError(
                f"no {cmd} frame #{count} within {timeout} s; got {self.commands()}"
            )
        with self._changed:
            return found()[count - 1]

    def wait_for_heartbeats(self, count: int, timeout: float = WAIT) -> list[float]:
        """Wait until ``count`` client heart-beats arrived; return their times."""
        if not self.wait_for(lambda: len(self.heartbeats) >= count, timeout):
            raise AssertionError(f"{len(self.heartbeats)} heart-beats within {timeout} s")
        with self._changed:
            return list(self.heartbeats)

    def wait_peer_closed(self, timeout: float = WAIT) -> bool:
        """Wait until the client has closed the socket."""
        return self.peer_closed.wait(timeout)

    # -- what the test makes it do --------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Write ``data`` as is (from the connection's own thread, soon)."""
        self._out.put(bytes(data))
        self._wake()

    def send_frame(self, cmd: str, headers: dict[str, Any] | None = None, body: Any = "") -> None:
        """Encode and write one frame (escaped per the connection's version)."""
        self.send_raw(encode_frame(Frame(cmd, dict(headers or {}), body), self.version or "1.2"))

    def send_message(
        self,
        destination: str = "/queue/test",
        body: Any = "",
        headers: dict[str, Any] | None = None,
        subscription: str = "1",
    ) -> str:
        """Write a MESSAGE frame; returns its ``message-id``."""
        message_id = f"m-{self.index}-{next(self._message_ids)}"
        all_headers = {
            "destination": destination,
            "message-id": message_id,
            "subscription": subscription,
            "ack": message_id,
        }
        all_headers.update(headers or {})
        self.send_frame("MESSAGE", all_headers, body)
        return message_id

    def go_silent(self) -> None:
        """Stop sending anything (heart-beats, receipts) without closing the socket."""
        self.silent = True

    def stop_reading(self) -> None:
        """Stop reading the socket (the client's writes fill the buffers, then block)."""
        self.reading = False
        self._wake()

    def close(self, rst: bool = False, timeout: float = WAIT) -> None:
        """Close the socket abruptly (``rst``: with a TCP reset) and wait until it is."""
        self._rst = rst
        self._close_request = True
        self._wake()
        self.closed.wait(timeout)

    # -- the connection's thread ----------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        sock = self._sock
        try:
            if self.broker.tls_context is not None:
                sock = self._handshake(sock)
                if sock is None:
                    return
            self.handshake_done.set()
            sock.setblocking(False)
            self._sock = sock
            self._loop(sock)
        finally:
            self._finish()

    def _handshake(self, sock: socket.socket) -> ssl.SSLSocket | None:
        sock.settimeout(WAIT)
        try:
            tls = self.broker.tls_context.wrap_socket(sock, server_side=True)  # type: ignore[union-attr]
        except (OSError, ValueError) as exc:
            self.tls_error = exc
            sock.close()
            self.peer_closed.set()
            return None
        return tls

    def _loop(self, sock: socket.socket) -> None:
        # A TLS object may hold records that select() cannot see (read during the
        # handshake, or several in one segment): read until it would block, then select.
        tls = isinstance(sock, ssl.SSLSocket)
        read_again = tls
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            self._serve(sock, selector, tls, read_again)

    def _serve(
        self, sock: socket.socket, selector: selectors.BaseSelector, tls: bool, read_again: bool
    ) -> None:
        broker = self.broker
        watching = True
        while not broker.stopping.is_set():
            if self._close_request:
                return
            self._flush(sock)
            if self._close_request:
                return
            if not self.reading and watching:
                selector.unregister(sock)  # (the socket stays open, unread)
                watching = read_again = False
            timeout = _POLL
            if self.send_interval and not self.silent:
                due = self._last_sent + self.send_interval
                timeout = max(0.0, min(timeout, due - time.monotonic()))
            if read_again:
                readable = [sock]
            else:
                readable = [key.fileobj for key, _ in selector.select(timeout)]
                if self._wake_r in readable:
                    with contextlib.suppress(OSError):
                        self._wake_r.recv(4096)
            if sock in readable:
                got = self._read(sock)
                if got is False:
                    return
                read_again = tls and got is True
            if (
                self.send_interval
                and not self.silent
                and time.monotonic() - self._last_sent >= self.send_interval
            ):
                self._write(sock, b"\n")

    def _read(self, sock: socket.socket) -> bool | None:
        # True: bytes read; None: none ready; False: the connection is over.
        try:
            data = sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            return None
        except OSError:
            self.peer_closed.set()
            return False
        if not data:
            self.peer_closed.set()
            return False
        now = time.monotonic()
        try:
            frames = self._decoder.feed(data)
            error = None
        except FrameError as exc:
            frames, error = exc.frames, exc
        with self._changed:
            self.raw += data
            self.chunks.append(now)
            for frame in frames:
                if frame is HEARTBEAT_FRAME:
                    self.heartbeats.append(now)
                else:
                    self.records.append(Record(frame, now))
            self._changed.notify_all()
        for frame in frames:
            if frame is not HEARTBEAT_FRAME:
                self._answer(frame)
        if error is not None:
            raise AssertionError(f"fake broker got a malformed frame: {error}")
        return not self._close_request

    def _answer(self, frame: Frame) -> None:
        broker = self.broker
        if frame.cmd in ("CONNECT", "STOMP"):
            reply = broker.connect_reply
            if callable(reply):
                reply = reply(self, frame)
            if reply == "connected":
                self._connected(frame)
            elif reply == "error":
                self.send_frame(
                    "ERROR", {"message": broker.error_message}, "connection refused by the test"
                )
                if broker.close_after_error:
                    self._close_request = True
            elif reply == "close":
                self._close_request = True
            return
        if self.silent:
            return
        receipt = frame.headers.get("receipt")
        if receipt is not None and broker.answer_receipts:
            self.send_frame("RECEIPT", {"receipt-id": receipt})
        if frame.cmd == "DISCONNECT" and broker.close_on_disconnect:
            self._close_request = True  # after the RECEIPT, as RabbitMQ does

    def _connected(self, frame: Frame) -> None:
        broker = self.broker
        version = self.version or frame.headers.get("accept-version", "1.0").split(",")[-1]
        self.version = version
        self._decoder.version = version
        headers: dict[str, Any] = {"session": f"session-{self.index}", "server": "fakebroker/1"}
        if version != "1.0":
            headers["version"] = version
        if broker.heartbeat is not None:
            headers["heart-beat"] = broker.heartbeat
            try:  # a malformed value (sent on purpose) means no heart-beats from here
                sx = int(broker.heartbeat.split(",")[0])
                cy = int(frame.headers.get("heart-beat", "0,0").split(",")[1])
            except ValueError:
                sx = cy = 0
            if sx and cy:
                self.send_interval = max(sx, cy) / 1000
        headers.update(broker.connected_headers)
        self.send_frame("CONNECTED", headers)

    def _flush(self, sock: socket.socket) -> None:
        while True:
            try:
                data = self._out.get_nowait()
            except queue.Empty:
                return
            if data is not None:
                self._write(sock, data)

    def _write(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.settimeout(WAIT)
            sock.sendall(data)
            sock.setblocking(False)
        except OSError:
            self._close_request = True
        self._last_sent = time.monotonic()

    def _finish(self) -> None:
        sock = self._sock
        if not self._rst and self.handshake_done.is_set():
            self._flush(sock)  # e.g. the ERROR sent before closing
        if self._rst:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00" * 2)
        with contextlib.suppress(OSError):
            sock.close()
        self._wake_r.close()
        self._wake_w.close()
        with self._changed:
            self.closed.set()
            self._changed.notify_all()


class FakeBroker:
    """A scripted STOMP server on a loopback address; see the module docstring.

    Args:
        host: ``"127.0.0.1"`` or ``"::1"``.
        version: the version to speak and announce; ``None``: the client's
            ``accept-version`` (its last item).
        heartbeat: the ``heart-beat`` header of CONNECTED (``"sx,sy"``); ``None`` for none.
        connect_reply: ``"connected"``, ``"error"``, ``"silent"``, ``"close"``, or a
            callable ``(connection, frame) -> one of those``.
        tls_context: a server-side ``ssl.SSLContext`` to wrap accepted sockets with.
        answer_receipts: answer ``receipt`` headers with RECEIPT frames.
        close_on_disconnect: close the socket right after answering DISCONNECT.
        close_after_error: close the socket after an ERROR reply to CONNECT.
        error_message: the ``message`` header of that ERROR.
        connected_headers: extra headers for CONNECTED.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        version: str | None = None,
        heartbeat: str | None = None,
        connect_reply: Any = "connected",
        tls_context: ssl.SSLContext | None = None,
        answer_receipts: bool = True,
        close_on_disconnect: bool = False,
        close_after_error: bool = True,
        error_message: str = "go away",
        connected_headers: dict[str, str] | None = None,
    ) -> None:
        self.host = host
        self.version = version
        self.heartbeat = heartbeat
        self.connect_reply = connect_reply
        self.tls_context = tls_context
        self.answer_receipts = answer_receipts
        self.close_on_disconnect = close_on_disconnect
        self.close_after_error = close_after_error
        self.error_message = error_message
        self.connected_headers = dict(connected_headers or {})
        self.stopping = threading.Event()
        self.connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, 0))
        self._listener.listen(16)
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"FakeBroker-{self.port}", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to."""
        return (self.host, self.port)

    def start(self) -> FakeBroker:
        """Start accepting connections; returns the broker."""
        self._thread.start()
        return self

    def stop(self, timeout: float = WAIT) -> None:
        """Close everything and wait (bounded) for every thread to end."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() at once on Linux
        if self._thread.is_alive():
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._listener.close()
        for connection in list(self.connections):
            connection._wake()
            connection.thread.join(timeout)

    def __enter__(self) -> FakeBroker:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def wait_for_connection(self, index: int = 0, timeout: float = WAIT) -> ServerConnection:
        """Wait until connection number ``index`` (0 = the first) was accepted."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.connections) > index, timeout):
                raise AssertionError(f"no connection #{index} within {timeout} s")
            return self.connections[index]

    @property
    def last(self) -> ServerConnection:
        """The connection accepted last."""
        return self.wait_for_connection(0) if not self.connections else self.connections[-1]

    def _accept_loop(self) -> None:
        counter = itertools.count()
        while not self.stopping.is_set():
            try:
                sock, address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = ServerConnection(self, sock, address, next(counter))
            with self._changed:
                self.connections.append(connection)
                self._changed.notify_all()
            connection.thread.start()


class RefusedPort:
    """A port on a loopback address that refuses connections: bound but never listening,
    so nothing else can take it while this object is open.  Close it when done."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to (fail to) connect to."""
        return (self.host, self.port)

    def close(self) -> None:
        """Release the port."""
        self._sock.close()


class EventLog:
    """A listener that records every callback as ``(name, argument)`` in call order.

    Args:
        log: a shared list to append to (to see the order across several listeners), with
            ``tag`` prefixed to each name; default: its own list.
        tag: prefix of the recorded names, e.g. ``"a."``.
    """

    def __init__(self, log: list[tuple[str, Any]] | None = None, tag: str = "") -> None:
        self.events: list[tuple[str, Any]] = log if log is not None else []
        self.tag = tag
        self.threads: dict[str, str] = {}
        self._changed = _SHARED_CONDITION

    def _add(self, name: str, arg: Any = None) -> None:
        with self._changed:
            self.events.append((self.tag + name, arg))
            self.threads[name] = threading.current_thread().name
            self._changed.notify_all()

    def names(self) -> list[str]:
        """The recorded callback names, in order."""
        with self._changed:
            return [name for name, _ in self.events]

    def count(self, name: str) -> int:
        """How many times ``name`` (tag included) was recorded."""
        return self.names().count(name)

    def wait_for(self, name: str, count: int = 1, timeout: float = WAIT) -> Any:
        """Wait for the ``count``-th ``name`` event; return its argument."""
        name = name if name.startswith(self.tag) else self.tag + name

        def found() -> list[Any]:
            return [arg for n, arg in self.events if n == name]

        with self._changed:
            if not self._changed.wait_for(lambda: len(found()) >= count, timeout):
                raise AssertionError(f"no {name} #{count} within {timeout} s: {self.names()}")
            return found()[count - 1]

    def on_connecting(self, host_and_port: Any) -> None:
        self._add("connecting", host_and_port)

    def on_connected(self, frame: Frame) -> None:
        self._add("connected", frame)

    def on_disconnected(self) -> None:
        self._add("disconnected")

    def on_heartbeat_timeout(self) -> None:
        self._add("heartbeat_timeout")

    def on_before_message(self, frame: Frame) -> None:
        self._add("before_message", frame)

    def on_message(self, frame: Frame) -> None:
        self._add("message", frame)

    def on_receipt(self, frame: Frame) -> None:
        self._add("receipt", frame)

    def on_error(self, frame: Frame) -> None:
        self._add("error", frame)

    def on_send(self, frame: Frame) -> None:
        self._add("send", frame)

    def on_heartbeat(self) -> None:
        self._add("heartbeat")

    def on_receiver_loop_completed(self, frame: Any) -> None:
        self._add("receiver_loop_completed", frame)


# One condition for every EventLog, so that listeners sharing a list share its lock.
_SHARED_CONDITION = threading.Condition()
