"""The same scenarios over the library's three ways to receive (threaded listeners, the
pull API, asyncio: see ``support.apis``) on RabbitMQ, ActiveMQ and the embedded broker,
STOMP 1.0, 1.1 and 1.2 where it applies.  Each scenario is written once, against
``support.apis.Client``; whatever an API does differently shows as a failure of that API.

"Nothing more came" is asserted with a fence: a marker message sent after the operation
under test; whatever the broker was going to deliver before it has come once it arrives.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.apis import APIS, Client, Inbox, connect

from brokerinfo import ACTIVEMQ, EMBEDDED, RABBITMQ, Broker

WAIT = 10.0
BROKERS = {
    "rabbitmq": (RABBITMQ, "rabbitmq_stomp"),
    "activemq": (ACTIVEMQ, "activemq_stomp"),
    "embedded": (EMBEDDED, "embedded_stomp"),
}
VERSIONS = ["1.0", "1.1", "1.2"]
FENCE = "x-fence"

Open = Callable[..., Client]


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    info, fixture = BROKERS[request.param]
    request.getfixturevalue(fixture)  # skipped (or failed in CI) when it is down
    return info


@pytest.fixture(params=APIS)
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def open_client(api: str, broker: Broker) -> Iterator[Open]:
    """``open_client(version="1.2")``: a client of the API connected to the broker;
    every one still open is closed at teardown."""
    opened: list[Client] = []

    def open_(version: str = "1.2") -> Client:
        client = connect(api, broker, version)
        opened.append(client)
        return client

    yield open_
    for client in opened:
        client.close()


def _queue() -> str:
    return f"/queue/stompng-apis-{uuid.uuid4().hex[:12]}"


def _to_fence(client: Client, inbox: Inbox, destination: str) -> list[Any]:
    """Send a fence to ``destination`` and take messages until it comes (acknowledging
    each, unless ``auto``); returns the bodies that came before it."""
    token = uuid.uuid4().hex
    client.send(destination, "fence", headers={FENCE: token}, receipt=True)
    bodies = []
    while True:
        message = inbox.get(WAIT)
        if inbox.ack_mode != "auto":
            inbox.ack(message)
        if message.headers.get(FENCE) == token:
            return bodies
        bodies.append(message.body)


@pytest.mark.parametrize("version", VERSIONS)
def test_messages_sent_with_a_receipt_arrive_in_order_each_once(
    open_client: Open, version: str
) -> None:
    client = open_client(version)
    queue = _queue()
    inbox = client.subscribe(queue)
    for n in range(10):
        client.send(queue, f"m{n}", headers={"n": str(n)}, receipt=True)
    got = [inbox.get(WAIT) for _ in range(10)]
    assert [m.body for m in got] == [f"m{n}" for n in range(10)]
    assert [m.headers["n"] for m in got] == [str(n) for n in range(10)]
    assert len({m.headers["message-id"] for m in got}) == 10
    assert _to_fence(client, inbox, queue) == []
    inbox.unsubscribe()


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_client_individual_ack_half_disconnect_the_others_come_back(
    open_client: Open, version: str
) -> None:
    client = open_client(version)
    queue = _queue()
    for n in range(6):
        client.send(queue, f"m{n}", receipt=n == 5)
    inbox = client.subscribe(queue, ack="client-individual", prefetch=10)
    got = [inbox.get(WAIT) for _ in range(6)]
    assert [m.body for m in got] == [f"m{n}" for n in range(6)]
    for message in got[::2]:  # m0, m2, m4
        inbox.ack(message)
    client.close()  # (its DISCONNECT receipt: the broker has the ACKs)

    again = open_client(version)
    inbox = again.subscribe(queue, ack="client-individual")
    back = [inbox.get(WAIT) for _ in range(3)]
    assert sorted(m.body for m in back) == ["m1", "m3", "m5"]
    for message in back:
        inbox.ack(message)
    assert _to_fence(again, inbox, queue) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_client_ack_is_cumulative(open_client: Open, version: str) -> None:
    client = open_client(version)
    queue = _queue()
    for n in range(4):
        client.send(queue, f"m{n}", receipt=n == 3)
    inbox = client.subscribe(queue, ack="client", prefetch=10)
    got = [inbox.get(WAIT) for _ in range(4)]
    inbox.ack(got[1])  # m0 and m1
    client.close()

    again = open_client(version)
    assert _to_fence(again, again.subscribe(queue, ack="client"), queue) == ["m2", "m3"]


@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_committed_sends_arrive_aborted_do_not(open_client: Open, version: str) -> None:
    client = open_client(version)
    queue = _queue()
    inbox = client.subscribe(queue)
    committed = client.begin()
    aborted = client.begin()
    client.send(queue, "c1", transaction=committed)
    client.send(queue, "a1", transaction=aborted)
    client.send(queue, "plain", receipt=True)
    client.send(queue, "c2", transaction=committed)
    client.send(queue, "a2", transaction=aborted)
    client.abort(aborted)
    client.commit(committed)
    assert _to_fence(client, inbox, queue) == ["plain", "c1", "c2"]


@pytest.mark.parametrize("version", VERSIONS)
def test_transaction_acks_count_when_committed(open_client: Open, version: str) -> None:
    client = open_client(version)
    queue = _queue()
    mode = "client" if version == "1.0" else "client-individual"
    for n in range(2):
        client.send(queue, f"m{n}", receipt=n == 1)
    inbox = client.subscribe(queue, ack=mode)
    first, second = inbox.get(WAIT), inbox.get(WAIT)
    aborted = client.begin()
    inbox.ack(second, transaction=aborted)
    client.abort(aborted)
    if mode == "client-individual":
        committed = client.begin()
        inbox.ack(first, transaction=committed)
        client.commit(committed)
    client.close()

    again = open_client(version)
    expected = ["m1"] if mode == "client-individual" else ["m0", "m1"]
    assert _to_fence(again, again.subscribe(queue, ack=mode), queue) == expected


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_nack_as_each_broker_does_it(open_client: Open, broker: Broker, version: str) -> None:
    client = open_client(version)
    queue = _queue()
    for n in range(3):
        client.send(queue, f"m{n}", receipt=n == 2)
    inbox = client.subscribe(queue, ack="client-individual")
    got = [inbox.get(WAIT) for _ in range(3)]
    inbox.nack(got[1])
    inbox.ack(got[0])
    inbox.ack(got[2])
    # RabbitMQ and the embedded broker deliver a refused message again; ActiveMQ does
    # not (it drops a non-persistent one, a persistent one goes to its dead-letter queue).
    expected = [] if broker is ACTIVEMQ else ["m1"]
    assert _to_fence(client, inbox, queue) == expected


#: Header values that need escaping in 1.1 and 1.2 (``\r`` only 1.2 escapes).
ESCAPED = {
    "x-colon": "a:b:c",
    "x-newline": "line one\nline two",
    "x-backslash": "C:\\temp\\new",
    "x-all": "k:v\\n\n:",
    # (1.0 brokers trim: ActiveMQ both ends, RabbitMQ the start)
    "x-spaces": " padded value ",
}


@pytest.mark.parametrize("version", VERSIONS)
def test_headers_round_trip(open_client: Open, version: str) -> None:
    client = open_client(version)
    queue = _queue()
    headers = {"x-plain": "value", "x-unicode": "żółw ✓ 日本"}
    if version == "1.0":
        headers["x-colon"] = "a:b:c"  # 1.0 has no escapes: a value is all after the first ':'
    else:
        headers.update(ESCAPED)
    if version == "1.2":
        headers["x-return"] = "a\rb"
    inbox = client.subscribe(queue)
    client.send(queue, "with headers", headers=headers, receipt=True)
    message = inbox.get(WAIT)
    assert message.body == "with headers"
    assert {name: message.headers.get(name) for name in headers} == headers
