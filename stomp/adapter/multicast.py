"""Broker-less STOMP over UDP multicast.

Every process on the group sees every frame: a SEND is delivered as a MESSAGE to each
member subscribed to its destination (the sender included, when multicast loop-back is
on), and a frame carrying a ``receipt`` header is answered by each member with a RECEIPT.
Nothing is stored, acknowledged or retried; one datagram holds one frame.

::

    conn = MulticastConnection(interface="127.0.0.1", ttl=0)   # this machine only
    conn.set_listener("", MyListener())
    conn.connect()
    conn.subscribe("/topic/news", id="1")
    conn.send("/topic/news", "hello")

Unlike stomp.py, the transport takes the outgoing interface and the TTL (stomp.py: all
interfaces, TTL 2), so that traffic can be kept on one interface or on this machine.
"""

from __future__ import annotations

import errno
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from stomp import _namespace, connect
from stomp.codec import HEARTBEAT_FRAME, Frame, FrameDecoder
from stomp.connect import BaseConnection
from stomp.constants import CMD_ABORT, CMD_BEGIN, CMD_COMMIT, HDR_RECEIPT, HDR_TRANSACTION
from stomp.exception import FrameError, NotConnectedException
from stomp.protocol import Protocol12
from stomp.transport import DEFAULT_DISCONNECT_TIMEOUT, Transport

# stomp.py's multicast module star-imports the connect module's names: they are here too
# (ssl, DEFAULT_SSL_VERSION, SSLError and stomp.utils' names resolved on first use, see
# stomp._namespace).
__all__ = ["MCAST_GRP", "MCAST_PORT", "MulticastConnection", "MulticastTransport", "struct"]
__all__ += _namespace.reexport(globals(), connect)
_namespace.forget(globals())

_log = logging.getLogger("stomp.py")


def __getattr__(name: str) -> Any:
    return _namespace.resolve(__name__, name)


#: The default multicast group.
MCAST_GRP = "224.1.1.1"

#: The default UDP port.
MCAST_PORT = 5000

#: The largest UDP payload (stomp.py read at most 1024 bytes and truncated the rest).
MAX_DATAGRAM = 65535

# Commands delivered to the listeners as a broker's would be.
_DISPATCHED = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR", "HEARTBEAT"})


class MulticastTransport(Transport):
    """Frames as UDP datagrams to and from a multicast group.

    Args:
        encoding: accepted for compatibility; text is UTF-8 and bodies arrive as bytes.
        interface: IPv4 address of the interface to send on and to join the group on
            (``IP_MULTICAST_IF`` and the membership); ``None``: the system's choice for
            sending, every interface for receiving (stomp.py's behaviour).
        ttl: multicast TTL of outgoing datagrams: 0 keeps them on this machine, 1 on the
            local network; stomp.py's 2 by default.
        group: the multicast group address.
        port: the UDP port.
        loop: receive our own datagrams (``IP_MULTICAST_LOOP``), so that a process
            subscribed to what it sends gets it.

    Attributes:
        subscriptions: subscription id -> destination.
        receiver_socket: the socket bound to the group (``socket`` sends).
    """

    def __init__(
        self,
        encoding: str = "utf-8",
        interface: str | None = None,
        ttl: int = 2,
        group: str = MCAST_GRP,
        port: int = MCAST_PORT,
        loop: bool = True,
    ) -> None:
        super().__init__(
            [],
            prefer_localhost=False,
            try_loopback_connect=False,
            reconnect_sleep_initial=0,
            reconnect_sleep_increase=0,
            reconnect_sleep_jitter=0,
            reconnect_sleep_max=0,
            reconnect_attempts_max=0,
            auto_decode=False,
            encoding=encoding,
        )
        self.group = group
        self.port = port
        self.interface = interface
        self.ttl = ttl
        self.loop = loop
        self.current_host_and_port = (group, port)
        self._sender: Any = None  # the address of the last datagram received
        self.subscriptions: dict[Any, str] = {}
        self.socket: socket.socket | None = None
        self.receiver_socket: socket.socket | None = None

    # -- sockets --------------------------------------------------------------------------

    def attempt_connection(self) -> None:
        """Open the sending socket and the receiving one, joined to the group."""
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        try:
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.ttl)
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(self.loop))
            if self.interface is not None:
                sender.setsockopt(
                    socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.interface)
                )
            receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                # Bound to the group: datagrams sent to other groups on the port stay out.
                receiver.bind((self.group, self.port))
            except OSError:  # pragma: no cover - systems that cannot bind a group address
                receiver.bind(("", self.port))
            membership = socket.inet_aton(self.group) + socket.inet_aton(
                self.interface or "0.0.0.0"
            )
            receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except BaseException:
            sender.close()
            receiver.close()
            raise
        self.socket = sender
        self.receiver_socket = receiver
        self.current_host_and_port = (self.group, self.port)

    def send(self, encoded_frame: bytes) -> None:
        """Send one frame as one datagram to the group.

        Raises:
            NotConnectedException: ``connect()`` was not called.
            OSError: the datagram could not be sent (``EMSGSIZE``: over 64 KiB).
        """
        sock = self.socket
        if sock is None:
            raise NotConnectedException("not connected: connect() first")
        with self._send_lock:
            sock.sendto(encoded_frame, (self.group, self.port))
        self.last_sent = time.monotonic()

    def receive(self) -> bytes | None:
        """The next datagram; ``b""`` once closed."""
        while True:
            sock = self.receiver_socket
            if sock is None or not self.running:
                return b""
            try:
                data, self._sender = sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                if self.receiver_socket is None or not self.running:
                    return b""
                raise
            if data:  # (else an empty datagram, or the wake-up of a closing socket)
                return data

    def _feed_function(self, decoder: FrameDecoder) -> Callable[[bytes], list[Frame]]:
        # Each datagram is decoded on its own, once.  One with a partial or malformed frame
        # (a truncated one, another program's traffic) is dropped with a warning, so that
        # it cannot stop the receiver or spoil the datagrams after it.
        version, auto_decode = self.version, self.auto_decode

        def frames_of(datagram: bytes) -> list[Frame]:
            sender = self._sender
            decoder = FrameDecoder(version, auto_decode=auto_decode)
            try:
                frames = decoder.feed(datagram)
            except FrameError as exc:
                _log.warning("dropped a malformed datagram from %s: %s", sender, exc)
                return []
            if decoder.buffered:
                _log.warning("dropped a datagram with an incomplete frame from %s", sender)
                return []
            return frames

        return frames_of

    def _bytes_waiting(self) -> bool:
        return False

    def is_connected(self) -> bool:
        """``False`` in practice, as in stomp.py: there is no broker to send CONNECTED
        (only a CONNECTED frame some other program sent to the group would set it)."""
        return self.socket is not None and self.connected

    def _close_socket(self) -> None:
        sender, self.socket = self.socket, None
        receiver, self.receiver_socket = self.receiver_socket, None
        if receiver is not None:
            try:
                receiver.shutdown(socket.SHUT_RDWR)  # wakes the receiver thread
            except OSError as exc:
                if exc.errno not in (errno.ENOTCONN, errno.EBADF):
                    _log.debug("could not shut the multicast socket down: %s", exc)
            receiver.close()
        if sender is not None:
            sender.close()

    def stop(self, timeout: float | None = None) -> bool:
        """Close the sockets (``on_disconnected``) and wait for the receiver thread, at
        most ``timeout`` seconds (10 by default)."""
        self.disconnect_socket()
        return super().stop(DEFAULT_DISCONNECT_TIMEOUT if timeout is None else timeout)

    # -- frames ---------------------------------------------------------------------------

    def process_frame(self, f: Frame, frame_str: Any = None) -> None:
        """Deliver a received frame: a SEND to a subscribed destination as a MESSAGE;
        CONNECTED, RECEIPT, ERROR and heart-beats as usual; nothing else.  Any frame
        with a ``receipt`` header is answered with a RECEIPT to the group."""
        if f is HEARTBEAT_FRAME:
            super().process_frame(f, frame_str)
            return
        cmd = (f.cmd or "").upper()
        if cmd == "SEND":
            if f.headers.get("destination") in self.subscriptions.values():
                f.cmd = "MESSAGE"
                super().process_frame(f, frame_str)
        elif cmd in _DISPATCHED:
            super().process_frame(f, frame_str)
        receipt = f.headers.get(HDR_RECEIPT)
        if receipt is not None and cmd != "DISCONNECT":
            try:
                self.transmit(Frame("RECEIPT", {"receipt-id": receipt}))
            except (OSError, NotConnectedException) as exc:
                _log.debug("could not send RECEIPT %s: %s", receipt, exc)


class MulticastConnection(BaseConnection, Protocol12):
    """STOMP 1.2 calls on a multicast group, without a broker.

    ``connect()`` only opens the sockets (there is no CONNECTED, so ``is_connected()``
    stays ``False``); ``subscribe``/``unsubscribe`` are local; ``send``, ``ack`` and
    ``nack`` go to the group; transactions are kept locally and their frames sent on
    ``commit``.  An unknown transaction (or a second ``begin`` of one) is reported to
    the listeners' ``on_error`` with ``Frame(None, {}, "<message>")``.

    Args:
        encoding: accepted for compatibility (text is UTF-8; bodies arrive as bytes).
        interface, ttl, group, port, loop: see :class:`MulticastTransport`.
    """

    def __init__(
        self,
        encoding: str = "utf-8",
        interface: str | None = None,
        ttl: int = 2,
        group: str = MCAST_GRP,
        port: int = MCAST_PORT,
        loop: bool = True,
    ) -> None:
        transport = MulticastTransport(encoding, interface, ttl, group, port, loop)
        BaseConnection.__init__(self, transport)
        Protocol12.__init__(self, transport)
        transport.set_listener("mcast-listener", self)
        self.transactions: dict[str, list[Frame]] = {}
        self._transactions_lock = threading.Lock()

    def connect(  # type: ignore[override]
        self,
        username: str | None = None,
        passcode: str | None = None,
        wait: bool = False,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Open the sockets and start receiving (``on_connecting``); nothing is sent."""
        self.transport.start()

    def disconnect(
        self,
        receipt: str | None = None,
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Close the sockets (``on_disconnected``) and wait for the receiver thread."""
        Protocol12.disconnect(self, receipt, headers, **keyword_headers)
        self.transport.stop()

    def subscribe(
        self,
        destination: str,
        id: Any = None,
        ack: str = "auto",
        headers: dict[str, Any] | None = None,
        **keyword_headers: Any,
    ) -> None:
        """Deliver the SENDs to ``destination`` seen on the group from now on."""
        self.transport.subscriptions[id] = destination  # type: ignore[attr-defined]

    def unsubscribe(  # type: ignore[override]
        self, id: Any, headers: dict[str, Any] | None = None, **keyword_headers: Any
    ) -> None:
        """Stop the subscription ``id`` (``KeyError`` if unknown, as stomp.py)."""
        del self.transport.subscriptions[id]  # type: ignore[attr-defined]

    def send_frame(self, cmd: str, headers: dict[str, Any] | None = None, body: Any = "") -> None:
        """Send a frame to the group, or keep it for its transaction (see the class)."""
        headers = headers if headers is not None else {}
        frame = Frame(cmd, headers, body)
        transaction = headers.get(HDR_TRANSACTION)
        if cmd in (CMD_BEGIN, CMD_COMMIT, CMD_ABORT):
            self._transaction_command(cmd, transaction)
        elif transaction is None:
            self.transport.transmit(frame)
        else:
            with self._transactions_lock:
                queued = self.transactions.get(transaction)
                if queued is not None:
                    queued.append(frame)
            if queued is None:
                self._report(f"Transaction {transaction} not started")

    def _transaction_command(self, cmd: str, transaction: Any) -> None:
        with self._transactions_lock:
            known = transaction in self.transactions
            if cmd == CMD_BEGIN:
                if not known:
                    self.transactions[transaction] = []
                frames: list[Frame] = []
            else:
                frames = self.transactions.pop(transaction, [])
        if cmd == CMD_BEGIN and known:
            self._report(f"Transaction {transaction} already started")
        elif cmd != CMD_BEGIN and not known:
            self._report(f"Transaction {transaction} not started")
        elif cmd == CMD_COMMIT:
            for frame in frames:
                self.transport.transmit(frame)

    def _report(self, message: str) -> None:
        # stomp.py raised AttributeError (BEGIN twice, unknown COMMIT) or KeyError
        # (unknown ABORT) here; the listeners hear of it instead, as for a frame sent in
        # an unknown transaction.
        _log.info("%s", message)
        self.transport.notify("error", Frame(None, {}, message))
