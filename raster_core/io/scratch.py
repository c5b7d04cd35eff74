"""Per-thread scratch buffers for the bytes a read fetches and the tiles it decodes.

A read's compressed bytes and its decoded tile live only while the read runs; taking them
from a buffer the thread keeps, instead of a fresh allocation per read, spares the page faults
of fresh memory. That matters in Dask's worker processes, which set glibc's trim threshold so
low (``MALLOC_TRIM_THRESHOLD_``) that every allocation of more than 128 KiB is a new mapping,
faulted in page by page and unmapped when freed.

A buffer grows to the largest request of its thread (up to :data:`MAX_SCRATCH_BYTES`; larger
requests get a fresh ``bytearray``) and is overwritten by the thread's next request of the same
name: callers must be done with it before asking again.

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

__all__ = ["MAX_SCRATCH_BYTES", "scratch"]

#: largest buffer a thread keeps per name (a span of a few 512-px tiles is ~2 MB)
MAX_SCRATCH_BYTES = 32 << 20

_local = threading.local()


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
    buffers: dict[str, bytearray] | None = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    buf = buffers.get(name)
    if buf is None or len(buf) < n:
        buf = buffers[name] = bytearray(max(n, min(2 * len(buf), MAX_SCRATCH_BYTES)) if buf is not None else n)
    return memoryview(buf)[:n]
