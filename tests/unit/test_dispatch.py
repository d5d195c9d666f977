"""stomp.dispatch alone: listener registration, order, and which callbacks are called."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from stomp.dispatch import ListenerDispatch
from stomp.listener import ConnectionListener, HeartbeatListener


class Calls(ConnectionListener):
    def __init__(self, log: list[Any], name: str) -> None:
        self.log = log
        self.name = name

    def on_message(self, frame: Any) -> None:
        self.log.append((self.name, "message", frame))


def test_set_listener_refuses_none() -> None:
    with pytest.raises(AssertionError):
        ListenerDispatch().set_listener("x", None)


def test_listeners_are_called_in_name_order() -> None:
    dispatch, log = ListenerDispatch(), []
    for name in ("b", "", "a"):
        dispatch.set_listener(name, Calls(log, name))
    dispatch._call("message", 1)
    assert [entry[0] for entry in log] == ["", "a", "b"]


def test_names_of_mixed_types_are_ordered_by_their_text() -> None:
    dispatch, log = ListenerDispatch(), []
    dispatch.set_listener(2, Calls(log, "two"))
    dispatch.set_listener("1", Calls(log, "one"))
    dispatch._call("message", None)
    assert [entry[0] for entry in log] == ["one", "two"]


def test_replace_remove_and_get() -> None:
    dispatch, log = ListenerDispatch(), []
    first = Calls(log, "first")
    dispatch.set_listener("x", first)
    assert dispatch.get_listener("x") is first
    dispatch._call("message", 1)
    dispatch.set_listener("x", Calls(log, "second"))
    dispatch._call("message", 2)
    dispatch.remove_listener("x")
    dispatch._call("message", 3)
    assert log == [("first", "message", 1), ("second", "message", 2)]
    assert dispatch.get_listener("x") is None
    with pytest.raises(KeyError):
        dispatch.remove_listener("x")


def test_changing_the_listeners_dict_directly_is_seen() -> None:
    dispatch, log = ListenerDispatch(), []
    dispatch.listeners.update(a=Calls(log, "a"))
    dispatch._call("message", 1)
    dispatch.listeners.pop("a")
    dispatch.listeners.setdefault("b", Calls(log, "b"))
    dispatch._call("message", 2)
    dispatch.listeners.clear()
    dispatch._call("message", 3)
    assert log == [("a", "message", 1), ("b", "message", 2)]


def test_only_real_callbacks_are_in_the_tables() -> None:
    dispatch = ListenerDispatch()
    plain = ConnectionListener()
    dispatch.set_listener("plain", plain)
    dispatch.set_listener("other", object())  # any object, with no callbacks at all
    assert dispatch._callbacks["message"] == ()
    # A function put on a listener before it is registered is a real callback.
    seen: list[Any] = []
    plain.on_message = seen.append  # type: ignore[method-assign]
    dispatch.set_listener("plain", plain)
    dispatch._call("message", "m")
    assert seen == ["m"]


def test_a_raising_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    dispatch, log = ListenerDispatch(), []

    class Raising(ConnectionListener):
        def on_message(self, frame: Any) -> None:
            raise ValueError("listener bug")

    dispatch.set_listener("a", Raising())
    dispatch.set_listener("b", Calls(log, "b"))
    with caplog.at_level(logging.ERROR, logger="stomp.py"):
        dispatch._call("message", 1)
    assert log == [("b", "message", 1)]
    assert "listener bug" in caplog.text


def test_a_heartbeat_listener_of_this_transport_is_left_out_where_it_does_its_work() -> None:
    dispatch = ListenerDispatch()
    own = HeartbeatListener(dispatch, (0, 0))
    foreign = HeartbeatListener(object(), (0, 0))
    dispatch.set_listener("own", own)
    dispatch.set_listener("foreign", foreign)
    for kind in ("message", "receipt", "error", "heartbeat", "send"):
        owners = [callback.__self__ for callback in dispatch._callbacks[kind]]
        assert owners == [foreign], kind
    assert [c.__self__ for c in dispatch._callbacks["connected"]] == [foreign, own]
