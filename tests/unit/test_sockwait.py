"""stomp.sockwait: waiting on sockets whose descriptors are above select()'s 1023."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from stomp.sockwait import wait

resource = pytest.importorskip("resource")


@pytest.fixture
def high_socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected socket pair whose descriptors are above 1023."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the descriptor limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    fillers = []
    try:
        while not fillers or fillers[-1] < 1030:
            fillers.append(os.open(os.devnull, os.O_RDONLY))
        a, b = socket.socketpair()
        try:
            assert a.fileno() > 1023 and b.fileno() > 1023
            yield a, b
        finally:
            a.close()
            b.close()
    finally:
        for fd in fillers:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_wait_above_descriptor_1023(high_socket_pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = high_socket_pair
    assert wait(a) is False
    assert wait(a, timeout=0.01) is False
    b.sendall(b"x")
    assert wait(a, timeout=5) is True
    assert wait(b, writing=True) is True


def test_wait_sees_the_end_of_the_stream() -> None:
    a, b = socket.socketpair()
    with a, b:
        b.close()
        assert wait(a, timeout=5) is True
        assert a.recv(1) == b""
