"""``render`` applies the mask rules and the fill on the windows its images painted only
(elsewhere nothing is valid and the mosaic already holds the fill): the arrays and masks
equal those of the passes over the whole output, for ``stack`` and for chunked loads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core.api as api
from raster_core.api import Raster

X0, Y0, RES = 500000.0, 4000000.0, 10.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Overlapping 3-band uint16 and 1-band float32 images with different nodata values, and
    pixels where one band is nodata but another is not (valid under the unified nodata rule,
    then masked per band by the mosaic's nodata rule)."""
    from raster_core.io import write_geotiff

    folder = tmp_path_factory.mktemp("painted")
    rng = np.random.default_rng(7)
    out = {}
    for name, (col, row, size, nodata) in {"a": (0, 0, 40, 0), "b": (25, 10, 30, 7), "c": (60, 45, 20, 0)}.items():
        data = rng.integers(0, 12, (3, size, size)).astype(np.uint16)  # many nodata hits, 0 and 7
        path = folder / f"{name}.tif"
        write_geotiff(path, data, crs="EPSG:32633", transform=(X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES),
                      nodata=nodata, blocksize=16)
        out[name] = str(path)
    f = rng.normal(0, 1, (1, 36, 36)).astype(np.float32)
    f[0, ::5, ::3] = -9999.0
    path = folder / "f.tif"
    write_geotiff(path, f, crs="EPSG:32633", transform=(X0 + 20 * RES, RES, 0.0, Y0 - 30 * RES, 0.0, -RES),
                  nodata=-9999.0, blocksize=16)
    out["f"] = str(path)
    return out


def _both(fn):
    """``fn(raster)`` with the shortcuts (masks on the painted windows only) and without."""
    return fn(Raster()), fn(Raster(reference_paths=True))


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
    np.testing.assert_array_equal(np.ma.getdata(a), np.ma.getdata(b))


BOUNDS = (X0 - 50, Y0 - 900, X0 + 900, Y0 + 30)


@pytest.mark.parametrize("kw", [
    dict(bands=["1", "2", "3"], resolution=RES),
    dict(bands=["2", "1"], resolution=7.0, resampler="bilinear"),
    dict(bands=["1", "3"], resolution=RES, mask_nodata=False),
    dict(bands=["3"], srs="EPSG:4326", resolution=0.00011, bounds=(14.9994, 36.1366, 15.0100, 36.1450),
         resampler="cubic"),
])
def test_stack_and_mosaic_equal_whole_output_masks(files, kw):
    kw = {"srs": "EPSG:32633", "bounds": BOUNDS, **kw}
    inputs = [files["a"], [files["a"], files["b"], files["c"]], [files["c"], files["b"]]]
    painted, whole = _both(lambda r: r.stack(inputs, order="gdal", data_type="UInt16", **kw)[0])
    _same(painted, whole)
    assert np.ma.getmaskarray(whole).any() and not np.ma.getmaskarray(whole).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cy=st.integers(1, 60), cx=st.integers(1, 60),
       fill=st.sampled_from([None, 0, 5, 7, 65535]), resampler=st.sampled_from(["near", "bilinear"]))
def test_chunked_loads_equal_whole_output_masks(files, cy, cx, fill, resampler):
    # chunks one pixel thin along either axis, but of 32 pixels at least: a 1 x 1 chunking is ~20k
    # tasks (18 s), and chunk windows are cut per axis, which the thin chunks cover
    cx = max(cx, -(-32 // cy))
    groups = [[files["a"], files["b"]], [files["c"], files["a"]], files["b"]]
    kw = dict(srs="EPSG:32633", resolution=RES if resampler == "near" else 13.0, bounds=BOUNDS, resampler=resampler,
              fill_value=fill, chunks={"y": cy, "x": cx})
    painted, whole = _both(lambda r: r.load(groups, ["1", "3"], **kw).compute(
        scheduler="sync").values)
    np.testing.assert_array_equal(painted, whole)


@pytest.mark.parametrize("fill", [np.nan, -9999.0, 3.5])
def test_float_fill_values(files, fill):
    groups = [files["f"], [files["f"]]]
    kw = dict(srs="EPSG:32633", resolution=RES, bounds=BOUNDS, fill_value=fill, chunks={"y": 33, "x": 47})
    painted, whole = _both(lambda r: r.load(groups, ["1"], **kw).compute(
        scheduler="sync").values)
    np.testing.assert_array_equal(painted, whole)
    assert painted.dtype == np.float32


@pytest.mark.parametrize("fill,dtype,fits", [
    (0, np.uint8, True), (255, np.uint8, True), (256, np.uint8, False), (-1, np.uint16, False),
    (2.5, np.int16, False), (np.nan, np.float32, True), (np.nan, np.int16, False), (1e300, np.float32, False),
    (np.float32(0.1), np.float32, True), (0.1, np.float32, False), (True, np.uint8, False), ("0", np.uint8, False),
])
def test_fill_fits(fill, dtype, fits):
    assert api._fill_fits(fill, np.dtype(dtype)) is fits
