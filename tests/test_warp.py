"""Unit tests of raster_core.warp: GDAL rules on small worked examples, invariances, errors, threads."""

from __future__ import annotations

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raster_core.errors import (
    CRSError,
    DataTypeError,
    InvalidParameterError,
    RasterCoreError,
    ResamplingError,
    ShapeError,
    TransformError,
)
from raster_core.resampling import Resampling, resampling_name
from raster_core.warp import execute_plan, plan_warp, reproject, source_window

RAMP_TF = Affine(1, 0, 0, 0, -1, 8)
HALF_TF = Affine(2, 0, 0, 0, -2, 8)


def _ramp(method: str, dtype="float64", **kw) -> np.ndarray:
    src = np.tile(np.arange(8.0), (8, 1)).astype(dtype)
    out, _ = reproject(src, src_transform=RAMP_TF, src_crs=3857, dst_transform=HALF_TF, dst_crs=3857,
                       dst_shape=(4, 4), resampling=method, num_threads=1, **kw)
    return out


# ------------------------------------------------------------------ worked examples (reference §12 E1)
@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("near", [1, 3, 5, 7]),
        ("bilinear", [0.714286, 2.5, 4.5, 6.285714]),
        ("cubic", [0.543933, 2.459459, 4.540541, 6.456067]),
        ("cubicspline", [0.907916, 2.504563, 4.495437, 6.092084]),
        ("lanczos", [0.506036, 2.449343, 4.550657, 6.493964]),
    ],
)
def test_e1_downsample_ramp(method, expected):
    np.testing.assert_allclose(_ramp(method)[1], expected, atol=1e-6)
    np.testing.assert_allclose(_ramp(method, "float32")[1], expected, atol=1e-5)


def test_kernel_scaling_false_uses_plain_kernels():
    # XSCALE=1: bilinear at x=1.0 uses taps 0 and 1 -> 0.5
    out = _ramp("bilinear", kernel_scaling=False)
    np.testing.assert_allclose(out[1], [0.5, 2.5, 4.5, 6.5])


def test_centre_rule_and_collision_e4():
    src = np.array([[0, 0, 10, 10]] * 4 + [[200, 200, 255, 255]] * 4, dtype=np.uint8)
    stf = Affine(1, 0, 0, 0, -1, 8)
    dtf = Affine(1, 0, 0.25, 0, -1, 8)
    kw = dict(src_transform=stf, src_crs=3857, dst_transform=dtf, dst_crs=3857, dst_shape=(8, 4), num_threads=1)
    near, _ = reproject(src, resampling="near", dst_nodata=10, **kw)
    assert near[0].tolist() == [0, 0, 10, 10]  # uint8 nearest: no collision decrement
    bil, _ = reproject(src, resampling="bilinear", dst_nodata=10, **kw)
    assert bil[0].tolist() == [0, 3, 9, 9]  # 10 -> 9
    centre, _ = reproject(src, resampling="bilinear", src_nodata=0, dst_nodata=0, **kw)
    assert centre[0].tolist() == [0, 0, 10, 10]  # centre in nodata -> skipped
    f32, _ = reproject(src.astype(np.float32), resampling="bilinear", dst_nodata=10, **kw)
    np.testing.assert_allclose(f32[0], [0.0, 2.5, 10.0, 10.0])
    i32, _ = reproject(src.astype(np.int32), resampling="near", dst_nodata=10, **kw)
    assert i32[0].tolist() == [0, 0, 9, 9]  # int32 nearest goes through the general path


def test_rounding_e5():
    src = np.array([[-5, 0]] * 2, dtype=np.int16)
    out, _ = reproject(src, src_transform=Affine(1, 0, 0, 0, -1, 2), src_crs=3857,
                       dst_transform=Affine(2, 0, 0, 0, -1, 2), dst_crs=3857, dst_shape=(2, 1),
                       resampling="bilinear", kernel_scaling=False)
    assert out[0, 0] == -2  # half-up in the integer working type
    out2 = np.zeros((2, 1), np.int16)
    reproject(src.astype(np.float32), out2, src_transform=Affine(1, 0, 0, 0, -1, 2), src_crs=3857,
              dst_transform=Affine(2, 0, 0, 0, -1, 2), dst_crs=3857, resampling="bilinear", kernel_scaling=False)
    assert out2[0, 0] == -3  # float working type -> GDALCopyWords rounds half away from zero


def test_alpha_blending_e6():
    band = np.full((1, 4), 100, np.uint8)
    alpha = np.array([[255, 128, 64, 0]], np.uint8)
    src = np.stack([band, alpha])
    tf = Affine(1, 0, 0, 0, -1, 1)
    out, _ = reproject(src, src_transform=tf, src_crs=3857, dst_transform=tf, dst_crs=3857, dst_shape=(1, 4),
                       src_alpha=2)
    assert out[0, 0].tolist() == [100, 50, 25, 0]
    pre = np.full((2, 1, 4), 200, np.uint8)
    reproject(src, pre, src_transform=tf, src_crs=3857, dst_transform=tf, dst_crs=3857, src_alpha=2,
              init_dest_nodata=False)
    assert pre[0, 0].tolist() == [100, 150, 175, 200]


def test_identical_grid_forces_nearest():
    src = np.zeros((5, 5))
    src[2, 2] = 6
    tf = Affine(1, 0, 0, 0, -1, 5)
    out, _ = reproject(src, src_transform=tf, src_crs=3857, dst_transform=tf @ Affine.translation(1, 0),
                       dst_crs=3857, dst_shape=(5, 5), resampling="cubicspline")
    assert out[2].tolist() == [0, 6, 0, 0, 0]
    out, _ = reproject(src, src_transform=tf, src_crs=3857, dst_transform=tf @ Affine.translation(1e-5, 0),
                       dst_crs=3857, dst_shape=(5, 5), resampling="cubicspline")
    np.testing.assert_allclose(out[2, 1:4], [2 / 3, 8 / 3, 2 / 3], atol=1e-3)  # (1,4,1)/6 in x and y


def test_masked_array_and_src_mask():
    src = np.ma.masked_equal(np.array([[1.0, 2.0], [3.0, -1.0]]), -1.0)
    tf = Affine(1, 0, 0, 0, -1, 2)
    out, _ = reproject(src, src_transform=tf, src_crs=3857, dst_transform=tf, dst_crs=3857, dst_shape=(2, 2),
                       dst_nodata=-9)
    assert out.tolist() == [[1, 2], [3, -9]]
    out, _ = reproject(np.ones((2, 2)), src_transform=tf, src_crs=3857, dst_transform=tf, dst_crs=3857,
                       dst_shape=(2, 2), src_mask=np.array([[1, 0], [1, 1]]), dst_nodata=-9)
    assert out.tolist() == [[1, -9], [1, 1]]


def test_nan_nodata_and_3d_and_enum():
    src = np.ones((2, 6, 6), np.float32)
    src[:, 0, 0] = np.nan
    tf = Affine(1, 0, 0, 0, -1, 6)
    out, _ = reproject(src, src_transform=tf, src_crs=3857, dst_transform=tf @ Affine.scale(2), dst_crs=3857,
                       dst_shape=(3, 3), resampling=Resampling.bilinear, src_nodata=np.nan)
    assert out.shape == (2, 3, 3)
    assert np.allclose(out[:, 1:, 1:], 1)


# ------------------------------------------------------------------ errors
def test_errors_are_typed_and_early():
    src = np.zeros((4, 4), np.uint8)
    good = dict(src_transform=(0, 1, 0, 4, 0, -1), src_crs=3857, dst_transform=(0, 1, 0, 4, 0, -1), dst_crs=3857,
                dst_shape=(4, 4))
    with pytest.raises(ResamplingError):
        reproject(src, **{**good, "resampling": "gauss"})
    with pytest.raises(CRSError):
        reproject(src, **{**good, "dst_crs": "EPSG:0"})
    with pytest.raises(TransformError):
        reproject(src, **{**good, "src_transform": (0, 0, 0, 0, 0, 0)})
    with pytest.raises(TransformError):
        reproject(src, **{**good, "dst_transform": (0, float("inf"), 0, 0, 0, -1)})
    with pytest.raises(ShapeError):
        reproject(np.zeros((2, 3, 4, 4)), **good)
    with pytest.raises(ShapeError):
        reproject(src, np.zeros((3, 3), np.uint8), **good)
    with pytest.raises(ShapeError):
        reproject(src, np.zeros((2, 4, 4), np.uint8), **good)
    with pytest.raises(DataTypeError):
        reproject(src.astype(bool), **good)
    with pytest.raises(DataTypeError):
        reproject(src.astype(np.complex64), **good)
    with pytest.raises(DataTypeError):
        reproject(src.astype(np.float16), **good)
    with pytest.raises(DataTypeError):
        reproject(src, np.zeros((4, 4), ">u2"), **good)
    big_endian, _ = reproject(src.astype(">u2"), **good)
    assert big_endian.dtype == np.uint16 and big_endian.dtype.isnative
    with pytest.raises(ShapeError):
        reproject(src, **{**good, "dst_shape": (0, 4)})
    with pytest.raises(ShapeError):
        reproject(src, **{**good, "src_mask": np.ones((3, 3))})
    with pytest.raises(InvalidParameterError):
        reproject(src, **{**good, "src_alpha": 2})
    with pytest.raises(InvalidParameterError):
        reproject(src, **{**good, "num_threads": -1})
    with pytest.raises(InvalidParameterError):
        reproject(src, **{**good, "tolerance": float("nan")})
    with pytest.raises(InvalidParameterError):
        reproject(src, **{**good, "src_nodata": "x"})
    with pytest.raises(RasterCoreError):
        reproject(src, src_transform=(0, 1, 0, 4, 0, -1), src_crs=3857, dst_transform=(0, 1, 0, 4, 0, -1))


def test_resampling_names():
    assert resampling_name("nearest") == "near"
    assert resampling_name("cubic_spline") == "cubicspline"
    assert resampling_name(Resampling.lanczos) == "lanczos"
    with pytest.raises(ResamplingError):
        resampling_name(99)


# ------------------------------------------------------------------ planning
def test_plan_is_picklable_and_source_window():
    p = plan_warp(32618, (300000, 30, 0, 4500000, 0, -30), (500, 400), 4326,
                  (-77.37, 0.0004, 0, 40.63, 0, -0.0004), (120, 100), resampling="cubic")
    p2 = pickle.loads(pickle.dumps(p))
    assert p2.window == p.window and p2.xscale == p.xscale
    w = source_window(3857, (0, 10, 0, 1000, 0, -10), (100, 100), 3857, (205, 10, 0, 795, 0, -10), (10, 10),
                      resampling="bilinear")
    assert (w.col_off, w.row_off, w.width, w.height) == (19, 19, 13, 13)
    assert source_window(3857, (0, 10, 0, 1000, 0, -10), (100, 100), 3857, (5000, 10, 0, 800, 0, -10),
                         (10, 10)) is None


def test_reading_only_the_source_window_gives_the_same_result():
    rng = np.random.default_rng(1)
    src = rng.random((300, 280)).astype(np.float32)
    stf = Affine(30, 0, 300000, 0, -30, 4500000)
    dtf = Affine(0.0002, 0, -77.35, 0, -0.0002, 40.61)
    kw = dict(src_crs=32618, dst_transform=dtf, dst_crs=4326, dst_shape=(60, 70), resampling="cubic")
    full, _ = reproject(src, src_transform=stf, **kw)
    w = source_window(32618, stf, src.shape, 4326, dtf, (60, 70), resampling="cubic")
    assert w is not None and w.width < 280
    part, _ = reproject(src[w.slices], src_transform=stf @ Affine.translation(w.col_off, w.row_off), **kw)
    np.testing.assert_array_equal(part, full)


# ------------------------------------------------------------------ invariances
GRIDS = [
    (32618, Affine(30, 0, 300000, 0, -30, 4500000), 4326, Affine(0.0004, 0, -77.37, 0, -0.0004, 40.63)),
    (4326, Affine(0.01, 0, 10, 0, -0.01, 50), 3035, Affine(700, 0, 4320000, 0, -700, 2800000)),
    (3857, Affine(10, 0, 1000, 0, -10, 5000), 3857, Affine(23.7, 0, 1003, 0, -23.7, 4997)),
]


def _src(seed=0, shape=(180, 200), dtype=np.uint16):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4000, size=(2, *shape)).astype(dtype)
    a[:, 50:60, 20:40] = 0
    return a


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    grid=st.sampled_from(GRIDS),
    method=st.sampled_from(["near", "bilinear", "cubic", "cubicspline", "lanczos"]),
    r0=st.integers(0, 59), h=st.integers(1, 60), c0=st.integers(0, 69), w=st.integers(1, 70),
    threads=st.integers(1, 4),
)
def test_window_and_thread_invariance(grid, method, r0, h, c0, w, threads):
    s_crs, stf, d_crs, dtf = grid
    src = _src()
    plan = plan_warp(s_crs, stf, src.shape[1:], d_crs, dtf, (60, 70), resampling=method)
    full = np.zeros((2, 60, 70), np.uint16)
    execute_plan(plan, src, full, src_nodata=0, dst_nodata=0, num_threads=1, block_rows=7)
    r1, c1 = min(60, r0 + h), min(70, c0 + w)
    part = np.zeros((2, r1 - r0, c1 - c0), np.uint16)
    execute_plan(plan, src, part, dst_window=(r0, r1, c0, c1), src_nodata=0, dst_nodata=0, num_threads=threads)
    np.testing.assert_array_equal(part, full[:, r0:r1, c0:c1])


@pytest.mark.parametrize("method", ["near", "bilinear", "lanczos"])
def test_thread_count_invariance_reproject(method):
    s_crs, stf, d_crs, dtf = GRIDS[1]
    src = _src(3, (300, 320)).astype(np.float32)
    outs = [reproject(src, src_transform=stf, src_crs=s_crs, dst_transform=dtf, dst_crs=d_crs, dst_shape=(150, 160),
                      resampling=method, num_threads=n)[0] for n in (1, 2, 3, 8)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])


def test_safe_from_several_python_threads():
    s_crs, stf, d_crs, dtf = GRIDS[0]
    src = _src(5)

    def job(k):
        return reproject(src, src_transform=stf, src_crs=s_crs, dst_transform=dtf, dst_crs=d_crs,
                         dst_shape=(60, 70), resampling=["near", "bilinear", "cubic"][k % 3], num_threads=2,
                         src_nodata=0)[0]

    serial = [job(k) for k in range(6)]
    with ThreadPoolExecutor(6) as ex:
        parallel = list(ex.map(job, range(12)))
    for k, p in enumerate(parallel):
        np.testing.assert_array_equal(p, serial[k % 6])


def test_exact_tolerance_zero_differs_but_close():
    s_crs, stf, d_crs, dtf = GRIDS[1]
    src = _src(2, (300, 320)).astype(np.float32)
    kw = dict(src_transform=stf, src_crs=s_crs, dst_transform=dtf, dst_crs=d_crs, dst_shape=(150, 160),
              resampling="bilinear")
    a, _ = reproject(src, tolerance=0.125, **kw)
    b, _ = reproject(src, tolerance=0, **kw)
    assert a.shape == b.shape and np.isfinite(a).all()
