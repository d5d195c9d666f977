"""STOMP 1.2 over WebSocket (RabbitMQ web-stomp, ActiveMQ and Artemis ws connectors,
Spring's STOMP endpoints), on the ``websocket-client`` package.

::

    conn = stomp.WSStompConnection([("127.0.0.1", 15674)], ws_path="/ws", vhost="/")
    conn.connect("guest", "guest", wait=True)

The WebSocket only carries bytes: the STOMP frames are encoded and decoded by the same codec
as over TCP, and the payload of every WebSocket data frame goes to the common receiver loop
as it arrives.  So one STOMP frame may span several WebSocket messages (or fragments) and
one message may hold several STOMP frames.  Text messages are taken as the bytes they
carry, without UTF-8 decoding: RabbitMQ sends binary bodies in text messages.

``websocket-client`` is imported with this module, which ``import stomp`` does not load;
without it, creating a WebSocket connection raises :class:`ImportError` saying so.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from stomp import _namespace, sockwait, transport
from stomp.connect import BaseConnection, StompConnection12
from stomp.exception import (
    ConnectFailedException,
    ConnectionClosedException,
    InterruptedException,
    NotConnectedException,
    StompException,
)
from stomp.failover import FailoverMixin, HostList, pick
from stomp.keepalive import KeepaliveSpec, apply_keepalive
from stomp.protocol import Protocol12
from stomp.reconnect import ReconnectPolicy
from stomp.tls import TLSStream
from stomp.transport import BaseTransport, Transport

try:
    import websocket
    from websocket import ABNF, WebSocketException
except Exception as _exc:  # a broken install must not break the import either
    websocket = None  # type: ignore[assignment]
    _IMPORT_ERROR: Exception | None = _exc

    class WebSocketException(Exception):  # type: ignore[no-redef]
        """Stand-in, so that ``except`` clauses work without websocket-client."""

else:
    _IMPORT_ERROR = None

# stomp.py's ws module star-imports the utils and transport names, and imports the
# exceptions and classes below: all are here (ssl, DEFAULT_SSL_VERSION, SSLError
# and stomp.utils' names resolved on first use, see stomp._namespace).
__all__ = [
    "SUBPROTOCOLS",
    "BaseConnection",
    "ConnectFailedException",
    "ConnectionClosedException",
    "InterruptedException",
    "NotConnectedException",
    "Protocol12",
    "StompConnection12",
    "StompException",
    "WSStompConnection",
    "WSTransport",
    "websocket",
]
__all__ += _namespace.reexport(globals(), transport)
_namespace.forget(globals())

_log = logging.getLogger("stomp.py")

# (not the module global ``ssl``, one of the names resolved on first use)
_ssl = _namespace.ssl_module()


def __getattr__(name: str) -> Any:
    return _namespace.resolve(__name__, name)


#: The WebSocket subprotocols offered in the handshake, most preferred first (the names
#: of the STOMP versions registered with IANA; brokers pick one or none).
SUBPROTOCOLS = ("v12.stomp", "v11.stomp", "v10.stomp")

#: How long a clean close waits for the server's CLOSE frame, in seconds.
CLOSE_TIMEOUT = 2.0

_STATUS_NORMAL = b"\x03\xe8"  # close status 1000


def _require_websocket() -> None:
    if websocket is None:
        raise ImportError(
            "STOMP over WebSocket needs the websocket-client package "
            f"(pip install websocket-client); importing it failed: {_IMPORT_ERROR!r}"
        )


def _message(ws: Any, payload: bytes, opcode: int) -> bytes:
    # One unfragmented WebSocket frame, masked (as a client's must be) with a fresh key.
    frame = ABNF.create_frame(payload, opcode)
    if ws.get_mask_key is not None:  # (websocket-client's hook for a chosen key)
        frame.get_mask_key = ws.get_mask_key
    return bytes(frame.format())


def _url_host(host: str) -> str:
    # An IPv6 literal goes in brackets in a URL.
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _is_text(data: bytes) -> bool:
    # Whether ``data`` may go in a TEXT message (RFC 6455: valid UTF-8 only).
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sslopt(settings: dict[str, Any], server_hostname: str | None) -> dict[str, Any]:
    # ``set_ssl`` settings as websocket-client's ``sslopt``.
    if settings.get("ssl_context") is not None:
        # A ready context is used as is (websocket-client checks the host name with it).
        opts: dict[str, Any] = {"context": settings["ssl_context"]}
    else:
        verify = settings.get("verify", True)
        opts = {
            "cert_reqs": _ssl.CERT_REQUIRED if verify else _ssl.CERT_NONE,
            "check_hostname": bool(verify),
            "ssl_version": settings.get("ssl_version") or _ssl.PROTOCOL_TLS_CLIENT,
        }
        if settings.get("ca_certs") and verify:
            opts["ca_certs"] = settings["ca_certs"]
        if settings.get("cert_file"):
            opts["certfile"] = settings["cert_file"]
            opts["keyfile"] = settings.get("key_file") or settings["cert_file"]
            if settings.get("password") is not None:
                opts["password"] = settings["password"]
    if server_hostname is not None:
        opts["server_hostname"] = server_hostname
    return opts


class _SharedTLSSocket:
    """A TLS socket as websocket-client sees it, with every TLS call under one lock.

    OpenSSL does not support two threads in one TLS connection at once (the receiver
    thread reading while another thread sends); :class:`stomp.tls.TLSStream` serialises
    the calls, and this gives it the socket interface websocket-client uses.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._stream = TLSStream(sock)

    @property
    def _closed(self) -> bool:
        return bool(self._sock._closed)

    def recv(self, size: int) -> bytes:
        return self._stream.recv(size)

    def send(self, data: bytes) -> int:
        self._stream.sendall(data)
        return len(data)

    def gettimeout(self) -> float | None:
        return None  # blocking, as far as websocket-client is concerned

    def settimeout(self, timeout: float | None) -> None:
        pass  # the stream waits itself

    def pending(self) -> bool:
        return self._stream.pending()

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        with self._stream.lock:
            self._sock.close()

    def fileno(self) -> int:
        return int(self._sock.fileno())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WSTransport(FailoverMixin, BaseTransport):
    """A WebSocket transport (``ws://`` or, for hosts given to :meth:`set_ssl`, ``wss://``).

    The parameters are those of stomp.py's ``WSTransport``; the first ones are as for
    :class:`stomp.transport.Transport` (host list, retries and back-off, ``timeout`` for
    the TCP connect, TLS and WebSocket handshakes).

    Args:
        keepalive: TCP keep-alive, as for ``Transport``.
        vhost: the ``host`` header of CONNECT (RabbitMQ's virtual host).
        recv_bytes: accepted for compatibility; WebSocket frames are read whole.
        bind_host_port: accepted for compatibility and ignored (websocket-client opens
            the socket).
        ws_path: the HTTP path of the WebSocket endpoint, e.g. ``"/ws"`` (default ``"/"``).
        header: extra HTTP headers for the handshake, a dict or a list of
            ``"Name: value"`` strings.
        binary_mode: send every STOMP frame as a BINARY message; by default frames go as
            TEXT messages, except those whose bytes are not valid UTF-8 (binary bodies),
            which RFC 6455 does not allow in a TEXT message and which go as BINARY.

    Attributes:
        subprotocol: the subprotocol the server chose (``"v12.stomp"``...), or ``None``.
    """

    #: The constructor arguments a connection class hands on.
    CONNECTION_ARGUMENTS: Final = (
        *Transport.CONNECTION_ARGUMENTS,
        "ws_path",
        "header",
        "binary_mode",
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
        recv_bytes: int = 1024,
        is_eol_fc: Callable[[bytes], bool] = transport.is_eol_default,
        bind_host_port: tuple[str, int] | None = None,
        ws_path: str | None = None,
        header: dict[str, str] | list[str] | None = None,
        binary_mode: bool = False,
    ) -> None:
        _require_websocket()
        super().__init__(auto_decode, encoding, is_eol_fc)
        self._hosts = HostList.from_arguments(locals())
        self._timeout = timeout
        self._keepalive = keepalive
        self.vhost = vhost
        self.recv_bytes = recv_bytes
        self.bind_host_port = bind_host_port
        self.ws_path = ws_path
        self.header = header
        self.binary_mode = binary_mode
        self.socket: Any = None  # the websocket.WebSocket
        self.subprotocol: str | None = None
        self._peer_closed = threading.Event()
        self._close_sent = False

    # -- connecting -----------------------------------------------------------------------

    def attempt_connection(self) -> None:
        """Open a WebSocket to the first host that answers, retrying with back-off (see
        :meth:`stomp.failover.HostList.connect`).

        Raises:
            ConnectFailedException: no host could be reached.
        """
        ws, host_and_port = self._hosts.connect(
            self._open, lambda: self.running, (OSError, AssertionError, WebSocketException)
        )
        self.socket = ws
        self.current_host_and_port = host_and_port
        # Every WebSocket frame is written through the connection's FrameWriter, as over
        # TCP: the raw socket, or the TLS stream the receiver thread shares.
        sock = ws.sock
        if isinstance(sock, _SharedTLSSocket):
            self._open_writer(sock._sock, sock._stream, host_and_port)
        else:
            self._open_writer(sock, None, host_and_port)

    def url_for(self, host_and_port: tuple[str, int]) -> str:
        """The WebSocket URL of ``(host, port)``: ``wss://`` when it has TLS settings."""
        host, port = host_and_port
        scheme = "wss" if self.get_ssl(host_and_port) is not None else "ws"
        path = self.ws_path or "/"
        if not path.startswith("/"):
            path = "/" + path
        return f"{scheme}://{_url_host(host)}:{port}{path}"

    def _handshake_header(self) -> dict[str, str] | list[str]:
        # The user's headers plus the subprotocol offer, unless they make their own.  The
        # offer goes as a plain header so that a server which picks none is accepted too
        # (websocket-client's own ``subprotocols`` option refuses those).
        offer = ", ".join(SUBPROTOCOLS)
        header = self.header
        if isinstance(header, dict):
            if any(k.lower() == "sec-websocket-protocol" for k in header):
                return dict(header)
            return {**header, "Sec-WebSocket-Protocol": offer}
        lines = list(header or [])
        if any(line.lower().startswith("sec-websocket-protocol:") for line in lines):
            return lines
        return [*lines, f"Sec-WebSocket-Protocol: {offer}"]

    def _open(self, host_and_port: tuple[str, int]) -> Any:
        url = self.url_for(host_and_port)
        _log.info("attempting WebSocket connection to %s", url)
        options: dict[str, Any] = {
            "timeout": self._timeout if self._timeout is not None else socket.getdefaulttimeout(),
            "header": self._handshake_header(),
            # Text messages are taken as bytes, never decoded (see receive()).
            "skip_utf8_validation": True,
            "enable_multithread": True,
            "sockopt": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        }
        settings = self.get_ssl(host_and_port)
        if settings is not None:
            # An added loopback entry stands for a named host: check the name.
            derived = host_and_port in self._hosts.derived_from
            options["sslopt"] = _sslopt(
                settings, self._hosts.name_for(host_and_port) if derived else None
            )
        ws: Any = websocket.create_connection(url, **options)
        try:
            if settings is not None:
                validator = settings.get("cert_validator")
                if validator is not None:
                    name = self._hosts.name_for(host_and_port)
                    ok, message = validator(ws.sock.getpeercert(), name)
                    if not ok:
                        raise _ssl.SSLError(f"Server certificate validation failed: {message}")
            if self._keepalive:
                apply_keepalive(ws.sock, self._keepalive)
            ws.sock.settimeout(None)  # ``timeout`` is for connecting only
            if _ssl is not None and isinstance(ws.sock, _ssl.SSLSocket):
                ws.sock = _SharedTLSSocket(ws.sock)
        except BaseException:
            ws.shutdown()
            raise
        headers = ws.getheaders() or {}
        self.subprotocol = headers.get("sec-websocket-protocol")
        self._peer_closed = threading.Event()
        self._close_sent = False
        return ws

    # -- I/O ------------------------------------------------------------------------------

    def is_connected(self) -> bool:
        """True while the WebSocket is open (handshake status 101) and CONNECTED has
        arrived."""
        ws = self.socket
        return ws is not None and ws.getstatus() == 101 and self.connected

    def send(self, encoded_frame: bytes) -> None:
        """Send one STOMP frame as one WebSocket message, written as over TCP (see
        :mod:`stomp.writer`): before returning when the connection is idle, else in a batch
        with the messages around it, in order.

        Raises:
            NotConnectedException: there is no open WebSocket (or a write failed before).
            SendTimeoutException: the server is not reading (see :attr:`send_timeout`);
                the connection is closed.
            OSError: the write failed (the connection is closed).
        """
        ws, writer = self.socket, self._writer
        if ws is None or writer is None or self._close_sent:
            raise NotConnectedException("not connected: connect() first")
        if self.binary_mode or not _is_text(encoded_frame):
            opcode = ABNF.OPCODE_BINARY
        else:
            opcode = ABNF.OPCODE_TEXT
        writer.write(_message(ws, encoded_frame, opcode))

    def receive(self) -> bytes | None:
        """The payload of the next WebSocket data frame, as bytes; ``b""`` once the
        server closed the WebSocket.

        Pings are answered; a CLOSE is answered and ends the stream (its payload is not
        STOMP data).  Fragments are returned as they come: the STOMP decoder joins them.
        """
        ws = self.socket
        if ws is None:
            return None
        while True:
            try:
                frame = ws.recv_frame()
            except websocket.WebSocketTimeoutException as exc:
                raise InterruptedException() from exc
            except (websocket.WebSocketConnectionClosedException, OSError):
                self._peer_closed.set()
                if self._close_sent:
                    return b""  # our close: the server dropped the connection after it
                raise
            opcode = frame.opcode
            if opcode in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT):
                if frame.data:
                    return bytes(frame.data)
            elif opcode == ABNF.OPCODE_PING:
                self._send_control(ws, frame.data[:125], ABNF.OPCODE_PONG)
            elif opcode == ABNF.OPCODE_CLOSE:
                _log.debug("WebSocket closed by %s", self._describe_peer())
                self._send_close(ws, frame.data[:2] or _STATUS_NORMAL)
                self._peer_closed.set()
                return b""

    def _send_control(self, ws: Any, payload: bytes, opcode: int) -> None:
        # A control frame, in turn with the data frames (a frame's bytes are never split).
        writer = self._writer
        if writer is None:
            return
        try:
            writer.write(_message(ws, payload, opcode))
        except (OSError, StompException) as exc:
            _log.debug("could not send WebSocket control frame %s: %s", opcode, exc)

    def _send_close(self, ws: Any, status: bytes = _STATUS_NORMAL) -> bool:
        # The CLOSE frame, once per connection, after every frame sent before it; not when
        # the server stopped reading (it could not get there).  Returns whether it was
        # written (now or before).
        with self._send_lock:
            if self._close_sent:
                return True
            self._close_sent = True
        writer = self._writer
        if writer is None or self.write_stalled():
            return False
        try:
            writer.write(_message(ws, status, ABNF.OPCODE_CLOSE))
            writer.flush(CLOSE_TIMEOUT)
        except (OSError, StompException) as exc:
            _log.debug("could not send WebSocket CLOSE: %s", exc)
            return False
        return True

    def _bytes_waiting(self) -> bool:
        ws = self.socket
        sock = getattr(ws, "sock", None)
        if sock is None:
            return False
        try:
            if isinstance(sock, _SharedTLSSocket) and sock.pending():
                return True
            return sockwait.wait(sock)
        except (OSError, ValueError):
            return False

    def _close_socket(self) -> None:
        ws, self.socket = self.socket, None
        self._hosts.interrupt()
        if ws is None:
            return
        try:
            self._close_websocket(ws)
        finally:
            self._close_writer()
            # Wakes a receiver thread still reading (and ends a write in progress), then
            # closes the socket.
            ws.abort()
            ws.shutdown()

    def _close_websocket(self, ws: Any) -> None:
        # The closing handshake of RFC 6455: send CLOSE, wait (bounded) for the server's
        # (not when ours could not be written: the connection is broken).
        if ws.sock is None:
            return
        if not self._send_close(ws) or self._peer_closed.is_set():
            return
        io_thread = self.io_thread
        receiver_running = not self._io_exited.is_set()
        if receiver_running and not self._in_receiver_thread() and io_thread is not None:
            # The receiver thread reads the server's CLOSE (receive() sets the event).
            self._peer_closed.wait(CLOSE_TIMEOUT)
            return
        # No other reader: read up to the server's CLOSE here.
        deadline = time.monotonic() + CLOSE_TIMEOUT
        sock = ws.sock
        try:
            while time.monotonic() < deadline:
                if not isinstance(sock, _SharedTLSSocket):
                    sock.settimeout(max(0.01, deadline - time.monotonic()))
                elif not sock.pending() and not sockwait.wait(
                    sock, timeout=max(0.0, deadline - time.monotonic())
                ):
                    break
                if ws.recv_frame().opcode == ABNF.OPCODE_CLOSE:
                    break
        except (OSError, WebSocketException) as exc:
            _log.debug("WebSocket closing handshake ended: %s", exc)

    def cleanup(self) -> None:
        """Close the WebSocket, ignoring errors."""
        self._close_socket()

    def __need_ssl(self, host_and_port: tuple[str, int] | None = None) -> bool:
        # stomp.py's name: whether TLS (wss) applies to that host (default: the connected
        # one).
        return self.get_ssl(host_and_port) is not None

    def __enable_keepalive(self) -> None:
        # stomp.py's name: apply the ``keepalive`` setting to the open connection's socket.
        sock = getattr(self.socket, "sock", None)
        if sock is not None and self._keepalive:
            apply_keepalive(sock, self._keepalive)

    def disconnect_socket(self) -> None:
        """Close the WebSocket now (with a closing handshake); listeners get
        ``on_disconnected`` once."""
        self._hosts.interrupt()
        super().disconnect_socket()


class WSStompConnection(StompConnection12):
    """A STOMP 1.2 connection over WebSocket; ``stomp.WSConnection``.

    Everything but the transport is :class:`stomp.connect.StompConnection12`.  The extra
    parameters are those of :class:`WSTransport`: ``ws_path`` (e.g. ``"/ws"``),
    ``header`` (extra handshake headers) and ``binary_mode``; ``ws`` is accepted for
    compatibility and ignored; ``auto_reconnect`` as for the TCP connections.  TLS (``wss://``) is set up with :meth:`set_ssl`.

    Example, RabbitMQ's web-stomp plugin::

        conn = WSStompConnection([("127.0.0.1", 15674)], ws_path="/ws", vhost="/")
        conn.connect("guest", "guest", wait=True)

    Raises:
        ImportError: websocket-client is not installed (or fails to import).
    """

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
        heartbeats: tuple[int, int] = (0, 0),
        keepalive: KeepaliveSpec = None,
        vhost: str | None = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
        bind_host_port: tuple[str, int] | None = None,
        ws: Any = None,
        ws_path: str | None = None,
        header: dict[str, str] | list[str] | None = None,
        binary_mode: bool = False,
        auto_reconnect: bool | ReconnectPolicy = False,
    ) -> None:
        transport = WSTransport(**pick(WSTransport.CONNECTION_ARGUMENTS, locals()))
        BaseConnection.__init__(self, transport, auto_reconnect)
        Protocol12.__init__(
            self, transport, heartbeats, auto_content_length, heart_beat_receive_scale
        )
