"""stomp.py's module namespaces: the names re-exported, and those resolved on first use.

stomp.py's modules star-import one another and import standard-library modules at the top,
and none defines ``__all__``: ``from stomp.transport import *`` gives about ninety names,
``os``, ``re``, ``socket``, ``ssl``, ``LOCALHOST_NAMES`` and the listener classes among
them, and user code and test helpers rely on that.  Each of stomp-ng's modules of the same
name lists those names in its ``__all__``.  The costly ones (:data:`LAZY_NAMES`) are not
computed at import: the module's ``__getattr__`` resolves them when first read, so
``import stomp`` pays for none of them.  A star import reads every name in ``__all__`` and
so resolves them, which costs what stomp.py's own import costs.

Reloading a module (``importlib.reload``) forgets what it had resolved, so the names are
computed again under the conditions of the reload, as in stomp.py, whose users' tests
reload ``stomp.utils`` with ``STOMP_SKIP_HOSTNAME_SCAN`` set, or ``stomp.transport`` with
``ssl.PROTOCOL_TLS_CLIENT`` removed.
"""

from __future__ import annotations

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


_RESOLVERS: dict[str, Callable[[], Any]] = {
    "ssl": ssl_module,
    "uuid": lambda: importlib.import_module("uuid"),
    "DEFAULT_SSL_VERSION": lambda: getattr(ssl_module(), "PROTOCOL_TLS_CLIENT", None),
    "SSLError": _ssl_error,
    # The package itself (stomp.py's modules import it): bound on first use, not imported
    # from below.
    "stomp": lambda: sys.modules["stomp"],
}

#: The names resolved on first use wherever a module exposes them.
LAZY_NAMES: Final = frozenset({*_RESOLVERS, "LOCALHOST_NAMES"})


def register(name: str, resolver: Callable[[], Any]) -> None:
    """Say how lazy ``name`` is computed, for the names a higher module owns
    (``LOCALHOST_NAMES``, registered by :mod:`stomp.utils` when it loads)."""
    if name not in LAZY_NAMES:
        raise ValueError(f"{name!r} is not a lazy name")
    _RESOLVERS[name] = resolver


def reexport(namespace: MutableMapping[str, Any], *modules: ModuleType) -> list[str]:
    """Bind the public names of ``modules`` (their ``__all__``) into ``namespace``.

    Names in :data:`LAZY_NAMES` are not read (that would compute them): the module's
    ``__getattr__`` resolves them (see :func:`resolve`; call :func:`forget` too).

    Returns:
        Every name of the modules' ``__all__``, in order, without repeats: for the
        re-exporting module's own ``__all__``.
    """
    names: list[str] = []
    for module in modules:
        for name in module.__all__:
            if name not in LAZY_NAMES:
                namespace[name] = getattr(module, name)
            if name not in names:
                names.append(name)
    return names


def forget(namespace: MutableMapping[str, Any]) -> None:
    """Drop the lazy names' values ``namespace`` holds (resolved before a reload; on the
    first import there are none), so that they are computed afresh on first use.  A
    module's own code must not rely on these names as globals."""
    for name in LAZY_NAMES:
        namespace.pop(name, None)


def resolve(module_name: str, name: str) -> Any:
    """For a module's ``__getattr__``: compute lazy ``name`` and keep it in the module.

    Raises:
        AttributeError: the module does not expose ``name`` lazily.
    """
    module = sys.modules[module_name]
    resolver = _RESOLVERS.get(name)
    if resolver is None or name not in getattr(module, "__all__", ()):
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
    value = resolver()
    setattr(module, name, value)  # later reads skip __getattr__
    return value
