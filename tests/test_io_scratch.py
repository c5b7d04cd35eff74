"""Per-thread scratch buffers (raster_core.io.scratch) and the reads that use them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import raster_core.io as rio
from raster_core.io.scratch import MAX_SCRATCH_BYTES, scratch


def test_scratch_is_reused_grown_and_per_thread() -> None:
    a = scratch("t-reuse", 100)
    assert len(a) == 100 and not a.readonly
    assert scratch("t-reuse", 50).obj is a.obj  # smaller: the same memory
    b = scratch("t-reuse", 1000)
    assert len(b) == 1000 and b.obj is not a.obj  # larger: a new buffer, the old view stays valid
    a[:3] = b"xyz"
    assert bytes(a[:3]) == b"xyz"
    other: list[memoryview] = []
    t = threading.Thread(target=lambda: other.append(scratch("t-reuse", 10)))
    t.start()
    t.join()
    assert other[0].obj is not scratch("t-reuse", 10).obj  # each thread its own
    big = scratch("t-big", MAX_SCRATCH_BYTES + 1)
    assert len(big) == MAX_SCRATCH_BYTES + 1 and big.obj is not scratch("t-big", MAX_SCRATCH_BYTES + 1).obj


@pytest.mark.parametrize("predictor", [None, 2])
def test_reads_do_not_share_the_scratch(tmp_path, predictor) -> None:
    # DEFLATE tiles go through the scratch span and tile buffers: results of earlier reads
    # in the same thread stay as they were, and equal a fresh read of the same window
    rng = np.random.default_rng(3)
    data = rng.integers(0, 60000, (1, 300, 280), dtype=np.uint16)
    path = tmp_path / "s.tif"
    rio.write_geotiff(path, data, crs="EPSG:32633", transform=(0, 10, 0, 0, 0, -10), blocksize=128,
                      predictor=predictor)
    with rio.open(path) as ds:
        first = ds.read(1, window=((0, 200), (0, 200)))
        second = ds.read(1, window=((100, 300), (50, 280)))
        one_tile = ds.read(1, window=((250, 260), (10, 20)))  # a single tile
    np.testing.assert_array_equal(first, data[0, :200, :200])
    np.testing.assert_array_equal(second, data[0, 100:300, 50:280])
    np.testing.assert_array_equal(one_tile, data[0, 250:260, 10:20])
