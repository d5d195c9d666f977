"""stomp.failover alone: the host list's order, the retries and back-off, TLS per host."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stomp import failover
from stomp.exception import ConnectFailedException
from stomp.failover import HostList, candidate_hosts
from stomp.tls import TLSSettings


@pytest.fixture(autouse=True)
def local_names() -> Iterator[None]:
    # The machine's own names, as the host-name scan would find them on host "vm".
    failover.set_localhost_names(["localhost", "127.0.0.1", "vm"])
    yield
    failover.set_localhost_names(None)


# -- the machine's own names ------------------------------------------------------------


def _fake_lookups(
    monkeypatch: pytest.MonkeyPatch, ip: object, hostname: object, fqdn: object
) -> list[str]:
    calls: list[str] = []

    def make(name: str, result: object) -> object:
        def lookup(*args: object) -> str:
            calls.append(name)
            if isinstance(result, BaseException):
                raise result
            return str(result)

        return lookup

    monkeypatch.setattr(failover, "_host_ip", make("ip", ip))
    monkeypatch.setattr(socket, "gethostname", make("hostname", hostname))
    monkeypatch.setattr(socket, "getfqdn", make("fqdn", fqdn))
    return calls


def test_localhost_names_scan_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOMP_SKIP_HOSTNAME_SCAN", raising=False)
    calls = _fake_lookups(monkeypatch, "10.1.2.3", "box", "box.example.org")
    names = failover.scan_localhost_names()
    assert names == ["localhost", "127.0.0.1", "10.1.2.3", "box", "box.example.org"]
    assert calls == ["ip", "hostname", "fqdn"]


def test_localhost_names_failed_lookups_left_out_duplicates_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "")  # empty: the scan still runs
    _fake_lookups(monkeypatch, socket.gaierror("no such host"), "localhost", "localhost")
    assert failover.scan_localhost_names() == ["localhost", "127.0.0.1", "localhost", "localhost"]


def test_localhost_names_skip_scan_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "1")
    calls = _fake_lookups(monkeypatch, "10.1.2.3", "box", "box.example.org")
    assert failover.scan_localhost_names() == ["localhost", "127.0.0.1"]
    assert calls == []


def test_localhost_names_scan_is_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STOMP_SKIP_HOSTNAME_SCAN", raising=False)
    release = threading.Event()

    def hanging_lookup() -> str:
        release.wait(5)
        return "10.9.9.9"

    monkeypatch.setattr(failover, "_host_ip", hanging_lookup)
    try:
        start = time.monotonic()
        names = failover.scan_localhost_names(timeout=0.05)
        elapsed = time.monotonic() - start
    finally:
        release.set()
    assert names == ["localhost", "127.0.0.1"]
    assert elapsed < 1.0


def test_localhost_names_computed_once_then_changed_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failover.set_localhost_names(None)
    monkeypatch.setenv("STOMP_SKIP_HOSTNAME_SCAN", "1")
    names = failover.localhost_names()
    assert names == ["localhost", "127.0.0.1"]
    assert failover.localhost_names() is names
    assert failover.is_localhost(("vm", 1)) == 2
    names.append("vm")
    assert failover.is_localhost(("vm", 1)) == 1
    assert failover.is_localhost(("VM", 1)) == 2  # an exact match


# -- the host list ----------------------------------------------------------------------


def test_candidate_hosts_as_stomppy_orders_them() -> None:
    hosts, derived = candidate_hosts([("vm", 61613), ("10.0.0.1", 1), ("localhost", 5)])
    assert hosts == [("127.0.0.1", 61613), ("vm", 61613), ("localhost", 5), ("10.0.0.1", 1)]
    assert derived == {("127.0.0.1", 61613): ("vm", 61613)}


def test_candidate_hosts_without_preferring_localhost() -> None:
    hosts, _ = candidate_hosts([("10.0.0.1", 1), ("vm", 5)], prefer_localhost=False)
    assert hosts == [("127.0.0.1", 5), ("10.0.0.1", 1), ("vm", 5)]
    hosts, _ = candidate_hosts([("vm", 5)], try_loopback_connect=False)
    assert hosts == [("vm", 5)]
    hosts, _ = candidate_hosts(None)
    assert hosts == [("localhost", 61613)]  # its own loopback entry is itself


class Opener:
    """open_one for HostList.connect: fails for the hosts in ``down``."""

    def __init__(self, *down: tuple[str, int]) -> None:
        self.down = set(down)
        self.tried: list[tuple[str, int]] = []

    def __call__(self, host_and_port: tuple[str, int]) -> str:
        self.tried.append(host_and_port)
        if host_and_port in self.down:
            raise ConnectionRefusedError(111, "refused")
        return f"socket to {host_and_port[0]}"


def hostlist(hosts: list[tuple[str, int]], **options: Any) -> HostList:
    options.setdefault("reconnect_sleep_initial", 0.001)
    options.setdefault("reconnect_sleep_jitter", 0)
    return HostList(hosts, prefer_localhost=False, try_loopback_connect=False, **options)


def test_connect_takes_the_first_host_that_answers() -> None:
    hosts = hostlist([("a", 1), ("b", 2), ("c", 3)])
    opener = Opener(("a", 1))
    assert hosts.connect(opener, lambda: True, (OSError,)) == ("socket to b", ("b", 2))
    assert opener.tried == [("a", 1), ("b", 2)]
    assert hosts.last == ("b", 2)


def test_connect_gives_up_after_the_attempts() -> None:
    hosts = hostlist([("a", 1)], reconnect_attempts_max=3)
    opener = Opener(("a", 1))
    with pytest.raises(ConnectFailedException, match=r"a:1 after 3 attempt\(s\).*refused"):
        hosts.connect(opener, lambda: True, (OSError,))
    assert opener.tried == [("a", 1)] * 3


def test_a_pass_is_never_cut_by_the_attempt_limit() -> None:
    hosts = hostlist([("a", 1), ("b", 2), ("c", 3)], reconnect_attempts_max=2)
    opener = Opener(("a", 1), ("b", 2), ("c", 3))
    with pytest.raises(ConnectFailedException):
        hosts.connect(opener, lambda: True, (OSError,))
    assert len(opener.tried) == 3


def test_no_attempt_at_all() -> None:
    opener = Opener()
    with pytest.raises(ConnectFailedException):
        hostlist([("a", 1)], reconnect_attempts_max=0).connect(opener, lambda: True, (OSError,))
    assert opener.tried == []


def test_errors_not_listed_are_not_attempts() -> None:
    def broken(host_and_port: tuple[str, int]) -> str:
        raise KeyError("a bug, not a refused connection")

    with pytest.raises(KeyError):
        hostlist([("a", 1)]).connect(broken, lambda: True, (OSError,))


def test_back_off_grows_and_interrupt_ends_it() -> None:
    hosts = hostlist(
        [("a", 1)], reconnect_sleep_initial=30, reconnect_sleep_max=60, reconnect_attempts_max=-1
    )
    threading.Timer(0.2, hosts.interrupt).start()
    with pytest.raises(ConnectFailedException, match="after 1 attempt"):
        hosts.connect(Opener(("a", 1)), lambda: True, (OSError,))


def test_not_wanted_any_more_stops_the_retries() -> None:
    wanted = iter([True, True, False])
    opener = Opener(("a", 1))
    with pytest.raises(ConnectFailedException):
        hostlist([("a", 1)], reconnect_attempts_max=-1).connect(
            opener, lambda: next(wanted), (OSError,)
        )
    assert len(opener.tried) == 2


def test_skip_last_starts_the_next_connect_after_it() -> None:
    hosts = hostlist([("a", 1), ("b", 2), ("c", 3)])
    opener = Opener()
    hosts.connect(opener, lambda: True, (OSError,))
    hosts.skip_last()
    assert hosts.connect(opener, lambda: True, (OSError,))[1] == ("b", 2)
    hosts.skip_last()
    hosts.skip_last()  # (twice: still the one after the last connected)
    assert hosts.connect(opener, lambda: True, (OSError,))[1] == ("c", 3)


def test_tls_settings_per_host_and_for_the_added_loopback_entry() -> None:
    hosts = HostList([("vm", 61614), ("other", 61614)])
    assert hosts.hosts[0] == ("127.0.0.1", 61614)
    hosts.set_ssl([("vm", 61614)], TLSSettings(ca_certs="ca.pem"))
    assert hosts.get_ssl(("vm", 61614))["ca_certs"] == "ca.pem"
    assert hosts.get_ssl(("127.0.0.1", 61614)) is hosts.get_ssl(("vm", 61614))
    assert hosts.get_ssl(("other", 61614)) is None
    assert hosts.get_ssl(None) is None
    assert hosts.name_for(("127.0.0.1", 61614)) == "vm"
    assert hosts.name_for(("other", 61614)) == "other"


def test_backoff_grows_to_its_ceiling_with_jitter() -> None:
    hosts = hostlist(
        [("a", 1)],
        reconnect_sleep_initial=0.1,
        reconnect_sleep_increase=1.0,
        reconnect_sleep_jitter=0.5,
        reconnect_sleep_max=1.0,
    )
    for n, base in ((0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (10_000, 1.0)):
        assert base <= hosts.backoff(n) <= base * 1.5
