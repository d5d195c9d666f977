"""Decoding: the incremental :class:`FrameDecoder`."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from itertools import compress, repeat
from operator import contains
from types import ModuleType
from typing import Final

from stomp.codec.frame import (
    COMMANDS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    HEARTBEAT_FRAME,
    UNESCAPED_COMMANDS,
    VERSIONS,
    Frame,
)
from stomp.codec.headers import _UNESCAPES, _unescape, parse_header_lines
from stomp.exception import FrameError

__all__ = ["FrameDecoder"]

_log = logging.getLogger("stomp.py")

# (position, after a frame, the frame whose body is still arriving if it stopped at one:
# command, headers, content-length, where its body starts)
_Scan = Callable[..., "tuple[int, bool, tuple[str, dict[str, str], int, int] | None]"]
_c_scan: _Scan | None = None
# The accelerator module when it is used (stomp.aio takes its Subscription's base from it).
_accelerator: ModuleType | None = None
if os.environ.get("STOMP_NO_SPEEDUPS") == "1":
    _log.debug("decoder: pure Python (STOMP_NO_SPEEDUPS=1)")
else:
    try:
        import stomp._speedups as _built
    except ImportError as exc:
        _log.debug("decoder: pure Python (the C accelerator is not there: %s)", exc)
    else:
        if getattr(_built, "SCAN_VERSION", None) == 6:
            _accelerator = _built
            _c_scan = _built.scan
        else:  # (a build of another version of stomp/_speedups.c)
            _log.debug("decoder: pure Python (stomp._speedups is of another version)")

# How the C scanner undoes escapes, by version.
_ESCAPES: Final = {"1.0": 0, "1.1": 1, "1.2": 2}

# Stands for "no dict": its length never matches a frame with header lines.
_NO_HEADERS: Final[dict[str, str]] = {}

# For splitting header lines at their first colon, all of them in one map().
_split: Final = str.split
_COLON: Final = repeat(":")
_ONE: Final = repeat(1)
_BACKSLASH: Final = repeat("\\")

# The body sizes of the content-length values seen (valid, at most 18 digits), up to
# _MAX_SIZES of them: most frames repeat one.
_SIZES: Final[dict[str, int]] = {}
_MAX_SIZES: Final = 1024


class _PendingFrame:
    # A frame whose command and headers are decoded, waiting for the rest of its body.
    __slots__ = ("cmd", "head", "headers", "parts", "remaining", "size")

    def __init__(self, cmd: str, headers: dict[str, str], size: int, head: bytes, held: int):
        self.cmd = cmd
        self.headers = headers
        self.size = size  # the body's length (content-length)
        self.head = head  # the frame's bytes before its body (to decode again if need be)
        self.parts: list[bytes | memoryview] = []  # the body received so far
        # How many more bytes the frame needs: the rest of the body and the NUL.
        self.remaining = size + len(head) + 1 - held

    @property
    def held(self) -> int:
        """How many bytes of the stream this holds (the head and the body so far)."""
        return len(self.head) + self.size + 1 - self.remaining


def _new_frame(
    cls: type[Frame],
    cmd: str,
    headers: dict[str, str],
    body: bytes,
    auto_decode: bool,
    share: bool = False,
) -> Frame:
    # A decoded frame (bypassing Frame.__init__'s argument handling); ``share``: its
    # original_headers is its headers dict itself, not a copy.
    frame = Frame.__new__(cls)
    frame.cmd = cmd
    frame.headers = headers
    frame.original_headers = headers if share else headers.copy()
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
        message_class: the class of the MESSAGE frames (:class:`~stomp.codec.Frame` or a
            subclass; built, as every decoded frame, without calling ``__init__``); the
            asyncio client's messages are decoded straight into its ``Message`` class.  A
            class whose ``_original_is_headers`` attribute is true gets no copy of the
            headers: its ``original_headers`` is its ``headers`` dict.

    A decoding error is final: the stream cannot be resynchronised, so after a
    :class:`~stomp.exception.FrameError` every further :meth:`feed` raises it again.

    When the optional C accelerator ``stomp._speedups`` is built (and the environment
    variable ``STOMP_NO_SPEEDUPS`` is not ``1``), it decodes the ordinary frames and hands
    everything else back to this class's Python code, the reference: the frames, errors
    and state are the same either way (see :attr:`speedups`).
    """

    # The C scanner, or None for the pure-Python path (the tests switch it per class).
    _scan: _Scan | None = _c_scan

    def __init__(
        self,
        version: str = "1.2",
        *,
        auto_decode: bool = False,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        strict: bool = False,
        message_class: type[Frame] = Frame,
    ) -> None:
        if not (isinstance(message_class, type) and issubclass(message_class, Frame)):
            raise TypeError(f"message_class must be Frame or a subclass: {message_class!r}")
        self.message_class = message_class
        self._message_shares = bool(getattr(message_class, "_original_is_headers", False))
        self._buf = bytearray()
        # Stream position of self._buf[0] (after the bytes a pending frame holds).
        self._offset = 0
        # A frame whose headers are decoded and whose body is still arriving.
        self._pending: _PendingFrame | None = None
        self._last_body = 0  # the body size of the last frame decoded (for read_size)
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
    def speedups(self) -> bool:
        """Whether this decoder runs the C accelerator (else only pure Python)."""
        return self._scan is not None

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of their frame."""
        pending = self._pending
        return len(self._buf) + (pending.held if pending is not None else 0)

    @property
    def awaiting(self) -> int:
        """How many more bytes the frame whose body is arriving needs (the rest of its body
        and its NUL; only a frame with a ``content-length`` knows), 0 when there is none.
        A transport may read in larger pieces meanwhile."""
        pending = self._pending
        return pending.remaining if pending is not None else 0

    def read_size(self, size: int, large: int | None = None) -> int:
        """How many bytes a transport should ask for in its next read, ``size`` being its
        usual read: ``large`` (four times ``size`` by default) while more than ``size /
        16`` bytes of a frame's body are still to come, or when the last frame decoded had
        a body of more than ``size / 4`` bytes (large frames in a row); else ``size``.
        Large reads cost less per byte of a large frame; small ones cost less per small
        frame (fewer decoded frames at once, less fresh memory)."""
        if self._last_body > size >> 2 or self.awaiting > size >> 4:
            return size * 4 if large is None else large
        return size

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
        self._last_body = 0
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
                if self._nul_scan and 0 not in data:  # (int: a memoryview's items are)
                    buf = self._buf
                    buf += data
                    if len(buf) <= self.max_body_bytes:
                        # Still inside a body without content-length: nothing to decode yet
                        # (past the body limit, _decode runs to report it).
                        self._nul_scan = len(buf)
                        return []
                elif len(self._buf) <= len(data):
                    # A partial frame and a larger chunk: joined into bytes (one copy, as
                    # appending would make), which the frames are quicker to decode from.
                    buf = b"".join((self._buf, data))
                else:
                    buf = self._buf
                    buf += data
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
        elif self._buf:
            self._buf = bytearray()  # (it was joined with the chunk)
        if frames:
            body = frames[-1].body
            self._last_body = len(body) if body is not None else 0
        return frames

    def _class_of(self, cmd: str) -> type[Frame]:
        return self.message_class if cmd == "MESSAGE" else Frame

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
        rest = memoryview(data)[:nul]
        self._pending = None
        share = pending.cmd == "MESSAGE" and self._message_shares
        if self.auto_decode and not pending.parts:
            # The whole body is in this chunk: decoded from it in one pass, not copied first.
            frame = _new_frame(
                self._class_of(pending.cmd), pending.cmd, pending.headers, b"", False, share
            )
            frame.body = str(rest, "utf-8", "replace")
        else:
            body = b"".join([*pending.parts, rest])
            frame = _new_frame(
                self._class_of(pending.cmd),
                pending.cmd,
                pending.headers,
                body,
                self.auto_decode,
                share,
            )
        frames.append(frame)
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
        message_class = self.message_class
        message_shares = self._message_shares
        sizes_get = _SIZES.get
        after_frame = start > 0
        pos = start
        scan = self._scan
        if scan is not None and not (type(max_header) is int and type(max_body) is int):
            scan = None  # (limits the C scanner cannot hold: the Python path applies them)
        if scan is not None:
            escapes = _ESCAPES[self._version]
            c_max_header, c_max_body = min(max_header, sys.maxsize), min(max_body, sys.maxsize)
        # The last frame's header section ended with a CR LF blank line: look for that
        # first (so is the next one's, most likely), and decode here, not in C, which hands
        # such frames back.  Otherwise the LF LF search, which finds no blank line in a
        # CR LF header section, would run on through the chunk for every frame.
        crlf_frames = False
        while pos < end:
            if scan is not None and not (head_scan or nul_scan or crlf_frames):
                # The C scanner decodes the ordinary frames and stops at anything else (a
                # partial frame, an error, a CR in a header section...), which the Python
                # code below handles, one frame or EOL, before the C scanner goes on.
                pos, after_frame, partial = scan(
                    buf, pos, frames, after_frame, escapes, c_max_header, c_max_body,
                    auto_decode, new_frame, Frame, HEARTBEAT_FRAME, message_class,
                    message_shares,
                )  # fmt: skip
                if partial is not None:
                    # A frame whose body is still arriving, its head decoded in C.
                    cmd, headers, size, body_start = partial
                    self._keep_pending(buf, pos, cmd, headers, size, body_start, is_bytes)
                    pos = end
                    break
                if pos >= end:
                    break
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
            sep = 2
            if crlf_frames:
                # The CR LF blank line, and an LF LF one only before it.
                crlf_end = buf.find(b"\n\r\n", pos + head_scan, limit)
                stop = crlf_end + 2 if crlf_end >= 0 else limit
                head_end = buf.find(b"\n\n", pos + head_scan, stop)
                if head_end < 0 and crlf_end >= 0:
                    head_end, sep = crlf_end, 3
                else:
                    crlf_frames = False
                if head_end >= 0:
                    head = buf[pos:head_end]
                cr = True
            else:
                head_end = buf.find(b"\n\n", pos + head_scan, limit)
                if head_end >= 0:
                    head = buf[pos:head_end]
                    # (without a CR before the LF LF found there is no CR LF blank line)
                    cr = crlf and 13 in head  # (an int: no buffer protocol)
                else:
                    cr = crlf
                if cr:
                    # A CR LF blank line needs a CR before the LF LF found (if any).
                    stop = head_end + 2 if head_end >= 0 else limit
                    cr_at = buf.find(b"\r", pos + head_scan, stop)
                    if cr_at >= 0:
                        crlf_end = buf.find(b"\n\r\n", max(pos + head_scan, cr_at - 1), stop)
                        if crlf_end >= 0:
                            head_end, sep = crlf_end, 3
                            head = buf[pos:head_end]
                            crlf_frames = True
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

            text = head.decode("utf-8", "replace")
            if cr and "\r" in text:
                text = text.replace("\r\n", "\n")
                if text[-1:] == "\r":
                    text = text[:-1]
            # (the text never ends with an LF: the blank line is the first)
            lines = text.split("\n")
            cmd = lines[0]
            if cmd not in COMMANDS:
                if cmd[-1:] == "\r":
                    cmd = cmd[:-1]
                if not (cmd.isalpha() and cmd.isascii()):
                    raise self._fail(f"bad command line {cmd[:40]!r}", pos)
            if len(lines) > 1:
                # The common case in C: one split per line, no repeats.
                del lines[0]
                try:
                    headers = dict(map(_split, lines, _COLON, _ONE))
                except ValueError:  # a line without a colon: the general path names it
                    headers = _NO_HEADERS
                # (a valid command has no backslash)
                escaped = unescapes is not None and "\\" in text and cmd not in UNESCAPED_COMMANDS
                if len(headers) != len(lines) or "" in headers:
                    # A repeated header (first wins) or a malformed line.
                    headers = self._parse_headers(lines, cmd, escaped, pos)
                elif escaped:
                    # The values unescaped in place (an escaped name, which is rare, leaves
                    # it all to the general path).  Each backslash of a value without an
                    # escaped backslash starts its own two-character sequence, so the usual
                    # one, \c, is replaced at once; anything else goes through _unescape.
                    # A value repeated (the ack header is often the message-id) is
                    # unescaped once.
                    raw = plain = ""
                    for name, value in compress(headers.items(), map(contains, lines, _BACKSLASH)):
                        if "\\" in name:
                            headers = self._parse_headers(lines, cmd, escaped, pos)
                            break
                        if value != raw:
                            raw = value
                            plain = value.replace("\\c", ":")
                            if "\\" in plain:
                                plain = self._unescape_more(value, plain, cmd, pos)
                        headers[name] = plain
            else:
                headers = {}

            body_start = head_end + sep
            length = headers.get("content-length")
            if length is not None:
                size = sizes_get(length, -1)
                if size < 0:
                    size = self._content_length(cmd, length, pos)
                if size > max_body:
                    raise self._body_too_large(cmd, _shown_length(length), pos)
                body_end = body_start + size
                if body_end >= end:
                    self._keep_pending(buf, pos, cmd, headers, size, body_start, is_bytes)
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
                    raise self._body_too_large(cmd, str(body_end - body_start), pos)
                if body_end < 0:
                    if end - body_start > max_body:
                        raise self._body_too_large(cmd, None, pos)
                    self._head_scan = head_end - pos
                    self._nul_scan = end - pos
                    break

            body: str | bytes
            if body_end - body_start < 8192:
                if auto_decode:
                    body = buf[body_start:body_end].decode("utf-8", "replace")
                elif is_bytes:
                    body = buf[body_start:body_end]  # type: ignore[assignment]
                else:
                    body = bytes(buf[body_start:body_end])
            # A large body: decoded straight from the buffer in one pass, without copying
            # it first (the view is gone again before the buffer is resized).
            elif auto_decode:
                body = str(memoryview(buf)[body_start:body_end], "utf-8", "replace")
            else:
                body = bytes(memoryview(buf)[body_start:body_end])
            message = cmd == "MESSAGE"
            frame = new_frame(message_class if message else Frame)
            frame.cmd = cmd
            frame.headers = headers
            frame.original_headers = headers if message and message_shares else headers.copy()
            frame.body = body
            append(frame)
            pos = body_end + 1
            if pos < end and buf[pos] == 10:
                pos += 1  # (the usual EOL after a frame: padding, not a heart-beat)
            after_frame = True
            head_scan = nul_scan = 0
            # (a jump back, as the loop's own test at its end is not: CPython 3.11 specializes
            # a function's code only once it has run a few of these or been called a few times)
            continue
        return pos

    def _keep_pending(
        self,
        buf: bytes | bytearray,
        pos: int,
        cmd: str,
        headers: dict[str, str],
        size: int,
        body_start: int,
        is_bytes: bool,
    ) -> None:
        # The body of the frame at ``pos`` is still arriving: keep what is here of it, with
        # the headers, until the rest has come (see _continue_pending).
        end = len(buf)
        pending = self._pending = _PendingFrame(
            cmd, headers, size, bytes(buf[pos:body_start]), end - pos
        )
        if end > body_start:
            # A view of the chunk when it is immutable bytes (no copy: the body is joined
            # once, when complete); a copy of the decoder's own buffer, which is about to be
            # cut.
            part = memoryview(buf)[body_start:end]
            pending.parts.append(part if is_bytes else bytes(part))

    def _body_too_large(self, cmd: str, size: str | None, pos: int) -> FrameError:
        # ``size``: the body's length, or None when no NUL ends it yet.
        limit = f"max_body_bytes ({self.max_body_bytes})"
        if size is None:
            return self._fail(f"{cmd} frame body exceeds {limit} without a NUL", pos)
        return self._fail(f"{cmd} frame body of {size} bytes exceeds {limit}", pos)

    def _content_length(self, cmd: str, length: str, pos: int) -> int:
        # The body size a content-length header gives (max_body_bytes + 1 for thousands of
        # digits, which int() refuses); remembered when small enough for any limit.
        if not (length.isdigit() and length.isascii()):
            raise self._fail(
                f"content-length of the {cmd} frame is not a number: {length[:40]!r}", pos
            )
        digits = length if len(length) <= 18 else length.lstrip("0") or "0"
        if len(digits) > 18:
            return self.max_body_bytes + 1
        size = int(digits)
        if len(_SIZES) < _MAX_SIZES:
            _SIZES[length] = size
        return size

    def _unescape_more(self, value: str, plain: str, cmd: str, pos: int) -> str:
        # ``plain``: ``value`` with its \c replaced, in which a backslash is left.
        table = self._unescapes
        assert table is not None
        if "\\\\" not in value:
            # (each backslash starts its own two-character sequence: one kind at a time)
            if "\\n" in plain:
                plain = plain.replace("\\n", "\n")
            if "r" in table and "\\r" in plain:
                plain = plain.replace("\\r", "\r")
            if "\\" not in plain:
                return plain
        try:
            return _unescape(value, table, self.strict)
        except FrameError as exc:
            raise self._fail(f"{exc.reason} in the {cmd} frame", pos) from None

    def _parse_headers(self, lines: list[str], cmd: str, escaped: bool, pos: int) -> dict[str, str]:
        # The general path: a repeated header (first wins), an escaped name, a malformed line.
        try:
            return parse_header_lines(lines, self._version if escaped else None, strict=self.strict)
        except FrameError as exc:
            raise self._fail(f"{exc.reason} in the {cmd} frame", pos) from None


def _shown_length(length: str) -> str:
    # A content-length too large, as the error shows it.
    digits = length if len(length) <= 18 else length.lstrip("0") or "0"
    return digits if len(digits) <= 18 else digits[:18] + "..."
