"""TLS against the fake broker: verification, ready contexts, validators, client
certificates, failures that must end (bounded) in ConnectFailedException, get_ssl."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from support.fakebroker import EventLog, library_threads, wait_until

from stomp import utils
from stomp.exception import ConnectFailedException

trustme = pytest.importorskip("trustme")


@pytest.fixture
def tls_broker(make_broker: Any, server_tls: ssl.SSLContext) -> Any:
    return make_broker(tls_context=server_tls)


def _roundtrip(conn: Any, broker: Any) -> None:
    """Connect, exchange a frame each way, disconnect."""
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = broker.last
    assert server.handshake_done.is_set()
    conn.send("/queue/a", "over tls")
    assert server.wait_for_frame("SEND").body == b"over tls"
    server.send_message(body="back")
    assert log.wait_for("message").body == "back"
    conn.disconnect()
    assert server.wait_peer_closed()
    assert library_threads() == []


def test_ca_certs_and_verify(make_conn: Any, tls_broker: Any, ca_file: str) -> None:
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ca_certs=ca_file)
    _roundtrip(conn, tls_broker)


def test_verify_false_needs_no_ca(make_conn: Any, tls_broker: Any) -> None:
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], verify=False)
    _roundtrip(conn, tls_broker)


def test_ready_ssl_context(make_conn: Any, tls_broker: Any, ca: Any) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ssl_context=context)
    _roundtrip(conn, tls_broker)


def test_ready_ssl_context_still_runs_the_validator(
    make_conn: Any, tls_broker: Any, ca: Any
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    seen: list[Any] = []

    def validator(cert: Any, host: str) -> tuple[bool, Any]:
        seen.append((cert, host))
        return True, None

    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ssl_context=context, cert_validator=validator)
    conn.connect(wait=True)
    cert, host = seen[0]
    assert host == "127.0.0.1"
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]


def test_no_tls_for_hosts_not_listed(make_conn: Any, broker: Any, ca_file: str) -> None:
    conn = make_conn(broker)
    conn.set_ssl([("127.0.0.1", 1)], ca_certs=ca_file)
    conn.connect(wait=True)
    assert conn.get_ssl() is None
    assert conn.is_connected()


def _fails_bounded(conn: Any, caplog: pytest.LogCaptureFixture, match: str) -> None:
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="stomp.py"), pytest.raises(ConnectFailedException):
        conn.connect(wait=True)
    assert time.monotonic() - start < 5
    assert match in caplog.text
    assert not conn.is_connected()
    assert wait_until(lambda: not library_threads(), 2)


def test_unknown_ca_fails(
    make_conn: Any,
    tls_broker: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ca_certs=str(other))
    _fails_bounded(conn, caplog, "CERTIFICATE_VERIFY_FAILED")
    assert len(tls_broker.connections) == 3  # three attempts, then it gives up


def test_default_verification_uses_the_system_store(
    make_conn: Any, tls_broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # No ca_certs: the test CA is not in the system store, so verification fails (Q18).
    conn = make_conn(tls_broker, reconnect_attempts_max=1)
    conn.set_ssl([tls_broker.address])
    _fails_bounded(conn, caplog, "CERTIFICATE_VERIFY_FAILED")


def test_host_name_mismatch_fails(
    make_conn: Any, make_broker: Any, ca: Any, ca_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("broker.example").configure_cert(context)
    broker = make_broker(tls_context=context)
    conn = make_conn(broker, reconnect_attempts_max=1)
    conn.set_ssl([broker.address], ca_certs=ca_file)
    _fails_bounded(conn, caplog, "IP address mismatch")


def test_rejecting_validator_fails(
    make_conn: Any, tls_broker: Any, ca_file: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def validator(cert: Any, host: str) -> tuple[bool, Any]:
        calls.append(host)
        return False, "not my broker"

    conn = make_conn(tls_broker, reconnect_attempts_max=2)
    conn.set_ssl([tls_broker.address], ca_certs=ca_file, cert_validator=validator)
    _fails_bounded(conn, caplog, "Server certificate validation failed: not my broker")
    assert calls == ["127.0.0.1", "127.0.0.1"]


@pytest.mark.parametrize("which", ["cert_file", "key_file", "ca_certs"])
def test_missing_file_fails_instead_of_looping(
    make_conn: Any,
    tls_broker: Any,
    ca: Any,
    ca_file: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    which: str,
) -> None:
    client = ca.issue_cert("client")
    cert = tmp_path / "client.pem"
    client.cert_chain_pems[0].write_to_path(str(cert))
    key = tmp_path / "client.key"
    client.private_key_pem.write_to_path(str(key))
    files = {"cert_file": str(cert), "key_file": str(key), "ca_certs": ca_file}
    files[which] = str(tmp_path / "missing.pem")
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], **files)
    _fails_bounded(conn, caplog, "missing.pem")


def test_client_certificate(
    make_conn: Any, make_broker: Any, ca: Any, ca_file: str, tmp_path: Path
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    broker = make_broker(tls_context=context)
    client = ca.issue_cert("client@example")
    key = tmp_path / "client.key"
    client.private_key_pem.write_to_path(str(key))
    cert = tmp_path / "client.pem"
    client.cert_chain_pems[0].write_to_path(str(cert))
    conn = make_conn(broker)
    conn.set_ssl([broker.address], key_file=str(key), cert_file=str(cert), ca_certs=ca_file)
    _roundtrip(conn, broker)


def test_client_certificate_in_one_file(
    make_conn: Any, make_broker: Any, ca: Any, ca_file: str, tmp_path: Path
) -> None:
    # cert_file without key_file: the key is read from the certificate file.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    broker = make_broker(tls_context=context)
    both = tmp_path / "client-both.pem"
    ca.issue_cert("client@example").private_key_and_cert_chain_pem.write_to_path(str(both))
    conn = make_conn(broker)
    conn.set_ssl([broker.address], cert_file=str(both), ca_certs=ca_file)
    _roundtrip(conn, broker)


def test_get_ssl(make_conn: Any, tls_broker: Any, ca_file: str) -> None:
    conn = make_conn(tls_broker)
    assert conn.get_ssl() is None
    assert conn.get_ssl(tls_broker.address) is None
    conn.set_ssl([tls_broker.address], ca_certs=ca_file)
    params = conn.get_ssl(tls_broker.address)
    assert params["ca_certs"] == ca_file
    assert params["verify"] is True
    assert params["ssl_version"] == ssl.PROTOCOL_TLS_CLIENT
    assert {"key_file", "cert_file", "cert_validator", "password"} <= set(params)
    assert conn.get_ssl() is None  # not connected yet
    conn.connect(wait=True)
    assert conn.get_ssl() == params
    assert conn.get_ssl(("127.0.0.1", 1)) is None


def test_loopback_entry_inherits_tls(
    make_conn: Any, make_broker: Any, ca: Any, ca_file: str
) -> None:
    # The machine's own name makes the transport try ("127.0.0.1", port) first; that entry
    # must use the TLS settings of the named one (stomp.py tries it in clear text, Q19),
    # and the certificate is checked against the name.
    name = socket.gethostname()
    if name in ("localhost", "127.0.0.1") or utils.is_localhost((name, 0)) != 1:
        pytest.skip("the host name is not a distinct local name")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    broker = make_broker(tls_context=context)
    address = (name, broker.port)
    conn = make_conn(address)
    assert conn.transport.host_and_ports[0] == ("127.0.0.1", broker.port)
    conn.set_ssl([address], ca_certs=ca_file)
    conn.connect(wait=True)
    assert conn.transport.current_host_and_port == ("127.0.0.1", broker.port)
    assert conn.get_ssl() == conn.get_ssl(address)
    assert broker.last.handshake_done.is_set()
    assert len(broker.connections) == 1


def test_large_frames_both_ways(make_conn: Any, tls_broker: Any, ca_file: str) -> None:
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ca_certs=ca_file)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    body = "x" * 1_000_000
    conn.send("/queue/big", body)
    assert len(tls_broker.last.wait_for_frame("SEND").body) == len(body)
    tls_broker.last.send_message(body=body)
    assert log.wait_for("message").body == body


def test_concurrent_send_and_receive(make_conn: Any, tls_broker: Any, ca_file: str) -> None:
    # The user's thread writes while the receiver thread reads the same TLS socket.
    conn = make_conn(tls_broker)
    conn.set_ssl([tls_broker.address], ca_certs=ca_file)
    log = EventLog()
    conn.set_listener("a", log)
    conn.connect(wait=True)
    server = tls_broker.last
    count = 300

    def push() -> None:
        for i in range(count):
            server.send_message(body=f"in-{i}")

    pusher = threading.Thread(target=push, daemon=True)
    pusher.start()
    for i in range(count):
        conn.send("/queue/a", f"out-{i}")
    pusher.join(10)
    log.wait_for("message", count, timeout=10)
    server.wait_for_frame("SEND", count, timeout=10)
    assert [f.body for f in server.frames[1:]] == [f"out-{i}".encode() for i in range(count)]
    assert [f.body for n, f in log.events if n == "message"] == [f"in-{i}" for i in range(count)]


@pytest.mark.slow
def test_disconnect_over_tls_is_bounded_without_a_receipt(
    make_conn: Any, make_broker: Any, server_tls: ssl.SSLContext, ca_file: str
) -> None:
    broker = make_broker(tls_context=server_tls, answer_receipts=False)
    conn = make_conn(broker, timeout=1)
    conn.set_ssl([broker.address], ca_certs=ca_file)
    conn.connect(wait=True)
    conn.send("/queue/a", "last words")
    start = time.monotonic()
    conn.disconnect()
    assert time.monotonic() - start < 2.5
    assert broker.last.wait_for_frame("SEND").body == b"last words"
    assert broker.last.wait_peer_closed()
    assert library_threads() == []


def test_ssl_is_imported_only_when_used() -> None:
    # `import stomp` leaves ssl alone (it is most of the import time); stomp.py's names for
    # it resolve on first use, in the modules where stomp.py has them.
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import sys
        import stomp
        conn = stomp.Connection12([("127.0.0.1", 1)])
        print("ssl" in sys.modules, "dataclasses" in sys.modules)
        import stomp.connect, stomp.tls, stomp.transport
        import ssl
        print(stomp.transport.DEFAULT_SSL_VERSION is ssl.PROTOCOL_TLS_CLIENT,
              stomp.connect.DEFAULT_SSL_VERSION is ssl.PROTOCOL_TLS_CLIENT,
              stomp.transport.SSLError is ssl.SSLError, stomp.connect.SSLError is ssl.SSLError,
              stomp.tls.SSLError is ssl.SSLError)
        try:
            stomp.transport.NO_SUCH_NAME
        except AttributeError as error:
            print(error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "False False",
        "True True True True True",
        "module 'stomp.transport' has no attribute 'NO_SUCH_NAME'",
    ]


def test_tls_settings_default_version_and_repr() -> None:
    from stomp.tls import TLSSettings

    settings = TLSSettings(ca_certs="ca.pem", password="secret")
    assert settings.ssl_version is ssl.PROTOCOL_TLS_CLIENT  # None stands for the default
    assert settings.as_dict()["password"] == "secret"
    assert "secret" not in repr(settings) and "ca.pem" in repr(settings)
    assert settings == TLSSettings(ca_certs="ca.pem", password="secret")
    assert settings != TLSSettings(ca_certs="other.pem", password="secret")
    explicit = TLSSettings(ssl_version=ssl.PROTOCOL_TLS_CLIENT, ca_certs="ca.pem")
    assert explicit.ssl_version is ssl.PROTOCOL_TLS_CLIENT
