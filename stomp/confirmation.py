"""The future of a confirmed send (``send_confirmed``): a real
:class:`concurrent.futures.Future` that costs less while nobody looks at it.

A program that pipelines thousands of confirmed sends and then calls
``wait_for_confirms()`` never waits on any one future, yet a plain ``Future`` makes a
:class:`threading.Condition` (a lock, a deque and their bookkeeping) for each, and notifies
it when the receipt comes.  A :class:`Confirmation` makes its condition the first time
anything needs it: every method of ``Future`` (and ``concurrent.futures.wait`` /
``as_completed``, which take the futures' conditions) goes through ``_condition``, so a
future whose condition was never made has no waiter and no callback, and its outcome can
be stored without one.  Making the condition and settling without one exclude each other
(one module lock), so no waiter can slip in between.

This module imports :mod:`concurrent.futures`, so it is imported on the first confirmed
send (``import stomp`` stays light).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, InvalidStateError
from typing import Any

from stomp.codec import Frame

__all__ = ["Confirmation"]

log = logging.getLogger("stomp.py")

# (the state names of concurrent.futures, checked below against a real Future)
_PENDING = "PENDING"
_FINISHED = "FINISHED"

# Held while a future's condition is made, and while a future without one is settled.
_CREATING = threading.Lock()


class Confirmation(Future[Frame]):
    """A :class:`concurrent.futures.Future` of one confirmed send, resolved with its
    RECEIPT frame or failed with :class:`~stomp.exception.PublishFailedException` (see
    ``send_confirmed``).  Everything ``Future`` offers works as on any future; only the
    connection settles it."""

    __slots__ = (
        "_callbacks_list",
        "_cond",
        "_exception",
        "_resend",
        "_result",
        "_sent",
        "_state",
        "_waiters_list",
    )

    def __init__(self, resend: Any = None) -> None:
        # (Future.__init__ is not called: it would make the condition now)
        self._cond: threading.Condition | None = None
        self._state = _PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._waiters_list: list[Any] | None = None
        self._callbacks_list: list[Any] | None = None
        #: what the connection needs to send it again (dropped once settled)
        self._resend = resend
        #: whether its first send() returned (a reconnection sends it again from then on)
        self._sent = False

    # Future's own attributes, made on first use.  Future and concurrent.futures touch
    # _waiters and _done_callbacks only under _condition, so those need no lock of their
    # own.

    @property
    def _condition(self) -> threading.Condition:
        cond = self._cond
        if cond is None:
            with _CREATING:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition()
        return cond

    @_condition.setter
    def _condition(self, cond: threading.Condition) -> None:
        self._cond = cond

    @property
    def _waiters(self) -> list[Any]:
        waiters = self._waiters_list
        if waiters is None:
            waiters = self._waiters_list = []
        return waiters

    @_waiters.setter
    def _waiters(self, waiters: list[Any]) -> None:
        self._waiters_list = waiters

    @property
    def _done_callbacks(self) -> list[Any]:
        callbacks = self._callbacks_list
        if callbacks is None:
            callbacks = self._callbacks_list = []
        return callbacks

    @_done_callbacks.setter
    def _done_callbacks(self, callbacks: list[Any]) -> None:
        self._callbacks_list = callbacks

    # A finished future never changes again: no need for the condition to read it.

    def done(self) -> bool:
        """Whether it is confirmed, failed or cancelled."""
        if self._state == _FINISHED:
            return True
        return super().done()

    def cancelled(self) -> bool:
        """Whether it was cancelled (the message goes out all the same: only nobody waits
        for its answer)."""
        if self._state == _FINISHED:
            return False
        return super().cancelled()

    def result(self, timeout: float | None = None) -> Frame:
        """The RECEIPT frame, once it came (as :meth:`concurrent.futures.Future.result`)."""
        if self._state == _FINISHED and self._exception is None:
            frame: Frame = self._result
            return frame
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Why it failed, ``None`` once confirmed (as
        :meth:`concurrent.futures.Future.exception`)."""
        if self._state == _FINISHED:
            return self._exception
        return super().exception(timeout)

    def _settle(self, frame: Frame | None, error: BaseException | None) -> None:
        # The connection's answer: confirmed with ``frame`` or failed with ``error``;
        # nothing if the owner cancelled it.
        self._resend = None
        with _CREATING:
            if self._cond is None:
                # Nobody has looked: no waiter, no callback; whoever looks next sees this.
                self._result = frame
                self._exception = error
                self._state = _FINISHED
                return
        try:
            if error is None:
                self.set_result(frame)  # type: ignore[arg-type]
            else:
                self.set_exception(error)
        except InvalidStateError:  # cancelled
            log.debug("confirmed send settled after it was cancelled")
