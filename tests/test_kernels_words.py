"""Packed tap loads (raster_core._kernels.words): one word holds ``ntaps`` adjacent values and
``lane`` gives each back bit for bit, for every source dtype the warp kernels take; the run-time
conversions of the staged kernels (``int_lane``, ``word_float``, ``float_bits``: one compiled code for
every data type) give the values and bits the typed conversions give."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from raster_core._kernels.args import raw_array
from raster_core._kernels.words import LITTLE_ENDIAN, float_bits, int_lane, lane, load_word, word_float

pytestmark = pytest.mark.skipif(not LITTLE_ENDIAN, reason="packed loads are little-endian only")


@numba.njit(cache=True)
def _unpack4(a, i):
    w = load_word(a, np.uint64(i), 4)
    return lane(w, 0, a), lane(w, 1, a), lane(w, 2, a), lane(w, 3, a)


@numba.njit(cache=True)
def _unpack2(a, i):
    w = load_word(a, np.uint64(i), 2)
    return lane(w, 0, a), lane(w, 1, a)


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
    for i in range(a.size - 3):
        got = np.array(_unpack4(a, i), dtype=a.dtype)
        np.testing.assert_array_equal(got, a[i:i + 4])


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "float32"])
def test_two_taps_in_one_word(dtype):
    a = _values(np.dtype(dtype), 61)
    for i in range(a.size - 1):
        got = np.array(_unpack2(a, i), dtype=a.dtype)
        # bit patterns, so that NaN payloads and signed zeros count
        np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), a[i:i + 2].view(f"u{a.itemsize}"))


@numba.njit(cache=True)
def _word_floats(words, t, bits, sign, fkind):
    out = np.empty(words.size)
    for i in range(words.size):
        out[i] = word_float(words[i], t, bits, sign, fkind)
    return out


@numba.njit(cache=True)
def _int_lanes(words, t, bits, sign):
    out = np.empty(words.size)
    for i in range(words.size):
        out[i] = int_lane(words[i], t, bits, sign)
    return out


@numba.njit(cache=True)
def _float_bits(values, fkind):
    out = np.empty(values.size, dtype=np.uint64)
    for i in range(values.size):
        out[i] = float_bits(values[i], fkind)
    return out


ALL_TYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "float64"]


def _words(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` packed into little-endian uint64 words (the last one padded with zeros)."""
    raw = a.view(np.uint8)
    raw = np.concatenate([raw, np.zeros(-raw.size % 8, dtype=np.uint8)])
    return raw.view("<u8").astype(np.uint64)


@pytest.mark.parametrize("dtype", ALL_TYPES)
def test_word_float_is_the_typed_conversion(dtype):
    a = _values(np.dtype(dtype), 64)
    r = raw_array(a.reshape(1, 1, -1), (1, 1, a.size))
    words = _words(a)
    lanes = 8 // a.itemsize
    for t in range(lanes):
        got = _word_floats(words, t, 8 * a.itemsize, r.sign, r.fkind)
        want = a[t::lanes].astype(np.float64)
        # bit patterns: NaN payloads and signed zeros count
        np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
        if r.small_int:
            np.testing.assert_array_equal(_int_lanes(words, t, 8 * a.itemsize, r.sign), want)


@pytest.mark.parametrize("dtype", ALL_TYPES)
def test_float_bits_store_the_typed_value(dtype):
    a = _values(np.dtype(dtype), 64)
    r = raw_array(a.reshape(1, 1, -1), (1, 1, a.size))
    if a.dtype.kind == "f" or a.itemsize < 8:
        values = a.astype(np.float64)
    else:
        # (64-bit integers: the values a float64 holds exactly, as the stores give them)
        values = np.array([float(v) for v in a[:32]] + [float(v) for v in (np.iinfo(a.dtype).min, 2 ** 53, 0)])
        values = values[(values >= np.iinfo(a.dtype).min) & (values < 2.0 ** (64 if a.dtype.kind == "u" else 63))]
    got = _float_bits(values, r.fkind)
    width = f"u{a.itemsize}"
    want = values.astype(a.dtype).view(width)
    np.testing.assert_array_equal(got.astype(width), want)


def test_raw_array_rejects_what_the_kernels_cannot_read():
    with pytest.raises(ValueError):
        raw_array(np.zeros((2, 4), dtype=np.uint16)[:, ::2], (1, 2, 2))
    with pytest.raises(ValueError):
        raw_array(np.zeros((2, 4), dtype=np.float16), (1, 2, 4))
