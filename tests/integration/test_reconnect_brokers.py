"""Automatic reconnection and confirmed publishing against real brokers.

* The link between the client and RabbitMQ or ActiveMQ breaks in the middle of a stream
  (a loopback proxy, :mod:`support.tcpproxy`, closes it at both ends while the broker
  runs on): the client reconnects, subscribes again, the broker redelivers what was not
  acknowledged (marked ``redelivered``), an ACK of a message of the old connection raises,
  nothing receipted is lost.
* The link goes silent without closing (the proxy stops relaying: a half-open link): the
  client notices through heart-beats and reconnects the same way.
* The embedded broker is stopped and started again on the same port: the client
  reconnects and subscribes again.  The embedded broker keeps no state across a restart
  (its queues are in memory): what it held is gone, and the test says so.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from support.recording import Collector
from support.tcpproxy import TcpProxy
from support.waiting import WAIT, wait_until

import stomp
from brokerinfo import ACTIVEMQ, EMBEDDED
from stomp.broker import Broker
from stomp.codec import Frame
from stomp.exception import StaleAckException


class Reconnects(Collector):
    """A collector that also counts connections."""

    def __init__(self) -> None:
        super().__init__()
        self.connected_count = 0

    def on_connected(self, frame: Frame) -> None:
        with self._changed:
            self.connected_count += 1
            self._changed.notify_all()


def _connection(info: Any, proxy: TcpProxy, **options: Any) -> tuple[Any, Reconnects]:
    events = Reconnects()
    conn = stomp.Connection12(
        [proxy.address],
        vhost=info.vhost,
        timeout=WAIT,
        auto_reconnect=True,
        reconnect_sleep_initial=0.05,
        **options,
    )
    conn.set_listener("events", events)
    conn.connect(info.login, info.passcode, wait=True)
    return conn, events


def _ack_mode_headers(info: Any) -> dict[str, str]:
    # Let the broker deliver all at once (ActiveMQ's prefetch, RabbitMQ's).
    if info is ACTIVEMQ:
        return {"activemq.prefetchSize": "1000"}
    return {"prefetch-count": "1000"}


@pytest.mark.parametrize("failure", ["closed", "half-open"])
def test_a_broken_link_loses_nothing_receipted(proxied: tuple[Any, TcpProxy], failure: str) -> None:
    info, proxy = proxied
    queue = f"/queue/stompng-reconnect-{uuid.uuid4().hex[:12]}"
    options: dict[str, Any] = {}
    if failure == "half-open":
        options["heartbeats"] = (200, 200)  # the dead link is noticed after ~0.3 s
    conn, events = _connection(info, proxy, **options)
    try:
        conn.subscribe(queue, id="1", ack="client-individual", headers=_ack_mode_headers(info))
        futures = [
            conn.send_confirmed(queue, f"m{n}", headers={"n": str(n), "persistent": "true"})
            for n in range(20)
        ]
        conn.wait_for_confirms(WAIT)
        assert all(f.result(0).cmd == "RECEIPT" for f in futures)
        first = events.wait_messages(20, timeout=WAIT)
        for frame in first[:10]:
            conn.ack(frame.headers["ack"])  # the first ten are done; ten are not
        conn.send("/topic/stompng-sync", "", receipt="after-acks")
        events.wait_receipt("after-acks")
        broken = time.monotonic()
        assert (proxy.cut() if failure == "closed" else proxy.freeze()) == 1
        assert events.wait_for(lambda: events.connected_count >= 2, WAIT * 2)
        print(f"{info.name}, {failure}: reconnected in {time.monotonic() - broken:.2f} s")
        # the ten not acknowledged come again, on the new connection, marked so
        again = events.wait_messages(30, timeout=WAIT * 2)[20:]
        assert sorted(int(f.headers["n"]) for f in again) == list(range(10, 20))
        assert all(f.headers.get("redelivered") == "true" for f in again)
        with pytest.raises(StaleAckException):
            conn.ack(first[15].headers["ack"])
        for frame in again:
            conn.ack(frame.headers["ack"])
        # and the connection works as before
        conn.send_confirmed(queue, "after", headers={"n": "20"}).result(WAIT)
        assert events.wait_messages(31, timeout=WAIT)[30].body == "after"
    finally:
        conn.disconnect()
    assert events.disconnected.is_set()


def test_the_embedded_broker_restarting_on_its_port() -> None:
    first = Broker(EMBEDDED.host, 0).start()
    port = first.port
    events = Reconnects()
    conn = stomp.Connection12(
        [(EMBEDDED.host, port)], timeout=WAIT, auto_reconnect=True, reconnect_sleep_initial=0.05
    )
    conn.set_listener("events", events)
    conn.connect(wait=True)
    second = None
    try:
        conn.subscribe("/queue/restart", id="1")
        conn.send_confirmed("/queue/restart", "before").result(WAIT)
        assert events.wait_messages(1, timeout=WAIT)[0].body == "before"
        assert first.stop(WAIT)
        assert events.disconnected.wait(WAIT)
        second = Broker(EMBEDDED.host, port).start()  # empty: it keeps no state
        assert events.wait_for(lambda: events.connected_count >= 2, WAIT)
        assert wait_until(lambda: second.subscriber_count("/queue/restart") == 1)
        conn.send_confirmed("/queue/restart", "after").result(WAIT)
        assert [m.body for m in events.wait_messages(2, timeout=WAIT)] == ["before", "after"]
    finally:
        conn.disconnect()
        if second is not None:
            second.stop(WAIT)
