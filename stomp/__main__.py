"""Entry point of ``python -m stomp`` and of the ``stomp`` console script.

The client itself lives in :mod:`stomp.cli`; its names are re-exported here because
stomp.py users import them from ``stomp.__main__`` (``from stomp.__main__ import
StompCLI``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
from cmd import Cmd
from functools import partial

from docopt import docopt

import stomp
from stomp.adapter.multicast import MulticastConnection
from stomp.cli import StompCLI, SubscriptionInfo, do_nothing_loop, heartbeat_pattern, main
from stomp.connect import StompConnection10, StompConnection11, StompConnection12
from stomp.listener import ConnectionListener, StatsListener

# The names stomp.py's __main__ has, the modules it imports included (its star import
# hands them on).
__all__ = [
    "Cmd",
    "ConnectionListener",
    "MulticastConnection",
    "StatsListener",
    "StompCLI",
    "StompConnection10",
    "StompConnection11",
    "StompConnection12",
    "SubscriptionInfo",
    "base64",
    "do_nothing_loop",
    "docopt",
    "heartbeat_pattern",
    "json",
    "main",
    "os",
    "partial",
    "re",
    "stomp",
    "sys",
    "time",
]

if __name__ == "__main__":
    sys.exit(main())
