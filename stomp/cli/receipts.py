"""The receipts the command-line client waits for.

The shell asks for receipts in two ways: ``sendrec`` waits for its one receipt and prints
it (:data:`AWAITED`), and a script's SENDs carry receipts that are waited for, all
together, before the script ends and printed only in verbose mode (:data:`SILENT`).
:class:`Receipts` is their bookkeeping, shared by the shell's thread (which asks and waits)
and the receiver thread (which settles them, or reports the connection lost).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Final

from stomp.session import random_id

#: Seconds the client waits for the broker: to connect, for a receipt (``sendrec``, the
#: end of a script) and for the receipt of DISCONNECT.
TIMEOUT: Final = 10.0

#: A script's SEND: its receipt is printed only in verbose mode.
SILENT = "silent"
#: ``sendrec``: its receipt is printed without a prompt after it (the shell waits).
AWAITED = "awaited"


class Receipts:
    """Receipt ids asked for and not yet received, each with its kind."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._pending: dict[str, str] = {}
        self._lost = False

    @property
    def pending(self) -> dict[str, str]:
        """A copy of the receipts waited for: id -> :data:`SILENT` or :data:`AWAITED`."""
        with self._changed:
            return dict(self._pending)

    @property
    def lost(self) -> bool:
        """Whether the connection ended (no receipt can come any more)."""
        return self._lost

    def expect(self, kind: str) -> str:
        """A new receipt id, now waited for as ``kind``."""
        receipt_id = random_id()
        with self._changed:
            self._pending[receipt_id] = kind
        return receipt_id

    def kind(self, receipt_id: str | None) -> str | None:
        """The kind of a receipt waited for, ``None`` for any other."""
        if receipt_id is None:
            return None
        with self._changed:
            return self._pending.get(receipt_id)

    def of_kind(self, kind: str) -> list[str]:
        """The ids waited for as ``kind``."""
        with self._changed:
            return [receipt_id for receipt_id, k in self._pending.items() if k == kind]

    def settle(self, receipt_id: str | None) -> None:
        """Stop waiting for ``receipt_id`` (it arrived, or the broker refused its frame)."""
        if receipt_id is None:
            return
        with self._changed:
            if self._pending.pop(receipt_id, None) is not None:
                self._changed.notify_all()

    def connection_lost(self) -> None:
        """The connection ended: every wait returns now."""
        with self._changed:
            self._lost = True
            self._changed.notify_all()

    def reconnected(self) -> None:
        """A new connection: receipts are waited for again (none is pending)."""
        with self._changed:
            self._lost = False
            self._pending.clear()

    def wait(self, receipt_ids: Iterable[str], timeout: float) -> set[str]:
        """Wait until none of ``receipt_ids`` is pending (or the connection is gone, or
        ``timeout`` passed); forget and return those still missing."""
        wanted = set(receipt_ids)
        with self._changed:
            self._changed.wait_for(lambda: self._lost or not wanted & self._pending.keys(), timeout)
            missing = wanted & self._pending.keys()
            for receipt_id in missing:
                del self._pending[receipt_id]
        return missing
