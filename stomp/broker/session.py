"""The STOMP session of one client connection: what each client frame does.

A :class:`Session` receives the decoded frames of one connection, in order, and applies
them: CONNECT negotiation, SEND and SUBSCRIBE through the
:class:`~stomp.broker.destinations.Router`, acknowledgements, transactions, receipts.  A
frame that breaks the protocol raises :class:`ProtocolError` inside; the session turns it
into an ERROR and has the connection closed.  It writes through its :class:`Link` (the
socket side, ``connection.py``) and never touches a socket itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Protocol

from stomp.broker.destinations import ACK_MODES, Message, QueueFull, Router, Subscription
from stomp.broker.handshake import (
    HandshakeError,
    Settings,
    check_login,
    check_virtual_host,
    heartbeat_intervals,
    negotiate_version,
    parse_heartbeat,
)
from stomp.codec import Frame, body_bytes, encode_frame
from stomp.exception import FrameError
from stomp.log import mask_passcode

__all__ = ["Link", "ProtocolError", "Session", "describe"]

log = logging.getLogger("stomp.py.broker")

# SEND headers that are the broker's business, not passed on in MESSAGE frames.
_NOT_FORWARDED = frozenset(
    {"receipt", "transaction", "content-length", "message-id", "subscription", "ack", "redelivered"}
)


class ProtocolError(Exception):
    """A client frame breaks the protocol: answered with ERROR, then the connection closes."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class Link(Protocol):
    """What a session needs from its connection."""

    peer: str

    def use_version(self, version: str) -> None:
        """Decode and encode by ``version``'s rules from now on."""

    def opened(self, send_interval: float, receive_timeout: float) -> None:
        """CONNECT was accepted: start the heart-beat timers (seconds; 0: none)."""

    def send_frame(self, frame: Frame) -> None:
        """Encode and queue a frame."""

    def send_bytes(self, data: bytes) -> None:
        """Queue encoded bytes."""

    def can_accept(self) -> bool:
        """Whether the connection takes more messages now."""

    def fail(
        self,
        message: str,
        detail: str = "",
        receipt: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Send an ERROR frame, then close."""

    def close_gracefully(self) -> None:
        """Flush what is queued, then close."""


class _Transaction:
    # An open transaction: what COMMIT applies, in order, and what its SENDs hold.
    __slots__ = ("held", "operations", "queued")

    def __init__(self) -> None:
        self.operations: list[Callable[[], None]] = []
        self.held = 0  # message bytes held by its SENDs
        self.queued: dict[str, int] = {}  # the sizes of its SENDs, by destination


class Session:
    """The STOMP state of one connection: version, subscriptions, transactions.

    Args:
        link: the connection.
        router: the broker's destinations.
        settings: the broker's settings.
        session_id: the CONNECTED frame's ``session`` header.
    """

    def __init__(self, link: Link, router: Router, settings: Settings, session_id: str) -> None:
        self.link = link
        self.router = router
        self.settings = settings
        self.session_id = session_id
        #: The negotiated version (1.0 rules until CONNECT is answered).
        self.version = "1.0"
        #: Whether CONNECT was accepted.
        self.connected = False
        self.login: str | None = None
        self.subscriptions: dict[str, Subscription] = {}
        self.transactions: dict[str, _Transaction] = {}
        self._handlers: dict[str, Callable[[Frame], None]] = {
            "SEND": self._on_send,
            "SUBSCRIBE": self._on_subscribe,
            "UNSUBSCRIBE": self._on_unsubscribe,
            "ACK": self._on_ack,
            "BEGIN": self._on_begin,
            "COMMIT": self._on_commit,
            "ABORT": self._on_abort,
            "DISCONNECT": self._on_disconnect,
        }

    # -- what the connection calls -------------------------------------------------------

    def release(self) -> None:
        """Abort open transactions and drop the subscriptions (their unacknowledged queue
        messages go back to their queues).  Safe to call more than once."""
        self.transactions.clear()
        subscriptions = list(self.subscriptions.values())
        self.subscriptions.clear()
        for subscription in subscriptions:
            self.router.unsubscribe(subscription)

    def wake(self) -> None:
        """The connection takes messages again: let its queues dispatch."""
        for subscription in list(self.subscriptions.values()):
            self.router.wake(subscription)

    # -- what subscriptions call (the Consumer interface) ---------------------------------

    def can_accept(self) -> bool:
        """Whether a queue may give this session a message now."""
        return self.connected and self.link.can_accept()

    def deliver(self, subscription: Subscription, message: Message, ack_id: str | None) -> None:
        """Write the MESSAGE frame of one delivery."""
        headers = dict(message.headers)
        headers["destination"] = message.destination
        headers["message-id"] = message.message_id
        if subscription.sub_id is not None:
            headers["subscription"] = subscription.sub_id
        if ack_id is not None and self.version == "1.2":
            headers["ack"] = ack_id
        if message.redelivered:
            headers["redelivered"] = "true"
        headers["content-length"] = ""  # the encoder writes the body's real length
        frame = Frame("MESSAGE", headers, message.body)
        try:
            data = encode_frame(frame, self.version)
        except FrameError:
            # A 1.0 frame cannot carry line ends in headers that a 1.1+ sender escaped:
            # leave those headers out rather than lose the message.
            frame.headers = {
                name: value
                for name, value in headers.items()
                if not any(c in name + value for c in "\r\n") and ":" not in name
            }
            data = encode_frame(frame, self.version)
        self.link.send_bytes(data)

    # -- frames in --------------------------------------------------------------------------

    def handle(self, frame: Frame) -> None:
        """Apply one client frame (heart-beats excluded)."""
        cmd = frame.cmd or ""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s -> %s", self.link.peer, describe(frame))
        receipt = frame.headers.get("receipt")
        try:
            if not self.connected:
                if cmd not in ("CONNECT", "STOMP"):
                    raise ProtocolError(
                        f"Expected CONNECT, not {cmd}", "The first frame must be CONNECT or STOMP."
                    )
                self._on_connect(frame)
                return  # no RECEIPT for CONNECT
            handler = self._handlers.get(cmd)
            if handler is None:
                if cmd == "NACK" and self.version != "1.0":
                    handler = self._on_nack
                elif cmd in ("CONNECT", "STOMP"):
                    raise ProtocolError("Already connected", f"A second {cmd} frame.")
                else:
                    raise ProtocolError(f"Unknown command {cmd}", _UNKNOWN_DETAIL)
            if frame.body and cmd != "SEND" and self.version != "1.0":
                raise ProtocolError(f"{cmd} frame with a body", "Only SEND frames may have a body.")
            handler(frame)
        except ProtocolError as exc:
            self.link.fail(exc.message, exc.detail, receipt)
            return
        if receipt is not None:
            self.link.send_frame(Frame("RECEIPT", {"receipt-id": receipt}))
        if cmd == "DISCONNECT":
            self.link.close_gracefully()

    def _on_connect(self, frame: Frame) -> None:
        headers = frame.headers
        settings = self.settings
        try:
            version = negotiate_version(headers.get("accept-version"), settings.versions)
            # A refusal after this point is written with the negotiated version's rules.
            self.version = version
            self.link.use_version(version)
            login = headers.get("login")
            check_login(login, headers.get("passcode"), settings)
            check_virtual_host(headers.get("host"), settings)
            client_beats = (
                parse_heartbeat(headers.get("heart-beat")) if version != "1.0" else (0, 0)
            )
        except HandshakeError as exc:
            log.info("%s: CONNECT refused: %s", self.link.peer, exc.message)
            self.link.fail(exc.message, exc.detail, extra=exc.headers)
            return
        self.login = login
        send_ms, receive_ms, offer = heartbeat_intervals(client_beats, settings)
        reply = {"session": self.session_id, "server": settings.server}
        if version != "1.0":
            reply["version"] = version
            reply["heart-beat"] = offer
        self.connected = True
        self.link.send_frame(Frame("CONNECTED", reply))
        self.link.opened(send_ms / 1000, receive_ms / 1000 * settings.heartbeat_grace)
        log.debug(
            "%s: connected (STOMP %s, login %r, heart-beats out %d ms, in %d ms)",
            self.link.peer,
            version,
            login,
            send_ms,
            receive_ms,
        )

    def _on_send(self, frame: Frame) -> None:
        headers = frame.headers
        destination = _require(frame, "destination")
        kept = {name: value for name, value in headers.items() if name not in _NOT_FORWARDED}
        body = body_bytes(frame.body)
        message = self.router.new_message(destination, kept, body)
        name = headers.get("transaction")
        if name is None:
            try:
                self.router.send(message)
            except QueueFull as exc:
                raise ProtocolError(_QUEUE_FULL, str(exc)) from None
            return
        transaction = self._transaction(name)
        held = transaction.held + len(body)
        limit = self.settings.max_transaction_bytes
        if held > limit:
            raise ProtocolError(
                "Transaction too large (max_transaction_bytes)",
                f"Transaction {name!r} would hold {held} bytes of messages; the limit "
                f"of this broker (max_transaction_bytes) is {limit}.",
            )
        transaction.held = held
        transaction.queued[destination] = transaction.queued.get(destination, 0) + message.size
        transaction.operations.append(functools.partial(self.router.send, message))

    def _on_subscribe(self, frame: Frame) -> None:
        headers = frame.headers
        destination = _require(frame, "destination")
        sub_id = headers.get("id")
        if sub_id is None and self.version != "1.0":
            raise ProtocolError("Missing id header", "SUBSCRIBE needs an id in STOMP 1.1 and 1.2.")
        key = sub_id if sub_id is not None else destination
        limit = self.settings.max_subscriptions
        if len(self.subscriptions) >= limit and key not in self.subscriptions:
            raise ProtocolError(
                "Too many subscriptions (max_subscriptions)",
                f"This connection holds {len(self.subscriptions)} subscriptions; the limit of "
                f"this broker (max_subscriptions) is {limit}.",
            )
        if key in self.subscriptions:
            raise ProtocolError(
                "Duplicate subscription", f"This connection already has subscription {key!r}."
            )
        ack_mode = headers.get("ack", "auto")
        if ack_mode not in ACK_MODES:
            raise ProtocolError(
                "Invalid ack mode", f"ack must be auto, client or client-individual: {ack_mode!r}."
            )
        prefetch_text = headers.get("prefetch-count", headers.get("activemq.prefetchSize", "0"))
        if not (prefetch_text.isdigit() and prefetch_text.isascii()):
            raise ProtocolError(
                "Invalid prefetch-count", f"Expected a non-negative integer: {prefetch_text!r}."
            )
        subscription = Subscription(self, key, sub_id, destination, ack_mode, int(prefetch_text))
        self.subscriptions[key] = subscription
        self.router.subscribe(subscription)

    def _on_unsubscribe(self, frame: Frame) -> None:
        headers = frame.headers
        sub_id = headers.get("id")
        if sub_id is not None:
            subscription = self.subscriptions.pop(sub_id, None)
            if subscription is None:
                raise ProtocolError(
                    "Unknown subscription", f"No subscription {sub_id!r} on this connection."
                )
            self.router.unsubscribe(subscription)
            return
        destination = headers.get("destination")
        if self.version != "1.0" or destination is None:
            raise ProtocolError("Missing id header", "UNSUBSCRIBE needs the subscription id.")
        matching = [s for s in self.subscriptions.values() if s.destination == destination]
        if not matching:
            raise ProtocolError(
                "Unknown subscription", f"No subscription to {destination!r} on this connection."
            )
        for subscription in matching:
            del self.subscriptions[subscription.key]
            self.router.unsubscribe(subscription)

    def _on_ack(self, frame: Frame) -> None:
        self._settle(frame, self.router.ack)

    def _on_nack(self, frame: Frame) -> None:
        self._settle(frame, self.router.nack)

    def _settle(self, frame: Frame, action: Callable[[Subscription, str], None]) -> None:
        subscription, ack_id = self._locate(frame)
        transaction = frame.headers.get("transaction")
        if transaction is None:
            action(subscription, ack_id)
        else:
            # Checked now, applied at COMMIT (a no-op then if it was settled meanwhile).
            operation = functools.partial(action, subscription, ack_id)
            self._transaction(transaction).operations.append(operation)

    def _locate(self, frame: Frame) -> tuple[Subscription, str]:
        # Find the unacknowledged delivery an ACK/NACK names: by the MESSAGE's ack header in
        # 1.2, by message-id (and subscription, when given) in 1.0 and 1.1.
        headers = frame.headers
        if self.version == "1.2":
            ack_id = _require(frame, "id")
            for subscription in self.subscriptions.values():
                if ack_id in subscription.unacked:
                    return subscription, ack_id
            raise ProtocolError(f"{frame.cmd} for an unknown id", _unknown_ack(ack_id))
        message_id = _require(frame, "message-id")
        sub_id = headers.get("subscription")
        if sub_id is None:
            candidates = list(self.subscriptions.values())
        elif sub_id in self.subscriptions:
            candidates = [self.subscriptions[sub_id]]
        else:
            raise ProtocolError(
                "Unknown subscription", f"No subscription {sub_id!r} on this connection."
            )
        for subscription in candidates:
            found = subscription.ack_id_of(message_id)
            if found is not None:
                return subscription, found
        raise ProtocolError(f"{frame.cmd} for an unknown message-id", _unknown_ack(message_id))

    def _on_begin(self, frame: Frame) -> None:
        transaction = _require(frame, "transaction")
        if transaction in self.transactions:
            raise ProtocolError(
                "Duplicate transaction", f"Transaction {transaction!r} is already open."
            )
        self.transactions[transaction] = _Transaction()

    def _on_commit(self, frame: Frame) -> None:
        name = _require(frame, "transaction")
        transaction = self._transaction(name)
        # All or nothing: every queue must have room for the whole transaction first.
        for destination, size in transaction.queued.items():
            try:
                self.router.check_room(destination, size)
            except QueueFull as exc:
                raise ProtocolError(
                    _QUEUE_FULL, f"Transaction {name!r} is not committed (nothing of it is): {exc}"
                ) from None
        del self.transactions[name]
        for operation in transaction.operations:
            operation()

    def _on_abort(self, frame: Frame) -> None:
        name = _require(frame, "transaction")
        self._transaction(name)
        del self.transactions[name]

    def _on_disconnect(self, frame: Frame) -> None:
        self.release()

    def _transaction(self, name: str) -> _Transaction:
        transaction = self.transactions.get(name)
        if transaction is None:
            raise ProtocolError("Unknown transaction", f"No open transaction {name!r}.")
        return transaction


_QUEUE_FULL = "Queue full (max_queue_bytes)"

_UNKNOWN_DETAIL = (
    "Commands after CONNECT: SEND, SUBSCRIBE, UNSUBSCRIBE, BEGIN, COMMIT, ABORT, ACK, "
    "NACK (STOMP 1.1 and 1.2) and DISCONNECT."
)


def _unknown_ack(ack_id: str) -> str:
    return (
        f"No unacknowledged message {ack_id!r} on this connection: it was acknowledged "
        "already, its subscription acknowledges automatically or has ended, or it was "
        "never delivered here."
    )


def _require(frame: Frame, name: str) -> str:
    value = frame.headers.get(name)
    if value is None:
        raise ProtocolError(f"Missing {name} header", f"A {frame.cmd} frame needs a {name} header.")
    return str(value)


def describe(frame: Frame) -> str:
    """A frame for the debug log: its headers with the passcode hidden, and the body's size."""
    headers = mask_passcode(frame.headers)
    size = len(frame.body) if frame.body is not None else 0
    return f"{frame.cmd} {headers} ({size} body bytes)"
