"""Files written by GDAL (through rasterio) in many layouts / CRSs read exactly as GDAL reads them."""

from __future__ import annotations

import numpy as np
import pytest

import raster_core
from tests._io_helpers import crs_match, max_abs_diff, nodata_equal, rio_crs_to_pyproj, rio_open

USER_CRS = {
    "tmerc": "+proj=tmerc +lat_0=10 +lon_0=-63 +k=0.9995 +x_0=400000 +y_0=-100 +ellps=intl +units=m +no_defs",
    "lcc2": "+proj=lcc +lat_1=33 +lat_2=45 +lat_0=23 +lon_0=-96 +x_0=100 +y_0=200 +ellps=GRS80 +units=m +no_defs",
    "lcc1": "+proj=lcc +lat_1=45 +lat_0=45 +lon_0=10 +k_0=0.9998 +x_0=500000 +y_0=0 +ellps=bessel +units=m +no_defs",
    "aea": "+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +ellps=clrk66 +units=m +no_defs",
    "stere_north_b": "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "stere_north_a": "+proj=stere +lat_0=90 +lon_0=0 +k=0.994 +x_0=2000000 +y_0=2000000 +ellps=WGS84 +units=m +no_defs",
    "merc": "+proj=merc +lon_0=20 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "merc2sp": "+proj=merc +lon_0=0 +lat_ts=30 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "laea": "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +units=m +no_defs",
    "eqc": "+proj=eqc +lat_ts=0 +lat_0=0 +lon_0=0 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "sinu": "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m +no_defs",
    "sterea": (
        "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 "
        "+ellps=bessel +units=m +no_defs"
    ),
    "aeqd": "+proj=aeqd +lat_0=40 +lon_0=-100 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
    "ftUS": (
        "+proj=tmerc +lat_0=31 +lon_0=-110.1666666666667 +k=0.9999 +x_0=213360 +y_0=0 +ellps=GRS80 "
        "+units=us-ft +no_defs"
    ),
    "longlat_sphere": "+proj=longlat +R=6370997 +no_defs",
    "longlat_pm": "+proj=longlat +ellps=clrk80ign +pm=paris +no_defs",
    "tmerc_nad83": "+proj=tmerc +lat_0=0 +lon_0=-87 +k=0.9996 +x_0=500000 +y_0=0 +datum=NAD83 +units=m +no_defs",
    "lcc_wgs84": "+proj=lcc +lat_1=30 +lat_2=60 +lat_0=40 +lon_0=5 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs",
    "utm_towgs84": "+proj=utm +zone=33 +ellps=intl +towgs84=-87,-98,-121,0,0,0,0 +units=m +no_defs",
    "aea_ft": "+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +datum=NAD27 +units=ft +no_defs",
    "epsg_3413": "EPSG:3413",
    "epsg_3031": "EPSG:3031",
    "epsg_2193": "EPSG:2193",
    "epsg_3035": "EPSG:3035",
    "epsg_6933": "EPSG:6933",
    "epsg_4326": "EPSG:4326",
    "esri_102001": "ESRI:102001",
    "epsg_27700": "EPSG:27700",
    "epsg_4269": "EPSG:4269",
}


def _write_with_gdal(path, arr, **profile):
    import rasterio

    prof = dict(driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0], dtype=arr.dtype.name)
    prof.setdefault("crs", "EPSG:32633")
    prof.setdefault("transform", rasterio.transform.from_origin(500000, 4000000, 30, 30))
    prof.update(profile)
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(arr)
    return path


def _compare(path, tol=0):
    with rio_open(path) as g, raster_core.open(path) as d:
        assert crs_match(d.crs, rio_crs_to_pyproj(g.crs)), (d.crs, g.crs)
        assert np.allclose(d.geotransform, g.transform.to_gdal(), atol=1e-9, rtol=0)
        assert nodata_equal(d.nodata, g.nodata)
        assert d.dtypes == tuple(g.dtypes)
        assert d.colorinterp == tuple(c.name for c in g.colorinterp)
        assert d.mask_flags == tuple(frozenset(f.name for f in fl) for fl in g.mask_flag_enums)
        assert d.overviews(1) == g.overviews(1)
        assert max_abs_diff(d.read(), g.read()) <= tol
        np.testing.assert_array_equal(d.read_masks(), g.read_masks())
        np.testing.assert_array_equal(d.dataset_mask(), g.dataset_mask())
        n_ovr = len(g.overviews(1))
    for level in range(n_ovr):
        with rio_open(path, overview_level=level) as go, raster_core.open(path) as d:
            assert max_abs_diff(d.read(overview_level=level), go.read()) <= tol
            np.testing.assert_array_equal(d.read_masks(overview_level=level), go.read_masks())
            np.testing.assert_array_equal(d.dataset_mask(overview_level=level), go.dataset_mask())


@pytest.mark.parametrize("name", sorted(USER_CRS))
def test_user_defined_and_epsg_crs_written_by_gdal(tmp_path, name):
    import rasterio

    arr = np.arange(2 * 30 * 40, dtype="uint16").reshape(2, 30, 40)
    crs = USER_CRS[name]
    geographic = "longlat" in name or name == "epsg_4269"
    tr = (
        rasterio.transform.from_origin(-10, 50, 0.1, 0.1)
        if geographic
        else rasterio.transform.from_origin(1000, 2000, 250, 250)
    )
    p = _write_with_gdal(tmp_path / "c.tif", arr, crs=crs, transform=tr)
    _compare(p)


LAYOUTS = {
    "strip_none": dict(),
    "tiled_lzw_pred2": dict(tiled=True, blockxsize=32, blockysize=32, compress="lzw", predictor=2),
    "tiled_zstd": dict(tiled=True, blockxsize=64, blockysize=16, compress="zstd"),
    "strip_packbits": dict(compress="packbits", blockysize=7),
    "band_interleave_deflate": dict(interleave="band", compress="deflate", tiled=True, blockxsize=16, blockysize=16),
    "bigtiff": dict(BIGTIFF="YES", compress="deflate"),
    "big_endian": dict(ENDIANNESS="BIG"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "uint32", "int32", "float32", "float64"])
def test_layouts_and_dtypes(tmp_path, layout, dtype):
    rng = np.random.default_rng(3)
    arr = (rng.random((3, 45, 70)) * 100).astype(dtype)
    p = _write_with_gdal(tmp_path / "l.tif", arr, **LAYOUTS[layout])
    _compare(p)


def test_float_predictor3(tmp_path):
    arr = np.random.default_rng(1).random((2, 40, 50)).astype("float32")
    p = _write_with_gdal(
        tmp_path / "f.tif", arr, compress="deflate", predictor=3, tiled=True, blockxsize=16, blockysize=16
    )
    _compare(p)


@pytest.mark.parametrize("nodata", [0, 255, -1e20, float("nan"), 1.5, -3.4e38])
def test_nodata_variants(tmp_path, nodata):
    dtype = "uint8" if nodata in (0, 255) else "float32"
    arr = np.random.default_rng(2).integers(0, 256, (1, 30, 30)).astype(dtype)
    if not np.isnan(nodata):
        arr[0, :3] = nodata
    else:
        arr[0, :3] = np.nan
    p = _write_with_gdal(tmp_path / "n.tif", arr, nodata=nodata)
    _compare(p)


def test_out_of_range_nodata_gives_all_valid(tmp_path):
    import tifffile

    arr = np.ones((10, 10), "uint8")
    p = tmp_path / "n.tif"  # GDAL refuses to write it, but such files exist: write the tag directly
    tifffile.imwrite(p, arr, extratags=[(42113, 2, 0, "-9999", True)], metadata=None)
    _compare(p)
    with raster_core.open(p) as d:
        assert d.nodata is None and d.gdal_nodata == -9999.0
        assert d.mask_flags == (frozenset({"all_valid"}),)


def test_internal_mask_with_overviews(tmp_path):
    import rasterio

    rng = np.random.default_rng(4)
    arr = rng.integers(0, 255, (3, 130, 170)).astype("uint8")
    p = tmp_path / "m.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(p, "w", driver="GTiff", width=170, height=130, count=3, dtype="uint8", crs="EPSG:32633",
                           transform=rasterio.transform.from_origin(0, 0, 1, 1), tiled=True, blockxsize=64,
                           blockysize=64, compress="deflate", photometric="RGB") as dst:
            dst.write(arr)
            m = np.full((130, 170), 255, "uint8")
            m[20:60, 30:90] = 0
            dst.write_mask(m)
        with rasterio.open(p, "r+") as dst:
            dst.build_overviews([2, 4], rasterio.enums.Resampling.nearest)
    _compare(p)
    with raster_core.open(p) as d:
        assert d.mask_flags[0] == frozenset({"per_dataset"}) and d.overviews(1) == [2, 4]


def test_alpha_uint16_and_gray_alpha(tmp_path):
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 65535, (2, 40, 40)).astype("uint16")
    arr[1, :10] = 0
    arr[1, 10:12] = 200  # small non-zero alpha -> GDAL's rescaled mask gives 1
    p = _write_with_gdal(tmp_path / "ga.tif", arr, photometric="MINISBLACK", alpha="YES")
    with rio_open(p) as g:
        if g.colorinterp[1].name != "alpha":
            pytest.skip("GDAL did not record the alpha band")
    _compare(p)


def test_jpeg_ycbcr_with_overviews(tmp_path):
    import rasterio

    # a smooth image (like goes.tif): libjpeg builds may differ by a few DN; at sharp chroma edges
    # GDAL's and libjpeg-turbo's chroma upsampling differ more (documented limitation)
    y, x = np.mgrid[0:200, 0:240]
    arr = np.stack([x, y, (x + y) // 2]).astype("uint8")
    p = _write_with_gdal(tmp_path / "j.tif", arr, compress="jpeg", photometric="YCBCR", tiled=True,
                         blockxsize=64, blockysize=64)
    with rasterio.open(p, "r+") as dst:
        dst.build_overviews([2], rasterio.enums.Resampling.average)
    _compare(p, tol=11)


def test_pixel_is_point_and_rotation(tmp_path):
    import rasterio
    from affine import Affine

    arr = np.arange(400, dtype="uint8").reshape(1, 20, 20)
    p1 = tmp_path / "pt.tif"
    with rasterio.open(p1, "w", driver="GTiff", width=20, height=20, count=1, dtype="uint8", crs="EPSG:32633",
                       transform=rasterio.transform.from_origin(1000, 2000, 10, 10)) as dst:
        dst.write(arr)
        dst.update_tags(AREA_OR_POINT="Point")
    _compare(p1)
    p2 = _write_with_gdal(tmp_path / "rot.tif", arr, transform=Affine(2.0, 0.5, 100.0, 0.3, -2.0, 500.0))
    _compare(p2)
    p3 = _write_with_gdal(tmp_path / "southup.tif", arr, transform=Affine(2.0, 0.0, 100.0, 0.0, 2.0, 500.0))
    _compare(p3)


def test_palette_written_by_gdal(tmp_path):
    import rasterio

    arr = np.random.default_rng(6).integers(0, 4, (1, 20, 20)).astype("uint8")
    p = tmp_path / "pal.tif"
    with rasterio.open(p, "w", driver="GTiff", width=20, height=20, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=rasterio.transform.from_origin(0, 0, 1, 1), photometric="palette") as dst:
        dst.write(arr)
        dst.write_colormap(1, {0: (255, 0, 0, 255), 1: (0, 255, 0, 255), 2: (0, 0, 255, 255), 3: (1, 2, 3, 255)})
    _compare(p)
    with rio_open(p) as g, raster_core.open(p) as d:
        assert d.colormap(1) == g.colormap(1)


def test_sparse_tiles_are_nodata(tmp_path):
    import rasterio

    p = tmp_path / "sparse.tif"
    with rasterio.open(p, "w", driver="GTiff", width=128, height=128, count=1, dtype="int16", crs="EPSG:32633",
                       transform=rasterio.transform.from_origin(0, 0, 1, 1), tiled=True, blockxsize=32, blockysize=32,
                       nodata=-5, SPARSE_OK=True) as dst:
        dst.write(np.full((32, 32), 7, "int16"), 1, window=rasterio.windows.Window(32, 32, 32, 32))
    _compare(p)


def test_descriptions_scales_offsets(tmp_path):
    import rasterio

    arr = np.ones((2, 10, 10), "int16")
    p = tmp_path / "d.tif"
    with rasterio.open(p, "w", driver="GTiff", width=10, height=10, count=2, dtype="int16", crs="EPSG:32633",
                       transform=rasterio.transform.from_origin(0, 0, 1, 1)) as dst:
        dst.write(arr)
        dst.set_band_description(1, "elevation")
        dst.set_band_description(2, "slope & <aspect>")
        dst.scales = (0.5, 2.0)
        dst.offsets = (10.0, -1.0)
        dst.colorinterp = [rasterio.enums.ColorInterp.blue, rasterio.enums.ColorInterp.green]
    with rio_open(p) as g, raster_core.open(p) as d:
        assert d.descriptions == g.descriptions
        assert d.scales == tuple(g.scales) and d.offsets == tuple(g.offsets)
        assert d.colorinterp == tuple(c.name for c in g.colorinterp)


@pytest.mark.parametrize("dtype, bits", [("uint8", 8), ("uint16", 16), ("bool", 1), ("uint8", 4)])
def test_miniswhite_is_a_palette_like_gdal(tmp_path, dtype, bits):
    import tifffile

    a = np.random.default_rng(bits).integers(0, 2 if bits == 1 else 15, (30, 40)).astype(dtype)
    p = tmp_path / "mw.tif"
    tifffile.imwrite(p, a, photometric="miniswhite", metadata=None, **({"bitspersample": 4} if bits == 4 else {}))
    _compare(p)
    with rio_open(p) as g, raster_core.open(p) as d:
        assert d.colormap(1) == g.colormap(1)


@pytest.mark.parametrize("dtype", ["float16", "int64", "uint64"])
def test_other_tifffile_dtypes(tmp_path, dtype):
    import tifffile

    a = (np.random.default_rng(0).random((2, 30, 40)) * 100).astype(dtype)
    p = tmp_path / "x.tif"
    tifffile.imwrite(p, a, photometric="minisblack", planarconfig="separate", tile=(16, 16), compression="zlib",
                     metadata=None)
    _compare(p)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nodata", [-9999.0, 0.0, 0.1, 1.5, 1e20, -3.4e38])
def test_float_nodata_mask_tolerance_like_gdal(tmp_path, dtype, nodata):
    """GDAL's nodata mask treats values within a few float32 ulps of nodata as nodata."""
    nd = np.dtype(dtype).type(nodata)
    vals = [nd]
    for direction in (np.inf, -np.inf):
        v = nd
        for _ in range(8):
            if dtype == "float32":
                v = np.nextafter(v, np.dtype(dtype).type(direction))
            else:
                v = v * (1 + 1e-7) if direction > 0 else v * (1 - 1e-7)
            vals.append(v)
    vals += [nd + 1, nd * 2 if nd else 1.0, np.nan]
    arr = np.array(vals, dtype=dtype).reshape(1, 1, -1)
    p = _write_with_gdal(tmp_path / "t.tif", arr, nodata=float(nodata))
    _compare(p)


@pytest.mark.parametrize(
    "dtype, raw",
    [("uint8", "1.5"), ("int16", "-2.7"), ("uint16", "3.0"), ("uint8", " 2 "), ("uint8", "2abc"), ("uint8", ""),
     ("float32", "1e39"), ("float32", "-inf"), ("int16", "nan"), ("uint8", "255.4"),
     ("float64", "-3.39999999999999996e+38")],
)
def test_odd_gdal_nodata_strings(tmp_path, dtype, raw):
    import tifffile

    a = np.arange(-4, 12).reshape(4, 4).astype(dtype)
    p = tmp_path / "nd.tif"
    tifffile.imwrite(p, a, extratags=[(42113, 2, 0, raw, True)], metadata=None)
    _compare(p)
