"""The command-line client's parts alone, without a broker: the output, the receipts the
client waits for, and the help table."""

from __future__ import annotations

import io
import threading

import pytest

from stomp.cli import StompCLI
from stomp.cli.helptable import ALIASES, TOPICS, help_lines
from stomp.cli.output import Output, frame_text, json_line
from stomp.cli.receipts import AWAITED, SILENT, Receipts
from stomp.codec import Frame


class GonePipe(io.StringIO):
    """A stdout whose reader went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError


# -- output ------------------------------------------------------------------------------


def test_output_closes_once_when_the_reader_is_gone() -> None:
    closed: list[bool] = []
    output = Output(GonePipe(), on_closed=lambda: closed.append(True))
    output.notice("one")
    output.notice("two")
    assert output.closed
    assert closed == [True]  # reported once, and no exception in the writer's thread


def test_output_json_mode_keeps_stdout_for_messages() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    output = Output(stdout, stderr, json_mode=True)
    output.notice("Subscribing")
    output.message_json(Frame("MESSAGE", {"message-id": "1"}, b"\xff"))
    assert stderr.getvalue() == "Subscribing\n"
    assert stdout.getvalue() == (
        '{"headers": {"message-id": "1"}, "body": "/w==", "body_encoding": "base64"}\n'
    )


def test_output_detached_writes_nothing() -> None:
    stdout = io.StringIO()
    output = Output(stdout)
    output.detach()
    output.error("late")
    assert stdout.getvalue() == ""


def test_frame_text_masks_the_passcode_and_prompt_follows_later_frames() -> None:
    frame = Frame("CONNECTED", {"version": "1.2", "passcode": "secret"}, "")
    assert frame_text("CONNECTED", frame, None, verbose=True, spaced=True) == (
        "CONNECTED\nversion: 1.2\npasscode: ********\n\n\n"
    )
    stdout = io.StringIO()
    output = Output(stdout)
    message = Frame("MESSAGE", {"message-id": "7", "subscription": "1"}, "hi")
    output.frame("MESSAGE", message, verbose=False, prompt="> ")
    output.frame("MESSAGE", message, verbose=False, prompt="> ")
    shown = "message-id: 7\nsubscription: 1\n\nhi\n"
    assert stdout.getvalue() == shown + shown + "> "  # the first is followed by cmd's prompt
    assert json_line(Frame("MESSAGE", {}, "é")).endswith(
        '"body": "\\u00e9", "body_encoding": "utf-8"}\n'
    )


# -- receipts ----------------------------------------------------------------------------


def test_receipts_wait_returns_the_missing_ones() -> None:
    receipts = Receipts()
    first, second = receipts.expect(SILENT), receipts.expect(AWAITED)
    assert receipts.kind(first) == SILENT and receipts.kind("other") is None
    assert receipts.of_kind(SILENT) == [first]
    receipts.settle(first)
    assert receipts.wait([first, second], timeout=0.01) == {second}
    assert receipts.pending == {}  # the missing ones are forgotten


def test_receipts_wait_ends_when_settled_from_another_thread() -> None:
    receipts = Receipts()
    receipt_id = receipts.expect(AWAITED)
    threading.Timer(0.05, receipts.settle, [receipt_id]).start()
    assert receipts.wait([receipt_id], timeout=10) == set()


def test_receipts_wait_ends_when_the_connection_is_lost() -> None:
    receipts = Receipts()
    receipt_id = receipts.expect(SILENT)
    threading.Timer(0.05, receipts.connection_lost).start()
    assert receipts.wait([receipt_id], timeout=10) == {receipt_id}
    assert receipts.lost


# -- help table --------------------------------------------------------------------------


def test_every_command_has_help() -> None:
    commands = {name[3:] for name in dir(StompCLI) if name.startswith("do_")} - {"help"}
    assert commands <= {*TOPICS, *ALIASES}
    for command in commands:
        assert callable(getattr(StompCLI, f"help_{command}"))
    assert StompCLI.help_rollback is StompCLI.help_abort


@pytest.mark.parametrize("command", sorted(TOPICS))
def test_help_lines_layout(command: str) -> None:
    topic = TOPICS[command]
    lines = help_lines(*topic)
    assert lines[1] == f"\t{topic.usage}"
    assert ("Required Parameters:" in "".join(lines)) == bool(topic.required)
    assert ("Optional Parameters:" in "".join(lines)) == bool(topic.optional)
    assert lines[-2] == f"\t{topic.description}"
