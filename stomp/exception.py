"""Exceptions raised by stomp-ng.

The hierarchy matches stomp.py 9.0.0, so ``except stomp.exception.ConnectFailedException``
and friends keep working.  The additions: :class:`FrameError`, which the codec raises for
malformed input or a frame past a size limit; :class:`SendTimeoutException`, for a write
the broker does not take; and those of automatic reconnection and confirmed publishing
(:class:`ReconnectFailedException`, :class:`StaleAckException`,
:class:`TransactionLostException`, :class:`PublishFailedException`).
"""

from __future__ import annotations

from typing import Any


class StompException(Exception):
    """Common base class of every exception raised by this library."""


class ConnectionClosedException(StompException):
    """The peer closed the connection (raised and handled inside the threaded transport;
    the asyncio client raises it from the calls and subscriptions the loss ended, with
    why)."""


class NotConnectedException(StompException):
    """A frame was to be written while the transport has no open socket."""


class SendTimeoutException(StompException, TimeoutError):
    """A frame could not be written in time: the broker took no bytes for the send timeout
    (it stopped reading), or the frames queued past the high-water mark did not drain.

    After a write timed out the connection is closed (listeners get ``on_disconnected``).
    It is a :class:`TimeoutError`, and so an :class:`OSError`.
    """


class ConnectFailedException(StompException):
    """The connection could not be established, or the broker refused it.

    The message says why, on one line: the host, then the broker's reason (the ERROR
    frame's ``message`` header and the first line of its body, which is where RabbitMQ
    tells a wrong password from a missing virtual host) and, where the cause is a common
    one, a hint (no ``vhost`` for RabbitMQ, an HTTP port instead of a STOMP one).

    Attributes:
        frame: the ERROR frame (a :class:`stomp.codec.Frame`) by which the broker refused
            the connection, or ``None`` (it could not be reached, closed the connection, or
            did not answer).  Typed ``Any`` here: the exceptions sit below the codec.
    """

    def __init__(self, *args: Any, frame: Any = None) -> None:
        super().__init__(*args)
        self.frame = frame


class BrokerErrorException(StompException):
    """The broker answered a frame with an ERROR (the asyncio client raises it from the
    call that awaited the frame's receipt).

    Attributes:
        frame: the ERROR frame (its ``message`` header and body say why).
    """

    def __init__(self, frame: Any) -> None:
        message = " ".join(str(frame.headers.get("message") or "ERROR frame").split())
        super().__init__(f"the broker refused {frame.headers.get('receipt-id')!r}: {message}")
        self.frame = frame


class InterruptedException(StompException):
    """A socket read was interrupted and will be retried (internal)."""


class FrameError(StompException, ValueError):
    """A frame could not be decoded or encoded.

    Raised by :class:`stomp.codec.FrameDecoder` for malformed input (a bad command line,
    a header line without a colon, a ``content-length`` that is not a number, a byte after
    a ``content-length`` body that is not NUL) and when a frame exceeds a size limit; and by
    :func:`stomp.codec.encode_frame` for a frame that cannot be put on the wire.

    Attributes:
        reason: what was wrong, in words.
        offset: the position in the byte stream (counted from the first byte ever fed to the
            decoder) where the problem was found, or ``None`` when encoding.
        frames: the complete frames the decoder had decoded in the same ``feed()`` call before
            it met the problem.  They are valid and must still be processed; nothing that
            came before the error is lost.
    """

    def __init__(
        self, reason: str, offset: int | None = None, frames: list[Any] | None = None
    ) -> None:
        self.reason = reason
        self.offset = offset
        self.frames: list[Any] = frames if frames is not None else []
        message = reason if offset is None else f"{reason} (at byte {offset} of the stream)"
        super().__init__(message)


class ReconnectFailedException(ConnectFailedException):
    """Automatic reconnection gave up: its attempts or its time ran out (the message says
    which, and the last error), or ``disconnect()`` was called meanwhile.  Listeners get
    it in ``on_reconnect_failed``; calls waiting for the reconnection raise
    :class:`NotConnectedException` caused by it."""


class StaleAckException(StompException):
    """An ACK or NACK of a message delivered on an earlier connection: that connection is
    gone, and with it what the broker remembered of the delivery (1.2 ack ids belong to one
    connection).  Nothing is sent; the broker delivers the message again, on this
    connection, once it notices the old one is gone."""


class TransactionLostException(StompException):
    """A transaction begun on a connection that was lost: the broker aborted it.  Its
    COMMIT (and any SEND, ACK or NACK in it) raises this; nothing of it is replayed.  ABORT
    of it just forgets it."""


class PublishFailedException(StompException):
    """A confirmed send was not confirmed: the broker answered it with an ERROR (see
    :attr:`frame`), or the connection ended before its receipt came (then the broker may or
    may not have the message).

    Attributes:
        frame: the ERROR frame, or ``None``.
    """

    def __init__(self, *args: Any, frame: Any = None) -> None:
        super().__init__(*args)
        self.frame = frame
