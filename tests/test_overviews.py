"""raster_core.overviews vs gdalwarp's own overview choice (-ovr AUTO, GDAL 3.10.3).

The oracle: GDALWarp() from rasterio's bundled libgdal with CPL_DEBUG on; gdalwarp logs
"Selecting overview level N" when it warps from an overview (nothing when it uses the
full-resolution image). A second check warps with -ovr AUTO and with -ovr N and compares
the pixels.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.errors import InvalidParameterError
from raster_core.grid import GeoBox, SourceGrid, output_geobox
from raster_core.overviews import (
    choose_overview_level,
    overview_shapes_from_factors,
    overview_transform,
    target_ratio,
)
from tests.test_grid_gdalwarp import _find, _source, gdalwarp

rasterio = pytest.importorskip("rasterio")


def _overview_shapes(path):
    with rasterio.open(path) as ds:
        n = len(ds.overviews(1))
    shapes = []
    for k in range(n):
        with rasterio.open(path, overview_level=k) as o:
            shapes.append((o.height, o.width))
    return shapes


def _gdal_choice(log: str) -> int:
    m = re.findall(r"Selecting overview level (\d+)", log)
    return int(m[-1]) if m else -1


COGS = ["riotiler_cog.tif", "titiler_TCI.tif", "riotiler_mosaic_cog1.tif", "riotiler_web.tif",
        "riotiler_cog_dateline.tif", "titiler_B01.tif", "titiler_above_cog.tif", "riotiler_cog_int16.tif"]
PRESENT = [c for c in COGS if _find(c) is not None]


def _factors():
    # (avoid decimation - 0.1 exactly: there the choice flips on the last bit of the ratio)
    return [1.0, 1.5, 1.95, 2.0, 2.05, 2.6, 3.85, 3.95, 4.0, 4.5, 7.0, 8.1, 12.0, 16.0, 20.0, 31.0, 40.0]


@pytest.mark.parametrize("name", PRESENT)
@pytest.mark.parametrize("dst", [None, "EPSG:3857", "EPSG:4326"])
def test_overview_choice_matches_gdalwarp_tr(name, dst):
    """gdalwarp [-t_srs X] -tr R: the suggested-output rule."""
    path = _find(name)
    src = _source(path)
    shapes = _overview_shapes(path)
    assert shapes
    base = output_geobox([src], srs=dst) if dst else output_geobox([src])
    checked = 0
    for f in _factors():
        r = base.resolution[0] * f
        kw = {"srs": dst} if dst else {}
        args = (["-t_srs", dst] if dst else []) + ["-tr", repr(r), repr(r)]
        grid, log = gdalwarp([path], args, capture_debug=True)
        gb = output_geobox([src], resolution=r, **kw)
        ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs,
                                     explicit_grid=False)
        assert ours == _gdal_choice(log), (name, dst, f, ours, _gdal_choice(log))
        checked += 1
    assert checked == len(_factors())


@pytest.mark.parametrize("name", PRESENT)
def test_overview_choice_matches_gdalwarp_te_tr(name):
    """gdalwarp -te ... -tr R (and -ts): the 10 x 10 corresponding-window rule."""
    path = _find(name)
    src = _source(path)
    shapes = _overview_shapes(path)
    b = GeoBox.from_grid(src).bounds
    w, h = b[2] - b[0], b[3] - b[1]
    bb = (b[0] + 0.1 * w, b[1] + 0.2 * h, b[2] - 0.05 * w, b[3] - 0.15 * h)
    te = ["-te"] + [repr(v) for v in bb]
    for f in _factors():
        r = src.transform.a * f if src.transform.b == 0 else 1.0 * f
        grid, log = gdalwarp([path], te + ["-tr", repr(r), repr(r)], capture_debug=True)
        gb = output_geobox([src], bounds=bb, resolution=r)
        ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs)
        assert ours == _gdal_choice(log), (name, f)
    for size in [(40, 30), (300, 310), (900, 100)]:
        grid, log = gdalwarp([path], te + ["-ts", str(size[0]), str(size[1])], capture_debug=True)
        gb = output_geobox([src], bounds=bb, dimensions=size)
        ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs)
        assert ours == _gdal_choice(log), (name, size)


def test_overview_choice_reprojected_te_ts():
    path = _find("riotiler_cog.tif")
    src = _source(path)
    shapes = _overview_shapes(path)
    for dst, bb in [("EPSG:3857", (-6.5e6, 1.2e7, -5.8e6, 1.27e7)), ("EPSG:4326", (-58.0, 72.5, -52.0, 74.5))]:
        for size in [(64, 64), (256, 200), (700, 650), (2000, 1500)]:
            args = ["-t_srs", dst, "-te"] + [repr(v) for v in bb] + ["-ts", str(size[0]), str(size[1])]
            grid, log = gdalwarp([path], args, capture_debug=True)
            gb = output_geobox([src], srs=dst, bounds=bb, dimensions=size)
            ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs)
            assert ours == _gdal_choice(log), (dst, size)


def test_overview_pixels_equal_warping_the_chosen_level():
    """Independent of the debug log: -ovr AUTO output == -ovr <our level> output."""
    path = _find("riotiler_cog.tif")
    src = _source(path)
    shapes = _overview_shapes(path)
    for f in (1.5, 2.5, 5.0, 10.0, 20.0):
        r = src.transform.a * f
        gb = output_geobox([src], resolution=r)
        lvl = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs,
                                    explicit_grid=False)
        a = _warp_pixels(path, ["-tr", repr(r), repr(r), "-r", "near"])
        b = _warp_pixels(path, ["-tr", repr(r), repr(r), "-r", "near", "-ovr", "NONE" if lvl < 0 else str(lvl)])
        assert np.array_equal(a, b), f
        if lvl >= 0:  # and it differs from another level (the comparison has power)
            c = _warp_pixels(path, ["-tr", repr(r), repr(r), "-r", "near", "-ovr", "NONE"])
            assert not np.array_equal(a, c)


def _warp_pixels(path, args):
    import uuid

    from tests import test_grid_gdalwarp as g

    g.gdalwarp([path], args)  # ensures the library is loaded
    lib = g._LIB
    import ctypes

    name = f"/vsimem/ovr_{uuid.uuid4().hex}.tif".encode()
    from rasterio.env import Env

    with Env():
        h = lib.GDALOpen(str(path).encode(), 0)
        full = list(args) + ["-of", "GTiff"]
        argv = (ctypes.c_char_p * (len(full) + 1))(*[a.encode() for a in full], None)
        opts = lib.GDALWarpAppOptionsNew(argv, None)
        arr = (ctypes.c_void_p * 1)(h)
        err = ctypes.c_int(0)
        out = lib.GDALWarp(name, None, 1, arr, opts, ctypes.byref(err))
        lib.GDALWarpAppOptionsFree(opts)
        lib.GDALClose(out)
        lib.GDALClose(h)
        with rasterio.open(name.decode()) as o:
            data = o.read()
        lib.VSIUnlink(name)
    return data


# ----------------------------------------------------------------------------- unit rules


def _grid(res, n):
    return GeoBox("EPSG:32633", Affine(res, 0, 0, 0, -res, 16000), n, n)


TF = Affine(10, 0, 0, 0, -10, 16000)


@pytest.mark.parametrize(
    "dst_res, expected",
    [(10, -1), (15, -1), (19.5, 0), (20, 0), (25, 0), (38, 0), (39.5, 1), (40, 1), (41, 1), (78, 1), (79.5, 2),
     (100, 2), (160, 3), (400, 3)],
)
def test_choice_rule_same_crs(dst_res, expected):
    n = int(16000 / dst_res)
    got = choose_overview_level(TF, (1600, 1600), [2, 4, 8, 16], _grid(dst_res, n), "EPSG:32633")
    assert got == expected


def test_ovr_option_variants():
    gb = _grid(100, 160)  # ratio 10 -> level 2 (x8)
    args = (TF, (1600, 1600), [2, 4, 8, 16], gb, "EPSG:32633")
    assert choose_overview_level(*args) == 2
    assert choose_overview_level(*args, ovr="AUTO-1") == 1
    assert choose_overview_level(*args, ovr="AUTO-5") == -1
    assert choose_overview_level(*args, ovr="NONE") == -1
    assert choose_overview_level(*args, ovr=0) == 0
    assert choose_overview_level(*args, ovr=9) == 3  # missing level -> last one, as gdalwarp
    assert choose_overview_level(TF, (1600, 1600), [], gb, "EPSG:32633") == -1
    for bad in ("auto-x", "SOME", -1, 1.5):
        with pytest.raises(InvalidParameterError):
            choose_overview_level(*args, ovr=bad)


def test_sixteenth_resolution_reads_a_256th():
    """The Raster API's 1/16 request of a COG picks the x16 overview: 1/256 of the pixels."""
    gb = _grid(160, 100)
    shapes = overview_shapes_from_factors((1600, 1600), [2, 4, 8, 16])
    lvl = choose_overview_level(TF, (1600, 1600), shapes, gb, "EPSG:32633")
    assert lvl == 3
    oh, ow = shapes[lvl]
    assert (oh * ow) / (1600 * 1600) == 1 / 256
    assert overview_transform(TF, (1600, 1600), shapes[lvl]) == Affine(160, 0, 0, 0, -160, 16000)
    assert target_ratio(TF, (1600, 1600), gb, "EPSG:32633") == pytest.approx(16.0)


def test_overview_helpers():
    assert overview_shapes_from_factors((2667, 2658), [2, 4, 8, 16]) == [(1334, 1329), (667, 665), (334, 333),
                                                                       (167, 167)]
    path = _find("riotiler_cog.tif")
    if path is not None:
        assert _overview_shapes(path) == overview_shapes_from_factors((2667, 2658), [2, 4, 8, 16])
    with pytest.raises(InvalidParameterError):
        overview_shapes_from_factors((10, 10), [0])
    with pytest.raises(InvalidParameterError):
        choose_overview_level(TF, (1600, 1600), ["x"], _grid(100, 10), "EPSG:32633")


def test_overview_choice_gcp_source():
    path = _find("riotiler_cog_gcps.tif")
    if path is None:
        pytest.skip("riotiler_cog_gcps.tif absent (shared data)")
    with rasterio.open(path) as ds:
        gcps, crs = ds.gcps
        src = SourceGrid(crs.to_wkt(), ds.transform, ds.width, ds.height, gcps=gcps)
    shapes = _overview_shapes(path)
    base = output_geobox([src], srs="EPSG:32617")
    for f in _factors():
        r = base.resolution[0] * f
        _, log = gdalwarp([path], ["-t_srs", "EPSG:32617", "-tr", repr(r), repr(r)], capture_debug=True)
        gb = output_geobox([src], srs="EPSG:32617", resolution=r)
        ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs,
                                     explicit_grid=False, gcps=gcps)
        assert ours == _gdal_choice(log), f


def _cogs_with_overviews():
    from tests.conftest import DATA, shared_tifs

    names = set()
    for p in list(DATA.glob("*.tif")) + shared_tifs():
        with rasterio.open(p) as ds:
            if ds.crs is not None and ds.overviews(1):
                names.add(p.name)
    return sorted(names)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(_cogs_with_overviews()),
    dst=st.sampled_from([None, "EPSG:4326", "EPSG:3857", "EPSG:3035", "EPSG:32633"]),
    mode=st.sampled_from(["tr", "tap", "ts", "te_tr", "te_ts"]),
    fres=st.floats(0.5, 40.0),
    fx=st.tuples(st.floats(0.0, 0.45), st.floats(0.55, 1.0)),
    fy=st.tuples(st.floats(0.0, 0.45), st.floats(0.55, 1.0)),
    ts=st.tuples(st.integers(1, 900), st.integers(1, 900)),
)
def test_overview_choice_hypothesis_vs_gdalwarp(name, dst, mode, fres, fx, fy, ts):
    path = _find(name)
    src = _source(path)
    shapes = _overview_shapes(path)
    base = output_geobox([src], srs=dst) if dst else output_geobox([src])
    res = base.resolution[0] * fres
    left, bottom, right, top = base.bounds
    bb = (left + fx[0] * (right - left), bottom + fy[0] * (top - bottom),
          left + fx[1] * (right - left), bottom + fy[1] * (top - bottom))
    kw = {"srs": dst} if dst else {}
    args = ["-t_srs", dst] if dst else []
    if mode in ("tr", "tap", "te_tr"):
        kw["resolution"] = res
        args += ["-tr", repr(res), repr(res)]
    if mode == "tap":
        kw["align_pixels"] = True
        args += ["-tap"]
    if mode in ("ts", "te_ts"):
        kw["dimensions"] = ts
        args += ["-ts", str(ts[0]), str(ts[1])]
    if mode.startswith("te"):
        kw["bounds"] = bb
        args += ["-te"] + [repr(v) for v in bb]
    _, log = gdalwarp([path], args, capture_debug=True)
    gb = output_geobox([src], **kw)
    ours = choose_overview_level(src.transform, (src.height, src.width), shapes, gb, src.crs,
                                 explicit_grid=mode.startswith("te"))
    assert ours == _gdal_choice(log)
