"""write_geotiff / write_image round trips, read back by rasterio (GDAL) and by raster_core."""

from __future__ import annotations

import math
import os

import numpy as np
import pyproj
import pytest

import raster_core
from raster_core.io import write_geotiff, write_image
from tests._io_helpers import rio_crs_to_pyproj, rio_open

USER_CRSS = {
    "albers": "+proj=aea +lat_1=43 +lat_2=48 +lat_0=34 +lon_0=-120 +x_0=600000 +y_0=0 +ellps=GRS80 +units=m +no_defs",
    "polar_south": "+proj=stere +lat_0=-90 +lat_ts=-70 +lon_0=0 +x_0=0 +y_0=0 +a=6378273 +rf=298.279411123064"
                   " +units=m +no_defs",
    "lcc": "+proj=lcc +lat_1=33 +lat_2=45 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +datum=NAD83 +units=m +no_defs",
    "tm": "+proj=tmerc +lat_0=0 +lon_0=-75 +k=0.9996 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "sphere_geog": "+proj=longlat +a=6371000 +b=6371000 +no_defs",
    "geog_towgs84": "+proj=longlat +ellps=intl +towgs84=-87,-98,-121,1,2,3,4 +no_defs",
    "utm_towgs84": "+proj=utm +zone=33 +ellps=intl +towgs84=-87,-98,-121,0,0,0,0 +units=m +no_defs",
    "esri": "ESRI:102001",
    "feet": "+proj=tmerc +lat_0=31 +lon_0=-110.1666666666667 +k=0.9999 +x_0=213360 +y_0=0 +ellps=GRS80"
            " +units=us-ft +no_defs",
}


@pytest.mark.parametrize("name", sorted(USER_CRSS))
def test_user_crs_roundtrip(tmp_path, name):
    path = tmp_path / "crs.tif"
    want = raster_core.to_crs(USER_CRSS[name])
    geog = want.is_geographic
    gt = (-10.0, 0.01, 0.0, 50.0, 0.0, -0.01) if geog else (1000.0, 30.0, 0.0, 2000.0, 0.0, -30.0)
    write_geotiff(path, np.arange(12, dtype="uint8").reshape(3, 4), crs=want, transform=gt)
    with rio_open(path) as g, raster_core.open(path) as d:
        gcrs = rio_crs_to_pyproj(g.crs)
        assert gcrs.equals(want, ignore_axis_order=True)
        assert d.crs.equals(want, ignore_axis_order=True)
        assert d.crs.equals(gcrs, ignore_axis_order=True)

CASES = [
    # dtype, crs, nodata, colorinterp, bands, transform
    ("uint8", 32618, None, ["red", "green", "blue", "alpha"], 4, (101985.0, 300.0379, 0.0, 2826915.0, 0.0, -300.0418)),
    ("uint16", "EPSG:3857", 0, None, 1, (-8766409.9, 611.496226, 0.0, 6105178.3, 0.0, -611.496226)),
    ("int16", USER_CRSS["albers"], -32768, None, 2, (244300.6, 25.5, 0.0, 1000868.8, 0.0, -25.5)),
    ("float32", USER_CRSS["polar_south"], float("nan"), None, 1, (-3950000.0, 25000.0, 0.0, 4350000.0, 0.0, -25000.0)),
    ("float32", USER_CRSS["lcc"], -3.4e38, None, 1, (0.0, 1000.0, 0.0, 0.0, 0.0, -1000.0)),
    ("uint16", USER_CRSS["tm"], 65535, None, 3, (10.0, 0.5, 0.1, 20.0, 0.2, -0.5)),  # rotated
    ("float32", 4326, -9999.0, None, 1, (-119.55, 0.01, 0.0, 36.55, 0.0, 0.01)),  # south-up
    ("uint8", USER_CRSS["sphere_geog"], 255, ["gray", "alpha"], 2, (-180.0, 0.5, 0.0, 90.0, 0.0, -0.5)),
]


def _array(dtype, bands, rng, h=301, w=419):
    if np.dtype(dtype).kind == "f":
        a = (rng.random((bands, h, w)) * 1000 - 500).astype(dtype)
        a[:, :5, :7] = np.nan
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, int(info.max) + 1, size=(bands, h, w), dtype=dtype)
    return a


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("tiled", [True, False], ids=["tiled", "striped"])
def test_roundtrip_in_rasterio(tmp_path, case, tiled):
    dtype, crs, nodata, ci, bands, gt = case
    rng = np.random.default_rng(len(str(case)))
    arr = _array(dtype, bands, rng)
    if nodata is not None and not math.isnan(nodata):
        arr[:, -3:, -4:] = np.asarray(nodata).astype(dtype)
    path = tmp_path / "out.tif"
    descriptions = [f"band {k} <&>" for k in range(bands)]
    write_geotiff(path, arr, crs=crs, transform=gt, nodata=nodata, colorinterp=ci, blocksize=256,
                  tiled=tiled, overviews=[2, 4], descriptions=descriptions)
    assert os.listdir(tmp_path) == ["out.tif"]
    want = raster_core.to_crs(crs)
    with rio_open(path) as g, raster_core.open(path) as d:
        gcrs = rio_crs_to_pyproj(g.crs)
        assert gcrs.equals(want, ignore_axis_order=True) or gcrs.to_epsg() == want.to_epsg() is not None
        assert d.crs.equals(gcrs, ignore_axis_order=True)
        assert np.allclose(g.transform.to_gdal(), gt, rtol=0, atol=1e-9)
        assert np.allclose(d.geotransform, gt, rtol=0, atol=1e-9)
        if nodata is None:
            assert g.nodata is None and d.nodata is None
        elif math.isnan(nodata):
            assert math.isnan(g.nodata) and math.isnan(d.nodata)
        else:
            expect = float(np.float32(nodata)) if dtype == "float32" else nodata
            assert g.nodata == expect == d.nodata
        assert g.dtypes[0] == dtype
        np.testing.assert_array_equal(g.read(), arr)
        np.testing.assert_array_equal(d.read(), arr)
        exp_ci = tuple(ci) if ci else (("gray",) + ("undefined",) * (bands - 1))
        assert tuple(c.name for c in g.colorinterp) == exp_ci == d.colorinterp
        assert g.descriptions == tuple(descriptions) == d.descriptions
        assert g.overviews(1) == [2, 4] == d.overviews(1)
        np.testing.assert_array_equal(g.dataset_mask(), d.dataset_mask())
        np.testing.assert_array_equal(g.read_masks(), d.read_masks())
        if tiled:
            assert g.block_shapes[0] == (256, 256)
    for level in range(2):
        with rio_open(path, overview_level=level) as go, raster_core.open(path) as d:
            np.testing.assert_array_equal(go.read(), d.read(overview_level=level))
            assert go.shape == (-(-arr.shape[1] // (2 << level)), -(-arr.shape[2] // (2 << level)))


def test_geostationary_user_crs_roundtrip(tmp_path):
    crs = "+proj=geos +lon_0=-75 +h=35786023 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs +sweep=x"
    path = tmp_path / "geos.tif"
    write_geotiff(path, np.ones((1, 20, 30), "uint8"), crs=crs,
                  transform=(-5434895.08, 20054.96, 0, 5434895.08, 0, -20054.96))
    with rio_open(path) as g, raster_core.open(path) as d:
        gcrs = rio_crs_to_pyproj(g.crs)
        assert d.crs.equals(gcrs, ignore_axis_order=True)
        t = pyproj.Transformer.from_crs(4326, gcrs, always_xy=True)
        t2 = pyproj.Transformer.from_crs(4326, raster_core.to_crs(crs), always_xy=True)
        t3 = pyproj.Transformer.from_crs(4326, d.crs, always_xy=True)
        for lon, lat in [(-60.0, 10.0), (-75.0, 0.0), (-120.0, -40.0)]:
            assert t.transform(lon, lat) == pytest.approx(t2.transform(lon, lat), abs=1e-6)
            assert t3.transform(lon, lat) == pytest.approx(t2.transform(lon, lat), abs=1e-6)


@pytest.mark.parametrize("compress", ["deflate", "lzw", "zstd", "packbits", None])
def test_compressions_and_predictor(tmp_path, compress):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 4000, size=(2, 100, 130), dtype="uint16")
    path = tmp_path / "c.tif"
    write_geotiff(path, arr, crs=32618, transform=(0, 10, 0, 0, 0, -10), compress=compress,
                  predictor=2 if compress in ("deflate", "lzw", "zstd") else None, blocksize=64)
    with rio_open(path) as g:
        np.testing.assert_array_equal(g.read(), arr)
        assert (g.profile.get("compress") or None) == compress


def test_average_overviews_ignore_nodata(tmp_path):
    arr = np.array([[[1, 3, 0, 0], [5, 7, 0, 8], [2, 2, 2, 2], [2, 2, 2, 4]]], dtype="uint8")
    path = tmp_path / "avg.tif"
    write_geotiff(path, arr, crs=4326, transform=(0, 1, 0, 0, 0, -1), nodata=0, overviews=[2],
                  overview_resampling="average", blocksize=16)
    with rio_open(path, overview_level=0) as g:
        np.testing.assert_array_equal(g.read(1), [[4, 8], [2, 3]])


def test_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    import tifffile

    calls = {"n": 0}
    orig = tifffile.TiffWriter.write

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # after the full-resolution image, while writing the first overview
            raise OSError("disk full (simulated)")
        return orig(self, *a, **k)

    monkeypatch.setattr(tifffile.TiffWriter, "write", failing)
    path = tmp_path / "x.tif"
    with pytest.raises(raster_core.RasterWriteError, match="disk full"):
        write_geotiff(path, np.zeros((64, 64), "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1), overviews=[2])
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_existing_file(tmp_path, monkeypatch):
    import tifffile

    path = tmp_path / "x.tif"
    write_geotiff(path, np.full((16, 16), 7, "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1))
    before = path.read_bytes()
    monkeypatch.setattr(tifffile.TiffWriter, "write", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(raster_core.RasterWriteError):
        write_geotiff(path, np.zeros((16, 16), "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(array=np.zeros((2, 2, 2, 2), "uint8")), raster_core.ShapeError),
        (dict(array=np.zeros((4, 4), "complex64")), raster_core.DataTypeError),
        (dict(nodata=-1), raster_core.InvalidParameterError),
        (dict(nodata=300), raster_core.InvalidParameterError),
        (dict(crs=None), raster_core.CRSError),
        (dict(crs="not a crs"), raster_core.CRSError),
        (dict(transform=(0, 0, 0, 0, 0, 0)), raster_core.TransformError),
        (dict(compress="bogus"), raster_core.InvalidParameterError),
        (dict(blocksize=100), raster_core.InvalidParameterError),
        (dict(overviews=[1]), raster_core.InvalidParameterError),
        (dict(colorinterp=["red", "green"]), raster_core.ShapeError),
        (dict(colorinterp=["purple"]), raster_core.InvalidParameterError),
    ],
)
def test_invalid_input_fails_before_writing(tmp_path, kwargs, exc):
    args = dict(array=np.zeros((4, 4), "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1))
    args.update(kwargs)
    path = tmp_path / "bad.tif"
    with pytest.raises(exc):
        write_geotiff(path, args.pop("array"), **args)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bands", [1, 3, 4])
def test_write_png(tmp_path, bands):
    import imagecodecs

    arr = np.random.default_rng(bands).integers(0, 256, size=(bands, 33, 47), dtype="uint8")
    p = tmp_path / "a.png"
    write_image(p, arr, format="PNG")
    back = imagecodecs.png_decode(p.read_bytes())
    np.testing.assert_array_equal(back if bands == 1 else np.moveaxis(back, -1, 0), arr if bands > 1 else arr[0])


@pytest.mark.parametrize("bands", [1, 3])
def test_write_jpeg(tmp_path, bands):
    import imagecodecs

    arr = np.full((bands, 32, 48), 100, dtype="uint8")
    p = tmp_path / "a.jpg"
    write_image(p, arr, format="JPEG", quality=95)
    back = imagecodecs.jpeg8_decode(p.read_bytes())
    assert np.abs(back.astype(int) - 100).max() <= 2


@pytest.mark.parametrize(
    "array, fmt, exc",
    [
        (np.zeros((3, 4, 4), "uint16"), "PNG", raster_core.DataTypeError),
        (np.zeros((2, 4, 4), "uint8"), "PNG", raster_core.ShapeError),
        (np.zeros((4, 4, 4), "uint8"), "JPEG", raster_core.ShapeError),
        (np.zeros((1, 4, 4), "uint8"), "GIF", raster_core.InvalidParameterError),
    ],
)
def test_write_image_errors(tmp_path, array, fmt, exc):
    with pytest.raises(exc):
        write_image(tmp_path / "x.img", array, format=fmt)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape", [(13, 20), (29, 37), (300, 301)])
def test_nearest_overviews_equal_gdal_addo(tmp_path, shape):
    import rasterio

    h, w = shape
    arr = np.arange(h * w, dtype="int32").reshape(1, h, w)
    factors = [2, 3, 4, 7]
    ours = tmp_path / "ours.tif"
    write_geotiff(ours, arr, crs=4326, transform=(0, 1, 0, 0, 0, -1), overviews=factors, blocksize=16)
    gdal = tmp_path / "gdal.tif"
    with rasterio.open(gdal, "w", driver="GTiff", width=w, height=h, count=1, dtype="int32", crs="EPSG:4326",
                       transform=rasterio.Affine(1, 0, 0, 0, -1, 0)) as dst:
        dst.write(arr)
    with rasterio.open(gdal, "r+") as dst:
        dst.build_overviews(factors, rasterio.enums.Resampling.nearest)
    with rio_open(gdal) as g:
        n = len(g.overviews(1))
    for level in range(n):
        with rio_open(gdal, overview_level=level) as g, rio_open(ours, overview_level=level) as o:
            np.testing.assert_array_equal(o.read(), g.read())


def test_written_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = tmp_path / "perm.tif"
        write_geotiff(p, np.zeros((4, 4), "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1))
        assert (p.stat().st_mode & 0o777) == 0o644
        q = tmp_path / "perm.png"
        write_image(q, np.zeros((4, 4), "uint8"))
        assert (q.stat().st_mode & 0o777) == 0o644
    finally:
        os.umask(old)


@pytest.mark.parametrize("bands", [1, 3])
@pytest.mark.parametrize("tiled", [True, False])
def test_jpeg_compressed_geotiff(tmp_path, bands, tiled):
    y, x = np.mgrid[0:100, 0:130]
    smooth = np.stack([x + y, 2 * y, 255 - x]).astype("uint8")[:bands]  # JPEG keeps smooth images close
    path = tmp_path / "j.tif"
    write_geotiff(path, smooth, crs=32618, transform=(0, 10, 0, 0, 0, -10), compress="jpeg", tiled=tiled,
                  blocksize=64, overviews=[2], jpeg_quality=95)
    with rio_open(path) as g:
        assert g.profile.get("compress") == "jpeg" and g.count == bands and g.overviews(1) == [2]
        gdal = g.read()
    assert np.abs(gdal.astype(int) - smooth).max() <= 8
    with raster_core.io.open(path) as ds:
        np.testing.assert_array_equal(ds.read(), gdal)  # our reader decodes what GDAL decodes


@pytest.mark.parametrize("kwargs", [dict(array=np.zeros((2, 16, 16), "uint8")),
                                    dict(array=np.zeros((16, 16), "uint16")),
                                    dict(array=np.zeros((16, 16), "uint8"), jpeg_quality=0)])
def test_jpeg_refused_up_front(tmp_path, kwargs):
    array = kwargs.pop("array")
    with pytest.raises(raster_core.errors.InvalidParameterError):
        write_geotiff(tmp_path / "j.tif", array, crs=32618, transform=(0, 10, 0, 0, 0, -10), compress="jpeg",
                      **kwargs)
    assert os.listdir(tmp_path) == []


def test_stale_temporaries_are_removed_by_the_next_write(tmp_path):
    day = 24 * 3600
    stale = tmp_path / ".out.tif.raster-core.abcd_123.tmp"  # what a killed writer leaves
    fresh = tmp_path / ".out.tif.raster-core.efgh_456.tmp"  # a write in progress
    other = tmp_path / ".notes.tmp"  # not one of ours
    lookalike = tmp_path / ".data.csv.abcd_123.tmp"  # another program's mkstemp name: never ours
    for p in (stale, fresh, other, lookalike):
        p.write_bytes(b"partial")
    old = os.path.getmtime(stale) - day - 60
    for p in (stale, other, lookalike):
        os.utime(p, (old, old))
    write_geotiff(tmp_path / "next.tif", np.zeros((16, 16), "uint8"), crs=32618, transform=(0, 10, 0, 0, 0, -10))
    assert sorted(os.listdir(tmp_path)) == sorted([fresh.name, other.name, lookalike.name, "next.tif"])
