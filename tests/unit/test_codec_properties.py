"""Property-based tests of the codec (hypothesis): round trips, chunking, fuzzing."""

from __future__ import annotations

import string

import pytest
from codecutil import HB, cut, feed_all, pieces, tuples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stomp.codec import (
    UNESCAPED_COMMANDS,
    VERSIONS,
    Frame,
    FrameDecoder,
    encode_frame,
    escape,
    unescape,
)
from stomp.exception import FrameError

# Every test runs with the C accelerator and with the pure-Python decoder.
pytestmark = pytest.mark.usefixtures("codec_path")

# Example counts keep the whole file to a few seconds; run with
# --hypothesis-seed / a bigger max_examples locally to search harder.
FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

versions = st.sampled_from(VERSIONS)

# Texts likely to hit every escaping rule (mostly the special characters), and texts of
# any character UTF-8 can carry (lone surrogates cannot be encoded: tested elsewhere).
SPECIAL = list(":\\\n\r\0\x01 ncrt\x85é€")


def text_of(min_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(st.sampled_from(SPECIAL), min_size=min_size, max_size=10),
        st.text(
            st.characters(codec="utf-8", include_characters=":\\\n\r"),
            min_size=min_size,
            max_size=10,
        ),
    )


texts = text_of(0)
names = st.one_of(text_of(1), st.just("content-length"))
values = st.one_of(
    texts,
    texts,
    st.integers(-(10**6), 10**6),
    st.none(),
    st.lists(texts, max_size=3).map(tuple),
)
commands = st.one_of(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=10),
    st.sampled_from(["SEND", "MESSAGE", "ERROR", *sorted(UNESCAPED_COMMANDS)]),
)
bodies = st.one_of(
    st.binary(max_size=40),
    st.binary(max_size=8).map(lambda b: b + b"\0" + b),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)
frames = st.builds(Frame, commands, st.dictionaries(names, values, max_size=5), bodies)


def body_bytes(body) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def written(frame: Frame):
    """The (name, first value, every value) of each header the encoder puts on the wire."""
    for name, value in frame.headers.items():
        if name == "content-length":
            continue
        items = value if isinstance(value, tuple) else (value,)
        if value is None or not items:
            continue
        yield name, str(items[0]), [str(item) for item in items]


def carriable(frame: Frame, version: str) -> bool:
    """Whether the frame can go on the wire: headers that are not escaped (1.0, CONNECT,
    STOMP, CONNECTED) cannot contain a line end, nor a colon in a name."""
    if version != "1.0" and frame.cmd not in UNESCAPED_COMMANDS:
        return True
    for name, _, items in written(frame):
        if ":" in name or any(c in text for text in (name, *items) for c in "\r\n"):
            return False
    return True


def expected_tuple(frame: Frame):
    """The decoded (cmd, headers, body) of an encoded frame: first value of a repeated
    header, None and empty tuples left out, content-length with the real byte length when
    the frame had one or its body contains a NUL."""
    body = body_bytes(frame.body)
    headers = {name: first for name, first, _ in written(frame)}
    if "content-length" in frame.headers or b"\0" in body:
        headers["content-length"] = str(len(body))
    return (frame.cmd, headers, body)


# ---------------------------------------------------------------------------------------
# (a) decode(encode(f)) == f, for every version
# ---------------------------------------------------------------------------------------


@MANY
@given(frame=frames, version=versions)
def test_round_trip(frame, version):
    if not carriable(frame, version):
        with pytest.raises(FrameError) as info:
            encode_frame(frame, version)
        assert info.value.offset is None
        return
    data = encode_frame(frame, version)
    decoder = FrameDecoder(version, strict=True)
    assert tuples(decoder.feed(data)) == [expected_tuple(frame)]
    assert decoder.buffered == 0
    assert decoder.position == len(data)


@FEW
@given(frame=frames, version=versions)
def test_round_trip_auto_decode_and_byte_by_byte(frame, version):
    if not carriable(frame, version):
        return
    data = encode_frame(frame, version)
    cmd, headers, body = expected_tuple(frame)
    got = feed_all(FrameDecoder(version, auto_decode=True), pieces(data, 1))
    assert got == [(cmd, headers, body.decode("utf-8", "replace"))]


@FEW
@given(headers=st.dictionaries(names, texts, max_size=5), version=st.sampled_from(["1.1", "1.2"]))
def test_round_trip_of_text_headers_in_escaped_versions(headers, version):
    # Every text can be carried by an escaped frame, CR included (raw in 1.1, \r in 1.2).
    frame = Frame("MESSAGE", dict(headers), b"")
    (got,) = tuples(FrameDecoder(version, strict=True).feed(encode_frame(frame, version)))
    expected = dict(headers)
    if "content-length" in expected:
        expected["content-length"] = "0"
    assert got == ("MESSAGE", expected, b"")


# ---------------------------------------------------------------------------------------
# (b) a stream with heart-beats, cut anywhere, gives the same frames
# ---------------------------------------------------------------------------------------

eol_runs = st.lists(st.sampled_from([b"\n", b"\r\n"]), max_size=3)


@SOME
@given(
    version=versions,
    leading=eol_runs,
    items=st.lists(st.tuples(frames, eol_runs), max_size=5),
    data=st.data(),
)
def test_stream_cut_anywhere(version, leading, items, data):
    items = [(frame, gap) for frame, gap in items if carriable(frame, version)]
    stream = b"".join(leading) + b"".join(
        encode_frame(frame, version) + b"".join(gap) for frame, gap in items
    )
    # One feed: the EOLs right after a frame are its padding, the leading ones heart-beats.
    expected = [HB] * len(leading)
    for frame, _gap in items:
        expected.append(expected_tuple(frame))
    decoder = FrameDecoder(version)
    assert tuples(decoder.feed(stream)) == expected
    assert (decoder.buffered, decoder.position) == (0, len(stream))

    if data.draw(st.booleans(), label="byte by byte"):
        chunks = pieces(stream, 1)
    else:
        positions = data.draw(st.lists(st.integers(0, len(stream)), max_size=12), label="cuts")
        chunks = cut(stream, positions)
    decoder = FrameDecoder(version)
    got = feed_all(decoder, chunks)
    assert [f for f in got if f != HB] == [f for f in expected if f != HB]
    # Padding that arrives in a later feed than its NUL counts as heart-beats.
    padding = sum(len(gap) for _frame, gap in items)
    assert expected.count(HB) <= got.count(HB) <= expected.count(HB) + padding
    assert (decoder.buffered, decoder.position) == (0, len(stream))


# ---------------------------------------------------------------------------------------
# (c) arbitrary input: frames or FrameError, nothing else; cutting changes nothing
# ---------------------------------------------------------------------------------------

tokens = st.sampled_from(
    [
        b"SEND",
        b"MESSAGE",
        b"CONNECTED",
        b"ab",
        b"\n",
        b"\n",
        b"\r\n",
        b"\r",
        b"\0",
        b":",
        b"\\",
        b"\\c",
        b"\\n",
        b"\\r",
        b"\\t",
        b"content-length:",
        b"0",
        b"3",
        b"12",
        b"-",
        b" ",
        b"\xff",
        b"\xc3\xa9",
    ]
)
soup = st.lists(tokens, max_size=40).map(b"".join)


@st.composite
def mutated_streams(draw):
    version = draw(versions)
    items = draw(st.lists(frames, min_size=1, max_size=3))
    stream = bytearray(b"\n".join(encode_frame(f, version) for f in items if carriable(f, version)))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(stream)))
        byte = draw(st.sampled_from(b"\n\r\0:\\ 09aZ\xff"))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "insert" or where == len(stream):
            stream.insert(where, byte)
        elif action == "replace":
            stream[where] = byte
        else:
            del stream[where]
    return bytes(stream)


garbage = st.one_of(st.binary(max_size=200), soup, mutated_streams())


def run(decoder: FrameDecoder, chunks):
    """Feed the chunks; return (frames, error) checking that only FrameError escapes."""
    got = []
    for chunk in chunks:
        fed = decoder.position + decoder.buffered + len(chunk)  # stream bytes seen so far
        try:
            result = decoder.feed(chunk)
        except FrameError as exc:
            assert isinstance(exc.offset, int)
            assert 0 <= exc.offset < fed
            assert all(isinstance(f, Frame) for f in exc.frames)
            got += exc.frames
            with pytest.raises(FrameError):  # sticky
                decoder.feed(b"SEND\n\n\0")
            return tuples(got), (exc.reason, exc.offset)
        assert all(isinstance(f, Frame) for f in result)
        got += result
    return tuples(got), None


@MANY
@given(data=garbage, version=versions, strict=st.booleans(), split=st.data())
def test_garbage_gives_frames_or_frame_error_the_same_in_pieces(data, version, strict, split):
    whole, whole_error = run(FrameDecoder(version, strict=strict), [data])
    positions = split.draw(st.lists(st.integers(0, len(data)), max_size=10), label="cuts")
    decoder = FrameDecoder(version, strict=strict)
    parts, parts_error = run(decoder, cut(data, positions))
    assert [f for f in parts if f != HB] == [f for f in whole if f != HB]
    assert parts_error == whole_error


@SOME
@given(
    data=garbage,
    version=versions,
    auto_decode=st.booleans(),
    max_header=st.integers(0, 40),
    max_body=st.integers(0, 20),
    size=st.integers(1, 7),
)
def test_garbage_with_small_limits_gives_frames_or_frame_error(
    data, version, auto_decode, max_header, max_body, size
):
    decoder = FrameDecoder(
        version, auto_decode=auto_decode, max_header_bytes=max_header, max_body_bytes=max_body
    )
    frames_out, _ = run(decoder, pieces(data, size))
    for frame in frames_out:
        if frame != HB:
            assert isinstance(frame[2], str if auto_decode else bytes)


# ---------------------------------------------------------------------------------------
# (d) escaping
# ---------------------------------------------------------------------------------------


def reference_unescape(text: str, version: str, strict: bool) -> str:
    """A plain one-pass reading of the specification's escape table."""
    if version == "1.0":
        return text
    table = {"\\": "\\", "n": "\n", "c": ":"}
    if version == "1.2":
        table["r"] = "\r"
    out, i = [], 0
    while i < len(text):
        if text[i] != "\\":
            out.append(text[i])
            i += 1
            continue
        code = text[i + 1 : i + 2]
        if code in table:
            out.append(table[code])
        elif strict:
            raise FrameError("undefined escape")
        else:
            out.append(text[i : i + 2])
        i += 2
    return "".join(out)


@SOME
@given(text=texts, version=versions)
def test_escape_round_trip(text, version):
    escaped = escape(text, version)
    assert unescape(escaped, version) == text
    assert unescape(escaped, version, strict=True) == text
    if version == "1.0":
        assert escaped == text
    else:
        assert "\n" not in escaped and ":" not in escaped
        assert ("\r" in escaped) == (version == "1.1" and "\r" in text)
        assert reference_unescape(escaped, version, strict=True) == text


@MANY
@given(text=st.text(st.sampled_from(list("\\ncrtx:\n")), max_size=12), version=versions)
def test_unescape_matches_a_one_pass_reference(text, version):
    assert unescape(text, version) == reference_unescape(text, version, False)
    try:
        expected = reference_unescape(text, version, True)
    except FrameError:
        with pytest.raises(FrameError, match="undefined escape sequence"):
            unescape(text, version, strict=True)
    else:
        assert unescape(text, version, strict=True) == expected
