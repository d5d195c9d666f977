"""stomp.py's helper names (``stomp.utils``), as thin wrappers over the library's modules.

Code written for stomp.py imports these (``from stomp.utils import *`` is common), so every
name of stomp.py 9.0.0's ``stomp.utils`` is here with the same signature.  Nothing in the
library uses this module: each rule lives where the library needs it, and this module
hands it on under stomp.py's name.  The frame format lives in :mod:`stomp.codec` only
(:class:`Frame` and :data:`HEARTBEAT_FRAME` are the codec's objects, and
:func:`parse_frame`, :func:`parse_headers`, :func:`convert_frame` and :func:`encode` call
the codec rather than parsing or encoding a second time); passcode masking is
:mod:`stomp.log`'s, heart-beat negotiation :mod:`stomp.heartbeat`'s, the local host names
:mod:`stomp.failover`'s, the thread and heart-beat defaults :mod:`stomp.transport`'s.

Where this module deliberately differs from stomp.py (``docs/compat_utils.rst`` has the
full list):

* :func:`parse_frame` skips end-of-line bytes before the command, so a frame that follows
  two coalesced heart-beats is no longer lost.
* :func:`convert_frame` raises :class:`~stomp.exception.FrameError` for a header that would
  corrupt the frame (an LF or CR in an unescaped header), writes ``bytes`` header values
  decoded rather than as ``b'...'``, writes a ``content-length`` that always matches
  the body, and adds one when the body contains a NUL.
* :func:`clean_lines` also masks ``passcode:secret`` without a space after the colon,
  which is how a serialised frame writes it.
* :func:`calculate_heartbeats` compares numbers, not strings (``"00"`` is zero).
* :data:`LOCALHOST_NAMES` is computed on first use, with the host-name look-ups bounded in
  time, instead of at import (see :data:`LOCALHOST_NAMES`).

All ``HDR_*`` and ``CMD_*`` constants of :mod:`stomp.constants` are re-exported.
"""

from __future__ import annotations

import os  # noqa: F401  (stomp.py's star-import names, with threading, ...)
import queue
import re
import socket
import sys
import threading  # noqa: F401
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from stomp import _namespace, heartbeat
from stomp import codec as _codec
from stomp import constants as _constants
from stomp import failover as _failover
from stomp import log as _log
from stomp import session as _session
from stomp.codec import HEARTBEAT_FRAME as HEARTBEAT_FRAME  # (stomp.py's names, re-exported)
from stomp.codec import Frame as Frame
from stomp.constants import *  # noqa: F403  (stomp.py re-exports every constant here)
from stomp.transport import default_create_thread, is_eol_default  # noqa: F401  (as above)

if TYPE_CHECKING:
    pass

# stomp.py's names, and the modules its utils imports, which its star import hands on (test
# helpers written for stomp.py do ``from stomp.utils import *`` and then use ``re``, ``os``);
# the modules that star-import it in stomp.py resolve them from here (stomp._namespace).
__all__ = [*_namespace.UTILS_NAMES, *_constants.__all__]

# uuid and copy are resolved on first use (see stomp._namespace); a reload forgets them.
_namespace.forget(globals())


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        # Module attribute hook (PEP 562): uuid and copy, imported on first use.
        return _namespace.resolve(__name__, name)


# ---------------------------------------------------------------------------------------
# Constants and regular expressions
# ---------------------------------------------------------------------------------------

#: The NUL byte that ends every frame.
NULL: Final = b"\x00"
#: A line feed, as bytes.
ENC_NEWLINE: Final = b"\n"
#: The NUL byte, as bytes (same as :data:`NULL`).
ENC_NULL: Final = b"\x00"

#: A header line: ``key`` (one or more characters other than a colon), a colon, and
#: ``value`` (the rest of the line).  Kept for users; :func:`parse_headers` uses the codec.
HEADER_LINE_RE: Final = re.compile("(?P<key>[^:]+):(?P<value>.*)")
#: The end of a frame's header section as stomp.py finds it: ``\n\n`` or ``\r\n\r\n``.
PREAMBLE_END_RE: Final = re.compile(b"\n\n|\r\n\r\n")
#: A line end: ``\n`` or ``\r\n``.
LINE_END_RE: Final = re.compile("\n|\r\n")
#: What :func:`clean_lines` masks in text (:data:`stomp.log.PASSCODE_RE`): ``passcode:``,
#: optional blanks, then the run of characters up to a blank, a quote, or the ``\n``/``\r``
#: escape of a ``repr``.  (stomp.py required at least one blank after the colon, so it
#: never masked a real header line.)
PASSCODE_RE: Final = _log.PASSCODE_RE

# stomp.py's private escape tables and re.sub callback, kept for code that used them: the
# STOMP 1.2 escapes of a header character, and the character each escape stands for.
_HEADER_ESCAPES: Final = {"\\": "\\\\", "\n": "\\n", ":": "\\c", "\r": "\\r"}
_HEADER_UNESCAPES: Final = {escaped: char for char, escaped in _HEADER_ESCAPES.items()}


def _unescape_header(matchobj: re.Match[str]) -> str:
    # For re.sub over two-character escapes: the character, or the escape kept verbatim.
    escaped = matchobj.group(0)
    return _HEADER_UNESCAPES.get(escaped, escaped)


# ---------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------


def parse_headers(lines: Sequence[str], offset: int = 0) -> dict[str, str]:
    """Parse the header lines ``lines[offset:]`` into a dict.

    Each line is ``key:value``, split at its first colon.  Lines without a colon or with an
    empty key are ignored.  The first occurrence of a key wins.  Nothing is trimmed.  Keys
    and values are unescaped (``\\r``, ``\\n``, ``\\c``, ``\\\\``) whatever the protocol
    version, and an unknown escape such as ``\\t`` is kept verbatim, as stomp.py does.
    """
    return _codec.parse_header_lines(lines[offset:], "1.2", skip_malformed=True)


def _head_end(data: bytes) -> tuple[int, int]:
    # Where the header section ends (the first empty line, lines ending in LF or CR LF) and
    # where the body starts; (len, len) when there is no empty line.
    candidates = [(i, i + n) for i, n in ((data.find(b"\n\n"), 2), (data.find(b"\n\r\n"), 3))]
    found = [c for c in candidates if c[0] >= 0]
    if not found:
        return len(data), len(data)
    return min(found)


def parse_frame(frame: bytes | bytearray | memoryview) -> Frame | None:
    """Turn the bytes of one frame (without its NUL) into a :class:`Frame`.

    End-of-line bytes before the command are skipped; if nothing else is left the result is
    ``None``.  The header section ends at the first empty line (lines end with LF or CR LF);
    the body is every byte after it, as ``bytes`` (``content-length`` is not consulted: the
    caller has already cut the frame out of the stream).  Without an empty line the whole
    input is the header section and the body is ``b""``.  The command is the first line,
    verbatim; the other lines go through :func:`parse_headers`.
    """
    data = bytes(frame).lstrip(b"\r\n")
    if not data:
        return None
    head_end, body_start = _head_end(data)
    head = data[:head_end]
    if head.endswith(b"\r"):  # the CR of the last header line's CR LF
        head = head[:-1]
    lines = head.decode("utf-8", "replace").split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return Frame(lines[0], parse_headers(lines, 1), data[body_start:])


def convert_frame(frame: Frame) -> list[bytes]:
    """Serialise ``frame`` into a list of byte strings, one per line, then body and NUL.

    ``b"".join(convert_frame(frame))`` (see :func:`pack`) is the frame as
    :func:`stomp.codec.encode_frame` writes it without escaping: headers are expected to be
    escaped already (the protocol layer does that for STOMP 1.1 and 1.2).  As in stomp.py:
    header lines are sorted by name; ``None`` values are skipped; a tuple value writes one
    line per item; other values are written with ``str()``; a frame without a command is a
    heart-beat (``[b"\\n"]``); and when the body is not empty and ``frame.headers`` has a
    ``content-length`` key, that key is set to the body's length in bytes (an ``int``).

    Differences from stomp.py: ``bytes`` header values are decoded (stomp.py wrote
    ``b'...'``); ``content-length`` always matches the body (stomp.py left a stale value with
    an empty body), and one is added when the body contains a NUL, so the receiver cannot
    cut it short.

    Raises:
        FrameError: the frame cannot be written correctly, e.g. a header name or value
            contains an LF or CR, or a header name contains a colon.
        TypeError: the body is not ``str`` or bytes-like.
    """
    data = _codec.encode_frame(frame, "1.0")
    if not frame.cmd:
        return [data]
    # Header lines never contain an LF (the codec escapes or rejects it), so the first empty
    # line is the end of the header section.
    head_end = data.index(b"\n\n") + 1
    body = data[head_end + 1 : -1]
    if body and "content-length" in frame.headers:
        frame.headers["content-length"] = len(body)
    chunks = [line + b"\n" for line in data[: head_end - 1].split(b"\n")]
    chunks.append(b"\n")
    if body:
        chunks.append(body)
    chunks.append(NULL)
    return chunks


def pack(pieces: Iterable[bytes] = ()) -> bytes:
    """Join byte strings (such as the result of :func:`convert_frame`) into one."""
    return b"".join(pieces)


# ---------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------


def encode(char_data: str | bytes | bytearray | memoryview, encoding: str = "utf-8") -> bytes:
    """Return ``char_data`` as bytes: text is encoded (errors replaced), bytes kept as they are.

    ``bytearray`` and ``memoryview`` are accepted and copied to ``bytes`` (stomp.py rejects
    them).

    Raises:
        TypeError: ``message should be a string or bytes, found <type>`` for anything else,
            ``None`` included.
    """
    if char_data is None:
        raise TypeError(f"message should be a string or bytes, found {type(char_data)}")
    return _codec.body_bytes(char_data, encoding)


def decode(byte_data: bytes | None, encoding: str = "utf-8") -> str | None:
    """Return ``byte_data`` decoded to text (errors replaced), or ``None`` for ``None``."""
    if byte_data is None:
        return None
    return byte_data.decode(encoding, "replace")


def join(chars: Iterable[bytes] = ()) -> str:
    """Join byte strings and decode the result as UTF-8 (errors replaced)."""
    return b"".join(chars).decode("utf-8", "replace")


def length(s: Any) -> int:
    """Return ``len(s)``, or 0 for ``None``."""
    return 0 if s is None else len(s)


# ---------------------------------------------------------------------------------------
# Headers and heart-beats
# ---------------------------------------------------------------------------------------


def calculate_heartbeats(shb: Iterable[str | int], chb: Iterable[int]) -> tuple[int, int]:
    """Negotiate heart-beat intervals, in milliseconds.

    Args:
        shb: the server's ``heart-beat`` header values ``(sx, sy)``, as strings (or ints);
            any iterable of two values (a ``map`` or a generator too, as in stomp.py).
        chb: the client's own values ``(cx, cy)``, any iterable of two values.

    Returns:
        ``(x, y)``: ``x`` is how often the client must send (``max(cx, sy)``, or 0 if either
        is 0); ``y`` is how often the client may expect the server's (``max(cy, sx)``, or 0
        if either is 0).  Values are compared as numbers, so ``"00"`` means 0 (stomp.py
        compared with the string ``"0"``).

    Raises:
        ValueError: either argument does not hold exactly two integers.
    """
    sx, sy = (int(value) for value in shb)
    cx, cy = (int(value) for value in chb)
    return heartbeat.negotiate((cx, cy), (sx, sy))


def merge_headers(header_map_list: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Merge header maps into a new dict, later maps winning; ``None`` and empty maps skipped."""
    headers: dict[str, Any] = {}
    for header_map in header_map_list:
        if header_map:
            headers.update(header_map)
    return headers


_HeadersT = TypeVar("_HeadersT", bound=Mapping[str, Any])


def clean_headers(headers: _HeadersT) -> _HeadersT | dict[str, Any]:
    """Return ``headers`` fit for a log line: the passcode masked.

    With a ``passcode`` key, a shallow copy whose passcode is ``"********"``; without one,
    the very same object (not a copy), as in stomp.py.  (:func:`stomp.log.mask_passcode`.)
    """
    return _log.mask_passcode(headers)


def clean_lines(lines: object) -> str:
    """Return ``str(lines)`` with every passcode masked as ``passcode:********``.

    ``lines`` is typically the list of byte strings :func:`convert_frame` returns.  In each
    ``str`` or ``bytes`` item of a list or tuple, ``passcode:`` and the rest of its line are
    masked before ``str()`` is taken, so a passcode containing spaces or quotes is masked
    whole.  The text is then searched with :data:`PASSCODE_RE` for anything else.  Unlike
    stomp.py, which required a blank after the colon and so never masked a real header
    line, ``passcode:secret`` is masked too.  (:func:`stomp.log.mask_passcode_text`.)
    """
    return _log.mask_passcode_text(lines)


# ---------------------------------------------------------------------------------------
# Hosts (kept by stomp.failover)
# ---------------------------------------------------------------------------------------

if TYPE_CHECKING:
    #: The names under which this machine's own broker is reachable: ``"localhost"``,
    #: ``"127.0.0.1"``, then, unless the environment variable ``STOMP_SKIP_HOSTNAME_SCAN``
    #: is set to a non-empty value, this host's IP address, host name and fully qualified
    #: name, each only if its look-up succeeds (duplicates are kept).
    #:
    #: stomp.py fills it at import, which can hang ``import stomp`` on a slow resolver.
    #: Here it is filled on first use (reading ``stomp.utils.LOCALHOST_NAMES`` or calling
    #: :func:`is_localhost`), and the look-ups together may take at most
    #: :data:`HOSTNAME_SCAN_TIMEOUT` seconds.  It is an ordinary list: it may be changed
    #: or replaced (assigning ``stomp.utils.LOCALHOST_NAMES``), and the host order of
    #: every connection follows the current one (:func:`stomp.failover.localhost_names`).
    #: ``importlib.reload`` of this module forgets it, so it is computed again (as
    #: stomp.py's reload does).
    LOCALHOST_NAMES: list[str]
    #: How long, in seconds, the host-name look-ups behind :data:`LOCALHOST_NAMES` may take
    #: in all (:data:`stomp.failover.HOSTNAME_SCAN_TIMEOUT`; assigning it here sets that).
    #: A look-up still running then is abandoned (its thread is a daemon).
    HOSTNAME_SCAN_TIMEOUT: float


class _UtilsModule(ModuleType):
    # LOCALHOST_NAMES and HOSTNAME_SCAN_TIMEOUT are stomp.failover's state, read and
    # assigned through this module as stomp.py's users do.
    @property
    def LOCALHOST_NAMES(self) -> list[str]:
        return _failover.localhost_names()

    @LOCALHOST_NAMES.setter
    def LOCALHOST_NAMES(self, names: list[str]) -> None:
        _failover.set_localhost_names(names)

    @LOCALHOST_NAMES.deleter
    def LOCALHOST_NAMES(self) -> None:
        _failover.set_localhost_names(None)

    @property
    def HOSTNAME_SCAN_TIMEOUT(self) -> float:
        return _failover.HOSTNAME_SCAN_TIMEOUT

    @HOSTNAME_SCAN_TIMEOUT.setter
    def HOSTNAME_SCAN_TIMEOUT(self, seconds: float) -> None:
        _failover.HOSTNAME_SCAN_TIMEOUT = seconds


sys.modules[__name__].__class__ = _UtilsModule
_namespace.provide_utils(sys.modules[__name__])
_failover.set_localhost_names(None)  # (a reload computes the list again)


def is_localhost(host_and_port: Sequence[Any]) -> int:
    """Return 1 if the host of ``(host, port)`` is in :data:`LOCALHOST_NAMES` (an exact
    string match), else 2: a sort key that puts local brokers first."""
    return _failover.is_localhost(host_and_port)


# ---------------------------------------------------------------------------------------
# Miscellaneous
# ---------------------------------------------------------------------------------------


def get_uuid() -> str:
    """Return a new random UUID as a string (used for receipts and transaction ids)."""
    return _session.random_id()


def get_errno(e: BaseException) -> Any:
    """Return the ``errno`` of an exception, or its first argument if it has no ``errno``."""
    try:
        return e.errno  # type: ignore[attr-defined]
    except AttributeError:
        return e.args[0]


class PollableQueue(queue.Queue[Any]):
    """A :class:`queue.Queue` that can be watched with :mod:`selectors` or ``select``.

    It owns a connected socket pair (on Windows, :func:`socket.socketpair` makes a TCP
    loopback pair).  :meth:`fileno` is the read end, which is readable exactly when items
    are waiting: :meth:`put` enqueues then writes one byte, :meth:`get` dequeues then reads
    one byte.  Call :meth:`shutdown` to close the sockets.

    Unlike stomp.py, :meth:`get` dequeues before reading its byte, so ``get(block=False)``
    and ``get(timeout=...)`` behave as for any queue instead of blocking on the socket.
    The byte of an item is always written by the :meth:`put` that enqueued it, so the
    read that follows a successful dequeue never waits for long.  Each waiting item holds
    one byte in the socket buffer: a producer far ahead of its consumer (hundreds of
    thousands of items) blocks in :meth:`put` until the consumer catches up.
    """

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._putsocket, self._getsocket = socket.socketpair()

    def fileno(self) -> int:
        """The file descriptor to watch for readability (the read end of the pair)."""
        return self._getsocket.fileno()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Enqueue ``item`` (as :meth:`queue.Queue.put`), then signal it with one byte."""
        super().put(item, block, timeout)
        self._putsocket.sendall(b"x")

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Dequeue an item (as :meth:`queue.Queue.get`), then consume its byte."""
        item = super().get(block, timeout)
        self._getsocket.recv(1)
        return item

    def shutdown(self, immediate: bool = False) -> None:
        """Close both sockets (as in stomp.py; ``immediate`` is accepted and ignored).

        This is not Python 3.13's :meth:`queue.Queue.shutdown`: items may still be put and
        got afterwards only until the closed sockets make :meth:`put` or :meth:`get` fail.
        """
        self._putsocket.close()
        self._getsocket.close()
