"""The row kernels read the source window in place, inside the caller's array; a source that is
not C-contiguous is warped from a copy of its window. Both give the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core

SRC_TF = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)


def _warp(src: np.ndarray, method: str, dst_tf: tuple, dst_crs: str, nodata: int | None) -> np.ndarray:
    out, _ = raster_core.reproject(src, src_transform=SRC_TF, src_crs="EPSG:32632", dst_transform=dst_tf,
                                   dst_crs=dst_crs, dst_shape=(37, 41), resampling=method, src_nodata=nodata,
                                   dst_nodata=nodata, num_threads=1)
    return out


@settings(max_examples=12, deadline=None)
@given(method=st.sampled_from(["near", "bilinear", "cubic", "lanczos", "average"]),
       x0=st.floats(0.0, 150.0), y0=st.floats(0.0, 150.0), res=st.sampled_from([17.0, 30.0, 71.0]),
       reproject=st.booleans(), nodata=st.sampled_from([None, 0]))
def test_window_in_place_equals_window_copy(method: str, x0: float, y0: float, res: float, reproject: bool,
                                            nodata: int | None) -> None:
    rng = np.random.default_rng(3)
    src = (rng.random((2, 300, 260)) * 1000).astype(np.uint16)
    src[:, ::7, ::5] = 0
    if reproject:
        dst_tf, dst_crs = (7.66 + x0 * 1e-4, res * 1.3e-5, 0.0, 48.745 - y0 * 1e-4, 0.0, -res * 0.9e-5), "EPSG:4326"
    else:
        dst_tf, dst_crs = (400000.0 + x0 * 30.0, res, 0.0, 5400000.0 - y0 * 30.0, 0.0, -res), "EPSG:32632"
    in_place = _warp(src, method, dst_tf, dst_crs, nodata)
    fortran = _warp(np.asfortranarray(src), method, dst_tf, dst_crs, nodata)
    strided = np.zeros((2, 300, 520), dtype=np.uint16)[:, :, ::2]
    strided[...] = src
    np.testing.assert_array_equal(in_place, fortran)
    np.testing.assert_array_equal(in_place, _warp(strided, method, dst_tf, dst_crs, nodata))
    assert in_place.any()


def test_in_place_source_is_not_modified() -> None:
    src = np.arange(300 * 260, dtype=np.uint16).reshape(1, 300, 260)
    before = src.copy()
    _warp(src, "cubic", (401000.0, 23.0, 0.0, 5398000.0, 0.0, -23.0), "EPSG:32632", 0)
    np.testing.assert_array_equal(src, before)


@pytest.mark.parametrize("method", ["near", "bilinear"])
def test_window_at_the_source_corner(method: str) -> None:
    # the window touches the last row and column of the caller's array
    src = np.random.default_rng(5).integers(1, 900, (1, 120, 90), dtype=np.uint16)
    dst_tf = (400000.0 + 70 * 30.0, 13.0, 0.0, 5400000.0 - 100 * 30.0, 0.0, -13.0)
    in_place = _warp(src, method, dst_tf, "EPSG:32632", None)
    np.testing.assert_array_equal(in_place, _warp(np.asfortranarray(src), method, dst_tf, "EPSG:32632", None))
    assert in_place[:, 0, 0].all()


def test_read_only_source_is_warped_from_a_copy() -> None:
    src = np.random.default_rng(9).integers(1, 900, (1, 120, 90), dtype=np.uint16)
    ro = src.copy()
    ro.flags.writeable = False
    dst_tf = (400000.0 + 20 * 30.0, 17.0, 0.0, 5400000.0 - 30 * 30.0, 0.0, -17.0)
    np.testing.assert_array_equal(_warp(ro, "bilinear", dst_tf, "EPSG:32632", 0),
                                  _warp(src, "bilinear", dst_tf, "EPSG:32632", 0))
