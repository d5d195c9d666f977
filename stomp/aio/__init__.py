"""The asyncio client: ``async with``, ``await conn.send(...)``, ``async for msg in sub``.

It drives the same sans-IO core as the threaded connections (the session's frame rules for
STOMP 1.0, 1.1 and 1.2, the codec and its C accelerator, the host list's back-off, the
heart-beat rules), so both behave alike against each broker.  See ``docs/asyncio.rst``::

    import asyncio
    import stomp.aio

    async def main():
        async with stomp.aio.Connection([("127.0.0.1", 61613)], vhost="/") as conn:
            async with await conn.subscribe("/queue/jobs", ack="client-individual") as sub:
                await conn.send("/queue/jobs", "hello", receipt=True)
                async for message in sub:
                    print(message.body)
                    await message.ack()
                    break

    asyncio.run(main())
"""

from __future__ import annotations

from stomp.aio.connection import DEFAULT_TIMEOUT, Connection
from stomp.aio.subscription import Message, Subscription
from stomp.aio.transaction import Transaction

__all__ = ["DEFAULT_TIMEOUT", "Connection", "Message", "Subscription", "Transaction"]
