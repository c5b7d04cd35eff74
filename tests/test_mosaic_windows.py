"""Mosaic.add with destination windows and adopted first layers equals painting full-size layers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.errors import ShapeError
from raster_core.mosaic import Mosaic


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5), alpha=st.booleans(), per_band=st.booleans(),
       take=st.booleans())
def test_windows_equal_full_size_layers(seed, n, alpha, per_band, take):
    rng = np.random.default_rng(seed)
    nb, rows, cols = 3, 9, 11
    full = Mosaic(nb, rows, cols, np.uint16, alpha_last=alpha)
    win = Mosaic(nb, rows, cols, np.uint16, alpha_last=alpha)
    for _ in range(n):
        if rng.random() < 0.3:
            r0, r1, c0, c1 = 0, rows, 0, cols
        else:
            r0 = int(rng.integers(0, rows))
            r1 = int(rng.integers(r0, rows + 1))
            c0 = int(rng.integers(0, cols))
            c1 = int(rng.integers(c0, cols + 1))
        h, w = r1 - r0, c1 - c0
        layer = rng.integers(0, 5, size=(nb, h, w)).astype(np.uint16)
        if alpha:
            layer[-1] = rng.integers(0, 2, size=(h, w))
        vshape = (nb, h, w) if per_band else (h, w)
        valid = rng.random(vshape) < 0.7
        big = np.zeros((nb, rows, cols), np.uint16)
        big[:, r0:r1, c0:c1] = layer
        bvalid = np.zeros((nb, rows, cols) if per_band else (rows, cols), bool)
        bvalid[..., r0:r1, c0:c1] = valid
        full.add(big, bvalid)
        win.add(layer.copy(), valid.copy(), window=(r0, r1, c0, c1), take=take)
    d1, v1 = full.result()
    d2, v2 = win.result()
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(d1, d2)


def test_take_adopts_a_full_first_layer_without_copy():
    layer = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)
    valid = np.ones((3, 4), bool)
    valid[0, 0] = False
    m = Mosaic(1, 3, 4, np.uint8)
    m.add(layer, valid, take=True)
    data, v = m.result()
    assert data is layer and data[0, 0, 0] == 0 and not v[0, 0, 0] and v.sum() == 11


def test_empty_mosaic_and_window_errors():
    m = Mosaic(2, 3, 4, np.int16)
    data, valid = m.result()
    assert data.shape == (2, 3, 4) and not valid.any() and not data.any()
    with pytest.raises(ShapeError):
        m.add(np.zeros((2, 2, 2), np.int16), window=(2, 4, 0, 2))
    with pytest.raises(ShapeError):
        m.add(np.zeros((2, 2, 3), np.int16), window=(0, 2, 0, 2))
