"""The reduce family (average, rms, sum, mode, min, max, med, q1, q3) reads the source window in
place, inside the caller's C-contiguous array, at the window's origin; a source that is not
C-contiguous, or read-only, is warped from a copy of its window. All give the same pixels, so a
wrong window origin (rows and columns swapped, an origin left out, ``sum``'s chunks of source
rows placed wrongly) fails here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core._kernels.reduce import source_window
from raster_core.errors import ShapeError

SRC_TF = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)
#: (method, dtype, nodata): each kernel of the family (the integer kernels without and with a
#: validity mask, the general kernel for floats and mode, sum) on a few dtypes
KERNELS = [
    ("average", "uint16", None), ("rms", "uint16", None), ("min", "uint16", None), ("max", "uint16", 0),
    ("med", "uint16", None), ("q1", "uint16", 0), ("mode", "uint16", None), ("sum", "uint16", None),
    ("average", "float32", -9999), ("max", "float32", -9999), ("q3", "float32", -9999), ("sum", "float32", -9999),
]


def _source(dtype: str, nodata: float | None) -> np.ndarray:
    # values that change along both axes (a window off by a row or a column changes the pixels)
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:300, 0:260]
    src = np.stack([(x * 3 + y * 7) % 1000 + 1, (x * 11 + y * 5) % 977 + 1]).astype(dtype)
    src += rng.integers(0, 50, src.shape).astype(dtype)
    if nodata is not None:
        src[:, ::7, ::5] = nodata
    return src


def _warp(src: np.ndarray, method: str, dst_tf: tuple, dst_crs: str, nodata: float | None) -> np.ndarray:
    out, _ = raster_core.reproject(src, src_transform=SRC_TF, src_crs="EPSG:32632", dst_transform=dst_tf,
                                   dst_crs=dst_crs, dst_shape=(37, 41), resampling=method, src_nodata=nodata,
                                   dst_nodata=nodata, num_threads=1)
    return out


def _copies(src: np.ndarray) -> list[np.ndarray]:
    """The source as a Fortran-ordered array, a strided view and a read-only array (all warped
    from a copy of the window)."""
    strided = np.zeros((src.shape[0], src.shape[1], 2 * src.shape[2]), dtype=src.dtype)[:, :, ::2]
    strided[...] = src
    read_only = src.copy()
    read_only.flags.writeable = False
    return [np.asfortranarray(src), strided, read_only]


@settings(max_examples=24, deadline=None)
@given(kernel=st.sampled_from(KERNELS), x0=st.floats(20.0, 120.0), y0=st.floats(60.0, 160.0),
       res=st.sampled_from([23.0, 47.0, 71.0, 140.0]), reproject=st.booleans())
def test_reduce_window_in_place_equals_window_copy(kernel: tuple, x0: float, y0: float, res: float,
                                                   reproject: bool) -> None:
    method, dtype, nodata = kernel
    src = _source(dtype, nodata)
    # the destination covers a window away from the source's first rows and columns (origin
    # rows != origin columns), and not its last ones
    if reproject:
        dst_tf, dst_crs = (7.66 + x0 * 4e-4, res * 1.3e-5, 0.0, 48.745 - y0 * 2.7e-4, 0.0, -res * 0.9e-5), "EPSG:4326"
    else:
        dst_tf, dst_crs = (400000.0 + x0 * 30.0, res, 0.0, 5400000.0 - y0 * 30.0, 0.0, -res), "EPSG:32632"
    in_place = _warp(src, method, dst_tf, dst_crs, nodata)
    for other in _copies(src):
        np.testing.assert_array_equal(in_place, _warp(other, method, dst_tf, dst_crs, nodata))
    assert (in_place != (0 if nodata is None else nodata)).any()


@pytest.mark.parametrize("method", ["average", "max", "sum"])
def test_reduce_window_equals_the_cropped_source(method: str) -> None:
    # the same warp of the window cut out of the source (its own array, origin 0): the pixels
    # do not depend on where the window sits in the caller's array
    src = _source("uint16", None)
    dst_tf = (400000.0 + 90 * 30.0, 47.0, 0.0, 5400000.0 - 130 * 30.0, 0.0, -47.0)
    whole = _warp(src, method, dst_tf, "EPSG:32632", None)
    crop = np.ascontiguousarray(src[:, 120:, 80:])
    out, _ = raster_core.reproject(crop, src_transform=(400000.0 + 80 * 30.0, 30.0, 0.0, 5400000.0 - 120 * 30.0,
                                                        0.0, -30.0),
                                   src_crs="EPSG:32632", dst_transform=dst_tf, dst_crs="EPSG:32632",
                                   dst_shape=(37, 41), resampling=method, num_threads=1)
    np.testing.assert_array_equal(whole, out)
    assert whole.all()


def test_source_window_is_checked() -> None:
    src = np.zeros((1, 10, 8))
    assert source_window(src) == (0, 0, 10, 8)
    assert source_window(src, (2, 3, 8, 5)) == (2, 3, 8, 5)
    with pytest.raises(ShapeError):
        source_window(src, (3, 0, 8, 8))
    with pytest.raises(ShapeError):
        source_window(src, (0, -1, 2, 2))
