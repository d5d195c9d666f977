"""Every interactive command of the client, driven directly through ``StompCLI.onecmd``.

Outputs are compared with stomp.py 9.0.0's (reference section 8.5); what a command sends
is checked on a real broker (the message arrives, or the queue is empty) or, for headers
only the wire shows, on the fake broker.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from cliutil import Output, consumer, publish, queue_contents
from support.fakebroker import FakeBroker

import stomp
from brokerinfo import Broker
from stomp.colours import BOLD, GREEN, NO_COLOUR, RED


def err(text: str) -> str:
    """``text`` as the client prints an error."""
    return f"{BOLD}{RED}{text}{NO_COLOUR}\n"


# -- subscribe / unsubscribe ------------------------------------------------------------------


def test_subscribe_prints_and_receives(make_cli, broker: Broker, queue: str) -> None:
    cli = make_cli(broker)
    out = cli.stdout
    cli.onecmd(f"subscribe {queue}")
    assert f"Subscribing to '{queue}' with acknowledge set to 'auto', id set to '1'\n" in out.text
    publish(broker, queue, "hello world")
    text = out.wait_for("hello world\n")
    assert re.search(r"\nmessage-id: \S+\nsubscription: 1\n\nhello world\n> ", text)


def test_subscribe_ids_ack_and_errors(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    out = cli.stdout
    cli.onecmd("subscribe /queue/a")
    cli.onecmd("subscribe /queue/b client-individual")
    cli.onecmd("subscribe /queue/a")
    cli.onecmd("subscribe")
    assert out.text.endswith(
        "Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n"
        "Subscribing to '/queue/b' with acknowledge set to 'client-individual', id set to '2'\n"
        + err("Already subscribed to /queue/a")
        + err("Expecting: subscribe <destination> [ack]")
    )
    frame = fake_broker.last.wait_for_frame("SUBSCRIBE", 2)
    assert frame.headers == {"destination": "/queue/b", "id": "2", "ack": "client-individual"}
    assert sorted(cli.subscriptions) == ["/queue/a", "/queue/b"]
    assert (cli.subscriptions["/queue/b"].id, cli.subscriptions["/queue/b"].ack) == (
        2,
        "client-individual",
    )


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_unsubscribe(make_cli, fake_broker: FakeBroker, version: str) -> None:
    cli = make_cli(fake_broker, version)
    out = cli.stdout
    cli.onecmd("subscribe /queue/a")
    cli.onecmd("unsubscribe /queue/a")
    cli.onecmd("unsubscribe /queue/a")
    cli.onecmd("unsubscribe")
    assert out.text.endswith(
        "Unsubscribing from '/queue/a'\n"
        "Subscription /queue/a not found\n" + err("Expecting: unsubscribe <destination>")
    )
    frame = fake_broker.last.wait_for_frame("UNSUBSCRIBE")
    assert frame.headers == {"id": "1", "destination": "/queue/a"}
    assert cli.subscriptions == {}


def test_unsubscribe_stops_delivery(make_cli, rabbitmq: Broker, queue: str) -> None:
    cli = make_cli(rabbitmq)
    cli.onecmd(f"subscribe {queue}")
    cli.onecmd(f"unsubscribe {queue}")
    cli.onecmd(f"sendrec {queue} after")  # not consumed by the shell any more
    assert queue_contents(rabbitmq, queue) == ["after"]
    assert "after" not in cli.stdout.text


# -- send, sendrec, sendreply, sendfile -------------------------------------------------------


def test_send(make_cli, broker: Broker, queue: str) -> None:
    cli = make_cli(broker)
    with consumer(broker, queue) as collector:
        cli.onecmd(f"send {queue} hello    big   world")
        message = collector.wait_messages(1)[0]
    assert message.body == "hello big world"
    assert message.headers["destination"] == queue
    assert "transaction" not in message.headers


def test_send_usage(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    cli.onecmd("send /queue/a")
    cli.onecmd("send")
    assert cli.stdout.text.endswith(err("Expecting: send <destination> <message>") * 2)
    assert "SEND" not in fake_broker.last.commands()


def test_sendreply(make_cli, broker: Broker, queue: str) -> None:
    cli = make_cli(broker)
    with consumer(broker, queue) as collector:
        cli.onecmd(f"sendreply {queue} corr-7 the   reply")
        cli.onecmd(f"sendreply {queue} corr-7")
        message = collector.wait_messages(1)[0]
    assert message.body == "the reply\n"
    assert message.headers["correlation-id"] == "corr-7"
    assert cli.stdout.text.endswith(
        err("Expecting: sendreply <destination> <correlation-id> <message>")
    )


def test_sendfile_and_receiving_a_file(
    make_cli, broker: Broker, queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    payload = bytes(range(256)) * 4
    (tmp_path / "data.bin").write_bytes(payload)
    (tmp_path / "headers.json").write_text(json.dumps({"x-kind": "blob", "priority": 4}))
    cli = make_cli(broker)
    out = cli.stdout
    with consumer(broker, queue) as collector:
        cli.onecmd(f"sendfile {queue} data.bin headers.json")
        message = collector.wait_messages(1)[0]
    assert "Loading headers.json\nUsing headers {'x-kind': 'blob', 'priority': 4}\n" in out.text
    assert message.headers["filename"] == "data.bin"
    assert message.headers["x-kind"] == "blob"
    assert base64.b64decode(message.body) == payload

    # A client subscribed to the destination saves the file in its working directory,
    # never over an existing file.
    monkeypatch.chdir(tmp_path / "out")
    (tmp_path / "out" / "data.bin").write_bytes(b"keep me")
    cli.onecmd(f"subscribe {queue}")
    cli.onecmd(f"sendfile {queue} ../data.bin")
    text = out.wait_for("Saved file: ")
    saved = re.search(r"Saved file: (\S+)\n", text).group(1)
    assert re.fullmatch(r"data\.bin\.\d+", saved)
    assert (tmp_path / "out" / saved).read_bytes() == payload
    assert (tmp_path / "out" / "data.bin").read_bytes() == b"keep me"


def test_sendfile_errors(make_cli, fake_broker: FakeBroker, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "bad.json").write_text("[1, 2]")
    cli = make_cli(fake_broker)
    out = cli.stdout
    for line in (
        "sendfile /queue/a",
        "sendfile /queue/a missing.txt",
        "sendfile /queue/a f.txt missing.json",
        "sendfile /queue/a f.txt bad.json",
        "sendfile /queue/a f.txt bad.json extra",
    ):
        cli.onecmd(line)
    assert out.text.endswith(
        err("Expecting: sendfile <destination> <filename> [headers.json]")
        + err("File missing.txt does not exist")
        + err("File missing.json does not exist")
        + "Loading bad.json\n"
        + err("Cannot read headers from bad.json: not a JSON object")
        + err("Expecting: sendfile <destination> <filename> [headers.json]")
    )
    assert "SEND" not in fake_broker.last.commands()


# -- version ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["version", "ver"])
@pytest.mark.parametrize("version", ["1.0", "1.2"])
def test_version(make_cli, fake_broker: FakeBroker, command: str, version: str) -> None:
    cli = make_cli(fake_broker, version)
    cli.onecmd(command)
    assert cli.stdout.text.endswith(
        f"{BOLD}stomp-ng {stomp.__ng_version__} (stomp.py 9.0.0 API) [Protocol version {version}]"
        f"{NO_COLOUR}\n"
    )


# -- ack / nack -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "line", "headers"),
    [
        ("1.0", "ack m1", {"message-id": "m1"}),
        ("1.1", "ack m1 7", {"message-id": "m1", "subscription": "7"}),
        ("1.2", "ack a1", {"id": "a1"}),
        ("1.1", "nack m1 7", {"message-id": "m1", "subscription": "7"}),
        ("1.2", "nack a1", {"id": "a1"}),
    ],
)
def test_ack_frames(make_cli, fake_broker, version: str, line: str, headers: dict) -> None:
    cli = make_cli(fake_broker, version)
    cli.onecmd("begin")
    cli.onecmd(line)
    frame = fake_broker.last.wait_for_frame(line.split()[0].upper())
    assert frame.headers == dict(headers, transaction=cli.transaction_id)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_ack_on_a_broker(make_cli, broker: Broker, queue: str, version: str) -> None:
    publish(broker, queue, "first", "second")
    cli = make_cli(broker, version, verbose=True)
    out = cli.stdout
    cli.onecmd(f"subscribe {queue} client-individual")
    text = out.wait_for("\nsecond\n")
    first = text[: text.index("\nfirst\n")].rsplit("MESSAGE\n", 1)[1]
    headers = dict(line.split(": ", 1) for line in first.splitlines() if ": " in line)
    if version == "1.1":
        cli.onecmd(f"ack {headers['message-id']} {headers['subscription']}")
    else:
        cli.onecmd(f"ack {headers['ack']}")
    cli.close()  # DISCONNECT's receipt: the broker has the ACK
    assert queue_contents(broker, queue) == ["second"]  # not acknowledged: redelivered


def test_nack_redelivers_on_rabbitmq(make_cli, rabbitmq: Broker, queue: str) -> None:
    publish(rabbitmq, queue, "unwanted")
    cli = make_cli(rabbitmq, "1.2", verbose=True)
    out = cli.stdout
    cli.onecmd(f"subscribe {queue} client-individual")
    text = out.wait_for("\nunwanted\n")
    ack_id = re.search(r"\nack: (\S+)\n", text).group(1)
    cli.onecmd(f"nack {ack_id}")
    text = out.wait_for("\nunwanted\n", count=2)
    assert "redelivered: true" in text


# -- transactions -----------------------------------------------------------------------------


def test_begin_commit(make_cli, broker: Broker, queue: str) -> None:
    cli = make_cli(broker)
    out = cli.stdout
    cli.onecmd("begin")
    transaction = cli.transaction_id
    assert out.text.endswith(f"Transaction id: {transaction}\n")
    cli.onecmd("begin")
    assert out.text.endswith(err(f"Currently in a transaction ({transaction})"))
    cli.onecmd(f"send {queue} in-the-transaction")
    cli.onecmd(f"sendreply {queue} c1 reply-in-the-transaction")
    cli.onecmd("commit")
    assert out.text.endswith(f"Committing {transaction}\n")
    assert cli.transaction_id is None
    cli.onecmd("commit")
    assert out.text.endswith(err("Not currently in a transaction"))
    cli.onecmd(f"sendrec {queue} after")
    assert queue_contents(broker, queue) == [
        "in-the-transaction",
        "reply-in-the-transaction\n",
        "after",
    ]


@pytest.mark.parametrize("command", ["abort", "rollback"])
def test_abort(make_cli, broker: Broker, queue: str, command: str) -> None:
    cli = make_cli(broker)
    out = cli.stdout
    cli.onecmd("begin")
    transaction = cli.transaction_id
    cli.onecmd(f"send {queue} dropped")
    cli.onecmd(f"sendreply {queue} c1 dropped-reply")
    cli.onecmd(command)
    assert out.text.endswith(f"Aborted transaction: {transaction}\n")
    cli.onecmd(command)
    assert out.text.endswith(err("Not currently in a transaction"))
    cli.onecmd(f"sendrec {queue} kept")
    assert queue_contents(broker, queue) == ["kept"]


# -- stats ------------------------------------------------------------------------------------


def test_stats(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    out = cli.stdout
    cli.onecmd("stats")
    assert out.text.endswith(err("No stats available"))
    cli.onecmd("stats on")
    cli.onecmd("send /queue/a one")
    cli.onecmd("subscribe /queue/a")
    fake_broker.last.send_message("/queue/a", "hi")
    out.wait_for("\nhi\n")
    mark = out.mark()
    cli.onecmd("stats")
    assert out.since(mark) == (
        "Connections: 0\nDisconnects: 0\nMessages sent: 2\nMessages received: 1\n"
        "Heartbeats received: 0\nErrors: 0\n"
    )
    cli.onecmd("stats off")
    cli.onecmd("stats")
    cli.onecmd("stats off")
    cli.onecmd("stats maybe")
    assert out.text.endswith(
        err("No stats available") + err("Stats are not on") + err("Expecting: stats [on|off]")
    )


# -- run --------------------------------------------------------------------------------------


def test_run(make_cli, broker: Broker, queue: str, tmp_path: Path) -> None:
    inner = tmp_path / "inner.txt"
    inner.write_text(f"send {queue} from-the-inner-script\n")
    script = tmp_path / "script.txt"
    script.write_text(
        f"# a comment\n\nsend {queue} one\r\n   send {queue} two  \nrun {inner}\nbogus\n"
        f"send {queue} three\n"
    )
    cli = make_cli(broker)
    out = cli.stdout
    assert cli.onecmd(f"run {script}") is False
    assert out.text.endswith(err("Unknown command: bogus"))
    assert cli._receipts.pending == {}  # every receipt of the script arrived
    assert queue_contents(broker, queue) == ["one", "two", "from-the-inner-script", "three"]


def test_run_errors(make_cli, fake_broker: FakeBroker, tmp_path: Path) -> None:
    cli = make_cli(fake_broker)
    cli.onecmd("run")
    cli.onecmd(f"run {tmp_path / 'nothing.txt'}")
    assert cli.stdout.text.endswith(
        err("Expecting: run <filename>") + err(f"File {tmp_path / 'nothing.txt'} was not found")
    )


# -- quit, exit, EOF --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["quit", "exit", "EOF"])
def test_quit(make_cli, fake_broker: FakeBroker, command: str) -> None:
    cli = make_cli(fake_broker)
    out = cli.stdout
    assert cli.onecmd(command) is True
    assert out.text.endswith("Shutting down, please wait\n")
    mark = out.mark()
    fake_broker.last.send_message("/queue/a", "late")
    cli.onecmd("ver")
    cli.onecmd("sendrec /queue/a sync")  # the RECEIPT comes after the MESSAGE
    cli.onecmd("stats")  # errors are still printed
    assert out.since(mark) == err("No stats available")


def test_cmdloop_reads_stdin_until_eof(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker, stdin=io.StringIO("ver\n\nsubscribe /queue/a\n"))
    cli.cmdloop()
    assert cli.stdout.text.endswith(
        f"> {BOLD}stomp-ng {stomp.__ng_version__} (stomp.py 9.0.0 API) [Protocol version 1.1]"
        f"{NO_COLOUR}\n> > "
        "Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n"
        "> Shutting down, please wait\n"
    )


# -- help, empty lines, unknown commands, completion ------------------------------------------


def test_help_lists_the_commands(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.onecmd("help")
    text = cli.stdout.since(mark)
    assert "Documented commands (type help <topic>):" in text
    assert "Undocumented" not in text
    listed = sorted(text.split("========================================", 1)[1].split())
    assert listed == sorted(
        [
            "EOF",
            "abort",
            "ack",
            "begin",
            "commit",
            "exit",
            "help",
            "nack",
            "quit",
            "reconnect",
            "rollback",
            "run",
            "send",
            "sendfile",
            "sendrec",
            "sendreply",
            "stats",
            "subscribe",
            "unsubscribe",
            "ver",
            "version",
        ]
    )


def heading(title: str) -> str:
    return f"{BOLD}{GREEN}{title}{NO_COLOUR}"


USAGES = {
    "quit": "exit",
    "exit": "exit",
    "EOF": "exit",
    "subscribe": "subscribe <destination> [ack]",
    "unsubscribe": "unsubscribe <destination>",
    "send": "send <destination> <message>",
    "sendrec": "sendrec <destination> <message>",
    "sendreply": "sendreply <destination> <correlation-id> <message>",
    "sendfile": "sendfile <destination> <filename> [headers.json]",
    "version": "version",
    "ver": "version",
    "ack": "ack <message-id> [subscription-id]",
    "nack": "nack <message-id> [subscription]",
    "abort": "abort",
    "rollback": "abort",
    "begin": "begin",
    "commit": "commit",
    "stats": "stats [on|off]",
    "run": "run <filename>",
}

PARAMETERS = {
    "subscribe": (["destination"], ["ack"]),
    "unsubscribe": (["destination"], []),
    "send": (["destination", "message"], []),
    "sendrec": (["destination", "message"], []),
    "sendreply": (["destination", "correlation-id", "message"], []),
    "sendfile": (["destination", "filename"], ["headers.json"]),
    "ack": (["message-id"], ["subscription-id"]),
    "nack": (["message-id"], ["subscription"]),
    "stats": ([], ["on|off"]),
    "run": (["filename"], []),
}


@pytest.mark.parametrize("command", sorted(USAGES))
def test_help_blocks(make_cli, fake_broker: FakeBroker, command: str) -> None:
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.onecmd(f"help {command}")
    lines = cli.stdout.since(mark).split("\n")
    assert lines[:3] == [heading("Usage:"), f"\t{USAGES[command]}", ""]
    required, optional = PARAMETERS.get(command, ([], []))
    position = 3
    for title, names in (("Required Parameters:", required), ("Optional Parameters:", optional)):
        if names:
            assert lines[position] == heading(title)
            params = lines[position + 1 : position + 1 + len(names)]
            assert [p.split(" - ")[0] for p in params] == [f"\t{n}" for n in names]
            assert lines[position + 1 + len(names)] == ""
            position += len(names) + 2
    assert lines[position] == heading("Description:")
    assert lines[position + 1].startswith("\t") and len(lines[position + 1]) > 10
    assert lines[position + 2 :] == [" " * 8, ""]


def test_help_help_and_unknown_topic(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.onecmd("help help")
    cli.onecmd("? send")
    text = cli.stdout.since(mark)
    assert text.startswith("Quick help on commands\n" + heading("Usage:") + "\n\tsend <")


def test_empty_line_and_unknown_command(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    cli.onecmd("ver")
    mark = cli.stdout.mark()
    assert cli.onecmd("") is False  # does not repeat "ver"
    assert cli.onecmd("frobnicate now please") is False
    assert cli.stdout.since(mark) == err("Unknown command: frobnicate")


def test_completion(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    assert cli.completenames("sub") == ["subscribe "]
    assert cli.completenames("send") == ["send ", "sendfile ", "sendrec ", "sendreply "]
    assert cli.complete_help("ver", "help ver", 5, 8) == ["ver", "version"]
    cli.onecmd("subscribe /queue/alpha")
    cli.onecmd("subscribe /queue/beta")
    cli.onecmd("subscribe /topic/alpha")
    line = "send /queue/a"
    # readline's default delimiters split at '/': the text is the last piece.
    assert cli.complete_send("a", line, len(line) - 1, len(line)) == ["alpha"]
    assert cli.complete_send(line[5:], line, 5, len(line)) == ["/queue/alpha"]
    assert cli.complete_unsubscribe("", "unsubscribe ", 12, 12) == [
        "/queue/alpha",
        "/queue/beta",
        "/topic/alpha",
    ]
    assert cli.complete_sendfile("", "sendfile /queue/alpha ", 22, 22) == []
    for name in ("sendrec", "sendreply", "sendfile"):
        assert getattr(cli, f"complete_{name}")("/t", f"{name} /t", len(name) + 1, len(name) + 3)


# -- frames printed ---------------------------------------------------------------------------


def test_connected_and_message_printing(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    out = cli.stdout
    assert out.text == "\n\n"  # CONNECTED: no prompt the first time
    cli.onecmd("subscribe /queue/a")
    message_id = fake_broker.last.send_message("/queue/a", "hello world", {"x": "y"})
    out.wait_for("hello world")
    assert out.text.endswith(f"\nmessage-id: {message_id}\nsubscription: 1\n\nhello world\n> ")


def test_verbose_printing(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker, verbose=True)
    out = cli.stdout
    assert out.text == (
        "Sending {cmd=STOMP,headers=[{'accept-version': '1.1'}],body=}\n"
        "CONNECTED\nserver: fakebroker/1\nsession: session-0\nversion: 1.1\n\n\n"
    )
    fake_broker.last.send_frame("ERROR", {"message": "oops"}, "details")
    out.wait_for("details\n> ")
    assert out.text.endswith("ERROR\nmessage: oops\n\ndetails\n> ")
    assert cli.error_count == 1


def test_listen_printing_has_no_prompt(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker, prompt="")
    out = cli.stdout
    cli.listen("/queue/a")
    message_id = fake_broker.last.send_message("/queue/a", "m")
    out.wait_for("\nm\n")
    assert out.text == (
        "\n"
        "Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n"
        f"\nmessage-id: {message_id}\nsubscription: 1\nm\n"
    )


def test_listen_count_acknowledges_and_stops(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker, "1.2", prompt="")
    cli.listen("/queue/a", count=2)
    connection = fake_broker.last
    assert connection.wait_for_frame("SUBSCRIBE").headers["ack"] == "client-individual"
    ids = [connection.send_message("/queue/a", f"m{n}") for n in range(3)]
    assert cli.wait_listen(5)
    acks = [connection.wait_for_frame("ACK", n).headers["id"] for n in (1, 2)]
    assert acks == ids[:2]
    cli.close()
    assert connection.wait_for_frame("DISCONNECT")
    assert "m2" not in cli.stdout.text
    assert [f.cmd for f in connection.frames].count("ACK") == 2


def test_json_output(make_cli, fake_broker: FakeBroker, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    notices = Output()
    cli = make_cli(fake_broker, prompt="", json_output=True, stderr=notices)
    cli.listen("/queue/a")
    connection = fake_broker.last
    connection.send_message("/queue/a", "héllo")
    connection.send_message("/queue/a", b"\xff\x00binary")
    connection.send_message("/queue/a", "aGk=", {"filename": "f.txt"})
    cli.stdout.wait_for("\n", count=3)
    records = [json.loads(line) for line in cli.stdout.text.splitlines()]
    assert records[0]["body"] == "héllo"
    assert records[0]["body_encoding"] == "utf-8"
    assert records[0]["headers"]["destination"] == "/queue/a"
    assert records[1]["body_encoding"] == "base64"
    assert base64.b64decode(records[1]["body"]) == b"\xff\x00binary"
    assert records[2]["body"] == "aGk=" and records[2]["headers"]["filename"] == "f.txt"
    assert list(tmp_path.iterdir()) == []  # files are not saved in JSON mode
    assert (
        notices.text == "Subscribing to '/queue/a' with acknowledge set to 'auto', id set to '1'\n"
    )


def test_lost_connection(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    fake_broker.last.close()
    cli.stdout.wait_for(err("lost connection"))
    assert cli.connection_lost
    cli.onecmd("send /queue/a hi")
    assert cli.stdout.text.endswith(err("send: not connected to the broker"))


def test_reconnect_after_a_lost_connection(make_cli, fake_broker: FakeBroker) -> None:
    cli = make_cli(fake_broker)
    cli.onecmd("reconnect")
    assert cli.stdout.text.endswith(err("reconnect: the connection is open"))
    cli.onecmd("subscribe /queue/a client-individual")
    first = fake_broker.last
    first.close()
    # The error, how to connect again, and the prompt shown again.
    cli.stdout.wait_for(err("lost connection") + "Type reconnect to connect again.\n> ")
    cli.onecmd("reconnect")
    assert fake_broker.last is not first
    assert cli.stdout.text.endswith("Reconnected\nSubscribing to '/queue/a' again, id '1'\n")
    assert not cli.connection_lost
    fake_broker.last.wait_for_frame("SUBSCRIBE")
    subscribe = next(f for f in fake_broker.last.frames if f.cmd == "SUBSCRIBE")
    assert (subscribe.headers["destination"], subscribe.headers["id"]) == ("/queue/a", "1")
    assert subscribe.headers["ack"] == "client-individual"
    cli.onecmd("sendrec /queue/a after")  # receipts work again
    assert fake_broker.last.commands()[-1] == "SEND"
    assert "No receipt" not in cli.stdout.text


def test_unknown_version(fake_broker: FakeBroker) -> None:
    from stomp.cli import StompCLI

    with pytest.raises(RuntimeError, match="Unknown version"):
        StompCLI(fake_broker.host, fake_broker.port, ver="2.0", stdout=Output())


def test_constructor_defaults_and_state(fake_broker: FakeBroker) -> None:
    from stomp.__main__ import StompCLI, SubscriptionInfo

    out = Output()
    cli = StompCLI(fake_broker.host, fake_broker.port, stdout=out)
    try:
        assert cli.verbose is True  # the class default (main passes --verbose)
        assert cli.completekey == "Tab"
        assert (cli.version, cli.nversion, cli.transaction_id) == ("1.1", 1.1, None)
        assert cli.subscriptions == {}
        connect = fake_broker.last.wait_for_frame("STOMP")
        assert connect.headers["login"] == "" and connect.headers["passcode"] == ""
        assert cli.conn.get_listener("") is cli
        assert SubscriptionInfo(3, "auto").id == 3
    finally:
        cli.close()


def test_run_nesting_is_limited(make_cli, fake_broker: FakeBroker, tmp_path: Path) -> None:
    script = tmp_path / "loop.txt"
    script.write_text(f"run {script}\n")
    cli = make_cli(fake_broker)
    assert cli.onecmd(f"run {script}") is False
    assert cli.stdout.text.endswith(err("run: scripts nested more than 20 deep"))
    assert cli.error_count == 1


def test_help_method_prints_a_block_as_stomppy_names_it(make_cli, fake_broker: FakeBroker) -> None:
    # stomp.py's StompCLI.help(usage, description, required, optional), called directly.
    cli = make_cli(fake_broker)
    mark = cli.stdout.mark()
    cli.help("frob <thing>", "Frobs a thing.", [("thing", "what to frob")], [("how", "how")])
    assert cli.stdout.since(mark).split("\n") == [
        heading("Usage:"),
        "\tfrob <thing>",
        "",
        heading("Required Parameters:"),
        "\tthing - what to frob",
        "",
        heading("Optional Parameters:"),
        "\thow - how",
        "",
        heading("Description:"),
        "\tFrobs a thing.",
        " " * 8,
        "",
    ]


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_check_ack_nack_called_directly(make_cli, fake_broker: FakeBroker, version: str) -> None:
    # stomp.py's StompCLI.check_ack_nack(acknackfunc, args): the argument text or words.
    cli = make_cli(fake_broker, version)
    cli.check_ack_nack(cli.conn.ack, "")
    assert "Expecting: ack <" in cli.stdout.text
    words = ["m1", "sub1"] if version == "1.1" else ["m1"]
    cli.check_ack_nack(cli.conn.ack, words)
    frame = fake_broker.last.wait_for_frame("ACK")
    assert "m1" in frame.headers.values()
