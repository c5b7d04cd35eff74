"""The pieces a render paints live in per-thread scratch buffers (raster_core.io.scratch): no
result keeps or shares that memory, so renders one after another in one thread (eager stacks,
a lazy load's chunk tasks on one thread) equal the reference paths, and earlier results stay
as they were."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.api import Raster
from raster_core.mosaic import nodata_valid

X0, Y0, RES = 500000.0, 4000000.0, 10.0


@settings(max_examples=60, deadline=None)
@given(dtype=st.sampled_from(["uint8", "uint16", "int16", "int8", "float32", "float64", "int32"]),
       nodata=st.sampled_from([None, 0, 3, -1, 255, 70000, 0.5, float("nan"), -9999.0]),
       seed=st.integers(0, 100))
def test_nodata_valid_into_out_equals_fresh(dtype, nodata, seed) -> None:
    rng = np.random.default_rng(seed)
    band = rng.integers(-2, 6, (5, 7)).astype(dtype)
    out = np.ones((5, 7), dtype=bool)
    got = nodata_valid(band, nodata, out=out)
    assert got is out
    np.testing.assert_array_equal(got, nodata_valid(band, nodata))


def test_nodata_valid_out_must_fit() -> None:
    with pytest.raises(raster_core.errors.ShapeError):
        nodata_valid(np.zeros((2, 3), np.uint8), 0, out=np.zeros((3, 2), bool))


def _items(folder, places, seed):
    from raster_core.io import write_geotiff

    rng = np.random.default_rng(seed)
    out = []
    for i, (col, row, size) in enumerate(places):
        tf = (X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES)
        data = rng.integers(1, 60000, (1, size, size)).astype(np.uint16)
        data[0, rng.random((size, size)) < 0.1] = 0
        path = folder / f"s{seed}_{i}.tif"
        write_geotiff(path, data, crs="EPSG:32633", transform=tf, nodata=0, blocksize=16)
        out.append({"type": "Feature", "stac_version": "1.0.0", "id": f"s{seed}-{i}", "geometry": None,
                    "properties": {"datetime": "2021-03-01T10:00:00Z"},
                    "assets": {"B1": {"href": str(path), "type": "image/tiff; application=geotiff",
                                      "roles": ["data"], "raster:bands": [{"data_type": "uint16", "nodata": 0}]}},
                    "links": []})
    return out


@pytest.mark.parametrize("resampler,res", [("near", RES), ("bilinear", 13.0)])
def test_renders_in_one_thread_keep_their_results(tmp_path, resampler, res) -> None:
    # the first image covers the whole grid (a mosaic would adopt a layer of its own there)
    a = _items(tmp_path, [(0, 0, 60), (10, 10, 30), (25, 5, 30)], 1)
    b = _items(tmp_path, [(0, 0, 60), (5, 20, 40)], 2)
    grid = {"srs": "EPSG:32633", "resolution": res, "bounds": (X0, Y0 - 600, X0 + 600, Y0), "resampler": resampler}
    first = raster_core.load(a, ["B1"], groupby="time", **grid).values
    kept = first.copy()
    second = raster_core.load(b, ["B1"], groupby="time", **grid).values
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(first, Raster(reference_paths=True).load(a, ["B1"], groupby="time", **grid).values)
    np.testing.assert_array_equal(second, Raster(reference_paths=True).load(b, ["B1"], groupby="time", **grid).values)
    # chunk tasks one after another on one thread: no chunk shares another's memory
    import dask

    with dask.config.set(scheduler="sync"):
        lazy = raster_core.load(a + b, ["B1"], chunks={"time": 1, "y": 17, "x": 23}, **grid).compute().values
    eager = Raster(reference_paths=True).load(a + b, ["B1"], **grid).values
    np.testing.assert_array_equal(lazy, eager)
