"""``python -m stomp.broker``: run the embedded broker until SIGINT or SIGTERM.

For development and tests only; see :mod:`stomp.broker`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from stomp import heartbeat
from stomp.broker.server import Broker

__all__ = ["main", "parse_args"]


def _heartbeats(text: str) -> tuple[int, int]:
    try:
        return heartbeat.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected two non-negative integers in ms, like 1000,1000: {text!r}"
        ) from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m stomp.broker",
        description=(
            "Run stomp-ng's embedded STOMP 1.0/1.1/1.2 broker (in memory; for development "
            "and tests, not for production)."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=61613,
        help="port to listen on, 0 for any free one (default %(default)s)",
    )
    parser.add_argument("--login", help="require this login on CONNECT (with --passcode)")
    parser.add_argument(
        "--passcode",
        default=os.environ.get("STOMP_BROKER_PASSCODE"),
        help="require this passcode on CONNECT (default: $STOMP_BROKER_PASSCODE, which keeps "
        "it out of the process list)",
    )
    parser.add_argument(
        "--heartbeats",
        type=_heartbeats,
        metavar="SX,SY",
        help="the broker's heart-beat offer in ms (default: whatever each client asks for)",
    )
    parser.add_argument(
        "--virtual-host",
        action="append",
        dest="virtual_hosts",
        metavar="NAME",
        help="accept only CONNECTs whose host header names this virtual host (repeatable; "
        "e.g. --virtual-host / refuses a missing vhost as RabbitMQ does)",
    )
    parser.add_argument(
        "--max-subscriptions",
        type=int,
        default=10_000,
        metavar="N",
        help="subscriptions one connection may hold (default %(default)s)",
    )
    parser.add_argument(
        "--max-transaction-bytes",
        type=int,
        default=64 * 1024 * 1024,
        metavar="BYTES",
        help="message bytes one open transaction may hold (default %(default)s)",
    )
    parser.add_argument(
        "--max-queue-bytes",
        type=int,
        default=64 * 1024 * 1024,
        metavar="BYTES",
        help="message bytes one queue may hold, waiting or unacknowledged (default %(default)s)",
    )
    parser.add_argument(
        "--max-pending-bytes",
        type=int,
        default=64 * 1024 * 1024,
        metavar="BYTES",
        help="bytes waiting to be written to one client before it is closed as a slow "
        "consumer (default %(default)s)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every frame (passcodes hidden)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the broker until SIGINT or SIGTERM; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        broker = Broker(
            args.host,
            args.port,
            login=args.login,
            passcode=args.passcode,
            heartbeats=args.heartbeats,
            virtual_hosts=tuple(args.virtual_hosts) if args.virtual_hosts else None,
            max_subscriptions=args.max_subscriptions,
            max_transaction_bytes=args.max_transaction_bytes,
            max_queue_bytes=args.max_queue_bytes,
            max_pending_bytes=args.max_pending_bytes,
        ).start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(
        f"stomp-ng embedded broker listening on {broker.host}:{broker.port} "
        "(development and tests only; Ctrl-C stops it)",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            if not broker.running:
                print("the broker stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        broker.stop()
    print("stomp-ng embedded broker stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
