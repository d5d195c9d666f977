"""The asyncio transport of one connection: bytes in and out, nothing of STOMP's rules.

A :class:`Link` is the :class:`asyncio.Protocol` of one TCP (or TLS) connection.  It feeds
what arrives to the connection's :class:`~stomp.codec.FrameDecoder` and hands the frames
to the connection in one call per read; it gathers the frames written during one turn of
the event loop into one write (a burst of ``send()`` calls costs one system call, a single
frame goes out on the loop's next turn), and it keeps the times of the last read and
write for the heart-beats.  Reading pauses while the application has too many messages
waiting (:meth:`Link.hold`), and writers wait while the kernel's buffer and the
transport's are full (:meth:`Link.drain`).  :func:`keep_alive` is the heart-beat task of a
link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from stomp.codec import Frame, FrameDecoder
from stomp.exception import ConnectionClosedException, FrameError
from stomp.heartbeat import HeartbeatTimer

#: Frames written in one turn of the loop are joined up to this many bytes, then written.
FLUSH_BYTES: Final = 256 * 1024
#: Frames this large are written on their own, at once.
LARGE_WRITE: Final = 32 * 1024
#: The usual size of a read, and the size while large frames arrive (when, as the threaded
#: transport: FrameDecoder.read_size).  asyncio's socket transports read up to 256 KiB at
#: a time: a large read costs more than several small ones when it only holds small frames
#: (fresh memory for each, and more decoded frames than the CPU's caches hold), and less
#: per byte of large frames, for which the loop's own cost per read counts too (1 MiB
#: reads: about 15% less CPU per 64 KiB message than 256 KiB ones here).
READ_BYTES: Final = 64 * 1024
LARGE_READ_BYTES: Final = 1024 * 1024


class Link(asyncio.Protocol):
    """One connection's bytes (see the module docstring).

    Args:
        decoder: decodes what arrives.
        deliver: takes the frames of each read, in order.
        lost: called once when the connection ends, with this link and why (``None``:
            closed here, or by the peer without an error).

    Attributes:
        last_received: the loop time of the last read.
        last_sent: the loop time of the last write.
        closed: the connection ended (:attr:`done` is then resolved).
    """

    def __init__(
        self,
        decoder: FrameDecoder,
        deliver: Callable[[list[Frame]], None],
        lost: Callable[[Link, BaseException | None], None],
    ) -> None:
        self._decoder = decoder
        self._deliver = deliver
        self._lost = lost
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[None] = self._loop.create_future()
        self.closed = False
        self.last_received = self.last_sent = self._loop.time()
        self._out: list[bytes] = []
        self._out_size = 0
        self._writable: asyncio.Future[None] | None = None
        self._holds = 0
        self._read_size = 0  # the transport's read size, when it can be set (0: it cannot)

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # (asyncio's selector transports read max_size bytes at a time; TLS and other
        # transports read as they do)
        if isinstance(getattr(transport, "max_size", None), int):
            transport.max_size = self._read_size = READ_BYTES  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.last_received = self._loop.time()
        try:
            frames = self._decoder.feed(data)
        except FrameError as exc:
            # What came before the bad bytes is valid and is delivered; then the stream
            # cannot be read any further.
            if exc.frames:
                self._deliver(exc.frames)
            self.abort(exc)
            return
        if frames:
            self._deliver(frames)
        if self._read_size:
            size = self._decoder.read_size(READ_BYTES, LARGE_READ_BYTES)
            if size != self._read_size:
                self.transport.max_size = self._read_size = size  # type: ignore[union-attr]

    def eof_received(self) -> bool:
        return False  # close the transport: STOMP has no half-closed connections

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.closed:
            return
        self.closed = True
        self._out.clear()
        self._wake_writers()
        if not self.done.done():
            self.done.set_result(None)
        self._lost(self, exc)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        self._wake_writers()

    # -- writing ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data`` whole (it is never split from a frame written in another call);
        it is written on the loop's next turn, or at once past :data:`FLUSH_BYTES`."""
        if self.closed:
            raise ConnectionClosedException("the connection is closed")
        if len(data) >= LARGE_WRITE and self.transport is not None:
            # A large frame is not copied into a joined write: what is queued goes first,
            # then the frame as it is.
            self.flush()
            self.transport.write(data)
            self.last_sent = self._loop.time()
            return
        out = self._out
        out.append(data)
        self._out_size += len(data)
        if len(out) == 1:
            self._loop.call_soon(self.flush)
        elif self._out_size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is queued now."""
        out = self._out
        if not out or self.transport is None or self.closed:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self._out_size = 0
        self.transport.write(data)
        self.last_sent = self._loop.time()

    @property
    def writable(self) -> bool:
        """Whether a writer may go on without waiting (see :meth:`drain`)."""
        return self._writable is None

    async def drain(self) -> None:
        """Wait while the transport's buffer is above its high-water mark (a broker that
        does not read); returns at once otherwise, or when the connection ends."""
        while self._writable is not None and not self.closed:
            await asyncio.shield(self._writable)

    def _wake_writers(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- reading ---------------------------------------------------------------------------

    def hold(self) -> None:
        """Stop reading until :meth:`release` (one release per hold)."""
        self._holds += 1
        if self._holds == 1 and self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def release(self) -> None:
        """Undo one :meth:`hold`."""
        self._holds -= 1
        if self._holds == 0 and self.transport is not None and not self.closed:
            self.transport.resume_reading()

    @property
    def holding(self) -> bool:
        """Whether reading is paused by :meth:`hold` (the broker's silence then means
        nothing: its heart-beats wait unread)."""
        return self._holds > 0

    # -- ending ----------------------------------------------------------------------------

    def close(self) -> None:
        """Write what is queued, then close."""
        if self.transport is not None and not self.closed:
            self.flush()
            self.transport.close()

    def abort(self, reason: BaseException | None = None) -> None:
        """Close at once, dropping what is queued; ``reason`` is what :attr:`lost` gets."""
        if self.closed:
            return
        if self.transport is not None:
            self.transport.abort()
        self.connection_lost(reason)


async def keep_alive(link: Link, send: float, receive: float, expected: float) -> None:
    """The heart-beats of ``link`` until it closes: an EOL after ``send`` idle seconds;
    the link aborted after ``receive`` seconds without a byte from the broker (whose
    interval is ``expected`` seconds; for the message).  While reading is held, the
    broker's silence means nothing: its bytes wait unread."""
    loop = asyncio.get_running_loop()
    timer = HeartbeatTimer(send, receive, loop.time())
    while not link.closed:
        now = loop.time()
        if link.holding:
            link.last_received = now
        if timer.send_due(now, link.last_sent):
            timer.attempted(now)
            link.write(b"\n")
        silent = timer.silent_for(now, link.last_received)
        if silent is not None:
            link.abort(
                ConnectionClosedException(
                    f"no heart-beat from the broker for {silent:.1f} s "
                    f"(expected every {expected:.3g} s)"
                )
            )
            return
        wake = timer.next_check(now, link.last_sent, link.last_received)
        if wake is None:
            return
        await asyncio.sleep(max(0.0, wake - now))
