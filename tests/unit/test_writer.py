"""stomp.writer.FrameWriter alone: when a frame is written at once and when it is batched,
order, flush, the high-water mark, errors, close and the writer thread's life.

The sink stands for the socket: it records each write, the thread that made it, and can be
held (a broker that does not read) or made to fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from support.waiting import WAIT, wait_until

from stomp import writer as writer_module
from stomp.exception import NotConnectedException, SendTimeoutException
from stomp.writer import FrameWriter


class Sink:
    """Records the writes; ``hold()`` makes them block until ``release()``."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.threads: list[str] = []
        self.fail: BaseException | None = None
        self.entered = threading.Event()
        self._open = threading.Event()
        self._open.set()

    def __call__(self, data: bytes, progress: list[int]) -> None:
        self.entered.set()
        if not self._open.wait(WAIT):
            raise AssertionError("the sink was held for too long")
        if self.fail is not None:
            raise self.fail
        self.writes.append(bytes(data))
        self.threads.append(threading.current_thread().name)
        progress.append(len(data))

    def hold(self) -> None:
        self.entered.clear()
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


class Errors:
    def __init__(self) -> None:
        self.seen: list[BaseException] = []

    def __call__(self, exc: BaseException) -> None:
        self.seen.append(exc)


@pytest.fixture
def make_writer() -> Iterator[Callable[..., tuple[FrameWriter, Sink, Errors]]]:
    made: list[FrameWriter] = []

    def make(**options: object) -> tuple[FrameWriter, Sink, Errors]:
        sink, errors = Sink(), Errors()
        writer = FrameWriter(sink, errors, name="StompWriter-test", **options)  # type: ignore[arg-type]
        made.append(writer)
        return writer, sink, errors

    yield make
    for writer in made:
        writer.close()
        assert writer.join(WAIT)


def in_thread(function: Callable[[], object], name: str = "sender") -> threading.Thread:
    """Run ``function`` in a new (non-main) thread and wait for it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            function()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()
    if errors:
        raise errors[0]
    return thread


# -- at once, or batched -----------------------------------------------------------------


def test_idle_write_from_a_thread_is_written_before_it_returns(make_writer) -> None:
    writer, sink, _ = make_writer()
    in_thread(lambda: writer.write(b"one"))
    assert sink.writes == [b"one"]
    assert sink.threads == ["sender"]  # by the caller: no hand-off, no added latency
    assert writer.thread is None  # no writer thread for an idle connection


def test_a_keyboard_interrupt_in_a_write_leaves_the_stream_whole(make_writer) -> None:
    # On the main thread Python may raise between the OS taking bytes and the code
    # seeing how many: the writer knows from the progress the write function recorded.
    writer, _, errors = make_writer()
    written: list[bytes] = []
    state = {"calls": 0}

    def interrupted(data: bytes, progress: list[int]) -> None:
        state["calls"] += 1
        if state["calls"] == 1:
            written.append(data[:3])  # the OS took 3 bytes, then Ctrl-C
            progress.append(3)
            raise KeyboardInterrupt
        written.append(bytes(data))
        progress.append(len(data))

    writer._write_all = interrupted
    with pytest.raises(KeyboardInterrupt):
        writer.write(b"frame-one|")
    writer.write(b"frame-two|")  # (queued behind the rest of the first, or written with it)
    writer.flush(WAIT)
    assert b"".join(written) == b"frame-one|frame-two|"  # nothing lost, nothing repeated
    assert errors.seen == []  # the connection is still good


def test_an_interrupt_after_the_write_only_skips_the_bookkeeping(make_writer) -> None:
    writer, _, errors = make_writer()
    written: list[bytes] = []
    state = {"calls": 0}

    def interrupted(data: bytes, progress: list[int]) -> None:
        state["calls"] += 1
        written.append(bytes(data))
        progress.append(len(data))
        if state["calls"] == 1:
            raise KeyboardInterrupt  # all of it went out

    writer._write_all = interrupted
    with pytest.raises(KeyboardInterrupt):
        writer.write(b"one|")
    writer.write(b"two|")
    writer.flush(WAIT)
    assert written == [b"one|", b"two|"]
    assert not writer.busy and errors.seen == []


def frozen() -> float:
    """A clock that never moves: every write after the first is within the window."""
    return 0.0


def test_a_burst_is_batched_in_order(make_writer) -> None:
    writer, sink, _ = make_writer(clock=frozen)
    frames = [b"frame-%d\n" % i for i in range(2000)]

    def burst() -> None:
        for frame in frames:
            writer.write(frame)
        writer.flush()

    in_thread(burst)
    assert sink.data == b"".join(frames)  # every byte, in order
    assert len(sink.writes) < len(frames) // 2  # in batches


def test_frames_queued_while_a_write_is_held_go_out_together(make_writer) -> None:
    writer, sink, _ = make_writer()
    sink.hold()
    first = threading.Thread(target=writer.write, args=(b"a",), name="first")
    first.start()
    assert sink.entered.wait(WAIT)
    for chunk in (b"b", b"c", b"d"):
        in_thread(lambda chunk=chunk: writer.write(chunk))  # queued: return at once
    sink.release()
    first.join(WAIT)
    writer.flush(WAIT)
    assert sink.writes == [b"a", b"bcd"]


def test_order_and_integrity_under_eight_threads(make_writer) -> None:
    writer, sink, _ = make_writer()
    count = 500

    def sender(n: int) -> None:
        for i in range(count):
            writer.write(b"<%d:%d>" % (n, i))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    writer.flush(WAIT)
    frames = sink.data.decode().strip("<>").split("><")
    assert len(frames) == 8 * count  # none lost, none cut into another
    for n in range(8):
        mine = [int(f.split(":")[1]) for f in frames if f.startswith(f"{n}:")]
        assert mine == list(range(count))  # each thread's frames in its order


def test_every_frame_goes_out_without_a_further_call(make_writer) -> None:
    # Bursts from four threads, with pauses around the batching window, and no flush:
    # every frame is written soon after (a lost wake-up of the writer thread would leave
    # frames queued until its periodic re-check, a second later).
    writer, sink, _ = make_writer()
    rounds, burst = 40, 25

    def sender(n: int) -> None:
        for r in range(rounds):
            for i in range(burst):
                writer.write(b"<%d:%d:%d>" % (n, r, i))
            time.sleep(0.0001 * (r % 4))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert wait_until(lambda: not writer.busy, 0.5), f"{writer.queued_bytes} bytes stranded"
    frames = sink.data.decode().strip("<>").split("><")
    assert len(frames) == 4 * rounds * burst


# -- flush -------------------------------------------------------------------------------


def test_flush_waits_for_a_write_under_way_and_times_out(make_writer) -> None:
    writer, sink, _ = make_writer()
    sink.hold()
    holder = threading.Thread(target=writer.write, args=(b"held",), name="holder")
    holder.start()
    assert sink.entered.wait(WAIT)
    with pytest.raises(SendTimeoutException, match=r"not written within 0\.1 s"):
        writer.flush(0.1)
    sink.release()
    holder.join(WAIT)
    writer.flush(WAIT)
    assert sink.writes == [b"held"]


def test_flush_with_nothing_queued_returns_at_once(make_writer) -> None:
    writer, sink, _ = make_writer()
    writer.flush(0)
    assert sink.writes == []


# -- bounded memory ----------------------------------------------------------------------


def test_past_the_high_water_mark_a_write_waits_then_fails_without_queueing(make_writer) -> None:
    writer, sink, _ = make_writer(high_water=10, send_timeout=0.2)
    sink.hold()
    holder = threading.Thread(target=writer.write, args=(b"x" * 5,), name="holder")
    holder.start()
    assert sink.entered.wait(WAIT)
    in_thread(lambda: writer.write(b"y" * 11))  # queued: past the mark now
    start = time.monotonic()
    with pytest.raises(SendTimeoutException, match="high-water mark 10"):
        in_thread(lambda: writer.write(b"z"))
    assert 0.15 < time.monotonic() - start < 2
    sink.release()
    holder.join(WAIT)
    writer.flush(WAIT)
    assert sink.data == b"x" * 5 + b"y" * 11  # the rejected frame was not sent later


def test_a_write_past_the_mark_goes_on_once_the_queue_drains(make_writer) -> None:
    writer, sink, _ = make_writer(high_water=10, send_timeout=WAIT)
    sink.hold()
    holder = threading.Thread(target=writer.write, args=(b"x",), name="holder")
    holder.start()
    assert sink.entered.wait(WAIT)
    in_thread(lambda: writer.write(b"y" * 11))
    waiting = threading.Thread(target=writer.write, args=(b"z",), name="waiting")
    waiting.start()
    time.sleep(0.05)  # (it waits: nothing to synchronise on but its being blocked)
    assert waiting.is_alive()
    sink.release()
    waiting.join(WAIT)
    assert not waiting.is_alive()
    writer.flush(WAIT)
    assert sink.data == b"x" + b"y" * 11 + b"z"


# -- errors and close --------------------------------------------------------------------


def test_a_write_error_is_reported_once_and_later_writes_raise(make_writer) -> None:
    writer, sink, errors = make_writer()
    sink.fail = BrokenPipeError(32, "Broken pipe")
    with pytest.raises(BrokenPipeError):
        in_thread(lambda: writer.write(b"lost"))
    assert [type(e) for e in errors.seen] == [BrokenPipeError]
    with pytest.raises(NotConnectedException, match="the last write failed"):
        in_thread(lambda: writer.write(b"next"))
    with pytest.raises(NotConnectedException):
        writer.flush(0)
    assert errors.seen == [sink.fail]  # once


def test_an_error_in_the_writer_thread_is_reported_and_ends_it(make_writer) -> None:
    writer, sink, errors = make_writer(clock=frozen)
    writer.write(b"sent")  # idle: written by this thread
    sink.fail = ConnectionResetError(104, "Connection reset by peer")
    writer.write(b"lost")  # within the window: the writer thread writes it
    assert wait_until(lambda: errors.seen != [], WAIT)
    assert sink.threads == ["MainThread"]
    assert isinstance(errors.seen[0], ConnectionResetError)
    assert writer.join(WAIT)
    with pytest.raises(NotConnectedException):
        writer.write(b"next")


def test_close_releases_waiting_writers_and_flushes(make_writer) -> None:
    writer, sink, _ = make_writer(high_water=1, send_timeout=None)
    sink.hold()
    holder = threading.Thread(target=writer.write, args=(b"x",), name="holder")
    holder.start()
    assert sink.entered.wait(WAIT)
    in_thread(lambda: writer.write(b"yy"))
    outcomes: list[BaseException] = []

    def blocked(call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:
            outcomes.append(exc)

    waiters = [
        threading.Thread(target=blocked, args=(lambda: writer.write(b"z"),)),
        threading.Thread(target=blocked, args=(lambda: writer.flush(None),)),
    ]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.05)  # (both are blocked: no event to wait on)
    start = time.monotonic()
    writer.close()
    sink.release()  # (the write under way ends as the socket's would, once closed)
    for waiter in waiters:
        waiter.join(WAIT)
    assert time.monotonic() - start < 1
    assert len(outcomes) == 2
    assert all(isinstance(exc, NotConnectedException) for exc in outcomes)
    holder.join(WAIT)
    with pytest.raises(NotConnectedException, match="closed"):
        in_thread(lambda: writer.write(b"after"))


def test_the_writer_thread_ends_at_close(make_writer) -> None:
    writer, _, _ = make_writer(clock=frozen)
    writer.write(b"one")
    writer.write(b"two")  # within the window: for the writer thread
    writer.flush(WAIT)
    thread = writer.thread
    assert thread is not None and thread.is_alive()
    writer.close()
    assert writer.join(WAIT)
    assert not thread.is_alive()


def test_writers_of_live_connections_are_flushed_at_exit(make_writer) -> None:
    writer, sink, _ = make_writer()
    sink.hold()
    holder = threading.Thread(target=writer.write, args=(b"a",), name="holder")
    holder.start()
    assert sink.entered.wait(WAIT)
    in_thread(lambda: writer.write(b"b"))
    threading.Timer(0.05, sink.release).start()
    writer_module._flush_at_exit()  # what atexit runs
    holder.join(WAIT)
    assert sink.data == b"ab"
