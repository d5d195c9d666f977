"""Automatic reconnection of the asyncio client: one :class:`Reconnection` per loss."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from stomp.codec import Frame
from stomp.exception import (
    ConnectFailedException,
    ConnectionClosedException,
    NotConnectedException,
    ReconnectFailedException,
    StompException,
)
from stomp.reconnect import ReconnectPolicy

if TYPE_CHECKING:
    from stomp.aio.connection import Connection

log = logging.getLogger("stomp.py")


class Reconnection:
    """The connection made again after ``lost``, by a task, as ``policy`` allows: rounds
    through the host list (each with the list's own back-off between passes, and growing
    back-off between rounds), the same CONNECT, then every subscription again.

    Attributes:
        done: resolved when connected again, failed with
            :class:`~stomp.exception.ReconnectFailedException` when the policy gives up (or
            with why the connection ended meanwhile).
    """

    def __init__(
        self, connection: Connection, policy: ReconnectPolicy, lost: ConnectionClosedException
    ) -> None:
        self.connection = connection
        self.policy = policy
        self.lost = lost
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = loop.create_future()
        self.task = loop.create_task(self._run(), name="stomp-reconnect")

    async def wait(self, timeout: float | None) -> None:
        """Wait until connected again: at most the policy's ``wait``, else ``timeout``
        (else the connection's).

        Raises:
            NotConnectedException: not connected in time, or never (caused by why).
        """
        limit = self.policy.wait if self.policy.wait is not None else timeout
        if limit is None:
            limit = self.connection.timeout
        try:
            await asyncio.wait_for(asyncio.shield(self.done), limit)
        except asyncio.TimeoutError:
            raise NotConnectedException(
                f"not connected: still reconnecting after {limit} s ({self.lost})"
            ) from self.lost
        except StompException as exc:
            raise NotConnectedException(f"not connected: {exc}") from exc

    def fail(self, reason: BaseException) -> None:
        """The connection ended (``disconnect()``, or the policy gave up): waiters learn
        ``reason``."""
        if not self.done.done():
            self.done.set_exception(
                reason
                if isinstance(reason, StompException)
                else NotConnectedException("disconnected while reconnecting")
            )
            self.done.exception()  # (retrieved: nobody may be waiting for it)

    async def stop(self) -> None:
        """Stop at once (``disconnect()``): the task is gone when this returns."""
        task = self.task
        if task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        connection, policy = self.connection, self.policy
        hosts = connection.hosts
        loop = asyncio.get_running_loop()
        started = loop.time()
        rounds = 0
        last: BaseException = self.lost
        while True:
            if policy.max_attempts != -1 and rounds >= policy.max_attempts:
                why = f"{rounds} round(s) through the hosts failed"
                break
            if policy.max_time is not None and loop.time() - started >= policy.max_time:
                why = f"not connected again within {policy.max_time} s"
                break
            if rounds:
                await asyncio.sleep(hosts.backoff(rounds))
            rounds += 1
            try:
                await connection._through_hosts(connection.timeout)
            except ConnectFailedException as exc:
                last = exc
                continue
            self._resubscribe()
            connection.reconnections += 1
            connection._reconnection = None
            log.info("connected again to %s after a loss", connection._where())
            self.done.set_result(None)
            return
        failed = ReconnectFailedException(f"automatic reconnection gave up: {why}: {last}")
        failed.__cause__ = last
        log.warning("%s", failed)
        connection._lost = failed
        connection._end(failed)

    def _resubscribe(self) -> None:
        # Every subscription again, with its id, ack mode and headers, on the new link.
        connection = self.connection
        link = connection._require_link()
        recorded = connection.session.subscriptions
        for subscription in list(connection._subscriptions.values()):
            previous = recorded.get(subscription.id)
            if previous is None:
                continue
            headers = {k: v for k, v in previous.headers.items() if k != "receipt"}
            connection._write(link, Frame("SUBSCRIBE", headers, ""))
            subscription._link = link
