"""The DEFLATE tile path of local reads (one read of a window's tiles, each inflated into one
buffer) gives tifffile's pixels, and tifffile's result or error where a tile is not whole."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raster_core
from raster_core.errors import RasterReadError
from raster_core.io.geotiff import Dataset

# (dtype, samples, planar, predictor, byte order)
LAYOUTS = [
    ("uint8", 1, False, False, "<"),
    ("uint16", 1, False, False, "<"),
    ("uint16", 1, False, True, "<"),
    ("int16", 1, False, True, "<"),
    ("int32", 1, False, True, "<"),
    ("uint8", 3, False, True, "<"),
    ("uint16", 3, True, True, "<"),
    ("float32", 1, False, False, "<"),
    ("float32", 1, False, True, "<"),   # floating-point predictor: tifffile decodes it
    ("uint16", 1, False, True, ">"),    # big-endian: tifffile decodes it
]
INFLATED = [(d, s, p, pr, b) for d, s, p, pr, b in LAYOUTS if not (d == "float32" and pr) and b == "<"]


def _write(path, dtype, samples, planar, predictor, byteorder, shape=(150, 170), seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        data = rng.normal(0, 1000, (*shape, samples)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        # smooth rows with jumps: horizontal differences wrap around for some pixels
        data = (np.cumsum(rng.integers(-40, 40, (*shape, samples)), axis=1) + rng.integers(info.min, info.max)).astype(
            dtype)
    if planar:
        data = np.moveaxis(data, -1, 0)
    elif samples == 1:
        data = data[..., 0]
    tifffile.imwrite(path, data, tile=(32, 48), compression="zlib", byteorder=byteorder,
                     predictor=2 if predictor and np.dtype(dtype).kind != "f" else (3 if predictor else None),
                     planarconfig="separate" if planar else "contig",
                     photometric="rgb" if samples == 3 else "minisblack")
    truth = tifffile.imread(path)
    if planar:
        return truth
    return truth[np.newaxis] if samples == 1 else np.moveaxis(truth, -1, 0)


@pytest.mark.parametrize("layout", LAYOUTS, ids=["-".join(map(str, lay)) for lay in LAYOUTS])
def test_window_reads_equal_tifffile(tmp_path, layout):
    path = tmp_path / "a.tif"
    truth = _write(path, *layout)
    with raster_core.open(path) as ds:
        assert bool(ds._main.inflate) == (layout in INFLATED)
        for col, row, w, h in [(0, 0, 170, 150), (5, 7, 100, 90), (47, 31, 2, 2), (48, 32, 48, 32), (169, 149, 1, 1)]:
            got = ds.read(window=(col, row, w, h), num_threads=1)
            np.testing.assert_array_equal(got, truth[:, row:row + h, col:col + w])
            assert got.dtype == truth.dtype.newbyteorder("=")
        # a band list out of order and repeated, and the pool path
        if truth.shape[0] == 3:
            np.testing.assert_array_equal(ds.read([3, 1, 3], num_threads=1), truth[[2, 0, 2]])
        np.testing.assert_array_equal(ds.read(num_threads=2), truth)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.sampled_from(INFLATED), data=st.data())
def test_any_window_equals_the_tile_by_tile_path(tmp_path_factory, layout, data):
    path = tmp_path_factory.mktemp("inflate") / "a.tif"
    truth = _write(path, *layout, shape=(97, 131), seed=data.draw(st.integers(0, 3)))
    col = data.draw(st.integers(0, 130))
    row = data.draw(st.integers(0, 96))
    w = data.draw(st.integers(1, 131 - col))
    h = data.draw(st.integers(1, 96 - row + 1))
    with raster_core.open(path) as ds:
        got = ds.read(window=(col, row, w, h), num_threads=1)
        plain = dataclasses.replace(ds._main, inflate=0)
        ref = ds._read_level(plain, list(range(truth.shape[0])), (col, row, w, h), 0, 1)
    np.testing.assert_array_equal(got, truth[:, row:row + h, col:col + w])
    np.testing.assert_array_equal(got, ref)


def test_a_tile_that_is_not_whole_goes_through_tifffile(tmp_path, monkeypatch):
    path = tmp_path / "a.tif"
    truth = _write(path, "uint16", 1, False, True, "<")
    with raster_core.open(path) as ds:
        level = ds._main
        spans = Dataset._read_local_span

        def damaged(self, lv, indexes):  # tile 1 cut short: its stream ends early
            fetched = spans(self, lv, indexes)
            if fetched is not None and 1 in fetched:
                fetched[1] = fetched[1][: len(fetched[1]) // 2]
            return fetched

        monkeypatch.setattr(Dataset, "_read_local_span", damaged)
        decoded: list[int] = []
        decode_bytes = Dataset._decode_bytes

        def counting(self, lv, index, data):
            decoded.append(index)
            return decode_bytes(self, lv, index, data)

        monkeypatch.setattr(Dataset, "_decode_bytes", counting)
        with pytest.raises(RasterReadError, match="cannot decode segment 1"):
            ds.read(window=(0, 0, 96, 32), num_threads=1)
        assert decoded == [1]
        # tiles that are whole are not affected
        np.testing.assert_array_equal(ds.read(window=(0, 32, 96, 32), num_threads=1), truth[:, 32:64, :96])
        assert level.inflate == 2
