"""Entry point of ``python -m stomp`` and of the ``stomp`` console script.

The client itself lives in :mod:`stomp.cli`; its names are re-exported here because
stomp.py users import them from ``stomp.__main__`` (``from stomp.__main__ import
StompCLI``).
"""

from __future__ import annotations

import sys

from stomp.cli import StompCLI, SubscriptionInfo, do_nothing_loop, heartbeat_pattern, main

__all__ = ["StompCLI", "SubscriptionInfo", "do_nothing_loop", "heartbeat_pattern", "main"]

if __name__ == "__main__":
    sys.exit(main())
