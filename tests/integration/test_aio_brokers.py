"""The asyncio client (stomp.aio) against RabbitMQ, ActiveMQ and the embedded broker, on
STOMP 1.0, 1.1 and 1.2 where it applies: sending and receiving with receipts, client and
client-individual acknowledgement, NACK as each broker treats it, unacknowledged messages
delivered again after a disconnect, transactions committed and aborted (sends and acks),
prefetch bounding what the broker sends ahead, heart-beats negotiated and kept, failover
past a refused port, TLS against ActiveMQ's STOMP+SSL port, the broker's ERROR frames
and a wrong password.

Every test uses its own queue, every wait is bounded (``aio_test`` bounds the whole test
and fails it if a task is left behind), and "nothing more came" is asserted with a fence:
a marker message sent after the operation under test; whatever the broker was going to
deliver before it has come once it arrives.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import uuid
from typing import Any

import pytest
from support.aio import aio_test

import stomp.aio
from brokerinfo import ACTIVEMQ, ACTIVEMQ_SSL, EMBEDDED, RABBITMQ, Broker, TLSFiles
from stomp.codec import Frame
from stomp.exception import (
    BrokerErrorException,
    ConnectFailedException,
    ConnectionClosedException,
)

#: The bound of each wait, in seconds.
WAIT = 10.0
BROKERS = {
    "rabbitmq": (RABBITMQ, "rabbitmq_stomp"),
    "activemq": (ACTIVEMQ, "activemq_stomp"),
    "embedded": (EMBEDDED, "embedded_stomp"),
}
VERSIONS = ["1.0", "1.1", "1.2"]
#: The versions with NACK and client-individual acknowledgement.
VERSIONS_11_12 = ["1.1", "1.2"]
FENCE = "x-fence"


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> Broker:
    info, fixture = BROKERS[request.param]
    request.getfixturevalue(fixture)  # skipped (or failed in CI) when it is down
    return info


def _conn(info: Broker, version: str = "1.2", **options: Any) -> stomp.aio.Connection:
    options.setdefault("timeout", WAIT)
    options.setdefault("username", info.login)
    options.setdefault("passcode", info.passcode)
    if version != "1.0":
        options.setdefault("vhost", info.vhost or None)
    return stomp.aio.Connection(options.pop("hosts", [info.address]), version=version, **options)


def _queue() -> str:
    return f"/queue/stompng-aio-{uuid.uuid4().hex[:12]}"


async def _send(conn: stomp.aio.Connection, queue: str, count: int, **kwargs: Any) -> None:
    """Send ``m0`` .. ``m{count-1}`` (header ``n``), the last one with a receipt: once it
    comes, the broker has them all."""
    for n in range(count):
        await conn.send(queue, f"m{n}", headers={"n": str(n)}, receipt=n == count - 1, **kwargs)


async def _to_fence(conn: stomp.aio.Connection, sub: stomp.aio.Subscription) -> list[Any]:
    """Send a fence to the subscription's queue and take messages until it comes
    (acknowledging each, unless ``auto``); returns the bodies that came before it."""
    token = uuid.uuid4().hex
    await conn.send(sub.destination, "fence", headers={FENCE: token}, receipt=True)
    bodies = []
    while True:
        message = await sub.get(WAIT)
        if sub.ack != "auto":
            await message.ack()
        if message.headers.get(FENCE) == token:
            return bodies
        bodies.append(message.body)


async def _take(sub: stomp.aio.Subscription, count: int) -> list[stomp.aio.Message]:
    return [await sub.get(WAIT) for _ in range(count)]


def _refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- sending and receiving ---------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_send_and_receive_with_receipts(broker: Broker, version: str) -> None:
    queue = _queue()
    async with _conn(broker, version) as conn:
        assert conn.connected and conn.version == version
        assert conn.server.get("version", "1.0") == version
        async with await conn.subscribe(queue, receipt=True) as sub:
            for n in range(5):
                await conn.send(queue, f"m{n}", content_type="text/plain", n=str(n), receipt=True)
            got = await _take(sub, 5)
            assert [m.body for m in got] == [f"m{n}" for n in range(5)]
            assert [m.headers["n"] for m in got] == [str(n) for n in range(5)]
            assert all(m.destination == queue for m in got)
            assert all(m.headers["content-type"].startswith("text/plain") for m in got)
            assert len({m.message_id for m in got}) == 5
            assert await _to_fence(conn, sub) == []  # each once
    assert not conn.connected and not sub.active


@aio_test
async def test_bytes_bodies_without_auto_decode(broker: Broker) -> None:
    queue = _queue()
    body = bytes(range(256)) + b"\x00\n:end"
    async with _conn(broker, auto_decode=False) as conn, await conn.subscribe(queue) as sub:
        await conn.send(queue, body, receipt=True)
        message = await sub.get(WAIT)
        assert message.body == body


# -- acknowledgement ---------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS_11_12)
@aio_test
async def test_client_individual_the_unacknowledged_come_back_after_disconnect(
    broker: Broker, version: str
) -> None:
    queue = _queue()
    async with _conn(broker, version) as conn:
        await _send(conn, queue, 6)
        sub = await conn.subscribe(queue, ack="client-individual", prefetch=10)
        got = await _take(sub, 6)
        assert [m.body for m in got] == [f"m{n}" for n in range(6)]
        for message in got[1::2]:  # m1, m3, m5: each on its own
            await message.ack(receipt=True)
    # m0, m2 and m4 were delivered but never acknowledged: the broker has them again.
    async with _conn(broker, version) as conn:
        sub = await conn.subscribe(queue, ack="client-individual")
        again = await _take(sub, 3)
        assert sorted(m.body for m in again) == ["m0", "m2", "m4"]
        for message in again:
            await message.ack()
        assert await _to_fence(conn, sub) == []


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_client_ack_is_cumulative(broker: Broker, version: str) -> None:
    queue = _queue()
    async with _conn(broker, version) as conn:
        await _send(conn, queue, 5)
        sub = await conn.subscribe(queue, ack="client", prefetch=10)
        got = await _take(sub, 5)
        assert [m.body for m in got] == [f"m{n}" for n in range(5)]
        await got[2].ack(receipt=True)  # m0, m1 and m2
    async with _conn(broker, version) as conn:
        sub = await conn.subscribe(queue, ack="client")
        assert await _to_fence(conn, sub) == ["m3", "m4"]


@pytest.mark.parametrize("version", VERSIONS_11_12)
@aio_test
async def test_nack_as_each_broker_does_it(broker: Broker, version: str) -> None:
    queue = _queue()
    run = uuid.uuid4().hex
    async with _conn(broker, version) as conn:
        # (persistent: ActiveMQ drops a refused non-persistent message rather than keep it)
        await _send(conn, queue, 3, run=run, persistent="true")
        sub = await conn.subscribe(queue, ack="client-individual")
        got = await _take(sub, 3)
        assert [m.body for m in got] == ["m0", "m1", "m2"]
        await got[1].nack(receipt=True)
        await got[0].ack()
        await got[2].ack()
        later = await _to_fence(conn, sub)
        if broker is ACTIVEMQ:
            # ActiveMQ sends a refused message to its dead-letter queue.
            assert later == []
            dlq = await conn.subscribe(
                "/queue/ActiveMQ.DLQ", ack="client-individual", selector=f"run = '{run}'"
            )
            dead = await dlq.get(WAIT)
            assert dead.body == "m1" and dead.headers["n"] == "1"
            await dead.ack(receipt=True)
            await dlq.unsubscribe()
        else:
            # RabbitMQ and the embedded broker deliver it again.
            assert later == ["m1"]


@aio_test
async def test_acknowledging_twice(broker: Broker) -> None:
    # The second ACK of a message names a delivery the broker no longer has; each broker
    # says so its own way.
    queue = _queue()
    errors: list[Frame] = []
    async with _conn(broker) as conn:
        conn.on_error = errors.append
        sub = await conn.subscribe(queue, ack="client-individual")
        await conn.send(queue, "once", receipt=True)
        message = await sub.get(WAIT)
        await message.ack(receipt=True)
        if broker is RABBITMQ:
            # An AMQP channel error: RabbitMQ answers the receipt, then sends an ERROR
            # that names no receipt and closes the connection.
            await message.ack(receipt=True)
            with pytest.raises(ConnectionClosedException, match="unknown delivery tag"):
                await sub.get(WAIT)
            assert [refused.headers["message"] for refused in errors] == ["precondition_failed"]
            assert conn.error is errors[0] and not conn.connected
            return
        with pytest.raises(BrokerErrorException, match=r"(?i)unexpected ack|unknown id") as info:
            await message.ack(receipt=True)
        assert info.value.frame is not None and info.value.frame.cmd == "ERROR"
        assert errors == [] and conn.error is None  # it answered the receipt
        if broker is ACTIVEMQ:
            assert conn.connected  # ActiveMQ goes on
            assert await _to_fence(conn, sub) == []
        else:
            # The embedded broker closes the connection after the ERROR; the subscription
            # ends saying why.
            with pytest.raises(ConnectionClosedException, match="ACK for an unknown id"):
                await sub.get(WAIT)


# -- transactions ------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_transaction_sends_committed_arrive_aborted_do_not(
    broker: Broker, version: str
) -> None:
    queue = _queue()
    async with _conn(broker, version) as conn, await conn.subscribe(queue) as sub:
        async with await conn.begin() as committed:
            await committed.send(queue, "c1")
            await conn.send(queue, "c2", transaction=committed)
        aborted = await conn.begin()
        await aborted.send(queue, "a1")
        await aborted.abort(receipt=True)
        with pytest.raises(RuntimeError):
            async with await conn.begin() as failed:
                await failed.send(queue, "a2")
                raise RuntimeError("the block failed: its sends are aborted")
        await conn.send(queue, "plain", receipt=True)
        assert await _to_fence(conn, sub) == ["c1", "c2", "plain"]


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_transaction_acks_committed_count_aborted_do_not(
    broker: Broker, version: str
) -> None:
    queue = _queue()
    mode = "client" if version == "1.0" else "client-individual"
    async with _conn(broker, version) as conn:
        await _send(conn, queue, 2)
        sub = await conn.subscribe(queue, ack=mode)
        first, second = await _take(sub, 2)
        tx = await conn.begin()
        await second.ack(transaction=tx)
        await tx.abort(receipt=True)
        if mode == "client-individual":
            async with await conn.begin() as tx:
                await first.ack(transaction=tx)
    # Only the committed ACK counted: the other message comes again.
    async with _conn(broker, version) as conn:
        sub = await conn.subscribe(queue, ack=mode)
        expected = ["m1"] if mode == "client-individual" else ["m0", "m1"]
        assert await _to_fence(conn, sub) == expected


# -- flow --------------------------------------------------------------------------------


@aio_test
async def test_prefetch_bounds_what_the_broker_sends_ahead(broker: Broker) -> None:
    queue = _queue()
    async with _conn(broker) as conn:
        await _send(conn, queue, 20)
        sub = await conn.subscribe(queue, ack="client-individual", prefetch=5)
        first = await sub.get(WAIT)
        # Nothing acknowledged: the broker holds the other 15 back.  A receipt from the
        # broker comes after whatever it had sent before it.
        await conn.send("/topic/stompng-aio-sync", "", receipt=True)
        assert sub.buffered + 1 <= 5
        await first.ack()
        bodies = {first.body}
        while len(bodies) < 20:
            message = await sub.get(WAIT)
            bodies.add(message.body)
            await message.ack()
        assert bodies == {f"m{n}" for n in range(20)}
        await sub.unsubscribe(receipt=True)


# -- the connection ----------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS_11_12)
@aio_test
async def test_heartbeats_negotiated_and_kept(broker: Broker, version: str) -> None:
    # (ActiveMQ answers no less than 1000 ms; a receive grace of 3 intervals that no
    # broker's first heart-beat exceeds)
    async with _conn(broker, version, heartbeats=(1000, 1000), heart_beat_receive_scale=3.0) as c:
        assert c.server["heart-beat"] == "1000,1000"
        assert c.session.heartbeat_timing == (1.0, 3.0)  # send every 1 s, silent after 3
        link = c._link
        assert link is not None
        since = link.last_received
        # Time passing is the point: three intervals without a frame either way.
        await asyncio.sleep(3.2)
        assert c.connected
        assert link.last_received > since  # the broker's heart-beats came
        queue = _queue()
        async with await c.subscribe(queue) as sub:
            await c.send(queue, "still alive", receipt=True)
            assert (await sub.get(WAIT)).body == "still alive"


@aio_test
async def test_failover_past_a_refused_port(broker: Broker) -> None:
    refused = ("127.0.0.1", _refused_port())
    conn = _conn(broker, hosts=[refused, broker.address], reconnect_sleep_initial=0.01)
    async with conn:
        assert conn.host == broker.address
        queue = _queue()
        async with await conn.subscribe(queue) as sub:
            await conn.send(queue, "through", receipt=True)
            assert (await sub.get(WAIT)).body == "through"


@aio_test
async def test_no_broker_at_all(broker: Broker) -> None:
    ports = [("127.0.0.1", _refused_port()), ("127.0.0.1", _refused_port())]
    conn = _conn(broker, hosts=ports, reconnect_sleep_initial=0.01, reconnect_attempts_max=2)
    with pytest.raises(ConnectFailedException) as info:
        await conn.connect()
    assert str(ports[0][1]) in str(info.value) and str(ports[1][1]) in str(info.value)
    assert not conn.connected


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_wrong_password(broker: Broker, version: str) -> None:
    # A refused port after the broker, and a long back-off: a refusal is final, so
    # neither is reached.
    hosts = [broker.address, ("127.0.0.1", _refused_port())]
    conn = _conn(broker, version, passcode="wrong", hosts=hosts, reconnect_sleep_initial=30.0)
    reason = {
        "RabbitMQ": "Access refused",
        "ActiveMQ": "password is invalid",
        "Embedded": "login or passcode is wrong",
    }[broker.name]
    with pytest.raises(ConnectFailedException, match=reason) as info:
        await conn.connect()
    assert info.value.frame is not None and info.value.frame.cmd == "ERROR"
    assert not conn.connected and conn.host == broker.address


# -- TLS ---------------------------------------------------------------------------------


@pytest.fixture
def tls(activemq_tls_files: TLSFiles, activemq_ssl: tuple[str, int]) -> TLSFiles:
    """The TLS files, once ActiveMQ's STOMP+SSL listener is known to be up."""
    return activemq_tls_files


@pytest.mark.parametrize("version", VERSIONS)
@aio_test
async def test_tls_against_activemq(tls: TLSFiles, version: str) -> None:
    context = ssl.create_default_context(cafile=tls.ca_certs)
    queue = _queue()
    async with _conn(ACTIVEMQ_SSL, version, ssl=context) as conn:
        link = conn._link
        assert link is not None and link.transport is not None
        assert link.transport.get_extra_info("ssl_object") is not None
        async with await conn.subscribe(queue, ack="client") as sub:
            await conn.send(queue, "over TLS", receipt=True)
            message = await sub.get(WAIT)
            assert message.body == "over TLS"
            await message.ack(receipt=True)


@aio_test
async def test_tls_with_a_client_certificate(tls: TLSFiles) -> None:
    context = ssl.create_default_context(cafile=tls.ca_certs)
    context.load_cert_chain(tls.client_cert, tls.client_key)
    async with _conn(ACTIVEMQ_SSL, ssl=context) as conn:
        await conn.send(_queue(), "signed", receipt=True)


@aio_test
async def test_tls_refuses_a_broker_another_ca_signed(tls: TLSFiles) -> None:
    context = ssl.create_default_context(cafile=tls.other_ca_certs)
    conn = _conn(ACTIVEMQ_SSL, ssl=context, reconnect_attempts_max=1)
    with pytest.raises(ConnectFailedException, match="CERTIFICATE_VERIFY_FAILED"):
        await conn.connect()
    assert not conn.connected


# -- the broker's ERROR frames -----------------------------------------------------------


@aio_test
async def test_rabbitmq_refuses_a_bad_destination(rabbitmq_stomp: Any) -> None:
    # RabbitMQ's ERROR for an unknown kind of destination names no receipt and keeps the
    # connection: it comes to on_error (and conn.error) and the receipt never comes.
    refused = asyncio.get_running_loop().create_future()
    async with _conn(RABBITMQ) as conn:
        conn.on_error = refused.set_result
        await conn.send("/bogus/x", "nowhere")
        frame = await asyncio.wait_for(refused, WAIT)
        assert frame.headers["message"] == "Unknown destination"
        assert "'/bogus/x' is not a valid destination" in frame.body
        assert conn.error is frame and conn.connected
        with pytest.raises(asyncio.TimeoutError, match="no RECEIPT for SUBSCRIBE"):
            await conn.subscribe("/bogus/y", receipt=True, timeout=0.5)
        queue = _queue()
        async with await conn.subscribe(queue) as sub:
            await conn.send(queue, "still here", receipt=True)
            assert (await sub.get(WAIT)).body == "still here"


@aio_test
async def test_a_broker_error_answering_a_receipt(broker: Broker) -> None:
    # COMMIT of a transaction never begun.
    async with _conn(broker) as conn:
        if broker is RABBITMQ:
            refused = asyncio.get_running_loop().create_future()
            conn.on_error = refused.set_result
            await conn.commit("no-such-transaction")
            frame = await asyncio.wait_for(refused, WAIT)
            assert "no-such-transaction" in frame.body
        else:
            with pytest.raises(BrokerErrorException, match=r"(?i)transaction") as info:
                await conn.commit("no-such-transaction", receipt=True)
            assert info.value.frame is not None
            assert "no-such-transaction" in str(info.value.frame.body)
        assert conn.connected
