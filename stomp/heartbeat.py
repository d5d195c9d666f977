"""Heart-beat rules, written once for the client, the embedded broker and the CLI.

* :func:`parse` reads a ``heart-beat`` header (or ``--heartbeats`` option) and
  :func:`negotiate` turns two offers into the intervals each side must keep.
* :class:`HeartbeatTimer` decides, from times passed in, when a heart-beat is due and
  when the peer has been silent too long.  It does no I/O and reads no clock.
* :class:`Heartbeater` is the thread that runs a timer for one connection: it writes an
  EOL whenever nothing else has been written for the send interval, and declares the link
  dead after the receive timeout.  Its clock can be replaced, and :meth:`Heartbeater.step`
  run by hand, so its tests need no real time.

Two rules keep the timeout from misfiring:

* any byte counts as life, not just heart-beats: the transport stamps every read;
* a listener that is slow to return is not a dead broker: before declaring a timeout the
  heart-beater asks the socket whether bytes are waiting to be read, and if so, the link is
  alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from stomp.threads import leave_signals_to_the_main_thread

__all__ = ["HeartbeatTimer", "Heartbeater", "negotiate", "parse"]

log = logging.getLogger("stomp.py")


def parse(value: str | None) -> tuple[int, int]:
    """``"x,y"`` -> ``(x, y)`` in milliseconds; ``None`` (no header) is ``(0, 0)``.

    Blanks around the numbers are allowed (brokers write ``"10000, 10000"``).

    Raises:
        ValueError: anything but two non-negative integers separated by a comma.
    """
    if value is None:
        return (0, 0)
    parts = str(value).split(",")
    if len(parts) == 2:
        first, second = parts[0].strip(), parts[1].strip()
        if first.isascii() and first.isdigit() and second.isascii() and second.isdigit():
            return (int(first), int(second))
    raise ValueError(f"expected two non-negative integers 'x,y', got {value!r}")


def negotiate(own: tuple[int, int], peer: tuple[int, int]) -> tuple[int, int]:
    """The intervals one side must keep, in milliseconds, from the two offers.

    Each offer is ``(x, y)``: "I can send every ``x`` ms" and "I want to receive every
    ``y`` ms" (0: not at all), as in the ``heart-beat`` headers of CONNECT and CONNECTED.

    Returns:
        ``(send, receive)``: how often this side must send (``max(own x, peer y)``, or 0
        if either is 0) and how often it may expect the peer's heart-beats
        (``max(own y, peer x)``, or 0 if either is 0).
    """
    send = max(own[0], peer[1]) if own[0] and peer[1] else 0
    receive = max(own[1], peer[0]) if own[1] and peer[0] else 0
    return send, receive


class HeartbeatTimer:
    """When to send a heart-beat and when the peer has been silent too long.

    Times are seconds on any clock that does not go back (``time.monotonic()``), passed in.

    Args:
        send_interval: send a heart-beat after this long without writing; 0 never.
        receive_timeout: the peer is dead after this long without a byte; 0 never.
        start: when heart-beats start.  The first heart-beat may come late (ActiveMQ sends
            it after twice the interval): the peer counts as heard from one receive timeout
            after the start, so the first timeout comes no earlier than two receive
            timeouts after it.

    Attributes:
        send_interval, receive_timeout: as above; may be changed at any time.
    """

    def __init__(self, send_interval: float, receive_timeout: float, start: float) -> None:
        self.send_interval = send_interval
        self.receive_timeout = receive_timeout
        self._heard_at_least = start + receive_timeout
        self._last_attempt = float("-inf")

    def send_due(self, now: float, last_sent: float) -> bool:
        """Whether a heart-beat must be sent at ``now`` (nothing written since
        ``last_sent``, nor tried since an attempt that failed)."""
        interval = self.send_interval
        return bool(interval) and max(last_sent, self._last_attempt) + interval <= now

    def attempted(self, now: float) -> None:
        """A heart-beat was sent (or tried) at ``now``: the next one is not due before
        ``now + send_interval`` even if the write failed."""
        self._last_attempt = now

    def silent_for(self, now: float, last_received: float) -> float | None:
        """How long the peer has been silent, if longer than the receive timeout; else
        ``None`` (the grace for the first heart-beat counts as heard)."""
        timeout = self.receive_timeout
        if not timeout:
            return None
        heard = max(last_received, self._heard_at_least)
        return now - last_received if now - heard > timeout else None

    def next_check(self, now: float, last_sent: float, last_received: float) -> float | None:
        """When to look again: the earliest of the next send and timeout deadlines, or
        ``None`` when there is nothing to watch (both intervals 0)."""
        deadlines = []
        if self.send_interval:
            deadlines.append(max(last_sent, self._last_attempt) + self.send_interval)
        if self.receive_timeout:
            heard = max(last_received, self._heard_at_least)
            deadlines.append(max(heard + self.receive_timeout, now))
        return min(deadlines) if deadlines else None


class Heartbeater:
    """The heart-beat thread of one connection: a :class:`HeartbeatTimer` run on a clock.

    Args:
        send_interval: seconds between outbound heart-beats; 0 sends none.
        receive_timeout: seconds of inbound silence after which the link is dead; 0 never.
        send_heartbeat: writes one heart-beat (called on the heart-beat thread).
        last_sent: returns the clock time of the last write.
        last_received: returns the clock time of the last read.
        bytes_waiting: returns whether unread bytes wait in the socket.
        on_timeout: called once, on the heart-beat thread, when the link is found dead,
            with how long it had been silent.
        name: the thread's name.
        clock: the clock (default ``time.monotonic``); tests pass their own.

    The two intervals may be changed while it runs (:meth:`update`).
    """

    def __init__(
        self,
        send_interval: float,
        receive_timeout: float,
        *,
        send_heartbeat: Callable[[], None],
        last_sent: Callable[[], float],
        last_received: Callable[[], float],
        bytes_waiting: Callable[[], bool],
        on_timeout: Callable[[float], None],
        name: str = "StompHeartbeat",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self.timer = HeartbeatTimer(send_interval, receive_timeout, clock())
        self._send_heartbeat = send_heartbeat
        self._last_sent = last_sent
        self._last_received = last_received
        self._bytes_waiting = bytes_waiting
        self._on_timeout = on_timeout
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

    @property
    def send_interval(self) -> float:
        """Seconds between outbound heart-beats (0: none)."""
        return self.timer.send_interval

    @property
    def receive_timeout(self) -> float:
        """Seconds of inbound silence after which the link is dead (0: never)."""
        return self.timer.receive_timeout

    def start(self) -> None:
        """Start the thread."""
        log.debug(
            "starting heartbeat loop (send every %.3fs, timeout after %.3fs of silence)",
            self.send_interval,
            self.receive_timeout,
        )
        self.thread.start()

    def stop(self, join_timeout: float | None = 2.0) -> None:
        """Stop the thread and, unless called from it, wait for it to end (bounded)."""
        self._stop.set()
        self._wakeup.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(join_timeout)

    def update(self, send_interval: float, receive_timeout: float) -> None:
        """Change the intervals; the thread applies them at once."""
        self.timer.send_interval = send_interval
        self.timer.receive_timeout = receive_timeout
        self._wakeup.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called or the link was declared dead."""
        return self._stop.is_set()

    def step(self) -> float | None:
        """Look at the clock once: send a heart-beat if one is due, declare the link dead
        if it is.  Returns the clock time to look again, or ``None`` when done (stopped,
        dead, or nothing to watch)."""
        if self._stop.is_set():
            return None
        timer = self.timer
        now = self._clock()
        if timer.send_due(now, self._last_sent()):
            timer.attempted(now)
            try:
                self._send_heartbeat()
            except Exception as exc:  # the link is going down; the reader sees it
                log.debug("unable to send heartbeat, due to: %s", exc)
        last_received = self._last_received()
        silent = timer.silent_for(now, last_received)
        if silent is not None:
            if not self._bytes_waiting():
                self._stop.set()
                self._on_timeout(silent)
                return None
            # A listener is slow, the broker is not: look again one timeout later.
            return now + timer.receive_timeout
        return timer.next_check(now, self._last_sent(), last_received)

    def run(self) -> None:
        """The thread's loop: :meth:`step` until it says done, sleeping in between."""
        leave_signals_to_the_main_thread()
        wakeup = self._wakeup
        try:
            while True:
                wake_at = self.step()
                if wake_at is None:
                    return
                # Wake a little after the deadline rather than spin on it.
                wakeup.wait(max(wake_at - self._clock(), 0.0) + 0.005)
                wakeup.clear()
        finally:
            log.debug("heartbeat loop ended")
