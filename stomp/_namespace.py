"""stomp.py's module namespaces: the names re-exported, and those resolved on first use.

stomp.py's modules star-import one another and import standard-library modules at the top,
and none defines ``__all__``: ``from stomp.transport import *`` gives about ninety names,
``os``, ``re``, ``socket``, ``ssl``, ``LOCALHOST_NAMES``, every helper of ``stomp.utils``
and the listener classes among them, and user code and test helpers rely on that.  Each of
stomp-ng's modules of the same name lists those names in its ``__all__``.

Names a module does not need itself are not computed at its import: its ``__getattr__``
resolves them when first read (:func:`resolve`), so ``import stomp`` pays for none of
them and the library's own modules do not depend on the compatibility modules.  These are
the costly ones (:data:`LAZY_NAMES`: ``ssl``, ``uuid``, ...), and the helpers of
``stomp.utils`` (:data:`UTILS_NAMES`), which are taken from :mod:`stomp.utils` itself.
A star import reads every name in ``__all__`` and so resolves them, which costs what
stomp.py's own import costs.

Reloading a module (``importlib.reload``) forgets what it had resolved, so the names are
computed again under the conditions of the reload, as in stomp.py, whose users' tests
reload ``stomp.utils`` with ``STOMP_SKIP_HOSTNAME_SCAN`` set, or ``stomp.transport`` with
``ssl.PROTOCOL_TLS_CLIENT`` removed.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, MutableMapping
from types import ModuleType
from typing import Any, Final


class NoSSLError(OSError):
    """Stands for ``ssl.SSLError`` on a Python built without OpenSSL."""


def ssl_module() -> Any:
    """The :mod:`ssl` module, imported now if need be (``None`` without OpenSSL)."""
    try:
        import ssl
    except ImportError:  # pragma: no cover - Python built without OpenSSL
        return None
    return ssl


def _ssl_error() -> type[Exception]:
    ssl = ssl_module()
    return ssl.SSLError if ssl is not None else NoSSLError


_RESOLVERS: Final[dict[str, Callable[[], Any]]] = {
    "ssl": ssl_module,
    "uuid": lambda: importlib.import_module("uuid"),
    "copy": lambda: importlib.import_module("copy"),
    "DEFAULT_SSL_VERSION": lambda: getattr(ssl_module(), "PROTOCOL_TLS_CLIENT", None),
    "SSLError": _ssl_error,
    # The package itself and its compatibility module (stomp.py's modules import them):
    # bound on first use, not imported from below.
    "stomp": lambda: sys.modules["stomp"],
    "utils": lambda: _utils(),
}

#: The names resolved on first use wherever a module exposes them (see :func:`resolve`).
LAZY_NAMES: Final = frozenset(_RESOLVERS)

#: stomp.py 9.0.0's ``stomp.utils`` names without the constants (which ``stomp.utils``
#: re-exports from :mod:`stomp.constants`), the modules it imports included: the
#: ``__all__`` of :mod:`stomp.utils`, and what the modules that star-import it in stomp.py
#: (transport, connect, the adapters) resolve from it on first use.
UTILS_NAMES: Final = (
    "ENC_NEWLINE",
    "ENC_NULL",
    "HEADER_LINE_RE",
    "HEARTBEAT_FRAME",
    "HOSTNAME_SCAN_TIMEOUT",
    "LINE_END_RE",
    "LOCALHOST_NAMES",
    "NULL",
    "PASSCODE_RE",
    "PREAMBLE_END_RE",
    "Frame",
    "PollableQueue",
    "calculate_heartbeats",
    "clean_headers",
    "clean_lines",
    "convert_frame",
    "copy",
    "decode",
    "default_create_thread",
    "encode",
    "get_errno",
    "get_uuid",
    "is_eol_default",
    "is_localhost",
    "join",
    "length",
    "merge_headers",
    "os",
    "pack",
    "parse_frame",
    "parse_headers",
    "queue",
    "re",
    "socket",
    "threading",
    "uuid",
)

_UTILS_NAMES: Final = frozenset(UTILS_NAMES)

# The names resolve() has bound, by module: forget() drops them.
_resolved: dict[str, set[str]] = {}


# stomp.utils, once it has registered itself (see provide_utils).
_utils_module: ModuleType | None = None


def provide_utils(module: ModuleType) -> None:
    """Called by :mod:`stomp.utils` when it loads (the package imports it): the module the
    :data:`UTILS_NAMES` of the other modules are taken from."""
    global _utils_module
    _utils_module = module


def _utils() -> ModuleType:
    if _utils_module is None:
        raise AttributeError("stomp.utils' names are read before stomp.utils was loaded")
    return _utils_module


def _from_utils(name: str) -> Any:
    return getattr(_utils(), name)


def reexport(namespace: MutableMapping[str, Any], *modules: ModuleType) -> list[str]:
    """Bind the public names of ``modules`` (their ``__all__``) into ``namespace``.

    Only the names a module already holds are bound; the others (those it resolves on
    first use) are left to the re-exporting module's ``__getattr__`` (see
    :func:`resolve`; call :func:`forget` too), so re-exporting computes nothing.

    Returns:
        Every name of the modules' ``__all__``, in order, without repeats: for the
        re-exporting module's own ``__all__``.
    """
    names: list[str] = []
    for module in modules:
        held = vars(module)
        for name in module.__all__:
            if name in held and name not in LAZY_NAMES:
                namespace[name] = held[name]
            if name not in names:
                names.append(name)
    return names


def forget(namespace: MutableMapping[str, Any]) -> None:
    """Drop the lazy names' values ``namespace`` holds (resolved before a reload; on the
    first import there are none), so that they are computed afresh on first use.  A
    module's own code must not rely on these names as globals."""
    for name in LAZY_NAMES | _resolved.pop(namespace.get("__name__", ""), set()):
        namespace.pop(name, None)


def resolve(module_name: str, name: str) -> Any:
    """For a module's ``__getattr__``: compute lazy ``name`` and keep it in the module.

    ``name`` must be in the module's ``__all__``: one of :data:`LAZY_NAMES`, or one of
    :data:`UTILS_NAMES` (taken from :mod:`stomp.utils`).

    Raises:
        AttributeError: the module does not expose ``name`` lazily.
    """
    module = sys.modules[module_name]
    resolver = _RESOLVERS.get(name)
    if resolver is None and name in _UTILS_NAMES and module is not _utils_module:
        resolver = functools.partial(_from_utils, name)
    if resolver is None or name not in getattr(module, "__all__", ()):
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    value = resolver()
    setattr(module, name, value)  # later reads skip __getattr__
    _resolved.setdefault(module_name, set()).add(name)
    return value
