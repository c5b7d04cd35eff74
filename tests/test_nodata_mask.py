"""The source nodata mask kernel equals GDALWarpNoDataMasker's comparisons written with numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.warp import _nodata_validity, nodata_rule

DTYPES = ["uint8", "int16", "uint16", "int32", "uint32", "float32", "float64"]


def numpy_invalid(band: np.ndarray, nodata: float) -> np.ndarray | None:
    """GDAL's per-band rule (§3.4 of docs/gdal-warp-semantics.md) with numpy, element by element."""
    dt = band.dtype
    if dt in (np.uint8, np.int16, np.uint16):
        info = np.iinfo(dt)
        if math.isnan(nodata) or not (info.min <= nodata <= info.max):
            return None
        return band == int(math.floor(nodata + 1e-6))
    if dt == np.float32:
        if math.isnan(nodata):
            return np.isnan(band)
        nd = np.float32(nodata)
        with np.errstate(over="ignore"):
            return (band == nd) | (np.abs(band - nd) < np.float32(np.finfo(np.float32).eps)
                                   * np.abs(band + nd) * np.float32(2))
    if dt.kind in "iu" and (math.isnan(nodata) or nodata != math.floor(nodata)
                            or not np.iinfo(dt).min <= nodata <= np.iinfo(dt).max):
        return None
    b = band.astype(np.float64)
    if math.isnan(nodata):
        return np.isnan(b)
    eps = float(np.finfo(np.float32).eps)
    return (b == nodata) | (np.abs(b - nodata) < eps * np.abs(b + nodata) * 2)


def reference_validity(src: np.ndarray, nodata: float) -> np.ndarray | None:
    per_band = [numpy_invalid(src[b], nodata) for b in range(src.shape[0])]
    if any(m is None for m in per_band):
        return None
    invalid = np.logical_and.reduce(per_band)
    return None if not invalid.any() else (~invalid).astype(np.uint8)


@st.composite
def band_and_nodata(draw):
    dt = np.dtype(draw(st.sampled_from(DTYPES)))
    nb = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    if dt.kind == "f":
        nodata = draw(st.sampled_from([0.0, -9999.0, 1e-30, 3.4e38, -1.5, math.nan, 1e300 if dt == np.float64
                                       else 7.0]))
        # values at and a few ulps around the nodata value, NaN, and others
        near = [nodata] if math.isnan(nodata) else [
            float(np.nextafter(dt.type(nodata), dt.type(np.inf) * s, dtype=dt) if k else dt.type(nodata))
            for s in (1, -1) for k in (0, 1)]
        near += [float(dt.type(nodata) * dt.type(1 + 1e-7))] if not math.isnan(nodata) else []
        pool = near + [0.0, 1.0, math.nan, -2.5]
    else:
        info = np.iinfo(dt)
        nodata = draw(st.sampled_from([float(info.min), float(info.max), 0.0, 7.0, 7.5, -1.0, 300.0, math.nan,
                                       float(info.max) + 1]))
        base = [v for v in (nodata, 0.0, 7.0, 1.0, float(info.min), float(info.max))
                if not math.isnan(v) and info.min <= v <= info.max and v == math.floor(v)]
        pool = base + [float(info.min)]
    with np.errstate(invalid="ignore", over="ignore"):
        values = draw(st.lists(st.sampled_from(pool), min_size=nb * h * w, max_size=nb * h * w))
        src = np.array(values, dtype=np.float64).astype(dt).reshape(nb, h, w)
    return src, nodata


@settings(max_examples=400, deadline=None)
@given(band_and_nodata())
def test_kernel_equals_numpy_rules(case):
    src, nodata = case
    got = _nodata_validity(np.ascontiguousarray(src), nodata)
    want = reference_validity(src, nodata)
    if want is None:
        assert got is None
    else:
        assert got is not None and got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype,nodata", [("uint8", 256.0), ("int16", 40000.0), ("uint16", -1.0),
                                          ("uint8", math.nan), ("int32", 0.5)])
def test_unrepresentable_nodata_means_no_mask(dtype, nodata):
    assert nodata_rule(np.dtype(dtype), nodata) is None
    assert _nodata_validity(np.zeros((1, 2, 2), dtype=dtype), nodata) is None


@pytest.mark.parametrize("dtype,nodata", [("float32", -9999.0), ("float64", -9999.0), ("float32", math.nan),
                                          ("int32", 5.0)])
def test_windows_of_a_larger_array_read_in_place(dtype, nodata):
    """A window ``a[:, r0:r1, c0:c1]`` (what the warp passes) gives the mask of its copy."""
    rng = np.random.default_rng(3)
    big = rng.integers(0, 8, (2, 9, 11)).astype(dtype)
    big[big == 5] = nodata
    big[:, 4, 6] = nodata  # a pixel invalid in every band
    for win in [big[:, 2:7, 3:10], big[:1, 1:9, 0:11], big[:, 0:9, 5:6], big[:, 3:4, 1:11], big[:, ::2, ::3]]:
        got = _nodata_validity(win, nodata)
        want = _nodata_validity(np.ascontiguousarray(win), nodata)
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got, reference_validity(np.ascontiguousarray(win), nodata))
