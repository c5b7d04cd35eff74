"""Tests of raster_core.transform: GDAL approximate transformer semantics."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.errors import CRSError, InvalidParameterError, TransformError
from raster_core.transform import WarpTransformer, inv_geotransform


def _reference_row(t: WarpTransformer, xs: np.ndarray, y: float):
    """Literal per-row port of GDALApproxTransform (recursive), as the oracle."""
    n = xs.size
    X = np.empty(n)
    Y = np.empty(n)
    OK = np.ones(n, bool)

    def exact(idx):
        px, py, ok = t.transform_points(xs[idx], np.full(len(idx), y))
        X[idx], Y[idx], OK[idx] = px, py, ok

    def internal(a, b, S, M, E):  # points [a, b)
        n_ = b - a
        m = (n_ - 1) // 2
        span = xs[b - 1] - xs[a]
        dx = (E[0] - S[0]) / span
        dy = (E[1] - S[1]) / span
        err = abs((S[0] + dx * (xs[a + m] - xs[a])) - M[0]) + abs((S[1] + dy * (xs[a + m] - xs[a])) - M[1])
        if err <= t.tolerance:
            for i in range(a, b):
                d = xs[i] - xs[a]
                X[i] = S[0] + dx * d
                Y[i] = S[1] + dy * d
            return
        i1, i2, i3 = a + (m - 1) // 2, a + m - 1, a + m + (n_ - m - 1) // 2
        X[a], Y[a] = S
        X[a + m], Y[a + m] = M
        X[b - 1], Y[b - 1] = E
        # a half whose new exact points failed is transformed exactly, as a short one is
        p = t.transform_points(xs[[i1, i2]], np.full(2, y)) if m > 5 else None
        if p is None or not p[2].all():
            exact(np.arange(a + 1, a + m))
        else:
            internal(a, a + m, S, (p[0][0], p[1][0]), (p[0][1], p[1][1]))
        p = t.transform_points(xs[[i3]], np.full(1, y)) if n_ - m > 5 else None
        if p is None or not p[2].all():
            exact(np.arange(a + m + 1, b - 1))
        else:
            internal(a + m, b, M, (p[0][0], p[1][0]), E)

    m = (n - 1) // 2
    if n <= 5 or t.tolerance == 0:
        exact(np.arange(n))
        return X, Y, OK
    p = t.transform_points(xs[[0, m, n - 1]], np.full(3, y))
    if not p[2].all():  # S', M' or E' failed: every point exactly
        exact(np.arange(n))
        return X, Y, OK
    internal(0, n, (p[0][0], p[1][0]), (p[0][1], p[1][1]), (p[0][2], p[1][2]))
    return X, Y, OK


CASES = [
    ("EPSG:4326", (-10.0, 0.05, 0.0, 60.0, 0.0, -0.05),
     "EPSG:3035", (2500000.0, 5000.0, 0.0, 5500000.0, 0.0, -5000.0), 500),
    ("EPSG:32618", (100000.0, 300.0, 0.0, 4800000.0, 0.0, -300.0),
     "EPSG:4326", (-79.0, 0.004, 0.0, 43.4, 0.0, -0.004), 300),
    ("EPSG:32618", (100000.0, 300.0, 0.0, 4800000.0, 0.0, -300.0),
     "EPSG:3413", (2000000.0, 1000.0, 0.0, -500000.0, 0.0, -1000.0), 257),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tol", [0.125, 1.0, 0.01])
def test_batched_rows_equal_reference_port(case, tol):
    s_crs, s_gt, d_crs, d_gt, w = case
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt, tolerance=tol)
    xs = np.arange(w) + 0.5
    ys = np.arange(0, 300, 37) + 0.5
    X, Y, OK = t.transform_rows(xs, ys)
    for k, y in enumerate(ys):
        rx, ry, rok = _reference_row(t, xs, y)
        np.testing.assert_array_equal(X[k][rok], rx[rok])
        np.testing.assert_array_equal(Y[k][rok], ry[rok])
        np.testing.assert_array_equal(OK[k], rok)


def test_approx_error_bounded_and_exact_option():
    s_crs, s_gt, d_crs, d_gt, w = CASES[0]
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt)
    xs = np.arange(w) + 0.5
    X, Y, OK = t.transform_rows(xs, np.array([10.5, 200.5]))
    EX, EY, EOK = t.transform_rows(xs, np.array([10.5, 200.5]), exact=True)
    assert OK.all() and EOK.all()
    assert np.max(np.abs(X - EX) + np.abs(Y - EY)) <= 0.25
    assert not np.array_equal(X, EX)  # non-linear: the approximation really is used


def test_same_crs_is_affine_and_no_proj():
    t = WarpTransformer(32631, (500000, 10, 0, 4500000, 0, -10), 32631, (500000, 30, 0, 4500000, 0, -30))
    assert t.same_crs and not t.has_reprojection
    x, y, ok = t.transform_row(np.arange(10) + 0.5, 0.5)
    np.testing.assert_allclose(x, (np.arange(10) + 0.5) * 3, rtol=0, atol=1e-9)
    np.testing.assert_allclose(y, 1.5, atol=1e-9)


def test_inverse_direction_roundtrip():
    s_crs, s_gt, d_crs, d_gt, _ = CASES[1]
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt)
    xs = np.array([10.5, 50.25, 100.0])
    ys = np.array([20.0, 30.5, 40.0])
    sx, sy, ok = t.transform_points(xs, ys)
    bx, by, ok2 = t.transform_points(sx, sy, inverse=True)
    np.testing.assert_allclose(bx, xs, atol=1e-6)
    np.testing.assert_allclose(by, ys, atol=1e-6)


def test_pickle_and_threads():
    s_crs, s_gt, d_crs, d_gt, w = CASES[0]
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt)
    t2 = pickle.loads(pickle.dumps(t))
    xs = np.arange(w) + 0.5
    ys = np.arange(40) + 0.5
    ref = t.transform_rows(xs, ys)
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda k: t2.transform_rows(xs, ys[k : k + 1]), range(40)))
    got = np.concatenate([o[0] for o in outs])
    np.testing.assert_array_equal(got, ref[0])


def test_failures_flagged():
    # destination far outside the valid area of UTM: PROJ fails -> ok False, no exception
    t = WarpTransformer("EPSG:32618", (100000.0, 300.0, 0.0, 4800000.0, 0.0, -300.0),
                        "EPSG:4326", (90.0, 1.0, 0.0, 80.0, 0.0, -1.0))
    x, y, ok = t.transform_row(np.arange(100) + 0.5, 0.5)
    assert x.shape == (100,) and ok.dtype == bool


def test_bad_inputs():
    with pytest.raises(CRSError):
        WarpTransformer("EPSG:999999", (0, 1, 0, 0, 0, -1), 4326, (0, 1, 0, 0, 0, -1))
    with pytest.raises(TransformError):
        WarpTransformer(4326, (0, 0, 0, 0, 0, 0), 4326, (0, 1, 0, 0, 0, -1))
    with pytest.raises(TransformError):
        WarpTransformer(4326, (0, float("nan"), 0, 0, 0, -1), 4326, (0, 1, 0, 0, 0, -1))
    with pytest.raises(InvalidParameterError):
        WarpTransformer(4326, (0, 1, 0, 0, 0, -1), 4326, (0, 1, 0, 0, 0, -1), tolerance=-1)


def test_inv_geotransform_rotated():
    gt = (10.0, 2.0, 0.5, 20.0, 0.3, -1.5)
    inv = inv_geotransform(gt)
    x, y = 3.0, 4.0
    gx = gt[0] + x * gt[1] + y * gt[2]
    gy = gt[3] + x * gt[4] + y * gt[5]
    assert abs(inv[0] + gx * inv[1] + gy * inv[2] - x) < 1e-12
    assert abs(inv[3] + gx * inv[4] + gy * inv[5] - y) < 1e-12


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tol", [0.125, 0.01])
def test_row_plan_fill_equals_transform_rows(case, tol):
    s_crs, s_gt, d_crs, d_gt, w = case
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt, tolerance=tol)
    xs = np.arange(w) + 0.5
    ys = np.arange(0, 120, 7) + 0.5
    X, Y, OK = t.transform_rows(xs, ys)
    plan = t.row_plan(xs, ys)
    for r0, r1, c0, c1 in [(0, ys.size, 0, w), (3, 9, 17, w - 5), (5, 6, 0, 1)]:
        px, py, pok = plan.fill(r0, r1, c0, c1)
        np.testing.assert_array_equal(pok, OK[r0:r1, c0:c1])
        np.testing.assert_array_equal(px[pok], X[r0:r1, c0:c1][pok])
        np.testing.assert_array_equal(py[pok], Y[r0:r1, c0:c1][pok])


@settings(max_examples=40, deadline=None)
@given(res=st.floats(0.3, 40.0), rot=st.sampled_from([0.0, 0.013]), x0=st.floats(-1e6, 1e6),
       y0=st.floats(-1e6, 1e6), w=st.integers(6, 3000), rows=st.integers(1, 40), tol=st.sampled_from([0.125, 1e-9]))
def test_affine_row_plan_equals_the_recorded_one(res, rot, x0, y0, w, rows, tol):
    """Without reprojection the row plan is one linear segment per row when every row's
    first segment passes; it equals the general recording bit for bit (and the general
    recording decides when a row does not pass)."""
    from raster_core.transform import RowPlan, _affine_row_plan, _row_plan_parts

    t = WarpTransformer("EPSG:32633", (500000.0, 10.0, 0.0, 4e6, 0.0, -10.0), "EPSG:32633",
                        (x0, res, rot, y0, rot, -res), tolerance=tol)
    assert not t.has_reprojection
    xs = np.arange(w) + 0.5
    ys = np.arange(rows) * 3.0 + 0.5
    general = RowPlan(xs, rows, *_row_plan_parts(t, xs, ys, 0))
    fast = _affine_row_plan(t, xs, ys)
    if fast is None:  # a row failed: the general recording is the plan
        assert t.row_plan(xs, ys) is not None
        return
    for r0, r1, c0, c1 in [(0, rows, 0, w), (rows // 2, rows, w // 3, w)]:
        for got, want in zip(fast.fill(r0, r1, c0, c1), general.fill(r0, r1, c0, c1), strict=True):
            np.testing.assert_array_equal(got, want)
    window = (5.0, 7.0, 400.0, 300.0)
    assert fast.add_exact_retries(t, ys, window, 0, w) == general.add_exact_retries(t, ys, window, 0, w)
    for got, want in zip(fast.fill(0, rows, 0, w), general.fill(0, rows, 0, w), strict=True):
        np.testing.assert_array_equal(got, want)


# (source CRS, destination CRS, anchor lon/lat, base resolutions of source and destination)
SCENARIOS = [
    ("EPSG:32632", "EPSG:4326", (9.2, 48.1), 30.0, 0.0003),
    ("EPSG:32632", "EPSG:3035", (9.2, 48.1), 30.0, 30.0),
    ("EPSG:3857", "EPSG:32633", (15.3, 52.0), 40.0, 30.0),
    ("EPSG:4326", "EPSG:3413", (-45.0, 75.0), 0.01, 1000.0),
    ("EPSG:4326", "+proj=ortho +lat_0=40 +lon_0=10", (10.0, 40.0), 0.5, 60000.0),
    ("EPSG:4326", "EPSG:3857", (179.5, 10.0), 0.01, 1000.0),
]


@settings(max_examples=40, deadline=None)
@given(scenario=st.sampled_from(SCENARIOS), factor=st.floats(0.2, 40.0), rot=st.sampled_from([0.0, 0.02, -0.3]),
       off=st.tuples(st.floats(-300, 300), st.floats(-300, 300)), w=st.integers(6, 700), rows=st.integers(1, 3),
       corner=st.sampled_from([0.0, 0.5]), tol=st.sampled_from([0.125, 0.01, 2.0]))
def test_row_plan_equals_reference_port_on_random_grids(scenario, factor, rot, off, w, rows, corner, tol):
    """The row plan, recorded for all rows level by level, fills exactly what the per-row
    recursive port of GDAL's approximate transformer gives, in both directions (including
    points whose exact transform fails)."""
    import pyproj

    src, dst, (lon, lat), sres, dres = scenario
    sx, sy = pyproj.Transformer.from_crs("EPSG:4326", src, always_xy=True).transform(lon, lat)
    dx, dy = pyproj.Transformer.from_crs("EPSG:4326", dst, always_xy=True).transform(lon, lat)
    r = dres * factor
    t = WarpTransformer(src, (sx - 500 * sres, sres, 0.0, sy + 500 * sres, 0.0, -sres), dst,
                        (dx - off[0] * r, r, rot * r, dy + off[1] * r, rot * r, -r), tolerance=tol)
    xs = np.arange(w) + corner
    ys = np.arange(rows) * 7.0 + corner
    plan = t.row_plan(xs, ys)
    X, Y, OK = plan.fill(0, rows, 0, w) if plan is not None else t.transform_rows(xs, ys, exact=True)
    for k, y in enumerate(ys):
        rx, ry, rok = _reference_row(t, xs, y)
        np.testing.assert_array_equal(OK[k], rok)
        np.testing.assert_array_equal(X[k][rok], rx[rok])
        np.testing.assert_array_equal(Y[k][rok], ry[rok])
    # the inverse direction: the same recursion over the source -> destination exact transform
    inv = SimpleNamespace(tolerance=tol, transform_points=lambda x, y: t.transform_points(x, y, inverse=True))
    got = t.transform_rows(xs, ys, inverse=True)
    for k, y in enumerate(ys):
        rx, ry, rok = _reference_row(inv, xs, y)
        np.testing.assert_array_equal(got[2][k], rok)
        np.testing.assert_array_equal(got[0][k][rok], rx[rok])
        np.testing.assert_array_equal(got[1][k][rok], ry[rok])


def test_row_plan_tables_are_one_picklable_signature():
    """A plan's tables are one named tuple of C-contiguous arrays of one Numba type whatever
    recorded them (the general recording, the affine shortcut, exact retries added, one row's
    segments alone), so its kernels compile once; the plan pickles with them and fills the same
    coordinates after the round trip."""
    import numba

    s_crs, s_gt, d_crs, d_gt, w = CASES[1]
    t = WarpTransformer(s_crs, s_gt, d_crs, d_gt)
    assert not t.same_crs
    xs = np.arange(w) + 0.5
    ys = np.arange(30) + 0.5
    general = t.row_plan(xs, ys)
    same_crs = WarpTransformer(s_crs, s_gt, s_crs, (s_gt[0] + 70.0, 200.0, 0.0, s_gt[3] - 30.0, 0.0, -200.0))
    affine = same_crs.row_plan(xs, ys)
    retried = t.row_plan(xs, ys)
    x, y, _ = t.transform_rows(xs, ys)
    # a window whose edges cross the rows: pixels within one pixel outside it are retried exactly
    window = (float(np.median(x)), float(np.median(y)), float(np.max(x)) - 1.0, float(np.max(y)) - 1.0)
    assert retried.add_exact_retries(t, ys, window, 0, w) > 0
    plans = [general, affine, retried, general.segments_of_row(3)]
    types = {numba.typeof(p.tables) for p in plans}
    assert len(types) == 1
    for p in plans:
        assert all(a.flags.c_contiguous for a in p.tables)
        back = pickle.loads(pickle.dumps(p))
        assert type(back.tables) is type(p.tables)
        for got, want in zip(back.fill(0, back.nrows, 0, w), p.fill(0, p.nrows, 0, w), strict=True):
            np.testing.assert_array_equal(got, want)
    # one row's segments fill that row wherever it has no fixed or exact points
    X, Y, OK = general.fill(3, 4, 0, w)
    sx, sy, _ = general.segments_of_row(3).fill(0, 1, 0, w)
    tables = general.tables
    exact_cols = np.concatenate([tables.f_col[tables.ptr[0, 3]:tables.ptr[0, 4]],
                                 tables.e_col[tables.ptr[2, 3]:tables.ptr[2, 4]]])
    interpolated = np.setdiff1d(np.arange(w), exact_cols)
    assert interpolated.size > w // 2
    np.testing.assert_array_equal(sx[0, interpolated], X[0, interpolated])
    np.testing.assert_array_equal(sy[0, interpolated], Y[0, interpolated])
