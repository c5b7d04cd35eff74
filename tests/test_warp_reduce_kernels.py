"""Kernel isolation for the average/mode family and sum (raster_core._kernels.reduce).

Same-CRS affine cases, where the footprint corners GDAL uses are exact and cheap to compute
here, so that any difference with GDAL (rasterio.warp.reproject, the oracle) is a resampling
difference, not a projection one. GDAL's write step (round half up, clamp, 3.10 dst-nodata
collision decrement) is emulated in ``_gdal_write`` below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from raster_core._kernels import reduce as R
from tests.conftest import data_file

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import Resampling  # noqa: E402
from rasterio.warp import reproject as rio_reproject  # noqa: E402

EMPTY_U8 = np.zeros((0, 0), np.uint8)
EMPTY_F32 = np.zeros((0, 0), np.float32)
AVG_FAMILY = ["average", "rms", "mode", "max", "min", "med", "q1", "q3"]
EXACT_METHODS = {"mode", "max", "min", "med", "q1", "q3"}


# --------------------------------------------------------------------------- helpers


def _apply(tf: Affine, x, y):
    return tf.a * x + tf.b * y + tf.c, tf.d * x + tf.e * y + tf.f


def _gdal_exact(src_tf: Affine, dst_tf: Affine, x: np.ndarray, y: np.ndarray):
    """GDALGenImgProjTransform for a same-CRS pair: dst GT, then the inverse src GT (north-up)."""
    g = dst_tf
    gx = g.c + x * g.a + y * g.b
    gy = g.f + x * g.d + y * g.e
    s = src_tf
    assert s.b == 0 and s.d == 0
    return (-s.c / s.a) + gx * (1.0 / s.a), (-s.f / s.e) + gy * (1.0 / s.e)


def _gdal_row(src_tf: Affine, dst_tf: Affine, x: np.ndarray, y: float):
    """GDALApproxTransform on one row for an affine case: exact ends, linear in between."""
    n = x.size
    yy = np.full(n, y)
    if n <= 5:
        return _gdal_exact(src_tf, dst_tf, x, yy)
    sx, sy = _gdal_exact(src_tf, dst_tf, x[[0, -1]], yy[[0, -1]])
    dx = (sx[1] - sx[0]) / (x[-1] - x[0])
    dy = (sy[1] - sy[0]) / (x[-1] - x[0])
    return sx[0] + dx * (x - x[0]), sy[0] + dy * (x - x[0])


def _corners(src_tf: Affine, dst_tf: Affine, rows: int, cols: int):
    """Source pixel coordinates of each destination pixel's TL and BR corners, as GDAL computes them."""
    out = [np.empty((rows, cols)) for _ in range(4)]
    xs = np.arange(cols, dtype=np.float64)
    for r in range(rows):
        out[0][r], out[1][r] = _gdal_row(src_tf, dst_tf, xs, float(r))
        out[2][r], out[3][r] = _gdal_row(src_tf, dst_tf, xs + 1.0, float(r + 1))
    return tuple(out)


def _margin(src_tf: Affine, dst_tf: Affine) -> tuple[float, float]:
    sx = min(1.0, abs(src_tf.a / dst_tf.a))
    sy = min(1.0, abs(src_tf.e / dst_tf.e))
    return 2.0 * max(1, math.ceil(1.0 / sx)), 2.0 * max(1, math.ceil(1.0 / sy))


def _validity(src: np.ndarray, nodata) -> np.ndarray:
    if nodata is None:
        return EMPTY_U8
    if isinstance(nodata, float) and math.isnan(nodata):
        bad = np.isnan(src)
    else:
        bad = src == np.asarray(nodata).astype(src.dtype)
    return (~bad.all(axis=0)).astype(np.uint8)


def _gdal_write(values: np.ndarray, produced: np.ndarray, dtype, nodata) -> np.ndarray:
    """GDAL 3.10's GWKSetPixelValue for the general kernels, on an INIT_DEST=NO_DATA buffer."""
    dtype = np.dtype(dtype)
    fill = 0 if nodata is None else nodata
    out = np.full(values.shape, fill, dtype=dtype)
    mask = np.broadcast_to(produced.astype(bool), values.shape)
    v = values[mask]
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        r = np.where(v < info.min, info.min, np.where(v > info.max, info.max, np.floor(v + 0.5)))
        r = r.astype(dtype)
        if nodata is not None:
            nd = dtype.type(nodata)
            r = np.where(r == nd, np.where(r == info.min, info.min + 1, r - 1), r).astype(dtype)
        out[mask] = r
    else:
        out[mask] = v.astype(dtype)
    return out


def _run_ours(src, nodata, src_tf, dst_tf, shape, method):
    rows, cols = shape
    nb = src.shape[0]
    valid = _validity(src, nodata)
    out = np.zeros((nb, rows, cols))
    produced = np.zeros((rows, cols), np.uint8)
    if method == "sum":
        h, w = src.shape[1:]
        cx = np.empty((h + 1, w + 1))
        cy = np.empty((h + 1, w + 1))
        xs = np.arange(w + 1, dtype=np.float64)
        for j in range(h + 1):  # forward (source -> destination) approximate transform per row
            cx[j], cy[j] = _gdal_row(dst_tf, src_tf, xs, float(j))
        weight = np.zeros((rows, cols))
        dweight = np.zeros((rows, cols))
        R.sum_preserving(src, valid, EMPTY_F32, cx, cy, True, 0, rows, 0, cols, out, weight, dweight)
        produced = (weight > 0).astype(np.uint8)
        return out, produced
    tlx, tly, brx, bry = _corners(src_tf, dst_tf, rows, cols)
    ok = np.ones((rows, cols), np.uint8)
    mx, my = _margin(src_tf, dst_tf)
    R.average_or_mode(
        src, valid, EMPTY_F32, 0, 0, tlx, tly, brx, bry, ok, tlx, mx, my, False, 1.0,
        R.METHOD_CODES[method], out, produced,
    )
    return out, produced


def _run_gdal(src, nodata, src_tf, dst_tf, shape, method):
    crs = "EPSG:32618"
    nd = nodata
    dst = np.full((src.shape[0],) + tuple(shape), 0 if nd is None else nd, dtype=src.dtype)
    rio_reproject(
        src, dst, src_transform=src_tf, src_crs=crs, dst_transform=dst_tf, dst_crs=crs,
        resampling=Resampling[method], src_nodata=nodata, dst_nodata=nodata, warp_mem_limit=2048,
        num_threads=1,
    )
    return dst


def _read(name, max_size=400):
    with rasterio.open(data_file(name)) as ds:
        arr = ds.read(window=((0, min(ds.height, max_size)), (0, min(ds.width, max_size))))
        return arr, ds.nodata, ds.transform


FILES = [
    "RGB.byte.tif",  # uint8, 3 bands, nodata 0
    "storml_elev.tif",  # int16, nodata 32767
    "sr_b4_20200829.tif",  # uint16, nodata 0
    "titiler_dem.tif",  # float32, nodata -9999
    "south-up.tif",  # float32, nodata NaN
]


def _grids(src_tf: Affine, shape):
    h, w = shape
    a, e = src_tf.a, src_tf.e
    x0, y0 = src_tf.c, src_tf.f
    cases = {}
    for f in (2.0, 3.0, 1.7, 3.3):
        cases[f"down{f}"] = (Affine(a * f, 0, x0, 0, e * f, y0), (int(h / f), int(w / f)))
    # shifted grid, same resolution (not on pixel boundaries)
    cases["shift"] = (Affine(a, 0, x0 + 0.37 * a, 0, e, y0 - 0.61 * e), (h, w))
    # partial overlap, destination extends beyond the source on every side, downsampling x2.3
    f = 2.3
    cases["beyond"] = (
        Affine(a * f, 0, x0 - 7.3 * a, 0, e * f, y0 - 5.1 * e),
        (int(h / f) + 8, int(w / f) + 9),
    )
    cases["up2.5"] = (
        Affine(a / 2.5, 0, x0 + (w // 3 + 0.2) * a, 0, e / 2.5, y0 + (h // 3) * e),
        (min(h, 120) * 2, min(w, 120) * 2),
    )
    return cases


def _south_up_fix(src, tf):
    # keep the kernels on north-up same-CRS grids: flip a south-up raster (values unchanged)
    if tf.e > 0:
        src = src[:, ::-1, :].copy()
        tf = Affine(tf.a, 0, tf.c, 0, -tf.e, tf.f + tf.e * src.shape[1])
    return src, tf


# --------------------------------------------------------------------------- GDAL parity


@pytest.mark.parametrize("name", FILES)
def test_kernel_parity_with_gdal(name):
    src, nodata, tf = _read(name)
    src, tf = _south_up_fix(src, tf)
    report = []
    for case, (dst_tf, shape) in _grids(tf, src.shape[1:]).items():
        for method in AVG_FAMILY + ["sum"]:
            ours, produced = _run_ours(src, nodata, tf, dst_tf, shape, method)
            gdal = _run_gdal(src, nodata, tf, dst_tf, shape, method)
            mine = _gdal_write(ours, produced, src.dtype, nodata)
            if nodata is not None and isinstance(nodata, float) and math.isnan(nodata):
                gvalid = ~np.isnan(gdal)
                mvalid = ~np.isnan(mine)
            elif nodata is not None:
                gvalid = gdal != np.asarray(nodata).astype(src.dtype)
                mvalid = mine != np.asarray(nodata).astype(src.dtype)
            else:
                gvalid = mvalid = np.ones(gdal.shape, bool)
            mask_agree = (gvalid == mvalid).mean()
            both = gvalid & mvalid
            g = gdal[both].astype(np.float64)
            m = mine[both].astype(np.float64)
            if method in EXACT_METHODS:
                ok = (g == m).mean() if g.size else 1.0
            elif src.dtype.kind in "iu":
                ok = (np.abs(g - m) <= 1).mean() if g.size else 1.0
            else:
                # 1e-4 relative; the absolute floor (1e-9 of the data range) only absorbs sum's
                # 1e-13-level round-off where GDAL and we disagree on sub-ulp overlaps of zeros
                floor = 1e-9 * float(np.nanmax(np.abs(np.where(np.isfinite(src), src, 0))))
                ok = (np.abs(g - m) <= np.maximum(1e-4 * np.abs(g), floor)).mean() if g.size else 1.0
            report.append((case, method, ok, mask_agree, int(gvalid.sum())))
    bad = [r for r in report if r[2] < 0.999 or r[3] < 0.999]
    assert not bad, bad
    # a test that nothing trivially passes: GDAL produced pixels in every case
    assert all(r[4] > 0 for r in report)


# --------------------------------------------------------------------------- documented quirks


def _one(src, x1, y1, x2, y2, method, valid=EMPTY_U8):
    src = np.asarray(src, dtype=np.float64)
    if src.ndim == 2:
        src = src[None]
    a = lambda v: np.array([[v]], np.float64)  # noqa: E731
    out = np.zeros((src.shape[0], 1, 1))
    prod = np.zeros((1, 1), np.uint8)
    R.average_or_mode(
        src, valid, EMPTY_F32, 0, 0, a(x1), a(y1), a(x2), a(y2), np.ones((1, 1), np.uint8), a(x1),
        4.0, 4.0, False, 1.0, R.METHOD_CODES[method], out, prod,
    )
    return out[0, 0, 0] if prod[0, 0] else None


def test_edge_weight_above_one_when_footprint_leaves_source():
    # E12: footprint [-0.5, 1.5] over [0, 1, 2, 3] -> weights 1.5 and 0.5 -> 0.25
    assert _one([[0, 1, 2, 3]], -0.5, 0, 1.5, 1, "average") == pytest.approx(0.25)
    assert _one([[0, 1, 2, 3]], 1.5, 0, 3.5, 1, "average") == pytest.approx(2.0)


def test_touching_pixels_count_for_max_and_weight_for_average():
    assert _one([[0, 100, 200, 300]], 0.9, 0, 2.1, 1, "max") == 200
    assert _one([[0, 100, 200, 300]], 0.9, 0, 2.1, 1, "average") == pytest.approx(100)


def test_mode_tie_rule_and_quantiles():
    assert _one([[5, 3], [3, 5]], 0, 0, 2, 2, "mode") == 3
    assert _one([[3, 5], [5, 3]], 0, 0, 2, 2, "mode") == 5
    blk = [[1, 2], [3, 4]]
    got = {m: _one(blk, 0, 0, 2, 2, m) for m in ("med", "q1", "q3", "min", "max")}
    assert got == {"med": 2, "q1": 1, "q3": 3, "min": 1, "max": 4}


def test_invalid_pixels_are_skipped_and_all_invalid_gives_nothing():
    valid = np.array([[0, 1], [1, 0]], np.uint8)
    assert _one([[9, 1], [3, 9]], 0, 0, 2, 2, "average", valid) == pytest.approx(2.0)
    assert _one([[9, 1], [3, 9]], 0, 0, 2, 2, "max", valid) == 3
    assert _one([[9, 1]], 0, 0, 2, 1, "mode", np.zeros((1, 2), np.uint8)) is None


def test_mode_deviations_from_gdal_3_10():
    """Documented deviations: exact mode values (GDAL casts to float32) and Int16 mode -1."""
    # GDAL 3.10 gives 302011008 (float32 key); we give the exact value.
    big = np.array([[[302011022, 302011022], [302041041, 7]]], np.int32)
    assert _one(big.astype(np.float64)[0], 0, 0, 2, 2, "mode") == 302011022
    out = np.zeros((1, 1, 1))
    prod = np.zeros((1, 1), np.uint8)
    a = lambda v: np.array([[v]], np.float64)  # noqa: E731
    R.average_or_mode(
        big, EMPTY_U8, EMPTY_F32, 0, 0, a(0), a(0), a(2), a(2), np.ones((1, 1), np.uint8), a(0),
        4.0, 4.0, False, 1.0, R.MODE, out, prod,
    )
    assert out[0, 0, 0] == 302011022
    # GDAL 3.10 drops an Int16 mode of -1 (histogram initialised to -1); we produce it.
    neg = np.array([[[-1, -1], [-1, 7]]], np.int16)
    out[:] = 0
    prod[:] = 0
    R.average_or_mode(
        neg, EMPTY_U8, EMPTY_F32, 0, 0, a(0), a(0), a(2), a(2), np.ones((1, 1), np.uint8), a(0),
        4.0, 4.0, False, 1.0, R.MODE, out, prod,
    )
    assert prod[0, 0] == 1 and out[0, 0, 0] == -1


def test_sum_general_quadrilateral_matches_axis_aligned():
    rng = np.random.default_rng(0)
    src = rng.random((2, 13, 11))
    src_tf = Affine(10, 0, 0, 0, -10, 130)
    dst_tf = Affine(23, 0, -7, 0, -17, 133)
    inv = ~dst_tf
    ii, jj = np.meshgrid(np.arange(12, dtype=np.float64), np.arange(14, dtype=np.float64))
    cx, cy = _apply(inv, *_apply(src_tf, ii, jj))
    res = []
    for aligned in (True, False):
        out = np.zeros((2, 9, 6))
        wt = np.zeros((9, 6))
        dw = np.zeros((9, 6))
        R.sum_preserving(src, EMPTY_U8, EMPTY_F32, cx, cy, aligned, 0, 9, 0, 6, out, wt, dw)
        res.append(out)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12, atol=1e-12)
    # total is preserved when the destination covers the whole source
    np.testing.assert_allclose(res[0].sum(axis=(1, 2)), src.sum(axis=(1, 2)), rtol=1e-12)


def test_sum_rotated_quadrilaterals_preserve_total():
    rng = np.random.default_rng(1)
    src = rng.random((1, 9, 7))
    src_tf = Affine.translation(40, 10) * Affine.rotation(30) * Affine.scale(3, 3)
    dst_tf = Affine.identity()
    inv = ~dst_tf
    ii, jj = np.meshgrid(np.arange(8, dtype=np.float64), np.arange(10, dtype=np.float64))
    cx, cy = _apply(inv, *_apply(src_tf, ii, jj))
    out = np.zeros((1, 50, 60))
    wt = np.zeros((50, 60))
    dw = np.zeros((50, 60))
    R.sum_preserving(src, EMPTY_U8, EMPTY_F32, cx, cy, False, 0, 50, 0, 60, out, wt, dw)
    assert out.sum() == pytest.approx(src.sum(), rel=1e-12)
    # block invariance: two row blocks give the same as one
    out2 = np.zeros((1, 50, 60))
    wt2 = np.zeros((50, 60))
    for r0, r1 in ((0, 23), (23, 50)):
        R.sum_preserving(src, EMPTY_U8, EMPTY_F32, cx, cy, False, r0, r1, 0, 60, out2[:, r0:r1], wt2[r0:r1], dw[r0:r1])
    np.testing.assert_array_equal(out, out2)


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "uint32", "int64"])
@pytest.mark.parametrize("scale", [0.37, 1.0, 1.3, 3.0])
def test_average_integer_fast_kernel_is_bit_identical_to_reference(dtype, scale):
    """average_integer_plain == average_or_mode(AVERAGE) bit for bit: random footprints of every
    size, reversed corners, footprints leaving the window, failed/non-finite corners."""
    rng = np.random.default_rng(int(scale * 100) + len(dtype))
    info = np.iinfo(dtype)
    h, w = 23, 31
    src = rng.integers(info.min, info.max, size=(2, h, w), endpoint=True, dtype=dtype)
    rows, cols = 40, 50
    x0 = rng.uniform(-6, w + 6, (rows, cols))
    y0 = rng.uniform(-6, h + 6, (rows, cols))
    # integer and near-integer corners (footprints of exactly one column/row, EPS cases)
    snap = rng.random((rows, cols)) < 0.3
    x0[snap] = np.round(x0[snap]) + rng.choice([0.0, 1e-11, -1e-11, 1e-9], snap.sum())
    tlx, tly = x0 + 100.0, y0 + 50.0
    brx = tlx + scale * rng.choice([1.0, -1.0, 0.5, 1.7], (rows, cols))
    bry = tly + scale * rng.choice([1.0, -1.0, 0.5, 1.7], (rows, cols))
    tlx[rng.random((rows, cols)) < 0.02] = np.inf
    bry[rng.random((rows, cols)) < 0.02] = np.nan
    ok = (rng.random((rows, cols)) > 0.03).astype(np.uint8)
    m = 2.0 * max(1, math.ceil(1 / min(scale, 1.0)))
    ref_out = np.zeros((2, rows, cols))
    ref_prod = np.zeros((rows, cols), np.uint8)
    R.average_or_mode(src, EMPTY_U8, EMPTY_F32, 100, 50, tlx, tly, brx, bry, ok, tlx, m, m, False, 1.0,
                      R.AVERAGE, ref_out, ref_prod)
    out = np.zeros((2, rows, cols))
    prod = np.zeros((rows, cols), np.uint8)
    R.average_integer_plain(src, 100, 50, tlx, tly, brx, bry, ok, m, m, out, prod)
    assert ref_prod.any() and not ref_prod.all()
    np.testing.assert_array_equal(prod, ref_prod)
    np.testing.assert_array_equal(out.view(np.int64), ref_out.view(np.int64))


@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16", "int32", "uint64"])
@pytest.mark.parametrize("method", ["min", "max", "rms", "med", "q1", "q3"])
def test_minmax_integer_fast_kernel_is_bit_identical_to_reference(dtype, method):
    rng = np.random.default_rng(len(dtype) + len(method))
    info = np.iinfo(dtype)
    h, w = 23, 31
    src = rng.integers(info.min, info.max, size=(2, h, w), endpoint=True, dtype=dtype)
    rows, cols = 40, 50
    tlx = rng.uniform(-6, w + 6, (rows, cols)) + 7.0
    tly = rng.uniform(-6, h + 6, (rows, cols)) + 3.0
    brx = tlx + rng.choice([1.0, -1.0, 0.3, 2.7, 4.0], (rows, cols))
    bry = tly + rng.choice([1.0, -1.0, 0.3, 2.7, 4.0], (rows, cols))
    tlx[rng.random((rows, cols)) < 0.02] = np.nan
    ok = (rng.random((rows, cols)) > 0.03).astype(np.uint8)
    code = R.METHOD_CODES[method]
    ref_out = np.zeros((2, rows, cols))
    ref_prod = np.zeros((rows, cols), np.uint8)
    R.average_or_mode(src, EMPTY_U8, EMPTY_F32, 7, 3, tlx, tly, brx, bry, ok, tlx, 2.0, 2.0, False, 1.0,
                      code, ref_out, ref_prod)
    out = np.zeros((2, rows, cols))
    prod = np.zeros((rows, cols), np.uint8)
    if method in ("min", "max"):
        R.minmax_integer_plain(src, 7, 3, tlx, tly, brx, bry, ok, 2.0, 2.0, code, out, prod)
    else:
        R.rms_quantile_integer_plain(src, 7, 3, tlx, tly, brx, bry, ok, 2.0, 2.0, code, out, prod)
    assert ref_prod.any() and not ref_prod.all()
    np.testing.assert_array_equal(prod, ref_prod)
    np.testing.assert_array_equal(out.view(np.int64), ref_out.view(np.int64))


def test_integer_quantile_networks_match_the_reference_quantile():
    rng = np.random.default_rng(7)
    for n in range(1, 41):
        for _ in range(30):
            vals = rng.integers(-5, 6, n) if rng.random() < 0.5 else rng.integers(-(2**40), 2**40, n)
            for q in (0.25, 0.5, 0.75):
                ref = R._quantile_of(vals.astype(np.float64), n, q)
                got = R._quantile_of_int(vals.astype(np.int64), n, q)
                assert got == ref, (n, q, vals)
