"""``Dataset.read(out=...)`` decodes into the given array (a view of a larger one too) the pixels
``read`` returns, for tiled DEFLATE files with cached cut tiles, strips, overviews, one band or
several, boundless windows and a type conversion; a wrong ``out`` is refused before reading."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import InvalidParameterError
from raster_core.io.tile_cache import tile_cache

X0, Y0 = 500000.0, 4000000.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from raster_core.io import write_geotiff

    folder = tmp_path_factory.mktemp("read_out")
    rng = np.random.default_rng(3)
    data = rng.integers(0, 60000, (2, 150, 170)).astype(np.uint16)
    tiled, strips = folder / "tiled.tif", folder / "strips.tif"
    tf = (X0, 10.0, 0.0, Y0, 0.0, -10.0)
    write_geotiff(tiled, data, crs="EPSG:32633", transform=tf, nodata=0, blocksize=64, overviews=[2])
    write_geotiff(strips, data, crs="EPSG:32633", transform=tf, nodata=0)
    return {"tiled": str(tiled), "strips": str(strips)}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["tiled", "strips"]), bands=st.sampled_from([[1], [2, 1], [1, 2], 2]),
       overview=st.sampled_from([None, 0]), col=st.integers(-10, 160), row=st.integers(-10, 140),
       w=st.integers(1, 90), h=st.integers(1, 90), pad=st.integers(0, 3), cast=st.booleans())
def test_read_into_out_equals_read(files, name, bands, overview, col, row, w, h, pad, cast):
    tile_cache().clear()
    with raster_core.io.open(files[name]) as ds:
        if overview is not None and name == "strips":
            overview = None
        kw = dict(window=(col, row, w, h), overview_level=overview, boundless=True,
                  out_dtype=np.float32 if cast else None)
        expected = ds.read(bands, **kw)
        big = np.full((3, h + 2 * pad, w + 2 * pad), 7, dtype=expected.dtype)
        view = big[0, pad:pad + h, pad:pad + w] if isinstance(bands, int) else big[:len(bands), pad:pad + h,
                                                                                    pad:pad + w]
        tile_cache().clear()
        got = ds.read(bands, out=view, **kw)
    assert got is view
    np.testing.assert_array_equal(view, expected)
    outside = np.ones(big.shape, bool)
    outside[:1 if isinstance(bands, int) else len(bands), pad:pad + h, pad:pad + w] = False
    assert (big[outside] == 7).all()


def test_wrong_out_is_refused(files):
    with raster_core.io.open(files["tiled"]) as ds:
        for out in (np.zeros((1, 5, 4), np.uint16), np.zeros((1, 4, 5), np.uint8), np.zeros((4, 5), np.uint16)):
            with pytest.raises(InvalidParameterError):
                ds.read([1], window=(0, 0, 5, 4), out=out)
        with pytest.raises(InvalidParameterError):
            ds.read([1], window=(0, 0, 5, 4), out=np.zeros((1, 4, 5), np.uint16), masked=True)
        assert ds.level_dtype() == np.uint16 and ds.level_dtype(0) == np.uint16
