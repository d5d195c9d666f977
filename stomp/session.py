"""The client side of one STOMP connection, without I/O: calls and frames in, frames out.

A :class:`ClientSession` is what a client must know and remember, in one object that has
no socket, no thread and no clock:

* the frames of the client's calls (``connect``, ``send``, ``subscribe``, ``ack`` ...),
  built by the rules of the session's STOMP version, side by side:

  ======================  ===============  ==========================  =================
  rule                    1.0              1.1                         1.2
  ======================  ===============  ==========================  =================
  connect command         CONNECT          STOMP (CONNECT on request)  as 1.1
  ``host`` header         only if given    the vhost, if any           the vhost, else
                                                                       the host
  subscription ``id``     optional         required (generated)        as 1.1
  unsubscribe by          id/destination   id                          id
  ACK/NACK headers        ``message-id``   ``message-id``,             ``id`` (the
                          (no NACK)        ``subscription``            MESSAGE's ``ack``)
  ======================  ===============  ==========================  =================

  (header escaping is the codec's, at encoding time);
* its state, from the frames the driver reports written (:meth:`~ClientSession.sent`)
  and received (:meth:`~ClientSession.received`): where the connection is
  (:class:`State`), the subscriptions, the open transactions, the receipts awaited, the
  heart-beat intervals negotiated, the broker's refusal.

Frames other than SEND have an empty body (``""``), as stomp.py's ``send_frame`` gives
them.  A driver (the threaded transport, later the asyncio client) writes the frames, reports
them, and acts on what :meth:`~ClientSession.received` says: which listener callback a
frame goes to, whether the DISCONNECT receipt arrived (close the socket), which heart-beat
intervals to keep.  Frames are reported after ``on_send`` listeners had their say, so what
is recorded is what went out.

Required arguments that are missing raise ``AssertionError`` with stomp.py's messages (an
explicit ``raise``, so ``python -O`` keeps the check).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Final

from stomp import heartbeat
from stomp.codec import HEARTBEAT_FRAME, Frame
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
    HDR_HEARTBEAT,
    HDR_HOST,
    HDR_ID,
    HDR_LOGIN,
    HDR_MESSAGE_ID,
    HDR_PASSCODE,
    HDR_RECEIPT,
    HDR_SUBSCRIPTION,
    HDR_TRANSACTION,
)
from stomp.exception import StaleAckException, TransactionLostException

__all__ = ["ClientSession", "State", "Subscription", "random_id"]


class State(Enum):
    """Where a connection is."""

    #: No connection (before ``connect()``, after it ended).
    CLOSED = "closed"
    #: The socket is open; CONNECT was (or is about to be) sent, CONNECTED not yet read.
    CONNECTING = "connecting"
    #: CONNECTED arrived.
    CONNECTED = "connected"
    #: DISCONNECT was sent; its receipt is awaited.
    DISCONNECTING = "disconnecting"


class Subscription:
    """An active subscription: what SUBSCRIBE asked for.

    Attributes:
        id: the subscription id (``None`` for a 1.0 subscription without one).
        destination: where the messages come from.
        ack: the ack mode (``auto``, ``client``, ``client-individual``).
        headers: every header of the SUBSCRIBE frame (to subscribe the same way again).
    """

    __slots__ = ("ack", "destination", "headers", "id")

    def __init__(self, id: str | None, destination: str, ack: str, headers: dict[str, Any]):
        self.id = id
        self.destination = destination
        self.ack = ack
        self.headers = headers

    def __repr__(self) -> str:
        return f"Subscription({self.id!r}, {self.destination!r}, ack={self.ack!r})"


# How many acknowledgement keys of lost connections are remembered (oldest forgotten first).
_STALE_LIMIT: Final = 100_000

# Received commands (matched case-insensitively, as stomp.py does) -> listener callback.
_KINDS: Final = {
    "MESSAGE": "message",
    "RECEIPT": "receipt",
    "ERROR": "error",
    "CONNECTED": "connected",
    "HEARTBEAT": "heartbeat",
}


def _require(value: Any, name: str) -> None:
    if value is None:
        raise AssertionError(f"'{name}' is required")


def _merge(headers: Mapping[str, Any] | None, keyword_headers: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(headers) if headers else {}
    if keyword_headers:
        merged.update(keyword_headers)
    return merged


def random_id() -> str:
    """A new random id: a UUID4 as a string (for receipts, transactions, subscriptions)."""
    # uuid is imported on first use: it imports platform, which costs ``import stomp``
    # about 10% of its time.
    import uuid

    return str(uuid.uuid4())


def refusal_reason(frame: Frame) -> str:
    """Why an ERROR frame refuses, on one line: its ``message`` header, and the first line
    of its body when that says more (RabbitMQ: ``Bad CONNECT`` / ``Access refused for
    user 'guest'`` or ``Virtual host '127.0.0.1' access denied``)."""
    message = " ".join(str(frame.headers.get("message") or "").split())
    body = frame.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body).decode("utf-8", "replace")
    lines = [" ".join(line.split()) for line in str(body or "").splitlines()]
    first = next((line for line in lines if line), "")
    if not message:
        return first or "ERROR frame"
    if first and first != message:
        return f"{message} ({first})"
    return message


def refusal_hint(reason: str, vhost: str | None) -> str:
    """What to add to a refusal's :func:`refusal_reason` when its cause is a common one:
    RabbitMQ takes the ``host`` header (1.2 sends the host name when no ``vhost`` is
    given) for the virtual host."""
    if vhost is None and "virtual host" in reason.lower():
        return (
            " - give the virtual host with vhost=... (RabbitMQ's default one: "
            'vhost="/"; without it the host name is sent as the virtual host)'
        )
    return ""


def decoding_version(version: str) -> str:
    """The version whose decoding rules apply to a connection of ``version``.

    STOMP 1.0 has no header escaping, but RabbitMQ escapes 1.0 headers as in 1.1 and
    stomp.py unescapes them in every version: 1.0 frames are decoded with 1.1's rules (same
    line ends; undefined escapes kept verbatim).  Outgoing 1.0 headers stay raw."""
    return "1.1" if version == "1.0" else version


class ClientSession:
    """The state and frame rules of one client connection (see the module docstring).

    Args:
        version: ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        new_id: makes subscription ids, transaction ids and DISCONNECT receipts (default:
            random UUIDs).

    Attributes:
        version: the protocol version of the frames built.
        state: where the connection is (:class:`State`).
        subscriptions: the subscriptions made and not unsubscribed, by id (1.0
            subscriptions without an id under their destination).  They outlive a
            connection (see :meth:`closed`).
        transactions: the ids of the transactions begun and not yet committed or aborted.
        receipts: the receipts awaited, receipt id -> the command that asked for it (or
            what :meth:`expect_receipt` was given).
        disconnect_receipt: the receipt of the DISCONNECT sent last.
        requested_heartbeats: the ``(cx, cy)`` the last CONNECT asked for, in ms.
        heartbeats: the negotiated ``(send, receive)`` in ms (``(0, 0)``: none).
        heart_beat_receive_scale: the grace factor on the receive interval.
        refusal: the ``message`` of an ERROR that came instead of CONNECTED, else ``None``.
        server: the CONNECTED frame's headers (``version``, ``server``, ``session`` ...).
        closing: set by :meth:`received` when the receipt of the last DISCONNECT arrived:
            the driver closes the connection.
        last_receipt: the command the last receipt received answered, if known.
        track_deliveries: remember which messages were delivered on which connection, so
            that an ACK/NACK of one delivered on a connection that was lost raises
            :class:`~stomp.exception.StaleAckException`, and a transaction of a lost
            connection raises :class:`~stomp.exception.TransactionLostException` (set by
            automatic reconnection; off by default, as in stomp.py).
        deliveries: the ack keys (1.2: the ``ack`` header; else the ``message-id``) of the
            messages delivered on this connection to ``client`` and ``client-individual``
            subscriptions and not yet acknowledged (when tracking).
        stale: those of lost connections (when tracking; the latest 100,000).
        lost_transactions: the transactions open when a connection was lost (when
            tracking).
    """

    def __init__(self, version: str = "1.2", new_id: Callable[[], str] = random_id) -> None:
        self.version = version
        self._new_id = new_id
        self.state = State.CLOSED
        self.subscriptions: dict[str, Subscription] = {}
        self.transactions: set[str] = set()
        self.receipts: dict[str, str] = {}
        self.disconnect_receipt: str | None = None
        self.requested_heartbeats: tuple[int, int] = (0, 0)
        self.heartbeats: tuple[int, int] = (0, 0)
        self.heart_beat_receive_scale = 1.5
        self.refusal: str | None = None
        self.server: dict[str, str] = {}
        self.closing = False
        self.last_receipt: str | None = None
        self.track_deliveries = False
        self.deliveries: dict[str, None] = {}
        self.stale: dict[str, None] = {}
        self.lost_transactions: set[str] = set()

    # -- the frames of the client's calls -------------------------------------------------

    def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        headers: Mapping[str, Any] | None = None,
        keyword_headers: Mapping[str, Any] | None = None,
        host: str | None = None,
        vhost: str | None = None,
        with_connect_command: bool = False,
        heartbeats: tuple[int, int] = (0, 0),
    ) -> Frame:
        """CONNECT (1.0) or STOMP (1.1/1.2; CONNECT with ``with_connect_command``).

        Args:
            username, passcode: the ``login`` and ``passcode`` headers (left out if None).
            headers, keyword_headers: extra headers, the latter winning.
            host: the host connected to (1.2's ``host`` header without a vhost).
            vhost: the ``host`` header (1.1 and 1.2), when truthy.
            with_connect_command: 1.1/1.2 send CONNECT instead of STOMP.
            heartbeats: the ``(cx, cy)`` heart-beats to ask for, in ms (1.1 and 1.2; a
                ``heart-beat`` header unless ``(0, 0)``).
        """
        frame_headers = _merge(headers, keyword_headers or {})
        frame_headers[HDR_ACCEPT_VERSION] = self.version
        if self.version != "1.0":
            if vhost:
                frame_headers[HDR_HOST] = vhost
            elif self.version == "1.2" and host is not None:
                frame_headers[HDR_HOST] = host
            if tuple(heartbeats) != (0, 0):
                frame_headers[HDR_HEARTBEAT] = f"{heartbeats[0]},{heartbeats[1]}"
        if username is not None:
            frame_headers[HDR_LOGIN] = username
        if passcode is not None:
            frame_headers[HDR_PASSCODE] = passcode
        if self.version == "1.0" or with_connect_command:
            return Frame(CMD_CONNECT, frame_headers, "")
        return Frame(CMD_STOMP, frame_headers, "")

    def disconnect(
        self, receipt: str | None = None, headers: Mapping[str, Any] | None = None, **kw: Any
    ) -> Frame:
        """DISCONNECT with a receipt (a new one unless ``receipt`` is given)."""
        frame_headers = _merge(headers, kw)
        frame_headers[HDR_RECEIPT] = receipt or self._new_id()
        return Frame(CMD_DISCONNECT, frame_headers, "")

    def send(
        self,
        destination: str,
        body: Any = "",
        content_type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        keyword_headers: dict[str, Any] | None = None,
        auto_content_length: bool = True,
    ) -> Frame:
        """SEND.  ``keyword_headers``, when given, is the caller's own dict and may be
        used as the frame's.  With ``auto_content_length``, a body gets a
        ``content-length`` (its length; the codec writes the byte length) unless one is
        given."""
        if destination is None:
            raise AssertionError("'destination' is required")
        if body is None:
            raise AssertionError("'body' is required")
        if keyword_headers is None:
            keyword_headers = {}
        frame_headers = {**headers, **keyword_headers} if headers else keyword_headers
        frame_headers[HDR_DESTINATION] = destination
        if self.lost_transactions:
            self._check_transaction(frame_headers.get(HDR_TRANSACTION))
        if content_type:
            frame_headers[HDR_CONTENT_TYPE] = content_type
        if auto_content_length and body and HDR_CONTENT_LENGTH not in frame_headers:
            frame_headers[HDR_CONTENT_LENGTH] = len(body)
        return Frame(CMD_SEND, frame_headers, body)

    def subscribe(
        self,
        destination: str,
        id: Any = None,
        ack: str = "auto",
        headers: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Frame:
        """SUBSCRIBE.  On 1.1 and 1.2 an id is generated when none is given; on 1.0 the
        id is optional (left out when falsy)."""
        _require(destination, "destination")
        frame_headers = _merge(headers, kw)
        frame_headers[HDR_DESTINATION] = destination
        if self.version == "1.0":
            if id:
                frame_headers[HDR_ID] = id
        else:
            frame_headers[HDR_ID] = id if id is not None else self._new_id()
        frame_headers[HDR_ACK] = ack
        return Frame(CMD_SUBSCRIBE, frame_headers, "")

    def unsubscribe(
        self,
        id: Any = None,
        destination: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> list[Frame]:
        """UNSUBSCRIBE frames: by ``id``, or by ``destination`` (1.0: in the frame; 1.1 and
        1.2: one frame per active subscription to it).  On 1.1/1.2 a ``destination`` given
        with an id is sent as an extra header, as stomp.py does."""
        if self.version == "1.0":
            if destination is None and id is None:
                raise AssertionError("'id' or 'destination' is required")
            frame_headers = _merge(headers, kw)
            if id:
                frame_headers[HDR_ID] = id
            if destination:
                frame_headers[HDR_DESTINATION] = destination
            return [Frame(CMD_UNSUBSCRIBE, frame_headers, "")]
        if destination is not None:
            kw = {**kw, HDR_DESTINATION: destination}
        if id is None:
            ids = [s.id for s in self.subscriptions.values() if s.destination == destination]
            if destination is None or not ids:
                raise AssertionError("'id' is required")
        else:
            ids = [id]
        frames = []
        for sub_id in ids:
            frame_headers = _merge(headers, kw)
            frame_headers[HDR_ID] = sub_id
            frames.append(Frame(CMD_UNSUBSCRIBE, frame_headers, ""))
        return frames

    def ack(
        self,
        id: Any,
        subscription: Any = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Frame:
        """ACK of a message: ``id`` is its ``message-id`` (1.0, 1.1) or its ``ack``
        header (1.2); 1.1 also needs the ``subscription``."""
        return self._acknowledge(CMD_ACK, id, subscription, transaction, receipt, headers, kw)

    def nack(
        self,
        id: Any,
        subscription: Any = None,
        transaction: str | None = None,
        receipt: str | None = None,
        headers: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Frame:
        """NACK (1.1 and 1.2), with the headers of :meth:`ack`.

        Raises:
            ValueError: on STOMP 1.0, which has no NACK.
        """
        if self.version == "1.0":
            raise ValueError("STOMP 1.0 has no NACK")
        return self._acknowledge(CMD_NACK, id, subscription, transaction, receipt, headers, kw)

    def acknowledge(
        self,
        message: Mapping[str, Any],
        nack: bool = False,
        transaction: str | None = None,
        receipt: str | None = None,
    ) -> Frame:
        """ACK (or NACK) of a received MESSAGE, given its headers: the header each version
        acknowledges by (1.2 ``ack``; 1.1 ``message-id`` and ``subscription``; 1.0
        ``message-id``) is taken from them."""
        if self.version == "1.2":
            id, subscription = message.get(HDR_ACK), None
        else:
            id = message.get(HDR_MESSAGE_ID)
            subscription = message.get(HDR_SUBSCRIPTION) if self.version == "1.1" else None
        method = self.nack if nack else self.ack
        return method(id, subscription, transaction, receipt)

    def _acknowledge(
        self,
        command: str,
        id: Any,
        subscription: Any,
        transaction: str | None,
        receipt: str | None,
        headers: Mapping[str, Any] | None,
        keyword_headers: Mapping[str, Any],
    ) -> Frame:
        _require(id, "id")
        if self.stale and str(id) in self.stale:
            raise StaleAckException(
                f"{command} of {id!r}: that message was delivered on an earlier connection, "
                "which was lost; the broker delivers it again on this one"
            )
        if self.lost_transactions:
            self._check_transaction(transaction)
        frame_headers = _merge(headers, keyword_headers)
        if self.version == "1.2":
            frame_headers[HDR_ID] = id
        else:
            frame_headers[HDR_MESSAGE_ID] = id
            if self.version == "1.1":
                _require(subscription, "subscription")
        if subscription is not None:
            frame_headers[HDR_SUBSCRIPTION] = subscription
        if transaction:
            frame_headers[HDR_TRANSACTION] = transaction
        if receipt:
            frame_headers[HDR_RECEIPT] = receipt
        return Frame(command, frame_headers, "")

    def begin(
        self, transaction: str | None = None, headers: Mapping[str, Any] | None = None, **kw: Any
    ) -> Frame:
        """BEGIN (a new transaction id unless ``transaction`` is given; it is the frame's
        ``transaction`` header)."""
        frame_headers = _merge(headers, kw)
        frame_headers[HDR_TRANSACTION] = transaction or self._new_id()
        self.lost_transactions.discard(str(frame_headers[HDR_TRANSACTION]))
        return Frame(CMD_BEGIN, frame_headers, "")

    def commit(
        self, transaction: str | None, headers: Mapping[str, Any] | None = None, **kw: Any
    ) -> Frame:
        """COMMIT.

        Raises:
            TransactionLostException: it was begun on a connection that was lost.
        """
        if self.lost_transactions and transaction is not None:
            self._check_transaction(transaction)
        return self._end_transaction(CMD_COMMIT, transaction, headers, kw)

    def abort(
        self, transaction: str | None, headers: Mapping[str, Any] | None = None, **kw: Any
    ) -> Frame:
        """ABORT."""
        return self._end_transaction(CMD_ABORT, transaction, headers, kw)

    def forget_lost_transaction(self, transaction: Any) -> bool:
        """Whether ``transaction`` was lost with a connection (it is forgotten then: an
        ABORT of it has nothing to abort)."""
        if transaction is not None and str(transaction) in self.lost_transactions:
            self.lost_transactions.discard(str(transaction))
            return True
        return False

    def _check_transaction(self, transaction: Any) -> None:
        if transaction is not None and str(transaction) in self.lost_transactions:
            raise TransactionLostException(
                f"transaction {transaction!r} was begun on a connection that was lost: the "
                "broker aborted it (nothing of it is replayed); begin a new one"
            )

    def _end_transaction(
        self,
        command: str,
        transaction: str | None,
        headers: Mapping[str, Any] | None,
        keyword_headers: Mapping[str, Any],
    ) -> Frame:
        _require(transaction, "transaction")
        frame_headers = _merge(headers, keyword_headers)
        frame_headers[HDR_TRANSACTION] = transaction
        return Frame(command, frame_headers, "")

    # -- what the driver reports ------------------------------------------------------------

    def opened(self) -> None:
        """A connection opened: CONNECT is about to be sent.  What the previous
        connection left (receipts, refusal, negotiation) is forgotten."""
        self.state = State.CONNECTING
        self.receipts.clear()
        self.disconnect_receipt = None
        self.refusal = None
        self.server = {}
        self.closing = False
        self.heartbeats = (0, 0)

    def closed(self) -> None:
        """The connection ended.  Receipts can no longer come, and the broker has aborted
        the open transactions.  :attr:`subscriptions` stay: they are what the client
        asked for, which a new connection may subscribe again."""
        self.state = State.CLOSED
        self.receipts.clear()
        if self.track_deliveries:
            stale = self.stale
            stale.update(self.deliveries)
            self.deliveries.clear()
            for key in list(itertools.islice(stale, max(0, len(stale) - _STALE_LIMIT))):
                del stale[key]
            self.lost_transactions |= self.transactions
        self.transactions.clear()
        self.heartbeats = (0, 0)

    def expect_receipt(self, receipt_id: str, value: Any) -> None:
        """Await ``receipt_id`` (truthy ``value``: what it is for) or stop awaiting it."""
        if value:
            self.receipts[receipt_id] = value
        else:
            self.receipts.pop(receipt_id, None)

    def sent(self, frame: Frame) -> None:
        """``frame`` was handed to the connection: record what it changes."""
        cmd = frame.cmd
        if cmd is None:  # a heart-beat
            return
        headers = frame.headers
        receipt = headers.get(HDR_RECEIPT)
        if receipt is not None:
            self.receipts[str(receipt)] = cmd
        if cmd == CMD_SEND:
            return
        if cmd in (CMD_ACK, CMD_NACK):
            if self.deliveries:
                key = headers.get(HDR_ID if self.version == "1.2" else HDR_MESSAGE_ID)
                self.deliveries.pop(str(key), None)
        elif cmd in (CMD_CONNECT, CMD_STOMP):
            self.state = State.CONNECTING
            try:
                self.requested_heartbeats = heartbeat.parse(headers.get(HDR_HEARTBEAT))
            except ValueError:
                self.requested_heartbeats = (0, 0)
        elif cmd == CMD_DISCONNECT:
            self.state = State.DISCONNECTING
            self.disconnect_receipt = None if receipt is None else str(receipt)
        elif cmd == CMD_SUBSCRIBE:
            sub_id = headers.get(HDR_ID)
            destination = str(headers.get(HDR_DESTINATION, ""))
            key = str(sub_id) if sub_id is not None else destination
            self.subscriptions[key] = Subscription(
                None if sub_id is None else str(sub_id),
                destination,
                headers.get(HDR_ACK, "auto"),
                dict(headers),
            )
        elif cmd == CMD_UNSUBSCRIBE:
            sub_id = headers.get(HDR_ID)
            if sub_id is not None:
                self.subscriptions.pop(str(sub_id), None)
            elif self.version == "1.0":
                gone = str(headers.get(HDR_DESTINATION, ""))
                for key in [k for k, s in self.subscriptions.items() if s.destination == gone]:
                    del self.subscriptions[key]
        elif cmd == CMD_BEGIN:
            self.transactions.add(str(headers.get(HDR_TRANSACTION)))
        elif cmd in (CMD_COMMIT, CMD_ABORT):
            self.transactions.discard(str(headers.get(HDR_TRANSACTION)))

    def received(self, frame: Frame) -> str | None:
        """``frame`` was received: apply it, and return the listener callback it goes to
        (``"message"``, ``"receipt"``, ``"error"``, ``"connected"``, ``"heartbeat"``),
        or ``None`` for a command a client does not expect.

        After CONNECTED, :attr:`heartbeats` holds the negotiated intervals; after a
        receipt, :attr:`last_receipt` names what it answered and :attr:`closing` says
        whether it was the last DISCONNECT's; after an ERROR that came instead of
        CONNECTED, :attr:`refusal` holds its ``message``.
        """
        cmd = frame.cmd
        if cmd == "MESSAGE":
            if self.track_deliveries:
                self._delivered(frame.headers)
            return "message"
        if frame is HEARTBEAT_FRAME:
            return "heartbeat"
        kind = _KINDS.get(cmd) if cmd else None
        if kind is None and cmd:
            kind = _KINDS.get(cmd.upper())
        if kind == "receipt":
            receipt_id = frame.headers.get("receipt-id")
            self.last_receipt = self.receipts.pop(receipt_id, None) if receipt_id else None
            if receipt_id is not None and receipt_id == self.disconnect_receipt:
                self.closing = True
                self.state = State.CLOSED
        elif kind == "connected":
            self.state = State.CONNECTED
            self.refusal = None
            self.server = dict(frame.headers)
            self.heartbeats = self._negotiate(frame.headers.get(HDR_HEARTBEAT))
        elif kind == "error" and self.state is State.CONNECTING:
            self.refusal = frame.headers.get("message") or "ERROR frame"
        return kind

    def _delivered(self, headers: dict[str, Any]) -> None:
        # A MESSAGE arrived: remember its ack key if its subscription acknowledges by hand.
        sub_id = headers.get(HDR_SUBSCRIPTION)
        subscription = self.subscriptions.get(
            sub_id if sub_id is not None else headers.get(HDR_DESTINATION, "")
        )
        if subscription is None or subscription.ack == "auto":
            return
        key = headers.get(HDR_ACK if self.version == "1.2" else HDR_MESSAGE_ID)
        if key is not None:
            self.deliveries[key] = None
            self.stale.pop(key, None)  # delivered again, here: acknowledgeable

    def _negotiate(self, header: Any) -> tuple[int, int]:
        if header is None or self.version == "1.0":
            return (0, 0)
        try:
            server = heartbeat.parse(header)
        except ValueError:
            return (0, 0)
        return heartbeat.negotiate(self.requested_heartbeats, server)

    @property
    def heartbeat_timing(self) -> tuple[float, float]:
        """The negotiated intervals as the heart-beater keeps them, in seconds: send a
        heart-beat after ``send`` idle seconds; the broker is dead after ``receive``
        silent seconds (the receive interval times :attr:`heart_beat_receive_scale`)."""
        send, receive = self.heartbeats
        return send / 1000, receive / 1000 * self.heart_beat_receive_scale
