"""raster-core raster / stack / dltile: the CLI gives exactly what the Raster API gives.

Every command runs in-process (``main([...])``) on the bundled data; the files written are
read back with rasterio (the test oracle) and compared with ``raster_core.Raster`` results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from raster_core import Raster
from raster_core.cli import _parse_scales, build_parser, main
from raster_core.dltile import DLTile
from tests._io_helpers import rio_crs_to_pyproj, rio_open
from tests.conftest import DATA, ROOT

RGB = str(DATA / "RGB.byte.tif")
SUBA = str(DATA / "rgbn_suba.tif")
SUBB = str(DATA / "rgbn_subb.tif")
CATALOG = str(DATA / "catalog")
BOX_UTM = str(DATA / "vector" / "RGB.byte_box_utm18n.geojson")
# a lon/lat triangle inside RGB.byte.tif
TRIANGLE = {"type": "Polygon", "coordinates": [[[-78.6, 24.0], [-77.2, 23.9], [-77.9, 25.0], [-78.6, 24.0]]]}
# a UTM 18N window covering both rgbn scenes
RGBN_BOUNDS = ["792900", "2048800", "795200", "2050200"]


def run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_same_grid(path, meta):
    """The GeoTIFF at ``path`` has the grid and CRS of the metadata (read by rasterio)."""
    with rio_open(path) as g:
        assert [g.width, g.height] == meta["size"]
        assert np.allclose(g.transform.to_gdal(), meta["geoTransform"], rtol=0, atol=1e-9)
        import pyproj

        assert rio_crs_to_pyproj(g.crs).equals(pyproj.CRS.from_wkt(meta["coordinateSystem"]["wkt"]),
                                               ignore_axis_order=True)
        return g.read()


# --------------------------------------------------------------------------- raster
def test_raster_geotiff_equals_api(capsys, tmp_path):
    base = str(tmp_path / "a" / "b" / "rgb_4326")  # nested folders that do not exist yet
    code, out, err = run(capsys, ["raster", RGB, "--bands", "red", "green", "blue", "--srs", "EPSG:4326",
                                  "--resolution", "0.01", "--outfile-basename", base, "--metadata"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == base + ".tif"
    meta = json.loads("\n".join(lines[1:]))
    arr, api_meta = Raster().ndarray(RGB, ["red", "green", "blue"], srs="EPSG:4326", resolution=0.01,
                                     order="gdal")
    assert meta["size"] == api_meta["size"]
    assert meta["geoTransform"] == pytest.approx(api_meta["geoTransform"], rel=0, abs=0)
    pixels = assert_same_grid(base + ".tif", api_meta)
    np.testing.assert_array_equal(pixels, np.ma.getdata(arr))
    assert not [p for p in os.listdir(tmp_path / "a" / "b") if p.endswith(".tmp")]


def test_quick_start_command(tmp_path, monkeypatch):
    """The README Quick start's main job, as a real process with the console entry point's module."""
    monkeypatch.chdir(tmp_path)
    os.symlink(DATA, tmp_path / "data")
    cmd = [sys.executable, "-m", "raster_core.cli", "raster", "data/RGB.byte.tif", "--bands", "red", "green",
           "blue", "--srs", "EPSG:4326", "--resolution", "0.003", "--outfile-basename", "out/rgb_4326"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ,
                                                                                 "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "out/rgb_4326.tif"
    with rio_open(tmp_path / "out" / "rgb_4326.tif") as g:
        assert g.crs.to_epsg() == 4326 and g.count == 3 and g.res == pytest.approx((0.003, 0.003))
        assert (g.width, g.height) == (794, 662)


def test_quick_start_equals_gdal(capsys, tmp_path):
    """The Quick start warp (with --nodata 0 so that GDAL sees the mask) is gdalwarp's, pixel for pixel;
    the catalog variant with an alpha band has the same RGB and alpha = valid."""
    import rasterio.warp
    from rasterio.enums import Resampling

    base = str(tmp_path / "out" / "rgb_4326")
    grid = ["--srs", "EPSG:4326", "--resolution", "0.003"]
    code, _, err = run(capsys, ["raster", RGB, "--bands", "red", "green", "blue", *grid, "--nodata", "0",
                                "--outfile-basename", base])
    assert code == 0, err
    with rio_open(base + ".tif") as g:
        ours, tf, crs = g.read(), g.transform, g.crs
        assert g.nodata == 0 and g.mask_flag_enums[0] == [rasterio.enums.MaskFlags.nodata]
    ref = np.zeros_like(ours)
    with rio_open(RGB) as s:
        rasterio.warp.reproject(s.read(), ref, src_transform=s.transform, src_crs=s.crs, src_nodata=0,
                                dst_transform=tf, dst_crs=crs, dst_nodata=0, resampling=Resampling.nearest)
    np.testing.assert_array_equal(ours, ref)

    code, _, err = run(capsys, ["raster", "landsat7-rgb:RGB.byte", "--catalog", CATALOG, "--bands", "red", "green",
                                "blue", "alpha", *grid, "--outfile-basename", base + "_alpha"])
    assert code == 0, err
    with rio_open(base + "_alpha.tif") as g:
        rgba = g.read()
        assert [c.name for c in g.colorinterp] == ["red", "green", "blue", "alpha"]
    np.testing.assert_array_equal(rgba[:3], ref)
    np.testing.assert_array_equal(rgba[3], np.where((ref != 0).any(axis=0), 255, 0))  # GDAL's alpha: 0/255


def test_catalog_alpha_png(capsys, tmp_path):
    base = str(tmp_path / "rgba")
    code, out, err = run(capsys, ["raster", "landsat7-rgb:RGB.byte", "--catalog", CATALOG, "--bands", "red",
                                  "green", "blue", "alpha", "--resolution", "1200", "--output-format", "PNG",
                                  "--outfile-basename", base])
    assert code == 0, err
    assert out.strip() == base + ".png"
    arr, _ = Raster(CATALOG).ndarray("landsat7-rgb:RGB.byte", ["red", "green", "blue", "alpha"], resolution=1200,
                                     masked=False)
    import imagecodecs

    png = imagecodecs.png_decode(open(base + ".png", "rb").read())
    np.testing.assert_array_equal(png[..., :3], arr[..., :3])
    np.testing.assert_array_equal(png[..., 3], arr[..., 3] * 255)  # files: 0/255, arrays: 0/1
    assert set(np.unique(png[..., 3])) == {0, 255}


def test_scales_data_type_cutline_file_and_literal(capsys, tmp_path):
    api, _ = Raster().ndarray(RGB, ["red", "green", "blue"], scales=[[0, 200], [0, 200], [0, 200, 10, 20]],
                              data_type="Byte", cutline=TRIANGLE, resolution=900, order="gdal")
    cut = tmp_path / "tri.geojson"
    cut.write_text(json.dumps(TRIANGLE))
    for i, cutline in enumerate([str(cut), json.dumps(TRIANGLE), "POLYGON ((-78.6 24, -77.2 23.9, -77.9 25, "
                                                                  "-78.6 24))"]):
        base = str(tmp_path / f"s{i}")
        code, _, err = run(capsys, ["raster", RGB, "--bands", "red,green", "blue", "--scales", "0,200 0,200",
                                    "0,200,10,20", "--data-type", "Byte", "--cutline", cutline, "--resolution",
                                    "900", "--outfile-basename", base, "--nodata", "255"])
        assert code == 0, err
        with rio_open(base + ".tif") as g:
            assert g.nodata == 255 and g.dtypes[0] == "uint8"
            pixels = g.read()
        # valid values equal to the nodata move one below it (GDAL's dst-nodata rule)
        valid_values = np.where(np.ma.getdata(api) == 255, 254, np.ma.getdata(api))
        expected = np.where(np.ma.getmaskarray(api), 255, valid_values)
        np.testing.assert_array_equal(pixels, expected)
        assert 0 < np.ma.getmaskarray(api).mean() < 1


@pytest.mark.parametrize("extra", [
    ["--bounds", "300000.5", "2600000.25", "350000.5", "2700000.25", "--resolution", "2000"],
    ["--bounds", "300000.5", "2600000.25", "350000.5", "2700000.25", "--resolution", "2000", "--align-pixels"],
    ["--dimensions", "60", "40"],
    ["--bounds", "-78", "24", "-77.5", "24.5", "--bounds-srs", "EPSG:4326", "--resolution", "1000",
     "--resampler", "bilinear"],
    ["--cutline", BOX_UTM, "--cutline-all-touched", "--resolution", "3000"],
    ["--dltile", "256:0:240.0:18:-1:10"],
])
def test_grid_options_match_api(capsys, tmp_path, extra):
    base = str(tmp_path / "g")
    code, out, err = run(capsys, ["raster", RGB, "--bands", "1", "2", "--outfile-basename", base, "--metadata",
                                  "--compact", *extra])
    assert code == 0, err
    meta = json.loads(out.splitlines()[1])
    kw = {"bounds": None, "resolution": None}
    args = list(extra)
    if "--bounds" in args:
        i = args.index("--bounds")
        kw["bounds"] = tuple(float(v) for v in args[i + 1:i + 5])
    if "--resolution" in args:
        kw["resolution"] = float(args[args.index("--resolution") + 1])
    if "--dimensions" in args:
        i = args.index("--dimensions")
        kw["dimensions"] = (int(args[i + 1]), int(args[i + 2]))
    if "--bounds-srs" in args:
        kw["bounds_srs"] = args[args.index("--bounds-srs") + 1]
    if "--resampler" in args:
        kw["resampler"] = args[args.index("--resampler") + 1]
    if "--align-pixels" in args:
        kw["align_pixels"] = True
    if "--cutline" in args:
        kw["cutline"] = open(args[args.index("--cutline") + 1]).read()
        kw["cutline_all_touched"] = True
    if "--dltile" in args:
        kw["dltile"] = args[args.index("--dltile") + 1]
    arr, api_meta = Raster().ndarray(RGB, ["1", "2"], order="gdal", **kw)
    assert meta["size"] == api_meta["size"]
    assert meta["cornerCoordinates"] == api_meta["cornerCoordinates"]
    pixels = assert_same_grid(base + ".tif", api_meta)
    np.testing.assert_array_equal(pixels, np.ma.getdata(arr))


def test_align_pixels_guide_numbers(capsys, tmp_path):
    """The guide's align_pixels example grid (bounds in fractions of a metre, 200 m)."""
    bounds = ["300000.5", "2600000.25", "400000.5", "2800000.25"]
    shapes = []
    for tap in ([], ["--align-pixels"]):
        code, out, err = run(capsys, ["raster", RGB, "--bands", "1", "--bounds", *bounds, "--resolution", "200",
                                      "--outfile-basename", str(tmp_path / "t"), "--metadata", *tap])
        assert code == 0, err
        meta = json.loads(out.split("\n", 1)[1])
        shapes.append((meta["size"][1], meta["size"][0]))
        cc = meta["cornerCoordinates"]
        if tap:
            assert cc["upperLeft"] == [300000.0, 2800200.0] and cc["lowerRight"] == [400200.0, 2600000.0]
        else:
            assert cc["upperLeft"] == [300000.5, 2800000.25] and cc["lowerRight"] == [400000.5, 2600000.25]
    assert shapes == [(1000, 500), (1001, 501)]


def test_default_basename(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, ["raster", RGB, "--bands", "red", "--resolution", "3000"])
    assert code == 0, err
    assert out.strip() == "RGB.byte-red.tif" and (tmp_path / "RGB.byte-red.tif").exists()


@pytest.mark.parametrize("argv, message", [
    (["--bands", "red", "green", "blue", "alfa"], "band 'alfa' is not available"),
    (["--bands", "nir"], "band 'nir'"),
    (["--bands", "red", "--scales", "0,4000", "0,1"], "scales"),
    (["--bands", "red", "--scales", "0,x"], "--scales"),
    (["--bands", "red", "--scales", "0,1,2"], "2 or 4"),
    (["--bands", "red", "--resolution", "-5"], "resolution"),
    (["--bands", "red", "--resolution", "10", "--dimensions", "10", "10"], ""),
    (["--bands", "red", "--srs", "EPSG:999999"], ""),
    (["--bands", "red", "--resampler", "sinc"], "sinc"),
    (["--bands", "red", "--data-type", "Int128"], "Int128"),
    (["--bands", "red", "--cutline", "POLYGON ((0 0, 1 1"], "cutline"),
    (["--bands", "red", "green", "--output-format", "JPEG"], "JPEG"),
    (["--bands", "red", "--output-format", "BMP"], "output_format"),
    (["--bands", "red", "--max-pixels", "100"], ""),
])
def test_bad_inputs_write_nothing(capsys, tmp_path, argv, message):
    base = tmp_path / "new" / "folder" / "x"
    code, out, err = run(capsys, ["raster", RGB, "--outfile-basename", str(base), *argv])
    assert code == 1
    assert out == ""
    assert err.startswith("raster-core raster: error: ") and message in err
    assert "Traceback" not in err
    assert not (tmp_path / "new").exists()  # the output folder is not left behind either


def test_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, ["raster", str(tmp_path / "nope.tif"), "--bands", "1", "--outfile-basename",
                                str(tmp_path / "x")])
    assert code == 1 and "error" in err and os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- stack
def test_stack_npy_equals_api(capsys, tmp_path):
    out_prefix = str(tmp_path / "st" / "rgbn")
    code, out, err = run(capsys, ["stack", SUBA, SUBB, f"{SUBA}+{SUBB}", "--bands", "1", "2", "3", "--srs",
                                  "EPSG:32618", "--resolution", "20", "--bounds", *RGBN_BOUNDS, "--out", out_prefix,
                                  "--mask", "--data-type", "Byte", "--order", "gdal"])
    assert code == 0, err
    assert out.split() == [out_prefix + ".npy", out_prefix + ".mask.npy", out_prefix + ".json"]
    arr, metas = Raster().stack([SUBA, SUBB, [SUBA, SUBB]], ["1", "2", "3"], srs="EPSG:32618", resolution=20,
                                bounds=tuple(map(float, RGBN_BOUNDS)), order="gdal", data_type="Byte")
    data = np.load(out_prefix + ".npy")
    mask = np.load(out_prefix + ".mask.npy")
    assert data.shape == (3, 3, 70, 115) and data.dtype == np.uint8
    np.testing.assert_array_equal(data, np.ma.getdata(arr))
    np.testing.assert_array_equal(mask, np.ma.getmaskarray(arr))
    assert 0 < mask[0].mean() < 1 and mask[2].sum() < mask[0].sum()  # the mosaic layer covers more
    saved = json.loads(open(out_prefix + ".json").read())
    assert [m["size"] for m in saved] == [m["size"] for m in metas]
    assert [m["geoTransform"] for m in saved] == [list(m["geoTransform"]) for m in metas]


def test_stack_image_order_and_gtiff(capsys, tmp_path):
    prefix = str(tmp_path / "img")
    common = ["--bands", "1", "2", "--srs", "EPSG:32618", "--resolution", "40", "--bounds", *RGBN_BOUNDS]
    code, _, err = run(capsys, ["stack", SUBA, SUBB, *common, "--out", prefix])  # default order: image
    assert code == 0, err
    arr, metas = Raster().stack([SUBA, SUBB], ["1", "2"], srs="EPSG:32618", resolution=40,
                                bounds=tuple(map(float, RGBN_BOUNDS)))
    data = np.load(prefix + ".npy")
    assert data.dtype == np.uint16 and data.shape == arr.shape  # the client's stack default: UInt16
    np.testing.assert_array_equal(data, np.ma.getdata(arr))

    prefix = str(tmp_path / "tif")
    code, out, err = run(capsys, ["stack", SUBA, SUBB, *common, "--out", prefix, "--format", "gtiff",
                                  "--nodata", "65535", "--max-workers", "2"])
    assert code == 0, err
    assert out.split() == [prefix + "_000.tif", prefix + "_001.tif", prefix + ".json"]
    for i in range(2):
        pixels = assert_same_grid(f"{prefix}_{i:03d}.tif", metas[i])
        layer = arr[i].transpose(2, 0, 1)
        np.testing.assert_array_equal(pixels, np.ma.filled(layer, 65535))


def test_stack_gtiff_carries_source_nodata_as_raster_does(capsys, tmp_path):
    dem = str(DATA / "storml_elev.tif")  # Int16, nodata 32767
    fn, meta = Raster().raster(dem, ["1"], srs="EPSG:4326", data_type="Int16",
                               outfile_basename=str(tmp_path / "one"))
    gt, (w, h) = meta["geoTransform"], meta["size"]
    bounds = [gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1], gt[3]]
    grid = dict(srs="EPSG:4326", bounds=tuple(bounds), dimensions=(w, h), data_type="Int16")
    prefix = str(tmp_path / "dem")
    code, _, err = run(capsys, ["stack", dem, dem, "--bands", "1", "--srs", "EPSG:4326", "--bounds",
                                *map(repr, bounds), "--dimensions", str(w), str(h), "--data-type", "Int16",
                                "--format", "gtiff", "--out", prefix])
    assert code == 0, err
    arr, _ = Raster().stack([dem, dem], ["1"], order="gdal", **grid)
    with rio_open(fn) as o:
        one, one_valid = o.read(1), o.read_masks(1) > 0
    written = json.loads(open(prefix + ".json").read())
    for i in range(2):
        with rio_open(f"{prefix}_{i:03d}.tif") as o:
            assert o.nodata == 32767 and o.shape == (h, w)
            pixels, valid = o.read(1), o.read_masks(1) > 0
        mask = np.ma.getmaskarray(arr[i, 0])
        assert mask.any() and not mask.all()  # the lon/lat grid goes past the footprint
        np.testing.assert_array_equal(valid, ~mask)
        np.testing.assert_array_equal(pixels, np.ma.filled(arr[i, 0], 32767))
        np.testing.assert_array_equal(pixels, one)  # the same file as raster() writes
        np.testing.assert_array_equal(valid, one_valid)
        assert written[i]["bands"][0]["noDataValue"] == 32767


def test_stack_dltile(capsys, tmp_path):
    key = DLTile.from_latlon(18.5148, -72.215, resolution=8, tilesize=128, pad=0).key
    prefix = str(tmp_path / "tile")
    code, _, err = run(capsys, ["stack", SUBA, SUBB, "--dltile", key, "--bands", "red", "green", "blue", "--out",
                                prefix, "--data-type", "Byte"])
    assert code == 0, err
    data = np.load(prefix + ".npy")
    arr, _ = Raster().stack([SUBA, SUBB], ["red", "green", "blue"], dltile=key, data_type="Byte")
    assert data.shape == (2, 128, 128, 3)
    np.testing.assert_array_equal(data, np.ma.getdata(arr))
    assert data.any()


def test_stack_needs_a_grid(capsys, tmp_path):
    code, out, err = run(capsys, ["stack", SUBA, "--bands", "1", "--out", str(tmp_path / "d" / "x")])
    assert code == 1 and "Must set `resolution` or `dimensions`" in err and out == ""
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- dltile
def test_dltile_from_key(capsys):
    code, out, _ = run(capsys, ["dltile", "from-key", "1024:0:60.0:13:-2:64"])
    assert code == 0
    feature = json.loads(out)
    tile = DLTile.from_key("1024:0:60.0:13:-2:64")
    assert feature["properties"]["key"] == tile.key
    assert feature["properties"]["outputBounds"] == list(tile.bounds)
    assert feature["geometry"] == json.loads(json.dumps(tile.__geo_interface__))
    code, out, _ = run(capsys, ["dltile", "from-key", "1024:0:60.0:13:-2:64", "128:16:960.0:15:-1:37", "--keys"])
    assert out.split() == ["1024:0:60.0:13:-2:64", "128:16:960.0:15:-1:37"]
    code, out, err = run(capsys, ["dltile", "from-key", "1024:0:60.0:13:-2"])
    assert code == 1 and err.startswith("raster-core dltile: error:")


def test_dltile_from_latlon(capsys):
    code, out, _ = run(capsys, ["dltile", "from-latlon", "35.691", "-105.944", "--resolution", "10", "--tilesize",
                                "512", "--keys"])
    assert code == 0 and out.strip() == "512:0:10.0:13:-17:771"
    code, out, _ = run(capsys, ["dltile", "from-latlon", "35.691", "-105.944", "--resolution", "10", "--tilesize",
                                "512", "--pad", "8", "--compact"])
    assert json.loads(out)["properties"]["key"] == "512:8:10.0:13:-17:771"
    code, _, err = run(capsys, ["dltile", "from-latlon", "95", "0", "--resolution", "10", "--tilesize", "512"])
    assert code == 1 and "Latitude must be between -90 and 90" in err


SF = {"type": "Polygon", "coordinates": [[[-122.5114, 37.7713], [-122.4548, 37.7748], [-122.4530, 37.7666],
                                          [-122.5106, 37.7634], [-122.5114, 37.7713]]]}


def test_dltile_from_shape(capsys, tmp_path):
    expected = DLTile.from_shape(SF, resolution=1, tilesize=500, pad=0, keys_only=True)
    grid = ["--resolution", "1", "--tilesize", "500"]
    code, out, _ = run(capsys, ["dltile", "from-shape", json.dumps(SF), *grid])
    assert code == 0 and out.split() == expected and len(expected) == 31
    f = tmp_path / "sf.geojson"
    f.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": SF}))
    code, out, _ = run(capsys, ["dltile", "from-shape", str(f), *grid, "--count"])
    assert out.strip() == "31"
    wkt = "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in SF["coordinates"][0]) + "))"
    code, out, _ = run(capsys, ["dltile", "from-shape", wkt, *grid, "--geojson", "--compact"])
    fc = json.loads(out)
    assert [ft["properties"]["key"] for ft in fc["features"]] == expected
    code, _, err = run(capsys, ["dltile", "from-shape", "POINT (1 2)", *grid])
    assert code == 1 and "error" in err


def test_dltile_subtile(capsys):
    code, out, _ = run(capsys, ["dltile", "subtile", "2048:0:30.0:15:3:80", "8"])
    keys = out.split()
    assert code == 0 and len(keys) == 64 and keys[0] == "256:0:30.0:15:24:647"
    assert keys == [t.key for t in DLTile.from_key("2048:0:30.0:15:3:80").subtile(8)]
    code, out, _ = run(capsys, ["dltile", "subtile", "2048:0:30.0:15:3:80", "2", "--resolution", "60", "--pad",
                                "4", "--geojson"])
    assert [f["properties"]["tilesize"] for f in json.loads(out)["features"]] == [512] * 4
    code, _, err = run(capsys, ["dltile", "subtile", "2048:0:30.0:15:3:80", "3"])
    assert code == 1 and "evenly divide" in err


# --------------------------------------------------------------------------- help texts
@pytest.mark.parametrize("argv", [["raster"], ["stack"], ["dltile"], ["dltile", "from-key"],
                                  ["dltile", "from-latlon"], ["dltile", "from-shape"], ["dltile", "subtile"]])
def test_help_texts(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([*argv, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "usage: raster-core " + " ".join(argv) in text
    assert "Example" in text


def test_parse_scales():
    assert _parse_scales(["0,4000 0,4000", "none", "0,1,0,255"]) == [[0, 4000], [0, 4000], None, [0, 1, 0, 255]]
    assert _parse_scales(None) is None
