"""The example programs of the seed document and the reference's usage examples, run
unchanged against RabbitMQ and ActiveMQ.

Seed document: ``../shared/reference/000_c48fbe3553fc0230.txt`` ("Usage Examples");
reference: ``../shared/reference/stomp-py-api.md`` (the observed invocations of §2.4,
§2.6, §2.16 and the listeners of §5.5/§5.7).

Each example is kept as source text and run with :func:`exec`, so what runs is the
example itself.  The only substitutions are names bound by :func:`run_example`:

* ``HOST, PORT`` for ``'localhost', 61613``;
* ``USER, PASSWORD`` for ``'user', 'password'`` (and ``"user", "pw"``);
* ``DEST_*`` for destination names (unique per test, so runs do not see each other's
  leftovers);
* ``vhost=VHOST`` added to the constructors of 1.1/1.2 connections: RabbitMQ reads
  the ``host`` header as a virtual host and refuses ``127.0.0.1``; ``VHOST`` is ``"/"``
  for RabbitMQ and ``None`` (the default, i.e. as if not passed) for ActiveMQ.

Everything else differing from the document is said in a comment at that example.

Long ``time.sleep`` calls are bounded without touching the code: the example's
``import time`` gets a module whose ``sleep`` (for one second or more) runs the test's
``during_sleep`` step instead -- the work another program would do meanwhile (send the
messages the example waits for, and wait until the example has dealt with them) -- and
then returns.  ``print`` is recorded, since printing is how the examples report.
"""

from __future__ import annotations

import builtins
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from broker_targets import TARGETS, BrokerTarget
from connection_helpers import TIMEOUT, Recorder

import stomp

# ------------------------------------------------------------------ running an example


class Printed:
    """The lines an example printed, waitable."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cond = threading.Condition()

    def print(self, *args: Any, sep: str = " ", end: str = "\n", **_: Any) -> None:
        with self.cond:
            self.lines.append(sep.join(str(a) for a in args))
            self.cond.notify_all()

    def has(self, text: str) -> bool:
        with self.cond:
            return any(text in line for line in self.lines)

    def wait_for(self, *texts: str, timeout: float = TIMEOUT) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: all(map(self.has, texts)), timeout):
                raise AssertionError(f"example did not print {texts}; printed {self.lines}")


def run_example(
    source: str,
    broker: BrokerTarget,
    during_sleep: Callable[[dict[str, Any]], None] | None = None,
    printed: Printed | None = None,
    provide_time: bool = False,
    **names: Any,
) -> tuple[dict[str, Any], Printed]:
    """Run ``source`` as a program; return its globals and what it printed.

    ``during_sleep(globals)`` runs in place of each ``time.sleep(s)`` with ``s >= 1``
    (shorter sleeps, as in polling loops, really sleep).  ``provide_time``: bind
    ``time`` (that module) for a program that uses it without importing it.
    """
    printed = printed if printed is not None else Printed()
    real_import = builtins.__import__

    def bounded_sleep(seconds: float) -> None:
        if seconds < 1:
            time.sleep(seconds)
        elif during_sleep is not None:
            during_sleep(namespace)

    fake_time = types.ModuleType("time")
    fake_time.__dict__.update(time.__dict__)
    fake_time.sleep = bounded_sleep  # type: ignore[attr-defined]

    def import_(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "time":
            return fake_time
        return real_import(name, *args, **kwargs)

    fake_builtins = dict(vars(builtins))
    fake_builtins["__import__"] = import_
    fake_builtins["print"] = printed.print
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__builtins__": fake_builtins,
        "HOST": broker.host,
        "PORT": broker.port,
        "USER": broker.login,
        "PASSWORD": broker.passcode,
        "VHOST": broker.info.vhost if _refuses_vhost(broker) else None,
    }
    if provide_time:
        namespace["time"] = fake_time
    namespace.update(names)
    try:
        exec(compile(source, "<example>", "exec"), namespace)
    finally:
        # Should the example fail half-way, close what it opened.
        for value in list(namespace.values()):
            if isinstance(value, stomp.connect.BaseConnection) and value.is_connected():
                value.disconnect()
    return namespace, printed


# ------------------------------------------------------------------ fixtures and helpers


def _refuses_vhost(target: BrokerTarget) -> bool:
    return target.quirks.refuses_unknown_vhost


@pytest.fixture(params=TARGETS, ids=lambda target: target.name.lower())
def broker(request: pytest.FixtureRequest) -> BrokerTarget:
    """Each broker of :data:`broker_targets.TARGETS` that is up."""
    target: BrokerTarget = request.param
    request.getfixturevalue(target.fixture)
    return target


class Peer:
    """Another program on the same broker: sends, and watches destinations."""

    def __init__(self, broker: BrokerTarget) -> None:
        kwargs = {"vhost": broker.info.vhost} if _refuses_vhost(broker) else {}
        self.conn = stomp.Connection12([(broker.host, broker.port)], timeout=TIMEOUT, **kwargs)
        self.rec = Recorder()
        self.conn.set_listener("peer", self.rec)
        self.conn.connect(broker.login, broker.passcode, wait=True)

    def _receipted(self, call: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        receipt = f"r-{uuid.uuid4().hex}"
        call(*args, receipt=receipt, **kwargs)
        self.rec.wait_receipt(receipt)

    def watch(self, destination: str, ack: str = "auto") -> None:
        self._receipted(self.conn.subscribe, destination, id=destination, ack=ack)

    def send(self, destination: str, body: str, **headers: Any) -> None:
        self._receipted(self.conn.send, destination, body, **headers)

    def messages(self, count: int) -> dict[str, Any]:
        """Wait for ``count`` messages; return them by body."""
        frames = self.rec.wait_messages(count)
        return {frame.body: frame for frame in frames}

    def drain(self, destination: str, expect: int) -> dict[str, Any]:
        """Consume what ``destination`` holds: at least ``expect`` messages, then wait
        for a marker message sent after them (so nothing else is held back).  Returns
        the messages by body, markers left out."""
        self.watch(destination)
        marker = f"marker-{uuid.uuid4().hex}"
        self.send(destination, marker)

        def here() -> list[Any]:
            return [m for m in self.rec.messages if m.headers["subscription"] == destination]

        self.rec.wait(
            lambda: any(m.body == marker for m in here()) and len(here()) > expect,
            f"{expect} message(s) and the marker on {destination}",
        )
        with self.rec.cond:
            return {m.body: m for m in here() if not m.body.startswith("marker-")}

    def close(self) -> None:
        self.conn.disconnect()


@pytest.fixture
def peer(broker: BrokerTarget) -> Iterator[Callable[[], Peer]]:
    """``peer()``: a new :class:`Peer`, disconnected at teardown."""
    peers: list[Peer] = []

    def make() -> Peer:
        peers.append(Peer(broker))
        return peers[-1]

    yield make
    for p in peers:
        p.close()


def dest(kind: str, name: str) -> str:
    return f"/{kind}/stompng-seed-{name}-{uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------------ seed: Basic Messaging

BASIC_MESSAGING = """
import stomp

conn = stomp.Connection([(HOST, PORT)], vhost=VHOST)
conn.connect(USER, PASSWORD, wait=True)

# Send simple message
conn.send(
    body='Hello World',
    destination=DEST_TEST
)

# Send message with headers
conn.send(
    body='Priority message',
    destination=DEST_IMPORTANT,
    headers={
        'priority': '9',
        'persistent': 'true',
        'correlation-id': 'msg-001'
    }
)

# Send JSON message
import json
data = {'user': 'john', 'action': 'login', 'timestamp': 1234567890}
conn.send(
    body=json.dumps(data),
    destination=DEST_EVENTS,
    content_type='application/json'
)

conn.disconnect()
"""


def test_basic_messaging(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    names = {
        "DEST_TEST": dest("queue", "test"),
        "DEST_IMPORTANT": dest("queue", "important"),
        "DEST_EVENTS": dest("topic", "events"),
    }
    watcher = peer()
    for destination in names.values():
        watcher.watch(destination)

    ns, _ = run_example(BASIC_MESSAGING, broker, **names)

    got = watcher.messages(3)
    assert got["Hello World"].headers["destination"] == names["DEST_TEST"]
    important = got["Priority message"]
    assert important.headers["correlation-id"] == "msg-001"
    assert important.headers.get("priority") == "9"
    event = got['{"user": "john", "action": "login", "timestamp": 1234567890}']
    assert event.headers["content-type"].startswith("application/json")
    assert event.headers["destination"] == names["DEST_EVENTS"]
    assert not ns["conn"].is_connected()


# ------------------------------------------------------------------ seed: Subscription Patterns

SUBSCRIPTION_PATTERNS = """
import stomp
import time

class MessageProcessor(stomp.ConnectionListener):
    def on_message(self, frame):
        print(f"Received from {frame.headers.get('destination', 'unknown')}: {frame.body}")

conn = stomp.Connection([(HOST, PORT)], vhost=VHOST)
processor = MessageProcessor()
conn.set_listener('processor', processor)
conn.connect(USER, PASSWORD, wait=True)

# Subscribe to queue with auto-acknowledgment
conn.subscribe(DEST_ORDERS, id='orders-sub', ack='auto')

# Subscribe to topic with manual acknowledgment
conn.subscribe(DEST_NOTIFICATIONS, id='notify-sub', ack='client')

# Subscribe with custom headers
conn.subscribe(
    destination=DEST_PRIORITY,
    id='priority-sub',
    ack='client-individual',
    headers={'selector': "priority > 5"}
)

# Keep connection alive
time.sleep(30)

# Unsubscribe
conn.unsubscribe(id='orders-sub')
conn.unsubscribe(id='notify-sub')
conn.unsubscribe(id='priority-sub')

conn.disconnect()
"""


def test_subscription_patterns(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    names = {
        "DEST_ORDERS": dest("queue", "orders"),
        "DEST_NOTIFICATIONS": dest("topic", "notifications"),
        "DEST_PRIORITY": dest("queue", "priority"),
    }
    sender = peer()
    # ActiveMQ evaluates the JMS selector "priority > 5" on a message *property* named
    # priority; the STOMP priority header sets JMSPriority instead, so nothing matches
    # there.  RabbitMQ ignores selectors.  Whether a message gets through is therefore
    # the broker's business, not the library's: only the other two are asserted.
    selector_honoured = broker.name == "ActiveMQ"

    def during_sleep(ns: dict[str, Any]) -> None:
        sender.send(names["DEST_ORDERS"], "order 1")
        sender.send(names["DEST_PRIORITY"], "urgent 1", headers={"priority": "9"})
        # The example's SUBSCRIBEs carry no receipt, so the topic binding may not exist
        # yet when the first notice is published (a topic keeps nothing for later):
        # publish until one arrives.
        notice = f"Received from {names['DEST_NOTIFICATIONS']}: notice"
        deadline = time.monotonic() + TIMEOUT
        while not printed.has(notice) and time.monotonic() < deadline:
            sender.send(names["DEST_NOTIFICATIONS"], "notice")
            with printed.cond:
                printed.cond.wait_for(lambda: printed.has(notice), 0.2)
        expected = [notice, f"Received from {names['DEST_ORDERS']}: order 1"]
        if not selector_honoured:
            expected.append(f"Received from {names['DEST_PRIORITY']}: urgent 1")
        printed.wait_for(*expected)

    printed = Printed()
    ns, out = run_example(SUBSCRIPTION_PATTERNS, broker, during_sleep, printed, **names)
    assert out.has("order 1") and out.has("notice")
    assert not ns["conn"].is_connected()


# ------------------------------------------------------------------ seed: Manual Acknowledgment

MANUAL_ACK = """
import stomp
import time

class ManualAckProcessor(stomp.ConnectionListener):
    def __init__(self, connection):
        self.connection = connection

    def on_message(self, frame):
        message_id = frame.headers.get('message-id')
        subscription_id = frame.headers.get('subscription')

        try:
            # Process message
            self.process_message(frame.body)

            # Acknowledge successful processing
            self.connection.ack(message_id, subscription_id)
            print(f"Acknowledged message {message_id}")

        except Exception as e:
            print(f"Processing failed: {e}")

            # Negative acknowledge (STOMP 1.1+)
            if hasattr(self.connection, 'nack'):
                self.connection.nack(message_id, subscription_id)
                print(f"Nacked message {message_id}")

    def process_message(self, body):
        # Simulate message processing
        if 'error' in body.lower():
            raise ValueError("Simulated processing error")

        print(f"Successfully processed: {body}")

conn = stomp.Connection11([(HOST, PORT)], vhost=VHOST) # STOMP 1.1 for NACK support
processor = ManualAckProcessor(conn)
conn.set_listener('processor', processor)
conn.connect(USER, PASSWORD, wait=True)

# Subscribe with client-individual acknowledgment
conn.subscribe(DEST_WORK, id='work-sub', ack='client-individual')

time.sleep(60) # Process messages for 1 minute
conn.disconnect()
"""


def test_manual_acknowledgment(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    work = dest("queue", "work")
    sender = peer()
    printed = Printed()

    def during_sleep(ns: dict[str, Any]) -> None:
        sender.send(work, "good job")
        sender.send(work, "error job")
        printed.wait_for(
            "Successfully processed: good job",
            "Acknowledged message ",
            "Processing failed: Simulated processing error",
            "Nacked message ",
        )

    run_example(MANUAL_ACK, broker, during_sleep, printed, DEST_WORK=work)

    # The ACK consumed "good job" for good; the NACKed "error job" is requeued by
    # RabbitMQ and dead-lettered (or, non-persistent, dropped) by ActiveMQ.
    left = peer().drain(work, expect=0)
    assert "good job" not in left
    if broker.quirks.nack_outcome(False) == "redeliver":
        assert "error job" in left
    else:
        assert "error job" not in left


# ------------------------------------------------------------------ seed: Transaction Example

TRANSACTION = """
import stomp
import uuid

conn = stomp.Connection([(HOST, PORT)], vhost=VHOST)
conn.connect(USER, PASSWORD, wait=True)

# Begin transaction
tx_id = str(uuid.uuid4())
conn.begin(tx_id)

try:
    # Send multiple messages in transaction
    conn.send(
        body='Order created',
        destination=DEST_ORDERS,
        transaction=tx_id
    )

    conn.send(
        body='Inventory updated',
        destination=DEST_INVENTORY,
        transaction=tx_id
    )

    conn.send(
        body='Email notification',
        destination=DEST_NOTIFICATIONS,
        transaction=tx_id
    )

    # Simulate business logic
    if all_operations_successful():
        conn.commit(tx_id)
        print("Transaction committed successfully")
    else:
        conn.abort(tx_id)
        print("Transaction aborted")

except Exception as e:
    # Abort transaction on error
    conn.abort(tx_id)
    print(f"Transaction aborted due to error: {e}")

conn.disconnect()

def all_operations_successful():
    # Simulate business validation
    return True
"""

# The document defines all_operations_successful() *after* the code calling it, so the
# program as printed gets a NameError inside the try block and aborts (with stomp.py
# too).  The test below runs it exactly so; the next one moves the definition to the
# top, which is what the example means, and checks the commit.
_HELPER = TRANSACTION[TRANSACTION.index("def all_operations_successful") :]
TRANSACTION_HELPER_FIRST = _HELPER + TRANSACTION[: TRANSACTION.index(_HELPER)]


def _transaction_names() -> dict[str, str]:
    return {
        "DEST_ORDERS": dest("queue", "orders"),
        "DEST_INVENTORY": dest("queue", "inventory"),
        "DEST_NOTIFICATIONS": dest("queue", "notifications"),
    }


def test_transaction_as_printed_aborts(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    names = _transaction_names()
    _, printed = run_example(TRANSACTION, broker, **names)
    assert printed.has("Transaction aborted due to error: name 'all_operations_successful'")
    checker = peer()
    for destination in names.values():
        assert checker.drain(destination, expect=0) == {}


def test_transaction_commits(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    names = _transaction_names()
    _, printed = run_example(TRANSACTION_HELPER_FIRST, broker, **names)
    assert printed.lines == ["Transaction committed successfully"]
    got: dict[str, Any] = {}
    for destination in names.values():
        got.update(peer().drain(destination, expect=1))
    assert set(got) == {"Order created", "Inventory updated", "Email notification"}
    assert got["Order created"].headers["destination"] == names["DEST_ORDERS"]


# ------------------------------------------------------------------ seed: Receipt Confirmation

RECEIPT_CONFIRMATION = """
import stomp
import uuid
import time

class ReceiptHandler(stomp.ConnectionListener):
    def __init__(self):
        self.pending_receipts = {}

    def on_receipt(self, frame):
        receipt_id = frame.headers.get('receipt-id')
        if receipt_id in self.pending_receipts:
            print(f"Receipt confirmed: {receipt_id}")
            self.pending_receipts[receipt_id] = True

    def wait_for_receipt(self, receipt_id, timeout=10):
        \"\"\"Wait for specific receipt confirmation.\"\"\"
        end_time = time.time() + timeout

        while time.time() < end_time:
            if self.pending_receipts.get(receipt_id):
                return True
            time.sleep(0.1)

        return False

conn = stomp.Connection([(HOST, PORT)], vhost=VHOST)
receipt_handler = ReceiptHandler()
conn.set_listener('receipt_handler', receipt_handler)
conn.connect(USER, PASSWORD, wait=True)

# Send message with receipt
receipt_id = str(uuid.uuid4())
receipt_handler.pending_receipts[receipt_id] = False

conn.send(
    body='Important message',
    destination=DEST_CRITICAL,
    receipt=receipt_id
)

# Wait for delivery confirmation
if receipt_handler.wait_for_receipt(receipt_id, timeout=30):
    print("Message delivery confirmed")
else:
    print("Message delivery confirmation timeout")

conn.disconnect()
"""


def test_receipt_confirmation(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    critical = dest("queue", "critical")
    ns, printed = run_example(RECEIPT_CONFIRMATION, broker, DEST_CRITICAL=critical)
    assert printed.lines == [
        f"Receipt confirmed: {ns['receipt_id']}",
        "Message delivery confirmed",
    ]
    assert set(peer().drain(critical, expect=1)) == {"Important message"}


# ------------------------------------------------------------------ seed: Protocol Version Specific

PROTOCOL_VERSIONS = """
import stomp

# STOMP 1.0 - Basic functionality
conn10 = stomp.Connection10([(HOST, PORT)])
conn10.connect(USER, PASSWORD, wait=True)
conn10.send(body='STOMP 1.0 message', destination=DEST_TEST)
# No NACK support in 1.0
conn10.disconnect()

# STOMP 1.1 - Heartbeats and NACK
conn11 = stomp.Connection11(
    [(HOST, PORT)],
    heartbeats=(10000, 10000), # 10 second heartbeats
    vhost=VHOST
)
conn11.connect(USER, PASSWORD, wait=True)

# NACK support in 1.1+
class NackCapableProcessor(stomp.ConnectionListener):
    def __init__(self, connection):
        self.connection = connection

    def on_message(self, frame):
        message_id = frame.headers.get('message-id')
        subscription_id = frame.headers.get('subscription')

        try:
            # Process message
            pass
        except Exception:
            # NACK available in STOMP 1.1+
            self.connection.nack(message_id, subscription_id)

processor = NackCapableProcessor(conn11)
conn11.set_listener('processor', processor)
conn11.subscribe(DEST_TEST, id='test-sub', ack='client-individual')

time.sleep(10)
conn11.disconnect()

# STOMP 1.2 - Enhanced header escaping
conn12 = stomp.Connection12([(HOST, PORT)], vhost=VHOST)
conn12.connect(USER, PASSWORD, wait=True)

# STOMP 1.2 handles special characters in headers properly
conn12.send(
    body='Message with special header',
    destination=DEST_TEST,
    headers={
        'custom-header': 'value with\\nspecial\\tcharacters', # Automatically escaped
        'correlation-id': 'msg:with:colons'
    }
)

conn12.disconnect()
"""


def test_protocol_version_specific_features(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    test_queue = dest("queue", "test")
    sender = peer()
    seen = Recorder()

    def during_sleep(ns: dict[str, Any]) -> None:
        # The example's processor neither acks nor records; watch conn11 with a second
        # listener and fence with a message sent after the 1.0 one (queues are FIFO).
        conn11 = ns["conn11"]
        assert conn11.is_connected()
        conn11.set_listener("seen", seen)
        sender.send(test_queue, "fence")
        seen.wait(lambda: any(m.body == "fence" for m in seen.messages), "the fence on conn11")

    # The document's program calls time.sleep() without importing time (it imports
    # only stomp): run unchanged, it dies with a NameError there.  ``time`` is provided.
    ns, _ = run_example(
        PROTOCOL_VERSIONS, broker, during_sleep, provide_time=True, DEST_TEST=test_queue
    )
    # conn11 held both messages unacknowledged (client-individual), so the broker gives
    # them back after its disconnect; the 1.2 message follows.
    got = peer().drain(test_queue, expect=3)
    assert set(got) == {"STOMP 1.0 message", "fence", "Message with special header"}
    special = got["Message with special header"]
    assert special.headers["custom-header"] == "value with\nspecial\tcharacters"
    assert special.headers["correlation-id"] == "msg:with:colons"
    for name in ("conn10", "conn11", "conn12"):
        assert not ns[name].is_connected()


# ------------------------------------------------------------------ reference usage examples

# §2.4: Connection12([("127.0.0.1", p)], heartbeats=(1000, 2000)),
# connect("user", "pw", wait=True, headers={"x-h": "a:b"}, extra="1").
REFERENCE_CONNECT = """
import stomp

conn = stomp.Connection12([(HOST, PORT)], heartbeats=(1000, 2000), vhost=VHOST)
conn.connect(USER, PASSWORD, wait=True, headers={"x-h": "a:b"}, extra="1")
connected = conn.is_connected()
conn.disconnect()
"""


def test_reference_connect(broker: BrokerTarget) -> None:
    ns, _ = run_example(REFERENCE_CONNECT, broker)
    assert ns["connected"] is True
    assert not ns["conn"].is_connected()


# §2.6 (a 1.1 connection): send("/queue/a", "héllo", content_type="text/plain",
# transaction=tx, h="x:y\nz\\w\r"); the begin/commit around it and the subscription that
# reads it back are the test's.
REFERENCE_SEND = """
import stomp

conn = stomp.Connection11([(HOST, PORT)], vhost=VHOST)
listener = stomp.listener.TestListener(print_to_log=True)
conn.set_listener("", listener)
conn.connect(USER, PASSWORD, wait=True)
conn.subscribe(DEST_A, id="1")
tx = conn.begin()
conn.send(DEST_A, "héllo", content_type="text/plain", transaction=tx, h="x:y\\nz\\\\w\\r")
conn.commit(tx)
listener.wait_for_message()
headers, body = listener.get_latest_message()
conn.disconnect()
"""


def test_reference_send(broker: BrokerTarget) -> None:
    ns, _ = run_example(REFERENCE_SEND, broker, DEST_A=dest("queue", "a"))
    assert ns["body"] == "héllo"
    assert ns["headers"]["content-type"].startswith("text/plain")
    # STOMP 1.1 has no escape for CR: the CR goes out raw before the line's LF.
    # RabbitMQ reads that as a CRLF line end and drops it; ActiveMQ keeps it.
    assert ns["headers"]["h"] in ("x:y\nz\\w", "x:y\nz\\w\r")


# §2.16: the context manager; the block calls connect() itself and leaving it
# disconnects with a receipt and waits for it.
REFERENCE_WITH_BLOCK = """
import stomp

with stomp.Connection([(HOST, PORT)], vhost=VHOST) as conn:
    conn.connect(USER, PASSWORD, wait=True)
    conn.send(DEST_Q, "inside the block")
"""


def test_reference_context_manager(broker: BrokerTarget, peer: Callable[[], Peer]) -> None:
    destination = dest("queue", "with")
    ns, _ = run_example(REFERENCE_WITH_BLOCK, broker, DEST_Q=destination)
    conn = ns["conn"]
    assert not conn.is_connected()
    assert conn.disconnect_listener.disconnected
    assert set(peer().drain(destination, expect=1)) == {"inside the block"}


# §5.5/§5.7: StatsListener and TestListener as stomp.py's own tests use them.
REFERENCE_TEST_LISTENER = """
import stomp
from stomp.listener import StatsListener, TestListener

conn = stomp.Connection([(HOST, PORT)], vhost=VHOST)
listener = TestListener("123", print_to_log=True)
stats = StatsListener()
conn.set_listener("testlistener", listener)
conn.set_listener("stats", stats)
conn.connect(USER, PASSWORD, wait=True)
conn.subscribe(destination=DEST_Q, id=1, ack="auto")
conn.send(body="this is a test", destination=DEST_Q, receipt="123")
listener.wait_on_receipt()
listener.wait_for_message()
headers, body = listener.get_latest_message()
conn.disconnect(receipt=None)
report = str(stats)
"""


def test_reference_test_listener(broker: BrokerTarget) -> None:
    ns, _ = run_example(REFERENCE_TEST_LISTENER, broker, DEST_Q=dest("queue", "tl"))
    assert ns["body"] == "this is a test"
    listener = ns["listener"]
    assert listener.connections == 1 and listener.messages == 1 and listener.errors == 0
    assert "Messages received: 1" in ns["report"]
