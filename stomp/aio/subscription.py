"""Subscriptions of the asyncio client and the messages taken from them."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from stomp.codec import Frame
from stomp.codec.decode import _accelerator
from stomp.exception import ConnectionClosedException

if TYPE_CHECKING:
    from stomp.aio.connection import Connection
    from stomp.aio.transaction import Transaction

    _BufferBase = object
    _MessageBase = object
else:
    # With the C accelerator, the buffer and ``__anext__`` come from its BufferBase:
    # ``async for`` takes a buffered message without making a coroutine for it, and calls
    # ``_next()`` only when it must wait (or reading is held).  Without it, ``__anext__`` is
    # ``_next``.  A message's frame attributes and subscription are then C fields
    # (MessageBase), which the decoder and the connection's routing fill directly.
    _BufferBase = object if _accelerator is None else _accelerator.BufferBase
    _MessageBase = object if _accelerator is None else _accelerator.MessageBase

# What a copy or a pickle of a message keeps besides its __dict__ (with the accelerator
# these attributes are not in it).
_MESSAGE_FIELDS = ("cmd", "headers", "original_headers", "body", "subscription")


def _rebuild_message(cls: type[Message], state: dict[str, Any]) -> Message:
    message = cls.__new__(cls)
    for name, value in state.items():
        setattr(message, name, value)
    return message


__all__ = ["Message", "Subscription"]


class Message(Frame, _MessageBase):
    """A message received on a :class:`Subscription`: the MESSAGE frame itself (a
    :class:`~stomp.codec.Frame`: ``cmd``, ``headers``, ``body`` -- ``str``, or ``bytes``
    with ``auto_decode=False``; the connection's decoder builds MESSAGE frames as this
    class), given the subscription it came on and the calls that answer it.

    Unlike the frames a threaded connection's listeners get, a message keeps no copy of its
    headers: nothing runs between the wire and your code, so ``original_headers`` is the
    ``headers`` dict itself (copy it before changing ``headers`` if you need both).

    With the C accelerator these attributes and ``subscription`` are kept in C fields
    rather than in the message's ``__dict__`` (which holds any other attribute you set);
    ``copy.copy()`` and ``pickle`` keep them either way.

    Attributes:
        subscription: the subscription it came on.
    """

    subscription: Subscription
    # (tells the decoder not to copy the headers into original_headers)
    _original_is_headers: ClassVar[bool] = True

    @property
    def frame(self) -> Frame:
        """The frame (the message itself)."""
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # (copy.copy() and pickle: the attributes, wherever they are kept)
        state = {name: getattr(self, name) for name in _MESSAGE_FIELDS if hasattr(self, name)}
        state.update(vars(self))
        return _rebuild_message, (type(self), state)

    def __repr__(self) -> str:
        return f"Message({self.message_id!r}, {self.destination!r})"

    @property
    def destination(self) -> str | None:
        """The ``destination`` header."""
        return self.headers.get("destination")

    @property
    def message_id(self) -> str | None:
        """The ``message-id`` header."""
        return self.headers.get("message-id")

    async def ack(
        self,
        transaction: str | Transaction | None = None,
        receipt: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Acknowledge it (``client`` mode: it and every earlier message of the
        subscription), with the headers of the connection's STOMP version.

        Args:
            transaction: the transaction (or its id) the ACK belongs to.
            receipt: wait for the broker's RECEIPT of the ACK.
            timeout: seconds to wait (default: the connection's ``timeout``).

        Raises:
            ValueError: the subscription acknowledges automatically.
            NotConnectedException: the connection it came on is gone: nothing was
                acknowledged, and the broker delivers the message again.
        """
        await self.subscription.connection.ack(self, transaction, receipt, timeout)

    async def nack(
        self,
        transaction: str | Transaction | None = None,
        receipt: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Refuse it (STOMP 1.1 and 1.2; arguments as :meth:`ack`).  What then is the
        broker's: RabbitMQ and the embedded broker deliver it again, ActiveMQ sends it to
        its dead-letter queue."""
        await self.subscription.connection.nack(self, transaction, receipt, timeout)


class Subscription(_BufferBase):
    """The messages of one SUBSCRIBE, made by :meth:`Connection.subscribe
    <stomp.aio.Connection.subscribe>`: take them with ``async for``, :meth:`get` or
    :meth:`get_nowait`.

    An ``async with`` block unsubscribes when it ends.  Iteration ends when the
    subscription is unsubscribed or the connection disconnected by the application, after
    the messages already received; when the connection is lost it raises
    :class:`~stomp.exception.ConnectionClosedException` (saying why) once those are taken.

    At most ``max_buffered`` messages wait here: past that, the connection stops reading
    until the application takes some (flow control for ``ack="auto"`` subscriptions, which
    the broker does not bound).

    Attributes:
        connection: the connection.
        id: the subscription id.
        destination: where the messages come from.
        ack: the ack mode.
    """

    def __init__(
        self,
        connection: Connection,
        id: str,
        destination: str,
        ack: str,
        max_buffered: int,
    ) -> None:
        self.connection = connection
        self.id = id
        self.destination = destination
        self.ack = ack
        self.max_buffered = max_buffered
        self._queue: deque[Message] = deque()  # (decoded as Messages: see Connection)
        self._waiter: asyncio.Future[None] | None = None
        self._ended: BaseException | None = None  # StopAsyncIteration or why it was lost
        self._holding = False
        self._link: Any = None  # the connection's link it was made on

    def __repr__(self) -> str:
        return f"Subscription({self.id!r}, {self.destination!r}, ack={self.ack!r})"

    @property
    def active(self) -> bool:
        """Whether messages may still come (not unsubscribed, connection not ended)."""
        return self._ended is None

    @property
    def buffered(self) -> int:
        """How many received messages wait to be taken."""
        return len(self._queue)

    # -- taking messages ---------------------------------------------------------------------

    async def get(self, timeout: float | None = None) -> Message:
        """The next message, waiting for one at most ``timeout`` seconds (``None``: as
        long as it takes).

        Raises:
            asyncio.TimeoutError: none came in time (:class:`TimeoutError` from 3.11).
            StopAsyncIteration: the subscription ended (unsubscribed, or disconnected).
            ConnectionClosedException: the connection was lost.
        """
        if not self._queue:
            if timeout is None:
                await self._wait()
            else:
                await asyncio.wait_for(self._wait(), timeout)
        return self._take()

    def get_nowait(self) -> Message | None:
        """The next message already received, or ``None``.  (At the end of the
        subscription it raises as :meth:`get` does.)"""
        if not self._queue:
            if self._ended is not None:
                raise self._ended.with_traceback(None)
            return None
        return self._take()

    def __aiter__(self) -> Subscription:
        return self

    async def _next(self) -> Message:
        queue = self._queue
        if not queue:
            await self._wait()
        if self._holding:
            self._release()
        return queue.popleft()

    if TYPE_CHECKING or _accelerator is None:
        __anext__ = _next

    async def _wait(self) -> None:
        while not self._queue:
            if self._ended is not None:
                raise self._ended.with_traceback(None)
            waiter = self._waiter
            if waiter is None or waiter.done():
                waiter = self._waiter = asyncio.get_running_loop().create_future()
            await waiter

    def _take(self) -> Message:
        if self._holding:
            self._release()
        return self._queue.popleft()

    def _release(self) -> None:
        # Reading was paused for this subscription: resume once half its room is free.
        if len(self._queue) <= self.max_buffered // 2:
            self._holding = False
            self.connection._release_reading()

    # -- fed by the connection ---------------------------------------------------------------

    def _fed(self) -> None:
        # Messages were appended to the buffer: wake the taker; hold reading when full.
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._queue) >= self.max_buffered and not self._holding:
            self._holding = True
            self.connection._hold_reading()

    def _lost_link(self, drop: bool) -> None:
        # The connection was lost and is being made again: messages of a
        # client-acknowledged subscription not yet taken are dropped (the broker delivers
        # them again, and their acks could only fail); reading holds belong to the old link.
        if drop:
            self._queue.clear()
        self._holding = False

    def _end(self, reason: BaseException) -> None:
        # No more messages: those buffered are still taken, then ``reason`` is raised.
        if self._ended is None:
            self._ended = reason
        if self._holding:
            self._holding = False
            self.connection._release_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- leaving -----------------------------------------------------------------------------

    async def unsubscribe(self, receipt: bool = False, timeout: float | None = None) -> None:
        """UNSUBSCRIBE (nothing to do if the subscription or its connection ended).
        Messages already received stay to be taken; then iteration ends.

        Args:
            receipt: wait for the broker's RECEIPT of the UNSUBSCRIBE.
            timeout: seconds to wait (default: the connection's ``timeout``).
        """
        if self._ended is not None:
            return
        await self.connection._unsubscribe(self, receipt, timeout)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.unsubscribe()
        except ConnectionClosedException:
            pass  # the connection went meanwhile: nothing left to leave
