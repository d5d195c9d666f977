"""The command-line client: ``stomp`` and ``python -m stomp``.

:class:`StompCLI` is an interactive shell (a :class:`cmd.Cmd`) on one connection, and a
listener of that connection that prints the frames the broker sends.  :func:`main` parses
the command line (with docopt) and runs the shell, a script (``-F``) or a listener
(``--listen``).  The options, commands and outputs are those of stomp.py 9.0.0's client;
where stomp.py misbehaves this package does not (see ``docs/cli.rst``):

* a broker that cannot be reached or refuses the login gives one error line on stderr and
  exit status 1, never a traceback;
* every way out (``quit``, end of input, Ctrl-C, the end of a script or of ``--listen``)
  sends DISCONNECT and waits (bounded) for its receipt;
* a script sends its messages with receipts and waits for them before it ends;
* the passcode is never printed, not even in ``--verbose`` echoes of the frames sent;
* every command's usage error names the command.

No wait in this package is unbounded except the two that are the point of the program:
reading the next command, and ``--listen`` without ``--count``.

Its parts: :mod:`~stomp.cli.shell` (:class:`StompCLI`: the commands and the listener
callbacks), :mod:`~stomp.cli.output` (what is printed, and where),
:mod:`~stomp.cli.receipts` (the receipts waited for), :mod:`~stomp.cli.helptable` (the
commands' help) and :mod:`~stomp.cli.program` (:func:`main`: options and modes).
"""

from __future__ import annotations

from stomp.cli.program import USAGE, do_nothing_loop, heartbeat_pattern, main
from stomp.cli.receipts import TIMEOUT
from stomp.cli.shell import HISTORY_FILE, StompCLI, SubscriptionInfo

__all__ = [
    "HISTORY_FILE",
    "TIMEOUT",
    "USAGE",
    "StompCLI",
    "SubscriptionInfo",
    "do_nothing_loop",
    "heartbeat_pattern",
    "main",
]
