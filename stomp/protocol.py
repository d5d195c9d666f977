"""The STOMP protocol versions: calls turned into frames.

:class:`Protocol10`, :class:`Protocol11` and :class:`Protocol12` build the frames of their
version and hand them to a transport; they do no I/O themselves.  What differs between the
versions is kept side by side here:

* connect command: 1.0 CONNECT; 1.1 and 1.2 STOMP (CONNECT on request).
* ``host`` header: 1.0 only if given; 1.1 the ``vhost``, if any; 1.2 the ``vhost`` or else
  the host connected to.
* heart-beats: none in 1.0; negotiated in 1.1 and 1.2.
* subscription ``id``: optional in 1.0; required in 1.1 and 1.2 (generated when omitted).
* unsubscribe: by ``id`` or ``destination`` in 1.0; by ``id`` in 1.1 and 1.2.
* ACK headers: ``message-id`` in 1.0; ``message-id`` and ``subscription`` in 1.1; ``id``
  (the MESSAGE's ``ack`` header) in 1.2.  NACK from 1.1 on, with the same headers.
* header escaping: none in 1.0; backslash, LF and colon in 1.1; CR too in 1.2.

Header escaping is done once, by the codec, when the frame is encoded: listeners'
``on_send`` see the values as the caller gave them.  :meth:`Protocol10.send_frame` also
escapes the caller's header dict in place on 1.1 and 1.2, as stomp.py's does (tests that
wrap ``send_frame`` check the escaped values); every method sends its frame through
``send_frame`` with stomp.py's arguments, so a subclass or a wrapper sees them all.

Required arguments that are missing raise ``AssertionError`` with stomp.py's message (an
explicit ``raise``, so ``python -O`` does not remove the check).
"""

from __future__ import annotations

import logging
from typing import Any

from stomp import exception, log, utils  # noqa: F401  (re-exported, as stomp.py)
from stomp import listener as _listener
from stomp.codec import UNESCAPED_COMMANDS, Frame, escape
from stomp.constants import (
    CMD_ABORT,
    CMD_ACK,
    CMD_BEGIN,
    CMD_COMMIT,
    CMD_CONNECT,
    CMD_DISCONNECT,
    CMD_NACK,
    CMD_SEND,
    CMD_STOMP,
    CMD_SUBSCRIBE,
    CMD_UNSUBSCRIBE,
    HDR_ACCEPT_VERSION,
    HDR_ACK,
    HDR_CONTENT_LENGTH,
    HDR_CONTENT_TYPE,
    HDR_DESTINATION,
    HDR_HOST,
    HDR_ID,
    HDR_LOGIN,
    HDR_MESSAGE_ID,
    HDR_PASSCODE,
    HDR_RECEIPT,
    HDR_SUBSCRIPTION,
    HDR_TRANSACTION,
)
from stomp.exception import ConnectFailedException, NotConnectedException
from stomp.listener import *  # noqa: F403  (stomp.py re-exports the listener names here)
from stomp.listener import ConnectionListener, HeartbeatListener

# stomp.py's protocol module star-imports its listener module: those names are here too.
__all__ = ["ConnectFailedException", "Protocol10", "Protocol11", "Protocol12"]
__all__ += _listener.__all__

_log = logging.getLogger("stomp.py")


def _require(value: Any, name: str) -> None:
    if value is None:
        raise AssertionError(f"'{name}' is required")


def _merge(headers: dict[str, Any] | None, keyword_headers: dict[str, Any]) -> dict[str, Any]:
    merged = dict(headers) if headers else {}
    if keyword_headers:
        merged.update(keyword_headers)
    return merged


class Protocol10(ConnectionListener):
    """STOMP 1.0 frames.

    Args:
        transport: where frames go (see :mod:`stomp.transport`).
        auto_content_length: add ``content-length`` to SEND frames with a body.
    """

    version = "1.0"
    _connect_command = CMD_CONNECT

    def __init__(self, transport: Any, auto_content_length: bool = True) -> None:
        self.transport = transport
        self.auto_content_length = auto_content_length
        self._subscriptions: dict[str, str] = {}  # id -> destination
        transport.version = self.version
        transport.set_listener("protocol-listener", self)

    # -- frames ---------------------------------------------------------------------------

    def send_frame(self, cmd: str, headers: dict[str, Any] | None = None, body: Any = "") -> None:
        """Build a frame and transmit it (``on_send`` listeners first).

        As in stomp.py, on 1.1 and 1.2 the ``str`` values of ``headers`` are escaped in
        place (except for CONNECT and STOMP), through :meth:`_escape_headers`: the
        caller's dict holds the escaped values afterwards.  The frame sent keeps the values
        as given and the codec escapes them, once, on the wire; listeners' ``on_send`` see
        them unescaped.  No ``content-length`` is added here; one present is written with
        the body's real byte length.
        """
        if headers is None:
            headers = {}
        frame_headers = headers
        if cmd not in UNESCAPED_COMMANDS:
            frame_headers = dict(headers)
            self._escape_headers(headers)
        self.transport.transmit(Frame(cmd, frame_headers, body))

    def _escape_headers(self, headers: dict[str, Any]) -> None:
        """Escape the ``str`` values of ``headers`` in place (STOMP 1.0: nothing to do)."""

    def _send(self, cmd: str, headers: dict[str, Any], body: Any = None) -> None:
        # How this class's methods send the frame they built: through send_frame(cmd,
        # headers[, body]), as stomp.py's do, so that a subclass overriding send_frame or
        # a test wrapping it sees every frame with those arguments.  When send_frame is
        # this class's own, the dict is this call's own and no one else sees it: the
        # in-place escaping is skipped and the frame goes straight to the transport.
        send_frame = self.send_frame
        if getattr(send_frame, "__func__", None) is _SEND_FRAME:
            self.transport.transmit(Frame(cmd, headers, "" if body is None else body))
        elif body is None:
            send_frame(cmd, headers)
        else:
            send_frame(cmd, headers, body)

    def _connect_headers(
        self, username: str | None, passcode: str | None, headers: dict[str, Any]
    ) -> dict[str, Any]:
        headers[HDR_ACCEPT_VERSION] = self.version
        if username is not None:
            headers[HDR_LOGIN] = username
        if passcode is not None:
            headers[HDR_PASSCODE] = passcode
        return headers

    def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        wait: bool = False,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Open the connection and send CONNECT.

        Args:
            username: the ``login`` header.
            passcode: the ``passcode`` header (never logged or printed).
            wait: wait for CONNECTED and the listeners' ``on_connected``; raises
                :class:`~stomp.exception.ConnectFailedException` if an ERROR frame comes
                instead, the connection ends, or no answer comes within the connection's
                ``timeout`` (30 s when it has none).  When several hosts are
                listed, a host that accepts TCP but closes the connection or does not answer
                CONNECT in that time is given up and the next one is tried.
            headers: extra headers; keyword arguments become headers too (as in stomp.py,
                ``with_connect_command=`` is one of them on 1.0).
        """
        self._connect(self._connect_command, username, passcode, wait, headers, keyword_headers)

    def _connect(
        self,
        command: str,
        username: str | None,
        passcode: str | None,
        wait: bool,
        headers: dict[str, Any] | None,
        keyword_headers: dict[str, Any],
    ) -> None:
        transport = self.transport
        if transport.is_connected():
            _log.warning("connect() called on a connection that is already connected; ignored")
            return
        hosts = len(getattr(transport, "host_and_ports", ())) or 1
        timeout = getattr(transport, "timeout", None)
        for attempt in range(hosts):
            transport.start()
            frame_headers = self._connect_headers(
                username, passcode, _merge(headers, keyword_headers)
            )
            try:
                try:
                    self._send(command, frame_headers)
                except (OSError, NotConnectedException) as exc:
                    # The broker closed at once (a TLS client certificate it refused, say).
                    raise ConnectFailedException(
                        f"the connection closed while sending {command}: {exc}"
                    ) from exc
                if not wait:
                    return
                transport.wait_for_connection(timeout if timeout is not None else 30.0)
                return
            except ConnectFailedException:
                # A broker that refused (ERROR) is final; one that said nothing or closed
                # the connection is given up for the next host.
                retry = (
                    not transport.connection_error
                    and attempt < hosts - 1
                    and hasattr(transport, "skip_current_host")
                )
                if retry:
                    transport.skip_current_host()
                transport.disconnect_socket()
                if not retry:
                    raise
                _log.warning("no CONNECTED frame, trying the next host")

    def disconnect(
        self,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Send DISCONNECT with a receipt (a fresh one unless ``receipt`` is given).

        Nothing is sent when the connection is not connected.
        """
        if not self.transport.is_connected():
            _log.debug("not sending disconnect, already disconnected")
            return
        frame_headers = _merge(headers, keyword_headers)
        receipt_id = receipt or utils.get_uuid()
        frame_headers[HDR_RECEIPT] = receipt_id
        self.transport.set_receipt(receipt_id, CMD_DISCONNECT)
        self._send(CMD_DISCONNECT, frame_headers)

    def send(
        self,
        destination: str,
        body: Any = "",
        content_type: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Send a message.

        Args:
            destination: e.g. ``/queue/orders``.
            body: ``str`` (sent as UTF-8) or ``bytes``.
            content_type: the ``content-type`` header.
            headers: extra headers; keyword arguments become headers too (``receipt``,
                ``transaction``, ``persistent`` ...).

        Raises:
            NotConnectedException: the connection is not open.
        """
        if destination is None:
            raise AssertionError("'destination' is required")
        if body is None:
            raise AssertionError("'body' is required")
        # keyword_headers is this call's own dict: used as is when there is nothing to merge.
        frame_headers = {**headers, **keyword_headers} if headers else keyword_headers
        frame_headers[HDR_DESTINATION] = destination
        if content_type:
            frame_headers[HDR_CONTENT_TYPE] = content_type
        if self.auto_content_length and body and HDR_CONTENT_LENGTH not in frame_headers:
            frame_headers[HDR_CONTENT_LENGTH] = len(body)
        self._send(CMD_SEND, frame_headers, body)

    def subscribe(
        self,
        destination: str,
        id: str | None = None,
        ack: str = "auto",
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> str | None:
        """Subscribe to ``destination``; messages then reach ``on_message``.

        Args:
            destination: e.g. ``/queue/orders`` or ``/topic/prices``.
            id: the subscription id (optional in 1.0; generated when omitted in 1.1/1.2).
            ack: ``auto``, ``client`` or ``client-individual``.
            headers: extra headers (e.g. ``selector``, ``prefetch-count``).

        Returns:
            The subscription id (``None`` for a 1.0 subscription without one).
        """
        _require(destination, "destination")
        frame_headers = _merge(headers, keyword_headers)
        frame_headers[HDR_DESTINATION] = destination
        sub_id = self._subscription_id(id)
        if sub_id is not None:
            frame_headers[HDR_ID] = sub_id
            self._subscriptions[str(sub_id)] = destination
        frame_headers[HDR_ACK] = ack
        self._send(CMD_SUBSCRIBE, frame_headers)
        return None if sub_id is None else str(sub_id)

    def _subscription_id(self, id: Any) -> Any:
        return id if id else None

    def unsubscribe(
        self,
        destination: str | None = None,
        id: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Stop a subscription, by ``id`` or (1.0) by ``destination``."""
        if destination is None and id is None:
            raise AssertionError("'id' or 'destination' is required")
        frame_headers = _merge(headers, keyword_headers)
        if id:
            frame_headers[HDR_ID] = id
            self._subscriptions.pop(str(id), None)
        if destination:
            frame_headers[HDR_DESTINATION] = destination
        self._send(CMD_UNSUBSCRIBE, frame_headers)

    def _ack_headers(self, id: Any, subscription: Any) -> dict[str, Any]:
        _require(id, "id")
        frame_headers = {HDR_MESSAGE_ID: id}
        if subscription is not None:
            frame_headers[HDR_SUBSCRIPTION] = subscription
        return frame_headers

    def _acknowledge(
        self,
        command: str,
        id: Any,
        subscription: Any,
        transaction: str | None,
        receipt: str | None,
        headers: dict[str, Any] | None,
        keyword_headers: dict[str, Any],
    ) -> None:
        frame_headers = _merge(headers, keyword_headers)
        frame_headers.update(self._ack_headers(id, subscription))
        if transaction:
            frame_headers[HDR_TRANSACTION] = transaction
        if receipt:
            frame_headers[HDR_RECEIPT] = receipt
        self._send(command, frame_headers)

    def ack(
        self,
        id: str,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Acknowledge the message whose ``message-id`` is ``id``."""
        subscription = keyword_headers.pop(HDR_SUBSCRIPTION, None)
        self._acknowledge(CMD_ACK, id, subscription, transaction, receipt, headers, keyword_headers)

    def begin(
        self,
        transaction: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> str:
        """Begin a transaction (a fresh id unless ``transaction`` is given); returns its id."""
        frame_headers = _merge(headers, keyword_headers)
        transaction = transaction or utils.get_uuid()
        frame_headers[HDR_TRANSACTION] = transaction
        self._send(CMD_BEGIN, frame_headers)
        return transaction

    def commit(
        self,
        transaction: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Commit ``transaction``: its SENDs and ACKs take effect."""
        _require(transaction, "transaction")
        frame_headers = _merge(headers, keyword_headers)
        frame_headers[HDR_TRANSACTION] = transaction
        self._send(CMD_COMMIT, frame_headers)

    def abort(
        self, transaction: str, headers: dict[str, Any] | None = None, **keyword_headers: Any
    ) -> None:
        """Abort ``transaction``: its SENDs and ACKs are dropped."""
        _require(transaction, "transaction")
        frame_headers = _merge(headers, keyword_headers)
        frame_headers[HDR_TRANSACTION] = transaction
        self._send(CMD_ABORT, frame_headers)


# Protocol10.send_frame itself: Protocol10._send skips its in-place escaping when it is not
# overridden or wrapped.
_SEND_FRAME = Protocol10.send_frame


class Protocol11(HeartbeatListener, Protocol10):
    """STOMP 1.1 frames: heart-beats, required subscription ids, ACK/NACK with
    ``message-id`` and ``subscription``, header escaping.

    Args:
        transport: where frames go.
        heartbeats: ``(cx, cy)`` in ms: the client can send every ``cx`` ms and wants to
            receive every ``cy`` ms; ``(0, 0)`` disables heart-beats.
        auto_content_length: add ``content-length`` to SEND frames with a body.
        heart_beat_receive_scale: the grace factor on the receive interval before the
            link is declared dead.
    """

    version = "1.1"
    _connect_command = CMD_STOMP

    def __init__(
        self,
        transport: Any,
        heartbeats: tuple[int, int] = (0, 0),
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
    ) -> None:
        HeartbeatListener.__init__(self, transport, heartbeats, heart_beat_receive_scale)
        Protocol10.__init__(self, transport, auto_content_length)

    def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        wait: bool = False,
        headers: dict[str, Any] | None = None,
        with_connect_command: bool = False,
        **keyword_headers: Any,
    ) -> None:
        """Open the connection and send STOMP (or CONNECT).

        Args:
            username: the ``login`` header.
            passcode: the ``passcode`` header (never logged or printed).
            wait: wait for CONNECTED and the listeners' ``on_connected``; raises
                :class:`~stomp.exception.ConnectFailedException` if an ERROR frame comes
                instead, the connection ends, or no answer comes within the connection's
                ``timeout`` (30 s when it has none).  When several hosts are
                listed, a host that accepts TCP but closes the connection or does not answer
                CONNECT in that time is given up and the next one is tried.
            headers: extra headers; keyword arguments become headers too.
            with_connect_command: send CONNECT instead of STOMP.
        """
        command = CMD_CONNECT if with_connect_command else self._connect_command
        self._connect(command, username, passcode, wait, headers, keyword_headers)

    def _escape_headers(self, headers: dict[str, Any]) -> None:
        """Escape the ``str`` values of ``headers`` in place, per this version's rules
        (backslash, LF and colon; on 1.2 CR too)."""
        version = self.version
        for name, value in list(headers.items()):
            if isinstance(value, str):
                headers[name] = escape(value, version)

    def _connect_headers(
        self, username: str | None, passcode: str | None, headers: dict[str, Any]
    ) -> dict[str, Any]:
        headers = super()._connect_headers(username, passcode, headers)
        vhost = getattr(self.transport, "vhost", None)
        if vhost:
            headers[HDR_HOST] = vhost
        return headers

    def _subscription_id(self, id: Any) -> Any:
        return id if id is not None else utils.get_uuid()

    def unsubscribe(  # type: ignore[override]
        self, id: str | None = None, headers: dict[str, Any] | None = None, **keyword_headers: Any
    ) -> None:
        """Stop the subscription ``id``.

        A ``destination=`` keyword is sent as an extra header (as in stomp.py); given
        without an ``id``, it unsubscribes every subscription made to that destination
        through this connection.
        """
        if id is None:
            destination = keyword_headers.get(HDR_DESTINATION)
            matching = [s for s, d in self._subscriptions.items() if d == destination]
            if destination is None or not matching:
                raise AssertionError("'id' is required")
            for sub_id in matching:
                self.unsubscribe(sub_id, headers, **keyword_headers)
            return
        frame_headers = _merge(headers, keyword_headers)
        frame_headers[HDR_ID] = id
        self._subscriptions.pop(str(id), None)
        self._send(CMD_UNSUBSCRIBE, frame_headers)

    def _ack_headers(self, id: Any, subscription: Any) -> dict[str, Any]:
        _require(id, "id")
        _require(subscription, "subscription")
        return {HDR_MESSAGE_ID: id, HDR_SUBSCRIPTION: subscription}

    def ack(  # type: ignore[override]
        self,
        id: str,
        subscription: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Acknowledge message ``id`` (its ``message-id``) of ``subscription``."""
        self._acknowledge(CMD_ACK, id, subscription, transaction, receipt, headers, keyword_headers)

    def nack(
        self,
        id: str,
        subscription: str | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Tell the broker message ``id`` of ``subscription`` was not processed."""
        self._acknowledge(
            CMD_NACK, id, subscription, transaction, receipt, headers, keyword_headers
        )


class Protocol12(Protocol11):
    """STOMP 1.2 frames: as 1.1, with ACK/NACK by the MESSAGE's ``ack`` header (``id``),
    a ``host`` header always sent, and CR escaped in headers."""

    version = "1.2"

    @staticmethod
    def is_eol(c: bytes) -> bool:
        """Whether ``c`` is a STOMP 1.2 end of line (LF or CR LF)."""
        return c in (b"\n", b"\r\n")

    def _connect_headers(
        self, username: str | None, passcode: str | None, headers: dict[str, Any]
    ) -> dict[str, Any]:
        headers = super()._connect_headers(username, passcode, headers)
        if HDR_HOST not in headers or not getattr(self.transport, "vhost", None):
            current = getattr(self.transport, "current_host_and_port", None)
            if current is not None:
                headers[HDR_HOST] = current[0]
        return headers

    def _ack_headers(self, id: Any, subscription: Any) -> dict[str, Any]:
        _require(id, "id")
        frame_headers = {HDR_ID: id}
        if subscription is not None:
            frame_headers[HDR_SUBSCRIPTION] = subscription
        return frame_headers

    def ack(  # type: ignore[override]
        self,
        id: str,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Acknowledge the message whose ``ack`` header is ``id``."""
        subscription = keyword_headers.pop(HDR_SUBSCRIPTION, None)
        self._acknowledge(CMD_ACK, id, subscription, transaction, receipt, headers, keyword_headers)

    def nack(  # type: ignore[override]
        self,
        id: str,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Tell the broker the message whose ``ack`` header is ``id`` was not processed."""
        subscription = keyword_headers.pop(HDR_SUBSCRIPTION, None)
        self._acknowledge(
            CMD_NACK, id, subscription, transaction, receipt, headers, keyword_headers
        )
