"""Images under others are painted from the top one down, each only where the images above left
pixels open: stacks and chunked loads of heavily overlapping images equal the plain painter's
order over the whole grid (``Raster(reference_paths=True)``) bit for bit, with nodata holes,
images whose bands come from several files (per-band validity), cutlines, scales, data types,
alpha bands and resamplers with halos, for any chunking (1-row chunks included)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
import raster_core.api as api
from raster_core.api import Raster
from tests.test_load import CASES, CATALOG

X0, Y0, RES = 500000.0, 4000000.0, 10.0
# (col, row, size): overlapping images, the later ones on top
PLACES = [(0, 0, 48), (20, 8, 40), (6, 30, 36), (28, 26, 30), (12, 12, 20)]
BOUNDS = (X0 - 40, Y0 - 700, X0 + 650, Y0 + 20)
# over part of the images (EPSG:32633)
CUTLINE = {"type": "Polygon", "coordinates": [[[X0 + 30, Y0 - 20], [X0 + 520, Y0 - 60], [X0 + 470, Y0 - 560],
                                               [X0 + 60, Y0 - 430], [X0 + 30, Y0 - 20]]]}


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    """STAC items whose two bands are two files (each with nodata holes of its own, so that a
    pixel may be valid in one band and open in the other), on one date."""
    from raster_core.io import write_geotiff

    folder = tmp_path_factory.mktemp("top_down")
    rng = np.random.default_rng(11)
    out = []
    for i, (col, row, size) in enumerate(PLACES):
        tf = (X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES)
        assets = {}
        for band in ("B1", "B2"):
            data = rng.integers(1, 60, (1, size, size)).astype(np.uint16)
            data[0, rng.random((size, size)) < 0.08] = 0  # scattered nodata
            data[0, int(rng.integers(0, size)), :] = 0  # a nodata row
            path = folder / f"img{i}_{band}.tif"
            write_geotiff(path, data, crs="EPSG:32633", transform=tf, nodata=0, blocksize=16)
            assets[band] = {"href": str(path), "type": "image/tiff; application=geotiff", "roles": ["data"],
                            "eo:bands": [{"name": band}], "raster:bands": [{"data_type": "uint16", "nodata": 0}]}
        out.append({"type": "Feature", "stac_version": "1.0.0", "id": f"img-{i}", "collection": "top-down",
                    "geometry": None, "properties": {"datetime": "2021-03-01T10:00:00Z"}, "assets": assets,
                    "links": []})
    return out


def _reference(items, bands, **kw):
    """The plain painter's order over the whole grid, eager."""
    return Raster(reference_paths=True).load(items, bands, **kw).values


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resampler=st.sampled_from(["near", "bilinear", "cubic"]), res=st.sampled_from([RES, 13.0, 7.0]),
       bands=st.sampled_from([["B1", "B2"], ["B2"]]), cut=st.booleans(), scaled=st.booleans(),
       cy=st.integers(1, 80), cx=st.integers(1, 80), one_row=st.booleans(), fill=st.sampled_from([None, 7]))
def test_chunked_top_down_equals_painters_order(items, resampler, res, bands, cut, scaled, cy, cx, one_row, fill):
    kw = dict(srs="EPSG:32633", resolution=res, bounds=BOUNDS, resampler=resampler, fill_value=fill)
    if cut:
        kw.update(cutline=CUTLINE, cutline_srs="EPSG:32633")
    if scaled:
        kw.update(scales=[[0, 60, 0, 240]] * len(bands), data_type="Float32")
    groups = [items, [items[3], items[0]], items[2]]
    expected = _reference(groups, bands, **kw)
    assert (expected != (fill or 0)).any()
    if one_row:
        cy, cx = 1, max(cx, 40)  # 1-row chunks (every row of the grid a task)
    got = raster_core.load(groups, bands, chunks={"time": 1, "y": cy, "x": cx}, **kw).compute(scheduler="sync")
    np.testing.assert_array_equal(got.values, expected)


def test_stack_top_down_equals_painters_order_and_skips_covered_images(items, tmp_path):
    from raster_core.io import write_geotiff

    kw = dict(srs="EPSG:32633", resolution=RES, bounds=BOUNDS)
    eager = raster_core.load([items], ["B1", "B2"], **kw).values
    np.testing.assert_array_equal(eager, _reference([items], ["B1", "B2"], **kw))
    # an image wholly under one without holes is not read
    col, row, size = PLACES[0]
    path = tmp_path / "cover.tif"
    write_geotiff(path, np.full((1, size, size), 5, np.uint16), crs="EPSG:32633",
                  transform=(X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES), nodata=0, blocksize=16)
    asset = dict(items[0]["assets"]["B1"], href=str(path))
    cover = dict(items[0], id="cover", assets={"B1": asset})
    warped = []
    original = api.warp_file

    def counting(fp, *args, **kwargs):
        warped.append(fp.path)
        return original(fp, *args, **kwargs)

    api.warp_file = counting
    try:
        below = [items[4], items[1], cover]  # items[4] (20 px) lies inside items[0] (48 px)
        got = raster_core.load([below], ["B1"], **kw).values
    finally:
        api.warp_file = original
    np.testing.assert_array_equal(got, _reference([below], ["B1"], **kw))
    assert not any("img4_" in p for p in warped)  # settled under the top wherever it reaches
    assert any("cover" in p for p in warped) and any("img1_" in p for p in warped)


@pytest.mark.parametrize("name,groups,params", CASES, ids=[c[0] for c in CASES])
def test_load_cases_equal_painters_order(name, groups, params):
    """test_load's cases (alpha, cutline, scales, types, reprojection, mosaics within a step)."""
    expected, _ = Raster(CATALOG, reference_paths=True).stack(groups, order="gdal", **params)
    lazy = raster_core.load(groups, catalog=CATALOG, chunks={"time": 1, "y": 23, "x": 31}, fill_value=7, **params)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync").values, expected.filled(7))
    top_down, _ = Raster(CATALOG).stack(groups, order="gdal", **params)
    np.testing.assert_array_equal(np.ma.getmaskarray(top_down), np.ma.getmaskarray(expected))
    np.testing.assert_array_equal(top_down.filled(7), expected.filled(7))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 60))
def test_covered_images_by_loops_and_by_arrays(seed, n):
    """Which images lie a quarter or more under later ones: the loops (up to 32 images) and the
    arrays agree with the pairwise definition."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    planned = {}
    for i in range(n):
        r0, c0 = (int(v) for v in rng.integers(-5, 60, 2))
        h, w = (int(v) for v in rng.integers(0, 15, 2))
        planned[i] = [([0], SimpleNamespace(dst_window=(r0, r0 + h, c0, c0 + w)))] if rng.random() < 0.9 else []
    window = (0, 50, 3, 47)

    def clip(i):
        if not planned[i]:
            return None
        r0, r1, c0, c1 = planned[i][0][1].dst_window
        box = (max(r0, 0), min(r1, 50), max(c0, 3), min(c1, 47))
        return box if box[1] > box[0] and box[3] > box[2] else None

    def overlap(a, b):
        if a is None or b is None:
            return 0
        return max(0, min(a[1], b[1]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[2], b[2]))

    def under(i):
        box = clip(i)
        return box is not None and 4 * sum(overlap(box, clip(j)) for j in range(i + 1, n)) >= (
            (box[1] - box[0]) * (box[3] - box[2]))

    expected = {i: under(i) for i in range(n)}
    got = api._covered_images(list(range(n)), planned, window)
    assert got == (expected if any(expected.values()) else None)
