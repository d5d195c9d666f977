"""Integration tests of the connection layer (``stomp.Connection10/11/12``) against real brokers.

Written once, parametrised over brokers and STOMP versions:

* the ``broker`` fixture yields a :class:`broker_targets.BrokerTarget` (name, address,
  credentials, connection keywords such as ``vhost``, and the broker's quirks) for each
  entry of :data:`broker_targets.TARGETS`; a broker that is down is skipped locally and a
  failure in CI (the conftest fixtures named by each target decide);
* the ``version`` fixture is ``"1.0"``, ``"1.1"`` or ``"1.2"``; tests of 1.1+ features
  narrow it with ``@pytest.mark.parametrize("version", ..., indirect=True)``.

Where brokers legitimately differ, the test reads the difference from the target's
quirks (each one explained in ``broker_targets.py``) instead of branching on its name.

Every wait is bounded (:data:`TIMEOUT`) and synchronised on listener events: receipts,
messages, or a *fence* (a marker message sent after the thing under test, whose arrival
proves everything sent before it has been dealt with).  Sleeps appear only where time
passing is the point (heart-beats).  Destinations are unique per test.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from broker_targets import TARGETS, VERSIONS, BrokerTarget, matches_message_id
from connection_helpers import CONNECTIONS, TIMEOUT, Client, Recorder, bodies, unique

import stomp
from stomp.exception import ConnectFailedException
from stomp.listener import StatsListener, TestListener, WaitingListener

#: stomp-ng's default ``heart_beat_receive_scale``.
DEFAULT_RECEIVE_SCALE = 1.5

# ------------------------------------------------------------------ fixtures


@pytest.fixture(params=TARGETS, ids=lambda target: target.name.lower())
def broker(request: pytest.FixtureRequest) -> BrokerTarget:
    """Each broker of :data:`broker_targets.TARGETS` that is up."""
    target: BrokerTarget = request.param
    address = request.getfixturevalue(target.fixture)
    assert tuple(address) == (target.host, target.port)
    return target


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest, broker: BrokerTarget) -> str:
    """The STOMP version of the connections a test opens."""
    if request.param not in broker.versions:
        pytest.skip(f"{broker.name} is not tested with STOMP {request.param}")
    return request.param


OpenClient = Callable[..., Client]


@pytest.fixture
def open_client(broker: BrokerTarget, version: str) -> Iterator[OpenClient]:
    """``open_client(connect=True, cond=None, **connection_kwargs) -> Client``.

    ``cond`` is the condition of the client's recorder (shared between clients to wait on
    several).  Every connection opened is disconnected (bounded) at teardown.
    """
    opened: list[Any] = []

    def open_(
        *, connect: bool = True, cond: threading.Condition | None = None, **kwargs: Any
    ) -> Client:
        options = broker.connection_kwargs(version)
        options["timeout"] = TIMEOUT
        options.update(kwargs)
        conn = CONNECTIONS[version]([(broker.host, broker.port)], **options)
        opened.append(conn)
        client = Client(conn, Recorder(cond), version, broker)
        conn.set_listener("recorder", client.rec)
        if connect:
            client.connect()
        return client

    yield open_
    for conn in opened:
        try:
            conn.disconnect()
        finally:
            thread = conn.transport.io_thread
            if thread is not None and thread.is_alive():
                conn.transport.disconnect_socket()
                thread.join(TIMEOUT)


def xfail_bug(request: pytest.FixtureRequest, reason: str) -> None:
    """Mark the running test as failing because of a library bug (strictly)."""
    request.applymarker(pytest.mark.xfail(strict=True, reason=f"bug: {reason}"))


ONLY_11_12 = pytest.mark.parametrize("version", ["1.1", "1.2"], indirect=True)
ONLY_10 = pytest.mark.parametrize("version", ["1.0"], indirect=True)


# ------------------------------------------------------------------ connecting


def test_connect_wait_is_connected_and_disconnect(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    assert not client.conn.is_connected()
    client.connect()
    assert client.conn.is_connected()
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    client.conn.disconnect()
    assert not client.conn.is_connected()
    assert client.rec.disconnects == 1
    assert client.io_thread_ended(0), "the receiver thread outlived disconnect()"


def test_connected_frame_headers(
    open_client: OpenClient, broker: BrokerTarget, version: str
) -> None:
    client = open_client()
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    headers = client.rec.connected[0].headers
    # A 1.0 server need not send "version"; both real brokers do.
    assert headers.get("version", "1.0") == version
    assert headers["server"].startswith(broker.quirks.server_prefix)


def test_connect_command_by_default(open_client: OpenClient, version: str) -> None:
    client = open_client()
    assert client.rec.sent[0].cmd == ("CONNECT" if version == "1.0" else "STOMP")


@ONLY_11_12
def test_connect_with_connect_command(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    client.connect(with_connect_command=True)
    assert client.conn.is_connected()
    assert client.rec.sent[0].cmd == "CONNECT"


def test_context_manager_connects_and_disconnects(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    with client.conn as conn:
        assert conn is client.conn
        client.connect()
        assert conn.is_connected()
    assert not client.conn.is_connected()
    assert client.conn.disconnect_listener.disconnected
    assert client.io_thread_ended(0)


def test_context_manager_disconnects_when_the_block_raises(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    with pytest.raises(RuntimeError, match="boom"), client.conn:
        client.connect()
        raise RuntimeError("boom")
    assert not client.conn.is_connected()
    assert client.io_thread_ended(0)


def test_context_manager_without_connecting_exits_at_once(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    started = time.monotonic()
    with client.conn:
        pass
    assert time.monotonic() - started < 1.0


def test_login_failure_raises_connect_failed_promptly(
    open_client: OpenClient, broker: BrokerTarget
) -> None:
    client = open_client(connect=False)
    wrong = f"wrong-{uuid.uuid4().hex}"
    started = time.monotonic()
    with pytest.raises(ConnectFailedException) as raised:
        client.conn.connect(broker.login, wrong, wait=True)
    assert time.monotonic() - started < 5.0
    assert not client.conn.is_connected()
    assert wrong not in str(raised.value), "the passcode leaked into the exception message"
    client.rec.wait(lambda: client.rec.errors, "ERROR frame")
    assert client.rec.errors[0].cmd == "ERROR"
    assert client.io_thread_ended(5.0), "the receiver thread outlived the failed connect"


class _EventLog(stomp.ConnectionListener):
    """Names of the callbacks, in the order they come."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        self.events.append("connecting")

    def on_send(self, frame: Any) -> None:
        self.events.append(f"send {frame.cmd}")

    def on_connected(self, frame: Any) -> None:
        self.events.append("connected")

    def on_receipt(self, frame: Any) -> None:
        self.events.append(f"receipt {frame.headers.get('receipt-id')}")

    def on_disconnected(self) -> None:
        self.events.append("disconnected")

    def on_receiver_loop_completed(self, frame: Any) -> None:
        self.events.append("receiver loop completed")


def test_callback_order_of_connect_and_disconnect(open_client: OpenClient, version: str) -> None:
    client = open_client(connect=False)
    log = _EventLog()
    client.conn.set_listener("log", log)
    client.connect()
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    client.conn.disconnect(receipt="bye")
    command = "CONNECT" if version == "1.0" else "STOMP"
    assert log.events == [
        "connecting",
        f"send {command}",
        "connected",
        "send DISCONNECT",
        "disconnected",
        "receipt bye",
        "receiver loop completed",
    ]


def test_disconnect_from_inside_a_listener(open_client: OpenClient) -> None:
    client = open_client()

    class Quit(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            client.conn.disconnect()  # returns at once on the receiver thread

    client.conn.set_listener("quit", Quit())
    destination = unique()
    client.subscribe(destination)
    client.conn.send(destination, "quit")
    client.rec.wait(lambda: client.rec.disconnects, "on_disconnected")
    assert not client.conn.is_connected()
    assert client.io_thread_ended()


def test_connect_without_wait(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    client.conn.connect(client.broker.login, client.broker.passcode)  # wait=False
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    assert client.conn.is_connected()


@ONLY_11_12
@pytest.mark.parametrize("vhost", [None, "no-such-vhost"], ids=["no-vhost", "unknown-vhost"])
def test_host_header_and_virtual_hosts(
    open_client: OpenClient, broker: BrokerTarget, version: str, vhost: str | None
) -> None:
    # Without vhost, 1.1 sends no host header and 1.2 sends the host connected to
    # ("127.0.0.1"), as stomp.py does; RabbitMQ takes host as a vhost name and refuses
    # one it does not have, ActiveMQ ignores it.
    client = open_client(connect=False, vhost=vhost)
    sends_unknown_host = vhost is not None or version == "1.2"
    if sends_unknown_host and broker.quirks.refuses_unknown_vhost:
        with pytest.raises(ConnectFailedException):
            client.connect()
        assert client.rec.errors, "no ERROR frame reached on_error"
        assert client.io_thread_ended()
    else:
        client.connect()
        assert client.conn.is_connected()
    connect_frame = client.rec.sent[0]
    expected_host = vhost if vhost is not None else ("127.0.0.1" if version == "1.2" else None)
    assert connect_frame.headers.get("host") == expected_host


def test_reconnect_with_the_same_connection_object(open_client: OpenClient, version: str) -> None:
    # 1.1/1.2 with heart-beats: the second connection gets its own heart-beating.
    options = (
        {} if version == "1.0" else {"heartbeats": (1000, 1000), "heart_beat_receive_scale": 3.0}
    )
    client = open_client(**options)
    client.conn.disconnect()
    assert not client.conn.is_connected()
    client.connect()
    assert client.conn.is_connected()
    if version != "1.0":
        assert client.conn.heartbeats == (1000, 1000)
        thread = client.conn.heartbeat_thread
        assert thread is not None and thread.is_alive()
        beats = client.rec.heartbeats
        client.rec.wait(lambda: client.rec.heartbeats > beats, "a heart-beat after reconnecting")
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "after reconnect")
    assert bodies(client.rec.wait_messages(1)) == ["after reconnect"]


def test_connect_while_connected_is_ignored(open_client: OpenClient) -> None:
    client = open_client()
    io_thread = client.conn.transport.io_thread
    client.connect()
    assert client.conn.transport.io_thread is io_thread
    assert [frame.cmd for frame in client.rec.sent].count(client.rec.sent[0].cmd) == 1
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "one connection")
    assert bodies(client.rec.wait_messages(1)) == ["one connection"]
    assert len(client.rec.connected) == 1


def test_send_after_disconnect_raises_not_connected(open_client: OpenClient) -> None:
    client = open_client()
    client.conn.disconnect()
    with pytest.raises(stomp.exception.NotConnectedException):
        client.conn.send(unique(), "too late")


# ------------------------------------------------------------------ send / receive


def _user_headers(version: str) -> dict[str, str]:
    headers = {"x-plain": "value", "x-unicode": "héllo wörld ✓ 日本語 €", "x-inner": "a b"}
    if version != "1.0":  # 1.0 has no escaping: see test_header_values_on_10_are_sent_raw
        headers.update(
            {
                "x-spaces": " a b ",
                "x-colon": "a:b::c",
                "x-backslash": "C:\\path\\to\\n\\c",
                "x-newline": "line 1\nline 2\n",
                "x-mixed": "k:v\\\n\\c:ü",
            }
        )
    return headers


def test_user_headers_round_trip(open_client: OpenClient, version: str) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    sent = _user_headers(version)
    client.send(destination, "headers", headers=sent)
    (message,) = client.rec.wait_messages(1)
    assert {name: message.headers.get(name) for name in sent} == sent


@ONLY_10
def test_header_values_on_10_are_sent_raw_and_read_with_11_unescaping(
    open_client: OpenClient, broker: BrokerTarget
) -> None:
    # STOMP 1.0 has no escaping: the client writes values raw.  It reads them with 1.1's
    # unescaping, as stomp.py does, because RabbitMQ escapes 1.0 headers as in 1.1.  The
    # brokers do not agree on 1.0 values (escaping, trimming: Quirks.header_value_on_10),
    # so the expected value is the broker's transformation of what was sent, then the
    # client's unescaping.
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    # (Not an undefined escape such as "a\\b": RabbitMQ closes a 1.0 connection on it,
    # without an ERROR frame.)
    sent = {"x-colon": "a:b", "x-escape-like": "a\\cb\\\\c", "x-spaces": " a b "}
    client.send(destination, "raw", headers=sent)
    (message,) = client.rec.wait_messages(1)
    expected = {name: broker.quirks.header_value_on_10(value) for name, value in sent.items()}
    assert {name: message.headers.get(name) for name in sent} == expected


def test_str_body_round_trip(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    body = "héllo wörld ✓ 日本語 € \x01 end"
    client.send(destination, body, content_type="text/plain; charset=utf-8")
    (message,) = client.rec.wait_messages(1)
    assert isinstance(message.body, str)
    assert message.body == body
    assert message.headers["content-type"] == "text/plain; charset=utf-8"
    assert message.headers["content-length"] == str(len(body.encode()))


def test_binary_body_round_trip(open_client: OpenClient) -> None:
    client = open_client(auto_decode=False)
    destination = unique()
    client.subscribe(destination)
    body = bytes(range(256)) * 64  # 16 KiB, every byte value, NULs included
    client.send(destination, body)
    (message,) = client.rec.wait_messages(1)
    assert isinstance(message.body, bytes)
    assert message.body == body


@pytest.mark.parametrize("auto_decode", [True, False], ids=["str", "bytes"])
def test_empty_body(open_client: OpenClient, auto_decode: bool) -> None:
    client = open_client(auto_decode=auto_decode)
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "" if auto_decode else b"")
    (message,) = client.rec.wait_messages(1)
    assert message.body == ("" if auto_decode else b"")
    assert message.headers.get("content-length", "0") == "0"


def test_undecodable_body_is_replaced_when_decoding(open_client: OpenClient) -> None:
    client = open_client()  # auto_decode=True
    destination = unique()
    client.subscribe(destination)
    client.send(destination, b"\xff\xfe ok \xe2\x82")
    (message,) = client.rec.wait_messages(1)
    assert message.body == "\ufffd\ufffd ok \ufffd"


def test_one_mib_body(open_client: OpenClient) -> None:
    client = open_client(auto_decode=False)
    destination = unique()
    client.subscribe(destination)
    body = bytes(range(256)) * 4096
    client.send(destination, body)
    (message,) = client.rec.wait_messages(1)
    assert len(message.body) == len(body)
    assert message.body == body


def test_one_mib_str_body_with_multibyte_characters(open_client: OpenClient) -> None:
    # content-length must be the byte count (3 bytes per character here), not len(str).
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    body = "€" * ((1 << 20) // 3)
    client.send(destination, body)
    (message,) = client.rec.wait_messages(1)
    assert message.body == body
    assert message.headers["content-length"] == str(len(body.encode()))


def test_body_without_content_length(open_client: OpenClient) -> None:
    # Framed by the NUL alone (auto_content_length=False); ActiveMQ then makes a text
    # message, RabbitMQ adds a content-length: either way the body comes back intact.
    client = open_client(auto_content_length=False)
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "no length ✓")
    sent = next(frame for frame in client.rec.sent if frame.cmd == "SEND")
    assert "content-length" not in sent.headers
    (message,) = client.rec.wait_messages(1)
    assert message.body == "no length ✓"


def test_many_messages_arrive_complete_and_in_order(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    sent = [f"m{i:03d} " + "x" * (i * 37 % 2000) for i in range(300)]
    for body in sent:  # no receipts: back to back, so frames share and straddle reads
        client.conn.send(destination, body)
    assert bodies(client.rec.wait_messages(len(sent))) == sent


def test_concurrent_senders_do_not_interleave_frames(open_client: OpenClient) -> None:
    client = open_client(auto_decode=False)
    destination = unique()
    client.subscribe(destination)
    threads_count, per_thread = 4, 50
    failures: list[BaseException] = []

    def send_all(thread: int) -> None:
        try:
            for i in range(per_thread):
                body = bytes([thread]) * 8192 + f"{thread}-{i}".encode()
                client.conn.send(destination, body, headers={"x-from": f"{thread}-{i}"})
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=send_all, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert failures == []
    messages = client.rec.wait_messages(threads_count * per_thread)
    for message in messages:
        thread, _ = message.headers["x-from"].split("-")
        assert message.body == bytes([int(thread)]) * 8192 + message.headers["x-from"].encode()
    assert len({m.headers["x-from"] for m in messages}) == threads_count * per_thread


def test_request_reply_through_a_temp_queue(open_client: OpenClient, broker: BrokerTarget) -> None:
    # The responder replies from inside on_message (a SEND from the receiver thread).
    service = unique()
    responder = open_client()

    class Respond(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            if "reply-to" in frame.headers:
                responder.conn.send(frame.headers["reply-to"], f"re: {frame.body}")

    responder.conn.set_listener("respond", Respond())
    responder.subscribe(service)
    requester = open_client()
    reply_to = f"/temp-queue/replies-{uuid.uuid4().hex[:8]}"
    if not broker.quirks.implicit_temp_queue_subscription:
        requester.subscribe(reply_to)
    requester.send(service, "ping", headers={"reply-to": reply_to})
    (reply,) = requester.rec.wait_messages(1)
    assert reply.body == "re: ping"
    if broker.quirks.implicit_temp_queue_subscription:
        assert reply.headers["subscription"] == reply_to  # an id never subscribed


def test_receipts_on_subscribe_and_send(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    subscribed = WaitingListener("sub-receipt")
    client.conn.set_listener("subscribed", subscribed)
    sent = threading.Event()

    class SendReceipt(stomp.ConnectionListener):
        def on_receipt(self, frame: Any) -> None:
            if frame.headers.get("receipt-id") == "send-receipt":
                sent.set()

    client.conn.set_listener("sent", SendReceipt())
    client.conn.subscribe(destination, id="s1", receipt="sub-receipt")
    assert subscribed.wait_on_receipt(TIMEOUT)
    client.conn.send(destination, "with receipt", receipt="send-receipt")
    assert sent.wait(TIMEOUT)
    assert bodies(client.rec.wait_messages(1)) == ["with receipt"]


# ------------------------------------------------------------------ acknowledgement


def test_auto_ack_consumes(open_client: OpenClient) -> None:
    destination = unique()
    first = open_client()
    first.subscribe(destination, ack="auto")
    for body in ("a1", "a2"):
        first.send(destination, body)
    assert bodies(first.rec.wait_messages(2)) == ["a1", "a2"]
    first.conn.disconnect()

    second = open_client()
    second.subscribe(destination)
    fence = second.fence(destination)
    assert fence.others == [], "auto-acknowledged messages were redelivered"


def test_client_ack_is_cumulative(open_client: OpenClient, broker: BrokerTarget) -> None:
    destination = unique()
    first = open_client()
    first.subscribe(destination, ack="client")
    for body in ("c1", "c2", "c3", "c4"):
        first.send(destination, body)
    received = first.rec.wait_messages(4)
    assert bodies(received) == ["c1", "c2", "c3", "c4"]
    first.ack(received[2])  # acknowledges c1, c2 and c3, not c4
    first.conn.disconnect()

    second = open_client()
    second.subscribe(destination)
    fence = second.fence(destination, expect=1)
    assert bodies(fence.others) == ["c4"]
    if broker.quirks.marks_redelivered:
        assert fence.others[0].headers.get("redelivered") == "true"


def test_client_individual_ack(open_client: OpenClient) -> None:
    destination = unique()
    first = open_client()
    first.subscribe(destination, ack="client-individual")
    for body in ("i1", "i2", "i3"):
        first.send(destination, body)
    received = first.rec.wait_messages(3)
    first.ack(received[1])  # only i2
    first.conn.disconnect()

    second = open_client()
    second.subscribe(destination)
    fence = second.fence(destination, expect=2)
    assert sorted(bodies(fence.others)) == ["i1", "i3"]


def _dead_letter_selector(token: str) -> dict[str, str]:
    # Only this test's message: the dead-letter queue is shared by every destination.
    return {"selector": f"xtestid = '{token}'"}


@ONLY_11_12
@pytest.mark.parametrize("persistent", [True, False], ids=["persistent", "non-persistent"])
def test_nack(open_client: OpenClient, broker: BrokerTarget, persistent: bool) -> None:
    destination = unique()
    token = uuid.uuid4().hex
    client = open_client()
    client.subscribe(destination, ack="client-individual")
    extra = {"persistent": "true"} if persistent else {}
    client.send(destination, "nacked", headers={"xtestid": token}, **extra)
    (message,) = client.rec.wait_messages(1)
    client.nack(message)
    outcome = broker.quirks.nack_outcome(persistent)

    if outcome == "redeliver":
        fence = client.fence(destination, since=1, expect=1)
        assert bodies(fence.before) == ["nacked"], "the NACKed message was not redelivered first"
        assert fence.before[0].headers.get("redelivered") == "true"
        client.ack(fence.before[0])
        return

    # dead-letter or discard: nothing comes back to the subscriber ...
    fence = client.fence(destination, since=1)
    assert fence.others == [], "the NACKed message was redelivered"
    # ... and the dead-letter queue has it, or not.
    dlq = broker.quirks.dead_letter_queue
    assert dlq is not None
    client.subscribe(dlq, headers=_dead_letter_selector(token))
    since = len(client.rec.messages)
    if outcome == "dead-letter":
        (dead,) = client.rec.wait_messages(1, since=since)
        assert dead.body == "nacked"
        assert dead.headers["original-destination"] == destination
    else:
        assert outcome == "discard", outcome
        dlq_fence = client.fence(dlq, since=since, headers={"xtestid": token})
        assert bodies(dlq_fence.others) == [], "a non-persistent NACKed message was dead-lettered"


# ------------------------------------------------------------------ transactions


def test_transaction_commit_delivers(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    tx = client.conn.begin()
    # No receipts on transactional SENDs: RabbitMQ sends them only at COMMIT (see
    # test_receipt_of_a_transactional_send); the COMMIT receipt and fences synchronise.
    client.conn.send(destination, "t1", transaction=tx)
    client.conn.send(destination, "t2", transaction=tx)
    assert client.fence(destination).others == [], "transactional SENDs delivered before COMMIT"
    since = len(client.rec.messages)
    receipt = f"commit-{uuid.uuid4().hex}"
    client.conn.commit(tx, receipt=receipt)
    client.rec.wait_receipt(receipt)
    assert bodies(client.rec.wait_messages(2, since=since)) == ["t1", "t2"]


def test_transaction_abort_delivers_nothing(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    tx = client.conn.begin()
    client.conn.send(destination, "aborted 1", transaction=tx)
    client.conn.send(destination, "aborted 2", transaction=tx)
    receipt = f"abort-{uuid.uuid4().hex}"
    client.conn.abort(tx, receipt=receipt)
    client.rec.wait_receipt(receipt)
    fence = client.fence(destination)
    assert fence.before == [] and fence.others == [], "an aborted transaction delivered"


@pytest.mark.parametrize("outcome", ["commit", "abort"])
def test_receipt_of_a_transactional_send(
    open_client: OpenClient, broker: BrokerTarget, outcome: str
) -> None:
    # RabbitMQ holds the RECEIPT of a SEND inside a transaction until COMMIT (it comes
    # after the COMMIT's own receipt) and never sends it on ABORT; ActiveMQ answers at once.
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    tx = client.conn.begin()
    client.conn.send(destination, "in tx", transaction=tx, receipt="tx-send")
    held = broker.quirks.transactional_receipts_at_commit
    if held:
        client.fence(destination)  # the broker has dealt with the SEND by now
        assert "tx-send" not in client.rec.receipts
    else:
        client.rec.wait_receipt("tx-send")
    end = f"{outcome}-{uuid.uuid4().hex}"
    since = len(client.rec.messages)
    getattr(client.conn, outcome)(tx, receipt=end)
    client.rec.wait_receipt(end)
    fence = client.fence(destination, since=since, expect=1 if outcome == "commit" else 0)
    assert bodies(fence.others) == (["in tx"] if outcome == "commit" else [])
    if held and outcome == "commit":
        client.rec.wait_receipt("tx-send")
    assert client.rec.receipts.count("tx-send") == (0 if held and outcome == "abort" else 1)


@pytest.mark.parametrize("outcome", ["commit", "abort"])
def test_ack_inside_a_transaction(open_client: OpenClient, outcome: str) -> None:
    destination = unique()
    first = open_client()
    first.subscribe(destination, ack="client")
    first.send(destination, "tx-acked")
    (message,) = first.rec.wait_messages(1)
    tx = first.conn.begin()
    first.ack(message, transaction=tx)
    receipt = f"{outcome}-{uuid.uuid4().hex}"
    getattr(first.conn, outcome)(tx, receipt=receipt)
    first.rec.wait_receipt(receipt)
    first.conn.disconnect()

    second = open_client()
    second.subscribe(destination)
    if outcome == "commit":
        assert second.fence(destination).others == [], "a committed ACK was undone"
    else:
        assert bodies(second.fence(destination, expect=1).others) == ["tx-acked"]


# ------------------------------------------------------------------ subscriptions


def test_unsubscribe_stops_delivery(open_client: OpenClient) -> None:
    destination = unique()
    client = open_client()
    sub_id = client.subscribe(destination)
    client.send(destination, "before")
    assert bodies(client.rec.wait_messages(1)) == ["before"]
    client.unsubscribe(sub_id)
    client.send(destination, "after")

    # "after" stayed on the queue: a new subscriber gets it, the old one never did.
    other = open_client()
    other.subscribe(destination)
    assert bodies(other.fence(destination, expect=1).others) == ["after"]
    assert bodies(client.rec.messages) == ["before"]


@ONLY_10
def test_unsubscribe_by_destination_on_10(open_client: OpenClient) -> None:
    destination = unique()
    client = open_client()
    receipt = f"rcpt-{uuid.uuid4().hex}"
    client.conn.subscribe(destination, receipt=receipt)  # no id: 1.0 allows it
    client.rec.wait_receipt(receipt)
    client.send(destination, "before")
    assert bodies(client.rec.wait_messages(1)) == ["before"]
    receipt = f"rcpt-{uuid.uuid4().hex}"
    client.conn.unsubscribe(destination=destination, receipt=receipt)
    client.rec.wait_receipt(receipt)
    client.send(destination, "after")

    other = open_client()
    other.subscribe(destination)
    assert bodies(other.fence(destination, expect=1).others) == ["after"]
    assert bodies(client.rec.messages) == ["before"]


@ONLY_11_12
def test_unsubscribe_by_destination_keyword(open_client: OpenClient) -> None:
    # stomp-ng extension: on 1.1/1.2 unsubscribe(destination=...) without an id ends the
    # subscriptions this connection made to that destination.
    destination = unique()
    client = open_client()
    client.subscribe(destination)
    client.send(destination, "before")
    assert bodies(client.rec.wait_messages(1)) == ["before"]
    receipt = f"rcpt-{uuid.uuid4().hex}"
    client.conn.unsubscribe(destination=destination, receipt=receipt)
    client.rec.wait_receipt(receipt)
    client.send(destination, "after")

    other = open_client()
    other.subscribe(destination)
    assert bodies(other.fence(destination, expect=1).others) == ["after"]
    assert bodies(client.rec.messages) == ["before"]


def test_two_subscriptions_on_one_connection(open_client: OpenClient) -> None:
    client = open_client()
    first_destination, second_destination = unique(), unique("topic")
    first = client.subscribe(first_destination)
    second = client.subscribe(second_destination)
    assert first != second
    client.send(first_destination, "to first")
    client.send(second_destination, "to second")
    messages = client.rec.wait_messages(2)
    by_subscription = {m.headers["subscription"]: m.body for m in messages}
    assert by_subscription == {first: "to first", second: "to second"}


def test_topic_fans_out_to_every_subscriber(open_client: OpenClient) -> None:
    topic = unique("topic")
    subscribers = [open_client(), open_client()]
    for subscriber in subscribers:
        subscriber.subscribe(topic)
    publisher = open_client()
    publisher.send(topic, "to all")
    for subscriber in subscribers:
        assert bodies(subscriber.rec.wait_messages(1)) == ["to all"]


def test_queue_delivers_each_message_once(open_client: OpenClient) -> None:
    queue = unique()
    both = threading.Condition()
    consumers = [open_client(cond=both), open_client(cond=both)]
    subscriptions = [consumer.subscribe(queue) for consumer in consumers]
    publisher = open_client()
    sent = [f"q{i}" for i in range(6)]
    for body in sent:
        publisher.send(queue, body)

    def total() -> int:
        return sum(len(consumer.rec.messages) for consumer in consumers)

    consumers[0].rec.wait(lambda: total() >= 6, "6 messages over both consumers")
    # After UNSUBSCRIBE's receipt nothing more is dispatched: the counts are final.
    for consumer, sub_id in zip(consumers, subscriptions, strict=True):
        consumer.unsubscribe(sub_id)
    received = [body for consumer in consumers for body in bodies(consumer.rec.messages)]
    assert sorted(received) == sorted(sent)


# ------------------------------------------------------------------ heart-beats


@ONLY_11_12
def test_heartbeats_with_the_broker(
    open_client: OpenClient, broker: BrokerTarget, request: pytest.FixtureRequest
) -> None:
    client = open_client(heartbeats=(1000, 1000))
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    assert client.rec.connected[0].headers["heart-beat"] == "1000,1000"
    assert client.conn.heartbeats == (1000, 1000)
    assert client.conn.heartbeat_thread is not None

    # Time passing is the point: ~3.5 intervals without traffic.
    assert not client.rec.happens(lambda: client.rec.disconnects, within=3.5), (
        f"the idle connection dropped: {client.rec.summary()}"
    )
    assert client.conn.is_connected()
    assert client.rec.heartbeat_timeouts == 0
    assert client.rec.heartbeats >= 2
    client_beats = [frame for frame in client.rec.sent if frame.cmd is None]
    assert len(client_beats) >= 2

    destination = unique()
    client.subscribe(destination)
    client.send(destination, "still alive")
    assert bodies(client.rec.wait_messages(1)) == ["still alive"]


@ONLY_11_12
def test_heartbeats_flow_with_a_generous_receive_scale(open_client: OpenClient) -> None:
    # As above but with a receive grace (3 x 1 s) that no broker's first heart-beat
    # exceeds, so the heart-beat machinery is checked on every broker.
    listener = TestListener(print_to_log=True)
    client = open_client(heartbeats=(1000, 1000), heart_beat_receive_scale=3.0)
    client.conn.set_listener("test", listener)
    assert listener.wait_for_heartbeat(TIMEOUT)
    assert listener.wait_for_heartbeat(TIMEOUT)
    assert not client.rec.happens(lambda: client.rec.disconnects, within=1.5)
    assert client.conn.is_connected()
    assert listener.heartbeat_count >= 2
    assert listener.heartbeat_timeouts == 0
    assert sum(frame.cmd is None for frame in client.rec.sent) >= 2


def _negotiate(client: tuple[int, int], server: tuple[int, int]) -> tuple[int, int]:
    """The specification's heart-beat arithmetic (§6), written out independently."""
    (cx, cy), (sx, sy) = client, server
    return (max(cx, sy) if cx and sy else 0, max(sx, cy) if sx and cy else 0)


@ONLY_11_12
@pytest.mark.parametrize(
    "requested", [(2000, 3000), (0, 1000), (1000, 0), (500, 500)], ids=lambda hb: f"{hb[0]}-{hb[1]}"
)
def test_heartbeat_negotiation(
    open_client: OpenClient, broker: BrokerTarget, requested: tuple[int, int]
) -> None:
    client = open_client(heartbeats=requested)
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    sent = next(frame for frame in client.rec.sent if frame.cmd in ("CONNECT", "STOMP"))
    assert sent.headers["heart-beat"] == f"{requested[0]},{requested[1]}"

    step = broker.quirks.heartbeat_granularity_ms
    sx, sy = (-(-value // step) * step for value in (requested[1], requested[0]))
    assert client.rec.connected[0].headers["heart-beat"] == f"{sx},{sy}"
    assert client.conn.heartbeats == _negotiate(requested, (sx, sy))
    assert (client.conn.heartbeat_thread is not None) == (client.conn.heartbeats != (0, 0))


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_a_slow_listener_is_not_a_heartbeat_timeout(open_client: OpenClient) -> None:
    # on_message blocks longer than the receive timeout (1 s x 2.5) while the broker's
    # heart-beats wait in the socket: bytes waiting count as life.  (2.5 rather than the
    # default scale keeps clear of the initial-grace bug, see test_heartbeats_with_the_broker.)
    client = open_client(heartbeats=(1000, 1000), heart_beat_receive_scale=2.5)
    slow_done = threading.Event()

    class Slow(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            if frame.body == "slow":
                time.sleep(3.5)  # time passing is the point
                slow_done.set()

    client.conn.set_listener("slow", Slow())
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "slow")
    assert slow_done.wait(TIMEOUT)
    client.send(destination, "after")
    assert bodies(client.rec.wait_messages(2)) == ["slow", "after"]
    assert client.rec.heartbeat_timeouts == 0
    assert client.rec.disconnects == 0
    assert client.conn.is_connected()


def test_no_heartbeats_unless_asked(open_client: OpenClient, version: str) -> None:
    if version == "1.0":
        with pytest.raises(TypeError):
            stomp.Connection10([("127.0.0.1", 1)], heartbeats=(1000, 1000))
    client = open_client()
    client.rec.wait(lambda: client.rec.connected, "on_connected")
    assert client.rec.connected[0].headers.get("heart-beat", "0,0") == "0,0"
    assert client.conn.transport.heartbeat_thread is None
    if version != "1.0":
        assert client.conn.heartbeats == (0, 0)
    assert all(frame.cmd is not None for frame in client.rec.sent)


@ONLY_11_12
def test_disconnect_leaves_no_threads(open_client: OpenClient) -> None:
    client = open_client(heartbeats=(1000, 1000), heart_beat_receive_scale=3.0)
    heartbeat_thread = client.conn.heartbeat_thread
    io_thread = client.conn.transport.io_thread
    assert heartbeat_thread is not None and heartbeat_thread.is_alive()
    client.conn.disconnect()
    assert not io_thread.is_alive()
    heartbeat_thread.join(TIMEOUT)
    assert not heartbeat_thread.is_alive()
    assert client.conn.heartbeat_thread is None


# ------------------------------------------------------------------ ready-made listeners


def test_stats_listener_counts(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    stats = StatsListener()
    client.conn.set_listener("stats", stats)
    client.connect()  # CONNECT/STOMP
    destination = unique()
    client.subscribe(destination)  # SUBSCRIBE
    client.send(destination, "s1")  # SEND
    client.send(destination, "s2")  # SEND
    client.rec.wait_messages(2)
    client.conn.disconnect()  # DISCONNECT
    assert (stats.connections, stats.disconnects, stats.errors) == (1, 1, 0)
    assert stats.messages == 2
    assert stats.messages_sent == 5
    assert stats.heartbeat_count == 0
    assert str(stats).splitlines() == [
        "Connections: 1",
        "Disconnects: 1",
        "Messages sent: 5",
        "Messages received: 2",
        "Heartbeats received: 0",
        "Errors: 0",
    ]


def test_test_listener(open_client: OpenClient) -> None:
    client = open_client(connect=False)
    listener = TestListener("subscribed", print_to_log=True)
    client.conn.set_listener("test", listener)
    client.connect()
    destination = unique()
    client.conn.subscribe(destination, id="t1", receipt="subscribed")
    assert listener.wait_on_receipt(TIMEOUT)
    for body in ("m1", "m2"):
        client.conn.send(destination, body, headers={"x-n": body})
        assert listener.wait_for_message(TIMEOUT)
    headers, body = listener.get_latest_message()
    assert (headers["x-n"], body) == ("m2", "m2")
    assert [body for _, body in listener.message_list] == ["m1", "m2"]
    client.conn.disconnect()
    assert listener.wait_on_disconnected(TIMEOUT)
    assert (listener.connections, listener.messages, listener.messages_sent) == (1, 2, 5)
    assert (listener.disconnects, listener.errors) == (1, 0)


def test_a_listener_that_raises_does_not_stop_the_others(open_client: OpenClient) -> None:
    client = open_client()

    class Faulty(stomp.ConnectionListener):
        def on_message(self, frame: Any) -> None:
            raise RuntimeError("listener failure (expected by the test)")

    client.conn.set_listener("a-faulty", Faulty())  # sorts before "recorder"
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "first")
    client.send(destination, "second")
    assert bodies(client.rec.wait_messages(2)) == ["first", "second"]
    assert client.conn.is_connected()


# ------------------------------------------------------------------ broker differences


def test_message_headers_per_broker(
    open_client: OpenClient, broker: BrokerTarget, version: str
) -> None:
    client = open_client()
    destination = unique()
    sub_id = client.subscribe(destination, ack="client-individual")  # 1.2: ack header
    client.send(destination, "ids")
    (message,) = client.rec.wait_messages(1)
    client.ack(message)
    headers = message.headers
    assert headers["destination"] == destination
    assert headers["subscription"] == sub_id
    assert matches_message_id(broker, headers["message-id"]), headers["message-id"]
    if version == "1.2":
        assert (headers["ack"] == headers["message-id"]) == broker.quirks.ack_is_message_id
    else:
        assert "ack" not in headers
    assert broker.quirks.added_message_headers <= set(headers)
    # RabbitMQ copies the SEND's receipt header into the MESSAGE; ActiveMQ does not.
    assert ("receipt" in headers) == broker.quirks.copies_receipt_header


@pytest.mark.parametrize("persistent", [True, False], ids=["persistent", "default"])
def test_persistent_header(open_client: OpenClient, persistent: bool) -> None:
    # Both brokers mark a message sent with persistent:true, and only that one.
    # (ActiveMQ's SEND is non-persistent by default, RabbitMQ's /queue/ is durable but
    # messages are transient unless persistent:true.)
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "p", **({"persistent": "true"} if persistent else {}))
    (message,) = client.rec.wait_messages(1)
    assert message.headers.get("persistent") == ("true" if persistent else None)


def test_non_ascii_destination(open_client: OpenClient, broker: BrokerTarget) -> None:
    client = open_client()
    destination = unique() + "-é"
    client.subscribe(destination)
    client.send(destination, "é")
    (message,) = client.rec.wait_messages(1)
    if broker.quirks.percent_encodes_destination:
        assert message.headers["destination"] == destination.replace("é", "%C3%A9")
    else:
        assert message.headers["destination"] == destination


def test_error_for_an_unknown_command(open_client: OpenClient, broker: BrokerTarget) -> None:
    client = open_client()
    client.conn.send_frame("NO-SUCH-COMMAND", {"receipt": "unknown"})
    client.rec.wait(lambda: client.rec.errors, "ERROR frame")
    assert client.rec.errors[0].cmd == "ERROR"
    if broker.quirks.closes_on_unknown_command:
        # The broker hangs up: listeners are told, no thread is left, sending fails.
        client.rec.wait(lambda: client.rec.disconnects, "on_disconnected")
        assert not client.conn.is_connected()
        assert client.io_thread_ended()
        with pytest.raises(stomp.exception.NotConnectedException):
            client.conn.send(unique(), "after the broker closed")
    else:
        destination = unique()
        client.subscribe(destination)
        client.send(destination, "still usable")
        assert bodies(client.rec.wait_messages(1)) == ["still usable"]


def test_slash_in_destination_name(open_client: OpenClient, broker: BrokerTarget) -> None:
    client = open_client()
    destination = unique() + "/sub"
    if broker.quirks.rejects_slash_in_names:
        # The ERROR reaches on_error and the connection stays usable (the broker keeps it).
        client.conn.send(destination, "x")
        client.rec.wait(lambda: client.rec.errors, "ERROR frame")
        assert client.rec.errors[0].headers["message"] == "Invalid destination"
        assert client.conn.is_connected()
        good = unique()
        client.subscribe(good)
        client.send(good, "still usable")
        assert bodies(client.rec.wait_messages(1)) == ["still usable"]
    else:
        client.subscribe(destination)
        client.send(destination, "x")
        (message,) = client.rec.wait_messages(1)
        assert message.headers["destination"] == destination


# ------------------------------------------------------------------ CR, credentials, non-ASCII

_CR_HEADERS = {"x-cr": "a\rb", "x-crlf": "line 1\r\nline 2", "x-trailing-cr": "end\r"}


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_header_values_with_cr_round_trip_on_12(open_client: OpenClient) -> None:
    # 1.2 escapes CR as \r (and reads CRLF line ends), so CR in a value survives.
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    client.send(destination, "cr", headers=_CR_HEADERS)
    (message,) = client.rec.wait_messages(1)
    assert {name: message.headers.get(name) for name in _CR_HEADERS} == _CR_HEADERS


@pytest.mark.parametrize("version", ["1.1"], indirect=True)
def test_header_values_with_cr_on_11(open_client: OpenClient, broker: BrokerTarget) -> None:
    # 1.1 has no escape for CR: the client writes it raw. What the broker does with it is
    # its business (Quirks.header_cr_on_11): keep it, or hang up.
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    transform = broker.quirks.header_cr_on_11
    if transform is None:
        client.conn.send(destination, "cr", headers=_CR_HEADERS)
        client.rec.wait(lambda: client.rec.disconnects, "on_disconnected")
        assert not client.conn.is_connected()
        assert client.rec.messages == [] and client.rec.errors == []
        assert client.io_thread_ended()
        return
    client.send(destination, "cr", headers=_CR_HEADERS)
    (message,) = client.rec.wait_messages(1)
    expected = {name: transform(value) for name, value in _CR_HEADERS.items()}
    assert {name: message.headers.get(name) for name in _CR_HEADERS} == expected
    client.send(destination, "after")
    assert bodies(client.rec.wait_messages(1, since=1)) == ["after"]


def test_non_ascii_header_names_and_values(open_client: OpenClient) -> None:
    client = open_client()
    destination = unique()
    client.subscribe(destination)
    sent = {"x-ключ": "значение", "x-日本": "語 ✓", "x-émoji": "😀 €"}
    client.send(destination, "ünïcödé ✓ 😀", headers=sent)
    (message,) = client.rec.wait_messages(1)
    assert message.body == "ünïcödé ✓ 😀"
    assert {name: message.headers.get(name) for name in sent} == sent


def test_bad_credentials_without_wait_never_connect(
    open_client: OpenClient, broker: BrokerTarget
) -> None:
    client = open_client(connect=False)
    wrong = f"wrong-{uuid.uuid4().hex}"
    client.conn.connect(broker.login, wrong, wait=False)
    assert not client.conn.is_connected()
    # The broker answers with an ERROR (and closes, or not: Quirks.closes_after_refused_login).
    client.rec.wait(lambda: client.rec.errors, "ERROR frame")
    assert client.rec.errors[0].cmd == "ERROR"
    if broker.quirks.closes_after_refused_login:
        client.rec.wait(lambda: client.rec.disconnects, "on_disconnected")
        assert client.io_thread_ended(5.0), "the receiver thread outlived the refused connect"
    # Never connected, however long one looks (a second here).
    assert not client.rec.happens(lambda: client.rec.connected, within=1.0)
    assert not client.conn.is_connected()


def test_bad_login_name_raises_connect_failed(
    open_client: OpenClient, broker: BrokerTarget
) -> None:
    client = open_client(connect=False)
    started = time.monotonic()
    with pytest.raises(ConnectFailedException):
        client.conn.connect(f"nobody-{uuid.uuid4().hex[:8]}", broker.passcode, wait=True)
    assert time.monotonic() - started < 5.0
    assert not client.conn.is_connected()
    assert client.rec.connected == []
    assert client.io_thread_ended(5.0)
