"""The fast kernels equal the per-pixel reference kernels bit for bit (``reference_kernels=True``).

Interpolating methods are covered in tests/test_warp_rows.py and tests/test_warp_aligned_split.py;
this file covers the reduce family's integer kernels (integer sources; min, max and the quantiles
also with a nodata mask) and the choice of kernels itself (a pure function of the plan)."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raster_core._kernels import rows
from raster_core.resampling import METHOD_CODES
from raster_core.warp import reproject

SRC_TF = Affine(30, 0, 400000, 0, -30, 5400000)


@st.composite
def grids(draw: st.DrawFn) -> dict:
    factor = draw(st.floats(0.4, 5.0))
    return dict(
        dst_crs=draw(st.sampled_from(["EPSG:32632", "EPSG:3035"])),
        factor=factor,
        ox=draw(st.floats(-3, 3)),
        oy=draw(st.floats(-3, 3)),
        shape=(draw(st.integers(1, 90)), draw(st.integers(1, 90))),
        threads=draw(st.integers(1, 3)),
    )


@pytest.mark.parametrize("method", ["average", "min", "max", "rms", "med", "q1", "mode"])
@pytest.mark.parametrize("dtype", ["uint8", "int16"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=grids())
def test_integer_reduce_kernels_equal_reference(method: str, dtype: str, grid: dict) -> None:
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    src = rng.integers(info.min, int(info.max) + 1, (2, 140, 170), dtype=dtype)
    res = 30.0 * grid["factor"]
    if grid["dst_crs"] == "EPSG:32632":
        tf = Affine(res, 0, 400000 + 30 * grid["ox"], 0, -res, 5400000 - 30 * grid["oy"])
    else:
        tf = Affine(res, 0, 4147000 + 30 * grid["ox"], 0, -res, 2851000 - 30 * grid["oy"])
    kw = dict(src_transform=SRC_TF, src_crs="EPSG:32632", dst_transform=tf, dst_crs=grid["dst_crs"],
              dst_shape=grid["shape"], resampling=method, num_threads=grid["threads"])
    fast, _ = reproject(src, **kw)
    ref, _ = reproject(src, reference_kernels=True, **kw)
    assert np.array_equal(fast, ref)


@pytest.mark.parametrize("method", ["med", "q1", "q3", "min", "max"])
@pytest.mark.parametrize("dtype", ["uint8", "int16", "uint16"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=grids(), holes=st.floats(0.0, 0.6))
def test_integer_reduce_with_nodata_equal_reference(method: str, dtype: str, grid: dict, holes: float) -> None:
    """min, max and quantiles of an integer source with a nodata mask: scattered holes, a block
    of nodata (footprints with no valid pixel) and whole valid areas."""
    rng = np.random.default_rng(5)
    info = np.iinfo(dtype)
    src = rng.integers(info.min, int(info.max) + 1, (2, 140, 170), dtype=dtype)
    nodata = info.min
    src[:, rng.random((140, 170)) < holes] = nodata
    src[:, 40:70, 60:100] = nodata
    res = 30.0 * grid["factor"]
    tf = Affine(res, 0, 400000 + 30 * grid["ox"], 0, -res, 5400000 - 30 * grid["oy"])
    if grid["dst_crs"] == "EPSG:3035":
        tf = Affine(res, 0, 4147000 + 30 * grid["ox"], 0, -res, 2851000 - 30 * grid["oy"])
    kw = dict(src_transform=SRC_TF, src_crs="EPSG:32632", dst_transform=tf, dst_crs=grid["dst_crs"],
              dst_shape=grid["shape"], resampling=method, num_threads=grid["threads"], src_nodata=nodata,
              dst_nodata=nodata)
    fast, _ = reproject(src, **kw)
    ref, _ = reproject(src, reference_kernels=True, **kw)
    assert np.array_equal(fast, ref)


def test_kernel_choice_is_a_pure_function_of_the_plan() -> None:
    bil, cub, near = METHOD_CODES["bilinear"], METHOD_CODES["cubic"], METHOD_CODES["near"]
    common = dict(has_dens=False, direct_near=False, store_int=False)
    assert rows.select_row_kernels(bil, 1.0, 1.0, True, 50, 50, 1, 1, **common) == (rows.K_BILINEAR4,
                                                                                   rows.P_BILINEAR4, rows.S_ANY)
    # downsampled: widened separable kernel, the general separable per-pixel kernel for the rest
    assert rows.select_row_kernels(cub, 0.4, 0.4, False, 50, 50, 5, 5, **common)[:2] == (rows.K_SEPARABLE,
                                                                                       rows.P_SEPARABLE)
    # densities (alpha) and the reference switch: per-pixel kernels only
    assert rows.select_row_kernels(cub, 1.0, 1.0, True, 50, 50, 2, 2, has_dens=True, direct_near=False,
                                   store_int=True).staged == rows.K_NONE
    ref = rows.select_row_kernels(near, 1.0, 1.0, True, 50, 50, 0, 0, has_dens=False, direct_near=True,
                                  store_int=False, reference=True)
    assert ref == (rows.K_NONE, rows.P_NEAR_DIRECT, rows.S_ANY)
    # a one-pixel-wide window degrades to nearest (GDAL)
    assert rows.select_row_kernels(cub, 1.0, 1.0, False, 1, 50, 2, 2, **common).pixel == rows.P_NEAR
