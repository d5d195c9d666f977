"""The help of the shell's commands, as data, and how a help block is laid out.

Each entry of :data:`TOPICS` is what ``help <command>`` prints for a command (and for its
aliases, :data:`ALIASES`); the shell turns every entry into the ``help_<command>`` method
:class:`cmd.Cmd` looks for, and prints it with :func:`help_lines` (the layout of stomp.py's
``help_*``: usage, required and optional parameters, description).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

from stomp.cli.receipts import TIMEOUT
from stomp.colours import BOLD, GREEN, NO_COLOUR


class Topic(NamedTuple):
    """The help of one command."""

    usage: str
    description: str
    required: tuple[tuple[str, str], ...] = ()
    optional: tuple[tuple[str, str], ...] = ()


_DESTINATION = ("destination", "where to send it")
_MESSAGE = ("message", "the text (the rest of the line)")
_MESSAGE_ID = ("message-id", "the message's message-id (1.2: its ack header)")

#: The help of every command, by name.
TOPICS: Final[dict[str, Topic]] = {
    "subscribe": Topic(
        "subscribe <destination> [ack]",
        "Subscribe to a destination; its messages are printed as they arrive.",
        required=(("destination", "the name to receive messages from"),),
        optional=(
            ("ack", "how to acknowledge them: auto (the default), client or client-individual"),
        ),
    ),
    "unsubscribe": Topic(
        "unsubscribe <destination>",
        "Stop the subscription to a destination made with subscribe.",
        required=(("destination", "the destination given to subscribe"),),
    ),
    "send": Topic(
        "send <destination> <message>",
        "Send a message (in the open transaction, if any).",
        required=(_DESTINATION, _MESSAGE),
    ),
    "sendrec": Topic(
        "sendrec <destination> <message>",
        "Send a message with a receipt header and block until the broker's RECEIPT"
        f" arrives ({TIMEOUT:g} s at most).",
        required=(_DESTINATION, _MESSAGE),
    ),
    "sendreply": Topic(
        "sendreply <destination> <correlation-id> <message>",
        "Send a reply: a message with a correlation-id header (in the open transaction, if any).",
        required=(
            _DESTINATION,
            ("correlation-id", "the correlation-id header of the reply"),
            _MESSAGE,
        ),
    ),
    "sendfile": Topic(
        "sendfile <destination> <filename> [headers.json]",
        "Send a file as a base64 message with a filename header; a client subscribed"
        " with this shell saves it in its working directory.",
        required=(_DESTINATION, ("filename", "the file to send")),
        optional=(("headers.json", "a file holding a JSON object of extra headers"),),
    ),
    "version": Topic(
        "version",
        "Show stomp-ng's version, the stomp.py API version and the STOMP protocol version in use.",
    ),
    "reconnect": Topic(
        "reconnect",
        "Connect again after the connection was lost, with the same login; the"
        " subscriptions made in this shell are made again.",
    ),
    "ack": Topic(
        "ack <message-id> [subscription-id]",
        "Acknowledge a message received on a subscription with ack mode client or"
        " client-individual. STOMP 1.0: ack <message-id>; 1.1: ack <message-id>"
        " <subscription-id>; 1.2: ack <ack-id> (the message's ack header).",
        required=(_MESSAGE_ID,),
        optional=(("subscription-id", "the message's subscription header (needed by 1.1)"),),
    ),
    "nack": Topic(
        "nack <message-id> [subscription]",
        "Tell the broker a message was not processed (STOMP 1.1 and 1.2); arguments as for ack.",
        required=(_MESSAGE_ID,),
        optional=(("subscription", "the message's subscription header (needed by 1.1)"),),
    ),
    "begin": Topic(
        "begin",
        "Begin a transaction: the sends, acks and nacks that follow take effect at"
        " commit, or not at all after abort.",
    ),
    "commit": Topic("commit", "Commit the open transaction."),
    "abort": Topic("abort", "Abort (roll back) the open transaction."),
    "stats": Topic(
        "stats [on|off]",
        "Count frames from now on (on), stop (off), or show the counts (no argument).",
        optional=(("on|off", "start or stop counting"),),
    ),
    "run": Topic(
        "run <filename>",
        "Run the commands of a file, one per line (blank lines and lines starting with"
        " # are skipped), then wait for the receipts of the messages it sent. quit ends it.",
        required=(("filename", "the file of commands"),),
    ),
    "quit": Topic("exit", "Disconnect and leave the client (also exit, quit, Ctrl-D and Ctrl-C)."),
}

#: Commands that share another's help: alias -> command.
ALIASES: Final[dict[str, str]] = {
    "rollback": "abort",
    "ver": "version",
    "exit": "quit",
    "EOF": "quit",
}


def help_lines(
    usage: str,
    description: str,
    required: Iterable[tuple[str, str]] = (),
    optional: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """The lines of a help block (headings in bold green): usage, the required and the
    optional parameters (``(name, description)`` pairs, each heading only when there are
    some), description."""

    def heading(title: str) -> str:
        return f"{BOLD}{GREEN}{title}{NO_COLOUR}"

    lines = [heading("Usage:"), f"\t{usage}", ""]
    for title, params in (("Required Parameters:", required), ("Optional Parameters:", optional)):
        params = list(params)
        if params:
            lines.append(heading(title))
            lines.extend(f"\t{name} - {text}" for name, text in params)
            lines.append("")
    lines += [heading("Description:"), f"\t{description}", " " * 8]
    return lines
