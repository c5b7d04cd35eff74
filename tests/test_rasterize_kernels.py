"""The rasterizer's vectorised preparation (ring orientation, the rows each vertex starts) against
scalar transliterations of GDAL's rules, and the fill kernel's scratch growing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raster_core._kernels.rasterize import _near_integer, edge_table, orient_rings, ring_is_clockwise
from raster_core.rasterize import rasterize

rasterio = pytest.importorskip("rasterio")
import rasterio.features as rfeatures  # noqa: E402


def _is_clockwise_scalar(x: list[float], y: list[float]) -> bool:
    """OGR's ``OGRSimpleCurve::isClockwise()`` one vertex at a time (the closed ring ``x, y``)."""
    n = len(x)
    if n < 3:
        return True
    use_fallback = False
    v = 0
    sel_x, sel_y = x[0], y[0]
    before_x, before_y = sel_x, sel_y
    bsel_x = bsel_y = nsel_x = nsel_y = 0.0
    next_is_next_sel = True
    for i in range(1, n - 1):
        if next_is_next_sel:
            nsel_x, nsel_y = x[i], y[i]
            next_is_next_sel = False
        if y[i] < sel_y or (y[i] == sel_y and x[i] > sel_x):
            v = i
            bsel_x, bsel_y = before_x, before_y
            sel_x, sel_y = x[i], y[i]
            use_fallback = False
            next_is_next_sel = True
        elif y[i] == sel_y and x[i] == sel_x:
            use_fallback = True
        before_x, before_y = x[i], y[i]
    if next_is_next_sel:
        nsel_x, nsel_y = x[n - 2], y[n - 2]
    if v == 0:
        bsel_x, bsel_y = x[n - 2], y[n - 2]
    eps = 1.0e-5
    if abs(bsel_x - sel_x) < eps and abs(bsel_y - sel_y) < eps:
        use_fallback = True
    if v + 1 >= n - 1:
        nsel_x, nsel_y = x[0], y[0]
    if abs(nsel_x - sel_x) < eps and abs(nsel_y - sel_y) < eps:
        use_fallback = True
    cross = (nsel_x - sel_x) * (bsel_y - sel_y) - (bsel_x - sel_x) * (nsel_y - sel_y)
    if not use_fallback:
        if cross > 0:
            return False
        if cross < 0:
            return True
    total = x[0] * (y[1] - y[0])
    b_y, c_x, c_y = y[0], x[1], y[1]
    for i in range(1, n - 1):
        total += c_x * (y[i + 1] - b_y)
        b_y, c_x, c_y = c_y, x[i + 1], y[i + 1]
    total += c_x * (y[0] - b_y)
    return total < 0


def _first_row_at_or_above(ylo: float, ya: int, yb: int) -> int:
    """Smallest integer y in [ya, yb] with y + 0.5 >= ylo (yb + 1 if none), by search."""
    for y in range(ya, yb + 1):
        if y + 0.5 >= ylo:
            return y
    return yb + 1


# coordinates that make ties: small integers (repeated vertices, flat turns), centres, tiny offsets
_COORD = st.sampled_from([0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 2.5, 1e-6, 2.000001]) | st.floats(-5, 5)


@st.composite
def _rings(draw):
    rings = draw(st.lists(st.lists(st.tuples(_COORD, _COORD), min_size=1, max_size=9), min_size=1, max_size=5))
    out = []
    for ring in rings:
        if draw(st.booleans()):
            ring = [*ring, ring[0]]
        out.append(ring)
    return out


@settings(max_examples=400, deadline=None)
@given(_rings())
def test_ring_orientation_matches_ogr_vertex_by_vertex(rings):
    xs = np.array([p[0] for r in rings for p in r], dtype=np.float64)
    ys = np.array([p[1] for r in rings for p in r], dtype=np.float64)
    ring_off = np.cumsum([0] + [len(r) for r in rings]).astype(np.int64)
    expected = [_is_clockwise_scalar([p[0] for p in r], [p[1] for p in r]) for r in rings]
    assert ring_is_clockwise(xs, ys, ring_off).tolist() == expected
    ox, oy = xs.copy(), ys.copy()
    orient_rings(ox, oy, ring_off)
    for r, clockwise in enumerate(expected):
        part = slice(ring_off[r], ring_off[r + 1])
        step = 1 if clockwise else -1
        np.testing.assert_array_equal(ox[part], xs[part][::step])
        np.testing.assert_array_equal(oy[part], ys[part][::step])


def _near(v: float) -> st.SearchStrategy[float]:
    return st.sampled_from([v, math.nextafter(v, -math.inf), math.nextafter(v, math.inf)])


_ROW_Y = (
    st.integers(-6, 30).flatmap(lambda k: _near(k + 0.5) | _near(float(k)))
    | st.floats(-40, 60)
    | st.sampled_from([1e300, -1e300, 2.0**31, -(2.0**31), 2.0**53 + 2])
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ROW_Y, min_size=1, max_size=12), st.integers(0, 20), st.integers(1, 15), st.data())
def test_first_rows_match_a_search_over_the_rows(ys, row_lo, n_rows, data):
    ys = np.array(ys)
    xs = np.zeros_like(ys)
    table = edge_table(xs, ys, np.array([0, ys.size]), np.array([0, 1]), grid_shape=(200, 5),
                       rows=(row_lo, row_lo + n_rows))
    # any window of the rows sees every vertex's first row (clamped to it) as a search would
    ya = data.draw(st.integers(row_lo, row_lo + n_rows - 1))
    yb = data.draw(st.integers(ya, row_lo + n_rows - 1))
    for y, row in zip(ys.tolist(), table.row_at.tolist(), strict=True):
        assert min(max(row, ya), yb + 1) == _first_row_at_or_above(y, ya, yb)


def _round_half_away(v: float) -> float:
    """C's std::round."""
    if math.isnan(v):
        return v
    if v >= 0.0:
        f = math.floor(v)
        return f + 1.0 if v - f >= 0.5 else f
    return -_round_half_away(-v)


@settings(max_examples=300, deadline=None)
@given(st.integers(-50, 50).flatmap(lambda k: st.sampled_from([k + d for d in (0.0, 0.5, 1e-4, -1e-4, 0.99995)]))
       | st.floats(-1e15, 1e15) | st.sampled_from([-0.0, 0.49999999999999994, math.nan]))
def test_near_integer_is_gdal_pixel_edge_test(v):
    assert _near_integer(v) == (abs(v - _round_half_away(v)) < 1.0e-4)


def test_window_with_more_crossings_than_the_first_scratch():
    # a comb: 300 teeth cross each row 600 times, more than the kernel's first scratch of
    # 4 crossings per row (+ 64); it grows it and burns the polygon again
    teeth = [(x, y) for k in range(300) for x, y in ((3 * k, 0.0), (3 * k + 1.5, 5.7), (3 * k + 2.2, 5.7))]
    comb = shapely.Polygon([*teeth, (900.0, 0.0), (900.0, 6.5), (0.0, 6.5)])
    assert comb.is_valid
    ref = rfeatures.rasterize([(comb, 1)], out_shape=(8, 905), transform=Affine.identity(), dtype="uint8")
    for threads in (1, 2):
        got = rasterize([comb], (8, 905), Affine.identity(), num_threads=threads)
        np.testing.assert_array_equal(got, ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=3, max_size=10), st.booleans(),
       st.sampled_from([0.5, 1.0]))
def test_grid_aligned_polygons_with_repeated_vertices_match_rasterio(points, all_touched, scale):
    # vertices on pixel corners or centres, repeated (the orientation's fallback), horizontal
    # edges on scanlines
    ring = [(x * scale, y * scale) for x, y in points]
    ring = [ring[0], *ring, ring[-1]]
    poly = shapely.Polygon(ring)
    if not poly.is_valid or poly.area == 0:
        return
    ref = rfeatures.rasterize([(poly, 2)], out_shape=(13, 14), transform=Affine.identity(), dtype="uint8",
                              all_touched=all_touched)
    np.testing.assert_array_equal(rasterize([(poly, 2)], (13, 14), Affine.identity(), all_touched=all_touched), ref)
