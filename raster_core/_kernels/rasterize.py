"""Polygon rasterization with GDAL 3.10's exact rules (``alg/llrasterize.cpp``).

Input layout (all in *pixel* coordinates of a full grid of ``grid_w`` x ``grid_h`` pixels,
rings already oriented the way GDAL orients them, see :func:`orient_rings`):

* ``xs, ys`` -- float64 vertex coordinates, rings concatenated;
* ``ring_off`` -- int64, ``ring_off[r]:ring_off[r+1]`` are the vertices of ring ``r``;
* ``poly_off`` -- int64, ``poly_off[p]:poly_off[p+1]`` are the rings of polygon ``p``
  (exterior and holes: they are filled together with the even-odd rule);
* ``values`` -- one burn value per polygon (already of the output dtype).

Polygons are burned one after the other ("replace" merge), each one as GDAL's
``gv_rasterize_one_shape`` does: with ``all_touched`` first the ring outlines
(``GDALdllImageLineAllTouched`` semantics, "intersect only" variant used for polygons), then
the pixel-centre scanline fill (``GDALdllImageFilledPolygon`` semantics):

* scanline at ``y + 0.5``; an edge counts when ``ylow <= y + 0.5 < yhigh``;
* intersections are ``(dy - y1) * (x2 - x1) / (y2 - y1) + x1`` from the lower endpoint,
  rounded with ``floor(x + 0.5)``; sorted; pairs ``[a, b - 1]`` are filled (even-odd);
* a horizontal edge lying exactly on a scanline is filled separately when it runs
  right-to-left in ring order;
* C's ``static_cast<int>`` of out-of-range values (``INT_MIN`` on x86-64) is reproduced.

The work proportional to the vertices is NumPy (:func:`orient_rings`, :func:`edge_table`:
each edge's scanline rows, the horizontal edges' spans); the compiled kernel does only the
work proportional to scanline crossings and pixels. Unlike GDAL (which loops over every edge
for every scanline), the fill only visits the scanlines an edge crosses, so cost is linear in
the number of vertices plus the number of edge/scanline intersections.

Only rows ``row0 <= y < row0 + out.shape[0]`` and columns ``col0 <= x < col0 +
out.shape[1]`` of the full grid are written (``out`` is that window), so row blocks can
run in parallel and give the same result as one call over the whole grid.

Examples
--------
>>> import numpy as np
>>> xs, ys = np.array([0.5, 3.5, 3.5, 0.5, 0.5]), np.array([0.5, 0.5, 3.5, 3.5, 0.5])
>>> ring_off, poly_off = np.array([0, 5]), np.array([0, 1])
>>> orient_rings(xs, ys, ring_off)
>>> table = edge_table(xs, ys, ring_off, poly_off, grid_shape=(4, 4), rows=(0, 4))
>>> out = np.zeros((4, 4), np.uint8)
>>> burn_polygons(out, table, np.array([1], np.uint8), row0=0, col0=0, all_touched=False)
>>> out
array([[0, 1, 1, 1],
       [0, 1, 1, 1],
       [0, 1, 1, 1],
       [0, 0, 0, 0]], dtype=uint8)
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numba
import numpy as np

from raster_core._kernels import CACHE
from raster_core._kernels._generated import njit_variant
from raster_core._kernels.sorting import sort_ints

__all__ = ["EdgeTable", "orient_rings", "ring_is_clockwise", "edge_table", "burn_polygons"]

_INT_MIN = -2147483648
#: row numbers of edges far outside any grid are clamped to this range first (rows of a grid are
#: ints in [0, 2**31): a row beyond it compares the same way with every grid row)
_ROW_CLAMP = (-4.0, 2.0**33)


def _c_int_array(v: np.ndarray) -> np.ndarray:
    """``static_cast<int>(v)`` as compiled on x86-64, as int64: truncation, and INT_MIN for NaN
    or out-of-range values."""
    ok = (v > -2147483649.0) & (v < 2147483648.0)
    return np.where(ok, np.trunc(np.where(ok, v, 0.0)), float(_INT_MIN)).astype(np.int64)


def ring_is_clockwise(xs: np.ndarray, ys: np.ndarray, ring_off: np.ndarray) -> np.ndarray:
    """OGR's ``isClockwise()`` of every closed ring ``xs[s:e], ys[s:e]`` (y up), vectorised
    over the rings: the turn at the lowest (then rightmost, then first) vertex of the ring
    without its closing vertex, with Green's formula (summed in ring order) when that vertex
    is repeated, when one of its neighbours is within 1e-5 of it, or when the turn is flat.
    Rings of fewer than 3 vertices count as clockwise.

    Examples
    --------
    >>> ring_is_clockwise(np.array([0.0, 0, 1, 0]), np.array([0.0, 1, 0, 0]), np.array([0, 4])).tolist()
    [True]
    """
    n = np.diff(ring_off)
    result = np.ones(n.shape[0], dtype=bool)
    rings = np.flatnonzero(n >= 3)
    if rings.size == 0:
        return result
    # the vertices each ring's test looks at: all but the closing one
    s = ring_off[rings]
    m = n[rings] - 1
    body_off = np.zeros(rings.size + 1, dtype=np.int64)
    np.cumsum(m, out=body_off[1:])
    ring_of = np.repeat(np.arange(rings.size), m)
    idx = np.arange(body_off[-1]) - body_off[:-1][ring_of] + s[ring_of]
    bx = xs[idx]
    by = ys[idx]
    ymin = np.minimum.reduceat(by, body_off[:-1])
    lowest = by == ymin[ring_of]
    xmax = np.maximum.reduceat(np.where(lowest, bx, -np.inf), body_off[:-1])
    chosen = lowest & (bx == xmax[ring_of])
    hits = np.flatnonzero(chosen)
    first = np.ones(hits.size, dtype=bool)
    first[1:] = ring_of[hits[1:]] != ring_of[hits[:-1]]
    v = hits[first] - body_off[:-1]  # position of the selected vertex in its ring
    repeated = np.add.reduceat(chosen.astype(np.int64), body_off[:-1]) > 1
    sel = s + v
    before = np.where(v > 0, sel - 1, s + m - 1)
    after = np.where(v < m - 1, sel + 1, s)
    sx = xs[sel]
    sy = ys[sel]
    dx0 = xs[before] - sx
    dy0 = ys[before] - sy
    dx1 = xs[after] - sx
    dy1 = ys[after] - sy
    eps = 1.0e-5
    fallback = repeated | ((np.abs(dx0) < eps) & (np.abs(dy0) < eps)) | ((np.abs(dx1) < eps) & (np.abs(dy1) < eps))
    cross = dx1 * dy0 - dx0 * dy1
    fallback |= ~((cross > 0) | (cross < 0))  # flat, or NaN
    clockwise = cross < 0
    for k in np.flatnonzero(fallback):
        a = int(s[k])
        b = a + int(m[k]) + 1
        x = xs[a:b]
        y = ys[a:b]
        # Green's formula term by term in ring order (a cumulative sum adds left to right)
        terms = np.empty(b - a)
        terms[0] = x[0] * (y[1] - y[0])
        terms[1:-1] = x[1:-1] * (y[2:] - y[:-2])
        terms[-1] = x[-1] * (y[0] - y[-2])
        clockwise[k] = np.cumsum(terms)[-1] < 0
    result[rings] = clockwise
    return result


def orient_rings(xs: np.ndarray, ys: np.ndarray, ring_off: np.ndarray) -> None:
    """Reverse, in place, every ring that is not clockwise (GDAL's
    ``GDALCollectRingsFromGeometry``), judged on the coordinates given (which must be the
    ones GDAL sees: georeferenced for ``rasterize``, source pixels for a warp cutline).

    Examples
    --------
    >>> xs, ys = np.array([0.0, 1, 0, 0]), np.array([0.0, 0, 1, 0])
    >>> orient_rings(xs, ys, np.array([0, 4]))
    >>> xs.tolist(), ys.tolist()
    ([0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0])
    """
    flip = ~ring_is_clockwise(xs, ys, ring_off)
    if not flip.any():
        return
    n = np.diff(ring_off)
    ring_of = np.repeat(np.arange(n.shape[0]), n)
    i = np.arange(xs.shape[0])
    mirrored = ring_off[:-1][ring_of] + ring_off[1:][ring_of] - 1 - i
    order = np.where(flip[ring_of], mirrored, i)
    xs[:] = xs[order]
    ys[:] = ys[order]


class EdgeTable(NamedTuple):
    """The polygons as the fill kernel reads them, for the rows ``rows`` of a grid (one call of
    :func:`edge_table`; any window of those rows can then be burned). Edge ``i`` goes from
    vertex ``i``'s predecessor in its ring (the ring's last vertex for its first) to vertex
    ``i``; it crosses the scanlines ``y + 0.5`` of the rows from ``row_at`` of its lower end to
    ``row_at`` of its upper end minus one (none when it is horizontal)."""

    #: the vertices, rings and polygons
    xs: np.ndarray
    ys: np.ndarray
    ring_off: np.ndarray
    poly_off: np.ndarray
    #: (V,) int64: each vertex's first row whose scanline is at or above it (the smallest ``y``
    #: with ``y + 0.5 >= ys[i]``, clamped to the rows give or take two)
    row_at: np.ndarray
    #: (P, 2) int64: first and last grid row of each polygon's fill (GDAL's vertical extent of
    #: the polygon, truncated like a C int, clamped to the grid and to the rows); first > last:
    #: nothing to fill
    poly_rows: np.ndarray
    #: (P + 1,) int64: ``span_off[p]:span_off[p + 1]`` are the spans of polygon ``p``'s
    #: horizontal edges
    span_off: np.ndarray
    #: (3, S) int64: row, first and last column (within the grid) of a horizontal edge's span
    spans: np.ndarray
    grid_w: int
    grid_h: int


def edge_table(
    xs: np.ndarray,
    ys: np.ndarray,
    ring_off: np.ndarray,
    poly_off: np.ndarray,
    *,
    grid_shape: tuple[int, int],
    rows: tuple[int, int],
) -> EdgeTable:
    """The :class:`EdgeTable` of oriented polygons in pixel coordinates of a grid of
    ``grid_shape``, for the grid rows ``rows[0] <= y < rows[1]``.

    The rows are those of ``GDALdllImageFilledPolygon``: the polygon's ``[(int)miny,
    (int)maxy]``, and for an edge the rows whose centre line ``y + 0.5`` satisfies ``ylow <= y
    + 0.5 < yhigh``: from the first row at or above ``ylow`` to the row before the first one at
    or above ``yhigh``.
    """
    grid_h, grid_w = int(grid_shape[0]), int(grid_shape[1])
    row_lo, row_hi = int(rows[0]), int(rows[1]) - 1
    npoly = poly_off.shape[0] - 1
    v_lo = ring_off[poly_off[:-1]]
    v_hi = ring_off[poly_off[1:]]
    # each polygon's fill rows
    has_vertices = v_hi > v_lo
    poly_rows = np.zeros((npoly, 2), dtype=np.int64)
    poly_rows[:, 1] = -1
    if has_vertices.any():
        starts = v_lo[has_vertices]
        poly_rows[has_vertices, 0] = np.maximum(_c_int_array(np.minimum.reduceat(ys, starts)), max(0, row_lo))
        poly_rows[has_vertices, 1] = np.minimum(_c_int_array(np.maximum.reduceat(ys, starts)), min(grid_h - 1, row_hi))
    # first row at or above each vertex: ceil(y - 0.5). Clamped to the rows +- 2 (beyond, a
    # vertex compares alike with every row of the rows), y - 0.5 is exact but for |y| < 0.25
    # or a y in [-2, -1.5), whose rounded difference has the exact one's ceiling all the same
    row = np.clip(ys, row_lo - 2, row_hi + 2)
    row -= 0.5
    np.ceil(row, out=row)
    row_at = row.astype(np.int64)
    # horizontal edges on a scanline, right to left in ring order
    centre = np.floor(ys)
    at = np.flatnonzero(centre + 0.5 == ys)
    ring = np.searchsorted(ring_off, at, side="right") - 1
    prev = np.where(at == ring_off[ring], ring_off[ring + 1] - 1, at - 1)
    poly = np.searchsorted(v_hi, at, side="right")
    line = np.clip(centre[at], row_lo - 1, row_hi + 1).astype(np.int64)
    x_from = _c_int_array(np.floor(xs[at] + 0.5))
    x_to = _c_int_array(np.floor(xs[prev] + 0.5)) - 1
    spans = np.stack([line, np.maximum(x_from, 0), np.minimum(x_to, grid_w - 1)])
    keep = (
        (ys[prev] == ys[at]) & (xs[prev] > xs[at]) & (line >= poly_rows[poly, 0]) & (line <= poly_rows[poly, 1])
        & (x_from <= x_to) & (spans[1] <= spans[2])
    )
    spans = np.ascontiguousarray(spans[:, keep])
    span_off = np.zeros(npoly + 1, dtype=np.int64)
    np.cumsum(np.bincount(poly[keep], minlength=npoly), out=span_off[1:])
    return EdgeTable(xs, ys, ring_off, poly_off, row_at, poly_rows, span_off, spans, grid_w, grid_h)


@numba.njit(nogil=True, cache=CACHE)
def _c_int(v: float) -> int:
    """``static_cast<int>(v)`` as compiled on x86-64 (cvttsd2si): truncation, and INT_MIN
    for NaN or out-of-range values."""
    if v > -2147483649.0 and v < 2147483648.0:
        return int(v)
    return _INT_MIN


@numba.njit(nogil=True, cache=CACHE)
def _put(out, iy, ix, row0, col0, value):
    r = iy - row0
    c = ix - col0
    if r >= 0 and r < out.shape[0] and c >= 0 and c < out.shape[1]:
        out[r, c] = value


@numba.njit(nogil=True, cache=CACHE)
def _near_integer(v):
    """``|v - std::round(v)| < 1e-4`` (GDAL's test for a segment on a pixel edge; std::round
    rounds half away from zero, so the distance is that of ``|v|`` to its rounding)."""
    a = abs(v)
    f = math.floor(a)
    return abs(a - (f + 1.0 if a - f >= 0.5 else f)) < 1.0e-4


@numba.njit(nogil=True, cache=CACHE)
def _walk_outline(out, xs, ys, s, e, grid_w, grid_h, row0, col0, value):
    """Burn every pixel a ring's segments pass through (GDAL's all-touched line walk, in its
    "intersect only" variant for polygon outlines). Segments ``k-1 -> k`` for k in
    ``s+1..e-1``; pixels outside the window are not written."""
    eps_io = 1.0e-4
    r_lo = row0 - 1
    r_hi = row0 + out.shape[0] + 1
    c_lo = col0 - 1
    c_hi = col0 + out.shape[1] + 1
    W = float(grid_w)
    H = float(grid_h)
    for k in range(s + 1, e):
        x0 = xs[k - 1]
        y0 = ys[k - 1]
        x1 = xs[k]
        y1 = ys[k]
        if (y0 < 0.0 and y1 < 0.0) or (y0 > H and y1 > H) or (x0 < 0.0 and x1 < 0.0) or (x0 > W and x1 > W):
            continue
        # skip segments that cannot reach the window (burned pixels stay within the
        # segment's bounding box, give or take the 1e-9 steps of the walk)
        if min(y0, y1) > r_hi:
            continue
        if max(x0, x1) <= W:  # no wrapped write possible (see below)
            if max(y0, y1) < r_lo or max(x0, x1) < c_lo or min(x0, x1) > c_hi:
                continue
        if x0 > x1:
            t = x0
            x0 = x1
            x1 = t
            t = y0
            y0 = y1
            y1 = t
        # vertical-ish
        if math.floor(x0) == math.floor(x1) or abs(x0 - x1) < 0.01:
            if _near_integer(x0) and _near_integer(x1):
                continue
            if y1 < y0:
                t = y0
                y0 = y1
                y1 = t
            ix = _c_int(math.floor(x1))
            iy = _c_int(math.floor(y0))
            iy_end = _c_int(math.floor(y1 - eps_io))
            if ix < 0 or ix >= grid_w:
                continue
            if iy < 0:
                iy = 0
            if iy_end >= grid_h:
                iy_end = grid_h - 1
            a = max(iy, row0)
            b = min(iy_end, row0 + out.shape[0] - 1)
            for yy in range(a, b + 1):
                _put(out, yy, ix, row0, col0, value)
            continue
        # horizontal-ish
        if math.floor(y0) == math.floor(y1) or abs(y0 - y1) < 0.01:
            if _near_integer(y0) and _near_integer(y1):
                continue
            ix = _c_int(math.floor(x0))
            iy = _c_int(math.floor(y0))
            ix_end = _c_int(math.floor(x1 - eps_io))
            if iy < 0 or iy >= grid_h:
                continue
            # gvBurnScanline of [ix, ix_end] clamped to the grid, the part in the window
            r = iy - row0
            if r >= 0 and r < out.shape[0]:
                for c in range(max(ix, 0, col0) - col0, min(ix_end, grid_w - 1, col0 + out.shape[1] - 1) - col0 + 1):
                    out[r, c] = value
            continue
        # general case, left to right
        slope = (y1 - y0) / (x1 - x0)
        if x1 > W:
            y1 -= (x1 - W) * slope
            x1 = W
        if x0 < 0.0:
            y0 += (0.0 - x0) * slope
            x0 = 0.0
        if y1 > y0:
            if y0 < 0.0:
                dxc = (0.0 - y0) / slope
                x0 += dxc
                y0 = 0.0
            if y1 >= H:
                x1 += (y1 - H) / slope
                if x1 > W:
                    x1 = W
        else:
            if y0 >= H:
                dxc = (H - y0) / slope
                x0 += dxc
                y0 = H
            if y1 < 0.0:
                x1 -= (y1 - 0.0) / slope
        while x0 >= 0.0 and x0 < x1:
            ix = _c_int(math.floor(x0))
            iy = _c_int(math.floor(y0))
            if iy >= 0 and iy < grid_h:
                if ix < grid_w:
                    _put(out, iy, ix, row0, col0, value)
                else:
                    # GDAL quirk reproduced: after Y clipping the end X is not clamped
                    # again, and GDAL writes pixel (iy, ix >= width) at linear offset
                    # iy * width + ix, i.e. into the next row(s). Writes past the end of
                    # the buffer (undefined behaviour in GDAL) are dropped.
                    lin = iy * grid_w + ix
                    if lin < grid_w * grid_h:
                        _put(out, lin // grid_w, lin % grid_w, row0, col0, value)
            else:
                # y only moves one way: once past the grid (in the walking direction) no
                # further pixel can be burned; stop (GDAL would keep stepping uselessly).
                if (slope > 0 and y0 >= H) or (slope < 0 and y0 < 0.0):
                    break
            step_x = math.floor(x0 + 1.0) - x0
            step_y = step_x * slope
            if _c_int(math.floor(y0 + step_y)) == iy:
                x0 += step_x
                y0 += step_y
            elif slope < 0:
                step_y = iy - y0
                if step_y > -0.000000001:
                    step_y = -0.000000001
                step_x = step_y / slope
                x0 += step_x
                y0 += step_y
            else:
                step_y = (iy + 1) - y0
                if step_y < 0.000000001:
                    step_y = 0.000000001
                step_x = step_y / slope
                x0 += step_x
                y0 += step_y


def burn_polygons(
    out: np.ndarray, table: EdgeTable, values: np.ndarray, *, row0: int, col0: int, all_touched: bool
) -> None:
    """Burn every polygon of ``table``, in order, into the window ``out`` of the full grid,
    whose pixel (0, 0) is the grid's (``row0``, ``col0``); its rows must lie within the rows
    of ``table`` (with ``all_touched``, each polygon's ring outlines first, then its fill)."""
    kernel = _burn_kernel(int(bool(all_touched)))
    counts = np.empty(out.shape[0] + 1, dtype=np.int64)
    crossings = np.empty(4 * out.shape[0] + 64, dtype=np.int64)
    done = 0
    while done < values.shape[0]:
        # the kernel stops at a polygon with more crossings in the window than ``crossings`` holds
        done, need = kernel(out, table, values, row0, col0, counts, crossings, done)
        crossings = np.empty(max(need, 2 * crossings.shape[0]), dtype=np.int64)


@functools.cache
def _burn_kernel(all_touched: int) -> Any:
    """:func:`burn_polygons` for ``all_touched`` (a compile-time constant: the outline walk is
    compiled only for the warps and rasterizations that ask for it)."""

    @njit_variant(all_touched)
    def burn(out, table, values, row0, col0, counts, ints, start):
        """Burn polygons ``start``, ``start + 1``, ... Returns the number of polygons burned (all of
        them unless ``ints`` is too small for the next one) and the scratch that one needs."""
        nrows = out.shape[0]
        # the columns a fill may write: the grid's, within the window
        c_lo = max(0, col0) - col0
        c_hi = min(table.grid_w, col0 + out.shape[1]) - 1 - col0
        for p in range(start, values.shape[0]):
            value = values[p]
            ya = max(table.poly_rows[p, 0], row0)
            n = min(table.poly_rows[p, 1], row0 + nrows - 1) - ya + 1
            yb = ya + n - 1
            # counting sort of the crossings by row: counts[k] = where row ya + k starts
            for k in range(n + 1):
                counts[k] = 0
            for step in range(2):
                for ring in range(table.poly_off[p], table.poly_off[p + 1]):
                    j = table.ring_off[ring + 1] - 1  # the edge j -> i
                    for i in range(table.ring_off[ring], table.ring_off[ring + 1]):
                        first = max(min(table.row_at[j], table.row_at[i]), ya)
                        last = min(max(table.row_at[j], table.row_at[i]) - 1, yb)
                        if step == 0:
                            for y in range(first, last + 1):
                                counts[y - ya + 1] += 1
                        elif first <= last:
                            low, high = (j, i) if table.ys[j] < table.ys[i] else (i, j)
                            y_low = table.ys[low]
                            x_low = table.xs[low]
                            dx = table.xs[high] - x_low
                            dy = table.ys[high] - y_low
                            for y in range(first, last + 1):
                                x = math.floor((y + 0.5 - y_low) * dx / dy + x_low + 0.5)
                                ints[counts[y - ya]] = int(x) if x > -2147483649.0 and x < 2147483648.0 else _INT_MIN
                                counts[y - ya] += 1
                        j = i
                if step == 0:
                    for k in range(n):
                        counts[k + 1] += counts[k]
                    if n > 0 and counts[n] > ints.shape[0]:
                        return p, counts[n]
                    if all_touched:  # the outlines before the fill (and once: after the check)
                        for r in range(table.poly_off[p], table.poly_off[p + 1]):
                            _walk_outline(out, table.xs, table.ys, table.ring_off[r], table.ring_off[r + 1],
                                          table.grid_w, table.grid_h, row0, col0, value)
            # now row ya + k's crossings end at counts[k]: fill between pairs
            start = 0
            for k in range(n):
                stop = counts[k]
                if stop - start > 1:
                    sort_ints(ints[start:stop])
                    r = ya + k - row0
                    for j in range(start, stop - 1, 2):
                        for c in range(max(ints[j] - col0, c_lo), min(ints[j + 1] - 1 - col0, c_hi) + 1):
                            out[r, c] = value
                start = stop
            for s in range(table.span_off[p], table.span_off[p + 1]):
                r = table.spans[0, s] - row0
                if r >= 0 and r < nrows:
                    for c in range(max(table.spans[1, s] - col0, c_lo), min(table.spans[2, s] - col0, c_hi) + 1):
                        out[r, c] = value
        return values.shape[0], 0

    return burn
