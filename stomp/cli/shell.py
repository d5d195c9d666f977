"""The shell: :class:`StompCLI`, a command loop on one STOMP connection.

:class:`StompCLI` is a :class:`cmd.Cmd` whose ``do_<command>`` methods are the client's
commands, and the connection's listener, whose callbacks show what the broker sends.  What
it prints and where is :mod:`stomp.cli.output`'s business, the receipts it waits for
:mod:`stomp.cli.receipts`', and the help of its commands comes from
:mod:`stomp.cli.helptable`.
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
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

import stomp
from stomp.cli.helptable import ALIASES, TOPICS, Topic, help_lines
from stomp.cli.output import Output, body_text, save_file
from stomp.cli.receipts import AWAITED, SILENT, TIMEOUT, Receipts
from stomp.codec import Frame
from stomp.colours import BOLD, NO_COLOUR
from stomp.connect import StompConnection10, StompConnection11, StompConnection12
from stomp.exception import ConnectFailedException, NotConnectedException
from stomp.listener import ConnectionListener, StatsListener
from stomp.transport import refusal_reason

__all__ = ["HISTORY_FILE", "StompCLI", "SubscriptionInfo", "api_version", "version_text"]

_log = logging.getLogger("stomp.py")

#: The readline history of the interactive shell (only when stdin is a terminal).
HISTORY_FILE = os.path.join("~", ".stomp_history")
_HISTORY_LENGTH = 1000

# Scripts may run scripts; one that runs itself stops here.
_MAX_SCRIPT_DEPTH = 20


def api_version() -> str:
    """The version the client reports (``--version``, ``version``): ``stomp.__version__``
    (stomp.py's API level), dotted also after :func:`stomp.tuple_version`."""
    version: Any = stomp.__version__
    return ".".join(str(part) for part in version) if isinstance(version, tuple) else str(version)


def version_text() -> str:
    """What ``--version`` and ``version`` print: stomp-ng's own version and the stomp.py
    version whose API it provides, e.g. ``stomp-ng 0.1.0 (stomp.py 9.0.0 API)``."""
    return f"stomp-ng {stomp.__ng_version__} (stomp.py {api_version()} API)"


@dataclass
class SubscriptionInfo:
    """A subscription made in the shell: its ``id`` and ``ack`` mode."""

    id: int
    ack: str


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
        colour: ANSI colours and bold in the output (stomp.py's); ``False`` for none.
        errors_to_stderr: error lines go to ``stderr`` (stomp.py: with the rest).

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
        colour: bool = True,
        errors_to_stderr: bool = False,
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
        self._quitting = False
        self._connecting = True
        self._receipts = Receipts()
        self._script_depth = 0
        self._history: str | None = None
        self._refusal: Frame | None = None
        self._listen_limit: int | None = None
        self._listen_ack = "auto"
        self._listen_seen = 0
        self._listen_done = threading.Event()
        #: The client's output streams (see :class:`~stomp.cli.output.Output`).
        self.output = Output(
            self.stdout,
            stderr,
            json_output,
            on_closed=self._listen_done.set,
            colour=colour,
            errors_to_stderr=errors_to_stderr,
        )

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
        self._login = (user, passcode, connect_headers, host, port)  # (for reconnect)
        try:
            self.conn.connect(user, passcode, wait=True, headers=connect_headers)
        except BaseException as exc:
            self.close()  # silent from now on, and no thread left behind
            if isinstance(exc, ConnectFailedException):
                raise ConnectFailedException(self._refusal_text(exc, host, port)) from exc
            raise
        self._connecting = False

    # -- output ---------------------------------------------------------------------------

    def _out(self, msg: Any) -> None:
        """Normal output (nothing once quitting)."""
        if not self._quitting:
            self.output.notice(msg)

    def _error(self, msg: Any) -> None:
        """Error output, in bold red (also when quitting); counted."""
        self.error_count += 1
        self.output.error(msg)

    def _print_frame(
        self,
        frame_type: str,
        frame: Frame,
        body: Any = None,
        blank_first: bool = False,
        prompt: bool = True,
    ) -> None:
        # Every received frame is shown through here (nothing once quitting).
        if not self._quitting:
            self.output.frame(
                frame_type,
                frame,
                body=body,
                verbose=self.verbose,
                prompt=self.prompt,
                blank_first=blank_first,
                prompt_after=prompt,
            )

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
            self.output.message_json(frame)
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
        self._receipts.settle(frame.headers.get("receipt-id"))  # a SEND the broker refused

    def on_receipt(self, frame: Frame) -> None:
        """Print a RECEIPT frame, and wake whoever waits for it."""
        receipt_id = frame.headers.get("receipt-id")
        kind = self._receipts.kind(receipt_id)
        if kind != SILENT or self.verbose:
            self._print_frame("RECEIPT", frame, prompt=kind != AWAITED)
        self._receipts.settle(receipt_id)

    def on_disconnected(self) -> None:
        """Say ``lost connection`` (unless quitting), and stop every wait.  In the
        interactive shell, say how to connect again and show the prompt again."""
        if not self._quitting and not self._connecting:
            self._error("lost connection")
            if self.prompt and not self._script_depth:
                self.output.write(
                    f"Type reconnect to connect again.\n{self.prompt}", self.output.notices
                )
        self._receipts.connection_lost()
        self._listen_done.set()

    def on_send(self, frame: Frame) -> None:
        """With ``verbose``, echo the frame (the passcode masked; heart-beats skipped)."""
        if self.verbose and frame.cmd is not None:  # also when quitting: DISCONNECT shows
            self.output.write(f"Sending {frame}\n", self.output.notices)  # (str masks it)

    # -- helpers ----------------------------------------------------------------------------

    def _refusal_text(self, exc: Exception, host: str, port: Any) -> str:
        # One line: who refused, the ERROR's message header and the first line of its body.
        # (Without an ERROR frame, the library's message: it names the cause when it knows
        # one, e.g. an HTTP port.)
        frame = self._refusal
        if frame is None:
            return " ".join(str(exc).split())
        return f"{host}:{port} refused the connection: {refusal_reason(frame)}"

    def _file_body(self, frame: Frame) -> Any:
        # A sendfile message: save the file, show where.  None: print the body as is.
        name = frame.headers.get("filename")
        if not name:
            return None
        try:
            content = base64.b64decode(body_text(frame.body), validate=False)
        except (binascii.Error, ValueError) as exc:
            self._error(f"Cannot decode file {name}: {exc}")
            return None
        try:
            saved = save_file(name, content)
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

    def _send(self, destination: str, body: str, headers: dict[str, Any]) -> None:
        # Every SEND of the shell: with a receipt to wait for when inside a script.
        headers.update(self._transaction())
        if self._script_depth and "receipt" not in headers:
            headers["receipt"] = self._receipts.expect(SILENT)
        try:
            self.conn.send(destination, body, headers=headers)
        except BaseException:
            self._receipts.settle(headers.get("receipt"))
            raise

    def _finish_script(self) -> None:
        script_receipts = self._receipts.of_kind(SILENT)
        if not script_receipts:
            return
        missing = self._receipts.wait(script_receipts, self.receipt_timeout)
        if missing and self._receipts.lost:
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
        self.output.detach()

    @property
    def connection_lost(self) -> bool:
        """Whether the connection has ended."""
        return self._receipts.lost

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
        return bool(stop) or self.output.closed

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

    def do_send(self, args: str) -> None:
        """Send a message."""
        words = args.split()
        if len(words) < 2:
            self._error("Expecting: send <destination> <message>")
            return
        self._send(words[0], " ".join(words[1:]), {})

    def do_sendrec(self, args: str) -> None:
        """Send a message and wait for its receipt."""
        words = args.split()
        if len(words) < 2:
            self._error("Expecting: sendrec <destination> <message>")
            return
        receipt_id = self._receipts.expect(AWAITED)
        self._send(words[0], " ".join(words[1:]), {"receipt": receipt_id})
        if self._receipts.wait([receipt_id], self.receipt_timeout):
            if self._receipts.lost:
                self._error(f"Connection lost before receipt {receipt_id}")
            else:
                self._error(f"No receipt {receipt_id} within {self.receipt_timeout:g} s")

    def do_sendreply(self, args: str) -> None:
        """Send a reply, with a correlation-id header."""
        words = args.split()
        if len(words) < 3:
            self._error("Expecting: sendreply <destination> <correlation-id> <message>")
            return
        self._send(words[0], " ".join(words[2:]) + "\n", {"correlation-id": words[1]})

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

    def do_reconnect(self, args: str) -> None:
        """Connect again after the connection was lost."""
        if self.conn.is_connected():
            self._error("reconnect: the connection is open")
            return
        user, passcode, headers, host, port = self._login
        self._connecting = True
        self._refusal = None
        try:
            self.conn.connect(user, passcode, wait=True, headers=dict(headers))
        except (ConnectFailedException, OSError) as exc:
            self._error(f"reconnect: {self._refusal_text(exc, host, port)}")
            return
        finally:
            self._connecting = False
        self._receipts.reconnected()
        self._out("Reconnected")
        for destination, info in self.subscriptions.items():
            self._out(f"Subscribing to '{destination}' again, id '{info.id}'")
            self.conn.subscribe(destination=destination, ack=info.ack, id=info.id)

    def do_version(self, args: str) -> None:
        """Show the versions."""
        self._out(f"{BOLD}{version_text()} [Protocol version {self.conn.version}]{NO_COLOUR}")

    do_ver = do_version

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

    def do_nack(self, args: str) -> None:
        """Tell the broker a message was not processed (STOMP 1.1 and 1.2)."""
        self._acknowledge("nack", args)

    def do_begin(self, args: str) -> None:
        """Begin a transaction."""
        if self.transaction_id:
            self._error(f"Currently in a transaction ({self.transaction_id})")
            return
        self.transaction_id = self.conn.begin()
        self._out(f"Transaction id: {self.transaction_id}")

    def do_commit(self, args: str) -> None:
        """Commit the open transaction."""
        if not self.transaction_id:
            self._error("Not currently in a transaction")
            return
        self._out(f"Committing {self.transaction_id}")
        self.conn.commit(transaction=self.transaction_id)
        self.transaction_id = None

    def do_abort(self, args: str) -> None:
        """Abort the open transaction."""
        if not self.transaction_id:
            self._error("Not currently in a transaction")
            return
        self.conn.abort(transaction=self.transaction_id)
        self._out(f"Aborted transaction: {self.transaction_id}")
        self.transaction_id = None

    do_rollback = do_abort

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
        for line in help_lines(usage, description, required, optional):
            self._out(line)


def _help_method(command: str, topic: Topic) -> Callable[[StompCLI], None]:
    def show_help(self: StompCLI) -> None:
        self.help(*topic)

    show_help.__name__ = show_help.__qualname__ = f"help_{command}"
    show_help.__doc__ = f"Print the help of {command}."
    return show_help


# The help_<command> methods cmd.Cmd looks for, from the help table.
for _command, _topic in TOPICS.items():
    setattr(StompCLI, f"help_{_command}", _help_method(_command, _topic))
for _alias, _command in ALIASES.items():
    setattr(StompCLI, f"help_{_alias}", getattr(StompCLI, f"help_{_command}"))
del _command, _topic, _alias


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


def _command_name(line: str) -> str:
    words = line.split()
    return words[0] if words else line
