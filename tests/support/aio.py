"""Running the asyncio client's tests: each on a fresh event loop, bounded in time, and
checked for tasks left behind (no task of a connection may outlive it)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: The longest any one asyncio test may run, in seconds.
TEST_LIMIT = 60.0


def run(coroutine: Awaitable[T], limit: float = TEST_LIMIT) -> T:
    """Run ``coroutine`` on a new loop, at most ``limit`` seconds; then fail if any other
    task is still pending (a heart-beat task, a waiter a call forgot)."""

    async def main() -> T:
        result = await asyncio.wait_for(coroutine, limit)
        await asyncio.sleep(0)  # let tasks cancelled on the way out finish
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not left, f"tasks left behind: {left}"
        return result

    return asyncio.run(main())


def aio_test(function: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Make an ``async def`` test a plain one that :func:`run` runs."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run(function(*args, **kwargs))

    return wrapper


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on a worker thread: the fake broker's waits block,
    and the loop must go on meanwhile (to write what the client queued, for one)."""
    return await asyncio.to_thread(function, *args, **kwargs)
