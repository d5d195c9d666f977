"""CONNECT: version negotiation, the STOMP command, login, the CONNECTED headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from brokerhelpers import CONNECTIONS, WAIT, RawClient

from stomp.broker import Broker
from stomp.broker.handshake import HandshakeError, Settings, negotiate_version
from stomp.exception import ConnectFailedException


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_library_connection_negotiates_its_version(
    client: Callable[..., Any], version: str
) -> None:
    connection, collector = client(version)
    assert connection.is_connected()
    connection.subscribe("/queue/hello", id="1")
    connection.send("/queue/hello", f"hello {version}")
    (message,) = collector.wait_messages(1)
    assert message.body == f"hello {version}"


@pytest.mark.parametrize(
    ("accept_version", "expected"),
    [
        (None, None),  # no accept-version: STOMP 1.0, and 1.0's CONNECTED has no version
        ("1.0", None),
        ("1.1", "1.1"),
        ("1.2", "1.2"),
        ("1.0,1.1", "1.1"),
        ("1.0,1.1,1.2", "1.2"),
        ("1.1,2.0", "1.1"),
    ],
)
def test_highest_common_version_is_chosen(
    raw: Callable[..., RawClient], accept_version: str | None, expected: str | None
) -> None:
    peer = raw(connect=False)
    headers = {} if accept_version is None else {"accept-version": accept_version}
    peer.send("CONNECT", headers)
    connected = peer.receive()
    assert connected.cmd == "CONNECTED"
    assert connected.headers.get("version") == expected
    assert connected.headers["session"]
    assert connected.headers["server"].startswith("stomp-ng-broker/")
    assert ("heart-beat" in connected.headers) == (expected is not None)


@pytest.mark.parametrize("command", ["CONNECT", "STOMP"])
def test_connect_and_stomp_commands_are_accepted(
    raw: Callable[..., RawClient], command: str
) -> None:
    peer = raw(connect=False)
    assert peer.connect(command).headers["version"] == "1.2"
    assert peer.request("SUBSCRIBE", {"destination": "/queue/x", "id": "1"}).cmd == "RECEIPT"


def test_the_library_sends_stomp_or_connect(client: Callable[..., Any]) -> None:
    connection, _ = client("1.2")  # STOMP by default
    assert connection.is_connected()


def test_no_common_version_is_refused_with_the_supported_list(
    raw: Callable[..., RawClient],
) -> None:
    peer = raw(connect=False)
    peer.send("CONNECT", {"accept-version": "2.0,3.1", "host": "x"})
    error = peer.expect_error()
    assert error.headers["version"] == "1.0,1.1,1.2"
    assert "Supported protocol versions" in error.headers["message"]


def test_a_broker_limited_to_12_refuses_a_10_client(make_broker: Callable[..., Broker]) -> None:
    broker = make_broker(versions=("1.2",))
    connection = CONNECTIONS["1.0"]([broker.address], timeout=WAIT)
    with pytest.raises(ConnectFailedException):
        connection.connect(wait=True)
    connection.disconnect()
    peer = RawClient(broker.address, "1.2")
    try:
        peer.send("CONNECT", {"accept-version": "1.0,1.1", "host": "x"})
        assert peer.expect_error().headers["version"] == "1.2"
    finally:
        peer.close()


def test_negotiation_rules() -> None:
    supported = ("1.0", "1.1", "1.2")
    assert negotiate_version(None, supported) == "1.0"
    assert negotiate_version("1.2,1.0", supported) == "1.2"
    assert negotiate_version("1.0, 1.1", supported) == "1.1"  # spaces tolerated
    with pytest.raises(HandshakeError):
        negotiate_version("1.1", ("1.2",))
    with pytest.raises(HandshakeError):
        negotiate_version("", supported)


# -- login ------------------------------------------------------------------------------

SECRET = "s3cr3t-passc0de"


@pytest.fixture
def secured(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(login="app", passcode=SECRET)


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_right_credentials_connect(
    client: Callable[..., Any], secured: Broker, version: str
) -> None:
    connection, _ = client(version, target=secured, login="app", passcode=SECRET)
    assert connection.is_connected()


@pytest.mark.parametrize(
    ("login", "passcode"), [("app", "wrong"), ("other", SECRET), (None, None), ("app", None)]
)
def test_wrong_or_missing_credentials_are_refused(
    secured: Broker, login: str | None, passcode: str | None
) -> None:
    connection = CONNECTIONS["1.2"]([secured.address], timeout=WAIT)
    with pytest.raises(ConnectFailedException, match="Login failed"):
        connection.connect(login, passcode, wait=True)
    connection.disconnect()


def test_refused_login_gets_error_then_close(secured: Broker) -> None:
    peer = RawClient(secured.address, "1.1")
    try:
        peer.send("CONNECT", {"accept-version": "1.1", "login": "app", "passcode": "nope"})
        error = peer.expect_error()
        assert error.headers["message"] == "Login failed"
    finally:
        peer.close()


def test_passcode_never_logged(secured: Broker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="stomp.py")
    for passcode in (SECRET, SECRET + "-wrong"):
        peer = RawClient(secured.address, "1.2")
        try:
            peer.send("CONNECT", {"accept-version": "1.2", "login": "app", "passcode": passcode})
            if peer.receive().cmd == "CONNECTED":
                peer.send("DISCONNECT", {"receipt": "bye"})
            assert peer.wait_closed()
        finally:
            peer.close()
    assert "CONNECT" in caplog.text  # the frames were logged...
    assert SECRET not in caplog.text  # ...without the passcode
    assert SECRET not in repr(Settings(passcode=SECRET))


def test_credentials_are_ignored_without_a_configured_login(client: Callable[..., Any]) -> None:
    connection, _ = client("1.2", login="anyone", passcode="anything")
    assert connection.is_connected()
