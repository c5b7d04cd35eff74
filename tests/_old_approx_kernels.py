"""Kernels of the approximate transformer (raster_core.transform).

The recursion of GDAL's ``GDALApproxTransformInternal`` is run level by level over many
segments at once (each segment = one span of one destination row): per level, one
Numba call evaluates/fills/subdivides every segment, Python makes ONE PROJ call for all
the new exact points, and a second Numba call builds the next level. The arithmetic is
exactly GDAL's per-row algorithm, so a row's result never depends on the other rows.

Tables are field-major 2-D arrays (one row per field, one column per entry), so that a kernel
takes a handful of arrays: Numba's compile time grows by about 10 ms per array argument of a
compiled function (its unboxing and reference counting), and these kernels are compiled by the
first reprojection of every process that starts with an empty cache.

* a level's segments: ``seg`` int64 ``(3, n)`` = row, first column, number of points, and
  ``pts`` float64 ``(6, n)`` = S'x, S'y, M'x, M'y, E'x, E'y (exact start, middle, end);
* exact requests ``req`` int64 ``(2, m)`` = row, column; children ``child`` int64 ``(3, m)`` =
  parent, request of M', request of E' (see :func:`approx_level`); exact ranges ``rng`` int64
  ``(3, m)`` = row, first column, number of points;
* recorded row plans: passing segments ``passed`` int64 ``(3, m)`` = row, start, len and
  ``passed_f`` float64 ``(4, m)`` = start x, start y, slope x, slope y; fixed points ``fixed``
  int64 ``(2, m)`` = row, column and ``fixed_f`` float64 ``(2, m)`` = x, y.
"""

from __future__ import annotations

import numba
import numpy as np

from raster_core._kernels import CACHE


@numba.njit(nogil=True, cache=CACHE, inline="always")
def _bisect_segment(k, r, st, ln, mid, req, child, rng, nreq, nch, nrg):
    """GDAL's subdivision of segment ``k`` (row ``r``, columns ``st .. st+ln-1``, middle ``mid``)
    whose linear error is too large: a half longer than 5 points becomes a child segment
    (its new anchor points are requested for an exact transform), a shorter half is listed
    as a range of points to transform exactly. Returns the updated counters."""
    first = mid
    second = ln - mid
    if first > 5:
        req[0, nreq] = r
        req[1, nreq] = st + (mid - 1) // 2
        req[0, nreq + 1] = r
        req[1, nreq + 1] = st + mid - 1
        child[0, nch] = k
        child[1, nch] = nreq
        child[2, nch] = nreq + 1
        nreq += 2
        nch += 1
    elif first > 1:
        rng[0, nrg] = r
        rng[1, nrg] = st + 1
        rng[2, nrg] = first - 1
        nrg += 1
    if second > 5:
        req[0, nreq] = r
        req[1, nreq] = st + mid + (ln - mid - 1) // 2
        child[0, nch] = -k - 1
        child[1, nch] = nreq
        child[2, nch] = -1
        nreq += 1
        nch += 1
    elif second > 2:
        rng[0, nrg] = r
        rng[1, nrg] = st + mid + 1
        rng[2, nrg] = second - 2
        nrg += 1
    return nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE)
def approx_level(xs, seg, pts, tol, X, Y, req, child, rng, nrg):
    """Evaluate one level.

    Segments within ``tol`` are filled by linear interpolation between their start and end
    (GDAL discards M'). For the others S', M', E' are written at their points and each half
    becomes a child (needing exact points listed in ``req``; ``child[1]``/``child[2]`` index
    the requests, ``child[2] = -1`` for a second half whose end is the parent's E'; the sign of
    ``child[0]`` tells the half: ``k`` = first half, ``-k-1`` = second half) or, when it
    has at most 5 points, an exact range (``rng``, appended after ``nrg`` entries).
    Returns (n_requests, n_children, n_ranges).
    """
    # (int64 counters: a counter that starts as the literal 0 compiles its callee twice)
    nreq = np.int64(0)
    nch = np.int64(0)
    for k in range(seg.shape[1]):
        r = seg[0, k]
        st = seg[1, k]
        ln = seg[2, k]
        x0 = xs[st]
        mid = (ln - 1) // 2
        span = xs[st + ln - 1] - x0
        dX = (pts[4, k] - pts[0, k]) / span
        dY = (pts[5, k] - pts[1, k]) / span
        dm = xs[st + mid] - x0
        err = abs((pts[0, k] + dX * dm) - pts[2, k]) + abs((pts[1, k] + dY * dm) - pts[3, k])
        if err <= tol:
            ax = pts[0, k]
            ay = pts[1, k]
            for i in range(st, st + ln):
                d = xs[i] - x0
                X[r, i] = ax + dX * d
                Y[r, i] = ay + dY * d
            continue
        X[r, st] = pts[0, k]
        Y[r, st] = pts[1, k]
        X[r, st + mid] = pts[2, k]
        Y[r, st + mid] = pts[3, k]
        X[r, st + ln - 1] = pts[4, k]
        Y[r, st + ln - 1] = pts[5, k]
        nreq, nch, nrg = _bisect_segment(k, r, st, ln, mid, req, child, rng, nreq, nch, nrg)
    return nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE)
def build_children(seg, pts, child, nch, qx, qy, qok, new_seg, new_pts, rng, nrg):
    """Next level's segments (written to ``new_seg``/``new_pts``) from the ``nch`` children of
    :func:`approx_level` and the exact transforms (qx, qy, qok) of its requests. A child
    whose exact points failed becomes an exact range. Returns (n_segments, n_ranges)."""
    n = 0
    for q in range(nch):
        p = child[0, q]
        a = child[1, q]
        b = child[2, q]
        if p >= 0:
            k = p
            r = seg[0, k]
            st = seg[1, k]
            ln = (seg[2, k] - 1) // 2
            if not (qok[a] and qok[b]):
                rng[0, nrg] = r
                rng[1, nrg] = st + 1
                rng[2, nrg] = ln - 1
                nrg += 1
                continue
            new_pts[0, n] = pts[0, k]
            new_pts[1, n] = pts[1, k]
            new_pts[2, n] = qx[a]
            new_pts[3, n] = qy[a]
            new_pts[4, n] = qx[b]
            new_pts[5, n] = qy[b]
        else:
            k = -p - 1
            r = seg[0, k]
            mid = (seg[2, k] - 1) // 2
            st = seg[1, k] + mid
            ln = seg[2, k] - mid
            if not qok[a]:
                rng[0, nrg] = r
                rng[1, nrg] = st + 1
                rng[2, nrg] = ln - 2
                nrg += 1
                continue
            new_pts[0, n] = pts[2, k]
            new_pts[1, n] = pts[3, k]
            new_pts[2, n] = qx[a]
            new_pts[3, n] = qy[a]
            new_pts[4, n] = pts[4, k]
            new_pts[5, n] = pts[5, k]
        new_seg[0, n] = r
        new_seg[1, n] = st
        new_seg[2, n] = ln
        n += 1
    return n, nrg


@numba.njit(nogil=True, cache=CACHE)
def approx_level_record(xs, seg, pts, tol, passed, passed_f, npass, fixed, fixed_f, nfix, req, child, rng, nrg):
    """Like :func:`approx_level` but records instead of filling: passing segments go to
    ``passed``/``passed_f`` (start value and slope), the S', M', E' points of failing ones to
    ``fixed``/``fixed_f``, after ``npass`` and ``nfix`` entries.
    Returns (npass, nfix, n_requests, n_children, n_ranges)."""
    # (int64 counters: a counter that starts as the literal 0 compiles its callee twice)
    nreq = np.int64(0)
    nch = np.int64(0)
    for k in range(seg.shape[1]):
        r = seg[0, k]
        st = seg[1, k]
        ln = seg[2, k]
        x0 = xs[st]
        mid = (ln - 1) // 2
        span = xs[st + ln - 1] - x0
        dX = (pts[4, k] - pts[0, k]) / span
        dY = (pts[5, k] - pts[1, k]) / span
        dm = xs[st + mid] - x0
        err = abs((pts[0, k] + dX * dm) - pts[2, k]) + abs((pts[1, k] + dY * dm) - pts[3, k])
        if err <= tol:
            passed[0, npass] = r
            passed[1, npass] = st
            passed[2, npass] = ln
            passed_f[0, npass] = pts[0, k]
            passed_f[1, npass] = pts[1, k]
            passed_f[2, npass] = dX
            passed_f[3, npass] = dY
            npass += 1
            continue
        fixed[0, nfix] = r
        fixed[1, nfix] = st
        fixed_f[0, nfix] = pts[0, k]
        fixed_f[1, nfix] = pts[1, k]
        fixed[0, nfix + 1] = r
        fixed[1, nfix + 1] = st + mid
        fixed_f[0, nfix + 1] = pts[2, k]
        fixed_f[1, nfix + 1] = pts[3, k]
        fixed[0, nfix + 2] = r
        fixed[1, nfix + 2] = st + ln - 1
        fixed_f[0, nfix + 2] = pts[4, k]
        fixed_f[1, nfix + 2] = pts[5, k]
        nfix += 3
        nreq, nch, nrg = _bisect_segment(k, r, st, ln, mid, req, child, rng, nreq, nch, nrg)
    return npass, nfix, nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE)
def fill_rows(xs, r0, r1, c0, c1, f_ptr, f_col, f_x, f_y, p_ptr, p_start, p_len, p_sx, p_sy, p_dx, p_dy,
              e_ptr, e_col, e_x, e_y, e_ok, X, Y, OK):
    """Coordinates of rows [r0, r1) x columns [c0, c1) into (rows, cols) X, Y, OK from recorded
    row plans (CSR by row): per row, fixed S'/M'/E' points, then linear segments, then exact
    points (GDAL's write order). The segment loops run over 1-D slices, which LLVM vectorises."""
    for r in range(r0, r1):
        rr = r - r0
        for c in range(c1 - c0):
            OK[rr, c] = True
        for q in range(f_ptr[r], f_ptr[r + 1]):
            c = f_col[q]
            if c0 <= c < c1:
                X[rr, c - c0] = f_x[q]
                Y[rr, c - c0] = f_y[q]
        for q in range(p_ptr[r], p_ptr[r + 1]):
            st = p_start[q]
            x0 = xs[st]
            lo = max(st, c0)
            hi = min(st + p_len[q], c1)
            if hi <= lo:
                continue
            ax = p_sx[q]
            ay = p_sy[q]
            bx = p_dx[q]
            by = p_dy[q]
            xo = X[rr, lo - c0:hi - c0]
            yo = Y[rr, lo - c0:hi - c0]
            xi = xs[lo:hi]
            for i in range(hi - lo):
                d = xi[i] - x0
                xo[i] = ax + bx * d
                yo[i] = ay + by * d
        for q in range(e_ptr[r], e_ptr[r + 1]):
            c = e_col[q]
            if c0 <= c < c1:
                X[rr, c - c0] = e_x[q]
                Y[rr, c - c0] = e_y[q]
                OK[rr, c - c0] = e_ok[q]
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
def scan_retry_segments(xs, r0, r1, c0, c1, p_ptr, p_int, p_flt, x0, y0, x1, y1, out, bands):
    """The interpolated pixels of rows [r0, r1) whose approximate source position lies within 1
    pixel outside the window [x0, x1) x [y0, y1) (GDAL re-transforms them exactly, §1.4).

    Only the linear segments of a plan (``p_ptr`` = CSR row pointers, ``p_int`` = start, len,
    ``p_flt`` = start x, start y, slope x, slope y) are scanned: its fixed S'/M'/E' points and
    exact points are exact transforms already, which a re-transform reproduces. Along a
    segment the approximate x (and y) is a monotone function of the column, so the columns
    whose value may fall in one of the four 1-pixel bands outside the window form index
    ranges computed by division (with a margin); only the union of those ranges is
    evaluated, in column order, with exactly the expressions of :func:`fill_rows` and tested.
    ``bands`` is (2, 4) int64 scratch. Returns the count; fills ``out`` (row, column) when it
    is large enough."""
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


@numba.njit(nogil=True, cache=CACHE)
def csr_order(row, ptr, order):
    """Stable counting sort of ``row`` (values in [0, len(ptr) - 1)): fills ``ptr`` (CSR row
    pointers, zero on entry) and ``order`` (the permutation that groups the entries by row)."""
    nrows = ptr.shape[0] - 1
    for k in range(row.shape[0]):
        ptr[row[k] + 1] += 1
    # ptr[r + 1] = first entry of row r, then its cursor: it ends as the end of row r
    start = 0
    for r in range(nrows):
        count = ptr[r + 1]
        ptr[r + 1] = start
        start += count
    for k in range(row.shape[0]):
        r = row[k]
        order[ptr[r + 1]] = k
        ptr[r + 1] += 1
    ptr[0] = 0
    return 0
