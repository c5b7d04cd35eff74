"""Warping with a cutline: raster_core.warp.reproject(cutline=...) vs GDAL 3.10's warper
(rasterio.warp.reproject with CUTLINE=<WKT in source pixel coordinates>)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("rasterio")
import rasterio.warp  # noqa: E402
from rasterio.crs import CRS  # noqa: E402
from rasterio.enums import Resampling  # noqa: E402

from benchmarks.ops import OPS, compare, run_ours, run_reference  # noqa: E402
from raster_core.cutline import cutline_to_source_pixels  # noqa: E402
from raster_core.errors import GeometryError  # noqa: E402
from raster_core.warp import reproject  # noqa: E402
from tests.conftest import data_file  # noqa: E402

# (id, vector file, raster file, cutline_srs (None: legacy crs member or lon/lat), dst CRS)
CASES = {
    "rgb_box_4326": ("RGB.byte_box_utm18n.geojson", "RGB.byte.tif", None, "EPSG:4326"),
    "slope_wgs84_4326": ("rasterstats_slope_polygons_wgs84.geojson", "rasterstats_slope.tif", None, "EPSG:4326"),
    "slope_wgs84_3857": ("rasterstats_slope_polygons_wgs84.geojson", "rasterstats_slope.tif", None, "EPSG:3857"),
    "landsat_landcover_4326": ("LC08_224078_landcover_polygons_utm21n.geojson",
                               "LC08_L1TP_224077_20200518_20200518_01_RT_B2_60m.tif", None, "EPSG:4326"),
    "storml_box_3857": ("storml_storm_lake_bbox_3857.geojson", "storml_elev.tif", "EPSG:3857", "EPSG:3857"),
}
OP_NAMES = ["near", "bilinear", "cubic", "lanczos", "average", "mode"]


def _grid(src, tf, crs, dst_crs, maxpx=300):
    _, h, w = src.shape
    bounds = rasterio.transform.array_bounds(h, w, tf)
    dtf, dw, dh = rasterio.warp.calculate_default_transform(crs, dst_crs, w, h, *bounds)
    f = max(dw, dh) / maxpx
    if f > 1:
        dtf = dtf @ Affine.scale(f)
        dw, dh = int(np.ceil(dw / f)), int(np.ceil(dh / f))
    return dtf, (dh, dw)


def _case(case_id):
    vector, raster, srs, dst_crs = CASES[case_id]
    with rasterio.open(data_file(raster)) as ds:
        src, tf, crs, nd = ds.read(), ds.transform, ds.crs.to_wkt(), ds.nodata
    src = src[:3]
    text = data_file("vector/" + vector).read_text()
    dtf, shape = _grid(src, tf, crs, dst_crs)
    pixel_cutline = cutline_to_source_pixels(text, cutline_srs=srs, src_crs=crs, src_transform=tf,
                                             src_shape=src.shape[1:])
    kw = dict(src_transform=tf, src_crs=crs, dst_transform=dtf, dst_crs=dst_crs, dst_shape=shape, src_nodata=nd,
              dst_nodata=nd if nd is not None else 0)
    return src, text, srs, pixel_cutline, kw


@pytest.mark.parametrize("all_touched", [False, True])
@pytest.mark.parametrize("op_name", OP_NAMES)
@pytest.mark.parametrize("case_id", list(CASES))
def test_warp_with_cutline_matches_gdal(case_id, op_name, all_touched):
    src, text, srs, pc, kw = _case(case_id)
    op = OPS[op_name]
    ours = run_ours(op, src, cutline=text, cutline_srs=srs, cutline_all_touched=all_touched, **kw)
    ref = run_reference(op, src, CUTLINE=pc.wkt, CUTLINE_ALL_TOUCHED=all_touched, **kw)
    agreement = compare(op, ours, ref, kw["dst_nodata"])
    assert agreement.ok(op), (case_id, op_name, all_touched, agreement)
    if op_name == "near":
        assert agreement.value_agree >= 0.9999
    # the cutline really masks something, and keeps something
    valid = ref != kw["dst_nodata"]
    if case_id != "landsat_landcover_4326":  # 4 small fields: a handful of pixels at 300 px
        assert 0 < valid.mean() < 1


@st.composite
def lonlat_cutlines(draw):
    """Random star polygons (optionally with a hole) around RGB.byte.tif, in lon/lat."""
    cx = draw(st.floats(-78.95, -77.4))
    cy = draw(st.floats(23.2, 25.2))
    r = draw(st.floats(0.003, 1.2))
    n = draw(st.integers(3, 12))
    ang = np.sort(np.array(draw(st.lists(st.floats(0, 6.28), min_size=n, max_size=n, unique=True))))
    rad = r * np.array(draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n)))
    poly = shapely.Polygon(np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
    if draw(st.booleans()):
        hole = shapely.Point(cx, cy).buffer(r * 0.2, 3)
        if poly.contains(hole):
            poly = shapely.Polygon(poly.exterior.coords, [hole.exterior.coords])
    return poly


@settings(max_examples=20, deadline=None)
@given(lonlat_cutlines(), st.booleans(), st.sampled_from(["near", "bilinear", "average"]))
def test_random_lonlat_cutlines_match_gdal(poly, all_touched, op_name):
    if not poly.is_valid or poly.area == 0:
        return
    with rasterio.open(data_file("RGB.byte.tif")) as ds:
        src, tf, crs = ds.read(1), ds.transform, ds.crs.to_wkt()
    src = src[::4, ::4].copy()
    tf = tf @ Affine.scale(4)
    dtf, shape = _grid(src[None], tf, crs, "EPSG:4326", maxpx=150)
    kw = dict(src_transform=tf, src_crs=crs, dst_transform=dtf, dst_crs="EPSG:4326", dst_shape=shape, src_nodata=0,
              dst_nodata=0)
    pc = cutline_to_source_pixels(poly, src_crs=crs, src_transform=tf, src_shape=src.shape)
    op = OPS[op_name]
    ours = run_ours(op, src, cutline=poly, cutline_all_touched=all_touched, **kw)
    ref = run_reference(op, src, CUTLINE=pc.wkt, CUTLINE_ALL_TOUCHED=all_touched, **kw)
    agreement = compare(op, ours, ref, 0)
    assert agreement.ok(op), agreement


# --------------------------------------------------------------------------------------------
# The guide's "All Touched" example (raster-guide.txt): a 0.25-degree source (ERA5-like grid,
# pixel centres on multiples of 0.25 degree), a polygon smaller than one source pixel, output
# EPSG:3857 at 100 m over the polygon's bounds. Pixel-as-point: no source centre is inside, so
# everything is masked; all-touched: the two source pixels the polygon touches are valid and
# no output pixel is masked.

GUIDE_GEOMETRY = {
    "type": "Polygon",
    "coordinates": ((
        (-50.21819862632718, -6.033494420295789),
        (-50.21973462385856, -6.021475529166609),
        (-50.09615761215656, -6.021324708843302),
        (-50.09368786752497, -6.121996683190829),
        (-50.21768560099267, -6.122384050341935),
        (-50.21819862632718, -6.033494420295789),
    ),),
}
GUIDE_BOUNDS = (-50.21973462385856, -6.122384050341935, -50.09368786752497, -6.021324708843302)


def _guide_setup():
    src_tf = Affine(0.25, 0.0, -52.125, 0.0, -0.25, -3.875)
    src = np.arange(1, 16 * 16 + 1, dtype=np.float32).reshape(16, 16)
    # outputBounds in EPSG:4326 -> the two corners in EPSG:3857 (gdalwarp -te_srs), 100 m
    t = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)
    x0, y0 = t.transform(GUIDE_BOUNDS[0], GUIDE_BOUNDS[1])
    x1, y1 = t.transform(GUIDE_BOUNDS[2], GUIDE_BOUNDS[3])
    w = int((x1 - x0 + 50.0) // 100.0)
    h = int((y1 - y0 + 50.0) // 100.0)
    dtf = Affine((x1 - x0) / w, 0.0, x0, 0.0, -(y1 - y0) / h, y1)
    return src, src_tf, dtf, (h, w)


@pytest.mark.parametrize("resampling", ["near", "bilinear", "cubic", "average"])
def test_guide_all_touched_example(resampling):
    src, src_tf, dtf, shape = _guide_setup()
    assert shape == (113, 140)
    results = {}
    for at in (False, True):
        out, _ = reproject(src, np.zeros(shape, np.float32), src_transform=src_tf, src_crs="EPSG:4326",
                           dst_transform=dtf, dst_crs="EPSG:3857", dst_shape=shape, resampling=resampling,
                           dst_nodata=0, cutline=GUIDE_GEOMETRY, cutline_all_touched=at)
        pc = cutline_to_source_pixels(GUIDE_GEOMETRY, src_crs="EPSG:4326", src_transform=src_tf, src_shape=src.shape)
        ref = np.zeros(shape, np.float32)
        rasterio.warp.reproject(src, ref, src_transform=src_tf, src_crs=CRS.from_epsg(4326), dst_transform=dtf,
                                dst_crs=CRS.from_epsg(3857), resampling=Resampling[OPS[resampling].rio_resampling],
                                dst_nodata=0, CUTLINE=pc.wkt, CUTLINE_ALL_TOUCHED=at)
        assert ((out != 0) == (ref != 0)).all()
        np.testing.assert_allclose(out, ref, rtol=1e-4)
        results[at] = out
    assert (results[False] == 0).all()  # fully masked without all-touched
    assert (results[True] != 0).all()  # no pixel masked with it


def test_reproject_cutline_errors_are_typed():
    src, src_tf, dtf, shape = _guide_setup()
    for bad in ["POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))", "LINESTRING (0 0, 1 1)", "POLYGON EMPTY", "garbage"]:
        with pytest.raises(GeometryError):
            reproject(src, np.zeros(shape, np.float32), src_transform=src_tf, src_crs="EPSG:4326",
                      dst_transform=dtf, dst_crs="EPSG:3857", dst_shape=shape, cutline=bad)


def test_cutline_missing_the_data_masks_everything():
    src, src_tf, dtf, shape = _guide_setup()
    far = "POLYGON ((10 10, 11 10, 11 11, 10 10))"
    out, _ = reproject(src, np.zeros(shape, np.float32), src_transform=src_tf, src_crs="EPSG:4326",
                       dst_transform=dtf, dst_crs="EPSG:3857", dst_shape=shape, dst_nodata=0, cutline=far)
    assert (out == 0).all()


@pytest.mark.parametrize("all_touched", [False, True])
def test_guide_all_touched_example_through_the_raster_api(tmp_path, all_touched):
    """The guide's call itself: ndarray(align_pixels=False, bounds in EPSG:4326, srs EPSG:3857,
    resolution 100 m, cutline=geometry[, cutline_all_touched=True]) on a 0.25-degree file."""
    import raster_core

    src, src_tf, _, shape = _guide_setup()
    path = tmp_path / "era5_tp_tile.tif"
    raster_core.write_geotiff(path, src, crs="EPSG:4326", transform=src_tf)
    arr, meta = raster_core.ndarray(
        str(path), bands=["1"], align_pixels=False, bounds=GUIDE_BOUNDS, bounds_srs="EPSG:4326",
        srs="EPSG:3857", resolution=100.0, cutline=GUIDE_GEOMETRY, cutline_all_touched=all_touched,
        data_type="Float32",
    )
    assert arr.shape == (*shape, 1)
    mask = np.ma.getmaskarray(arr)
    if all_touched:
        assert not mask.any()  # no pixel masked
    else:
        assert mask.all()  # fully masked
