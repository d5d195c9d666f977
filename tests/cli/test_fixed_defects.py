"""One test (or more) for each defect of stomp.py 9.0.0's client that stomp-ng fixes.

The defects are those of reference quirk Q35 (and Q21 for the passcode), plus the fixes
the issue asks for (exit status and one error line, DISCONNECT on every way out, a
script's receipts) and a few found on the way.  Each test's docstring says which.
"""

from __future__ import annotations

import base64
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from cliutil import fake_args, login_args, queue_contents
from support.fakebroker import FakeBroker

from brokerinfo import Broker
from stomp.cli import program
from stomp.colours import BOLD, GREEN, NO_COLOUR, RED

SCRIPT = Path(sys.executable).with_name("stomp")


def err(text: str) -> str:
    """``text`` as the client prints an error."""
    return f"{BOLD}{RED}{text}{NO_COLOUR}\n"


# -- the program ------------------------------------------------------------------------------


@pytest.mark.parametrize("program", ["module", "script"])
def test_unreachable_broker_is_one_line_and_status_1(run_stomp, program: str) -> None:
    """stomp.py: exit status 0 (python -m stomp) or a traceback (stomp); here one line, status 1."""
    command = [sys.executable, "-m", "stomp"] if program == "module" else [str(SCRIPT)]
    started = time.monotonic()
    result = run_stomp("-H", "127.0.0.1", "-P", "1", program=command)
    assert time.monotonic() - started < 5
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "stomp: could not connect to 127.0.0.1:1 after 3 attempt(s): [Errno 111] Connection refused\n"
    )


def test_login_refused(run_stomp, broker: Broker) -> None:
    """A refused login: one line naming the broker and its reason, status 1."""
    args = login_args(broker)
    args[args.index("-W") + 1] = "wrong-password"
    result = run_stomp(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"stomp: {broker.host}:{broker.port} refused the connection: ")
    assert "Traceback" not in result.stderr
    assert "wrong-password" not in result.stderr


def test_heartbeats_must_match_entirely(run_stomp) -> None:
    """stomp.py checks only a prefix of --heartbeats ("1000,1000x" passes, then crashes)."""
    result = run_stomp("--heartbeats", "1000,1000x")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "stomp: Invalid heartbeats, expecting cx,cy\n"
    from stomp.__main__ import heartbeat_pattern

    assert heartbeat_pattern.match("1000,0")
    assert not heartbeat_pattern.match("1000,0\n")
    assert not heartbeat_pattern.match("1000,0,5")


def test_unknown_option_is_named(run_stomp) -> None:
    """docopt's message shows an internal repr (Option(None, '--bogus', 0, True))."""
    result = run_stomp("--bogus")
    assert result.stderr == (
        "stomp: unknown option or argument: --bogus (stomp --help lists the options)\n"
    )


def test_eof_disconnects(spawn, fake_broker: FakeBroker) -> None:
    """End of input sends DISCONNECT and waits for its receipt."""
    cli = spawn(*fake_args(fake_broker))
    cli.send("send /queue/a hi")
    cli.close_stdin()
    assert cli.wait() == 0
    assert fake_broker.last.commands() == ["STOMP", "SEND", "DISCONNECT"]
    assert cli.stdout.endswith("> > Shutting down, please wait\n")


def test_ctrl_c_in_the_shell_disconnects(spawn, fake_broker: FakeBroker) -> None:
    """stomp.py: Ctrl-C called the quit handler without its argument (TypeError)."""
    cli = spawn(*fake_args(fake_broker))
    cli.send("ver")
    cli.expect("9.0.0")
    cli.proc.send_signal(signal.SIGINT)
    assert cli.wait() == 0
    assert fake_broker.last.wait_for_frame("DISCONNECT")
    assert cli.stdout.endswith("Shutting down, please wait\n")
    assert "Traceback" not in cli.stderr


def test_verbose_never_prints_the_passcode(run_stomp, activemq: Broker, queue: str) -> None:
    """Q21: the verbose echo of the frames sent showed the passcode."""
    result = run_stomp(*login_args(activemq, "1.2"), "-V", input=f"sendrec {queue} x\n")
    assert result.returncode == 0
    assert activemq.passcode not in result.stdout + result.stderr
    assert "'passcode': '********'" in result.stdout
    assert re.search(
        r"Sending \{cmd=DISCONNECT,headers=\[\{'receipt': '[\w-]+'\}\],body=\}", result.stdout
    )
    assert queue_contents(activemq, queue) == ["x"]


def test_verbose_echo_masks_any_passcode(fake_broker: FakeBroker) -> None:
    """Q21 again, directly: whatever the passcode, only ******** is printed."""
    from cliutil import Output

    from stomp.cli import StompCLI

    secret = "s3cret: with spaces\tand 'quotes'"
    out = Output()
    cli = StompCLI(fake_broker.host, fake_broker.port, "me", secret, stdout=out)
    try:
        assert "'passcode': '********'" in out.text
        assert "s3cret" not in out.text
        assert fake_broker.last.wait_for_frame("STOMP").headers["passcode"] == secret
    finally:
        cli.close()


def test_script_with_receipts_and_disconnect_on_the_wire(
    run_stomp, fake_broker: FakeBroker, tmp_path: Path
) -> None:
    """-F sent no DISCONNECT and exited at once: messages of the script could be lost."""
    script = tmp_path / "s.txt"
    script.write_text("send /queue/a one\nbegin\nsend /queue/a two\ncommit\n")
    result = run_stomp(*fake_args(fake_broker), "-F", str(script))
    assert result.returncode == 0
    frames = fake_broker.last.frames
    assert [f.cmd for f in frames] == ["STOMP", "SEND", "BEGIN", "SEND", "COMMIT", "DISCONNECT"]
    assert all("receipt" in f.headers for f in frames if f.cmd in ("SEND", "DISCONNECT"))
    assert frames[3].headers["transaction"] == frames[2].headers["transaction"]


def test_script_quit_stops_it(run_stomp, broker: Broker, queue: str, tmp_path: Path) -> None:
    """stomp.py: quit in a script only silenced the rest, which still ran."""
    script = tmp_path / "s.txt"
    script.write_text(f"send {queue} before\nquit\nsend {queue} after\n")
    result = run_stomp(*login_args(broker), "-F", str(script))
    assert result.returncode == 0
    assert result.stdout.endswith("Shutting down, please wait\n")
    assert queue_contents(broker, queue) == ["before"]


def test_listen_ctrl_c_disconnects(spawn, fake_broker: FakeBroker) -> None:
    """--listen ended on Ctrl-C without DISCONNECT."""
    cli = spawn(*fake_args(fake_broker, "-L", "/queue/a"))
    cli.expect("Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n")
    fake_broker.last.send_message("/queue/a", "first")
    cli.expect("\nfirst\n")
    cli.proc.send_signal(signal.SIGINT)
    assert cli.wait() == 0
    assert fake_broker.last.commands() == ["STOMP", "SUBSCRIBE", "DISCONNECT"]


def test_listen_sigterm_disconnects(spawn, fake_broker: FakeBroker) -> None:
    """SIGTERM (a service manager stopping --listen) killed the client without DISCONNECT;
    now it leaves as Ctrl-C does."""
    cli = spawn(*fake_args(fake_broker, "-L", "/queue/a"))
    cli.expect("Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n")
    fake_broker.last.send_message("/queue/a", "first")
    cli.expect("\nfirst\n")
    cli.proc.send_signal(signal.SIGTERM)
    assert cli.wait() == 0
    assert fake_broker.last.commands() == ["STOMP", "SUBSCRIBE", "DISCONNECT"]
    assert "Traceback" not in cli.stderr


def test_shell_sigterm_disconnects(spawn, fake_broker: FakeBroker) -> None:
    cli = spawn(*fake_args(fake_broker))
    cli.send("ver")
    cli.expect("9.0.0")
    cli.proc.send_signal(signal.SIGTERM)
    assert cli.wait() == 0
    assert fake_broker.last.wait_for_frame("DISCONNECT")
    assert "Traceback" not in cli.stderr


def test_listen_lost_connection_is_status_1(spawn, fake_broker: FakeBroker) -> None:
    """--listen on a connection that ends: status 1 (and no abort of the interpreter)."""
    cli = spawn(*fake_args(fake_broker, "-L", "/queue/a"))
    cli.expect("Subscribing to")
    fake_broker.last.close()
    assert cli.wait() == 1
    assert cli.stderr == "lost connection\n"  # (errors on stderr; no colours in a pipe)


def test_listen_losing_the_connection_while_subscribing_is_status_1(
    make_cli, fake_broker: FakeBroker
) -> None:
    """Found on the way: a write that failed while --listen subscribed (the broker had just
    closed) ended the client with a traceback; now it is the lost connection it is."""
    cli = make_cli(fake_broker, "1.2")

    def broken(data: bytes, progress: list[int]) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # as the socket's send would

    cli.conn.transport._writer._write_all = broken
    options = {"--listen": "/queue/a", "--count": None, "--json": False}
    assert program._listen(cli, options) == 1
    assert err("lost connection") in cli.stdout.text


# -- the shell --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "usage"),
    [
        ("1.0", "<message-id>"),
        ("1.1", "<message-id> <subscription-id>"),
        ("1.2", "<ack-id>"),
    ],
)
def test_ack_usage_names_the_command(make_cli, fake_broker, version: str, usage: str) -> None:
    """stomp.py printed the bound method's repr instead of the command name."""
    cli = make_cli(fake_broker, version)
    cli.onecmd("ack")
    if version != "1.0":
        cli.onecmd("nack")
    expected = err(f"Expecting: ack {usage}")
    if version != "1.0":
        expected += err(f"Expecting: nack {usage}")
    assert cli.stdout.text.endswith(expected)
    assert "bound method" not in cli.stdout.text


def test_nack_on_stomp_10_is_a_clear_error(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py crashed with AttributeError."""
    cli = make_cli(fake_broker, "1.0")
    cli.onecmd("nack m1")
    assert cli.stdout.text.endswith(
        err("nack is not available in STOMP 1.0 (connect with -S 1.1 or -S 1.2)")
    )
    assert "NACK" not in fake_broker.last.commands()


def test_quit_message_is_printed(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py set the quit flag first, which silenced its own "Shutting down" line."""
    cli = make_cli(fake_broker)
    assert cli.onecmd("quit") is True
    assert cli.stdout.text.endswith("Shutting down, please wait\n")


def test_stats_off_when_off(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py raised KeyError."""
    cli = make_cli(fake_broker)
    cli.onecmd("stats off")
    assert cli.stdout.text.endswith(err("Stats are not on"))


def test_sendreply_honours_the_transaction(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py sent the reply outside the open transaction."""
    cli = make_cli(fake_broker)
    cli.onecmd("begin")
    cli.onecmd("sendreply /queue/a c-1 in the transaction")
    frame = fake_broker.last.wait_for_frame("SEND")
    assert frame.headers["transaction"] == cli.transaction_id
    assert frame.headers["correlation-id"] == "c-1"
    assert frame.body == b"in the transaction\n"


def test_help_unsubscribe_lists_the_right_parameters(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py listed an optional "ack" parameter (copied from subscribe)."""
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.onecmd("help unsubscribe")
    text = cli.stdout.since(mark)
    assert "ack" not in text
    assert f"{BOLD}{GREEN}Optional Parameters:{NO_COLOUR}" not in text
    assert "\tdestination - " in text


def test_help_sendfile_lists_headers_json_as_optional(make_cli, fake_broker: FakeBroker) -> None:
    """stomp.py listed the optional headers.json as required."""
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.onecmd("help sendfile")
    text = cli.stdout.since(mark)
    optional = text.split(f"{BOLD}{GREEN}Optional Parameters:{NO_COLOUR}\n", 1)[1]
    assert optional.startswith("\theaders.json - ")


def test_sendrec_returns_after_the_receipt(make_cli, broker: Broker, queue: str) -> None:
    """stomp.py's sendrec did not block, though its help says it does."""
    cli = make_cli(broker, verbose=True)
    out = cli.stdout
    mark = out.mark()
    cli.onecmd(f"sendrec {queue} hello there")
    printed = out.since(mark)  # no waiting: the RECEIPT is printed before onecmd returns
    receipt = re.search(r"'receipt': '([^']+)'", printed).group(1)
    assert f"RECEIPT\nreceipt-id: {receipt}\n\n\n" in printed
    assert not printed.endswith("> ")  # the shell writes its prompt itself
    assert queue_contents(broker, queue) == ["hello there"]


def test_sendrec_gives_up_after_its_timeout(make_cli, make_fake) -> None:
    """The wait of sendrec is bounded."""
    silent = make_fake(answer_receipts=False)
    cli = make_cli(silent)
    cli.receipt_timeout = 0.3
    started = time.monotonic()
    cli.onecmd("sendrec /queue/a hi")
    assert time.monotonic() - started >= 0.3
    frame = silent.last.wait_for_frame("SEND")
    receipt = frame.headers["receipt"]
    assert cli.stdout.text.endswith(err(f"No receipt {receipt} within 0.3 s"))
    cli.onecmd("sendrec /queue/a")
    assert cli.stdout.text.endswith(err("Expecting: sendrec <destination> <message>"))


def test_run_sends_with_receipts_and_waits_for_them(
    make_cli, fake_broker: FakeBroker, tmp_path: Path
) -> None:
    """A script's messages carry receipts, waited for at its end."""
    script = tmp_path / "script.txt"
    script.write_text(
        "send /queue/a one\nsendreply /queue/a c two\nsendfile /queue/a script.txt\n".replace(
            "script.txt", str(script)
        )
    )
    cli = make_cli(fake_broker)
    cli.onecmd(f"run {script}")
    sends = [f for f in fake_broker.last.frames if f.cmd == "SEND"]
    assert len(sends) == 3
    assert all("receipt" in frame.headers for frame in sends)
    assert cli._receipts.pending == {}
    # The script's own receipts are not printed (non-verbose): only CONNECTED's 2 lines.
    assert cli.stdout.text == "\n\n"


def test_run_reports_missing_receipts(make_cli, make_fake, tmp_path: Path) -> None:
    """Receipts that do not come are reported (and -F exits 1)."""
    silent = make_fake(answer_receipts=False)
    script = tmp_path / "script.txt"
    script.write_text("send /queue/a one\nsend /queue/a two\n")
    cli = make_cli(silent)
    cli.receipt_timeout = 0.2
    cli.onecmd(f"run {script}")
    assert cli.stdout.text.endswith(
        err("No receipt within 0.2 s for 2 message(s) sent by the script")
    )
    assert cli.error_count == 1


def test_received_file_name_cannot_leave_the_directory(
    make_cli, fake_broker: FakeBroker, tmp_path: Path, monkeypatch
) -> None:
    """A filename header of "../x" wrote outside the working directory."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    cli = make_cli(fake_broker)
    cli.onecmd("subscribe /queue/a")
    fake_broker.last.send_message(
        "/queue/a", base64.b64encode(b"evil").decode(), {"filename": "../../escape.txt"}
    )
    cli.stdout.wait_for("Saved file: escape.txt\n")
    assert (tmp_path / "cwd" / "escape.txt").read_bytes() == b"evil"
    assert not (tmp_path / "escape.txt").exists()
