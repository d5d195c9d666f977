"""Listener registration and dispatch, for transports.

A transport keeps its listeners in :attr:`ListenerDispatch.listeners` (a dict, as in
stomp.py) and calls them through tables of bound methods, one per callback, built when a
listener is registered or removed rather than looked up for every frame.  Listeners are
called in the sorted order of their names; a listener whose callback is
:class:`~stomp.listener.ConnectionListener`'s own no-op is left out of that callback's table.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from stomp.listener import ConnectionListener, Publisher

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


class ListenerDispatch(Publisher):
    """The listener registry of a transport and the calls to the listeners."""

    def __init__(self) -> None:
        self._callbacks: dict[str, tuple[Callable[..., Any], ...]] = {
            name: () for name in CALLBACKS
        }
        self.listeners: dict[Any, Any] = _ListenerRegistry(self._rebuild_callbacks)

    def set_listener(self, name: Any, listener: Any) -> None:
        """Register ``listener`` under ``name``, replacing any listener of that name.

        Listeners are called in the sorted order of their names.  Their methods are looked
        up here, once: a method assigned to a listener object after it was registered is
        seen only after it is registered again.
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
        ordered = _sorted_listeners(self.listeners)
        table: dict[str, tuple[Callable[..., Any], ...]] = {}
        for name in CALLBACKS:
            attribute = "on_" + name
            no_op = getattr(ConnectionListener, attribute)
            found = []
            for _, listener in ordered:
                method = getattr(listener, attribute, None)
                if method is None or getattr(type(listener), attribute, None) is no_op:
                    continue  # absent, or ConnectionListener's own no-op
                found.append(method)
            table[name] = tuple(found)
        self._callbacks = table

    def _call(self, kind: str, *args: Any) -> None:
        # Listener exceptions on library threads are logged and do not stop the others.
        for callback in self._callbacks[kind]:
            try:
                callback(*args)
            except Exception:
                log.exception("listener %r raised an exception in on_%s", callback, kind)
