"""The STOMP frame decoder (stomp.codec.FrameDecoder), one rule at a time.

Every test asserts the exact frames, as ``(cmd, headers, body)`` tuples (``HB`` for a
heart-beat), or the exact error and stream offset.
"""

from __future__ import annotations

import time

import pytest
from codecutil import HB, cut, decode, decode_error, decode_pieces, feed_all, pieces, tuples

from stomp.codec import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    HEARTBEAT_FRAME,
    VERSIONS,
    FrameDecoder,
    parse_header_lines,
    unescape,
)
from stomp.exception import FrameError

# Every test runs with the C accelerator and with the pure-Python decoder.
pytestmark = pytest.mark.usefixtures("codec_path")

ALL = pytest.mark.parametrize("version", VERSIONS)
ESCAPING = pytest.mark.parametrize("version", ["1.1", "1.2"])

SEND = b"SEND\n\n\0"  # 7 bytes: the smallest complete frame
SEND_T = ("SEND", {}, b"")


# ---------------------------------------------------------------------------------------
# Line ends
# ---------------------------------------------------------------------------------------


@ALL
def test_lf_line_ends(version):
    data = b"SEND\ndestination:/queue/a\nreceipt:r-1\n\nhello\0"
    assert decode(data, version) == [
        ("SEND", {"destination": "/queue/a", "receipt": "r-1"}, b"hello")
    ]


def test_crlf_line_ends_in_12():
    data = b"MESSAGE\r\ndestination:/queue/a\r\nmessage-id:7\r\n\r\nhello\0"
    assert decode(data, "1.2") == [
        ("MESSAGE", {"destination": "/queue/a", "message-id": "7"}, b"hello")
    ]


def test_crlf_and_lf_mixed_in_one_12_frame():
    assert decode(b"SEND\na:1\r\nb:2\n\r\nbody\0", "1.2") == [
        ("SEND", {"a": "1", "b": "2"}, b"body")
    ]


def test_crlf_header_section_of_12_fed_byte_by_byte():
    data = b"MESSAGE\r\na:1\r\n\r\nxy\0MESSAGE\r\n\r\n\0"
    assert decode_pieces(data, 1, "1.2") == [("MESSAGE", {"a": "1"}, b"xy"), ("MESSAGE", {}, b"")]


def test_12_body_keeps_its_crlf_and_blank_lines():
    data = b"SEND\r\n\r\nline\r\n\r\nmore\n\nend\0"
    assert decode(data, "1.2") == [("SEND", {}, b"line\r\n\r\nmore\n\nend")]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_cr_before_lf_in_a_header_line_is_data_before_12(version):
    data = b"SEND\r\ndestination:/queue/a\r\nx:1\n\n\0"
    assert decode(data, version) == [("SEND", {"destination": "/queue/a\r", "x": "1"}, b"")]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_crlf_blank_line_does_not_end_the_headers_before_12(version):
    # Before 1.2 a CR is data: "\r\n" is a header line "\r", not the end of the headers.
    decoder = FrameDecoder(version)
    assert decoder.feed(b"SEND\r\na:b\r\n\r\n\0") == []
    assert decoder.buffered == 14


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_crlf_blank_line_before_12_is_a_malformed_header_once_more_arrives(version):
    exc, frames = decode_error(b"SEND\na:b\r\n\r\n\0SEND\n\n\0", version)
    assert frames == []
    assert exc.offset == 0
    assert "header line without a colon: '\\r'" in str(exc)


@ALL
def test_cr_ending_the_command_line_is_tolerated(version):
    assert decode(b"SEND\r\n\n\0", version) == [SEND_T]
    assert decode(b"MESSAGE\r\na:1\n\nx\0", version) == [("MESSAGE", {"a": "1"}, b"x")]


@ALL
def test_crlf_between_frames_is_accepted(version):
    data = SEND + b"\r\n\r\n" + b"MESSAGE\n\n\0" + b"\r\n"
    assert decode(data, version) == [SEND_T, ("MESSAGE", {}, b"")]
    assert decode(b"\r\n" + data, version) == [HB, SEND_T, ("MESSAGE", {}, b"")]


# ---------------------------------------------------------------------------------------
# Heart-beats and the padding rule
# ---------------------------------------------------------------------------------------


@ALL
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\n", [HB]),
        (b"\r\n", [HB]),
        (b"\n\n\n", [HB, HB, HB]),
        (b"\r\n\n\r\n", [HB, HB, HB]),
    ],
)
def test_heartbeats_alone(version, data, expected):
    assert decode(data, version) == expected


@ALL
def test_heartbeats_before_the_first_frame(version):
    assert decode(b"\n\r\n\n" + SEND, version) == [HB, HB, HB, SEND_T]


def test_heartbeat_is_the_shared_heartbeat_frame():
    (frame,) = FrameDecoder().feed(b"\n")
    assert frame is HEARTBEAT_FRAME
    assert frame.cmd == "heartbeat"


@ALL
@pytest.mark.parametrize("eols", [2, 3, 5])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
def test_frame_after_two_or_more_eols_is_never_dropped(version, eols, eol):
    # Regression: stomp.py drops the frame that follows two or more EOLs.
    data = SEND + eol * eols + b"MESSAGE\nid:2\n\nbody\0"
    assert decode(data, version) == [SEND_T, ("MESSAGE", {"id": "2"}, b"body")]
    assert decode_pieces(data, 1, version) == [
        SEND_T,
        *[HB] * eols,  # fed one byte at a time, the padding arrives in feeds of its own
        ("MESSAGE", {"id": "2"}, b"body"),
    ]
    data = b"\n" + eol * (eols - 1) + b"MESSAGE\nid:2\n\nbody\0"
    assert decode(data, version) == [*[HB] * eols, ("MESSAGE", {"id": "2"}, b"body")]


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        # The EOLs right after the NUL, in the same feed, are the frame's padding (as
        # stomp.py counts them: a CONNECTED followed by three LFs is no heart-beat).
        ([SEND + b"\n"], [SEND_T]),
        ([SEND + b"\r\n"], [SEND_T]),  # a CR LF counts as one EOL
        ([SEND + b"\n\n"], [SEND_T]),
        ([SEND + b"\r\n\r\n"], [SEND_T]),
        ([SEND + b"\n\r\n\n"], [SEND_T]),
        # Every other EOL is a heart-beat: in a later feed ...
        ([SEND, b"\n"], [SEND_T, HB]),
        ([SEND, b"\r\n"], [SEND_T, HB]),
        ([SEND, b"\n\n"], [SEND_T, HB, HB]),
        ([SEND + b"\n", b"\n"], [SEND_T, HB]),
        # ... or before the first frame ...
        ([b"\n" + SEND + b"\n"], [HB, SEND_T]),
        # ... or after a heart-beat.
        ([b"\n", b"\n"], [HB, HB]),
        # Each frame has its own padding.
        ([SEND + b"\n" + SEND + b"\n" + SEND], [SEND_T, SEND_T, SEND_T]),
        ([SEND + SEND + b"\n\n"], [SEND_T, SEND_T]),
    ],
)
def test_padding_rule(chunks, expected):
    assert feed_all(FrameDecoder(), chunks) == expected


def test_crlf_split_across_feeds_after_a_frame_is_a_heartbeat():
    # The CR waits for its LF; the EOL is not complete within the frame's feed.
    decoder = FrameDecoder()
    assert tuples(decoder.feed(SEND + b"\r")) == [SEND_T]
    assert decoder.buffered == 1
    assert decoder.position == 7
    assert tuples(decoder.feed(b"\n")) == [HB]
    assert decoder.buffered == 0
    assert decoder.position == 9


@ALL
def test_lone_cr_at_the_end_of_a_feed_waits_for_its_lf(version):
    decoder = FrameDecoder(version)
    assert decoder.feed(b"\r") == []
    assert decoder.buffered == 1
    assert tuples(decoder.feed(b"\n" + SEND)) == [HB, SEND_T]


# ---------------------------------------------------------------------------------------
# Header escaping
# ---------------------------------------------------------------------------------------


def test_10_has_no_escaping():
    data = b"SEND\na\\nb\\c:c\\cd\\\\e\\rf\\tg\\\n\n\0"
    assert decode(data, "1.0") == [("SEND", {"a\\nb\\c": "c\\cd\\\\e\\rf\\tg\\"}, b"")]
    assert decode(data, "1.0", strict=True) == decode(data, "1.0")


@ESCAPING
@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"a\\nb", "a\nb"),
        (b"a\\cb", "a:b"),
        (b"a\\\\b", "a\\b"),
        (b"\\n\\c\\\\", "\n:\\"),
        (b"\\\\n", "\\n"),  # an escaped backslash, then "n": not an LF
        (b"\\\\c", "\\c"),
        (b"\\\\\\n", "\\\n"),  # escaped backslash, then an escaped LF
        (b"\\\\\\\\", "\\\\"),
        (b"x\\\\ny\\nz", "x\\ny\nz"),
        (b"\xc3\xa9\\c\xe2\x82\xac", "é:€"),
    ],
)
def test_escapes_11_and_12(version, wire, value):
    assert decode(b"MESSAGE\nk:" + wire + b"\n\n\0", version) == [("MESSAGE", {"k": value}, b"")]


def test_12_unescapes_backslash_r():
    assert decode(b"SEND\nk:a\\rb\\r\\n\n\n\0", "1.2") == [("SEND", {"k": "a\rb\r\n"}, b"")]


def test_11_keeps_backslash_r_verbatim_in_lenient_mode():
    assert decode(b"SEND\nk:a\\rb\\nc\n\n\0", "1.1") == [("SEND", {"k": "a\\rb\nc"}, b"")]


@ESCAPING
def test_escaped_header_names(version):
    data = b"SEND\na\\cb\\nc\\\\d:v\\c\nplain:1\n\n\0"
    assert decode(data, version) == [("SEND", {"a:b\nc\\d": "v:", "plain": "1"}, b"")]


@ESCAPING
@pytest.mark.parametrize("cmd", [b"CONNECT", b"STOMP", b"CONNECTED"])
def test_connect_stomp_connected_are_not_unescaped(version, cmd):
    data = cmd + b"\nlogin:u\\c\npasscode:p:a\\\\s\\ns\\t\nx\\cy:1\n\n\0"
    expected = {"login": "u\\c", "passcode": "p:a\\\\s\\ns\\t", "x\\cy": "1"}
    assert decode(data, version) == [(cmd.decode(), expected, b"")]
    assert decode(data, version, strict=True) == [(cmd.decode(), expected, b"")]


@ESCAPING
def test_error_frame_during_the_handshake_is_unescaped(version):
    # Only CONNECT, STOMP and CONNECTED are exempt; an ERROR refusing the connection is not.
    assert decode(b"ERROR\nmessage:bad\\cpass\n\n\0", version) == [
        ("ERROR", {"message": "bad:pass"}, b"")
    ]


@ESCAPING
def test_exemption_is_case_sensitive(version):
    assert decode(b"connected\nk:a\\cb\n\n\0", version) == [("connected", {"k": "a:b"}, b"")]


@ESCAPING
@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"a\\tb", "a\\tb"),
        (b"a\\", "a\\"),  # a lone trailing backslash
        (b"\\x\\n", "\\x\n"),
        (b"\\\\\\q", "\\\\q"),
    ],
)
def test_undefined_escapes_are_kept_verbatim_by_default(version, wire, value):
    assert decode(b"SEND\nk:" + wire + b"\n\n\0", version) == [("SEND", {"k": value}, b"")]
    assert decode(b"SEND\nk" + wire + b":v\n\n\0", version) == [("SEND", {"k" + value: "v"}, b"")]


@ESCAPING
@pytest.mark.parametrize(
    ("wire", "shown"),
    [
        (b"a\\tb", "'\\\\t'"),
        (b"a\\", "'a lone trailing \\\\'"),
        (b"\\\\\\q", "'\\\\q'"),
    ],
)
@pytest.mark.parametrize("where", ["value", "name"])
def test_undefined_escapes_raise_in_strict_mode(version, wire, shown, where):
    line = b"k:" + wire if where == "value" else b"k" + wire + b":v"
    # A second header with a backslash in its name sends the decoder down its general path.
    exc, frames = decode_error(SEND + b"SEND\nx\\cy:1\n" + line + b"\n\n\0", version, strict=True)
    assert frames == [SEND_T]
    assert exc.reason.startswith(f"undefined escape sequence {shown} in header")
    assert "in the SEND frame" in exc.reason
    assert exc.offset == 7


def test_11_backslash_r_raises_in_strict_mode():
    exc, frames = decode_error(SEND + b"SEND\nx\\cy:1\nk:a\\rb\n\n\0", "1.1", strict=True)
    assert frames == [SEND_T]
    assert "undefined escape sequence '\\\\r'" in exc.reason
    assert exc.offset == 7
    assert decode(b"SEND\nk:a\\rb\n\n\0", "1.2", strict=True) == [("SEND", {"k": "a\rb"}, b"")]


@pytest.mark.parametrize(("version", "wire"), [("1.1", b"a\\rb"), ("1.2", b"a\\tb")])
def test_strict_escape_error_on_the_fast_header_path(version, wire):
    # No escaped name, no repeated header: the decoder's fast path must report the same.
    exc, frames = decode_error(SEND + b"SEND\nk:" + wire + b"\n\n\0", version, strict=True)
    assert frames == [SEND_T]
    assert "undefined escape sequence" in exc.reason
    assert exc.offset == 7
    assert "in the SEND frame" in exc.reason


@ESCAPING
@pytest.mark.parametrize(
    "wire", [b"ID\\chost\\c1", b"a\\nb\\c", b"x\\\\ny\\c", b"a\\tb\\r", b"\\c\\c"]
)
def test_a_value_repeated_in_a_frame_is_unescaped_every_time(version, wire):
    # (the ack header is often the message-id: the decoder unescapes such a value once)
    value = unescape(wire.decode(), version)
    data = b"MESSAGE\nmessage-id:" + wire + b"\nack:" + wire + b"\nn:1\nx:" + wire + b"\n\n\0"
    expected = {"message-id": value, "ack": value, "n": "1", "x": value}
    assert decode(data, version) == [("MESSAGE", expected, b"")]
    # The same, then an escaped name: the general path, which unescapes it too.
    data = data.replace(b"\n\n\0", b"\nk\\c:" + wire + b"\n\n\0")
    assert decode(data, version) == [("MESSAGE", {**expected, "k:": value}, b"")]


@ESCAPING
def test_strict_mode_accepts_every_defined_escape(version):
    data = b"SEND\na\\c\\n\\\\:\\c\\n\\\\\n\n\0"
    assert decode(data, version, strict=True) == [("SEND", {"a:\n\\": ":\n\\"}, b"")]


# ---------------------------------------------------------------------------------------
# Header lines
# ---------------------------------------------------------------------------------------


@ALL
def test_first_repeated_header_wins(version):
    data = b"MESSAGE\na:1\nb:x\na:2\na:3\n\n\0"
    assert decode(data, version) == [("MESSAGE", {"a": "1", "b": "x"}, b"")]


@ALL
def test_first_repeated_content_length_wins(version):
    data = b"MESSAGE\ncontent-length:3\ncontent-length:5\n\nabc\0" + SEND
    assert decode(data, version) == [("MESSAGE", {"content-length": "3"}, b"abc"), SEND_T]


@ALL
def test_invalid_repeated_content_length_is_ignored(version):
    data = b"MESSAGE\ncontent-length:2\ncontent-length:abc\n\nab\0"
    assert decode(data, version) == [("MESSAGE", {"content-length": "2"}, b"ab")]


@ESCAPING
def test_first_wins_compares_unescaped_names(version):
    data = b"SEND\na\\cb:1\na:b:2\n\n\0"
    # "a\cb" is the name "a:b"; "a:b:2" is the name "a" with value "b:2".
    assert decode(data, version) == [("SEND", {"a:b": "1", "a": "b:2"}, b"")]
    data = b"SEND\na\\cb:1\na\\cb:2\n\n\0"
    assert decode(data, version) == [("SEND", {"a:b": "1"}, b"")]


@ALL
def test_empty_header_values(version):
    assert decode(b"SEND\na:\nb:x\n\n\0", version) == [("SEND", {"a": "", "b": "x"}, b"")]


@ALL
def test_header_line_is_split_at_the_first_colon(version):
    data = b"SEND\nurl:http://h:80/p\nid:ID::1:\n\n\0"
    assert decode(data, version) == [("SEND", {"url": "http://h:80/p", "id": "ID::1:"}, b"")]


@ALL
def test_no_trimming_of_spaces(version):
    data = b"SEND\n a :  b \n\tk:\tv\t\n\n\0"
    assert decode(data, version) == [("SEND", {" a ": "  b ", "\tk": "\tv\t"}, b"")]


@ALL
def test_commands_and_names_are_case_sensitive(version):
    data = b"send\nDestination:/q\ndestination:/r\n\n\0"
    assert decode(data, version) == [("send", {"Destination": "/q", "destination": "/r"}, b"")]


@ALL
def test_header_order_is_the_wire_order(version):
    (frame,) = FrameDecoder(version).feed(b"SEND\nz:1\na:2\nm:3\n\n\0")
    assert list(frame.headers) == ["z", "a", "m"]


@ALL
def test_utf8_headers(version):
    data = "MESSAGE\nclé:välue €\n\n\0".encode()
    assert decode(data, version) == [("MESSAGE", {"clé": "välue €"}, b"")]


def test_invalid_utf8_in_a_header_becomes_replacement_character():
    assert decode(b"SEND\nk:a\xffb\n\n\0") == [("SEND", {"k": "a\ufffdb"}, b"")]


def test_decoded_frame_has_original_headers_copy():
    (frame,) = FrameDecoder().feed(b"SEND\na:1\n\n\0")
    assert frame.original_headers == {"a": "1"}
    assert frame.original_headers is not frame.headers
    frame.headers["a"] = "changed"
    assert frame.original_headers == {"a": "1"}


@ALL
def test_frame_without_headers(version):
    assert decode(b"DISCONNECT\n\n\0", version) == [("DISCONNECT", {}, b"")]


# ---------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------


@ALL
def test_content_length_body_may_contain_nuls(version):
    data = b"MESSAGE\ncontent-length:6\n\n\0a\0b\0\n\0" + SEND
    assert decode(data, version) == [
        ("MESSAGE", {"content-length": "6"}, b"\0a\0b\0\n"),
        SEND_T,
    ]


@ALL
def test_body_without_content_length_ends_at_the_first_nul(version):
    data = b"SEND\n\nab\0MESSAGE\nk:v\n\ncd\0"
    assert decode(data, version) == [("SEND", {}, b"ab"), ("MESSAGE", {"k": "v"}, b"cd")]


def test_body_without_content_length_keeps_eols_and_blank_lines():
    assert decode(b"SEND\n\n\n\nline\n\n\0") == [("SEND", {}, b"\n\nline\n\n")]


@ALL
def test_content_length_zero(version):
    data = b"SEND\ncontent-length:0\n\n\0" + SEND
    assert decode(data, version) == [("SEND", {"content-length": "0"}, b""), SEND_T]


def test_content_length_with_leading_zeros():
    data = b"SEND\ncontent-length:003\n\na\0b\0"
    assert decode(data) == [("SEND", {"content-length": "003"}, b"a\0b")]


def test_many_different_content_lengths():
    # (the decoder remembers the sizes of the content-length values it has seen, up to a
    # point: every one is still read right)
    data = b"".join(
        b"SEND\ncontent-length:%s\n\n%s\0" % (length, b"x" * int(length))
        for length in [b"%d" % n for n in range(1500)] + [b"0%d" % n for n in range(50)]
    )
    frames = decode(data)
    assert len(frames) == 1550
    assert all(len(body) == int(headers["content-length"]) for _, headers, body in frames)


def test_a_content_length_seen_before_is_checked_against_each_decoder_s_limit():
    data = b"SEND\ncontent-length:0500\n\n" + b"x" * 500 + b"\0"
    assert decode(data) == [("SEND", {"content-length": "0500"}, b"x" * 500)]
    exc, _ = decode_error(data, max_body_bytes=499)
    assert "SEND frame body of 0500 bytes exceeds max_body_bytes (499)" in exc.reason


def test_content_length_counts_bytes_not_characters():
    body = "é€".encode()
    data = b"SEND\ncontent-length:5\n\n" + body + b"\0"
    assert decode(data, auto_decode=True) == [("SEND", {"content-length": "5"}, "é€")]


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
@pytest.mark.parametrize("header", [b"content-length:3\n", b""])
def test_bodies_are_bytes_when_not_auto_decoding(size, header):
    # Fed in pieces, the decoder works on a bytearray: the body must still be bytes.
    decoder = FrameDecoder()
    frames = []
    for chunk in pieces(b"SEND\n" + header + b"\nabc\0", size):
        frames += decoder.feed(chunk)
    (frame,) = frames
    assert type(frame.body) is bytes
    assert frame.body == b"abc"


def test_auto_decode_gives_str_bodies():
    data = "SEND\n\nhé\0SEND\ncontent-length:3\n\na\0b\0".encode()
    assert decode(data, auto_decode=True) == [
        ("SEND", {}, "hé"),
        ("SEND", {"content-length": "3"}, "a\0b"),
    ]
    assert decode_pieces(data, 1, auto_decode=True) == decode(data, auto_decode=True)


def test_auto_decode_replaces_invalid_utf8():
    assert decode(b"SEND\n\na\xff\xfeb\0", auto_decode=True) == [("SEND", {}, "a\ufffd\ufffdb")]


def test_auto_decode_can_be_switched_between_feeds():
    decoder = FrameDecoder()
    assert tuples(decoder.feed(b"SEND\n\nx\0")) == [("SEND", {}, b"x")]
    decoder.auto_decode = True
    assert tuples(decoder.feed(b"SEND\n\nx\0")) == [("SEND", {}, "x")]


def test_feed_accepts_bytes_bytearray_and_memoryview():
    data = b"SEND\na:1\n\nxy\0"
    for kind in (bytes, bytearray, memoryview):
        assert tuples(FrameDecoder().feed(kind(data))) == [("SEND", {"a": "1"}, b"xy")]
        decoder = FrameDecoder()
        assert decoder.feed(kind(data[:5])) == []
        assert tuples(decoder.feed(kind(data[5:]))) == [("SEND", {"a": "1"}, b"xy")]
        # a body without content-length arriving in pieces: its NUL is found in each kind
        decoder = FrameDecoder()
        assert decoder.feed(kind(data[:11])) == []
        assert decoder.feed(kind(data[11:12])) == []
        assert tuples(decoder.feed(kind(data[12:]))) == [("SEND", {"a": "1"}, b"xy")]


def test_a_stream_of_cr_lf_frames_in_one_chunk() -> None:
    # STOMP 1.2 frames whose header lines end in CR LF, many to a chunk, some with an LF LF
    # blank line among them (after a CR LF frame the decoder looks for that one first).
    frames = [
        f"MESSAGE\r\ndestination:/queue/a\r\nmessage-id:{i}\r\ncontent-length:2\r\n\r\nab\0\n"
        for i in range(50)
    ]
    frames[10] = "MESSAGE\r\nmessage-id:lf\n\nno-length\0"
    frames[20] = "RECEIPT\r\nreceipt-id:r\r\n\r\n\0\r\n"
    data = "".join(frames).encode()
    expected = [t for f in frames for t in decode(f.encode())]
    assert expected[0] == (
        "MESSAGE",
        {"destination": "/queue/a", "message-id": "0", "content-length": "2"},
        b"ab",
    )
    assert expected[10] == ("MESSAGE", {"message-id": "lf"}, b"no-length")
    assert expected[20] == ("RECEIPT", {"receipt-id": "r"}, b"")
    assert tuples(FrameDecoder().feed(data)) == expected
    # (in pieces, an EOL after a frame's NUL that starts the next piece is a heart-beat)
    assert [t for t in feed_all(FrameDecoder(), pieces(data, 7)) if t != HB] == expected


def test_feeding_nothing_returns_nothing():
    decoder = FrameDecoder()
    assert decoder.feed(b"") == []
    assert decoder.feed(b"SEND\n") == []
    assert decoder.feed(b"") == []
    assert tuples(decoder.feed(b"\n\0")) == [SEND_T]


# ---------------------------------------------------------------------------------------
# Size limits
# ---------------------------------------------------------------------------------------


def test_default_limits():
    decoder = FrameDecoder()
    assert decoder.max_header_bytes == DEFAULT_MAX_HEADER_BYTES == 64 * 1024
    assert decoder.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 100 * 1024 * 1024


# "SEND\nab:cde" is the 11-byte header section (command line plus header lines).
HEAD_11 = b"SEND\nab:cde"


def test_header_section_at_the_limit_is_accepted():
    data = SEND + HEAD_11 + b"\n\n\0"
    assert decode(data, max_header_bytes=11) == [SEND_T, ("SEND", {"ab": "cde"}, b"")]


def test_header_section_over_the_limit_raises():
    exc, frames = decode_error(SEND + HEAD_11 + b"\n\n\0", max_header_bytes=10)
    assert frames == [SEND_T]
    assert exc.offset == 7
    assert "max_header_bytes" in exc.reason
    assert "header section of 11 bytes exceeds max_header_bytes (10)" in str(exc)


def test_header_section_without_end_over_the_limit_raises():
    # Complete data: the end of the header section is too far away.
    exc, frames = decode_error(SEND + HEAD_11 + b"x\n\n\0", max_header_bytes=10)
    assert frames == [SEND_T]
    assert exc.offset == 7
    assert "max_header_bytes" in exc.reason


@pytest.mark.parametrize("size", [1, 3, 100])
def test_header_limit_in_pieces(size):
    # The end of the header section never comes: the decoder must not buffer forever.
    chunks = [SEND, *pieces(b"SEND\n" + b"k:v\n" * 100, size)]
    exc, frames = decode_error(chunks, max_header_bytes=32)
    assert frames == [SEND_T]
    assert exc.offset == 7
    assert "no end of the header section within 32 bytes (max_header_bytes)" in str(exc)


@pytest.mark.parametrize(
    ("version", "chunks"),
    [
        ("1.2", [HEAD_11 + b"\n", b"\n\0"]),
        ("1.1", [HEAD_11 + b"\n", b"\n\0"]),
        ("1.2", [b"SEND\r\nab:c\r\n", b"\r\n\0"]),  # header section "SEND\r\nab:c\r"
    ],
)
def test_header_section_at_the_limit_is_accepted_in_pieces(version, chunks):
    # Regression: the first EOL of the blank line, arriving alone, must not trip the limit.
    expected = decode(b"".join(chunks), version, max_header_bytes=11)
    assert expected == [("SEND", {"ab": "c" if b"\r" in chunks[0] else "cde"}, b"")]
    assert feed_all(FrameDecoder(version, max_header_bytes=11), chunks) == expected


def test_header_limit_is_per_frame():
    data = (b"SEND\nab:cde\n\n\0" + b"\n") * 20
    assert decode(data, max_header_bytes=11) == [("SEND", {"ab": "cde"}, b"")] * 20


def test_body_at_the_limit_is_accepted():
    data = b"SEND\ncontent-length:4\n\n1234\0SEND\n\nabcd\0"
    assert decode(data, max_body_bytes=4) == [
        ("SEND", {"content-length": "4"}, b"1234"),
        ("SEND", {}, b"abcd"),
    ]
    assert decode_pieces(data, 1, max_body_bytes=4) == decode(data, max_body_bytes=4)


def test_content_length_over_the_limit_raises_before_the_body_arrives():
    decoder = FrameDecoder(max_body_bytes=4)
    assert tuples(decoder.feed(SEND)) == [SEND_T]
    with pytest.raises(FrameError) as info:
        decoder.feed(b"SEND\ncontent-length:5\n\n")
    assert info.value.offset == 7
    assert "SEND frame body of 5 bytes exceeds max_body_bytes (4)" in str(info.value)


def test_huge_content_length_raises_immediately():
    exc, _ = decode_error(b"SEND\ncontent-length:99999999999999999999\n\n")
    assert exc.offset == 0
    assert "max_body_bytes" in exc.reason


def test_body_without_content_length_over_the_limit_in_pieces_raises():
    chunks = [SEND, b"SEND\n\n", b"1234", b"5"]
    exc, frames = decode_error(chunks, max_body_bytes=4)
    assert frames == [SEND_T]
    assert exc.offset == 7
    assert "SEND frame body exceeds max_body_bytes (4) without a NUL" in str(exc)


def test_body_without_content_length_over_the_limit_in_one_feed_raises():
    exc, frames = decode_error(SEND + b"SEND\n\n12345\0", max_body_bytes=4)
    assert frames == [SEND_T]
    assert exc.offset == 7
    assert "SEND frame body of 5 bytes exceeds max_body_bytes (4)" in exc.reason


# ---------------------------------------------------------------------------------------
# Malformed input: exact error, exact offset, earlier frames kept
# ---------------------------------------------------------------------------------------

PREFIX = b"\n" + SEND + b"\n"  # a heart-beat, a frame and its padding: 9 bytes
PREFIX_T = [HB, SEND_T]


@ALL
@pytest.mark.parametrize(
    ("frame", "shown"),
    [
        (b"SE ND\n\n\0", "'SE ND'"),
        (b"SE:ND\n\n\0", "'SE:ND'"),
        (b"a:b\nc:d\n\n\0", "'a:b'"),
        (b"SEND1\n\n\0", "'SEND1'"),
        (b"123\n\n\0", "'123'"),
        (b"\0SEND\n\n\0", "'\\x00SEND'"),
        (b"S\xc3\x89ND\n\n\0", "'SÉND'"),  # letters, but not ASCII
        (b" SEND\n\n\0", "' SEND'"),
        (b"\tSEND\n\n\0", "'\\tSEND'"),
    ],
)
def test_bad_command_line(version, frame, shown):
    exc, frames = decode_error(PREFIX + frame, version)
    assert frames == PREFIX_T
    assert exc.reason == f"bad command line {shown}"
    assert exc.offset == 9
    assert str(exc) == f"bad command line {shown} (at byte 9 of the stream)"


@ALL
def test_header_line_without_colon(version):
    exc, frames = decode_error(PREFIX + b"SEND\na:1\nnocolon\n\n\0", version)
    assert frames == PREFIX_T
    assert exc.reason == "header line without a colon: 'nocolon' in the SEND frame"
    assert exc.offset == 9


@ALL
def test_header_line_with_empty_name(version):
    exc, frames = decode_error(PREFIX + b"MESSAGE\n:value\n\n\0", version)
    assert frames == PREFIX_T
    assert exc.reason == "header line with an empty name: ':value' in the MESSAGE frame"
    assert exc.offset == 9


@ESCAPING
def test_malformed_header_line_in_an_escaped_frame(version):
    exc, _ = decode_error(PREFIX + b"SEND\na\\c:1\nbad\n\n\0", version)
    assert exc.reason == "header line without a colon: 'bad' in the SEND frame"
    assert exc.offset == 9


@ALL
@pytest.mark.parametrize(
    "length",
    [b"abc", b"-1", b"1.5", b" 5", b"5 ", b"+5", b"0x5", b"", b"\xd9\xa3", b"\xc2\xb2"],
)
def test_content_length_not_a_number(version, length):
    exc, frames = decode_error(PREFIX + b"SEND\ncontent-length:" + length + b"\n\nabc\0", version)
    assert frames == PREFIX_T
    shown = repr(length.decode())
    assert exc.reason == f"content-length of the SEND frame is not a number: {shown}"
    assert exc.offset == 9


@ALL
def test_byte_after_content_length_body_must_be_nul(version):
    # Frame starts at 9; the body "ab" at 9 + 23 = 32; the stray "c" at 34.
    exc, frames = decode_error(PREFIX + b"SEND\ncontent-length:2\n\nabc\0", version)
    assert frames == PREFIX_T
    assert exc.reason == (
        "the SEND frame's 2-byte body (content-length) is followed by byte 0x63, not NUL"
    )
    assert exc.offset == 34


def test_byte_after_content_length_body_in_pieces():
    chunks = [SEND, b"SEND\ncontent-length:3\n\nab", b"c", b"\n"]
    exc, frames = decode_error(chunks)
    assert frames == [SEND_T]
    assert exc.offset == 7 + 23 + 3
    assert "followed by byte 0x0a, not NUL" in exc.reason


@ALL
@pytest.mark.parametrize(
    ("chunks", "offset", "frames"),
    [
        ([b"\rSEND\n\n\0"], 0, []),
        ([SEND + b"\rX"], 7, [SEND_T]),
        ([SEND + b"\n\r\r\n"], 8, [SEND_T]),
        ([SEND, b"\r", b"X"], 7, [SEND_T]),
        ([b"\n\n\r", b"\r"], 2, [HB, HB]),
    ],
)
def test_cr_not_followed_by_lf_between_frames(version, chunks, offset, frames):
    exc, got = decode_error(chunks, version)
    assert got == frames
    assert exc.reason == "CR not followed by LF between frames"
    assert exc.offset == offset


def test_error_frames_hold_only_the_frames_of_the_failing_feed():
    decoder = FrameDecoder()
    assert tuples(decoder.feed(SEND)) == [SEND_T]
    with pytest.raises(FrameError) as info:
        decoder.feed(b"\nMESSAGE\n\nx\0\n\nBAD!\n\n\0")
    assert tuples(info.value.frames) == [HB, ("MESSAGE", {}, b"x")]
    assert info.value.offset == 7 + 1 + 11 + 2


def test_error_is_sticky():
    decoder = FrameDecoder()
    with pytest.raises(FrameError) as first:
        decoder.feed(SEND + b"BAD LINE\n\n\0")
    assert decoder.buffered == 0
    for data in (SEND, b"", b"\n"):
        with pytest.raises(FrameError) as again:
            decoder.feed(data)
        assert again.value is first.value
        assert again.value.offset == 7


def test_reset_clears_the_error_and_the_stream_position():
    decoder = FrameDecoder()
    decoder.feed(SEND + b"SEN")
    with pytest.raises(FrameError):
        decoder.feed(b"D!\n\n\0")
    decoder.reset()
    assert decoder.buffered == 0
    assert decoder.position == 0
    assert tuples(decoder.feed(SEND + b"\n\n")) == [SEND_T]
    with pytest.raises(FrameError) as info:
        decoder.feed(b"\rX")
    assert info.value.offset == 9


def test_reset_forgets_a_partial_frame():
    decoder = FrameDecoder()
    assert decoder.feed(b"SEND\ncontent-length:10\n\nabc") == []
    decoder.reset()
    assert decoder.buffered == 0
    assert tuples(decoder.feed(SEND)) == [SEND_T]


def test_frame_error_without_offset():
    exc = FrameError("bad")
    assert (exc.reason, exc.offset, exc.frames, str(exc)) == ("bad", None, [], "bad")
    assert isinstance(exc, ValueError)


def test_content_length_with_thousands_of_digits_raises_frame_error():
    # int() refuses strings of more than 4300 digits (ValueError): the decoder must still
    # raise FrameError, keep the frames before it, and stay failed.
    decoder = FrameDecoder(max_body_bytes=10)
    with pytest.raises(FrameError) as info:
        decoder.feed(SEND + b"SEND\ncontent-length:" + b"1" * 5000 + b"\n\nabc\0")
    assert tuples(info.value.frames) == [SEND_T]
    assert info.value.offset == 7
    assert "exceeds max_body_bytes (10)" in info.value.reason
    assert len(str(info.value)) < 200
    with pytest.raises(FrameError):
        decoder.feed(SEND)


def test_content_length_with_thousands_of_leading_zeros():
    length = b"0" * 5000 + b"3"
    data = b"SEND\ncontent-length:" + length + b"\n\na\0b\0" + SEND
    assert decode(data, max_body_bytes=10) == [
        ("SEND", {"content-length": length.decode()}, b"a\0b"),
        SEND_T,
    ]


# ---------------------------------------------------------------------------------------
# Offsets, buffered, position, version
# ---------------------------------------------------------------------------------------


def test_offset_counts_across_feeds():
    decoder = FrameDecoder()
    assert tuples(decoder.feed(SEND + b"\n")) == [SEND_T]
    assert tuples(decoder.feed(b"\n" + SEND)) == [HB, SEND_T]
    assert decoder.feed(b"SEND\nk:") == []  # partial: starts at 16
    with pytest.raises(FrameError) as info:
        decoder.feed(b"v\nbroken\n\n\0")
    assert info.value.offset == 16
    assert info.value.reason == "header line without a colon: 'broken' in the SEND frame"


def test_offset_of_an_error_in_a_frame_fed_byte_by_byte():
    data = SEND + b"\r\n" + b"SEND\ncontent-length:1\n\nxy\0"
    exc, frames = decode_error(pieces(data, 1))
    assert frames == [SEND_T, HB]
    assert exc.offset == 9 + 23 + 1


def test_buffered_and_position():
    decoder = FrameDecoder()
    assert (decoder.buffered, decoder.position) == (0, 0)
    decoder.feed(b"\n\n")
    assert (decoder.buffered, decoder.position) == (0, 2)
    decoder.feed(SEND + b"SE")
    assert (decoder.buffered, decoder.position) == (2, 9)
    decoder.feed(b"ND\ncontent-length:4\n\nab")
    assert (decoder.buffered, decoder.position) == (len(b"SEND\ncontent-length:4\n\nab"), 9)
    decoder.feed(b"cd\0\n")
    assert (decoder.buffered, decoder.position) == (
        0,
        9 + len(b"SEND\ncontent-length:4\n\nabcd\0\n"),
    )


@pytest.mark.parametrize("bad", ["1.3", "2.0", "1", "", None, 1.2])
def test_version_setter_rejects_unknown_versions(bad):
    with pytest.raises(ValueError, match="unknown STOMP version"):
        FrameDecoder(bad)
    decoder = FrameDecoder("1.1")
    with pytest.raises(ValueError, match="unknown STOMP version"):
        decoder.version = bad
    assert decoder.version == "1.1"


def test_version_default_and_setter():
    decoder = FrameDecoder()
    assert decoder.version == "1.2"
    for version in VERSIONS:
        decoder.version = version
        assert decoder.version == version


def test_version_change_applies_to_later_frames():
    decoder = FrameDecoder("1.0")
    connected = b"CONNECTED\nversion:1.2\nserver:a\\cb\n\n\0"
    message = b"MESSAGE\nmessage-id:ID\\chost\r\n\r\nx\0"
    assert tuples(decoder.feed(connected)) == [
        ("CONNECTED", {"version": "1.2", "server": "a\\cb"}, b"")
    ]
    assert decoder.feed(message) == []  # 1.0: the CRLF blank line does not end the headers
    decoder.reset()
    decoder.feed(connected)
    decoder.version = "1.2"
    assert tuples(decoder.feed(message)) == [("MESSAGE", {"message-id": "ID:host"}, b"x")]
    decoder.version = "1.1"
    assert tuples(decoder.feed(b"MESSAGE\nk:a\\rb\r\n\n\0")) == [("MESSAGE", {"k": "a\\rb\r"}, b"")]
    decoder.version = "1.0"
    assert tuples(decoder.feed(b"MESSAGE\nk:a\\cb\n\n\0")) == [("MESSAGE", {"k": "a\\cb"}, b"")]


def test_version_change_with_a_partial_frame_buffered():
    decoder = FrameDecoder("1.1")
    assert decoder.feed(b"MESSAGE\r\nfoo:bar\r\n\r\nbo") == []
    decoder.version = "1.2"  # the buffered partial frame is read again with 1.2's rules
    assert tuples(decoder.feed(b"dy\0")) == [("MESSAGE", {"foo": "bar"}, b"body")]
    decoder = FrameDecoder("1.2")
    assert decoder.feed(b"MESSAGE\nk:a\\cb\n\nbo") == []
    decoder.version = "1.0"
    assert tuples(decoder.feed(b"dy\0")) == [("MESSAGE", {"k": "a\\cb"}, b"body")]


# ---------------------------------------------------------------------------------------
# Pieces and big frames
# ---------------------------------------------------------------------------------------

STREAM = (
    b"\n"
    + b"CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0\n"
    + b"MESSAGE\r\ndestination:/queue/a\r\nmessage-id:ID\\chost\r\ncontent-length:5\r\n\r\n\0\r\n\0\n\0"
    + b"\r\n\r\n"
    + b"RECEIPT\nreceipt-id:r\\\\1\n\n\0"
    + b"ERROR\nmessage:boom\n\nsee\nbody\0\n\n"
)
STREAM_FRAMES = [
    HB,
    ("CONNECTED", {"version": "1.2", "heart-beat": "0,0"}, b""),
    (
        "MESSAGE",
        {"destination": "/queue/a", "message-id": "ID:host", "content-length": "5"},
        b"\0\r\n\0\n",
    ),
    ("RECEIPT", {"receipt-id": "r\\1"}, b""),
    ("ERROR", {"message": "boom"}, b"see\nbody"),
]
STREAM_PADDING = 5  # the EOLs right after a NUL


def test_stream_in_one_feed():
    assert decode(STREAM) == STREAM_FRAMES


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16, 64])
def test_stream_in_pieces_gives_the_same_frames(size):
    got = decode_pieces(STREAM, size)
    frames = [f for f in STREAM_FRAMES if f != HB]
    assert [f for f in got if f != HB] == frames
    # Padding that ends up in a later feed than its NUL is heart-beats.
    assert STREAM_FRAMES.count(HB) <= got.count(HB) <= STREAM_FRAMES.count(HB) + STREAM_PADDING


def test_stream_cut_once_anywhere():
    frames = [f for f in STREAM_FRAMES if f != HB]
    for position in range(1, len(STREAM)):
        got = feed_all(FrameDecoder(), cut(STREAM, [position]))
        assert [f for f in got if f != HB] == frames, f"cut at {position}"


@pytest.mark.parametrize("content_length", [True, False])
@pytest.mark.parametrize("mib", [1, 4])
def test_big_body_in_1000_byte_pieces_is_linear(content_length, mib):
    body = bytes(range(1, 256)) * (mib * 1024 * 1024 // 255)
    if content_length:
        body = body[:-1] + b"\0"  # a NUL in the body, at the very end
        head = b"MESSAGE\ncontent-length:%d\n\n" % len(body)
    else:
        head = b"MESSAGE\n\n"
    data = head + body + b"\0" + SEND
    decoder = FrameDecoder()
    results = []
    start = time.perf_counter()
    for chunk in pieces(data, 1000):
        results.append(decoder.feed(chunk))
    elapsed = time.perf_counter() - start
    frames = [frame for result in results for frame in result]
    assert len(frames) == 2
    (message, send) = frames
    assert message.cmd == "MESSAGE"
    assert message.body == body
    assert type(message.body) is bytes
    assert tuples([send]) == [SEND_T]
    assert decoder.buffered == 0
    assert decoder.position == len(data)
    # Linear: ~10 ms here. A decoder that re-copies or rescans the buffer on every feed
    # needs seconds for 4 MiB in 1000-byte pieces.
    assert elapsed < 1.0, f"{mib} MiB in 1000-byte pieces took {elapsed:.2f} s"


def test_many_small_frames_in_one_feed():
    data = b"MESSAGE\nmessage-id:1\n\nhello\0\n" * 20_000
    start = time.perf_counter()
    frames = FrameDecoder().feed(data)
    elapsed = time.perf_counter() - start
    assert len(frames) == 20_000
    assert tuples(frames[-1:]) == [("MESSAGE", {"message-id": "1"}, b"hello")]
    assert elapsed < 1.0


# ---------------------------------------------------------------------------------------
# parse_header_lines (used by stomp.utils)
# ---------------------------------------------------------------------------------------


def test_parse_header_lines():
    lines = ["a:1", "b:x:y", "a:2", "e\\cf:g\\nh", "empty:", " s : t "]
    assert parse_header_lines(lines) == {
        "a": "1",
        "b": "x:y",
        "e:f": "g\nh",
        "empty": "",
        " s ": " t ",
    }
    assert parse_header_lines(lines, None)["e\\cf"] == "g\\nh"
    assert parse_header_lines(lines, "1.0")["e\\cf"] == "g\\nh"
    assert parse_header_lines(["k:a\\rb"], "1.1") == {"k": "a\\rb"}
    assert parse_header_lines(["k:a\\rb"], "1.2") == {"k": "a\rb"}
    assert parse_header_lines([]) == {}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("nocolon", "header line without a colon: 'nocolon'"),
        (":v", "header line with an empty name: ':v'"),
    ],
)
def test_parse_header_lines_malformed(line, message):
    with pytest.raises(FrameError) as info:
        parse_header_lines(["a:1", line])
    assert info.value.reason == message
    assert info.value.offset is None
    assert parse_header_lines(["a:1", line, "b:2"], skip_malformed=True) == {"a": "1", "b": "2"}


def test_parse_header_lines_strict():
    assert parse_header_lines(["k:a\\tb"]) == {"k": "a\\tb"}
    with pytest.raises(FrameError, match="undefined escape sequence"):
        parse_header_lines(["k:a\\tb"], strict=True)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_only_one_cr_is_stripped_from_the_command_line(version):
    exc, _ = decode_error(b"SEND\r\r\n\n\0", version)
    assert exc.reason == "bad command line 'SEND\\r'"
    assert exc.offset == 0
