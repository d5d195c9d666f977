"""Checks that apply to every test: no thread of the library outlives its test.

The library names its threads ``StompReceiver-<peer>`` and ``StompHeartbeat-<peer>``
(daemon threads).  Once a test is over -- its connections disconnected, its fixtures torn
down -- none of the ones it started may still run: a thread left behind is a connection
that ``disconnect()`` did not really close.  Threads that were already running before the
test (leaked by an earlier one, which was reported there) are not counted again.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

#: Name prefixes of the library's threads.
LIBRARY_THREAD_PREFIXES = ("StompReceiver", "StompHeartbeat")

#: How long, in seconds, a thread may take to end after the test's teardown.
GRACE = 1.0


def _library_threads() -> set[threading.Thread]:
    return {
        t
        for t in threading.enumerate()
        if t.is_alive() and t.name.startswith(LIBRARY_THREAD_PREFIXES)
    }


@pytest.fixture(autouse=True)
def _no_library_thread_left() -> Iterator[None]:
    """Fail the test if a receiver or heart-beat thread it started is alive ``GRACE``
    seconds after it ended (autouse, so it is torn down after the test's own fixtures)."""
    before = _library_threads()
    yield
    deadline = time.monotonic() + GRACE
    while True:
        left = _library_threads() - before
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    if left:
        names = sorted(t.name for t in left)
        pytest.fail(f"library threads still running after the test: {names}", pytrace=False)


# ---------------------------------------------------------------- TLS (trustme)


@pytest.fixture(scope="session")
def ca() -> Any:
    """A throw-away certificate authority (``trustme``)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test CA's certificate, as a PEM file."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_tls(ca: Any) -> ssl.SSLContext:
    """A server-side TLS context with a certificate for 127.0.0.1, ::1 and localhost."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "::1", "localhost").configure_cert(context)
    return context
