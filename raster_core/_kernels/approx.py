"""Kernels of the approximate transformer's row plans (raster_core.transform).

A :class:`raster_core.transform.RowPlan` records GDAL's approximate transform of many rows
compactly (recorded level by level in NumPy: per row a few linear segments, the fixed exact
S'/M'/E' points of the segments that were bisected and the exactly transformed points).
:func:`scan_retry_segments` finds its pixels that GDAL re-transforms exactly near the source
window's edges; :func:`fill_rows` writes the coordinates of a block of rows from it, without
PROJ or the GIL, and is called from Python by the warp's row driver and the reduce kernels'
driver, a chunk of rows at a time.

The kernels take the plan as one :class:`raster_core._kernels.args.RowPlanTables` (CSR tables
by row of field-major arrays: few array arguments, as Numba's compile time grows by about 10 ms
per array argument of a compiled function).
"""

from __future__ import annotations

import numba

from raster_core._kernels import CACHE


@numba.njit(nogil=True, cache=CACHE)
def fill_rows(plan, r0, r1, c0, c1, X, Y, OK):
    """Coordinates of rows [r0, r1) x columns [c0, c1) into (rows, cols) X, Y, OK from a recorded
    row plan (:class:`raster_core._kernels.args.RowPlanTables`): per row, fixed S'/M'/E' points,
    then linear segments, then exact points (GDAL's write order). The segment loops run over 1-D
    slices, which LLVM vectorises."""
    xs = plan.xs
    ptr = plan.ptr
    for r in range(r0, r1):
        rr = r - r0
        for c in range(c1 - c0):
            OK[rr, c] = True
        for q in range(ptr[0, r], ptr[0, r + 1]):
            c = plan.f_col[q]
            if c0 <= c < c1:
                X[rr, c - c0] = plan.f_xy[0, q]
                Y[rr, c - c0] = plan.f_xy[1, q]
        for q in range(ptr[1, r], ptr[1, r + 1]):
            st = plan.p_int[0, q]
            x0 = xs[st]
            lo = max(st, c0)
            hi = min(st + plan.p_int[1, q], c1)
            if hi <= lo:
                continue
            ax = plan.p_flt[0, q]
            ay = plan.p_flt[1, q]
            bx = plan.p_flt[2, q]
            by = plan.p_flt[3, q]
            xo = X[rr, lo - c0:hi - c0]
            yo = Y[rr, lo - c0:hi - c0]
            xi = xs[lo:hi]
            for i in range(hi - lo):
                d = xi[i] - x0
                xo[i] = ax + bx * d
                yo[i] = ay + by * d
        for q in range(ptr[2, r], ptr[2, r + 1]):
            c = plan.e_col[q]
            if c0 <= c < c1:
                X[rr, c - c0] = plan.e_xy[0, q]
                Y[rr, c - c0] = plan.e_xy[1, q]
                OK[rr, c - c0] = plan.e_ok[q]
    return 0


@numba.njit(nogil=True, cache=CACHE)
def _retry_test(x, y, x0, y0, x1, y1):
    return ((x < x0 and x > x0 - 1.0) or (y < y0 and y > y0 - 1.0)
            or (x + 1e-10 > x1 and x < x1 + 1.0) or (y + 1e-10 > y1 and y < y1 + 1.0))


@numba.njit(nogil=True, cache=CACHE)
def _preimage(st, sv, dv, lo_v, hi_v, lo, hi):
    """Index range [i0, i1) within [lo, hi) that may hold sv + dv * (i - st) in [lo_v, hi_v]
    (a superset: the caller tests every index exactly)."""
    if dv == 0.0:
        if lo_v <= sv <= hi_v:
            return lo, hi
        return lo, lo
    ta = (lo_v - sv) / dv
    tb = (hi_v - sv) / dv
    if ta > tb:
        ta, tb = tb, ta
    fa = st + ta - 2.0
    fb = st + tb + 3.0
    if not (fb >= lo and fa < hi):  # also NaN
        return lo, lo
    i0 = lo if fa <= lo else int(fa)
    i1 = hi if fb >= hi else int(fb)
    if i0 < lo:
        i0 = lo
    if i1 > hi:
        i1 = hi
    return i0, i1


@numba.njit(nogil=True, cache=CACHE)
def scan_retry_segments(plan, r0, r1, c0, c1, window, out, bands):
    """The interpolated pixels of rows [r0, r1) whose approximate source position lies within 1
    pixel outside the window [x0, x1) x [y0, y1), ``window = (x0, y0, x1, y1)`` (GDAL
    re-transforms them exactly, §1.4).

    Only the linear segments of a plan (:class:`raster_core._kernels.args.RowPlanTables`) are
    scanned: its fixed S'/M'/E' points and
    exact points are exact transforms already, which a re-transform reproduces. Along a
    segment the approximate x (and y) is a monotone function of the column, so the columns
    whose value may fall in one of the four 1-pixel bands outside the window form index
    ranges computed by division (with a margin); only the union of those ranges is
    evaluated, in column order, with exactly the expressions of :func:`fill_rows` and tested.
    ``bands`` is (2, 4) int64 scratch. Returns the count; fills ``out`` (row, column) when it
    is large enough."""
    xs = plan.xs
    p_ptr = plan.ptr[1]
    p_int = plan.p_int
    p_flt = plan.p_flt
    x0, y0, x1, y1 = window
    n = 0
    cap = out.shape[1]
    eps = 1e-6
    for r in range(r0, r1):
        for q in range(p_ptr[r], p_ptr[r + 1]):
            st = p_int[0, q]
            lo = max(st, c0)
            hi = min(st + p_int[1, q], c1)
            if lo >= hi:
                continue
            sx = p_flt[0, q]
            sy = p_flt[1, q]
            dx = p_flt[2, q]
            dy = p_flt[3, q]
            xa = xs[st]
            bands[0, 0], bands[1, 0] = _preimage(st, sx, dx, x0 - 1.0 - eps, x0 + eps, lo, hi)
            bands[0, 1], bands[1, 1] = _preimage(st, sy, dy, y0 - 1.0 - eps, y0 + eps, lo, hi)
            bands[0, 2], bands[1, 2] = _preimage(st, sx, dx, x1 - 1e-10 - eps, x1 + 1.0 + eps, lo, hi)
            bands[0, 3], bands[1, 3] = _preimage(st, sy, dy, y1 - 1e-10 - eps, y1 + 1.0 + eps, lo, hi)
            # visit the union of the ranges once, in column order
            i = lo
            while True:
                nxt = hi
                for k in range(4):
                    if bands[1, k] > bands[0, k] and bands[1, k] > i and bands[0, k] < nxt:
                        nxt = bands[0, k] if bands[0, k] > i else i
                if nxt >= hi:
                    break
                i = nxt
                end = i
                for k in range(4):
                    if bands[0, k] <= i < bands[1, k] and bands[1, k] > end:
                        end = bands[1, k]
                for ii in range(i, end):
                    d = xs[ii] - xa
                    if _retry_test(sx + dx * d, sy + dy * d, x0, y0, x1, y1):
                        if n < cap:
                            out[0, n] = r
                            out[1, n] = ii
                        n += 1
                i = end
    return n
