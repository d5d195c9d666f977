"""STOMP over TLS against ActiveMQ's STOMP+SSL connectors, for STOMP 1.0, 1.1 and 1.2.

``scripts/brokers start`` makes a fresh test CA and, signed by it, the broker's
certificate (CN=localhost, for ``localhost``, ``127.0.0.1`` and ``::1``) and a client
certificate; also an unrelated CA and a client certificate that CA signed
(``brokerinfo.ACTIVEMQ_TLS``).  ActiveMQ listens for STOMP+SSL on

* 127.0.0.1:61624, which asks for a client certificate but accepts clients without one
  (``wantClientAuth``), and refuses one that does not chain to the test CA;
* 127.0.0.1:61625, which requires a client certificate signed by the test CA
  (``needClientAuth``).

STOMP itself does not show the client certificate to the client, so what the broker
"sees" is asserted through what it lets in and what it refuses.  Every wait is bounded.
"""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from connection_helpers import CONNECTIONS, TIMEOUT, Recorder, bodies, unique

from brokerinfo import ACTIVEMQ_SSL, ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED, Broker, TLSFiles
from stomp.exception import ConnectFailedException

VERSIONS = ("1.0", "1.1", "1.2")

#: How long a refused TLS connection may take to fail (the connect timeout is TIMEOUT).
REFUSAL_BOUND = 5.0


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def tls(activemq_tls_files: TLSFiles, activemq_ssl: tuple[str, int]) -> TLSFiles:
    """The TLS files, once ActiveMQ's STOMP+SSL listener is known to be up."""
    return activemq_tls_files


OpenTLS = Callable[..., tuple[Any, Recorder]]


@pytest.fixture
def open_tls(version: str, tls: TLSFiles) -> Iterator[OpenTLS]:
    """``open_tls(broker=ACTIVEMQ_SSL, connect=True, ssl_options=None, **connection_kwargs)``:
    a connection with ``set_ssl(for_hosts=[address], **ssl_options)`` (default: the test
    CA) and a recorder; disconnected (bounded) at teardown."""
    opened: list[Any] = []

    def open_(
        broker: Broker = ACTIVEMQ_SSL,
        *,
        connect: bool = True,
        ssl_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, Recorder]:
        options: dict[str, Any] = {"timeout": TIMEOUT}
        if version != "1.0":
            options["vhost"] = broker.vhost
        options.update(kwargs)
        conn = CONNECTIONS[version]([broker.address], **options)
        opened.append(conn)
        if ssl_options is None:
            ssl_options = {"ca_certs": tls.ca_certs}
        conn.set_ssl(for_hosts=[broker.address], **ssl_options)
        rec = Recorder()
        conn.set_listener("recorder", rec)
        if connect:
            conn.connect(broker.login, broker.passcode, wait=True)
        return conn, rec

    yield open_
    for conn in opened:
        try:
            conn.disconnect()
        finally:
            thread = conn.transport.io_thread
            if thread is not None and thread.is_alive():
                conn.transport.disconnect_socket()
                thread.join(TIMEOUT)


def _exchange(conn: Any, rec: Recorder, body: str = "über TLS ✓") -> None:
    """Subscribe, send ``body`` with a receipt, and check it comes back intact."""
    destination = unique()
    receipt = f"rcpt-{uuid.uuid4().hex}"
    conn.subscribe(destination, id="tls-sub", receipt=receipt)
    rec.wait_receipt(receipt)
    receipt = f"rcpt-{uuid.uuid4().hex}"
    conn.send(destination, body, headers={"x-tls": "ja ✓"}, receipt=receipt)
    rec.wait_receipt(receipt)
    (message,) = rec.wait_messages(1)
    assert message.body == body
    assert message.headers["x-tls"] == "ja ✓"


def _tls_socket(conn: Any) -> ssl.SSLSocket:
    sock = conn.transport.socket
    assert isinstance(sock, ssl.SSLSocket), f"not a TLS connection: {sock!r}"
    return sock


def _subject(cert: dict[str, Any]) -> dict[str, str]:
    return {key: value for rdn in cert["subject"] for key, value in rdn}


def _assert_closed_cleanly(conn: Any) -> None:
    conn.disconnect()
    assert not conn.is_connected()
    thread = conn.transport.io_thread
    if thread is not None:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the receiver thread outlived disconnect()"
    assert conn.transport.heartbeat_thread is None or not conn.transport.heartbeat_thread.is_alive()


# ------------------------------------------------------------------ connecting


def test_tls_with_the_test_ca(open_tls: OpenTLS, version: str) -> None:
    conn, rec = open_tls()
    assert conn.is_connected()
    sock = _tls_socket(conn)
    assert sock.version() in ("TLSv1.2", "TLSv1.3")
    peer = sock.getpeercert()
    assert _subject(peer)["commonName"] == "localhost"
    rec.wait(lambda: rec.connected, "on_connected")
    assert rec.connected[0].headers.get("version", "1.0") == version
    assert rec.connected[0].headers["server"].startswith("ActiveMQ/")
    _exchange(conn, rec)
    _assert_closed_cleanly(conn)


@pytest.mark.parametrize(
    "broker",
    [ACTIVEMQ_SSL, ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED],
    ids=["client-cert-optional", "client-cert-required"],
)
def test_tls_with_a_client_certificate(
    open_tls: OpenTLS,
    tls: TLSFiles,
    broker: Broker,
    request: pytest.FixtureRequest,
) -> None:
    if broker is ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED:
        request.getfixturevalue("activemq_ssl_client_cert_required")
    options = {"ca_certs": tls.ca_certs, "cert_file": tls.client_cert, "key_file": tls.client_key}
    conn, rec = open_tls(broker, ssl_options=options)
    assert conn.is_connected()
    assert conn.get_ssl()["cert_file"] == tls.client_cert
    _tls_socket(conn)
    _exchange(conn, rec)
    _assert_closed_cleanly(conn)


def _refused(conn: Any, broker: Broker) -> BaseException:
    """Connect, expecting the broker (or the client's own check) to refuse the TLS
    connection; return the exception, after checking nothing is left behind."""
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        conn.connect(broker.login, broker.passcode, wait=True)
    assert time.monotonic() - started < REFUSAL_BOUND
    assert not conn.is_connected()
    conn.disconnect()
    thread = conn.transport.io_thread
    if thread is not None:
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    return raised.value


def test_client_certificate_required_but_not_given(open_tls: OpenTLS, version: str) -> None:
    broker = ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED
    conn, rec = open_tls(broker, connect=False, reconnect_attempts_max=1)
    error = _refused(conn, broker)
    assert isinstance(error, ConnectFailedException), repr(error)
    assert not rec.connected


@pytest.mark.parametrize(
    "broker",
    [ACTIVEMQ_SSL, ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED],
    ids=["client-cert-optional", "client-cert-required"],
)
def test_untrusted_client_certificate_is_refused(
    open_tls: OpenTLS, tls: TLSFiles, broker: Broker
) -> None:
    # The broker checks the certificate it is given even where one is optional: one that
    # does not chain to the test CA is refused.
    options = {
        "ca_certs": tls.ca_certs,
        "cert_file": tls.other_client_cert,
        "key_file": tls.other_client_key,
    }
    conn, rec = open_tls(broker, connect=False, ssl_options=options, reconnect_attempts_max=1)
    error = _refused(conn, broker)
    assert isinstance(error, ConnectFailedException), repr(error)
    assert not rec.connected


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_refused_client_certificate_is_connect_failed(open_tls: OpenTLS, tls: TLSFiles) -> None:
    # The broker refuses a client certificate only after the client's side of a TLS 1.3
    # handshake has completed, so the refusal (an alert, then the close) races with the
    # client writing CONNECT: whichever wins, connect() raises ConnectFailedException.
    broker = ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED
    outcomes = []
    for _ in range(10):  # the race goes either way: try it several times
        conn, _rec = open_tls(broker, connect=False, reconnect_attempts_max=1)
        outcomes.append(type(_refused(conn, broker)).__name__)
    assert set(outcomes) == {"ConnectFailedException"}, outcomes


def test_wrong_ca_is_rejected(open_tls: OpenTLS, tls: TLSFiles) -> None:
    conn, rec = open_tls(
        connect=False, ssl_options={"ca_certs": tls.other_ca_certs}, reconnect_attempts_max=1
    )
    error = _refused(conn, ACTIVEMQ_SSL)
    assert isinstance(error, ConnectFailedException), repr(error)
    assert "certificate verify failed" in str(error)
    assert not rec.connected
    assert not any(frame.cmd in ("CONNECT", "STOMP") for frame in rec.sent), (
        "CONNECT (with the passcode) was sent to an unverified broker"
    )


def test_system_cas_do_not_trust_the_test_broker(open_tls: OpenTLS) -> None:
    # ca_certs=None verifies against the system's CAs, which never signed the test CA.
    conn, _rec = open_tls(connect=False, ssl_options={}, reconnect_attempts_max=1)
    error = _refused(conn, ACTIVEMQ_SSL)
    assert isinstance(error, ConnectFailedException), repr(error)


def test_verify_false_accepts_any_certificate(open_tls: OpenTLS) -> None:
    conn, rec = open_tls(ssl_options={"verify": False})
    assert conn.is_connected()
    assert _tls_socket(conn).getpeercert(binary_form=True)
    _exchange(conn, rec)
    _assert_closed_cleanly(conn)


def test_a_ready_ssl_context(open_tls: OpenTLS, tls: TLSFiles) -> None:
    context = ssl.create_default_context(cafile=tls.ca_certs)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.client_cert, tls.client_key)
    seen: list[str] = []

    def validator(cert: Any, host: str) -> tuple[bool, Any]:
        seen.append(host)
        return (_subject(cert)["commonName"] == "localhost", "unexpected broker")

    conn, rec = open_tls(
        ACTIVEMQ_SSL_CLIENT_CERT_REQUIRED,
        ssl_options={"ssl_context": context, "cert_validator": validator},
    )
    assert conn.is_connected()
    assert seen == ["127.0.0.1"]
    assert _tls_socket(conn).context is context
    _exchange(conn, rec)
    _assert_closed_cleanly(conn)


def test_cert_validator_rejects(open_tls: OpenTLS, tls: TLSFiles) -> None:
    def validator(cert: Any, host: str) -> tuple[bool, Any]:
        return (False, "not the broker I wanted")

    options = {"ca_certs": tls.ca_certs, "cert_validator": validator}
    conn, rec = open_tls(connect=False, ssl_options=options, reconnect_attempts_max=1)
    error = _refused(conn, ACTIVEMQ_SSL)
    assert isinstance(error, ConnectFailedException), repr(error)
    assert "not the broker I wanted" in str(error)
    assert not rec.sent


# ------------------------------------------------------------------ heart-beats over TLS


@pytest.mark.parametrize("version", ["1.1", "1.2"], indirect=True)
def test_heartbeats_over_tls(open_tls: OpenTLS) -> None:
    conn, rec = open_tls(heartbeats=(1000, 1000))
    rec.wait(lambda: rec.connected, "on_connected")
    assert rec.connected[0].headers["heart-beat"] == "1000,1000"
    assert conn.heartbeats == (1000, 1000)
    heartbeat_thread = conn.heartbeat_thread
    assert heartbeat_thread is not None and heartbeat_thread.is_alive()

    # Time passing is the point: about four intervals of idle connection.
    assert not rec.happens(lambda: rec.disconnects, within=4.0), (
        f"the idle TLS connection dropped: {rec.summary()}"
    )
    assert conn.is_connected()
    assert rec.heartbeat_timeouts == 0
    assert rec.heartbeats >= 2
    assert sum(frame.cmd is None for frame in rec.sent) >= 2

    _exchange(conn, rec, "still alive over TLS")
    _assert_closed_cleanly(conn)
    heartbeat_thread.join(TIMEOUT)
    assert not heartbeat_thread.is_alive()


@pytest.mark.parametrize("version", ["1.2"], indirect=True)
def test_concurrent_senders_over_tls(open_tls: OpenTLS) -> None:
    # Writes from several threads while the receiver thread reads: the TLS object is not
    # thread-safe, frames must neither be lost nor interleaved.
    conn, rec = open_tls(auto_decode=False)
    destination = unique()
    receipt = f"rcpt-{uuid.uuid4().hex}"
    conn.subscribe(destination, id="tls-sub", receipt=receipt)
    rec.wait_receipt(receipt)
    threads_count, per_thread = 4, 25

    def send_all(n: int) -> None:
        for i in range(per_thread):
            conn.send(destination, bytes([n]) * 4096, headers={"x-from": f"{n}-{i}"})

    threads = [threading.Thread(target=send_all, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    messages = rec.wait_messages(threads_count * per_thread)
    for message in messages:
        sender = int(message.headers["x-from"].split("-")[0])
        assert message.body == bytes([sender]) * 4096
    assert len({m.headers["x-from"] for m in messages}) == threads_count * per_thread
    assert len(bodies(messages)) == threads_count * per_thread
