"""Packed tap loads (raster_core._kernels.words): one word holds ``ntaps`` adjacent values and
``lane`` gives each back bit for bit, for every source dtype the warp kernels take."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from raster_core._kernels.words import LITTLE_ENDIAN, lane, load_word, packs

pytestmark = pytest.mark.skipif(not LITTLE_ENDIAN, reason="packed loads are little-endian only")


@numba.njit(cache=True)
def _unpack4(a, i):
    w = load_word(a, np.uint64(i), 4)
    return lane(w, 0, a), lane(w, 1, a), lane(w, 2, a), lane(w, 3, a)


@numba.njit(cache=True)
def _unpack2(a, i):
    w = load_word(a, np.uint64(i), 2)
    return lane(w, 0, a), lane(w, 1, a)


@numba.njit(cache=True)
def _packs(a, ntaps):
    return packs(a, 2) if ntaps == 2 else packs(a, 4)


def _values(dtype: np.dtype, n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    if dtype.kind == "f":
        v = rng.normal(0, 1e3, n).astype(dtype)
        v[:6] = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).tiny / 2, np.finfo(dtype).max]
        return v
    info = np.iinfo(dtype)
    v = rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)
    v[:3] = [info.min, info.max, 0]
    return v


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16"])
def test_four_taps_in_one_word(dtype):
    a = _values(np.dtype(dtype), 61)
    assert _packs(a, 4)
    for i in range(a.size - 3):
        got = np.array(_unpack4(a, i), dtype=a.dtype)
        np.testing.assert_array_equal(got, a[i:i + 4])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float32"])
def test_two_taps_in_one_word(dtype):
    a = _values(np.dtype(dtype), 61)
    assert _packs(a, 2)
    for i in range(a.size - 1):
        got = np.array(_unpack2(a, i), dtype=a.dtype)
        # bit patterns, so that NaN payloads and signed zeros count
        np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), a[i:i + 2].view(f"u{a.itemsize}"))


@pytest.mark.parametrize("dtype,ntaps", [("float32", 4), ("int32", 4), ("float64", 2), ("int64", 2)])
def test_wider_words_are_not_packed(dtype, ntaps):
    assert not _packs(np.zeros(8, dtype=dtype), ntaps)
