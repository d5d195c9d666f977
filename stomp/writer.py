"""Coalesced writes: the frames of one connection, batched into few large writes.

The TCP transport sets ``TCP_NODELAY`` (without it, a frame that follows another one waits
for the broker's delayed ACK: about 40 ms per ``send(a); send(b, receipt=...)`` round).
But with ``TCP_NODELAY`` every write is a segment of its own, and a burst of small frames
costs a segment, a system call and a wake-up of the reader per frame.  So frames are
batched here, in user space, and the rules are:

* **Idle: at once.**  A frame written when the connection has written nothing for
  :data:`COALESCE_WINDOW` seconds is written by the caller, before ``write()`` returns: no
  added latency for a lone send or a request-reply exchange.
* **Busy: batched.**  A frame written within the window after the previous write, or while
  another write is under way, is queued; the connection's writer thread (started when
  first needed) writes everything queued in one write, as soon as it runs.  While it
  writes, the senders go on queueing, so the batches grow with the load.
* **Order.**  Bytes go out in the order the ``write()`` calls queued them, whichever thread
  writes them; a frame is never split by another frame's bytes.
* **Flush.**  :meth:`FrameWriter.flush` returns once everything queued before it was handed
  to the operating system; the transport flushes for every frame that asks for a receipt,
  and for CONNECT and DISCONNECT (the caller is about to wait for the answer).
* **Bounded memory.**  Past :attr:`FrameWriter.high_water` queued bytes, ``write()`` waits
  for the writer, at most the send timeout, then raises.
* **Bounded waits.**  A write that the peer does not take (it stopped reading) raises
  :class:`~stomp.exception.SendTimeoutException` after ``send_timeout`` seconds without
  progress; the error closes the connection, and every later ``write()`` raises
  :class:`~stomp.exception.NotConnectedException`.  :meth:`FrameWriter.close` (the
  connection closing, from any thread) releases every waiting ``write()`` and ``flush()``.
* **Exit.**  The frames still queued when the interpreter exits are written (at most
  :data:`EXIT_FLUSH_TIMEOUT` seconds for all connections together).
* **Locks.**  On the common paths no call is made while the writer's lock is held: a call
  is where the interpreter may switch threads, and a thread switched out while holding
  the lock makes every other sender block on it and hand the GIL around once per frame (a
  lock convoy).  The writer thread waits for its wake-up on a C queue, outside the lock.
* **Interrupts.**  On the main thread Python raises ``KeyboardInterrupt`` (and whatever a
  signal handler raises) between any two steps, also just after the operating system
  took some bytes.  The write function records each amount the OS took in C, before such
  an exception can be raised, so a write cut short by one is known to the byte: what did
  not go out is put back at the head of the queue for the writer thread, and the stream
  never holds half a frame followed by another.

The writer does no I/O of its own: it is given the function that writes bytes (with the
send timeout, over plain TCP or TLS, recording its progress) and the function that closes
the connection.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Final

from stomp.exception import NotConnectedException, SendTimeoutException
from stomp.threads import leave_signals_to_the_main_thread

__all__ = [
    "COALESCE_WINDOW",
    "DEFAULT_HIGH_WATER",
    "DEFAULT_SEND_TIMEOUT",
    "EXIT_FLUSH_TIMEOUT",
    "FrameWriter",
]

_log = logging.getLogger("stomp.py")

#: Seconds after a write during which the next frame is queued for the writer thread
#: rather than written by its caller.
COALESCE_WINDOW: Final = 0.0002

#: Queued bytes past which ``write()`` waits for the writer (1 MiB).
DEFAULT_HIGH_WATER: Final = 1024 * 1024

#: Seconds a write may wait for the peer to take more bytes before it fails.
DEFAULT_SEND_TIMEOUT: Final = 30.0

#: Seconds the frames still queued at interpreter exit may take to be written, for all
#: connections together.
EXIT_FLUSH_TIMEOUT: Final = 5.0

# The longest the writer thread sleeps without being woken: a wake-up lost to an exception
# raised in the middle of notify() (KeyboardInterrupt on the main thread) costs this much
# delay, never a frame.  flush() and the high-water wait re-check as often.
_RECHECK = 1.0

#: ``write_all(data, progress)``: writes all of ``data`` or raises; appends to ``progress``
#: each number of bytes the operating system took, as it takes them (from C code, so that
#: no exception can come between the taking and the recording: ``progress.extend(map(
#: sock.send, ...))``).
WriteAll = Callable[[bytes, list[int]], None]


class FrameWriter:
    """The write side of one connection (see the module docstring).

    Args:
        write_all: writes all the bytes it is given, or raises (an ``OSError``, or
            :class:`~stomp.exception.SendTimeoutException` when the peer took nothing for
            the send timeout), recording its progress (see :data:`WriteAll`).
        on_error: called once, on the thread that met it, with the first write error; it
            closes the connection (and so calls :meth:`close`).
        name: the writer thread's name.
        high_water: queued bytes past which :meth:`write` waits.
        send_timeout: the longest :meth:`write` waits below the high-water mark
            (``None``: no limit).
        clock: the monotonic clock (tests).
    """

    def __init__(
        self,
        write_all: WriteAll,
        on_error: Callable[[BaseException], None],
        name: str = "StompWriter",
        high_water: int = DEFAULT_HIGH_WATER,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.high_water = high_water
        self.send_timeout = send_timeout
        self._write_all = write_all
        self._on_error = on_error
        self._name = name
        self._clock = clock
        self._lock = threading.Lock()
        # The writer thread waits for a token here (see "Locks" in the module docstring).
        self._wakeups: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._progress = threading.Condition(self._lock)  # flush() and write() wait here
        self._queue: list[bytes] = []
        self._queued_bytes = 0
        self._queued_total = 0  # bytes ever queued
        self._written_total = 0  # bytes ever handed to the operating system
        self._writing = False  # a thread is writing a batch
        self._signalled = False  # the writer thread has work it has not taken yet
        self._last_write = float("-inf")  # clock() when the last write ended
        self._closed = False
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # The batch being written and the progress of its write (None: none).
        self._in_flight: tuple[list[bytes], list[int]] | None = None
        self._writing_since = 0.0  # clock() when the write under way started
        self._waiting = 0  # threads waiting on _progress
        _live.add(self)

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether bytes are queued or being written."""
        return self._writing or bool(self._queue)

    @property
    def writing_since(self) -> float | None:
        """``clock()`` when the write under way started (``None``: none is)."""
        return self._writing_since if self._writing else None

    @property
    def queued_bytes(self) -> int:
        """Bytes queued and not yet handed to the writing thread."""
        return self._queued_bytes

    @property
    def thread(self) -> threading.Thread | None:
        """The writer thread, once started."""
        return self._thread

    # -- writing --------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data`` and write it now (idle connection) or let it be written in a
        batch (busy connection).

        Raises:
            NotConnectedException: the writer is closed.
            SendTimeoutException: past the high-water mark, the queue did not drain
                within the send timeout (``data`` was not queued).
            OSError: the write this call made failed (the connection is closed).
        """
        size = len(data)
        now = self._clock()
        with self._lock:  # (no call on the common paths: see "Locks" in the module docstring)
            if self._error is not None or self._closed:
                self._check_open()
            if self._queued_bytes > self.high_water:
                self._wait_below_high_water()  # before queueing: a timeout sends nothing
                self._check_open()  # (closed meanwhile: the queue was dropped)
            self._queued_bytes += size
            self._queued_total += size
            self._queue += (data,)
            if self._writing or (self._signalled and self._thread is not None):
                return  # whoever writes now takes it
            batched = now - self._last_write < COALESCE_WINDOW
            if batched:
                self._signalled = True
        if batched:
            self._wake()
        else:
            self._write_queued()

    def flush(self, timeout: float | None = None) -> None:
        """Return once every byte queued before this call was handed to the operating
        system; this thread writes them if no other is writing.

        Args:
            timeout: the longest wait for another thread's write (``None``: the send
                timeout bounds each write anyway).

        Raises:
            NotConnectedException: the writer was closed first.
            SendTimeoutException: ``timeout`` passed first.
            OSError: the write this call made failed (the connection is closed).
        """
        deadline = None if timeout is None else self._clock() + timeout
        with self._lock:
            target = self._queued_total
        while True:
            with self._lock:
                if self._written_total >= target:
                    return
                if not self._writing:
                    # (while a write is under way, its outcome decides, closed or not)
                    self._check_open()
                    if not self._queue:
                        return  # (nothing left to write: never wait for nothing)
                else:
                    remaining = None if deadline is None else deadline - self._clock()
                    if remaining is not None and remaining <= 0:
                        raise SendTimeoutException(
                            f"flush: {target - self._written_total} bytes not written within "
                            f"{timeout} s"
                        )
                    self._wait_for_progress(remaining)
                    continue
            self._write_queued()

    def close(self) -> None:
        """Stop: queued bytes are dropped, waiting callers raise
        :class:`~stomp.exception.NotConnectedException`, the writer thread ends."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._queued_bytes = 0
            self._progress.notify_all()
        self._wakeups.put(None)  # (the writer thread, if waiting, sees it is closed)
        _live.discard(self)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the writer thread to end (after :meth:`close`); returns whether it
        did."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    # -- inside ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        # (under the lock)
        if self._error is not None:
            raise NotConnectedException(f"not connected: the last write failed ({self._error})")
        if self._closed:
            raise NotConnectedException("not connected: the connection is closed")

    def _wake(self) -> None:
        # Wake the writer thread (starting it the first time), after setting _signalled
        # under the lock, and called without it.
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    thread.start()
                    self._thread = thread
                    return
        self._wakeups.put(None)

    def _write_queued(self, by_writer_thread: bool = False) -> None:
        # Write what is queued, unless another thread is writing (called without the
        # lock).  A write error is reported once and closes the connection; an exception
        # from elsewhere (KeyboardInterrupt) leaves the stream whole (see _recover).
        try:
            started = self._clock()
            with self._lock:
                if self._writing or not self._queue:
                    return
                # Claim the queue.  Only stores: no exception can be raised between them
                # (see "Interrupts" in the module docstring).
                self._in_flight = (self._queue, [])
                self._queue = []
                self._queued_bytes = 0
                self._writing = True
                self._signalled = False
                self._writing_since = started
            batch, progress = self._in_flight
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            size = len(data)
            self._write_all(data, progress)
            now = self._clock()
            wake = False
            with self._lock:
                # (stores only, then the notifications)
                self._written_total += size
                self._last_write = now
                self._in_flight = None
                self._writing = False
                if self._queue and not self._signalled:
                    # Queued meanwhile: for the writer thread (which, when it is the one
                    # here, goes on by itself).
                    self._signalled = True
                    wake = not by_writer_thread
                if self._waiting:
                    self._progress.notify_all()
            if wake:
                self._wake()
        except BaseException as exc:
            self._recover(exc)

    def _recover(self, exc: BaseException) -> None:
        # After an exception in _write_queued: settle the batch in flight by its recorded
        # progress, then re-raise (as NotConnectedException if the connection was closed
        # meanwhile).
        first = failed = False
        with self._lock:
            flight, self._in_flight = self._in_flight, None
            if flight is None:  # nothing taken, or all settled already
                raise exc
            batch, progress = flight
            total = sum(map(len, batch))
            done = sum(progress)
            self._writing = False
            self._progress.notify_all()
            if done >= total:  # it all went out: only the bookkeeping was interrupted
                self._written_total += total
                self._last_write = self._clock()
            elif not isinstance(exc, Exception) and not self._closed:
                # Interrupted (KeyboardInterrupt, SystemExit): the rest goes out later.
                rest = b"".join(batch)[done:]
                self._written_total += done
                self._queue.insert(0, rest)
                self._queued_bytes += len(rest)
            else:  # the write failed
                failed = True
                first = self._error is None and not self._closed
                if first:
                    self._error = exc
            wake = not failed and bool(self._queue) and not self._signalled
            if wake:
                self._signalled = True
        if wake:
            self._wake()
        if first:
            self._on_error(exc)
        elif failed and isinstance(exc, OSError):
            raise NotConnectedException(f"not connected: {exc}") from exc
        raise exc

    def _wait_below_high_water(self) -> None:
        # (under the lock) Past the high-water mark: wait for the writer to drain.
        timeout = self.send_timeout
        deadline = None if timeout is None else self._clock() + timeout
        while self._queued_bytes > self.high_water:
            self._check_open()
            remaining = None if deadline is None else deadline - self._clock()
            if remaining is not None and remaining <= 0:
                raise SendTimeoutException(
                    f"{self._queued_bytes} bytes queued (high-water mark {self.high_water}) "
                    f"did not drain within {timeout} s: the broker is not reading"
                )
            self._wait_for_progress(remaining)

    def _wait_for_progress(self, remaining: float | None) -> None:
        # (under the lock) Wait for a write to end, at most ``remaining`` seconds.
        self._waiting += 1
        try:
            self._progress.wait(_RECHECK if remaining is None else min(remaining, _RECHECK))
        finally:
            self._waiting -= 1

    def _run(self) -> None:
        # The writer thread: write whatever is queued, in batches, until closed.  It waits
        # for a token on _wakeups (not under the lock); whoever sets _signalled puts one.
        leave_signals_to_the_main_thread()
        while True:
            with self._lock:
                if self._closed or self._error is not None:
                    return
                work = not self._writing and bool(self._queue)
                self._signalled = work  # (true until the queue is claimed)
            if not work:
                try:
                    self._wakeups.get(timeout=_RECHECK)
                except queue.Empty:
                    pass
                continue
            try:
                self._write_queued(by_writer_thread=True)
            except BaseException as exc:  # reported through on_error
                _log.debug("writer thread ends: %s", exc)
                return


# The writers of live connections, flushed at interpreter exit.
_live: weakref.WeakSet[FrameWriter] = weakref.WeakSet()


def _flush_at_exit() -> None:
    deadline = time.monotonic() + EXIT_FLUSH_TIMEOUT
    for writer in list(_live):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if writer.busy:
            try:
                writer.flush(remaining)
            except Exception as exc:  # the connection is going away with the process
                _log.debug("frames queued at exit not written: %s", exc)


atexit.register(_flush_at_exit)
