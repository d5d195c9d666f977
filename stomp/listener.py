"""Connection listeners: the callback interface and the ready-made listeners.

A listener is any object registered on a connection with ``set_listener(name, listener)``;
the transport calls the ``on_*`` methods it has (see :class:`ConnectionListener` for the
list, the thread each one runs on and its argument).

* :class:`ConnectionListener` is the base class with every callback as a no-op.  The
  transport skips a listener whose callback is the base class's no-op, so subclasses pay
  only for the callbacks they override.
* :class:`WaitingListener` waits for a receipt or a disconnect.
* :class:`StatsListener` counts events; ``str()`` gives a summary.
* :class:`PrintingListener` prints (or logs) every event, passcodes masked.
* :class:`TestListener` does all three, and waits for messages and heart-beats.
* :class:`HeartbeatListener` negotiates heart-beats (the 1.1/1.2 connections are their own
  heart-beat listener); the transport does the sending and the timeout detection.
* :class:`Publisher` is the listener-registry interface of connections and transports.

As in stomp.py, this module also exposes all of :mod:`stomp.constants`, the modules
``utils``, ``exception``, ``log``, ``sys``, ``threading`` and ``time``, and ``monotonic``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from time import monotonic
from typing import Any

from stomp import _namespace, exception, heartbeat, log
from stomp import constants as _constants
from stomp.codec import Frame
from stomp.constants import *  # noqa: F403  (stomp.py's re-export, relied on by users)
from stomp.constants import CMD_CONNECT, CMD_STOMP, HDR_HEARTBEAT
from stomp.heartbeat import Heartbeater

__all__ = [
    "ConnectionListener",
    "HeartbeatListener",
    "PrintingListener",
    "Publisher",
    "StatsListener",
    "TestListener",
    "WaitingListener",
    "exception",
    "log",
    "monotonic",
    "sys",
    "threading",
    "time",
    "utils",  # noqa: F405  (resolved on first use: not imported here)
]
__all__ += _constants.__all__
_namespace.forget(globals())


def __getattr__(name: str) -> Any:
    # utils: on first use (the listeners do not use it; stomp.py's module imports it).
    return _namespace.resolve(__name__, name)


_logger = logging.getLogger("stomp.py")

#: Commands whose frames carry the client's heart-beat request.
_CONNECT_COMMANDS = frozenset({CMD_CONNECT, CMD_STOMP})


class Publisher:
    """The listener-registry interface of connections and transports.

    The methods here do nothing; :class:`stomp.transport.BaseTransport` implements them.
    """

    def set_listener(self, name: str, listener: Any) -> None:
        """Register ``listener`` under ``name``, replacing any listener of that name.

        Args:
            name: the listener's name; listeners are called in sorted-name order.
            listener: any object; only the ``on_*`` methods it has are called.
        """

    def remove_listener(self, name: str) -> None:
        """Unregister the listener called ``name`` (nothing happens if there is none).

        Args:
            name: the listener's name.
        """

    def get_listener(self, name: str) -> Any:
        """Return the listener called ``name``, or ``None``.

        Args:
            name: the listener's name.

        Returns:
            ``None`` in this interface-only base class.
        """
        return None


class ConnectionListener:
    """Base class of connection listeners: every callback is a no-op.

    Override the callbacks you need.  Callbacks run synchronously on the thread named in
    each docstring; a slow callback delays every later frame on that thread.  Return values
    are ignored.  Callbacks on the I/O thread see the frames in the order they arrived.
    """

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """The socket is open and the CONNECT frame is about to be sent.

        Called on the caller's thread, inside ``connect()``, once per ``connect()``.

        Args:
            host_and_port: the ``(host, port)`` actually connected to.
        """

    def on_connected(self, frame: Frame) -> None:
        """The broker accepted the connection: a CONNECTED frame arrived.

        Called on the I/O thread.

        Args:
            frame: the CONNECTED frame (headers include ``version`` and ``heart-beat``
                when the broker sent them).
        """

    def on_disconnecting(self) -> None:
        """Reserved: "before DISCONNECT is sent".

        Like stomp.py 9.0.0, the library never calls it; it exists so that listeners
        defining it keep working.
        """

    def on_disconnected(self) -> None:
        """The connection is closed.

        Called once per connection, whatever the cause: the receipt of a DISCONNECT, the
        broker closing the socket, a read error, a heart-beat timeout or
        ``disconnect_socket()``.  Runs on the I/O thread, the heart-beat thread or the
        caller's thread depending on the cause.
        """

    def on_heartbeat_timeout(self) -> None:
        """Nothing was received from the broker for longer than the negotiated interval.

        Called on the heart-beat thread, after the connection has been closed (so after
        :meth:`on_disconnected`).
        """

    def on_before_message(self, frame: Frame) -> None:
        """A MESSAGE arrived; called on every listener before any :meth:`on_message`.

        Called on the I/O thread.  Change the frame in place to change what
        :meth:`on_message` sees; a return value is ignored.

        Args:
            frame: the MESSAGE frame (the same object later passed to :meth:`on_message`).
        """

    def on_message(self, frame: Frame) -> None:
        """A MESSAGE arrived.

        Called on the I/O thread.

        Args:
            frame: the MESSAGE frame.
        """

    def on_receipt(self, frame: Frame) -> None:
        """A RECEIPT arrived.

        Called on the I/O thread.

        Args:
            frame: the RECEIPT frame; ``frame.headers["receipt-id"]`` names the receipt.
        """

    def on_error(self, frame: Frame) -> None:
        """An ERROR frame arrived.

        Called on the I/O thread.

        Args:
            frame: the ERROR frame (``message`` header and body describe the error).
        """

    def on_send(self, frame: Frame) -> None:
        """A frame is about to be sent.

        Called on the sending thread, before the frame is encoded: changes made to the
        frame are sent.  Client heart-beats pass through here too, as
        ``Frame(None, {}, None)``.

        Args:
            frame: the outgoing frame.
        """

    def on_heartbeat(self) -> None:
        """A heart-beat (a bare end-of-line) arrived from the broker.

        Called on the I/O thread.
        """

    def on_receiver_loop_completed(self, frame: Frame | None) -> None:
        """The I/O loop has ended.

        Called on the I/O thread, as the last thing it does.

        Args:
            frame: always ``None`` (kept for stomp.py compatibility).
        """

    def on_reconnect_failed(self, exception: Exception) -> None:
        """Automatic reconnection gave up (``auto_reconnect``; not in stomp.py).

        Called once, on the reconnecting thread, after the last attempt; the connection
        stays closed, and calls made from now on raise
        :class:`~stomp.exception.NotConnectedException`.

        Args:
            exception: a :class:`~stomp.exception.ReconnectFailedException` saying why (the
                attempts or the time ran out, with the last error).
        """


class HeartbeatListener(ConnectionListener):
    """Negotiates STOMP 1.1/1.2 heart-beats and runs them.

    The base class of the 1.1 and 1.2 protocol classes: a connection object is its own
    heart-beat listener, registered under the name ``"protocol-listener"``.  It adds the
    ``heart-beat`` header to CONNECT/STOMP frames and computes the intervals from the
    CONNECTED frame.

    Who runs the heart-beats depends on the transport.  stomp-ng's transports run them
    themselves, as their session negotiated them when CONNECTED arrived: their heart-beat
    thread depends neither on listener names nor on their order, every byte read counts
    as life, and a slow listener is not taken for a dead broker.  Given any
    other transport (a test double, say), this listener runs them as stomp.py's does: a
    thread of its own that calls ``transport.transmit(Frame(None, {}, None))`` when it is
    time to send, counts the frames its ``on_*`` callbacks see as life, and on a timeout
    calls ``transport.set_connected(False)``, ``transport.disconnect_socket()``,
    ``transport.stop()`` and then ``on_heartbeat_timeout()`` on every listener in
    ``transport.listeners``.

    Args:
        transport: the transport heart-beats run on.
        heartbeats: the requested ``(cx, cy)`` pair in milliseconds: how often the client
            can send, and how often it wants to receive; ``(0, 0)`` asks for none.
        heart_beat_receive_scale: the receive interval is multiplied by this before the
            broker is declared dead, to tolerate network delays.

    Attributes:
        transport: the transport.
        running: true while heart-beats negotiated on the current connection run.
        heart_beat_receive_scale: see above.
        heartbeat_terminate_event: set when the connection ends; cleared when heart-beats
            start.
        disconnecting: set by :meth:`on_disconnecting`, cleared by :meth:`on_connected`;
            while set, no heart-beat is sent (when this listener runs them).
    """

    def __init__(
        self,
        transport: Any,
        heartbeats: tuple[int, int],
        heart_beat_receive_scale: float = 1.5,
    ) -> None:
        self.running = False
        self.transport = transport
        # Through the property: sets both the current and the requested pair.
        self.heartbeats = heartbeats
        self.heart_beat_receive_scale = heart_beat_receive_scale
        self.heartbeat_terminate_event = threading.Event()
        self.disconnecting = False
        self._send_sleep = 0.0
        self._receive_sleep = 0.0
        # When this listener runs the heart-beats itself (see the class docstring).
        self._own_heartbeater: Heartbeater | None = None
        self._received_heartbeat: float | None = None
        self._last_sent = 0.0

    @property
    def _transport_beats(self) -> bool:
        # Whether the transport runs heart-beats itself (a method of its class: a test
        # double's made-up attributes do not count).
        return callable(getattr(type(self.transport), "start_heartbeats", None))

    @property
    def heartbeats(self) -> tuple[int, int]:
        """The requested pair, replaced by the negotiated pair after CONNECTED."""
        return self._heartbeats

    @heartbeats.setter
    def heartbeats(self, value: tuple[int, int]) -> None:
        # A user assignment is a new request; negotiation writes _heartbeats directly so
        # that the original request survives for the next CONNECT.
        self._heartbeats = value
        self._requested_heartbeats = value

    @property
    def send_sleep(self) -> float:
        """The negotiated send interval in seconds (0 when none).

        May be changed while heart-beats run: the new interval applies at once.
        """
        return self._send_sleep

    @send_sleep.setter
    def send_sleep(self, value: float) -> None:
        self._send_sleep = value
        self._apply_intervals()

    @property
    def receive_sleep(self) -> float:
        """The negotiated receive timeout in seconds, the scale included (0 when none).

        May be changed while heart-beats run: the new timeout applies at once (stomp.py
        users shorten it in tests to provoke a heart-beat timeout).
        """
        return self._receive_sleep

    @receive_sleep.setter
    def receive_sleep(self, value: float) -> None:
        self._receive_sleep = value
        self._apply_intervals()

    def _apply_intervals(self) -> None:
        if not self.running:
            return
        if self._own_heartbeater is not None:
            self._own_heartbeater.update(self._send_sleep, self._receive_sleep)
        elif self._transport_beats:
            self.transport.start_heartbeats(self._send_sleep, self._receive_sleep)

    @property
    def heartbeat_thread(self) -> threading.Thread | None:
        """The heart-beat thread, or ``None`` when none runs."""
        if self._transport_beats:
            return getattr(self.transport, "heartbeat_thread", None)
        own = self._own_heartbeater
        return own.thread if own is not None and own.thread.is_alive() else None

    @property
    def received_heartbeat(self) -> float | None:
        """``time.monotonic()`` of the last sign of life from the broker, or ``None``
        before heart-beats were negotiated.

        Right after CONNECTED it lies one receive timeout ahead (the grace for the first
        heart-beat), as in stomp.py.  With a stomp-ng transport it is the time of the last
        bytes read.
        """
        if self._transport_beats:
            last = getattr(self.transport, "last_received", None)
            if last is not None:
                return float(last)
        return self._received_heartbeat

    @received_heartbeat.setter
    def received_heartbeat(self, value: float | None) -> None:
        self._received_heartbeat = value
        if self._transport_beats and value is not None:
            self.transport.last_received = value

    @property
    def next_outbound_heartbeat(self) -> float | None:
        """``time.monotonic()`` by which the next heart-beat is sent unless another frame
        is, or ``None`` when none is to be sent."""
        if not (self.running and self._send_sleep):
            return None
        if self._own_heartbeater is None and self._transport_beats:
            return float(self.transport.last_sent) + self._send_sleep
        return self._last_sent + self._send_sleep

    def on_send(self, frame: Frame) -> None:
        """Add the requested ``heart-beat`` header to CONNECT and STOMP frames.

        Also restores :attr:`heartbeats` to the requested pair, so that a reconnect asks
        for the original values rather than the last negotiated ones.  Every outgoing
        frame postpones the next heart-beat.

        Args:
            frame: the outgoing frame.
        """
        if frame.cmd in _CONNECT_COMMANDS:
            requested = self._requested_heartbeats
            self._heartbeats = requested
            if tuple(requested) != (0, 0):
                frame.headers[HDR_HEARTBEAT] = f"{requested[0]},{requested[1]}"
        if self._own_heartbeater is not None:
            self._last_sent = monotonic()

    def on_connected(self, frame: Frame) -> None:
        """Negotiate heart-beats from the CONNECTED frame: :attr:`heartbeats`,
        :attr:`send_sleep`, :attr:`receive_sleep` and :attr:`running` say what was agreed.

        A stomp-ng transport has already started them (its session negotiated the same
        way); with another transport, this listener starts its own heart-beat thread.
        Without a ``heart-beat`` header nothing changes and nothing starts.  A malformed
        header is logged as a warning and treated as ``0,0``.

        Args:
            frame: the CONNECTED frame.
        """
        self.disconnecting = False
        if HDR_HEARTBEAT not in frame.headers:
            return
        server = _parse_heartbeat_header(frame.headers[HDR_HEARTBEAT])
        requested = self._requested_heartbeats
        negotiated = heartbeat.negotiate((int(requested[0]), int(requested[1])), server)
        self._heartbeats = negotiated
        _logger.debug("heartbeats calculated %s", negotiated)
        if negotiated == (0, 0):
            return
        self._send_sleep = negotiated[0] / 1000
        self._receive_sleep = negotiated[1] / 1000 * self.heart_beat_receive_scale
        _logger.debug(
            "set receive_sleep to %s, send_sleep to %s", self._receive_sleep, self._send_sleep
        )
        self.running = True
        self.heartbeat_terminate_event.clear()
        if self._transport_beats:
            return  # the transport started them, from its session's negotiation
        # A transport that does not run heart-beats: run them here, as stomp.py does.
        now = monotonic()
        self._received_heartbeat = now + self._receive_sleep  # grace for the first one
        self._last_sent = now
        if self._own_heartbeater is None or not self._own_heartbeater.thread.is_alive():
            self._own_heartbeater = self._new_heartbeater()
            self._own_heartbeater.start()
        else:
            self._own_heartbeater.update(self._send_sleep, self._receive_sleep)

    def on_disconnected(self) -> None:
        """Mark heart-beating as stopped (and stop this listener's own thread, if any).

        The transport has already stopped its heart-beats.  This does not ask it to stop
        them again: a listener that reconnects from its own ``on_disconnected`` may already
        have started the next connection's heart-beats.
        """
        self.running = False
        self.heartbeat_terminate_event.set()
        own, self._own_heartbeater = self._own_heartbeater, None
        if own is not None:
            own.stop()

    def on_disconnecting(self) -> None:
        """Note that a disconnect is under way (the library never calls this)."""
        self.disconnecting = True

    # The broker was heard from.  (stomp-ng's transports leave these out of dispatch for
    # their own connection object: they stamp every read themselves.)

    def on_message(self, frame: Frame) -> None:
        """Count a MESSAGE as a sign of life from the broker.

        Args:
            frame: the MESSAGE frame.
        """
        self.__update_heartbeat()

    def on_receipt(self, *_: Any) -> None:
        """Count a RECEIPT as a sign of life from the broker."""
        self.__update_heartbeat()

    def on_error(self, *_: Any) -> None:
        """Count an ERROR frame as a sign of life from the broker."""
        self.__update_heartbeat()

    def on_heartbeat(self) -> None:
        """Count a heart-beat as a sign of life from the broker."""
        self.__update_heartbeat()

    def __update_heartbeat(self) -> None:
        # stomp.py's name: the broker was heard from now (a grace still ahead is kept).
        if self._transport_beats:
            self.transport.last_received = monotonic()
            return
        received = self._received_heartbeat
        if received is not None:
            now = monotonic()
            if now > received:
                self._received_heartbeat = now

    def __heartbeat_loop(self) -> None:
        # stomp.py's name: run this listener's heart-beat loop on the calling thread (what
        # its heart-beat thread runs) until the connection ends.  Nothing to do when the
        # transport runs the heart-beats or none were negotiated.
        if self._transport_beats or not self.running:
            return
        self._new_heartbeater().run()

    def _new_heartbeater(self) -> Heartbeater:
        return Heartbeater(
            self._send_sleep,
            self._receive_sleep,
            send_heartbeat=self._send_own_heartbeat,
            last_sent=lambda: self._last_sent,
            last_received=lambda: self._received_heartbeat or 0.0,
            bytes_waiting=lambda: False,
            on_timeout=self._own_timeout,
            name=f"StompHeartbeat-{threading.current_thread().name}",
        )

    def _send_own_heartbeat(self) -> None:
        if self.transport.is_connected() and not self.disconnecting:
            self.transport.transmit(Frame(None, {}, None))
        self._last_sent = monotonic()

    def _own_timeout(self, silent: float) -> None:
        # stomp.py's sequence on a heart-beat timeout (on the heart-beat thread: what goes
        # wrong is logged, not raised).
        transport = self.transport
        try:
            if not transport.is_connected():
                return
            _logger.warning("heartbeat timeout: nothing received for %.3f s", silent)
            self.running = False
            transport.set_connected(False)
            transport.disconnect_socket()
            transport.stop()
            for listener in list(transport.listeners.values()):
                callback = getattr(listener, "on_heartbeat_timeout", None)
                if callback is not None:
                    callback()
        except Exception:
            _logger.exception("heartbeat timeout handling failed on %r", transport)


def _parse_heartbeat_header(value: Any) -> tuple[int, int]:
    """The broker's ``sx,sy`` pair; anything but two non-negative integers is logged and
    read as ``0,0``."""
    try:
        return heartbeat.parse(value)
    except ValueError:
        _logger.warning("ignoring malformed heart-beat header %r, using 0,0", value)
        return (0, 0)


class WaitingListener(ConnectionListener):
    """Waits for one receipt and/or for the disconnect.

    Args:
        receipt: the receipt id to wait for (the ``receipt`` header of the frame sent).

    Attributes:
        receipt: the awaited receipt id.
        received: true once the receipt arrived (until :meth:`wait_on_receipt` returns).
        disconnected: true once the connection closed.
        receipt_condition: the condition :meth:`wait_on_receipt` waits on.
        disconnect_condition: the condition :meth:`wait_on_disconnected` waits on.
    """

    def __init__(self, receipt: str | None) -> None:
        self.receipt_condition = threading.Condition()
        self.disconnect_condition = threading.Condition()
        self.receipt = receipt
        self.received = False
        self.disconnected = False

    def on_receipt(self, frame: Frame) -> None:
        """Wake :meth:`wait_on_receipt` if this is the awaited receipt.

        Args:
            frame: the RECEIPT frame.
        """
        if frame.headers.get("receipt-id") == self.receipt:
            with self.receipt_condition:
                self.received = True
                self.receipt_condition.notify_all()

    def on_disconnected(self) -> None:
        """Wake :meth:`wait_on_disconnected`."""
        with self.disconnect_condition:
            self.disconnected = True
            self.disconnect_condition.notify_all()

    def wait_on_receipt(self, timeout: float | None = None) -> bool:
        """Block until the awaited receipt has arrived, then re-arm for the next one.

        Args:
            timeout: the most seconds to wait; ``None`` waits for ever (as stomp.py).

        Returns:
            True if the receipt arrived, False if the timeout expired first.
        """
        with self.receipt_condition:
            arrived = self.receipt_condition.wait_for(lambda: self.received, timeout)
            if arrived:
                self.received = False
            return arrived

    def wait_on_disconnected(self, timeout: float | None = None) -> bool:
        """Block until the connection has closed (returns at once if it already has).

        Args:
            timeout: the most seconds to wait; ``None`` waits for ever (as stomp.py).

        Returns:
            True if the connection closed, False if the timeout expired first.
        """
        with self.disconnect_condition:
            return self.disconnect_condition.wait_for(lambda: self.disconnected, timeout)


class StatsListener(ConnectionListener):
    """Counts connections, disconnects, messages, heart-beats and errors.

    ``str()`` gives a six-line summary.

    Attributes:
        errors: ERROR frames received.
        connections: sockets connected (``on_connecting`` calls, not CONNECTED frames).
        disconnects: disconnects.
        messages: MESSAGE frames received.
        messages_sent: frames sent, every kind, client heart-beats included.
        heartbeat_timeouts: heart-beat timeouts.
        heartbeat_count: heart-beats received.
    """

    def __init__(self) -> None:
        self.errors = 0
        self.connections = 0
        self.disconnects = 0
        self.messages = 0
        self.messages_sent = 0
        self.heartbeat_timeouts = 0
        self.heartbeat_count = 0

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Count a connection (logged at INFO).

        Args:
            host_and_port: the ``(host, port)`` connected to.
        """
        _logger.info(
            "connecting %s %s (x %s)", host_and_port[0], host_and_port[1], self.connections
        )
        self.connections += 1

    def on_disconnected(self) -> None:
        """Count a disconnect (logged at INFO)."""
        self.disconnects += 1
        _logger.info("disconnected (x %s)", self.disconnects)

    def on_error(self, frame: Frame) -> None:
        """Count an error (logged: body at INFO, or body and headers at DEBUG).

        Args:
            frame: the ERROR frame.
        """
        if _logger.isEnabledFor(logging.DEBUG):
            _logger.debug("received an error %s [%s]", frame.body, log.mask_passcode(frame.headers))
        else:
            _logger.info("received an error %s", frame.body)
        self.errors += 1

    def on_message(self, frame: Frame) -> None:
        """Count a received message.

        Args:
            frame: the MESSAGE frame.
        """
        self.messages += 1

    def on_send(self, frame: Frame) -> None:
        """Count a sent frame (any kind, heart-beats included).

        Args:
            frame: the outgoing frame.
        """
        self.messages_sent += 1

    def on_heartbeat_timeout(self) -> None:
        """Count a heart-beat timeout (logged at DEBUG)."""
        _logger.debug("received heartbeat timeout")
        self.heartbeat_timeouts += 1

    def on_heartbeat(self) -> None:
        """Count a received heart-beat."""
        self.heartbeat_count += 1

    def __str__(self) -> str:
        """Return the six-line summary (``heartbeat_timeouts`` is not in it)."""
        return (
            f"Connections: {self.connections}\n"
            f"Disconnects: {self.disconnects}\n"
            f"Messages sent: {self.messages_sent}\n"
            f"Messages received: {self.messages}\n"
            f"Heartbeats received: {self.heartbeat_count}\n"
            f"Errors: {self.errors}"
        )


class PrintingListener(ConnectionListener):
    """Prints one line per event, or logs it at INFO on the ``stomp.py`` logger.

    Passcodes are always shown as ``********``.

    Args:
        print_to_log: log the lines instead of printing them to stdout.

    Attributes:
        print_to_log: see above.
    """

    def __init__(self, print_to_log: bool = False) -> None:
        self.print_to_log = print_to_log

    def __print(self, msg: str, *args: Any) -> None:
        """Print ``msg % args``, or log it at INFO when :attr:`print_to_log` is set."""
        if self.print_to_log:
            _logger.info(msg, *args)
        else:
            print(msg % args)

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Print ``on_connecting <host> <port>``.

        Args:
            host_and_port: the ``(host, port)`` connected to.
        """
        self.__print("on_connecting %s %s", host_and_port[0], host_and_port[1])

    def on_connected(self, frame: Frame) -> None:
        """Print ``on_connected <headers> <body>``.

        Args:
            frame: the CONNECTED frame.
        """
        self.__print("on_connected %s %s", log.mask_passcode(frame.headers), frame.body)

    def on_disconnected(self) -> None:
        """Print ``on_disconnected``."""
        self.__print("on_disconnected")

    def on_heartbeat_timeout(self) -> None:
        """Print ``on_heartbeat_timeout``."""
        self.__print("on_heartbeat_timeout")

    def on_before_message(self, frame: Frame) -> None:
        """Print ``on_before_message <headers> <body>``.

        Args:
            frame: the MESSAGE frame.
        """
        self.__print("on_before_message %s %s", log.mask_passcode(frame.headers), frame.body)

    def on_message(self, frame: Frame) -> None:
        """Print ``on_message <headers> <body>``.

        Args:
            frame: the MESSAGE frame.
        """
        self.__print("on_message %s %s", log.mask_passcode(frame.headers), frame.body)

    def on_receipt(self, frame: Frame) -> None:
        """Print ``on_receipt <headers> <body>``.

        Args:
            frame: the RECEIPT frame.
        """
        self.__print("on_receipt %s %s", log.mask_passcode(frame.headers), frame.body)

    def on_error(self, frame: Frame) -> None:
        """Print ``on_error <headers> <body>``.

        Args:
            frame: the ERROR frame.
        """
        self.__print("on_error %s %s", log.mask_passcode(frame.headers), frame.body)

    def on_send(self, frame: Frame) -> None:
        """Print ``on_send <command> <headers> <body>``, the passcode masked.

        A client heart-beat prints as ``on_send None {} None``.

        Args:
            frame: the outgoing frame.
        """
        self.__print("on_send %s %s %s", frame.cmd, log.mask_passcode(frame.headers), frame.body)

    def on_heartbeat(self) -> None:
        """Print ``on_heartbeat``."""
        self.__print("on_heartbeat")


class TestListener(StatsListener, WaitingListener, PrintingListener):
    """Counts, prints and waits: the listener of choice in tests.

    Each callback runs the :class:`StatsListener`, :class:`PrintingListener` and
    :class:`WaitingListener` behaviour, in that order.  On top of those, it keeps the
    received messages and can wait for the next message or heart-beat.

    Args:
        receipt: the receipt id :meth:`wait_on_receipt` waits for.
        print_to_log: log the event lines instead of printing them.

    Attributes:
        message_list: ``(headers, body)`` of each received MESSAGE, in arrival order.
        message_received: true once a message arrived (until :meth:`wait_for_message`
            returns).
        heartbeat_received: the same for heart-beats and :meth:`wait_for_heartbeat`.
        message_condition: the condition :meth:`wait_for_message` waits on.
        heartbeat_condition: the condition :meth:`wait_for_heartbeat` waits on.
        timestamp: ``time.strftime("%Y%m%d%H%M%S")`` at construction, handy for unique
            destination names.
    """

    #: Not a pytest test class, despite the name.
    __test__ = False

    def __init__(self, receipt: str | None = None, print_to_log: bool = False) -> None:
        StatsListener.__init__(self)
        PrintingListener.__init__(self, print_to_log)
        WaitingListener.__init__(self, receipt)
        self.message_list: list[tuple[dict[str, Any], Any]] = []
        self.message_condition = threading.Condition()
        self.message_received = False
        self.heartbeat_condition = threading.Condition()
        self.heartbeat_received = False
        self.timestamp = time.strftime("%Y%m%d%H%M%S")

    def wait_for_message(self, timeout: float | None = None) -> bool:
        """Block until a message has arrived since the last call, then re-arm.

        Args:
            timeout: the most seconds to wait; ``None`` waits for ever (as stomp.py).

        Returns:
            True if a message arrived, False if the timeout expired first.
        """
        with self.message_condition:
            arrived = self.message_condition.wait_for(lambda: self.message_received, timeout)
            if arrived:
                self.message_received = False
            return arrived

    def get_latest_message(self) -> tuple[dict[str, Any], Any]:
        """Return ``(headers, body)`` of the last message received.

        Raises:
            IndexError: no message has been received.
        """
        return self.message_list[-1]

    def wait_for_heartbeat(self, timeout: float | None = None) -> bool:
        """Block until a heart-beat has arrived since the last call, then re-arm.

        Args:
            timeout: the most seconds to wait; ``None`` waits for ever (as stomp.py).

        Returns:
            True if a heart-beat arrived, False if the timeout expired first.
        """
        with self.heartbeat_condition:
            arrived = self.heartbeat_condition.wait_for(lambda: self.heartbeat_received, timeout)
            if arrived:
                self.heartbeat_received = False
            return arrived

    # Every callback is spelt out: the bases do not chain to each other, so the MRO alone
    # would run only the first base that defines each one.

    def on_connecting(self, host_and_port: tuple[str, int]) -> None:
        """Count and print the connection."""
        StatsListener.on_connecting(self, host_and_port)
        PrintingListener.on_connecting(self, host_and_port)

    def on_connected(self, frame: Frame) -> None:
        """Print the CONNECTED frame."""
        PrintingListener.on_connected(self, frame)

    def on_disconnected(self) -> None:
        """Count, print and wake :meth:`wait_on_disconnected`."""
        StatsListener.on_disconnected(self)
        PrintingListener.on_disconnected(self)
        WaitingListener.on_disconnected(self)

    def on_heartbeat_timeout(self) -> None:
        """Count and print the heart-beat timeout."""
        StatsListener.on_heartbeat_timeout(self)
        PrintingListener.on_heartbeat_timeout(self)

    def on_before_message(self, frame: Frame) -> None:
        """Print the message."""
        PrintingListener.on_before_message(self, frame)

    def on_message(self, frame: Frame) -> None:
        """Count, print and keep the message; wake :meth:`wait_for_message`."""
        StatsListener.on_message(self, frame)
        PrintingListener.on_message(self, frame)
        with self.message_condition:
            self.message_list.append((frame.headers, frame.body))
            self.message_received = True
            self.message_condition.notify_all()

    def on_receipt(self, frame: Frame) -> None:
        """Print the receipt and wake :meth:`wait_on_receipt` if it is the awaited one."""
        PrintingListener.on_receipt(self, frame)
        WaitingListener.on_receipt(self, frame)

    def on_error(self, frame: Frame) -> None:
        """Count and print the error."""
        StatsListener.on_error(self, frame)
        PrintingListener.on_error(self, frame)

    def on_send(self, frame: Frame) -> None:
        """Count and print the outgoing frame."""
        StatsListener.on_send(self, frame)
        PrintingListener.on_send(self, frame)

    def on_heartbeat(self) -> None:
        """Count and print the heart-beat; wake :meth:`wait_for_heartbeat`."""
        StatsListener.on_heartbeat(self)
        PrintingListener.on_heartbeat(self)
        with self.heartbeat_condition:
            self.heartbeat_received = True
            self.heartbeat_condition.notify_all()
