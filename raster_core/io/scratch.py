"""Per-thread scratch buffers for the bytes a read fetches and the tiles it decodes.

A read's compressed bytes and its decoded tile live only while the read runs; taking them
from a buffer the thread keeps, instead of a fresh allocation per read, spares the page faults
of fresh memory. That matters in Dask's worker processes, which set glibc's trim threshold so
low (``MALLOC_TRIM_THRESHOLD_``) that every allocation of more than 128 KiB is a new mapping,
faulted in page by page and unmapped when freed.

A buffer grows to the largest request of its thread (up to :data:`MAX_SCRATCH_BYTES`; larger
requests get a fresh ``bytearray``) and is overwritten by the thread's next request of the same
name: callers must be done with it before asking again. :func:`release_scratch` drops every
thread's buffers (a view still in use keeps its own memory alive until it is dropped).

Examples
--------
>>> buf = scratch("example", 10)
>>> len(buf), buf.readonly
(10, False)
>>> scratch("example", 4).obj is buf.obj        # the same memory, reused
True
"""

from __future__ import annotations

import threading
import weakref

__all__ = ["MAX_SCRATCH_BYTES", "release_scratch", "scratch", "scratch_bytes"]

#: largest buffer a thread keeps per name (a span of a few 512-px tiles is ~2 MB)
MAX_SCRATCH_BYTES = 32 << 20

_local = threading.local()
# every thread's buffer dict, so that one thread can release them all; a thread's dict leaves
# with the thread (its thread-local storage is its only strong reference)
_all_buffers: weakref.WeakSet[_Buffers] = weakref.WeakSet()
_all_lock = threading.Lock()


class _Buffers:
    """A thread's buffers by name (a plain dict cannot be weakly referenced)."""

    __slots__ = ("by_name", "__weakref__")

    def __init__(self) -> None:
        self.by_name: dict[str, bytearray] = {}


def scratch(name: str, nbytes: int) -> memoryview:
    """A writable view of ``nbytes`` bytes of this thread's buffer ``name`` (its previous
    contents are garbage), or of a new ``bytearray`` when ``nbytes`` is over
    :data:`MAX_SCRATCH_BYTES`.

    Parameters
    ----------
    name
        Which of the thread's buffers (callers that may be live at once use different names).
    nbytes
        Bytes needed.

    Returns
    -------
    memoryview
        ``nbytes`` long, format ``"B"``.

    Examples
    --------
    >>> v = scratch("doc", 3)
    >>> v[:] = b"abc"
    >>> bytes(scratch("doc", 2))
    b'ab'
    """
    n = int(nbytes)
    if n > MAX_SCRATCH_BYTES:
        return memoryview(bytearray(n))
    owned: _Buffers | None = getattr(_local, "buffers", None)
    if owned is None:
        owned = _local.buffers = _Buffers()
        with _all_lock:
            _all_buffers.add(owned)
    buffers = owned.by_name
    buf = buffers.get(name)
    if buf is None or len(buf) < n:
        buf = buffers[name] = bytearray(max(n, min(2 * len(buf), MAX_SCRATCH_BYTES)) if buf is not None else n)
    return memoryview(buf)[:n]


def scratch_bytes() -> int:
    """Bytes held by the scratch buffers of all live threads.

    Examples
    --------
    >>> _ = scratch("doc-bytes", 1000)
    >>> scratch_bytes() >= 1000
    True
    """
    with _all_lock:
        every = list(_all_buffers)
    return sum(len(buf) for owned in every for buf in list(owned.by_name.values()))


def release_scratch() -> int:
    """Drop the scratch buffers of every thread; returns the bytes they held.

    A thread that asks again later gets new buffers. Memory a caller still views (a read in
    progress in another thread) stays valid: it is freed when that view is dropped.

    Examples
    --------
    >>> _ = scratch("doc-release", 1000)
    >>> release_scratch() >= 1000, scratch_bytes()
    (True, 0)
    """
    with _all_lock:
        every = list(_all_buffers)
    freed = 0
    for owned in every:
        # a new dict for another thread's buffers: that thread's next call finds none and
        # allocates (one attribute store, atomic under the GIL; no lock in the hot path)
        dropped, owned.by_name = owned.by_name, {}
        freed += sum(len(buf) for buf in list(dropped.values()))
    return freed
