"""Helpers for the codec tests: frames as comparable tuples, feeding in pieces.

``Frame`` has no ``__eq__``, so the tests compare ``(cmd, headers, body)`` tuples; the
shared heart-beat frame becomes the string ``"HB"`` (only the very object
``HEARTBEAT_FRAME`` does: a real frame whose command happens to be ``heartbeat`` stays a
tuple, so a test can tell the two apart).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import pytest

from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder
from stomp.codec.decode import _c_scan
from stomp.exception import FrameError

HB = "HB"


def as_tuple(frame: Frame) -> Any:
    """``(cmd, headers, body)`` for a frame, ``HB`` for the shared heart-beat frame."""
    if frame is HEARTBEAT_FRAME:
        return HB
    assert isinstance(frame, Frame)
    return (frame.cmd, frame.headers, frame.body)


def tuples(frames: Iterable[Frame]) -> list[Any]:
    return [as_tuple(frame) for frame in frames]


def decode(data: bytes, version: str = "1.2", **options: Any) -> list[Any]:
    """Decode ``data`` in one feed of a fresh decoder."""
    return tuples(FrameDecoder(version, **options).feed(data))


def pieces(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into pieces of ``size`` bytes (the last one may be shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def cut(data: bytes, positions: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given positions (duplicates and out-of-range ones ignored)."""
    points = sorted({p for p in positions if 0 < p < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]


def feed_all(decoder: FrameDecoder, chunks: Sequence[bytes]) -> list[Any]:
    """Feed every chunk and return all the frames, as tuples."""
    out: list[Any] = []
    for chunk in chunks:
        out += tuples(decoder.feed(chunk))
    return out


def decode_pieces(data: bytes, size: int = 1, version: str = "1.2", **options: Any) -> list[Any]:
    """Decode ``data`` fed ``size`` bytes at a time to a fresh decoder."""
    return feed_all(FrameDecoder(version, **options), pieces(data, size))


def decode_error(
    data: bytes | Sequence[bytes], version: str = "1.2", **options: Any
) -> tuple[FrameError, list[Any]]:
    """Feed ``data`` (one chunk or a list of chunks) and return the ``FrameError`` it
    raises, with every frame returned before it (earlier feeds plus ``exc.frames``)."""
    decoder = FrameDecoder(version, **options)
    chunks = [data] if isinstance(data, bytes) else list(data)
    out: list[Any] = []
    for chunk in chunks:
        try:
            out += tuples(decoder.feed(chunk))
        except FrameError as exc:
            return exc, out + tuples(exc.frames)
    raise AssertionError(f"no FrameError; decoded {out!r}")


def require_speedups() -> None:
    """Skip when the decoder's C accelerator is not built (or ``STOMP_NO_SPEEDUPS=1``), but
    fail in CI (``CI`` set), where a silent fallback would leave it untested."""
    if _c_scan is None:
        if os.environ.get("CI") and os.environ.get("STOMP_NO_SPEEDUPS") != "1":
            pytest.fail("stomp._speedups is not importable in CI", pytrace=False)
        pytest.skip("stomp._speedups is not built (or STOMP_NO_SPEEDUPS=1)")
