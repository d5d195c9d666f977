"""stomp-ng end to end in a few seconds, with no broker installed.

Starts the embedded broker (a development tool, not for production) on a free port,
connects with STOMP 1.2, subscribes to a queue, sends a message, prints it when it
arrives, disconnects and stops the broker.  Exits with status 1 if anything fails.

    python examples/quickstart.py

Against RabbitMQ or ActiveMQ, only the address (and your credentials) change:
``stomp.Connection12([("localhost", 61613)])`` and ``conn.connect("guest", "guest", wait=True)``.
"""

from __future__ import annotations

import queue
import sys

import stomp
from stomp.broker import Broker
from stomp.codec import Frame

TIMEOUT = 10.0  # seconds to wait for the message


class Printer(stomp.ConnectionListener):
    """Hands each received message to the main thread."""

    def __init__(self) -> None:
        self.received: queue.Queue[Frame] = queue.Queue()

    def on_message(self, frame: Frame) -> None:
        self.received.put(frame)

    def on_error(self, frame: Frame) -> None:
        print(f"broker error: {frame.headers.get('message')}", file=sys.stderr)


def main() -> int:
    with Broker(port=0) as broker:
        print(f"embedded broker listening on {broker.host}:{broker.port}")
        conn = stomp.Connection12([broker.address], timeout=TIMEOUT)
        listener = Printer()
        conn.set_listener("printer", listener)
        conn.connect(wait=True)
        try:
            conn.subscribe("/queue/quickstart", id="1", ack="auto")
            conn.send("/queue/quickstart", "hello from stomp-ng", content_type="text/plain")
            try:
                frame = listener.received.get(timeout=TIMEOUT)
            except queue.Empty:
                print(f"no message within {TIMEOUT} s", file=sys.stderr)
                return 1
            print("received:", frame.body)
        finally:
            conn.disconnect()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
