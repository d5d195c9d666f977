"""Large bodies split over many chunks: decoded from the decoder's buffer through a view."""

from __future__ import annotations

import pytest

from stomp.codec import FrameDecoder
from stomp.exception import FrameError

# Every test runs with the C accelerator and with the pure-Python decoder.
pytestmark = pytest.mark.usefixtures("codec_path")


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


def test_body_chunks_from_a_reused_buffer_are_copied() -> None:
    # A caller that reads into one buffer and feeds views of it (recv_into) must not see
    # the bodies of frames still arriving change when it reuses the buffer.
    data, bodies = _stream([20000, 50, 30000], True)
    decoder = FrameDecoder("1.2")
    buffer = bytearray(4096)
    frames = []
    for start in range(0, len(data), 4096):
        piece = data[start : start + 4096]
        buffer[: len(piece)] = piece
        frames += decoder.feed(memoryview(buffer)[: len(piece)])
        buffer[:] = b"\xee" * len(buffer)  # the caller reuses its buffer
    assert [f.body for f in frames if f.cmd == "MESSAGE"] == bodies


def test_headers_and_position_while_a_body_arrives() -> None:
    body = b"x" * 1000
    frame = b"MESSAGE\ncontent-length:1000\nid:\\c7\n\n" + body + b"\0\n"
    decoder = FrameDecoder("1.2")
    assert decoder.feed(b"\n" + frame[:500]) != []  # a heart-beat, then 500 bytes of frame
    assert (decoder.buffered, decoder.position) == (500, 1)
    assert decoder.feed(frame[500:900]) == []
    assert (decoder.buffered, decoder.position) == (900, 1)
    frames = decoder.feed(frame[900:] + b"SEND\n\n\0")
    assert [(f.cmd, f.headers, f.body) for f in frames] == [
        ("MESSAGE", {"content-length": "1000", "id": ":7"}, body),
        ("SEND", {}, b""),  # the EOL after the MESSAGE's NUL was its trailer, not a beat
    ]
    assert frames[0].original_headers == frames[0].headers
    assert (decoder.buffered, decoder.position) == (0, 1 + len(frame) + 7)


def test_missing_nul_after_a_body_that_arrived_in_pieces() -> None:
    decoder = FrameDecoder("1.2")
    decoder.feed(b"SEND\n\n\0MESSAGE\ncontent-length:10\n\n01234")
    with pytest.raises(FrameError) as info:
        decoder.feed(b"56789X")
    assert info.value.offset == 7 + len(b"MESSAGE\ncontent-length:10\n\n") + 10
    assert "followed by byte 0x58, not NUL" in info.value.reason
    assert info.value.frames == []
    with pytest.raises(FrameError):
        decoder.feed(b"\0")  # errors are final


def test_version_change_while_a_body_arrives() -> None:
    # The headers already decoded under 1.0 rules are decoded again under 1.2's.
    decoder = FrameDecoder("1.0")
    assert decoder.feed(b"MESSAGE\ncontent-length:4\nid:a\\cb\n\nab") == []
    decoder.version = "1.2"
    assert decoder.buffered == len(b"MESSAGE\ncontent-length:4\nid:a\\cb\n\nab")
    (frame,) = decoder.feed(b"cd\0")
    assert (frame.headers["id"], frame.body) == ("a:b", b"abcd")
    assert decoder.position == len(b"MESSAGE\ncontent-length:4\nid:a\\cb\n\nabcd\0")


def test_auto_decode_of_a_body_split_inside_a_character() -> None:
    body = "é" * 3000
    data = b"MESSAGE\ncontent-length:6000\n\n" + body.encode() + b"\0"
    decoder = FrameDecoder("1.2", auto_decode=True)
    frames = decoder.feed(data[:101]) + decoder.feed(data[101:])  # 101: inside an "é"
    assert [f.body for f in frames] == [body]


def test_read_size_grows_while_large_frames_arrive() -> None:
    decoder = FrameDecoder("1.2")
    assert decoder.read_size(1000) == 1000
    frame = b"MESSAGE\ncontent-length:600\n\n" + b"a" * 600 + b"\0"
    decoder.feed(frame[:100])  # 530 bytes of the body to come: more than 1000 / 16
    assert decoder.read_size(1000) == 4000
    decoder.feed(frame[100:])  # complete; its body was more than 1000 / 4
    assert decoder.read_size(1000) == 4000
    decoder.feed(b"MESSAGE\n\nsmall\0")
    assert decoder.read_size(1000) == 1000
    decoder.feed(b"MESSAGE\n\n" + b"b" * 300 + b"\0")  # no content-length: only its size counts
    assert decoder.read_size(1000) == 4000
    assert decoder.read_size(1000, 9000) == 9000  # (a transport's own large size)
    decoder.reset()
    assert decoder.read_size(1000) == 1000
    assert decoder.read_size(1000, 9000) == 1000
