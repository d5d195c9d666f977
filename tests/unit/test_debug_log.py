"""DEBUG logging of frames, both ways (stomp.py logs received frames too): passcodes
masked, long bodies cut short."""

from __future__ import annotations

import logging

from support.fakebroker import EventLog


def test_received_and_sent_frames_are_logged_masked_and_short(broker, make_conn, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="stomp.py")
    conn = make_conn(broker, "1.2")
    events = EventLog()
    conn.set_listener("events", events)
    conn.connect("user", "s3cr3t-pass", wait=True)
    conn.send("/queue/a", "b" * 5000)
    broker.last.send_frame("MESSAGE", {"destination": "/queue/a", "passcode": "leaked"}, "m" * 5000)
    events.wait_for("message")
    conn.disconnect()

    lines = [r.getMessage() for r in caplog.records if r.name == "stomp.py"]
    received = [line for line in lines if line.startswith("received frame: 'MESSAGE'")]
    assert len(received) == 1
    assert "'passcode': '********'" in received[0]
    assert "leaked" not in received[0]
    assert "... (+4800 more)" in received[0]
    assert len(received[0]) < 600
    assert any(line.startswith("received frame: 'CONNECTED'") for line in lines)

    sent = [line for line in lines if line.startswith("sending frame: ")]
    connect = next(line for line in sent if "login:user" in line)
    assert "passcode:********" in connect and "s3cr3t" not in connect
    send = next(line for line in sent if "SEND" in line)
    assert "... (+4801 more bytes)" in send  # (the body past 200, and the NUL)
    assert len(send) < 600
    assert not any("s3cr3t" in line for line in lines)
