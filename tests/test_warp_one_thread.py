"""Small nearest warps without reprojection run in the calling thread, with the threaded pixels."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

import raster_core.warp as warp_module
from raster_core.warp import execute_plan, plan_warp

SRC_TF = Affine(10, 0, 1000, 0, -10, 5000)
DST_TF = Affine(23.7, 0, 1003, 0, -23.7, 4997)


def _source() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 4000, size=(2, 240, 260)).astype(np.uint16)


def _warp(monkeypatch, dst_shape, *, threads, method="near", dst_crs=3857, dst_tf=DST_TF, block_rows=None):
    used: list[int | None] = []
    run_blocks = warp_module.run_blocks

    def spy(func, blocks, *, num_threads=None):
        used.append(num_threads)
        return run_blocks(func, blocks, num_threads=num_threads)

    monkeypatch.setattr(warp_module, "run_blocks", spy)
    src = _source()
    plan = plan_warp(3857, SRC_TF, src.shape[1:], dst_crs, dst_tf, dst_shape, resampling=method)
    out = np.zeros((2, *dst_shape), np.uint16)
    execute_plan(plan, src, out, src_nodata=0, dst_nodata=0, num_threads=threads, block_rows=block_rows)
    return out, used


def test_a_small_nearest_warp_runs_in_the_calling_thread(monkeypatch):
    out, used = _warp(monkeypatch, (90, 100), threads=2)
    assert used == [1]
    threaded, used = _warp(monkeypatch, (90, 100), threads=2, block_rows=16)  # blocks chosen: threaded
    assert used == [2]
    np.testing.assert_array_equal(out, threaded)


@pytest.mark.parametrize("method", ["bilinear", "cubic"])
def test_other_resamplers_keep_their_threads(monkeypatch, method):
    _, used = _warp(monkeypatch, (90, 100), threads=2, method=method)
    assert used == [2]


def test_a_large_or_reprojecting_nearest_warp_keeps_its_threads(monkeypatch):
    limit = warp_module._ONE_THREAD_NEAREST_PIXELS
    assert warp_module.block_threads("near", False, limit, 2) == 1
    assert warp_module.block_threads("near", False, limit + 1, 2) == 2
    assert warp_module.block_threads("near", True, 100, 2) == 2
    _, used = _warp(monkeypatch, (60, 70), threads=2, dst_crs=4326,
                    dst_tf=Affine(0.00002, 0, 0.0090, 0, -0.00002, 0.0449))
    assert used == [2]
