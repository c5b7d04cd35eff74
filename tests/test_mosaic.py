"""Painter's mosaic and alpha rules (spec §2.4), with GDAL's warper mosaic as the oracle.

GDAL mosaics several sources by warping each into the same destination in order, without
re-initialising it (rasterio: ``reproject(..., init_dest_nodata=False)`` after the first).
Here rasterio warps every layer onto the output grid; our :func:`mosaic` paints those
layers and must equal GDAL's painter exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.errors import InvalidParameterError, ShapeError
from raster_core.mosaic import Mosaic, mosaic, nodata_valid, unified_valid
from tests.conftest import data_file

rasterio = pytest.importorskip("rasterio")
from rasterio.warp import Resampling, reproject  # noqa: E402


def _warp_layer(path, dst_shape, dst_transform, dst_crs, dtype):
    with rasterio.open(path) as src:
        out = np.zeros((src.count,) + dst_shape, dtype=dtype)
        reproject(
            rasterio.band(src, list(range(1, src.count + 1))), out, dst_transform=dst_transform, dst_crs=dst_crs,
            resampling=Resampling.nearest, dst_nodata=0,
        )
    return out


def _gdal_painter(paths, dst_shape, dst_transform, dst_crs, count, dtype):
    out = np.zeros((count,) + dst_shape, dtype=dtype)
    for i, path in enumerate(paths):
        with rasterio.open(path) as src:
            reproject(
                rasterio.band(src, list(range(1, src.count + 1))), out, dst_transform=dst_transform,
                dst_crs=dst_crs, resampling=Resampling.nearest, dst_nodata=0, init_dest_nodata=(i == 0),
            )
    return out


def test_rgb_tiles_reassemble_rgb_byte_exactly():
    """rgb1-rgb4 are tiles of RGB.byte.tif: placed at their (integer) offsets and mosaicked
    with nodata 0 they rebuild the original, as GDAL's painter does."""
    full_path = data_file("RGB.byte.tif")
    with rasterio.open(full_path) as ds:
        full, t = ds.read(), ds.transform
    layers, valids = [], []
    for name in ("rgb1.tif", "rgb2.tif", "rgb3.tif", "rgb4.tif"):
        with rasterio.open(data_file(name)) as ds:
            col = (ds.transform.c - t.c) / t.a
            row = (ds.transform.f - t.f) / t.e
            assert abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6
            col, row = int(round(col)), int(round(row))
            tile = ds.read()
            layer = np.zeros_like(full)
            layer[:, row:row + ds.height, col:col + ds.width] = tile
            valid = np.zeros(full.shape[1:], bool)
            valid[row:row + ds.height, col:col + ds.width] = unified_valid(
                np.stack([nodata_valid(b, ds.nodata) for b in tile]))
            layers.append(layer)
            valids.append(valid)
    for order in (slice(None), slice(None, None, -1)):
        data, valid = mosaic(layers[order], valids[order])
        np.testing.assert_array_equal(data, full)
        np.testing.assert_array_equal(valid[0], unified_valid(full != 0))
    gdal = _gdal_painter([data_file(n) for n in ("rgb1.tif", "rgb2.tif", "rgb3.tif", "rgb4.tif")],
                         full.shape[1:], t, "EPSG:32618", 3, np.uint8)
    np.testing.assert_array_equal(mosaic(layers, valids)[0], gdal)


@pytest.mark.parametrize("reverse", [False, True])
def test_overlapping_scenes_match_gdal_painter(reverse):
    """rgbn_suba/subb overlap (nodata 0, a 0.4-pixel shift): each is warped by GDAL onto the
    union grid, our painter must equal GDAL's own mosaic in both orders."""
    from rasterio.transform import from_origin

    paths = [data_file("rgbn_suba.tif"), data_file("rgbn_subb.tif")]
    if reverse:
        paths = paths[::-1]
    bounds = []
    for p in paths:
        with rasterio.open(p) as ds:
            bounds.append(ds.bounds)
    left, top = min(b.left for b in bounds), max(b.top for b in bounds)
    right, bottom = max(b.right for b in bounds), min(b.bottom for b in bounds)
    res = 5.0
    shape = (int(round((top - bottom) / res)), int(round((right - left) / res)))
    t = from_origin(left, top, res, res)
    layers = [_warp_layer(p, shape, t, "EPSG:32618", np.uint8) for p in paths]
    valids = [unified_valid(layer != 0) for layer in layers]
    ours, valid = mosaic(layers, valids)
    gdal = _gdal_painter(paths, shape, t, "EPSG:32618", 4, np.uint8)
    np.testing.assert_array_equal(ours, gdal)
    overlap = valids[0] & valids[1]
    assert overlap.sum() > 1000  # the scenes really overlap, and the last one is on top there
    np.testing.assert_array_equal(ours[:, overlap], layers[1][:, overlap])
    np.testing.assert_array_equal(valid[0], valids[0] | valids[1])


def test_alpha_rules():
    # two RGBA layers (alpha last): combine only where alpha == 1
    a = np.zeros((4, 2, 3), np.uint16)
    a[:3] = 100
    a[3] = [[1, 1, 0], [0, 0, 0]]
    b = np.zeros((4, 2, 3), np.uint16)
    b[:3] = 200
    b[3] = [[0, 1, 1], [0, 0, 0]]
    b[:3, 1, 0] = 999  # compression artefact under alpha 0: must not show
    data, valid = mosaic([a, b], alpha_last=True)
    np.testing.assert_array_equal(data[0], [[100, 200, 200], [0, 0, 0]])
    np.testing.assert_array_equal(data[3], [[1, 1, 1], [0, 0, 0]])
    assert valid.shape == (4, 2, 3)
    np.testing.assert_array_equal(valid[3], [[True, True, True], [False, False, False]])
    assert (valid == valid[3]).all()  # the alpha masks every band, itself included
    # without the alpha rules (alpha not last) the artefact at (1, 0) overwrites
    data2, _ = mosaic([a, b])
    assert data2[0, 1, 0] == 999 and data2[0, 0, 0] == 200
    # footprint validity still applies with alpha
    data3, _ = mosaic([a, b], [None, np.array([[True, False, True], [True, True, True]])], alpha_last=True)
    np.testing.assert_array_equal(data3[0, 0], [100, 100, 200])


def test_alpha_not_one_is_transparent():
    """Only alpha == 1 is opaque (a bilinear-resampled alpha of 0.5 is transparent)."""
    a = np.array([[[1.0, 2.0]], [[1.0, 1.0]]])
    b = np.array([[[5.0, 6.0]], [[0.5, 1.0]]])
    data, _ = mosaic([a, b], alpha_last=True)
    np.testing.assert_array_equal(data[:, 0], [[1.0, 6.0], [1.0, 1.0]])


def test_per_band_validity_and_order():
    a = np.array([[[1, 1]], [[1, 1]]], np.int16)
    b = np.array([[[2, 2]], [[2, 2]]], np.int16)
    vb = np.array([[[True, False]], [[False, True]]])
    data, valid = mosaic([a, b], [None, vb])
    np.testing.assert_array_equal(data[:, 0], [[2, 1], [1, 2]])
    data, valid = mosaic([b, a], [vb, np.zeros((1, 2), bool)])
    np.testing.assert_array_equal(data[:, 0], [[2, 0], [0, 2]])
    np.testing.assert_array_equal(valid[:, 0], vb[:, 0])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 4), seed=st.integers(0, 2**31 - 1), alpha=st.booleans())
def test_mosaic_equals_reference_loop(n, seed, alpha):
    """The accumulator equals the spec's algorithm written out pixel by pixel."""
    rng = np.random.default_rng(seed)
    layers = [rng.integers(0, 5, (3, 4, 5)).astype(np.uint8) for _ in range(n)]
    if alpha:
        for layer in layers:
            layer[-1] = rng.integers(0, 2, (4, 5))
    valids = [rng.random((4, 5)) < 0.7 for _ in range(n)]
    data, valid = mosaic(layers, valids, alpha_last=alpha)
    ref = np.zeros((3, 4, 5), np.uint8)
    ref_valid = np.zeros((4, 5), bool)
    for layer, v in zip(layers, valids, strict=True):
        for r in range(4):
            for c in range(5):
                ok = v[r, c] and (not alpha or layer[-1, r, c] == 1)
                if ok:
                    ref[:, r, c] = layer[:, r, c]
                    ref_valid[r, c] = True
    if alpha:
        ref[-1] = ref_valid
    np.testing.assert_array_equal(data, ref)
    np.testing.assert_array_equal(valid[0], ref_valid)


def test_mosaic_errors():
    with pytest.raises(ShapeError):
        mosaic([])
    with pytest.raises(ShapeError):
        mosaic([np.zeros((1, 2, 2)), np.zeros((1, 3, 2))])
    with pytest.raises(ShapeError):
        mosaic([np.zeros((1, 2, 2))], [np.zeros((3, 3), bool)])
    with pytest.raises(ShapeError):
        mosaic([np.zeros((1, 2, 2))], [None, None])
    m = Mosaic(1, 2, 2, np.uint8)
    m.add(np.ones((2, 2)))  # 2-D = one band
    assert m.result()[0].sum() == 4


def test_nodata_valid_gdal_rules():
    assert nodata_valid(np.array([0, 1], np.uint8), 0.3).tolist() == [True, True]  # not exact: discarded
    assert nodata_valid(np.array([0, 1], np.uint8), -1).tolist() == [True, True]  # out of range: ignored
    assert nodata_valid(np.array([1.0, np.nan], np.float32), float("nan")).tolist() == [True, False]
    # float32 sums overflow to inf in GDAL's comparison, so huge values near nodata match
    f = np.array([-3.3e38, -3.3999999521443642e38, 0.0, -1e30], np.float32)
    assert nodata_valid(f, -3.3999999521443642e38).tolist() == [False, False, True, True]
    assert nodata_valid(f, -3.4e38).tolist() == [True] * 4  # not a float32 value: discarded
    assert nodata_valid(np.array([5, 6]), None).tolist() == [True, True]
    assert nodata_valid(np.array([-9999.003, -9999.01, 3.0]), -9999.0).tolist() == [False, True, True]


@pytest.mark.parametrize(
    "dtype, nodata, values",
    [
        (np.uint8, 0, [0, 1, 255, 0]),
        (np.uint16, 0.3, [0, 1, 2, 3]),
        (np.int16, 32767, [32767, -32768, 0, 32766]),
        (np.int32, -9999, [-9999, -9998, 0, 1]),
        (np.float32, float(np.float32(-3.4e38)), [-3.3e38, -3.4e38, 5.0, -1e38, -1e30]),
        (np.float32, -9999.0, [-9999.0, -9999.001, -9998.0, 0.0]),
        (np.float64, -9999.0, [-9999.003, -9999.01, -9999.0, 1.0]),
        (np.float32, float("nan"), [float("nan"), 1.0, 0.0]),
    ],
)
def test_nodata_valid_matches_gdal_warper(dtype, nodata, values):
    """Identity warp with src_nodata: the pixels GDAL leaves unwritten are the invalid ones."""
    from rasterio.transform import from_origin

    src = np.array([values], dtype=dtype)
    fill = 7
    dst = np.full(src.shape, fill, dtype=dtype)
    t = from_origin(0, 10, 1, 1)
    reproject(src, dst, src_transform=t, dst_transform=t, src_crs="EPSG:32618", dst_crs="EPSG:32618",
              src_nodata=nodata, dst_nodata=fill, resampling=Resampling.nearest)
    gdal_valid = dst[0] != fill
    np.testing.assert_array_equal(nodata_valid(src[0], nodata), gdal_valid)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mosaic_without_validity_has_the_same_values(data):
    """``Mosaic(track_valid=False).values()`` equals the values of ``result()``, for layers over
    any windows (the first one over the whole grid, taken, or not) with or without masks."""
    nb, h, w = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    fill = data.draw(st.sampled_from([0, 3, 255]))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    kept, lean = Mosaic(nb, h, w, np.uint8, fill=fill), Mosaic(nb, h, w, np.uint8, fill=fill, track_valid=False)
    for k in range(data.draw(st.integers(0, 4))):
        r0 = 0 if k == 0 and data.draw(st.booleans()) else data.draw(st.integers(0, h))
        c0 = 0 if r0 == 0 and k == 0 else data.draw(st.integers(0, w))
        r1 = h if r0 == 0 and c0 == 0 and k == 0 else data.draw(st.integers(r0, h))
        c1 = w if r0 == 0 and c0 == 0 and k == 0 else data.draw(st.integers(c0, w))
        layer = rng.integers(0, 256, (nb, r1 - r0, c1 - c0)).astype(np.uint8)
        valid = data.draw(st.sampled_from([None, "2d", "3d"]))
        mask = None if valid is None else rng.random((r1 - r0, c1 - c0) if valid == "2d" else layer.shape) < 0.6
        kept.add(layer.copy(), None if mask is None else mask.copy(), window=(r0, r1, c0, c1), take=True)
        lean.add(layer.copy(), None if mask is None else mask.copy(), window=(r0, r1, c0, c1), take=True)
    np.testing.assert_array_equal(lean.values(), kept.result()[0])
    with pytest.raises(InvalidParameterError, match="no validity"):
        lean.result()
