"""stomp-ng: a fast, reliable STOMP client, drop-in compatible with stomp.py 9.0.0.

The names below are those of stomp.py's package::

    import stomp

    conn = stomp.Connection12([("127.0.0.1", 61613)], vhost="/")  # RabbitMQ's virtual host
    conn.set_listener("", stomp.PrintingListener())
    conn.connect("guest", "guest", wait=True)

``stomp.Connection`` is the STOMP 1.1 connection, as in stomp.py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stomp import _version, connect, constants, exception, listener, log, protocol, transport, utils
from stomp.connect import StompConnection10, StompConnection11, StompConnection12
from stomp.listener import ConnectionListener, PrintingListener, StatsListener, WaitingListener
from stomp.reconnect import ReconnectPolicy

#: The stomp.py API level this package matches.  Code written for stomp.py compares it
#: (``stomp.__version__``, :func:`tuple_version`), so it carries stomp.py's version number.
__version__: str | tuple[int, ...] = _version.API_VERSION

#: The version of the stomp-ng distribution itself.
__ng_version__ = _version.__version__

Connection10 = StompConnection10
Connection11 = StompConnection11
Connection12 = StompConnection12
Connection = StompConnection11


if TYPE_CHECKING:  # (what the names loaded on first use are, for type checkers)
    from stomp import adapter as adapter
    from stomp.adapter.ws import WSStompConnection as WSConnection
    from stomp.adapter.ws import WSStompConnection as WSStompConnection

# Loaded on first use (PEP 562), so that ``import stomp`` neither pays for nor depends on
# websocket-client: ``stomp.WSConnection`` and ``stomp.adapter`` work as in stomp.py.
_LAZY = {
    "WSConnection": ("stomp.adapter.ws", "WSStompConnection"),
    "WSStompConnection": ("stomp.adapter.ws", "WSStompConnection"),
    "adapter": ("stomp.adapter", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def tuple_version() -> tuple[int, ...]:
    """Turn ``stomp.__version__`` into a tuple of ints, in place, and return it.

    stomp.py 8.x/9.x replace the module's ``__version__`` string with a tuple such as
    ``(9, 0, 0)`` and return ``None``; callers then read ``stomp.__version__``.  This does the
    same and also returns the tuple.
    """
    global __version__
    if not isinstance(__version__, tuple):
        digits = "".join(c for c in __version__ if c.isdigit() or c == ".")
        __version__ = tuple(int(part) for part in digits.split(".") if part)
    return __version__


__all__ = [
    "Connection",
    "Connection10",
    "Connection11",
    "Connection12",
    "ConnectionListener",
    "PrintingListener",
    "ReconnectPolicy",
    "StatsListener",
    "StompConnection10",
    "StompConnection11",
    "StompConnection12",
    "WSConnection",
    "WSStompConnection",
    "WaitingListener",
    "adapter",
    "connect",
    "constants",
    "exception",
    "listener",
    "log",
    "protocol",
    "transport",
    "tuple_version",
    "utils",
]


#: The warning ``import stomp`` gives when stomp.py is installed beside stomp-ng.
_MIXED_INSTALL_WARNING = (
    "stomp.py and stomp-ng are both installed in {where}: they share the 'stomp' package, "
    "so uninstalling stomp.py would delete files of stomp-ng (leaving 'import stomp' empty "
    "and no 'stomp' command). Fix: pip uninstall -y stomp.py && pip install "
    "--force-reinstall stomp-ng"
)


def _warn_if_installed_beside_stomp_py() -> None:
    # stomp.py's metadata (stomp.py-<version>.dist-info, or stomp_py-...) in the directory
    # this package was installed into: both own the stomp/ files (one directory listing).
    import os

    where = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with os.scandir(where) as entries:
            mixed = any(
                entry.name.startswith(("stomp.py-", "stomp_py-"))
                and entry.name.endswith((".dist-info", ".egg-info"))
                for entry in entries
            )
    except OSError:
        return
    if mixed:
        import warnings

        warnings.warn(_MIXED_INSTALL_WARNING.format(where=where), RuntimeWarning, stacklevel=2)


_warn_if_installed_beside_stomp_py()
