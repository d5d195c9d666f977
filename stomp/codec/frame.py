"""Frames: the :class:`Frame` object, the protocol versions and the commands."""

from __future__ import annotations

from typing import Any, Final

from stomp.log import mask_passcode

__all__ = [
    "COMMANDS",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_HEADER_BYTES",
    "HEARTBEAT_FRAME",
    "UNESCAPED_COMMANDS",
    "VERSIONS",
    "Body",
    "Frame",
    "body_bytes",
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
        return f"{{cmd={self.cmd},headers=[{mask_passcode(self.headers)!r}],body={self.body!s}}}"

    def __repr__(self) -> str:
        return f"Frame({self.cmd!r}, {mask_passcode(self.headers)!r}, {self.body!r})"


def body_bytes(body: object, encoding: str = "utf-8") -> bytes:
    """A frame body as bytes: text encoded (characters ``encoding`` cannot write are
    replaced), bytes kept, ``bytearray`` and ``memoryview`` copied, ``None`` empty.

    Raises:
        TypeError: ``message should be a string or bytes, found <type>`` for anything else.
    """
    if type(body) is bytes:
        return body
    if isinstance(body, str):
        return body.encode(encoding, "replace")
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    raise TypeError(f"message should be a string or bytes, found {type(body)}")


#: The frame :class:`FrameDecoder` reports for every heart-beat EOL it receives.  One shared
#: object, as in stomp.py; compare with ``is``.
HEARTBEAT_FRAME: Final = Frame("heartbeat")


#: The commands of STOMP 1.0-1.2 (a set lookup spares the codec the validity checks).
COMMANDS: Final = frozenset(
    {
        "CONNECT", "STOMP", "CONNECTED", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
        "BEGIN", "COMMIT", "ABORT", "DISCONNECT", "MESSAGE", "RECEIPT", "ERROR",
    }
)  # fmt: skip
