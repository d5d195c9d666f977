"""The program: ``stomp`` and ``python -m stomp`` (:func:`main`).

:func:`main` parses the command line (with docopt, :data:`USAGE`), checks it, connects a
:class:`~stomp.cli.shell.StompCLI` and runs one of three modes: ``--listen``, a script
(``-F``) or the interactive shell; every mode ends by closing the client (DISCONNECT, its
receipt waited for) and gives the exit status.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from stomp import heartbeat
from stomp.cli.shell import StompCLI, version_text
from stomp.exception import StompException

__all__ = ["USAGE", "do_nothing_loop", "heartbeat_pattern", "main"]

#: What ``--heartbeats`` must be: two integers and a comma, nothing else.
heartbeat_pattern = re.compile(r"^[0-9]+,[0-9]+\Z")

USAGE = """\
Stomp.py command-line client

Usage:
    stomp [options]

Options:
    -h, --help                  Show this help and exit.
    --version                   Show the version (stomp-ng's, and stomp.py's API) and exit.
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


def do_nothing_loop() -> None:
    """Sleep forever, one second at a time (kept from stomp.py; the client does not use
    it)."""
    while True:
        time.sleep(1)


class _UsageError(Exception):
    """A bad command line: one line for stderr."""


def _parse(argv: list[str] | None) -> dict[str, Any] | int:
    """The options as a dict, or the exit status when docopt printed help or a version."""
    from docopt import DocoptExit, docopt

    try:
        return dict(docopt(USAGE, argv, version=version_text()))
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
        with _terminate_as_interrupt():
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


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    # SIGTERM (a service manager stopping the client) leaves as Ctrl-C does: DISCONNECT
    # is sent, the output flushed.  Only on the main thread, where handlers can be set.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _colour_wanted() -> bool:
    # Colours only on a terminal, and not when NO_COLOR is set (https://no-color.org).
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


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
            colour=_colour_wanted(),
            errors_to_stderr=True,
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
        try:
            cli.listen(options["--listen"], count)
        except (OSError, StompException):
            # The connection ended while subscribing: on_disconnected says so and ends
            # the wait below.
            if cli.conn.is_connected():
                raise
        while not cli.wait_listen(1.0):
            pass
        finished = count is not None and cli.messages_received >= count
        if cli.connection_lost and not finished:
            status = 1
    except KeyboardInterrupt:
        if not options["--json"]:
            cli.output.write("\n\n")
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
        while True:
            try:
                cli.cmdloop()
            except KeyboardInterrupt:
                if interactive and _line_typed():
                    # Ctrl-C on a half-typed line drops the line (as a shell does).
                    cli.output.write("\n")
                    continue
                cli.output.write("\n")
                cli.do_quit()
            break
    except BrokenPipeError:  # the prompt could not be written: nobody reads the output
        cli.output.mark_closed()
    finally:
        if interactive:
            cli.save_history()
        cli.close()
        _silence_closed_stdout(cli)
    return 0


def _line_typed() -> bool:
    # Whether readline holds a half-typed line (at the Ctrl-C that interrupted it).
    try:
        import readline
    except ImportError:
        return False
    return bool(readline.get_line_buffer().strip())


def _silence_closed_stdout(cli: StompCLI) -> None:
    # After "stomp ... | head": the interpreter would report the broken pipe at exit.
    if cli.output.closed:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
