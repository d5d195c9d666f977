"""The library's logging: one logger named ``"stomp.py"``, as in stomp.py.

Every record the library emits goes to ``logging.getLogger("stomp.py")`` or one of its
children (``"stomp.py.<module>"``, see :func:`getLogger`), so users filter and configure
on the name stomp.py users already know.  No handler is installed and the root logger is
not touched: by default only WARNING and above are shown, through Python's last-resort
handler.  :func:`log_to_stdout` is the quick way to see everything.

The module-level names (``debug``, ``info``, ``warning``, ``error``, ``isEnabledFor``,
``setLevel``) are bound methods of the ``"stomp.py"`` logger, as in stomp.py 9.0.0.
``stomp.logging`` (the 8.x name of this module) is an alias of this very module.

A passcode never reaches a log record or the client's output: :func:`mask_passcode` (for
headers) and :func:`mask_passcode_text` (for frames already written out) are the one place
it is hidden, for the whole library (``Frame``'s ``str`` and ``repr``, the listeners, the
transports' debug records, the broker, the command-line client).
"""

from __future__ import annotations

# An absolute import: this is the standard library's logging module, never stomp.logging.
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, Final, TypeVar

__all__ = [
    "DEBUG",
    "INFO",
    "LOGGER_NAME",
    "debug",
    "error",
    "getLogger",
    "info",
    "isEnabledFor",
    "log_to_stdout",
    "setLevel",
    "verbose",
    "warning",
]

#: The name of the library's logger.
LOGGER_NAME: Final = "stomp.py"

#: The standard ``logging.DEBUG`` level.
DEBUG: Final = logging.DEBUG
#: The standard ``logging.INFO`` level.
INFO: Final = logging.INFO

#: When true, some DEBUG and WARNING records also carry the exception's traceback.
#: Set by :func:`log_to_stdout`; may also be set directly (``stomp.log.verbose = True``).
verbose: bool = False

_logger: Final = logging.getLogger(LOGGER_NAME)

#: Log at DEBUG on the ``"stomp.py"`` logger (a bound method of it).
debug: Final = _logger.debug
#: Log at INFO on the ``"stomp.py"`` logger (a bound method of it).
info: Final = _logger.info
#: Log at WARNING on the ``"stomp.py"`` logger (a bound method of it).
warning: Final = _logger.warning
#: Log at ERROR on the ``"stomp.py"`` logger (a bound method of it).
error: Final = _logger.error
#: Whether the ``"stomp.py"`` logger handles records of a level (a bound method of it).
isEnabledFor: Final = _logger.isEnabledFor
#: Set the level of the ``"stomp.py"`` logger (a bound method of it).
setLevel: Final = _logger.setLevel

_STDOUT_FORMAT: Final = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
_stdout_handler: logging.Handler | None = None


def getLogger(name: str | None = None) -> logging.Logger:
    """Return the library's logger, or the child logger ``"stomp.py.<name>"``.

    The library's own modules log through children (``getLogger("transport")``), so their
    records still reach every handler and filter set on ``"stomp.py"``.
    """
    if not name:
        return _logger
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


def log_to_stdout(verbose_logging: bool = True) -> None:
    """Print every record of the library on standard output, and set :data:`verbose`.

    Adds a ``StreamHandler`` on ``sys.stdout`` at DEBUG, with the format
    ``%(asctime)s - %(name)s - %(levelname)s - %(message)s``, to the ``"stomp.py"`` logger
    and sets that logger's level to DEBUG.  Unlike stomp.py, calling it again does not add
    a second handler (which would print every line twice); it only updates :data:`verbose`.
    """
    global _stdout_handler, verbose
    if _stdout_handler is None or _stdout_handler not in _logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setLevel(DEBUG)
        handler.setFormatter(logging.Formatter(_STDOUT_FORMAT))
        _logger.addHandler(handler)
        _stdout_handler = handler
    _logger.setLevel(DEBUG)
    verbose = verbose_logging


# ---------------------------------------------------------------------------------------
# Passcodes
# ---------------------------------------------------------------------------------------

#: What a passcode is shown as.
MASK: Final = "********"

#: The passcode in text: ``passcode:``, optional blanks, then the run of characters up to a
#: blank, a quote, or the ``\n``/``\r`` escape of a ``repr`` (``stomp.utils.PASSCODE_RE``).
PASSCODE_RE: Final = re.compile(r"passcode:[ \t]*(?:[^\s'\"\\]|\\[^nr])+")

_MASKED_LINE: Final = "passcode:" + MASK
# In a raw line (not a repr), everything up to the line end is the passcode.
_PASSCODE_LINE_RE: Final = re.compile(r"passcode:[^\r\n]*")
_PASSCODE_LINE_RE_B: Final = re.compile(rb"passcode:[^\r\n]*")

_HeadersT = TypeVar("_HeadersT", bound=Mapping[str, Any])


def mask_passcode(headers: _HeadersT) -> _HeadersT | dict[str, Any]:
    """``headers`` fit for a log line: with a ``passcode`` key, a shallow copy (a ``dict``)
    whose passcode is :data:`MASK`; without one, the very same object."""
    if "passcode" not in headers:
        return headers
    return {**headers, "passcode": MASK}


def _mask_line(item: object) -> object:
    if isinstance(item, str):
        return _PASSCODE_LINE_RE.sub(_MASKED_LINE, item)
    if isinstance(item, bytes):
        return _PASSCODE_LINE_RE_B.sub(_MASKED_LINE.encode(), item)
    return item


def mask_passcode_text(lines: object) -> str:
    """``str(lines)`` with every passcode masked as ``passcode:********``.

    ``lines`` is typically a list of the byte strings of written frames.  In each ``str``
    or ``bytes`` item of a list or tuple, ``passcode:`` and the rest of its line are masked
    before ``str()`` is taken, so a passcode containing spaces or quotes is masked whole;
    the text is then searched with :data:`PASSCODE_RE` for anything else.
    """
    if isinstance(lines, list):
        lines = [_mask_line(item) for item in lines]
    elif isinstance(lines, tuple):
        lines = tuple(_mask_line(item) for item in lines)
    return PASSCODE_RE.sub(_MASKED_LINE, str(lines))


# ---------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------

#: The longest body (characters or bytes) a debug log line shows whole.
LOG_BODY_LIMIT: Final = 200


def shorten(body: Any, limit: int = LOG_BODY_LIMIT) -> Any:
    """A frame body fit for a log line: as it is up to ``limit`` characters (or bytes),
    else its first ``limit`` and a note of its length (``'abc...' (+1000 more)``)."""
    if isinstance(body, (str, bytes, bytearray)) and len(body) > limit:
        return _Shortened(body[:limit], len(body) - limit)
    return body


class _Shortened:
    # The %r of a shortened body: its start's repr, then how much was left out.
    __slots__ = ("_more", "_start")

    def __init__(self, start: Any, more: int) -> None:
        self._start = start
        self._more = more

    def __repr__(self) -> str:
        return f"{self._start!r}... (+{self._more} more)"

    __str__ = __repr__
