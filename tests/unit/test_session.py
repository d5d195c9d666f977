"""stomp.session.ClientSession alone: the frames of every call in every version, and the
state the frames sent and received leave (no socket, no thread, no clock)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stomp.codec import HEARTBEAT_FRAME, Frame
from stomp.session import ClientSession, State

VERSIONS = ["1.0", "1.1", "1.2"]


def make(version: str = "1.2") -> ClientSession:
    counter = itertools.count(1)
    return ClientSession(version, new_id=lambda: f"id-{next(counter)}")


def frame(cmd: str, **headers: Any) -> Frame:
    return Frame(cmd, {k.replace("_", "-"): v for k, v in headers.items()}, "")


def connected(session: ClientSession, heart_beat: str | None = None) -> None:
    session.opened()
    session.sent(session.connect("u", "p"))
    headers = {"version": session.version}
    if heart_beat is not None:
        headers["heart-beat"] = heart_beat
    assert session.received(Frame("CONNECTED", headers, "")) == "connected"


# ---------------------------------------------------------------------------- CONNECT


@pytest.mark.parametrize(
    ("version", "command", "extra"),
    [
        ("1.0", "CONNECT", {}),
        ("1.1", "STOMP", {}),
        ("1.2", "STOMP", {"host": "broker-a"}),
    ],
)
def test_connect_frame(version: str, command: str, extra: dict[str, str]) -> None:
    built = make(version).connect("guest", "secret", host="broker-a")
    assert built.cmd == command and built.body == ""
    assert built.headers == {
        "accept-version": version,
        "login": "guest",
        "passcode": "secret",
        **extra,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_connect_without_credentials_and_with_extra_headers(version: str) -> None:
    built = make(version).connect(None, None, {"a": "1", "b": "1"}, {"b": "2"})
    assert built.headers["a"] == "1" and built.headers["b"] == "2"
    assert "login" not in built.headers and "passcode" not in built.headers


@pytest.mark.parametrize(
    ("version", "vhost", "given", "expected"),
    [
        ("1.0", "/", None, None),  # 1.0 never adds host
        ("1.0", None, "mine", "mine"),
        ("1.1", None, None, None),
        ("1.1", "/", None, "/"),
        ("1.1", None, "mine", "mine"),  # 1.1 keeps the caller's host without a vhost
        ("1.2", None, None, "broker-a"),
        ("1.2", "/", None, "/"),
        ("1.2", None, "mine", "broker-a"),  # 1.2 always says which host
        ("1.2", "/", "mine", "/"),
    ],
)
def test_connect_host_header(
    version: str, vhost: str | None, given: str | None, expected: str | None
) -> None:
    headers = {"host": given} if given is not None else None
    built = make(version).connect(headers=headers, host="broker-a", vhost=vhost)
    assert built.headers.get("host") == expected


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_connect_command_on_request(version: str) -> None:
    assert make(version).connect(with_connect_command=True).cmd == "CONNECT"


# ---------------------------------------------------------------------------- other calls


def test_disconnect_always_asks_for_a_receipt() -> None:
    session = make()
    assert session.disconnect().headers == {"receipt": "id-1"}
    assert session.disconnect("mine", {"x": "1"}).headers == {"receipt": "mine", "x": "1"}


@pytest.mark.parametrize("version", VERSIONS)
def test_send(version: str) -> None:
    session = make(version)
    built = session.send("/queue/a", "héllo", "text/plain", {"h": "1"}, {"receipt": "r"})
    assert built.cmd == "SEND" and built.body == "héllo"
    assert built.headers == {
        "h": "1",
        "receipt": "r",
        "destination": "/queue/a",
        "content-type": "text/plain",
        "content-length": 5,  # characters here; the codec writes the byte length
    }
    assert "content-length" not in session.send("/q", "x", auto_content_length=False).headers
    assert "content-length" not in session.send("/q", "").headers
    kept = session.send("/q", "xyz", keyword_headers={"content-length": 99}).headers
    assert kept["content-length"] == 99


def test_send_uses_the_callers_keyword_dict() -> None:
    keyword = {"receipt": "r"}
    assert make().send("/q", "x", keyword_headers=keyword).headers is keyword


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.send(None, "x"), "'destination' is required"),
        (lambda s: s.send("/q", None), "'body' is required"),
        (lambda s: s.subscribe(None), "'destination' is required"),
        (lambda s: s.ack(None, "1"), "'id' is required"),
        (lambda s: s.commit(None), "'transaction' is required"),
        (lambda s: s.abort(None), "'transaction' is required"),
    ],
)
def test_required_arguments(call: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        call(make())


@pytest.mark.parametrize(
    ("version", "id", "expected"),
    [("1.0", None, None), ("1.0", "", None), ("1.0", 7, 7), ("1.1", None, "id-1"), ("1.2", 3, 3)],
)
def test_subscribe(version: str, id: Any, expected: Any) -> None:
    built = make(version).subscribe("/queue/a", id, "client", {"selector": "x"})
    assert built.headers.get("id") == expected
    assert built.headers["ack"] == "client" and built.headers["selector"] == "x"


def test_unsubscribe_10_by_id_or_destination() -> None:
    session = make("1.0")
    (built,) = session.unsubscribe(None, "/queue/a")
    assert built.headers == {"destination": "/queue/a"}
    (built,) = session.unsubscribe("7", "/queue/a")
    assert built.headers == {"id": "7", "destination": "/queue/a"}
    with pytest.raises(AssertionError, match="'id' or 'destination' is required"):
        session.unsubscribe()


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_unsubscribe_by_destination_finds_the_subscriptions(version: str) -> None:
    session = make(version)
    for sub_id, destination in (("1", "/queue/a"), ("2", "/queue/b"), ("3", "/queue/a")):
        session.sent(session.subscribe(destination, sub_id))
    frames = session.unsubscribe(None, "/queue/a")
    assert [f.headers for f in frames] == [
        {"destination": "/queue/a", "id": "1"},
        {"destination": "/queue/a", "id": "3"},
    ]
    # With an id, a destination is just one more header (stomp.py's CLI sends both).
    (built,) = session.unsubscribe("2", "/queue/b")
    assert built.headers == {"destination": "/queue/b", "id": "2"}
    with pytest.raises(AssertionError, match="'id' is required"):
        session.unsubscribe(None, "/queue/none")
    with pytest.raises(AssertionError, match="'id' is required"):
        session.unsubscribe()


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0", {"message-id": "m"}),
        ("1.1", {"message-id": "m", "subscription": "s"}),
        ("1.2", {"id": "m", "subscription": "s"}),
    ],
)
def test_ack_and_nack_headers(version: str, expected: dict[str, str]) -> None:
    session = make(version)
    subscription = "s" if version != "1.0" else None
    built = session.ack("m", subscription, "t", "r", {"x": "1"})
    assert built.cmd == "ACK"
    assert built.headers == {"x": "1", **expected, "transaction": "t", "receipt": "r"}
    if version == "1.0":
        with pytest.raises(ValueError, match="no NACK"):
            session.nack("m")
    else:
        assert session.nack("m", subscription, requeue="false").headers == {
            "requeue": "false",
            **expected,
        }


def test_ack_on_11_needs_the_subscription() -> None:
    with pytest.raises(AssertionError, match="'subscription' is required"):
        make("1.1").ack("m")


def test_transactions() -> None:
    session = make()
    assert session.begin().headers == {"transaction": "id-1"}
    assert session.begin("t", x="1").headers == {"x": "1", "transaction": "t"}
    assert session.commit("t", {"transaction": "other"}).headers == {"transaction": "t"}
    assert session.abort("t").cmd == "ABORT"


# ---------------------------------------------------------------------------- state


@pytest.mark.parametrize("version", VERSIONS)
def test_a_connection_from_start_to_end(version: str) -> None:
    session = make(version)
    assert session.state is State.CLOSED
    session.opened()
    assert session.state is State.CONNECTING
    session.sent(session.connect())
    assert session.received(Frame("CONNECTED", {"version": version, "server": "x"}, "")) == (
        "connected"
    )
    assert session.state is State.CONNECTED and session.server["server"] == "x"
    disconnect = session.disconnect()
    session.sent(disconnect)
    assert session.state is State.DISCONNECTING
    assert session.disconnect_receipt == disconnect.headers["receipt"]
    assert not session.closing
    session.received(Frame("RECEIPT", {"receipt-id": disconnect.headers["receipt"]}, ""))
    assert session.closing and session.last_receipt == "DISCONNECT"
    assert session.state is State.CLOSED
    session.closed()
    session.opened()  # the next connection starts clean
    assert not session.closing and session.receipts == {}


def test_receipts_are_tracked_per_command() -> None:
    session = make()
    connected(session)
    session.sent(session.send("/q", "x", keyword_headers={"receipt": "r1"}))
    session.sent(session.subscribe("/q", "1", receipt="r2"))
    session.expect_receipt("r3", "mine")
    assert session.receipts == {"r1": "SEND", "r2": "SUBSCRIBE", "r3": "mine"}
    assert session.received(Frame("RECEIPT", {"receipt-id": "r2"}, "")) == "receipt"
    assert session.last_receipt == "SUBSCRIBE" and not session.closing
    session.expect_receipt("r3", None)
    assert session.receipts == {"r1": "SEND"}
    # Unknown receipt ids, and a RECEIPT without one, are just delivered (Q8).
    assert session.received(Frame("RECEIPT", {"receipt-id": "zz"}, "")) == "receipt"
    assert session.last_receipt is None
    assert session.received(Frame("RECEIPT", {}, "")) == "receipt"
    assert session.state is State.CONNECTED
    session.closed()
    assert session.receipts == {}


def test_a_disconnect_receipt_only_closes_for_the_last_disconnect() -> None:
    session = make()
    connected(session)
    session.sent(session.disconnect("first"))
    session.sent(session.disconnect("second"))
    session.received(Frame("RECEIPT", {"receipt-id": "first"}, ""))
    assert session.last_receipt == "DISCONNECT" and not session.closing
    session.received(Frame("RECEIPT", {"receipt-id": "second"}, ""))
    assert session.closing


@pytest.mark.parametrize("version", VERSIONS)
def test_error_before_connected_is_a_refusal(version: str) -> None:
    session = make(version)
    session.opened()
    session.sent(session.connect())
    assert session.received(Frame("ERROR", {"message": "Bad CONNECT"}, "no")) == "error"
    assert session.refusal == "Bad CONNECT"
    session.opened()
    assert session.refusal is None
    session.sent(session.connect())
    assert session.received(Frame("ERROR", {}, "")) == "error"
    assert session.refusal == "ERROR frame"


def test_error_after_connected_is_no_refusal() -> None:
    session = make()
    connected(session)
    assert session.received(Frame("ERROR", {"message": "boom"}, "")) == "error"
    assert session.refusal is None and session.state is State.CONNECTED


@pytest.mark.parametrize(
    ("cmd", "kind"),
    [
        ("MESSAGE", "message"),
        ("RECEIPT", "receipt"),
        ("ERROR", "error"),
        ("CONNECTED", "connected"),
        ("message", "message"),  # matched case-insensitively, as stomp.py (Q38)
        ("Error", "error"),
        ("heartbeat", "heartbeat"),
        ("SURPRISE", None),
        ("", None),
    ],
)
def test_received_kinds(cmd: str, kind: str | None) -> None:
    assert make().received(Frame(cmd, {}, "")) == kind


def test_received_heartbeat() -> None:
    assert make().received(HEARTBEAT_FRAME) == "heartbeat"


@pytest.mark.parametrize(
    ("requested", "server", "negotiated"),
    [
        ("3000,5000", "5000,3000", (3000, 5000)),
        ("3000,5000", "6000,2000", (3000, 6000)),
        ("3000,5000", "0,0", (0, 0)),
        ("0,0", "5000,3000", (0, 0)),
        ("3000,5000", " 10000 , 0 ", (0, 10000)),
        ("3000,5000", "fast", (0, 0)),  # malformed: none
        ("3000,5000", None, (0, 0)),
        (None, "5000,3000", (0, 0)),
        ("junk", "5000,3000", (0, 0)),
    ],
)
def test_heartbeat_negotiation(
    requested: str | None, server: str | None, negotiated: tuple[int, int]
) -> None:
    session = make("1.2")
    session.opened()
    connect = session.connect()
    if requested is not None:
        connect.headers["heart-beat"] = requested  # as the protocol listener's on_send does
    session.sent(connect)
    headers = {} if server is None else {"heart-beat": server}
    session.received(Frame("CONNECTED", headers, ""))
    assert session.heartbeats == negotiated


def test_heartbeat_timing_and_none_on_10() -> None:
    session = make("1.1")
    session.heart_beat_receive_scale = 2.0
    session.opened()
    session.sent(Frame("STOMP", {"heart-beat": "1000,2000"}, ""))
    session.received(Frame("CONNECTED", {"heart-beat": "500,500"}, ""))
    assert session.heartbeat_timing == (1.0, 4.0)
    session.closed()
    assert session.heartbeat_timing == (0.0, 0.0)
    old = make("1.0")
    old.sent(Frame("CONNECT", {"heart-beat": "1000,2000"}, ""))
    old.received(Frame("CONNECTED", {"heart-beat": "500,500"}, ""))
    assert old.heartbeats == (0, 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_subscriptions_outlive_the_connection(version: str) -> None:
    session = make(version)
    connected(session)
    session.sent(session.subscribe("/queue/a", "1", "client-individual", {"prefetch": "5"}))
    session.sent(session.subscribe("/queue/b", "2"))
    assert set(session.subscriptions) == {"1", "2"}
    sub = session.subscriptions["1"]
    assert (sub.id, sub.destination, sub.ack) == ("1", "/queue/a", "client-individual")
    assert sub.headers["prefetch"] == "5"
    session.sent(session.unsubscribe("2")[0])
    session.closed()
    assert list(session.subscriptions) == ["1"]


def test_10_subscriptions_without_an_id() -> None:
    session = make("1.0")
    session.sent(session.subscribe("/queue/a"))
    assert session.subscriptions["/queue/a"].id is None
    session.sent(session.unsubscribe(None, "/queue/a")[0])
    assert session.subscriptions == {}


def test_transactions_are_tracked_until_the_connection_ends() -> None:
    session = make()
    connected(session)
    session.sent(session.begin("t1"))
    session.sent(session.begin("t2"))
    session.sent(session.commit("t1"))
    assert session.transactions == {"t2"}
    session.closed()
    assert session.transactions == set()


def test_heartbeats_sent_change_nothing() -> None:
    session = make()
    connected(session)
    before = (session.state, dict(session.receipts))
    session.sent(Frame(None, {}, None))
    assert (session.state, session.receipts) == before


# ---------------------------------------------------------------------------- any order

COMMANDS_OUT = ["CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK",
                "BEGIN", "COMMIT", "ABORT", "DISCONNECT"]  # fmt: skip
COMMANDS_IN = ["CONNECTED", "MESSAGE", "RECEIPT", "ERROR", "BOGUS"]
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            "receipt",
            "receipt-id",
            "id",
            "destination",
            "transaction",
            "heart-beat",
            "message",
            "ack",
            "version",
        ]
    ),
    st.one_of(st.sampled_from(["1", "2", "/q", "1000,1000", "0,0", "x,y", ""]), st.integers()),
    max_size=4,
)
EVENTS = st.lists(
    st.one_of(
        st.tuples(st.just("sent"), st.sampled_from(COMMANDS_OUT), HEADERS),
        st.tuples(st.just("received"), st.sampled_from(COMMANDS_IN), HEADERS),
        st.tuples(st.just("opened"), st.just(""), st.just({})),
        st.tuples(st.just("closed"), st.just(""), st.just({})),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(version=st.sampled_from(VERSIONS), events=EVENTS)
def test_any_sequence_of_frames_keeps_a_consistent_state(
    version: str, events: list[tuple[str, str, dict[str, Any]]]
) -> None:
    session = make(version)
    for kind, cmd, headers in events:
        if kind == "sent":
            session.sent(Frame(cmd, dict(headers), ""))
        elif kind == "received":
            result = session.received(Frame(cmd, {k: str(v) for k, v in headers.items()}, ""))
            assert result == {"CONNECTED": "connected", "MESSAGE": "message",
                              "RECEIPT": "receipt", "ERROR": "error"}.get(cmd)  # fmt: skip
        elif kind == "opened":
            session.opened()
        else:
            session.closed()
        assert isinstance(session.state, State)
        assert all(isinstance(r, str) for r in session.receipts)
        send, receive = session.heartbeat_timing
        assert send >= 0 and receive >= 0
        if session.closing:
            assert session.disconnect_receipt is not None
        if version == "1.0":
            assert session.heartbeats == (0, 0)
