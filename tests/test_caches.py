"""raster_core.clear_caches: the memory kept between calls is released, in every thread, and the
next call rebuilds it with the same results."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import raster_core
import raster_core.io as rio
from raster_core.io.scratch import release_scratch, scratch, scratch_bytes
from raster_core.io.tiff_header import HEADER_CACHE
from raster_core.io.tile_cache import tile_cache
from tests._http_server import RangeServer


def test_release_reaches_every_thread_and_spares_views_in_use() -> None:
    started, released, checked = threading.Event(), threading.Event(), []

    def worker() -> None:
        view = scratch("t-release", 1 << 16)
        view[:3] = b"abc"
        started.set()
        released.wait(10)
        checked.append(bytes(view[:3]))  # the memory it still views is intact
        checked.append(scratch("t-release", 16).obj is view.obj)  # its next request: new memory

    t = threading.Thread(target=worker)
    t.start()
    assert started.wait(10)
    scratch("t-release", 1 << 15)
    assert scratch_bytes() >= (1 << 16) + (1 << 15)
    assert release_scratch() >= (1 << 16) + (1 << 15)
    assert scratch_bytes() == 0
    released.set()
    t.join(10)
    assert checked == [b"abc", False]


def _tiled_file(path) -> np.ndarray:
    data = np.random.default_rng(5).integers(0, 60000, (2, 600, 520), dtype=np.uint16)
    rio.write_geotiff(path, data, crs="EPSG:32633", transform=(500000, 10, 0, 6000000, 0, -10), blocksize=256,
                      predictor=2)
    return data


def test_clear_caches_after_reads_in_threads(tmp_path) -> None:
    path = tmp_path / "c.tif"
    data = _tiled_file(path)
    # windows cut across tile borders: the reads keep cut tiles for their neighbours
    windows = [((r, r + 200), (c, c + 200)) for r in (0, 200, 400) for c in (0, 200)]

    def read(window):
        with raster_core.open(path) as ds:
            return ds.read(window=window)

    with RangeServer(tmp_path) as server:
        url = server.url("c.tif")
        HEADER_CACHE.clear()
        tile_cache().clear()
        with raster_core.open(url) as remote:  # a remote header is kept for the next open
            remote_profile = remote.profile
        with ThreadPoolExecutor(2) as pool:
            first = list(pool.map(read, windows[:3]))  # half the windows: cut tiles stay kept
            assert HEADER_CACHE.nbytes > 0 and tile_cache().nbytes > 0 and scratch_bytes() > 0
            freed = raster_core.clear_caches()
            assert min(freed.values()) > 0
            assert HEADER_CACHE.nbytes == 0 and tile_cache().nbytes == 0 and scratch_bytes() == 0
            # the next calls fetch the header again and give the same pixels
            server.reset()
            with raster_core.open(url) as remote:
                assert remote.profile == remote_profile
            assert server.stats.requests > 0
            again = list(pool.map(read, windows))
    for (rows, cols), a in zip(windows, first + again[3:], strict=True):
        np.testing.assert_array_equal(a, data[:, rows[0]:rows[1], cols[0]:cols[1]])
    for a, b in zip(first, again[:3], strict=True):
        np.testing.assert_array_equal(b, a)
