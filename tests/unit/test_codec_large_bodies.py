"""Large bodies split over many chunks: decoded from the decoder's buffer through a view."""

from __future__ import annotations

import pytest

from stomp.codec import FrameDecoder


def _stream(sizes: list[int], content_length: bool) -> tuple[bytes, list[bytes]]:
    bodies = [bytes((65 + i + k) % 26 + 65 for k in range(size)) for i, size in enumerate(sizes)]
    bodies[0] = bodies[0][:-3] + "é".encode() + b"\xff" if len(bodies[0]) > 3 else bodies[0]
    frames = []
    for body in bodies:
        head = b"MESSAGE\ndestination:/queue/a\n"
        if content_length:
            head += b"content-length:%d\n" % len(body)
        frames.append(head + b"\n" + body + b"\0\n")
    return b"".join(frames), bodies


@pytest.mark.parametrize("auto_decode", [False, True])
@pytest.mark.parametrize("content_length", [False, True])
@pytest.mark.parametrize("chunk", [1000, 8191, 65536, 1 << 20])
def test_large_bodies_any_chunking(auto_decode: bool, content_length: bool, chunk: int) -> None:
    data, bodies = _stream([70000, 8191, 8192, 8193, 100, 200000], content_length)
    decoder = FrameDecoder("1.2", auto_decode=auto_decode)
    frames = []
    for start in range(0, len(data), chunk):
        frames += decoder.feed(data[start : start + chunk])
    assert decoder.buffered == 0 and decoder.position == len(data)
    got = [f.body for f in frames if f.cmd == "MESSAGE"]
    if auto_decode:
        assert got == [b.decode("utf-8", "replace") for b in bodies]
    else:
        assert got == bodies
        assert all(type(b) is bytes for b in got)


def test_partial_frame_kept_from_a_bytes_chunk() -> None:
    data, bodies = _stream([50000], True)
    decoder = FrameDecoder("1.2")
    assert decoder.feed(b"\n" + data[:30000]) != []  # the heart-beat
    assert decoder.buffered == 30000
    frames = decoder.feed(bytearray(data[30000:]))
    assert [f.body for f in frames] == bodies
