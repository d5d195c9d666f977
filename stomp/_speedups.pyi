# The optional C accelerator of stomp.codec.FrameDecoder (stomp/_speedups.c); internal.
from collections import deque
from collections.abc import Callable
from typing import Any

SCAN_VERSION: int

def scan(
    buf: bytes | bytearray,
    pos: int,
    frames: list[Any],
    after_frame: bool,
    escapes: int,
    max_header: int,
    max_body: int,
    auto_decode: bool,
    frame_new: Callable[[type], Any],
    frame_cls: type,
    heartbeat: Any,
    message_cls: type,
    message_shares: bool,
    /,
) -> tuple[int, bool, tuple[str, dict[str, str], int, int] | None]: ...
def route(
    frames: list[Any], subscriptions: dict[str, Any], message_cls: type, fed: list[Any], /
) -> int: ...

class MessageBase:
    """A base of stomp.aio.Message with the accelerator: its attributes as C fields."""

    cmd: str
    headers: dict[str, Any]
    original_headers: dict[str, Any]
    body: Any
    subscription: Any

class BufferBase:
    """The base of stomp.aio.Subscription with the accelerator."""

    _queue: deque[Any]
    _holding: bool
    def __anext__(self) -> Any: ...
