"""Transactions of the asyncio client."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from stomp.codec import Frame
from stomp.exception import StompException

if TYPE_CHECKING:
    from stomp.aio.connection import Connection

__all__ = ["Transaction"]

log = logging.getLogger("stomp.py")


class Transaction:
    """A transaction begun by :meth:`Connection.begin`.

    In an ``async with`` block it commits when the block ends normally and aborts when it
    ends with an exception.

    Attributes:
        connection: the connection.
        id: the transaction id (the frames' ``transaction`` header).
    """

    def __init__(self, connection: Connection, id: str) -> None:
        self.connection = connection
        self.id = id

    def __repr__(self) -> str:
        return f"Transaction({self.id!r})"

    def __str__(self) -> str:
        return self.id

    async def send(self, destination: str, body: Any = "", **kwargs: Any) -> Frame | None:
        """:meth:`Connection.send` in this transaction."""
        return await self.connection.send(destination, body, transaction=self, **kwargs)

    async def commit(self, receipt: bool = False, timeout: float | None = None) -> None:
        """COMMIT (see :meth:`Connection.commit`)."""
        await self.connection.commit(self, receipt, timeout)

    async def abort(self, receipt: bool = False, timeout: float | None = None) -> None:
        """ABORT (see :meth:`Connection.abort`)."""
        await self.connection.abort(self, receipt, timeout)

    async def __aenter__(self) -> Transaction:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit(receipt=True)
        elif self.connection.connected:
            try:
                await self.abort()
            except StompException as abort_failed:  # the block's own exception matters more
                log.debug("ABORT of %s failed: %s", self.id, abort_failed)
