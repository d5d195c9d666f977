"""Connections: a protocol version joined to a TCP transport.

``StompConnection10/11/12`` (exported as ``stomp.Connection10/11/12``; ``stomp.Connection``
is 1.1) are what applications use::

    conn = stomp.Connection12([("127.0.0.1", 61613)], heartbeats=(4000, 4000))
    conn.set_listener("", MyListener())
    conn.connect("guest", "guest", wait=True)
    conn.subscribe("/queue/orders", id="1", ack="client-individual")
    conn.send("/queue/orders", "hello")
    conn.disconnect()

Unlike stomp.py, no call waits forever: ``connect(wait=True)`` gives up after the
connection's ``timeout`` (30 s by default), ``disconnect()`` waits for the broker's receipt
and the receiver thread at most ``timeout`` (10 s by default) seconds, and leaving a
``with`` block never blocks on a connection that was never opened.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stomp import _namespace, protocol, transport
from stomp.codec import Frame
from stomp.exception import NotConnectedException
from stomp.failover import pick
from stomp.keepalive import KeepaliveSpec
from stomp.listener import Publisher, WaitingListener
from stomp.protocol import Protocol10, Protocol11, Protocol12
from stomp.pull import PullSubscription
from stomp.reconnect import (
    Confirmations,
    Reconnector,
    ReconnectPolicy,
    policy_of,
    restore_subscriptions,
)
from stomp.session import random_id
from stomp.tls import SSLPassword
from stomp.transport import DEFAULT_DISCONNECT_TIMEOUT, BaseTransport, Transport

# stomp.py's connect module star-imports its protocol and transport modules: their names
# are here too (ssl, DEFAULT_SSL_VERSION, SSLError and stomp.utils' names resolved on
# first use, see stomp._namespace).
__all__ = ["BaseConnection", "StompConnection10", "StompConnection11", "StompConnection12"]
__all__ += _namespace.reexport(globals(), protocol, transport)
_namespace.forget(globals())

_log = logging.getLogger("stomp.py")

if TYPE_CHECKING:
    import ssl
    from concurrent.futures import Future

    from stomp.tls import DEFAULT_SSL_VERSION as DEFAULT_SSL_VERSION
    from stomp.tls import SSLError as SSLError


def __getattr__(name: str) -> Any:
    return _namespace.resolve(__name__, name)


class BaseConnection(Publisher):
    """What every connection class shares: listeners, TLS settings, ``with`` support."""

    transport: BaseTransport

    def __init__(
        self, transport: BaseTransport, auto_reconnect: bool | ReconnectPolicy = False
    ) -> None:
        self.transport = transport
        policy = policy_of(auto_reconnect)
        self._reconnector = (
            None if policy is None else Reconnector(transport, policy, self._restore)
        )
        self._confirms: Confirmations | None = None
        transport.on_lost = self._connection_lost
        if self._reconnector is not None:
            transport.retry_after_loss = self._retry_after_loss

    # -- automatic reconnection and confirmed publishing -----------------------------------

    def _establish(self, send_connect: Callable[[], None], wait: bool) -> None:
        reconnector = self._reconnector
        if reconnector is not None and reconnector.active:
            reconnector.wait_ready()  # (connect() while reconnecting: wait for it)
            if self.transport.is_connected():
                return
        super()._establish(send_connect, wait)  # type: ignore[misc]
        if reconnector is not None:
            reconnector.armed(send_connect)

    def _restore(self) -> None:
        # Reconnected: subscribe again, then send the unconfirmed messages again.
        restore_subscriptions(self.transport)
        if self._confirms is not None:
            self._confirms.resend_all()

    def _retry_after_loss(self, frame: Frame) -> bool:
        # A SEND whose write failed as the connection went: once reconnected, a confirmed
        # send was sent again already (with the unconfirmed ones), another is sent again
        # now.  Other frames are not: the reconnection subscribes again by itself, and the
        # acknowledgements and transactions of the lost connection are void.
        reconnector = self._reconnector
        if frame.cmd != "SEND" or reconnector is None or not reconnector.recover():
            return False
        receipt = frame.headers.get("receipt")
        confirms = self._confirms
        if receipt is None or confirms is None or not confirms.resent_by_reconnection(str(receipt)):
            self.transport.transmit(frame)
        return True

    def _connection_lost(self) -> None:
        # After on_disconnected: reconnect, or fail the sends still unconfirmed.
        reconnector = self._reconnector
        if reconnector is not None and reconnector.lost():
            return
        confirms = self._confirms
        if confirms is not None and len(confirms):
            confirms.fail_all(
                "the connection ended before its receipt came: the broker may or may not "
                "have the message"
            )

    def send_confirmed(
        self,
        destination: str,
        body: Any = "",
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> Future[Frame]:
        """Send a message with a receipt, without waiting for it (not in stomp.py).

        Arguments as :meth:`send` (a ``receipt`` given is used; otherwise one is made).
        Many may be in flight at once; :meth:`wait_for_confirms` waits for them all.

        Returns:
            A :class:`concurrent.futures.Future` resolved with the RECEIPT frame once the
            broker has the message, or failed with
            :class:`~stomp.exception.PublishFailedException` when the broker answers it
            with an ERROR, or when the connection ends for good before the receipt came
            (the broker may or may not have the message then).  With ``auto_reconnect``,
            a send unconfirmed when the connection was lost is sent again on the new
            connection, in its order: at least once, so a message whose receipt was lost
            with the connection arrives twice.

        Raises:
            NotConnectedException: the connection is not open.
        """
        confirms = self._confirms
        if confirms is None:
            confirms = self._confirms = Confirmations(self._send_again)
            self.transport.set_listener("stomp-ng-confirmations", confirms)
        receipt = str(keyword_headers.pop("receipt", None) or confirms.new_receipt())
        # (the caller's headers as they are now: a resend uses them, not later changes)
        own_headers = dict(headers) if headers else None
        args = (destination, body, content_type, own_headers, keyword_headers)
        future = confirms.add(receipt, args)
        pipelining = self.transport.pipelining
        pipelining.on = True  # (written with the frames around it, not flushed alone)
        try:
            self._send_again(receipt, args)
        except BaseException:
            confirms.forget(receipt)
            raise
        else:
            future._sent = True  # (from now on a reconnection sends it again)
        finally:
            pipelining.on = False
        return future

    def _send_again(self, receipt: str, args: Any) -> None:
        # A confirmed send as send_confirmed records it: its first time, and again on a
        # new connection.
        destination, body, content_type, own_headers, keyword_headers = args
        self.send(  # type: ignore[attr-defined]
            destination,
            body,
            content_type,
            dict(own_headers) if own_headers else None,
            receipt=receipt,
            **keyword_headers,
        )

    def subscription(
        self,
        destination: str,
        id: str | int | None = None,
        ack: str = "client-individual",
        prefetch: int = 100,
        headers: dict[str, Any] | None = None,
    ) -> PullSubscription:
        """Subscribe to ``destination`` and take its messages when you want them (not in
        stomp.py)::

            with conn.subscription("/queue/jobs", prefetch=10) as jobs:
                for message in jobs:
                    handle(message.body)
                    message.ack()

        Args:
            destination: where from.
            id: the subscription id (generated when omitted).
            ack: ``client-individual`` (the default: nothing is lost if the program stops
                before acknowledging), ``client`` or ``auto``.
            prefetch: the most unacknowledged messages the broker sends ahead
                (``activemq.prefetchSize`` and ``prefetch-count``; not with ``auto``).
            headers: more SUBSCRIBE headers.

        Returns:
            The open :class:`~stomp.pull.PullSubscription` (leaving its ``with`` block, or
            its ``close()``, unsubscribes).  See :mod:`stomp.pull`.
        """
        return PullSubscription(self, destination, id, ack, prefetch, headers).open()

    def wait_for_confirms(self, timeout: float | None = None) -> None:
        """Wait until every :meth:`send_confirmed` so far is confirmed or failed (not in
        stomp.py).

        Raises:
            PublishFailedException: one or more failed since the last call.
            TimeoutError: some are still unconfirmed after ``timeout`` seconds.
        """
        if self._confirms is not None:
            self._confirms.wait(timeout)

    def __enter__(self) -> BaseConnection:
        self.disconnect_receipt_id = random_id()
        self.disconnect_listener = WaitingListener(self.disconnect_receipt_id)
        self.set_listener("ZZZZZ-disconnect-listener", self.disconnect_listener)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        # Leaves within a bounded time: disconnect() waits at most its timeout, and nothing
        # is waited for when no DISCONNECT could be sent.
        self.disconnect(self.disconnect_receipt_id)

    def set_listener(self, name: Any, listener: Any) -> None:
        """Register ``listener`` under ``name`` (see :class:`stomp.listener.ConnectionListener`)."""
        self.transport.set_listener(name, listener)

    def remove_listener(self, name: Any) -> None:
        """Unregister the listener ``name`` (``KeyError`` if unknown)."""
        self.transport.remove_listener(name)

    def get_listener(self, name: Any) -> Any:
        """The listener registered as ``name``, or ``None``."""
        return self.transport.get_listener(name)

    def is_connected(self) -> bool:
        """True while the connection is open and CONNECTED has arrived."""
        return self.transport.is_connected()

    def set_receipt(self, receipt_id: str, value: Any) -> None:
        """See :meth:`stomp.transport.BaseTransport.set_receipt`."""
        self.transport.set_receipt(receipt_id, value)

    def set_ssl(
        self,
        for_hosts: Iterable[tuple[str, int]] = (),
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_certs: str | None = None,
        cert_validator: Callable[[Any, str], tuple[bool, Any]] | None = None,
        ssl_version: int | None = None,
        password: SSLPassword = None,
        verify: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Use TLS for some hosts; see :meth:`stomp.transport.Transport.set_ssl`.  Call it
        before :meth:`connect`."""
        self.transport.set_ssl(  # type: ignore[attr-defined]
            for_hosts,
            key_file,
            cert_file,
            ca_certs,
            cert_validator,
            ssl_version,
            password,
            verify,
            ssl_context,
        )

    def get_ssl(self, host_and_port: tuple[str, int] | None = None) -> dict[str, Any] | None:
        """See :meth:`stomp.transport.Transport.get_ssl`."""
        params: dict[str, Any] | None = self.transport.get_ssl(  # type: ignore[attr-defined]
            host_and_port
        )
        return params

    def flush(self, timeout: float | None = None) -> None:
        """Return once every frame sent so far was handed to the operating system.

        Frames sent in a burst are written in batches by the connection's writer thread
        (see :mod:`stomp.writer`); a frame with a ``receipt`` header, CONNECT and
        DISCONNECT are flushed, with everything before them, before their call returns.
        Call this before something that must not start until earlier frames are on their
        way (a process that is about to be killed, say).

        Args:
            timeout: the longest wait for a write another thread has under way (``None``:
                each write is bounded by ``transport.send_timeout`` anyway).

        Raises:
            NotConnectedException: the connection closed first.
            SendTimeoutException: ``timeout`` passed, or the broker is not reading.
        """
        self.transport.flush(timeout)

    def disconnect(
        self,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Send DISCONNECT, wait (bounded) for its receipt, and close the connection.

        Returns at once when not connected; a connection opened by ``connect()`` whose
        CONNECTED frame has not arrived is closed without sending DISCONNECT, and one that
        drops meanwhile is closed without raising.  Frames still queued (see
        :meth:`flush`) are written before DISCONNECT; but when the broker has stopped
        reading (a write waited over a second without progress), the connection is closed
        at once, without DISCONNECT, and senders blocked on it raise
        :class:`~stomp.exception.NotConnectedException`.  When it returns, no thread of this
        connection is left running (unless called from a listener, whose thread ends right
        after the callback returns).  The wait is at most the connection's ``timeout``
        (10 s when it has none).
        """
        transport = self.transport
        if self._reconnector is not None:
            self._reconnector.stop()
        if transport.write_stalled():
            # The broker takes no bytes: DISCONNECT could not reach it.  Closing now also
            # releases the senders blocked on it.
            _log.warning("the broker is not reading: closing without DISCONNECT")
            transport.disconnect_socket()
            self._finish_disconnect(getattr(transport, "timeout", None))
            return
        was_connected = transport.is_connected()
        try:
            super().disconnect(receipt, headers, **keyword_headers)  # type: ignore[misc]
        except (NotConnectedException, OSError) as exc:
            # The connection dropped meanwhile: no receipt can come, just close.
            _log.info("could not send DISCONNECT (%s); closing the connection", exc)
            transport.disconnect_socket()
        if not was_connected:
            if not transport.running:
                return
            # Open but without CONNECTED (yet): no session to end, only a socket to close.
            transport.disconnect_socket()
        self._finish_disconnect(getattr(transport, "timeout", None))

    def _finish_disconnect(self, timeout: float | None) -> None:
        # After DISCONNECT went out: wait for the receipt (which closes the socket) and the
        # receiver thread, within the timeout; then close whatever is left.  From the
        # receiver thread itself (a listener disconnecting) there is nothing to wait for:
        # the receipt is processed once the callback returns.
        transport = self.transport
        if threading.current_thread() is transport.io_thread:
            return
        limit = timeout if timeout is not None else DEFAULT_DISCONNECT_TIMEOUT
        if not transport.stop(limit):
            _log.warning("no receipt for DISCONNECT within %s s; closing the connection", limit)
        transport.disconnect_socket()
        transport.stop(limit)
        transport.stop_heartbeats()


class StompConnection10(BaseConnection, Protocol10):
    """A STOMP 1.0 connection over TCP (optionally TLS).

    Args:
        host_and_ports: ``(host, port)`` pairs to try in order; default
            ``[("localhost", 61613)]``.  IPv6 literals (``"::1"``) work.
        prefer_localhost: try local host names first.
        try_loopback_connect: for a local host, try ``127.0.0.1`` on its port first.
        reconnect_sleep_initial: seconds to wait after the first pass in which every host
            failed.
        reconnect_sleep_increase: growth of that wait per pass (0.5 = +50 %).
        reconnect_sleep_jitter: random extra fraction of the wait.
        reconnect_sleep_max: the longest wait.
        reconnect_attempts_max: failed host attempts before ``connect()`` raises
            :class:`~stomp.exception.ConnectFailedException`; ``-1`` retries forever.
        timeout: seconds for the TCP connect and TLS handshake, for ``connect(wait=True)``
            to get CONNECTED (default 30) and for ``disconnect()`` (default 10).
        keepalive: TCP keep-alive: ``True``, ``("linux", idle, interval, count)`` or
            ``("mac", interval)``.
        auto_decode: deliver message bodies as ``str``, decoded as UTF-8 with undecodable
            bytes replaced (the default, as in stomp.py): a binary body arrives mangled.
            ``False`` delivers every body as the ``bytes`` that were sent; use it for
            binary payloads (images, protobuf, compressed data) and decode text yourself.
        encoding: accepted and ignored (always UTF-8, as stomp.py).
        auto_content_length: add ``content-length`` to SEND frames with a body.
        bind_host_port: local ``(host, port)`` to connect from.
        auto_reconnect: reconnect by itself when the connection is lost (not in stomp.py;
            off by default): ``True``, or a :class:`~stomp.reconnect.ReconnectPolicy` for
            its limits.  See :mod:`stomp.reconnect` and ``docs/reliability.rst``.
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
        keepalive: KeepaliveSpec = None,
        auto_decode: bool = True,
        encoding: str = "utf-8",
        auto_content_length: bool = True,
        bind_host_port: tuple[str, int] | None = None,
        auto_reconnect: bool | ReconnectPolicy = False,
    ) -> None:
        transport = Transport(**pick(Transport.CONNECTION_ARGUMENTS, locals()))
        BaseConnection.__init__(self, transport, auto_reconnect)
        Protocol10.__init__(self, transport, auto_content_length)


class StompConnection11(BaseConnection, Protocol11):
    """A STOMP 1.1 connection over TCP (optionally TLS); ``stomp.Connection``.

    Parameters as :class:`StompConnection10`, plus:

    Args:
        heartbeats: ``(cx, cy)`` in ms: send at least every ``cx`` ms, want to receive every
            ``cy`` ms; ``(0, 0)`` (the default) disables heart-beats.
        vhost: the ``host`` header of CONNECT (RabbitMQ's virtual host).
        heart_beat_receive_scale: grace factor on the receive interval before the link is
            declared dead (``on_heartbeat_timeout``, then ``on_disconnected``).
    """

    _protocol: type[Protocol11] = Protocol11

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
        auto_reconnect: bool | ReconnectPolicy = False,
    ) -> None:
        _open_tcp(self, locals())


class StompConnection12(BaseConnection, Protocol12):
    """A STOMP 1.2 connection over TCP (optionally TLS).  Parameters as
    :class:`StompConnection11`."""

    _protocol: type[Protocol11] = Protocol12

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
        auto_reconnect: bool | ReconnectPolicy = False,
    ) -> None:
        _open_tcp(self, locals())


def _open_tcp(conn: StompConnection11 | StompConnection12, arguments: dict[str, Any]) -> None:
    # The constructor of the TCP connections of 1.1 and 1.2: the transport from its share
    # of the arguments, then the connection and protocol layers.
    transport = Transport(**pick(Transport.CONNECTION_ARGUMENTS, arguments))
    BaseConnection.__init__(conn, transport, arguments["auto_reconnect"])
    conn._protocol.__init__(
        conn,
        transport,
        arguments["heartbeats"],
        arguments["auto_content_length"],
        arguments["heart_beat_receive_scale"],
    )
