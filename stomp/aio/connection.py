"""The asyncio client: one STOMP connection driven on an event loop.

:class:`Connection` is a thin driver of the same sans-IO pieces as the threaded client:
:class:`~stomp.session.ClientSession` builds every frame by the rules of the connection's
STOMP version and keeps its state, :mod:`stomp.codec` encodes and decodes,
:class:`~stomp.failover.HostList` plans the attempts with back-off and
:class:`~stomp.heartbeat.HeartbeatTimer` says when to beat and when the broker has gone
silent.  What is left here is what asyncio does differently: futures for receipts and
CONNECTED, a task for the heart-beats (:func:`~stomp.aio._link.keep_alive`), a
:class:`~stomp.aio.subscription.Subscription` buffer per subscription, and, after a loss, a
task that connects again (:class:`~stomp.aio._reconnect.Reconnection`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import ssl as _ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Final

from stomp.aio._link import Link, keep_alive
from stomp.aio._reconnect import Reconnection
from stomp.aio.subscription import Message, Subscription
from stomp.aio.transaction import Transaction
from stomp.codec import Frame, FrameDecoder, encode_frame
from stomp.codec.decode import _accelerator
from stomp.exception import (
    BrokerErrorException,
    ConnectFailedException,
    ConnectionClosedException,
    FrameError,
    NotConnectedException,
    StompException,
)
from stomp.failover import HostAndPort, HostList
from stomp.reconnect import ReconnectPolicy, policy_of
from stomp.session import (
    ClientSession,
    State,
    decoding_version,
    refusal_hint,
    refusal_reason,
)

__all__ = ["Connection"]

log = logging.getLogger("stomp.py")

# With the C accelerator: the MESSAGEs of a read routed in C, up to the first other frame
# (see _deliver).
_route: Callable[[list[Frame], dict[str, Subscription], type, list[Subscription]], int] | None = (
    None if _accelerator is None else _accelerator.route
)

#: How many ids of subscriptions left (or unknown) are remembered, to drop their messages
#: quietly.
_LEFT_LIMIT: Final = 1000

#: The seconds any await of the connection waits by default.
DEFAULT_TIMEOUT: Final = 10.0


class Connection:
    """One STOMP connection on an asyncio event loop.

    Args:
        host_and_ports: the brokers, tried in this order: the first that answers is used
            (default ``[("localhost", 61613)]``).
        version: ``"1.0"``, ``"1.1"`` or ``"1.2"``.
        username, passcode: the ``login`` and ``passcode`` of CONNECT (:meth:`connect`
            may give others).
        vhost: the ``host`` header of CONNECT (1.1, 1.2); RabbitMQ's virtual host.
            Without it, 1.2 sends the name of the host connected to.
        headers: more headers for CONNECT.
        heartbeats: ``(cx, cy)`` in ms: send a heart-beat every ``cx`` ms at least, and
            expect one from the broker every ``cy`` ms (1.1, 1.2; negotiated with the
            broker's).  The broker is taken for dead after ``heart_beat_receive_scale``
            times its interval without a byte.
        heart_beat_receive_scale: see ``heartbeats``.
        ssl: TLS for every host: an :class:`ssl.SSLContext`, or ``True`` for
            :func:`ssl.create_default_context`.  The certificate is checked against the
            host name connected to.
        timeout: the seconds every await of this connection waits by default (connecting
            to one host, a receipt, DISCONNECT, a full write buffer); each call may give
            its own.  ``None``: no limit.
        auto_decode: message bodies as ``str`` (UTF-8, undecodable bytes replaced);
            ``False``: ``bytes``.
        auto_content_length: give SEND frames with a body a ``content-length``.
        max_buffered: messages a subscription keeps before the connection stops reading
            (see :class:`~stomp.aio.Subscription`).
        with_connect_command: send CONNECT rather than STOMP (1.1, 1.2).
        reconnect_sleep_initial: the retries of :meth:`connect`, as the threaded
            connections' (``reconnect_sleep_*``, ``reconnect_attempts_max``): after a pass
            in which every host failed, sleep with back-off and jitter; give up after
            ``reconnect_attempts_max`` failed attempts (``-1``: never).
        auto_reconnect: ``True`` or a :class:`~stomp.reconnect.ReconnectPolicy`: after a
            loss (not after :meth:`disconnect`), connect again through the host list,
            subscribe again, and go on (see ``docs/asyncio.rst``).

    Attributes:
        session: the :class:`~stomp.session.ClientSession` (state, subscriptions ...).
        hosts: the :class:`~stomp.failover.HostList`.
        host: the ``(host, port)`` connected to last.
        error: the last ERROR frame the broker sent that answered no receipt, else None.
        on_error: called with each such ERROR frame (a plain function), if set.
        policy: the :class:`~stomp.reconnect.ReconnectPolicy` of ``auto_reconnect``, or
            ``None``.
        reconnections: how many times the connection was made again after a loss.
    """

    def __init__(
        self,
        host_and_ports: Sequence[HostAndPort] | None = None,
        *,
        version: str = "1.2",
        username: str | None = None,
        passcode: str | None = None,
        vhost: str | None = None,
        headers: Mapping[str, Any] | None = None,
        heartbeats: tuple[int, int] = (0, 0),
        heart_beat_receive_scale: float = 1.5,
        ssl: _ssl.SSLContext | bool | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        auto_decode: bool = True,
        auto_content_length: bool = True,
        max_buffered: int = 1000,
        with_connect_command: bool = False,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int = 3,
        auto_reconnect: bool | ReconnectPolicy = False,
    ) -> None:
        if max_buffered < 1:
            raise ValueError(f"max_buffered must be at least 1: {max_buffered!r}")
        self.session = ClientSession(version)
        self.session.heart_beat_receive_scale = heart_beat_receive_scale
        self.policy: ReconnectPolicy | None = policy_of(auto_reconnect)
        self.session.track_deliveries = self.policy is not None
        self.hosts = HostList(
            host_and_ports,
            prefer_localhost=False,
            try_loopback_connect=False,
            reconnect_sleep_initial=reconnect_sleep_initial,
            reconnect_sleep_increase=reconnect_sleep_increase,
            reconnect_sleep_jitter=reconnect_sleep_jitter,
            reconnect_sleep_max=reconnect_sleep_max,
            reconnect_attempts_max=reconnect_attempts_max,
        )
        self.username = username
        self.passcode = passcode
        self.vhost = vhost
        self.connect_headers = dict(headers or {})
        self.heartbeats = heartbeats
        self.ssl: _ssl.SSLContext | None = (
            _ssl.create_default_context() if ssl is True else ssl or None
        )
        self.timeout = timeout
        self.auto_decode = auto_decode
        self.auto_content_length = auto_content_length
        self.max_buffered = max_buffered
        self.with_connect_command = with_connect_command
        self.host: HostAndPort | None = None
        self.error: Frame | None = None
        self.on_error: Callable[[Frame], object] | None = None
        self._last_error: Frame | None = None  # any ERROR, also one answering a receipt
        self._link: Link | None = None
        self._connected: asyncio.Future[Frame] | None = None
        self._receipts: dict[str, asyncio.Future[Frame]] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._lost: BaseException | None = None
        self._closing = False
        self._numbers = itertools.count(1)
        self._left: dict[Any, None] = {}
        self._credentials: tuple[str | None, str | None, dict[str, Any]] = (None, None, {})
        self._reconnection: Reconnection | None = None  # while one runs
        self.reconnections = 0

    def __repr__(self) -> str:
        where = f"{self.host[0]}:{self.host[1]}" if self.host else "-"
        return f"<stomp.aio.Connection {self.session.version} {where} {self.session.state.name}>"

    # -- state -------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """The STOMP version of the frames."""
        return self.session.version

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the connection and it has not ended."""
        link = self._link
        return link is not None and not link.closed and self.session.state is State.CONNECTED

    @property
    def server(self) -> dict[str, str]:
        """The CONNECTED frame's headers (``version``, ``server``, ``session``,
        ``heart-beat`` ...)."""
        return self.session.server

    def _timeout(self, timeout: float | None) -> float | None:
        return self.timeout if timeout is None else timeout

    def _require_link(self) -> Link:
        link = self._link
        if link is None or link.closed or self.session.state is not State.CONNECTED:
            if self._lost is not None:
                raise NotConnectedException(f"not connected: {self._lost}") from self._lost
            raise NotConnectedException("not connected")
        return link

    # -- connecting --------------------------------------------------------------------------

    async def connect(
        self,
        username: str | None = None,
        passcode: str | None = None,
        headers: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        """Connect to the first host that answers, trying them with back-off, and wait
        for CONNECTED.

        Args:
            username, passcode: instead of the constructor's.
            headers: more headers for CONNECT (besides the constructor's).
            timeout: seconds for each host to accept TCP (and TLS) and answer CONNECTED
                (default: the connection's ``timeout``).

        Raises:
            ConnectFailedException: no host answered, or the broker refused (its reason
                in the message; then no other host is tried).
        """
        if self._link is not None and not self._link.closed:
            raise StompException("already connected (disconnect() first)")
        self._credentials = (
            username if username is not None else self.username,
            passcode if passcode is not None else self.passcode,
            {**self.connect_headers, **(headers or {})},
        )
        await self._through_hosts(self._timeout(timeout))

    async def _through_hosts(self, limit: float | None) -> None:
        # One connection through the host list (the plan's back-off between passes).
        plan = self.hosts.plan()
        for step in plan:
            if isinstance(step, float):
                log.debug("sleeping for %.1f seconds before attempting reconnect", step)
                await asyncio.sleep(step)
                continue
            try:
                await asyncio.wait_for(self._open(step, *self._credentials), limit)
            except asyncio.TimeoutError:
                plan.failed(step, ConnectFailedException(f"no CONNECTED within {limit} s"))
            except (OSError, ConnectionClosedException, FrameError) as exc:
                plan.failed(step, exc)
            else:
                plan.succeeded(step)
                return
        raise ConnectFailedException(plan.summary())

    async def _open(
        self,
        host_and_port: HostAndPort,
        username: str | None,
        passcode: str | None,
        headers: dict[str, Any],
    ) -> None:
        loop = asyncio.get_running_loop()
        session = self.session
        decoder = FrameDecoder(
            decoding_version(session.version), auto_decode=self.auto_decode, message_class=Message
        )
        link = Link(decoder, self._deliver, self._link_lost)
        host, port = host_and_port
        self._link = link
        self._lost = None
        self._closing = False
        self._left.clear()
        self.error = self._last_error = None
        try:
            await loop.create_connection(
                lambda: link,
                host,
                port,
                ssl=self.ssl,
                server_hostname=host if self.ssl is not None else None,
            )
            if link.closed:
                raise ConnectionClosedException("the connection closed before CONNECT")
            self.host = host_and_port
            session.opened()
            connected = self._connected = loop.create_future()
            frame = session.connect(
                username,
                passcode,
                headers,
                None,
                host=host,
                vhost=self.vhost,
                with_connect_command=self.with_connect_command,
                heartbeats=self.heartbeats,
            )
            self._write(link, frame)
            await connected
        except BaseException:
            # Failed, timed out or cancelled: nothing of this attempt stays open.
            self._link = None
            link.abort()
            session.closed()
            raise
        finally:
            self._connected = None
        send, receive = session.heartbeat_timing
        if send or receive:
            expected = receive / session.heart_beat_receive_scale
            self._heartbeat_task = loop.create_task(
                keep_alive(link, send, receive, expected), name=f"stomp-heartbeats-{host}:{port}"
            )

    # -- writing -----------------------------------------------------------------------------

    def _write(self, link: Link, frame: Frame) -> None:
        data = encode_frame(frame, self.session.version)
        self.session.sent(frame)
        link.write(data)

    async def _transmit(
        self, frame: Frame, receipt: bool | str, timeout: float | None
    ) -> Frame | None:
        # Write ``frame`` whole before any await (so that a cancelled caller never leaves
        # half a frame), then wait for its receipt or for room in the write buffer.
        if self._reconnection is not None:
            await self._reconnection.wait(timeout)
        if not receipt:
            room = self._write_now(frame, timeout)
            if room is not None:
                await room
            return None
        return await self._await_receipt(self._require_link(), frame, receipt, timeout)

    def _write_now(self, frame: Frame, timeout: float | None) -> Awaitable[None] | None:
        # Write ``frame`` (connected, not reconnecting); what to await for room in the
        # write buffer when it is full, else None.
        link = self._require_link()
        self._write(link, frame)
        if link.writable:
            return None
        return asyncio.wait_for(link.drain(), self._timeout(timeout))

    async def _await_receipt(
        self, link: Link, frame: Frame, receipt: bool | str, timeout: float | None
    ) -> Frame:
        receipt_id = receipt if isinstance(receipt, str) else f"r-{next(self._numbers)}"
        frame.headers["receipt"] = receipt_id
        loop = asyncio.get_running_loop()
        limit = self._timeout(timeout)
        deadline = None if limit is None else loop.time() + limit
        while True:
            waiter: asyncio.Future[Frame] = loop.create_future()
            self._receipts[receipt_id] = waiter
            try:
                self._write(link, frame)
                return await asyncio.wait_for(
                    waiter, None if deadline is None else max(0.0, deadline - loop.time())
                )
            except asyncio.TimeoutError:
                meanwhile = ""
                if self.error is not None:
                    meanwhile = (
                        " (the broker sent an ERROR naming no receipt meanwhile: "
                        f"{refusal_reason(self.error)})"
                    )
                raise asyncio.TimeoutError(
                    f"no RECEIPT for {frame.cmd} (receipt {receipt_id!r}) within {limit} s"
                    + meanwhile
                ) from None
            except ConnectionClosedException:
                # A SEND whose receipt was lost with the connection is sent again on the
                # next one (at least once); anything else raises.
                reconnection = self._reconnection
                if frame.cmd != "SEND" or reconnection is None:
                    raise
                await reconnection.wait(
                    None if deadline is None else max(0.0, deadline - loop.time())
                )
                link = self._require_link()
            finally:
                self._receipts.pop(receipt_id, None)

    # -- the client's calls ------------------------------------------------------------------

    async def send(
        self,
        destination: str,
        body: Any = "",
        content_type: str | None = None,
        headers: Mapping[str, Any] | None = None,
        *,
        transaction: str | Transaction | None = None,
        receipt: bool | str = False,
        timeout: float | None = None,
        **keyword_headers: Any,
    ) -> Frame | None:
        """SEND a message.

        The frame is queued whole before this awaits anything: a caller cancelled while
        it waits (for room in a full write buffer, or for the receipt) leaves no partial
        frame, and the message may still reach the broker.

        Args:
            destination: where to (``/queue/...``, ``/topic/...``).
            body: ``str`` (sent as UTF-8) or ``bytes``.
            content_type: the ``content-type`` header.
            headers, keyword_headers: more headers (the latter win).
            transaction: send in this transaction (:meth:`begin`).
            receipt: wait for the broker's RECEIPT (``True``, or the receipt id to use):
                then the broker has the message.
            timeout: seconds to wait (default: the connection's ``timeout``).

        Returns:
            The RECEIPT frame when ``receipt`` was asked for, else ``None``.

        Raises:
            NotConnectedException: not connected.
            BrokerErrorException: the broker answered the receipt with an ERROR.
            ConnectionClosedException: the connection ended before the receipt came.
            asyncio.TimeoutError: no receipt (or no room to write) in time.
        """
        if transaction is not None:
            keyword_headers["transaction"] = str(transaction)
        frame = self.session.send(
            destination, body, content_type, headers, keyword_headers, self.auto_content_length
        )
        if receipt or self._reconnection is not None:
            return await self._transmit(frame, receipt, timeout)
        # (the usual send, without a coroutine of _transmit's)
        room = self._write_now(frame, timeout)
        if room is not None:
            await room
        return None

    async def subscribe(
        self,
        destination: str,
        id: str | int | None = None,
        ack: str = "auto",
        headers: Mapping[str, Any] | None = None,
        *,
        prefetch: int | None = 100,
        max_buffered: int | None = None,
        receipt: bool | str = False,
        timeout: float | None = None,
        **keyword_headers: Any,
    ) -> Subscription:
        """SUBSCRIBE; take its messages from the :class:`~stomp.aio.Subscription`
        returned (``async for``, ``get()``).

        Args:
            destination: where from.
            id: the subscription id (default: a new one).
            ack: ``"auto"``, ``"client"`` or ``"client-individual"``.
            headers, keyword_headers: more headers (``selector``, broker extensions ...).
            prefetch: with ``client`` acks, how many unacknowledged messages the broker
                may send ahead (ActiveMQ ``activemq.prefetchSize``, RabbitMQ
                ``prefetch-count``); ``None``: the broker's default.
            max_buffered: see :class:`~stomp.aio.Subscription` (default: the
                connection's).
            receipt, timeout: as for :meth:`send`.
        """
        if self._reconnection is not None:
            await self._reconnection.wait(timeout)
        link = self._require_link()
        frame_headers = {**(headers or {}), **keyword_headers}
        if prefetch is not None and ack != "auto":
            if prefetch < 1:
                raise ValueError(f"prefetch must be at least 1: {prefetch!r}")
            frame_headers.setdefault("activemq.prefetchSize", str(prefetch))
            frame_headers.setdefault("prefetch-count", str(prefetch))
        if id is None:
            id = f"sub-{next(self._numbers)}"
        frame = self.session.subscribe(destination, id, ack, frame_headers)
        subscription = Subscription(
            self, str(id), destination, ack, max_buffered or self.max_buffered
        )
        subscription._link = link
        self._subscriptions[subscription.id] = subscription  # before any message can come
        try:
            await self._transmit(frame, receipt, timeout)
        except BaseException as exc:
            # The caller gets no subscription: none is left behind.  If the SUBSCRIBE went
            # out (its receipt timed out, or the wait was cancelled), an UNSUBSCRIBE
            # follows it, written at once (no await).
            self._subscriptions.pop(subscription.id, None)
            subscription._end(StopAsyncIteration())
            if (
                subscription.id in self.session.subscriptions
                and not isinstance(exc, BrokerErrorException)
                and self.connected
            ):
                (leave,) = self.session.unsubscribe(id=subscription.id)
                self._write(link, leave)
            raise
        return subscription

    async def _unsubscribe(
        self, subscription: Subscription, receipt: bool | str, timeout: float | None
    ) -> None:
        self._subscriptions.pop(subscription.id, None)
        subscription._end(StopAsyncIteration())
        self._leave(subscription.id)  # its messages on their way are dropped quietly
        if subscription._link is not self._link or not self.connected:
            return
        (frame,) = self.session.unsubscribe(id=subscription.id)
        await self._transmit(frame, receipt, timeout)

    async def ack(
        self,
        message: Message,
        transaction: str | Transaction | None = None,
        receipt: bool | str = False,
        timeout: float | None = None,
    ) -> None:
        """ACK ``message`` (see :meth:`Message.ack <stomp.aio.Message.ack>`)."""
        await self._acknowledge(message, False, transaction, receipt, timeout)

    async def nack(
        self,
        message: Message,
        transaction: str | Transaction | None = None,
        receipt: bool | str = False,
        timeout: float | None = None,
    ) -> None:
        """NACK ``message`` (1.1, 1.2; see :meth:`Message.nack <stomp.aio.Message.nack>`).

        Raises:
            ValueError: on STOMP 1.0, which has no NACK.
        """
        await self._acknowledge(message, True, transaction, receipt, timeout)

    async def _acknowledge(
        self,
        message: Message,
        nack: bool,
        transaction: str | Transaction | None,
        receipt: bool | str,
        timeout: float | None,
    ) -> None:
        subscription = message.subscription
        if subscription.ack == "auto":
            raise ValueError(f"subscription {subscription.id!r} acknowledges automatically")
        if self.policy is None:
            self._require_link()
            if subscription._link is not self._link:
                raise NotConnectedException(
                    "the connection that message came on is gone: the broker delivers it again"
                )
        # (with automatic reconnection the session knows the messages of lost connections:
        # StaleAckException)
        frame = self.session.acknowledge(
            message.headers, nack, None if transaction is None else str(transaction)
        )
        await self._transmit(frame, receipt, timeout)

    async def begin(
        self,
        transaction: str | None = None,
        receipt: bool | str = False,
        timeout: float | None = None,
    ) -> Transaction:
        """BEGIN a transaction (a new id unless ``transaction`` is given).  SENDs, ACKs
        and NACKs given it take effect at :meth:`commit`, or never (:meth:`abort`, or the
        connection lost)."""
        frame = self.session.begin(transaction)
        await self._transmit(frame, receipt, timeout)
        return Transaction(self, str(frame.headers["transaction"]))

    async def commit(
        self,
        transaction: str | Transaction,
        receipt: bool | str = False,
        timeout: float | None = None,
    ) -> None:
        """COMMIT ``transaction``."""
        await self._transmit(self.session.commit(str(transaction)), receipt, timeout)

    async def abort(
        self,
        transaction: str | Transaction,
        receipt: bool | str = False,
        timeout: float | None = None,
    ) -> None:
        """ABORT ``transaction`` (nothing to do for one a lost connection took with it)."""
        if self.session.forget_lost_transaction(str(transaction)):
            return
        await self._transmit(self.session.abort(str(transaction)), receipt, timeout)

    # -- ending ------------------------------------------------------------------------------

    async def disconnect(self, timeout: float | None = None) -> None:
        """DISCONNECT and wait (at most ``timeout`` seconds) for its receipt, which says the
        broker has every frame sent before; then close.  Subscriptions end (their
        iteration stops after the messages already received) and the heart-beat task is
        gone when this returns.  Nothing to do when not connected."""
        link = self._link
        self._closing = True
        limit = self._timeout(timeout)
        reconnection = self._reconnection
        if reconnection is not None:
            await reconnection.stop()
            if self._link is not None:
                self._link.abort()  # a connection it was making
        try:
            if link is not None and self.connected:
                frame = self.session.disconnect()
                try:
                    await self._await_receipt(link, frame, str(frame.headers["receipt"]), limit)
                except (asyncio.TimeoutError, ConnectionClosedException) as exc:
                    log.debug("no receipt for DISCONNECT: %s", exc)
        finally:
            if link is not None:
                link.close()
                try:
                    await asyncio.wait_for(asyncio.shield(link.done), limit)
                except asyncio.TimeoutError:
                    link.abort()
            self._end(StopAsyncIteration())
            await self._stop_heartbeats()

    async def __aenter__(self) -> Connection:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def _stop_heartbeats(self) -> None:
        task, self._heartbeat_task = self._heartbeat_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def _end(self, reason: BaseException) -> None:
        # The connection is over: every waiter and subscription learns it.
        self.session.closed()
        reconnection, self._reconnection = self._reconnection, None
        if reconnection is not None:
            reconnection.fail(reason)
        connected = self._connected
        if connected is not None and not connected.done():
            connected.set_exception(_failure(reason, "the connection ended before CONNECTED"))
        receipts = list(self._receipts.values())
        self._receipts.clear()
        for waiter in receipts:
            if not waiter.done():
                waiter.set_exception(_failure(reason, "disconnected before the receipt came"))
        subscriptions = list(self._subscriptions.values())
        self._subscriptions.clear()
        for subscription in subscriptions:
            subscription._end(reason)
        task = self._heartbeat_task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # -- what the link reports ---------------------------------------------------------------

    def _link_lost(self, link: Link, exc: BaseException | None) -> None:
        if link is not self._link:
            return  # an attempt already given up
        why = str(exc) if exc is not None else "the broker closed the connection"
        if self._last_error is not None:
            why += f" after an ERROR: {refusal_reason(self._last_error)}"
        connecting = self._connected
        if connecting is not None:  # an attempt of connect() (or of a reconnection) fails
            if not connecting.done():
                connecting.set_exception(ConnectionClosedException(why))
            return
        if self._closing:
            self._end(StopAsyncIteration())
            return
        lost = ConnectionClosedException(f"connection to {self._where()} lost: {why}")
        lost.__cause__ = exc
        self._lost = lost
        log.warning("%s", lost)
        if self.policy is not None and self._reconnection is None:
            self._lose(lost)
            self._reconnection = Reconnection(self, self.policy, lost)
        else:
            self._end(lost)

    def _lose(self, lost: ConnectionClosedException) -> None:
        # The connection was lost and is made again: what it carried ends (receipts awaited
        # fail, SENDs among them are sent again once connected; messages of
        # client-acknowledged subscriptions not yet taken are dropped, the broker delivers
        # them again), the subscriptions stay.
        self.session.closed()  # (its deliveries become stale, its transactions lost)
        receipts = list(self._receipts.values())
        self._receipts.clear()
        for waiter in receipts:
            if not waiter.done():
                waiter.set_exception(lost)
        for subscription in self._subscriptions.values():
            subscription._lost_link(drop=subscription.ack != "auto")
        task = self._heartbeat_task
        if task is not None:
            task.cancel()

    def _where(self) -> str:
        return f"{self.host[0]}:{self.host[1]}" if self.host else "the broker"

    def _hold_reading(self) -> None:
        if self._link is not None:
            self._link.hold()

    def _release_reading(self) -> None:
        if self._link is not None:
            self._link.release()

    def _deliver(self, frames: list[Frame]) -> None:
        # The frames of one read.  MESSAGEs go straight to their subscription's buffer
        # (through the session only when it tracks deliveries, for automatic
        # reconnection); each subscription fed is woken once per read.
        subscriptions = self._subscriptions
        track = self.session.track_deliveries
        fed: list[Subscription] = []
        rest: Iterable[Frame] = frames
        if _route is not None and not track:
            # (the same as the loop below does, for the MESSAGEs up to the first frame of
            # another kind or for no subscription: the loop takes the frames from there)
            start = _route(frames, subscriptions, Message, fed)
            if start:
                rest = itertools.islice(frames, start, None)
        last: Subscription | None = None
        put: Any = None  # last's buffer's append
        for frame in rest:
            if frame.cmd == "MESSAGE":
                subscription = subscriptions.get(frame.headers.get("subscription"))  # type: ignore[arg-type]
                if subscription is None:
                    subscription = self._by_destination(frame.headers.get("destination"))
                    if subscription is None:
                        self._unrouted(frame.headers)
                        continue
                if track:
                    self.session.received(frame)  # (remembers it for StaleAckException)
                frame.subscription = subscription  # type: ignore[attr-defined]
                if subscription is not last:
                    last = subscription
                    put = subscription._queue.append
                    if subscription not in fed:
                        fed.append(subscription)
                put(frame)
                continue
            kind = self.session.received(frame)
            if kind == "receipt":
                waiter = self._receipts.pop(frame.headers.get("receipt-id"), None)  # type: ignore[arg-type]
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
            elif kind == "connected":
                connected = self._connected
                if connected is not None and not connected.done():
                    connected.set_result(frame)
            elif kind == "error":
                self._error(frame)
            elif kind is None:
                log.warning("unexpected frame from the broker: %s", frame.cmd)
        for subscription in fed:
            subscription._fed()

    def _unrouted(self, headers: dict[str, Any]) -> None:
        # A MESSAGE for no subscription: dropped (the broker redelivers unacknowledged
        # ones when the connection ends).  Said once per subscription id, quietly for the
        # messages of one this connection left, which may still be on their way.
        key = headers.get("subscription")
        if key in self._left:
            return
        self._leave(key)
        log.warning(
            "MESSAGEs for no subscription of this connection (subscription %r, destination "
            "%r): dropped",
            key,
            headers.get("destination"),
        )

    def _leave(self, subscription_id: Any) -> None:
        # Remember (a bounded number of) the subscription ids whose messages are dropped.
        left = self._left
        left[subscription_id] = None
        if len(left) > _LEFT_LIMIT:
            del left[next(iter(left))]

    def _by_destination(self, destination: str | None) -> Subscription | None:
        # STOMP 1.0 MESSAGEs of a subscription without an id name only the destination.
        for subscription in self._subscriptions.values():
            if subscription.destination == destination:
                return subscription
        return None

    def _error(self, frame: Frame) -> None:
        connected = self._connected
        if connected is not None and not connected.done():
            reason = refusal_reason(frame)
            connected.set_exception(
                ConnectFailedException(
                    f"{self._where()} refused the connection: {reason}"
                    + refusal_hint(reason, self.vhost),
                    frame=frame,
                )
            )
            return
        self._last_error = frame  # why the connection ends, if the broker then closes it
        waiter = self._receipts.pop(frame.headers.get("receipt-id") or "", None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_exception(BrokerErrorException(frame))
            return
        self.error = frame
        log.warning("ERROR from %s: %s", self._where(), refusal_reason(frame))
        if self.on_error is not None:
            try:
                self.on_error(frame)
            except Exception:
                log.exception("the on_error callback raised")


def _failure(reason: BaseException, otherwise: str) -> BaseException:
    # What a call waiting on a connection that ended raises: why it ended, or (after
    # disconnect(), whose reason is StopAsyncIteration) a ConnectionClosedException.
    return reason if isinstance(reason, StompException) else ConnectionClosedException(otherwise)
