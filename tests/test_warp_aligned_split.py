"""Axis-aligned same-CRS warps whose grids reach past the source edges.

GDAL re-transforms exactly the pixels whose source position falls just outside the source window,
so edge rows/columns of such grids do not share the coordinates of the rest. The separable kernel
then does the regular part and the per-pixel kernels the edge rows/columns
(``raster_core.warp._aligned_split``); the result must be bit-identical to warping every pixel
with the per-pixel reference kernels (``reference_kernels=True``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core.warp as warp
from raster_core.warp import _aligned_split, plan_warp

SRC_TF = (500000.0, 10.0, 0.0, 4000000.0, 0.0, -10.0)
CRS = "EPSG:32633"


@st.composite
def aligned_grids(draw: st.DrawFn) -> dict:
    h = draw(st.integers(12, 160))
    w = draw(st.integers(12, 160))
    fx = draw(st.floats(0.4, 5.0))
    fy = draw(st.one_of(st.just(fx), st.floats(0.4, 5.0)))
    # origin on the source grid, or off it by a fraction or a few pixels either way
    ox = draw(st.one_of(st.just(0.0), st.floats(-3.0, 3.0), st.integers(-2, 2).map(float)))
    oy = draw(st.one_of(st.just(0.0), st.floats(-3.0, 3.0), st.integers(-2, 2).map(float)))
    # extent: short of, flush with or past the source edges
    cover_x = draw(st.floats(0.5, 1.2))
    cover_y = draw(st.floats(0.5, 1.2))
    dst_shape = (max(1, round(h / fy * cover_y)), max(1, round(w / fx * cover_x)))
    dst_tf = (SRC_TF[0] + 10.0 * ox, 10.0 * fx, 0.0, SRC_TF[3] - 10.0 * oy, 0.0, -10.0 * fy)
    return dict(src_shape=(h, w), dst_tf=dst_tf, dst_shape=dst_shape, seed=draw(st.integers(0, 2**31)),
                dst_nodata=draw(st.sampled_from([None, 7])), threads=draw(st.sampled_from([1, 2])))


def _warp(grid: dict, method: str, dtype: str, aligned: bool) -> np.ndarray:
    rng = np.random.default_rng(grid["seed"])
    src = (rng.random((2, *grid["src_shape"])) * 3000).astype(dtype)
    out, _ = warp.reproject(src, src_transform=SRC_TF, src_crs=CRS, dst_transform=grid["dst_tf"], dst_crs=CRS,
                            dst_shape=grid["dst_shape"], resampling=method, dst_nodata=grid["dst_nodata"],
                            num_threads=grid["threads"], reference_kernels=not aligned)
    return out


@pytest.mark.parametrize(("method", "dtype"), [("bilinear", "uint16"), ("cubic", "uint16"),
                                               ("cubicspline", "uint16"), ("lanczos", "uint16"),
                                               ("cubic", "float32")])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=aligned_grids())
def test_split_warp_bit_identical_to_per_pixel(grid: dict, method: str, dtype: str) -> None:
    np.testing.assert_array_equal(_warp(grid, method, dtype, True), _warp(grid, method, dtype, False))


def test_retried_edge_column_stays_on_the_separable_path() -> None:
    """A /3 downsample whose last column's centre lies just past the source edge (4096 -> 1366 in
    miniature): GDAL's exact retry re-transforms that column in every row, which gives the same
    coordinates as the approximate transformer here, so the whole block stays separable."""
    plan = plan_warp(CRS, SRC_TF, (301, 301), CRS, (SRC_TF[0], 30.0, 0.0, SRC_TF[3], 0.0, -30.0), (101, 101),
                     resampling="cubic")
    t, win = plan.transformer, plan.window
    xs = np.arange(101, dtype=np.float64) + 0.5
    ys = np.arange(101, dtype=np.float64) + 0.5
    row_plan = t.row_plan(xs, ys)
    bounds = (float(win.col_off), float(win.row_off), float(win.col_off + win.width), float(win.row_off + win.height))
    assert row_plan.add_exact_retries(t, ys, bounds, 0, 101) > 0
    assert row_plan.tables.ptr[2, 60] > row_plan.tables.ptr[2, 40]  # rows 40-59 hold retried points
    X, Y, OK = row_plan.fill(40, 60, 0, 101)
    split = _aligned_split(X, Y, OK)
    assert split is not None
    xc, yr, bad_rows, bad_cols = split
    assert not bad_rows.any() and not bad_cols.any()
    np.testing.assert_array_equal(X, np.broadcast_to(xc, (20, 101)))
    np.testing.assert_array_equal(Y, np.broadcast_to(yr[:, None], (20, 101)))
    # the same from the plan alone (the retried column equals the shared x there too)
    from raster_core.warp import _aligned_split_planned

    planned = _aligned_split_planned(row_plan, 40, 60, 0, 101)
    assert planned is not None and not planned[2].any() and not planned[3].any()
    np.testing.assert_array_equal(planned[0], xc)
    np.testing.assert_array_equal(planned[1], yr)


def test_split_leaves_irregular_rows_and_columns() -> None:
    X = np.tile(np.arange(16.0) + 0.5, (20, 1))
    Y = np.tile(np.arange(20.0)[:, None] + 0.5, (1, 16))
    OK = np.ones((20, 16), dtype=bool)
    X[0] += 1e-12  # an exactly re-transformed first row
    Y[0] += 1e-12
    X[::2, 15] += 1e-12  # and the last column in every other row
    OK[3, 2] = False  # one failed point
    xc, yr, bad_rows, bad_cols = _aligned_split(X, Y, OK)
    assert np.flatnonzero(bad_rows).tolist() == [0]
    assert np.flatnonzero(bad_cols).tolist() == [2, 15]
    assert np.isnan(xc[[2, 15]]).all() and np.isnan(yr[0])
    good = np.ix_(~bad_rows, ~bad_cols)
    assert (X[good] == xc[~bad_cols]).all() and (Y[good] == yr[~bad_rows, None]).all() and OK[good].all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=aligned_grids(), data=st.data())
def test_planned_split_covers_every_irregular_pixel(grid: dict, data: st.DataObject) -> None:
    """The split read from the recorded plan (``_aligned_split_planned``, no block-sized
    coordinates) leaves outside its rows and columns only pixels whose filled coordinates are
    exactly the shared ones, on blocks of any rows and columns (exact retries included)."""
    from raster_core.warp import _aligned_split_planned

    plan = plan_warp(CRS, SRC_TF, grid["src_shape"], CRS, grid["dst_tf"], grid["dst_shape"], resampling="cubic")
    if plan.window is None:
        return
    t, win = plan.transformer, plan.window
    h, w = grid["dst_shape"]
    xs = np.arange(w, dtype=np.float64) + 0.5
    ys = np.arange(h, dtype=np.float64) + 0.5
    row_plan = t.row_plan(xs, ys)
    if row_plan is None:
        return
    bounds = (float(win.col_off), float(win.row_off), float(win.col_off + win.width), float(win.row_off + win.height))
    row_plan.add_exact_retries(t, ys, bounds, 0, w)
    a = data.draw(st.integers(0, h - 1))
    b = data.draw(st.integers(a + 1, h))
    c0 = data.draw(st.integers(0, w - 1))
    c1 = data.draw(st.integers(c0 + 1, w))
    split = _aligned_split_planned(row_plan, a, b, c0, c1)
    if split is None:  # allowed (the caller fills the block): only when a quarter of it is irregular
        return
    xc, yr, bad_rows, bad_cols = split
    X, Y, OK = row_plan.fill(a, b, c0, c1)
    good = np.ix_(~bad_rows, ~bad_cols)
    assert np.isnan(xc[bad_cols]).all() and np.isnan(yr[bad_rows]).all()
    np.testing.assert_array_equal(X[good], np.broadcast_to(xc[~bad_cols], X[good].shape))
    np.testing.assert_array_equal(Y[good], np.broadcast_to(yr[~bad_rows, None], Y[good].shape))
    assert OK[good].all()
