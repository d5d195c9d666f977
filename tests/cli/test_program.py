"""The client as a program: ``python -m stomp`` and the ``stomp`` script, run as
subprocesses through pipes (and one pseudo-terminal), against RabbitMQ, ActiveMQ and the
fake broker.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cliutil import (
    WAIT,
    fake_args,
    login_args,
    publish,
    queue_contents,
)
from support.fakebroker import FakeBroker
from support.httpstub import HTTPStub

import stomp
from brokerinfo import Broker

SCRIPT = Path(sys.executable).with_name("stomp")


# -- options ----------------------------------------------------------------------------------


def test_version(run_stomp) -> None:
    result = run_stomp("--version")
    expected = f"stomp-ng {stomp.__ng_version__} (stomp.py 9.0.0 API)\n"
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")


def test_help_lists_every_option(run_stomp) -> None:
    result = run_stomp("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Stomp.py command-line client\n\nUsage:\n    stomp [options]\n")
    for option in (
        "-H, --host <host>",
        "-P, --port <port>",
        "-U, --user <user>",
        "-W, --password <password>",
        "-F, --file <filename>",
        "-S, --protocol <protocol version>",
        "-L, --listen <queue>",
        "-V, --verbose",
        "--heartbeats <heartbeats>",
        "--ssl ",
        "--ssl-key-file <key-file>",
        "--ssl-cert-file <cert-file>",
        "--ssl-ca-file <ca-file>",
        "--ssl-insecure",
        "--version",
        "-h, --help",
        "--vhost <vhost>",
        "--json",
        "--count <n>",
        "[default: localhost]",
        "[default: 61613]",
        "[default: 1.1]",
        "[default: 0,0]",
        "~/.stomp_history",
    ):
        assert option in result.stdout
    assert run_stomp("-h").stdout == result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--bogus"],
            "stomp: unknown option or argument: --bogus (stomp --help lists the options)",
        ),
        (["-P"], "stomp: -P requires argument (stomp --help lists the options)"),
        (["extra"], "stomp: unknown option or argument: extra (stomp --help lists the options)"),
        (["--heartbeats", "1000,1000x"], "stomp: Invalid heartbeats, expecting cx,cy"),
        (["--heartbeats", "1000"], "stomp: Invalid heartbeats, expecting cx,cy"),
        (["-S", "1.3"], "stomp: Unknown protocol version '1.3', expecting 1.0, 1.1 or 1.2"),
        (["-P", "http"], "stomp: Invalid port 'http', expecting a positive integer"),
        (
            ["-L", "/queue/a", "--count", "0"],
            "stomp: Invalid count '0', expecting a positive integer",
        ),
        (["--json"], "stomp: --json works with --listen only"),
        (["--count", "3"], "stomp: --count works with --listen only"),
    ],
)
def test_usage_errors(run_stomp, args: list[str], message: str) -> None:
    result = run_stomp(*args)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", message + "\n")


# -- failing to connect -----------------------------------------------------------------------


def test_stomp_12_on_rabbitmq_needs_a_vhost(run_stomp, rabbitmq: Broker) -> None:
    args = login_args(rabbitmq, "1.2")[:-2]  # without --vhost
    result = run_stomp(*args)
    assert result.returncode == 1
    assert result.stderr == (
        "stomp: 127.0.0.1:61613 refused the connection: Bad CONNECT (Virtual host '127.0.0.1'"
        " access denied) - give the virtual host with --vhost (RabbitMQ: --vhost /)\n"
    )
    result = run_stomp(*login_args(rabbitmq, "1.2"), input="ver\n")
    assert result.returncode == 0
    assert "(stomp.py 9.0.0 API) [Protocol version 1.2]" in result.stdout


def test_an_http_port_is_named_as_such(run_stomp) -> None:
    """The library's hint reaches the user: one line, status 1."""
    stub = HTTPStub()
    try:
        result = run_stomp("-H", "127.0.0.1", "-P", str(stub.port))
    finally:
        stub.close()
    assert result.returncode == 1
    assert result.stderr == (
        f"stomp: the connection to 127.0.0.1:{stub.port} ended before CONNECTED: the server "
        "answered in HTTP (HTTP/1.1 400 Bad Request): this is an HTTP port, not a STOMP one "
        "(RabbitMQ's STOMP port is 61613; for STOMP over WebSocket use stomp.WSConnection)\n"
    )


# -- the interactive shell through pipes ------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_interactive_session(spawn, broker: Broker, queue: str, version: str) -> None:
    cli = spawn(*login_args(broker, version))
    cli.send(f"subscribe {queue}")
    cli.expect(f"Subscribing to '{queue}' with acknowledge set to 'auto', id set to '1'")
    cli.send(f"send {queue} hello from the shell")
    cli.expect("\nhello from the shell\n")
    cli.send("ver")
    cli.expect(f"(stomp.py 9.0.0 API) [Protocol version {version}]")
    cli.close_stdin()
    assert cli.wait() == 0
    assert cli.stdout.endswith("> Shutting down, please wait\n")
    assert re.search(r"\nmessage-id: \S+\nsubscription: 1\n\nhello from the shell\n> ", cli.stdout)
    assert cli.stderr == ""


# -- scripts (-F) -----------------------------------------------------------------------------


def test_script_sends_everything_then_listen_receives_it(
    run_stomp, broker: Broker, queue: str, tmp_path: Path
) -> None:
    count = 25
    script = tmp_path / "send.txt"
    script.write_text("".join(f"send {queue} message {n}\n" for n in range(count)))
    result = run_stomp(*login_args(broker), "-F", str(script))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "\n\n"  # CONNECTED; the script's receipts are not printed
    result = run_stomp(*login_args(broker), "-L", queue, "--count", str(count))
    assert (result.returncode, result.stderr) == (0, "")
    bodies = re.findall(r"\nsubscription: 1\n(message \d+)\n", result.stdout)
    assert bodies == [f"message {n}" for n in range(count)]
    assert queue_contents(broker, queue) == []


def test_script_errors_give_status_1(run_stomp, fake_broker: FakeBroker, tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text("bogus\nsend /queue/a still-sent\n")
    result = run_stomp(*fake_args(fake_broker), "-F", str(script))
    assert result.returncode == 1
    assert result.stderr == "Unknown command: bogus\n"  # on stderr, no colours in a pipe
    assert fake_broker.last.commands() == ["STOMP", "SEND", "DISCONNECT"]
    result = run_stomp(*fake_args(fake_broker), "-F", str(tmp_path / "missing.txt"))
    assert result.returncode == 1
    assert result.stderr == f"File {tmp_path / 'missing.txt'} was not found\n"
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize("no_color", [None, "1"])
def test_colours_on_a_terminal_unless_no_color(
    cli_env: dict[str, str], fake_broker: FakeBroker, tmp_path: Path, no_color: str | None
) -> None:
    """Bold and colours when stdout is a terminal, as stomp.py; none with NO_COLOR set."""
    import subprocess

    script = tmp_path / "s.txt"
    script.write_text("ver\n")
    env = dict(cli_env)
    if no_color is not None:
        env["NO_COLOR"] = no_color
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "stomp", *fake_args(fake_broker), "-F", str(script)],
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp_path,
        )
    finally:
        os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)
    _, errors = process.communicate(timeout=WAIT)
    assert process.returncode == 0, errors
    text = output.decode()
    assert "(stomp.py 9.0.0 API) [Protocol version 1.1]" in text
    assert ("\x1b[" in text) == (no_color is None)


# -- --listen ---------------------------------------------------------------------------------


def test_listen_json_count(run_stomp, broker: Broker, queue: str) -> None:
    publish(broker, queue, "plain text", "ünïcode")
    publish(broker, queue, b"\x00\xff\xfe binary", **{"content-type": "application/octet-stream"})
    result = run_stomp(*login_args(broker), "-L", queue, "--count", "3", "--json")
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["body_encoding"] for r in records] == ["utf-8", "utf-8", "base64"]
    assert [r["body"] for r in records[:2]] == ["plain text", "ünïcode"]
    assert base64.b64decode(records[2]["body"]) == b"\x00\xff\xfe binary"
    assert all(r["headers"]["destination"] == queue for r in records)
    assert "Subscribing to" in result.stderr


def test_listen_count_leaves_the_other_messages(run_stomp, broker: Broker, queue: str) -> None:
    publish(broker, queue, "one", "two", "three")
    result = run_stomp(*login_args(broker), "-L", queue, "--count", "1")
    assert result.returncode == 0
    assert "\none\n" in result.stdout
    assert "two" not in result.stdout
    assert queue_contents(broker, queue) == ["two", "three"]


def test_listen_waits_for_messages_sent_later(spawn, broker: Broker, queue: str) -> None:
    cli = spawn(*login_args(broker), "-L", queue, "--count", "2")
    cli.expect(f"Subscribing to '{queue}' with acknowledge set to 'client-individual'")
    publish(broker, queue, "late one", "late two")
    assert cli.wait() == 0
    assert re.findall(r"\n(late \w+)\n", cli.stdout) == ["late one", "late two"]


def test_heartbeats(run_stomp, rabbitmq: Broker) -> None:
    result = run_stomp(*login_args(rabbitmq), "--heartbeats", "1000,1000", "-V", input="ver\n")
    assert result.returncode == 0
    assert "heart-beat: 1000,1000" in result.stdout


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return str(ca_file), context


def test_tls(run_stomp, make_fake, tls_files: tuple[str, Any]) -> None:
    ca_file, context = tls_files
    broker = make_fake(tls_context=context)
    ok = run_stomp(*fake_args(broker), "--ssl", "--ssl-ca-file", ca_file, input="ver\n")
    assert ok.returncode == 0, ok.stderr
    assert "(stomp.py 9.0.0 API) [Protocol version 1.1]" in ok.stdout
    insecure = run_stomp(*fake_args(broker), "--ssl", "--ssl-insecure", input="ver\n")
    assert insecure.returncode == 0, insecure.stderr
    refused = run_stomp(*fake_args(broker), "--ssl")  # not signed by a CA of the system
    assert refused.returncode == 1
    assert len(refused.stderr.splitlines()) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    missing = run_stomp(*fake_args(broker), "--ssl", "--ssl-cert-file", "nowhere.pem")
    assert missing.returncode == 1
    assert len(missing.stderr.splitlines()) == 1


# -- a terminal: readline history and completion ----------------------------------------------


def test_terminal_history_and_completion(fake_broker: FakeBroker, tmp_path: Path) -> None:
    pty = pytest.importorskip("pty")
    readline = pytest.importorskip("readline")
    if "libedit" in (readline.__doc__ or ""):
        pytest.skip("GNU readline needed to drive completion")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".stomp_history").write_text("send /queue/old history\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: the client on the terminal
        os.environ.update(HOME=str(home), TERM="dumb")
        os.execv(sys.executable, [sys.executable, "-m", "stomp", *fake_args(fake_broker)])
    try:
        seen = _read_until(fd, b"> ")
        os.write(fd, b"subscr\t/queue/completed\n")
        seen += _read_until(fd, b"Subscribing to")
        os.write(fd, b"unsubscribe /queue/comp\t\n")
        done = b"Unsubscribing from '/queue/completed'"
        seen += _read_until(fd, done)
        if b"> " not in seen.rsplit(done, 1)[1]:
            # Ctrl-C at the prompt, not while the command still runs: a SIGINT that lands
            # just before input() starts waiting is only noticed at the next key (CPython).
            seen += _read_until(fd, b"> ")
        os.write(fd, b"\x03")  # Ctrl-C
        try:
            seen += _read_until(fd, b"please wait", timeout=3.0)
        except AssertionError:
            # The prompt is printed just before readline starts waiting, and a SIGINT that
            # lands in between is only acted on once input() returns (CPython checks for
            # it when its wait is interrupted): Enter makes input() return, and the pending
            # Ctrl-C then stops the client before the empty line is handled.
            os.write(fd, b"\n")
            seen += _read_until(fd, b"please wait")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"Subscribing to '/queue/completed'" in seen
    history = (home / ".stomp_history").read_text().splitlines()
    assert history == [
        "send /queue/old history",
        "subscribe /queue/completed",
        "unsubscribe /queue/completed",
    ]
    assert (home / ".stomp_history").stat().st_mode & 0o777 == 0o600
    assert fake_broker.last.wait_for_frame("DISCONNECT")


def _read_until(fd: int, needle: bytes, timeout: float = WAIT) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not shown within {timeout} s: {data!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    if needle not in data:
        raise AssertionError(f"{needle!r} not shown: {data!r}")
    return data


# -- odds and ends ----------------------------------------------------------------------------


def test_interrupted_script_is_status_130(spawn, make_fake, tmp_path: Path) -> None:
    broker = make_fake(answer_receipts=False)
    script = tmp_path / "s.txt"
    script.write_text(
        "sendrec /queue/a waits for a receipt that does not come\nsend /queue/a never\n"
    )
    cli = spawn(*fake_args(broker, "-F", str(script)))
    broker.wait_for_connection().wait_for_frame("SEND")
    broker.answer_receipts = True  # from now on: DISCONNECT gets its receipt
    cli.proc.send_signal(signal.SIGINT)
    assert cli.wait() == 130
    assert broker.last.commands() == ["STOMP", "SEND", "DISCONNECT"]


def test_verbose_shows_the_library_warnings(run_stomp) -> None:
    result = run_stomp("-H", "127.0.0.1", "-P", "1", "-V")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("stomp: could not connect to 127.0.0.1:1")
    assert lines[0].startswith("stomp: WARNING: could not connect to host 127.0.0.1, port 1")


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    from stomp.__main__ import main

    assert main(["--version"]) == 0
    assert main(["--heartbeats", "x"]) == 1
    assert main(["-h"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(
        f"stomp-ng {stomp.__ng_version__} (stomp.py 9.0.0 API)\nStomp.py command-line client\n"
    )
    assert captured.err == "stomp: Invalid heartbeats, expecting cx,cy\n"


@pytest.mark.parametrize("mode", ["listen", "shell"])
def test_reader_going_away_ends_cleanly(
    cli_env, tmp_path: Path, fake_broker: FakeBroker, mode: str
) -> None:
    """``stomp ... | head -1``: no traceback, DISCONNECT sent, status 0."""
    import subprocess

    args = fake_args(fake_broker, "-L", "/queue/a") if mode == "listen" else fake_args(fake_broker)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stomp", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=cli_env,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == b"\n"  # CONNECTED
        proc.stdout.close()
        connection = fake_broker.wait_for_connection()
        if mode == "listen":
            connection.wait_for_frame("SUBSCRIBE")
            for n in range(3):
                connection.send_message("/queue/a", f"m{n}")
        else:
            proc.stdin.write(b"ver\nver\n")
            proc.stdin.flush()
        assert proc.wait(WAIT) == 0
        assert connection.wait_for_frame("DISCONNECT")
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
        for stream in (proc.stdin, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]


class Terminal:
    """The client on a pseudo-terminal that is its controlling terminal, so that Ctrl-C
    typed there is a SIGINT, as in a real terminal."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        import fcntl
        import subprocess
        import termios

        self.controller, terminal = os.openpty()
        # NOFLSH: Ctrl-C must not flush the output queue, or it may throw away what the
        # program writes at once on the SIGINT (the new prompt) before the test reads it.
        attributes = termios.tcgetattr(terminal)
        attributes[3] |= termios.NOFLSH
        termios.tcsetattr(terminal, termios.TCSANOW, attributes)

        def take_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stomp", *args],
                stdin=terminal,
                stdout=terminal,
                stderr=terminal,
                env=env,
                cwd=cwd,
                preexec_fn=take_terminal,
            )
        finally:
            os.close(terminal)
        self.seen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def interrupt(self) -> None:
        """Type Ctrl-C once the client waits for a key.  (CPython's readline looks at
        signals only when its wait for input is interrupted: a SIGINT that arrives while it
        is still handling the key before would wait for the next key.)"""
        self.wait_reading()
        self.type(b"\x03")

    def wait_reading(self) -> None:
        """Wait (bounded) until the client's main thread is blocked waiting for a key:
        (Linux x86-64, from /proc) in CPython's select() with no timeout (readline's own
        selects while it handles a key have a timeout or a signal mask).  Elsewhere this
        returns at once."""
        if os.uname().machine != "x86_64":
            return
        path = f"/proc/{self.process.pid}/syscall"
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                with open(path) as status:
                    fields = status.read().split()
            except OSError:
                return
            if not fields or (fields[0] != "running" and not fields[0].isdigit()):
                return  # (not the format known here)
            # pselect6 (270): timeout and sigmask NULL; select (23): timeout NULL
            if fields[0] == "270" and fields[5:7] == ["0x0", "0x0"]:
                return
            if fields[0] == "23" and fields[5:6] == ["0x0"]:
                return
            time.sleep(0.005)
        raise AssertionError("the client never waited for a key")

    def expect(self, text: bytes) -> None:
        """Wait (bounded) until ``text`` appeared since the last expect."""
        deadline = time.monotonic() + WAIT
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{text!r} not shown; the terminal shows {self.seen!r}"
            ready, _, _ = select.select([self.controller], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.controller, 65536)
                except OSError:  # EIO: the program closed the terminal
                    chunk = b""
                if not chunk:
                    assert text in self.seen, f"{text!r} not shown before the end: {self.seen!r}"
                self.seen += chunk
        self.seen = self.seen.split(text, 1)[1]

    def close(self) -> int:
        import subprocess

        try:
            status = self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait(WAIT)
        os.close(self.controller)
        return status


def test_ctrl_c_on_a_half_typed_line_drops_the_line(
    cli_env: dict[str, str], fake_broker: FakeBroker, tmp_path: Path
) -> None:
    terminal = Terminal(fake_args(fake_broker), cli_env, tmp_path)
    try:
        terminal.expect(b"> ")
        terminal.type(b"sen")
        terminal.expect(b"sen")
        terminal.interrupt()  # Ctrl-C: the line is dropped, a new prompt
        terminal.expect(b"\r\n> ")
        terminal.type(b"ver\r")
        terminal.expect(b"(stomp.py 9.0.0 API) [Protocol version 1.1]")
        assert b"Unknown command" not in terminal.seen
        terminal.expect(b"> ")
        terminal.interrupt()  # Ctrl-C on an empty line: leave
        terminal.expect(b"Shutting down, please wait")
    finally:
        status = terminal.close()
    assert status == 0
    assert fake_broker.last.commands() == ["STOMP", "DISCONNECT"]
