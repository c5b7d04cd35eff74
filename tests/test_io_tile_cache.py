"""The per-process cache of decoded tiles cut by a read's window: adjacent windows decode a
tile on their common border once, the pixels are the file's, a changed file never meets its
old tiles, and the cache holds nothing once every window that may need a tile has read it."""

from __future__ import annotations

import os

import imagecodecs
import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import InvalidParameterError
from raster_core.io import tile_cache as tc
from raster_core.io.geotiff import Dataset

TILE = 128  # 128 x 128 uint16: 32 KiB decoded, the smallest tile the cache keeps
SHAPE = (400, 530)


def _write(path, seed=0, *, predictor=2, dtype="uint16", tile=TILE):
    rng = np.random.default_rng(seed)
    data = (np.cumsum(rng.integers(-40, 40, SHAPE), axis=1) + 30000).astype(dtype)
    tifffile.imwrite(path, data, tile=(tile, tile), compression="zlib", predictor=predictor)
    return tifffile.imread(path)


def _windows(col_sizes, row_sizes):
    r = 0
    for h in row_sizes:
        c = 0
        for w in col_sizes:
            yield (c, r, w, h)
            c += w
        r += h


def _split(total, sizes):
    """Chunk sizes along one axis: ``sizes`` repeated, the last one cut to ``total``."""
    out, at, k = [], 0, 0
    while at < total:
        n = min(sizes[k % len(sizes)], total - at)
        out.append(n)
        at += n
        k += 1
    return out


@pytest.fixture
def decodes(monkeypatch):
    """The number of tiles the reader decodes: through its own inflate path (imagecodecs)
    or through tifffile (``Dataset._decode_bytes``)."""
    counted = [0]

    def count(original):
        def counting(*args, **kwargs):
            counted[0] += 1
            return original(*args, **kwargs)
        return counting

    monkeypatch.setattr(imagecodecs, "deflate_decode", count(imagecodecs.deflate_decode))
    monkeypatch.setattr(Dataset, "_decode_bytes", count(Dataset._decode_bytes))
    tc.tile_cache().clear()
    yield counted
    tc.tile_cache().clear()


def test_other_readers():
    size = (1000, 1000)
    assert tc.other_readers((0, 0, 256, 256), (0, 0, 256, 256), size) == 0
    assert tc.other_readers((256, 0, 256, 256), (0, 0, 300, 256), size) == 1      # cut on the right
    assert tc.other_readers((256, 256, 256, 256), (300, 300, 100, 100), size) == 8  # on four sides
    assert tc.other_readers((256, 256, 256, 256), (0, 0, 300, 300), size) == 3    # a corner: 3 neighbours
    assert tc.other_readers((768, 768, 256, 256), (700, 700, 300, 300), size) == 0  # the image ends there


def test_cache_bound_and_uses():
    cache = tc.TileCache(3 * 1024)
    tiles = [np.full((32, 32), i, dtype=np.uint8) for i in range(4)]  # 1 KiB each
    cache.put("a", tiles[0], uses=2)
    cache.put("b", tiles[1], uses=1)
    cache.put("never", tiles[2], uses=0)
    assert len(cache) == 2 and cache.nbytes == 2048
    assert not tiles[0].flags.writeable
    assert cache.get("a") is tiles[0] and cache.get("a") is tiles[0] and cache.get("a") is None
    cache.put("c", tiles[2], uses=5)
    cache.put("d", tiles[3], uses=5)
    cache.put("e", np.zeros(1024, np.uint8), uses=5)  # over the bound: "b" (least recently used) goes
    assert cache.get("b") is None and len(cache) == 3 and cache.nbytes == 3072
    cache.put("big", np.zeros(4096, np.uint8), uses=1)  # larger than the bound: not kept
    assert cache.get("big") is None and cache.nbytes == 3072
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_setting(monkeypatch):
    monkeypatch.setenv("RASTER_CORE_TILE_CACHE_BYTES", "0")
    assert tc.tile_cache_bytes() == 0
    monkeypatch.setenv("RASTER_CORE_TILE_CACHE_BYTES", "1000")
    assert tc.tile_cache_bytes() == 1000
    for bad in ("-1", "lots"):
        monkeypatch.setenv("RASTER_CORE_TILE_CACHE_BYTES", bad)
        with pytest.raises(InvalidParameterError, match="RASTER_CORE_TILE_CACHE_BYTES"):
            tc.tile_cache_bytes()
    monkeypatch.delenv("RASTER_CORE_TILE_CACHE_BYTES")
    assert tc.tile_cache_bytes() == tc.DEFAULT_TILE_CACHE_BYTES


def test_adjacent_windows_decode_each_tile_once(tmp_path, decodes):
    path = tmp_path / "a.tif"
    truth = _write(path)
    n_tiles = -(-SHAPE[0] // TILE) * -(-SHAPE[1] // TILE)
    decodes[0] = 0  # (tifffile's own reading of the truth)
    with raster_core.open(path) as ds:
        for c, r, w, h in _windows([200, 200, 130], [150, 250]):
            np.testing.assert_array_equal(ds.read(window=(c, r, w, h), num_threads=1)[0],
                                          truth[r:r + h, c:c + w])
    assert decodes[0] == n_tiles
    assert len(tc.tile_cache()) == 0  # every kept tile was used by the windows it was kept for
    # the same windows with the cache off decode the tiles on the borders again
    tc.tile_cache().clear()
    decodes[0] = 0
    off = tc.TileCache(0)
    cache = tc._cache[0]
    tc._cache[0] = off
    try:
        with raster_core.open(path) as ds:
            for c, r, w, h in _windows([200, 200, 130], [150, 250]):
                np.testing.assert_array_equal(ds.read(window=(c, r, w, h), num_threads=1)[0],
                                              truth[r:r + h, c:c + w])
    finally:
        tc._cache[0] = cache
    assert decodes[0] > n_tiles


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cols=st.lists(st.integers(TILE, 300), min_size=1, max_size=3),
       rows=st.lists(st.integers(TILE, 300), min_size=1, max_size=3),
       order=st.randoms(use_true_random=False), predictor=st.sampled_from([1, 2, 3]),
       threads=st.sampled_from([1, 2]))
def test_any_chunking_gives_the_file_and_decodes_each_tile_once(tmp_path_factory, decodes, cols, rows, order,
                                                                predictor, threads):
    """Windows at least a tile wide, in any order: every tile decoded once, the cache empty
    at the end; float tiles with predictor 3 go through tifffile, the others through the
    reader's own inflate path, and a read on 2 threads through the pool."""
    path = tmp_path_factory.mktemp("tiles") / "a.tif"
    truth = _write(path, predictor=predictor, dtype="float32" if predictor == 3 else "uint16")
    windows = list(_windows(_split(SHAPE[1], cols), _split(SHAPE[0], rows)))
    order.shuffle(windows)
    tc.tile_cache().clear()
    decodes[0] = 0
    with raster_core.open(path) as ds:
        for c, r, w, h in windows:
            np.testing.assert_array_equal(ds.read(window=(c, r, w, h), num_threads=threads)[0],
                                          truth[r:r + h, c:c + w])
    assert decodes[0] == -(-SHAPE[0] // TILE) * -(-SHAPE[1] // TILE)
    assert len(tc.tile_cache()) == 0


def test_small_tiles_are_not_kept(tmp_path, decodes):
    path = tmp_path / "a.tif"
    truth = _write(path, tile=64)  # 8 KiB decoded
    with raster_core.open(path) as ds:
        np.testing.assert_array_equal(ds.read(window=(0, 0, 100, 100), num_threads=1)[0], truth[:100, :100])
    assert len(tc.tile_cache()) == 0


def test_a_changed_file_does_not_meet_its_old_tiles(tmp_path, decodes):
    path = tmp_path / "a.tif"
    _write(path, seed=0)
    with raster_core.open(path) as ds:
        ds.read(window=(0, 0, 200, 200), num_threads=1)  # keeps the tiles cut at column/row 200
        first = ds._tile_id
    assert len(tc.tile_cache()) > 0
    before = os.stat(path)
    new = _write(path, seed=1)  # rewritten in place (same inode), other pixels, same modification time
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with raster_core.open(path) as ds:
        assert ds._tile_id != first
        np.testing.assert_array_equal(ds.read(window=(200, 0, 200, 200), num_threads=1)[0], new[:200, 200:400])
    # a file touched, its size the same: a new identity too
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    with raster_core.open(path) as ds:
        assert ds._tile_id[:2] == first[:2] and ds._tile_id[2] == before.st_mtime_ns + 10**9


def test_pickled_dataset_reads_through_the_cache(tmp_path, decodes):
    import pickle

    path = tmp_path / "a.tif"
    truth = _write(path)
    with raster_core.open(path) as ds:
        ds.read(window=(0, 0, 200, 400), num_threads=1)
        again = pickle.loads(pickle.dumps(ds))
    try:
        decodes[0] = 0
        np.testing.assert_array_equal(again.read(window=(200, 0, 330, 400), num_threads=1)[0], truth[:, 200:])
        assert decodes[0] == 12  # 16 tiles from column 128 on, the 4 of column 128-256 kept
    finally:
        again.close()
    assert isinstance(again, Dataset)
