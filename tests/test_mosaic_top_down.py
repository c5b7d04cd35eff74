"""TopDownMosaic: layers added from the top down equal Mosaic's painter's order bit for bit, and
its open boxes hold every pixel the layers above left open, so that painting a lower layer only
inside them changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raster_core.errors import ShapeError
from raster_core.mosaic import Mosaic, TopDownMosaic, open_boxes

NB, ROWS, COLS = 3, 13, 11


def _layers(seed: int, n: int, alpha: bool, per_band: str, holes: float):
    """``n`` layers ``(layer, valid, window)``: random windows (some the whole grid), values
    0-4, alpha 0/1, validity per pixel, per band, or none, with ``holes`` invalid."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.25:
            r0, r1, c0, c1 = 0, ROWS, 0, COLS
        else:
            r0 = int(rng.integers(0, ROWS))
            r1 = int(rng.integers(r0, ROWS + 1))
            c0 = int(rng.integers(0, COLS))
            c1 = int(rng.integers(c0, COLS + 1))
        h, w = r1 - r0, c1 - c0
        layer = rng.integers(0, 5, size=(NB, h, w)).astype(np.uint16)
        if alpha:
            layer[-1] = rng.random((h, w)) < 0.8
        kind = per_band if per_band != "mixed" else ["none", "pixel", "band"][int(rng.integers(0, 3))]
        if kind == "none":
            valid = None
        else:
            valid = rng.random((NB, h, w) if kind == "band" else (h, w)) >= holes
        out.append((layer, valid, (r0, r1, c0, c1)))
    return out


def _copy(x):
    return None if x is None else x.copy()


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 6), alpha=st.booleans(),
       per_band=st.sampled_from(["none", "pixel", "band", "mixed"]), holes=st.sampled_from([0.0, 0.1, 0.6]),
       take=st.booleans(), fill=st.sampled_from([0, 9]), max_boxes=st.integers(1, 8))
def test_top_down_equals_painters_order(seed, n, alpha, per_band, holes, take, fill, max_boxes):
    layers = _layers(seed, n, alpha, per_band, holes)
    bottom_up = Mosaic(NB, ROWS, COLS, np.uint16, alpha_last=alpha, fill=fill)
    for layer, valid, window in layers:
        bottom_up.add(layer.copy(), _copy(valid), window=window)
    top_down = TopDownMosaic(NB, ROWS, COLS, np.uint16, alpha_last=alpha, fill=fill)
    boxed = TopDownMosaic(NB, ROWS, COLS, np.uint16, alpha_last=alpha, fill=fill)
    for layer, valid, window in reversed(layers):
        top_down.add(layer.copy(), _copy(valid), window=window, take=take)
        # the same layer painted only inside the open boxes of its window
        r0, r1, c0, c1 = window
        for a0, a1, b0, b1 in boxed.open_boxes(window, max_boxes=max_boxes):
            assert r0 <= a0 < a1 <= r1 and c0 <= b0 < b1 <= c1
            part = layer[:, a0 - r0:a1 - r0, b0 - c0:b1 - c0].copy()
            pvalid = None if valid is None else valid[..., a0 - r0:a1 - r0, b0 - c0:b1 - c0].copy()
            boxed.add(part, pvalid, window=(a0, a1, b0, b1), take=take)
    d1, v1 = bottom_up.result()
    d2, v2 = top_down.result()
    d3, v3 = boxed.result()
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(v1, v3)
    np.testing.assert_array_equal(d1, d3)
    assert d2.dtype == d1.dtype and v2.shape == v1.shape == (NB, ROWS, COLS)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(0, 5), per_band=st.booleans(), alpha=st.booleans(),
       window=st.tuples(st.integers(0, ROWS), st.integers(0, ROWS), st.integers(0, COLS), st.integers(0, COLS)),
       max_boxes=st.integers(1, 8))
def test_open_boxes_hold_every_open_pixel(seed, n, per_band, alpha, window, max_boxes):
    r0, r1 = sorted(window[:2])
    c0, c1 = sorted(window[2:])
    m = TopDownMosaic(NB, ROWS, COLS, np.uint16, alpha_last=alpha)
    for layer, valid, win in _layers(seed, n, alpha, "band" if per_band else "pixel", 0.3):
        m.add(layer, valid, window=win)
    if alpha:
        settled = m.result()[1][0]
    else:
        settled = m.result()[1].all(axis=0)
    boxes = m.open_boxes((r0, r1, c0, c1), max_boxes=max_boxes)
    assert len(boxes) <= max_boxes
    covered = np.zeros((ROWS, COLS), bool)
    for a0, a1, b0, b1 in boxes:
        assert r0 <= a0 < a1 <= r1 and c0 <= b0 < b1 <= c1
        covered[a0:a1, b0:b1] = True
    open_ = ~settled
    inside = np.zeros((ROWS, COLS), bool)
    inside[r0:r1, c0:c1] = True
    assert not (open_ & inside & ~covered).any()
    # a box's every row holds an open pixel (when no two boxes were merged)
    if len(open_boxes(settled[r0:r1, c0:c1], max_boxes=ROWS)) <= max_boxes:
        for a0, a1, b0, b1 in boxes:
            assert open_[a0:a1, b0:b1].any(axis=1).all()
    if not (open_ & inside).any():
        assert boxes == []


def test_open_boxes_of_rectangles_are_exact():
    s = np.zeros((6, 8), bool)
    s[0:3, 0:5] = True
    s[4:6, 6:8] = True
    assert open_boxes(s) == [(0, 3, 5, 8), (3, 4, 0, 8), (4, 6, 0, 6)]
    assert open_boxes(s, max_boxes=2) == [(0, 3, 5, 8), (3, 6, 0, 8)]
    assert open_boxes(np.zeros((0, 3), bool)) == [] and open_boxes(np.ones((3, 0), bool)) == []


def test_adopted_top_layer_and_errors():
    layer = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)
    valid = np.ones((3, 4), bool)
    valid[0, 0] = False
    m = TopDownMosaic(1, 3, 4, np.uint8, fill=5)
    m.add(layer, valid, take=True)
    assert m.open_boxes((0, 3, 0, 4)) == [(0, 1, 0, 1)]
    m.add(np.full((1, 1, 1), 200, np.uint8), window=(0, 1, 0, 1))
    data, v = m.result()
    assert data is layer and data[0, 0, 0] == 200 and v.all() and m.open_boxes((0, 3, 0, 4)) == []
    with pytest.raises(ShapeError):
        m.add(np.zeros((1, 2, 2), np.uint8), window=(2, 4, 0, 2))
    with pytest.raises(ShapeError):
        TopDownMosaic(0, 1, 1, np.uint8)
    empty = TopDownMosaic(2, 2, 2, np.int16, fill=3)
    d, v = empty.result()
    assert (d == 3).all() and not v.any() and empty.open_boxes((0, 2, 0, 2)) == [(0, 2, 0, 2)]
