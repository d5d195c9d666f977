"""Heart-beats both ways: the broker's EOLs, and closing a client that went silent."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import RawClient, barrier

from stomp.broker import Broker
from stomp.broker.handshake import Settings, heartbeat_intervals


@pytest.mark.parametrize(
    ("client", "broker", "expected"),
    [
        # (cx, cy), the broker's (sx, sy) or None (mirror), (send ms, receive ms, header)
        ((0, 0), None, (0, 0, "0,0")),
        ((1000, 2000), None, (2000, 1000, "2000,1000")),
        ((10, 10), None, (50, 50, "50,50")),  # raised to the 50 ms floor
        ((0, 500), None, (500, 0, "500,0")),
        ((10000, 5000), (2000, 15000), (5000, 15000, "2000,15000")),  # the spec's example
        ((1000, 1000), (0, 0), (0, 0, "0,0")),
        ((0, 1000), (500, 500), (1000, 0, "500,500")),
    ],
)
def test_negotiation(
    client: tuple[int, int], broker: tuple[int, int] | None, expected: tuple[int, int, str]
) -> None:
    assert heartbeat_intervals(client, Settings(heartbeats=broker)) == expected


def test_broker_sends_heartbeats(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    connected = peer.connect(**{"heart-beat": "0,100"})
    assert connected.headers["heart-beat"] == "100,0"
    beats = peer.wait_heartbeats(6, timeout=2)
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    # The broker beats after half an interval of silence, so a beat is never due late;
    # the bound leaves room for a busy machine.
    assert max(gaps) < 0.25, gaps


def test_a_silent_client_is_closed(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    connected = peer.connect(**{"heart-beat": "100,0"})
    assert connected.headers["heart-beat"] == "0,100"
    start = time.monotonic()
    error = peer.expect_error(timeout=3)
    elapsed = time.monotonic() - start
    assert error.headers["message"] == "Heart-beat timeout"
    # 100 ms promised x grace 2.0, counted by the broker from the CONNECT's arrival (a
    # little before ``start``), plus scheduling.
    assert 0.15 <= elapsed < 2.0


def test_grace_factor_is_configurable(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(heartbeat_grace=5.0)
    peer = RawClient(broker.address)
    try:
        peer.connect(**{"heart-beat": "100,0"})
        start = time.monotonic()
        peer.expect_error(timeout=3)
        assert time.monotonic() - start >= 0.45  # 100 ms x 5.0, less the CONNECT latency
    finally:
        peer.close()


def test_a_beating_client_stays_connected(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    peer.connect(**{"heart-beat": "100,0"})
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        peer.send_raw(b"\n")
        assert not peer.wait_closed(0.05)  # waits 50 ms, the beat's own pace
    assert peer.request("SUBSCRIBE", {"destination": "/q", "id": "1"}).cmd == "RECEIPT"


def test_frames_count_as_heartbeats(raw: Callable[..., RawClient]) -> None:
    peer = raw(connect=False)
    peer.connect(**{"heart-beat": "100,0"})
    for n in range(12):
        assert peer.request("SEND", {"destination": "/topic/none"}, b"%d" % n).cmd == "RECEIPT"
        assert not peer.wait_closed(0.05)


def test_library_connection_with_heartbeats(client: Callable[..., Any]) -> None:
    connection, collector = client("1.2", heartbeats=(100, 100))
    connection.subscribe("/queue/hb", id="1")
    deadline = time.monotonic() + 0.8
    n = 0
    while time.monotonic() < deadline:
        connection.send("/queue/hb", str(n))
        n += 1
        collector.wait_messages(n)
        # Idle for a while (the point of the test): only heart-beats flow meanwhile.
        assert not collector.wait_for(lambda: bool(collector.errors), timeout=0.1)
    assert connection.is_connected()
    assert not collector.disconnected.is_set()
    barrier(connection, collector)


def test_no_heartbeats_in_10(raw: Callable[..., RawClient]) -> None:
    peer = raw("1.0", connect=False)
    connected = peer.connect(**{"heart-beat": "100,100"})
    assert "heart-beat" not in connected.headers
    assert not peer.wait_closed(0.5)  # silence is fine in 1.0
    assert peer.heartbeats == []


def test_fixed_broker_offer(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(heartbeats=(0, 0))
    peer = RawClient(broker.address)
    try:
        connected = peer.connect(**{"heart-beat": "100,100"})
        assert connected.headers["heart-beat"] == "0,0"
        assert not peer.wait_closed(0.4)
        assert peer.heartbeats == []
    finally:
        peer.close()
