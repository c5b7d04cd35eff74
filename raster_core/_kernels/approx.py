"""Kernels of the approximate transformer (raster_core.transform).

The recursion of GDAL's ``GDALApproxTransformInternal`` is run level by level over many
segments at once (each segment = one span of one destination row): per level, one
Numba call evaluates/fills/subdivides every segment, Python makes ONE PROJ call for all
the new exact points, and a second Numba call builds the next level. The arithmetic is
exactly GDAL's per-row algorithm, so a row's result never depends on the other rows.
"""

from __future__ import annotations

import numba
import numpy as np

from raster_core._kernels import CACHE


@numba.njit(nogil=True, cache=CACHE, inline="always")
def _bisect_segment(k, r, st, ln, mid, req_r, req_c, child_parent, child_a, child_b, rng_row, rng_start, rng_len,
                    nreq, nch, nrg):
    """GDAL's subdivision of segment ``k`` (row ``r``, columns ``st .. st+ln-1``, middle ``mid``)
    whose linear error is too large: a half longer than 5 points becomes a child segment
    (its new anchor points are requested for an exact transform), a shorter half is listed
    as a range of points to transform exactly. Returns the updated counters."""
    first = mid
    second = ln - mid
    if first > 5:
        req_r[nreq] = r
        req_c[nreq] = st + (mid - 1) // 2
        req_r[nreq + 1] = r
        req_c[nreq + 1] = st + mid - 1
        child_parent[nch] = k
        child_a[nch] = nreq
        child_b[nch] = nreq + 1
        nreq += 2
        nch += 1
    elif first > 1:
        rng_row[nrg] = r
        rng_start[nrg] = st + 1
        rng_len[nrg] = first - 1
        nrg += 1
    if second > 5:
        req_r[nreq] = r
        req_c[nreq] = st + mid + (ln - mid - 1) // 2
        child_parent[nch] = -k - 1
        child_a[nch] = nreq
        child_b[nch] = -1
        nreq += 1
        nch += 1
    elif second > 2:
        rng_row[nrg] = r
        rng_start[nrg] = st + mid + 1
        rng_len[nrg] = second - 2
        nrg += 1
    return nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE)
def approx_level(xs, seg_row, seg_start, seg_len, S, M, E, tol, X, Y,
                 req_r, req_c, child_parent, child_a, child_b,
                 rng_row, rng_start, rng_len, nrg):
    """Evaluate one level.

    Segments within ``tol`` are filled by linear interpolation between their start and end
    (GDAL discards M'). For the others S', M', E' are written at their points and each half
    becomes a child (needing exact points listed in ``req_*``; ``child_a/child_b`` index the
    requests, ``child_b = -1`` for a second half whose end is the parent's E'; the sign of
    ``child_parent`` tells the half: ``k`` = first half, ``-k-1`` = second half) or, when it
    has at most 5 points, an exact range (``rng_*``, appended after ``nrg`` entries).
    Returns (n_requests, n_children, n_ranges).
    """
    nreq = 0
    nch = 0
    for k in range(seg_row.shape[0]):
        r = seg_row[k]
        st = seg_start[k]
        ln = seg_len[k]
        x0 = xs[st]
        mid = (ln - 1) // 2
        span = xs[st + ln - 1] - x0
        dX = (E[k, 0] - S[k, 0]) / span
        dY = (E[k, 1] - S[k, 1]) / span
        dm = xs[st + mid] - x0
        err = abs((S[k, 0] + dX * dm) - M[k, 0]) + abs((S[k, 1] + dY * dm) - M[k, 1])
        if err <= tol:
            ax = S[k, 0]
            ay = S[k, 1]
            for i in range(st, st + ln):
                d = xs[i] - x0
                X[r, i] = ax + dX * d
                Y[r, i] = ay + dY * d
            continue
        X[r, st] = S[k, 0]
        Y[r, st] = S[k, 1]
        X[r, st + mid] = M[k, 0]
        Y[r, st + mid] = M[k, 1]
        X[r, st + ln - 1] = E[k, 0]
        Y[r, st + ln - 1] = E[k, 1]
        nreq, nch, nrg = _bisect_segment(
            k, r, st, ln, mid, req_r, req_c, child_parent, child_a, child_b, rng_row, rng_start, rng_len,
            nreq, nch, nrg,
        )
    return nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE)
def build_children(seg_row, seg_start, seg_len, S, M, E, child_parent, child_a, child_b, nch,
                   qx, qy, qok, rng_row, rng_start, rng_len, nrg):
    """Next level's segments from the children of :func:`approx_level` and the exact
    transforms (qx, qy, qok) of its requests. A child whose exact points failed becomes an
    exact range. Returns (row, start, len, S, M, E, n_ranges)."""
    n_row = np.empty(nch, dtype=np.int64)
    n_start = np.empty(nch, dtype=np.int64)
    n_len = np.empty(nch, dtype=np.int64)
    nS = np.empty((nch, 2))
    nM = np.empty((nch, 2))
    nE = np.empty((nch, 2))
    n = 0
    for q in range(nch):
        p = child_parent[q]
        a = child_a[q]
        b = child_b[q]
        if p >= 0:
            k = p
            r = seg_row[k]
            st = seg_start[k]
            ln = (seg_len[k] - 1) // 2
            if not (qok[a] and qok[b]):
                rng_row[nrg] = r
                rng_start[nrg] = st + 1
                rng_len[nrg] = ln - 1
                nrg += 1
                continue
            nS[n, 0] = S[k, 0]
            nS[n, 1] = S[k, 1]
            nM[n, 0] = qx[a]
            nM[n, 1] = qy[a]
            nE[n, 0] = qx[b]
            nE[n, 1] = qy[b]
        else:
            k = -p - 1
            r = seg_row[k]
            mid = (seg_len[k] - 1) // 2
            st = seg_start[k] + mid
            ln = seg_len[k] - mid
            if not qok[a]:
                rng_row[nrg] = r
                rng_start[nrg] = st + 1
                rng_len[nrg] = ln - 2
                nrg += 1
                continue
            nS[n, 0] = M[k, 0]
            nS[n, 1] = M[k, 1]
            nM[n, 0] = qx[a]
            nM[n, 1] = qy[a]
            nE[n, 0] = E[k, 0]
            nE[n, 1] = E[k, 1]
        n_row[n] = r
        n_start[n] = st
        n_len[n] = ln
        n += 1
    return n_row[:n], n_start[:n], n_len[:n], nS[:n], nM[:n], nE[:n], nrg


@numba.njit(nogil=True, cache=CACHE)
def expand_ranges(rng_row, rng_start, rng_len, nrg):
    """(row, col) of every point of the exact ranges."""
    tot = 0
    for i in range(nrg):
        tot += rng_len[i]
    rows = np.empty(tot, dtype=np.int64)
    cols = np.empty(tot, dtype=np.int64)
    n = 0
    for i in range(nrg):
        for c in range(rng_start[i], rng_start[i] + rng_len[i]):
            rows[n] = rng_row[i]
            cols[n] = c
            n += 1
    return rows, cols


@numba.njit(nogil=True, cache=CACHE)
def approx_level_record(xs, seg_row, seg_start, seg_len, S, M, E, tol,
                        p_row, p_start, p_len, p_sx, p_sy, p_dx, p_dy, npass,
                        f_row, f_col, f_x, f_y, nfix,
                        req_r, req_c, child_parent, child_a, child_b,
                        rng_row, rng_start, rng_len, nrg):
    """Like :func:`approx_level` but records instead of filling: passing segments go to
    ``p_*`` (start value and slope), the S', M', E' points of failing ones to ``f_*``.
    Returns (npass, nfix, n_requests, n_children, n_ranges)."""
    nreq = 0
    nch = 0
    for k in range(seg_row.shape[0]):
        r = seg_row[k]
        st = seg_start[k]
        ln = seg_len[k]
        x0 = xs[st]
        mid = (ln - 1) // 2
        span = xs[st + ln - 1] - x0
        dX = (E[k, 0] - S[k, 0]) / span
        dY = (E[k, 1] - S[k, 1]) / span
        dm = xs[st + mid] - x0
        err = abs((S[k, 0] + dX * dm) - M[k, 0]) + abs((S[k, 1] + dY * dm) - M[k, 1])
        if err <= tol:
            p_row[npass] = r
            p_start[npass] = st
            p_len[npass] = ln
            p_sx[npass] = S[k, 0]
            p_sy[npass] = S[k, 1]
            p_dx[npass] = dX
            p_dy[npass] = dY
            npass += 1
            continue
        f_row[nfix] = r
        f_col[nfix] = st
        f_x[nfix] = S[k, 0]
        f_y[nfix] = S[k, 1]
        f_row[nfix + 1] = r
        f_col[nfix + 1] = st + mid
        f_x[nfix + 1] = M[k, 0]
        f_y[nfix + 1] = M[k, 1]
        f_row[nfix + 2] = r
        f_col[nfix + 2] = st + ln - 1
        f_x[nfix + 2] = E[k, 0]
        f_y[nfix + 2] = E[k, 1]
        nfix += 3
        nreq, nch, nrg = _bisect_segment(
            k, r, st, ln, mid, req_r, req_c, child_parent, child_a, child_b, rng_row, rng_start, rng_len,
            nreq, nch, nrg,
        )
    return npass, nfix, nreq, nch, nrg


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def fill_row(xs, r, c0, c1, f_ptr, f_col, f_x, f_y, p_ptr, p_start, p_len, p_sx, p_sy, p_dx, p_dy,
             e_ptr, e_col, e_x, e_y, e_ok, X, Y, OK):
    """Coordinates of row ``r`` x columns [c0, c1) (1-D X, Y, OK) from recorded row plans (CSR
    by row): fixed S'/M'/E' points, then linear segments, then exact points (GDAL's write
    order). The segment loops run over 1-D slices, which LLVM vectorises."""
    for c in range(c1 - c0):
        OK[c] = True
    for q in range(f_ptr[r], f_ptr[r + 1]):
        c = f_col[q]
        if c0 <= c < c1:
            X[c - c0] = f_x[q]
            Y[c - c0] = f_y[q]
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
        xo = X[lo - c0:hi - c0]
        yo = Y[lo - c0:hi - c0]
        xi = xs[lo:hi]
        for i in range(hi - lo):
            d = xi[i] - x0
            xo[i] = ax + bx * d
            yo[i] = ay + by * d
    for q in range(e_ptr[r], e_ptr[r + 1]):
        c = e_col[q]
        if c0 <= c < c1:
            X[c - c0] = e_x[q]
            Y[c - c0] = e_y[q]
            OK[c - c0] = e_ok[q]
    return 0


@numba.njit(nogil=True, cache=CACHE)
def fill_rows(xs, r0, r1, c0, c1, f_ptr, f_col, f_x, f_y, p_ptr, p_start, p_len, p_sx, p_sy, p_dx, p_dy,
              e_ptr, e_col, e_x, e_y, e_ok, X, Y, OK):
    """:func:`fill_row` for rows [r0, r1) into (rows, cols) arrays."""
    for r in range(r0, r1):
        rr = r - r0
        fill_row(xs, r, c0, c1, f_ptr, f_col, f_x, f_y, p_ptr, p_start, p_len, p_sx, p_sy, p_dx, p_dy,
                 e_ptr, e_col, e_x, e_y, e_ok, X[rr], Y[rr], OK[rr])
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
def scan_retry_segments(xs, r0, r1, c0, c1, f_ptr, f_col, f_x, f_y, p_ptr, p_start, p_len, p_sx, p_sy, p_dx, p_dy,
                        e_ptr, e_col, e_x, e_y, e_ok, x0, y0, x1, y1, out_r, out_c):
    """The pixels of rows [r0, r1) whose approximate source position lies within 1 pixel outside
    the window [x0, x1) x [y0, y1) (GDAL re-transforms them exactly, §1.4), found per linear
    segment: along a segment the
    approximate x (and y) is a monotone function of the column, so the columns whose value
    may fall in one of the four 1-pixel bands outside the window form an index range
    computed by division (with a margin); only those columns are evaluated, with exactly
    the expressions of :func:`fill_rows` and the same test. Fixed S'/M'/E' points that no
    segment overwrites and exact points are tested individually. A pixel's value is the
    last write of fill_rows' order (fixed, segments, exact). Returns the count; fills
    out_r/out_c when they are large enough."""
    n = 0
    cap = out_r.shape[0]
    w = c1 - c0
    mark = np.full(w, -1, dtype=np.int64)
    eps = 1e-6
    lo_s = np.empty(4, dtype=np.int64)
    hi_s = np.empty(4, dtype=np.int64)
    for r in range(r0, r1):
        # exact points: the last entry of a column wins
        for q in range(e_ptr[r], e_ptr[r + 1]):
            c = e_col[q]
            if c0 <= c < c1:
                mark[c - c0] = q
        for q in range(e_ptr[r], e_ptr[r + 1]):
            c = e_col[q]
            if c0 <= c < c1 and mark[c - c0] == q and e_ok[q]:
                if _retry_test(e_x[q], e_y[q], x0, y0, x1, y1):
                    if n < cap:
                        out_r[n] = r
                        out_c[n] = c
                    n += 1
        # linear segments (disjoint column ranges)
        for q in range(p_ptr[r], p_ptr[r + 1]):
            st = p_start[q]
            lo = max(st, c0)
            hi = min(st + p_len[q], c1)
            if lo >= hi:
                continue
            sx = p_sx[q]
            sy = p_sy[q]
            dx = p_dx[q]
            dy = p_dy[q]
            xa = xs[st]
            lo_s[0], hi_s[0] = _preimage(st, sx, dx, x0 - 1.0 - eps, x0 + eps, lo, hi)
            lo_s[1], hi_s[1] = _preimage(st, sy, dy, y0 - 1.0 - eps, y0 + eps, lo, hi)
            lo_s[2], hi_s[2] = _preimage(st, sx, dx, x1 - 1e-10 - eps, x1 + 1.0 + eps, lo, hi)
            lo_s[3], hi_s[3] = _preimage(st, sy, dy, y1 - 1e-10 - eps, y1 + 1.0 + eps, lo, hi)
            # visit the union of the ranges once, in column order
            i = lo
            while True:
                nxt = hi
                for k in range(4):
                    if hi_s[k] > lo_s[k] and hi_s[k] > i and lo_s[k] < nxt:
                        nxt = lo_s[k] if lo_s[k] > i else i
                if nxt >= hi:
                    break
                i = nxt
                end = i
                for k in range(4):
                    if lo_s[k] <= i < hi_s[k] and hi_s[k] > end:
                        end = hi_s[k]
                for ii in range(i, end):
                    if mark[ii - c0] >= 0:
                        continue
                    d = xs[ii] - xa
                    if _retry_test(sx + dx * d, sy + dy * d, x0, y0, x1, y1):
                        if n < cap:
                            out_r[n] = r
                            out_c[n] = ii
                        n += 1
                i = end
        # fixed points not overwritten by a segment or an exact point
        for q in range(f_ptr[r], f_ptr[r + 1]):
            c = f_col[q]
            if not (c0 <= c < c1) or mark[c - c0] != -1:
                continue
            covered = False
            for s in range(p_ptr[r], p_ptr[r + 1]):
                if p_start[s] <= c < p_start[s] + p_len[s]:
                    covered = True
                    break
            if covered:
                continue
            mark[c - c0] = -2  # fixed points of one column carry the same value: test once
            if _retry_test(f_x[q], f_y[q], x0, y0, x1, y1):
                if n < cap:
                    out_r[n] = r
                    out_c[n] = c
                n += 1
        for q in range(e_ptr[r], e_ptr[r + 1]):
            c = e_col[q]
            if c0 <= c < c1:
                mark[c - c0] = -1
        for q in range(f_ptr[r], f_ptr[r + 1]):
            c = f_col[q]
            if c0 <= c < c1:
                mark[c - c0] = -1
    return n


@numba.njit(nogil=True, cache=CACHE)
def csr_order(row, ptr):
    """Stable counting sort of ``row`` (values in [0, len(ptr) - 1)): fills ``ptr`` (CSR row
    pointers, zero on entry) and returns the permutation that groups the entries by row."""
    nrows = ptr.shape[0] - 1
    for k in range(row.shape[0]):
        ptr[row[k] + 1] += 1
    for r in range(nrows):
        ptr[r + 1] += ptr[r]
    nxt = ptr[:nrows].copy()
    order = np.empty(row.shape[0], dtype=np.int64)
    for k in range(row.shape[0]):
        r = row[k]
        order[nxt[r]] = k
        nxt[r] += 1
    return order
