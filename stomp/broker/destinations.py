"""Where messages go: queues, topics, subscriptions and their unacknowledged deliveries.

Nothing here touches a socket or a clock.  A :class:`Router` owns every destination of one
broker; connections call it to send, subscribe, acknowledge and leave.  Subscriptions hand
messages to their connection through the small :class:`Consumer` interface.

* A destination starting with ``/topic/`` is a :class:`Topic`: every subscriber gets a copy,
  and a message sent with no subscriber is dropped.
* Any other destination (``/queue/...`` by convention) is a :class:`Queue`: each message
  goes to one subscriber, round-robin over the subscribers that can take it now, and waits
  in the queue while there is none.
* A queue holds at most ``max_queue_bytes`` of messages (waiting ones and delivered ones
  not yet acknowledged, each counted as its body and headers plus what the objects holding them cost);
  a message that would go past it is refused with :class:`QueueFull`, before anything is
  kept.  Messages that go back to their queue are never refused: they were accepted.
* A ``client`` or ``client-individual`` subscription keeps what it delivered until it is
  acknowledged.  Unacknowledged queue messages go back to the front of their queue, in
  their original order and marked redelivered, on NACK, UNSUBSCRIBE and disconnect;
  unacknowledged topic messages are dropped then (a topic keeps nothing).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Protocol

__all__ = [
    "ACK_MODES",
    "HEADER_OVERHEAD",
    "MESSAGE_OVERHEAD",
    "TOPIC_PREFIX",
    "Consumer",
    "Delivery",
    "Message",
    "Queue",
    "QueueFull",
    "Router",
    "Subscription",
    "Topic",
]

#: Destinations with this prefix are topics; every other destination is a queue.
TOPIC_PREFIX = "/topic/"

#: The SUBSCRIBE ``ack`` modes.
ACK_MODES = frozenset({"auto", "client", "client-individual"})


#: What one message costs the broker beyond its body and header text, in bytes, for the
#: queue limit: the objects that hold it (measured with tracemalloc by the tests).
MESSAGE_OVERHEAD = 320
#: What each of its headers costs beyond the text of its name and value.
HEADER_OVERHEAD = 128


class QueueFull(Exception):
    """A message would take a queue past its limit (``max_queue_bytes``)."""

    def __init__(self, queue: str, held: int, size: int, limit: int) -> None:
        super().__init__(
            f"Queue {queue!r} holds {held} bytes of messages; this one ({size} bytes) would "
            f"take it past the limit of this broker (max_queue_bytes), {limit}."
        )
        self.queue = queue
        self.held = held
        self.size = size
        self.limit = limit


class Message:
    """A message as sent: its destination, the headers to pass on, and the body."""

    __slots__ = ("body", "destination", "headers", "message_id", "redelivered", "size")

    def __init__(
        self, destination: str, headers: dict[str, str], body: bytes, message_id: str
    ) -> None:
        self.destination = destination
        #: The SEND frame's headers that MESSAGE frames carry on (``destination`` included).
        self.headers = headers
        self.body = body
        self.message_id = message_id
        #: Set once the message has gone back to its queue after a delivery.
        self.redelivered = False
        #: What the message counts for against a queue's limit.
        self.size = (
            len(body)
            + len(destination)
            + len(message_id)
            + sum(len(name) + len(value) for name, value in headers.items())
            + HEADER_OVERHEAD * len(headers)
            + MESSAGE_OVERHEAD
        )

    def __repr__(self) -> str:
        return f"Message({self.destination!r}, {self.message_id!r}, {len(self.body)} bytes)"


class Delivery:
    """A message handed to a subscription and waiting for its ACK or NACK."""

    __slots__ = ("ack_id", "message")

    def __init__(self, message: Message, ack_id: str) -> None:
        self.message = message
        self.ack_id = ack_id


class Consumer(Protocol):
    """What a subscription needs from the connection that made it."""

    def can_accept(self) -> bool:
        """Whether the connection takes more messages now (it is open and not backed up)."""

    def deliver(self, subscription: Subscription, message: Message, ack_id: str | None) -> None:
        """Write one MESSAGE frame for ``message`` (``ack_id`` is ``None`` in auto mode)."""


class Subscription:
    """One SUBSCRIBE of one connection.

    Args:
        consumer: the connection.
        key: the connection's name for it (the ``id`` header, or the destination for a 1.0
            subscription without id).
        sub_id: the ``id`` header (``None`` for a 1.0 subscription without one).
        destination: the SUBSCRIBE's destination.
        ack_mode: ``auto``, ``client`` or ``client-individual``.
        prefetch: the most unacknowledged messages it holds at once (0: no limit).
    """

    __slots__ = (
        "_by_message_id",
        "ack_mode",
        "consumer",
        "destination",
        "key",
        "prefetch",
        "sub_id",
        "target",
        "unacked",
    )

    def __init__(
        self,
        consumer: Consumer,
        key: str,
        sub_id: str | None,
        destination: str,
        ack_mode: str = "auto",
        prefetch: int = 0,
    ) -> None:
        self.consumer = consumer
        self.key = key
        self.sub_id = sub_id
        self.destination = destination
        self.ack_mode = ack_mode
        self.prefetch = prefetch if ack_mode != "auto" else 0
        #: The queue or topic it is attached to (set by the router).
        self.target: Queue | Topic | None = None
        #: Deliveries not yet acknowledged, by ack id, oldest first.
        self.unacked: dict[str, Delivery] = {}
        self._by_message_id: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Subscription({self.key!r}, {self.destination!r}, {self.ack_mode})"

    def ready(self) -> bool:
        """Whether a queue may give this subscription a message now."""
        if self.prefetch and len(self.unacked) >= self.prefetch:
            return False
        return self.consumer.can_accept()

    def deliver(self, message: Message, ack_id: str | None) -> None:
        """Hand ``message`` to the connection, remembering it until acknowledged."""
        if ack_id is not None:
            self.unacked[ack_id] = Delivery(message, ack_id)
            self._by_message_id[message.message_id] = ack_id
        self.consumer.deliver(self, message, ack_id)

    def ack_id_of(self, message_id: str) -> str | None:
        """The ack id of the unacknowledged delivery of ``message_id``, if any."""
        return self._by_message_id.get(message_id)

    def settle(self, ack_id: str) -> list[Message]:
        """Remove the delivery ``ack_id`` from the unacknowledged ones, and in ``client``
        mode every delivery before it too (the ACK/NACK is cumulative).  Returns their
        messages, oldest first; nothing when ``ack_id`` is not pending."""
        if ack_id not in self.unacked:
            return []
        if self.ack_mode != "client":
            return [self._forget(self.unacked.pop(ack_id))]
        settled = []
        for key in list(self.unacked):
            settled.append(self._forget(self.unacked.pop(key)))
            if key == ack_id:
                break
        return settled

    def settle_all(self) -> list[Message]:
        """Remove every unacknowledged delivery; returns their messages, oldest first."""
        messages = [delivery.message for delivery in self.unacked.values()]
        self.unacked.clear()
        self._by_message_id.clear()
        return messages

    def _forget(self, delivery: Delivery) -> Message:
        self._by_message_id.pop(delivery.message.message_id, None)
        return delivery.message


class Queue:
    """A point-to-point destination: each message goes to one subscriber, round-robin."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pending: deque[Message] = deque()
        self.subscribers: list[Subscription] = []
        #: The sizes of the messages waiting here and of those delivered and not yet
        #: acknowledged (see :attr:`Message.size`).
        self.held = 0
        self._next = 0

    def __repr__(self) -> str:
        return f"Queue({self.name!r}, {len(self.pending)} pending, {self.held} bytes held)"

    def dispatch(self, next_ack_id: Iterator[str]) -> None:
        """Give waiting messages to the subscribers ready for them, in turn."""
        pending, subscribers = self.pending, self.subscribers
        while pending and subscribers:
            count = len(subscribers)
            for _ in range(count):
                subscription = subscribers[self._next % count]
                self._next = (self._next + 1) % count
                if subscription.ready():
                    break
            else:
                return  # nobody can take a message now; they wait
            message = pending.popleft()
            if subscription.ack_mode == "auto":
                self.held -= message.size  # it is the connection's now
                subscription.deliver(message, None)
            else:
                subscription.deliver(message, next(next_ack_id))

    def requeue(self, messages: list[Message]) -> None:
        """Put messages back at the front, in their order, marked redelivered."""
        for message in messages:
            message.redelivered = True
        self.pending.extendleft(reversed(messages))

    def unused(self) -> bool:
        """Whether the queue holds nothing and nobody listens (it may be forgotten)."""
        return not self.pending and not self.subscribers


class Topic:
    """A publish-subscribe destination: every subscriber gets a copy; nothing is kept."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: list[Subscription] = []

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {len(self.subscribers)} subscribers)"

    def publish(self, message: Message, next_ack_id: Iterator[str]) -> None:
        """Give a copy of ``message`` to every subscriber."""
        # A tuple: a subscriber may be dropped (slow consumer) while we deliver.
        for subscription in tuple(self.subscribers):
            ack_id = None if subscription.ack_mode == "auto" else next(next_ack_id)
            subscription.deliver(message, ack_id)

    def unused(self) -> bool:
        """Whether nobody listens (the topic may be forgotten)."""
        return not self.subscribers


class Router:
    """Every destination of one broker, created on first use and forgotten when unused.

    Args:
        token: a short string unique to the broker, put into message ids.
        max_queue_bytes: what one queue may hold (see :attr:`Queue.held`).
    """

    def __init__(self, token: str, max_queue_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_queue_bytes = max_queue_bytes
        self.queues: dict[str, Queue] = {}
        self.topics: dict[str, Topic] = {}
        self._token = token
        self._message_numbers = itertools.count(1)
        self._ack_ids = (f"{token}-ack-{n}" for n in itertools.count(1))

    def new_message(self, destination: str, headers: dict[str, str], body: bytes) -> Message:
        """A message with a fresh, broker-unique ``message-id``."""
        return Message(destination, headers, body, f"{self._token}-{next(self._message_numbers)}")

    def send(self, message: Message) -> None:
        """Route a message: to every subscriber of a topic, or into a queue.

        Raises:
            QueueFull: the queue has no room for it (nothing was kept).
        """
        name = message.destination
        if name.startswith(TOPIC_PREFIX):
            topic = self.topics.get(name)
            if topic is not None:
                topic.publish(message, self._ack_ids)
            return
        self.check_room(name, message.size)
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        queue.pending.append(message)
        queue.held += message.size
        queue.dispatch(self._ack_ids)

    def check_room(self, destination: str, size: int) -> None:
        """Raise :class:`QueueFull` unless the queue ``destination`` can take ``size`` more
        bytes of messages now (a topic always can: it keeps nothing)."""
        if destination.startswith(TOPIC_PREFIX):
            return
        queue = self.queues.get(destination)
        held = queue.held if queue is not None else 0
        if held + size > self.max_queue_bytes:
            raise QueueFull(destination, held, size, self.max_queue_bytes)

    def subscribe(self, subscription: Subscription) -> None:
        """Attach a subscription; a queue then gives it the messages that waited."""
        name = subscription.destination
        if name.startswith(TOPIC_PREFIX):
            topic = self.topics.get(name)
            if topic is None:
                topic = self.topics[name] = Topic(name)
            topic.subscribers.append(subscription)
            subscription.target = topic
            return
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        queue.subscribers.append(subscription)
        subscription.target = queue
        queue.dispatch(self._ack_ids)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Detach a subscription; its unacknowledged queue messages are redelivered."""
        target, subscription.target = subscription.target, None
        if target is None:
            return
        target.subscribers.remove(subscription)
        self._return(target, subscription.settle_all())
        if target.unused():
            self._forget(target)

    def ack(self, subscription: Subscription, ack_id: str) -> None:
        """Settle a delivery (cumulatively in ``client`` mode) as consumed.  Does nothing
        when it is no longer pending (e.g. a transactional ACK overtaken by another)."""
        messages = subscription.settle(ack_id)
        target = subscription.target
        if isinstance(target, Queue):
            target.held -= sum(message.size for message in messages)
        if messages and subscription.prefetch:
            self.wake(subscription)

    def nack(self, subscription: Subscription, ack_id: str) -> None:
        """Settle a delivery (cumulatively in ``client`` mode) as not consumed: a queue
        message goes back to the front of its queue, a topic message is dropped."""
        messages = subscription.settle(ack_id)
        if messages and subscription.target is not None:
            self._return(subscription.target, messages)

    def wake(self, subscription: Subscription) -> None:
        """The subscription may take messages again: let its queue dispatch."""
        if isinstance(subscription.target, Queue):
            subscription.target.dispatch(self._ack_ids)

    def pending(self, destination: str) -> int:
        """How many messages wait in the queue ``destination`` (0 for a topic)."""
        queue = self.queues.get(destination)
        return len(queue.pending) if queue is not None else 0

    def held(self, destination: str) -> int:
        """What the queue ``destination`` holds against its limit (0 for a topic)."""
        queue = self.queues.get(destination)
        return queue.held if queue is not None else 0

    def destinations(self) -> Iterable[Queue | Topic]:
        """Every live destination."""
        return [*self.queues.values(), *self.topics.values()]

    def _return(self, target: Queue | Topic, messages: list[Message]) -> None:
        if messages and isinstance(target, Queue):
            target.requeue(messages)
            target.dispatch(self._ack_ids)

    def _forget(self, target: Queue | Topic) -> None:
        if isinstance(target, Queue):
            self.queues.pop(target.name, None)
        else:
            self.topics.pop(target.name, None)
