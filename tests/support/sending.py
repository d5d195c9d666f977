"""Senders for the send-path tests: a call on a thread of its own, and connections sent
to until a send fails (a broker or server that stopped reading)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from support.waiting import WAIT


def raised_in_thread(
    function: Callable[[], object], timeout: float = WAIT * 2
) -> list[BaseException]:
    """Run ``function`` on a (non-main) thread and wait for it (at most ``timeout``
    seconds, then the test fails); return what it raised, if anything."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, name="sender")
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "a send did not end"
    return raised


def send_until_raised(
    conn: Any, body: str, destination: str = "/queue/a", timeout: float = WAIT * 2
) -> list[BaseException]:
    """Send ``body`` from a thread until a send raises; return what it raised."""

    def fill() -> None:
        while True:
            conn.send(destination, body)

    return raised_in_thread(fill, timeout)


def fill_to_high_water(
    conn: Any, body: str, destination: str = "/queue/a", timeout: float = WAIT * 2
) -> tuple[int, list[BaseException]]:
    """Two threads send ``body`` until a send raises (the peer stopped reading): while one
    writes and blocks, the other queues up to the writer's high-water mark.  Returns the
    most bytes seen queued after a send returned, and what the two sends raised."""
    writer = conn.transport._writer
    peak = [0]

    def fill() -> None:
        while True:
            conn.send(destination, body)
            peak[0] = max(peak[0], writer.queued_bytes)

    outcome: list[BaseException] = []
    senders = [
        threading.Thread(
            target=lambda: outcome.extend(raised_in_thread(fill, timeout)), name=f"filler-{n}"
        )
        for n in range(2)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout + WAIT)
        assert not sender.is_alive(), "a send did not end"
    return peak[0], outcome
