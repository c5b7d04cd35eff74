"""Parity of raster_core.rasterize / geometry_mask with rasterio.features (GDAL 3.10)."""

from __future__ import annotations

import json

import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

rasterio = pytest.importorskip("rasterio")
import rasterio.features as rfeatures  # noqa: E402

from raster_core.errors import DataTypeError, GeometryError, InvalidParameterError, ShapeError, TransformError  # noqa: E402
from raster_core.rasterize import geometry_mask, rasterize  # noqa: E402
from tests.conftest import data_file  # noqa: E402

# (vector file, raster file, CRS of the vector coordinates or None = the raster's)
VECTOR_CASES = [
    ("RGB.byte_box_utm18n.geojson", "RGB.byte.tif", None),
    ("RGB.byte_box_utm18n.geojson", "rgb1.tif", None),
    ("rasterstats_slope_polygons_aea.geojson", "rasterstats_slope.tif", None),
    ("rasterstats_slope_polygons_wgs84.geojson", "rasterstats_slope.tif", "EPSG:4326"),
    ("LC08_224078_landcover_polygons_utm21n.geojson", "LC08_L1TP_224077_20200518_20200518_01_RT_B2_60m.tif", None),
    ("storml_storm_lake_bbox_3857.geojson", "storml_elev.tif", "EPSG:3857"),
    ("storml_storm_lake_bbox_3857.geojson", "sr_b4_20200829.tif", "EPSG:3857"),
]


def _features_in_raster_crs(vector_name: str, raster_name: str, vector_crs: str | None):
    vpath = data_file("vector/" + vector_name)
    rpath = data_file(raster_name)
    with rasterio.open(rpath) as ds:
        transform, shape, crs = ds.transform, ds.shape, ds.crs
    fc = json.loads(vpath.read_text())
    geoms = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]
    if vector_crs is not None:
        tr = pyproj.Transformer.from_crs(vector_crs, crs.to_wkt(), always_xy=True)
        geoms = [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))) for g in geoms]
    return geoms, transform, shape


@pytest.mark.parametrize("all_touched", [False, True])
@pytest.mark.parametrize("vector_name,raster_name,vector_crs", VECTOR_CASES)
def test_real_cutlines_match_rasterio(vector_name, raster_name, vector_crs, all_touched):
    geoms, transform, shape = _features_in_raster_crs(vector_name, raster_name, vector_crs)
    shapes = [(g, i + 1) for i, g in enumerate(geoms)]
    ours = rasterize(shapes, shape, transform, all_touched=all_touched, dtype="uint8")
    ref = rfeatures.rasterize(
        [(shapely.geometry.mapping(g), v) for g, v in shapes], out_shape=shape, transform=transform,
        all_touched=all_touched, dtype="uint8",
    )
    assert ours.any()
    np.testing.assert_array_equal(ours, ref)
    mask = geometry_mask(geoms, shape, transform, all_touched=all_touched)
    ref_mask = rfeatures.geometry_mask([shapely.geometry.mapping(g) for g in geoms], shape, transform,
                                       all_touched=all_touched)
    np.testing.assert_array_equal(mask, ref_mask)


# ---------------------------------------------------------------------------------------------
# hypothesis: polygons with holes, multipolygons, vertices on pixel edges/centres, slivers,
# polygons larger than the grid, rotated and non-square pixels


def _transform(kind: int, angle: float) -> Affine:
    if kind == 0:
        return Affine.identity()
    if kind == 1:
        return Affine(0.5, 0.0, 10.0, 0.0, -0.25, 20.0)
    if kind == 2:
        return Affine(30.0, 0.0, 300000.0, 0.0, -30.0, 5000000.0)
    if kind == 3:  # south-up, non-square
        return Affine(2.0, 0.0, -7.0, 0.0, 3.0, -11.0)
    return Affine.translation(3.0, -2.0) @ Affine.rotation(angle) @ Affine.scale(1.3, -0.7)


@st.composite
def polygon_in_pixels(draw, size):
    """A valid polygon in pixel coordinates: star-shaped ring, optional hole, quantized
    vertices (integers = pixel edges, .5 = centres) or free floats, sometimes a sliver."""
    quantum = draw(st.sampled_from([1.0, 0.5, 0.25, 0.0]))
    n = draw(st.integers(3, 14))
    cx = draw(st.floats(-0.3 * size, 1.3 * size))
    cy = draw(st.floats(-0.3 * size, 1.3 * size))
    radius = draw(st.floats(0.2, 1.5 * size))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True))))
    radii = radius * np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n)))
    pts = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    if draw(st.booleans()):  # sliver: squash one axis below a pixel
        pts[:, 1] = cy + (pts[:, 1] - cy) * draw(st.floats(0.01, 0.3)) / max(radius, 1.0)
    if quantum:
        pts = np.round(pts / quantum) * quantum
    poly = shapely.Polygon(pts)
    if draw(st.booleans()):
        poly = shapely.Polygon(pts[::-1])
    if not poly.is_valid or poly.is_empty or poly.area == 0:
        return None
    if draw(st.booleans()):
        hole = shapely.Point(cx, cy).buffer(radius * 0.15, 3)
        if quantum:
            hole = shapely.Polygon(np.round(np.asarray(hole.exterior.coords) / quantum) * quantum)
        if hole.is_valid and poly.contains(hole) and not hole.is_empty and hole.area > 0:
            poly = shapely.Polygon(poly.exterior.coords, [hole.exterior.coords])
    return poly if poly.is_valid else None


@st.composite
def scenes(draw):
    rows = draw(st.integers(1, 40))
    cols = draw(st.integers(1, 40))
    transform = _transform(draw(st.integers(0, 4)), draw(st.floats(0, 360)))
    polys = [p for p in draw(st.lists(polygon_in_pixels(max(rows, cols)), min_size=1, max_size=4)) if p is not None]
    as_multi = draw(st.booleans())
    world = [shapely.affinity.affine_transform(p, [transform.a, transform.b, transform.d, transform.e,
                                                   transform.c, transform.f]) for p in polys]
    # rounding in world coordinates can collapse a tiny valid polygon into an invalid one (which
    # rasterize rejects with a GeometryError, tested elsewhere): keep the valid ones
    world = [w for w in world if w.is_valid]
    return rows, cols, transform, world, as_multi


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenes(), st.booleans())
def test_hypothesis_polygons_match_rasterio(scene, all_touched):
    rows, cols, transform, world, as_multi = scene
    if not world:
        return
    if as_multi and len(world) > 1:
        shapes = [(shapely.MultiPolygon(world), 3)]  # parts may overlap: burned one by one
    else:
        shapes = [(g, i + 1) for i, g in enumerate(world)]
    ours = rasterize(shapes, (rows, cols), transform, all_touched=all_touched)
    ref = rfeatures.rasterize(
        [(shapely.geometry.mapping(g), v) for g, v in shapes], out_shape=(rows, cols), transform=transform,
        all_touched=all_touched, dtype="uint8",
    )
    np.testing.assert_array_equal(ours, ref)


# ---------------------------------------------------------------------------------------------
# API behaviour


def test_square_centre_rule_and_all_touched():
    sq = "POLYGON ((0.5 0.5, 3.5 0.5, 3.5 3.5, 0.5 3.5, 0.5 0.5))"
    a = rasterize([sq], (5, 5), Affine.identity())
    assert a[:3, 1:4].all() and a.sum() == 9
    b = rasterize([sq], (5, 5), Affine.identity(), all_touched=True)
    assert b[:4, :4].all() and b.sum() == 16


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64"])
def test_dtypes_and_values_match_rasterio(dtype):
    shapes = [("POLYGON ((0 0, 6 0, 6 6, 0 0))", 100.6), ("POLYGON ((2 2, 9 2, 9 9, 2 9, 2 2))", -3.5)]
    if dtype.startswith("u"):
        shapes[1] = (shapes[1][0], 7.5)
    ours = rasterize(shapes, (10, 10), Affine.identity(), dtype=dtype, fill=2)
    ref = rfeatures.rasterize(shapes and [(shapely.from_wkt(w), v) for w, v in shapes], out_shape=(10, 10),
                              transform=Affine.identity(), dtype=dtype, fill=2)
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, ref)


def test_out_array_is_updated_in_place():
    out = np.full((6, 6), 9, dtype="uint16")
    res = rasterize([("POLYGON ((1 1, 4 1, 4 4, 1 4, 1 1))", 5)], None, Affine.identity(), out=out)
    assert res is out
    assert (out[1:4, 1:4] == 5).all() and (out[0] == 9).all()


def test_input_forms_agree():
    poly = shapely.Polygon([(0, 0), (5, 0), (5, 5), (0, 0)])

    class GeoIface:
        __geo_interface__ = shapely.geometry.mapping(poly)

    forms = [
        poly,
        shapely.geometry.mapping(poly),
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(poly)},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": shapely.geometry.mapping(poly)}]},
        poly.wkt,
        json.dumps(shapely.geometry.mapping(poly)),
        GeoIface(),
    ]
    expected = rasterize([poly], (6, 6), Affine.identity())
    for form in forms:
        np.testing.assert_array_equal(rasterize([form], (6, 6), Affine.identity()), expected)
        np.testing.assert_array_equal(rasterize(form, (6, 6), Affine.identity()), expected)


def test_results_do_not_depend_on_threads():
    rng = np.random.default_rng(3)
    polys = [shapely.Point(rng.uniform(0, 300, 2)).buffer(rng.uniform(1, 40), 8) for _ in range(30)]
    shapes = [(p, i % 250 + 1) for i, p in enumerate(polys)]
    for at in (False, True):
        one = rasterize(shapes, (300, 280), Affine.identity(), all_touched=at, num_threads=1)
        two = rasterize(shapes, (300, 280), Affine.identity(), all_touched=at, num_threads=2)
        ref = rfeatures.rasterize(shapes, out_shape=(300, 280), transform=Affine.identity(), all_touched=at)
        np.testing.assert_array_equal(one, two)
        np.testing.assert_array_equal(one, ref)


def test_polygon_far_larger_than_grid():
    big = shapely.box(-1e6, -1e6, 1e6, 1e6)
    assert rasterize([big], (5, 7), Affine.identity()).all()
    assert rasterize([big], (5, 7), Affine.identity(), all_touched=True).all()


@pytest.mark.parametrize(
    "bad",
    [
        "POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))",  # bow-tie
        "POINT (1 1)",
        "LINESTRING (0 0, 1 1)",
        "POLYGON EMPTY",
        "not wkt at all",
        '{"type": "Polygon"',
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]},
        {"type": "Circle", "coordinates": [0, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, float("nan")], [1, 1], [0, 0]]]},
        None,
        42,
    ],
)
def test_bad_geometries_raise_geometry_error(bad):
    with pytest.raises(GeometryError):
        rasterize([bad], (4, 4), Affine.identity())


def test_invalid_polygon_message_says_why():
    with pytest.raises(GeometryError, match="not a valid polygon.*Self-intersection"):
        geometry_mask(["POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"], (4, 4), Affine.identity())


def test_bad_parameters():
    sq = "POLYGON ((0 0, 1 0, 1 1, 0 0))"
    with pytest.raises(DataTypeError):
        rasterize([sq], (4, 4), Affine.identity(), dtype="complex64")
    with pytest.raises(ShapeError):
        rasterize([sq], (0, 4), Affine.identity())
    with pytest.raises(ShapeError):
        rasterize([sq], "ab", Affine.identity())
    with pytest.raises(TransformError):
        rasterize([sq], (4, 4), (0, 0, 0, 0, 0, 0))
    with pytest.raises(InvalidParameterError):
        rasterize([sq], (4, 4), Affine.identity(), fill=300)
    with pytest.raises(InvalidParameterError):
        rasterize([sq], (4, 4), Affine.identity(), fill="zero")
    with pytest.raises(InvalidParameterError):
        rasterize([(sq, "seven")], (4, 4), Affine.identity())
    with pytest.raises(InvalidParameterError):
        rasterize([sq], (4, 4), Affine.identity(), num_threads=-1)
    with pytest.raises(ShapeError):
        rasterize([sq], None, Affine.identity(), out=np.zeros((2, 2, 2), np.uint8))
