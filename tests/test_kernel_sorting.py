"""The kernels' own sorts give NumPy's results exactly (they replace ``ndarray.sort`` and
``np.argsort(kind="stable")`` inside kernels to save their compilation)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core._kernels.reduce import _stable_argsort
from raster_core._kernels.sorting import sort_ints

_FLOATS = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, np.nan, np.inf, -np.inf, 1e300, -3.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=300))
def test_sort_ints_sorts_like_numpy(values):
    a = np.array(values, dtype=np.int64)
    got = a.copy()
    sort_ints(got)
    np.testing.assert_array_equal(got, np.sort(a))


def test_sort_ints_long_arrays_use_every_gap():
    rng = np.random.default_rng(3)
    for n in (33, 1000, 20000):
        a = rng.integers(-50, 50, n)
        got = a.copy()
        sort_ints(got)
        np.testing.assert_array_equal(got, np.sort(a))


@settings(max_examples=200, deadline=None)
@given(st.lists(_FLOATS | st.floats(-10, 10, width=32), max_size=200))
def test_stable_argsort_is_numpys_stable_argsort(values):
    """Same permutation, with ties (0.0 / -0.0 included) and NaNs last in input order."""
    a = np.array(values, dtype=np.float64)
    order = np.empty(a.size, np.int64)
    _stable_argsort(a, order, np.empty(a.size, np.int64))
    np.testing.assert_array_equal(order, np.argsort(a, kind="stable"))
