"""Unit tests of stomp.listener: no network, no sleeps."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import pytest

import stomp
from stomp import listener
from stomp.codec import Frame
from stomp.listener import (
    ConnectionListener,
    HeartbeatListener,
    PrintingListener,
    Publisher,
    StatsListener,
    WaitingListener,
)

LOGGER = "stomp.py"

CALLBACKS = {
    "on_connecting": (("localhost", 61613),),
    "on_connected": (Frame("CONNECTED", {"version": "1.1"}),),
    "on_disconnecting": (),
    "on_disconnected": (),
    "on_heartbeat_timeout": (),
    "on_before_message": (Frame("MESSAGE", {"message-id": "1"}, "hi"),),
    "on_message": (Frame("MESSAGE", {"message-id": "1"}, "hi"),),
    "on_receipt": (Frame("RECEIPT", {"receipt-id": "r"}),),
    "on_error": (Frame("ERROR", {"message": "bad"}, "oops"),),
    "on_send": (Frame("SEND", {"destination": "/q"}, "x"),),
    "on_heartbeat": (),
    "on_receiver_loop_completed": (None,),
    "on_reconnect_failed": (Exception("gave up"),),
}


def run_in_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------- module


def test_module_reexports_constants_and_modules() -> None:
    import stomp.exception
    import stomp.log
    import stomp.utils

    assert listener.HDR_ID == "id"
    assert listener.CMD_NACK == "NACK"
    assert listener.HDR_HEARTBEAT == "heart-beat"
    assert listener.utils is stomp.utils
    assert listener.exception is stomp.exception
    assert listener.log is stomp.log
    namespace: dict[str, Any] = {}
    exec("from stomp.listener import *", namespace)
    for name in ("TestListener", "HeartbeatListener", "Publisher", "CMD_SEND", "utils", "log"):
        assert name in namespace


# ---------------------------------------------------------------- Publisher


def test_publisher_is_a_no_op_registry() -> None:
    publisher = Publisher()
    publisher.set_listener("a", ConnectionListener())
    assert publisher.get_listener("a") is None
    publisher.remove_listener("a")
    assert publisher.get_listener("missing") is None


# ---------------------------------------------------------------- ConnectionListener


@pytest.mark.parametrize("name", sorted(CALLBACKS))
def test_connection_listener_callbacks_are_no_ops(name: str) -> None:
    assert getattr(ConnectionListener(), name)(*CALLBACKS[name]) is None


def test_connection_listener_has_exactly_the_documented_callbacks() -> None:
    callbacks = {name for name in vars(ConnectionListener) if name.startswith("on_")}
    assert callbacks == set(CALLBACKS)


# ---------------------------------------------------------------- StatsListener


def test_stats_listener_counters_and_str() -> None:
    stats = StatsListener()
    assert str(stats) == (
        "Connections: 0\nDisconnects: 0\nMessages sent: 0\nMessages received: 0\n"
        "Heartbeats received: 0\nErrors: 0"
    )
    stats.on_connecting(("localhost", 61613))
    stats.on_connecting(("localhost", 61613))
    stats.on_disconnected()
    for _ in range(3):
        stats.on_send(Frame("SEND", {}, "x"))
    stats.on_send(Frame(None, {}, None))  # client heart-beats count as sent [Q24]
    for _ in range(5):
        stats.on_message(Frame("MESSAGE", {}, "x"))
    stats.on_heartbeat()
    stats.on_heartbeat()
    stats.on_error(Frame("ERROR", {}, "bad"))
    stats.on_heartbeat_timeout()
    # Callbacks it does not count are inherited no-ops.
    stats.on_receipt(Frame("RECEIPT", {"receipt-id": "1"}))
    stats.on_connected(Frame("CONNECTED", {}))
    assert (stats.connections, stats.disconnects, stats.messages_sent, stats.messages) == (
        2,
        1,
        4,
        5,
    )
    assert (stats.heartbeat_count, stats.errors, stats.heartbeat_timeouts) == (2, 1, 1)
    text = str(stats)
    assert text == (
        "Connections: 2\n"
        "Disconnects: 1\n"
        "Messages sent: 4\n"
        "Messages received: 5\n"
        "Heartbeats received: 2\n"
        "Errors: 1"
    )
    assert len(text.split("\n")) == 6


def test_stats_listener_logs(caplog: pytest.LogCaptureFixture) -> None:
    stats = StatsListener()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats.on_connecting(("broker", 61613))
        stats.on_connecting(("broker", 61614))
        stats.on_disconnected()
        stats.on_error(Frame("ERROR", {"message": "m"}, "body text"))
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (LOGGER, logging.INFO, "connecting broker 61613 (x 0)"),
        (LOGGER, logging.INFO, "connecting broker 61614 (x 1)"),
        (LOGGER, logging.INFO, "disconnected (x 1)"),
        (LOGGER, logging.INFO, "received an error body text"),
    ]


def test_stats_listener_logs_error_headers_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    stats = StatsListener()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        stats.on_error(Frame("ERROR", {"message": "m"}, "body"))
        stats.on_heartbeat_timeout()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "received an error body [{'message': 'm'}]"),
        (logging.DEBUG, "received heartbeat timeout"),
    ]
    assert stats.errors == 1
    assert stats.heartbeat_timeouts == 1


# ---------------------------------------------------------------- PrintingListener

PRINTED = [
    ("on_connecting", (("localhost", 61613),), "on_connecting localhost 61613"),
    (
        "on_connected",
        (Frame("CONNECTED", {"version": "1.1"}, ""),),
        "on_connected {'version': '1.1'} ",
    ),
    ("on_disconnected", (), "on_disconnected"),
    ("on_heartbeat_timeout", (), "on_heartbeat_timeout"),
    (
        "on_before_message",
        (Frame("MESSAGE", {"message-id": "1"}, "hi"),),
        "on_before_message {'message-id': '1'} hi",
    ),
    (
        "on_message",
        (Frame("MESSAGE", {"message-id": "1"}, b"raw"),),
        "on_message {'message-id': '1'} b'raw'",
    ),
    (
        "on_receipt",
        (Frame("RECEIPT", {"receipt-id": "r1"}, ""),),
        "on_receipt {'receipt-id': 'r1'} ",
    ),
    ("on_error", (Frame("ERROR", {"message": "bad"}, "oops"),), "on_error {'message': 'bad'} oops"),
    (
        "on_send",
        (Frame("SEND", {"destination": "/queue/a"}, "x"),),
        "on_send SEND {'destination': '/queue/a'} x",
    ),
    ("on_send", (Frame(None, {}, None),), "on_send None {} None"),
    ("on_heartbeat", (), "on_heartbeat"),
]


@pytest.mark.parametrize(("name", "args", "line"), PRINTED)
def test_printing_listener_prints(
    capsys: pytest.CaptureFixture[str], name: str, args: tuple[Any, ...], line: str
) -> None:
    getattr(PrintingListener(), name)(*args)
    assert capsys.readouterr().out == line + "\n"


@pytest.mark.parametrize(("name", "args", "line"), PRINTED)
def test_printing_listener_print_to_log(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    name: str,
    args: tuple[Any, ...],
    line: str,
) -> None:
    with caplog.at_level(logging.INFO, logger=LOGGER):
        getattr(PrintingListener(print_to_log=True), name)(*args)
    assert capsys.readouterr().out == ""
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (LOGGER, logging.INFO, line)
    ]


def test_printing_listener_silent_callbacks(capsys: pytest.CaptureFixture[str]) -> None:
    printer = PrintingListener()
    printer.on_disconnecting()
    printer.on_receiver_loop_completed(None)
    assert capsys.readouterr().out == ""


def connect_frame() -> Frame:
    return Frame("CONNECT", {"login": "guest", "passcode": "s3cret!"}, None)


def test_printing_listener_masks_passcode(capsys: pytest.CaptureFixture[str]) -> None:
    printer = PrintingListener()
    frame = connect_frame()
    printer.on_send(frame)
    printer.on_connected(Frame("CONNECTED", {"passcode": "s3cret!"}, ""))
    out = capsys.readouterr().out
    assert "s3cret!" not in out
    assert out == (
        "on_send CONNECT {'login': 'guest', 'passcode': '********'} None\n"
        "on_connected {'passcode': '********'} \n"
    )
    # The frame that goes on the wire keeps the real passcode.
    assert frame.headers["passcode"] == "s3cret!"


def test_printing_listener_masks_passcode_in_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        listener.PrintingListener(print_to_log=True).on_send(connect_frame())
        listener.TestListener(print_to_log=True).on_send(connect_frame())
    assert len(caplog.records) == 2
    for record in caplog.records:
        assert "s3cret!" not in record.getMessage()
        assert "'passcode': '********'" in record.getMessage()


# ---------------------------------------------------------------- WaitingListener


def test_waiting_listener_attributes() -> None:
    waiter = WaitingListener("r-1")
    assert waiter.receipt == "r-1"
    assert waiter.received is False
    assert waiter.disconnected is False
    assert isinstance(waiter.receipt_condition, threading.Condition)
    assert isinstance(waiter.disconnect_condition, threading.Condition)


def test_waiting_listener_matching_receipt() -> None:
    waiter = WaitingListener("r-1")
    waiter.on_receipt(Frame("RECEIPT", {"receipt-id": "r-1"}))
    assert waiter.received is True
    assert waiter.wait_on_receipt() is True
    # Reset after the wait, so the listener can wait for the same id again.
    assert waiter.received is False
    assert waiter.wait_on_receipt(timeout=0) is False
    waiter.on_receipt(Frame("RECEIPT", {"receipt-id": "r-1"}))
    assert waiter.wait_on_receipt(timeout=0) is True


def test_waiting_listener_ignores_other_receipts() -> None:
    waiter = WaitingListener("r-1")
    waiter.on_receipt(Frame("RECEIPT", {"receipt-id": "r-2"}))
    waiter.on_receipt(Frame("RECEIPT", {}))
    assert waiter.received is False
    assert waiter.wait_on_receipt(timeout=0.01) is False


def test_waiting_listener_timeouts_return_false() -> None:
    waiter = WaitingListener("r-1")
    assert waiter.wait_on_receipt(timeout=0.005) is False
    assert waiter.wait_on_disconnected(timeout=0.005) is False


def test_waiting_listener_woken_from_another_thread() -> None:
    waiter = WaitingListener("r-1")
    started = threading.Event()
    results: list[bool] = []

    def wait() -> None:
        started.set()
        results.append(waiter.wait_on_receipt(timeout=10))
        results.append(waiter.wait_on_disconnected(timeout=10))

    thread = run_in_thread(wait)
    assert started.wait(10)
    waiter.on_receipt(Frame("RECEIPT", {"receipt-id": "r-1"}))
    waiter.on_disconnected()
    thread.join(10)
    assert not thread.is_alive()
    assert results == [True, True]


def test_waiting_listener_disconnected_is_not_reset() -> None:
    waiter = WaitingListener(None)
    waiter.on_disconnected()
    assert waiter.wait_on_disconnected() is True
    assert waiter.wait_on_disconnected(timeout=0) is True
    assert waiter.disconnected is True


# ---------------------------------------------------------------- TestListener


def test_test_listener_bases_and_attributes() -> None:
    assert listener.TestListener.__mro__[1:4] == (StatsListener, WaitingListener, PrintingListener)
    test_listener = listener.TestListener()
    assert test_listener.receipt is None
    assert test_listener.print_to_log is False
    assert test_listener.message_list == []
    assert test_listener.message_received is False
    assert test_listener.heartbeat_received is False
    assert isinstance(test_listener.message_condition, threading.Condition)
    assert isinstance(test_listener.heartbeat_condition, threading.Condition)
    assert re.fullmatch(r"\d{14}", test_listener.timestamp)
    assert listener.TestListener("r", True).receipt == "r"
    assert listener.TestListener("r", True).print_to_log is True


def test_test_listener_counts_prints_and_waits(capsys: pytest.CaptureFixture[str]) -> None:
    test_listener = listener.TestListener(receipt="r-9")
    test_listener.on_connecting(("localhost", 61613))
    test_listener.on_send(Frame("CONNECT", {"passcode": "pw"}, None))
    test_listener.on_connected(Frame("CONNECTED", {"version": "1.2"}, ""))
    test_listener.on_before_message(Frame("MESSAGE", {"message-id": "1"}, "a"))
    test_listener.on_message(Frame("MESSAGE", {"message-id": "1"}, "a"))
    test_listener.on_heartbeat()
    test_listener.on_error(Frame("ERROR", {"message": "m"}, "e"))
    test_listener.on_receipt(Frame("RECEIPT", {"receipt-id": "r-9"}, ""))
    test_listener.on_heartbeat_timeout()
    test_listener.on_disconnected()
    test_listener.on_disconnecting()
    test_listener.on_receiver_loop_completed(None)
    assert capsys.readouterr().out.splitlines() == [
        "on_connecting localhost 61613",
        "on_send CONNECT {'passcode': '********'} None",
        "on_connected {'version': '1.2'} ",
        "on_before_message {'message-id': '1'} a",
        "on_message {'message-id': '1'} a",
        "on_heartbeat",
        "on_error {'message': 'm'} e",
        "on_receipt {'receipt-id': 'r-9'} ",
        "on_heartbeat_timeout",
        "on_disconnected",
    ]
    assert str(test_listener) == (
        "Connections: 1\nDisconnects: 1\nMessages sent: 1\nMessages received: 1\n"
        "Heartbeats received: 1\nErrors: 1"
    )
    assert test_listener.heartbeat_timeouts == 1
    assert test_listener.wait_on_receipt(timeout=0) is True
    assert test_listener.wait_on_disconnected(timeout=0) is True
    assert test_listener.wait_for_message(timeout=0) is True
    assert test_listener.wait_for_heartbeat(timeout=0) is True


def test_test_listener_runs_stats_then_printing_then_waiting() -> None:
    seen: list[tuple[str, int, bool]] = []

    class Recording(listener.TestListener):
        def _PrintingListener__print(self, msg: str, *args: Any) -> None:
            seen.append((msg.split()[0], self.disconnects, self.disconnected))

    recording = Recording()
    recording.on_disconnected()
    # Printing saw the stats already counted and the waiting flag not yet set.
    assert seen == [("on_disconnected", 1, False)]
    assert recording.disconnected is True


def test_test_listener_message_list_and_latest(capsys: pytest.CaptureFixture[str]) -> None:
    test_listener = listener.TestListener()
    with pytest.raises(IndexError):
        test_listener.get_latest_message()
    first = Frame("MESSAGE", {"message-id": "1"}, "one")
    second = Frame("MESSAGE", {"message-id": "2"}, b"two")
    test_listener.on_message(first)
    test_listener.on_message(second)
    assert test_listener.message_list == [
        ({"message-id": "1"}, "one"),
        ({"message-id": "2"}, b"two"),
    ]
    assert test_listener.get_latest_message() == ({"message-id": "2"}, b"two")
    assert test_listener.get_latest_message()[0] is second.headers
    assert test_listener.messages == 2


def test_test_listener_wait_for_message() -> None:
    test_listener = listener.TestListener(print_to_log=True)
    assert test_listener.wait_for_message(timeout=0.005) is False
    test_listener.on_message(Frame("MESSAGE", {}, "x"))
    assert test_listener.wait_for_message(timeout=0) is True
    # The flag is reset by the wait.
    assert test_listener.message_received is False
    assert test_listener.wait_for_message(timeout=0.005) is False


def test_test_listener_wait_for_heartbeat() -> None:
    test_listener = listener.TestListener(print_to_log=True)
    assert test_listener.wait_for_heartbeat(timeout=0.005) is False
    test_listener.on_heartbeat()
    assert test_listener.wait_for_heartbeat(timeout=0) is True
    assert test_listener.heartbeat_received is False
    assert test_listener.wait_for_heartbeat(timeout=0) is False


def test_test_listener_woken_from_another_thread() -> None:
    test_listener = listener.TestListener(print_to_log=True)
    results: list[bool] = []
    started = threading.Event()

    def wait() -> None:
        started.set()
        results.append(test_listener.wait_for_message(timeout=10))
        results.append(test_listener.wait_for_heartbeat(timeout=10))

    thread = run_in_thread(wait)
    assert started.wait(10)
    test_listener.on_message(Frame("MESSAGE", {}, "x"))
    test_listener.on_heartbeat()
    thread.join(10)
    assert not thread.is_alive()
    assert results == [True, True]


def test_test_listener_is_not_collected_by_pytest() -> None:
    assert listener.TestListener.__test__ is False


# ---------------------------------------------------------------- HeartbeatListener


class FakeTransport:
    """Records the calls the heart-beat listener makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.heartbeat_thread: threading.Thread | None = None
        self.last_received: float | None = None

    def start_heartbeats(self, send_interval: float, receive_timeout: float) -> None:
        self.calls.append(("start_heartbeats", send_interval, receive_timeout))

    def stop_heartbeats(self) -> None:
        self.calls.append(("stop_heartbeats",))


def make(heartbeats: tuple[int, int] = (3000, 5000), **kwargs: Any) -> HeartbeatListener:
    return HeartbeatListener(FakeTransport(), heartbeats, **kwargs)


def calls(hb: HeartbeatListener) -> list[tuple[Any, ...]]:
    transport: FakeTransport = hb.transport
    return transport.calls


def connected(heart_beat: str | None = None) -> Frame:
    headers = {"version": "1.1"}
    if heart_beat is not None:
        headers["heart-beat"] = heart_beat
    return Frame("CONNECTED", headers, "")


def test_heartbeat_listener_attributes_after_construction() -> None:
    transport = FakeTransport()
    hb = HeartbeatListener(transport, (1000, 2000))
    assert hb.running is False
    assert hb.transport is transport
    assert hb.heartbeats == (1000, 2000)
    assert hb._requested_heartbeats == (1000, 2000)
    assert hb.received_heartbeat is None
    assert hb.heartbeat_thread is None
    assert hb.next_outbound_heartbeat is None
    assert hb.heart_beat_receive_scale == 1.5
    assert isinstance(hb.heartbeat_terminate_event, threading.Event)
    assert not hb.heartbeat_terminate_event.is_set()
    assert hb.disconnecting is False
    assert HeartbeatListener(transport, (0, 0), 2.0).heart_beat_receive_scale == 2.0
    assert transport.calls == []


def test_traffic_stamps_cost_nothing_on_the_connections_own_transport() -> None:
    # The 1.1/1.2 connection object is a HeartbeatListener of its own transport, which
    # stamps every read itself: its on_message & co. are left out of dispatch.  A
    # heart-beat listener of another transport (a test double's) is called.
    conn = stomp.Connection12()
    other = HeartbeatListener(FakeTransport(), (0, 0))
    conn.set_listener("other", other)
    for kind in ("message", "receipt", "error", "heartbeat"):
        owners = [getattr(c, "__self__", None) for c in conn.transport._callbacks[kind]]
        assert conn not in owners and other in owners, kind
    assert HeartbeatListener.on_before_message is ConnectionListener.on_before_message


def test_heartbeat_thread_and_received_heartbeat_come_from_the_transport() -> None:
    hb = make()
    transport: FakeTransport = hb.transport
    thread = threading.Thread(target=lambda: None)
    transport.heartbeat_thread = thread
    transport.last_received = 123.5
    assert hb.heartbeat_thread is thread
    assert hb.received_heartbeat == 123.5
    with pytest.raises(AttributeError):
        hb.heartbeat_thread = None  # type: ignore[misc]


def test_heartbeat_listener_with_a_minimal_transport() -> None:
    hb = HeartbeatListener(object(), (1000, 1000))
    assert hb.heartbeat_thread is None
    assert hb.received_heartbeat is None
    hb.received_heartbeat = 5.0
    assert hb.received_heartbeat == 5.0
    # No start_heartbeats on the transport: negotiation still happens, nothing raises
    # (the listener's own heart-beat thread cannot send on such a transport, and says so
    # in a debug log).
    hb.on_connected(connected("1000,1000"))
    assert hb.heartbeats == (1000, 1000)
    assert hb.running is True
    thread = hb.heartbeat_thread
    assert thread is not None
    hb.on_disconnected()
    assert not thread.is_alive() and hb.heartbeat_thread is None


@pytest.mark.parametrize("cmd", ["CONNECT", "STOMP"])
def test_on_send_adds_heart_beat_header_to_connect(cmd: str) -> None:
    hb = make((3000, 5000))
    frame = Frame(cmd, {"accept-version": "1.1"})
    hb.on_send(frame)
    assert frame.headers == {"accept-version": "1.1", "heart-beat": "3000,5000"}
    assert calls(hb) == []


@pytest.mark.parametrize(
    "frame",
    [Frame("SEND", {"destination": "/q"}, "x"), Frame("SUBSCRIBE", {}), Frame(None, {}, None)],
)
def test_on_send_leaves_other_frames_alone(frame: Frame) -> None:
    hb = make((3000, 5000))
    before = dict(frame.headers)
    hb.on_send(frame)
    assert frame.headers == before


def test_on_send_without_heartbeats_adds_no_header() -> None:
    hb = make((0, 0))
    frame = Frame("CONNECT", {})
    hb.on_send(frame)
    assert frame.headers == {}


@pytest.mark.parametrize(
    ("client", "server", "negotiated", "sleeps"),
    [
        ((3000, 5000), "5000,3000", (3000, 5000), (3.0, 7.5)),
        ((3000, 5000), "6000,2000", (3000, 6000), (3.0, 9.0)),
        ((3000, 5000), "10000,0", (0, 10000), (0.0, 15.0)),
        ((800, 1000), "500,500", (800, 1000), (0.8, 1.5)),
        ((3000, 5000), " 5000 , 3000 ", (3000, 5000), (3.0, 7.5)),
    ],
)
def test_on_connected_negotiates(
    client: tuple[int, int],
    server: str,
    negotiated: tuple[int, int],
    sleeps: tuple[float, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hb = make(client)
    hb.disconnecting = True
    hb.heartbeat_terminate_event.set()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        hb.on_connected(connected(server))
    assert hb.heartbeats == negotiated
    assert hb.running is True
    assert hb.disconnecting is False
    assert not hb.heartbeat_terminate_event.is_set()
    assert (hb.send_sleep, hb.receive_sleep) == pytest.approx(sleeps)
    # A stomp-ng transport starts them itself (its session negotiated the same way).
    assert calls(hb) == []
    assert f"heartbeats calculated {negotiated}" in caplog.messages


def test_on_connected_uses_the_receive_scale() -> None:
    hb = make((3000, 5000), heart_beat_receive_scale=2.0)
    hb.on_connected(connected("5000,3000"))
    assert (hb.send_sleep, hb.receive_sleep) == (3.0, 10.0)


@pytest.mark.parametrize(
    ("client", "server"),
    [((3000, 5000), "0,0"), ((0, 0), "5000,3000"), ((3000, 5000), "00,000")],
)
def test_on_connected_zero_result_starts_nothing(client: tuple[int, int], server: str) -> None:
    hb = make(client)
    hb.on_connected(connected(server))
    assert hb.heartbeats == (0, 0)
    assert hb.running is False
    assert calls(hb) == []


def test_on_connected_without_header_changes_nothing() -> None:
    hb = make((3000, 5000))
    hb.disconnecting = True
    hb.on_connected(connected(None))
    assert hb.heartbeats == (3000, 5000)
    assert hb.running is False
    assert hb.disconnecting is False
    assert calls(hb) == []


@pytest.mark.parametrize(
    "server", ["", "abc", "1000", "1000,2000,3000", "-1,1000", "1000,x", "1.5,2", ",", "²,1"]
)
def test_on_connected_malformed_header_is_a_warning(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    hb = make((3000, 5000))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        hb.on_connected(connected(server))
    assert hb.heartbeats == (0, 0)
    assert hb.running is False
    assert calls(hb) == []
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_next_connect_requests_the_original_pair() -> None:
    hb = make((3000, 5000))
    hb.on_send(Frame("CONNECT", {}))
    hb.on_connected(connected("6000,2000"))
    assert hb.heartbeats == (3000, 6000)  # the negotiated pair, as stomp.py [Q22]
    assert hb.receive_sleep == 9.0
    hb.on_disconnected()
    frame = Frame("STOMP", {})
    hb.on_send(frame)
    assert frame.headers["heart-beat"] == "3000,5000"
    assert hb.heartbeats == (3000, 5000)
    # Negotiation on the new connection starts from the original request too.
    hb.on_connected(connected("1000,1000"))
    assert hb.heartbeats == (3000, 5000)
    assert hb.receive_sleep == 7.5


def test_assigning_heartbeats_changes_the_next_request() -> None:
    hb = make((3000, 5000))
    hb.on_connected(connected("6000,2000"))
    hb.heartbeats = (1000, 0)
    frame = Frame("CONNECT", {})
    hb.on_send(frame)
    assert frame.headers["heart-beat"] == "1000,0"


def test_on_disconnected_does_not_touch_the_transport() -> None:
    hb = make((3000, 5000))
    hb.on_connected(connected("5000,3000"))
    assert hb.running is True
    hb.on_disconnected()
    assert hb.running is False
    assert hb.heartbeat_terminate_event.is_set()
    assert calls(hb) == []


def test_on_disconnecting_sets_the_flag() -> None:
    hb = make()
    hb.on_disconnecting()
    assert hb.disconnecting is True
    hb.on_connected(connected(None))
    assert hb.disconnecting is False
