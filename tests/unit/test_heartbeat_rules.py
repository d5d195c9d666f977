"""stomp.heartbeat alone: the header, negotiation, the timer and the heart-beater, on a
clock the test moves (no real time)."""

from __future__ import annotations

from typing import Any

import pytest

from stomp.heartbeat import Heartbeater, HeartbeatTimer, negotiate, parse


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (0, 0)),
        ("0,0", (0, 0)),
        ("1000,2000", (1000, 2000)),
        ("10000, 10000", (10000, 10000)),
        (" 5 , 007 ", (5, 7)),
    ],
)
def test_parse(value: str | None, expected: tuple[int, int]) -> None:
    assert parse(value) == expected


@pytest.mark.parametrize("value", ["", "1", "1,2,3", "a,b", "-1,5", "1.5,2", "１,2", "1;2"])
def test_parse_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match="two non-negative integers"):
        parse(value)


@pytest.mark.parametrize(
    ("own", "peer", "expected"),
    [
        ((3000, 5000), (5000, 3000), (3000, 5000)),
        ((3000, 5000), (6000, 2000), (3000, 6000)),
        ((3000, 5000), (0, 0), (0, 0)),
        ((3000, 5000), (10000, 0), (0, 10000)),
        ((0, 0), (10000, 0), (0, 0)),
        ((0, 100), (100, 0), (0, 100)),
    ],
)
def test_negotiate(own: tuple[int, int], peer: tuple[int, int], expected: tuple[int, int]) -> None:
    assert negotiate(own, peer) == expected
    # The other side's view is the mirror image.
    assert negotiate(peer, own) == (expected[1], expected[0])


# ---------------------------------------------------------------------------- the timer


def test_timer_sends_after_an_idle_interval() -> None:
    timer = HeartbeatTimer(1.0, 0, start=100.0)
    assert not timer.send_due(100.5, last_sent=100.0)
    assert timer.send_due(101.0, last_sent=100.0)
    assert not timer.send_due(101.0, last_sent=100.5)  # any write postpones it
    assert timer.next_check(100.5, last_sent=100.5, last_received=0.0) == 101.5


def test_timer_does_not_resend_after_a_failed_attempt() -> None:
    timer = HeartbeatTimer(1.0, 0, start=0.0)
    assert timer.send_due(5.0, last_sent=0.0)
    timer.attempted(5.0)  # the write failed: last_sent did not move
    assert not timer.send_due(5.5, last_sent=0.0)
    assert timer.send_due(6.0, last_sent=0.0)
    assert timer.next_check(5.0, last_sent=0.0, last_received=0.0) == 6.0


def test_timer_grace_for_the_first_heartbeat() -> None:
    # Silent from the start: the first timeout comes two receive timeouts after it.
    timer = HeartbeatTimer(0, 2.0, start=10.0)
    assert timer.silent_for(13.9, last_received=10.0) is None
    assert timer.next_check(13.9, last_sent=0.0, last_received=10.0) == 14.0
    assert timer.silent_for(14.0, last_received=10.0) is None
    assert timer.silent_for(14.1, last_received=10.0) == pytest.approx(4.1)


def test_timer_times_out_one_timeout_after_the_last_byte() -> None:
    timer = HeartbeatTimer(0, 2.0, start=0.0)
    assert timer.silent_for(21.9, last_received=20.0) is None
    assert timer.next_check(21.0, last_sent=0.0, last_received=20.0) == 22.0
    assert timer.silent_for(22.5, last_received=20.0) == pytest.approx(2.5)


def test_timer_with_nothing_to_watch() -> None:
    timer = HeartbeatTimer(0, 0, start=0.0)
    assert not timer.send_due(1e9, last_sent=0.0)
    assert timer.silent_for(1e9, last_received=0.0) is None
    assert timer.next_check(1e9, last_sent=0.0, last_received=0.0) is None


def test_timer_intervals_can_change() -> None:
    timer = HeartbeatTimer(0, 2.0, start=0.0)
    assert timer.silent_for(10.0, last_received=9.0) is None
    timer.receive_timeout = 0.5  # a test shortening receive_sleep, say
    assert timer.silent_for(10.0, last_received=9.0) == pytest.approx(1.0)


# ---------------------------------------------------------------------------- the heart-beater


class Link:
    """What a heart-beater watches, on a clock the test sets."""

    def __init__(self) -> None:
        self.now = 0.0
        self.last_sent = 0.0
        self.last_received = 0.0
        self.waiting = False
        self.sent: list[float] = []
        self.timeouts: list[float] = []
        self.fail_sends = False

    def send(self) -> None:
        if self.fail_sends:
            raise OSError("broken pipe")
        self.sent.append(self.now)
        self.last_sent = self.now

    def heartbeater(self, send: float, receive: float) -> Heartbeater:
        return Heartbeater(
            send,
            receive,
            send_heartbeat=self.send,
            last_sent=lambda: self.last_sent,
            last_received=lambda: self.last_received,
            bytes_waiting=lambda: self.waiting,
            on_timeout=self.timeouts.append,
            clock=lambda: self.now,
        )


def test_heartbeater_sends_on_time_on_its_clock() -> None:
    link = Link()
    beater = link.heartbeater(1.0, 0)
    assert beater.step() == 1.0
    link.now = 1.0
    assert beater.step() == 2.0
    assert link.sent == [1.0]
    link.now = 1.5
    link.last_sent = 1.5  # a frame went out
    assert beater.step() == 2.5
    link.now = 2.5
    beater.step()
    assert link.sent == [1.0, 2.5]


def test_heartbeater_survives_a_failing_send() -> None:
    link = Link()
    beater = link.heartbeater(1.0, 0)
    link.now = 1.0
    link.fail_sends = True
    assert beater.step() == 2.0  # not retried at once
    assert link.sent == [] and not beater.stopped


def test_heartbeater_times_out_once_and_stops() -> None:
    link = Link()
    beater = link.heartbeater(0, 1.0)
    link.now = 1.5
    assert beater.step() == 2.0  # the grace for the first heart-beat
    link.now = 2.5
    assert beater.step() is None
    assert link.timeouts == [2.5] and beater.stopped
    assert beater.step() is None and link.timeouts == [2.5]


def test_heartbeater_bytes_waiting_are_life() -> None:
    # A slow listener leaves bytes unread: that is not a dead broker.
    link = Link()
    beater = link.heartbeater(0, 1.0)
    link.now = 5.0
    link.waiting = True
    assert beater.step() == 6.0
    assert link.timeouts == []
    link.last_received = 5.5  # the reader caught up
    link.waiting = False
    link.now = 6.0
    assert beater.step() == 6.5
    link.now = 6.6
    assert beater.step() is None and link.timeouts == [pytest.approx(1.1)]


def test_heartbeater_update_applies_to_the_next_step() -> None:
    link = Link()
    beater = link.heartbeater(0, 2.0)
    link.now = 10.0
    link.last_received = 9.0
    assert beater.step() == 11.0
    beater.update(0, 0.5)
    assert (beater.send_interval, beater.receive_timeout) == (0, 0.5)
    assert beater.step() is None and link.timeouts == [1.0]


def test_heartbeater_stopped_does_nothing() -> None:
    link = Link()
    beater = link.heartbeater(1.0, 1.0)
    beater.stop()
    link.now = 100.0
    assert beater.step() is None
    assert link.sent == [] and link.timeouts == []


def test_heartbeater_thread_ends_when_nothing_to_watch(caplog: Any) -> None:
    link = Link()
    beater = link.heartbeater(0, 0)
    beater.start()
    beater.thread.join(2)
    assert not beater.thread.is_alive()
