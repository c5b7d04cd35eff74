"""Reprojection parity of the area-reduction resamplers with GDAL, through ``raster_core.reproject``.

Every method of the reduce family (``average, rms, mode, max, min, med, q1, q3, sum``) on real
data x CRS pairs (UTM -> EPSG:4326 / EPSG:3857, EPSG:4326 -> UTM, polar stereographic, equal
area, a rotated source, same-CRS /3.3 and x2.5) against ``rasterio.warp.reproject`` with one
GDAL chunk (``warp_mem_limit`` large and GDAL's fill-ratio chunk splitting off, since GDAL
re-anchors its approximate transformer on every chunk). Thresholds (issue 3): mode/min/max/
med/q1/q3 >= 99.9 % identical; average/rms/sum >= 99.9 % within 1 DN (integers) or 1e-4
relative (floats); validity masks agree on >= 99.9 %.

``raster_core._warp_reduce.reduce_block`` itself is checked for window, block and thread
invariance on the plan of :func:`raster_core.warp.plan_warp`.

Not a case here: EPSG:2056 (Swiss) sources. pyproj's PROJ (9.5) and rasterio's PROJ (9.7) differ
by ~2e-4 source pixels on the inverse 3035 -> 2056 transform, a projection difference (not a
resampling one) that flips ~0.1 % of footprints touching a pixel boundary. Likewise the
user-defined Albers of rasterstats_slope.tif differs by ~2e-5 px between the two PROJs, which
on its steep slope values exceeds the 1e-4 relative tolerance of ``average``.

Documented deviations from GDAL 3.10 (bugs, tested in ``test_mode_deviations_vs_gdal``): mode
counts exact values (GDAL 3.10 casts Int32/UInt32/(U)Int64/Float64 to float32 keys) and an
Int16 mode of -1 is produced (GDAL 3.10 drops it).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core._warp_reduce import REDUCE_METHODS, gdal_margin, reduce_block, warp_reduce_block
from raster_core.errors import ResamplingError, ShapeError
from raster_core.transform import WarpTransformer
from raster_core.warp import plan_warp
from tests.conftest import data_file
from tests.test_warp_reduce_kernels import _gdal_write

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import Resampling  # noqa: E402
from rasterio.warp import calculate_default_transform  # noqa: E402
from rasterio.warp import reproject as rio_reproject  # noqa: E402

EXACT_METHODS = {"mode", "max", "min", "med", "q1", "q3"}


def _plan(t: WarpTransformer, dst_shape, src_shape, method: str):
    """Source window (xoff, yoff, xsize, ysize) and kernel scale of the warp (raster_core.warp)."""
    p = plan_warp(
        t.src_crs, t.src_gt, tuple(src_shape), t.dst_crs, t.dst_gt, tuple(dst_shape), resampling=method
    )
    w = p.window
    return (w.col_off, w.row_off, w.width, w.height), (p.xscale, p.yscale)


def _validity(src, nodata):
    if nodata is None:
        return None
    if isinstance(nodata, float) and math.isnan(nodata):
        bad = np.isnan(src)
    else:
        bad = src == np.asarray(nodata).astype(src.dtype)
    return ~bad.all(axis=0)


def ours_warp(src, nodata, src_crs, src_tf, dst_crs, dst_tf, shape, method, *, blocks=1):
    t = WarpTransformer(src_crs, src_tf, dst_crs, dst_tf)
    (xoff, yoff, xs, ys), scale = _plan(t, shape, src.shape[1:], method)
    win = src[:, yoff : yoff + ys, xoff : xoff + xs]
    valid = _validity(win, nodata)
    rows, cols = shape
    values = np.zeros((src.shape[0], rows, cols))
    produced = np.zeros((rows, cols), bool)
    edges = np.linspace(0, rows, blocks + 1).astype(int)
    for r0, r1 in zip(edges[:-1], edges[1:], strict=True):
        res = reduce_block(
            win, (xoff, yoff, xs, ys), valid, None, t, (0, int(r0), cols, int(r1 - r0)), cols, method,
            scale=scale,
        )
        values[:, r0:r1] = res.values
        produced[r0:r1] = res.produced
    return values, produced


def ours_reproject(src, nodata, src_crs, src_tf, dst_crs, dst_tf, shape, method):
    out, _ = raster_core.reproject(
        src, src_transform=src_tf, src_crs=src_crs, dst_transform=dst_tf, dst_crs=dst_crs, dst_shape=shape,
        resampling=method, src_nodata=nodata, dst_nodata=nodata, num_threads=2,
    )
    return out


def gdal_warp(src, nodata, src_crs, src_tf, dst_crs, dst_tf, shape, method):
    dst = np.full((src.shape[0],) + tuple(shape), 0 if nodata is None else nodata, dtype=src.dtype)
    rio_reproject(
        src, dst, src_transform=src_tf, src_crs=src_crs, dst_transform=dst_tf, dst_crs=dst_crs,
        resampling=Resampling[method], src_nodata=nodata, dst_nodata=nodata, warp_mem_limit=4096,
        num_threads=1, SRC_FILL_RATIO_HEURISTICS="NO",  # one chunk: GDAL re-anchors per chunk
    )
    return dst


def compare(src, nodata, gdal, mine):
    if nodata is not None and isinstance(nodata, float) and math.isnan(nodata):
        gv, mv = ~np.isnan(gdal), ~np.isnan(mine)
    elif nodata is not None:
        nd = np.asarray(nodata).astype(src.dtype)
        gv, mv = gdal != nd, mine != nd
    else:
        gv = mv = np.ones(gdal.shape, bool)
    both = gv & mv
    g, m = gdal[both].astype(np.float64), mine[both].astype(np.float64)
    exact = float((g == m).mean()) if g.size else 1.0
    if src.dtype.kind in "iu":
        close = float((np.abs(g - m) <= 1).mean()) if g.size else 1.0
    else:
        floor = 1e-9 * float(np.nanmax(np.abs(np.where(np.isfinite(src), src, 0))))
        close = float((np.abs(g - m) <= np.maximum(1e-4 * np.abs(g), floor)).mean()) if g.size else 1.0
    return exact, close, float((gv == mv).mean()), int(gv.sum())


def _read(name, window=None):
    with rasterio.open(data_file(name)) as ds:
        arr = ds.read(window=window)
        tf = ds.window_transform(window) if window is not None else ds.transform
        return arr, ds.nodata, ds.crs, tf


def _target(src_crs, tf, shape, dst_crs, factor=1.0):
    h, w = shape
    left, top = tf.c, tf.f
    right, bottom = tf.c + w * tf.a + h * tf.b, tf.f + w * tf.d + h * tf.e
    dtf, dw, dh = calculate_default_transform(src_crs, dst_crs, w, h, left, min(top, bottom), right, max(top, bottom))
    if factor != 1.0:
        dtf = Affine(dtf.a * factor, dtf.b, dtf.c, dtf.d, dtf.e * factor, dtf.f)
        dw, dh = max(1, int(dw / factor)), max(1, int(dh / factor))
    return dtf, (dh, dw)


# (file, window, dst crs, factor): real data x CRS pairs
CASES = [
    ("RGB.byte.tif", ((200, 456), (250, 506)), "EPSG:4326", 1.0),  # UTM -> 4326, uint8 3 bands
    ("RGB.byte.tif", ((100, 420), (100, 420)), "EPSG:3857", 2.7),  # UTM -> 3857, downsampling
    ("storml_elev.tif", None, "EPSG:4326", 1.0),  # int16 UTM -> 4326
    ("sr_b4_20200829.tif", None, "EPSG:5070", 1.6),  # uint16 UTM -> CONUS Albers equal area
    ("storml_tcc.tif", None, "EPSG:6933", 1.0),  # uint8 (nodata 255) UTM -> EASE-Grid 2 equal area
    ("south-up.tif", None, "EPSG:32611", 1.0),  # float32 4326 -> UTM (south-up source, NaN nodata)
    ("titiler_B01.tif", None, "EPSG:3031", 1.0),  # uint16 UTM 34N -> Antarctic polar stereographic
    ("nt_20201024_f18_nrt_s.tif", ((60, 260), (60, 260)), "EPSG:3976", 1.3),  # polar -> polar (NSIDC)
    ("umbra_mount_yasur.tif", ((700, 1000), (900, 1200)), "EPSG:32759", 2.2),  # rotated source, same CRS
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}->{c[2]}" for c in CASES])
def test_reprojection_parity_with_gdal(case):
    name, window, dst_crs, factor = case
    src, nodata, crs, tf = _read(name, window)
    dst_tf, shape = _target(crs, tf, src.shape[1:], dst_crs, factor)
    bad = []
    for method in REDUCE_METHODS:
        gdal = gdal_warp(src, nodata, crs, tf, dst_crs, dst_tf, shape, method)
        mine = ours_reproject(src, nodata, crs, tf, dst_crs, dst_tf, shape, method)
        exact, close, mask, n = compare(src, nodata, gdal, mine)
        score = exact if method in EXACT_METHODS else close
        if score < 0.999 or mask < 0.999 or n == 0:
            bad.append((method, exact, close, mask, n))
    assert not bad, bad


@pytest.mark.parametrize("factor", [1 / 3.3, 2.5], ids=["down3.3", "up2.5"])
def test_same_crs_resize_parity_with_gdal(factor):
    src, nodata, crs, tf = _read("RGB.byte.tif", ((150, 550), (150, 550)))
    h, w = src.shape[1:]
    dst_tf = Affine(tf.a / factor, 0, tf.c + 3.3 * tf.a, 0, tf.e / factor, tf.f + 1.7 * tf.e)
    shape = (int(h * factor) - 4, int(w * factor) - 4)
    bad = []
    for method in REDUCE_METHODS:
        gdal = gdal_warp(src, nodata, crs, tf, crs, dst_tf, shape, method)
        mine = ours_reproject(src, nodata, crs, tf, crs, dst_tf, shape, method)
        exact, close, mask, n = compare(src, nodata, gdal, mine)
        score = exact if method in EXACT_METHODS else close
        if score < 0.999 or mask < 0.999 or n == 0:
            bad.append((method, exact, close, mask, n))
    assert not bad, bad


@pytest.mark.parametrize("nodata", [None, 0.0])
@pytest.mark.parametrize("dst_crs", ["EPSG:32632", "EPSG:4326"])
def test_float32_reductions_equal_gdal_bit_for_bit(dst_crs, nodata):
    """Float32 sources: every reduce method gives GDAL's exact bits (rms squares each value in
    double, as GDAL does, not in float32)."""
    from benchmarks.ops import OPS, run_ours, run_reference

    rng = np.random.default_rng(5)
    src = (rng.random((300, 300)) * 1000 + 3).astype("float32")
    src[::13, ::7] = 0
    if dst_crs == "EPSG:4326":
        dst_tf = Affine(0.0009, 0, 7.66, 0, -0.0007, 48.74)
    else:
        dst_tf = Affine(71.3, 0, 400010.0, 0, -71.3, 5399990.0)
    kw = dict(src_transform=Affine(30.0, 0, 400000.0, 0, -30.0, 5400000.0), src_crs="EPSG:32632",
              dst_transform=dst_tf, dst_crs=dst_crs, dst_shape=(120, 120), src_nodata=nodata, dst_nodata=nodata)
    for method in REDUCE_METHODS:
        ours = run_ours(OPS[method], src, **kw)
        ref = run_reference(OPS[method], src, **kw)
        assert (ref != (nodata or 0.0)).mean() > 0.5
        assert np.array_equal(ours.view(np.uint32), ref.view(np.uint32)), method


def test_antimeridian_footprint_wrap_matches_gdal():
    """Global EPSG:4326 source -> Arctic polar stereographic: footprints along the 180th
    meridian span both edges of the source; GDAL wraps them (bWrapOverX), and so do we."""
    src, nodata, crs, tf = _read("world.rgb.tif", ((0, 128), (0, 512)))
    dst_crs = "EPSG:3995"
    dst_tf = Affine(100000, 0, -4000000, 0, -100000, 4000000)
    shape = (80, 80)
    t = WarpTransformer(crs, tf, dst_crs, dst_tf)
    (xo, yo, xs, ys), scale = _plan(t, shape, src.shape[1:], "average")
    assert xo == 0 and xs == 512
    for method in ("average", "max", "mode", "sum"):
        gdal = gdal_warp(src, nodata, crs, tf, dst_crs, dst_tf, shape, method)
        mine = ours_reproject(src, nodata, crs, tf, dst_crs, dst_tf, shape, method)
        exact, close, mask, n = compare(src, nodata, gdal, mine)
        assert n > 0 and mask >= 0.999 and (exact if method in EXACT_METHODS else close) >= 0.999, method
    # without the wrap, ~0.5 % of the pixels (the 180th meridian) would differ
    win = src[:, yo : yo + ys, xo : xo + xs]
    res = reduce_block(win, (xo, yo, xs, ys), None, None, t, (0, 0, 80, 80), 80, "average", scale=scale, wrap_x=False)
    gdal = gdal_warp(src, nodata, crs, tf, dst_crs, dst_tf, shape, "average")
    assert compare(src, nodata, gdal, _gdal_write(res.values, res.produced, src.dtype, None))[1] < 0.999


@pytest.mark.parametrize("method", ["max", "mode"])
def test_antimeridian_wrap_reads_whole_rows_of_converted_parts(method):
    """With the antimeridian wrap a footprint may read any column, so the parts of a source in
    another type than the kernel's working type are whole rows of the window: any part size
    gives the values of the kernel reading the window converted whole."""
    from raster_core._kernels import reduce as K

    rng = np.random.default_rng(2)
    src = rng.integers(0, 7, size=(1, 128, 512)).astype(np.uint8)
    tf = Affine(360 / 512, 0, -180, 0, -180 / 256, 90)
    t = WarpTransformer("EPSG:4326", tf, "EPSG:3995", Affine(100000, 0, -4000000, 0, -100000, 4000000))
    shape = (80, 80)
    (xo, yo, xs, ys), (sx, sy) = _plan(t, shape, src.shape[1:], method)
    assert xo == 0 and xs == 512
    win = np.ascontiguousarray(src[:, yo:yo + ys])
    rows, cols = np.arange(80.0), np.arange(80.0)
    tl, br, ce = t.row_plan(cols, rows), t.row_plan(cols + 1.0, rows + 1.0), t.row_plan(cols + 0.5, rows + 0.5)
    code = K.METHOD_CODES[method]
    valid, density = np.zeros((0, 0), np.uint8), np.zeros((0, 0), np.float32)
    working = K.working_dtype(K.KERNEL_GENERAL, code, win.dtype)
    results = []
    for source, part_values in ((win.astype(working), K.PART_VALUES), (win, 1), (win, 5000)):
        out = np.zeros((1, *shape))
        prod = np.zeros(shape, np.uint8)
        K.reduce_rows_planned(K.KERNEL_GENERAL, code, source, valid, density, xo, yo, 0, 80, 0, 80,
                              tl.tables, br.tables, True, ce.tables, gdal_margin(sx), gdal_margin(sy), True, sx, out,
                              prod, part_values=part_values)
        results.append((out, prod))
    (o0, p0), *rest = results
    assert p0.any()
    for o, pr in rest:
        assert np.array_equal(o, o0) and np.array_equal(pr, p0)


# --------------------------------------------------------------------------- invariance


@settings(max_examples=25, deadline=None)
@given(
    method=st.sampled_from(REDUCE_METHODS),
    r0=st.integers(0, 60),
    nrows=st.integers(1, 40),
    c0=st.integers(0, 60),
    ncols=st.integers(1, 40),
)
def test_window_invariance(method, r0, nrows, c0, ncols):
    src, nodata, crs, tf = _read("storml_elev.tif")
    dst_crs = "EPSG:4326"
    dst_tf, shape = _target(crs, tf, src.shape[1:], dst_crs, 1.4)
    rows, cols = shape
    r0, c0 = min(r0, rows - 1), min(c0, cols - 1)
    nrows, ncols = min(nrows, rows - r0), min(ncols, cols - c0)
    t = WarpTransformer(crs, tf, dst_crs, dst_tf)
    (xoff, yoff, xs, ys), scale = _plan(t, shape, src.shape[1:], method)
    win = src[:, yoff : yoff + ys, xoff : xoff + xs]
    valid = _validity(win, nodata)
    full = reduce_block(win, (xoff, yoff, xs, ys), valid, None, t, (0, 0, cols, rows), cols, method, scale=scale)
    part = reduce_block(
        win, (xoff, yoff, xs, ys), valid, None, t, (c0, r0, ncols, nrows), cols, method, scale=scale
    )
    np.testing.assert_array_equal(part.produced, full.produced[r0 : r0 + nrows, c0 : c0 + ncols])
    sel = part.produced
    np.testing.assert_array_equal(part.values[:, sel], full.values[:, r0 : r0 + nrows, c0 : c0 + ncols][:, sel])
    if method == "sum":
        np.testing.assert_array_equal(part.density[sel], full.density[r0 : r0 + nrows, c0 : c0 + ncols][sel])


def test_thread_and_block_invariance_and_pickling():
    from concurrent.futures import ThreadPoolExecutor

    src, nodata, crs, tf = _read("sr_b4_20200829.tif")
    dst_tf, shape = _target(crs, tf, src.shape[1:], "EPSG:3857", 1.9)
    for method in ("average", "mode", "sum"):
        one = ours_warp(src, nodata, crs, tf, "EPSG:3857", dst_tf, shape, method, blocks=1)
        many = ours_warp(src, nodata, crs, tf, "EPSG:3857", dst_tf, shape, method, blocks=7)
        np.testing.assert_array_equal(one[1], many[1])
        np.testing.assert_array_equal(one[0][:, one[1]], many[0][:, many[1]])
    t = pickle.loads(pickle.dumps(WarpTransformer(crs, tf, "EPSG:3857", dst_tf)))
    (xoff, yoff, xs, ys), scale = _plan(t, shape, src.shape[1:], "average")
    win = src[:, yoff : yoff + ys, xoff : xoff + xs]
    valid = _validity(win, nodata)
    rows, cols = shape

    def block(r):
        return reduce_block(win, (xoff, yoff, xs, ys), valid, None, t, (0, r, cols, 1), cols, "average", scale=scale)

    with ThreadPoolExecutor(4) as ex:
        res = list(ex.map(block, range(rows)))
    got = np.concatenate([r.values for r in res], axis=1)
    prod = np.concatenate([r.produced for r in res], axis=0)
    ref = ours_warp(src, nodata, crs, tf, "EPSG:3857", dst_tf, shape, "average")
    np.testing.assert_array_equal(prod, ref[1])
    np.testing.assert_array_equal(got[:, prod], ref[0][:, prod])


# --------------------------------------------------------------------------- density, errors


def test_density_is_binary_for_average_and_blends_for_sum():
    # E6b: 2x downsample, band [100, 100, 50, 50], alpha [255, 128, 64, 0] (2 rows)
    band = np.array([[100, 100, 50, 50], [100, 100, 50, 50]], np.uint8)[None]
    dens = np.array([[255, 128, 64, 0], [255, 128, 64, 0]], np.float32) / np.float32(255)
    t = WarpTransformer(3857, (0, 1, 0, 2, 0, -1), 3857, (0, 2, 0, 2, 0, -2))
    avg = reduce_block(band, (0, 0, 4, 2), None, dens, t, (0, 0, 2, 1), 2, "average", scale=(0.5, 0.5))
    assert avg.values[0, 0].tolist() == [100.0, 50.0] and avg.density is None
    sm = reduce_block(band, (0, 0, 4, 2), None, dens, t, (0, 0, 2, 1), 2, "sum", scale=(0.5, 0.5))
    assert sm.values[0, 0].tolist() == [400.0, 100.0]
    np.testing.assert_allclose(sm.density[0], [(1 + 128 / 255) / 2, 64 / 255], rtol=1e-6)


def test_mode_deviations_vs_gdal():
    """The two GDAL 3.10 mode bugs we do not reproduce, shown against GDAL itself."""
    tf = Affine(10, 0, 500000, 0, -10, 4000000)
    dtf = Affine(20, 0, 500000, 0, -20, 4000000)
    big = np.array([[302011022, 302011022], [302041041, 7]], np.int32)[None]
    gdal = gdal_warp(big, None, "EPSG:32631", tf, "EPSG:32631", dtf, (1, 1), "mode")
    ours = ours_reproject(big, None, "EPSG:32631", tf, "EPSG:32631", dtf, (1, 1), "mode")
    assert gdal[0, 0, 0] == 302011008  # float32 key
    assert ours[0, 0, 0] == 302011022  # exact value
    neg = np.array([[-1, -1], [-1, 7]], np.int16)[None]
    gdal = gdal_warp(neg, 99, "EPSG:32631", tf, "EPSG:32631", dtf, (1, 1), "mode")
    ours = ours_reproject(neg, 99, "EPSG:32631", tf, "EPSG:32631", dtf, (1, 1), "mode")
    assert gdal[0, 0, 0] == 99  # dropped: left at dst nodata
    assert ours[0, 0, 0] == -1


def test_nan_without_nodata_matches_gdal():
    """Float NaNs that are not nodata: average/sum propagate them, max/min ignore them (an
    all-NaN footprint gives -inf/+inf from GDAL's +-DBL_MAX start), mode/quantiles follow GDAL."""
    tf = Affine(1, 0, 0, 0, -1, 4)
    dtf = Affine(2, 0, 0, 0, -2, 4)
    n = np.nan
    blocks = [
        np.array([[n, n, n, 4], [n, n, 2, n], [n, 1, -3, n], [n, n, n, n]], np.float32)[None],
        np.array([[1, n, 3, 4], [5, 6, n, n], [n, 1, 2, 3], [4, 5, 6, 7]], np.float32)[None],
    ]
    for src in blocks:
        for m in REDUCE_METHODS:
            gdal = gdal_warp(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (2, 2), m)
            ours = ours_reproject(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (2, 2), m)
            np.testing.assert_array_equal(ours, gdal, err_msg=m)


def test_reproject_write_rules_through_the_framework():
    """GDAL's write step applied by raster_core.warp to our values (E4, E5, E6b)."""
    tf = Affine(1, 0, 0, 0, -1, 2)
    dtf = Affine(2, 0, 0, 0, -2, 2)
    # uint8 average of [9, 10, 10, 11] = 10 collides with dst nodata 10 -> 9 (3.10)
    src = np.array([[9, 10], [10, 11]], np.uint8)[None]
    for m in ("average", "max", "mode"):
        ours = ours_reproject(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (1, 1), m)
        gd = gdal_warp(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (1, 1), m)
        assert ours[0, 0, 0] == gd[0, 0, 0]
    # int16 average of [-5, 0] (x2) = -2.5 -> -2 (round half up)
    src = np.array([[-5, 0], [-5, 0]], np.int16)[None]
    ours = ours_reproject(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (1, 1), "average")
    assert ours[0, 0, 0] == gdal_warp(src, None, "EPSG:3857", tf, "EPSG:3857", dtf, (1, 1), "average")[0, 0, 0] == -2
    # sum with src alpha: density blending (E6b)
    band = np.array([[100, 100, 50, 50], [100, 100, 50, 50]], np.uint8)
    alpha = np.array([[255, 128, 64, 0], [255, 128, 64, 0]], np.uint8)
    src = np.stack([band, alpha])
    kw = dict(src_transform=tf, src_crs="EPSG:3857", dst_transform=dtf, dst_crs="EPSG:3857", src_alpha=2)
    for m in ("sum", "average"):
        ours, _ = raster_core.reproject(src, np.zeros((2, 1, 2), np.uint8), resampling=m, **kw)
        gd = np.zeros((2, 1, 2), np.uint8)
        rio_reproject(src, gd, resampling=Resampling[m], **kw)
        np.testing.assert_array_equal(ours[0], gd[0])


def test_bad_input_raises_typed_errors():
    t = WarpTransformer(3857, (0, 1, 0, 2, 0, -1), 3857, (0, 2, 0, 2, 0, -2))
    src = np.zeros((1, 2, 2), np.uint8)
    with pytest.raises(ResamplingError):
        reduce_block(src, (0, 0, 2, 2), None, None, t, (0, 0, 1, 1), 1, "bilinear")
    with pytest.raises(ShapeError):
        reduce_block(src, (0, 0, 3, 2), None, None, t, (0, 0, 1, 1), 1, "average")
    with pytest.raises(ShapeError):
        reduce_block(src, (0, 0, 2, 2), np.ones((3, 3), bool), None, t, (0, 0, 1, 1), 1, "average")
    with pytest.raises(ShapeError):
        reduce_block(src, (0, 0, 2, 2), None, None, t, (1, 0, 1, 1), 1, "average")
    out = np.zeros((1, 1, 1))
    with pytest.raises(ShapeError):
        warp_reduce_block("average", src, None, None, (0, 0), (2, 2), t, (1, 1), (0, 1), (0, 2), 1.0, 1.0,
                          out, out.copy(), np.zeros((1, 1, 1), np.uint8))
    with pytest.raises(ShapeError):
        warp_reduce_block("average", src, None, None, (1, 0), (2, 2), t, (1, 1), (0, 1), (0, 1), 1.0, 1.0,
                          out, out.copy(), np.zeros((1, 1, 1), np.uint8))
    assert gdal_margin(0.25) == 8.0


@settings(max_examples=25, deadline=None)
@given(
    method=st.sampled_from(REDUCE_METHODS),
    r0=st.integers(0, 70),
    nrows=st.integers(1, 50),
    c0=st.integers(0, 70),
    ncols=st.integers(1, 50),
    block_rows=st.integers(1, 40),
    threads=st.sampled_from([1, 2, 3]),
)
def test_execute_plan_window_block_thread_invariance(method, r0, nrows, c0, ncols, block_rows, threads):
    """Through raster_core.warp.execute_plan: any output window, any block size, any thread count
    gives bit-for-bit the same pixels as the full single-threaded warp."""
    from raster_core.warp import execute_plan

    src, nodata, crs, tf = _read("RGB.byte.tif", ((100, 300), (150, 350)))
    dst_tf, shape = _target(crs, tf, src.shape[1:], "EPSG:3857", 1.7)
    plan = plan_warp(crs, tf, src.shape[1:], "EPSG:3857", dst_tf, shape, resampling=method)
    rows, cols = shape
    r0, c0 = min(r0, rows - 1), min(c0, cols - 1)
    r1, c1 = min(rows, r0 + nrows), min(cols, c0 + ncols)
    full = np.zeros((3, rows, cols), np.uint8)
    execute_plan(plan, src, full, src_nodata=nodata, dst_nodata=nodata, num_threads=1)
    part = np.zeros((3, r1 - r0, c1 - c0), np.uint8)
    execute_plan(plan, src, part, dst_window=(r0, r1, c0, c1), src_nodata=nodata, dst_nodata=nodata,
                 num_threads=threads, block_rows=block_rows)
    np.testing.assert_array_equal(part, full[:, r0:r1, c0:c1])
