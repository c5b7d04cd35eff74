"""raster_core.geometry: parsing any geometry input, legacy crs members, validation."""

from __future__ import annotations

import json

import pytest
import shapely

from raster_core.errors import CRSError, GeometryError
from raster_core.geometry import ParsedGeometry, polygon_parts, polygonal_geometry, read_geometry
from tests.conftest import data_file

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


class _GeoInterface:
    def __init__(self, mapping):
        self.__geo_interface__ = mapping


@pytest.mark.parametrize(
    "value",
    [
        SQUARE,
        {"type": "Feature", "properties": {"a": 1}, "geometry": SQUARE},
        {"geometry": SQUARE},  # Feature-like, as the DL client accepts
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": SQUARE}]},
        json.dumps(SQUARE),
        json.dumps(SQUARE).encode(),
        "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
        "  polygon ((0 0, 1 0, 1 1, 0 1, 0 0))  ",
        shapely.geometry.shape(SQUARE),
        _GeoInterface(SQUARE),
        _GeoInterface({"type": "Feature", "geometry": SQUARE}),
    ],
)
def test_every_input_form_gives_the_same_polygon(value):
    parsed = read_geometry(value)
    assert isinstance(parsed, ParsedGeometry)
    assert parsed.geometry.equals(shapely.geometry.shape(SQUARE))
    assert parsed.crs is None
    assert polygonal_geometry(value).equals(parsed.geometry)


def test_vertex_order_is_kept():
    ring = [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]  # clockwise: must not be normalised
    g = read_geometry({"type": "Polygon", "coordinates": [ring]}).geometry
    assert [list(c) for c in g.exterior.coords] == ring


def test_feature_collection_of_several_features():
    other = {"type": "Polygon", "coordinates": [[[5, 5], [6, 5], [6, 6], [5, 5]]]}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": g} for g in (SQUARE, other)]}
    g = polygonal_geometry(fc)
    assert len(polygon_parts(g)) == 2


def test_legacy_crs_member_is_honoured():
    parsed = read_geometry(data_file("vector/RGB.byte_box_utm18n.geojson").read_text())
    assert parsed.crs.to_epsg() == 32618
    parsed = read_geometry({**SQUARE, "crs": {"type": "EPSG", "properties": {"code": 3857}}})
    assert parsed.crs.to_epsg() == 3857
    parsed = read_geometry("SRID=32615;POLYGON ((0 0, 1 0, 1 1, 0 0))")
    assert parsed.crs.to_epsg() == 32615


def test_foreign_crs_members_are_ignored():
    parsed = read_geometry(data_file("vector/rasterstats_slope_polygons_wgs84.geojson").read_text())
    assert parsed.crs is None  # 'fiona:crs' is not a CRS declaration


@pytest.mark.parametrize(
    "member,error",
    [
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::99999999"}}, CRSError),
        ({"type": "link", "properties": {"href": "http://x"}}, GeometryError),
        ("EPSG:4326", GeometryError),
    ],
)
def test_bad_crs_members(member, error):
    with pytest.raises(error):
        read_geometry({**SQUARE, "crs": member})


@pytest.mark.parametrize(
    "value,match",
    [
        (None, "required"),
        ("", "empty string"),
        ("POLYGON ((0 0, 1 1", "neither GeoJSON nor valid WKT"),
        ('{"type": "Polygon", ', "not valid GeoJSON"),
        ("[1, 2]", "must be an object"),
        ({"type": "Polygon"}, "no 'coordinates'"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0]]]}, "invalid GeoJSON Polygon"),
        ({"type": "Feature", "geometry": None}, "null geometry"),
        ({"type": "FeatureCollection"}, "no 'features'"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"type": "Topology"}, "not a GeoJSON geometry"),
        (12, "must be a shapely geometry"),
        ({"type": "Point", "coordinates": [float("inf"), 0]}, "non-finite"),
        ("SRID=abc;POINT (0 0)", "EWKT"),
    ],
)
def test_unparsable_inputs(value, match):
    with pytest.raises(GeometryError, match=match):
        read_geometry(value)


@pytest.mark.parametrize(
    "value,match",
    [
        ("POINT (0 0)", "must be a Polygon or MultiPolygon, got Point"),
        ("MULTILINESTRING ((0 0, 1 1))", "got MultiLineString"),
        ("POLYGON EMPTY", "empty"),
        ("GEOMETRYCOLLECTION EMPTY", "empty"),
        ("GEOMETRYCOLLECTION (POINT (0 0))", "only polygons"),
        ("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))", "not a valid polygon.*Self-intersection"),
        ("POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 5 1, 5 2, 1 2, 1 1))", "not a valid polygon"),
        ("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((0 0, 2 2, 2 0, 0 2, 0 0)))", r"part 1"),
    ],
)
def test_non_polygonal_empty_and_invalid_geometries(value, match):
    with pytest.raises(GeometryError, match=match):
        polygonal_geometry(value)


def test_errors_are_value_errors_too():
    with pytest.raises(ValueError):
        polygonal_geometry("POINT (0 0)")
