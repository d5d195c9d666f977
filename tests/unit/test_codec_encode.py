"""The STOMP frame encoder (stomp.codec.encode_frame) and the Frame class: exact bytes."""

from __future__ import annotations

import pytest
from codecutil import decode

from stomp.codec import HEARTBEAT_FRAME, UNESCAPED_COMMANDS, VERSIONS, Frame, encode_frame
from stomp.exception import FrameError

# Every test runs with the C accelerator and with the pure-Python decoder.
pytestmark = pytest.mark.usefixtures("codec_path")

ALL = pytest.mark.parametrize("version", VERSIONS)
ESCAPING = pytest.mark.parametrize("version", ["1.1", "1.2"])


def enc(cmd, headers=None, body=None, version="1.2"):
    return encode_frame(Frame(cmd, headers, body), version)


# ---------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------


@ALL
def test_exact_bytes_of_a_simple_frame(version):
    data = enc("SEND", {"destination": "/queue/a", "receipt": "r-1"}, "hello", version)
    assert data == b"SEND\ndestination:/queue/a\nreceipt:r-1\n\nhello\0"


def test_default_version_is_12():
    frame = Frame("SEND", {"k": "a\rb"}, "")
    assert encode_frame(frame) == encode_frame(frame, "1.2") == b"SEND\nk:a\\rb\n\n\0"


@ALL
def test_headers_are_sorted_by_name(version):
    headers = {"b": "1", "B": "2", "a": "3", "content-type": "4", "ab": "5"}
    data = enc("SEND", headers, "", version)
    assert data == b"SEND\nB:2\na:3\nab:5\nb:1\ncontent-type:4\n\n\0"


@ALL
def test_frame_without_headers(version):
    assert enc("DISCONNECT", None, None, version) == b"DISCONNECT\n\n\0"
    assert enc("DISCONNECT", {}, b"", version) == b"DISCONNECT\n\n\0"


@ALL
def test_tuple_values_write_repeated_lines_in_order(version):
    data = enc("SEND", {"z": "0", "a": ("2", "1", 3)}, "", version)
    assert data == b"SEND\na:2\na:1\na:3\nz:0\n\n\0"
    assert enc("SEND", {"a": (), "b": "x"}, "", version) == b"SEND\nb:x\n\n\0"


@ALL
def test_none_values_are_left_out(version):
    assert enc("SEND", {"a": None, "b": "", "c": "x"}, "", version) == b"SEND\nb:\nc:x\n\n\0"


@ALL
def test_values_are_written_with_str(version):
    data = enc("SEND", {"priority": 4, "expires": 0, "ratio": 1.5, "flag": True}, "", version)
    assert data == b"SEND\nexpires:0\nflag:True\npriority:4\nratio:1.5\n\n\0"


@ALL
def test_bytes_header_values_are_decoded_as_utf8(version):
    headers = {"a": "é".encode(), "b": bytearray(b"x"), "c": b"\xff"}
    data = enc("SEND", headers, "", version)
    assert data == "SEND\na:é\nb:x\nc:\ufffd\n\n\0".encode()


def test_mixed_type_header_names_are_sorted_by_their_text():
    data = enc("SEND", {2: "two", "10": "ten", "a": "x", 1: "one"}, "")
    assert data == b"SEND\n1:one\n10:ten\n2:two\na:x\n\n\0"


def test_non_ascii_headers_are_utf8():
    data = enc("SEND", {"clé": "välue €"}, "")
    assert data == "SEND\nclé:välue €\n\n\0".encode()


def test_heartbeat_frame_is_a_single_lf():
    for version in VERSIONS:
        assert encode_frame(Frame(None), version) == b"\n"
        assert encode_frame(Frame(), version) == b"\n"


@pytest.mark.parametrize("cmd", ["SE\nND", "SEND\r", "SEND\n", "SE\0ND", "\n"])
def test_command_with_line_end_or_nul_raises(cmd):
    with pytest.raises(FrameError) as info:
        enc(cmd, {}, "")
    assert info.value.reason == f"command {cmd!r} contains a line end or NUL"
    assert info.value.offset is None


# ---------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------


def test_10_writes_headers_raw():
    data = enc("SEND", {"a\\b": "c:d\\n\\e"}, "", "1.0")
    assert data == b"SEND\na\\b:c:d\\n\\e\n\n\0"


@ESCAPING
def test_escaping_of_values(version):
    data = enc("SEND", {"k": "a\\b\nc:d"}, "", version)
    assert data == b"SEND\nk:a\\\\b\\nc\\cd\n\n\0"


@ESCAPING
@pytest.mark.parametrize(
    ("value", "wire"),
    [
        # Backslash first: otherwise the backslash of "\n" or "\c" would be escaped again.
        ("\n", b"\\n"),
        (":", b"\\c"),
        ("\\", b"\\\\"),
        ("\\n", b"\\\\n"),
        ("\\\n", b"\\\\\\n"),
        ("\\:", b"\\\\\\c"),
    ],
)
def test_backslash_is_escaped_first(version, value, wire):
    assert enc("SEND", {"k": value}, "", version) == b"SEND\nk:" + wire + b"\n\n\0"


@ESCAPING
def test_escaping_of_names(version):
    data = enc("SEND", {"a:b\nc\\d": "v"}, "", version)
    assert data == b"SEND\na\\cb\\nc\\\\d:v\n\n\0"


def test_11_writes_cr_raw():
    # 1.1 has no escape for CR; its grammar allows a raw CR in a header.
    assert enc("SEND", {"k\r": "a\rb"}, "", "1.1") == b"SEND\nk\r:a\rb\n\n\0"


def test_12_escapes_cr():
    assert enc("SEND", {"k\r": "a\r\nb"}, "", "1.2") == b"SEND\nk\\r:a\\r\\nb\n\n\0"


@ESCAPING
@pytest.mark.parametrize("cmd", sorted(UNESCAPED_COMMANDS))
def test_connect_stomp_connected_are_not_escaped(version, cmd):
    assert {"CONNECT", "STOMP", "CONNECTED"} == UNESCAPED_COMMANDS
    headers = {"login": "user", "passcode": "p:a\\ss\\n\\c", "host": "/"}
    data = enc(cmd, headers, None, version)
    assert data == cmd.encode() + b"\nhost:/\nlogin:user\npasscode:p:a\\ss\\n\\c\n\n\0"


@ESCAPING
def test_other_handshake_frames_are_escaped(version):
    assert enc("ERROR", {"message": "a:b"}, "", version) == b"ERROR\nmessage:a\\cb\n\n\0"


SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    ("version", "cmd"),
    [
        ("1.0", "SEND"),
        ("1.0", "CONNECT"),
        ("1.1", "CONNECT"),
        ("1.2", "STOMP"),
        ("1.2", "CONNECTED"),
    ],
)
@pytest.mark.parametrize("eol", ["\n", "\r", "\r\n"])
def test_line_end_in_an_unescaped_header_value_raises_without_showing_it(version, cmd, eol):
    secret = SECRET + eol + "injected:1"
    with pytest.raises(FrameError) as info:
        enc(cmd, {"login": "u", "passcode": secret}, None, version)
    message = str(info.value)
    assert SECRET not in message
    assert "injected" not in message
    assert message == (
        f"the value of header 'passcode' of the {cmd} frame contains a line end, which this "
        "frame cannot carry (no header escaping in STOMP 1.0, CONNECT, STOMP or CONNECTED)"
    )
    assert info.value.offset is None


@pytest.mark.parametrize(("version", "cmd"), [("1.0", "SEND"), ("1.2", "CONNECT")])
@pytest.mark.parametrize("name", ["a\nb", "a\rb"])
def test_line_end_in_an_unescaped_header_name_raises(version, cmd, name):
    with pytest.raises(FrameError) as info:
        enc(cmd, {name: "v"}, None, version)
    assert info.value.reason.startswith(f"the name of header {name!r} of the {cmd} frame")


@pytest.mark.parametrize(("version", "cmd"), [("1.0", "SEND"), ("1.1", "CONNECT")])
def test_line_end_in_a_repeated_unescaped_value_raises(version, cmd):
    with pytest.raises(FrameError, match="contains a line end"):
        enc(cmd, {"k": ("ok", SECRET + "\n")}, None, version)


@pytest.mark.parametrize(("version", "cmd"), [("1.0", "SEND"), ("1.2", "CONNECT")])
def test_colon_in_an_unescaped_header_name_raises(version, cmd):
    with pytest.raises(FrameError) as info:
        enc(cmd, {"a:b": SECRET}, None, version)
    assert info.value.reason == f"header name 'a:b' of the {cmd} frame contains a colon"
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(("version", "cmd"), [("1.0", "SEND"), ("1.2", "CONNECT")])
def test_empty_header_name_raises_in_unescaped_frames(version, cmd):
    with pytest.raises(FrameError) as info:
        enc(cmd, {"": SECRET}, None, version)
    assert info.value.reason == f"{cmd} frame has a header with an empty name"


@ESCAPING
def test_empty_header_name_raises_in_escaped_frames(version):
    # It would go out as ":x", a line every decoder rejects.
    with pytest.raises(FrameError) as info:
        enc("SEND", {"": SECRET, "a": "1"}, None, version)
    assert info.value.reason == "SEND frame has a header with an empty name"


@ALL
@pytest.mark.parametrize("where", ["name", "value"])
def test_header_that_is_not_valid_unicode_raises(version, where):
    bad = SECRET + "\ud800"
    headers = {bad: "v"} if where == "name" else {"passcode": bad}
    for cmd in ("SEND", "CONNECT"):
        with pytest.raises(FrameError) as info:
            enc(cmd, headers, "", version)
        assert info.value.reason.startswith(f"a header of the {cmd} frame is not valid Unicode")
        if where == "value":
            assert SECRET not in str(info.value)


@ALL
def test_not_valid_unicode_error_names_the_header_but_not_the_value(version):
    with pytest.raises(FrameError) as info:
        enc("CONNECT", {"login": "u", "passcode": SECRET + "\ud800"}, "", version)
    assert "'passcode'" in str(info.value)
    assert SECRET not in str(info.value)


@ALL
def test_nul_and_soh_in_headers_are_written_as_they_are(version):
    data = enc("SEND", {"a\0b": "c\x01d", "e": "\x01\0"}, "", version)
    assert data == b"SEND\na\0b:c\x01d\ne:\x01\0\n\n\0"


@ALL
@pytest.mark.parametrize("headers", [{}, {"a": "b"}, {"a": 1}])
def test_command_that_is_not_valid_unicode_raises_frame_error(version, headers):
    with pytest.raises(FrameError) as info:
        enc("SE\ud800ND", headers, "", version)
    assert "not valid Unicode" in info.value.reason
    str(info.value).encode("utf-8")  # the message itself can be logged


# ---------------------------------------------------------------------------------------
# content-length
# ---------------------------------------------------------------------------------------


@ALL
@pytest.mark.parametrize(
    ("body", "length"),
    [("é€", b"5"), (b"abc", b"3"), ("", b"0"), (None, b"0"), (bytearray(b"\0\0"), b"2")],
)
def test_content_length_is_rewritten_to_the_byte_length(version, body, length):
    for given in (99, "1", "abc", b"7", 0):
        data = enc("SEND", {"content-length": given, "z": "1"}, body, version)
        expected_body = body.encode() if isinstance(body, str) else bytes(body or b"")
        assert data == b"SEND\ncontent-length:" + length + b"\nz:1\n\n" + expected_body + b"\0"


@ALL
def test_content_length_is_added_when_the_body_contains_a_nul(version):
    data = enc("SEND", {"destination": "/q", "a": "1"}, b"x\0y", version)
    assert data == b"SEND\na:1\ncontent-length:3\ndestination:/q\n\nx\0y\0"
    data = enc("SEND", {}, "\0", version)
    assert data == b"SEND\ncontent-length:1\n\n\0\0"


@ALL
def test_no_content_length_is_added_otherwise(version):
    assert enc("SEND", {"a": "1"}, b"x\ny", version) == b"SEND\na:1\n\nx\ny\0"


@ESCAPING
def test_content_length_in_an_unescaped_frame(version):
    data = enc("CONNECT", {"login": "u"}, b"\0", version)
    assert data == b"CONNECT\ncontent-length:1\nlogin:u\n\n\0\0"


# ---------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["hé\n", "hé\n".encode(), bytearray("hé\n".encode()), memoryview("hé\n".encode())],
    ids=["str", "bytes", "bytearray", "memoryview"],
)
def test_body_types(body):
    assert enc("SEND", {"a": "1"}, body) == b"SEND\na:1\n\nh\xc3\xa9\n\0"


def test_unencodable_str_body_characters_are_replaced():
    assert enc("SEND", {}, "a\ud800b") == b"SEND\n\na?b\0"


@pytest.mark.parametrize(
    ("body", "kind"),
    [(1, "<class 'int'>"), ({"a": 1}, "<class 'dict'>"), ([b"x"], "<class 'list'>")],
)
def test_other_body_types_raise_type_error(body, kind):
    with pytest.raises(TypeError) as info:
        enc("SEND", {}, body)
    assert str(info.value) == f"message should be a string or bytes, found {kind}"


def test_empty_bodies():
    for body in (None, "", b"", bytearray(), memoryview(b"")):
        assert enc("SEND", {"a": "1"}, body) == b"SEND\na:1\n\n\0"


# ---------------------------------------------------------------------------------------
# Encoded frames decode back
# ---------------------------------------------------------------------------------------


@ALL
def test_encoded_frames_decode_back(version):
    frames = [
        Frame(None),
        Frame("SEND", {"destination": "/q", "n": 1, "rep": ("a", "b")}, "hé"),
        Frame("MESSAGE", {"k": "v"}, b"\0\n\0"),
        Frame(None),  # right after a frame's NUL, in the same feed: that frame's padding
        Frame("CONNECT", {"passcode": "a:b\\c"}, None),
    ]
    data = b"".join(encode_frame(f, version) for f in frames)
    assert decode(data, version) == [
        "HB",
        ("SEND", {"destination": "/q", "n": "1", "rep": "a"}, "hé".encode()),
        ("MESSAGE", {"content-length": "3", "k": "v"}, b"\0\n\0"),
        ("CONNECT", {"passcode": "a:b\\c"}, b""),
    ]


@ESCAPING
def test_escaped_headers_decode_back(version):
    headers = {"a:b\nc\\d": "\\n:\n\\c\\", "x\\": "\\"}
    if version == "1.2":
        headers["cr\r"] = "\r\n\\r"
    (frame,) = decode(enc("MESSAGE", headers, "", version), version, strict=True)
    assert frame == ("MESSAGE", headers, b"")


# ---------------------------------------------------------------------------------------
# Frame
# ---------------------------------------------------------------------------------------


def test_frame_str_is_stomp_py_format():
    assert str(Frame("MESSAGE", {"a": "b"}, "x")) == "{cmd=MESSAGE,headers=[{'a': 'b'}],body=x}"
    assert str(Frame("SEND", {}, b"x")) == "{cmd=SEND,headers=[{}],body=b'x'}"
    assert str(Frame()) == "{cmd=None,headers=[{}],body=None}"


def test_frame_repr():
    assert repr(Frame("SEND", {"a": "b"}, b"x")) == "Frame('SEND', {'a': 'b'}, b'x')"


def test_frame_original_headers_is_a_copy():
    headers = {"a": "1"}
    frame = Frame("SEND", headers, "")
    assert frame.headers is headers  # used as is, not copied
    assert frame.original_headers == {"a": "1"}
    assert frame.original_headers is not headers
    headers["a"] = "2"
    headers["b"] = "3"
    assert frame.original_headers == {"a": "1"}


def test_frame_headers_default_to_a_fresh_dict():
    first, second = Frame("SEND"), Frame("SEND")
    assert first.headers == {} and first.original_headers == {}
    first.headers["a"] = "1"
    assert second.headers == {}
    assert Frame("SEND").headers == {}
    assert first.body is None


def test_heartbeat_frame_constant():
    assert HEARTBEAT_FRAME.cmd == "heartbeat"
    assert HEARTBEAT_FRAME.headers == {}
    assert HEARTBEAT_FRAME.body is None


def test_str_and_repr_of_a_frame_never_show_the_passcode():
    frame = Frame("CONNECT", {"login": "me", "passcode": "s3cr3t"}, "")
    assert str(frame) == "{cmd=CONNECT,headers=[{'login': 'me', 'passcode': '********'}],body=}"
    assert "s3cr3t" not in repr(frame)
    assert frame.headers["passcode"] == "s3cr3t"  # the frame itself is unchanged


# ---------------------------------------------------------------------------------------
# The cache of encoded header lines
# ---------------------------------------------------------------------------------------


def test_cached_lines_follow_the_version() -> None:
    # The same header, encoded for 1.2 then 1.1 then 1.2 again: each version's own rules
    # every time (a line cached for one version is never written for the other).
    headers = {"destination": "/queue/a", "x": "a\rb:c"}
    for _ in range(2):
        assert enc("SEND", headers, "", "1.2") == b"SEND\ndestination:/queue/a\nx:a\\rb\\cc\n\n\0"
        assert enc("SEND", headers, "", "1.1") == b"SEND\ndestination:/queue/a\nx:a\rb\\cc\n\n\0"


def test_cached_lines_never_stand_for_other_value_types() -> None:
    # A str value is cached; an equal-looking non-str value is still written with str().
    assert enc("SEND", {"priority": "1"}) == b"SEND\npriority:1\n\n\0"
    assert enc("SEND", {"priority": True}) == b"SEND\npriority:True\n\n\0"
    assert enc("SEND", {"priority": 1}) == b"SEND\npriority:1\n\n\0"


def test_line_cache_stays_bounded() -> None:
    from stomp.codec import encode as codec

    cache = codec._LINE_CACHES["1.2"]
    for i in range(3 * codec._LINE_CACHE_SIZE):
        value = f"id-{i}"
        assert (
            enc("SEND", {"correlation-id": value}) == f"SEND\ncorrelation-id:{value}\n\n\0".encode()
        )
        assert len(cache) <= codec._LINE_CACHE_SIZE
    long = "v" * (codec._LINE_CACHE_VALUE + 1)
    assert enc("SEND", {"long": long}) == f"SEND\nlong:{long}\n\n\0".encode()
    assert ("long", long) not in cache  # long values are encoded every time, not kept


# ---------------------------------------------------------------------------------------
# The cache of encoded heads (command and header lines)
# ---------------------------------------------------------------------------------------


@ESCAPING
def test_a_cached_head_is_written_with_each_frames_own_body(version) -> None:
    headers = {"destination": "/queue/a", "content-type": "text/plain"}
    for body in ["abc", "xyz", "abcd"]:
        expected = f"SEND\ncontent-type:text/plain\ndestination:/queue/a\n\n{body}\0"
        assert enc("SEND", headers, body, version) == expected.encode()


@ESCAPING
def test_a_cached_head_without_content_length_never_cuts_a_body_with_a_nul(version) -> None:
    # Same command, headers and body length: the second body holds a NUL, so it needs a
    # content-length the cached head does not have.
    headers = {"destination": "/queue/a"}
    assert enc("SEND", headers, "abc", version) == b"SEND\ndestination:/queue/a\n\nabc\0"
    data = enc("SEND", headers, "a\0c", version)
    assert data == b"SEND\ncontent-length:3\ndestination:/queue/a\n\na\0c\0"
    assert decode(data, version)[0][2] == b"a\0c"


def test_a_cached_head_follows_every_header_change() -> None:
    headers = {"destination": "/queue/a", "content-length": 3}
    assert enc("SEND", headers, "abc") == b"SEND\ncontent-length:3\ndestination:/queue/a\n\nabc\0"
    headers["destination"] = "/queue/b"
    assert enc("SEND", headers, "abc") == b"SEND\ncontent-length:3\ndestination:/queue/b\n\nabc\0"
    headers["receipt"] = "r-1"
    assert (
        enc("SEND", headers, "abc")
        == b"SEND\ncontent-length:3\ndestination:/queue/b\nreceipt:r-1\n\nabc\0"
    )
    del headers["receipt"]
    headers["destination"] = None  # (left out)
    assert enc("SEND", headers, "abc") == b"SEND\ncontent-length:3\n\nabc\0"
    assert enc("ACK", {"id": "1"}) == b"ACK\nid:1\n\n\0"
    assert enc("NACK", {"id": "1"}) == b"NACK\nid:1\n\n\0"


def test_unhashable_header_values_are_still_written() -> None:
    assert enc("SEND", {"x": ["a", "b"]}) == b"SEND\nx:['a', 'b']\n\n\0"


def test_head_cache_stays_bounded() -> None:
    from stomp.codec import encode as codec

    heads = codec._HEAD_CACHES["1.2"]
    for i in range(3 * codec._HEAD_CACHE_SIZE):
        assert enc("SEND", {"id": f"m-{i}"}, "b") == f"SEND\nid:m-{i}\n\nb\0".encode()
        assert len(heads) <= codec._HEAD_CACHE_SIZE
    long = {"x": "v" * codec._HEAD_CACHE_HEAD}
    assert enc("SEND", long, "b") == f"SEND\nx:{long['x']}\n\nb\0".encode()
    assert ("SEND", 1, ("x", long["x"])) not in heads  # long heads are not kept


def test_frames_with_a_receipt_leave_the_encoders_caches_alone() -> None:
    # Each receipt is new: caching those heads and lines would only crowd out the ones
    # that repeat (confirmed sends put a receipt on every message).
    from stomp.codec import encode as encoder

    heads, lines = encoder._HEAD_CACHES["1.2"], encoder._LINE_CACHES["1.2"]
    heads.clear()
    lines.clear()
    plain = Frame("SEND", {"destination": "/queue/a"}, "x")
    encode_frame(plain, "1.2")
    before = (dict(heads), dict(lines))
    for n in range(3000):
        frame = Frame("SEND", {"destination": "/queue/a", "receipt": f"r-{n}"}, "x")
        assert encode_frame(frame, "1.2") == (
            b"SEND\ndestination:/queue/a\nreceipt:r-%d\n\nx\x00" % n
        )
    assert (heads, lines) == before


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize(
    "headers",
    [
        {"destination": "/queue/a"},
        {"destination": "/queue/a", "zz": "after", "content-length": 5},
        {"a": "first", "destination": "/queue/a", "x:y": "esc\\aped\nvalue"},
        {"destination": "/queue/a", "n": 3, "persistent": "true"},
    ],
)
def test_frames_with_a_receipt_encode_as_without_any_cache(
    version: str, headers: dict[str, object]
) -> None:
    from stomp.codec import encode as encoder

    for body in ("hello", "nul\x00inside", ""):
        for receipt in ("r-1", "r-2", "with:colon\\and\nline"):
            frame = Frame("SEND", {**headers, "receipt": receipt}, body)
            expected = encoder._encode_general("SEND", frame.headers, body.encode(), version)
            assert encode_frame(frame, version) == expected  # (a miss, then hits)
            assert encode_frame(frame, version) == expected


def test_frames_with_a_receipt_share_one_cached_head_per_shape() -> None:
    # The head of a frame with a receipt is kept around its receipt line, once for all the
    # frames of that shape (command, body length, other headers); bounded as the others.
    from stomp.codec import encode as encoder

    heads = encoder._RECEIPT_HEAD_CACHES["1.2"]
    heads.clear()
    for n in range(100):
        frame = Frame("SEND", {"receipt": f"r-{n}", "destination": "/queue/a"}, "x")
        assert encode_frame(frame, "1.2") == b"SEND\ndestination:/queue/a\nreceipt:r-%d\n\nx\0" % n
    assert len(heads) == 1
    for n in range(3 * encoder._HEAD_CACHE_SIZE):
        frame = Frame("SEND", {"receipt": "r", "destination": f"/queue/{n}"}, "x")
        assert encode_frame(frame, "1.2") == b"SEND\ndestination:/queue/%d\nreceipt:r\n\nx\0" % n
        assert len(heads) <= encoder._HEAD_CACHE_SIZE
    # (not a str receipt, an unhashable header: written all the same, not kept)
    heads.clear()
    assert encode_frame(Frame("SEND", {"receipt": 7}, ""), "1.2") == b"SEND\nreceipt:7\n\n\0"
    assert (
        encode_frame(Frame("SEND", {"receipt": "r", "x": ["a"]}, ""), "1.2")
        == b"SEND\nreceipt:r\nx:['a']\n\n\0"
    )
    assert not heads
