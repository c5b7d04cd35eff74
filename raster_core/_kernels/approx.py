"""Kernels of the approximate transformer (raster_core.transform).

The recursion of GDAL's ``GDALApproxTransformInternal`` is run level by level over many
segments at once (each segment = one span of one destination row): per level, one call
evaluates/fills/subdivides every segment, Python makes ONE PROJ call for all the new exact
points, and a second call builds the next level. The arithmetic is exactly GDAL's per-row
algorithm, so a row's result never depends on the other rows.

The level functions are NumPy (a few vector operations per level over all the segments; the
level's PROJ call costs more), so a first reprojection does not wait for their compilation
(about 1.5 s of Numba work). The row fillers and the retry scan run per destination row inside
the warp and stay compiled.
"""

from __future__ import annotations

import numba
import numpy as np

from raster_core._kernels import CACHE


def _level_tests(xs, seg_start, seg_len, S, M, E, tol):
    """Per segment: the slopes ``dX, dY`` of the line from S' to E', the middle ``mid`` and
    whether M' lies within ``tol`` of that line (GDAL's test, NaN fails)."""
    x0 = xs[seg_start]
    mid = (seg_len - 1) // 2
    span = xs[seg_start + seg_len - 1] - x0
    with np.errstate(all="ignore"):  # failed (inf) points: NaN fails the test, as in GDAL
        dX = (E[:, 0] - S[:, 0]) / span
        dY = (E[:, 1] - S[:, 1]) / span
        dm = xs[seg_start + mid] - x0
        err = np.abs((S[:, 0] + dX * dm) - M[:, 0]) + np.abs((S[:, 1] + dY * dm) - M[:, 1])
    return dX, dY, mid, err <= tol


def _bisect_segments(k, seg_row, seg_start, seg_len, mid, req_r, req_c, child_parent, child_a, child_b,
                     rng_row, rng_start, rng_len, nrg):
    """GDAL's subdivision of the segments ``k`` (ascending) whose linear error is too large: a
    half longer than 5 points becomes a child segment (its new anchor points are requested for
    an exact transform), a shorter half is listed as a range of points to transform exactly.
    Segment by segment (first half, then second half), as one loop over ``k`` would append them.
    Returns (n_requests, n_children, n_ranges)."""
    r = seg_row[k]
    st = seg_start[k]
    ln = seg_len[k]
    md = mid[k]
    first = md
    second = ln - md
    a1 = first > 5
    a2 = second > 5
    g1 = ~a1 & (first > 1)
    g2 = ~a2 & (second > 2)
    # requests: per segment [first-half middle, first-half end] (a1), [second-half middle] (a2)
    use = np.stack([a1, a1, a2], axis=1)
    cols = np.stack([st + (md - 1) // 2, st + md - 1, st + md + (ln - md - 1) // 2], axis=1)
    nreq = int(use.sum())
    req_r[:nreq] = np.repeat(r, use.sum(axis=1))
    req_c[:nreq] = cols[use]
    base = np.cumsum(2 * a1 + a2) - (2 * a1 + a2)  # index of a segment's first request
    kids = np.stack([a1, a2], axis=1)
    nch = int(kids.sum())
    child_parent[:nch] = np.stack([k, -k - 1], axis=1)[kids]
    child_a[:nch] = np.stack([base, base + 2 * a1], axis=1)[kids]
    child_b[:nch] = np.stack([base + 1, np.full_like(base, -1)], axis=1)[kids]
    rngs = np.stack([g1, g2], axis=1)
    n = int(rngs.sum())
    rng_row[nrg:nrg + n] = np.stack([r, r], axis=1)[rngs]
    rng_start[nrg:nrg + n] = np.stack([st + 1, st + md + 1], axis=1)[rngs]
    rng_len[nrg:nrg + n] = np.stack([first - 1, second - 2], axis=1)[rngs]
    return nreq, nch, nrg + n


def build_children(seg_row, seg_start, seg_len, S, M, E, child_parent, child_a, child_b, nch,
                   qx, qy, qok, rng_row, rng_start, rng_len, nrg):
    """Next level's segments from the children of :func:`approx_level_record` and the exact
    transforms (qx, qy, qok) of its requests. A child whose exact points failed becomes an
    exact range. Returns (row, start, len, S, M, E, n_ranges)."""
    p = child_parent[:nch]
    a = child_a[:nch]
    b = child_b[:nch]
    ns = seg_row.shape[0]
    nq = qx.shape[0]
    firsth = p >= 0
    k = np.where(firsth, p, -p - 1)
    sl = seg_len[k]
    md = (sl - 1) // 2
    row = seg_row[k]
    start = np.where(firsth, seg_start[k], seg_start[k] + md)
    length = np.where(firsth, md, sl - md)
    ok = qok[a] & qok[np.where(firsth, b, a)]  # a second half needs its middle only
    # S' of a first half is the parent's S', of a second half the parent's M'; E' of a first
    # half is its requested end point, of a second half the parent's E'
    sm = np.concatenate([S, M])
    qe = np.empty((nq + ns, 2))
    qe[:nq, 0] = qx
    qe[:nq, 1] = qy
    qe[nq:] = E
    i_s = np.where(firsth, k, k + ns)
    i_e = np.where(firsth, b, k + nq)
    if not ok.all():
        bad = ~ok
        n = int(bad.sum())
        rng_row[nrg:nrg + n] = row[bad]
        rng_start[nrg:nrg + n] = start[bad] + 1
        rng_len[nrg:nrg + n] = np.where(firsth, length - 1, length - 2)[bad]
        nrg += n
        keep = np.flatnonzero(ok)
        row, start, length, i_s, a, i_e = (v[keep] for v in (row, start, length, i_s, a, i_e))
    return row, start, length, sm[i_s], qe[a], qe[i_e], nrg


def expand_ranges(rng_row, rng_start, rng_len, nrg):
    """(row, col) of every point of the exact ranges."""
    lens = rng_len[:nrg]
    tot = int(lens.sum())
    first = np.cumsum(lens) - lens
    rows = np.repeat(rng_row[:nrg], lens)
    cols = np.arange(tot, dtype=np.int64) - np.repeat(first - rng_start[:nrg], lens)
    return rows.astype(np.int64, copy=False), cols


def approx_level_record(xs, seg_row, seg_start, seg_len, S, M, E, tol, pbuf, npass, fbuf, nfix,
                        req_r, req_c, child_parent, child_a, child_b, rng_row, rng_start, rng_len, nrg):
    """Evaluate one level of the recursion and record it (GDAL's ``GDALApproxTransformInternal``).

    A segment whose middle M' lies within ``tol`` of the line from its start S' to its end E'
    is linear: it goes to ``pbuf = (p_row, p_start, p_len, p_sx, p_sy, p_dx, p_dy)`` (row, start,
    length, start value and slope; GDAL discards M'). The S', M', E' points of the others go to
    ``fbuf = (f_row, f_col, f_x, f_y)`` and each of their halves becomes a child
    (needing exact points listed in ``req_*``; ``child_a/child_b`` index the requests,
    ``child_b = -1`` for a second half whose end is the parent's E'; the sign of
    ``child_parent`` tells the half: ``k`` = first half, ``-k-1`` = second half) or, when it has
    at most 5 points, an exact range (``rng_*``, appended after ``nrg`` entries). Entries are
    appended after ``npass`` / ``nfix`` in segment order.
    Returns (npass, nfix, n_requests, n_children, n_ranges).

    NumPy, not Numba: the work per level is a few vector operations over the segments (the
    level's PROJ call costs more), and a first warp does not wait for a compilation.
    """
    p_row, p_start, p_len, p_sx, p_sy, p_dx, p_dy = pbuf
    f_row, f_col, f_x, f_y = fbuf
    dX, dY, mid, good = _level_tests(xs, seg_start, seg_len, S, M, E, tol)
    kp = np.flatnonzero(good)
    n = kp.size
    p_row[npass:npass + n] = seg_row[kp]
    p_start[npass:npass + n] = seg_start[kp]
    p_len[npass:npass + n] = seg_len[kp]
    p_sx[npass:npass + n] = S[kp, 0]
    p_sy[npass:npass + n] = S[kp, 1]
    p_dx[npass:npass + n] = dX[kp]
    p_dy[npass:npass + n] = dY[kp]
    npass += n
    k = np.flatnonzero(~good)
    if k.size == 0:
        return npass, nfix, 0, 0, nrg
    m = 3 * k.size
    st = seg_start[k]
    f_row[nfix:nfix + m] = np.repeat(seg_row[k], 3)
    f_col[nfix:nfix + m] = np.stack([st, st + mid[k], st + seg_len[k] - 1], axis=1).ravel()
    f_x[nfix:nfix + m] = np.stack([S[k, 0], M[k, 0], E[k, 0]], axis=1).ravel()
    f_y[nfix:nfix + m] = np.stack([S[k, 1], M[k, 1], E[k, 1]], axis=1).ravel()
    nfix += m
    nreq, nch, nrg = _bisect_segments(k, seg_row, seg_start, seg_len, mid, req_r, req_c, child_parent, child_a,
                                      child_b, rng_row, rng_start, rng_len, nrg)
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


def csr_order(row, ptr):
    """Stable sort of ``row`` (values in [0, len(ptr) - 1)): fills ``ptr`` (CSR row pointers,
    zero on entry) and returns the permutation that groups the entries by row."""
    nrows = ptr.shape[0] - 1
    np.cumsum(np.bincount(row, minlength=nrows), out=ptr[1:])
    return np.argsort(row, kind="stable")
