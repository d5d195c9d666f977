"""Transports: the socket, the receiver thread, listener dispatch, heart-beats, failover.

:class:`BaseTransport` holds what does not depend on the kind of socket: the listener
registry and dispatch, receipts, connection state, the receiver loop (bytes from
:meth:`BaseTransport.receive` fed to the codec's :class:`~stomp.codec.FrameDecoder`) and
heart-beats.  :class:`Transport` adds TCP and TLS sockets, keep-alive and the host list with
retries and back-off.  The WebSocket and multicast adapters subclass these.

Threads: one receiver thread per connection (daemon, named ``StompReceiver-<host>:<port>``)
reads large chunks, decodes them and calls the listeners in order; one heart-beat thread
per connection when heart-beats were negotiated; one writer thread (``StompWriter-...``,
:mod:`stomp.writer`) once frames are sent faster than one write at a time.  All end when
the connection ends.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import math
import random
import re
import selectors
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from io import BytesIO
from time import monotonic
from typing import TYPE_CHECKING, Any, Final

from stomp import _namespace, constants, exception, keepalive, log, sockwait
from stomp.codec import Frame, FrameDecoder, encode_frame
from stomp.dispatch import ListenerDispatch
from stomp.exception import (
    ConnectFailedException,
    FrameError,
    InterruptedException,
    NotConnectedException,
    SendTimeoutException,
)
from stomp.failover import HOST_LIST_ARGUMENTS, FailoverMixin, HostList
from stomp.heartbeat import Heartbeater
from stomp.keepalive import KeepaliveSpec
from stomp.session import ClientSession, decoding_version, refusal_hint, refusal_reason
from stomp.threads import leave_signals_to_the_main_thread
from stomp.tls import TLSSettings, TLSStream
from stomp.writer import DEFAULT_HIGH_WATER, DEFAULT_SEND_TIMEOUT, FrameWriter

# The names stomp.py's transport module has, for code that star-imports it: every name of
# stomp.utils (resolved from it on first use: the transport does not use that module), the
# standard-library modules it imports, the socket constants of TCP keep-alive that exist
# here, and (resolved on first use, see stomp._namespace) ssl, DEFAULT_SSL_VERSION and
# SSLError.
_KEEPALIVE_CONSTANTS = keepalive.socket_constants()
globals().update(_KEEPALIVE_CONSTANTS)

#: Whether Linux-style TCP keep-alive tuning is available (checked when this module is
#: loaded, or reloaded).  ``keepalive=True`` picks Linux style when set.
LINUX_KEEPALIVE_AVAIL = keepalive.linux_available()
#: Whether macOS-style TCP keep-alive tuning is available (checked as above).
MAC_KEEPALIVE_AVAIL = keepalive.mac_available()

__all__ = [
    "BaseTransport",
    "Transport",
    "LINUX_KEEPALIVE_AVAIL",
    "MAC_KEEPALIVE_AVAIL",
    "DEFAULT_SSL_VERSION",
    "SSLError",
    *_KEEPALIVE_CONSTANTS,
    *_namespace.UTILS_NAMES,  # (resolved from stomp.utils on first use)
    *_namespace.reexport(globals(), constants),
    # (the other modules and functions stomp.py's transport imports)
    "BytesIO",
    "deque",
    "errno",
    "exception",
    "log",
    "math",
    "monotonic",
    "random",
    "selectors",
    "ssl",
    "stomp",  # noqa: F822  (the package, resolved on first use: not imported from below)
    "sys",
    "time",
]
_namespace.forget(globals())

_log = logging.getLogger("stomp.py")

if TYPE_CHECKING:
    import ssl

    from stomp.tls import DEFAULT_SSL_VERSION as DEFAULT_SSL_VERSION
    from stomp.tls import SSLError as SSLError


def __getattr__(name: str) -> Any:
    # ssl, DEFAULT_SSL_VERSION, SSLError, stomp and stomp.utils' names: on first use.
    return _namespace.resolve(__name__, name)


# The frames written out before transmit() returns whether or not they ask for a receipt:
# the caller waits for the broker's answer next.
_FLUSHED_COMMANDS = frozenset({"CONNECT", "STOMP", "DISCONNECT"})

# Callbacks that take no argument, and the one that takes the host and port.
_NO_ARGUMENT = frozenset({"heartbeat", "disconnected", "disconnecting", "heartbeat_timeout"})

#: How long ``disconnect()`` waits for the broker's RECEIPT and for the threads to end when
#: the connection has no ``timeout`` of its own.
DEFAULT_DISCONNECT_TIMEOUT = 10.0

#: How long ``connect(wait=True)`` waits for CONNECTED when the connection has no
#: ``timeout`` of its own.
DEFAULT_HANDSHAKE_TIMEOUT = 30.0

#: Seconds without the broker taking a byte after which a write counts as stalled
#: (:meth:`BaseTransport.write_stalled`): ``disconnect()`` then closes at once, without
#: DISCONNECT, which could not be delivered anyway.
WRITE_STALL_TIME = 1.0


def default_create_thread(callback: Callable[[], Any]) -> threading.Thread:
    """Start ``callback`` in a new daemon thread and return the thread (the default
    ``create_thread_fc``; ``stomp.utils.default_create_thread``).

    The thread gets Python's default name, which includes the callback's name (for
    example ``Thread-3 (_io_loop)``).
    """
    thread = threading.Thread(target=callback, daemon=True)
    thread.start()
    return thread


def is_eol_default(c: bytes) -> bool:
    """Whether ``c`` is exactly one end-of-line, as a heart-beat: ``b"\\n"`` (the default
    ``is_eol_fc``; ``stomp.utils.is_eol_default``)."""
    return c == b"\n"


# send() with this flag does not block, whatever the socket's mode.  Without it (Windows)
# a send blocks until the broker takes the bytes: the send timeout does not apply.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


def _not_stomp(data: bytes, error: Exception | None) -> str:
    # Why the first bytes of a connection were not STOMP, for the error connect() raises.
    if data.startswith(b"HTTP/"):
        status = data.split(b"\n", 1)[0].strip().decode("latin-1")
        return (
            f"the server answered in HTTP ({status}): this is an HTTP port, not a STOMP one "
            "(RabbitMQ's STOMP port is 61613; for STOMP over WebSocket use stomp.WSConnection)"
        )
    return f"what it sent is not STOMP ({error})"


def _shorten_frame(data: bytes) -> bytes:
    # A frame's bytes for the debug log: the head whole, at most LOG_BODY_LIMIT of the body.
    head_end = data.find(b"\n\n")
    limit = (head_end if head_end >= 0 else 0) + 2 + log.LOG_BODY_LIMIT
    if len(data) <= limit:
        return data
    return data[:limit] + b"... (+%d more bytes)" % (len(data) - limit)


class BaseTransport(ListenerDispatch):
    """What every transport shares: listeners, dispatch, receipts, the receiver loop.

    Args:
        auto_decode: deliver bodies as ``str`` (UTF-8, invalid bytes replaced) rather than
            ``bytes``.
        encoding: accepted for compatibility and ignored: bodies are always UTF-8 (as in
            stomp.py).
        is_eol_fc: accepted for compatibility; the codec recognises LF and CR LF itself.

    Subclasses implement :meth:`attempt_connection`, :meth:`send`, :meth:`receive`,
    :meth:`cleanup` and :meth:`_close_socket`.
    """

    #: The ``host`` header of CONNECT (a virtual host), if any.
    vhost: str | None = None

    # stomp.py 9.0.0's attributes of its queued TLS writes, which code may read: here the
    # writes of TLS and plain sockets go through the same FrameWriter, so they never change.
    #: Always ``True`` (stomp.py: ``False`` while a TLS socket is non-blocking).
    blocking = True
    #: Always ``None`` (stomp.py: the queue of TLS frames waiting to be written).
    send_queue: Any = None
    #: Always ``None`` (stomp.py: the selector of its TLS writes).
    sel: Any = None

    # stomp.py's pattern for a frame's content-length header line (kept for subclasses
    # that used it; the codec does the framing here).
    __content_length_re = re.compile(rb"^content-length[:]\s*(?P<value>[0-9]+)", re.MULTILINE)

    def __init__(
        self,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        is_eol_fc: Callable[[bytes], bool] = is_eol_default,
    ) -> None:
        ListenerDispatch.__init__(self)
        #: The state of the connection (frames sent and received are reported to it).
        self.session = ClientSession()
        self.running = False
        self.connected = False
        self.connection_error = False
        self.disconnecting = False
        self.current_host_and_port: tuple[str, int] | None = None
        self.bind_host_port: tuple[str, int] | None = None
        self.notified_on_disconnect = False
        self.create_thread_fc: Callable[[Callable[[], None]], Any] = default_create_thread
        self.io_thread: Any = None
        self.auto_decode = auto_decode
        self.encoding = encoding
        self.is_eol_fc = is_eol_fc
        #: ``time.monotonic()`` of the last bytes received, or ``None``.
        self.last_received: float | None = None
        #: ``time.monotonic()`` of the last bytes sent.
        self.last_sent = 0.0
        self._connect_condition = threading.Condition()
        self._announcing_connected = False
        self._state_lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._generation = 0
        self._io_exited = threading.Event()
        self._io_exited.set()
        self._heartbeater: Heartbeater | None = None
        self._error_message: str | None = None
        self._refusal: Frame | None = None  # the ERROR frame refusing the connection
        self._ended_because: str | None = None  # why it ended before CONNECTED, if known
        self._last_peer: tuple[str, int] | None = None  # kept after the socket closed
        self._decoder = FrameDecoder(self.version, auto_decode=auto_decode)
        # The socket transports write through a FrameWriter (see _open_writer).
        self._writer: FrameWriter | None = None
        self._send_timeout: float | None = DEFAULT_SEND_TIMEOUT
        self._high_water = DEFAULT_HIGH_WATER
        #: ``pipelining.on`` set on a thread: its frames with a receipt are not flushed
        #: before the call returns (confirmed sends, whose callers do not wait there).
        self.pipelining = threading.local()
        #: Called with each frame before it is written, when set (automatic reconnection
        #: makes the application's calls wait there while it reconnects).
        self.gate: Callable[[Frame], None] | None = None
        #: Called after the listeners' ``on_disconnected``, when set (the connection
        #: decides there whether to reconnect).
        self.on_lost: Callable[[], None] | None = None
        #: Called with a frame whose write failed because the connection is gone, when
        #: set; returns whether the frame was taken care of (sent again once reconnected),
        #: else the error is raised.
        self.retry_after_loss: Callable[[Frame], bool] | None = None

    @property
    def timeout(self) -> float | None:
        """Seconds for connecting, for CONNECTED and for DISCONNECT's receipt (``None``:
        the defaults); the transports with a host list have one."""
        return None

    @property
    def version(self) -> str:
        """The protocol version whose framing rules apply (the session's); the connection
        sets it."""
        return self.session.version

    @version.setter
    def version(self, version: str) -> None:
        self.session.version = version

    def notify(self, frame_type: str, frame: Frame | None = None) -> None:
        """Call every listener's ``on_<frame_type>`` in name order: the one dispatch point
        of every event, as in stomp.py.  It also keeps the connection's flags: CONNECTED
        sets :attr:`connected` (and lets ``connect(wait=True)`` return once the listeners
        have seen it), a disconnect clears it, an ERROR before CONNECTED sets
        :attr:`connection_error`."""
        if frame_type == "connected":
            # connect(wait=True) returns once the listeners have seen CONNECTED, so that
            # what they do there (negotiate heart-beats, subscribe) precedes the caller's
            # next frame.
            self._announcing_connected = True
            self.set_connected(True)
            try:
                self._call(frame_type, frame)
            finally:
                with self._connect_condition:
                    self._announcing_connected = False
                    self._connect_condition.notify_all()
            return
        elif frame_type == "disconnected":
            self.notified_on_disconnect = True
            self.set_connected(False)
        elif frame_type == "error" and not self.connected and frame is not None:
            with self._connect_condition:
                self.connection_error = True
                self._error_message = frame.headers.get("message") or "ERROR frame"
                self._refusal = frame
                self._connect_condition.notify_all()
        if frame_type == "disconnected":
            self._call(frame_type)
            on_lost = self.on_lost
            if on_lost is not None:
                on_lost()
        elif frame_type in _NO_ARGUMENT:
            self._call(frame_type)
        elif frame_type == "connecting":
            self._call(frame_type, self.current_host_and_port)
        else:
            self._call(frame_type, frame)

    def process_frame(self, f: Frame, frame_str: Any = None) -> None:
        """Apply one received frame: the receive dispatcher.

        The frame goes to the :attr:`session` first, then what it means for the connection
        is done (the DISCONNECT receipt closes it; CONNECTED starts the negotiated
        heart-beats) and the listeners are called through :meth:`notify`: MESSAGE as
        ``on_before_message`` then ``on_message``, heart-beats
        (:data:`~stomp.codec.HEARTBEAT_FRAME`) as ``on_heartbeat``.  A frame of an
        unknown command is logged and dropped.  The receiver loop calls this for every
        frame; ``frame_str`` is ``None`` there (the raw bytes are not kept).
        """
        self._dispatch(self.session.received(f), f, frame_str)

    def _dispatch(self, kind: str | None, f: Frame, frame_str: Any) -> None:
        # What process_frame does once the session has seen the frame.
        if kind == "message":
            self.notify("before_message", f)
            self.notify("message", f)
        elif kind == "receipt":
            session = self.session
            if session.last_receipt == "DISCONNECT":
                self.set_connected(False)
            if session.closing:
                self.disconnect_socket()
            self.notify("receipt", f)
        elif kind == "connected":
            send_interval, receive_timeout = self.session.heartbeat_timing
            if send_interval or receive_timeout:
                self.start_heartbeats(send_interval, receive_timeout)
            self.notify("connected", f)
        elif kind == "error":
            self.notify("error", f)
        elif kind == "heartbeat":
            self.notify("heartbeat")
        else:
            kind = (f.cmd or "").lower()
            size = len(frame_str) if frame_str is not None else len(f.body or "")
            _log.warning("unknown response frame type: '%s' (frame length was %d)", kind, size)

    # -- state ----------------------------------------------------------------------------

    def override_threading(self, create_thread_fc: Callable[[Callable[[], None]], Any]) -> None:
        """Use ``create_thread_fc(callable)`` to start the receiver thread; it must return
        an object standing for an already started thread."""
        self.create_thread_fc = create_thread_fc

    def is_connected(self) -> bool:
        """True once CONNECTED arrived, until the connection ends."""
        return self.connected

    def set_connected(self, connected: bool) -> None:
        """Set the STOMP-level connected flag and wake :meth:`wait_for_connection`."""
        with self._connect_condition:
            self.connected = connected
            if connected:
                self.disconnecting = False
            self._connect_condition.notify_all()

    def set_receipt(self, receipt_id: str, value: Any) -> None:
        """Remember (truthy ``value``) or forget (falsy) a receipt id we wait for (in the
        session)."""
        self.session.expect_receipt(receipt_id, value)

    def wait_for_connection(self, timeout: float | None = None) -> None:
        """Wait until CONNECTED has arrived and the listeners' ``on_connected`` returned.

        The ``timeout`` applies to the arrival of CONNECTED: if a listener is still busy
        with it then, this returns without waiting for that listener.

        Raises:
            ConnectFailedException: an ERROR frame came instead, the connection ended first,
                or ``timeout`` seconds passed (``None``: wait as long as the connection
                lives).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._connect_condition:
            while (
                self.running
                and (not self.connected or self._announcing_connected)
                and not self.connection_error
            ):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    if self.connected:
                        break
                    raise ConnectFailedException(
                        f"no CONNECTED frame from {self._describe_peer()} within {timeout} s"
                    )
                self._connect_condition.wait(remaining)
            if self.connection_error:
                refusal = self._refusal
                reason = (
                    refusal_reason(refusal) if refusal is not None else self._error_message or ""
                )
                text = f"{self._describe_peer()} refused the connection: {reason}"
                text += refusal_hint(reason, self.vhost)
                raise ConnectFailedException(text, frame=refusal)
            if not self.running or not self.connected:
                because = self._ended_because
                raise ConnectFailedException(
                    f"the connection to {self._describe_peer()} ended before CONNECTED"
                    + (f": {because}" if because else "")
                )

    def _describe_peer(self) -> str:
        # The last host connected to (kept after the socket closed), so that errors about a
        # connection that just ended still name it.
        peer = self.current_host_and_port or self._last_peer
        return "the broker" if peer is None else f"{peer[0]}:{peer[1]}"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Open the connection (with retries), start the receiver thread, then tell the
        listeners ``on_connecting``."""
        if self.running:
            # The previous connection is still open but never got CONNECTED (connect()
            # without wait, or an ERROR the broker did not close on): replace it.
            self.disconnect_socket()
        with self._state_lock:
            self.running = True
            # A CONNECTED the old receiver thread was still handling may have set it.
            self.connected = False
            self.connection_error = False
            self._error_message = None
            self._refusal = None
            self._ended_because = None
            try:
                self.attempt_connection()
            except BaseException:
                self.running = False
                raise
            self._last_peer = self.current_host_and_port
            self.session.opened()
            self._generation += 1
            generation = self._generation
            self.notified_on_disconnect = False
            self._decoder = FrameDecoder(
                decoding_version(self.version), auto_decode=self.auto_decode
            )
            self.last_received = self.last_sent = time.monotonic()
            self._io_exited = threading.Event()
        loop = functools.partial(self._io_loop, generation, self._io_exited)
        thread = self.create_thread_fc(loop)
        if isinstance(thread, threading.Thread):
            thread.name = f"StompReceiver-{self._describe_peer()}"
        self.io_thread = thread
        self.notify("connecting")

    def establish(self, send_connect: Callable[[], None], wait: bool) -> None:
        """Open the connection and have ``send_connect()`` write CONNECT; with ``wait``,
        wait for CONNECTED (at most :attr:`timeout` seconds, 30 when ``None``).

        When several hosts are to be tried, a host that accepts TCP but closes the
        connection or does not answer CONNECT in that time is given up and the next one
        is tried; one that refuses with an ERROR frame is final.

        Raises:
            ConnectFailedException: no host could be reached, or none accepted.
        """
        hosts = self._hosts_to_try()
        for attempt in range(hosts):
            self.start()
            try:
                try:
                    send_connect()
                except (OSError, NotConnectedException) as exc:
                    # The broker closed at once (a TLS client certificate it refused, say).
                    raise ConnectFailedException(
                        f"the connection closed while sending CONNECT: {exc}"
                    ) from exc
                if wait:
                    timeout = self.timeout
                    self.wait_for_connection(
                        timeout if timeout is not None else DEFAULT_HANDSHAKE_TIMEOUT
                    )
                return
            except ConnectFailedException:
                retry = not self.connection_error and attempt < hosts - 1
                if retry:
                    self.skip_current_host()
                self.disconnect_socket()
                if not retry:
                    raise
                _log.warning("no CONNECTED frame, trying the next host")

    def _hosts_to_try(self) -> int:
        # How many hosts establish() may try in turn.
        return 1

    def skip_current_host(self) -> None:
        """Make the next connection attempt start with the host after the one connected to
        last (one host here: nothing to do)."""

    def stop(self, timeout: float | None = None) -> bool:
        """Wait until the receiver loop (and the writer thread, once the connection is
        closed) have ended, at most ``timeout`` seconds (``None``: without limit).  Returns
        whether they ended.  Closes nothing itself."""
        if self._in_receiver_thread():
            return False
        exited, thread = self._io_exited, self.io_thread
        deadline = None if timeout is None else time.monotonic() + timeout
        if not exited.wait(timeout):
            return False
        # The loop has ended; let its thread finish too, so none is left running.
        if isinstance(thread, threading.Thread) and thread is not threading.current_thread():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        writer = self._writer
        if writer is not None and not self.running:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            return writer.join(remaining)
        return True

    def _in_receiver_thread(self) -> bool:
        return self.io_thread is threading.current_thread()

    def disconnect_socket(self) -> None:
        """Close the connection now; listeners get ``on_disconnected`` (once)."""
        if self._shutdown(self._generation):
            self.notify("disconnected")

    def _shutdown(self, generation: int) -> bool:
        # Close the connection of ``generation`` if it is still the current one.  Returns
        # whether listeners are still to be told (on_disconnected goes out once per
        # connection).
        with self._state_lock:
            if generation != self._generation:
                return False
            self.running = False
            heartbeater, self._heartbeater = self._heartbeater, None
            self._close_socket()
            self.current_host_and_port = None
            tell = not self.notified_on_disconnect
            self.notified_on_disconnect = True
            self.session.closed()
        self.set_connected(False)
        if heartbeater is not None:
            heartbeater.stop()
        return tell

    def _deliver(self, frames: list[Frame]) -> None:
        # The frames of one read, each as process_frame would have it.  When neither
        # process_frame nor notify is overridden or wrapped, the same is done faster:
        # MESSAGE frames, nearly all of them, go from the session straight to the listeners.
        if _log.isEnabledFor(logging.DEBUG):
            for frame in frames:
                _log.debug(
                    "received frame: %r, headers=%r, body=%r",
                    frame.cmd,
                    log.mask_passcode(frame.headers),
                    log.shorten(frame.body),
                )
        process = self.process_frame
        try:
            fast = process.__func__ is _PROCESS_FRAME and self.notify.__func__ is _NOTIFY  # type: ignore[attr-defined]
        except AttributeError:  # a function or a mock put on the instance
            fast = False
        if not fast:
            for frame in frames:
                process(frame, None)
            return
        received = self.session.received
        callbacks = self._callbacks
        before_message, on_message = callbacks["before_message"], callbacks["message"]
        for frame in frames:
            kind = received(frame)
            if kind != "message":
                self._dispatch(kind, frame, None)
                # (a listener may have been registered or removed meanwhile)
                callbacks = self._callbacks
                before_message, on_message = callbacks["before_message"], callbacks["message"]
                continue
            for callback in before_message:
                try:
                    callback(frame)
                except Exception:
                    _log.exception("listener %r raised in on_before_message", callback)
            for callback in on_message:
                try:
                    callback(frame)
                except Exception:
                    _log.exception("listener %r raised in on_message", callback)

    def _feed_function(self, decoder: FrameDecoder) -> Callable[[bytes], list[Frame]]:
        # How the receiver loop turns what receive() returns into frames: the decoder of
        # the connection, fed the byte stream.
        return decoder.feed

    def _io_loop(self, generation: int, exited: threading.Event) -> None:
        leave_signals_to_the_main_thread()
        _log.debug("starting io loop (%s)", threading.current_thread().name)
        feed = self._feed_function(self._decoder)
        receive = self.receive
        deliver = self._deliver
        error: FrameError | None = None
        first = b""  # the start of what the peer sent (to say what it was if not STOMP)
        try:
            while self.running and generation == self._generation:
                try:
                    data = receive()
                except InterruptedException:
                    continue
                except Exception as exc:
                    if self.running and generation == self._generation:
                        _log.debug("socket read error: %s", exc)
                    break
                if not data:
                    break
                if not first:
                    first = data[:200]
                self.last_received = time.monotonic()
                try:
                    frames = feed(data)
                except FrameError as exc:
                    frames, error = exc.frames, exc
                deliver(frames)
                if error is not None:
                    _log.error(
                        "malformed frame from %s, closing the connection: %s",
                        self._describe_peer(),
                        error,
                    )
                    break
        finally:
            if (
                generation == self._generation
                and not self.connected
                and (error is not None or first.startswith(b"HTTP/"))
            ):
                self._ended_because = _not_stomp(first, error)
            _log.debug("io loop ended")
            try:
                self._call("receiver_loop_completed", None)
                if self._shutdown(generation):
                    self.notify("disconnected")
            finally:
                exited.set()  # only now: stop() waits for the callbacks above too

    # -- sending --------------------------------------------------------------------------

    def transmit(self, frame: Frame) -> None:
        """Send ``frame``: ``on_send`` on every listener (an exception there stops the
        frame), then encode it once and write it."""
        gate = self.gate
        if gate is not None:
            gate(frame)
        for callback in self._callbacks["send"]:
            callback(frame)
        session = self.session
        cmd = frame.cmd
        awaited = cmd != "SEND" or "receipt" in frame.headers
        if awaited:
            # (a SEND without a receipt changes nothing there: the frame of every message
            # skips the call)
            session.sent(frame)
        data = encode_frame(frame, session.version)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("sending frame: %s", log.mask_passcode_text([_shorten_frame(data)]))
        try:
            self.send(data)
        except (NotConnectedException, OSError):
            retry = self.retry_after_loss
            if retry is None or not retry(frame):
                raise
            return
        if (
            awaited
            and (cmd in _FLUSHED_COMMANDS or "receipt" in frame.headers)
            and not getattr(self.pipelining, "on", False)
        ):
            # The caller is about to wait for the answer: out with it, and all before it
            # (unless it pipelines: send_confirmed does not wait).
            self.flush()

    # -- writing through a FrameWriter (the socket transports) ----------------------------

    def _open_writer(
        self, sock: socket.socket, tls: TLSStream | None, host_and_port: tuple[str, int]
    ) -> FrameWriter:
        """Start writing the new connection's bytes to ``sock`` (through ``tls`` when it is
        a TLS socket) with a :class:`~stomp.writer.FrameWriter`; :meth:`send` hands it
        bytes, :meth:`_close_writer` stops it."""
        writer: FrameWriter | None = None

        def failed(exc: BaseException) -> None:
            self._write_failed(writer, exc)

        writer = self._writer = FrameWriter(
            functools.partial(self._write_to, sock, tls),
            failed,
            name=f"StompWriter-{host_and_port[0]}:{host_and_port[1]}",
            high_water=self._high_water,
            send_timeout=self._send_timeout,
        )
        return writer

    def _close_writer(self) -> None:
        # (the socket closing) Waiting senders raise; a write in progress ends when the
        # socket is shut down.
        writer = self._writer
        if writer is not None:
            writer.close()

    @property
    def send_timeout(self) -> float | None:
        """Seconds a write may wait for the broker to take more bytes (it stopped reading)
        before it fails with :class:`~stomp.exception.SendTimeoutException` and the
        connection is closed; also the longest a ``send()`` waits past the high-water
        mark.  Default :data:`~stomp.writer.DEFAULT_SEND_TIMEOUT` (30 s); ``None``: no
        limit.  A change applies to the open connection too."""
        return self._send_timeout

    @send_timeout.setter
    def send_timeout(self, seconds: float | None) -> None:
        self._send_timeout = seconds
        if self._writer is not None:
            self._writer.send_timeout = seconds

    @property
    def high_water(self) -> int:
        """Queued bytes (not yet handed to the operating system) past which a ``send()``
        waits for the writer.  Default :data:`~stomp.writer.DEFAULT_HIGH_WATER` (1 MiB).
        A change applies to the open connection too."""
        return self._high_water

    @high_water.setter
    def high_water(self, size: int) -> None:
        self._high_water = size
        if self._writer is not None:
            self._writer.high_water = size

    def flush(self, timeout: float | None = None) -> None:
        """Return once every frame sent before this call was handed to the operating
        system (this thread writes them if no other is writing).  A transport that writes
        in its own :meth:`send` (without a writer) has nothing to do.

        Args:
            timeout: the longest wait for another thread's write in progress (``None``:
                each write is bounded by :attr:`send_timeout` anyway).

        Raises:
            NotConnectedException: the connection closed before they were written.
            SendTimeoutException: ``timeout`` passed, or the broker is not reading.
            OSError: the write failed (the connection is closed).
        """
        writer = self._writer
        if writer is not None:
            writer.flush(timeout)

    def _write_to(
        self, sock: socket.socket, tls: TLSStream | None, data: bytes, progress: list[int]
    ) -> None:
        # The writer's output: all of data to this connection's socket, each wait for the
        # broker to take more bounded by the send timeout; each amount the OS took is
        # appended to progress from C (extend(map(...))), before an exception can come.
        timeout = self.send_timeout  # (read at each write: it may change while connected)
        if tls is not None:
            tls.sendall(data, timeout, progress)
        else:
            view = memoryview(data)
            total, done = len(data), 0
            while done < total:
                try:
                    progress.extend(map(sock.send, (view[done:],), (_DONTWAIT,)))
                except (BlockingIOError, InterruptedError):
                    pass
                else:
                    done += progress[-1]
                    self.last_sent = time.monotonic()
                    continue
                if not sockwait.wait(sock, writing=True, timeout=timeout):
                    raise SendTimeoutException(
                        f"{self._describe_peer()} took no bytes for {timeout} s: "
                        "the broker is not reading"
                    )
        self.last_sent = time.monotonic()

    def _write_failed(self, writer: FrameWriter | None, exc: BaseException) -> None:
        # A write of the current connection failed: the connection is over.
        if writer is not self._writer or writer is None:
            return
        if isinstance(exc, SendTimeoutException):
            _log.error("closing the connection: %s", exc)
        else:
            _log.error("error sending frame, closing the connection: %s", exc)
        self.disconnect_socket()

    def write_stalled(self) -> bool:
        """Whether a write has waited more than :data:`WRITE_STALL_TIME` seconds for the
        broker to take any byte (it stopped reading)."""
        writer = self._writer
        since = writer.writing_since if writer is not None else None
        if since is None:
            return False
        return time.monotonic() - max(since, self.last_sent) > WRITE_STALL_TIME

    def _heartbeat(self) -> None:
        # Bytes queued or being written are on their way: they do what a heart-beat would.
        writer = self._writer
        if writer is not None and writer.busy:
            return
        self.transmit(Frame(None, {}, None))

    # -- heart-beats ----------------------------------------------------------------------

    @property
    def heartbeat_thread(self) -> threading.Thread | None:
        """The heart-beat thread of the current connection, if heart-beats run."""
        heartbeater = self._heartbeater
        return heartbeater.thread if heartbeater is not None else None

    def start_heartbeats(self, send_interval: float, receive_timeout: float) -> None:
        """Send a heart-beat after ``send_interval`` idle seconds and declare the link dead
        after ``receive_timeout`` silent seconds (0 disables either), for the current
        connection.  When heart-beats already run for it, their intervals change instead."""
        if not send_interval and not receive_timeout:
            self.stop_heartbeats()
            return
        with self._state_lock:
            running = self._heartbeater
            if running is not None and not running.stopped and running.thread.is_alive():
                running.update(send_interval, receive_timeout)
                return
        self.stop_heartbeats()
        generation = self._generation
        heartbeater = Heartbeater(
            send_interval,
            receive_timeout,
            send_heartbeat=self._heartbeat,
            last_sent=lambda: self.last_sent,
            last_received=lambda: self.last_received or 0.0,
            bytes_waiting=self._bytes_waiting,
            on_timeout=functools.partial(self._heartbeat_timed_out, generation),
            name=f"StompHeartbeat-{self._describe_peer()}",
        )
        with self._state_lock:
            if generation != self._generation or not self.running:
                return
            self.last_received = time.monotonic()
            self._heartbeater = heartbeater
        heartbeater.start()

    def stop_heartbeats(self) -> None:
        """Stop heart-beating for the current connection."""
        with self._state_lock:
            heartbeater, self._heartbeater = self._heartbeater, None
        if heartbeater is not None:
            heartbeater.stop()

    def _bytes_waiting(self) -> bool:
        return False

    def _heartbeat_timed_out(self, generation: int, silent: float) -> None:
        _log.warning(
            "heartbeat timeout: nothing received from %s for %.3f s",
            self._describe_peer(),
            silent,
        )
        if self._shutdown(generation):
            self.notify("heartbeat_timeout")
            self.notify("disconnected")

    # -- socket hooks, for subclasses -----------------------------------------------------

    def attempt_connection(self) -> None:
        """Open the connection (subclasses)."""

    def send(self, encoded_frame: bytes) -> None:
        """Write bytes (subclasses)."""

    def receive(self) -> bytes | None:
        """Read bytes; empty or ``None`` at end of stream (subclasses)."""
        return None

    def cleanup(self) -> None:
        """Release the socket (subclasses)."""

    def _close_socket(self) -> None:
        self.cleanup()


# BaseTransport's own process_frame and notify: _deliver takes a shortcut when they are
# the ones in use.
_PROCESS_FRAME = BaseTransport.process_frame
_NOTIFY = BaseTransport.notify


class Transport(FailoverMixin, BaseTransport):
    """TCP transport, with optional TLS, keep-alive and a list of hosts to fail over.

    The parameters are those of stomp.py 9.0.0's ``Transport``, in the same order; see the
    connection classes for their meaning.  ``recv_bytes`` (the size of a read) defaults to
    64 KiB here rather than 16 KiB: fewer, larger reads are faster.  While large frames
    arrive (the decoder waits for more than ``recv_bytes / 16`` bytes of a body, or the
    last frame decoded had a body of more than ``recv_bytes / 4``:
    :meth:`FrameDecoder.read_size <stomp.codec.FrameDecoder.read_size>`), reads are four
    times ``recv_bytes``; otherwise ``recv_bytes``: a large read costs more than a small
    one when only a few bytes are waiting, as with bursts of small frames.

    Frames are written through a :class:`~stomp.writer.FrameWriter`: a frame sent when the
    connection is idle is written before ``send()`` returns; frames sent in a burst, from
    one thread or many, are batched into large writes by the connection's writer thread,
    in order.  A frame that asks for a receipt, CONNECT and DISCONNECT are written, with
    everything before them, before the call returns; :meth:`flush` does the same on
    demand.  :attr:`send_timeout` and :attr:`high_water` tune it.
    """

    #: The constructor arguments a connection class hands on (all but ``recv_bytes`` and
    #: ``is_eol_fc``).
    CONNECTION_ARGUMENTS: Final = (
        *HOST_LIST_ARGUMENTS,
        "timeout",
        "keepalive",
        "vhost",
        "auto_decode",
        "encoding",
        "bind_host_port",
    )

    def __init__(
        self,
        host_and_ports: Sequence[tuple[str, int]] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int = 3,
        timeout: float | None = None,
        keepalive: KeepaliveSpec = None,
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        recv_bytes: int = 65536,
        is_eol_fc: Callable[[bytes], bool] = is_eol_default,
        bind_host_port: tuple[str, int] | None = None,
    ) -> None:
        super().__init__(auto_decode, encoding, is_eol_fc)
        self._hosts = HostList.from_arguments(locals())
        # The names stomp.py 8.2.0's own tests read (through name mangling).
        self.__host_and_ports = self._hosts.hosts
        self.__ssl_params = self._hosts.ssl_params
        self._timeout = timeout
        self._keepalive = keepalive
        self.socket: socket.socket | None = None
        self.vhost = vhost
        self.recv_bytes = recv_bytes
        self.bind_host_port = bind_host_port
        self._tls: TLSStream | None = None

    # -- connecting -----------------------------------------------------------------------

    def attempt_connection(self) -> None:
        """Connect to the first host that answers, retrying with back-off (see
        :meth:`stomp.failover.HostList.connect`).

        Raises:
            ConnectFailedException: no host could be reached.
        """
        sock, host_and_port = self._hosts.connect(
            self._open, lambda: self.running, (OSError, AssertionError, FrameError)
        )
        tls = self._tls = TLSStream.of(sock)
        self.socket = sock
        self.current_host_and_port = host_and_port
        self._open_writer(sock, tls, host_and_port)

    def _open(self, host_and_port: tuple[str, int]) -> socket.socket:
        _log.debug("attempting connection to host %s, port %s", *host_and_port)
        timeout = self._timeout
        sock = socket.create_connection(
            host_and_port,
            timeout if timeout is not None else socket.getdefaulttimeout(),
            self.bind_host_port,
        )
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._keepalive:
                keepalive.apply_keepalive(
                    sock, self._keepalive, LINUX_KEEPALIVE_AVAIL, MAC_KEEPALIVE_AVAIL
                )
            params = self.get_ssl(host_and_port)
            if params is not None:
                _log.debug("wrapping SSL socket")
                sock = TLSSettings(**params).wrap(sock, self._hosts.name_for(host_and_port))
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return sock

    # -- I/O ------------------------------------------------------------------------------

    def is_connected(self) -> bool:
        """True while the socket is open and CONNECTED has arrived."""
        return self.socket is not None and self.connected

    def send(self, encoded_frame: bytes) -> None:
        """Write ``encoded_frame``: before returning when the connection is idle, else
        queued for the writer thread, which writes it in a batch with the frames around
        it (see :mod:`stomp.writer`).

        Raises:
            NotConnectedException: there is no open socket (or a write failed before).
            SendTimeoutException: the broker is not reading (see :attr:`send_timeout`);
                the connection is closed.
            OSError: the write failed (logged; the connection is closed).
        """
        writer = self._writer
        if writer is None or self.socket is None:
            raise NotConnectedException("not connected: connect() first")
        writer.write(encoded_frame)

    def receive(self) -> bytes | None:
        """Read up to ``recv_bytes`` bytes from the socket (four times as many while a large
        frame is arriving: see the class's description)."""
        sock = self.socket
        if sock is None:
            return None
        tls = self._tls
        size = self._decoder.read_size(self.recv_bytes)
        try:
            data = sock.recv(size) if tls is None else tls.recv(size)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                raise InterruptedException() from exc
            raise
        return data

    def _bytes_waiting(self) -> bool:
        sock = self.socket
        if sock is None:
            return False
        try:
            tls = self._tls
            if tls is not None and tls.pending():
                return True
            return sockwait.wait(sock)
        except (OSError, ValueError):
            return False

    def _close_socket(self) -> None:
        sock, self.socket = self.socket, None
        tls, self._tls = self._tls, None
        self._close_writer()  # (a write in progress ends with the shutdown below)
        self._hosts.interrupt()
        if sock is None:
            return
        # A TLS socket drops its TLS object on shutdown and close: not while another thread
        # is in a TLS call.
        with tls.lock if tls is not None else contextlib.nullcontext():
            # shutdown() wakes the receiver thread waiting to read; for TLS it is the raw
            # socket's shutdown, so it cannot block on a close-notify to a dead peer.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                if exc.errno not in (errno.ENOTCONN, errno.EBADF):
                    _log.warning("unable to issue SHUT_RDWR on socket because of error '%s'", exc)
            try:
                sock.close()
            except OSError as exc:
                _log.warning("unable to close socket because of error '%s'", exc)

    def cleanup(self) -> None:
        """Close the socket, ignoring errors."""
        self._close_socket()

    def shutdown_queue(self) -> None:
        """Does nothing: kept for stomp.py compatibility.

        stomp.py 9.0.0 writes TLS frames from a queue on its I/O thread and tears the queue
        down here; this transport writes TLS and plain sockets alike through its
        :class:`~stomp.writer.FrameWriter`, which closing the connection stops
        (``send_queue`` and ``sel`` stay ``None``).
        """

    def __need_ssl(self, host_and_port: tuple[str, int] | None = None) -> bool:
        # stomp.py's name: whether TLS applies to that host (default: the connected one).
        return self.get_ssl(host_and_port) is not None

    def __enable_keepalive(self) -> None:
        # stomp.py's name: apply the ``keepalive`` setting to the open socket.
        if self.socket is not None and self._keepalive:
            keepalive.apply_keepalive(
                self.socket, self._keepalive, LINUX_KEEPALIVE_AVAIL, MAC_KEEPALIVE_AVAIL
            )

    def disconnect_socket(self) -> None:
        """Close the connection now (also stops a pending connect retry loop)."""
        self._hosts.interrupt()
        super().disconnect_socket()
