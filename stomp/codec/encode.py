"""Encoding: a :class:`~stomp.codec.frame.Frame` into the bytes of one frame."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from stomp.codec.frame import COMMANDS, UNESCAPED_COMMANDS, Frame, body_bytes
from stomp.codec.headers import escape
from stomp.exception import FrameError

__all__ = ["encode_frame"]


def _header_text(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def encode_frame(frame: Frame, version: str = "1.2") -> bytes:
    """Return the bytes of ``frame`` as protocol ``version`` puts it on the wire.

    * A frame without a command (``Frame(None)``) is a client heart-beat: a single LF.
    * Header lines are written in sorted name order (as stomp.py does); ``None`` values are
      left out; a tuple value writes one line per item (a repeated header); other values
      are written with ``str()`` (``bytes`` are decoded as UTF-8).
    * Names and values are escaped per ``version``, except in CONNECT, STOMP and CONNECTED.
    * A ``content-length`` header, when present, is written with the real byte length of
      the body; one is added when the body contains a NUL, so such a body is never cut.
    * A ``str`` body is encoded as UTF-8 (unencodable characters replaced); ``bytes``,
      ``bytearray`` and ``memoryview`` bodies are written as they are.  Other types raise
      ``TypeError``.

    Raises:
        FrameError: for a frame that cannot be put on the wire: a command containing a line
            end, an empty header name, an LF or CR in an unescaped header (1.0, CONNECT,
            CONNECTED, STOMP), a colon in an unescaped header name, or a header that is not
            valid Unicode.  The message names the header but never shows its value.
    """
    cmd = frame.cmd
    if not cmd:
        return b"\n"
    body = body_bytes(frame.body)
    headers = frame.headers
    heads = _HEAD_CACHES.get(version)  # (None for 1.0 and unknown versions)
    key: tuple[Any, ...] | None = None
    if heads is not None:
        if "receipt" in headers:
            # (each such frame has its own receipt line: cached without it, and not among
            # the heads that repeat)
            heads = None
            if cmd in COMMANDS and cmd not in UNESCAPED_COMMANDS:
                return _encode_with_receipt(cmd, headers, body, version)
        else:
            # A head cached for the same command, body length and headers (only frames
            # that passed every check below are cached): the frame is that head and its
            # body.
            key = (cmd, len(body), *headers.items())
            try:
                cached = heads.get(key)
            except TypeError:  # an unhashable value: the general path decides
                key = heads = None
            else:
                if cached is not None and (cached[1] or b"\0" not in body):
                    return b"".join((cached[0], body, b"\0"))
    if cmd not in COMMANDS:  # (the standard commands need no checks)
        if "\n" in cmd or "\r" in cmd or "\0" in cmd:
            raise FrameError(f"command {cmd!r} contains a line end or NUL")
        if not cmd.isascii():
            try:
                cmd.encode("utf-8")
            except UnicodeEncodeError:
                raise FrameError(f"command {cmd!r} is not valid Unicode") from None
    if version in _HEAD_CACHES and cmd not in UNESCAPED_COMMANDS:
        encoded = _encode_common(cmd, headers, body, version, heads, key)
        if encoded is not None:
            return encoded
    return _encode_general(cmd, headers, body, version)


# Encoded header lines ("name:value\n", escaped), by protocol version and (name, value):
# applications send the same destinations, content types and flags over and over.  Only
# str names and values, and values short enough to be worth keeping; a full table starts
# over, so it stays bounded whatever the traffic.
_LINE_CACHES: Final[dict[str, dict[tuple[str, str], bytes]]] = {"1.1": {}, "1.2": {}}
_LINE_CACHE_SIZE: Final = 2048
_LINE_CACHE_VALUE: Final = 200


# Encoded heads (command, header lines and the blank line), by protocol version and by
# (command, body length, header items in the dict's order), each with whether it has a
# content-length line: a producer sends frames of the same shape over and over.  Heads up
# to _HEAD_CACHE_HEAD bytes; a full table starts over.
_HEAD_CACHES: Final[dict[str, dict[tuple[Any, ...], tuple[bytes, bool]]]] = {"1.1": {}, "1.2": {}}
_HEAD_CACHE_SIZE: Final = 512
_HEAD_CACHE_HEAD: Final = 1024


def _encode_common(
    cmd: str,
    headers: dict[Any, Any],
    body: bytes,
    version: str,
    heads: dict[tuple[Any, ...], tuple[bytes, bool]] | None,
    key: tuple[Any, ...] | None,
) -> bytes | None:
    # The common case of escaped frames: str names and values (``None`` values left out),
    # written line by line from the line cache; the head is kept in ``heads`` under
    # ``key`` (which encode_frame looked up first).  None when the general path must decide
    # (other value types, an empty name, a NUL in a body without content-length, a header
    # that cannot be encoded ...).
    cache = _LINE_CACHES[version]
    try:
        names = sorted(headers)
    except TypeError:
        return None
    parts = [cmd.encode("utf-8"), b"\n"]
    append = parts.append
    length = False
    for name in names:
        value = headers[name]
        if name == "content-length":
            append(b"content-length:%d\n" % len(body))
            length = True
        elif type(value) is str:
            line = cache.get((name, value))
            if line is None:
                if type(name) is not str or not name:
                    return None
                try:
                    line = f"{escape(name, version)}:{escape(value, version)}\n".encode()
                except UnicodeEncodeError:
                    return None
                if len(value) <= _LINE_CACHE_VALUE and name != "receipt":
                    if len(cache) >= _LINE_CACHE_SIZE:
                        cache.clear()
                    cache[name, value] = line
            append(line)
        elif value is not None:
            return None
    if not length and b"\0" in body:
        return None
    append(b"\n")
    head = b"".join(parts)
    if heads is not None and key is not None and len(head) <= _HEAD_CACHE_HEAD:
        if len(heads) >= _HEAD_CACHE_SIZE:
            heads.clear()
        heads[key] = (head, length)
    return b"".join((head, body, b"\0"))


# Heads of frames with a str receipt, by protocol version and by (command, body length,
# the other header items in the dict's order): the bytes before the receipt line and after
# it, and whether there is a content-length line.  Confirmed sends are frames of the same
# shape but for their receipts.  Bounded as _HEAD_CACHES.
_RECEIPT_HEAD_CACHES: Final[dict[str, dict[tuple[Any, ...], tuple[bytes, bytes, bool]]]] = {
    "1.1": {},
    "1.2": {},
}


def _encode_with_receipt(cmd: str, headers: dict[Any, Any], body: bytes, version: str) -> bytes:
    # encode_frame for a standard escaped command with a receipt header: the same bytes,
    # the head around the receipt line taken from the cache when it can be.
    receipt = headers["receipt"]
    heads = _RECEIPT_HEAD_CACHES[version]
    others = headers.copy()
    del others["receipt"]
    key = (cmd, len(body), *others.items())
    cached = None
    cacheable = type(receipt) is str
    if cacheable:
        try:
            cached = heads.get(key)
        except TypeError:  # an unhashable value: not cached
            cacheable = False
    if cached is not None and (cached[2] or b"\0" not in body):
        try:
            line = f"receipt:{escape(receipt, version)}\n".encode()
        except UnicodeEncodeError:
            pass  # (the general path says which header)
        else:
            return b"".join((cached[0], line, cached[1], body, b"\0"))
    encoded = _encode_common(cmd, headers, body, version, None, None)
    if encoded is None:
        return _encode_general(cmd, headers, body, version)
    head_size = len(encoded) - len(body) - 1
    if cacheable and head_size <= _HEAD_CACHE_HEAD:
        line = f"receipt:{escape(receipt, version)}\n".encode()
        at = encoded.find(b"\n" + line, 0, head_size) + 1
        if at > 0:
            if len(heads) >= _HEAD_CACHE_SIZE:
                heads.clear()
            length = b"\ncontent-length:" in encoded[:head_size]
            heads[key] = (encoded[:at], encoded[at + len(line) : head_size], length)
    return encoded


def _encode_general(cmd: str, headers: dict[Any, Any], body: bytes, version: str) -> bytes:
    items: Iterable[tuple[Any, Any]] = headers.items()
    if "content-length" not in headers and b"\0" in body:
        items = [*items, ("content-length", None)]
    try:
        items = sorted(items)
    except TypeError:  # names of mixed types: sort by their text
        items = sorted(items, key=lambda item: str(item[0]))

    escaped = version != "1.0" and cmd not in UNESCAPED_COMMANDS
    lines = [cmd]
    append = lines.append
    for name, value in items:
        if type(name) is not str:
            name = _header_text(name)
        if not name:
            raise FrameError(f"{cmd} frame has a header with an empty name")
        if name == "content-length":
            append(f"content-length:{len(body)}")
            continue
        if value is None:
            continue
        values = value if type(value) is tuple else (value,)
        if escaped:
            ename = escape(name, version)
            for item in values:
                text = item if type(item) is str else _header_text(item)
                append(f"{ename}:{escape(text, version)}")
        else:
            for item in values:
                text = item if type(item) is str else _header_text(item)
                _check_unescaped(cmd, name, text)
                append(f"{name}:{text}")
    append("\n")
    try:
        head = "\n".join(lines).encode("utf-8")
    except UnicodeEncodeError:
        raise FrameError(_unencodable(cmd, lines)) from None
    return b"".join((head, body, b"\0"))


def _unencodable(cmd: str, lines: list[str]) -> str:
    # Say which header cannot be encoded; show its name only when the name is fine (the
    # value may be a credential).
    prefix = f"a header of the {cmd} frame is not valid Unicode"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{prefix}: a header name ({exc.reason})"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{prefix}: the value of {name!r} ({exc.reason})"
    return f"the {cmd!r} command is not valid Unicode"  # pragma: no cover (checked first)


def _check_unescaped(cmd: str, name: str, value: str) -> None:
    for text, what in ((name, "name"), (value, "value")):
        if "\n" in text or "\r" in text:
            raise FrameError(
                f"the {what} of header {name!r} of the {cmd} frame contains a line end, "
                "which this frame cannot carry (no header escaping in STOMP 1.0, CONNECT, "
                "STOMP or CONNECTED)"
            )
    if ":" in name:
        raise FrameError(f"header name {name!r} of the {cmd} frame contains a colon")
