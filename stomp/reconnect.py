"""Automatic reconnection and confirmed publishing, for the threaded connections.

Both are opt-in; without them a connection behaves as stomp.py's: a lost connection stays
lost, and ``send(receipt=...)`` is all there is.

:class:`Reconnector` (``auto_reconnect=True`` or a :class:`ReconnectPolicy`): when a
connection is lost without ``disconnect()`` (a socket error, the broker closing it, a
heart-beat timeout), listeners hear ``on_disconnected`` as always; then a thread goes
through the host list again, with the connection's back-off and jitter, sends the same
CONNECT (credentials and headers), subscribes every active subscription again with its id,
ack mode and headers, sends again the confirmed sends not yet confirmed, in their order,
and only then lets the application's calls through again.  Listeners hear
``on_connecting`` and ``on_connected`` as for the first connection.  Calls made meanwhile
(``send``, ``subscribe``, ``ack`` ...) wait for it, at most the policy's ``wait`` seconds,
then raise :class:`~stomp.exception.NotConnectedException`.  When the policy's attempts or
time run out, listeners get ``on_reconnect_failed(exception)`` and waiting calls raise.
``disconnect()`` stops a reconnection at once.

:class:`Confirmations` (``send_confirmed``): each confirmed send carries a receipt and gets
a :class:`concurrent.futures.Future`, resolved with the RECEIPT frame, failed with
:class:`~stomp.exception.PublishFailedException` on an ERROR naming its receipt, or when
the connection ends for good before the receipt came.  Many may be in flight at once.
With automatic reconnection, the unconfirmed ones are sent again on the new connection:
delivery is at least once (a message whose RECEIPT was lost with the connection reaches
the broker twice).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stomp.codec import Frame
from stomp.constants import CMD_CONNECT, CMD_STOMP
from stomp.exception import (
    ConnectFailedException,
    NotConnectedException,
    PublishFailedException,
    ReconnectFailedException,
)
from stomp.failover import HostList
from stomp.threads import leave_signals_to_the_main_thread

if TYPE_CHECKING:
    from stomp.confirmation import Confirmation
    from stomp.transport import BaseTransport

__all__ = ["Confirmations", "ReconnectPolicy", "Reconnector"]

log = logging.getLogger("stomp.py")


class ReconnectPolicy:
    """How long automatic reconnection goes on (``auto_reconnect=ReconnectPolicy(...)``;
    ``auto_reconnect=True`` is ``ReconnectPolicy()``).  Immutable.

    Args:
        max_attempts: rounds through the host list before giving up (each round tries
            every host, with the connection's ``reconnect_attempts_max``, back-off and
            jitter); ``-1``: no limit but ``max_time``.
        max_time: seconds from the loss to giving up; ``None``: no limit but
            ``max_attempts`` (both unlimited: it goes on until ``disconnect()``).
        wait: the longest a call made while reconnecting waits before raising
            :class:`~stomp.exception.NotConnectedException`; ``None``: the connection's
            ``timeout``, or 30 s.
    """

    __slots__ = ("max_attempts", "max_time", "wait")

    max_attempts: int
    max_time: float | None
    wait: float | None

    def __init__(
        self, max_attempts: int = -1, max_time: float | None = 300.0, wait: float | None = None
    ) -> None:
        # (a plain class, not a dataclass: ``import stomp`` does not pay for dataclasses)
        object.__setattr__(self, "max_attempts", max_attempts)
        object.__setattr__(self, "max_time", max_time)
        object.__setattr__(self, "wait", wait)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ReconnectPolicy is immutable")

    def __repr__(self) -> str:
        return (
            f"ReconnectPolicy(max_attempts={self.max_attempts}, max_time={self.max_time}, "
            f"wait={self.wait})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReconnectPolicy):
            return NotImplemented
        return (self.max_attempts, self.max_time, self.wait) == (
            other.max_attempts,
            other.max_time,
            other.wait,
        )

    def __hash__(self) -> int:
        return hash((self.max_attempts, self.max_time, self.wait))


def policy_of(auto_reconnect: bool | ReconnectPolicy | None) -> ReconnectPolicy | None:
    """The policy an ``auto_reconnect`` argument stands for (``None``: off)."""
    if isinstance(auto_reconnect, ReconnectPolicy):
        return auto_reconnect
    if auto_reconnect is True:
        return ReconnectPolicy()
    if auto_reconnect in (False, None):
        return None
    raise TypeError(f"auto_reconnect must be a bool or a ReconnectPolicy: {auto_reconnect!r}")


class Confirmations:
    """The confirmed sends waiting for their receipts (a listener of the transport).

    Args:
        resend: ``resend(receipt, args)`` sends again a message first sent with ``args``
            (what :meth:`add` was given) and ``receipt``.
    """

    def __init__(self, resend: Callable[[str, Any], None]) -> None:
        # Receipt ids: a random prefix per connection object, then a count (cheaper than a
        # UUID per message, and as unique within the connection).
        self._prefix = f"c-{os.urandom(6).hex()}-"
        self._numbers = itertools.count(1)
        self._resend = resend
        # (a plain lock on the path of every message; the condition only for wait())
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._waiting = 0
        # receipt id -> its future (which keeps the send's arguments), in the order sent.
        # A future whose first send() call has not returned yet (not ``_sent``) is written
        # by that call (on a new connection, if it waits for one), not by resend_all().
        self._pending: dict[str, Confirmation] = {}
        self._failures: list[BaseException] = []
        global _CONFIRMATION
        if _CONFIRMATION is None:
            # (concurrent.futures is imported on first use: import stomp stays light)
            from stomp.confirmation import Confirmation

            _CONFIRMATION = Confirmation
        self._new_future = _CONFIRMATION

    def new_receipt(self) -> str:
        """A receipt id for the next confirmed send."""
        return f"{self._prefix}{next(self._numbers)}"

    def add(self, receipt: str, args: Any) -> Confirmation:
        """A send with ``receipt`` and ``args`` (for the ``resend`` function) is about to
        go: its future, pending."""
        future = self._new_future(args)
        with self._lock:
            self._pending[receipt] = future
        return future

    def forget(self, receipt: str) -> None:
        """The send of ``receipt`` failed before it went out (its caller has the error)."""
        with self._lock:
            self._pending.pop(receipt, None)
            if self._waiting:
                self._settled.notify_all()

    def __len__(self) -> int:
        return len(self._pending)

    def resent_by_reconnection(self, receipt: str) -> bool:
        """Whether a reconnection sends ``receipt`` again (it awaits its receipt and its
        first send() returned)."""
        future = self._pending.get(receipt)
        return future is not None and future._sent

    def on_receipt(self, frame: Frame) -> None:
        receipt = frame.headers.get("receipt-id")
        if receipt is None:
            return
        with self._lock:
            future = self._pending.pop(receipt, None)
            if future is None:
                return
            if self._waiting and not self._pending:
                self._settled.notify_all()
        future._settle(frame, None)

    def on_error(self, frame: Frame) -> None:
        receipt = frame.headers.get("receipt-id")
        with self._lock:
            future = self._pending.pop(receipt, None) if receipt is not None else None
            if future is None:
                return
            message = frame.headers.get("message") or "ERROR frame"
            error = PublishFailedException(
                f"the broker refused the message (receipt {receipt}): {message}", frame=frame
            )
            self._failures.append(error)
            if self._waiting and not self._pending:
                self._settled.notify_all()
        future._settle(None, error)

    def fail_all(self, reason: str, cause: BaseException | None = None) -> None:
        """The connection ended for good: every pending send fails."""
        with self._lock:
            pending, self._pending = self._pending, {}
            errors = []
            for receipt, future in pending.items():
                error = PublishFailedException(f"no receipt for {receipt}: {reason}")
                error.__cause__ = cause
                errors.append((future, error))
            self._failures.extend(error for _, error in errors)
            if self._waiting:
                self._settled.notify_all()
        for future, error in errors:
            future._settle(None, error)

    def on_reconnect_failed(self, exception: Exception) -> None:
        self.fail_all(f"the connection was lost and reconnection gave up: {exception}", exception)

    def resend_all(self) -> None:
        """Send every unconfirmed message again, in the order first sent (on a new
        connection, before the application's next frame)."""
        with self._lock:
            resends = [
                (receipt, future._resend)
                for receipt, future in self._pending.items()
                if future._sent
            ]
        resend = self._resend
        for receipt, args in resends:
            if args is not None:  # (None: confirmed meanwhile)
                resend(receipt, args)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until every confirmed send so far is confirmed or failed.

        Raises:
            PublishFailedException: one or more failed since the last call (the first
                one's error, with the count).
            TimeoutError: some are still unconfirmed after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._waiting += 1
            try:
                while self._pending:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(
                            f"{len(self._pending)} confirmed send(s) still unconfirmed after "
                            f"{timeout} s"
                        )
                    self._settled.wait(remaining)
            finally:
                self._waiting -= 1
            failures, self._failures = self._failures, []
        if failures:
            first = failures[0]
            raise PublishFailedException(
                f"{len(failures)} confirmed send(s) failed; the first: {first}",
                frame=getattr(first, "frame", None),
            ) from first


_CONFIRMATION: type[Confirmation] | None = None  # (stomp.confirmation, on first use)


class Reconnector:
    """Automatic reconnection of one connection (see the module docstring).

    Args:
        transport: the connection's transport.
        policy: its limits.
        restore: what to send once reconnected, before the application's calls go on
            (subscriptions, unconfirmed sends); called on the reconnecting thread.
    """

    def __init__(
        self,
        transport: BaseTransport,
        policy: ReconnectPolicy,
        restore: Callable[[], None],
    ) -> None:
        self.transport = transport
        self.policy = policy
        self._restore = restore
        self._send_connect: Callable[[], None] | None = None
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._failure: BaseException | None = None
        transport.session.track_deliveries = True

    @property
    def stopped(self) -> bool:
        """Whether ``disconnect()`` stopped it (until the next ``connect()``)."""
        return self._stopped.is_set()

    @property
    def active(self) -> bool:
        """Whether a reconnection is under way."""
        return self._thread is not None

    def armed(self, send_connect: Callable[[], None]) -> None:
        """``connect()`` opened the connection with ``send_connect`` (which writes its
        CONNECT frame): reconnect the same way when it is lost."""
        self._send_connect = send_connect
        self._stopped.clear()
        self._failure = None

    def stop(self) -> None:
        """``disconnect()``: no reconnection from now on; one under way ends at once."""
        self._stopped.set()
        self._send_connect = None
        hosts = getattr(self.transport, "_hosts", None)
        if hosts is not None:
            hosts.interrupt()
        with self._lock:
            thread = self._thread
            if thread is not None and self._failure is None:
                self._failure = ReconnectFailedException("disconnect() was called")
            self._lock.notify_all()
        current = threading.current_thread()
        if thread is not None and thread is not current:
            # A connection being opened ends now (its CONNECTED is no longer awaited).
            self.transport.disconnect_socket()
            if current is not self.transport.io_thread:  # (a listener: it cannot wait)
                thread.join(self._wait_limit())

    def lost(self) -> bool:
        """The connection ended.  Returns whether a reconnection goes on (it starts one
        unless ``disconnect()`` was called or none was armed)."""
        if self._send_connect is None or self._stopped.is_set():
            return False
        with self._lock:
            if self._thread is not None:
                return True  # (a connection of the reconnection itself was lost)
            self._failure = None
            self._thread = threading.Thread(target=self._run, name="StompReconnect", daemon=True)
            self.transport.gate = self._gate
            self._thread.start()
            self._lock.notify_all()
        log.info("connection lost: reconnecting")
        return True

    def recover(self) -> bool:
        """A write failed because the connection is gone: wait until it has been
        re-established (the loss may not even have been noticed yet), at most the policy's
        ``wait``.  Returns whether it was (``False`` when no reconnection is to be had:
        none armed, ``disconnect()`` called, or called from the reconnecting or receiving
        thread).

        Raises:
            NotConnectedException: the reconnection gave up.
        """
        current = threading.current_thread()
        if (
            self._send_connect is None
            or self._stopped.is_set()
            or current is self._thread
            or current is self.transport.io_thread
        ):
            return False
        deadline = time.monotonic() + self._wait_limit()
        with self._lock:
            while self._thread is None and not self.transport.is_connected():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped.is_set():
                    return False
                self._lock.wait(min(remaining, 0.05))  # (lost() notifies; polled too)
        self._gate(None)
        return self.transport.is_connected()

    def wait_ready(self) -> None:
        """Wait for a reconnection under way (see :meth:`_gate`)."""
        self._gate(None)

    def _wait_limit(self) -> float:
        wait = self.policy.wait
        if wait is not None:
            return wait
        timeout = self.transport.timeout
        return timeout if timeout is not None else 30.0

    def _gate(self, frame: Frame | None) -> None:
        # Before each frame is written: while reconnecting, the application's calls wait
        # (the reconnecting thread's own frames, CONNECT, and what listeners send from the
        # receiver thread go through).
        if self._thread is None:
            return
        current = threading.current_thread()
        if current is self._thread or current is self.transport.io_thread:
            return
        if frame is not None and frame.cmd in (CMD_CONNECT, CMD_STOMP):
            return
        limit = self._wait_limit()
        deadline = time.monotonic() + limit
        with self._lock:
            while self._thread is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise NotConnectedException(
                        f"the connection is being re-established; not done within {limit} s"
                    )
                self._lock.wait(remaining)
            failure = self._failure
        if failure is not None:
            raise NotConnectedException(f"the connection was lost: {failure}") from failure

    def _run(self) -> None:
        leave_signals_to_the_main_thread()
        policy = self.policy
        transport = self.transport
        started = time.monotonic()
        rounds = 0
        failure: ReconnectFailedException | None = None
        while True:
            send_connect = self._send_connect
            if self._stopped.is_set() or send_connect is None:
                failure = ReconnectFailedException("disconnect() was called")
                break
            try:
                transport.establish(send_connect, wait=True)
                self._restore()
            except (ConnectFailedException, NotConnectedException, OSError) as exc:
                if self._stopped.is_set():
                    continue
                rounds += 1
                elapsed = time.monotonic() - started
                log.warning("reconnection attempt %d failed: %s", rounds, exc)
                if policy.max_attempts >= 0 and rounds >= policy.max_attempts:
                    failure = ReconnectFailedException(
                        f"gave up reconnecting after {rounds} attempt(s) in {elapsed:.1f} s: {exc}"
                    )
                    break
                if policy.max_time is not None and elapsed >= policy.max_time:
                    failure = ReconnectFailedException(
                        f"gave up reconnecting after {elapsed:.1f} s ({rounds} attempt(s)): {exc}"
                    )
                    break
                delay = self._delay(rounds)
                if policy.max_time is not None:
                    delay = min(delay, max(0.0, policy.max_time - elapsed))
                self._stopped.wait(delay)
                continue
            except Exception as exc:  # (a listener's on_send raising, say): give up, say why
                log.exception("reconnection failed")
                failure = ReconnectFailedException(f"reconnection failed: {exc!r}")
                failure.__cause__ = exc
                break
            if not transport.is_connected():
                continue  # lost again while restoring: the loss was noted, try again
            log.info("reconnected to %s", transport.current_host_and_port)
            break
        with self._lock:
            self._thread = None
            if failure is not None and self._failure is None:
                self._failure = failure
            transport.gate = None
            self._lock.notify_all()
        if failure is not None and not self._stopped.is_set():
            log.error("%s", failure)
            transport._call("reconnect_failed", failure)

    def _delay(self, rounds: int) -> float:
        # The host list's back-off between rounds (its defaults for a transport without one).
        hosts = getattr(self.transport, "_hosts", None)
        if hosts is None:
            hosts = HostList(prefer_localhost=False, try_loopback_connect=False)
        return hosts.backoff(rounds - 1)


def restore_subscriptions(transport: BaseTransport) -> None:
    """Subscribe again, on a new connection, to everything the session has active."""
    for subscription in list(transport.session.subscriptions.values()):
        transport.transmit(Frame("SUBSCRIBE", dict(subscription.headers), ""))
