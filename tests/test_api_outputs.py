"""Files the Raster API writes read right in GDAL and viewers: the source nodata carried to
the output (gdalwarp's default), alpha 0/255 tagged as alpha; the alpha band of every image."""

from __future__ import annotations

import numpy as np
import pytest

from raster_core.api import Raster
from raster_core.catalog import Catalog
from raster_core.errors import InvalidParameterError
from tests.conftest import DATA, data_file

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import ColorInterp  # noqa: E402
from rasterio.warp import Resampling, reproject  # noqa: E402


@pytest.fixture(scope="module")
def r() -> Raster:
    return Raster(DATA / "catalog")


@pytest.mark.parametrize("name", ["titiler_dem.tif", "storml_elev.tif"])
def test_raster_carries_source_nodata_like_gdalwarp(tmp_path, name):
    src = data_file(name)
    fn, meta = Raster().raster(str(src), ["1"], srs="EPSG:4326", outfile_basename=str(tmp_path / "o"))
    with rasterio.open(src) as s:
        src_nodata = s.nodata
        src_data = s.read(1)
        src_crs, src_tf = s.crs, s.transform
    with rasterio.open(fn) as o:
        assert o.nodata == src_nodata
        ours = o.read(1)
        ours_valid = o.read_masks(1) > 0
        gt, shape, crs = o.transform, o.shape, o.crs
    assert meta["bands"][0]["noDataValue"] == src_nodata
    gdal = np.full(shape, src_nodata, dtype=src_data.dtype)
    reproject(src_data, gdal, src_transform=src_tf, src_crs=src_crs, src_nodata=src_nodata,
              dst_transform=gt, dst_crs=crs, dst_nodata=src_nodata, resampling=Resampling.nearest)
    gdal_valid = gdal != src_nodata
    assert (~gdal_valid).sum() > 50  # the footprint does not cover the lon/lat grid
    agree = (ours_valid == gdal_valid).mean()
    assert agree >= 0.999, agree
    both = ours_valid & gdal_valid
    assert (ours[both] == gdal[both]).mean() >= 0.999


def test_raster_explicit_nodata_wins_and_valid_values_move_off_it(tmp_path):
    src = data_file("storml_elev.tif")
    with rasterio.open(src) as s:
        value = int(np.ma.masked_equal(s.read(1), s.nodata).compressed()[0])
    fn, meta = Raster().raster(str(src), ["1"], nodata=value, outfile_basename=str(tmp_path / "o"))
    with rasterio.open(fn) as o:
        assert o.nodata == value
        data, valid = o.read(1), o.read_masks(1) > 0
    arr, _ = Raster().ndarray(str(src), ["1"])
    expect_valid = ~np.ma.getmaskarray(arr)[..., 0]
    np.testing.assert_array_equal(valid, expect_valid)  # no valid pixel reads as nodata
    assert (data[expect_valid & (arr.data[..., 0] == value)] == value - 1).all()


def test_raster_writes_alpha_0_255_tagged_as_alpha(tmp_path, r):
    bands = ["red", "green", "blue", "alpha"]
    arr, _ = r.ndarray("landsat7-rgb:RGB.byte", bands=bands, resolution=600, data_type="Byte")
    assert set(np.unique(arr.data[..., 3])) == {0, 1}  # arrays keep the Descartes Labs 0/1
    fn, _ = r.raster("landsat7-rgb:RGB.byte", bands=bands, resolution=600, data_type="Byte",
                     outfile_basename=str(tmp_path / "rgba"))
    with rasterio.open(fn) as o:
        assert o.colorinterp[3] == ColorInterp.alpha
        alpha = o.read(4)
        assert set(np.unique(alpha)) == {0, 255}
        np.testing.assert_array_equal(alpha == 255, arr.data[..., 3] == 1)
        assert o.nodata is None  # the alpha band is the mask
        np.testing.assert_array_equal(o.dataset_mask() > 0, arr.data[..., 3] == 1)
    fn16, _ = r.raster("landsat7-rgb:RGB.byte", bands=bands, resolution=600, data_type="UInt16",
                       outfile_basename=str(tmp_path / "rgba16"))
    with rasterio.open(fn16) as o:
        assert o.colorinterp[3] == ColorInterp.alpha
        assert set(np.unique(o.read(4))) == {0, 65535}


def test_png_alpha_is_0_255(tmp_path, r):
    import imagecodecs

    fn, _ = r.raster("landsat7-rgb:RGB.byte", bands=["red", "green", "blue", "alpha"], resolution=600,
                     data_type="Byte", output_format="PNG", outfile_basename=str(tmp_path / "rgba"))
    img = imagecodecs.png_decode(open(fn, "rb").read())
    assert img.shape[-1] == 4 and set(np.unique(img[..., 3])) == {0, 255}


def test_alpha_band_of_a_geotiff_path_with_nodata_only():
    src = data_file("storml_elev.tif")
    arr, meta = Raster().ndarray(str(src), ["1", "alpha"], masked=False)
    with rasterio.open(src) as s:
        expect = s.read(1) != s.nodata
    np.testing.assert_array_equal(arr[..., 1] == 1, expect)
    assert meta["bands"][1]["colorInterpretation"] == "Alpha"
    alone, _ = Raster().ndarray(str(src), ["alpha"], masked=False)
    np.testing.assert_array_equal(alone[..., 0] == 1, expect)


def test_alpha_band_of_an_all_valid_geotiff():
    src = data_file("byte.tif")
    arr, _ = Raster().ndarray(str(src), ["1", "alpha"], masked=False)
    with rasterio.open(src) as s:
        expect = s.dataset_mask() > 0
    np.testing.assert_array_equal(arr[..., 1] == 1, expect)


def test_alpha_band_of_a_stac_item():
    src = data_file("storml_elev.tif")
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "elev", "geometry": None,
        "properties": {"datetime": "2020-01-01T00:00:00Z"},
        "assets": {"elevation": {"href": str(src), "type": "image/tiff; application=geotiff",
                                 "roles": ["data"], "raster:bands": [{"data_type": "int16", "nodata": 32767}]}},
    }
    cat = Catalog.from_stac(item)
    arr, _ = Raster(cat).ndarray("elev", ["elevation", "alpha"], masked=False)
    with rasterio.open(src) as s:
        expect = s.read(1) != s.nodata
    np.testing.assert_array_equal(arr[..., 1] == 1, expect)


def _utm_box(src):
    with rasterio.open(src) as s:
        b = s.bounds
    w, h = b.right - b.left, b.top - b.bottom
    x0, y0, x1, y1 = b.left + 0.3137 * w, b.bottom + 0.2511 * h, b.left + 0.7023 * w, b.bottom + 0.6047 * h
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0 + 0.1013 * w, y1], [x0, y0]]]}


def test_cutline_srs_matches_gdal_cutline_in_the_source_crs():
    from rasterio.features import geometry_mask

    src = data_file("RGB.byte.tif")
    poly = _utm_box(src)
    arr, _ = Raster().ndarray(str(src), ["1"], cutline=poly, cutline_srs="EPSG:32618",
                              bounds=_bounds(src), resolution=_res(src))
    with rasterio.open(src) as s:
        data = s.read(1)
        inside = ~geometry_mask([poly], out_shape=s.shape, transform=s.transform)  # pixel centres, as GDAL
    expect_valid = inside & (data != 0)
    assert expect_valid.sum() > 1000
    np.testing.assert_array_equal(~np.ma.getmaskarray(arr)[..., 0], expect_valid)
    with_member = dict(poly, crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32618"}})
    arr2, _ = Raster().ndarray(str(src), ["1"], cutline=with_member, bounds=_bounds(src), resolution=_res(src))
    np.testing.assert_array_equal(np.ma.getmaskarray(arr2), np.ma.getmaskarray(arr))


def _bounds(src):
    with rasterio.open(src) as s:
        return tuple(s.bounds)


def _res(src):
    with rasterio.open(src) as s:
        return s.res[0]


def test_projected_cutline_without_crs_says_so():
    from raster_core.errors import GeometryError

    src = data_file("RGB.byte.tif")
    with pytest.raises(GeometryError, match="look projected.*cutline_srs"):
        Raster().ndarray(str(src), ["1"], cutline=_utm_box(src), resolution=600)


def test_cli_cutline_srs(tmp_path):
    import json

    from raster_core.cli import main

    src = data_file("RGB.byte.tif")
    poly = _utm_box(src)
    geo = tmp_path / "cut.geojson"
    geo.write_text(json.dumps(poly))
    out = tmp_path / "o"
    assert main(["raster", str(src), "--bands", "1", "--cutline", str(geo), "--cutline-srs", "EPSG:32618",
                 "--bounds", *map(str, _bounds(src)), "--resolution", repr(_res(src)),
                 "--outfile-basename", str(out)]) == 0
    arr, _ = Raster().ndarray(str(src), ["1"], cutline=poly, cutline_srs="EPSG:32618", bounds=_bounds(src),
                              resolution=_res(src))
    with rasterio.open(str(out) + ".tif") as o:
        np.testing.assert_array_equal(o.read_masks(1) > 0, ~np.ma.getmaskarray(arr)[..., 0])
    assert main(["raster", str(src), "--bands", "1", "--cutline", str(geo), "--resolution", "600",
                 "--outfile-basename", str(tmp_path / "bad")]) == 1
    assert not (tmp_path / "bad.tif").exists()


# ----------------------------------------------------------------------------- progress, stack, metadata
def _no_tqdm(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)  # an import of tqdm then fails, as when it is missing
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def test_progress_without_tqdm_prints_a_line(monkeypatch, capsys):
    _no_tqdm(monkeypatch)
    src = str(data_file("RGB.byte.tif"))
    Raster(num_threads=2).ndarray([src, src], ["1"], srs="EPSG:4326", resolution=0.01, progress=True)
    err = capsys.readouterr().err
    assert "raster_core ndarray: 2/2 images" in err
    Raster().ndarray(src, ["1"], resolution=600, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_reports_blocks_of_a_single_image():
    import io

    from raster_core._parallel import on_block, run_blocks
    from raster_core._progress import Progress

    out = io.StringIO()
    p = Progress(1, "ndarray", stream=out, use_tqdm=False, min_interval=0.0)
    with on_block(p.block):
        run_blocks(lambda a, b: None, [(i, i + 1) for i in range(5)], num_threads=2)
    p.advance()
    p.close()
    text = out.getvalue()
    assert "block 5/5" in text and text.endswith("1/1 images\n")


def test_stack_and_cli_progress_without_tqdm(monkeypatch, capsys, tmp_path):
    from raster_core.cli import main

    _no_tqdm(monkeypatch)
    src = str(data_file("byte.tif"))
    Raster().stack([src, src], ["1"], srs="EPSG:26711", bounds=(440720, 3750120, 441920, 3751320), resolution=60,
                   progress=True)
    assert "raster_core stack: 2/2 images" in capsys.readouterr().err
    assert main(["raster", src, "--bands", "1", "--progress", "--outfile-basename", str(tmp_path / "o")]) == 0
    assert "raster_core raster: 1/1 images" in capsys.readouterr().err
    assert main(["stack", src, src, "--bands", "1", "--srs", "EPSG:26711", "--resolution", "60", "--bounds",
                 "440720", "3750120", "441920", "3751320", "--progress", "--out", str(tmp_path / "s")]) == 0
    assert "raster_core stack: 2/2 images" in capsys.readouterr().err


def test_load_progress_without_tqdm(monkeypatch, capsys):
    import raster_core

    _no_tqdm(monkeypatch)
    src = str(data_file("byte.tif"))
    grid = dict(srs="EPSG:26711", bounds=(440720, 3750120, 441920, 3751320), resolution=60)
    quiet = raster_core.load([src, src], ["1"], **grid)
    assert capsys.readouterr().err == ""
    loud = raster_core.load([src, src], ["1"], progress=True, **grid)
    assert "raster_core load: 2/2 images" in capsys.readouterr().err
    np.testing.assert_array_equal(loud.values, quiet.values)
    single = raster_core.load([src], ["1"], progress=True, **grid)  # one step: its blocks advance the line
    assert capsys.readouterr().err.endswith("raster_core load: 1/1 images\n")
    np.testing.assert_array_equal(single.values, quiet.values[:1])
    lazy = raster_core.load([src, src], ["1"], progress=True, chunks={"y": 10}, **grid)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dask.diagnostics.ProgressBar" in err
    np.testing.assert_array_equal(lazy.compute(scheduler="sync").values, quiet.values)
    with pytest.raises(InvalidParameterError):
        raster_core.load([src], ["1"], progress="yes", **grid)


def test_stack_default_uint16_warns_once_when_it_changes_values():
    import warnings

    dem = str(data_file("titiler_dem.tif"))  # Float32
    kw = dict(srs="EPSG:2056", bounds=(2600000, 1199000, 2601000, 1200000), resolution=100)
    with pytest.warns(UserWarning, match="Float32.*UInt16") as record:
        Raster().stack([dem, dem], ["1"], **kw)
    assert len([w for w in record if "UInt16" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Raster().stack([dem], ["1"], data_type="UInt16", **kw)  # chosen explicitly: no warning
        Raster().stack([dem], ["1"], data_type="Float32", **kw)
        byte = str(data_file("byte.tif"))
        Raster().stack([byte], ["1"], srs="EPSG:26711", bounds=(440720, 3750120, 441920, 3751320), resolution=60)


def test_metadata_has_the_acquisition_time():
    src = data_file("storml_elev.tif")
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "elev", "geometry": None,
        "properties": {"datetime": "2020-01-01T10:20:30Z"},
        "assets": {"elevation": {"href": str(src), "type": "image/tiff; application=geotiff", "roles": ["data"]}},
    }
    r = Raster(Catalog.from_stac(item))
    _, meta = r.ndarray("elev", ["elevation"])
    assert meta["acquired"] == "2020-01-01T10:20:30Z"
    _, metas = r.stack(["elev"], ["elevation"], data_type="Int16", resolution=30, srs="EPSG:26912",
                       bounds=_bounds(src))
    assert metas[0]["acquired"] == "2020-01-01T10:20:30Z"
    _, meta = Raster().ndarray(str(src), ["1"])
    assert "acquired" not in meta  # unknown for a plain GeoTIFF path
