"""The staged row kernels (raster_core._kernels.rows) are bit-identical to the per-pixel kernels.

The staged path only takes the interior pixels of unmasked warps; these tests run the same
warps with the reference kernels (``reference_kernels=True``) and require identical output,
identical produced masks and identical signs of zero, over dtypes, methods, scales (4-sample,
4x4 cubic and widened separable kernels), nodata/collision rules, multi-band sources,
non-contiguous destinations and destination windows. GDAL parity itself is tested in
tests/test_warp_parity.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core._kernels.interp import WORK_FLOAT32, WORK_FLOAT64, WORK_INT, _convert
from raster_core._kernels.rows import S_ANY, S_INT, _store, _store_value
from raster_core.warp import execute_plan, plan_warp, reproject

SRC_TF = Affine(30, 0, 400000, 0, -30, 5400000)
SRC_CRS = "EPSG:32632"

# (dst_crs, dst_transform, dst_shape): 4-sample/4x4 (scale ~1), widened kernels (downsampling in
# one or both axes), upsampling, rotated, partial overlap (edges)
GRIDS = [
    ("EPSG:4326", Affine(0.0004, 0, 7.63, 0, -0.0004, 48.74), (260, 260)),
    ("EPSG:4326", Affine(0.0002, 0, 7.63, 0, -0.00025, 48.74), (400, 500)),
    ("EPSG:3035", Affine(30, 0, 4147000, 0, -30, 2851000), (320, 320)),
    ("EPSG:32632", Affine(90, 0, 400000, 0, -90, 5400000), (100, 100)),
    ("EPSG:32632", Affine(12, 3, 399000, 2, -12, 5400500), (700, 700)),
    ("EPSG:32632", Affine(40, 0, 399000, 0, -45, 5401000), (240, 240)),
]
METHODS = ["near", "bilinear", "cubic", "cubicspline", "lanczos"]


def _source(dtype: str, nodata: object, n: int = 300, bands: int = 2) -> np.ndarray:
    rng = np.random.default_rng(1)
    base = rng.random((n, n))
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        base = base * (float(info.max) - float(info.min)) + float(info.min)
    else:
        base = (base - 0.3) * 6e4
    s = base.astype(dtype)
    if nodata is not None:
        s[50:60, 50:80] = np.nan if nodata == "nan" else nodata
    return np.stack([s, s[::-1]][:bands])


def _both(fn):
    """``fn(reference)`` with the reference (per-pixel) kernels, then with the fast ones."""
    return [fn(True), fn(False)]


def _assert_identical(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=True)
    if a.dtype.kind == "f":
        assert np.array_equal(np.signbit(a), np.signbit(b))


@pytest.mark.parametrize("grid", range(len(GRIDS)))
@pytest.mark.parametrize("method", METHODS)
# (each source dtype compiles every staged kernel and per-pixel kernel once: with a cold Numba
# cache that is what this suite costs, so the dtypes are few; the packed-tap paths of other widths
# are in test_packed_tap_widths, other type pairs in the conversion tests below)
@pytest.mark.parametrize(("dtype", "nodata"), [("uint8", None), ("uint16", None), ("uint16", 0),
                                               ("float32", None), ("float32", "nan")])
def test_staged_equals_per_pixel(grid: int, method: str, dtype: str, nodata: object) -> None:
    dst_crs, tf, shape = GRIDS[grid]
    src = _source(dtype, nodata)
    nd = math.nan if nodata == "nan" else nodata
    a, b = _both(lambda ref: reproject(src, src_transform=SRC_TF, src_crs=SRC_CRS, dst_transform=tf, dst_crs=dst_crs,
                                       dst_shape=shape, resampling=method, src_nodata=nd, num_threads=1,
                                       reference_kernels=ref)[0])
    _assert_identical(a, b)


@pytest.mark.parametrize("method", ["bilinear", "cubic"])
@pytest.mark.parametrize(("dtype", "nodata"), [("int16", None), ("int16", -3), ("float64", None)])
def test_packed_tap_widths(method: str, dtype: str, nodata: object) -> None:
    """Signed 2-byte taps (unpacked with sign extension) and 8-byte taps (never packed: one load
    per tap), on 4-sample/4x4 and widened kernels."""
    src = _source(dtype, nodata)
    for dst_crs, tf, shape in GRIDS[:3]:
        a, b = _both(lambda ref, tf=tf, dst_crs=dst_crs, shape=shape: reproject(
            src, src_transform=SRC_TF, src_crs=SRC_CRS, dst_transform=tf, dst_crs=dst_crs,
            dst_shape=shape, resampling=method, src_nodata=nodata, num_threads=1, reference_kernels=ref)[0])
        _assert_identical(a, b)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("src_dtype", "dst_dtype", "dst_nodata"), [
    ("uint16", "uint8", None),  # clamping on conversion
    ("float32", "int16", None),  # float work, integer destination (round half away from zero)
    ("uint16", "uint16", 1000.0),  # dst-nodata collision rule (no src nodata: unmasked)
])
def test_staged_type_conversions(method: str, src_dtype: str, dst_dtype: str, dst_nodata: float | None) -> None:
    src = _source(src_dtype, None, bands=1)
    for dst_crs, tf, shape in GRIDS[:3]:
        a, b = _both(lambda ref, tf=tf, dst_crs=dst_crs, shape=shape: reproject(
            src, np.zeros((1, *shape), dtype=dst_dtype), src_transform=SRC_TF, src_crs=SRC_CRS, dst_transform=tf,
            dst_crs=dst_crs, resampling=method, dst_nodata=dst_nodata, num_threads=1, reference_kernels=ref)[0])
        _assert_identical(a, b)


# (one test per method, so that their compilations can run in different pytest-xdist workers)
@pytest.mark.parametrize("method", METHODS[:4])
@settings(max_examples=8, deadline=None)
@given(
    grid=st.integers(0, len(GRIDS) - 1),
    rows=st.tuples(st.integers(0, 99), st.integers(1, 100)),
    cols=st.tuples(st.integers(0, 99), st.integers(1, 100)),
    threads=st.integers(1, 3),
)
def test_staged_windows_and_produced_mask(method: str, grid: int, rows: tuple[int, int], cols: tuple[int, int],
                                          threads: int) -> None:
    """Windows of the output through a non-contiguous destination, with the produced mask."""
    dst_crs, tf, shape = GRIDS[grid]
    src = _source("uint16", None)
    plan = plan_warp(SRC_CRS, SRC_TF, src.shape[1:], dst_crs, tf, shape, resampling=method)
    r0 = rows[0] * shape[0] // 100
    r1 = min(shape[0], r0 + max(1, rows[1] * shape[0] // 100))
    c0 = cols[0] * shape[1] // 100
    c1 = min(shape[1], c0 + max(1, cols[1] * shape[1] // 100))

    def run(ref: bool) -> tuple[np.ndarray, np.ndarray | None]:
        big = np.full((2, r1 - r0, 2 * (c1 - c0)), 7, dtype=np.uint16)
        dst = big[:, :, ::2]  # not C-contiguous
        mask = execute_plan(plan, src, dst, dst_window=(r0, r1, c0, c1), num_threads=threads, reference_kernels=ref)
        return dst.copy(), mask

    (a, ma), (b, mb) = _both(run)
    _assert_identical(a, b)
    assert np.array_equal(ma, mb)


@settings(max_examples=25, deadline=None)
@given(
    grid=st.integers(0, len(GRIDS) - 1),
    method=st.sampled_from(["near", "bilinear", "cubic", "lanczos"]),
    chunk_rows=st.integers(1, 40),
    extra=st.integers(0, 50),
    nodata=st.booleans(),
)
def test_row_chunks_do_not_change_values(grid: int, method: str, chunk_rows: int, extra: int, nodata: bool) -> None:
    """The row driver cuts a block into chunks of rows (coordinates, staged kernel, per-pixel kernel
    per chunk); any chunk size, including one row and sizes that do not divide the block, gives the
    default's pixels and produced mask."""
    dst_crs, tf, shape = GRIDS[grid]
    src = _source("uint16", 0 if nodata else None)
    plan = plan_warp(SRC_CRS, SRC_TF, src.shape[1:], dst_crs, tf, shape, resampling=method)

    def run(points: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        dst = np.full((2, *shape), 7, dtype=np.uint16)
        mask = execute_plan(plan, src, dst, src_nodata=0 if nodata else None, dst_nodata=0 if nodata else None,
                            num_threads=1, row_chunk_points=points)
        return dst, mask

    a, ma = run(None)
    b, mb = run(chunk_rows * shape[1] + extra)
    _assert_identical(a, b)
    assert np.array_equal(ma, mb)


_VALUES = [0.0, -0.0, 0.49999999999999994, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 254.5, 255.0, 255.49, 255.5, 256.0,
           -1.0, -1e-300, 1e-300, 65534.5, 65535.4, 65535.5, 7e4, -3.3e4, -32768.4, -32768.6, 32767.5, 1000.0,
           999.6, 1000.4, 3.4028235e38, 3.5e38, -3.5e38, 1e308, math.inf, -math.inf, math.nan, 123.456789]


@pytest.mark.parametrize(("work_kind", "wmin", "wmax"), [
    (WORK_INT, 0.0, 255.0), (WORK_INT, 0.0, 65535.0), (WORK_INT, -32768.0, 32767.0),
    (WORK_FLOAT32, -3.4028234663852886e38, 3.4028234663852886e38), (WORK_FLOAT64, -1.7976931348623157e308,
                                                                    1.7976931348623157e308),
])
@pytest.mark.parametrize(("dst_is_int", "dmin", "dmax"), [
    (True, 0.0, 255.0), (True, -32768.0, 32767.0), (True, 0.0, 65535.0),
    (False, -3.4028234663852886e38, 3.4028234663852886e38),
])
@pytest.mark.parametrize(("dst_nodata", "collide"), [(math.nan, False), (1000.0, True), (0.0, True), (255.0, True),
                                                     (-32768.0, True)])
def test_store_value_equals_convert(work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide) -> None:
    for v in _VALUES:
        want = _convert(v, 1.0, 0.0, 1.0, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
        got = _store_value(v, work_kind, wmin, wmax, dst_is_int, dmin, dmax, dst_nodata, collide)
        assert (want == got and math.copysign(1, want) == math.copysign(1, got)) or (want != want and got != got), v


@pytest.mark.parametrize(("wmin", "wmax"), [(0.0, 255.0), (0.0, 65535.0), (-32768.0, 32767.0), (-2147483648.0,
                                                                                              2147483647.0)])
@pytest.mark.parametrize(("dmin", "dmax"), [(0.0, 255.0), (-32768.0, 32767.0), (0.0, 65535.0)])
def test_integer_store_class_equals_convert(wmin, wmax, dmin, dmax) -> None:
    """Store class S_INT (integer working and destination types, no collision rule: what the
    staged entry points compile for such warps) is ``_convert`` for every value class, and S_ANY
    is ``_store_value``."""
    for v in _VALUES:
        want = _convert(v, 1.0, 0.0, 1.0, WORK_INT, wmin, wmax, True, dmin, dmax, math.nan, False)
        got = _store(v, S_INT, WORK_INT, wmin, wmax, True, dmin, dmax, math.nan, False)
        assert want == got and math.copysign(1, want) == math.copysign(1, got), v
        for args in ((WORK_INT, wmin, wmax, True, dmin, dmax, 1000.0, True),
                     (WORK_FLOAT32, -3.4028234663852886e38, 3.4028234663852886e38, True, dmin, dmax, math.nan, False)):
            a = _store(v, S_ANY, *args)
            b = _store_value(v, *args)
            assert (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b), v


@pytest.mark.parametrize("method", ["bilinear", "cubicspline", "lanczos"])
@pytest.mark.parametrize(("dtype", "nodata", "density"), [("uint8", 0, 0.03), ("uint8", 0, 0.45),
                                                          ("float32", "nan", 0.2)])
def test_staged_scattered_invalid_taps(method: str, dtype: str, nodata: object, density: float) -> None:
    """Scattered invalid source pixels: the staged kernels take footprints with invalid taps
    (their values and weights left out as exact zeros, GDAL's weight totals and lanczos' rule of
    at least half the taps valid) and equal the per-pixel kernels bit for bit."""
    src = _source(dtype, None)
    rng = np.random.default_rng(7)
    holes = rng.random(src.shape[1:]) < density
    src[:, holes] = np.nan if nodata == "nan" else nodata
    nd = math.nan if nodata == "nan" else nodata
    # widened kernels (downsampled x2 in y / both axes), upsampled (lanczos' taps trimmed per pixel)
    for dst_crs, tf, shape in (GRIDS[1], GRIDS[3], GRIDS[4]):
        a, b = _both(lambda ref, tf=tf, dst_crs=dst_crs, shape=shape: reproject(
            src, src_transform=SRC_TF, src_crs=SRC_CRS, dst_transform=tf, dst_crs=dst_crs, dst_shape=shape,
            resampling=method, src_nodata=nd, num_threads=1, reference_kernels=ref)[0])
        _assert_identical(a, b)


@pytest.mark.parametrize("method", ["bilinear", "cubic", "cubicspline"])
def test_staged_whole_tap_words(method: str) -> None:
    """Widened kernels of 8-bit sources with 8 to 20 taps a kernel row, reprojected (the staged
    kernel of any tap count): the passes over a whole word of 8 taps and the single-tap passes of
    the taps left equal the per-pixel kernels bit for bit."""
    src = _source("uint8", None, n=400)
    for res in (0.0011, 0.0016, 0.0025):  # about x2.8, x4, x6.2 (and 1.5 x more in y)
        tf = Affine(res, 0, 7.64, 0, -1.5 * res, 48.72)
        a, b = _both(lambda ref, tf=tf: reproject(
            src, src_transform=SRC_TF, src_crs=SRC_CRS, dst_transform=tf, dst_crs="EPSG:4326", dst_shape=(50, 60),
            resampling=method, num_threads=1, reference_kernels=ref)[0])
        _assert_identical(a, b)
