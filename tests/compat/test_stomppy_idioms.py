"""What a stomp.py user's own test suite does, run against stomp-ng.

stomp.py's tests, and the test helpers of projects built on it, star-import
``stomp.utils`` and ``stomp.listener`` and then use what those modules imported (``re``,
``os``, ``socket``, ``threading``), wrap connection methods with ``mocker.patch.object(...,
wraps=...)``, reload ``stomp.utils`` and ``stomp.transport`` under patched environments,
drive ``HeartbeatListener`` with a test double, read listener counters and private state.
This module does the same (its own imports are the first check), against a scripted
loopback broker.  The same idioms against RabbitMQ and ActiveMQ are in
tests/integration/test_drop_in.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any
from unittest import mock

import pytest
from support.fakebroker import FakeBroker, wait_until

import stomp
from stomp.listener import *  # noqa: F403  (as stomp.py's tests do)
from stomp.utils import *  # noqa: F403

# Names these star imports must provide, used below as a stomp.py test helper uses them.
HEADER_RE = re.compile(r"[^:]+:.*")  # noqa: F405
WAIT = 5.0


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (reloads and monkey-patched modules stay there)
    and return what it printed; fail with its output if it fails."""
    environment = {**os.environ, **env}  # noqa: F405
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# ---------------------------------------------------------------------------------------
# Star imports
# ---------------------------------------------------------------------------------------


def test_star_imports_hand_on_the_modules_stomppy_imports() -> None:
    assert HEADER_RE.match("a:b")
    assert os.environ is not None  # noqa: F405
    assert socket.AF_INET and threading.Lock  # noqa: F405
    assert Frame is stomp.utils.Frame and TestListener is stomp.listener.TestListener  # noqa: F405
    assert HDR_ID == "id" and CMD_NACK == "NACK"  # noqa: F405


def test_star_imports_do_not_cost_import_stomp_its_lazy_imports() -> None:
    out = run_python(
        """
        import sys
        import stomp, stomp.connect, stomp.transport, stomp.utils, stomp.protocol
        print(sorted(m for m in ("ssl", "uuid") if m in sys.modules))
        from stomp.transport import *
        print(sorted(m for m in ("ssl", "uuid") if m in sys.modules))
        print(DEFAULT_SSL_VERSION is ssl.PROTOCOL_TLS_CLIENT, SSLError is ssl.SSLError)
        print(LOCALHOST_NAMES is stomp.utils.LOCALHOST_NAMES, uuid.uuid4() is not None)
        """,
        STOMP_SKIP_HOSTNAME_SCAN="1",
    )
    assert out.split("\n")[:4] == ["[]", "['ssl', 'uuid']", "True True", "True True"]


# ---------------------------------------------------------------------------------------
# stomp.utils
# ---------------------------------------------------------------------------------------


def test_calculate_heartbeats_takes_any_iterable() -> None:
    chb = (3000, 5000)
    assert calculate_heartbeats(map(str, reversed(chb)), chb) == (3000, 5000)  # noqa: F405
    assert calculate_heartbeats(("6000", "2000"), chb) == (3000, 6000)  # noqa: F405
    assert calculate_heartbeats(("0", "0"), chb) == (0, 0)  # noqa: F405
    assert calculate_heartbeats(("10000", "0"), chb) == (0, 10000)  # noqa: F405
    assert calculate_heartbeats(("10000", "0"), (0, 0)) == (0, 0)  # noqa: F405
    assert calculate_heartbeats((s for s in "59"), iter([1, 1])) == (9, 5)  # noqa: F405
    with pytest.raises(ValueError):
        calculate_heartbeats(["1", "2", "3"], chb)  # noqa: F405


def test_reloading_utils_with_skip_hostname_scan_gives_two_names() -> None:
    out = run_python(
        """
        import importlib, os
        import stomp, stomp.utils
        scanned = list(stomp.utils.LOCALHOST_NAMES)   # the scan, before the variable is set
        os.environ["STOMP_SKIP_HOSTNAME_SCAN"] = "true"
        importlib.reload(stomp.utils)
        print(stomp.utils.LOCALHOST_NAMES)
        del os.environ["STOMP_SKIP_HOSTNAME_SCAN"]
        importlib.reload(stomp.utils)
        print(stomp.utils.LOCALHOST_NAMES == scanned)
        """
    )
    assert out.split("\n")[:2] == ["['localhost', '127.0.0.1']", "True"]


# ---------------------------------------------------------------------------------------
# stomp.transport and stomp.connect reloaded under patched ssl / socket modules
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["stomp.transport", "stomp.connect"])
def test_reload_without_protocol_tls_client_gives_no_default_ssl_version(module: str) -> None:
    out = run_python(
        f"""
        import importlib, ssl
        import stomp
        import {module} as t
        print(t.DEFAULT_SSL_VERSION == ssl.PROTOCOL_TLS_CLIENT)  # resolved before the patch
        saved = ssl.PROTOCOL_TLS_CLIENT
        del ssl.PROTOCOL_TLS_CLIENT
        importlib.reload(t)
        print(t.DEFAULT_SSL_VERSION)
        ssl.PROTOCOL_TLS_CLIENT = saved
        importlib.reload(t)
        print(t.DEFAULT_SSL_VERSION is ssl.PROTOCOL_TLS_CLIENT)
        """
    )
    assert out.split("\n")[:3] == ["True", "None", "True"]


def test_reload_without_keepalive_options_gives_no_linux_keepalive() -> None:
    out = run_python(
        """
        import importlib, socket
        import stomp.transport as t
        print(t.LINUX_KEEPALIVE_AVAIL)
        saved = socket.SOL_TCP, socket.SO_KEEPALIVE
        del socket.SOL_TCP, socket.SO_KEEPALIVE
        importlib.reload(t)
        print(t.LINUX_KEEPALIVE_AVAIL, t.MAC_KEEPALIVE_AVAIL)
        socket.SOL_TCP, socket.SO_KEEPALIVE = saved
        importlib.reload(t)
        print(t.LINUX_KEEPALIVE_AVAIL)
        """
    )
    assert out.split("\n")[:3] == ["True", "False False", "True"]


def test_connections_still_work_after_the_reloads(tmp_path: Any) -> None:
    # What a test suite that reloaded modules does next: connect, send and receive (here
    # against the embedded broker, in the same fresh interpreter).
    out = run_python(
        """
        import importlib, os, ssl
        import stomp, stomp.utils, stomp.transport
        from stomp.broker import Broker
        from stomp.listener import TestListener
        os.environ["STOMP_SKIP_HOSTNAME_SCAN"] = "1"
        importlib.reload(stomp.utils)
        importlib.reload(stomp.transport)
        with Broker("127.0.0.1", 0) as broker:
            conn = stomp.Connection12([broker.address], keepalive=True)
            listener = TestListener("r1", print_to_log=True)
            conn.set_listener("t", listener)
            conn.connect(wait=True)
            conn.subscribe("/queue/reloaded", 1)
            conn.send("/queue/reloaded", "still here", receipt="r1")
            print(listener.wait_on_receipt(5), listener.wait_for_message(5))
            print(listener.get_latest_message()[1])
            conn.disconnect()
        """
    )
    assert out.split("\n")[:2] == ["True True", "still here"]


# ---------------------------------------------------------------------------------------
# TLS settings: get_ssl() and _Transport__ssl_params
# ---------------------------------------------------------------------------------------


def test_get_ssl_without_argument_after_a_tls_connection(
    make_broker: Any, make_conn: Any, server_tls: Any, ca_file: str
) -> None:
    broker = make_broker(tls_context=server_tls)
    conn = make_conn(broker, "1.2")
    assert conn.get_ssl() is None  # never connected: no host
    conn.set_ssl([broker.address], ca_certs=ca_file)
    listener = TestListener("123", print_to_log=True)  # noqa: F405
    conn.set_listener("testlistener", listener)
    conn.connect(wait=True)
    settings = conn.get_ssl()
    assert settings is not None and settings["ca_certs"] == ca_file
    assert settings is conn.transport._Transport__ssl_params[broker.address]
    assert {"key_file", "cert_file", "ca_certs", "cert_validator", "ssl_version", "password"} <= set(settings)  # fmt: skip
    conn.disconnect(receipt=None)
    assert conn.get_ssl() is settings  # the host connected to last
    assert conn.transport.socket is None
    assert listener.connections == 1 and listener.errors == 0


def test_get_ssl_is_none_for_a_plain_connection(broker: Any, make_conn: Any) -> None:
    conn = make_conn(broker, "1.1")
    conn.connect(wait=True)
    assert conn.get_ssl() is None
    conn.disconnect()
    assert conn.get_ssl() is None


# ---------------------------------------------------------------------------------------
# HeartbeatListener driven directly, with a test double as transport
# ---------------------------------------------------------------------------------------


def test_heartbeat_listener_on_a_magicmock_transport(mocker: Any) -> None:
    transport = mocker.MagicMock()
    hl = HeartbeatListener(transport, (10000, 20000))  # noqa: F405
    assert hl.received_heartbeat is None
    hl.on_connected(Frame("CONNECTED", {"heart-beat": "10000,20000"}, ""))  # noqa: F405
    hl.on_message(Frame("MESSAGE", {}, "x"))  # noqa: F405
    assert hl.received_heartbeat > 0
    assert hl.heartbeats == (20000, 20000)
    assert hl.send_sleep == 20.0 and hl.receive_sleep == 30.0
    thread = hl.heartbeat_thread
    assert thread is not None and thread.is_alive()
    hl.on_disconnected()
    assert not thread.is_alive()
    assert hl.heartbeat_thread is None and hl.running is False
    assert hl.heartbeat_terminate_event.is_set()


class DoubleTransport:
    """A transport double that records what the heart-beat listener does to it."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.listeners: dict[str, Any] = {}
        self.connected = True

    def is_connected(self) -> bool:
        return self.connected

    def transmit(self, frame: Any) -> None:
        self.calls.append(("transmit", frame.cmd, frame.headers, frame.body))

    def set_connected(self, connected: bool) -> None:
        self.calls.append(("set_connected", connected))
        self.connected = connected

    def disconnect_socket(self) -> None:
        self.calls.append(("disconnect_socket",))

    def stop(self) -> None:
        self.calls.append(("stop",))


def test_heartbeat_listener_runs_stomppy_heartbeats_on_a_double() -> None:
    transport = DoubleTransport()
    hl = HeartbeatListener(transport, (50, 100), heart_beat_receive_scale=1.0)  # noqa: F405
    timeouts: list[str] = []

    class Timeouts(ConnectionListener):  # noqa: F405
        def on_heartbeat_timeout(self) -> None:
            timeouts.append("timeout")

    transport.listeners = {"b": Timeouts(), "a": object(), "hb": hl}
    hl.on_connected(Frame("CONNECTED", {"heart-beat": "100,50"}, ""))  # noqa: F405
    assert (hl.send_sleep, hl.receive_sleep) == (0.05, 0.1)
    # It sends heart-beats through transmit() while the broker is heard from ...
    for _ in range(4):
        assert wait_until(lambda: len(transport.calls) >= 1, WAIT)
        hl.on_heartbeat()
    assert ("transmit", None, {}, None) in transport.calls
    # ... and once it is not, it closes the transport as stomp.py does.
    assert wait_until(lambda: timeouts, WAIT)
    assert [c for c in transport.calls if c[0] != "transmit"] == [
        ("set_connected", False),
        ("disconnect_socket",),
        ("stop",),
    ]
    assert wait_until(lambda: hl.heartbeat_thread is None, WAIT)
    hl.on_disconnected()


def test_heartbeat_listener_stomppy_private_methods() -> None:
    transport = DoubleTransport()
    hl = HeartbeatListener(transport, (0, 1000))  # noqa: F405
    hl._HeartbeatListener__update_heartbeat()  # type: ignore[attr-defined]
    assert hl.received_heartbeat is None  # nothing negotiated yet
    hl._HeartbeatListener__heartbeat_loop()  # type: ignore[attr-defined]  # nothing to run
    hl.on_connected(Frame("CONNECTED", {"heart-beat": "1000,0"}, ""))  # noqa: F405
    grace = hl.received_heartbeat
    hl._HeartbeatListener__update_heartbeat()  # type: ignore[attr-defined]
    assert hl.received_heartbeat == grace  # the grace for the first beat is kept
    hl.on_disconnected()


# ---------------------------------------------------------------------------------------
# send_frame as a wrapped method sees it: escaped values in the caller's dict
# ---------------------------------------------------------------------------------------


def _client_ack_message(broker: FakeBroker, conn: Any, ack_id: str) -> Any:
    listener = TestListener("123", print_to_log=True)  # noqa: F405
    conn.set_listener("testlistener", listener)
    conn.connect(wait=True)
    conn.subscribe(destination="/queue/nack", id=1, ack="client-individual")
    broker.last.send_message(
        destination="/queue/nack", subscription="1", headers={"ack": ack_id, "message-id": ack_id}
    )
    assert listener.wait_for_message(WAIT)
    return listener


def test_wrapped_send_frame_sees_the_nack_headers_escaped(
    broker: FakeBroker, make_conn: Any, mocker: Any
) -> None:
    conn = make_conn(broker, "1.2")
    ack_id = "ID:vm-1234-1:1:1:1:7"
    listener = _client_ack_message(broker, conn, ack_id)
    headers, _ = listener.get_latest_message()
    assert headers["ack"] == ack_id
    wrapped_send_frame = mocker.patch.object(conn, "send_frame", wraps=conn.send_frame)
    conn.nack(headers["ack"], requeue="false")
    expected_headers = {HDR_ID: ack_id.replace(":", "\\c"), "requeue": "false"}  # noqa: F405
    wrapped_send_frame.assert_called_with(CMD_NACK, expected_headers)  # noqa: F405
    # On the wire the id is escaped once, and the broker reads back the original.
    nack = broker.last.wait_for_frame("NACK")
    assert nack.headers == {"id": ack_id, "requeue": "false"}
    assert b"id:ID\\cvm-1234-1\\c1\\c1\\c1\\c7\n" in broker.last.raw_frames()[-1]


def test_wrapped_send_frame_on_1_1(broker: FakeBroker, make_conn: Any, mocker: Any) -> None:
    conn = make_conn(broker, "1.1")
    _client_ack_message(broker, conn, "ID:a:1")
    wrapped = mocker.patch.object(conn, "send_frame", wraps=conn.send_frame)
    conn.ack("ID:a:1", "1", receipt="r:1")
    conn.send("/queue/a:b", "body")
    assert wrapped.call_args_list == [
        mock.call("ACK", {"message-id": "ID\\ca\\c1", "subscription": "1", "receipt": "r\\c1"}),
        mock.call("SEND", {"destination": "/queue/a\\cb", "content-length": 4}, "body"),
    ]
    ack = broker.last.wait_for_frame("ACK")
    assert ack.headers["message-id"] == "ID:a:1" and ack.headers["receipt"] == "r:1"


def test_send_frame_escapes_the_callers_dict_but_sends_and_shows_the_values_once(
    broker: FakeBroker, make_conn: Any
) -> None:
    conn = make_conn(broker, "1.2")
    sent: list[dict[str, Any]] = []

    class Recorder(ConnectionListener):  # noqa: F405
        def on_send(self, frame: Any) -> None:
            sent.append(dict(frame.headers))

    conn.set_listener("recorder", Recorder())
    conn.connect(wait=True)
    headers = {"destination": "/queue/x", "h": "a:b\\c\nd\re", "n": 7}
    conn.send_frame("SEND", headers, "body")
    assert headers == {"destination": "/queue/x", "h": "a\\cb\\\\c\\nd\\re", "n": 7}
    assert sent[-1] == {"destination": "/queue/x", "h": "a:b\\c\nd\re", "n": 7}
    frame = broker.last.wait_for_frame("SEND")
    assert frame.headers["h"] == "a:b\\c\nd\re"
    # CONNECT/STOMP headers are never escaped, in the dict or on the wire.
    connect_headers = {"login": "a:b"}
    conn.send_frame("CONNECT", connect_headers)
    assert connect_headers == {"login": "a:b"}


def test_a_subclass_overriding_send_frame_sees_every_frame(broker: FakeBroker) -> None:
    seen: list[tuple[Any, ...]] = []

    class Recording(stomp.Connection12):
        def send_frame(self, cmd: str, headers: Any = None, body: Any = "") -> None:
            seen.append((cmd, dict(headers or {})))
            super().send_frame(cmd, headers, body)

    conn = Recording([broker.address], timeout=2)
    try:
        conn.connect(wait=True)
        conn.subscribe("/queue/s", "1", ack="client")
        conn.send("/queue/s", "x")
        conn.ack("m:1")
        conn.begin("t1")
        conn.commit("t1")
        conn.unsubscribe("1")
        conn.disconnect()
    finally:
        conn.transport.disconnect_socket()
    commands = [cmd for cmd, _ in seen]
    assert commands == [
        "STOMP", "SUBSCRIBE", "SEND", "ACK", "BEGIN", "COMMIT", "UNSUBSCRIBE", "DISCONNECT",
    ]  # fmt: skip
    assert seen[3][1] == {"id": "m:1"}


def test_a_transport_overriding_process_frame_sees_every_frame(broker: FakeBroker) -> None:
    seen: list[Any] = []

    class Recording(stomp.transport.Transport):
        def process_frame(self, f: Any, frame_str: Any) -> None:  # stomp.py's signature
            seen.append((f.cmd, frame_str))
            super().process_frame(f, frame_str)

    conn = stomp.Connection12([broker.address], timeout=2)
    conn.transport = Recording([broker.address], timeout=2)
    conn.transport.set_listener("protocol-listener", conn)
    listener = TestListener("r", print_to_log=True)  # noqa: F405
    conn.set_listener("t", listener)
    try:
        conn.connect(wait=True)
        conn.subscribe("/queue/p", "1")
        broker.last.send_message(destination="/queue/p", body="hi")
        conn.send("/queue/p", "x", receipt="r")
        assert listener.wait_on_receipt(WAIT) and listener.wait_for_message(WAIT)
        conn.disconnect()
    finally:
        conn.transport.disconnect_socket()
    assert seen[:3] == [("CONNECTED", None), ("MESSAGE", None), ("RECEIPT", None)]
    assert listener.messages == 1


def test_a_wrapped_notify_sees_every_event(broker: FakeBroker, make_conn: Any, mocker: Any) -> None:
    # stomp.py's notify() is the one dispatch point: wrapping it shows every event.
    conn = make_conn(broker, "1.1")
    notify = mocker.patch.object(conn.transport, "notify", wraps=conn.transport.notify)
    listener = TestListener("r", print_to_log=True)  # noqa: F405
    conn.set_listener("t", listener)
    conn.connect(wait=True)
    conn.subscribe("/queue/n", "1")
    broker.last.send_message(destination="/queue/n", body="hi")
    assert listener.wait_for_message(WAIT)
    broker.last.send_raw(b"\n")  # read on its own: a heart-beat
    assert listener.wait_for_heartbeat(WAIT)
    conn.send("/queue/n", "x", receipt="r")
    assert listener.wait_on_receipt(WAIT)
    conn.disconnect()
    kinds = [c.args[0] for c in notify.call_args_list]
    assert kinds[:2] == ["connecting", "connected"]
    assert kinds.index("before_message") + 1 == kinds.index("message")
    assert {"heartbeat", "receipt", "disconnected"} <= set(kinds)


def test_a_mock_transport_records_the_frame_sent(mocker: Any) -> None:
    conn = stomp.Connection12([("127.0.0.1", 61613)], auto_content_length=False)
    conn.transport = mocker.Mock()
    conn.send(body="test", destination="/queue/x", receipt="123")
    args, _ = conn.transport.transmit.call_args
    frame = args[0]
    assert frame.cmd == "SEND" and "content-length" not in frame.headers
    assert frame.headers == {"destination": "/queue/x", "receipt": "123"}


# ---------------------------------------------------------------------------------------
# The stub-server parsing scenario of stomp.py's tests
# ---------------------------------------------------------------------------------------


def test_frames_and_heartbeats_from_a_stub_server(make_broker: Any, make_conn: Any) -> None:
    # A server that writes CONNECTED with EOLs after it, then a MESSAGE with only a
    # content-type header, heart-beats, the same message byte by byte, and one with a
    # content-length and NULs in its body.  Each write waits until the client has read
    # the one before (the listener saw it), so reads are as the comments say.
    broker = make_broker(connect_reply="silent")
    conn = make_conn(broker, "1.1")
    listener = TestListener(print_to_log=True)  # noqa: F405
    conn.set_listener("", listener)
    conn.connect()
    server = broker.wait_for_connection()
    server.wait_for_frame("STOMP")
    connected = "CONNECTED\nversion:1.1\nsession:1\nserver:test\nheart-beat:1000,1000\n\n\0"
    server.send_raw((connected + "\n\n\n").encode())
    assert wait_until(conn.is_connected, WAIT)
    assert listener.heartbeat_count == 0  # EOLs read with the frame are its padding

    body = "Hello\n...world!"
    message = f"MESSAGE\ncontent-type:text/plain\n\n{body}\0"
    server.send_raw(message.encode())
    assert listener.wait_for_message(WAIT)
    server.send_raw(b"\n")  # a heart-beat of its own
    assert listener.wait_for_heartbeat(WAIT)
    assert listener.heartbeat_count == 1
    assert listener.get_latest_message() == ({"content-type": "text/plain"}, body)

    server.send_raw(b"\n")
    assert listener.wait_for_heartbeat(WAIT)
    for byte in message.encode():
        server.send_raw(bytes([byte]))
    assert listener.wait_for_message(WAIT)
    server.send_raw(b"\n")
    assert listener.wait_for_heartbeat(WAIT)
    assert listener.heartbeat_count == 3
    assert listener.get_latest_message() == ({"content-type": "text/plain"}, body)

    body = f"{body}\0\0{body}"
    message = f"MESSAGE\ncontent-type:text/plain\ncontent-length:{len(body)}\n\n{body}\0"
    for byte in message.encode():
        server.send_raw(bytes([byte]))
    assert listener.wait_for_message(WAIT)
    headers, received = listener.get_latest_message()
    assert headers == {"content-type": "text/plain", "content-length": str(len(body))}
    assert received == body
    assert listener.messages == 3 and listener.errors == 0


# ---------------------------------------------------------------------------------------
# Heart-beat timeout provoked by shortening receive_sleep at run time
# ---------------------------------------------------------------------------------------


def test_shortening_receive_sleep_provokes_a_heartbeat_timeout(
    make_broker: Any, make_conn: Any
) -> None:
    broker = make_broker(heartbeat="100,0")  # the server beats every 100 ms
    conn = make_conn(broker, "1.2", heartbeats=(0, 100))
    listener = TestListener("123", print_to_log=True)  # noqa: F405

    class TimeoutListener(ConnectionListener):  # noqa: F405
        def __init__(self, protocol_listener: Any) -> None:
            self.protocol_listener = protocol_listener
            self.num = 3

        def on_heartbeat(self) -> None:
            self.num -= 1
            if self.num == 0:
                self.protocol_listener.receive_sleep = self.protocol_listener.receive_sleep / 2.0

    conn.set_listener("testlistener", listener)
    conn.set_listener("timeout", TimeoutListener(conn.get_listener("protocol-listener")))
    conn.connect(wait=True)
    assert conn.receive_sleep == pytest.approx(0.15)
    assert listener.wait_on_disconnected(WAIT)
    assert wait_until(lambda: listener.heartbeat_timeouts >= 1, WAIT)
    assert conn.transport.socket is None
    # stomp.py's users reconnect the same connection object.
    conn.connect(wait=True)
    assert listener.connections == 2
    conn.disconnect()
