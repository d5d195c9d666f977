"""Differential test of the decoder's C accelerator against the pure-Python decoder.

The same streams go, cut at the same points, through two decoders with the same options,
one with the C accelerator (``stomp._speedups``) and one without; everything observable
must be the same after every ``feed()``: the frames (class, command, headers, original
headers, body and its type, the shared heart-beat frame by identity), the error (class,
message, reason, offset, the frames decoded before it), ``buffered`` and ``position``,
and what a further ``feed()`` does after an error.  The version may change between feeds
(as a CONNECTED frame makes it), on both decoders at the same point.

Streams: valid frames of every version (escapes, CR LF, content-length, repeated headers,
heart-beats, binary bodies, NULs inside content-length bodies), the same with mutations
(bytes flipped, inserted, deleted, the stream truncated), and odd bytes, fed as bytes,
bytearray or memoryview.  Hypothesis explores and shrinks; a seeded random run then
decodes as many streams as fit in ``STOMP_DIFF_SECONDS`` seconds (default 3; the CI's
sanitizer step runs longer).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import pytest
from codecutil import require_speedups
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stomp.aio import subscription as aio_subscription
from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder
from stomp.codec.decode import _c_scan
from stomp.exception import FrameError

pytestmark = pytest.mark.usefixtures("_speedups_required")


@pytest.fixture
def _speedups_required() -> None:
    require_speedups()


# ---------------------------------------------------------------- running both decoders

_AIO_MESSAGE: Any = aio_subscription.Message


def _frame_view(frame: Any) -> Any:
    if frame is HEARTBEAT_FRAME:
        return "HB"
    return (
        type(frame),
        frame.cmd,
        list(frame.headers.items()),  # (their order too)
        list(frame.original_headers.items()),
        frame.headers is not frame.original_headers,
        type(frame.body),
        frame.body,
    )


def _error_view(exc: BaseException) -> Any:
    if isinstance(exc, FrameError):
        return (type(exc), str(exc), exc.reason, exc.offset, [_frame_view(f) for f in exc.frames])
    return (type(exc), str(exc))


def run(
    chunks: Sequence[bytes],
    use_c: bool,
    version: str,
    options: dict[str, Any],
    switch: tuple[int, str] | None = None,
    kind: str = "bytes",
) -> list[Any]:
    """Everything observable of one decoder fed ``chunks``, as a list of events."""
    decoder = FrameDecoder(version, **options)
    decoder._scan = _c_scan if use_c else None
    assert decoder.speedups is use_c
    events: list[Any] = []
    for i, chunk in enumerate(chunks):
        if switch is not None and switch[0] == i:
            decoder.version = switch[1]
        data: bytes | bytearray | memoryview = chunk
        if kind == "bytearray":
            data = bytearray(chunk)
        elif kind == "memoryview":
            data = memoryview(bytearray(chunk))
        try:
            frames = decoder.feed(data)
        except Exception as exc:
            events.append(("error", _error_view(exc), decoder.buffered, decoder.position))
            try:
                decoder.feed(b"SEND\n\n\0")
            except Exception as again:
                events.append(("again", again is exc, _error_view(again)))
            else:
                events.append(("no error on the next feed",))
            return events
        events.append(
            ("frames", [_frame_view(f) for f in frames], decoder.buffered, decoder.position)
        )
    return events


def assert_same(
    chunks: Sequence[bytes],
    version: str,
    options: dict[str, Any],
    switch: tuple[int, str] | None = None,
    kind: str = "bytes",
) -> list[Any]:
    pure = run(chunks, False, version, options, switch, kind)
    fast = run(chunks, True, version, options, switch, kind)
    assert fast == pure, (chunks, version, options, switch, kind)
    return pure


# ---------------------------------------------------------------- the streams
#
# One generator, written against a small "chooser", serves both hypothesis (which then
# shrinks a failure) and the seeded random run.

Chooser = Any  # .choice(seq), .integer(lo, hi), .raw(n)


class RandomChooser:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[self.rng.randrange(len(seq))]

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def raw(self, n: int) -> bytes:
        return self.rng.randbytes(n)


class DrawChooser:
    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw

    def choice(self, seq: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(seq))

    def integer(self, lo: int, hi: int) -> int:
        return int(self.draw(st.integers(lo, hi)))

    def raw(self, n: int) -> bytes:
        return bytes(self.draw(st.binary(min_size=n, max_size=n)))


COMMANDS = [
    "MESSAGE", "MESSAGE", "MESSAGE", "RECEIPT", "ERROR", "CONNECTED", "SEND", "CONNECT",
    "STOMP", "NACK", "heartbeat", "FOO", "MESSAGE\r", "", "MESS AGE", "mEssage",
]  # fmt: skip
NAME_PIECES = [
    "destination", "message-id", "subscription", "ack", "content-type", "content-length",
    "receipt-id", "a", "x", "\\c", "\\n", "\\\\", "\\r", "\\t", "é", "\\", "",
]  # fmt: skip
VALUE_PIECES = [
    "/queue/a", "ID\\cbench-host-1\\c1", "0", "1", "text/plain", "\\c", "\\n", "\\r",
    "\\\\", "\\\\n", "\\t", "\\", "é€", ":", " ", "\r", "\x00", "\xff", "5", "",
]  # fmt: skip
EOLS = ["\n", "\n", "\n", "\r\n"]
BETWEEN = [b"", b"", b"\n", b"\r\n", b"\n\n", b"\r", b"\r\r\n"]


def _text(c: Chooser, pieces: list[str], most: int) -> str:
    return "".join(c.choice(pieces) for _ in range(c.integer(0, most)))


VALID_COMMANDS = ["MESSAGE", "MESSAGE", "RECEIPT", "ERROR", "CONNECTED"]
SHAPE_NAMES = ["content-type", "expires", "priority", "persistent", "timestamp", "x-" + "y" * 40]
SHAPE_VALUES = ["0", "4", "true", "/queue/a", "ID\\cbroker-1\\c7", "1700000000000", "é", "z" * 60]
# (with escapes that are undefined in some versions, kept verbatim unless strict)
VALID_NAMES = ["destination", "message-id", "subscription", "ack", "a", "\\c", "é", "\\r"]
VALID_VALUES = [
    "/queue/a", "ID\\cbench-host-1\\c1", "0", "\\n", "\\\\", "é€", ":", " ", "\\r", "\\t",
    "\r",
]  # fmt: skip


def make_shape(c: Chooser) -> list[str]:
    # The header names of a run of frames alike (a broker's MESSAGEs): the C decoder copies
    # the dict of the last such frame; a name may repeat (the first one wins).
    return [c.choice(VALID_NAMES + SHAPE_NAMES) for _ in range(c.integer(1, 18))]


def make_frame(c: Chooser, version: str, wild: bool, shape: list[str] | None = None) -> bytes:
    # wild: anything goes (odd commands, undefined escapes, bad lengths, CRs); else a
    # frame that is valid for ``version`` (before any mutation).  shape: the header names,
    # in order (most of the time: one may be left out, changed or added).
    commands, names, values = (
        (COMMANDS, NAME_PIECES, VALUE_PIECES)
        if wild
        else (VALID_COMMANDS, VALID_NAMES, VALID_VALUES)
    )
    eols = EOLS if wild or version == "1.2" else ["\n"]
    cmd = c.choice(commands)
    body = c.choice(
        [b"", b"hello", "héllo €".encode(), b"\xff\xfe bad utf-8", c.raw(c.integer(0, 40))]
    )
    has_nul = b"\0" in body
    lines = [cmd]
    if shape is not None:
        chosen = list(shape)
        at = c.integer(0, len(chosen))
        change = c.choice(["none", "none", "none", "drop", "add", "rename"])
        if change == "drop" and at < len(chosen):
            del chosen[at]
        elif change == "add":
            chosen.insert(at, c.choice(VALID_NAMES + SHAPE_NAMES))
        elif change == "rename" and at < len(chosen):
            chosen[at] = c.choice(VALID_NAMES + SHAPE_NAMES)
        # (values from a few, so that they repeat, as a broker's do)
        lines += [f"{name}:{c.choice(SHAPE_VALUES)}" for name in chosen]
    for _ in range(c.integer(0, 6) if shape is None else 0):
        name = _text(c, names, 2) if wild else c.choice(names) + _text(c, names, 1)
        if name == "content-length":
            continue  # (added below on purpose)
        lines.append(f"{name}:{_text(c, values, 3)}")
    kinds = ["none", "right", "right", "wrong", "odd", "twice"] if wild else ["none", "right"]
    length = c.choice(kinds)
    if has_nul and length == "none":
        length = "right"
    if length != "none":
        value = {
            "right": str(len(body)),
            "twice": str(len(body)),
            "wrong": str(max(0, len(body) + c.integer(-3, 3))),
            "odd": c.choice(["", "x", "-1", "1.0", "0" * 20 + "5", "9" * 19, "٣", " 5"]),
        }[length]
        lines.insert(
            1 if shape is not None else c.integer(1, len(lines)), f"content-length:{value}"
        )
        if length == "twice":
            lines.append(f"content-length:{len(body) + 1}")
    head = "".join(line + c.choice(eols) for line in lines) + c.choice(eols)
    between = BETWEEN if wild else [b"", b"\n", b"\r\n", b"\n\n"]
    return head.encode("utf-8", "surrogatepass") + body + b"\0" + c.choice(between)


def make_stream(c: Chooser, version: str) -> bytes:
    wild = c.choice([False, False, True])
    parts = [c.choice(BETWEEN if wild else [b"", b"\n"])]
    shapes = [make_shape(c), make_shape(c)] if c.choice([False, True]) else []
    for _ in range(c.integer(1, 6) if not shapes else c.integer(2, 12)):
        frame_wild = wild and c.choice([False, True])
        shape = c.choice(shapes + shapes[:1] * 3) if shapes and not frame_wild else None
        parts.append(make_frame(c, version, frame_wild, shape))
    data = bytearray(b"".join(parts))
    for _ in range(c.choice([0, 0, 0, 0, 0, 1, 2, 4])):  # mutations
        if not data:
            break
        at = c.integer(0, len(data) - 1)
        what = c.choice(["flip", "insert", "delete", "truncate"])
        if what == "flip":
            data[at] = c.choice([0, 10, 13, 58, 92, 0xFF, c.integer(0, 255)])
        elif what == "insert":
            data[at:at] = c.choice([b"\0", b"\n", b"\r", b":", b"\\", b"\n\n", c.raw(2)])
        elif what == "delete":
            del data[at]
        else:
            del data[at:]
    return bytes(data)


def make_case(c: Chooser) -> dict[str, Any]:
    version = c.choice(["1.0", "1.1", "1.2", "1.2"])
    data = make_stream(c, version)
    points = sorted({c.integer(0, len(data)) for _ in range(c.integer(0, 5))})
    if c.choice([False, False, True]):
        points = list(range(0, len(data), c.integer(1, 3)))  # a few bytes at a time
    bounds = [0, *points, len(data)]
    chunks = [data[a:b] for a, b in pairwise(bounds)]
    options = {
        "auto_decode": c.choice([False, True]),
        "strict": c.choice([False, False, True]),
        "max_header_bytes": c.choice([64 * 1024] * 16 + [1000, 40, 12, 0]),
        "max_body_bytes": c.choice([100 * 1024 * 1024] * 16 + [16, 4, 0]),
        # (the asyncio client's messages: C fields with the accelerator, which both
        # decoders fill, and original_headers the headers dict itself)
        "message_class": c.choice([Frame, Frame, _AIO_MESSAGE]),
    }
    switch = None
    if c.choice([False, False, False, True]):
        switch = (c.integer(0, max(0, len(chunks) - 1)), c.choice(["1.0", "1.1", "1.2"]))
    return {
        "chunks": chunks,
        "version": version,
        "options": options,
        "switch": switch,
        "kind": c.choice(["bytes", "bytes", "bytearray", "memoryview"]),
    }


# ---------------------------------------------------------------- the tests


@st.composite
def cases(draw: Callable[..., Any]) -> dict[str, Any]:
    return make_case(DrawChooser(draw))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases())
def test_same_as_pure_python(case: dict[str, Any]) -> None:
    assert_same(**case)


def test_seeded_random_streams() -> None:
    # Bounded in time, not in count: STOMP_DIFF_SECONDS (the sanitizer step runs longer).
    seconds = float(os.environ.get("STOMP_DIFF_SECONDS", "3"))
    seed = int(os.environ.get("STOMP_DIFF_SEED", "20261214"))
    rng = random.Random(seed)
    chooser = RandomChooser(rng)
    deadline = time.monotonic() + seconds
    count = errors = frames = 0
    while time.monotonic() < deadline or count < 500:
        events = assert_same(**make_case(chooser))
        count += 1
        errors += any(event[0] == "error" for event in events)
        frames += sum(len(event[1]) for event in events if event[0] == "frames")
    # Both kinds of stream were there in numbers: the run compared more than errors.
    assert count // 20 < errors < count * 2 // 3, (count, errors)
    assert frames > count, (count, frames)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("auto_decode", [False, True])
def test_large_and_many_frames(version: str, auto_decode: bool) -> None:
    # What a broker sends under load (many frames per read, large bodies spanning reads),
    # cut at read sizes and at awkward points.
    body = bytes(range(256)) * 300
    frame = (
        b"MESSAGE\ndestination:/queue/a\nmessage-id:ID\\cx\\c1\ncontent-length:"
        + str(len(body)).encode()
        + b"\n\n"
        + body
        + b"\0\n"
    )
    small = b"MESSAGE\nsubscription:1\nack:ID\\c\\\\n\n\nhello\0\n"
    data = (small * 200 + frame) * 5 + small * 3
    options = {"auto_decode": auto_decode}
    for size in (1, 7, 4096, 65536, 65537, 262144, len(data)):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        if size == 1:
            chunks = chunks[:3000]
        events = assert_same(chunks, version, options)
        decoded = [f for e in events for f in e[1] if f != "HB"]
        assert len(decoded) == (1008 if size != 1 else 3000 // len(small))


def test_the_accelerator_really_runs() -> None:
    # The C path is not silently the Python one: it decodes the ordinary frames itself
    # (the Python decoder, with its hot loop, is not called for them).
    from stomp._speedups import scan

    frames: list[Frame] = []
    data = b"\nMESSAGE\nack:ID\\c1\na:1\na:2\n\nhi\0\nFOO\n\n\0"
    pos, after, partial = scan(data, 0, frames, False, 2, 1000, 1000, False, Frame.__new__,
                               Frame, HEARTBEAT_FRAME, Frame, False)  # fmt: skip
    assert (pos, after, partial) == (data.index(b"FOO"), True, None)  # an unknown command
    assert frames[0] is HEARTBEAT_FRAME
    assert (frames[1].cmd, frames[1].headers, frames[1].body) == (
        "MESSAGE",
        {"ack": "ID:1", "a": "1"},
        b"hi",
    )


def test_the_accelerator_hands_back_a_frame_still_arriving_with_its_head() -> None:
    # A content-length frame cut before its NUL: the C scanner returns its decoded head,
    # which the decoder keeps while the body arrives (a large frame at the end of a read).
    from stomp._speedups import scan

    frames: list[Frame] = []
    data = b"RECEIPT\nreceipt-id:1\n\n\0MESSAGE\ncontent-length:5\nack:ID\\c2\n\nhel"
    start = data.index(b"MESSAGE")
    pos, after, partial = scan(data, 0, frames, False, 2, 1000, 1000, False, Frame.__new__,
                               Frame, HEARTBEAT_FRAME, Frame, False)  # fmt: skip
    assert (pos, after) == (start, True)
    assert partial == ("MESSAGE", {"content-length": "5", "ack": "ID:2"}, 5, len(data) - 3)
    assert [f.cmd for f in frames] == ["RECEIPT"]
    # All of the body but its NUL is still "arriving"; a wrong byte after it is the Python
    # path's to report (no partial).
    for tail, expected in ((b"hello", True), (b"hello!", False)):
        stream = data[:start] + b"MESSAGE\ncontent-length:5\n\n" + tail
        got = scan(stream, start, [], False, 2, 1000, 1000, False, Frame.__new__, Frame,
                   HEARTBEAT_FRAME, Frame, False)  # fmt: skip
        assert got[0] == start
        assert (got[2] is not None) is expected
    # The decoder fed it in pieces decodes the frame once, as the pure-Python one does.
    chunks = [data, b"lo\0\n", b"SEND\ncontent-length:3\n\nab", b"c\0"]
    assert_same(chunks, "1.2", {"auto_decode": True})


class _Message(Frame):
    """A Frame subclass for MESSAGE frames (as the asyncio client has)."""


def _decoder(speedups: bool, **options: Any) -> FrameDecoder:
    # A 1.2 decoder on the C accelerator (the test skips where it is not built) or not.
    decoder = FrameDecoder("1.2", **options)
    if not speedups:
        decoder._scan = None
    elif decoder._scan is None:
        pytest.skip("the C accelerator is not built")
    return decoder


@pytest.mark.parametrize("speedups", [True, False], ids=["speedups", "pure"])
def test_message_class_builds_the_message_frames_on_both_paths(speedups: bool) -> None:
    data = (
        b"MESSAGE\nack:1\n\nsmall\0RECEIPT\nreceipt-id:r\n\n\0"
        b"MESSAGE\ncontent-length:6\nack:2\n\nsplit!\0"
    )
    decoder = _decoder(speedups, message_class=_Message)
    cut = len(data) - 4  # (the last one arrives in two pieces: the pending path)
    frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
    assert [(type(f), f.cmd, f.body) for f in frames] == [
        (_Message, "MESSAGE", b"small"),
        (Frame, "RECEIPT", b""),
        (_Message, "MESSAGE", b"split!"),
    ]
    assert frames[0].original_headers == {"ack": "1"}


class _SharingMessage(Frame):
    """A MESSAGE class that keeps no copy of the headers (as the asyncio client's)."""

    _original_is_headers = True


@pytest.mark.parametrize("speedups", [True, False], ids=["speedups", "pure"])
@pytest.mark.parametrize("message_class", [_Message, _SharingMessage])
def test_original_headers_are_the_headers_only_for_a_class_that_asks(
    speedups: bool, message_class: type[Frame]
) -> None:
    # Every way a frame is built: an ordinary one (the C scanner's), one with CR LF line
    # ends (the Python path's, on both), and one whose body arrives in two reads.
    data = (
        b"MESSAGE\nack:1\n\nsmall\0RECEIPT\nreceipt-id:r\n\n\0"
        b"MESSAGE\r\nack:crlf\r\n\r\nx\0"
        b"MESSAGE\ncontent-length:6\nack:2\n\nsplit!\0"
    )
    decoder = _decoder(speedups, message_class=message_class)
    cut = len(data) - 4
    frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
    assert [f.cmd for f in frames] == ["MESSAGE", "RECEIPT", "MESSAGE", "MESSAGE"]
    shares = message_class is _SharingMessage
    for frame in frames:
        assert frame.original_headers == frame.headers
        assert (frame.original_headers is frame.headers) is (shares and frame.cmd == "MESSAGE")


class _NoNewMessage(Frame):
    """A MESSAGE class whose own __new__ must not run (frames are built without it)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _NoNewMessage:
        raise AssertionError("the decoder called the message class's __new__")


@pytest.mark.parametrize("kind", ["aio", "own-new"])
def test_message_classes_are_built_alike_on_both_paths(kind: str) -> None:
    # Every way a frame is built (the C scanner's, the Python path's for CR LF line ends,
    # a body in two reads), on both paths: the same attributes, and for the asyncio
    # client's class the headers shared as original_headers.
    # (stomp.aio's Message: with the accelerator, its attributes are C fields, which the
    # C scanner fills directly and the Python path sets as attributes)
    message_class = _AIO_MESSAGE if kind == "aio" else _NoNewMessage
    data = (
        b"MESSAGE\nack:1\nsubscription:s\n\nsmall\0RECEIPT\nreceipt-id:r\n\n\0"
        b"MESSAGE\r\nack:crlf\r\n\r\nx\0"
        b"MESSAGE\ncontent-length:6\nack:2\n\nsplit!\0"
    )
    cut = len(data) - 4
    results = []
    for speedups in (True, False):
        decoder = _decoder(speedups, message_class=message_class)
        frames = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
        results.append([(type(f), f.cmd, f.headers, f.body) for f in frames])
        for frame in frames:
            if frame.cmd == "MESSAGE":
                assert not hasattr(frame, "subscription")  # (not routed yet)
                frame.mark = speedups  # (any other attribute: in the frame's __dict__)
                assert frame.mark is speedups and vars(frame)["mark"] is speedups
                shares = kind == "aio"
                assert (frame.original_headers is frame.headers) is shares
    assert results[0] == results[1]
    assert [(t, cmd) for t, cmd, _, _ in results[0]] == [
        (message_class, "MESSAGE"),
        (Frame, "RECEIPT"),
        (message_class, "MESSAGE"),
        (message_class, "MESSAGE"),
    ]


def test_message_class_must_be_a_frame_class() -> None:
    with pytest.raises(TypeError, match="message_class"):
        FrameDecoder(message_class=dict)  # type: ignore[arg-type]
