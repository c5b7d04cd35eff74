"""Reader parity with rasterio (GDAL) on every shared / bundled GeoTIFF."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

import raster_core
from raster_core.io.geotiff import Dataset
from tests._io_helpers import (
    crs_match,
    max_abs_diff,
    nodata_equal,
    parity_files,
    pixel_tolerance,
    rio_crs_to_pyproj,
    rio_open,
)
from tests.conftest import data_file

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")

FILES = parity_files()
IDS = [p.name for p in FILES]


@pytest.fixture(params=FILES, ids=IDS)
def pair(request):
    path = request.param
    with rio_open(path) as g, raster_core.open(path) as d:
        yield path, g, d


def test_there_are_files():
    assert len(FILES) >= 10


def test_metadata_parity(pair):
    path, g, d = pair
    assert crs_match(d.crs, rio_crs_to_pyproj(g.crs)), (d.crs, g.crs)
    assert np.allclose(g.transform.to_gdal(), d.geotransform, rtol=0, atol=1e-9)
    assert tuple(d.transform)[:6] == pytest.approx(tuple(g.transform)[:6], abs=1e-9)
    assert nodata_equal(d.nodata, g.nodata), (d.nodata, g.nodata)
    assert all(nodata_equal(a, b) for a, b in zip(d.nodatavals, g.nodatavals, strict=True))
    assert (d.count, d.height, d.width) == (g.count, g.height, g.width)
    assert d.shape == g.shape
    assert d.dtypes == tuple(g.dtypes)
    assert d.dtype == g.dtypes[0]
    assert d.colorinterp == tuple(c.name for c in g.colorinterp)
    assert d.mask_flags == tuple(frozenset(f.name for f in fl) for fl in g.mask_flag_enums)
    assert d.overviews(1) == g.overviews(1)
    assert [tuple(b) for b in d.block_shapes] == [tuple(b) for b in g.block_shapes]
    assert d.descriptions == g.descriptions
    assert d.res == pytest.approx(g.res, abs=1e-12)
    assert tuple(d.bounds) == pytest.approx(tuple(g.bounds), abs=1e-9)
    assert d.is_tiled == (g.profile.get("tiled", False) in (True, "YES"))
    assert d.compression == (g.profile.get("compress") or None)
    assert d.interleave == g.profile.get("interleave", "band")


def test_gcps_parity(pair):
    path, g, d = pair
    ggcps, gcrs = g.gcps
    ours, ocrs = d.gcps
    assert len(ours) == len(ggcps)
    for a, b in zip(ours, ggcps, strict=True):
        assert (a.row, a.col, a.x, a.y, a.z) == (b.row, b.col, b.x, b.y, b.z)
        row, col, x, y, z = a  # a plain (row, col, x, y, z) tuple too
        assert (row, col, x, y, z) == (b.row, b.col, b.x, b.y, b.z)
        assert a.id == b.id
    if ggcps:
        assert crs_match(ocrs, rio_crs_to_pyproj(gcrs))
        assert d.crs is None and g.crs is None


def test_pixels_parity(pair):
    path, g, d = pair
    assert max_abs_diff(d.read(), g.read()) <= pixel_tolerance(path.name)
    assert d.read().dtype == np.dtype(g.dtypes[0])


def test_masks_parity(pair):
    path, g, d = pair
    np.testing.assert_array_equal(d.dataset_mask(), g.dataset_mask())
    np.testing.assert_array_equal(d.read_masks(), g.read_masks())


def test_overviews_parity(pair):
    path, g, d = pair
    tol = pixel_tolerance(path.name)
    for level in range(len(d.overviews(1))):
        with rio_open(path, overview_level=level) as go:
            assert d.overview_shape(level) == go.shape
            assert max_abs_diff(d.read(overview_level=level), go.read()) <= tol
            np.testing.assert_array_equal(d.dataset_mask(overview_level=level), go.dataset_mask())
            np.testing.assert_array_equal(d.read_masks(overview_level=level), go.read_masks())
            if not d.gcps[0]:  # GDAL gives no meaningful transform to GCP-only overviews
                assert np.allclose(d.overview_transform(level).to_gdal(), go.transform.to_gdal(), rtol=0, atol=1e-9)


def test_palette_colormap():
    path = data_file("storml_tcc.tif")
    with rio_open(path) as g, raster_core.open(path) as d:
        assert d.colorinterp == ("palette",)
        assert d.colormap(1) == g.colormap(1)
        np.testing.assert_array_equal(d.read(1), g.read(1))  # indices, not RGB


def test_nodata_raw_strings():
    with raster_core.open(data_file("nt_20201024_f18_nrt_s.tif")) as d:
        assert d.nodata == float(np.float32(-3.4e38))
    with raster_core.open(data_file("south-up.tif")) as d:
        assert math.isnan(d.nodata)
        assert d.transform.e > 0  # south-up


def test_pixel_is_point_shift():
    with raster_core.open(data_file("riotiler_cog.tif")) as d:
        assert d.geotransform[0] == pytest.approx(373185.0, abs=1e-6)
        assert d.geotransform[3] == pytest.approx(8286015.0, abs=1e-6)


def test_window_reads_only_intersecting_tiles(monkeypatch):
    path = data_file("riotiler_cog.tif")
    calls: list[int] = []
    orig = Dataset._decode_segment
    orig_span = Dataset._read_local_span

    def counting(self, level, index):
        calls.append(index)
        return orig(self, level, index)

    def counting_span(self, level, indexes):  # the tiles of one read, read at once
        fetched = orig_span(self, level, indexes)
        if fetched is not None:
            calls.extend(fetched)
        return fetched

    monkeypatch.setattr(Dataset, "_decode_segment", counting)
    monkeypatch.setattr(Dataset, "_read_local_span", counting_span)
    with raster_core.open(path) as d, rio_open(path) as g:
        assert d.block_shapes[0] == (256, 256)
        for win in [(300, 300, 256, 256), (0, 0, 256, 256), (256, 512, 256, 256), (2658 - 256, 2667 - 256, 256, 256)]:
            calls.clear()
            a = d.read(1, window=win)
            assert 1 <= len(calls) <= 4
            from rasterio.windows import Window

            np.testing.assert_array_equal(a, g.read(1, window=Window(*win)))
        calls.clear()
        d.read(1, window=(0, 0, 256, 256))
        assert len(calls) == 1


def test_int_index_gives_2d_and_band_lists():
    with raster_core.open(data_file("RGB.byte.tif")) as d:
        assert d.read(2).shape == d.shape
        assert d.read([3, 1]).shape == (2, *d.shape)
        np.testing.assert_array_equal(d.read([3, 1])[0], d.read(3))
        m = d.read(1, masked=True)
        assert isinstance(m, np.ma.MaskedArray)
        np.testing.assert_array_equal(m.mask, d.read_masks(1) == 0)


def test_threaded_reads_match_serial():
    path = data_file("riotiler_cog.tif")
    with raster_core.open(path) as d:
        wins = [(c, r, 300, 200) for c in range(0, 2300, 450) for r in range(0, 2400, 500)]
        serial = [d.read(1, window=w) for w in wins]
        results: dict[int, np.ndarray] = {}
        errors: list[BaseException] = []

        def worker(k0):
            try:
                for k in range(k0, len(wins), 4):
                    results[k] = d.read(1, window=wins[k])
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for k, s in enumerate(serial):
            np.testing.assert_array_equal(results[k], s)


def test_overview_planning_helpers():
    with raster_core.open(data_file("riotiler_cog.tif")) as d:
        assert d.overview_count == 4
        assert d.overview_shape(0) == (1334, 1329)
        t = d.overview_transform(3)
        assert t.a == pytest.approx(d.transform.a * d.width / d.overview_shape(3)[1])
        with pytest.raises(raster_core.InvalidParameterError):
            d.read(overview_level=4)
        with pytest.raises(raster_core.InvalidParameterError):
            d.overview_shape(-1)


def test_pickle_roundtrip():
    import pickle

    with raster_core.open(data_file("byte.tif")) as d:
        d2 = pickle.loads(pickle.dumps(d))
        np.testing.assert_array_equal(d.read(), d2.read())
        d2.close()


@pytest.mark.parametrize("name", ["riotiler_cog_rgba.tif", "RGB.byte.tif", "rgbn_suba.tif"])
def test_unordered_band_subsets(name):
    path = data_file(name)
    with raster_core.open(path) as d, rio_open(path) as g:
        n = d.count
        for bands in ([n, 1], list(range(n, 0, -1)), [1, 3, 2][: min(3, n)] + ([4] if n == 4 else []), [2, 2, 1]):
            np.testing.assert_array_equal(d.read(bands), g.read(bands))
            np.testing.assert_array_equal(
                d.read(bands, window=(5, 7, 50, 33)), g.read(bands, window=((7, 40), (5, 55)))
            )
            np.testing.assert_array_equal(d.read_masks(bands), g.read_masks(bands))
