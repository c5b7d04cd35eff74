"""Quantiles (med, q1, q3) of float footprints: at most 16 values without NaNs and zeros are sorted
by compare-exchanges (``_quantile_of_plain``), the others by the reference insertion sort; both
must give the reference's element bit for bit (NaNs, +0.0 / -0.0 and duplicates included)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core._kernels import reduce as R

#: values that order alike whatever the sort, and the ones that do not (NaN, +0.0 / -0.0)
PLAIN = [-3.5, -1.0, 1.0, 1.0000000000000002, 2.5, 7.0, 1e300, -np.inf, np.inf]
TRICKY = PLAIN + [0.0, -0.0, np.nan]


@settings(max_examples=200, deadline=None)
@given(vals=st.lists(st.sampled_from(PLAIN), min_size=1, max_size=16), q=st.sampled_from([0.25, 0.5, 0.75]))
def test_plain_sort_gives_the_reference_element_without_nans_and_zeros(vals: list[float], q: float) -> None:
    buf = np.array(vals, dtype=np.float64)
    n = np.int64(buf.size)
    ref = R._quantile_of(buf.copy(), n, q)
    got = R._quantile_of_plain(buf.copy(), n, q)
    assert np.float64(got).tobytes() == np.float64(ref).tobytes()


def _reference(src: np.ndarray, size: int, method: int) -> np.ndarray:
    """The reference quantile of each size x size footprint, in the kernel's scan order."""
    q = {R.MED: 0.5, R.Q1: 0.25, R.Q3: 0.75}[method]
    rows, cols = src.shape[1] // size, src.shape[2] // size
    out = np.zeros((1, rows, cols))
    for r in range(rows):
        for c in range(cols):
            vals = src[0, r * size:(r + 1) * size, c * size:(c + 1) * size].ravel().copy()
            out[0, r, c] = R._quantile_of.py_func(vals, np.int64(vals.size), q)
    return out


@pytest.mark.parametrize("size", [2, 3, 4, 5])
@pytest.mark.parametrize("method", [R.MED, R.Q1, R.Q3])
def test_general_quantiles_of_floats_equal_the_reference(size: int, method: int) -> None:
    rng = np.random.default_rng(size * 10 + method)
    rows, cols = 9, 11
    src = rng.choice(np.array(TRICKY), (1, rows * size, cols * size))
    src[0, :size * 3] = rng.choice(np.array(PLAIN), (size * 3, cols * size))  # some footprints without NaN/zero
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    tlx, tly = np.ascontiguousarray(xx * size), np.ascontiguousarray(yy * size)
    brx, bry = tlx + size, tly + size
    ok = np.ones((rows, cols), np.uint8)
    out = np.zeros((1, rows, cols))
    produced = np.zeros((rows, cols), np.uint8)
    R.average_or_mode(src, np.zeros((0, 0), np.uint8), np.zeros((0, 0), np.float32), 0, 0, tlx, tly, brx, bry, ok,
                      tlx, 4.0, 4.0, False, 1.0, method, out, produced)
    assert produced.all()
    np.testing.assert_array_equal(out.view(np.int64), _reference(src, size, method).view(np.int64))
