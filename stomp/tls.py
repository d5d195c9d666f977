"""TLS settings for the TCP transport (``set_ssl``).

The :mod:`ssl` module is imported on first use, not when :mod:`stomp` is imported: it is
the largest part of the import time of a client that never uses TLS.
:data:`DEFAULT_SSL_VERSION` and :data:`SSLError` are resolved (and ``ssl`` imported) when
first read.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stomp import _namespace, sockwait
from stomp._namespace import ssl_module as _ssl
from stomp.exception import SendTimeoutException

if TYPE_CHECKING:
    import ssl

#: What ``password`` may be: the private key's password, or a function returning it (as
#: :meth:`ssl.SSLContext.load_cert_chain` takes it).
SSLPassword = str | bytes | Callable[[], str | bytes] | None

__all__ = ["DEFAULT_SSL_VERSION", "SSLError", "TLSSettings", "TLSStream"]

log = logging.getLogger("stomp.py")

# Resolved on first access by the module __getattr__ below; declared here for mypy.

#: The default ``ssl_version``: ``ssl.PROTOCOL_TLS_CLIENT`` (``None`` without ``ssl``).
DEFAULT_SSL_VERSION: Any

#: ``ssl.SSLError`` (a stand-in class when Python has no ``ssl`` module).
SSLError: type[Exception]

_namespace.forget(globals())


def __getattr__(name: str) -> Any:
    # DEFAULT_SSL_VERSION and SSLError: resolved (importing ssl) on first use.
    return _namespace.resolve(__name__, name)


_FIELDS = (
    "key_file",
    "cert_file",
    "ca_certs",
    "cert_validator",
    "ssl_version",
    "password",
    "verify",
    "ssl_context",
)


class TLSSettings:
    """What ``set_ssl`` was given for one host; see :meth:`stomp.transport.Transport.set_ssl`.

    ``ssl_version=None`` stands for :data:`DEFAULT_SSL_VERSION` and is stored as it.

    Raises:
        Exception: Python has no :mod:`ssl` module (as stomp.py says it).
    """

    __slots__ = _FIELDS

    def __init__(
        self,
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_certs: str | None = None,
        cert_validator: Callable[[Any, str], tuple[bool, Any]] | None = None,
        ssl_version: int | None = None,
        password: SSLPassword = None,
        verify: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        ssl = _ssl()
        if ssl is None:  # pragma: no cover - Python built without OpenSSL
            raise Exception("SSL connection requested, but SSL library not found")
        self.key_file = key_file
        self.cert_file = cert_file
        self.ca_certs = ca_certs
        self.cert_validator = cert_validator
        self.ssl_version = ssl.PROTOCOL_TLS_CLIENT if ssl_version is None else ssl_version
        self.password = password
        self.verify = verify
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        # The password is not shown.
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in _FIELDS if name != "password"
        )
        return f"TLSSettings({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TLSSettings):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        """The settings as the dict ``get_ssl`` returns."""
        # Shallow: an ssl_context cannot be copied, and a validator need not be.
        return {name: getattr(self, name) for name in _FIELDS}

    def context(self) -> ssl.SSLContext:
        """The ``SSLContext`` to use: the one given, or one built from the settings."""
        if self.ssl_context is not None:
            given: ssl.SSLContext = self.ssl_context
            return given
        for path in (self.ca_certs if self.verify else None, self.cert_file, self.key_file):
            # ssl's own error does not say which file is missing.
            if path and not os.path.exists(path):
                raise FileNotFoundError(errno.ENOENT, "Could not find file", path)
        ssl_module = _ssl()
        context: ssl.SSLContext = ssl_module.SSLContext(self.ssl_version)
        if self.verify:
            context.verify_mode = ssl_module.CERT_REQUIRED
            if self.ca_certs:
                context.load_verify_locations(self.ca_certs)
            else:
                context.load_default_certs()
        else:
            context.check_hostname = False
            context.verify_mode = ssl_module.CERT_NONE
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file or self.cert_file, self.password)
        return context

    def wrap(self, sock: socket.socket, host: str) -> ssl.SSLSocket:
        """Run the TLS handshake on ``sock`` (under its timeout) and the validator.

        Raises:
            ssl.SSLError: the handshake failed or the validator rejected the certificate.
            FileNotFoundError: a certificate or key file is missing.
        """
        tls = self.context().wrap_socket(sock, server_hostname=host)
        if self.cert_validator is not None:
            ok, message = self.cert_validator(tls.getpeercert(), host)
            if not ok:
                tls.close()
                raise _ssl().SSLError(f"Server certificate validation failed: {message}")
        return tls


class TLSStream:
    """The reads and writes of one TLS socket, shared by the receiver thread and senders.

    OpenSSL does not support two threads inside one TLS connection at once: a write made
    while the receiver's read is processing a TLS 1.3 session ticket can be lost, and the
    broker then never sees CONNECT.  So the socket is made non-blocking, every TLS call is
    made under one lock, and waiting for the socket to be ready happens outside the lock.
    Callers still serialise their writes (a write that would block must be retried with
    the same bytes before any other write).

    Args:
        sock: the connected, handshaken TLS socket.

    Attributes:
        sock: the socket.
        lock: held during every TLS call on it (hold it to shut the socket down or close it).
    """

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self._ssl = _ssl()  # (imported already: sock is a TLS socket)
        sock.setblocking(False)

    @classmethod
    def of(cls, sock: socket.socket) -> TLSStream | None:
        """A stream for ``sock`` if it is a TLS socket, else ``None``."""
        # A TLS socket exists only if ssl was imported: do not import it to find out.
        ssl = sys.modules.get("ssl")
        return cls(sock) if ssl is not None and isinstance(sock, ssl.SSLSocket) else None

    def recv(self, size: int) -> bytes:
        """Read up to ``size`` bytes, waiting until some arrive; ``b""`` at the end."""
        sock, ssl = self.sock, self._ssl
        while True:
            with self.lock:
                try:
                    return sock.recv(size)
                except ssl.SSLWantReadError:
                    writing = False
                except ssl.SSLWantWriteError:
                    writing = True
            # Bounded: a record may, in rare TLS 1.2 flows, be read by a writer meanwhile.
            sockwait.wait(sock, writing=writing, timeout=1.0)

    def sendall(
        self, data: bytes, timeout: float | None = None, progress: list[int] | None = None
    ) -> None:
        """Write all of ``data``, waiting while the socket cannot take more: at most
        ``timeout`` seconds at a time (``None``: no limit).  Each amount written is
        appended to ``progress`` (as :class:`stomp.writer.FrameWriter` wants it).

        Raises:
            SendTimeoutException: the peer took nothing for ``timeout`` seconds.
        """
        sock, ssl = self.sock, self._ssl
        view = memoryview(data)
        sent = progress if progress is not None else []
        done, total = 0, len(data)
        while done < total:
            with self.lock:
                try:
                    sent.extend(map(sock.send, (view[done:],)))
                    done += sent[-1]
                    continue
                except ssl.SSLWantWriteError:
                    writing = True
                except ssl.SSLWantReadError:
                    writing = False
            if writing:
                if not sockwait.wait(sock, writing=True, timeout=timeout):
                    raise SendTimeoutException(
                        f"the peer took no bytes for {timeout} s: it is not reading"
                    )
            else:
                # Bounded: the receiver thread may take the bytes first.
                sockwait.wait(sock, timeout=0.05)

    def pending(self) -> bool:
        """Whether decrypted bytes wait to be read."""
        with self.lock:
            return bool(self.sock.pending())
