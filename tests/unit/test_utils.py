"""Tests of stomp.utils: stomp.py's helper names over the codec."""

from __future__ import annotations

import errno
import queue
import re
import selectors
import sys
import threading
import time
import uuid

import pytest

import stomp.utils as utils
from stomp import codec, failover
from stomp.exception import FrameError
from stomp.utils import (
    ENC_NEWLINE,
    ENC_NULL,
    HEADER_LINE_RE,
    HEARTBEAT_FRAME,
    LINE_END_RE,
    NULL,
    PASSCODE_RE,
    PREAMBLE_END_RE,
    Frame,
    PollableQueue,
    calculate_heartbeats,
    clean_headers,
    clean_lines,
    convert_frame,
    decode,
    default_create_thread,
    encode,
    get_errno,
    get_uuid,
    is_eol_default,
    is_localhost,
    join,
    length,
    merge_headers,
    pack,
    parse_frame,
    parse_headers,
)

# ---------------------------------------------------------------------------- names


def test_star_import_gives_constants_frame_and_helpers() -> None:
    namespace: dict[str, object] = {}
    exec("from stomp.utils import *", namespace)
    assert namespace["HDR_ID"] == "id"
    assert namespace["CMD_NACK"] == "NACK"
    assert namespace["HDR_RECEIPT_ID"] == "receipt-id"
    assert namespace["Frame"] is codec.Frame
    assert namespace["get_uuid"] is get_uuid
    assert namespace["HEARTBEAT_FRAME"] is codec.HEARTBEAT_FRAME
    # As stomp.py's: LOCALHOST_NAMES and the modules utils imports (test helpers written
    # for stomp.py use re, os and socket after the star import).
    assert namespace["LOCALHOST_NAMES"] is utils.LOCALHOST_NAMES
    for module in ("copy", "os", "queue", "re", "socket", "threading", "uuid"):
        assert namespace[module] is sys.modules[module]


def test_every_name_in_all_exists() -> None:
    missing = [name for name in utils.__all__ if not hasattr(utils, name)]
    assert missing == []
    assert len(utils.__all__) == len(set(utils.__all__))


def test_every_public_function_and_class_has_a_docstring() -> None:
    undocumented = [
        name
        for name in utils.__all__
        if callable(getattr(utils, name))
        and not isinstance(getattr(utils, name), re.Pattern)
        and not (getattr(utils, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_byte_constants() -> None:
    assert NULL == b"\x00"
    assert ENC_NULL == b"\x00"
    assert ENC_NEWLINE == b"\n"


def test_regexes() -> None:
    match = HEADER_LINE_RE.match("key:va:lue")
    assert match is not None
    assert (match.group("key"), match.group("value")) == ("key", "va:lue")
    assert HEADER_LINE_RE.match(":value") is None
    assert HEADER_LINE_RE.match("novalue") is None
    empty = HEADER_LINE_RE.match("k:")
    assert empty is not None and empty.group("value") == ""
    assert PREAMBLE_END_RE.search(b"A\nb:c\n\nbody").span() == (5, 7)  # type: ignore[union-attr]
    assert PREAMBLE_END_RE.search(b"A\r\nb:c\r\n\r\nbody").span() == (6, 10)  # type: ignore[union-attr]
    assert PREAMBLE_END_RE.search(b"A\nb:c\n") is None
    assert LINE_END_RE.split("a\nb\r\nc") == ["a", "b", "c"]
    assert PASSCODE_RE.sub("X", "passcode: secret") == "X"


# ---------------------------------------------------------------------------- Frame


def test_frame_is_the_codec_frame() -> None:
    assert Frame is codec.Frame
    assert HEARTBEAT_FRAME is codec.HEARTBEAT_FRAME
    assert HEARTBEAT_FRAME.cmd == "heartbeat"
    assert HEARTBEAT_FRAME.body is None


def test_frame_defaults_and_original_headers() -> None:
    first, second = Frame("SEND"), Frame("SEND")
    assert first.headers == {} and first.headers is not second.headers
    assert first.body is None
    headers = {"a": "1"}
    frame = Frame("MESSAGE", headers, "x")
    assert frame.headers is headers
    headers["a"] = "2"
    assert frame.original_headers == {"a": "1"}


def test_frame_str_format() -> None:
    assert str(Frame("MESSAGE", {"a": "b"}, "x")) == "{cmd=MESSAGE,headers=[{'a': 'b'}],body=x}"
    assert str(Frame("MESSAGE", {}, b"x")) == "{cmd=MESSAGE,headers=[{}],body=b'x'}"
    assert str(Frame(None, {}, None)) == "{cmd=None,headers=[{}],body=None}"


# ---------------------------------------------------------------------------- parse_headers


def test_parse_headers_basic_and_offset() -> None:
    lines = ["MESSAGE", "destination:/queue/a", "message-id:1"]
    assert parse_headers(lines, 1) == {"destination": "/queue/a", "message-id": "1"}
    assert parse_headers(["a:1", "b:2"]) == {"a": "1", "b": "2"}
    assert parse_headers(["a:1", "b:2"], 1) == {"b": "2"}


def test_parse_headers_value_may_hold_colons_and_be_empty() -> None:
    assert parse_headers(["url:http://h:80/x", "empty:"]) == {"url": "http://h:80/x", "empty": ""}


def test_parse_headers_skips_malformed_lines() -> None:
    assert parse_headers(["nocolon", ":novalue-name", "", "ok:1"]) == {"ok": "1"}


def test_parse_headers_first_occurrence_wins() -> None:
    assert parse_headers(["a:first", "a:second"]) == {"a": "first"}


def test_parse_headers_no_trimming() -> None:
    assert parse_headers(["  spaced : v "]) == {"  spaced ": " v "}


def test_parse_headers_unescapes_and_keeps_unknown_escapes() -> None:
    assert parse_headers([r"k\cey:a\nb\rc\\d\ce"]) == {"k:ey": "a\nb\rc\\d:e"}
    assert parse_headers([r"tab:x\ty"]) == {"tab": "x\\ty"}
    assert parse_headers(["odd:\\\\n"]) == {"odd": "\\n"}


# ---------------------------------------------------------------------------- parse_frame


def test_parse_frame_reference_examples() -> None:
    frame = parse_frame(b"FOO")
    assert frame is not None
    assert (frame.cmd, frame.headers, frame.body) == ("FOO", {}, b"")

    frame = parse_frame(b"ERROR\n\n")
    assert frame is not None
    assert (frame.cmd, frame.headers, frame.body) == ("ERROR", {}, b"")

    frame = parse_frame(b"MESSAGE\r\ncontent-type:text/plain\r\n\r\nhello world!")
    assert frame is not None
    assert (frame.cmd, frame.headers, frame.body) == (
        "MESSAGE",
        {"content-type": "text/plain"},
        b"hello world!",
    )

    assert parse_frame(b"\n") is None


def test_parse_frame_after_coalesced_heartbeats_q3() -> None:
    frame = parse_frame(b"\n\nCONNECTED\nversion:1.2\n\n")
    assert frame is not None
    assert (frame.cmd, frame.headers, frame.body) == ("CONNECTED", {"version": "1.2"}, b"")
    frame = parse_frame(b"\r\n\r\n\nMESSAGE\nx:1\n\nbody")
    assert frame is not None
    assert (frame.cmd, frame.headers, frame.body) == ("MESSAGE", {"x": "1"}, b"body")
    assert parse_frame(b"") is None
    assert parse_frame(b"\r\n\n\r\n") is None


def test_parse_frame_body_is_raw_bytes_and_content_length_ignored() -> None:
    frame = parse_frame(b"MESSAGE\ncontent-length:2\n\nab\x00cd\n\nmore")
    assert frame is not None
    assert frame.headers == {"content-length": "2"}
    assert frame.body == b"ab\x00cd\n\nmore"
    assert type(frame.body) is bytes


def test_parse_frame_command_verbatim_and_headers_unescaped() -> None:
    frame = parse_frame(b"message\nk:a\\cb\nk:dup\nbad line\n\n")
    assert frame is not None
    assert frame.cmd == "message"
    assert frame.headers == {"k": "a:b"}
    assert frame.original_headers == {"k": "a:b"}


def test_parse_frame_mixed_line_ends() -> None:
    # A CR LF header line followed by an LF empty line (legal in 1.2).
    frame = parse_frame(b"MESSAGE\r\na:b\r\n\nbody")
    assert frame is not None
    assert (frame.headers, frame.body) == ({"a": "b"}, b"body")
    # An LF header line followed by a CR LF empty line.
    frame = parse_frame(b"MESSAGE\na:b\n\r\nbody")
    assert frame is not None
    assert (frame.headers, frame.body) == ({"a": "b"}, b"body")
    # A body that starts with CR LF stays whole.
    frame = parse_frame(b"MESSAGE\na:b\n\n\r\nbody")
    assert frame is not None
    assert frame.body == b"\r\nbody"


def test_parse_frame_decodes_head_with_replacement_and_accepts_bytearray() -> None:
    frame = parse_frame(bytearray(b"MESSAGE\nk:\xff\xc3\xa9\n\n\xff"))
    assert frame is not None
    assert frame.headers == {"k": "\ufffdé"}
    assert frame.body == b"\xff"


# ---------------------------------------------------------------------------- convert_frame


def test_convert_frame_reference_example() -> None:
    frame = Frame(
        "SEND", {"a": ("1", "2"), "b": None, "c": 0, "d": "", "content-length": 99}, "héllo"
    )
    chunks = convert_frame(frame)
    assert pack(chunks) == b"SEND\na:1\na:2\nc:0\ncontent-length:6\nd:\n\nh\xc3\xa9llo\x00"
    assert chunks == [
        b"SEND\n",
        b"a:1\n",
        b"a:2\n",
        b"c:0\n",
        b"content-length:6\n",
        b"d:\n",
        b"\n",
        b"h\xc3\xa9llo",
        b"\x00",
    ]
    assert frame.headers["content-length"] == 6


def test_convert_frame_equals_codec_encoding_without_escaping() -> None:
    frame = Frame("SEND", {"destination": "/queue/a", "x": "a\\cb"}, b"body")
    assert pack(convert_frame(frame)) == codec.encode_frame(frame, "1.0")
    assert pack(convert_frame(frame)) == b"SEND\ndestination:/queue/a\nx:a\\cb\n\nbody\x00"


def test_convert_frame_heartbeat() -> None:
    assert convert_frame(Frame(None, {}, None)) == [b"\n"]
    assert pack(convert_frame(Frame(None, {}, None))) == b"\n"


def test_convert_frame_empty_body() -> None:
    assert convert_frame(Frame("BEGIN", {"transaction": "t1"})) == [
        b"BEGIN\n",
        b"transaction:t1\n",
        b"\n",
        b"\x00",
    ]


def test_convert_frame_content_length_written_back_only_when_present() -> None:
    frame = Frame("SEND", {"destination": "/q"}, "abc")
    assert pack(convert_frame(frame)) == b"SEND\ndestination:/q\n\nabc\x00"
    assert "content-length" not in frame.headers


def test_convert_frame_stale_content_length_with_empty_body() -> None:
    # stomp.py wrote "content-length:99" here, announcing a body that never comes.
    frame = Frame("SEND", {"content-length": 99}, "")
    assert pack(convert_frame(frame)) == b"SEND\ncontent-length:0\n\n\x00"
    assert frame.headers["content-length"] == 99


def test_convert_frame_adds_content_length_for_a_nul_in_the_body() -> None:
    frame = Frame("SEND", {"destination": "/q"}, b"a\x00b")
    assert pack(convert_frame(frame)) == b"SEND\ncontent-length:3\ndestination:/q\n\na\x00b\x00"
    assert frame.headers == {"destination": "/q"}


def test_convert_frame_value_types() -> None:
    frame = Frame("SEND", {"t": True, "l": ["x", "y"], "b": b"v", "f": 1.5})
    assert pack(convert_frame(frame)) == b"SEND\nb:v\nf:1.5\nl:['x', 'y']\nt:True\n\n\x00"


def test_convert_frame_mixed_key_types_sorted_by_text() -> None:
    frame = Frame("SEND", {"b": "2", 1: "1"})  # type: ignore[dict-item]
    assert pack(convert_frame(frame)) == b"SEND\n1:1\nb:2\n\n\x00"


@pytest.mark.parametrize("headers", [{"a": "x\ny"}, {"a": "x\ry"}, {"a\nb": "x"}, {"a:b": "x"}])
def test_convert_frame_rejects_headers_that_would_corrupt_the_frame(
    headers: dict[str, str],
) -> None:
    with pytest.raises(FrameError):
        convert_frame(Frame("SEND", headers, "x"))


def test_convert_frame_rejects_other_body_types() -> None:
    with pytest.raises(TypeError, match="message should be a string or bytes, found <class 'int'>"):
        convert_frame(Frame("SEND", {}, 5))  # type: ignore[arg-type]


def test_pack() -> None:
    assert pack() == b""
    assert pack([b"a", b"bc"]) == b"abc"
    assert pack((b"x",)) == b"x"


# ---------------------------------------------------------------------------- text helpers


def test_encode() -> None:
    assert encode("héllo") == b"h\xc3\xa9llo"
    assert encode(b"\xff") == b"\xff"
    assert encode("\udc80") == b"?"
    assert encode("é", "latin-1") == b"\xe9"
    assert encode(bytearray(b"ab")) == b"ab" and type(encode(bytearray(b"ab"))) is bytes
    with pytest.raises(
        TypeError, match="message should be a string or bytes, found <class 'NoneType'>"
    ):
        encode(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="found <class 'int'>"):
        encode(1)  # type: ignore[arg-type]


def test_decode() -> None:
    assert decode(None) is None
    assert decode(b"h\xc3\xa9") == "hé"
    assert decode(b"a\xffb") == "a\ufffdb"
    assert decode(b"\xe9", "latin-1") == "é"


def test_join_and_length() -> None:
    assert join((b"a", b"b", b"c")) == "abc"
    assert join() == ""
    assert join([b"\xc3", b"\xa9"]) == "é"
    assert length(None) == 0
    assert length("abc") == 3
    assert length(b"") == 0


# ---------------------------------------------------------------------------- heart-beats


@pytest.mark.parametrize(
    ("server", "client", "expected"),
    [
        (("5000", "3000"), (3000, 5000), (3000, 5000)),
        (("6000", "2000"), (3000, 5000), (3000, 6000)),
        (("0", "0"), (3000, 5000), (0, 0)),
        (("10000", "0"), (3000, 5000), (0, 10000)),
        (("5000", "3000"), (0, 0), (0, 0)),
        (("0", "7000"), (3000, 5000), (7000, 0)),
        (("00", "000"), (3000, 5000), (0, 0)),  # Q48: numbers, not strings
        ((5000, 3000), (3000, 5000), (3000, 5000)),
    ],
)
def test_calculate_heartbeats(
    server: tuple[str, str], client: tuple[int, int], expected: tuple[int, int]
) -> None:
    result = calculate_heartbeats(server, client)
    assert result == expected
    assert all(type(value) is int for value in result)


# ---------------------------------------------------------------------------- header helpers


def test_merge_headers() -> None:
    first = {"a": "1", "b": "1"}
    merged = merge_headers([first, None, {}, {"b": "2", "c": "3"}])
    assert merged == {"a": "1", "b": "2", "c": "3"}
    assert merged is not first
    assert first == {"a": "1", "b": "1"}
    assert merge_headers([]) == {}


def test_clean_headers_same_object_without_passcode_q49() -> None:
    headers = {"login": "u"}
    assert clean_headers(headers) is headers


def test_clean_headers_copy_with_passcode_masked() -> None:
    headers = {"login": "u", "passcode": "secret"}
    cleaned = clean_headers(headers)
    assert cleaned == {"login": "u", "passcode": "********"}
    assert cleaned is not headers
    assert headers["passcode"] == "secret"


def test_clean_lines_reference_example() -> None:
    assert clean_lines(["passcode: secret"]) == "['passcode:********']"


def test_clean_lines_masks_serialised_frames_q21() -> None:
    frame = Frame("CONNECT", {"login": "u", "passcode": "secret"})
    assert clean_lines(convert_frame(frame)) == (
        "[b'CONNECT\\n', b'login:u\\n', b'passcode:********\\n', b'\\n', b'\\x00']"
    )


@pytest.mark.parametrize(
    "passcode", ["s3cr3t", "with space", "it's", 'say "hi"', "back\\slash", "col:on"]
)
def test_clean_lines_never_shows_the_passcode(passcode: str) -> None:
    lines = convert_frame(Frame("CONNECT", {"passcode": passcode, "login": "u"}))
    text = clean_lines(lines)
    assert passcode not in text
    assert "passcode:********" in text
    assert "login:u" in text
    assert clean_lines(tuple(lines)).startswith("(b'CONNECT\\n'")
    assert passcode not in clean_lines(tuple(lines))


def test_clean_lines_on_plain_text_and_reprs() -> None:
    assert clean_lines("passcode:secret") == "passcode:********"
    assert clean_lines("CONNECT\npasscode:secret\nlogin:u\n") == (
        "CONNECT\npasscode:********\nlogin:u\n"
    )
    assert clean_lines("[b'passcode:secret\\n', b'login:u\\n']") == (
        "[b'passcode:********\\n', b'login:u\\n']"
    )
    assert clean_lines(["login:u", 3]) == "['login:u', 3]"
    assert clean_lines("passcode:") == "passcode:"


# ---------------------------------------------------------------------------- hosts


# stomp.failover keeps the list and does the scan (tests/unit/test_failover.py); these
# check stomp.py's way to it, through this module.


def test_localhost_names_computed_on_first_access(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failover, "_localhost", None)
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "yes")
    names = utils.LOCALHOST_NAMES
    assert names == ["localhost", "127.0.0.1"]
    assert utils.LOCALHOST_NAMES is names  # computed once
    assert failover.localhost_names() is names  # the list the host order follows
    from stomp.utils import LOCALHOST_NAMES

    assert LOCALHOST_NAMES is names
    with pytest.raises(AttributeError, match="has no attribute 'NO_SUCH_NAME'"):
        utils.NO_SUCH_NAME  # type: ignore[attr-defined]


def test_localhost_names_replaced_changed_and_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failover, "_localhost", None)
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "yes")
    utils.LOCALHOST_NAMES = ["localhost", "127.0.0.1", "box"]
    assert failover.candidate_hosts([("far", 1), ("box", 2)])[0] == [
        ("127.0.0.1", 2),
        ("box", 2),
        ("far", 1),
    ]
    utils.LOCALHOST_NAMES.remove("box")
    assert failover.candidate_hosts([("far", 1), ("box", 2)])[0] == [("far", 1), ("box", 2)]
    del utils.LOCALHOST_NAMES  # computed again on next use
    assert utils.LOCALHOST_NAMES == ["localhost", "127.0.0.1"]


def test_hostname_scan_timeout_is_failovers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failover, "HOSTNAME_SCAN_TIMEOUT", 2.0)
    assert utils.HOSTNAME_SCAN_TIMEOUT == 2.0
    utils.HOSTNAME_SCAN_TIMEOUT = 0.5
    assert failover.HOSTNAME_SCAN_TIMEOUT == 0.5


def test_is_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(utils, "LOCALHOST_NAMES", ["localhost", "127.0.0.1", "box"])
    assert is_localhost(("localhost", 61613)) == 1
    assert is_localhost(("127.0.0.1", 61613)) == 1
    assert is_localhost(("box", 1)) == 1
    assert is_localhost(("LOCALHOST", 61613)) == 2  # exact string match
    assert is_localhost(("broker.example.org", 61613)) == 2
    utils.LOCALHOST_NAMES.append("extra")
    assert is_localhost(("extra", 1)) == 1
    hosts = [("remote", 1), ("localhost", 2), ("other", 3), ("127.0.0.1", 4)]
    assert sorted(hosts, key=is_localhost) == [
        ("localhost", 2),
        ("127.0.0.1", 4),
        ("remote", 1),
        ("other", 3),
    ]


# ---------------------------------------------------------------------------- misc


def test_default_create_thread() -> None:
    ran = threading.Event()
    thread = default_create_thread(ran.set)
    assert isinstance(thread, threading.Thread)
    assert thread.daemon is True
    assert ran.wait(5)
    thread.join(5)
    assert not thread.is_alive()


def test_get_uuid() -> None:
    first, second = get_uuid(), get_uuid()
    assert first != second
    assert str(uuid.UUID(first)) == first
    assert uuid.UUID(first).version == 4
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", first)


def test_get_errno() -> None:
    assert get_errno(OSError(errno.ECONNREFUSED, "refused")) == errno.ECONNREFUSED
    assert get_errno(Exception(42, "x")) == 42
    assert get_errno(OSError("no errno")) is None


def test_is_eol_default() -> None:
    assert is_eol_default(b"\n") is True
    assert is_eol_default(b"\r\n") is False
    assert is_eol_default(b"") is False
    assert is_eol_default(b"\n\n") is False


def test_pollable_queue_with_a_selector() -> None:
    q = PollableQueue()
    assert isinstance(q, queue.Queue)
    selector = selectors.DefaultSelector()
    try:
        selector.register(q, selectors.EVENT_READ)
        assert selector.select(timeout=0) == []
        q.put(b"one")
        q.put_nowait(b"two")
        ready = selector.select(timeout=1)
        assert [key.fileobj for key, _ in ready] == [q]
        assert q.get() == b"one"
        assert len(selector.select(timeout=0)) == 1
        assert q.get_nowait() == b"two"
        assert selector.select(timeout=0) == []
        assert q.empty()
    finally:
        selector.close()
        q.shutdown()


def test_pollable_queue_get_without_items_does_not_block_on_the_socket() -> None:
    q = PollableQueue()
    try:
        with pytest.raises(queue.Empty):
            q.get(block=False)
        start = time.monotonic()
        with pytest.raises(queue.Empty):
            q.get(timeout=0.01)
        assert time.monotonic() - start < 1.0
        q.put("later")  # a get after a failed one still pairs items with bytes
        assert q.get(timeout=1) == "later"
    finally:
        q.shutdown()


def test_pollable_queue_across_threads() -> None:
    q = PollableQueue()

    def produce() -> None:
        for i in range(100):
            q.put(i)

    try:
        producer = threading.Thread(target=produce)
        producer.start()
        assert [q.get(timeout=5) for _ in range(100)] == list(range(100))
        producer.join(5)
    finally:
        q.shutdown()


def test_pollable_queue_shutdown_closes_sockets() -> None:
    q = PollableQueue()
    assert q.fileno() >= 0
    q.shutdown()
    assert q.fileno() == -1
    with pytest.raises(OSError):
        q.put("x")
