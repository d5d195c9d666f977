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

Its parts, each a module of this package: :mod:`~stomp.codec.frame` (the :class:`Frame`,
versions, commands), :mod:`~stomp.codec.headers` (escaping, header lines),
:mod:`~stomp.codec.encode` and :mod:`~stomp.codec.decode`.
"""

from __future__ import annotations

from stomp.codec.decode import FrameDecoder
from stomp.codec.encode import encode_frame
from stomp.codec.frame import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_HEADER_BYTES,
    HEARTBEAT_FRAME,
    UNESCAPED_COMMANDS,
    VERSIONS,
    Frame,
    body_bytes,
)
from stomp.codec.headers import escape, parse_header_lines, unescape

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "HEARTBEAT_FRAME",
    "UNESCAPED_COMMANDS",
    "VERSIONS",
    "Frame",
    "FrameDecoder",
    "body_bytes",
    "encode_frame",
    "escape",
    "parse_header_lines",
    "unescape",
]
