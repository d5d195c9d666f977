"""Listener registration and dispatch, for transports.

A transport keeps its listeners in :attr:`ListenerDispatch.listeners` (a dict, as in
stomp.py) and calls them through tables of bound methods, one per callback, rebuilt when a
listener is registered or removed (each table when first needed) rather than looked up for
every frame.  Listeners are called in the sorted order of their names; a listener whose
callback is :class:`~stomp.listener.ConnectionListener`'s own no-op is left out of that
callback's table, and so are a :class:`~stomp.listener.HeartbeatListener`'s callbacks for
the work a transport does itself when the listener is its own 1.1/1.2 connection object:
stamping every read as life, and the ``heart-beat`` header of CONNECT (the connection's
session writes it).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from stomp.listener import ConnectionListener, HeartbeatListener, Publisher

__all__ = ["CALLBACKS", "ListenerDispatch"]

log = logging.getLogger("stomp.py")

#: The listener callbacks, without their ``on_`` prefix.
CALLBACKS = (
    "connecting",
    "connected",
    "disconnecting",
    "disconnected",
    "heartbeat_timeout",
    "before_message",
    "message",
    "receipt",
    "error",
    "send",
    "heartbeat",
    "receiver_loop_completed",
    "reconnect_failed",
)


class _ListenerRegistry(dict[Any, Any]):
    """The ``listeners`` dict; any change rebuilds the transport's dispatch tables."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def _mutator(name: str) -> Any:  # type: ignore[misc]
        method = getattr(dict, name)

        @functools.wraps(method)
        def wrapper(self: _ListenerRegistry, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            self._changed()
            return result

        return wrapper

    pop = _mutator("pop")
    popitem = _mutator("popitem")
    clear = _mutator("clear")
    update = _mutator("update")
    setdefault = _mutator("setdefault")
    del _mutator


def _sorted_listeners(listeners: dict[Any, Any]) -> list[tuple[Any, Any]]:
    try:
        return sorted(listeners.items(), key=lambda item: item[0])
    except TypeError:  # names of mixed types: order them by their text
        return sorted(listeners.items(), key=lambda item: str(item[0]))


class _CallbackTable(dict[str, tuple[Callable[..., Any], ...]]):
    """The bound methods to call per callback, for one state of the registry.

    Each callback's tuple is built when it is first dispatched: a connection that is
    set up and closed again (three registrations, a handful of callbacks) does not pay for
    the callbacks it never calls.
    """

    __slots__ = ("_ordered", "_owner")

    def __init__(self, listeners: dict[Any, Any], owner: object = None) -> None:
        super().__init__()
        self._ordered = [listener for _, listener in _sorted_listeners(listeners)]
        self._owner = owner

    def __missing__(self, kind: str) -> tuple[Callable[..., Any], ...]:
        attribute = "on_" + kind
        no_op = _NO_OPS.get(attribute)
        done_by_owner = _OWN_TRANSPORT_DOES.get(attribute)
        found = []
        for listener in self._ordered:
            method = getattr(listener, attribute, None)
            if method is None:
                continue
            function = getattr(method, "__func__", None)
            if function is not None and (
                function is no_op
                or (
                    function is done_by_owner
                    and getattr(listener, "transport", None) is self._owner
                )
            ):
                continue  # ConnectionListener's own no-op, or work the transport does
            found.append(method)
        self[kind] = callbacks = tuple(found)
        return callbacks


# ConnectionListener's own no-op callbacks, by attribute name.
_NO_OPS = {"on_" + name: getattr(ConnectionListener, "on_" + name) for name in CALLBACKS}

# HeartbeatListener's callbacks that a transport does the work of for its own connection:
# noting that the broker was heard from, and asking for heart-beats in CONNECT.
_OWN_TRANSPORT_DOES = {
    "on_" + name: getattr(HeartbeatListener, "on_" + name)
    for name in ("message", "receipt", "error", "heartbeat", "send")
}


class ListenerDispatch(Publisher):
    """The listener registry of a transport and the calls to the listeners."""

    def __init__(self) -> None:
        self._callbacks: dict[str, tuple[Callable[..., Any], ...]] = _CallbackTable({})
        self.listeners: dict[Any, Any] = _ListenerRegistry(self._rebuild_callbacks)

    def set_listener(self, name: Any, listener: Any) -> None:
        """Register ``listener`` under ``name``, replacing any listener of that name.

        Listeners are called in the sorted order of their names.  Their methods are not
        looked up for every frame but once per callback after each change to the
        listeners: set a listener's methods before registering it.
        """
        if listener is None:
            raise AssertionError("'listener' is required")
        self.listeners[name] = listener

    def remove_listener(self, name: Any) -> None:
        """Unregister the listener registered under ``name`` (``KeyError`` if unknown)."""
        del self.listeners[name]

    def get_listener(self, name: Any) -> Any:
        """Return the listener registered under ``name``, or ``None``."""
        return self.listeners.get(name)

    def _rebuild_callbacks(self) -> None:
        self._callbacks = _CallbackTable(self.listeners, self)

    def _call(self, kind: str, *args: Any) -> None:
        # Listener exceptions on library threads are logged and do not stop the others.
        for callback in self._callbacks[kind]:
            try:
                callback(*args)
            except Exception:
                log.exception("listener %r raised an exception in on_%s", callback, kind)
