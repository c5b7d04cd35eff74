"""Kernel isolation: the interpolation kernels fed with given source coordinates.

The same source pixel coordinates go to raster_core's Numba kernel and to independent
references (scipy.ndimage.map_coordinates, and a literal NumPy transcription of the
GDAL formulas of the reference document §2), which separates resampling error from
projection error. A same-CRS affine warp against GDAL (exact coordinates, no PROJ)
closes the loop with the real GDAL kernels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from raster_core._kernels.interp import warp_interp_block
from raster_core.resampling import METHOD_CODES


def _run_kernel(src, X, Y, method, xscale=1.0, yscale=1.0, valid=None, fast=False):
    src3 = src[None] if src.ndim == 2 else src
    R = {"near": 0, "bilinear": 1, "cubic": 2, "cubicspline": 2, "lanczos": 3}[method]
    xr = math.ceil(R / xscale) if xscale < 1 else R
    yr = math.ceil(R / yscale) if yscale < 1 else R
    X = np.atleast_2d(X).astype(np.float64)
    Y = np.atleast_2d(Y).astype(np.float64)
    dst = np.full((src3.shape[0], *X.shape), np.nan)
    produced = np.zeros(X.shape, np.bool_)
    warp_interp_block(
        src3, valid if valid is not None else np.ones((1, 1), np.uint8), valid is not None,
        np.ones((1, 1), np.float32), False, X, Y, np.ones(X.shape, bool), 0, 0, METHOD_CODES[method],
        xscale, yscale, xr, yr, fast, dst, np.ones((1, 1), np.uint8), False, 0, -np.inf, np.inf, False,
        -np.inf, np.inf, np.nan, False, produced,
    )
    return dst[0], produced.astype(bool)


def _kern(method, x):
    ax = abs(x)
    if method == "bilinear":
        return max(0.0, 1 - ax)
    if method == "cubic":
        if ax <= 1:
            return 1.5 * ax**3 - 2.5 * ax**2 + 1
        if ax <= 2:
            return -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
        return 0.0
    if method == "cubicspline":  # GDAL's un-normalised B-spline (x6)
        p = lambda v: max(v, 0.0) ** 3  # noqa: E731
        return p(x + 2) - 4 * p(x + 1) + 6 * p(x) - 4 * p(x - 1) if x > -2 else 0.0
    if method == "lanczos":
        return 1.0 if x == 0 else (0.0 if ax >= 3 else float(np.sinc(x) * np.sinc(x / 3)))
    raise ValueError(method)


def _reference_separable(src, X, Y, method, xscale, yscale):
    """Literal §2.4 separable formula, window-clipped and renormalised."""
    H, W = src.shape
    R = {"bilinear": 1, "cubic": 2, "cubicspline": 2, "lanczos": 3}[method]
    sx, sy = min(xscale, 1), min(yscale, 1)
    xr = math.ceil(R / xscale) if xscale < 1 else R
    yr = math.ceil(R / yscale) if yscale < 1 else R
    out = []
    for x, y in zip(X, Y, strict=True):
        i0 = math.floor(x - 0.5)
        j0 = math.floor(y - 0.5)
        d, e = x - 0.5 - i0, y - 0.5 - j0
        acc = wsum = 0.0
        for j in range(-yr, yr + 1):
            if not 0 <= j0 + j < H:
                continue
            wy = _kern(method, (j - e) * sy)
            for i in range(-xr, xr + 1):
                if not 0 <= i0 + i < W:
                    continue
                w = wy * _kern(method, (i - d) * sx)
                acc += w * src[j0 + j, i0 + i]
                wsum += w
        out.append(acc / wsum)
    return np.array(out)


@pytest.fixture(scope="module")
def field():
    rng = np.random.default_rng(42)
    return rng.random((40, 50)) * 100


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(1)
    # interior points (3 px from the edges: no clipping, no cubic bilinear fallback)
    return rng.uniform(4, 45, 300), rng.uniform(4, 35, 300)


def test_bilinear_equals_scipy_order1(field, points):
    X, Y = points
    ours, ok = _run_kernel(field, X, Y, "bilinear")
    ref = ndimage.map_coordinates(field, [Y - 0.5, X - 0.5], order=1)
    assert ok.all()
    np.testing.assert_allclose(ours[0], ref, rtol=0, atol=1e-10)


def test_cubicspline_equals_scipy_unfiltered_bspline(field, points):
    X, Y = points
    ours, _ = _run_kernel(field, X, Y, "cubicspline")
    ref = ndimage.map_coordinates(field, [Y - 0.5, X - 0.5], order=3, prefilter=False)
    np.testing.assert_allclose(ours[0], ref, rtol=0, atol=1e-9)


def test_near_is_containing_pixel(field, points):
    X, Y = points
    ours, _ = _run_kernel(field, X, Y, "near")
    np.testing.assert_array_equal(ours[0], field[np.floor(Y).astype(int), np.floor(X).astype(int)])


@pytest.mark.parametrize(
    ("method", "scale"),
    [(m, s) for m in ("bilinear", "cubic", "cubicspline", "lanczos")
     for s in ((1.0, 1.0), (0.5, 0.5), (0.3, 0.7), (0.8, 1.0))
     if not (m in ("bilinear", "cubic") and s == (1.0, 1.0))],  # 4-sample: scipy / Catmull-Rom tests
)
def test_separable_against_literal_formula(field, points, method, scale):
    X, Y = points
    xs, ys = scale
    ours, _ = _run_kernel(field, X, Y, method, xs, ys)
    ref = _reference_separable(field, X, Y, method, xs, ys)
    np.testing.assert_allclose(ours[0], ref, rtol=1e-12, atol=1e-9)


def test_cubic_4sample_equals_catmull_rom(field, points):
    X, Y = points
    ours, _ = _run_kernel(field, X, Y, "cubic")
    ref = _reference_separable(field, X, Y, "cubic", 1.0, 1.0)
    np.testing.assert_allclose(ours[0], ref, rtol=1e-12, atol=1e-9)


def test_edges_clip_and_fallback(field):
    # cubic near the edge falls back to bilinear (GDAL), bilinear clips taps outside the window
    X = np.array([0.2, 1.0, 49.9])
    Y = np.array([10.5, 0.3, 39.99])
    cub, ok = _run_kernel(field, X, Y, "cubic")
    bil, _ = _run_kernel(field, X, Y, "bilinear")
    assert ok.all()
    np.testing.assert_allclose(cub, bil)
    # centres outside the source are not produced
    _, ok = _run_kernel(field, np.array([-0.01, 50.0, 3.0]), np.array([3.0, 3.0, 40.0]), "bilinear")
    assert not ok.any()


def test_centre_rule_and_masked_renormalisation(field):
    valid = np.ones(field.shape, np.uint8)
    valid[10, 10] = 0
    v, ok = _run_kernel(field, np.array([10.5, 11.2]), np.array([10.5, 10.5]), "bilinear", valid=valid)
    assert not ok[0, 0] and ok[0, 1]
    # at (11.2, 10.5): taps (row 10, col 10) weight .3 (invalid) and (10, 11) weight .7; row 11 weight 0
    assert abs(v[0, 1] - field[10, 11]) < 1e-9


def test_gdal_kernels_on_exact_affine_coordinates():
    """Same-CRS affine warp: coordinates exact on both sides, so this isolates GDAL's kernels."""
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    from benchmarks.ops import OPS, compare, run_ours, run_reference

    rng = np.random.default_rng(3)
    src = (rng.random((1, 90, 110)) * 1000).astype(np.float32)
    for f in (0.37, 1.0 / 1.6, 2.7):
        kw = dict(src_transform=Affine(10, 0, 0, 0, -10, 900), src_crs="EPSG:3857",
                  dst_transform=Affine(10 * f, 0, 3.3, 0, -10 * f, 897.1), dst_crs="EPSG:3857",
                  dst_shape=(int(80 / f), int(100 / f)))
        for name in ("near", "bilinear", "cubic", "cubicspline", "lanczos"):
            op = OPS[name]
            ag = compare(op, run_ours(op, src, **kw), run_reference(op, src, **kw), None)
            assert ag.value_agree >= 0.9999 and ag.max_abs_diff < 1e-2, (f, name, ag)
    assert rasterio.__gdal_version__.startswith("3.10")


@pytest.mark.parametrize("method", ["bilinear", "cubic", "cubicspline", "lanczos"])
@pytest.mark.parametrize("dtype", ["uint16", "float32", "float64"])
def test_axis_aligned_kernel_bit_identical_to_per_pixel_kernel(method, dtype, monkeypatch):
    """Same-CRS downsampling shares horizontal sums between rows; must equal the per-pixel path."""
    from affine import Affine

    import raster_core.warp as warp

    rng = np.random.default_rng(5)
    src = (rng.random((2, 130, 150)) * 3000).astype(dtype)
    kw = dict(src_transform=Affine(10, 0, 0, 0, -10, 1300), src_crs=3857,
              dst_transform=Affine(33, 0, 7, 0, -27, 1290), dst_crs=3857, dst_shape=(40, 44),
              resampling=method, num_threads=1)
    fast, _ = warp.reproject(src, **kw)
    slow, _ = warp.reproject(src, reference_kernels=True, **kw)
    np.testing.assert_array_equal(fast, slow)
    fast_nd, _ = warp.reproject(src, dst_nodata=5, **kw)  # general path (dst validity mask)
    slow_nd, _ = warp.reproject(src, dst_nodata=5, reference_kernels=True, **kw)
    np.testing.assert_array_equal(fast_nd, slow_nd)
