"""Decoded tiles that a read cut at its window's edge, kept per process for the reads of the
neighbouring windows.

Adjacent chunks of a load read adjacent windows of a file, and a compressed tile that crosses
their common border would be decoded once per window. A read keeps such a tile (decoded, all
its samples) with the number of neighbouring windows that may still need it (one per side of
the window the tile reaches past, inside the image, plus the diagonal ones); each later read
of it uses one, and the last use drops it. Tiles inside a window are not kept, nor tiles
smaller than :data:`MIN_CACHED_TILE_BYTES` decoded. The cache is
bounded in bytes (least recently used dropped first); entries are keyed by the file's identity
(device, inode, modification time and size of the open file), the IFD and the tile, so a
changed file never meets its old tiles.

``RASTER_CORE_TILE_CACHE_BYTES`` sets the bound for a process (default 64 MiB; 0 turns the
cache off).

Examples
--------
>>> import numpy as np
>>> cache = TileCache(1 << 20)
>>> tile = np.zeros((4, 4, 1), dtype=np.uint8)
>>> cache.put(("file", 0, 7), tile, uses=1)
>>> cache.get(("file", 0, 7)) is tile     # its one use: taken and dropped
True
>>> cache.get(("file", 0, 7)) is None
True
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

import numpy as np

from raster_core.io.lru import ByteLRU
from raster_core.limits import env_bytes

__all__ = ["TileCache", "tile_cache", "clear_tile_cache", "DEFAULT_TILE_CACHE_BYTES", "MIN_CACHED_TILE_BYTES",
           "tile_cache_bytes", "other_readers"]

#: Default bound of the decoded tiles kept per process: 64 MiB.
DEFAULT_TILE_CACHE_BYTES = 64 << 20
#: Tiles smaller than this (decoded) are not kept: decoding one (64 x 64 uint16: about 20 us)
#: costs about what the bookkeeping of the cut tiles of a read does.
MIN_CACHED_TILE_BYTES = 32 << 10


def tile_cache_bytes() -> int:
    """``$RASTER_CORE_TILE_CACHE_BYTES`` when set (an integer >= 0), else :data:`DEFAULT_TILE_CACHE_BYTES`.

    Examples
    --------
    >>> tile_cache_bytes() >= 0
    True
    """
    return env_bytes("RASTER_CORE_TILE_CACHE_BYTES", DEFAULT_TILE_CACHE_BYTES, 0)


def other_readers(tile: tuple[int, int, int, int], window: tuple[int, int, int, int],
                  size: tuple[int, int]) -> int:
    """How many neighbouring windows may read the rest of a tile that ``window`` reads: the
    sides of the window the tile reaches past (inside the image), along x ``h`` and along y
    ``v``, give ``h + v + h * v`` (the diagonal neighbours too); 0 for a tile inside the window.

    Parameters
    ----------
    tile, window
        ``(col, row, width, height)`` in the image's pixels.
    size
        The image's ``(width, height)``.

    Examples
    --------
    >>> other_readers((0, 0, 512, 512), (0, 0, 512, 512), (2048, 2048))   # inside
    0
    >>> other_readers((0, 0, 512, 512), (0, 0, 300, 512), (2048, 2048))   # cut on the right
    1
    >>> other_readers((0, 0, 512, 512), (100, 100, 300, 300), (2048, 2048))  # on all sides
    8
    >>> other_readers((0, 0, 512, 512), (0, 0, 300, 300), (300, 300))     # the image ends there
    0
    """
    tc, tr, tw, th = tile
    c0, r0, w, h = window
    tc1, tr1 = min(tc + tw, size[0]), min(tr + th, size[1])
    across = (tc < c0) + (tc1 > c0 + w)
    down = (tr < r0) + (tr1 > r0 + h)
    return int(across + down + across * down)


class TileCache(ByteLRU):
    """Decoded tiles by key, each with its remaining uses, bounded by ``max_bytes``
    (thread-safe; the tiles are read-only)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = int(max_bytes)

    def _entry_bytes(self, entry: tuple[np.ndarray, int]) -> int:
        return entry[0].nbytes

    def get(self, key: Hashable) -> np.ndarray | None:
        """The tile of ``key`` (one of its uses; the last drops it), or None."""
        with self._lock:
            entry = self._pop(key)
            if entry is None:
                return None
            tile, uses = entry
            if uses > 1:
                self._add(key, (tile, uses - 1))  # now the most recently used
            return tile

    def put(self, key: Hashable, tile: np.ndarray, uses: int) -> None:
        """Keep ``tile`` (not copied: the caller gives it up) for ``uses`` later reads, dropping
        the least recently used tiles beyond the bound; a tile larger than the bound is not kept."""
        if uses < 1 or tile.nbytes > self.max_bytes:
            return
        tile.setflags(write=False)
        with self._lock:
            self._add(key, (tile, int(uses)))
            while self._nbytes > self.max_bytes:
                self._pop_oldest()


_cache: list[TileCache] = []
_cache_lock = threading.Lock()


def tile_cache() -> TileCache:
    """The process's cache of decoded tiles, bounded by :func:`tile_cache_bytes` when first used.

    Examples
    --------
    >>> tile_cache() is tile_cache()
    True
    """
    if not _cache:
        size = tile_cache_bytes()  # a bad setting is the caller's error, raised by the read
        with _cache_lock:
            if not _cache:
                _cache.append(TileCache(size))
    return _cache[0]


def clear_tile_cache() -> int:
    """Drop every tile of the process's cache (if one was made); returns the bytes they held.

    Examples
    --------
    >>> tile_cache().put(("doc", 0, 0), np.zeros((256, 256), np.uint8), uses=1)
    >>> clear_tile_cache() >= 65536, tile_cache().nbytes
    (True, 0)
    """
    return _cache[0].clear() if _cache else 0
