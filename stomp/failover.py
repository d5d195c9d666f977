"""The host list of a transport: its order, the retries with back-off, TLS per host.

Both the TCP transport and the WebSocket adapter get their connection from a
:class:`HostList`: it tries the hosts in order, sleeps with back-off and jitter after a pass
in which every host failed, gives up after ``reconnect_attempts_max`` failed attempts, and
remembers which hosts were given TLS settings.  Opening one connection to one host is the
transport's business (the ``open_one`` callable).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from stomp import log as stomp_log
from stomp.exception import ConnectFailedException
from stomp.tls import SSLPassword, TLSSettings

if TYPE_CHECKING:
    import ssl

log = logging.getLogger("stomp.py")

HostAndPort = tuple[str, int]
T = TypeVar("T")

#: The constructor arguments of a transport (and a connection) that make its host list.
HOST_LIST_ARGUMENTS: Final = (
    "host_and_ports",
    "prefer_localhost",
    "try_loopback_connect",
    "reconnect_sleep_initial",
    "reconnect_sleep_increase",
    "reconnect_sleep_jitter",
    "reconnect_sleep_max",
    "reconnect_attempts_max",
)


def pick(names: Iterable[str], given: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``given`` (a constructor's ``locals()``) named in ``names``: how a
    constructor hands its stomp.py arguments on without spelling them out again."""
    return {name: given[name] for name in names if name in given}


# ---------------------------------------------------------------------------------------
# Which hosts are this machine
# ---------------------------------------------------------------------------------------

#: How long, in seconds, the host-name look-ups behind :func:`localhost_names` may take in
#: all (``stomp.utils.HOSTNAME_SCAN_TIMEOUT``).  A look-up still running then is abandoned
#: (its thread is a daemon).
HOSTNAME_SCAN_TIMEOUT: float = 2.0

_localhost_lock: Final = threading.Lock()
_localhost: list[str] | None = None


def _host_ip() -> str:
    return socket.gethostbyname(socket.gethostname())


def scan_localhost_names(timeout: float | None = None) -> list[str]:
    """The names under which this machine's own broker is reachable: ``"localhost"``,
    ``"127.0.0.1"``, then, unless the environment variable ``STOMP_SKIP_HOSTNAME_SCAN`` is
    set to a non-empty value, this host's IP address, host name and fully qualified name,
    each only if its look-up succeeds (duplicates are kept).  Never takes much longer than
    ``timeout`` seconds (default :data:`HOSTNAME_SCAN_TIMEOUT`)."""
    names = ["localhost", "127.0.0.1"]
    if os.environ.get("STOMP_SKIP_HOSTNAME_SCAN"):
        return names
    found: list[str] = []

    def scan() -> None:
        for lookup in (_host_ip, socket.gethostname, socket.getfqdn):
            try:
                found.append(lookup())
            except (OSError, UnicodeError):
                pass

    # A daemon thread, so that a resolver that hangs delays this call by `timeout` at
    # most and never keeps the process alive.
    scanner = threading.Thread(target=scan, name="stomp-hostname-scan", daemon=True)
    scanner.start()
    scanner.join(HOSTNAME_SCAN_TIMEOUT if timeout is None else timeout)
    return names + found[:]


def localhost_names() -> list[str]:
    """The current list of this machine's names (``stomp.utils.LOCALHOST_NAMES``):
    :func:`scan_localhost_names` on first use, or what :func:`set_localhost_names` gave.
    An ordinary list: changing it changes what :func:`is_localhost` says."""
    global _localhost
    names = _localhost
    if names is None:
        with _localhost_lock:
            names = _localhost
            if names is None:
                names = _localhost = scan_localhost_names()
    return names


def set_localhost_names(names: list[str] | None) -> None:
    """Replace the list :func:`localhost_names` gives; ``None``: scan again on next use."""
    global _localhost
    with _localhost_lock:
        _localhost = names


def is_localhost(host_and_port: Sequence[Any]) -> int:
    """Return 1 if the host of ``(host, port)`` is one of :func:`localhost_names` (an exact
    string match), else 2: a sort key that puts local brokers first."""
    return 1 if host_and_port[0] in localhost_names() else 2


# ---------------------------------------------------------------------------------------
# The host list
# ---------------------------------------------------------------------------------------


def candidate_hosts(
    host_and_ports: Sequence[HostAndPort] | None,
    prefer_localhost: bool = True,
    try_loopback_connect: bool = True,
) -> tuple[list[HostAndPort], dict[HostAndPort, HostAndPort]]:
    """stomp.py's host list: local hosts first (a stable sort), and a ``127.0.0.1`` entry in
    front for each local host whose port has no loopback entry yet.

    Returns:
        The list, and for each added loopback entry the entry it stands for (whose TLS
        settings and host name apply to it).
    """
    hosts = list(host_and_ports or [("localhost", 61613)])
    if prefer_localhost:
        hosts.sort(key=is_localhost)
    loopbacks: list[HostAndPort] = []
    derived: dict[HostAndPort, HostAndPort] = {}
    if try_loopback_connect:
        local = localhost_names()
        for host, port in hosts:
            if host in local and not (("127.0.0.1", port) in hosts or ("localhost", port) in hosts):
                loopbacks.append(("127.0.0.1", port))
                derived.setdefault(("127.0.0.1", port), (host, port))
    return loopbacks + hosts, derived


class HostList:
    """The hosts to connect to and how to retry them.

    Args:
        host_and_ports, prefer_localhost, try_loopback_connect: see :func:`candidate_hosts`.
        reconnect_sleep_initial: seconds to sleep after the first pass that failed.
        reconnect_sleep_increase: growth of the sleep per pass (0.5 = +50 %).
        reconnect_sleep_jitter: random extra fraction of the sleep.
        reconnect_sleep_max: the longest sleep (before jitter).
        reconnect_attempts_max: failed host attempts before giving up; ``-1``: never.

    Attributes:
        hosts: the hosts, in the order tried.
        derived_from: for each loopback entry added to ``hosts``, the entry it stands for.
        ssl_params: TLS settings (as dicts) by ``(host, port)``.
        last: the host connected to last, kept after the connection closed.
    """

    def __init__(
        self,
        host_and_ports: Sequence[HostAndPort] | None = None,
        prefer_localhost: bool = True,
        try_loopback_connect: bool = True,
        reconnect_sleep_initial: float = 0.1,
        reconnect_sleep_increase: float = 0.5,
        reconnect_sleep_jitter: float = 0.1,
        reconnect_sleep_max: float = 60.0,
        reconnect_attempts_max: int = 3,
    ) -> None:
        self.hosts, self.derived_from = candidate_hosts(
            host_and_ports, prefer_localhost, try_loopback_connect
        )
        self.sleep_initial = reconnect_sleep_initial
        self.sleep_increase = reconnect_sleep_increase
        self.sleep_jitter = reconnect_sleep_jitter
        self.sleep_max = reconnect_sleep_max
        self.attempts_max = reconnect_attempts_max
        self.ssl_params: dict[HostAndPort, dict[str, Any]] = {}
        self.last: HostAndPort | None = None
        self._first = 0
        self._wakeup = threading.Event()

    @classmethod
    def from_arguments(cls, given: Mapping[str, Any]) -> HostList:
        """A host list from a transport constructor's arguments (its ``locals()``)."""
        return cls(**pick(HOST_LIST_ARGUMENTS, given))

    def connect(
        self,
        open_one: Callable[[HostAndPort], T],
        wanted: Callable[[], bool],
        errors: tuple[type[BaseException], ...],
    ) -> tuple[T, HostAndPort]:
        """Open a connection to the first host that answers, retrying with back-off.

        Each host is tried in turn with ``open_one(host_and_port)``; an exception of one of
        the ``errors`` types is a failed attempt (logged).  After a pass in which every
        host failed, it sleeps ``reconnect_sleep_initial`` seconds, growing by
        ``reconnect_sleep_increase`` per pass up to ``reconnect_sleep_max``, plus up to
        ``reconnect_sleep_jitter`` of random extra; it stops when
        ``reconnect_attempts_max`` attempts have failed, when ``wanted()`` turns false, or
        when :meth:`interrupt` is called.

        Returns:
            What ``open_one`` returned, and the host it connected to.

        Raises:
            ConnectFailedException: no host could be reached.
        """
        self._wakeup.clear()
        plan = self.plan()
        if not wanted():
            raise ConnectFailedException(plan.summary())
        for step in plan:
            if isinstance(step, float):
                log.debug("sleeping for %.1f seconds before attempting reconnect", step)
                if self._wakeup.wait(step) or not wanted():
                    break
                continue
            try:
                connection = open_one(step)
            except errors as exc:
                plan.failed(step, exc)
                continue
            plan.succeeded(step)
            return connection, step
        raise ConnectFailedException(plan.summary())

    def plan(self) -> ConnectPlan:
        """The attempts of one connection, for a driver to carry out (:meth:`connect`
        here, the asyncio client's own loop): it starts with the host after the one
        :meth:`skip_last` named, if any."""
        first, self._first = self._first, 0
        return ConnectPlan(self, self.hosts[first:] + self.hosts[:first])

    def backoff(self, n: int) -> float:
        """The seconds to sleep after the ``n``-th pass (0: the first) in which every host
        failed: ``reconnect_sleep_initial`` growing by ``reconnect_sleep_increase`` per pass,
        at most ``reconnect_sleep_max``, plus up to ``reconnect_sleep_jitter`` of random
        extra."""
        try:
            delay = min(self.sleep_max, self.sleep_initial * (1 + self.sleep_increase) ** n)
        except OverflowError:
            delay = self.sleep_max
        return float(delay * (1 + random.random() * self.sleep_jitter))

    def interrupt(self) -> None:
        """End a :meth:`connect` that sleeps between passes."""
        self._wakeup.set()

    def skip_last(self) -> None:
        """Make the next :meth:`connect` start with the host after the one connected to
        last (one that accepted TCP but never answered CONNECT, say)."""
        if self.last in self.hosts:
            self._first = (self.hosts.index(self.last) + 1) % len(self.hosts)

    def name_for(self, host_and_port: HostAndPort) -> str:
        """The host name to check a broker's certificate against: an added loopback entry
        stands for the named host it was derived from."""
        return self.derived_from.get(host_and_port, host_and_port)[0]

    def set_ssl(self, for_hosts: Iterable[HostAndPort], settings: TLSSettings) -> None:
        """Use ``settings`` for the given hosts."""
        for host_and_port in for_hosts:
            self.ssl_params[host_and_port] = settings.as_dict()

    def get_ssl(self, host_and_port: HostAndPort | None) -> dict[str, Any] | None:
        """The TLS settings of ``host_and_port`` (an added loopback entry's are those of the
        entry it stands for), or ``None``."""
        if host_and_port is None:
            return None
        params = self.ssl_params.get(host_and_port)
        if params is None and host_and_port in self.derived_from:
            params = self.ssl_params.get(self.derived_from[host_and_port])
        return params


class ConnectPlan:
    """The attempts of one connection through a :class:`HostList`, without I/O.

    Iterating gives, in turn, the host to try next (a ``(host, port)`` tuple) or, after a
    pass in which every host failed, the seconds to sleep before the next pass (a
    ``float``); it ends when ``reconnect_attempts_max`` attempts have failed.  The driver
    reports each attempt with :meth:`failed` or :meth:`succeeded` (and stops iterating on
    success); :meth:`summary` says what failed, for the exception the driver raises.
    """

    def __init__(self, hosts: HostList, candidates: list[HostAndPort]) -> None:
        self._hosts = hosts
        self.candidates = candidates
        self.failures = 0
        self.last_error: BaseException | None = None

    def __iter__(self) -> Iterator[HostAndPort | float]:
        hosts = self._hosts
        limit = hosts.attempts_max
        passes = 0
        while limit == -1 or self.failures < limit:
            yield from self.candidates
            if limit != -1 and self.failures >= limit:
                return
            yield hosts.backoff(passes)
            passes += 1

    def failed(self, host_and_port: HostAndPort, exc: BaseException) -> None:
        """An attempt failed (logged as a warning)."""
        self.failures += 1
        self.last_error = exc
        log.warning(
            "could not connect to host %s, port %s: %s", *host_and_port, exc, exc_info=_verbose()
        )

    def succeeded(self, host_and_port: HostAndPort) -> None:
        """An attempt succeeded: the host list's :attr:`HostList.last` is it."""
        self._hosts.last = host_and_port
        log.info("established connection to host %s, port %s", *host_and_port)

    def summary(self) -> str:
        """What failed, as the message of a ``ConnectFailedException``."""
        hosts = ", ".join(f"{h}:{p}" for h, p in self.candidates)
        detail = f": {self.last_error}" if self.last_error is not None else ""
        return f"could not connect to {hosts} after {self.failures} attempt(s){detail}"


class FailoverMixin:
    """The host-list methods of a transport that has a :class:`HostList` in ``_hosts``
    (the TCP transport and the WebSocket adapter)."""

    _hosts: HostList
    _timeout: float | None
    current_host_and_port: HostAndPort | None

    @property
    def timeout(self) -> float | None:
        """The connect (and handshake) timeout in seconds, or ``None``."""
        return self._timeout

    @property
    def host_and_ports(self) -> list[HostAndPort]:
        """The hosts tried, in order (loopback entries added first)."""
        return list(self._hosts.hosts)

    def skip_current_host(self) -> None:
        """Make the next connection attempt start with the host after the one connected to
        last (used when a host accepted TCP but never answered CONNECT)."""
        self._hosts.skip_last()

    def _hosts_to_try(self) -> int:
        return len(self._hosts.hosts) or 1

    def set_ssl(
        self,
        for_hosts: Iterable[HostAndPort] = (),
        key_file: str | None = None,
        cert_file: str | None = None,
        ca_certs: str | None = None,
        cert_validator: Callable[[Any, str], tuple[bool, Any]] | None = None,
        ssl_version: int | None = None,
        password: SSLPassword = None,
        verify: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Use TLS for the given ``(host, port)`` entries.

        Args:
            for_hosts: the entries of ``host_and_ports`` to secure.  Loopback entries the
                transport adds for a local host inherit its settings, and the broker's
                certificate is checked against that host's name.
            key_file: private key file (PEM); defaults to ``cert_file``.
            cert_file: client certificate chain file (PEM), for mutual TLS.
            ca_certs: CA bundle to verify the broker with; the system's when ``None``.
            cert_validator: ``f(cert_dict, hostname) -> (ok, error_message)``, an extra
                check of the broker's certificate after the handshake.
            ssl_version: protocol constant for ``ssl.SSLContext``; ``None`` (the default)
                stands for :data:`stomp.tls.DEFAULT_SSL_VERSION`, ``ssl.PROTOCOL_TLS_CLIENT``.
            password: password of the key file.
            verify: verify the broker's certificate and host name (``False`` disables
                both; do this only for tests).
            ssl_context: a ready ``ssl.SSLContext`` to use as is (ciphers, minimum
                version, your own checks); the other arguments but ``cert_validator`` are
                then ignored.
        """
        settings = TLSSettings(
            key_file=key_file,
            cert_file=cert_file,
            ca_certs=ca_certs,
            cert_validator=cert_validator,
            ssl_version=ssl_version,
            password=password,
            verify=verify,
            ssl_context=ssl_context,
        )
        self._hosts.set_ssl(for_hosts, settings)

    def get_ssl(self, host_and_port: HostAndPort | None = None) -> dict[str, Any] | None:
        """The TLS settings dict of ``host_and_port``, or ``None`` when it has none.

        Without an argument: those of the host connected to, or, once the connection has
        closed, of the host connected to last (as stomp.py, whose ``disconnect()``
        returns before the socket closes, reports after a disconnect).
        """
        key = host_and_port
        if key is None:
            key = self.current_host_and_port or self._hosts.last
        return self._hosts.get_ssl(key)


def _verbose() -> bool:
    # Whether connection warnings carry tracebacks (stomp.log.verbose, set at run time).
    return bool(stomp_log.verbose)
