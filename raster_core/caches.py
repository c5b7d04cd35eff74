"""The memory raster_core keeps between calls, and how to give it back.

Reads keep three kinds of memory for the next call in the same process:

* parsed GeoTIFF headers by URL (bounded, ``RASTER_CORE_HEADER_CACHE_BYTES``), so a second open
  of a remote file costs no request;
* decoded tiles cut at a read window's edge, for the reads of the neighbouring windows (bounded,
  ``RASTER_CORE_TILE_CACHE_BYTES``);
* each thread's scratch buffers for fetched bytes, decoded tiles and warped pieces (at most
  32 MiB per buffer, a few buffers per thread), which spare fresh memory on every read.

An application that is done with rasters for a while (a long-lived service between requests, a
notebook after a large load) calls :func:`clear_caches`; the next call works as usual and
rebuilds what it needs. Compiled kernels are not memory of this kind: they stay loaded.

Examples
--------
>>> from raster_core import clear_caches
>>> sorted(clear_caches())
['headers', 'scratch', 'tiles']
"""

from __future__ import annotations

__all__ = ["clear_caches"]


def clear_caches() -> dict[str, int]:
    """Drop the parsed headers, the decoded tiles kept for neighbouring reads and every thread's
    scratch buffers.

    Thread-safe: a read running in another thread keeps the memory it is using until it is done
    with it, and its next read allocates anew.

    Returns
    -------
    dict
        Bytes released per cache: ``{"headers": ..., "tiles": ..., "scratch": ...}`` (the
        headers' bytes are estimates, as their cache counts them).

    Examples
    --------
    >>> from raster_core.io.scratch import scratch, scratch_bytes
    >>> _ = scratch("example", 1 << 20)
    >>> freed = clear_caches()
    >>> freed["scratch"] >= 1 << 20, scratch_bytes()
    (True, 0)
    """
    from raster_core.io.scratch import release_scratch
    from raster_core.io.tiff_header import HEADER_CACHE
    from raster_core.io.tile_cache import clear_tile_cache

    return {"headers": HEADER_CACHE.clear(), "tiles": clear_tile_cache(), "scratch": release_scratch()}
