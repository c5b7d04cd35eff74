"""Block-driver invariances of the reduce family (raster_core._warp_reduce), no GDAL needed.

* average family: corner coordinates come from row plans shared by the blocks of a warp per
  chunk of rows (``_cached_corner_plans``); the values must not depend on the chunk height, on
  chunk boundaries inside blocks, on the thread count, and must equal ``reduce_block`` (one
  plan per block, no cache) and the exact-transform fallback path's kernels;
* sum: source-pixel corners are transformed a few source rows at a time
  (``ReduceChunks.sum_rows``); the sums must not depend on it, and ``warp_reduce_block``'s in-place
  density must equal ``reduce_block``'s.
"""

from __future__ import annotations

import numpy as np
import pytest

import raster_core._warp_reduce as WR
from raster_core._warp_reduce import DEFAULT_CHUNKS, ReduceChunks, reduce_block, warp_reduce_block
from raster_core.transform import WarpTransformer
from raster_core.warp import execute_plan, plan_warp

SRC_GT = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)
DST_GT = (7.6, 0.00041, 0.0, 48.74, 0.0, -0.00027)  # EPSG:4326, ~1:1 with a y squeeze
SRC_SHAPE = (120, 130)
DST_SHAPE = (75, 140)
METHODS = ["average", "rms", "min", "max", "med", "mode", "sum"]


def _source(dtype: str, bands: int = 1) -> np.ndarray:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 250, size=(bands, *SRC_SHAPE))
    return a.astype(dtype)


def _setup(method: str):
    t = WarpTransformer("EPSG:32632", SRC_GT, "EPSG:4326", DST_GT)
    p = plan_warp("EPSG:32632", SRC_GT, SRC_SHAPE, "EPSG:4326", DST_GT, DST_SHAPE, resampling=method)
    w = p.window
    return t, p, (w.col_off, w.row_off, w.width, w.height)


def _blocks(method, src, valid, dens, t, p, win, blocks, cols=(0, DST_SHAPE[1]), chunks=DEFAULT_CHUNKS):
    xoff, yoff, xs, ys = win
    s = src[:, yoff:yoff + ys, xoff:xoff + xs]
    v = None if valid is None else valid[yoff:yoff + ys, xoff:xoff + xs]
    d = None if dens is None else dens[yoff:yoff + ys, xoff:xoff + xs]
    nb = src.shape[0]
    c0, c1 = cols
    out = np.zeros((nb, DST_SHAPE[0], c1 - c0))
    dens_out = np.ones_like(out)
    prod = np.zeros(out.shape, np.uint8)
    for a, b in blocks:
        o = np.zeros((nb, b - a, c1 - c0))
        od = np.ones_like(o)
        bp = np.zeros(o.shape, np.uint8)
        warp_reduce_block(method, s, v, d, (xoff, yoff), SRC_SHAPE, t, DST_SHAPE, (a, b), cols, p.xscale, p.yscale,
                          o, od, bp, chunks=chunks)
        out[:, a:b] = o
        dens_out[:, a:b] = od
        prod[:, a:b] = bp
    return out, dens_out, prod


def _same(a, b):
    return np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("method", METHODS)
def test_blocks_and_plan_chunks_match_reduce_block(method):
    t, p, win = _setup(method)
    src = _source("uint16", bands=2)
    xoff, yoff, xs, ys = win
    ref = reduce_block(src[:, yoff:yoff + ys, xoff:xoff + xs], win, None, None, t, (0, 0, DST_SHAPE[1], DST_SHAPE[0]),
                       DST_SHAPE[1], method, scale=(p.xscale, p.yscale))
    results = []
    for points in (1 << 20, 32 * DST_SHAPE[1], 45 * DST_SHAPE[1]):  # 1 chunk; 32-row chunks; 45-row chunks
        for blocks in (
            [(0, 75)], [(0, 7), (7, 40), (40, 41), (41, 75)], [(a, min(a + 10, 75)) for a in range(0, 75, 10)]
        ):
            out, dens, prod = _blocks(method, src, None, None, t, p, win, blocks, chunks=ReduceChunks(points))
            results.append((out, dens, prod))
    for out, dens, prod in results:
        assert _same(prod[0].astype(bool), ref.produced)
        assert _same(prod[1], prod[0])
        m = ref.produced
        assert _same(out[:, m], ref.values[:, m])
        if method == "sum":
            assert _same(dens[0], ref.density) and _same(dens[1], ref.density)
        else:
            assert (dens == 1.0).all()


def test_column_window_and_masks():
    """A column sub-window with validity and density (general kernel) through the chunked plans."""
    rng = np.random.default_rng(5)
    src = _source("float32")
    valid = rng.random(SRC_SHAPE) > 0.2
    dens = np.where(rng.random(SRC_SHAPE) > 0.3, 1.0, 0.25).astype(np.float32)
    for method in ("average", "q1", "sum"):
        t, p, win = _setup(method)
        xoff, yoff, xs, ys = win
        sl = (slice(yoff, yoff + ys), slice(xoff, xoff + xs))
        cols = (17, 101)
        ref = reduce_block(src[(slice(None), *sl)], win, valid[sl], dens[sl], t, (17, 0, 84, DST_SHAPE[0]),
                           DST_SHAPE[1], method, scale=(p.xscale, p.yscale))
        out, dout, prod = _blocks(method, src, valid, dens, t, p, win, [(0, 30), (30, 75)], cols=cols,
                                  chunks=ReduceChunks(20 * DST_SHAPE[1]))
        m = ref.produced
        assert _same(prod[0].astype(bool), m)
        assert _same(out[:, m], ref.values[:, m])
        if method == "sum":
            assert _same(dout[0], ref.density)


def test_exact_transform_fallback():
    """tolerance 0: no row plan, whole-block coordinates (the fallback path) - same kernels."""
    t = WarpTransformer("EPSG:32632", SRC_GT, "EPSG:4326", DST_GT, tolerance=0.0)
    p = plan_warp("EPSG:32632", SRC_GT, SRC_SHAPE, "EPSG:4326", DST_GT, DST_SHAPE, resampling="average")
    w = p.window
    win = (w.col_off, w.row_off, w.width, w.height)
    src = _source("uint8")
    for method in ("average", "min", "rms", "mode"):
        xoff, yoff, xs, ys = win
        ref = reduce_block(src[:, yoff:yoff + ys, xoff:xoff + xs], win, None, None, t,
                           (0, 0, DST_SHAPE[1], DST_SHAPE[0]), DST_SHAPE[1], method, scale=(p.xscale, p.yscale))
        out, _, prod = _blocks(method, src, None, None, t, p, win, [(0, 33), (33, 75)])
        assert ref.produced.any()
        assert _same(prod[0].astype(bool), ref.produced)
        assert _same(out[:, ref.produced], ref.values[:, ref.produced])


def test_sum_rows_chunk_invariance():
    t, p, win = _setup("sum")
    src = _source("int16")
    xoff, yoff, xs, ys = win
    s = src[:, yoff:yoff + ys, xoff:xoff + xs]
    res = []
    for chunk in (1, 5, 16, 10_000):
        r = reduce_block(s, win, None, None, t, (3, 10, 120, 40), DST_SHAPE[1], "sum", scale=(p.xscale, p.yscale),
                         chunks=ReduceChunks(sum_rows=chunk))
        res.append(r)
    for r in res[1:]:
        assert _same(r.values, res[0].values) and _same(r.density, res[0].density)
        assert _same(r.produced, res[0].produced)


@pytest.mark.parametrize("method", ["average", "rms", "q3", "max", "sum"])
def test_threads_identical(method):
    """Shared plan chunks under 2 threads (10-row blocks, 32-row chunks: blocks across chunk
    boundaries, threads waiting for / recording the next chunk)."""
    src = _source("uint16")
    p = plan_warp("EPSG:32632", SRC_GT, SRC_SHAPE, "EPSG:4326", DST_GT, DST_SHAPE, resampling=method)
    out = []
    for threads in (1, 2):
        dst = np.zeros((1, *DST_SHAPE), np.uint16)
        execute_plan(p, src, dst, num_threads=threads, block_rows=10, reduce_chunks=ReduceChunks(32 * DST_SHAPE[1]))
        out.append(dst)
    assert out[0].any() and np.array_equal(out[0], out[1])


@pytest.mark.parametrize("dtype", ["uint16", "float32"])
@pytest.mark.parametrize("method", ["average", "rms", "min", "max", "med", "mode"])
def test_planned_rows_do_not_depend_on_the_chunk_size(method, dtype):
    """``reduce_rows_planned`` fills the corner rows a chunk at a time: one row per chunk, a few
    rows, or the whole block give the same values, with and without a validity mask."""
    from raster_core._kernels import reduce as K

    t, p, win = _setup(method)
    xoff, yoff, xs, ys = win
    src = np.ascontiguousarray(_source(dtype, bands=2)[:, yoff:yoff + ys, xoff:xoff + xs])
    rng = np.random.default_rng(5)
    rows = np.arange(DST_SHAPE[0], dtype=np.float64)
    cols = np.arange(DST_SHAPE[1], dtype=np.float64)
    tl = t.row_plan(cols, rows)
    br = t.row_plan(cols + 1.0, rows + 1.0)
    c0, c1 = 7, DST_SHAPE[1] - 3
    for valid in (np.zeros((0, 0), np.uint8), (rng.random((ys, xs)) > 0.1).astype(np.uint8)):
        kernel = WR._kernel_code(method, src, valid, np.zeros((0, 0), np.float32), False)
        results = []
        for points in (1, 3 * (c1 - c0) + 1, 1 << 20):
            out = np.zeros((2, DST_SHAPE[0] + 4, c1 - c0))
            prod = np.zeros((DST_SHAPE[0] + 4, c1 - c0), np.uint8)
            K.reduce_rows_planned(kernel, K.METHOD_CODES[method], src, valid, np.zeros((0, 0), np.float32), xoff, yoff,
                                  0, DST_SHAPE[0], c0, c1, tl.tables, br.tables, False, tl.tables, 2.0, 2.0, False,
                                  p.xscale, out, prod, out_row0=2, chunk_points=points)
            results.append((out, prod))
        (o0, p0), *rest = results
        assert p0[2:-2].any() and not p0[:2].any() and not p0[-2:].any()
        for o, pr in rest:
            assert _same(o, o0) and _same(pr, p0)


@pytest.mark.parametrize(("method", "dtype"), [("med", "uint16"), ("mode", "int16"), ("max", "uint8"),
                                               ("q3", "float32")])
def test_working_type_parts_read_the_same_values(method, dtype):
    """Kernels read a source of another type than their working type as converted parts of each
    chunk: any part size (down to one destination pixel, whose source box is the smallest) gives
    the values of the kernel reading a copy of the whole window in its working type, with and
    without a validity mask. A source box that missed a pixel a footprint reads would change
    values (the copy's other pixels hold other values)."""
    from raster_core._kernels import reduce as K

    t, p, win = _setup(method)
    xoff, yoff, xs, ys = win
    src = np.ascontiguousarray(_source(dtype, bands=2)[:, yoff:yoff + ys, xoff:xoff + xs])
    if dtype == "float32":
        src[0, ::5, ::3] = -0.0
        src[1, ::4, ::7] = np.nan
    rows = np.arange(DST_SHAPE[0], dtype=np.float64)
    cols = np.arange(DST_SHAPE[1], dtype=np.float64)
    tl = t.row_plan(cols, rows)
    br = t.row_plan(cols + 1.0, rows + 1.0)
    c0, c1 = 3, DST_SHAPE[1] - 2
    density = np.zeros((0, 0), np.float32)
    rng = np.random.default_rng(11)
    for valid in (np.zeros((0, 0), np.uint8), (rng.random((ys, xs)) > 0.2).astype(np.uint8)):
        # (max of integers: the general kernel, which a density would choose)
        kernel = WR._kernel_code(method, src, valid, density, False, reference=method == "max")
        code = K.METHOD_CODES[method]
        working = K.working_dtype(kernel, code, src.dtype)
        assert working != src.dtype or dtype == "float32"
        results = []
        for source, part_values in ((src.astype(working), K.PART_VALUES), (src, 1), (src, 500), (src, 1 << 30)):
            out = np.zeros((2, DST_SHAPE[0], c1 - c0))
            prod = np.zeros((DST_SHAPE[0], c1 - c0), np.uint8)
            K.reduce_rows_planned(kernel, code, source, valid, density, xoff, yoff, 0, DST_SHAPE[0], c0, c1,
                                  tl.tables, br.tables, False, tl.tables, 2.0, 2.0, False, p.xscale, out, prod,
                                  part_values=part_values)
            results.append((out, prod))
        (o0, p0), *rest = results
        assert p0.mean() > 0.2
        for o, pr in rest:
            assert np.array_equal(o.view(np.uint64), o0.view(np.uint64)) and np.array_equal(pr, p0)


def test_working_source_parts_cover_the_chunk_once():
    """The parts of a chunk cover each destination pixel once, and split a source box that is
    too large along its longer side (rows of a tall box, columns of a wide one)."""
    from raster_core._kernels.reduce import WorkingSource

    ws = WorkingSource(np.zeros((1, 100, 100), np.uint8), (0, 0, 100, 100), np.float32, part_values=400)

    def box_of(ra, rb, ca, cb):  # a wide box: 2 source rows and 10 columns per destination pixel
        return 2 * ra, 2 * rb, 10 * ca, 10 * cb

    parts = ws.parts(4, 6, box_of)
    seen = np.zeros((4, 6), int)
    for rows, ca, cb, (j0, j1, i0, i1) in parts:
        seen[rows, ca:cb] += 1
        assert (j1 - j0) * (i1 - i0) <= 400
    assert (seen == 1).all()
    assert [(r.start, r.stop, ca, cb) for r, ca, cb, _ in parts] == [(0, 4, 0, 3), (0, 4, 3, 6)]
    tall = ws.parts(4, 6, lambda ra, rb, ca, cb: (30 * ra, 30 * rb, ca, cb))  # 30 x 6 per row
    assert [(r.start, r.stop, ca, cb) for r, ca, cb, _ in tall] == [(0, 2, 0, 6), (2, 4, 0, 6)]
    assert WorkingSource(np.zeros((1, 4, 4)), (0, 0, 4, 4), np.float64).parts(3, 5, box_of) == [
        (slice(0, 3), 0, 5, None)]
