"""Broker-less multicast, on the loopback interface only (interface 127.0.0.1, TTL 0)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.fakebroker import EventLog
from wsserver import WAIT

from stomp.adapter import multicast
from stomp.adapter.multicast import MCAST_GRP, MCAST_PORT, MulticastConnection


@pytest.fixture
def make_mcast(mcast_options: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """Started multicast connections on the test's loopback group, each with an
    :class:`EventLog` ``conn.events``; all disconnected at the end."""
    made: list[Any] = []

    def make() -> Any:
        conn = MulticastConnection(**mcast_options)
        conn.events = EventLog()
        conn.set_listener("events", conn.events)
        made.append(conn)
        conn.connect()
        return conn

    yield make
    for conn in made:
        conn.disconnect()


def bodies(events: EventLog) -> list[Any]:
    return [frame.body for name, frame in events.events if name == "message"]


def test_defaults_are_stomp_pys() -> None:
    assert (MCAST_GRP, MCAST_PORT) == ("224.1.1.1", 5000)
    transport = MulticastConnection().transport
    assert transport.current_host_and_port == ("224.1.1.1", 5000)
    assert transport.ttl == 2 and transport.interface is None


def test_traffic_stays_on_loopback(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    sender = conn.transport.socket
    assert sender.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 0
    interface = sender.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
    assert socket.inet_ntoa(interface) == "127.0.0.1"
    assert sender.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP) == 1


def test_send_and_receive(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    assert conn.events.wait_for("connecting") == conn.transport.current_host_and_port
    assert not conn.is_connected()  # never CONNECTED, as in stomp.py
    conn.subscribe("/topic/news", id="1")
    conn.send("/topic/other", "not subscribed")
    conn.send("/topic/news", "héllo")
    message = conn.events.wait_for("message")
    assert message.cmd == "MESSAGE"
    assert message.body == "héllo".encode()  # bodies arrive as bytes
    assert message.headers["destination"] == "/topic/news"
    assert bodies(conn.events) == ["héllo".encode()]


def test_binary_body_and_receipt(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    body = bytes(range(256)) * 64 + b"\x00\xc3\x28\x00"  # larger than stomp.py's 1024
    conn.subscribe("/topic/bin", id="b")
    conn.send("/topic/bin", body, receipt="r-1")
    assert conn.events.wait_for("receipt").headers["receipt-id"] == "r-1"
    assert conn.events.wait_for("message").body == body


def test_two_members(make_mcast: Callable[..., Any]) -> None:
    alice, bob = make_mcast(), make_mcast()
    bob.subscribe("/topic/chat", id="c")
    alice.send("/topic/chat", "hi bob", receipt="to-bob")
    assert bob.events.wait_for("message").body == b"hi bob"
    # Each member answers the receipt: alice hears bob's (and her own).
    assert alice.events.wait_for("receipt").headers["receipt-id"] == "to-bob"
    assert alice.events.count("message") == 0  # alice is not subscribed


def test_unsubscribe(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    conn.subscribe("/topic/a", id="a")
    conn.subscribe("/topic/b", id="b")
    conn.unsubscribe("a")
    conn.send("/topic/a", "dropped")
    conn.send("/topic/b", "kept")
    assert conn.events.wait_for("message").body == b"kept"
    with pytest.raises(KeyError):
        conn.unsubscribe("a")


def test_transactions(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    conn.subscribe("/topic/tx", id="t")
    committed = conn.begin()
    conn.send("/topic/tx", "committed", transaction=committed)
    conn.send("/topic/tx", "marker 1")
    assert conn.events.wait_for("message").body == b"marker 1"
    conn.commit(committed)
    message = conn.events.wait_for("message", count=2)
    assert message.body == b"committed"
    assert message.headers["transaction"] == committed

    aborted = conn.begin("t-2")
    conn.send("/topic/tx", "aborted", transaction=aborted)
    conn.abort(aborted)
    conn.send("/topic/tx", "marker 2")
    assert conn.events.wait_for("message", count=3).body == b"marker 2"
    assert bodies(conn.events) == [b"marker 1", b"committed", b"marker 2"]
    assert conn.transactions == {}


def test_transaction_errors_go_to_on_error(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    conn.begin("t")
    conn.begin("t")  # stomp.py: AttributeError
    conn.commit("unknown")  # stomp.py: AttributeError
    conn.abort("unknown-too")  # stomp.py: KeyError
    conn.send("/topic/x", "lost", transaction="never-begun")
    errors = [frame.body for name, frame in conn.events.events if name == "error"]
    assert errors == [
        "Transaction t already started",
        "Transaction unknown not started",
        "Transaction unknown-too not started",
        "Transaction never-begun not started",
    ]
    assert all(f.cmd is None for n, f in conn.events.events if n == "error")
    assert list(conn.transactions) == ["t"]


def test_malformed_datagrams_are_dropped(
    make_mcast: Callable[..., Any], mcast_options: dict[str, Any]
) -> None:
    conn = make_mcast()
    conn.subscribe("/topic/m", id="m")
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 0)
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        target = (mcast_options["group"], mcast_options["port"])
        raw.sendto(b"SEND\ndestination:/topic/m\n\nno terminating NUL", target)
        raw.sendto(b"SEND\ncontent-length:zz\n\nbad\x00", target)
        raw.sendto(b"", target)
    finally:
        raw.close()
    conn.send("/topic/m", "good")
    assert conn.events.wait_for("message").body == b"good"
    assert bodies(conn.events) == [b"good"]
    assert conn.transport.running


def test_disconnect_stops_the_receiver(make_mcast: Callable[..., Any]) -> None:
    conn = make_mcast()
    conn.disconnect()
    assert conn.events.wait_for("disconnected", timeout=WAIT) is None
    assert conn.transport.receiver_socket is None
    assert not conn.transport.running
    with pytest.raises(multicast.NotConnectedException):
        conn.send("/topic/x", "after disconnect")


def test_each_datagram_is_decoded_once(
    make_mcast: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fed: list[bytes] = []
    feed = multicast.FrameDecoder.feed

    def counting_feed(self: Any, data: Any) -> Any:
        fed.append(bytes(data))
        return feed(self, data)

    monkeypatch.setattr(multicast.FrameDecoder, "feed", counting_feed)
    conn = make_mcast()
    conn.subscribe("/topic/once", id="1")
    conn.send("/topic/once", "one")
    assert conn.events.wait_for("message").body == b"one"
    assert len([d for d in fed if b"/topic/once" in d]) == 1
