"""The command-line client: ``stomp`` and ``python -m stomp``.

:class:`StompCLI` is an interactive shell (a :class:`cmd.Cmd`) on one connection, and a
listener of that connection that prints the frames the broker sends.  :func:`main` parses
the command line (with docopt) and runs the shell, a script (``-F``) or a listener
(``--listen``).  The options, commands and outputs are those of stomp.py 9.0.0's client;
where stomp.py misbehaves this module does not (see ``docs/cli.rst``):

* a broker that cannot be reached or refuses the login gives one error line on stderr and
  exit status 1, never a traceback;
* every way out (``quit``, end of input, Ctrl-C, the end of a script or of ``--listen``)
  sends DISCONNECT and waits (bounded) for its receipt;
* a script sends its messages with receipts and waits for them before it ends;
* the passcode is never printed, not even in ``--verbose`` echoes of the frames sent;
* every command's usage error names the command.

No wait in this module is unbounded except the two that are the point of the program:
reading the next command, and ``--listen`` without ``--count``.
"""

from __future__ import annotations

import base64
import binascii
import cmd
import contextlib
import importlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import stomp
from stomp import heartbeat, utils
from stomp.codec import Frame
from stomp.colours import BOLD, GREEN, NO_COLOUR, RED
from stomp.connect import StompConnection10, StompConnection11, StompConnection12
from stomp.exception import ConnectFailedException, NotConnectedException
from stomp.listener import ConnectionListener, StatsListener

__all__ = ["StompCLI", "SubscriptionInfo", "do_nothing_loop", "heartbeat_pattern", "main"]

_log = logging.getLogger("stomp.py")

#: What ``--heartbeats`` must be: two integers and a comma, nothing else.
heartbeat_pattern = re.compile(r"^[0-9]+,[0-9]+\Z")

#: Seconds the client waits for the broker: to connect, for a receipt (``sendrec``, the
#: end of a script) and for the receipt of DISCONNECT.
TIMEOUT = 10.0

#: The readline history of the interactive shell (only when stdin is a terminal).
HISTORY_FILE = os.path.join("~", ".stomp_history")
_HISTORY_LENGTH = 1000

# Scripts may run scripts; one that runs itself stops here.
_MAX_SCRIPT_DEPTH = 20

USAGE = """\
Stomp.py command-line client

Usage:
    stomp [options]

Options:
    -h, --help                  Show this help and exit.
    --version                   Show the version (of the stomp.py API) and exit.
    -H, --host <host>           Hostname or IP address of the broker [default: localhost]
    -P, --port <port>           Port of the broker's STOMP listener [default: 61613]
    -U, --user <user>           Login (no login header is sent without it).
    -W, --password <password>   Passcode (never printed, not even with --verbose).
    --vhost <vhost>             Virtual host: the host header of CONNECT (RabbitMQ: /).
                                Without it STOMP 1.2 sends the host connected to,
                                which RabbitMQ refuses; 1.0 and 1.1 send none.
    -F, --file <filename>       Run the commands of this file instead of prompting;
                                its messages are sent with receipts, which are waited
                                for (10 s at most) before disconnecting.
    -S, --protocol <protocol version>
                                STOMP version: 1.0, 1.1 or 1.2 [default: 1.1]
    -L, --listen <queue>        Subscribe to this destination and print the messages
                                until interrupted (Ctrl-C).
    --count <n>                 With --listen: stop after n messages, then disconnect
                                and exit 0. The n messages are acknowledged one by one
                                (ack mode client-individual; client on 1.0), so the
                                broker keeps any it sent beyond them.
    --json                      With --listen: print each message as one JSON object
                                per line, {"headers": {...}, "body": ..., "body_encoding":
                                "utf-8" or "base64"}; a body that is not UTF-8 is given
                                in base64. Everything else goes to stderr.
    -V, --verbose               Print frame types, all headers and every frame sent.
    --heartbeats <heartbeats>   Heart-beats cx,cy in milliseconds (1.1 and 1.2)
                                [default: 0,0]
    --ssl                       Connect with TLS.
    --ssl-key-file <key-file>   Private key of the client certificate (PEM).
    --ssl-cert-file <cert-file>
                                Client certificate (PEM).
    --ssl-ca-file <ca-file>     CA certificates to verify the broker with (default:
                                the system's).
    --ssl-insecure              Do not verify the broker's certificate (tests only).

Interactive commands (type help <command> at the prompt):
    subscribe, unsubscribe, send, sendrec, sendreply, sendfile, ack, nack, begin,
    commit, abort (rollback), stats, run, version (ver), help, quit (exit, Ctrl-D).
    Tab completes command names and subscribed destinations; the history is kept in
    ~/.stomp_history when the input is a terminal.

Exit status:
    0 on success (also when --listen or the shell is left with Ctrl-C); 1 when the
    broker cannot be reached or refuses the login, on a bad option, when a -F script
    met an error or a missing receipt, or when --listen lost its connection;
    130 when a -F script was interrupted.
"""


@dataclass
class SubscriptionInfo:
    """A subscription made in the shell: its ``id`` and ``ack`` mode."""

    id: int
    ack: str


def do_nothing_loop() -> None:
    """Sleep forever, one second at a time (kept from stomp.py; the client does not use
    it)."""
    while True:
        time.sleep(1)


# What on_receipt does with a receipt the client asked for itself.
_SILENT = "silent"  # a script's SEND: printed only when verbose
_AWAITED = "awaited"  # sendrec: printed, without a prompt after it (the shell waits)


class StompCLI(cmd.Cmd, ConnectionListener):
    """The interactive client: a command shell on one STOMP connection.

    Constructing it connects (waiting for CONNECTED at most ``timeout`` seconds) and
    prints the frames the broker sends from then on.

    Args:
        host: broker host.
        port: broker port (an ``int``, or a ``str`` as the command line gives it).
        user: the ``login`` header (``None``: no header).
        passcode: the ``passcode`` header (``None``: no header); never printed.
        ver: ``"1.0"``, ``"1.1"``, ``"1.2"`` or ``"multicast"``; anything else raises
            ``RuntimeError("Unknown version")``.
        prompt: the shell's prompt, also written after each frame printed; ``""`` for
            ``--listen``.
        verbose: print every header of the frames received and echo the frames sent
            (the passcode masked).
        heartbeats: ``(cx, cy)`` in milliseconds, for 1.1 and 1.2.
        use_ssl: connect with TLS.
        ssl_key_file: client key file.
        ssl_cert_file: client certificate file.
        ssl_ca_file: CA file to verify the broker with.
        ssl_insecure: do not verify the broker's certificate.
        stdin: where commands are read from (default ``sys.stdin``; giving another stream
            reads it line by line, without readline).
        stdout: where the output goes (default ``sys.stdout``).
        vhost: the ``host`` header of CONNECT (``None``: see ``--vhost``).
        json_output: print messages as JSON lines (``--json``); every other output then
            goes to ``stderr``.
        stderr: the stream for that other output (default ``sys.stderr``).
        timeout: seconds to wait for CONNECTED, for receipts and for DISCONNECT.

    Raises:
        ConnectFailedException: the broker could not be reached or refused the login.
        RuntimeError: ``ver`` is unknown.
    """

    doc_header = "Documented commands (type help <topic>):"

    def __init__(
        self,
        host: str = "localhost",
        port: int | str = 61613,
        user: str | None = "",
        passcode: str | None = "",
        ver: str = "1.1",
        prompt: str = "> ",
        verbose: bool = True,
        heartbeats: tuple[int, int] = (0, 0),
        use_ssl: bool = False,
        ssl_key_file: str | None = None,
        ssl_cert_file: str | None = None,
        ssl_ca_file: str | None = None,
        ssl_insecure: bool = False,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        *,
        vhost: str | None = None,
        json_output: bool = False,
        stderr: IO[str] | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        cmd.Cmd.__init__(self, "Tab", stdin, stdout)
        if stdin is not None and stdin is not sys.stdin:
            self.use_rawinput = False  # cmd reads sys.stdin through input() otherwise
        self.prompt = prompt
        self.verbose = verbose
        self.version = ver
        try:
            self.nversion = float(ver)
        except ValueError:
            self.nversion = 1.0
        self.transaction_id: str | None = None
        self.subscriptions: dict[str, SubscriptionInfo] = {}
        self.receipt_timeout = timeout
        #: Error lines printed and ERROR frames received so far (``-F`` exits 1 if any).
        self.error_count = 0
        self._next_subscription_id = 1
        self._json = json_output
        self._stderr = stderr
        self._quitting = False
        self._connecting = True
        self._printed_once = False
        self._output_lock = threading.RLock()
        self._output_closed = False
        self._detached = False
        self._receipts = threading.Condition()
        self._pending: dict[str, str] = {}  # receipt id -> _SILENT or _AWAITED
        self._lost = False
        self._script_depth = 0
        self._history: str | None = None
        self._refusal: Frame | None = None
        self._listen_limit: int | None = None
        self._listen_ack = "auto"
        self._listen_seen = 0
        self._listen_done = threading.Event()

        self.conn: Any = _make_connection(host, port, ver, heartbeats, vhost, json_output, timeout)
        if use_ssl:
            self.conn.set_ssl(
                [(host, port)],
                key_file=ssl_key_file,
                cert_file=ssl_cert_file,
                ca_certs=ssl_ca_file,
                verify=not ssl_insecure,
            )
        self.conn.set_listener("", self)
        connect_headers = {"host": vhost} if vhost and ver == "1.0" else {}
        try:
            self.conn.connect(user, passcode, wait=True, headers=connect_headers)
        except BaseException as exc:
            self.close()  # silent from now on, and no thread left behind
            if isinstance(exc, ConnectFailedException):
                raise ConnectFailedException(self._refusal_text(exc, host, port)) from exc
            raise
        self._connecting = False

    # -- output ---------------------------------------------------------------------------

    @property
    def _notices(self) -> IO[str]:
        # Where everything but messages goes: stderr in JSON mode, so stdout stays JSON.
        if self._json:
            return self._stderr if self._stderr is not None else sys.stderr
        return self.stdout

    def _write(self, text: str, stream: IO[str] | None = None) -> None:
        with self._output_lock:
            if self._output_closed or self._detached:
                return
            target = stream if stream is not None else self.stdout
            try:
                target.write(text)
                target.flush()
            except (BrokenPipeError, ValueError):  # reader gone (| head), or stream closed
                self._output_closed = True
                self._listen_done.set()

    def _out(self, msg: Any) -> None:
        """Normal output (nothing once quitting)."""
        if not self._quitting:
            self._write(f"{msg}\n", self._notices)

    def _error(self, msg: Any) -> None:
        """Error output, in bold red (also when quitting)."""
        self.error_count += 1
        self._write(f"{BOLD}{RED}{msg}{NO_COLOUR}\n", self._notices)

    def _print_frame(
        self,
        frame_type: str,
        frame: Frame,
        body: Any = None,
        blank_first: bool = False,
        prompt: bool = True,
    ) -> None:
        # The one routine that prints received frames (format: docs/cli.rst).
        if self._quitting:
            return
        lines = [""] if blank_first else []
        if self.verbose:
            lines.append(frame_type)
            lines.extend(
                f"{key}: {value}" for key, value in utils.clean_headers(frame.headers).items()
            )
        else:
            lines.extend(
                f"{key}: {frame.headers[key]}"
                for key in ("message-id", "subscription")
                if key in frame.headers
            )
        if self.prompt:
            lines.append("")
        lines.append(_text(frame.body if body is None else body))
        text = "\n".join(lines) + "\n"
        stream = self._notices if frame_type != "MESSAGE" else self.stdout
        with self._output_lock:
            if self._printed_once and prompt:
                text += self.prompt
            self._printed_once = True
            self._write(text, stream)

    def _print_json(self, frame: Frame) -> None:
        body = frame.body
        if isinstance(body, (bytes, bytearray, memoryview)):
            raw = bytes(body)
            try:
                text, encoding = raw.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
        else:
            text, encoding = _text(body), "utf-8"
        record = {"headers": dict(frame.headers), "body": text, "body_encoding": encoding}
        self._write(json.dumps(record) + "\n", self.stdout)

    # -- listener callbacks -----------------------------------------------------------------

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Print nothing."""

    def on_connected(self, frame: Frame) -> None:
        """Print the CONNECTED frame."""
        if not self._json:
            self._print_frame("CONNECTED", frame)

    def on_message(self, frame: Frame) -> None:
        """Print a message (saving the file of a ``sendfile`` message first); with
        ``--listen --count``, acknowledge and count it."""
        limit = self._listen_limit
        if self._quitting or (limit is not None and self._listen_seen >= limit):
            return
        if self._json:
            self._print_json(frame)
        else:
            self._print_frame("MESSAGE", frame, body=self._file_body(frame), blank_first=True)
        if limit is not None:
            if self._listen_ack != "auto":
                self._ack_message(frame)
            self._listen_seen += 1
            if self._listen_seen >= limit:
                self._listen_done.set()

    def on_error(self, frame: Frame) -> None:
        """Print an ERROR frame (one refusing the connection is kept for the exception)."""
        self.error_count += 1
        if self._connecting:
            self._refusal = frame
        else:
            self._print_frame("ERROR", frame)
        self._settle_receipt(frame.headers.get("receipt-id"))  # a SEND the broker refused

    def on_receipt(self, frame: Frame) -> None:
        """Print a RECEIPT frame, and wake whoever waits for it."""
        receipt_id = frame.headers.get("receipt-id")
        with self._receipts:
            kind = self._pending.get(receipt_id) if receipt_id is not None else None
        if kind != _SILENT or self.verbose:
            self._print_frame("RECEIPT", frame, prompt=kind != _AWAITED)
        self._settle_receipt(receipt_id)

    def on_disconnected(self) -> None:
        """Say ``lost connection`` (unless quitting), and stop every wait."""
        if not self._quitting and not self._connecting:
            self._error("lost connection")
        with self._receipts:
            self._lost = True
            self._receipts.notify_all()
        self._listen_done.set()

    def on_send(self, frame: Frame) -> None:
        """With ``verbose``, echo the frame (the passcode masked; heart-beats skipped)."""
        if self.verbose and frame.cmd is not None:  # also when quitting: DISCONNECT shows
            shown = Frame(frame.cmd, dict(utils.clean_headers(frame.headers)), frame.body)
            self._write(f"Sending {shown}\n", self._notices)

    # -- helpers ----------------------------------------------------------------------------

    def _refusal_text(self, exc: Exception, host: str, port: Any) -> str:
        # One line: who refused, the ERROR's message header and the first line of its body.
        frame = self._refusal
        if frame is None:
            return " ".join(str(exc).split())
        message = str(frame.headers.get("message", "")).strip()
        body = _text(frame.body).strip().splitlines()
        text = f"{host}:{port} refused the connection: {message or 'ERROR frame'}"
        if body and body[0].strip() != message:
            text += f" ({body[0].strip()})"
        return " ".join(text.split())

    def _file_body(self, frame: Frame) -> Any:
        # A sendfile message: save the file, show where.  None: print the body as is.
        name = frame.headers.get("filename")
        if not name:
            return None
        try:
            content = base64.b64decode(_text(frame.body), validate=False)
        except (binascii.Error, ValueError) as exc:
            self._error(f"Cannot decode file {name}: {exc}")
            return None
        try:
            saved = _save_file(name, content)
        except OSError as exc:
            self._error(f"Cannot save file {name}: {exc}")
            return None
        return f"Saved file: {saved}"

    def _ack_message(self, frame: Frame) -> None:
        headers = frame.headers
        if self.nversion >= 1.2:
            self.conn.ack(headers.get("ack", headers.get("message-id")))
        elif self.version == "1.1":
            self.conn.ack(headers.get("message-id"), headers.get("subscription"))
        else:
            self.conn.ack(headers.get("message-id"))

    def _transaction(self) -> dict[str, str]:
        return {"transaction": self.transaction_id} if self.transaction_id else {}

    def _expect_receipt(self, kind: str) -> str:
        receipt_id = utils.get_uuid()
        with self._receipts:
            self._pending[receipt_id] = kind
        return receipt_id

    def _settle_receipt(self, receipt_id: str | None) -> None:
        if receipt_id is None:
            return
        with self._receipts:
            if self._pending.pop(receipt_id, None) is not None:
                self._receipts.notify_all()

    def _wait_receipts(self, receipt_ids: Iterable[str], timeout: float) -> set[str]:
        """Wait until none of ``receipt_ids`` is pending (or the connection is gone, or
        ``timeout`` passed); forget and return those still missing."""
        wanted = set(receipt_ids)
        with self._receipts:
            self._receipts.wait_for(
                lambda: self._lost or not wanted & self._pending.keys(), timeout
            )
            missing = wanted & self._pending.keys()
            for receipt_id in missing:
                del self._pending[receipt_id]
        return missing

    def _send(self, destination: str, body: str, headers: dict[str, Any]) -> None:
        # Every SEND of the shell: with a receipt to wait for when inside a script.
        headers.update(self._transaction())
        if self._script_depth and "receipt" not in headers:
            headers["receipt"] = self._expect_receipt(_SILENT)
        try:
            self.conn.send(destination, body, headers=headers)
        except BaseException:
            self._settle_receipt(headers.get("receipt"))
            raise

    def _finish_script(self) -> None:
        with self._receipts:
            script_receipts = [r for r, kind in self._pending.items() if kind == _SILENT]
        if not script_receipts:
            return
        missing = self._wait_receipts(script_receipts, self.receipt_timeout)
        if missing and self._lost:
            self._error(
                f"Connection lost before the receipts of {len(missing)} message(s) sent by the script"
            )
        elif missing:
            self._error(
                f"No receipt within {self.receipt_timeout:g} s for {len(missing)} message(s) sent by the script"
            )

    def close(self) -> None:
        """Leave: stop printing, send DISCONNECT and wait (bounded) for its receipt and for
        the connection's threads; nothing is written to the output afterwards."""
        self._quitting = True
        try:
            # (when it returns, the connection's threads have ended, their callbacks too)
            self.conn.disconnect()
        except Exception as exc:  # the connection is going away anyway
            _log.debug("disconnect failed: %s", exc)
        with self._output_lock:
            self._detached = True

    @property
    def connection_lost(self) -> bool:
        """Whether the connection has ended."""
        return self._lost

    # -- listen mode ------------------------------------------------------------------------

    def listen(self, destination: str, count: int | None = None) -> None:
        """Subscribe to ``destination`` for ``--listen`` (``ack`` auto; with ``count``,
        ``client-individual`` — ``client`` on 1.0 — and each of the ``count`` messages
        printed is acknowledged).  Wait with :meth:`wait_listen`."""
        self._listen_limit = count
        self._listen_seen = 0
        if count is not None:
            self._listen_ack = "client" if self.nversion < 1.1 else "client-individual"
        self._subscribe(destination, self._listen_ack)

    def wait_listen(self, timeout: float | None = None) -> bool:
        """Wait until ``--listen`` is over: ``count`` messages printed, the connection
        lost, or the output closed.  Returns whether it is over."""
        return self._listen_done.wait(timeout)

    @property
    def messages_received(self) -> int:
        """Messages printed in listen mode (counted only with a ``count``)."""
        return self._listen_seen

    # -- cmd.Cmd machinery ------------------------------------------------------------------

    def onecmd(self, line: str) -> bool:
        """Run one command line; an exception is printed as an error naming the command."""
        try:
            return bool(super().onecmd(line))
        except NotConnectedException:
            self._error(f"{_command_name(line)}: not connected to the broker")
        except Exception as exc:
            self._error(f"{_command_name(line)}: {exc}")
        return False

    def postcmd(self, stop: bool, line: str) -> bool:
        """End the shell after ``quit``, or when nobody reads the output any more."""
        return bool(stop) or self._output_closed

    def emptyline(self) -> bool:
        """An empty line does nothing (it does not repeat the last command)."""
        return False

    def default(self, line: str) -> None:
        """An unknown command is an error."""
        self._error(f"Unknown command: {_command_name(line)}")

    def _complete_destination(
        self, text: str, line: str, begidx: int = 0, endidx: int | None = None
    ) -> list[str]:
        # Subscribed destinations, for the first argument only.  The whole word under the
        # cursor is matched, whatever readline counts as word delimiters ('/' by default).
        # (cmd passes four arguments; stomp.py's signature has the first two.)
        head = line if endidx is None else line[:endidx]
        words = head.split()
        word = words[-1] if words and not head[-1].isspace() else ""
        if len(words) - (1 if word else 0) != 1:
            return []
        cut = len(word) - len(text)
        return [dest[cut:] for dest in sorted(self.subscriptions) if dest.startswith(word)]

    def completenames(self, text: str, *ignored: Any) -> list[str]:
        """Command names starting with ``text``, each followed by a space."""
        return [name + " " for name in super().completenames(text, *ignored)]

    def complete_help(self, *args: Any) -> list[str]:
        """Help topics (command names) starting with the text."""
        return sorted({name.rstrip() for name in super().complete_help(*args)})

    complete_send = _complete_destination
    complete_sendrec = _complete_destination
    complete_sendreply = _complete_destination
    complete_sendfile = _complete_destination
    complete_unsubscribe = _complete_destination

    def enable_history(self, path: str = HISTORY_FILE) -> None:
        """Use readline for the shell: load the history from ``path`` and complete
        whole destinations.  Errors (no readline, unreadable file) are ignored."""
        try:
            import readline
        except ImportError:
            return
        self._history = os.path.expanduser(path)
        with contextlib.suppress(OSError):
            readline.read_history_file(self._history)
        readline.set_history_length(_HISTORY_LENGTH)
        readline.set_completer_delims(" \t\n")
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")

    def save_history(self) -> None:
        """Write the readline history back (private to the user); errors ignored."""
        path = self._history
        if path is None:
            return
        try:
            import readline

            readline.write_history_file(path)
            os.chmod(path, 0o600)
        except (ImportError, OSError):
            pass

    # -- commands ---------------------------------------------------------------------------

    def _subscribe(self, destination: str, ack: str) -> None:
        if destination in self.subscriptions:
            self._error(f"Already subscribed to {destination}")
            return
        sub_id = self._next_subscription_id
        self._next_subscription_id += 1
        self._out(
            f"Subscribing to '{destination}' with acknowledge set to '{ack}', id set to '{sub_id}'"
        )
        self.subscriptions[destination] = SubscriptionInfo(sub_id, ack)
        try:
            self.conn.subscribe(destination=destination, ack=ack, id=sub_id)
        except BaseException:
            del self.subscriptions[destination]
            raise

    def do_subscribe(self, args: str) -> None:
        """Subscribe to a destination."""
        words = args.split()
        if not words:
            self._error("Expecting: subscribe <destination> [ack]")
            return
        self._subscribe(words[0], words[1] if len(words) > 1 else "auto")

    def help_subscribe(self) -> None:
        self.help(
            "subscribe <destination> [ack]",
            "Subscribe to a destination; its messages are printed as they arrive.",
            required=[("destination", "the name to receive messages from")],
            optional=[
                ("ack", "how to acknowledge them: auto (the default), client or client-individual")
            ],
        )

    def do_unsubscribe(self, args: str) -> None:
        """Stop a subscription."""
        words = args.split()
        if not words:
            self._error("Expecting: unsubscribe <destination>")
            return
        destination = words[0]
        info = self.subscriptions.get(destination)
        if info is None:
            self._out(f"Subscription {destination} not found")
            return
        self._out(f"Unsubscribing from '{destination}'")
        self.conn.unsubscribe(destination=destination, id=info.id)
        del self.subscriptions[destination]

    def help_unsubscribe(self) -> None:
        self.help(
            "unsubscribe <destination>",
            "Stop the subscription to a destination made with subscribe.",
            required=[("destination", "the destination given to subscribe")],
        )

    def do_send(self, args: str) -> None:
        """Send a message."""
        words = args.split()
        if len(words) < 2:
            self._error("Expecting: send <destination> <message>")
            return
        self._send(words[0], " ".join(words[1:]), {})

    def help_send(self) -> None:
        self.help(
            "send <destination> <message>",
            "Send a message (in the open transaction, if any).",
            required=[
                ("destination", "where to send it"),
                ("message", "the text (the rest of the line)"),
            ],
        )

    def do_sendrec(self, args: str) -> None:
        """Send a message and wait for its receipt."""
        words = args.split()
        if len(words) < 2:
            self._error("Expecting: sendrec <destination> <message>")
            return
        receipt_id = self._expect_receipt(_AWAITED)
        self._send(words[0], " ".join(words[1:]), {"receipt": receipt_id})
        if self._wait_receipts([receipt_id], self.receipt_timeout):
            if self._lost:
                self._error(f"Connection lost before receipt {receipt_id}")
            else:
                self._error(f"No receipt {receipt_id} within {self.receipt_timeout:g} s")

    def help_sendrec(self) -> None:
        self.help(
            "sendrec <destination> <message>",
            "Send a message with a receipt header and block until the broker's RECEIPT"
            f" arrives ({TIMEOUT:g} s at most).",
            required=[
                ("destination", "where to send it"),
                ("message", "the text (the rest of the line)"),
            ],
        )

    def do_sendreply(self, args: str) -> None:
        """Send a reply, with a correlation-id header."""
        words = args.split()
        if len(words) < 3:
            self._error("Expecting: sendreply <destination> <correlation-id> <message>")
            return
        self._send(words[0], " ".join(words[2:]) + "\n", {"correlation-id": words[1]})

    def help_sendreply(self) -> None:
        self.help(
            "sendreply <destination> <correlation-id> <message>",
            "Send a reply: a message with a correlation-id header (in the open transaction, if any).",
            required=[
                ("destination", "where to send it"),
                ("correlation-id", "the correlation-id header of the reply"),
                ("message", "the text (the rest of the line)"),
            ],
        )

    def do_sendfile(self, args: str) -> None:
        """Send a file, base64-encoded."""
        words = args.split()
        if not 2 <= len(words) <= 3:
            self._error("Expecting: sendfile <destination> <filename> [headers.json]")
            return
        destination, filename = words[0], words[1]
        if not os.path.isfile(filename):
            self._error(f"File {filename} does not exist")
            return
        headers: dict[str, Any] = {}
        if len(words) == 3:
            loaded = self._load_headers(words[2])
            if loaded is None:
                return
            headers = {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in loaded.items()
            }
        with open(filename, "rb") as file:
            content = file.read()
        headers["filename"] = filename
        self._send(destination, base64.b64encode(content).decode("ascii"), headers)

    def _load_headers(self, path: str) -> dict[str, Any] | None:
        if not os.path.isfile(path):
            self._error(f"File {path} does not exist")
            return None
        self._out(f"Loading {path}")
        try:
            with open(path, encoding="utf-8") as file:
                loaded = json.load(file)
        except (OSError, ValueError) as exc:
            self._error(f"Cannot read headers from {path}: {exc}")
            return None
        if not isinstance(loaded, dict):
            self._error(f"Cannot read headers from {path}: not a JSON object")
            return None
        self._out(f"Using headers {loaded}")
        return loaded

    def help_sendfile(self) -> None:
        self.help(
            "sendfile <destination> <filename> [headers.json]",
            "Send a file as a base64 message with a filename header; a client subscribed"
            " with this shell saves it in its working directory.",
            required=[("destination", "where to send it"), ("filename", "the file to send")],
            optional=[("headers.json", "a file holding a JSON object of extra headers")],
        )

    def do_version(self, args: str) -> None:
        """Show the versions."""
        version = stomp.__version__
        if isinstance(version, tuple):
            version = ".".join(str(part) for part in version)
        self._out(f"{BOLD}{version} [Protocol version {self.conn.version}]{NO_COLOUR}")

    do_ver = do_version

    def help_version(self) -> None:
        self.help("version", "Show the stomp.py API version and the STOMP protocol version in use.")

    help_ver = help_version

    def _acknowledge(self, command: str, args: str) -> None:
        # ack and nack.
        if command == "nack" and self.nversion < 1.1:
            self._error("nack is not available in STOMP 1.0 (connect with -S 1.1 or -S 1.2)")
            return
        self.check_ack_nack(getattr(self.conn, command), args)

    def check_ack_nack(self, acknackfunc: Any, args: str | Iterable[str]) -> None:
        """Call ``acknackfunc`` (the connection's ``ack`` or ``nack``) with the arguments
        the protocol version needs, taken from ``args`` (the command's argument text or a
        list of words); print a usage error instead when they are missing."""
        words = args.split() if isinstance(args, str) else list(args)
        command = getattr(acknackfunc, "__name__", "ack")
        if self.nversion >= 1.2:
            if not words:
                self._error(f"Expecting: {command} <ack-id>")
                return
        elif self.version == "1.1":
            if len(words) < 2:
                self._error(f"Expecting: {command} <message-id> <subscription-id>")
                return
        elif not words:
            self._error(f"Expecting: {command} <message-id>")
            return
        if self.version == "1.1":
            acknackfunc(words[0], words[1], **self._transaction())
        else:
            acknackfunc(words[0], **self._transaction())

    def do_ack(self, args: str) -> None:
        """Acknowledge a message."""
        self._acknowledge("ack", args)

    def help_ack(self) -> None:
        self.help(
            "ack <message-id> [subscription-id]",
            "Acknowledge a message received on a subscription with ack mode client or"
            " client-individual. STOMP 1.0: ack <message-id>; 1.1: ack <message-id>"
            " <subscription-id>; 1.2: ack <ack-id> (the message's ack header).",
            required=[("message-id", "the message's message-id (1.2: its ack header)")],
            optional=[("subscription-id", "the message's subscription header (needed by 1.1)")],
        )

    def do_nack(self, args: str) -> None:
        """Tell the broker a message was not processed (STOMP 1.1 and 1.2)."""
        self._acknowledge("nack", args)

    def help_nack(self) -> None:
        self.help(
            "nack <message-id> [subscription]",
            "Tell the broker a message was not processed (STOMP 1.1 and 1.2); arguments as for ack.",
            required=[("message-id", "the message's message-id (1.2: its ack header)")],
            optional=[("subscription", "the message's subscription header (needed by 1.1)")],
        )

    def do_begin(self, args: str) -> None:
        """Begin a transaction."""
        if self.transaction_id:
            self._error(f"Currently in a transaction ({self.transaction_id})")
            return
        self.transaction_id = self.conn.begin()
        self._out(f"Transaction id: {self.transaction_id}")

    def help_begin(self) -> None:
        self.help(
            "begin",
            "Begin a transaction: the sends, acks and nacks that follow take effect at"
            " commit, or not at all after abort.",
        )

    def do_commit(self, args: str) -> None:
        """Commit the open transaction."""
        if not self.transaction_id:
            self._error("Not currently in a transaction")
            return
        self._out(f"Committing {self.transaction_id}")
        self.conn.commit(transaction=self.transaction_id)
        self.transaction_id = None

    def help_commit(self) -> None:
        self.help("commit", "Commit the open transaction.")

    def do_abort(self, args: str) -> None:
        """Abort the open transaction."""
        if not self.transaction_id:
            self._error("Not currently in a transaction")
            return
        self.conn.abort(transaction=self.transaction_id)
        self._out(f"Aborted transaction: {self.transaction_id}")
        self.transaction_id = None

    do_rollback = do_abort

    def help_abort(self) -> None:
        self.help("abort", "Abort (roll back) the open transaction.")

    help_rollback = help_abort

    def do_stats(self, args: str) -> None:
        """Show, start or stop the connection statistics."""
        words = args.split()
        if not words:
            stats = self.conn.get_listener("stats")
            if stats is None:
                self._error("No stats available")
            else:
                self._out(stats)
        elif words[0] == "on":
            self.conn.set_listener("stats", StatsListener())
        elif words[0] == "off":
            if self.conn.get_listener("stats") is None:
                self._error("Stats are not on")
            else:
                self.conn.remove_listener("stats")
        else:
            self._error("Expecting: stats [on|off]")

    def help_stats(self) -> None:
        self.help(
            "stats [on|off]",
            "Count frames from now on (on), stop (off), or show the counts (no argument).",
            optional=[("on|off", "start or stop counting")],
        )

    def do_run(self, args: str) -> bool:
        """Run the commands of a file."""
        filename = args.strip()
        if not filename:
            self._error("Expecting: run <filename>")
            return False
        if not os.path.exists(filename):
            self._error(f"File {filename} was not found")
            return False
        if self._script_depth >= _MAX_SCRIPT_DEPTH:
            self._error(f"run: scripts nested more than {_MAX_SCRIPT_DEPTH} deep")
            return False
        try:
            with open(filename, encoding="utf-8") as file:
                lines = file.read().split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            self._error(f"Cannot read {filename}: {exc}")
            return False
        self._script_depth += 1
        try:
            stop = self._run_lines(lines)
        finally:
            self._script_depth -= 1
        if not self._script_depth:
            self._finish_script()
        return stop

    def _run_lines(self, lines: Iterable[str]) -> bool:
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if self.onecmd(line):
                return True  # quit: the script and the shell end
        return False

    def help_run(self) -> None:
        self.help(
            "run <filename>",
            "Run the commands of a file, one per line (blank lines and lines starting with"
            " # are skipped), then wait for the receipts of the messages it sent. quit ends it.",
            required=[("filename", "the file of commands")],
        )

    def do_quit(self, args: str = "") -> bool:
        """Leave the client."""
        self._out("Shutting down, please wait")
        self._quitting = True
        return True

    def do_exit(self, args: str = "") -> bool:
        """Leave the client."""
        return self.do_quit(args)

    def do_EOF(self, args: str = "") -> bool:
        """Leave the client (end of input, Ctrl-D)."""
        return self.do_quit(args)

    def help_quit(self) -> None:
        self.help("exit", "Disconnect and leave the client (also exit, quit, Ctrl-D and Ctrl-C).")

    help_exit = help_quit
    help_EOF = help_quit

    def help_help(self) -> None:
        self._out("Quick help on commands")

    def help(
        self,
        usage: str,
        description: str,
        required: Iterable[tuple[str, str]] = (),
        optional: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Print a help block: usage, required and optional parameters (``(name,
        description)`` pairs), description (the format of stomp.py's ``help_*``)."""

        def heading(title: str) -> str:
            return f"{BOLD}{GREEN}{title}{NO_COLOUR}"

        lines = [heading("Usage:"), f"\t{usage}", ""]
        for title, params in (
            ("Required Parameters:", required),
            ("Optional Parameters:", optional),
        ):
            params = list(params)
            if params:
                lines.append(heading(title))
                lines.extend(f"\t{name} - {text}" for name, text in params)
                lines.append("")
        lines += [heading("Description:"), f"\t{description}", " " * 8]
        for line in lines:
            self._out(line)


# -- module helpers -------------------------------------------------------------------------


def _make_connection(
    host: str,
    port: Any,
    ver: str,
    heartbeats: tuple[int, int],
    vhost: str | None,
    raw: bool,
    timeout: float,
) -> Any:
    hosts = [(host, port)]
    options: dict[str, Any] = {"timeout": timeout, "auto_decode": not raw}
    if ver == "1.0":
        return StompConnection10(hosts, **options)
    if ver == "1.1":
        return StompConnection11(hosts, heartbeats=heartbeats, vhost=vhost, **options)
    if ver == "1.2":
        return StompConnection12(hosts, heartbeats=heartbeats, vhost=vhost, **options)
    if ver == "multicast":
        try:
            module = importlib.import_module("stomp.adapter.multicast")
        except ImportError as exc:
            raise RuntimeError("multicast is not available in this installation") from exc
        return module.MulticastConnection()
    raise RuntimeError("Unknown version")


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body).decode("utf-8", errors="replace")
    return str(body)


def _command_name(line: str) -> str:
    words = line.split()
    return words[0] if words else line


def _save_file(name: str, content: bytes) -> str:
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


# -- main -----------------------------------------------------------------------------------


class _UsageError(Exception):
    """A bad command line: one line for stderr."""


def _parse(argv: list[str] | None) -> dict[str, Any] | int:
    """The options as a dict, or the exit status when docopt printed help or a version."""
    from docopt import DocoptExit, docopt

    try:
        return dict(docopt(USAGE, argv, version=str(_api_version())))
    except DocoptExit as exc:
        message = str(exc).split("\n", 1)[0]
        unmatched = re.findall(r"'([^']+)'", message) if "unmatched" in message else []
        if unmatched:
            message = "unknown option or argument: " + " ".join(unmatched)
        elif message.lower().startswith("usage"):
            message = "invalid arguments"
        raise _UsageError(f"{message} (stomp --help lists the options)") from None
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0


def _api_version() -> str:
    version = stomp.__version__
    return ".".join(str(part) for part in version) if isinstance(version, tuple) else version


def _positive(value: str, what: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise _UsageError(f"Invalid {what} '{value}', expecting a positive integer")
    return int(value)


def _check(options: dict[str, Any]) -> None:
    if not heartbeat_pattern.match(options["--heartbeats"]):
        raise _UsageError("Invalid heartbeats, expecting cx,cy")
    if options["--protocol"] not in ("1.0", "1.1", "1.2", "multicast"):
        raise _UsageError(
            f"Unknown protocol version '{options['--protocol']}', expecting 1.0, 1.1 or 1.2"
        )
    port = _positive(options["--port"], "port")
    if port > 65535:
        raise _UsageError(f"Invalid port '{port}'")
    if options["--count"] is not None:
        _positive(options["--count"], "count")
    for name in ("--count", "--json"):
        if options[name] and not options["--listen"]:
            raise _UsageError(f"{name} works with --listen only")


def _quiet_library_logs(verbose: bool) -> None:
    # The client reports errors itself, in one line: the library's log records (for
    # instance one warning per failed connection attempt) are shown only with --verbose.
    logger = logging.getLogger("stomp.py")
    for old in list(logger.handlers):
        if getattr(old, "_stomp_cli", False):  # main() run again in one process
            logger.removeHandler(old)
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("stomp: %(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
    else:
        handler = logging.NullHandler()
    handler._stomp_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def _fail(message: str) -> int:
    print(f"stomp: {' '.join(message.split())}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the command-line client (``argv``: the arguments, default ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 1 on an error (see ``stomp --help``), 130 when
    a ``-F`` script was interrupted.
    """
    try:
        try:
            parsed = _parse(argv)
            if isinstance(parsed, int):
                return parsed
            options = parsed
            _check(options)
        except _UsageError as exc:
            return _fail(str(exc))
        _quiet_library_logs(options["--verbose"])
        cli = _connect(options)
        if isinstance(cli, int):
            return cli
        if options["--listen"]:
            return _listen(cli, options)
        if options["--file"]:
            return _run_file(cli, options["--file"])
        return _interactive(cli)
    except KeyboardInterrupt:  # while connecting, or a second Ctrl-C while leaving
        return 130


def _connect(options: dict[str, Any]) -> StompCLI | int:
    cx, cy = heartbeat.parse(options["--heartbeats"])
    vhost = options["--vhost"]
    try:
        return StompCLI(
            options["--host"],
            options["--port"],
            options["--user"],
            options["--password"],
            options["--protocol"],
            "" if options["--listen"] else "> ",
            options["--verbose"],
            heartbeats=(cx, cy),
            use_ssl=options["--ssl"],
            ssl_key_file=options["--ssl-key-file"],
            ssl_cert_file=options["--ssl-cert-file"],
            ssl_ca_file=options["--ssl-ca-file"],
            ssl_insecure=options["--ssl-insecure"],
            vhost=vhost,
            json_output=options["--json"],
        )
    except Exception as exc:
        message = str(exc) or type(exc).__name__
        if vhost is None and "virtual host" in message.lower():
            message += " - give the virtual host with --vhost (RabbitMQ: --vhost /)"
        return _fail(message)


def _listen(cli: StompCLI, options: dict[str, Any]) -> int:
    count = int(options["--count"]) if options["--count"] is not None else None
    status = 0
    try:
        cli.listen(options["--listen"], count)
        while not cli.wait_listen(1.0):
            pass
        finished = count is not None and cli.messages_received >= count
        if cli.connection_lost and not finished:
            status = 1
    except KeyboardInterrupt:
        if not options["--json"]:
            cli._write("\n\n")
    finally:
        cli.close()
        _silence_closed_stdout(cli)
    return status


def _run_file(cli: StompCLI, filename: str) -> int:
    status = 0
    try:
        cli.do_run(filename)
    except KeyboardInterrupt:
        status = 130
    finally:
        cli.close()
        _silence_closed_stdout(cli)
    if status == 0 and cli.error_count:
        status = 1
    return status


def _interactive(cli: StompCLI) -> int:
    interactive = sys.stdin.isatty()
    if interactive:
        cli.enable_history()
    else:
        cli.completekey = None  # type: ignore[assignment]  # no readline on a pipe
    try:
        cli.cmdloop()
    except KeyboardInterrupt:
        cli._write("\n")
        cli.do_quit()
    except BrokenPipeError:  # the prompt could not be written: nobody reads the output
        cli._output_closed = True
    finally:
        if interactive:
            cli.save_history()
        cli.close()
        _silence_closed_stdout(cli)
    return 0


def _silence_closed_stdout(cli: StompCLI) -> None:
    # After "stomp ... | head": the interpreter would report the broken pipe at exit.
    if cli._output_closed:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
