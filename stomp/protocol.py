"""The STOMP protocol versions: stomp.py's calls, as frames sent through a transport.

:class:`Protocol10`, :class:`Protocol11` and :class:`Protocol12` are stomp.py's classes,
with its method names and signatures.  They do no I/O and keep no state of their own: the
frames are built by the connection's :class:`~stomp.session.ClientSession` (where the
version rules are, side by side), and sent through :meth:`Protocol10.send_frame` to the
transport, which reports them to the same session.

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
from collections.abc import Callable
from typing import Any

from stomp import _namespace, exception, log  # noqa: F401  (re-exported, as stomp.py)
from stomp import listener as _listener
from stomp.codec import UNESCAPED_COMMANDS, Frame, escape
from stomp.constants import CMD_DISCONNECT, CMD_SEND, HDR_ID, HDR_RECEIPT, HDR_SUBSCRIPTION
from stomp.exception import ConnectFailedException
from stomp.listener import ConnectionListener, HeartbeatListener
from stomp.session import ClientSession

# stomp.py's protocol module star-imports its listener module: those names are here too.
__all__ = ["ConnectFailedException", "Protocol10", "Protocol11", "Protocol12"]
__all__ += _namespace.reexport(globals(), _listener)
_namespace.forget(globals())


def __getattr__(name: str) -> Any:
    # utils: on first use (see stomp._namespace).
    return _namespace.resolve(__name__, name)


_log = logging.getLogger("stomp.py")


class Protocol10(ConnectionListener):
    """STOMP 1.0 frames.

    Args:
        transport: where frames go (see :mod:`stomp.transport`).  Its session, when it has
            one, is this object's :attr:`session`.
        auto_content_length: add ``content-length`` to SEND frames with a body.

    Attributes:
        transport: the transport.
        session: the :class:`~stomp.session.ClientSession` that builds the frames and
            keeps the state (subscriptions, receipts, heart-beats) of the connection.
        auto_content_length: see above.
    """

    version = "1.0"

    def __init__(self, transport: Any, auto_content_length: bool = True) -> None:
        self.transport = transport
        self.auto_content_length = auto_content_length
        transport.version = self.version
        session = getattr(transport, "session", None)
        # (a test double standing for the transport gets a session of its own)
        self.session = session if isinstance(session, ClientSession) else ClientSession()
        self.session.version = self.version
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

    def _send(self, frame: Frame) -> None:
        # How this class's methods send the frame the session built: through
        # send_frame(cmd, headers[, body]), as stomp.py's do, so that a subclass overriding
        # send_frame or a test wrapping it sees every frame with those arguments.  When
        # send_frame is this class's own, the dict is this call's own and no one else sees
        # it: the in-place escaping is skipped and the frame goes straight to the transport.
        send_frame = self.send_frame
        try:
            own = send_frame.__func__ is _SEND_FRAME  # type: ignore[attr-defined]
        except AttributeError:  # a function or a mock put on the instance
            own = False
        if own:
            self.transport.transmit(frame)
        elif frame.cmd == CMD_SEND:
            send_frame(CMD_SEND, frame.headers, frame.body)
        else:
            send_frame(str(frame.cmd), frame.headers)

    # -- connecting -----------------------------------------------------------------------

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
        self._connect(username, passcode, wait, headers, keyword_headers, False)

    def _connect(
        self,
        username: str | None,
        passcode: str | None,
        wait: bool,
        headers: dict[str, Any] | None,
        keyword_headers: dict[str, Any],
        with_connect_command: bool,
    ) -> None:
        transport = self.transport
        if transport.is_connected():
            _log.warning("connect() called on a connection that is already connected; ignored")
            return

        def send_connect() -> None:
            # Once per host tried: 1.2's host header names the host connected to.
            current = transport.current_host_and_port
            frame = self.session.connect(
                username,
                passcode,
                headers,
                keyword_headers,
                host=current[0] if current is not None else None,
                vhost=transport.vhost,
                with_connect_command=with_connect_command,
                heartbeats=self._heartbeat_request(),
            )
            self._send(frame)

        self._establish(send_connect, wait)

    def _establish(self, send_connect: Callable[[], None], wait: bool) -> None:
        # Open the connection, with send_connect() writing CONNECT (a connection class
        # keeps it, to reconnect the same way).
        self.transport.establish(send_connect, wait)

    def _heartbeat_request(self) -> tuple[int, int]:
        # The heart-beats a CONNECT asks for: none in 1.0.
        return (0, 0)

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
        frame = self.session.disconnect(receipt, headers, **keyword_headers)
        self.transport.set_receipt(frame.headers[HDR_RECEIPT], CMD_DISCONNECT)
        self._send(frame)

    # -- messages -------------------------------------------------------------------------

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
        frame = self.session.send(
            destination, body, content_type, headers, keyword_headers, self.auto_content_length
        )
        # (Protocol10._send, inlined: the path every message takes)
        send_frame = self.send_frame
        try:
            own = send_frame.__func__ is _SEND_FRAME  # type: ignore[attr-defined]
        except AttributeError:
            own = False
        if own:
            self.transport.transmit(frame)
        else:
            send_frame(CMD_SEND, frame.headers, body)

    def subscribe(
        self,
        destination: str,
        id: str | int | None = None,
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
        frame = self.session.subscribe(destination, id, ack, headers, **keyword_headers)
        self._send(frame)
        sub_id = frame.headers.get(HDR_ID)
        return None if sub_id is None else str(sub_id)

    def unsubscribe(
        self,
        destination: str | None = None,
        id: str | int | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Stop a subscription, by ``id`` or (1.0) by ``destination``."""
        for frame in self.session.unsubscribe(id, destination, headers, **keyword_headers):
            self._send(frame)

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
        self._send(
            self.session.ack(id, subscription, transaction, receipt, headers, **keyword_headers)
        )

    # -- transactions ---------------------------------------------------------------------

    def begin(
        self,
        transaction: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> str:
        """Begin a transaction (a fresh id unless ``transaction`` is given); returns its id."""
        frame = self.session.begin(transaction, headers, **keyword_headers)
        self._send(frame)
        return str(frame.headers["transaction"])

    def commit(
        self,
        transaction: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Commit ``transaction``: its SENDs and ACKs take effect."""
        self._send(self.session.commit(transaction, headers, **keyword_headers))

    def abort(
        self, transaction: str, headers: dict[str, Any] | None = None, **keyword_headers: Any
    ) -> None:
        """Abort ``transaction``: its SENDs and ACKs are dropped.  (One lost with its
        connection, under ``auto_reconnect``, is only forgotten: the broker aborted it.)"""
        if self.session.lost_transactions and self.session.forget_lost_transaction(transaction):
            return
        self._send(self.session.abort(transaction, headers, **keyword_headers))


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

    def __init__(
        self,
        transport: Any,
        heartbeats: tuple[int, int] = (0, 0),
        auto_content_length: bool = True,
        heart_beat_receive_scale: float = 1.5,
    ) -> None:
        # The session first: the heart-beat settings below are its.
        Protocol10.__init__(self, transport, auto_content_length)
        HeartbeatListener.__init__(self, transport, heartbeats, heart_beat_receive_scale)

    @property
    def heart_beat_receive_scale(self) -> float:
        """The grace factor on the negotiated receive interval (the session's)."""
        return self.session.heart_beat_receive_scale

    @heart_beat_receive_scale.setter
    def heart_beat_receive_scale(self, value: float) -> None:
        self.session.heart_beat_receive_scale = value

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
        self._connect(username, passcode, wait, headers, keyword_headers, with_connect_command)

    def _heartbeat_request(self) -> tuple[int, int]:
        # The pair asked for (heartbeats was replaced by the negotiated one after the last
        # CONNECTED; a new CONNECT asks for the original request again).
        requested = self._requested_heartbeats
        self._heartbeats = requested
        return requested

    def _escape_headers(self, headers: dict[str, Any]) -> None:
        """Escape the ``str`` values of ``headers`` in place, per this version's rules
        (backslash, LF and colon; on 1.2 CR too)."""
        version = self.version
        for name, value in list(headers.items()):
            if isinstance(value, str):
                headers[name] = escape(value, version)

    def unsubscribe(  # type: ignore[override]
        self,
        id: str | int | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Stop the subscription ``id``.

        A ``destination=`` keyword is sent as an extra header (as in stomp.py); given
        without an ``id``, it unsubscribes every subscription made to that destination
        through this connection.
        """
        destination = keyword_headers.pop("destination", None)
        for frame in self.session.unsubscribe(id, destination, headers, **keyword_headers):
            self._send(frame)

    def ack(  # type: ignore[override]
        self,
        id: str,
        subscription: str | int | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Acknowledge message ``id`` (its ``message-id``) of ``subscription``."""
        self._send(
            self.session.ack(id, subscription, transaction, receipt, headers, **keyword_headers)
        )

    def nack(
        self,
        id: str,
        subscription: str | int | None = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Tell the broker message ``id`` of ``subscription`` was not processed."""
        self._send(
            self.session.nack(id, subscription, transaction, receipt, headers, **keyword_headers)
        )


class Protocol12(Protocol11):
    """STOMP 1.2 frames: as 1.1, with ACK/NACK by the MESSAGE's ``ack`` header (``id``),
    a ``host`` header always sent, and CR escaped in headers."""

    version = "1.2"

    @staticmethod
    def is_eol(c: bytes) -> bool:
        """Whether ``c`` is a STOMP 1.2 end of line (LF or CR LF)."""
        return c in (b"\n", b"\r\n")

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
        self._send(
            self.session.ack(id, subscription, transaction, receipt, headers, **keyword_headers)
        )

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
        self._send(
            self.session.nack(id, subscription, transaction, receipt, headers, **keyword_headers)
        )
