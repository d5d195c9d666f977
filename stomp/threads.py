"""What the library's threads share: they leave the process's signals to the main thread.

Python runs signal handlers in the main thread only, but the kernel may deliver a signal
sent to the process (Ctrl-C's SIGINT, a SIGTERM) to any thread that does not block it.  A
signal taken by a receiver or heart-beat thread still sets Python's flag, yet the main
thread is not woken: one blocked in ``input()``, ``time.sleep()`` or ``select()`` sees
the ``KeyboardInterrupt`` only when that call returns by itself, which may be never.  So
every thread the library starts blocks the asynchronous signals first, and the kernel
delivers them to the main thread, as a program without the library would get them.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

# The C module behind signal (imported by it): its functions take and give ints, where
# signal's wrappers make a Signals member of every signal they return, ~0.3 ms for all of
# them -- more than the rest of starting a thread.
_signal: Any = sys.modules.get("_signal", signal)

__all__ = ["leave_signals_to_the_main_thread"]

# Signals that report a fault of the thread itself: never blocked.
_SYNCHRONOUS = {
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGABRT", "SIGSYS")
    if hasattr(signal, name)
}

# The signals to block, as ints, made once.
_asynchronous: frozenset[int] | None = None


def leave_signals_to_the_main_thread() -> None:
    """Block the asynchronous signals in the calling thread (POSIX; nothing elsewhere, and
    nothing when called on the main OS thread, as a green thread of gevent or eventlet
    would be)."""
    global _asynchronous
    sigmask = getattr(_signal, "pthread_sigmask", None)
    if sigmask is None or threading.get_native_id() == threading.main_thread().native_id:
        return
    if _asynchronous is None:
        _asynchronous = frozenset(map(int, _signal.valid_signals())) - _SYNCHRONOUS
    # (the old mask comes back as ints: all the blocked signals, for a thread started by a
    # library thread)
    sigmask(signal.SIG_BLOCK, _asynchronous)
