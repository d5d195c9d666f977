"""One small synchronous face for the library's three ways to receive, so that a scenario
is written once and run over each:

* ``listener``: a threaded connection (``stomp.Connection10/11/12``) and a
  :class:`~stomp.ConnectionListener` per subscription collecting its messages;
* ``pull``: a threaded connection and ``conn.subscription()`` (:mod:`stomp.pull`);
* ``asyncio``: :class:`stomp.aio.Connection`, driven from the test's thread on an event
  loop running on a helper thread (``asyncio.run_coroutine_threadsafe``).

Every call is bounded: a send or commit with ``receipt=True`` returns once the broker's
RECEIPT came, ``get`` raises :class:`TimeoutError` when nothing came in time.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import stomp
import stomp.aio
from brokerinfo import Broker
from support.recording import Collector

T = TypeVar("T")

#: The bound of every wait, in seconds.
WAIT = 10.0

APIS = ("listener", "pull", "asyncio")

_THREADED = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}


@dataclass
class Received:
    """A message as every API gives it: its body and headers, and the API's own object
    (what acknowledging it needs)."""

    body: Any
    headers: dict[str, Any]
    native: Any = field(repr=False)


class Inbox:
    """The messages of one subscription."""

    ack_mode: str

    def get(self, timeout: float = WAIT) -> Received:
        """The next message; :class:`TimeoutError` if none came in ``timeout`` seconds."""
        raise NotImplementedError

    def ack(self, message: Received, transaction: str | None = None) -> None:
        raise NotImplementedError

    def nack(self, message: Received, transaction: str | None = None) -> None:
        raise NotImplementedError

    def unsubscribe(self) -> None:
        raise NotImplementedError


class Client:
    """A connected client of one API."""

    api: str
    version: str

    def send(
        self,
        destination: str,
        body: Any,
        headers: dict[str, Any] | None = None,
        transaction: str | None = None,
        receipt: bool = False,
    ) -> None:
        raise NotImplementedError

    def subscribe(self, destination: str, ack: str = "auto", prefetch: int = 100) -> Inbox:
        raise NotImplementedError

    def begin(self) -> str:
        raise NotImplementedError

    def commit(self, transaction: str, receipt: bool = True) -> None:
        raise NotImplementedError

    def abort(self, transaction: str, receipt: bool = True) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Disconnect (bounded; once); unacknowledged messages go back to the broker."""
        raise NotImplementedError


def connect(api: str, broker: Broker, version: str = "1.2") -> Client:
    """A client of ``api`` (one of :data:`APIS`) connected to ``broker``."""
    if api == "asyncio":
        return AioClient(broker, version)
    if api == "pull":
        return PullClient(broker, version)
    if api == "listener":
        return ListenerClient(broker, version)
    raise ValueError(f"no such API: {api!r}")


# -- the threaded connections --------------------------------------------------------------


class _Threaded(Client):
    def __init__(self, broker: Broker, version: str) -> None:
        self.version = version
        options: dict[str, Any] = {"timeout": WAIT}
        if version != "1.0":
            options["vhost"] = broker.vhost
        self.conn = _THREADED[version]([broker.address], **options)
        self._receipts = Collector(timeout=WAIT)
        self.conn.set_listener("apis-receipts", self._receipts)
        self.conn.connect(broker.login, broker.passcode, wait=True)

    def _receipt(self) -> str:
        return f"apis-{uuid.uuid4().hex[:12]}"

    def send(
        self,
        destination: str,
        body: Any,
        headers: dict[str, Any] | None = None,
        transaction: str | None = None,
        receipt: bool = False,
    ) -> None:
        extra: dict[str, Any] = {}
        if transaction is not None:
            extra["transaction"] = transaction
        if receipt:
            extra["receipt"] = self._receipt()
        self.conn.send(destination, body, headers=headers, **extra)
        if receipt:
            self._receipts.wait_receipt(extra["receipt"])

    def begin(self) -> str:
        return str(self.conn.begin())

    def commit(self, transaction: str, receipt: bool = True) -> None:
        self._ending(self.conn.commit, transaction, receipt)

    def abort(self, transaction: str, receipt: bool = True) -> None:
        self._ending(self.conn.abort, transaction, receipt)

    def _ending(self, method: Any, transaction: str, receipt: bool) -> None:
        if not receipt:
            method(transaction)
            return
        receipt_id = self._receipt()
        method(transaction, receipt=receipt_id)
        self._receipts.wait_receipt(receipt_id)

    def close(self) -> None:
        if self.conn.is_connected():
            self.conn.disconnect()


class _ListenerInbox(Inbox, stomp.ConnectionListener):
    """A listener taking the MESSAGEs of one subscription id into a queue."""

    def __init__(self, client: ListenerClient, destination: str, ack: str, prefetch: int) -> None:
        self.client = client
        self.destination = destination
        self.ack_mode = ack
        self.id = f"apis-{uuid.uuid4().hex[:8]}"
        self._messages: queue.Queue[Any] = queue.Queue()
        headers = {}
        if ack != "auto":
            headers = {"activemq.prefetchSize": str(prefetch), "prefetch-count": str(prefetch)}
        client.conn.set_listener(self.id, self)
        client.conn.subscribe(destination, id=self.id, ack=ack, headers=headers)

    def on_message(self, frame: Any) -> None:
        headers = frame.headers
        mine = headers.get("subscription", self.id) == self.id
        if mine and headers.get("destination", self.destination) == self.destination:
            self._messages.put(frame)

    def get(self, timeout: float = WAIT) -> Received:
        try:
            frame = self._messages.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no message on {self.destination} within {timeout} s") from None
        return Received(frame.body, frame.headers, frame)

    def _acknowledge(self, method: Any, message: Received, transaction: str | None) -> None:
        headers = message.headers
        version = self.client.version
        if version == "1.2":
            method(headers["ack"], transaction=transaction)
        elif version == "1.1":
            method(headers["message-id"], headers["subscription"], transaction=transaction)
        else:
            method(headers["message-id"], transaction=transaction)

    def ack(self, message: Received, transaction: str | None = None) -> None:
        self._acknowledge(self.client.conn.ack, message, transaction)

    def nack(self, message: Received, transaction: str | None = None) -> None:
        self._acknowledge(self.client.conn.nack, message, transaction)

    def unsubscribe(self) -> None:
        self.client.conn.unsubscribe(id=self.id)
        self.client.conn.remove_listener(self.id)


class ListenerClient(_Threaded):
    api = "listener"

    def subscribe(self, destination: str, ack: str = "auto", prefetch: int = 100) -> Inbox:
        return _ListenerInbox(self, destination, ack, prefetch)


class _PullInbox(Inbox):
    def __init__(self, subscription: Any) -> None:
        self.subscription = subscription
        self.ack_mode = subscription.ack

    def get(self, timeout: float = WAIT) -> Received:
        message = self.subscription.get(timeout=timeout)
        return Received(message.body, message.headers, message)

    def ack(self, message: Received, transaction: str | None = None) -> None:
        message.native.ack(transaction)

    def nack(self, message: Received, transaction: str | None = None) -> None:
        message.native.nack(transaction)

    def unsubscribe(self) -> None:
        self.subscription.close()


class PullClient(_Threaded):
    api = "pull"

    def subscribe(self, destination: str, ack: str = "auto", prefetch: int = 100) -> Inbox:
        return _PullInbox(self.conn.subscription(destination, ack=ack, prefetch=prefetch))


# -- asyncio -------------------------------------------------------------------------------


class _AioInbox(Inbox):
    def __init__(self, client: AioClient, subscription: stomp.aio.Subscription) -> None:
        self.client = client
        self.subscription = subscription
        self.ack_mode = subscription.ack

    def get(self, timeout: float = WAIT) -> Received:
        message = self.client.call(self.subscription.get(timeout))
        return Received(message.body, message.headers, message)

    def ack(self, message: Received, transaction: str | None = None) -> None:
        self.client.call(message.native.ack(transaction))

    def nack(self, message: Received, transaction: str | None = None) -> None:
        self.client.call(message.native.nack(transaction))

    def unsubscribe(self) -> None:
        self.client.call(self.subscription.unsubscribe())


class AioClient(Client):
    """:class:`stomp.aio.Connection` on a loop of its own thread."""

    api = "asyncio"

    def __init__(self, broker: Broker, version: str) -> None:
        self.version = version
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="apis-asyncio-loop", daemon=True
        )
        self._thread.start()
        self.conn = stomp.aio.Connection(
            [broker.address],
            version=version,
            username=broker.login,
            passcode=broker.passcode,
            vhost=(broker.vhost or None) if version != "1.0" else None,
            timeout=WAIT,
        )
        try:
            self.call(self.conn.connect())
        except BaseException:
            self._stop()
            raise

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (bounded: every await of
        the connection is)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(WAIT * 2)

    def send(
        self,
        destination: str,
        body: Any,
        headers: dict[str, Any] | None = None,
        transaction: str | None = None,
        receipt: bool = False,
    ) -> None:
        self.call(
            self.conn.send(
                destination, body, headers=headers, transaction=transaction, receipt=receipt
            )
        )

    def subscribe(self, destination: str, ack: str = "auto", prefetch: int = 100) -> Inbox:
        subscription = self.call(self.conn.subscribe(destination, ack=ack, prefetch=prefetch))
        return _AioInbox(self, subscription)

    def begin(self) -> str:
        return self.call(self.conn.begin()).id

    def commit(self, transaction: str, receipt: bool = True) -> None:
        self.call(self.conn.commit(transaction, receipt=receipt))

    def abort(self, transaction: str, receipt: bool = True) -> None:
        self.call(self.conn.abort(transaction, receipt=receipt))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.call(self.conn.disconnect())
            left = self.call(_tasks_left())
            assert not left, f"tasks left behind by the connection: {left}"
        finally:
            self._stop()

    def _stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT)
        if not self._thread.is_alive():
            self.loop.close()


async def _tasks_left() -> list[asyncio.Task[Any]]:
    await asyncio.sleep(0)  # let tasks cancelled on the way out finish
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
