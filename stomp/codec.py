"""The STOMP wire format, sans-IO: frames in, bytes out, and back.

This module holds every rule of the STOMP 1.0, 1.1 and 1.2 frame format and nothing else:
no sockets, no threads, no clocks.  The TCP, TLS and WebSocket transports and the embedded
broker all use it.

* :class:`Frame` is a decoded or to-be-encoded frame.
* :class:`FrameDecoder` is an incremental decoder: :meth:`FrameDecoder.feed` takes any chunk
  of bytes (one byte or megabytes) and returns the frames completed by it, reporting
  heart-beats and keeping a partial frame for the next call.
* :func:`encode_frame` turns a :class:`Frame` into the bytes of one frame.

The rules, in short (see ``docs/codec.rst`` for the full list and where we differ from
stomp.py):

* Lines end with LF; in 1.2 an EOL may also be CR LF.  A CR that ends the command line, and
  CR LF between frames, are accepted for every version since they cannot mean anything else.
* End-of-line bytes between frames are heart-beats, except those that directly follow a
  frame's NUL within the same :meth:`~FrameDecoder.feed` call: they are that frame's
  trailing padding (ActiveMQ ends every frame with ``NUL LF``; the specification allows any
  number of EOLs after a frame), as stomp.py counts them.
* Header names and values are escaped in 1.1 (``\\\\`` ``\\n`` ``\\c``) and 1.2 (also ``\\r``),
  never in 1.0 and never in CONNECT, STOMP and CONNECTED frames.
* The first occurrence of a repeated header wins.
* With a ``content-length`` header the body is exactly that many bytes (NULs included) and
  must be followed by a NUL; without one, the body ends at the first NUL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from stomp.exception import FrameError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "HEARTBEAT_FRAME",
    "UNESCAPED_COMMANDS",
    "VERSIONS",
    "Frame",
    "FrameDecoder",
    "encode_frame",
    "escape",
    "parse_header_lines",
    "unescape",
]

#: The protocol versions the codec knows.
VERSIONS: Final = ("1.0", "1.1", "1.2")

#: Default limit for the command line plus header lines of one frame, in bytes.
DEFAULT_MAX_HEADER_BYTES: Final = 64 * 1024

#: Default limit for the body of one frame, in bytes.
DEFAULT_MAX_BODY_BYTES: Final = 100 * 1024 * 1024

#: Commands whose headers are never escaped, whatever the version (STOMP 1.1/1.2 keep them
#: raw for compatibility with 1.0 peers).
UNESCAPED_COMMANDS: Final = frozenset({"CONNECT", "CONNECTED", "STOMP"})

_UNESCAPES_11: Final = {"\\": "\\", "n": "\n", "c": ":"}
_UNESCAPES_12: Final = {"\\": "\\", "n": "\n", "c": ":", "r": "\r"}
_UNESCAPES: Final[dict[str, dict[str, str] | None]] = {
    "1.0": None,
    "1.1": _UNESCAPES_11,
    "1.2": _UNESCAPES_12,
}

Body = str | bytes | bytearray | memoryview | None


class Frame:
    """One STOMP frame: a command, a header map and a body.

    Args:
        cmd: the command (``"SEND"``, ``"MESSAGE"``, ...).  ``None`` stands for a heart-beat
            written by the client, which :func:`encode_frame` turns into a single LF.
        headers: the header map; a new empty dict when ``None``.  The dict is used as is,
            not copied.
        body: ``str`` or ``bytes`` (``None`` for a heart-beat).

    Attributes:
        cmd: the command.
        headers: the header map (mutable: listeners may change it).
        original_headers: a shallow copy of ``headers`` taken when the frame was built, so
            for received frames it holds the headers as they came off the wire.
        body: the body.
    """

    def __init__(
        self,
        cmd: str | None = None,
        headers: dict[str, Any] | None = None,
        body: Body = None,
    ) -> None:
        if headers is None:
            headers = {}
        self.cmd = cmd
        self.headers = headers
        self.original_headers = headers.copy()
        self.body = body

    def __str__(self) -> str:
        # stomp.py's format, which users print and log; but a passcode is never shown.
        return f"{{cmd={self.cmd},headers=[{_masked(self.headers)!r}],body={self.body!s}}}"

    def __repr__(self) -> str:
        return f"Frame({self.cmd!r}, {_masked(self.headers)!r}, {self.body!r})"


def _masked(headers: dict[str, Any]) -> dict[str, Any]:
    if "passcode" in headers:
        return {**headers, "passcode": "********"}
    return headers


#: The frame :class:`FrameDecoder` reports for every heart-beat EOL it receives.  One shared
#: object, as in stomp.py; compare with ``is``.
HEARTBEAT_FRAME: Final = Frame("heartbeat")


# The commands of STOMP 1.0-1.2: a set lookup spares the decoder the validity checks.
_COMMANDS: Final = frozenset(
    {
        "CONNECT", "STOMP", "CONNECTED", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
        "BEGIN", "COMMIT", "ABORT", "DISCONNECT", "MESSAGE", "RECEIPT", "ERROR",
    }
)  # fmt: skip

# Stands for "no dict": its length never matches a frame with header lines.
_NO_HEADERS: Final[dict[str, str]] = {}


# ---------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------


def escape(text: str, version: str = "1.2") -> str:
    """Escape a header name or value for ``version`` (no-op for 1.0)."""
    if version == "1.0":
        return text
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if ":" in text:
        text = text.replace(":", "\\c")
    if version != "1.1" and "\r" in text:
        text = text.replace("\r", "\\r")
    return text


def _unescape(text: str, table: Mapping[str, str], strict: bool) -> str:
    if "\\\\" not in text:
        # Without an escaped backslash every backslash starts its own two-character
        # sequence, so replacing the sequences one kind at a time cannot go wrong.
        result = text.replace("\\c", ":")
        if "\\n" in result:
            result = result.replace("\\n", "\n")
        if table is _UNESCAPES_12 and "\\r" in result:
            result = result.replace("\\r", "\r")
        if "\\" not in result:
            return result
    # The general case, in one left-to-right pass (chained replaces would turn an escaped
    # backslash followed by "n" into a backslash and an LF).
    parts = []
    start = 0
    while True:
        i = text.find("\\", start)
        if i < 0:
            parts.append(text[start:])
            return "".join(parts)
        parts.append(text[start:i])
        code = text[i + 1 : i + 2]
        replacement = table.get(code)
        if replacement is None:
            if strict:
                shown = f"\\{code}" if code else "a lone trailing \\"
                raise FrameError(f"undefined escape sequence {shown!r} in header {text!r}")
            replacement = text[i : i + 2]  # kept verbatim, as stomp.py does
        parts.append(replacement)
        start = i + 2


def unescape(text: str, version: str = "1.2", strict: bool = False) -> str:
    """Undo :func:`escape` for ``version`` (no-op for 1.0).

    An undefined escape sequence (``\\t``, or ``\\r`` in 1.1) is kept verbatim, as stomp.py
    does, unless ``strict`` is true, in which case it raises :class:`FrameError` (the
    specification calls it a fatal protocol error).
    """
    table = _UNESCAPES.get(version)
    if table is None or "\\" not in text:
        return text
    return _unescape(text, table, strict)


def parse_header_lines(
    lines: Iterable[str],
    version: str | None = "1.2",
    *,
    strict: bool = False,
    skip_malformed: bool = False,
) -> dict[str, str]:
    """Parse header lines (``name:value``, already split at line ends) into a dict.

    Each line is split at its first colon, so values may contain further colons.  The
    first occurrence of a repeated name wins.  Names and values are unescaped per
    ``version`` (``None`` or ``"1.0"``: no unescaping).  Nothing is trimmed.

    A line without a colon or with an empty name raises :class:`FrameError`, or is skipped
    when ``skip_malformed`` is true.
    """
    table = _UNESCAPES.get(version) if version is not None else None
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name:
            if skip_malformed:
                continue
            what = "without a colon" if not colon else "with an empty name"
            raise FrameError(f"header line {what}: {line[:80]!r}")
        if table is not None:
            if "\\" in name:
                name = _unescape(name, table, strict)
            if "\\" in value:
                value = _unescape(value, table, strict)
        if name not in headers:
            headers[name] = value
    return headers


# ---------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------


def _body_bytes(body: object) -> bytes:
    if type(body) is bytes:
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "replace")
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"message should be a string or bytes, found {type(body)}")


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
    if cmd not in _COMMANDS:  # (the standard commands need no checks)
        if "\n" in cmd or "\r" in cmd or "\0" in cmd:
            raise FrameError(f"command {cmd!r} contains a line end or NUL")
        if not cmd.isascii():
            try:
                cmd.encode("utf-8")
            except UnicodeEncodeError:
                raise FrameError(f"command {cmd!r} is not valid Unicode") from None
    body = _body_bytes(frame.body)
    headers = frame.headers
    if version != "1.0" and cmd not in UNESCAPED_COMMANDS:
        encoded = _encode_common(cmd, headers, body, version)
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


def _encode_common(cmd: str, headers: dict[Any, Any], body: bytes, version: str) -> bytes | None:
    # The common case of escaped frames: str names and values (``None`` values left out),
    # written line by line from the cache.  None when the general path must decide (other
    # value types, an empty name, a NUL in a body without content-length, a header that
    # cannot be encoded ...).
    cache = _LINE_CACHES.get(version)
    if cache is None:  # (not a version name: the general path treats it as 1.2)
        return None
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
                if len(value) <= _LINE_CACHE_VALUE:
                    if len(cache) >= _LINE_CACHE_SIZE:
                        cache.clear()
                    cache[name, value] = line
            append(line)
        elif value is not None:
            return None
    if not length and b"\0" in body:
        return None
    append(b"\n")
    append(body)
    append(b"\0")
    return b"".join(parts)


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


# ---------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------


class _PendingFrame:
    # A frame whose command and headers are decoded, waiting for the rest of its body.
    __slots__ = ("cmd", "head", "headers", "parts", "remaining", "size")

    def __init__(self, cmd: str, headers: dict[str, str], size: int, head: bytes, held: int):
        self.cmd = cmd
        self.headers = headers
        self.size = size  # the body's length (content-length)
        self.head = head  # the frame's bytes before its body (to decode again if need be)
        self.parts: list[bytes] = []  # the body received so far
        # How many more bytes the frame needs: the rest of the body and the NUL.
        self.remaining = size + len(head) + 1 - held

    @property
    def held(self) -> int:
        """How many bytes of the stream this holds (the head and the body so far)."""
        return len(self.head) + self.size + 1 - self.remaining


def _new_frame(cmd: str, headers: dict[str, str], body: bytes, auto_decode: bool) -> Frame:
    # A decoded frame (bypassing Frame.__init__'s argument handling).
    frame = Frame.__new__(Frame)
    frame.cmd = cmd
    frame.headers = headers
    frame.original_headers = headers.copy()
    frame.body = body.decode("utf-8", "replace") if auto_decode else body
    return frame


class FrameDecoder:
    """Incremental STOMP frame decoder.

    Feed it bytes as they arrive; it returns the complete frames and keeps the rest.

    Args:
        version: the protocol version whose rules apply (``"1.0"``, ``"1.1"`` or ``"1.2"``).
            May be changed later through the :attr:`version` attribute, e.g. once a
            CONNECTED frame has named the negotiated version.
        auto_decode: when true, bodies are decoded from UTF-8 to ``str`` (undecodable bytes
            become U+FFFD); when false they stay ``bytes``.
        max_header_bytes: limit for the command line plus the header lines of one frame.
        max_body_bytes: limit for one frame's body.
        strict: when true, an undefined escape sequence in a header is an error; when false
            (the default, as stomp.py) it is kept verbatim.

    A decoding error is final: the stream cannot be resynchronised, so after a
    :class:`~stomp.exception.FrameError` every further :meth:`feed` raises it again.
    """

    def __init__(
        self,
        version: str = "1.2",
        *,
        auto_decode: bool = False,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        strict: bool = False,
    ) -> None:
        self._buf = bytearray()
        # Stream position of self._buf[0] (after the bytes a pending frame holds).
        self._offset = 0
        # A frame whose headers are decoded and whose body is still arriving.
        self._pending: _PendingFrame | None = None
        self.version = version  # (sets the scan hints too)
        self.auto_decode = auto_decode
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self.strict = strict
        self._error: FrameError | None = None

    @property
    def version(self) -> str:
        """The protocol version whose line-end and escaping rules apply."""
        return self._version

    @version.setter
    def version(self, version: str) -> None:
        if version not in _UNESCAPES:
            raise ValueError(f"unknown STOMP version {version!r}; expected one of {VERSIONS}")
        self._version = version
        self._unescapes = _UNESCAPES[version]
        # Line-end rules changed: a buffered partial frame is scanned again from its start
        # (the scan hints: where the scans of the partial frame at the start of _buf may
        # resume), and a pending frame's headers are decoded again.
        self._head_scan = self._nul_scan = 0
        pending, self._pending = self._pending, None
        if pending is not None:
            self._offset -= pending.held
            self._buf = bytearray(b"".join([pending.head, *pending.parts]))

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their frame."""
        pending = self._pending
        return len(self._buf) + (pending.held if pending is not None else 0)

    @property
    def position(self) -> int:
        """How many bytes of the stream have been consumed by complete frames."""
        pending = self._pending
        return self._offset - (pending.held if pending is not None else 0)

    def reset(self) -> None:
        """Forget any partial frame and error, as for a new connection."""
        self._buf = bytearray()
        self._offset = 0
        self._head_scan = self._nul_scan = 0
        self._pending = None
        self._error = None

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Decode ``data`` and return the frames it completes, in stream order.

        Heart-beats appear in the list as :data:`HEARTBEAT_FRAME`.  A partial frame at the
        end is kept for the next call.

        Raises:
            FrameError: malformed input or a size limit exceeded.  Its ``frames`` attribute
                holds the frames decoded from this same call before the problem.
        """
        if self._error is not None:
            raise self._error
        frames: list[Frame] = []
        buf: bytes | bytearray
        try:
            start = 0
            if self._pending is not None:
                start = self._continue_pending(data, frames)
                if start < 0:
                    return frames
            if self._buf:
                self._buf += data
                buf = self._buf
                if self._nul_scan and b"\0" not in data and len(buf) <= self.max_body_bytes:
                    # Still inside a body without content-length: nothing to decode yet
                    # (past the body limit, _decode runs to report it).
                    self._nul_scan = len(buf)
                    return []
            elif type(data) is bytes:
                buf = data
            else:
                buf = bytes(data)
            pos = self._decode(buf, frames, start)
        except FrameError as exc:
            self._buf = bytearray()
            self._pending = None
            exc.frames = frames
            self._error = exc
            raise

        self._offset += pos
        if buf is self._buf:
            del buf[:pos]
        elif pos < len(buf):
            # (through a view: one copy of the partial frame, not two)
            self._buf = bytearray(memoryview(buf)[pos:]) if pos else bytearray(buf)
        return frames

    def _fail(self, reason: str, where: int) -> FrameError:
        return FrameError(reason, self._offset + where)

    def _continue_pending(self, data: bytes | bytearray | memoryview, frames: list[Frame]) -> int:
        # More of the body of the pending frame.  Returns where the bytes after that frame
        # start in ``data`` (the frame is then in ``frames``), or -1 when ``data`` is all
        # body.  The body is joined once, when complete: no copy of the part received so
        # far for each chunk, and its headers are not decoded again.
        pending = self._pending
        assert pending is not None
        size = len(data)
        if size < pending.remaining:
            # (bytes can be kept as they are; other buffers may be reused by the caller)
            pending.parts.append(data if type(data) is bytes else bytes(data))
            pending.remaining -= size
            self._offset += size
            return -1
        nul = pending.remaining - 1
        if data[nul] != 0:
            raise self._fail(
                f"the {pending.cmd} frame's {pending.size}-byte body (content-length) is "
                f"followed by byte 0x{data[nul]:02x}, not NUL",
                nul,
            )
        body = b"".join([*pending.parts, memoryview(data)[:nul]])
        self._pending = None
        frames.append(_new_frame(pending.cmd, pending.headers, body, self.auto_decode))
        return nul + 1

    def _decode(self, buf: bytes | bytearray, frames: list[Frame], start: int = 0) -> int:
        # Decodes from ``start`` (> 0: right after the pending frame just completed).
        # Returns the position of the first byte not consumed.  The scan hints apply to the
        # partial frame that starts at position 0, and only to it.
        append = frames.append
        end = len(buf)
        crlf = self._version == "1.2"
        unescapes = self._unescapes
        max_header = self.max_header_bytes
        max_body = self.max_body_bytes
        auto_decode = self.auto_decode
        is_bytes = type(buf) is bytes
        head_scan, nul_scan = self._head_scan, self._nul_scan
        self._head_scan = self._nul_scan = 0
        new_frame = Frame.__new__
        after_frame = start > 0
        pos = start
        while pos < end:
            byte = buf[pos]
            if byte == 10 or byte == 13:  # an EOL between frames
                if byte == 13:
                    if pos + 1 == end:
                        break  # the LF may follow in the next chunk
                    if buf[pos + 1] != 10:
                        raise self._fail("CR not followed by LF between frames", pos)
                    pos += 2
                else:
                    pos += 1
                if not after_frame:  # (else padding after the frame just decoded)
                    append(HEARTBEAT_FRAME)
                continue
            after_frame = False

            # The header section ends at the first empty line.
            limit = pos + max_header + 3
            head_end = buf.find(b"\n\n", pos + head_scan, limit)
            sep = 2
            if crlf:
                # A CR LF blank line needs a CR before the LF LF found (if any): look for the
                # CR first, a cheaper search that usually finds nothing.
                stop = head_end + 2 if head_end >= 0 else limit
                cr = buf.find(b"\r", pos + head_scan, stop)
                if cr >= 0:
                    crlf_end = buf.find(b"\n\r\n", max(pos + head_scan, cr - 1), stop)
                    if crlf_end >= 0:
                        head_end, sep = crlf_end, 3
            if head_end < 0:
                # (up to two bytes of the blank line's EOLs may already be here)
                if end - pos > max_header + 2:
                    raise self._fail(
                        f"no end of the header section within {max_header} bytes "
                        "(max_header_bytes)",
                        pos,
                    )
                self._head_scan = max(0, end - pos - 3)
                break
            if head_end - pos > max_header:
                raise self._fail(
                    f"header section of {head_end - pos} bytes exceeds max_header_bytes "
                    f"({max_header})",
                    pos,
                )

            text = buf[pos:head_end].decode("utf-8", "replace")
            if crlf and "\r" in text:
                text = text.replace("\r\n", "\n")
                if text[-1:] == "\r":
                    text = text[:-1]
            cmd, _, rest = text.partition("\n")
            if cmd not in _COMMANDS:
                if cmd[-1:] == "\r":
                    cmd = cmd[:-1]
                if not (cmd.isalpha() and cmd.isascii()):
                    raise self._fail(f"bad command line {cmd[:40]!r}", pos)
            if rest:
                # The common case in C: one split per line, no escapes, no repeats.
                lines = rest.split("\n")
                try:
                    headers = dict([line.split(":", 1) for line in lines])
                except ValueError:  # a line without a colon: the general path names it
                    headers = _NO_HEADERS
                escaped = unescapes is not None and "\\" in rest and cmd not in UNESCAPED_COMMANDS
                if len(headers) != len(lines) or "" in headers or escaped:
                    headers = self._parse_headers(headers, lines, cmd, escaped, pos)
            else:
                headers = {}

            body_start = head_end + sep
            length = headers.get("content-length")
            if length is not None:
                if not (length.isdigit() and length.isascii()):
                    raise self._fail(
                        f"content-length of the {cmd} frame is not a number: {length[:40]!r}",
                        pos,
                    )
                digits = length if len(length) <= 18 else length.lstrip("0") or "0"
                # (int() refuses strings of thousands of digits: compare lengths first)
                size = int(digits) if len(digits) <= 18 else max_body + 1
                if size > max_body:
                    shown = digits if len(digits) <= 18 else digits[:18] + "..."
                    raise self._fail(
                        f"{cmd} frame body of {shown} bytes exceeds max_body_bytes ({max_body})",
                        pos,
                    )
                body_end = body_start + size
                if body_end >= end:
                    # The body is still arriving: keep what is here of it, with the
                    # headers, until the rest has come (see _continue_pending).
                    self._pending = _PendingFrame(
                        cmd, headers, size, bytes(buf[pos:body_start]), end - pos
                    )
                    if end > body_start:
                        self._pending.parts.append(bytes(memoryview(buf)[body_start:end]))
                    pos = end
                    break
                if buf[body_end] != 0:
                    raise self._fail(
                        f"the {cmd} frame's {size}-byte body (content-length) is followed by "
                        f"byte 0x{buf[body_end]:02x}, not NUL",
                        body_end,
                    )
            else:
                body_end = buf.find(b"\0", max(body_start, pos + nul_scan))
                if body_end - body_start > max_body:
                    raise self._fail(
                        f"{cmd} frame body of {body_end - body_start} bytes exceeds "
                        f"max_body_bytes ({max_body})",
                        pos,
                    )
                if body_end < 0:
                    if end - body_start > max_body:
                        raise self._fail(
                            f"{cmd} frame body exceeds max_body_bytes ({max_body}) without a NUL",
                            pos,
                        )
                    self._head_scan = head_end - pos
                    self._nul_scan = end - pos
                    break

            body: str | bytes
            if is_bytes or body_end - body_start < 8192:
                if auto_decode:
                    body = buf[body_start:body_end].decode("utf-8", "replace")
                elif is_bytes:
                    body = buf[body_start:body_end]  # type: ignore[assignment]
                else:
                    body = bytes(buf[body_start:body_end])
            # A large body in the buffer: straight from it, without copying the body first
            # (the view is gone again before the buffer is resized).
            elif auto_decode:
                body = str(memoryview(buf)[body_start:body_end], "utf-8", "replace")
            else:
                body = bytes(memoryview(buf)[body_start:body_end])
            frame = new_frame(Frame)
            frame.cmd = cmd
            frame.headers = headers
            frame.original_headers = headers.copy()
            frame.body = body
            append(frame)
            pos = body_end + 1
            after_frame = True
            head_scan = nul_scan = 0
        return pos

    def _parse_headers(
        self, headers: dict[str, str], lines: list[str], cmd: str, escaped: bool, pos: int
    ) -> dict[str, str]:
        # ``headers`` is the fast path's dict (last occurrence wins, nothing unescaped).
        try:
            if len(headers) == len(lines) and "" not in headers and self._unescape_values(headers):
                return headers
            # A repeated header (first wins), an escaped name, or a malformed line.
            return parse_header_lines(lines, self._version if escaped else None, strict=self.strict)
        except FrameError as exc:
            raise self._fail(f"{exc.reason} in the {cmd} frame", pos) from None

    def _unescape_values(self, headers: dict[str, str]) -> bool:
        # Unescape the values in place; False (leaving the rest to the general path) when a
        # name is escaped, which is rare.  The common escapes (ActiveMQ's "ID\chost...")
        # are replaced inline; anything else goes through _unescape.
        table = self._unescapes
        crlf = table is _UNESCAPES_12
        for name, value in headers.items():
            if "\\" in name:
                return False
            if "\\" in value:
                if "\\\\" not in value:
                    plain = value.replace("\\c", ":")
                    if "\\n" in plain:
                        plain = plain.replace("\\n", "\n")
                    if crlf and "\\r" in plain:
                        plain = plain.replace("\\r", "\r")
                    if "\\" not in plain:
                        headers[name] = plain
                        continue
                headers[name] = _unescape(value, table, self.strict)  # type: ignore[arg-type]
        return True
