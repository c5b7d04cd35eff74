"""Cutline source masks: exact parity with GDAL's warp cutline masker, API and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

rasterio = pytest.importorskip("rasterio")
import rasterio.features as rfeatures  # noqa: E402
from rasterio.enums import Resampling  # noqa: E402
from rasterio.warp import reproject as rio_reproject  # noqa: E402

from raster_core.cutline import (  # noqa: E402
    SourcePixelCutline,
    cutline_source_mask,
    cutline_to_source_pixels,
    prepare_cutline,
    resolve_cutline,
)
from raster_core.errors import CRSError, GeometryError, InvalidParameterError  # noqa: E402
from tests.conftest import data_file  # noqa: E402

# (vector, raster, cutline_srs: None = as the file says (legacy crs member or lon/lat),
#  "raster" = the raster's CRS, else a CRS string), pixels inside per MANIFEST.md
REAL = [
    ("RGB.byte_box_utm18n.geojson", "RGB.byte.tif", None, 41750),
    ("rasterstats_slope_polygons_wgs84.geojson", "rasterstats_slope.tif", None, 125),
    ("rasterstats_slope_polygons_aea.geojson", "rasterstats_slope.tif", "raster", 125),
    ("LC08_224078_landcover_polygons_utm21n.geojson", "LC08_L1TP_224077_20200518_20200518_01_RT_B2_60m.tif", None, 177),
    ("storml_storm_lake_bbox_3857.geojson", "storml_elev.tif", "EPSG:3857", 14428),
]


def _raster(name):
    with rasterio.open(data_file(name)) as ds:
        return ds.crs, ds.transform, ds.shape


def _gdal_cutline_mask(pixel_cutline: SourcePixelCutline, crs, transform, shape, all_touched, **kw):
    """GDAL's own cutline mask: an identity warp (same grid: nearest, one source pixel per
    destination pixel) of an all-ones raster with CUTLINE in source pixel coordinates."""
    src = np.ones(shape, np.uint8)
    dst = np.zeros(shape, np.uint8)
    rio_reproject(src, dst, src_transform=transform, src_crs=crs, dst_transform=transform, dst_crs=crs,
                  resampling=Resampling.nearest, dst_nodata=0, CUTLINE=pixel_cutline.wkt,
                  CUTLINE_ALL_TOUCHED=all_touched, **kw)
    return dst == 1


@pytest.mark.parametrize("all_touched", [False, True])
@pytest.mark.parametrize("vector,raster,srs,inside", REAL)
def test_real_cutline_mask_equals_gdal(vector, raster, srs, inside, all_touched):
    crs, transform, shape = _raster(raster)
    text = data_file("vector/" + vector).read_text()
    cutline_srs = crs.to_wkt() if srs == "raster" else srs
    pc = cutline_to_source_pixels(text, cutline_srs=cutline_srs, src_crs=crs.to_wkt(), src_transform=transform,
                                  src_shape=shape)
    ours = cutline_source_mask(pc, all_touched=all_touched)
    ref = _gdal_cutline_mask(pc, crs, transform, shape, all_touched)
    np.testing.assert_array_equal(ours, ref)
    if not all_touched:
        assert int(ours.sum()) == inside
    # same result from the raw cutline, and from any window (independent of chunking)
    direct = cutline_source_mask(text, cutline_srs=cutline_srs, src_crs=crs.to_wkt(), src_transform=transform,
                                 src_shape=shape, all_touched=all_touched)
    np.testing.assert_array_equal(direct, ours)
    rows, cols = shape
    windows = [(0, 0, cols // 2, rows // 3), (cols // 3, rows // 4, cols - cols // 3, rows // 2),
               (cols - 7, rows - 5, 7, 5)]
    for win in windows:
        part = cutline_source_mask(pc, all_touched=all_touched, window=win)
        c, r, w, h = win
        np.testing.assert_array_equal(part, ours[r:r + h, c:c + w])


def test_gdal_chunked_masker_agrees():
    """GDAL burning the cutline per chunk (tiny warp memory) gives the same mask."""
    crs, transform, shape = _raster("RGB.byte.tif")
    text = data_file("vector/RGB.byte_box_utm18n.geojson").read_text()
    pc = cutline_to_source_pixels(text, src_crs=crs.to_wkt(), src_transform=transform, src_shape=shape)
    for at in (False, True):
        ref = _gdal_cutline_mask(pc, crs, transform, shape, at, warp_mem_limit=1)
        np.testing.assert_array_equal(cutline_source_mask(pc, all_touched=at), ref)


@st.composite
def pixel_polygons(draw):
    rows, cols = draw(st.integers(3, 40)), draw(st.integers(3, 40))
    n = draw(st.integers(3, 10))
    q = draw(st.sampled_from([1.0, 0.5, 0.0]))
    cx, cy = draw(st.floats(-5, cols + 5)), draw(st.floats(-5, rows + 5))
    r = draw(st.floats(0.3, 1.5 * max(rows, cols)))
    ang = np.sort(np.array(draw(st.lists(st.floats(0, 6.28), min_size=n, max_size=n, unique=True))))
    rad = r * np.array(draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n)))
    pts = np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)])
    if q:
        pts = np.round(pts / q) * q
    poly = shapely.Polygon(pts)
    win_c = draw(st.integers(0, cols - 1))
    win_r = draw(st.integers(0, rows - 1))
    win = (win_c, win_r, draw(st.integers(1, cols - win_c)), draw(st.integers(1, rows - win_r)))
    return rows, cols, poly, win


@settings(max_examples=40, deadline=None)
@given(pixel_polygons(), st.booleans())
def test_mask_of_pixel_cutline_equals_rasterio_features(case, all_touched):
    """In source pixel coordinates the masker is the rasterizer (GDAL burns the cutline with
    GDALRasterizeGeometries); windows are slices of the full mask."""
    rows, cols, poly, win = case
    if not poly.is_valid or poly.area == 0:
        return
    pc = SourcePixelCutline(poly, (rows, cols))
    full = cutline_source_mask(pc, all_touched=all_touched)
    ref = rfeatures.geometry_mask([poly], (rows, cols), Affine.identity(), all_touched=all_touched, invert=True)
    np.testing.assert_array_equal(full, ref)
    c, r, w, h = win
    np.testing.assert_array_equal(cutline_source_mask(pc, all_touched=all_touched, window=win), full[r:r + h, c:c + w])


def test_lonlat_default_and_legacy_crs_member():
    crs, transform, shape = _raster("RGB.byte.tif")
    fc = json.loads(data_file("vector/RGB.byte_box_utm18n.geojson").read_text())
    with_member = cutline_source_mask(fc, src_crs=crs.to_wkt(), src_transform=transform, src_shape=shape)
    assert int(with_member.sum()) == 41750
    # the same polygon without the member is read as lon/lat: not valid lon/lat, said clearly
    bare = {k: v for k, v in fc.items() if k != "crs"}
    with pytest.raises(GeometryError, match="look projected.*cutline_srs"):
        cutline_source_mask(bare, src_crs=crs.to_wkt(), src_transform=transform, src_shape=shape)
    # prepare_cutline turns it into lon/lat: same mask from the lon/lat geometry
    lonlat = prepare_cutline(fc)
    assert -80 < lonlat.bounds[0] < -70
    again = cutline_source_mask(lonlat, src_crs=crs.to_wkt(), src_transform=transform, src_shape=shape)
    assert (again != with_member).sum() <= 2  # densified edges: at most a tie or two move
    # the stale 'fiona:crs' foreign member is not a CRS declaration: lon/lat is used
    _, c = resolve_cutline(data_file("vector/rasterstats_slope_polygons_wgs84.geojson").read_text())
    assert c.to_epsg() == 4326 or c.to_string() == "OGC:CRS84"


def test_cutline_missing_the_source_is_all_masked_not_an_error():
    m = cutline_source_mask("POLYGON ((100 100, 101 100, 101 101, 100 100))", cutline_srs="EPSG:3857",
                            src_crs="EPSG:3857", src_transform=Affine(1, 0, 0, 0, -1, 0), src_shape=(5, 6))
    assert m.shape == (5, 6) and not m.any()


def test_cutline_containing_the_source_is_all_valid():
    m = cutline_source_mask("POLYGON ((-1 1, 9 1, 9 -9, -1 -9, -1 1))", cutline_srs="EPSG:3857",
                            src_crs="EPSG:3857", src_transform=Affine(1, 0, 0, 0, -1, 0), src_shape=(5, 6),
                            window=(1, 1, 3, 2))
    assert m.shape == (2, 3) and m.all()


@pytest.mark.parametrize(
    "bad",
    [
        "POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))",
        "LINESTRING (0 0, 1 1)",
        "POINT (0 0)",
        "MULTIPOLYGON EMPTY",
        "POLYGON ((0 0, 1",
        '{"type": "Feature", "geometry": null}',
        {"type": "FeatureCollection", "features": []},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]}]},
    ],
)
def test_bad_cutlines_raise_geometry_error(bad):
    with pytest.raises(GeometryError):
        prepare_cutline(bad)
    with pytest.raises(GeometryError):
        cutline_source_mask(bad, src_crs=4326, src_transform=Affine(1, 0, 0, 0, -1, 0), src_shape=(3, 3))


def test_bad_arguments():
    sq = "POLYGON ((0 0, 1 0, 1 1, 0 0))"
    with pytest.raises(CRSError):
        prepare_cutline(sq, cutline_srs="EPSG:999999")
    with pytest.raises(InvalidParameterError):
        cutline_source_mask(sq)
    with pytest.raises(InvalidParameterError):
        cutline_source_mask(sq, src_crs=4326, src_transform=Affine(1, 0, 0, 0, -1, 0), src_shape=(3, 3),
                            window=(0, 0, 0, 3))


def test_source_pixel_cutline_pickles():
    import pickle

    pc = cutline_to_source_pixels("POLYGON ((0 0, 1 0, 1 -1, 0 0))", cutline_srs=3857, src_crs=3857,
                                  src_transform=Affine(0.5, 0, 0, 0, -0.5, 0), src_shape=(4, 4))
    again = pickle.loads(pickle.dumps(pc))
    assert again.wkt == pc.wkt == "POLYGON ((0 0, 2 0, 2 2, 0 0))"


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_gdal_small_chunks_centre_mode_identical_all_touched_close(seed):
    """GDAL burning the cutline per small chunk: identical in pixel-centre mode; with
    all-touched only a few outline pixels at GDAL's chunk edges may differ (documented)."""
    rng = np.random.default_rng(seed)
    rows, cols = (int(v) for v in rng.integers(150, 400, 2))
    n = int(rng.integers(3, 12))
    pts = rng.uniform(-0.3 * max(rows, cols), 1.3 * max(rows, cols), (n, 2))
    c = pts.mean(0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))]
    if seed % 2:
        pts = np.round(pts)
    poly = shapely.Polygon(pts)
    if not poly.is_valid or poly.area == 0:
        return
    pc = SourcePixelCutline(poly, (rows, cols))
    crs, tf = "EPSG:32618", Affine(30, 0, 300000, 0, -30, 4000000)
    for at in (False, True):
        ref = _gdal_cutline_mask(pc, crs, tf, (rows, cols), at, warp_mem_limit=1)
        ours = cutline_source_mask(pc, all_touched=at)
        if at:
            assert (ours != ref).sum() <= 10
        else:
            np.testing.assert_array_equal(ours, ref)
