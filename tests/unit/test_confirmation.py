"""stomp.confirmation.Confirmation: the future of a confirmed send behaves as any
concurrent.futures.Future, whether or not anybody looked at it before it was settled."""

from __future__ import annotations

import concurrent.futures
import threading
from concurrent.futures import CancelledError, Future

import pytest

from stomp.codec import Frame
from stomp.confirmation import Confirmation
from stomp.exception import PublishFailedException

WAIT = 5.0


def receipt(n: int = 1) -> Frame:
    return Frame("RECEIPT", {"receipt-id": f"r{n}"}, "")


def test_future_internals_are_as_expected() -> None:
    # What Confirmation relies on in concurrent.futures (a new Python may change it).
    plain: Future[int] = Future()
    assert isinstance(plain._condition, threading.Condition)  # type: ignore[attr-defined]
    assert plain._state == "PENDING"  # type: ignore[attr-defined]
    assert plain._waiters == [] and plain._done_callbacks == []  # type: ignore[attr-defined]
    plain.set_result(1)
    assert plain._state == "FINISHED"  # type: ignore[attr-defined]


def test_is_a_future() -> None:
    future = Confirmation()
    assert isinstance(future, Future)
    assert not future.done() and not future.cancelled() and not future.running()
    assert "pending" in repr(future)


def test_settled_before_anyone_looked() -> None:
    future = Confirmation(("args",))
    frame = receipt()
    future._settle(frame, None)
    assert future._cond is None  # (no condition was needed)
    assert future._resend is None  # (the send's arguments are let go)
    assert future.done() and not future.cancelled()
    assert future.result() is frame and future.result(0) is frame
    assert future.exception() is None
    assert "finished" in repr(future)


def test_result_times_out_while_pending_then_returns() -> None:
    future = Confirmation()
    with pytest.raises(concurrent.futures.TimeoutError):
        future.result(timeout=0.01)
    with pytest.raises(concurrent.futures.TimeoutError):
        future.exception(timeout=0.01)
    frame = receipt()
    future._settle(frame, None)
    assert future.result(0) is frame


def test_waiting_thread_is_woken() -> None:
    future = Confirmation()
    got: list[Frame] = []
    waiter = threading.Thread(target=lambda: got.append(future.result(WAIT)))
    waiter.start()
    while future._cond is None or not future._cond._waiters:  # type: ignore[attr-defined]
        threading.Event().wait(0.001)  # (until it waits)
    frame = receipt()
    future._settle(frame, None)
    waiter.join(WAIT)
    assert got == [frame]


def test_failure() -> None:
    future = Confirmation()
    error = PublishFailedException("refused")
    future._settle(None, error)
    assert future.done()
    assert future.exception() is error
    with pytest.raises(PublishFailedException, match="refused"):
        future.result()
    looked = Confirmation()
    with pytest.raises(concurrent.futures.TimeoutError):
        looked.exception(timeout=0)
    looked._settle(None, error)
    with pytest.raises(PublishFailedException):
        looked.result(0)


@pytest.mark.parametrize("settled_first", [False, True])
def test_done_callbacks(settled_first: bool) -> None:
    future = Confirmation()
    frame = receipt()
    seen: list[Future[Frame]] = []
    if settled_first:
        future._settle(frame, None)
    future.add_done_callback(seen.append)
    future.add_done_callback(seen.append)
    if not settled_first:
        assert seen == []
        future._settle(frame, None)
    assert seen == [future, future]
    assert future.result() is frame


def test_callback_on_failure() -> None:
    future = Confirmation()
    errors: list[BaseException | None] = []
    future.add_done_callback(lambda f: errors.append(f.exception()))
    error = PublishFailedException("lost")
    future._settle(None, error)
    assert errors == [error]


def test_cancelled_stays_cancelled() -> None:
    future = Confirmation()
    seen: list[Future[Frame]] = []
    future.add_done_callback(seen.append)
    assert future.cancel()
    assert future.cancelled() and future.done()
    assert seen == [future]
    future._settle(receipt(), None)  # (the receipt came all the same: ignored)
    assert future.cancelled()
    with pytest.raises(CancelledError):
        future.result(0)
    assert seen == [future]


def test_cannot_cancel_once_settled() -> None:
    future = Confirmation()
    future._settle(receipt(), None)
    assert not future.cancel()
    assert not future.cancelled()


def test_wait_and_as_completed() -> None:
    early, late, never = Confirmation(), Confirmation(), Confirmation()
    early._settle(receipt(1), None)
    done, not_done = concurrent.futures.wait([early, late, never], timeout=0)
    assert done == {early} and not_done == {late, never}

    timer = threading.Timer(0.02, late._settle, (receipt(2), None))
    timer.start()
    try:
        done, not_done = concurrent.futures.wait([early, late], timeout=WAIT)
    finally:
        timer.join()
    assert done == {early, late} and not not_done

    failed = Confirmation()
    failed._settle(None, PublishFailedException("no"))
    done, _ = concurrent.futures.wait(
        [never, failed], timeout=WAIT, return_when=concurrent.futures.FIRST_EXCEPTION
    )
    assert done == {failed}

    pending = [Confirmation() for _ in range(3)]
    order: list[Future[Frame]] = []
    settler = threading.Thread(
        target=lambda: [f._settle(receipt(n), None) for n, f in enumerate(reversed(pending))]
    )
    iterator = concurrent.futures.as_completed([early, *pending], timeout=WAIT)
    order.append(next(iterator))  # (early, already done)
    settler.start()
    order.extend(iterator)
    settler.join(WAIT)
    assert order[0] is early
    assert sorted(map(id, order[1:])) == sorted(map(id, pending))


def settle_all(futures: list[Confirmation]) -> None:
    for future in futures:
        future._settle(receipt(), None)


def test_settling_races_with_looking() -> None:
    # The receiver settles while the application starts looking (result, wait,
    # as_completed, callbacks): every look ends, with the outcome, never a hang or a
    # future counted twice.
    for _ in range(300):
        futures = [Confirmation() for _ in range(4)]
        called: list[Future[Frame]] = []
        futures[3].add_done_callback(called.append)
        settler = threading.Thread(target=settle_all, args=(futures,))
        settler.start()
        assert len(list(concurrent.futures.as_completed(futures, timeout=WAIT))) == 4
        settler.join(WAIT)
        done, not_done = concurrent.futures.wait(futures, timeout=WAIT)
        assert len(done) == 4 and not not_done
        assert futures[0].result(0).cmd == "RECEIPT"
        assert called == [futures[3]]

        futures = [Confirmation() for _ in range(4)]
        settler = threading.Thread(target=settle_all, args=(futures,))
        settler.start()
        assert all(f.result(WAIT).cmd == "RECEIPT" for f in reversed(futures))
        settler.join(WAIT)
