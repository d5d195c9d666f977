"""The brokers the connection-layer integration tests run against, and how they differ.

Each :class:`BrokerTarget` says where a broker listens, how to log in, which STOMP
versions it speaks and what it does differently from the others (its
:class:`Quirks`).  ``tests/integration/test_connections.py`` is parametrised over
:data:`TARGETS`; adding a broker (the project's embedded broker, say) means adding one
entry here, plus, if it must be started, the fixture named in its ``fixture`` field.

Every quirk below was observed on the broker itself (RabbitMQ 3.10.8 with
rabbitmq_stomp, ActiveMQ Classic 5.17.2 as configured by ``scripts/brokers``); the
comments say how.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brokerinfo import ACTIVEMQ, EMBEDDED, RABBITMQ, Broker

VERSIONS = ("1.0", "1.1", "1.2")


def escape_11(value: str) -> str:
    """STOMP 1.1 header-value escaping (backslash first)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c")


def unescape_11(value: str) -> str:
    """Undo :func:`escape_11`, left to right; unknown escapes are kept verbatim."""
    out, i = [], 0
    table = {"\\": "\\", "n": "\n", "c": ":"}
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in table:
            out.append(table[value[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def unchanged(value: str) -> str:
    """A header value that round-trips as is (for ``Quirks.header_value_on_10``)."""
    return value


@dataclass(frozen=True)
class Quirks:
    """What a broker does where brokers legitimately differ.

    Attributes:
        server_prefix: start of the CONNECTED ``server`` header.
        message_id: regular expression a MESSAGE's ``message-id`` matches.
        ack_is_message_id: in 1.2, whether the MESSAGE's ``ack`` header equals its
            ``message-id`` (otherwise it is a separate token).
        header_value_on_10: what a header value sent on a STOMP 1.0 connection comes back
            as on a 1.0 MESSAGE, after the client's 1.1-style unescaping (1.0 has no
            escaping; brokers still apply some).
        nack_outcome: ``(persistent) -> "redeliver" | "dead-letter" | "discard"``.
        dead_letter_queue: where dead letters go (``None``: the broker has none).
        percent_encodes_destination: the MESSAGE's ``destination`` has non-ASCII
            characters percent-encoded (``/queue/é`` -> ``/queue/%C3%A9``).
        rejects_slash_in_names: ``/queue/a/b`` is refused with an ERROR frame.
        copies_receipt_header: a SEND's ``receipt`` header is copied into the MESSAGE.
        added_message_headers: headers the broker adds to every MESSAGE besides the
            STOMP ones (``destination``, ``message-id``, ``subscription``, ``ack``,
            ``content-length``).
        transactional_receipts_at_commit: the RECEIPT of a SEND inside a transaction is
            held until COMMIT (and never sent on ABORT) instead of being sent at once.
        refuses_unknown_vhost: CONNECT with a ``host`` header naming no virtual host of
            the broker is refused with an ERROR (``127.0.0.1``, which a 1.2 connection
            without ``vhost`` sends, included).
        implicit_temp_queue_subscription: a SEND with ``reply-to:/temp-queue/x``
            subscribes the sender to its replies (subscription id ``/temp-queue/x``);
            otherwise the sender subscribes to ``/temp-queue/x`` itself.
        closes_on_unknown_command: a frame with an unknown command gets an ERROR and
            the broker closes the connection (otherwise it stays open).
        marks_redelivered: a redelivered MESSAGE carries ``redelivered:true``.
        heartbeat_granularity_ms: the broker's CONNECTED ``heart-beat`` answer is the
            client's request swapped (``cx,cy`` -> ``cy,cx``), each value rounded up to a
            multiple of this.
        first_heartbeat_after: when heart-beats of 1 s are negotiated, the delay before
            the broker's first heart-beat, in intervals.
        header_cr_on_11: what a header value containing CR, sent raw on a STOMP 1.1
            connection (1.1 has no escape for CR), comes back as on a 1.1 MESSAGE;
            ``None``: the broker closes the connection, without an ERROR frame.
        closes_after_refused_login: after the ERROR refusing a CONNECT with bad
            credentials the broker closes the socket (otherwise it keeps it open).
    """

    server_prefix: str
    message_id: str
    ack_is_message_id: bool
    header_value_on_10: Callable[[str], str]
    nack_outcome: Callable[[bool], str]
    dead_letter_queue: str | None
    percent_encodes_destination: bool
    rejects_slash_in_names: bool
    copies_receipt_header: bool
    added_message_headers: frozenset[str]
    transactional_receipts_at_commit: bool
    refuses_unknown_vhost: bool
    implicit_temp_queue_subscription: bool
    closes_on_unknown_command: bool
    marks_redelivered: bool
    heartbeat_granularity_ms: int
    first_heartbeat_after: float
    header_cr_on_11: Callable[[str], str] | None = unchanged
    closes_after_refused_login: bool = True


@dataclass(frozen=True)
class BrokerTarget:
    """A broker the tests run against.

    Attributes:
        name: shown in test ids (lower-cased) and messages.
        fixture: the conftest fixture that makes sure the broker is up (skip locally, fail
            in CI) and returns its ``(host, port)``.
        info: host, port, credentials and the ``host`` header value (vhost).
        quirks: see :class:`Quirks`.
        versions: the STOMP versions to test against it.
        extra_connection_kwargs: constructor keywords every connection to it needs.
    """

    name: str
    fixture: str
    info: Broker
    quirks: Quirks
    versions: tuple[str, ...] = VERSIONS
    extra_connection_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.info.host

    @property
    def port(self) -> int:
        return self.info.port

    @property
    def login(self) -> str:
        return self.info.login

    @property
    def passcode(self) -> str:
        return self.info.passcode

    def connection_kwargs(self, version: str) -> dict[str, Any]:
        """Constructor keywords for a connection of ``version`` (``vhost`` from 1.1 on:
        a 1.2 connection otherwise sends ``host:127.0.0.1``, which RabbitMQ refuses as an
        unknown vhost; 1.0 has no ``vhost`` parameter)."""
        kwargs = dict(self.extra_connection_kwargs)
        if version != "1.0" and self.info.vhost:
            kwargs["vhost"] = self.info.vhost
        return kwargs

    def __str__(self) -> str:
        return self.name


RABBITMQ_TARGET = BrokerTarget(
    name="RabbitMQ",
    fixture="rabbitmq_stomp",
    info=RABBITMQ,
    quirks=Quirks(
        server_prefix="RabbitMQ/",
        # T_<subscription id>@@<session>@@<n>; Q_<destination>@@... for a 1.0 subscription
        # without id.
        message_id=r"^[TQ]_.+@@session-[\w-]+@@\d+$",
        ack_is_message_id=True,
        # RabbitMQ unescapes and escapes header values on 1.0 connections too, as if they
        # were 1.1: "a:b" is sent back as "a\cb" (raw on the wire, 1.0 has no escaping);
        # and it strips leading (not trailing) spaces of 1.0 values.
        header_value_on_10=lambda value: unescape_11(value.lstrip(" ")),
        # NACK requeues by default (header requeue:true): redelivered, redelivered:true.
        nack_outcome=lambda persistent: "redeliver",
        dead_letter_queue=None,
        percent_encodes_destination=True,
        # "'/a/b' is not a valid queue destination" (ERROR, connection kept open).
        rejects_slash_in_names=True,
        copies_receipt_header=True,
        added_message_headers=frozenset({"redelivered"}),
        transactional_receipts_at_commit=True,
        # "Bad CONNECT" ERROR, then the socket is closed.
        refuses_unknown_vhost=True,
        # The responder sees reply-to:/reply-queue/amq.gen-...; the reply comes back with
        # subscription:/temp-queue/x, an id the client never created.
        implicit_temp_queue_subscription=True,
        # ERROR "Bad command"; the connection stays open.
        closes_on_unknown_command=False,
        marks_redelivered=True,
        # Whole seconds: a request of 500,500 is answered 1000,1000.
        heartbeat_granularity_ms=1000,
        # Sends a heart-beat every half interval from the start.
        first_heartbeat_after=0.5,
        # A raw CR in a 1.1 header value (x-cr:a<CR>b): the connection is closed without
        # an ERROR frame and the SEND is lost.
        header_cr_on_11=None,
        # "Bad CONNECT" / "Access refused for user 'guest'", then the socket stays open
        # (seen with a raw socket for 8 s, all versions).
        closes_after_refused_login=False,
    ),
)

ACTIVEMQ_TARGET = BrokerTarget(
    name="ActiveMQ",
    fixture="activemq_stomp",
    info=ACTIVEMQ,
    quirks=Quirks(
        server_prefix="ActiveMQ/",
        # ID:<host>-<port>-<start time>-<n>:<connection>:-1:1:<n> (a JMS message id).
        message_id=r"^ID:[\w.-]+-\d+-\d+-\d+:\d+:-?\d+:\d+:\d+$",
        # The 1.2 ack header is a separate token, ID:<host>-...:<n>.
        ack_is_message_id=False,
        # ActiveMQ unescapes incoming 1.0 header values but writes 1.0 values raw:
        # "a:b" round-trips, "a\cb" comes back as "a:b"; it strips spaces around 1.0
        # values.
        header_value_on_10=lambda value: unescape_11(unescape_11(value.strip(" "))),
        # NACK is a "poison ack": the message goes to the dead-letter queue, but the
        # default dead-letter strategy drops non-persistent messages (the STOMP default:
        # SEND is non-persistent unless persistent:true).
        nack_outcome=lambda persistent: "dead-letter" if persistent else "discard",
        dead_letter_queue="/queue/ActiveMQ.DLQ",
        percent_encodes_destination=False,
        rejects_slash_in_names=False,
        copies_receipt_header=False,
        added_message_headers=frozenset({"expires", "priority", "timestamp"}),
        # redelivered:true is added on redelivery only.
        transactional_receipts_at_commit=False,
        # The host header is ignored.
        refuses_unknown_vhost=False,
        # The responder sees reply-to:/remote-temp-queue/ID:...; nothing comes back unless
        # the requester subscribed to /temp-queue/x.
        implicit_temp_queue_subscription=False,
        # ERROR "Unknown STOMP action: ..." (with the frame's receipt-id), then closes.
        closes_on_unknown_command=True,
        marks_redelivered=True,
        heartbeat_granularity_ms=1,
        # The inactivity monitor's first write check runs after 2 intervals, then one
        # heart-beat every interval.
        first_heartbeat_after=2.0,
        # A raw CR in a 1.1 header value is kept and written back raw.
        header_cr_on_11=unchanged,
        closes_after_refused_login=True,
    ),
)

#: stomp-ng's embedded broker (stomp.broker, see docs/broker.rst for its choices).
EMBEDDED_TARGET = BrokerTarget(
    name="Embedded",
    fixture="embedded_stomp",
    info=EMBEDDED,
    quirks=Quirks(
        server_prefix="stomp-ng-broker/",
        message_id=r"^[0-9a-f]{8}-\d+$",
        ack_is_message_id=False,
        # 1.0 values are kept raw both ways; the client reads them with 1.1 unescaping.
        header_value_on_10=unescape_11,
        # NACK requeues at the front of the queue, marked redelivered; no dead letters.
        nack_outcome=lambda persistent: "redeliver",
        dead_letter_queue=None,
        percent_encodes_destination=False,
        rejects_slash_in_names=False,
        copies_receipt_header=False,
        added_message_headers=frozenset(),
        transactional_receipts_at_commit=False,
        refuses_unknown_vhost=False,
        implicit_temp_queue_subscription=False,
        # Every ERROR closes the connection.
        closes_on_unknown_command=True,
        marks_redelivered=True,
        heartbeat_granularity_ms=1,
        # Sends a beat after half an interval of silence.
        first_heartbeat_after=0.5,
        header_cr_on_11=unchanged,
        closes_after_refused_login=True,
    ),
)

#: The parametrisation of the connection tests: one entry per broker.
TARGETS: tuple[BrokerTarget, ...] = (RABBITMQ_TARGET, ACTIVEMQ_TARGET, EMBEDDED_TARGET)


def matches_message_id(target: BrokerTarget, message_id: str) -> bool:
    """Whether ``message_id`` has the broker's message-id format."""
    return re.match(target.quirks.message_id, message_id) is not None


__all__ = [
    "ACTIVEMQ_TARGET",
    "EMBEDDED_TARGET",
    "RABBITMQ_TARGET",
    "TARGETS",
    "VERSIONS",
    "BrokerTarget",
    "Quirks",
    "escape_11",
    "matches_message_id",
    "unchanged",
    "unescape_11",
]
