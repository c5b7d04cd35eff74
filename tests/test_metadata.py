"""The metadata dict (spec §1.6), against the spec's real examples, the guide and rasterio."""

from __future__ import annotations

import json

import pyproj
import pytest

from raster_core.bands import Band
from raster_core.errors import CRSError, InvalidParameterError, TransformError
from raster_core.metadata import build_metadata, color_interpretation, coordinate_system, corner_coordinates
from tests.conftest import data_file

rasterio = pytest.importorskip("rasterio")

RGBA_BANDS = [
    Band("red", data_type="UInt16", data_range=(0, 10000), display_range=(0, 4000), physical_range=(0.0, 1.0),
         colorinterp="red", properties={"tags": ["spectral", "red", "15m", "landsat"]}),
    Band("green", data_type="UInt16", data_range=(0, 10000), display_range=(0, 4000), physical_range=(0.0, 1.0)),
    Band("blue", data_type="UInt16", data_range=(0, 10000), display_range=(0, 4000), physical_range=(0.0, 1.0)),
    Band("alpha", type="mask", data_type="UInt16", data_range=(0, 1), display_range=(0, 1)),
]


def test_spec_example_1():
    """[M] mock_data.py: Landsat 8 at 1000 m, UTM 15N, (4, 239, 235)."""
    md = build_metadata("EPSG:32615", [258292.5, 1000.0, 0.0, 4743307.5, 0.0, -1000.0], 235, 239,
                        bands=RGBA_BANDS, data_type="UInt16", ids=["landsat:LC08:PRE:TOAR:meta_LC80270312016188_v1"],
                        alpha_last=True)
    assert md["geoTransform"] == [258292.5, 1000.0, 0.0, 4743307.5, 0.0, -1000.0]
    assert md["size"] == [235, 239]
    assert md["cornerCoordinates"] == {
        "upperLeft": [258292.5, 4743307.5], "upperRight": [493292.5, 4743307.5],
        "lowerLeft": [258292.5, 4504307.5], "lowerRight": [493292.5, 4504307.5], "center": [375792.5, 4623807.5],
    }
    assert md["wgs84Extent"] == {"type": "Polygon", "coordinates": [[
        [-95.9559596, 42.8041728], [-95.8589268, 40.654253], [-93.0793836, 40.6896344],
        [-93.0820826, 42.8423136], [-95.9559596, 42.8041728]]]}
    assert md["coordinateSystem"]["wkt"].startswith('PROJCS["WGS 84 / UTM zone 15N"')
    assert md["coordinateSystem"]["wkt"].endswith('AUTHORITY["EPSG","32615"]]')
    assert md["coordinateSystem"]["epsg"] == 32615
    assert md["coordinateSystem"]["dataAxisToSRSAxisMapping"] == [1, 2]
    assert md["driverShortName"] == "MEM" and md["driverLongName"] == "In Memory Raster" and md["files"] == []
    b0, b3 = md["bands"][0], md["bands"][3]
    assert (b0["band"], b0["type"], b0["colorInterpretation"]) == (1, "UInt16", "Red")
    assert b0["mask"] == {"flags": ["PER_DATASET", "ALPHA"], "overviews": []}
    d0 = b0["description"]
    assert (d0["name"], d0["dtype"], d0["data_range"], d0["default_range"], d0["physical_range"], d0["nodata"],
            d0["type"]) == ("red", "UInt16", [0, 10000], [0, 4000], [0.0, 1.0], None, "spectral")
    assert d0["tags"] == ["spectral", "red", "15m", "landsat"]
    assert (b3["band"], b3["colorInterpretation"]) == (4, "Alpha") and "mask" not in b3
    d3 = b3["description"]
    assert (d3["name"], d3["type"], d3["data_range"], d3["default_range"], d3["dtype"]) == (
        "alpha", "mask", [0, 1], [0, 1], "UInt16")
    assert md["id"] == "landsat:LC08:PRE:TOAR:meta_LC80270312016188_v1"
    json.dumps(md)  # JSON-serialisable throughout


def test_spec_example_2_extent_and_gdal_metadata():
    """[M] e2e test_geotiff_simple: the source VRT at 15 m (its size is the source size)."""
    md = build_metadata("EPSG:32615", (258292.5, 15.0, 0.0, 4743307.5, 0.0, -15.0), 15696, 15960,
                        bands=["red"], data_type="UInt16")
    assert md["wgs84Extent"]["coordinates"][0] == [
        [-95.9559596, 42.8041728], [-95.858773, 40.650654], [-93.0741722, 40.6860344], [-93.0766981, 42.8423173],
        [-95.9559596, 42.8041728]]
    assert md["metadata"] == {"GEOGCS": "WGS 84", "GEOGCS|DATUM": "WGS_1984", "GEOGCS|PRIMEM": "Greenwich",
                              "GEOGCS|SPHEROID": "WGS 84", "PROJCS": "WGS 84 / UTM zone 15N"}
    assert md["bands"][0]["colorInterpretation"] == "Red" and md["bands"][0]["description"] == {"name": "red"}
    assert "id" not in md


def test_spec_example_3_coordinate_system():
    cs = build_metadata("EPSG:4326", [-99.98, 0.0125, 0.0, 41.13, 0.0, -0.0125], 720, 641,
                        bands=[{"name": "b", "nodata": -99.0}], data_type="Float32", nodata=-99.0)
    assert cs["coordinateSystem"]["epsg"] == 4326
    assert cs["coordinateSystem"]["proj4"] == "+proj=longlat +datum=WGS84 +no_defs"
    assert cs["coordinateSystem"]["dataAxisToSRSAxisMapping"] == [2, 1]
    assert cs["coordinateSystem"]["wkt"].startswith('GEOGCS["WGS 84"')
    assert cs["bands"][0]["noDataValue"] == -99.0 and cs["bands"][0]["description"]["nodata"] == -99.0
    assert "PROJCS" not in cs["metadata"] and cs["metadata"]["GEOGCS"] == "WGS 84"


def test_guide_align_pixels_corners():
    """The guide's align_pixels example: corner coordinates it prints, and (1000, 500) / (1001, 501)."""
    md = build_metadata("EPSG:32615", (300000.5, 200.0, 0.0, 3200000.25, 0.0, -200.0), 500, 1000,
                        bands=["vv", "vh"], data_type="Float32")
    cc = md["cornerCoordinates"]
    assert (cc["upperLeft"], cc["lowerRight"]) == ([300000.5, 3200000.25], [400000.5, 3000000.25])
    md = build_metadata("EPSG:32615", (300000.0, 200.0, 0.0, 3200200.0, 0.0, -200.0), 501, 1001,
                        bands=["vv", "vh"], data_type="Float32")
    cc = md["cornerCoordinates"]
    assert (cc["upperLeft"], cc["lowerRight"]) == ([300000.0, 3200200.0], [400200.0, 3000000.0])
    assert md["size"] == [501, 1001]
    assert [b["colorInterpretation"] for b in md["bands"]] == ["Undefined", "Undefined"]


def test_guide_wgs84_geotransform_is_a_list():
    md = build_metadata("EPSG:4326", (-144.84256570972653, 0.001, 0.0, 62.22092380677686, 0.0, -0.001), 10, 10,
                        bands=["red"], data_type="Byte")
    assert md["geoTransform"] == [-144.84256570972653, 0.001, 0.0, 62.22092380677686, 0.0, -0.001]


@pytest.mark.parametrize("name", ["RGB.byte.tif", "titiler_dem.tif", "south-up.tif", "storml_tcc.tif",
                                  "rasterstats_slope.tif", "nt_20201024_f18_nrt_s.tif"])
def test_grid_metadata_matches_rasterio(name):
    path = data_file(name)
    with rasterio.open(path) as ds:
        md = build_metadata(ds.crs.to_wkt(), ds.transform, ds.width, ds.height,
                            bands=[{"colorinterp": c.name} for c in ds.colorinterp], data_type=ds.dtypes[0])
        left, bottom, right, top = ds.bounds
        xs = sorted([md["cornerCoordinates"][k][0] for k in ("upperLeft", "lowerRight")])
        ys = sorted([md["cornerCoordinates"][k][1] for k in ("upperLeft", "lowerRight")])
        assert xs == pytest.approx(sorted([left, right]), abs=1e-9)
        assert ys == pytest.approx(sorted([bottom, top]), abs=1e-9)
        assert md["geoTransform"] == list(ds.transform.to_gdal())
        assert md["size"] == [ds.width, ds.height]
        assert pyproj.CRS(md["coordinateSystem"]["wkt"]).equals(pyproj.CRS(ds.crs.to_wkt()), ignore_axis_order=True)
        assert md["coordinateSystem"]["epsg"] == pyproj.CRS(ds.crs.to_wkt()).to_epsg()
        gdal_ci = [c.name for c in ds.colorinterp]
        assert [b["colorInterpretation"].lower() for b in md["bands"]] == [
            "undefined" if c == "undefined" else c for c in gdal_ci]
        # wgs84Extent = rasterio's transform of the four corners
        from rasterio.warp import transform as rio_transform

        ring = md["wgs84Extent"]["coordinates"][0]
        order = ("upperLeft", "lowerLeft", "lowerRight", "upperRight")
        lon, lat = rio_transform(ds.crs, "EPSG:4326", [md["cornerCoordinates"][k][0] for k in order],
                                 [md["cornerCoordinates"][k][1] for k in order])
        assert ring[:4] == [[round(x, 7), round(y, 7)] for x, y in zip(lon, lat, strict=True)]
        assert ring[4] == ring[0]


def test_helpers_and_errors():
    assert corner_coordinates((10, 2, 0, 20, 0, -2), 1, 1)["center"] == [11.0, 19.0]
    assert color_interpretation(Band("x", colorinterp="gray")) == "Gray"
    assert color_interpretation({"name": "blue"}) == "Blue"
    assert color_interpretation(None, "nir") == "Undefined"
    assert coordinate_system("EPSG:3857")["epsg"] == 3857
    common = dict(bands=["a"], data_type="Byte")
    with pytest.raises(InvalidParameterError, match="size"):
        build_metadata("EPSG:4326", (0, 1, 0, 0, 0, -1), 0, 5, **common)
    with pytest.raises(InvalidParameterError, match="size"):
        build_metadata("EPSG:4326", (0, 1, 0, 0, 0, -1), 2.5, 5, **common)
    with pytest.raises(CRSError):
        build_metadata("EPSG:999999", (0, 1, 0, 0, 0, -1), 1, 1, **common)
    with pytest.raises(TransformError):
        build_metadata("EPSG:4326", (0, 0, 0, 0, 0, 0), 1, 1, **common)
    with pytest.raises(InvalidParameterError, match="data_type"):
        build_metadata("EPSG:4326", (0, 1, 0, 0, 0, -1), 1, 1, bands=["a"], data_type="Int64")
    with pytest.raises(InvalidParameterError, match="names"):
        build_metadata("EPSG:4326", (0, 1, 0, 0, 0, -1), 1, 1, bands=["a"], data_type="Byte", band_names=["a", "b"])
    md = build_metadata("EPSG:4326", (0, 1, 0, 0, 0, -1), 1, 1, bands=[RGBA_BANDS[0]], data_type="Byte",
                        band_names=["rouge"], ids="one")
    assert md["bands"][0]["description"]["name"] == "red" and md["id"] == "one"
    # a projection whose corners cannot be expressed in lon/lat drops wgs84Extent
    geos = "+proj=geos +lon_0=-75 +h=35786023 +sweep=x +ellps=GRS80"
    md = build_metadata(geos, (-5434895.08, 20054.96, 0, 5434895.08, 0, -20054.96), 542, 542, **common)
    assert "wgs84Extent" not in md
