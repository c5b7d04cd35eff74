"""Polygon rasterization kernels with GDAL 3.10's exact rules (``alg/llrasterize.cpp``).

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

Unlike GDAL (which loops over every edge for every scanline), the fill only visits the
scanlines an edge crosses (an edge table built per row block), so cost is linear in the
number of vertices plus the number of edge/scanline intersections.

Only rows ``row0 <= y < row0 + out.shape[0]`` and columns ``col0 <= x < col0 +
out.shape[1]`` of the full grid are written (``out`` is that window), so row blocks can
run in parallel and give the same result as one call over the whole grid.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numba
import numpy as np

from raster_core._kernels import CACHE
from raster_core._kernels._generated import njit_variant
from raster_core._kernels.sorting import sort_ints

__all__ = ["orient_rings", "burn_polygons"]

_INT_MIN = -2147483648


@numba.njit(nogil=True, cache=CACHE)
def _c_int(v: float) -> int:
    """``static_cast<int>(v)`` as compiled on x86-64 (cvttsd2si): truncation, and INT_MIN
    for NaN or out-of-range values."""
    if v > -2147483649.0 and v < 2147483648.0:
        return int(v)
    return _INT_MIN


@numba.njit(nogil=True, cache=CACHE)
def _is_clockwise(xs, ys, s, e):
    """OGR's ``isClockwise()`` of the closed ring ``xs[s:e], ys[s:e]`` (y up): the turn at
    the lowest-rightmost vertex, with the shoelace sum as a fallback for degenerate cases."""
    n = e - s
    if n < 3:
        return True
    use_fallback = False
    v = 0
    sel_x = xs[s]
    sel_y = ys[s]
    before_x = sel_x
    before_y = sel_y
    bsel_x = 0.0
    bsel_y = 0.0
    nsel_x = 0.0
    nsel_y = 0.0
    next_is_next_sel = True
    for i in range(1, n - 1):
        cx = xs[s + i]
        cy = ys[s + i]
        if next_is_next_sel:
            nsel_x = cx
            nsel_y = cy
            next_is_next_sel = False
        if cy < sel_y or (cy == sel_y and cx > sel_x):
            v = i
            bsel_x = before_x
            bsel_y = before_y
            sel_x = cx
            sel_y = cy
            use_fallback = False
            next_is_next_sel = True
        elif cy == sel_y and cx == sel_x:
            use_fallback = True
        before_x = cx
        before_y = cy
    m2_x = xs[s + n - 2]
    m2_y = ys[s + n - 2]
    if next_is_next_sel:
        nsel_x = m2_x
        nsel_y = m2_y
    if v == 0:
        bsel_x = m2_x
        bsel_y = m2_y
    eps = 1.0e-5
    if abs(bsel_x - sel_x) < eps and abs(bsel_y - sel_y) < eps:
        use_fallback = True
    dx0 = bsel_x - sel_x
    dy0 = bsel_y - sel_y
    if v + 1 >= n - 1:
        nsel_x = xs[s]
        nsel_y = ys[s]
    if abs(nsel_x - sel_x) < eps and abs(nsel_y - sel_y) < eps:
        use_fallback = True
    dx1 = nsel_x - sel_x
    dy1 = nsel_y - sel_y
    cross = dx1 * dy0 - dx0 * dy1
    if not use_fallback:
        if cross > 0:
            return False
        elif cross < 0:
            return True
    # Green's formula fallback
    b_y = ys[s]
    c_x = xs[s + 1]
    c_y = ys[s + 1]
    total = xs[s] * (c_y - ys[s])
    for i in range(1, n - 1):
        nx = xs[s + i + 1]
        ny = ys[s + i + 1]
        total += c_x * (ny - b_y)
        b_y = c_y
        c_x = nx
        c_y = ny
    total += c_x * (ys[s] - b_y)
    return total < 0


@numba.njit(nogil=True, cache=CACHE)
def orient_rings(xs, ys, ring_off):
    """Reverse, in place, every ring that is not clockwise (GDAL's
    ``GDALCollectRingsFromGeometry``), judged on the coordinates given (which must be the
    ones GDAL sees: georeferenced for ``rasterize``, source pixels for a warp cutline)."""
    nrings = ring_off.shape[0] - 1
    for r in range(nrings):
        s = ring_off[r]
        e = ring_off[r + 1]
        if not _is_clockwise(xs, ys, s, e):
            i = s
            j = e - 1
            while i < j:
                tx = xs[i]
                xs[i] = xs[j]
                xs[j] = tx
                ty = ys[i]
                ys[i] = ys[j]
                ys[j] = ty
                i += 1
                j -= 1


@numba.njit(nogil=True, cache=CACHE)
def _put(out, iy, ix, row0, col0, value):
    r = iy - row0
    c = ix - col0
    if r >= 0 and r < out.shape[0] and c >= 0 and c < out.shape[1]:
        out[r, c] = value


@numba.njit(nogil=True, cache=CACHE)
def _span(out, iy, xa, xb, grid_w, row0, col0, value):
    """gvBurnScanline: burn ``[xa, xb]`` of full-grid row ``iy`` (clamped to the grid), the
    part inside the window."""
    if xa > xb:
        return
    if xa < 0:
        xa = 0
    if xb >= grid_w:
        xb = grid_w - 1
    r = iy - row0
    if r < 0 or r >= out.shape[0]:
        return
    a = max(xa, col0) - col0
    b = min(xb, col0 + out.shape[1] - 1) - col0
    for c in range(a, b + 1):
        out[r, c] = value


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
            if abs(x0 - _round_half_away(x0)) < eps_io and abs(x1 - _round_half_away(x1)) < eps_io:
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
            if abs(y0 - _round_half_away(y0)) < eps_io and abs(y1 - _round_half_away(y1)) < eps_io:
                continue
            ix = _c_int(math.floor(x0))
            iy = _c_int(math.floor(y0))
            ix_end = _c_int(math.floor(x1 - eps_io))
            if iy < 0 or iy >= grid_h:
                continue
            if ix < 0:
                ix = 0
            if ix_end >= grid_w:
                ix_end = grid_w - 1
            _span(out, iy, ix, ix_end, grid_w, row0, col0, value)
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


@numba.njit(nogil=True, cache=CACHE)
def _round_half_away(v):
    """std::round (half away from zero)."""
    if v >= 0.0:
        return _round_pos(v)
    return -_round_pos(-v)


@numba.njit(nogil=True, cache=CACHE)
def _round_pos(v):
    f = math.floor(v)
    if v - f >= 0.5:
        return f + 1.0
    return f


@numba.njit(nogil=True, cache=CACHE)
def _first_row_at_or_above(ylo, ya, yb):
    """Smallest integer y in [ya, yb] with y + 0.5 >= ylo (yb + 1 if none)."""
    if ylo <= ya + 0.5:
        return ya
    if ylo > yb + 0.5:
        return yb + 1
    y = int(math.floor(ylo - 0.5))
    while y + 0.5 < ylo:
        y += 1
    while y - 1 >= ya and (y - 1) + 0.5 >= ylo:
        y -= 1
    return y


@numba.njit(nogil=True, cache=CACHE)
def _last_row_below(yhi, ya, yb):
    """Largest integer y in [ya, yb] with y + 0.5 < yhi (ya - 1 if none)."""
    if yhi > yb + 0.5:
        return yb
    if yhi <= ya + 0.5:
        return ya - 1
    y = int(math.ceil(yhi - 0.5))
    while y + 0.5 >= yhi:
        y -= 1
    while y + 1 <= yb and (y + 1) + 0.5 < yhi:
        y += 1
    return y


@numba.njit(nogil=True, cache=CACHE)
def _fill_polygon(out, xs, ys, ring_off, r_start, r_end, grid_w, grid_h, row0, col0, value):
    """Pixel-centre even-odd fill of one polygon (rings ``r_start:r_end``) over the window."""
    v_start = ring_off[r_start]
    v_end = ring_off[r_end]
    if v_end <= v_start:
        return
    dminy = ys[v_start]
    dmaxy = ys[v_start]
    for i in range(v_start + 1, v_end):
        if ys[i] < dminy:
            dminy = ys[i]
        if ys[i] > dmaxy:
            dmaxy = ys[i]
    miny = _c_int(dminy)
    maxy = _c_int(dmaxy)
    if miny < 0:
        miny = 0
    if maxy >= grid_h:
        maxy = grid_h - 1
    ya = max(miny, row0)
    yb = min(maxy, row0 + out.shape[0] - 1)
    if ya > yb:
        return
    nrows = yb - ya + 1
    maxx = grid_w - 1
    # pass 1: count intersections per row
    counts = np.zeros(nrows + 1, dtype=np.int64)
    for r in range(r_start, r_end):
        s = ring_off[r]
        e = ring_off[r + 1]
        for i in range(s, e):
            if i == s:
                i1 = e - 1
            else:
                i1 = i - 1
            y1 = ys[i1]
            y2 = ys[i]
            if y1 == y2:
                continue
            lo = min(y1, y2)
            hi = max(y1, y2)
            a = _first_row_at_or_above(lo, ya, yb)
            b = _last_row_below(hi, ya, yb)
            for y in range(a, b + 1):
                counts[y - ya + 1] += 1
    for k in range(nrows):
        counts[k + 1] += counts[k]
    total = counts[nrows]
    ints = np.empty(total, dtype=np.int64)
    fillpos = counts[:nrows].copy()
    # pass 2: intersections
    for r in range(r_start, r_end):
        s = ring_off[r]
        e = ring_off[r + 1]
        for i in range(s, e):
            if i == s:
                i1 = e - 1
            else:
                i1 = i - 1
            dy1 = ys[i1]
            dy2 = ys[i]
            if dy1 == dy2:
                continue
            if dy1 < dy2:
                dx1 = xs[i1]
                dx2 = xs[i]
            else:
                t = dy1
                dy1 = dy2
                dy2 = t
                dx2 = xs[i1]
                dx1 = xs[i]
            a = _first_row_at_or_above(dy1, ya, yb)
            b = _last_row_below(dy2, ya, yb)
            for y in range(a, b + 1):
                dy = y + 0.5
                inter = (dy - dy1) * (dx2 - dx1) / (dy2 - dy1) + dx1
                k = y - ya
                ints[fillpos[k]] = _c_int(math.floor(inter + 0.5))
                fillpos[k] += 1
    # fill the pairs, row by row
    for k in range(nrows):
        a0 = counts[k]
        a1 = counts[k + 1]
        if a1 - a0 < 2:
            continue
        seg = ints[a0:a1]
        sort_ints(seg)
        y = ya + k
        j = 0
        while j + 1 < a1 - a0:
            xa = seg[j]
            xb = seg[j + 1]
            if xa <= maxx and xb > 0:
                _span(out, y, xa, xb - 1, grid_w, row0, col0, value)
            j += 2
    # horizontal edges exactly on a scanline, running right-to-left in ring order
    for r in range(r_start, r_end):
        s = ring_off[r]
        e = ring_off[r + 1]
        for i in range(s, e):
            if i == s:
                i1 = e - 1
            else:
                i1 = i - 1
            if ys[i1] != ys[i]:
                continue
            if not (xs[i1] > xs[i]):
                continue
            yv = ys[i]
            fy = math.floor(yv)
            if fy + 0.5 != yv:
                continue
            if fy < ya or fy > yb:
                continue
            y = int(fy)
            hx1 = _c_int(math.floor(xs[i] + 0.5))
            hx2 = _c_int(math.floor(xs[i1] + 0.5))
            if hx1 > maxx or hx2 <= 0:
                continue
            _span(out, y, hx1, hx2 - 1, grid_w, row0, col0, value)


def burn_polygons(out, xs, ys, ring_off, poly_off, values, grid_w, grid_h, row0, col0, all_touched):
    """Burn every polygon, in order, into the window ``out`` of the full grid (with
    ``all_touched``, each polygon's ring outlines first, then its fill)."""
    _burn_kernel(int(bool(all_touched)))(out, xs, ys, ring_off, poly_off, values, grid_w, grid_h, row0, col0)


@functools.cache
def _burn_kernel(all_touched: int) -> Any:
    """:func:`burn_polygons` for ``all_touched`` (a compile-time constant: the outline walk is
    compiled only for the warps and rasterizations that ask for it)."""

    @njit_variant(all_touched)
    def burn(out, xs, ys, ring_off, poly_off, values, grid_w, grid_h, row0, col0):
        npoly = poly_off.shape[0] - 1
        for p in range(npoly):
            r_start = poly_off[p]
            r_end = poly_off[p + 1]
            value = values[p]
            if all_touched:
                for r in range(r_start, r_end):
                    _walk_outline(out, xs, ys, ring_off[r], ring_off[r + 1], grid_w, grid_h, row0, col0, value)
            _fill_polygon(out, xs, ys, ring_off, r_start, r_end, grid_w, grid_h, row0, col0, value)

    return burn
