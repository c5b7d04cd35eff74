"""Tests for raster_core.grid: GeoBox, calculate_default_transform, aligned_target,
transform_bounds and output_geobox, against rasterio/GDAL 3.10 on real data."""

from __future__ import annotations

import math
import os
import pickle

import pytest
from affine import Affine
from hypothesis import example, given, settings
from hypothesis import strategies as st

from raster_core.errors import CRSError, InvalidParameterError, RasterCoreError, TransformError
from raster_core.grid import (
    RESOLUTION_AND_DIMENSIONS_MESSAGE,
    GeoBox,
    SourceGrid,
    aligned_target,
    calculate_default_transform,
    output_geobox,
    transform_bounds,
)
from tests.conftest import DATA, shared_tifs

pytest.importorskip("rasterio")
import rasterio.vrt  # noqa: E402
import rasterio.warp  # noqa: E402

TARGETS = ["EPSG:4326", "EPSG:3857", "EPSG:32633", "EPSG:3035", "EPSG:3413", "EPSG:3031", "ESRI:54009"]


def _all_tifs():
    files = {p.name: p for p in sorted(DATA.glob("*.tif"))}
    for p in shared_tifs():
        files.setdefault(p.name, p)
    return [files[k] for k in sorted(files)]


TIFS = _all_tifs()


def _src(path):
    with rasterio.open(path) as ds:
        if ds.crs is None:
            return None
        return SourceGrid(ds.crs.to_wkt(), ds.transform, ds.width, ds.height), ds.bounds, ds.crs


def _same_transform(a, b, rel=1e-9):
    return all(abs(x - y) <= rel * max(1.0, abs(x)) for x, y in zip(tuple(a)[:6], tuple(b)[:6], strict=True))


# --------------------------------------------------------------------------- GeoBox


def test_geobox_basics():
    gb = GeoBox("EPSG:32618", Affine(30, 0, 500000, 0, -30, 4500000), 100, 80)
    assert gb.shape == (80, 100)
    assert gb.bounds == (500000.0, 4497600.0, 503000.0, 4500000.0)
    assert gb.resolution == (30.0, 30.0)
    assert gb.geotransform == (500000.0, 30.0, 0.0, 4500000.0, 0.0, -30.0)
    sub = gb.window(10, 20, 5, 6)
    assert sub.transform == Affine(30, 0, 500300, 0, -30, 4499400)
    assert sub.shape == (6, 5)
    assert gb[20:26, 10:15] == sub
    assert gb.window(-2, -3, 4, 4).transform.c == 500000 - 60
    assert pickle.loads(pickle.dumps(gb)) == gb
    assert hash(pickle.loads(pickle.dumps(gb))) == hash(gb)
    assert "EPSG:32618" in repr(gb) and "100x80" in repr(gb)
    assert gb != GeoBox("EPSG:32618", Affine(30, 0, 500000, 0, -30, 4500000), 100, 81)
    assert gb != GeoBox("EPSG:32619", Affine(30, 0, 500000, 0, -30, 4500000), 100, 80)


def test_geobox_rotated_and_south_up_bounds():
    rot = GeoBox(4326, Affine(1, 1, 0, 1, -1, 0), 2, 2)
    assert rot.bounds == (0.0, -2.0, 4.0, 2.0)
    assert rot.resolution == (math.sqrt(2), math.sqrt(2))
    south = GeoBox(4326, Affine(1, 0, 10, 0, 1, 20), 3, 4)
    assert south.bounds == (10.0, 20.0, 13.0, 24.0)


def test_geobox_from_bounds():
    gb = GeoBox.from_bounds((300000.5, 3000000.25, 400000.5, 3200000.25), crs=32615, resolution=200)
    assert gb.shape == (1000, 500)
    gb2 = GeoBox.from_bounds((0, 0, 10, 5), crs=4326, width=20, height=5)
    assert gb2.resolution == (0.5, 1.0)
    with pytest.raises(InvalidParameterError):
        GeoBox.from_bounds((0, 0, 10, 5), crs=4326)
    with pytest.raises(InvalidParameterError):
        GeoBox.from_bounds((0, 0, 10, 5), crs=4326, resolution=1, width=3, height=3)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(crs="EPSG:999999", transform=Affine.identity(), width=1, height=1), CRSError),
        (dict(crs=4326, transform=(0, 0, 0, 0, 0, 0), width=1, height=1), TransformError),
        (dict(crs=4326, transform=Affine(1, 0, 0, 0, -1, 0), width=0, height=1), InvalidParameterError),
        (dict(crs=4326, transform=Affine(1, 0, 0, 0, -1, 0), width=1, height=-3), InvalidParameterError),
        (dict(crs=4326, transform=Affine(1, 0, 0, 0, -1, 0), width=1.5, height=1), InvalidParameterError),
        (dict(crs=4326, transform=Affine(1, 0, float("nan"), 0, -1, 0), width=1, height=1), TransformError),
    ],
)
def test_geobox_validation(kwargs, exc):
    with pytest.raises(exc):
        GeoBox(**kwargs)


# --------------------------------------------------------------------------- guide / spec numbers

UTM15 = "EPSG:32615"


def _s1_like():
    # a 10 m scene covering the guide's bounds (the bounds, not the scene, define the grid)
    return SourceGrid(UTM15, Affine(10, 0, 290000, 0, -10, 3210000), 12000, 22000)


def _corners(gb):
    t = gb.transform
    return [t.c, t.f], [t.c + gb.width * t.a, t.f + gb.height * t.e]


def test_guide_align_pixels_numbers():
    b = (300000.5, 3000000.25, 400000.5, 3200000.25)
    gb = output_geobox([_s1_like()], bounds=b, resolution=200)
    assert gb.shape == (1000, 500)  # printed as (1000, 500, 2) = (rows, cols, bands)
    assert _corners(gb) == ([300000.5, 3200000.25], [400000.5, 3000000.25])
    tap = output_geobox([_s1_like()], bounds=b, resolution=200, align_pixels=True)
    assert tap.shape == (1001, 501)
    assert _corners(tap) == ([300000.0, 3200200.0], [400200.0, 3000000.0])
    # the imaginary 10 x 10 m example of the guide
    small = SourceGrid(UTM15, Affine(1, 0, 0, 0, -1, 20), 20, 20)
    g1 = output_geobox([small], bounds=(0.5, 0.8, 10.5, 10.8), resolution=1, align_pixels=True)
    assert g1.bounds == (0.0, 0.0, 11.0, 11.0)
    g0 = output_geobox([small], bounds=(0, 0, 10, 10), resolution=1, align_pixels=True)
    assert g0.bounds == (0.0, 0.0, 10.0, 10.0) and g0.shape == (10, 10)


def test_guide_dimensions_numbers():
    s2 = SourceGrid("EPSG:32648", Affine(10, 0, 300000, 0, -10, 200040), 10980, 10980)
    assert output_geobox([s2], dimensions=(100, 100)).shape == (100, 100)
    g = output_geobox([s2], dimensions=(600, 400))
    assert g.shape == (400, 600)  # printed as (400, 600, 4)
    assert g.bounds == pytest.approx((300000, 200040 - 109800, 409800, 200040))


def test_resolution_and_dimensions_is_an_error():
    with pytest.raises(InvalidParameterError, match=RESOLUTION_AND_DIMENSIONS_MESSAGE):
        output_geobox([_s1_like()], resolution=10, dimensions=(10, 10))
    assert issubclass(InvalidParameterError, ValueError)


def test_spec_e2e_landsat_960m():
    # spec 1.6 example 2 / e2e: 15 m Landsat scene at 960 m -> (249, 245)
    src = SourceGrid(UTM15, Affine(15, 0, 258292.5, 0, -15, 4743307.5), 15696, 15960)
    gb = output_geobox([src], resolution=960)
    assert gb.shape == (249, 245)
    assert gb.geotransform == (258292.5, 960.0, 0.0, 4743307.5, 0.0, -960.0)
    # mock example 1: resolution 1000 -> (239, 235), origin kept, extent not stretched
    gb = output_geobox([src], resolution=1000)
    assert gb.shape == (239, 235)
    assert gb.transform.c + 235 * 1000 == 493292.5


def test_spec_cutline_extent_rounding():
    # cutline envelope of 228539.65 m x 235052.47 m at 960 m -> (245, 238) (spec 2.1)
    shapely = pytest.importorskip("shapely")
    src = SourceGrid(UTM15, Affine(15, 0, 258292.5, 0, -15, 4743307.5), 15696, 15960)
    x0, y0 = 300000.0, 4400000.0
    poly = shapely.geometry.box(x0, y0, x0 + 228539.65, y0 + 235052.47)
    gb = output_geobox([src], cutline=poly, cutline_srs=UTM15, resolution=960)
    assert gb.shape == (245, 238)
    assert gb.transform.c == x0 and gb.transform.f == y0 + 235052.47


# --------------------------------------------------------------------------- validation table

BAD = [
    (dict(resolution=-1), InvalidParameterError),
    (dict(resolution=0), InvalidParameterError),
    (dict(resolution=float("nan")), InvalidParameterError),
    (dict(resolution=(10, -1)), InvalidParameterError),
    (dict(resolution="ten"), InvalidParameterError),
    (dict(dimensions=(0, 10)), InvalidParameterError),
    (dict(dimensions=(10, 0)), InvalidParameterError),
    (dict(dimensions=(10,)), InvalidParameterError),
    (dict(dimensions=(10.5, 3)), InvalidParameterError),
    (dict(bounds=(1, 0, 0, 1)), InvalidParameterError),
    (dict(bounds=(0, 1, 1, 0)), InvalidParameterError),
    (dict(bounds=(0, 0, float("nan"), 1)), InvalidParameterError),
    (dict(bounds=(0, 0, 1)), InvalidParameterError),
    (dict(srs="EPSG:0"), CRSError),
    (dict(srs="not a crs"), CRSError),
    (dict(bounds=(0, 0, 1, 1), bounds_srs="bogus"), CRSError),
    (dict(resolution=10, dimensions=(5, 5)), InvalidParameterError),
    (dict(mosaic_resolution="max"), InvalidParameterError),
]


@pytest.mark.parametrize("kwargs, exc", BAD)
def test_output_geobox_bad_input(kwargs, exc):
    with pytest.raises(exc) as info:
        output_geobox([_s1_like()], **kwargs)
    assert isinstance(info.value, RasterCoreError)


def test_output_geobox_bad_sources():
    with pytest.raises(InvalidParameterError):
        output_geobox([])
    with pytest.raises(InvalidParameterError):
        output_geobox([object()])


# --------------------------------------------------------------------------- calculate_default_transform


def _cdt_cases_gen():
    # rasterio's function describes the source by its bounds: north-up files with a CRS only
    # (the GCP-only file has no CRS; rotated/south-up files are compared with WarpedVRT below)
    for p in TIFS:
        with rasterio.open(p) as ds:
            t = ds.transform
            if ds.crs is None or t.b != 0 or t.d != 0 or t.e > 0:
                continue
        yield pytest.param(p, id=p.name)


@pytest.mark.parametrize("path", list(_cdt_cases_gen()))
def test_calculate_default_transform_parity(path):
    src, b, crs = _src(path)
    with rasterio.open(path) as ds:
        w, h = ds.width, ds.height
    compared = 0
    for dst in TARGETS:
        try:
            ref = rasterio.warp.calculate_default_transform(crs, dst, w, h, *b)
        except Exception:
            ref = None
        if ref is None:
            with pytest.raises(RasterCoreError):
                calculate_default_transform(src.crs, dst, w, h, *b)
            continue
        got = calculate_default_transform(src.crs, dst, w, h, *b)
        assert got[1:] == ref[1:], (dst, got, ref)
        assert _same_transform(got[0], ref[0]), (dst, got[0], ref[0])
        compared += 1
    assert compared >= 4


@pytest.mark.parametrize("name", ["RGB.byte.tif", "riotiler_cog.tif", "titiler_dem.tif", "nt_20201024_f18_nrt_s.tif"])
@pytest.mark.parametrize("dst", ["EPSG:4326", "EPSG:3857", "EPSG:3035"])
def test_calculate_default_transform_resolution_and_size(name, dst):
    path = next((p for p in TIFS if p.name == name), None)
    if path is None:
        pytest.skip(f"{name} absent")
    src, b, crs = _src(path)
    with rasterio.open(path) as ds:
        w, h = ds.width, ds.height
    res = 0.01 if dst == "EPSG:4326" else 777.0
    for kw in (dict(resolution=res), dict(resolution=(res, res * 1.5)), dict(dst_width=123, dst_height=77)):
        ref = rasterio.warp.calculate_default_transform(crs, dst, w, h, *b, **kw)
        got = calculate_default_transform(src.crs, dst, w, h, *b, **kw)
        assert got[1:] == ref[1:], kw
        assert _same_transform(got[0], ref[0]), kw


def test_calculate_default_transform_argument_errors():
    args = ("EPSG:32618", "EPSG:4326", 10, 10)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform(*args)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform(*args, 0, 0, 10)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform(*args, 0, 0, 10, 10, dst_width=5)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform(*args, 0, 0, 10, 10, resolution=1, dst_width=5, dst_height=5)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform(*args, 0, 0, 10, 10, resolution=-1)
    with pytest.raises(CRSError):
        calculate_default_transform("EPSG:32618", "nonsense", 10, 10, 0, 0, 10, 10)


@pytest.mark.parametrize("name", ["umbra_mount_yasur.tif", "south-up.tif", "RGB.byte.tif", "riotiler_cog_dateline.tif"])
@pytest.mark.parametrize("dst", ["EPSG:4326", "EPSG:3857", None])
def test_suggested_output_matches_warpedvrt(name, dst):
    """Rotated / south-up sources via src_transform: compare with WarpedVRT (GDALSuggestedWarpOutput2 too)."""
    path = next((p for p in TIFS if p.name == name), None)
    if path is None:
        pytest.skip(f"{name} absent")
    with rasterio.open(path) as ds:
        with rasterio.vrt.WarpedVRT(ds, crs=dst or ds.crs) as vrt:
            ref = (vrt.transform, vrt.width, vrt.height)
        got = calculate_default_transform(ds.crs.to_wkt(), dst or ds.crs.to_wkt(), ds.width, ds.height,
                                          src_transform=ds.transform)
    assert got[1:] == ref[1:]
    assert _same_transform(got[0], ref[0])


# --------------------------------------------------------------------------- transform_bounds

SPECIAL_BOXES = [
    ("EPSG:4326", (-180, -90, 180, 90)),
    ("EPSG:4326", (170, -10, -170, 10)),  # crosses the antimeridian
    ("EPSG:4326", (-180, 80, 180, 90)),
    ("EPSG:4326", (-50, -90, 50, -60)),
    ("EPSG:3413", (-3e6, -3e6, 3e6, 3e6)),  # contains the north pole
    ("EPSG:3031", (-3e6, -3e6, 3e6, 3e6)),  # contains the south pole
    ("EPSG:3857", (-2e7, -2e7, 2e7, 2e7)),
    ("EPSG:32660", (500000, 5500000, 900000, 6000000)),  # east of UTM 60 -> over 180 deg
]


def _tb_check(src_crs, box, dst, densify):
    try:
        ref = rasterio.warp.transform_bounds(src_crs, dst, *box, densify_pts=densify)
    except Exception:
        ref = None
    if ref is not None and not all(map(math.isfinite, ref)):
        ref = None
    src_in = src_crs.to_wkt() if hasattr(src_crs, "to_wkt") else src_crs
    if ref is None:
        with pytest.raises(RasterCoreError):
            transform_bounds(src_in, dst, *box, densify_pts=densify)
        return
    got = transform_bounds(src_in, dst, *box, densify_pts=densify)
    assert _same_transform(got, ref), (src_crs, box, dst, densify, got, ref)


@pytest.mark.parametrize("src_crs, box", SPECIAL_BOXES)
def test_transform_bounds_special_cases(src_crs, box):
    for dst in TARGETS + ["EPSG:32660", "EPSG:4326"]:
        for densify in (21, 2, 0):
            _tb_check(src_crs, box, dst, densify)


def _with_crs():
    out = []
    for p in TIFS:
        with rasterio.open(p) as ds:
            if ds.crs is not None:
                out.append(pytest.param(p, id=p.name))
    return out


@pytest.mark.parametrize("path", _with_crs())
def test_transform_bounds_files(path):
    _, b, crs = _src(path)
    box = (min(b.left, b.right), min(b.bottom, b.top), max(b.left, b.right), max(b.bottom, b.top))
    for dst in TARGETS:
        for densify in (21, 0):
            _tb_check(crs, box, dst, densify)


def test_transform_bounds_errors():
    with pytest.raises(InvalidParameterError):
        transform_bounds(4326, 3857, 0, 0, 1, 1, densify_pts=-1)
    with pytest.raises(InvalidParameterError):
        transform_bounds(4326, 3857, 0, 0, float("nan"), 1)
    with pytest.raises(InvalidParameterError):
        transform_bounds(3857, 4326, 0, 0, 1, 1, densify_pts=1)  # geographic output needs >= 2
    with pytest.raises(TransformError):
        transform_bounds(4326, "+proj=ortho +lat_0=0 +lon_0=0 +datum=WGS84", -120, -10, -100, 10)


# --------------------------------------------------------------------------- aligned_target


@settings(max_examples=50, deadline=None)
@given(
    x0=st.floats(-1e6, 1e6, allow_nan=False),
    y0=st.floats(-1e6, 1e6, allow_nan=False),
    res=st.sampled_from([0.5, 1.0, 10.0, 30.0, 200.0, 0.001, 333.3]),
    w=st.integers(1, 5000),
    h=st.integers(1, 5000),
    tres=st.sampled_from([1.0, 7.5, 30.0, 200.0, 0.01, (30.0, 60.0)]),
)
def test_aligned_target_matches_rasterio(x0, y0, res, w, h, tres):
    t = Affine(res, 0, x0, 0, -res, y0)
    ref = rasterio.warp.aligned_target(t, w, h, tres)
    got = aligned_target(t, w, h, tres)
    assert got[1:] == ref[1:]
    assert tuple(got[0])[:6] == tuple(ref[0])[:6]


@settings(max_examples=50, deadline=None)
@given(
    x0=st.floats(-1e6, 1e6, allow_nan=False),
    y0=st.floats(-1e6, 1e6, allow_nan=False),
    w=st.floats(1.0, 1e5),
    h=st.floats(1.0, 1e5),
    res=st.floats(0.1, 500.0),
)
def test_bounds_resolution_tap_properties(x0, y0, w, h, res):
    """-te/-tr(/-tap) rules: origin kept, size int(extent/res + .5), tap grid on multiples of res."""
    src = SourceGrid(UTM15, Affine(10, 0, x0, 0, -10, y0), 10, 10)
    b = (x0, y0 - h, x0 + w, y0)
    ew, eh = b[2] - b[0], b[3] - b[1]
    g = output_geobox([src], bounds=b, resolution=res)
    assert (g.transform.c, g.transform.f) == (x0, y0)
    assert g.width == max(1, int((ew + res / 2) / res)) and g.height == max(1, int((eh + res / 2) / res))
    if ew >= res / 2:
        assert abs(g.transform.c + g.width * res - b[2]) <= res / 2 + 1e-6 * max(1, abs(b[2]))
    tap = output_geobox([src], bounds=b, resolution=res, align_pixels=True)
    for v in (tap.transform.c / res, tap.transform.f / res):
        assert abs(v - round(v)) < 1e-6
    left, bottom, right, top = tap.bounds
    assert left <= x0 + 1e-6 * res and top >= y0 - 1e-6 * res
    assert right >= x0 + w - 1e-6 * max(1, res) - res / 2 and bottom <= y0 - h + res / 2 + 1e-6 * max(1, res)


def test_output_geobox_same_crs_keeps_native_grid():
    for p in TIFS:
        s = _src(p)
        if s is None:
            continue
        src = s[0]
        t = src.transform
        if t.b != 0 or t.d != 0 or t.e > 0:
            continue
        gb = output_geobox([src])
        assert gb == GeoBox(src.crs, src.transform, src.width, src.height), p.name


def test_output_geobox_pickle_and_purity():
    src = _s1_like()
    a = output_geobox([src], srs="EPSG:4326", resolution=0.001)
    b = output_geobox([pickle.loads(pickle.dumps(src))], srs="EPSG:4326", resolution=0.001)
    assert a == b
    assert pickle.loads(pickle.dumps(a)) == a


# --------------------------------------------------------------------------- GCP sources


def test_calculate_default_transform_gcps_parity():
    path = next((p for p in TIFS if p.name == "riotiler_cog_gcps.tif"), None)
    if path is None:
        pytest.skip("riotiler_cog_gcps.tif absent (shared data)")
    with rasterio.open(path) as ds:
        gcps, crs = ds.gcps
        w, h = ds.width, ds.height
    assert len(gcps) == 210
    for dst in ["EPSG:4326", "EPSG:3857", "EPSG:32633", "EPSG:3035", "EPSG:32617"]:
        for kw in ({}, {"resolution": 0.001 if dst == "EPSG:4326" else 100.0}, {"dst_width": 500, "dst_height": 400}):
            ref = rasterio.warp.calculate_default_transform(crs, dst, w, h, gcps=gcps, **kw)
            got = calculate_default_transform(crs.to_wkt(), dst, w, h, gcps=gcps, **kw)
            assert got[1:] == ref[1:], (dst, kw)
            assert _same_transform(got[0], ref[0]), (dst, kw)


def test_calculate_default_transform_synthetic_gcps():
    from rasterio.control import GroundControlPoint as GCP

    cases = [
        # 4 GCPs -> first-order polynomial
        [GCP(0, 0, 10.0, 50.0, 0.0), GCP(0, 100, 11.0, 50.1, 0.0), GCP(80, 0, 9.9, 49.2, 0.0),
         GCP(80, 100, 10.9, 49.3, 0.0)],
        # GCPs straddling the antimeridian (GDAL unwraps the longitudes)
        [GCP(r, c, (179.5 + 0.01 * c + 180) % 360 - 180, 60 - 0.01 * r, 0.0) for r in (0, 50, 100)
         for c in (0, 50, 100)],
    ]
    for gcps in cases:
        for dst in ["EPSG:4326", "EPSG:3857", "EPSG:3413"]:
            ref = rasterio.warp.calculate_default_transform("EPSG:4326", dst, 100, 100, gcps=gcps)
            got = calculate_default_transform("EPSG:4326", dst, 100, 100, gcps=gcps)
            assert got[1:] == ref[1:], (dst, got, ref)
            assert _same_transform(got[0], ref[0], rel=1e-8), (dst, got, ref)
    with pytest.raises(InvalidParameterError):
        calculate_default_transform("EPSG:4326", "EPSG:3857", 100, 100, 0, 0, 1, 1, gcps=cases[0])


# --------------------------------------------------------------------------- random grids

RANDOM_CRSS = ["EPSG:4326", "EPSG:3857", "EPSG:32633", "EPSG:32660", "EPSG:3035", "EPSG:3413", "EPSG:3031",
               "ESRI:54009", "EPSG:2056", "EPSG:27700", "EPSG:32718"]


def _area_of_use(crs):
    import pyproj

    a = pyproj.CRS(crs).area_of_use
    return (-180.0, -90.0, 180.0, 90.0) if a is None else (a.west, a.south, a.east, a.north)


# Random examples in every run. Boxes cut along areas of use put points exactly on the edges of the
# candidate operations' areas: tests/conftest.py gives pyproj the oracle's EPSG database (whose
# areas of use differ from pyproj's own) and the transformer factory counts points on an edge as
# inside (tests/test_transformers_gdal.py). GRID_HYP_EXAMPLES=500 explores more.
@settings(max_examples=int(os.environ.get("GRID_HYP_EXAMPLES", 60)), deadline=None)
@given(
    src=st.sampled_from(RANDOM_CRSS), dst=st.sampled_from(RANDOM_CRSS),
    u=st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1), st.floats(0.01, 1)),
    size=st.tuples(st.integers(1, 3000), st.integers(1, 3000)),
    densify=st.sampled_from([0, 2, 21]),
)
@example(src="EPSG:3035", dst="EPSG:27700", u=(0.0, 0.0, 0.0625, 0.015625), size=(1, 1), densify=0)
def test_random_grids_vs_rasterio(src, dst, u, size, densify):
    """calculate_default_transform and transform_bounds on random boxes inside both CRSs' areas of use."""
    a, b = _area_of_use(src), _area_of_use(dst)
    w, s, e, n = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if e - w < 0.02 or n - s < 0.02:
        return
    lon0 = w + u[0] * (e - w) * 0.9
    lat0 = s + u[1] * (n - s) * 0.9
    lon1 = min(e, lon0 + u[2] * (e - lon0))
    lat1 = min(n, lat0 + u[3] * (n - lat0))
    if lon1 - lon0 < 1e-3 or lat1 - lat0 < 1e-3:
        return
    box = rasterio.warp.transform_bounds("EPSG:4326", src, lon0, lat0, lon1, lat1)
    assert _same_transform(transform_bounds("EPSG:4326", src, lon0, lat0, lon1, lat1), box)
    try:
        ref = rasterio.warp.transform_bounds(src, dst, *box, densify_pts=densify)
    except Exception:
        ref = None
    if ref is None or not all(map(math.isfinite, ref)):
        with pytest.raises(RasterCoreError):
            transform_bounds(src, dst, *box, densify_pts=densify)
    else:
        got = transform_bounds(src, dst, *box, densify_pts=densify)
        # 1e-8 of the box's largest coordinate: pyproj's PROJ 9.5 and GDAL's 9.7 invert EPSG:3035
        # (Lambert azimuthal equal-area) up to ~1 mm apart, which near a zero coordinate (EPSG:3035
        # -> EPSG:27700, y = -17196 m: 0.4 mm) is more than 1e-8 of that coordinate
        scale = max(1.0, *(abs(v) for v in ref))
        assert all(abs(g - r) <= 1e-8 * scale for g, r in zip(got, ref, strict=True)), (got, ref)
    W, H = size
    ref = rasterio.warp.calculate_default_transform(src, dst, W, H, *box)
    if min(ref[1:]) < 1:  # GDAL suggests an empty grid; raster_core raises a typed error instead
        with pytest.raises(TransformError):
            calculate_default_transform(src, dst, W, H, *box)
        return
    got = calculate_default_transform(src, dst, W, H, *box)
    assert got[1:] == ref[1:]
    # the grid comes from the same transformed boxes, so the same PROJ difference applies, relative
    # to the grid's largest coordinate (EPSG:3035 -> EPSG:27700 on a 1 x 1 grid of 43.6 km pixels:
    # y origin 34320.8479 vs 34320.8483 m, 1.0e-8 of it but 3e-9 of the x origin)
    scale = max(1.0, *(abs(v) for v in tuple(ref[0])[:6]))
    assert all(abs(g - r) <= 1e-8 * scale for g, r in zip(tuple(got[0])[:6], tuple(ref[0])[:6], strict=True)), (
        got[0], ref[0])
