"""Transports other than plain TCP: STOMP over WebSocket and broker-less multicast.

``stomp.adapter.ws`` and ``stomp.adapter.multicast`` are attributes of this package, as
in stomp.py, but each is imported only when first used: the WebSocket adapter needs the
``websocket-client`` package, which plain TCP users never load.
"""

from __future__ import annotations

import importlib
from typing import Any

from stomp import _namespace

__all__ = ["multicast", "stomp", "ws"]

_SUBMODULES = frozenset({"multicast", "ws"})


def __getattr__(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): import a submodule on first access.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    return _namespace.resolve(__name__, name)  # stomp (the package), as in stomp.py


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
