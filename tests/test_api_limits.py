"""Limits checked before any allocation: the byte budget of an output (Raster API, reproject,
boundless reads), output CRSs that cannot label a grid, and cutline densification."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core import io as rc_io
from raster_core.api import Raster
from raster_core.errors import CRSError, OutputTooLargeError, RasterCoreError
from raster_core.geometry import densify
from raster_core.warp import reproject
from tests.conftest import data_file


@pytest.mark.parametrize("resolution", [1e-7, 1e-9, 1e-300, 1e-320])
def test_tiny_resolution_is_refused_before_building_the_grid(resolution):
    src = str(data_file("RGB.byte.tif"))
    start = time.perf_counter()
    with pytest.raises(RasterCoreError) as info:
        Raster().ndarray(src, ["1"], srs="EPSG:4326", resolution=resolution)
    # a hang guard, not a speed target: it took 31 s (1e-7) or ran out of memory (1e-9) before
    assert time.perf_counter() - start < 10
    if resolution == 1e-7:
        assert isinstance(info.value, OutputTooLargeError) and "max_bytes" in str(info.value)


def test_budget_counts_bytes_not_values():
    src = str(data_file("byte.tif"))  # 20 x 20
    kw = dict(bands=["1"], dimensions=(1000, 1000))
    r = Raster(max_bytes=20_000_000)
    arr, _ = r.ndarray(src, data_type="Byte", **kw)  # 1e6 values x (2*(1+1) + 2*1 + 1) bytes
    assert arr.shape == (1000, 1000, 1)
    with pytest.raises(OutputTooLargeError, match="float64"):
        r.ndarray(src, data_type="Float64", **kw)
    with pytest.raises(OutputTooLargeError):
        r.stack([src, src, src], data_type="Byte", srs="EPSG:26711", bounds=(440720, 3739320, 441920, 3751320),
                resolution=1.2, **{"bands": ["1"]})
    with pytest.raises(OutputTooLargeError):  # the former keyword still limits values
        Raster(max_pixels=10_000).ndarray(src, data_type="Byte", **kw)
    with pytest.raises(OutputTooLargeError):
        Raster(max_bytes=1_000_000).raster(src, data_type="Byte", **kw)


def test_reproject_dst_shape_is_budgeted():
    src = np.zeros((4, 4), np.float32)
    start = time.perf_counter()
    with pytest.raises(OutputTooLargeError):
        reproject(src, src_transform=(0, 1, 0, 0, 0, -1), src_crs=32631, dst_transform=(0, 1, 0, 0, 0, -1),
                  dst_crs=32631, dst_shape=(100_000, 100_000))
    assert time.perf_counter() - start < 10
    out, _ = reproject(src, src_transform=(0, 1, 0, 0, 0, -1), src_crs=32631, dst_transform=(0, 1, 0, 0, 0, -1),
                       dst_crs=32631, dst_shape=(8, 8), max_bytes=8 * 8 * 5)
    assert out.shape == (8, 8)


def test_boundless_read_is_budgeted():
    with rc_io.open(data_file("byte.tif")) as ds:
        with pytest.raises(OutputTooLargeError):
            ds.read(1, window=(-10**6, -10**6, 10**7, 10**7), boundless=True)
        assert ds.read(1, window=(-2, -2, 4, 4), boundless=True).shape == (4, 4)


@pytest.mark.parametrize("srs", ["EPSG:5703", "EPSG:4978"])
def test_vertical_and_geocentric_output_crs_refused(srs):
    with pytest.raises(CRSError, match="vertical|geocentric"):
        Raster().ndarray(str(data_file("byte.tif")), ["1"], srs=srs, resolution=0.001)
    with pytest.raises(CRSError):
        reproject(np.zeros((4, 4), np.uint8), src_transform=(0, 1, 0, 0, 0, -1), src_crs=32631,
                  dst_transform=(0, 1, 0, 0, 0, -1), dst_crs=srs, dst_shape=(4, 4))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=3, max_size=12),
       st.floats(0.05, 20))
def test_densify_gives_geos_segmentize_vertices(points, step):
    poly = shapely.Polygon(points).buffer(0.5)
    if poly.is_empty or not poly.is_valid:
        return
    ours, geos = densify(poly, step), shapely.segmentize(poly, step)
    np.testing.assert_allclose(shapely.get_coordinates(ours), shapely.get_coordinates(geos), rtol=0, atol=1e-9)
