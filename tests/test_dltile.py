"""DLTile: every vector of dl-raster-spec.md §3 (copied from the Descartes Labs client's
tests and docstrings), the client's error behaviour, and cross-checks against PROJ/GDAL."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pyproj
import pytest
import shapely
import shapely.affinity
import shapely.geometry as sgeom
from affine import Affine

from raster_core import DLTile
from raster_core.dltile import lon_to_zone, lonlat_to_utm, utm_to_lonlat
from raster_core.errors import (
    InvalidLatLonError,
    InvalidRowColError,
    InvalidShapeError,
    InvalidTileError,
    RasterCoreError,
)

SF_FEATURE = {
    "type": "Feature",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [-122.51140471760839, 37.77130087547876],
                [-122.45475646845254, 37.77475476721895],
                [-122.45303985468301, 37.76657207194229],
                [-122.51057242081689, 37.763446782666094],
                [-122.51140471760839, 37.77130087547876],
            ]
        ],
    },
    "properties": None,
}

WISCONSIN_JSON = """{"coordinates":
        [[[-90.1897158, 44.2267595],
        [-87.9570052, 43.8067829],
        [-88.5766841, 42.1269533],
        [-90.7457357, 42.5435965],
        [-90.1897158, 44.2267595]]],
        "type": "Polygon"}"""

WKT_15N = (
    'PROJCS["WGS 84 / UTM zone 15N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
    '298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
    'PARAMETER["central_meridian",-93],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],'
    'PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],'
    'AXIS["Northing",NORTH],AUTHORITY["EPSG","32615"]]'
)


# ---------------------------------------------------------------- projection (§3.1)


@pytest.mark.parametrize(
    "lon, lat, zone, east, north",
    [
        (-93, 0, 15, 500000.0, 0.0),
        (-90.2, 44.8, 15, 721449.9502328726, 4964547.664596645),
        (60, 45, 41, 263553.97390066757, 4987329.504649379),
        (-47.9, -15.8, 23, 189303.91561352636, -1748954.9232410402),
        (18.4, -33.9, 34, 259583.22166652183, -3754111.9545361507),
    ],
)
def test_forward_points_spec(lon, lat, zone, east, north):
    assert lon_to_zone(lon) == zone
    e, n = lonlat_to_utm(lon, lat, zone)
    assert float(e) == pytest.approx(east, abs=1e-6)
    assert float(n) == pytest.approx(north, abs=1e-6)
    # DL-UTM agrees with PROJ's EPSG:326zz (north code, negative northings in the south)
    pe, pn = pyproj.Transformer.from_crs(4326, 32600 + zone, always_xy=True).transform(lon, lat)
    assert abs(pe - float(e)) < 1e-4 and abs(pn - float(n)) < 1e-4
    back = utm_to_lonlat(e, n, zone)
    assert float(back[0]) == pytest.approx(lon, abs=1e-8)
    assert float(back[1]) == pytest.approx(lat, abs=1e-8)


def test_series_matches_proj_inside_zones():
    rng = np.random.default_rng(42)
    zone = rng.integers(1, 61, 2000)
    lon = 6.0 * zone - 183.0 + rng.uniform(-3, 3, zone.size)
    lat = rng.uniform(-84, 84, zone.size)
    for z in np.unique(zone)[:12]:
        sel = zone == z
        e, n = lonlat_to_utm(lon[sel], lat[sel], int(z))
        tr = pyproj.Transformer.from_crs(4326, 32600 + int(z), always_xy=True)
        pe, pn = tr.transform(lon[sel], lat[sel])
        assert np.max(np.abs(pe - e)) < 1e-4 and np.max(np.abs(pn - n)) < 1e-4
        lo, la = utm_to_lonlat(e, n, int(z))
        assert np.max(np.abs(lo - lon[sel])) < 1e-8 and np.max(np.abs(la - lat[sel])) < 1e-8


def test_pole_northing():
    assert float(lonlat_to_utm(0.0, 90.0, 31)[1]) == pytest.approx(9997964.943, abs=1e-3)
    assert float(lonlat_to_utm(0.0, -90.0, 31)[1]) == pytest.approx(-9997964.943, abs=1e-3)


@pytest.mark.parametrize("lon, zone", [(-90, 16), (6, 32), (-174, 2), (-180, 1), (180, 60), (179.999, 60), (0, 31)])
def test_lon_to_zone(lon, zone):
    assert lon_to_zone(lon) == zone


def test_lon_to_zone_invalid():
    with pytest.raises(InvalidLatLonError):
        lon_to_zone(180.5)


# ---------------------------------------------------------------- keys (§3.2)


def test_from_key_geocontext_vector():
    key = "128:16:960.0:15:-1:37"
    t = DLTile.from_key(key)
    assert t.key == key
    assert (t.resolution, t.pad, t.tilesize, t.crs) == (960, 16, 128, "EPSG:32615")
    assert t.bounds == (361760.0, 4531200.0, 515360.0, 4684800.0)
    assert t.bounds_crs == "EPSG:32615"
    assert t.raster_params == {"dltile": key, "align_pixels": False}
    assert t.geotrans == (361760.0, 960, 0, 4684800.0, 0, -960)
    assert t.proj4 == "+proj=utm +zone=15 +datum=WGS84 +units=m +no_defs "
    assert t.wkt == WKT_15N
    assert (t.zone, t.ti, t.tj, t.tile_extent) == (15, -1, 37, 160)

    t8 = t.assign(8)
    assert t8.key == "128:8:960.0:15:-1:37"
    assert t8.bounds == (369440.0, 4538880.0, 507680.0, 4677120.0)
    assert t8.geotrans == (369440.0, 960.0, 0, 4677120.0, 0, -960.0)
    assert t8.raster_params == {"dltile": "128:8:960.0:15:-1:37", "align_pixels": False}


def test_wkt_and_proj4_are_the_epsg_crs():
    t = DLTile.from_key("128:16:960.0:15:-1:37")
    assert pyproj.CRS.from_wkt(t.wkt).to_epsg() == 32615
    assert pyproj.CRS.from_proj4(t.proj4).equals(pyproj.CRS.from_epsg(32615), ignore_axis_order=True)
    assert DLTile.from_key("512:0:10.0:02:0:0").wkt.count('"central_meridian",-171]') == 1


def test_brief_example_key():
    t = DLTile.from_key("1024:0:60.0:13:-2:64")
    assert (t.tilesize, t.pad, t.resolution, t.zone, t.ti, t.tj) == (1024, 0, 60.0, 13, -2, 64)
    assert t.bounds == (377120.0, 3932160.0, 438560.0, 3993600.0)
    assert t.geotrans == (377120.0, 60.0, 0.0, 3993600.0, 0.0, -60.0)
    assert t.epsg == 32613


def test_docstring_vector_2048_16():
    t = DLTile.from_key("2048:16:30.0:15:3:80")
    assert t.bounds == (683840.0, 4914720.0, 746240.0, 4977120.0)
    assert (t.crs, t.ti, t.tj, t.pad) == ("EPSG:32615", 3, 80, 16)
    assert t.assign(123).pad == 123


def test_class_docstring_vector():
    t = DLTile.from_latlon(lat=35.691, lon=-105.944, tilesize=512, resolution=10, pad=0)
    assert t.key == "512:0:10.0:13:-17:771"
    assert t.crs == "EPSG:32613"
    assert t.bounds == (412960.0, 3947520.0, 418080.0, 3952640.0)
    assert t.geotrans == (412960.0, 10.0, 0.0, 3952640.0, 0.0, -10.0)
    assert (t.zone, t.ti, t.tj) == (13, -17, 771)


@pytest.mark.parametrize(
    "key, canonical",
    [
        ("2048:16:30.2:15:3:80", "2048:16:30.2:15:3:80"),
        ("2048:16:30:15:-5:15", "2048:16:30.0:15:-5:15"),
        ("1024:0:60.0:13:-2:64:extra", "1024:0:60.0:13:-2:64"),  # client: prefix match
        ("512:0:10.0:2:0:0", "512:0:10.0:02:0:0"),  # zone on two digits
        ("512:0:0.3333333:13:0:0", "512:0:0.333333:13:0:0"),  # 6 decimals
        ("512:0:1.5:13:0:0", "512:0:1.5:13:0:0"),
        ("512:0:1:13:0:0", "512:0:1.0:13:0:0"),  # one-character resolution: accepted (client bug fixed)
        ("512:0:10.:13:0:0", "512:0:10.0:13:0:0"),
    ],
)
def test_key_canonicalisation(key, canonical):
    t = DLTile.from_key(key)
    assert t.key == canonical
    assert str(t) == canonical
    assert DLTile.from_key(canonical) == t


def test_from_key_fields():
    t = DLTile.from_key("2048:16:30.2:15:3:80")
    assert (t.zone, t.resolution, t.tilesize, t.ti, t.tj) == (15, 30.2, 2048, 3, 80)
    t = DLTile.from_key("2048:16:30:15:-5:15")
    assert (t.resolution, t.ti, t.tj) == (30, -5, 15)


def test_canonical_resolution_strings():
    assert DLTile(512, 0, 30, 13, 0, 0).key == "512:0:30.0:13:0:0"
    assert DLTile(512, 0, 0.5, 13, 0, 0).key == "512:0:0.5:13:0:0"
    assert DLTile(512, 0, 1 / 3, 13, 0, 0).key == "512:0:0.333333:13:0:0"


@pytest.mark.parametrize(
    "key, message",
    [
        ("2048:16:30.0:0:3:80", "Invalid zone"),
        ("2048:16:30.0:61:3:80", "Invalid zone"),
        ("blah:16:30.0:1:3:80", "Invalid DLTile key"),
        ("2048:16.4:30.0:15:3:80", "Invalid DLTile key"),
        ("0:16:30.0:15:3:80", "Invalid tile size"),
        ("2048:-1:30.0:15:3:80", "Invalid padding"),
        ("2048:16:0.0:15:3:80", "Invalid resolution"),
        ("", "Invalid DLTile key"),
        ("2048:16:30.0:15:3", "Invalid DLTile key"),
    ],
)
def test_invalid_keys(key, message):
    with pytest.raises(InvalidTileError, match=message) as exc:
        DLTile.from_key(key)
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, RasterCoreError)


@pytest.mark.parametrize("key", [None, 123, b"512:0:10.0:13:0:0"])
def test_non_string_keys(key):
    with pytest.raises(InvalidTileError):
        DLTile.from_key(key)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(tilesize=0, resolution=1000, pad=0), "Tile size must be greater than zero"),
        (dict(tilesize=10, resolution=1000, pad=-1), "Pad value must be non-negative"),
        (dict(tilesize=10, resolution=0, pad=0), "Resolution must be greater than zero"),
        (dict(tilesize=10, resolution=-3, pad=0), "Resolution must be greater than zero"),
        (dict(tilesize=10, resolution=float("nan"), pad=0), "Resolution must be greater than zero"),
        (dict(tilesize=10, resolution="abc", pad=0), "invalid grid parameters"),
        (dict(tilesize=10.5, resolution=10, pad=0), "Tile size must be an integer"),
    ],
)
def test_invalid_grid(kwargs, message):
    with pytest.raises(InvalidTileError, match=message):
        DLTile.from_latlon(0.0, 0.0, **kwargs)
    with pytest.raises(InvalidTileError, match=message):
        DLTile.from_shape(SF_FEATURE, **kwargs)


def test_invalid_zone_constructor():
    with pytest.raises(InvalidTileError, match="Invalid zone"):
        DLTile(512, 0, 10.0, 0, 0, 0)
    with pytest.raises(InvalidTileError):
        DLTile(512, 0, 10.0, 13, 0.5, 0)


# ---------------------------------------------------------------- object protocol


def test_immutable_hashable_picklable():
    t = DLTile.from_key("2048:16:30.0:15:3:80")
    with pytest.raises(AttributeError):
        t.pad = 3
    with pytest.raises(AttributeError):
        t._zone = 3
    u = pickle.loads(pickle.dumps(t))
    assert u == t and hash(u) == hash(t) and u.key == t.key
    assert len({t, u, DLTile.from_key("2048:16:30:15:3:80")}) == 1
    assert t != DLTile.from_key("2048:16:30.0:15:3:81")
    assert t != t.key  # not equal to its key string
    assert eval(repr(t), {"DLTile": DLTile}) == t


def test_geo_interface_and_feature():
    t = DLTile.from_key("2048:16:30.0:15:3:80")
    gi = t.__geo_interface__
    assert gi["type"] == "Polygon" and len(gi["coordinates"][0]) == 5
    assert sgeom.shape(t).equals(t.geometry)
    f = t.feature
    json.dumps(f)  # JSON-serialisable
    assert f["type"] == "Feature" and f["geometry"] == gi
    p = f["properties"]
    assert p["key"] == t.key and p["cs_code"] == "EPSG:32615" and p["outputBounds"] == t.bounds
    assert p["size"] == [2080, 2080] and p["ti"] == 3 and p["tj"] == 80 and p["zone"] == 15
    assert p["geotrans"] == p["geoTransform"] == t.geotrans and p["wkt"] == t.wkt == p["coordinateSystem"]["wkt"]
    assert p["proj4"] == t.proj4 and (p["resolution"], p["tilesize"], p["pad"]) == (30.0, 2048, 16)
    assert t.geocontext == f


def test_geobox_params():
    t = DLTile.from_key("1024:8:60.0:13:-2:64")
    g = t.geobox_params()
    assert isinstance(g["crs"], pyproj.CRS) and g["crs"].to_epsg() == 32613
    assert g["width"] == g["height"] == 1040 == t.tile_extent
    assert g["transform"] == Affine(60.0, 0.0, 377120.0 - 480.0, 0.0, -60.0, 3993600.0 + 480.0)
    assert g["transform"] == Affine.from_gdal(*t.geotrans)
    # the transform maps the raster extent onto the padded bounds
    x0, y1 = g["transform"] @ (0, 0)
    x1, y0 = g["transform"] @ (g["width"], g["height"])
    assert (x0, y0, x1, y1) == t.bounds
    pickle.loads(pickle.dumps(g))


def test_geobox_params_matches_rasterio():
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_bounds

    t = DLTile.from_key("2048:16:30.0:15:3:80")
    g = t.geobox_params()
    assert from_bounds(*t.bounds, g["width"], g["height"]) == g["transform"]
    assert rasterio.crs.CRS.from_wkt(t.wkt).to_epsg() == 32615


# ---------------------------------------------------------------- geometry (§3.3)


def test_from_latlon_centroid_vector():
    t = DLTile.from_latlon(lat=30.0131, lon=31.2089, resolution=10, tilesize=2, pad=49)
    assert t.key == "2:49:10.0:36:-8637:166079"
    c = t.geometry.centroid
    # (computed) with the client at [M]
    assert abs(c.x - 31.208992059417817) < 1e-9 and abs(c.y - 30.013121676214197) < 1e-9
    # the old server's doctest value (SKIP in the client) agrees to a few 1e-9 degrees
    assert abs(c.x - 31.20899205942612) < 1e-8 and abs(c.y - 30.013121672688087) < 1e-8


def test_geometry_corners_match_gdal():
    pytest.importorskip("rasterio")
    from rasterio.warp import transform as gdal_transform

    for key in ["2048:16:30.0:15:3:80", "128:16:960.0:15:-1:37", "1024:0:10.0:34:-20:-370", "512:4:10.0:02:7:12"]:
        t = DLTile.from_key(key)
        xmin, ymin, xmax, ymax = t.bounds
        lons, lats = gdal_transform(t.crs, "EPSG:4326", [xmin, xmax, xmax, xmin], [ymin, ymin, ymax, ymax])
        ring = np.asarray(t.geometry.exterior.coords)[:4]
        assert np.max(np.abs(ring[:, 0] - lons)) < 1e-8
        assert np.max(np.abs(ring[:, 1] - lats)) < 1e-8


def test_geometry_is_closed_corner_polygon():
    t = DLTile.from_key("2048:16:30.0:15:3:80")
    ring = np.asarray(t.geometry.exterior.coords)
    assert ring.shape == (5, 2)
    xmin, ymin, xmax, ymax = t.bounds
    lon, lat = utm_to_lonlat([xmin, xmax, xmax, xmin, xmin], [ymin, ymin, ymax, ymax, ymin], 15)
    np.testing.assert_array_equal(ring[:, 0], lon)
    np.testing.assert_array_equal(ring[:, 1], lat)
    assert t.geometry.contains(t.geometry_unpadded)


# ---------------------------------------------------------------- from_latlon (§3.4, §3.9)


def test_from_latlon_client_centroid_test():
    t = DLTile.from_latlon(61.91, 5.26, tilesize=1, resolution=1.5, pad=99)
    assert (t.tilesize, t.pad, t.tile_extent) == (1, 99, 199)
    c = t.geometry.centroid
    assert np.allclose([c.x, c.y], [5.26, 61.91])


@pytest.mark.parametrize(
    "lat, lon, message",
    [
        (-97.635, 0, "Latitude must be between -90 and 90"),
        (0, 212.723, "Longitude must be between -180.0 and 180.0"),
        (float("nan"), 0, "Latitude"),
        (0, -180.0001, "Longitude"),
    ],
)
def test_from_latlon_invalid(lat, lon, message):
    with pytest.raises(InvalidLatLonError, match=message):
        DLTile.from_latlon(lat, lon, resolution=60.0, tilesize=512, pad=0)


def test_from_latlon_antimeridian_and_southern():
    # lon = 180 -> zone 60 (the client raises "Invalid zone")
    t = DLTile.from_latlon(10.0, 180.0, resolution=10, tilesize=1024, pad=0)
    assert t.zone == 60 and t.crs == "EPSG:32660"
    e, _ = lonlat_to_utm(180.0, 10.0, 60)
    assert t.bounds_unpadded[0] <= float(e) < t.bounds_unpadded[2]
    assert DLTile.from_latlon(10.0, -180.0, resolution=10, tilesize=1024, pad=0).zone == 1
    # southern hemisphere: north EPSG code, negative northings and rows
    s = DLTile.from_latlon(-33.9, 18.4, resolution=30, tilesize=2048, pad=0)
    assert s.crs == "EPSG:32634" and s.tj < 0
    pe, pn = pyproj.Transformer.from_crs(4326, 32634, always_xy=True).transform(18.4, -33.9)
    xmin, ymin, xmax, ymax = s.bounds
    assert xmin <= pe < xmax and ymin <= pn < ymax and ymax <= 0


def test_polar_tiles():
    n = DLTile.from_latlon(90.0, 0.0, resolution=1000, tilesize=1000, pad=0)
    assert n.zone == 31 and n.ti == 0 and n.tj == 9
    s = DLTile.from_latlon(-90.0, 0.0, resolution=1000, tilesize=1000, pad=0)
    assert s.tj == -10


# ---------------------------------------------------------------- pixel conversions (§3.5)


def test_rowcol_latlon_vectors():
    t = DLTile.from_key("2048:0:30.0:15:3:80")
    assert t.rowcol_to_latlon(row=56, col=1111) == [(44.894653081367544,), (-90.24334206726267,)]
    assert t.latlon_to_rowcol(lat=44.8, lon=-90.2) == [(403,), (1237,)]
    lats, lons = t.rowcol_to_latlon([56, 0, 2047], [1111, 0, 2047])
    assert lats[0] == 44.894653081367544 and lons[0] == -90.24334206726267
    assert t.latlon_to_rowcol(list(lats), list(lons)) == [(56, 0, 2047), (1111, 0, 2047)]
    rows, cols = t.latlon_to_rowcol(np.array([44.8, 44.8]), np.array([-90.2, -90.2]))
    assert rows == (403, 403) and cols == (1237, 1237)
    assert all(type(v) is int for v in rows) and all(type(v) is float for v in lats)


def test_rowcol_pixel_centres_match_transform():
    t = DLTile.from_key("128:16:960.0:15:-1:37")
    (lat,), (lon,) = t.rowcol_to_latlon(5, 23)
    x, y = t.transform @ (23 + 0.5, 5 + 0.5)
    pe, pn = pyproj.Transformer.from_crs(4326, 32615, always_xy=True).transform(lon, lat)
    assert abs(pe - x) < 1e-3 and abs(pn - y) < 1e-3
    assert t.latlon_to_rowcol(lat, lon) == [(5,), (23,)]  # client's latlon_conversions


def test_rowcol_polar_roundtrip():
    tile = DLTile.from_latlon(lon=0.0, lat=90.0, tilesize=1000, resolution=1000, pad=0)
    (lat,), (lon,) = tile.rowcol_to_latlon(567, 133)
    assert tile.latlon_to_rowcol(lat, lon) == [(567,), (133,)]


def test_rowcol_errors():
    tile = DLTile.from_latlon(lon=0.0, lat=90.0, tilesize=1000, resolution=1000, pad=0)
    with pytest.raises(InvalidRowColError, match="same length"):
        tile.rowcol_to_latlon([1, 1, 2, 3, 5], [42])
    with pytest.raises(InvalidRowColError, match="compatible types"):
        tile.rowcol_to_latlon([1, 2], 3)
    with pytest.raises(InvalidRowColError):
        tile.rowcol_to_latlon("a", "b")
    with pytest.raises(InvalidLatLonError, match="same length"):
        tile.latlon_to_rowcol([1.0, 2.0], [3.0])
    with pytest.raises(InvalidLatLonError, match="compatible types"):
        tile.latlon_to_rowcol(1.0, [3.0])
    with pytest.raises(InvalidLatLonError, match="finite"):
        tile.latlon_to_rowcol(float("nan"), 3.0)
    # mixing int and float scalars is fine (the client requires identical types)
    assert tile.latlon_to_rowcol(89, 0.5) == tile.latlon_to_rowcol(89.0, 0.5)


# ---------------------------------------------------------------- subtile / assign (§3.6, §3.7)


def test_subtile_vectors():
    t = DLTile.from_key("2048:0:30.0:15:3:80")
    keys = list(t.subtile(8, keys_only=True))
    assert len(keys) == 64 and all(isinstance(k, str) for k in keys)
    tiles = list(t.subtile(8))
    assert len(tiles) == 64 and tiles[0].tilesize == 256
    assert [s.key for s in tiles] == keys
    # row-major from the upper-left
    assert (tiles[0].ti, tiles[0].tj) == (24, 647) and (tiles[7].ti, tiles[7].tj) == (31, 647)
    assert (tiles[8].ti, tiles[8].tj) == (24, 646) and (tiles[63].ti, tiles[63].tj) == (31, 640)


def test_subtile_client_grid_tests():
    tile = DLTile.from_latlon(35.691544, -105.944183, resolution=1, tilesize=1024, pad=0)
    tiles = list(tile.subtile(8))
    assert len(tiles) == 64 and all(s.tilesize == 128 for s in tiles)
    tiles = list(tile.subtile(4, resolution=2, pad=13))
    assert len(tiles) == 16
    for s in tiles:
        assert np.allclose(s.tilesize * 2 * 4, 1024 * 1)
        assert s.pad == 13 and s.resolution == 2
    with pytest.raises(InvalidTileError, match="evenly divide"):
        list(tile.subtile(11))
    with pytest.raises(InvalidTileError, match="can only be subdivided"):
        list(tile.subtile(8, resolution=13))
    with pytest.raises(InvalidTileError, match="must be an integer"):
        list(tile.subtile(2.5))


def test_subtile_row_col():
    t = DLTile.from_key("2048:0:30.0:15:3:80")
    every = list(t.subtile(8))
    for r, c in [(0, 0), (3, 5), (7, 7)]:
        (one,) = list(t.subtile(8, row=r, col=c))  # the client yields nothing here
        assert one == every[r * 8 + c]
    with pytest.raises(InvalidRowColError):
        t.subtile(8, row=1)
    with pytest.raises(InvalidRowColError):
        t.subtile(8, col=1)
    with pytest.raises(IndexError):
        t.subtile(8, row=8, col=0)
    with pytest.raises(IndexError):
        t.subtile(8, row=0, col=-1)


def test_assign():
    t = DLTile.from_key("2048:16:0.2:15:3:80")
    assert t.assign() == t
    assert t.assign(0).key == "2048:0:0.2:15:3:80"
    # resolution alone keeps the ground footprint (the client keeps the tilesize and moves the tile)
    u = t.assign(resolution=0.4)
    assert (u.resolution, u.tilesize, u.pad) == (0.4, 1024, 16) and u.bounds_unpadded == pytest.approx(
        t.bounds_unpadded
    )
    assert t.assign(tilesize=512).resolution == pytest.approx(0.8)
    assert t.assign(resolution=0.8, tilesize=512).key == "512:16:0.8:15:3:80"
    with pytest.raises(InvalidTileError):
        t.assign(resolution=1, tilesize=512)  # the client's test_bad_assign
    with pytest.raises(InvalidTileError):
        t.assign(resolution=0.3)  # 409.6/0.3 is not an integer
    with pytest.raises(InvalidTileError, match="non-negative"):
        t.assign(-1)


# ---------------------------------------------------------------- from_shape (§3.8)


def test_from_shape_sf_vectors():
    keys = DLTile.from_shape(SF_FEATURE, resolution=1.5, tilesize=512, pad=0, keys_only=True)
    it = list(DLTile.iter_from_shape(SF_FEATURE, resolution=1.5, tilesize=512, pad=0, keys_only=True))
    assert len(keys) == len(it) == 14 and set(keys) == set(it)
    assert all(isinstance(k, str) for k in keys)
    tiles = DLTile.from_shape(SF_FEATURE, resolution=1, tilesize=500, pad=0)
    assert len(tiles) == 31 and all(isinstance(t, DLTile) for t in tiles)
    assert DLTile.from_key("500:0:1.0:10:94:8359") in tiles


def test_from_shape_multipolygon():
    sf = sgeom.shape(SF_FEATURE["geometry"])
    mp = sgeom.MultiPolygon([sf, shapely.affinity.translate(sf, -1.0)])
    keys = DLTile.from_shape(mp, resolution=1.5, tilesize=512, pad=0, keys_only=True)
    it = list(DLTile.iter_from_shape(mp, resolution=1.5, tilesize=512, pad=0, keys_only=True))
    assert len(keys) == len(it) == len(set(keys))
    assert set(keys) == set(it)
    # the two parts are far apart: the union of the single-polygon results
    single = set(DLTile.from_shape(sf, resolution=1.5, tilesize=512, pad=0, keys_only=True))
    shifted = set(
        DLTile.from_shape(shapely.affinity.translate(sf, -1.0), resolution=1.5, tilesize=512, pad=0, keys_only=True)
    )
    assert set(keys) == single | shifted


def _estimate(shape, width):
    from raster_core.dltile import _estimate_ntiles, _normalize_shape

    return _estimate_ntiles(_normalize_shape(shape), width)


def test_tiles_from_shape_client_counts():
    tiles = DLTile.from_shape(WISCONSIN_JSON, resolution=10, tilesize=2048, pad=16)
    assert len(tiles) == len(set(tiles)) == 116
    est = _estimate(WISCONSIN_JSON, 10 * 2048)
    assert est // 2 < len(tiles) < est * 2

    tiles = DLTile.from_shape(SF_FEATURE, resolution=1, tilesize=128, pad=8)
    assert len(tiles) == len(set(tiles)) == 325
    est = _estimate(SF_FEATURE, 128)
    assert est // 2 < len(tiles) < est * 2

    class MockWfContext:
        @property
        def __geo_interface__(self):
            return SF_FEATURE

    assert set(DLTile.from_shape(MockWfContext(), resolution=1, tilesize=128, pad=8)) == set(tiles)


def test_long_strip_coverage():
    # the client's test_dltiles_utm_buffering
    x_min, x_max, y_min, y_max = -98, -90, -66, 66
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": sgeom.mapping(sgeom.box(x_min, y_min, x_max, y_max)),
                "properties": {},
            }
        ],
    }
    counter = 0
    for tile in DLTile.iter_from_shape(fc, resolution=10.0, tilesize=4096, pad=0):
        counter += 1
        tx_min, ty_min, tx_max, ty_max = tile.geometry.bounds
        assert not (tx_max < x_min or tx_min > x_max or ty_min > y_max or ty_max < y_min)
    e0, n0 = lonlat_to_utm(x_min, y_min, lon_to_zone(x_min))
    e1, n1 = lonlat_to_utm(x_max, y_max, lon_to_zone(x_min))
    ratio = counter * (10.0 * 4096) ** 2 / ((float(e1) - float(e0)) * (float(n1) - float(n0)))
    assert ratio > 1
    assert DLTile.count_from_shape(fc, resolution=10.0, tilesize=4096) == counter


def test_from_shape_warns_on_large_estimates():
    big = sgeom.box(-10, 0, 10, 20)
    with pytest.warns(UserWarning, match="iter_from_shape"):
        DLTile.from_shape(sgeom.box(0, 0, 0.1, 0.1), resolution=1, tilesize=40, pad=0, keys_only=True)
    assert DLTile.count_from_shape(big, resolution=1000, tilesize=1000) > 0


@pytest.mark.parametrize(
    "shape",
    [
        json.dumps(SF_FEATURE),  # JSON Feature
        json.dumps([SF_FEATURE]),  # JSON list of Features
        SF_FEATURE["geometry"],  # geometry dict
        SF_FEATURE,  # Feature
        {"type": "FeatureCollection", "features": [SF_FEATURE]},
        sgeom.shape(SF_FEATURE["geometry"]),  # Polygon
        sgeom.MultiPolygon([sgeom.shape(SF_FEATURE["geometry"])]),
        [sgeom.shape(SF_FEATURE["geometry"]), SF_FEATURE],  # list (duplicates removed)
    ],
)
def test_accepted_shapes(shape):
    keys = DLTile.from_shape(shape, resolution=1.5, tilesize=512, pad=0, keys_only=True)
    assert len(keys) == 14


@pytest.mark.parametrize(
    "shape, message",
    [
        ({"type": "Point", "coordinates": [-105.01621, 39.57422]}, "polygon or multipolygon"),
        ([0, "a", None], "Could not normalize"),
        (42, "Could not normalize"),
        ("{not json", "Could not parse"),
        ({"type": "Feature", "geometry": None}, "null"),
        ({"type": "Polygon", "coordinates": "nope"}, "Could not normalize"),
        (sgeom.box(-181, 0, -179, 1), "beyond -180deg longitude"),
        (sgeom.box(179, 0, 181, 1), r"beyond \+180deg longitude"),
        (sgeom.box(0, -91, 1, 0), "beyond -90deg latitude"),
        (sgeom.box(0, 0, 1, 91), r"beyond \+90deg latitude"),
        (sgeom.LineString([(0, 0), (1, 1)]), "polygon or multipolygon"),
    ],
)
def test_invalid_shapes(shape, message):
    with pytest.raises(InvalidShapeError, match=message):
        DLTile.iter_from_shape(shape, resolution=30, tilesize=2048, pad=16)  # raised before iterating
    with pytest.raises(InvalidShapeError):
        DLTile.from_shape(shape, resolution=30, tilesize=2048, pad=16)


def test_empty_and_invalid_polygons():
    assert DLTile.from_shape(sgeom.Polygon(), resolution=30, tilesize=2048, pad=0) == []
    bowtie = sgeom.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    assert not bowtie.is_valid
    keys = DLTile.from_shape(bowtie, resolution=30, tilesize=512, pad=0, keys_only=True)
    assert set(keys) == set(
        DLTile.from_shape(shapely.make_valid(bowtie), resolution=30, tilesize=512, pad=0, keys_only=True)
    )


def test_from_shape_across_zones_and_antimeridian():
    # spans zones 59, 60 and 1: tiles of each zone, none missing
    for shape in [sgeom.box(173.5, -41.5, 180.0, -40.5), sgeom.box(-180.0, 60.0, -178.0, 61.0)]:
        keys = DLTile.from_shape(shape, resolution=60, tilesize=512, pad=0, keys_only=True)
        tiles = [DLTile.from_key(k) for k in keys]
        assert len(set(keys)) == len(keys) > 0
        for t in tiles:
            assert t.geometry_unpadded.intersects(shape) or t.zone in (1, 60)
    keys = DLTile.from_shape(sgeom.box(173.5, -41.5, 180.0, -40.5), 60, 512, 0, True)
    zones = {DLTile.from_key(k).zone for k in keys}
    assert zones == {59, 60}


def test_from_shape_at_the_pole():
    cap = sgeom.box(-6.0, 88.0, 6.0, 90.0)
    keys = DLTile.from_shape(cap, resolution=100, tilesize=500, pad=0, keys_only=True)
    assert len(keys) == len(set(keys)) > 0
    assert {DLTile.from_key(k).zone for k in keys} == {30, 31}
    # the tile holding the pole is there in both zones
    for z in (30, 31):
        pole = DLTile.from_latlon(90.0, 6.0 * z - 183.0, resolution=100, tilesize=500, pad=0)
        assert pole.key in keys


def test_from_key_accepts_a_tile():
    t = DLTile.from_key("2048:16:30.0:15:3:80")
    assert DLTile.from_key(t) is t
