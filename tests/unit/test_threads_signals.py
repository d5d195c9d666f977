"""The library's threads leave the process's signals to the main thread (stomp.threads):
a Ctrl-C must interrupt a main thread blocked in input() or a sleep, which it does only if
the kernel delivers the SIGINT there, not to a receiver or heart-beat thread."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import pytest
from support.fakebroker import library_threads

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the signal masks from /proc (Linux)"
)


def _blocked(thread: threading.Thread) -> set[int]:
    # The signals the thread blocks, from /proc/self/task/<tid>/status (SigBlk, hex).
    with open(f"/proc/self/task/{thread.native_id}/status") as status:
        line = next(line for line in status if line.startswith("SigBlk:"))
    mask = int(line.split()[1], 16)
    return {n for n in range(1, 65) if mask & (1 << (n - 1))}


def test_receiver_and_heartbeat_threads_block_sigint_and_sigterm(
    make_conn: Any, make_broker: Any
) -> None:
    broker = make_broker(heartbeat="100,100")
    conn = make_conn(broker, heartbeats=(100, 100))
    conn.connect(wait=True)
    try:
        threads = library_threads()
        names = sorted(t.name for t in threads)
        assert any("Heartbeat" in name for name in names), names
        for thread in threads:
            blocked = _blocked(thread)
            assert {signal.SIGINT, signal.SIGTERM} <= blocked, thread.name
            assert signal.SIGSEGV not in blocked  # (a fault of its own is never blocked)
        assert signal.SIGINT not in _blocked(threading.main_thread())
    finally:
        conn.disconnect()


def test_the_embedded_broker_thread_blocks_them_too() -> None:
    from stomp.broker import Broker

    with Broker("127.0.0.1", 0) as broker:
        thread = broker._thread
        assert thread is not None
        assert signal.SIGINT in _blocked(thread)


def test_on_the_main_thread_nothing_is_blocked() -> None:
    # (a green thread of gevent or eventlet runs on the main OS thread: Ctrl-C must stay)
    from stomp.threads import leave_signals_to_the_main_thread

    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    leave_signals_to_the_main_thread()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


def test_a_thread_started_by_a_library_thread_blocks_them_too() -> None:
    # (a heart-beat or reconnect thread is started by the receiver thread, whose mask
    # already blocks them: the call then gets every blocked signal back as the old mask)
    from stomp.threads import leave_signals_to_the_main_thread

    seen: dict[str, set[int]] = {}

    def run(name: str, child: bool) -> None:
        leave_signals_to_the_main_thread()
        leave_signals_to_the_main_thread()  # (twice: the same mask)
        current = threading.current_thread()
        seen[name] = _blocked(current)
        if child:
            inner = threading.Thread(target=run, args=("inner", False))
            inner.start()
            inner.join(10)

    outer = threading.Thread(target=run, args=("outer", True))
    outer.start()
    outer.join(10)
    assert set(seen) == {"outer", "inner"}
    for blocked in seen.values():
        assert {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} <= blocked
        assert signal.SIGSEGV not in blocked and signal.SIGBUS not in blocked
    assert signal.SIGINT not in _blocked(threading.main_thread())
