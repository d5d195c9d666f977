"""What the command-line client prints, and where.

:class:`Output` owns the client's streams: messages go to ``stdout``; everything else (the
frames that are not messages, notices, errors, the verbose echo) goes to ``stdout`` too,
or to ``stderr`` in JSON mode so that ``stdout`` stays one JSON object per line.  Writes
are serialised (the receiver thread prints frames while the shell prints command output),
and a reader that went away (``stomp ... | head``) closes the output quietly instead of
raising in whichever thread wrote.

The formatting itself is pure: :func:`frame_text` and :func:`json_line`.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from stomp.codec import Frame
from stomp.colours import BOLD, NO_COLOUR, RED
from stomp.log import mask_passcode

# An ANSI colour or style sequence (what stomp.colours writes).
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def body_text(body: Any) -> str:
    """A frame body (or anything) as text: bytes decoded as UTF-8, errors replaced."""
    if body is None:
        return ""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def frame_text(frame_type: str, frame: Frame, body: Any, verbose: bool, spaced: bool) -> str:
    """The lines that show a received frame (format: ``docs/cli.rst``).

    Verbose: the frame type and every header (the passcode masked); otherwise only the
    ``message-id`` and ``subscription`` headers.  ``spaced``: a blank line between the
    headers and the body (the shell does so; ``--listen`` does not).  ``body``: shown
    instead of the frame's own body when not ``None``.
    """
    if verbose:
        lines = [frame_type]
        lines.extend(f"{key}: {value}" for key, value in mask_passcode(frame.headers).items())
    else:
        lines = [
            f"{key}: {frame.headers[key]}"
            for key in ("message-id", "subscription")
            if key in frame.headers
        ]
    if spaced:
        lines.append("")
    lines.append(body_text(frame.body if body is None else body))
    return "\n".join(lines) + "\n"


def json_line(frame: Frame) -> str:
    """A message as one JSON object and a newline: ``headers``, ``body`` and
    ``body_encoding`` (``utf-8``, or ``base64`` for a body that is not UTF-8)."""
    body = frame.body
    if isinstance(body, (bytes, bytearray, memoryview)):
        raw = bytes(body)
        try:
            shown, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            shown, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    else:
        shown, encoding = body_text(body), "utf-8"
    record = {"headers": dict(frame.headers), "body": shown, "body_encoding": encoding}
    return json.dumps(record) + "\n"


def save_file(name: str, content: bytes) -> str:
    """Write a received file in the working directory and return the name used.

    Only the last component of ``name`` is used (a message must not write elsewhere); an
    existing file is never overwritten: ``.<unix time>`` (and ``.<n>``) is appended."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base in ("", ".", ".."):
        base = "received-file"
    candidates = [base, f"{base}.{int(time.time())}"]
    candidates += (f"{candidates[1]}.{n}" for n in range(1, 1000))
    for candidate in candidates:
        try:
            with open(candidate, "xb") as file:
                file.write(content)
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for {base}")


class Output:
    """The client's output streams.

    Args:
        stdout: where messages (and, without ``json_mode``, everything else) go.
        stderr: the other output in JSON mode (``None``: ``sys.stderr`` when written).
        json_mode: messages are JSON lines; everything else goes to ``stderr``.
        on_closed: called once when a write finds the reader gone.
        colour: write ANSI colours and bold; ``False`` strips them from everything.
        errors_to_stderr: write error lines to ``stderr`` rather than with the notices.
    """

    def __init__(
        self,
        stdout: IO[str],
        stderr: IO[str] | None = None,
        json_mode: bool = False,
        on_closed: Callable[[], object] | None = None,
        *,
        colour: bool = True,
        errors_to_stderr: bool = False,
    ) -> None:
        self.stdout = stdout
        self.json_mode = json_mode
        self.colour = colour
        self.errors_to_stderr = errors_to_stderr
        self._stderr = stderr
        self._on_closed = on_closed
        self._lock = threading.RLock()
        self._closed = False
        self._detached = False
        self._printed_frame = False

    @property
    def notices(self) -> IO[str]:
        """Where everything but messages goes: ``stderr`` in JSON mode, else ``stdout``."""
        if self.json_mode:
            return self._stderr if self._stderr is not None else sys.stderr
        return self.stdout

    @property
    def closed(self) -> bool:
        """Whether the reader of the output went away (nothing is written any more)."""
        return self._closed

    def write(self, chunk: str, stream: IO[str] | None = None) -> None:
        """Write and flush ``chunk`` to ``stream`` (default ``stdout``); nothing once the
        output is closed or detached."""
        with self._lock:
            if self._closed or self._detached:
                return
            target = stream if stream is not None else self.stdout
            if not self.colour and "\x1b" in chunk:
                chunk = _ANSI.sub("", chunk)
            try:
                target.write(chunk)
                target.flush()
            except (BrokenPipeError, ValueError):  # reader gone (| head), or stream closed
                self.mark_closed()

    def mark_closed(self) -> None:
        """Record that nobody reads the output any more (a write failed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._on_closed is not None:
            self._on_closed()

    def detach(self) -> None:
        """Write nothing from now on (the client has closed); waits for a write under
        way."""
        with self._lock:
            self._detached = True

    def notice(self, msg: Any) -> None:
        """A line of normal output."""
        self.write(f"{msg}\n", self.notices)

    def error(self, msg: Any) -> None:
        """A line of error output, in bold red (on ``stderr`` with ``errors_to_stderr``)."""
        stream = self.notices
        if self.errors_to_stderr:
            stream = self._stderr if self._stderr is not None else sys.stderr
        self.write(f"{BOLD}{RED}{msg}{NO_COLOUR}\n", stream)

    def frame(
        self,
        frame_type: str,
        frame: Frame,
        *,
        body: Any = None,
        verbose: bool,
        prompt: str,
        blank_first: bool = False,
        prompt_after: bool = True,
    ) -> None:
        """Show a received frame (messages on ``stdout``, the rest as notices).

        ``prompt``: the shell's prompt (``""`` for ``--listen``), written after the frame
        when ``prompt_after`` and a frame was shown before (the first one, CONNECTED, is
        followed by the shell's own prompt).
        """
        chunk = ("\n" if blank_first else "") + frame_text(
            frame_type, frame, body, verbose, spaced=bool(prompt)
        )
        stream = self.stdout if frame_type == "MESSAGE" else self.notices
        with self._lock:
            if self._printed_frame and prompt_after:
                chunk += prompt
            self._printed_frame = True
            self.write(chunk, stream)

    def message_json(self, frame: Frame) -> None:
        """Show a message as a JSON line on ``stdout``."""
        self.write(json_line(frame), self.stdout)
