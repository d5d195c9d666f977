"""Heart-beat sending and timeout detection, run by the transport.

One :class:`Heartbeater` serves one connection (one socket): a daemon thread that writes an
EOL whenever nothing else has been written for ``send_interval`` seconds, and declares the
link dead when nothing has been read for ``receive_timeout`` seconds.

Two rules keep it from misfiring:

* any byte counts as life, not just heart-beats: the transport stamps
  :attr:`~stomp.transport.BaseTransport.last_received` on every read;
* a listener that is slow to return is not a dead broker: before declaring a timeout the
  thread asks the socket whether bytes are waiting to be read, and if so, the link is alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("stomp.py")


class Heartbeater:
    """The heart-beat thread of one connection.

    Args:
        send_interval: seconds between outbound heart-beats; 0 sends none.
        receive_timeout: seconds of inbound silence after which the link is dead; 0 never.
        send_heartbeat: writes one heart-beat (called on the heart-beat thread).
        last_sent: returns the ``time.monotonic()`` of the last write.
        last_received: returns the ``time.monotonic()`` of the last read.
        bytes_waiting: returns whether unread bytes wait in the socket.
        on_timeout: called once, on the heart-beat thread, when the link is found dead.
        name: the thread's name.

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
    ) -> None:
        self.send_interval = send_interval
        self.receive_timeout = receive_timeout
        self._send_heartbeat = send_heartbeat
        self._last_sent = last_sent
        self._last_received = last_received
        self._bytes_waiting = bytes_waiting
        self._on_timeout = on_timeout
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self.thread = threading.Thread(target=self.run, name=name, daemon=True)

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
        """Change the intervals; the loop applies them at once."""
        self.send_interval = send_interval
        self.receive_timeout = receive_timeout
        self._wakeup.set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called or the link was declared dead."""
        return self._stop.is_set()

    def run(self) -> None:
        """The loop (what the thread runs): until stopped, the link found dead, or both
        intervals are 0."""
        stop = self._stop
        wakeup = self._wakeup
        # The first heart-beat may come late (ActiveMQ sends it after twice the interval):
        # the link counts as heard from one receive timeout after the start, so the first
        # timeout comes no earlier than two receive timeouts after it.
        heard_at_least = time.monotonic() + self.receive_timeout
        try:
            while not stop.is_set():
                send_interval = self.send_interval
                receive_timeout = self.receive_timeout
                now = time.monotonic()
                deadlines = []
                if send_interval:
                    due = self._last_sent() + send_interval
                    if due <= now:
                        try:
                            self._send_heartbeat()
                        except Exception as exc:  # the link is going down; the reader sees it
                            log.debug("unable to send heartbeat, due to: %s", exc)
                        due = now + send_interval
                    deadlines.append(due)
                if receive_timeout:
                    heard = max(self._last_received(), heard_at_least)
                    if now - heard > receive_timeout:
                        if not self._bytes_waiting():
                            stop.set()
                            self._on_timeout(now - self._last_received())
                            return
                        deadlines.append(now + receive_timeout)
                    else:
                        deadlines.append(heard + receive_timeout)
                if not deadlines:
                    return
                # Wake a little after the earliest deadline rather than spin on it.
                wakeup.wait(max(min(deadlines) - time.monotonic(), 0.0) + 0.005)
                wakeup.clear()
        finally:
            log.debug("heartbeat loop ended")
