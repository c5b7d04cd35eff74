"""Parse a remote TIFF's header from as few range requests as possible, and cache it.

tifffile parses from a file object. For a remote source, that object serves reads from the
byte ranges fetched so far; a read past them is recorded and aborts the parse, the missing
bytes are fetched (the first request is ``header_bytes`` long, each later one twice the
previous), and the parse starts again. A COG's header (all IFDs, tag arrays and GeoKeys at
the start of the file) usually fits the first request.

Parsed headers are cached per URL (:data:`HEADER_CACHE`): a second open of the same URL in the
process sends no request. The size and ETag recorded with the header are checked against
every later response, so an object replaced on the server is detected at its first read.
The cache keeps at most 256 headers and at most 64 MiB of them (the approximate memory of
each parsed header: its first bytes, tile tables, tags); ``RASTER_CORE_HEADER_CACHE_BYTES``
sets another byte budget for the process (read at every insertion).

Examples
--------
>>> f = PrefetchedFile(10, {0: b"01234"})
>>> f.read(3), f.tell()
(b'012', 3)
>>> try:
...     f.read(4)
... except NeedBytes as exc:
...     exc.start, exc.length
(5, 2)
"""

from __future__ import annotations

import io
import sys
import types
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from raster_core.errors import RasterReadError
from raster_core.io.lru import ByteLRU
from raster_core.limits import env_bytes

__all__ = [
    "PrefetchedFile",
    "NeedBytes",
    "parse_with_prefetch",
    "HeaderCache",
    "HEADER_CACHE",
    "approx_nbytes",
    "header_cache_bytes",
    "DEFAULT_HEADER_CACHE_BYTES",
]

T = TypeVar("T")

_NEAR = 256 * 1024  # a missing read this close to the fetched prefix extends the prefix


class NeedBytes(Exception):
    """A parse read bytes that were not fetched yet."""

    def __init__(self, start: int, length: int) -> None:
        super().__init__(f"bytes {start}..{start + length} are not fetched yet")
        self.start, self.length = start, length


class PrefetchedFile(io.RawIOBase):
    """A read-only file of ``size`` bytes of which only the ``chunks`` ({offset: bytes}) are known.

    A read that touches unknown bytes raises :class:`NeedBytes` and remembers it in
    :attr:`missing` (tifffile logs and swallows some errors; the caller checks ``missing``).
    """

    def __init__(self, size: int, chunks: dict[int, bytes], name: str = "remote") -> None:
        super().__init__()
        self.size = size
        self.chunks = dict(sorted(chunks.items()))
        self.name = name
        self.pos = 0
        self.missing: NeedBytes | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + int(offset))
        return self.pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), max(0, self.size - self.pos))
        if n == 0:
            return 0
        start, done = self.pos, 0
        first = self.chunks.get(0)
        if first is not None and start + n <= len(first):  # the usual case: inside the first bytes
            view[:n] = first[start : start + n]
            self.pos += n
            return n
        while done < n:
            at = start + done
            chunk = next(((o, c) for o, c in self.chunks.items() if o <= at < o + len(c)), None)
            if chunk is None:
                self.missing = NeedBytes(at, n - done)
                raise self.missing
            o, c = chunk
            take = min(n - done, o + len(c) - at)
            view[done : done + take] = c[at - o : at - o + take]
            done += take
        self.pos += n
        return n


def parse_with_prefetch(
    fetch: Callable[[int, int], bytes], size: int, first: bytes, parse: Callable[[PrefetchedFile], T],
    *, name: str = "remote", max_rounds: int = 64,
) -> T:
    """``parse(file)`` on a :class:`PrefetchedFile`, fetching missing bytes until it succeeds.

    ``first`` holds the bytes from offset 0 already fetched. A missing read near the fetched
    prefix doubles the prefix (or more if the read needs it); one far from it (an IFD at the
    end of a file) is fetched with a request at least twice the previous such request.

    Examples
    --------
    >>> blob = bytes(range(200))
    >>> calls = []
    >>> def fetch(s, n):
    ...     calls.append((s, n)); return blob[s:s + n]
    >>> parse_with_prefetch(fetch, 200, blob[:16], lambda f: (f.seek(150), f.read(4))[1])
    b'\\x96\\x97\\x98\\x99'
    >>> calls  # near the fetched prefix: the prefix grows to cover the read
    [(16, 138)]
    """
    chunks = {0: first}
    prefix_end = len(first)  # bytes [0, prefix_end) are fetched
    grow = max(1, len(first))
    for _ in range(max_rounds):
        f = PrefetchedFile(size, chunks, name)
        try:
            result = parse(f)
        except NeedBytes:
            pass
        except Exception:
            if f.missing is None:
                raise
        else:
            if f.missing is None:
                return result
        miss = f.missing
        assert miss is not None
        need_end = miss.start + miss.length
        if miss.start - prefix_end <= max(prefix_end, _NEAR):  # IFDs continue past the prefix: double it
            start, length = prefix_end, max(need_end - prefix_end, prefix_end)
        else:  # an IFD or tag array elsewhere (IFD at the end of a plain TIFF)
            grow *= 2
            start, length = miss.start, max(miss.length, grow)
        length = min(length, size - start)
        chunks[start] = fetch(start, length)
        if start == prefix_end:
            prefix_end = start + length
    raise RasterReadError(f"{name!r}: the TIFF header needs more than {max_rounds} requests")


DEFAULT_HEADER_CACHE_BYTES = 64 << 20


def header_cache_bytes() -> int:
    """The cache's byte budget: ``$RASTER_CORE_HEADER_CACHE_BYTES`` (a positive integer), else 64 MiB."""
    return env_bytes("RASTER_CORE_HEADER_CACHE_BYTES", DEFAULT_HEADER_CACHE_BYTES, 1)


_LEAVES = frozenset({int, float, bool, str, bytes, type(None)})


def approx_nbytes(obj: Any) -> int:
    """Approximate memory held by ``obj`` and what it refers to (containers, arrays, objects' attributes).

    Examples
    --------
    >>> approx_nbytes({"prefix": b"x" * 1000, "offsets": tuple(range(100))}) > 1000 + 100 * 28
    True
    """
    seen: set[int] = set()
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if type(o) in _LEAVES:  # most objects: counted without the identity bookkeeping
            total += sys.getsizeof(o)
            continue
        if id(o) in seen:
            continue
        seen.add(id(o))
        try:
            total += sys.getsizeof(o)
        except TypeError:  # pragma: no cover - objects without a size
            total += 64
        if isinstance(o, np.ndarray):
            total += 0 if o.base is not None else o.nbytes
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            if set(map(type, o)) == {int}:  # segment tables: counted whole, not int by int
                total += sum(map(sys.getsizeof, o))
            else:
                stack.extend(o)
        elif hasattr(o, "__dict__") and not isinstance(o, (type, types.ModuleType, types.FunctionType)):
            stack.append(vars(o))
    return total


class HeaderCache(ByteLRU):
    """Parsed headers by URL: ``{url: (size, etag, state)}``, least recently used dropped first.

    Bounded by entries (``max_entries``) and by bytes: the entries' sizes (given to :meth:`put`,
    see :func:`approx_nbytes`) add up to at most ``max_bytes`` (``None``: :func:`header_cache_bytes`,
    read at every :meth:`put`). An entry larger than the budget is not kept.

    Examples
    --------
    >>> cache = HeaderCache(max_entries=8, max_bytes=100)
    >>> cache.put("a", 10, None, {}, nbytes=60); cache.put("b", 10, None, {}, nbytes=60)
    >>> cache.get("a") is None, cache.get("b") is not None, cache.nbytes
    (True, True, 60)
    """

    def __init__(self, max_entries: int = 256, max_bytes: int | None = None) -> None:
        super().__init__()
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def _entry_bytes(self, entry: tuple[int, str | None, dict[str, Any], int]) -> int:
        return entry[3]  # as given to put

    def get(self, key: str) -> tuple[int, str | None, dict[str, Any]] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[:3]

    def put(self, key: str, size: int, etag: str | None, state: dict[str, Any], *, nbytes: int | None = None) -> None:
        """Keep ``state`` under ``key``; ``nbytes`` defaults to :func:`approx_nbytes` of ``state``."""
        if nbytes is None:
            nbytes = approx_nbytes(state)
        budget = header_cache_bytes() if self.max_bytes is None else self.max_bytes
        with self._lock:
            self._pop(key)
            if nbytes > budget:
                return
            self._add(key, (size, etag, state, nbytes))
            while len(self._entries) > self.max_entries or self._nbytes > budget:
                self._pop_oldest()

    def drop(self, key: str) -> None:
        with self._lock:
            self._pop(key)


HEADER_CACHE = HeaderCache()
