"""The embedded broker: a listening socket and one event-loop thread serving every client.

:class:`Broker` is the public object.  One daemon thread runs a ``selectors`` loop: it
accepts connections, reads and writes non-blocking sockets, and runs the timers
(heart-beats, CONNECT and closing deadlines).  All broker state (destinations,
subscriptions, connections) lives on that thread, so none of it needs locking; the lock
below only lets other threads read counters safely.  Output to each client is queued and
written at the end of each loop turn, many frames per ``send``.
"""

from __future__ import annotations

import errno
import itertools
import logging
import secrets
import selectors
import socket
import threading
import time
from types import TracebackType
from typing import Any

from stomp import _version
from stomp.broker.connection import ClientConnection, State
from stomp.broker.destinations import Router
from stomp.broker.handshake import Settings
from stomp.codec import DEFAULT_MAX_HEADER_BYTES, VERSIONS
from stomp.threads import leave_signals_to_the_main_thread

__all__ = ["Broker"]

log = logging.getLogger("stomp.py.broker")

_LISTENER = "listener"
_WAKE = "wake"
_ACCEPTS_PER_TURN = 64
_MAX_SELECT_WAIT = 1.0

#: accept() errors that mean "no resources for another connection now" (file descriptors,
#: kernel memory): the broker stops accepting for a while instead of retrying at once.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: Seconds accepting pauses after such an error: the first pause, and the longest.
ACCEPT_BACKOFF = (0.05, 1.0)
#: Seconds between two log lines about refused connections (each says how many).
ACCEPT_LOG_INTERVAL = 10.0


class Broker:
    """A small in-memory STOMP 1.0/1.1/1.2 broker for development and tests.

    **Not for production**: it keeps everything in memory, has no persistence, clustering,
    security beyond one login, or TLS.  Use RabbitMQ, ActiveMQ or Artemis there.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with Broker() as broker:  # a free port on 127.0.0.1
            conn = stomp.Connection12([broker.address])
            ...

    Args:
        host: the address to listen on (``"127.0.0.1"``; ``"::1"`` for IPv6, ``""`` for
            every interface).
        port: the port; 0 picks a free one (read it from :attr:`port` after :meth:`start`).
        login: when ``login`` or ``passcode`` is given, CONNECT must carry both, equal to
            these; otherwise any credentials are accepted.
        passcode: see ``login``.  Never logged.
        versions: the STOMP versions offered (``("1.0", "1.1", "1.2")``).
        heartbeats: the broker's ``heart-beat`` offer ``(sx, sy)`` in ms.  ``None`` (the
            default) mirrors each client's wishes, so heart-beats run at the rates the
            client asked for.
        heartbeat_grace: a client that promised heart-beats every *n* ms is closed after
            ``n * heartbeat_grace`` ms of silence.
        max_header_bytes: limit of one frame's command and header lines.
        max_body_bytes: limit of one frame's body.  A frame past a limit gets an ERROR.
        max_pending_bytes: output waiting for a client that does not read (64 MiB), past
            which it gets an ERROR naming the limit and is closed as a slow consumer.  Only
            topics can take it there: from ``high_water_bytes`` (1 MiB) on, queues stop
            giving it messages and its input is not read until it catches up.
        high_water_bytes: see ``max_pending_bytes``.
        connect_timeout: seconds a new connection has to send CONNECT.
        linger: seconds a closing connection has to read its last frames and close.
        server_name: the CONNECTED frame's ``server`` header.
        max_subscriptions: subscriptions one connection may hold (10,000); a SUBSCRIBE
            past it gets an ERROR naming the limit.
        max_transaction_bytes: message bytes one open transaction may hold (64 MiB); a SEND
            past it gets an ERROR naming the limit (and the transaction is lost with the
            connection).
        max_queue_bytes: what one queue may hold (64 MiB): its waiting messages and those
            delivered and not yet acknowledged, each counted as its body and headers plus
            what the objects holding them cost (320 bytes a message, 128 a header).  A SEND
            (or a COMMIT) that would go past it gets an ERROR naming the limit, and nothing
            of it is kept.
        virtual_hosts: the virtual hosts a CONNECT's ``host`` header may name, e.g.
            ``("/",)``; another one is refused as RabbitMQ refuses it (``Bad CONNECT``,
            ``Virtual host '<host>' access denied``), so that code which forgets
            ``vhost="/"`` fails here as it would there.  ``None`` (the default): any
            ``host`` is accepted.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        login: str | None = None,
        passcode: str | None = None,
        versions: tuple[str, ...] = VERSIONS,
        heartbeats: tuple[int, int] | None = None,
        heartbeat_grace: float = 2.0,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_body_bytes: int = 16 * 1024 * 1024,
        max_pending_bytes: int = 64 * 1024 * 1024,
        high_water_bytes: int = 1024 * 1024,
        connect_timeout: float = 30.0,
        linger: float = 2.0,
        server_name: str | None = None,
        virtual_hosts: tuple[str, ...] | None = None,
        max_subscriptions: int = 10_000,
        max_transaction_bytes: int = 64 * 1024 * 1024,
        max_queue_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        unknown = [v for v in versions if v not in VERSIONS]
        if unknown or not versions:
            raise ValueError(f"versions must be a non-empty subset of {VERSIONS}: {versions!r}")
        if server_name is None:
            server_name = f"stomp-ng-broker/{_version.__version__}"
        self.settings = Settings(
            versions=tuple(sorted(versions)),
            login=login,
            passcode=passcode,
            heartbeats=heartbeats,
            heartbeat_grace=heartbeat_grace,
            max_header_bytes=max_header_bytes,
            max_body_bytes=max_body_bytes,
            high_water_bytes=high_water_bytes,
            max_pending_bytes=max(max_pending_bytes, high_water_bytes),
            connect_timeout=connect_timeout,
            linger=linger,
            server=server_name,
            virtual_hosts=None if virtual_hosts is None else tuple(virtual_hosts),
            max_subscriptions=max_subscriptions,
            max_transaction_bytes=max_transaction_bytes,
            max_queue_bytes=max_queue_bytes,
        )
        #: A short random string in message ids and session ids.
        self.token = secrets.token_hex(4)
        self.router = Router(self.token, max_queue_bytes)
        self._requested = (host, port)
        self._bound: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._stopping = False
        self._started = False
        # Every live connection and the selector events it is registered for (0: none).
        self._masks: dict[ClientConnection, int] = {}
        self._dirty: dict[ClientConnection, None] = {}
        self._next_tick = float("inf")
        self._numbers = itertools.count(1)
        # Accepting paused (out of file descriptors) until this time; the pause, the
        # failures not yet logged, and when the next log line may be written.
        self._accept_resume: float | None = None
        self._accept_pause = ACCEPT_BACKOFF[0]
        self._accept_failures = 0
        self._accept_log_at = 0.0

    def __repr__(self) -> str:
        host, port = self._bound or self._requested
        state = "running" if self.running else "stopped"
        return f"<Broker {host}:{port} {state}>"

    # -- public API ---------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The address listened on (after :meth:`start`; the requested one before)."""
        return (self._bound or self._requested)[0]

    @property
    def port(self) -> int:
        """The port listened on (after :meth:`start`, the real one even for port 0)."""
        return (self._bound or self._requested)[1]

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``, ready for ``stomp.Connection12([broker.address])``."""
        return (self.host, self.port)

    @property
    def running(self) -> bool:
        """Whether the event-loop thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> Broker:
        """Bind the listening socket and start the event-loop thread; returns ``self``.

        Raises:
            OSError: the address cannot be bound (port in use, ...).
            RuntimeError: the broker was started before.
        """
        if self._started:
            raise RuntimeError("a Broker can be started once")
        self._started = True
        listener = _listen(*self._requested)
        try:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            selector = selectors.DefaultSelector()
            selector.register(listener, selectors.EVENT_READ, _LISTENER)
            selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._selector = selector
        sockname = listener.getsockname()
        self._bound = (sockname[0], sockname[1])
        self._thread = threading.Thread(
            target=self._run, name=f"StompBroker-{self.port}", daemon=True
        )
        self._thread.start()
        log.info("embedded STOMP broker listening on %s:%d", self.host, self.port)
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """Close every connection and the listening socket, and end the loop thread.

        Waits at most ``timeout`` seconds for the thread; returns whether it ended.
        Calling it again, or on a broker never started, does nothing.
        """
        thread = self._thread
        if thread is None:
            return True
        self._stopping = True
        self._wake()
        if thread is threading.current_thread():
            return False
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the broker thread did not end within %s s", timeout)
            return False
        return True

    def __enter__(self) -> Broker:
        if not self._started:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def connection_count(self) -> int:
        """How many client connections are open (including ones still closing)."""
        with self._lock:
            return len(self._masks)

    def pending(self, destination: str) -> int:
        """How many messages wait in queue ``destination`` for a subscriber that can take
        them (0 for a topic or an unknown queue)."""
        with self._lock:
            return self.router.pending(destination)

    def subscriber_count(self, destination: str) -> int:
        """How many subscriptions the destination has."""
        with self._lock:
            target = self.router.queues.get(destination) or self.router.topics.get(destination)
            return len(target.subscribers) if target is not None else 0

    # -- what connections call (loop thread only) --------------------------------------

    def wants_flush(self, connection: ClientConnection) -> None:
        """Output is queued for ``connection``: write it at the end of the loop turn."""
        self._dirty[connection] = None

    def wake_at(self, when: float) -> None:
        """Run the connections' timers no later than ``when``."""
        if when < self._next_tick:
            self._next_tick = when

    def closed(self, connection: ClientConnection) -> None:
        """``connection`` closed its socket: forget it."""
        mask = self._masks.pop(connection, 0)
        self._dirty.pop(connection, None)
        if mask and self._selector is not None:
            try:
                self._selector.unregister(connection.sock)
            except (KeyError, ValueError, OSError):
                pass

    # -- the event loop -------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            if self._wake_w is not None:
                self._wake_w.send(b"x")
        except OSError:
            pass  # already awake (buffer full) or shut down

    def _run(self) -> None:
        leave_signals_to_the_main_thread()
        selector = self._selector
        assert selector is not None
        try:
            while not self._stopping:
                wait = min(_MAX_SELECT_WAIT, max(0.0, self._next_tick - time.monotonic()))
                events = selector.select(wait)
                with self._lock:
                    now = time.monotonic()
                    for key, mask in events:
                        target = key.data
                        if target is _LISTENER:
                            self._accept()
                        elif target is _WAKE:
                            self._drain_wake()
                        elif target.state is not State.CLOSED:
                            if mask & selectors.EVENT_READ:
                                self._guarded(target, target.read, now)
                            if mask & selectors.EVENT_WRITE:
                                self._dirty[target] = None
                    if now >= self._next_tick:
                        self._tick(now)
                    self._flush(now)
        except Exception:
            log.exception("the broker's event loop failed; closing every connection")
        finally:
            with self._lock:
                self._shutdown()

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(_ACCEPTS_PER_TURN):
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                self._accept_pause = ACCEPT_BACKOFF[0]  # (the backlog is empty: all is well)
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    self._pause_accepting(exc)
                else:  # (a connection reset before it was accepted, for instance)
                    log.debug("accept failed: %s", exc)
                return
            sock.setblocking(False)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            peer = f"{address[0]}:{address[1]}"
            connection = ClientConnection(self, sock, peer, next(self._numbers))
            log.debug("%s: accepted", peer)
            self._masks[connection] = 0
            self._update(connection)

    def _pause_accepting(self, exc: OSError) -> None:
        # Out of file descriptors (or kernel memory): the connections waiting in the backlog
        # cannot be taken now, and the listening socket would stay readable, so stop
        # watching it for a while (doubling the pause while it lasts), log about it once
        # per ACCEPT_LOG_INTERVAL with a count, and go on serving the open connections.
        assert self._selector is not None and self._listener is not None
        now = time.monotonic()
        self._accept_failures += 1
        if now >= self._accept_log_at:
            log.warning(
                "cannot accept connections: %s (%d time(s) since the last message); "
                "retrying, the %d open connection(s) are still served",
                exc.strerror or exc,
                self._accept_failures,
                len(self._masks),
            )
            self._accept_failures = 0
            self._accept_log_at = now + ACCEPT_LOG_INTERVAL
        if self._accept_resume is None:
            self._selector.unregister(self._listener)
        self._accept_resume = now + self._accept_pause
        self._accept_pause = min(self._accept_pause * 2, ACCEPT_BACKOFF[1])
        self.wake_at(self._accept_resume)

    def _resume_accepting(self, now: float) -> None:
        # (from the timers) Watch the listening socket again once the pause is over.
        resume = self._accept_resume
        if resume is None:
            return
        if now < resume:
            self.wake_at(resume)
            return
        assert self._selector is not None and self._listener is not None
        self._accept_resume = None
        self._selector.register(self._listener, selectors.EVENT_READ, _LISTENER)

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _tick(self, now: float) -> None:
        self._next_tick = float("inf")
        self._resume_accepting(now)
        for connection in list(self._masks):
            if connection.state is not State.CLOSED:
                self._guarded(connection, self._tick_one, connection, now)

    def _tick_one(self, connection: ClientConnection, now: float) -> None:
        self.wake_at(connection.tick(now))

    def _flush(self, now: float) -> None:
        dirty = self._dirty
        while dirty:
            connection, _ = dirty.popitem()
            self._guarded(connection, connection.flush, now)

    def _guarded(self, connection: ClientConnection, action: Any, *args: Any) -> None:
        # A bug met while serving one client closes that client, not the broker.
        try:
            action(*args)
        except Exception:
            log.exception("%s: internal error; closing the connection", connection.peer)
            try:
                connection.close()
            except Exception:
                log.exception("%s: could not close the connection cleanly", connection.peer)
                self.closed(connection)
                connection.sock.close()
        self._update(connection)

    def _update(self, connection: ClientConnection) -> None:
        # Register the socket for the events the connection wants now.
        old = self._masks.get(connection)
        if old is None:
            return  # closed
        reading, writing = connection.interest()
        new = (selectors.EVENT_READ if reading else 0) | (selectors.EVENT_WRITE if writing else 0)
        if new == old:
            return
        selector = self._selector
        assert selector is not None
        if not old:
            selector.register(connection.sock, new, connection)
        elif not new:
            selector.unregister(connection.sock)
        else:
            selector.modify(connection.sock, new, connection)
        self._masks[connection] = new

    def _shutdown(self) -> None:
        for connection in list(self._masks):
            connection.close()
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        if self._selector is not None:
            self._selector.close()
        log.info("embedded STOMP broker on %s:%d stopped", self.host, self.port)


def _listen(host: str, port: int) -> socket.socket:
    # A non-blocking listening socket on (host, port), IPv4 or IPv6 as the host says.
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
