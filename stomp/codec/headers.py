"""Headers: escaping and unescaping by version, and parsing header lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from stomp.exception import FrameError

__all__ = ["escape", "parse_header_lines", "unescape"]

_UNESCAPES_11: Final = {"\\": "\\", "n": "\n", "c": ":"}
_UNESCAPES_12: Final = {"\\": "\\", "n": "\n", "c": ":", "r": "\r"}
_UNESCAPES: Final[dict[str, dict[str, str] | None]] = {
    "1.0": None,
    "1.1": _UNESCAPES_11,
    "1.2": _UNESCAPES_12,
}


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
    # Undo the escapes of ``text`` in one left-to-right pass (chained replaces would turn
    # an escaped backslash followed by "n" into a backslash and an LF).  The decoder
    # replaces the common escapes inline before it comes to this.
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
