"""The bookkeeping shared by the reader's in-memory caches: entries in least-recently-used order,
the bytes they hold, one lock.

Examples
--------
>>> class Sized(ByteLRU):
...     def _entry_bytes(self, entry):
...         return len(entry)
>>> cache = Sized()
>>> with cache._lock:
...     cache._add("a", b"xyz"); cache._add("b", b"hi"); cache._pop_oldest()
>>> len(cache), cache.nbytes
(1, 2)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class ByteLRU:
    """Entries by key in least-recently-used order and the bytes they hold; subclasses say how
    many bytes an entry holds (:meth:`_entry_bytes`) and take ``_lock`` around the ``_`` methods."""

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def _entry_bytes(self, entry: Any) -> int:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """Bytes held by the entries."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._entries)

    def _add(self, key: Hashable, entry: Any) -> None:
        """Put ``entry`` under ``key`` as the most recently used (replacing any entry of ``key``)."""
        self._pop(key)
        self._entries[key] = entry
        self._nbytes += self._entry_bytes(entry)

    def _pop(self, key: Hashable) -> Any:
        """Remove and return the entry of ``key`` (None when there is none)."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._nbytes -= self._entry_bytes(entry)
        return entry

    def _pop_oldest(self) -> None:
        self._pop(next(iter(self._entries)))

    def clear(self) -> int:
        """Drop every entry; returns the bytes they held."""
        with self._lock:
            freed = self._nbytes
            self._entries.clear()
            self._nbytes = 0
        return freed
