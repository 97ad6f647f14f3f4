"""The plugin's object cache: one stable random uid per live object, forgotten when it goes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Hashable

__all__ = ["ObjectCache"]


class ObjectCache:
    """Maps ``(kind, key)`` to a uid and back. Handing out the same object returns the same uid."""

    def __init__(self) -> None:
        self._uid_of: dict[tuple[str, Hashable], str] = {}
        self._entry_of: dict[str, tuple[str, Hashable]] = {}
        self._lock = threading.Lock()

    def uid(self, kind: str, key: Hashable) -> str:
        """The uid of an object, made on first use (a fresh random UUID string, as the plugin does)."""
        entry = (kind, key)
        with self._lock:
            found = self._uid_of.get(entry)
            if found is None:
                found = str(uuid.uuid4()).upper()
                self._uid_of[entry] = found
                self._entry_of[found] = entry
            return found

    def lookup(self, uid: str) -> tuple[str, Hashable] | None:
        """(kind, key) behind ``uid``, or None."""
        with self._lock:
            return self._entry_of.get(uid)

    def forget(self, kind: str, key: Hashable) -> None:
        """Drop an object that no longer exists; its uid becomes stale."""
        with self._lock:
            uid = self._uid_of.pop((kind, key), None)
            if uid is not None:
                self._entry_of.pop(uid, None)

    def uids(self) -> list[str]:
        """Every live uid."""
        with self._lock:
            return list(self._entry_of)
