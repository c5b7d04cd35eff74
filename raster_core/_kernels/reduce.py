"""Area-reduction warp kernels: GDAL 3.10's ``GWKAverageOrMode`` family and ``GWKSumPreserving``.

Kernels take arrays and scalars only (the caller computes coordinates):

* :func:`average_or_mode` -- ``average, rms, mode, max, min, med, q1, q3``. Each destination
  pixel's footprint is the axis-aligned box spanned by its **two** transformed corners
  (top-left ``(col, row)`` and bottom-right ``(col + 1, row + 1)`` of the destination pixel,
  mapped to full-raster source pixel coordinates), exactly as GDAL does, with GDAL's edge
  weights (``1 - frac`` on the first/last touched row/column, weight 1 for a footprint that
  stays inside one row/column, weights > 1 where the footprint leaves the source window).
* :func:`sum_preserving` -- ``sum``: works forward, every valid source pixel's quadrilateral
  (its 4 corners mapped to destination pixel coordinates) is spread over the destination
  pixels in proportion of the overlapped area.

Validity: ``valid`` is the unified source validity (uint8, 0 = invalid) of the window;
``density`` (float32) is the optional unified source density (alpha/cutline); an empty
(0x0) array means "absent". Results are float64 values plus a ``produced`` mask (uint8); the
caller applies GDAL's write rules (rounding, clamping, dst-nodata collision, blending).

Other GDAL details kept: average is GDAL's incremental weighted mean ``W += w; m += (w/W)(v-m)``
(bit-identical results); rms is ``sqrt(sum(w v^2) / sum(w))``; mode/min/max/med/q1/q3 count every
touched valid pixel once (unweighted, a 1e-9 px touch counts); med/q1/q3 take the sorted value at
``ceil(q n - 1)`` (lower middle for even n); max/min start from -/+DBL_MAX so NaNs never win (an
all-NaN footprint gives -/+DBL_MAX, i.e. -/+inf in float32); the antimeridian heuristic
(``bWrapOverX``) wraps footprints whose corners sit at opposite edges of a window starting at
column 0 when the pixel centre falls outside them; ``sum`` skips self-intersecting quadrilaterals
and splits non-convex ones in two triangles.

Deliberate deviations from GDAL 3.10 (bugs, not semantics):

* ``mode`` counts the exact source values. GDAL 3.10 casts Int8/(U)Int32/(U)Int64/Float64
  values to float32 before counting (an Int32 302011022 becomes 302011008, #3714/#3956).
* ``mode`` of Int16 data equal to -1 is produced. GDAL 3.10 initialises its histogram mode to
  -1 and tests ``mode != -1``, so it silently drops that pixel.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numba
import numpy as np
from numba.extending import register_jitable

from raster_core._kernels import CACHE
from raster_core._kernels._generated import njit_variant
from raster_core._kernels.approx import fill_rows
from raster_core._kernels.args import FootprintBuffers
from raster_core._kernels.sorting import sort_ints
from raster_core.errors import ShapeError

__all__ = [
    "AVERAGE",
    "RMS",
    "MODE",
    "MAX",
    "MIN",
    "MED",
    "Q1",
    "Q3",
    "METHOD_CODES",
    "average_or_mode",
    "average_integer_plain",
    "minmax_integer_plain",
    "rms_quantile_integer_plain",
    "reduce_rows_planned",
    "KERNEL_AVERAGE_INT",
    "KERNEL_MINMAX_INT",
    "KERNEL_RMS_QUANTILE_INT",
    "KERNEL_GENERAL",
    "sum_preserving",
]

AVERAGE = 0
RMS = 1
MODE = 2
MAX = 3
MIN = 4
MED = 5
Q1 = 6
Q3 = 7

#: resampling name -> method code of :func:`average_or_mode`
METHOD_CODES = {
    "average": AVERAGE,
    "rms": RMS,
    "mode": MODE,
    "max": MAX,
    "min": MIN,
    "med": MED,
    "q1": Q1,
    "q3": Q3,
}

#: kernels of :func:`reduce_rows_planned`
KERNEL_AVERAGE_INT = 0
KERNEL_MINMAX_INT = 1
KERNEL_RMS_QUANTILE_INT = 2
KERNEL_GENERAL = 3
# the general kernel's own path for ``average`` without the antimeridian heuristic
_KERNEL_AVERAGE_NO_WRAP = 4

_EPS = 1e-10
#: source pixels are read with unsigned indices: the window's rows and columns are never negative,
#: and a signed index costs Numba's negative-index wraparound at every read (3-8 % of a kernel)
_ix = np.uint64
_BAND_DENSITY_THRESHOLD = 1e-10
_SUM_DENSITY_THRESHOLD = 1e-9


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _edge_weight(k, kmin, kmax, vmin, vmax):
    # GDAL's weight of touched source row/column ``k`` in ``[kmin, kmax)``.
    if k == kmin:
        if kmin + 1 == kmax:
            return 1.0
        return 1.0 - (vmin - kmin)
    if k + 1 == kmax:
        return 1.0 - (kmax - vmax)
    return 1.0


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _float_lt(a, b):
    # NumPy's order of floats: NaNs last (all equal to each other)
    return a < b or (b != b and a == a)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _stable_argsort(vals, order, work):
    # ``np.argsort(vals, kind="stable")`` into ``order`` (``work``: scratch of the same size): a
    # bottom-up merge sort over insertion-sorted runs of 16. A stable sort under the same order
    # gives the same permutation whatever its algorithm; NumPy's own inside a kernel costs about
    # a second of compilation.
    n = vals.shape[0]
    for i in range(n):
        order[i] = i
    for s in range(0, n, 16):
        e = min(s + 16, n)
        for i in range(s + 1, e):
            k = order[i]
            v = vals[k]
            j = i - 1
            while j >= s and _float_lt(v, vals[order[j]]):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = k
    width = 16
    in_order = True  # the sorted runs are in ``order`` (else in ``work``)
    while width < n:
        src = order if in_order else work
        dst = work if in_order else order
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i = lo
            j = mid
            k = lo
            while i < mid and j < hi:
                if _float_lt(vals[src[j]], vals[src[i]]):
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        in_order = not in_order
        width *= 2
    if not in_order:
        for i in range(n):
            order[i] = work[i]


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _mode_of(buf, n, keys, counts):
    # GDAL's running-mode rule: ``if ++count[v] > best: mode = v``, i.e. the winner is the
    # value with the largest count and, among those, the one reaching it first in scan order.
    # Counting is exact (no float32 cast). Small footprints: GDAL's loop over distinct values;
    # large ones: stable sort (a value's count is reached at its last occurrence).
    if n <= 64:
        nd = 0
        best = 0
        mode = buf[0]
        for k in range(n):
            v = buf[k]
            d = 0
            while d < nd and keys[d] != v:
                d += 1
            if d == nd:
                keys[nd] = v
                counts[nd] = 0
                nd += 1
            counts[d] += 1
            if counts[d] > best:
                best = counts[d]
                mode = v
        return mode
    vals = buf[:n]
    order = np.empty(n, np.int64)
    _stable_argsort(vals, order, np.empty(n, np.int64))
    best_count = 0
    best_last = n
    best_val = vals[0]
    i = 0
    while i < n:
        v = vals[order[i]]
        j = i + 1
        last = order[i]
        while j < n and vals[order[j]] == v:
            if order[j] > last:
                last = order[j]
            j += 1
        c = j - i
        if c > best_count or (c == best_count and last < best_last):
            best_count = c
            best_last = last
            best_val = v
        i = j
    return best_val


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _quantile_of(buf, n, q):
    # GDAL: sort ascending, idx = (int)ceil(q * n - 1) with q a float (float32 arithmetic)
    if n <= 32:
        for k in range(1, n):  # insertion sort in place (no allocation)
            v = buf[k]
            m = k - 1
            while m >= 0 and buf[m] > v:
                buf[m + 1] = buf[m]
                m -= 1
            buf[m + 1] = v
    else:
        buf[:n].sort()
    t = np.float32(q) * np.float32(n) - np.float32(1.0)
    idx = int(math.ceil(t))
    if idx < 0:
        idx = 0
    if idx > n - 1:
        idx = n - 1
    return buf[idx]


@numba.njit(nogil=True, cache=CACHE, error_model="numpy", inline="always")
def _quantile_of_int(buf, n, q):
    # _quantile_of for int64 values (the same element: float() is monotonic), inlined at Numba
    # level; small n sorted by networks of integer min/max (conditional moves, no data-dependent
    # branches): explicit networks (checked with the 0-1 principle) for the common footprint
    # sizes 2, 3, 4, 6, 9, odd-even transposition up to 16, a sort beyond
    if n == 2:
        a0 = buf[0]
        a1 = buf[1]
        a0, a1 = min(a0, a1), max(a0, a1)
        buf[0] = a0
        buf[1] = a1
    elif n == 3:
        a0 = buf[0]
        a1 = buf[1]
        a2 = buf[2]
        a0, a1 = min(a0, a1), max(a0, a1)
        a1, a2 = min(a1, a2), max(a1, a2)
        a0, a1 = min(a0, a1), max(a0, a1)
        buf[0] = a0
        buf[1] = a1
        buf[2] = a2
    elif n == 4:
        a0 = buf[0]
        a1 = buf[1]
        a2 = buf[2]
        a3 = buf[3]
        a0, a1 = min(a0, a1), max(a0, a1)
        a2, a3 = min(a2, a3), max(a2, a3)
        a0, a2 = min(a0, a2), max(a0, a2)
        a1, a3 = min(a1, a3), max(a1, a3)
        a1, a2 = min(a1, a2), max(a1, a2)
        buf[0] = a0
        buf[1] = a1
        buf[2] = a2
        buf[3] = a3
    elif n == 6:
        a0 = buf[0]
        a1 = buf[1]
        a2 = buf[2]
        a3 = buf[3]
        a4 = buf[4]
        a5 = buf[5]
        a1, a2 = min(a1, a2), max(a1, a2)
        a4, a5 = min(a4, a5), max(a4, a5)
        a0, a2 = min(a0, a2), max(a0, a2)
        a3, a5 = min(a3, a5), max(a3, a5)
        a0, a1 = min(a0, a1), max(a0, a1)
        a3, a4 = min(a3, a4), max(a3, a4)
        a2, a5 = min(a2, a5), max(a2, a5)
        a0, a3 = min(a0, a3), max(a0, a3)
        a1, a4 = min(a1, a4), max(a1, a4)
        a2, a4 = min(a2, a4), max(a2, a4)
        a1, a3 = min(a1, a3), max(a1, a3)
        a2, a3 = min(a2, a3), max(a2, a3)
        buf[0] = a0
        buf[1] = a1
        buf[2] = a2
        buf[3] = a3
        buf[4] = a4
        buf[5] = a5
    elif n == 9:
        a0 = buf[0]
        a1 = buf[1]
        a2 = buf[2]
        a3 = buf[3]
        a4 = buf[4]
        a5 = buf[5]
        a6 = buf[6]
        a7 = buf[7]
        a8 = buf[8]
        a0, a1 = min(a0, a1), max(a0, a1)
        a3, a4 = min(a3, a4), max(a3, a4)
        a6, a7 = min(a6, a7), max(a6, a7)
        a1, a2 = min(a1, a2), max(a1, a2)
        a4, a5 = min(a4, a5), max(a4, a5)
        a7, a8 = min(a7, a8), max(a7, a8)
        a0, a1 = min(a0, a1), max(a0, a1)
        a3, a4 = min(a3, a4), max(a3, a4)
        a6, a7 = min(a6, a7), max(a6, a7)
        a0, a3 = min(a0, a3), max(a0, a3)
        a3, a6 = min(a3, a6), max(a3, a6)
        a0, a3 = min(a0, a3), max(a0, a3)
        a1, a4 = min(a1, a4), max(a1, a4)
        a4, a7 = min(a4, a7), max(a4, a7)
        a1, a4 = min(a1, a4), max(a1, a4)
        a2, a5 = min(a2, a5), max(a2, a5)
        a5, a8 = min(a5, a8), max(a5, a8)
        a2, a5 = min(a2, a5), max(a2, a5)
        a1, a3 = min(a1, a3), max(a1, a3)
        a5, a7 = min(a5, a7), max(a5, a7)
        a2, a6 = min(a2, a6), max(a2, a6)
        a4, a6 = min(a4, a6), max(a4, a6)
        a2, a4 = min(a2, a4), max(a2, a4)
        a2, a3 = min(a2, a3), max(a2, a3)
        a5, a6 = min(a5, a6), max(a5, a6)
        buf[0] = a0
        buf[1] = a1
        buf[2] = a2
        buf[3] = a3
        buf[4] = a4
        buf[5] = a5
        buf[6] = a6
        buf[7] = a7
        buf[8] = a8
    elif n <= 16:
        for p in range(n):
            for i in range(p & 1, n - 1, 2):
                a = buf[i]
                b = buf[i + 1]
                lo = a if a < b else b
                hi = b if a < b else a
                buf[i] = lo
                buf[i + 1] = hi
    else:
        sort_ints(buf[:n])
    if n < 4194304:  # q in {0.25, 0.5, 0.75}: q * n - 1 is exact in float32 and float64 alike
        idx = int(math.ceil(q * n - 1.0))
    else:
        idx = int(math.ceil(np.float32(q) * np.float32(n) - np.float32(1.0)))
    if idx < 0:
        idx = 0
    if idx > n - 1:
        idx = n - 1
    return float(buf[idx])


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _quantile_of_plain(buf, n, q):
    # _quantile_of of at most 16 float64 values without NaNs and zeros (+0.0 and -0.0 are the only
    # equal values with different bits, so every sort gives the same element): an odd-even
    # transposition sort (branch-free compare-exchanges; small, so quick to compile)
    for p in range(n):
        for i in range(p & 1, n - 1, 2):
            a = buf[i]
            b = buf[i + 1]
            buf[i] = a if a < b else b
            buf[i + 1] = b if a < b else a
    idx = int(math.ceil(q * n - 1.0))  # q in {0.25, 0.5, 0.75}, n <= 16: as _quantile_of's float32
    if idx < 0:
        idx = 0
    return buf[idx]


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _average_no_wrap(src, win, valid, has_valid, density, has_density, src_xoff, src_yoff,
                     tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y, out, produced, part):
    # Same semantics as the AVERAGE branch of average_or_mode without the antimeridian wrap,
    # written as one tight loop (the hot path of the benchmarks); the footprints and edge weights
    # of a row come from _footprint_row (one vectorised pass: the same tests and values)
    nb = src.shape[0]
    row0, col0, h, w = win
    r_out, c_a, c_b = part
    fb = _footprint_buffers(tl_x.shape[1])
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    for r in range(tl_x.shape[0]):
        _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                       margin_x, margin_y, fb)
        for c in range(_ix(c_a), _ix(c_b)):
            if kind[c] == 0:
                continue
            ixmin = f_ix0[c]
            ixmax = f_ix1[c]
            iymin = f_iy0[c]
            iymax = iymin + f_ny[c]
            wx0 = f_wx0[c]
            wxl = f_wxl[c]
            wy0 = f_wy0[c]
            wyl = f_wyl[c]
            any_band = False
            for b in range(nb):
                wsum = 0.0
                acc = 0.0
                for j in range(iymin, iymax):
                    wy = wy0 if j == iymin else (wyl if j + 1 == iymax else 1.0)
                    for i in range(ixmin, ixmax):
                        if has_valid and valid[j, i] == 0:
                            continue
                        if has_density and not (density[j, i] > _BAND_DENSITY_THRESHOLD):
                            continue
                        # (one column: wx0, i.e. 1.0)
                        wx = wx0 if i == ixmin else (wxl if i + 1 == ixmax else 1.0)
                        wgt = wx * wy
                        if wgt > 0.0:
                            wsum += wgt
                            acc += (wgt / wsum) * (float(src[b, _ix(row0 + j), _ix(col0 + i)]) - acc)
                if wsum > 0.0:
                    out[b, r_out + r, c] = acc
                    any_band = True
            if any_band:
                produced[r_out + r, c] = 1


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _footprint_row(okr, txr, tyr, bxr, byr, c_a, c_b, src_xoff, src_yoff, w, h, margin_x, margin_y, fb):
    # Footprints of columns [c_a, c_b) of one destination row (GWKAverageOrMode's tests and edge
    # weights) into the FootprintBuffers fb; kind 0 = no value, 1 = at most 2 columns, 2 = wider,
    # 3 = non-positive first weight (unreachable for finite corners). wxl is 0 for one-column
    # footprints (padding).
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    wf = float(w)
    hf = float(h)
    # branch-free (selects only, vectorisable): the same tests and values as
    # average_or_mode (a NaN/inf corner fails the range tests, which replace isfinite)
    for c in range(_ix(c_a), _ix(c_b)):
        x1 = txr[c] - src_xoff
        y1 = tyr[c] - src_yoff
        x2 = bxr[c] - src_xoff
        y2 = byr[c] - src_yoff
        good = (
            (okr[c] != 0)
            & (x1 >= -margin_x) & (x1 <= wf + margin_x)
            & (x2 >= -margin_x) & (x2 <= wf + margin_x)
            & (y1 >= -margin_y) & (y1 <= hf + margin_y)
            & (y2 >= -margin_y) & (y2 <= hf + margin_y)
        )
        sx = x2 < x1
        sy = y2 < y1
        lx = x2 if sx else x1
        hx = x1 if sx else x2
        ly = y2 if sy else y1
        hy = y1 if sy else y2
        good = good & (hx > -_EPS) & (lx < wf + _EPS) & (hy > -_EPS) & (ly < hf + _EPS)
        lx = lx if good else 0.0  # keep the integer conversions defined
        hx = hx if good else 1.0
        ly = ly if good else 0.0
        hy = hy if good else 1.0
        ixmin = max(int(math.floor(lx + _EPS)), 0)
        ixmax = min(int(math.ceil(hx - _EPS)), w)
        iymin = max(int(math.floor(ly + _EPS)), 0)
        iymax = min(int(math.ceil(hy - _EPS)), h)
        ixmax = ixmax + 1 if (ixmin == ixmax) & (ixmax < w) else ixmax
        iymax = iymax + 1 if (iymin == iymax) & (iymax < h) else iymax
        good = good & (ixmin < ixmax) & (iymin < iymax)
        nx = ixmax - ixmin
        ny = iymax - iymin
        wx0 = 1.0 if nx == 1 else 1.0 - (lx - ixmin)
        wxl = 0.0 if nx == 1 else 1.0 - (ixmax - hx)  # nx == 1: padded weight-0 column
        wy0 = 1.0 if ny == 1 else 1.0 - (ly - iymin)
        wyl = 1.0 if ny == 1 else 1.0 - (iymax - hy)
        # edge weights are > 1e-10 - ulp > 0 (ceil(t) - t < 1, clamped edges give > 1), so
        # every step of kinds 1/2 is a real GDAL step (w > 0) or a padded no-op (w == 0)
        pos = wx0 * wy0 > 0.0
        kind[c] = (1 if nx <= 2 else 2) if pos else 3
        kind[c] = kind[c] if good else 0
        f_ix0[c] = ixmin
        f_ix1[c] = ixmax
        f_iy0[c] = iymin
        f_ny[c] = ny
        f_wx0[c] = wx0
        f_wxl[c] = wxl
        f_wy0[c] = wy0
        f_wyl[c] = wyl


def source_window(src: np.ndarray, window: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int]:
    """``(row0, col0, height, width)``: where the kernels find the source window in ``src``, i.e.
    ``src[:, row0:row0 + height, col0:col0 + width]`` (``window``; None: all of ``src``). The
    kernels read the window in place, in the caller's array: a C-contiguous copy of it would
    cost a pass over the window (~10 % of an rms x4 warp).

    Examples
    --------
    >>> import numpy as np
    >>> source_window(np.zeros((1, 3, 4))), source_window(np.zeros((1, 3, 4)), (1, 2, 2, 2))
    ((0, 0, 3, 4), (1, 2, 2, 2))
    """
    if window is None:
        return (0, 0, int(src.shape[1]), int(src.shape[2]))
    row0, col0, height, width = (int(v) for v in window)
    if not (0 <= row0 and 0 <= col0 and 0 <= height and 0 <= width and row0 + height <= src.shape[1]
            and col0 + width <= src.shape[2]):
        raise ShapeError(f"source window {window} outside the source array {src.shape}")
    return (row0, col0, height, width)


def working_dtype(kernel: int, method: int, dtype: Any) -> np.dtype:
    """The type a reduce kernel reads a source of type ``dtype`` as.

    The kernels compute on ``float(value)`` of every source value (the integer quantiles on
    ``int64(value)``), so a working type holding every value of ``dtype`` exactly gives the same
    results. Each kernel then exists for two working types instead of every source type:
    float32 for float32 sources and integers of at most 16 bits (read in place, or converted
    at half the traffic of float64), float64 for the others; int32 / int64 for the integer
    quantiles (their sorting networks compare integers; uint64 does not take them). The plain
    integer kernels of ``average``, ``rms``, ``min`` and ``max`` read their source as it is.
    (Numba's ``float()`` keeps a float32 value float32: where a product of two source values is
    formed, rms's square, the kernel converts to float64 first, as GDAL computes in double.)

    Examples
    --------
    >>> working_dtype(KERNEL_GENERAL, MODE, np.uint16), working_dtype(KERNEL_GENERAL, MODE, np.int32)
    (dtype('float32'), dtype('float64'))
    >>> working_dtype(KERNEL_GENERAL, RMS, np.uint16), working_dtype(KERNEL_GENERAL, RMS, np.float32)
    (dtype('float32'), dtype('float32'))
    >>> working_dtype(KERNEL_RMS_QUANTILE_INT, MED, np.uint8), working_dtype(KERNEL_AVERAGE_INT, AVERAGE, np.uint8)
    (dtype('int32'), dtype('uint8'))
    """
    dt = np.dtype(dtype)
    if kernel in (KERNEL_AVERAGE_INT, KERNEL_MINMAX_INT) or (kernel == KERNEL_RMS_QUANTILE_INT and method == RMS):
        # a few operations per source value: a conversion would cost more than it saves (10-15 %
        # of an average or rms x3-x4 downsample); these exist per integer type
        return dt
    small_int = dt.kind in "biu" and dt.itemsize <= 2
    if kernel == KERNEL_RMS_QUANTILE_INT:
        return np.dtype(np.int32 if small_int or dt == np.int32 else np.int64)
    if dt.kind == "f" and dt.itemsize <= 4:
        return dt  # read in place
    return np.dtype(np.float32 if small_int else np.float64)


def working_window(src: np.ndarray, win: tuple[int, int, int, int], dtype: Any) -> tuple[np.ndarray, tuple]:
    """``(array, window)``: ``src`` and its window ``win`` (:func:`source_window`) unchanged when
    ``src`` has the type ``dtype``, else a C-contiguous copy of the window in that type.

    Examples
    --------
    >>> import numpy as np
    >>> a, win = working_window(np.arange(12, dtype=np.uint8).reshape(1, 3, 4), (1, 1, 2, 2), np.float64)
    >>> a.tolist(), win
    ([[[5.0, 6.0], [9.0, 10.0]]], (0, 0, 2, 2))
    """
    if src.dtype == dtype:
        return src, win
    row0, col0, h, w = win
    return np.ascontiguousarray(src[:, row0:row0 + h, col0:col0 + w], dtype=dtype), (0, 0, h, w)


#: source values (per band) converted to the working type at a time by :class:`WorkingSource`:
#: the part a kernel call reads stays in the caches between its conversion and its reading
PART_VALUES = 1 << 18


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _plan_range(plan, r0, r1, c0, c1, lims):
    # Widen lims = [lo_x, hi_x, lo_y, hi_y] to the finite values fill_rows writes into rows
    # [r0, r1) x columns [c0, c1) from the same row plan (RowPlanTables: fixed points, the ends of
    # the linear segments, which are monotone along a segment, and the exact points that
    # succeeded): O(points of the plan), not O(pixels)
    xs = plan.xs
    ptr = plan.ptr
    for r in range(r0, r1):
        for q in range(ptr[0, r], ptr[0, r + 1]):
            if c0 <= plan.f_col[q] < c1:
                _widen(lims, plan.f_xy[0, q], plan.f_xy[1, q])
        for q in range(ptr[1, r], ptr[1, r + 1]):
            st = plan.p_int[0, q]
            lo = max(st, c0)
            hi = min(st + plan.p_int[1, q], c1)
            if hi <= lo:
                continue
            for i in (lo, hi - 1):
                d = xs[i] - xs[st]
                _widen(lims, plan.p_flt[0, q] + plan.p_flt[2, q] * d, plan.p_flt[1, q] + plan.p_flt[3, q] * d)
        for q in range(ptr[2, r], ptr[2, r + 1]):
            if c0 <= plan.e_col[q] < c1 and plan.e_ok[q]:
                _widen(lims, plan.e_xy[0, q], plan.e_xy[1, q])


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _widen(lims, x, y):
    if math.isfinite(x) and math.isfinite(y):
        lims[0] = min(lims[0], x)
        lims[1] = max(lims[1], x)
        lims[2] = min(lims[2], y)
        lims[3] = max(lims[3], y)


def plan_box(plans: tuple, rows: tuple[int, int], cols: tuple[int, int], src_xoff: int, src_yoff: int, w: int,
             h: int) -> tuple[int, int, int, int]:
    """``(j0, j1, i0, i1)``: window rows [j0, j1) x columns [i0, i1) holding every source pixel
    the footprints of plan rows ``rows`` x columns ``cols`` can read, from the corner row plans
    ``plans`` (the :class:`raster_core._kernels.args.RowPlanTables` of the top-left and of the
    bottom-right corners, as for :func:`reduce_rows_planned`): the range of their corners, one
    pixel wider on each side than the footprints' bounds; ``(0, 0, 0, 0)`` when no corner is finite.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_core.transform import WarpTransformer
    >>> t = WarpTransformer(32631, (500000, 30, 0, 5000000, 0, -30), 4326, (3.001, 0.001, 0, 45.14, 0, -0.001))
    >>> xs, ys = np.arange(16.0), np.arange(4.0)
    >>> tl, br = t.row_plan(xs, ys), t.row_plan(xs + 1.0, ys + 1.0)
    >>> t.transform_rows(xs[:3], ys[1:2])[0].round(2), t.transform_rows(xs[:3], ys[1:2])[1].round(2)
    (array([[2.62, 5.24, 7.86]]), array([[53.61, 53.61, 53.61]]))
    >>> plan_box((tl.tables, br.tables), (1, 2), (0, 2), 0, 0, 100, 100)
    (52, 60, 1, 10)
    """
    lims = _NO_LIMS.copy()
    for plan in plans:
        _plan_range(plan, rows[0], rows[1], cols[0], cols[1], lims)
    lo_x, hi_x, lo_y, hi_y = lims.tolist()
    if not (lo_x <= hi_x):
        return 0, 0, 0, 0
    # (clamped before the integer conversions: the corners may lie far outside)
    j0 = math.floor(min(max(lo_y - src_yoff, -2.0), h + 2.0)) - 1
    j1 = math.ceil(min(max(hi_y - src_yoff, -2.0), h + 2.0)) + 2
    i0 = math.floor(min(max(lo_x - src_xoff, -2.0), w + 2.0)) - 1
    i1 = math.ceil(min(max(hi_x - src_xoff, -2.0), w + 2.0)) + 2
    return max(j0, 0), min(j1, h), max(i0, 0), min(i1, w)


_NO_LIMS = np.array([math.inf, -math.inf, math.inf, -math.inf])


#: a part of a chunk of destination rows: its rows, first and end column, and the source box
#: ``(j0, j1, i0, i1)`` it reads (None: the whole window, in place)
Part = tuple[slice, int, int, "tuple[int, int, int, int] | None"]


class WorkingSource:
    """The source window as the reduce kernels read it, in their working type (:func:`working_dtype`).

    A window of that type is read in place. Any other is converted a part at a time: a chunk of
    destination rows is cut (:meth:`parts`) into parts whose footprints read at most about
    ``part_values`` source pixels per band (halving the longer side of the source box they
    read, so a rotated grid gets narrow parts instead of boxes spanning its tilt), and each part
    reads a C-contiguous copy of its box (:meth:`source`) addressed with the window's own indices.
    The values never depend on the cutting: each destination pixel is computed once, from the
    same source values.

    Examples
    --------
    >>> import numpy as np
    >>> ws = WorkingSource(np.arange(16, dtype=np.uint8).reshape(1, 4, 4), (0, 0, 4, 4), np.float64,
    ...                    part_values=4)
    >>> ws.parts(1, 2, lambda ra, rb, ca, cb: (0, 2, ca, cb + 1))
    [(slice(0, 1, None), 0, 1, (0, 2, 0, 2)), (slice(0, 1, None), 1, 2, (0, 2, 1, 3))]
    >>> part, win = ws.source((1, 3, 0, 2))
    >>> part.tolist(), win
    ([[[4.0, 5.0], [8.0, 9.0]]], (-1, 0, 4, 4))
    """

    def __init__(self, src: np.ndarray, win: tuple[int, int, int, int], dtype: Any, full_cols: bool = False,
                 part_values: int = PART_VALUES) -> None:
        #: the array and window, the working type
        self.src, self.win, self.dtype = src, win, np.dtype(dtype)
        #: whether a footprint may read any column (the antimeridian wrap): parts cut rows only
        self.full_cols = full_cols
        self.part_values = part_values
        self.in_place = src.dtype == self.dtype
        self._scratch = np.empty(0, self.dtype)

    def parts(self, rows: int, cols: int, box_of: Any) -> list[Part]:
        """``[(rows, c_a, c_b, box)]``: the parts of a chunk of ``rows`` x ``cols`` destination
        pixels in row order, each its rows ``rows`` x columns ``[c_a, c_b)`` and the source box
        ``(j0, j1, i0, i1)`` it reads (None: the window in place); ``box_of(ra, rb, ca, cb)`` gives
        the box of rows [ra, rb) x columns [ca, cb) (:func:`plan_box`). Parts whose footprints
        cannot reach the window are left out."""
        if self.in_place:
            return [(slice(0, rows), 0, cols, None)]
        w = self.win[3]
        done: list[Part] = []
        todo = [(0, rows, 0, cols)]
        while todo:
            ra, rb, ca, cb = todo.pop()
            j0, j1, i0, i1 = box_of(ra, rb, ca, cb)
            if j1 <= j0 or i1 <= i0:
                continue
            if self.full_cols:
                i0, i1 = 0, w
            rows_long = j1 - j0 >= i1 - i0 or self.full_cols
            if (j1 - j0) * (i1 - i0) <= self.part_values or (rb - ra == 1 and (cb - ca == 1 or self.full_cols)):
                done.append((slice(ra, rb), ca, cb, (j0, j1, i0, i1)))
            elif rb - ra > 1 and (rows_long or cb - ca == 1):
                m = (ra + rb) // 2
                todo += [(m, rb, ca, cb), (ra, m, ca, cb)]
            else:
                m = (ca + cb) // 2
                todo += [(ra, rb, m, cb), (ra, rb, ca, m)]
        return done

    def source(self, box: tuple[int, int, int, int] | None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        """``(array, window)`` a kernel reads the source box ``(j0, j1, i0, i1)`` of the window
        from (None: the window in place): the box's copy in the working type, with the window's
        origin moved so that window pixel ``(j, i)`` is the copy's ``(j - j0, i - i0)``."""
        if box is None:
            return self.src, self.win
        j0, j1, i0, i1 = box
        row0, col0, h, w = self.win
        nb = self.src.shape[0]
        n = nb * (j1 - j0) * (i1 - i0)
        if self._scratch.shape[0] < n:
            self._scratch = np.empty(max(n, 2 * self._scratch.shape[0]), self.dtype)
        part = self._scratch[:n].reshape(nb, j1 - j0, i1 - i0)
        np.copyto(part, self.src[:, row0 + j0:row0 + j1, col0 + i0:col0 + i1], casting="unsafe")
        return part, (-j0, -i0, h, w)


@register_jitable
def _footprint_buffers(cols: int) -> tuple:
    """Scratch arrays of :func:`_footprint_row` for rows of ``cols`` pixels
    (:class:`raster_core._kernels.args.FootprintBuffers`), from Python or inside a kernel."""
    return FootprintBuffers(np.zeros(cols, np.int64), np.zeros(cols, np.int64), np.zeros(cols, np.int64),
                            np.zeros(cols, np.int64), np.zeros(cols, np.int64), np.zeros(cols), np.zeros(cols),
                            np.zeros(cols), np.zeros(cols))


def average_integer_plain(src, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y,
                          out, produced, window=None):
    """``average`` of an INTEGER source without validity/density masks or antimeridian wrap.

    Bit-identical to :func:`average_or_mode` (method ``AVERAGE``) for integer sources, faster:

    * two passes per destination row: footprints and edge weights first, computed once per
      pixel (not per sample) in a branch-free loop that LLVM vectorises, then the incremental
      means, so the long dependency chains of consecutive pixels overlap;
    * the first step of the incremental mean is ``acc = v + 0.0`` (what
      ``0 + (w / w) * (v - 0)`` gives exactly);
    * for integer values a step with weight 0 is an exact no-op once ``wsum > 0`` (``acc`` is
      finite and never -0.0), so the ``w > 0`` test is dropped and one-column footprints are
      padded to two columns with a weight-0 column: footprints of at most 2 columns (the
      common ~1:1 reprojection case) run branch-free over columns.

    Arguments as in :func:`average_or_mode` (``src`` any integer dtype).
    """
    fb = _footprint_buffers(tl_x.shape[1])
    src, win = working_window(src, source_window(src, window), working_dtype(KERNEL_AVERAGE_INT, AVERAGE, src.dtype))
    _average_integer_plain_rows(src, win, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y,
                                out, produced, (0, 0, tl_x.shape[1]), fb)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _average_integer_plain_rows(src, win, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x,
                                margin_y, out, produced, part, fb):
    nb = src.shape[0]
    row0, col0, h, w = win
    r_out, c_a, c_b = part
    # per-pixel footprint of the current row: kind 0 = no value, 1 = at most 2 columns,
    # 2 = wider, 3 = reference loop (unreachable for finite corners: edge weights are > 0)
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    for r in range(tl_x.shape[0]):
        _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                       margin_x, margin_y, fb)
        for b in range(nb):
            s = src[b]
            for c in range(_ix(c_a), _ix(c_b)):
                k = kind[c]
                if k == 0:
                    continue
                ixmin = f_ix0[c]
                ixmax = f_ix1[c]
                iymin = f_iy0[c]
                ny = f_ny[c]
                wx0 = f_wx0[c]
                wxl = f_wxl[c]
                wy0 = f_wy0[c]
                wyl = f_wyl[c]
                if k == 1:
                    i0 = _ix(col0 + ixmin)
                    i1 = _ix(col0 + min(ixmin + 1, w - 1))
                    row = s[_ix(row0 + iymin)]
                    wsum = wx0 * wy0
                    acc = float(row[i0]) + 0.0
                    wgt = wxl * wy0
                    wsum += wgt
                    acc += (wgt / wsum) * (float(row[i1]) - acc)
                    for jj in range(1, ny):
                        row = s[_ix(row0 + iymin + jj)]
                        wy = wyl if jj == ny - 1 else 1.0
                        wgt = wx0 * wy
                        wsum += wgt
                        acc += (wgt / wsum) * (float(row[i0]) - acc)
                        wgt = wxl * wy
                        wsum += wgt
                        acc += (wgt / wsum) * (float(row[i1]) - acc)
                    out[b, r_out + r, c] = acc
                elif k == 2:
                    i0 = _ix(col0 + ixmin)
                    ilast = _ix(col0 + ixmax - 1)
                    wy = wy0
                    row = s[_ix(row0 + iymin)]
                    wsum = wx0 * wy
                    acc = float(row[i0]) + 0.0
                    for jj in range(ny):
                        if jj > 0:
                            row = s[_ix(row0 + iymin + jj)]
                            wy = wyl if jj == ny - 1 else 1.0
                            wgt = wx0 * wy
                            wsum += wgt
                            acc += (wgt / wsum) * (float(row[i0]) - acc)
                        for i in range(col0 + ixmin + 1, col0 + ixmax - 1):
                            wsum += wy  # middle column: 1.0 * wy
                            acc += (wy / wsum) * (float(row[_ix(i)]) - acc)
                        wgt = wxl * wy
                        wsum += wgt
                        acc += (wgt / wsum) * (float(row[ilast]) - acc)
                    out[b, r_out + r, c] = acc
                else:
                    if ixmax - ixmin == 1:
                        wxl = 1.0
                    iymax = iymin + ny
                    wsum = 0.0
                    acc = 0.0
                    for j in range(iymin, iymax):
                        wy = wy0 if j == iymin else (wyl if j + 1 == iymax else 1.0)
                        for i in range(ixmin, ixmax):
                            wx = wx0 if i == ixmin else (wxl if i + 1 == ixmax else 1.0)
                            wgt = wx * wy
                            if wgt > 0.0:
                                wsum += wgt
                                acc += (wgt / wsum) * (float(s[_ix(row0 + j), _ix(col0 + i)]) - acc)
                    if wsum > 0.0:
                        out[b, r_out + r, c] = acc
                        produced[r_out + r, c] = 1
        for c in range(_ix(c_a), _ix(c_b)):
            if kind[c] == 1 or kind[c] == 2:
                produced[r_out + r, c] = 1


def minmax_integer_plain(src, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y,
                             method, out, produced, valid=None, window=None):
    """``min`` / ``max`` of an INTEGER source without densities or antimeridian wrap, with an
    optional source validity ``valid`` ((h, w) uint8, 1 = valid; None: all valid).

    Same footprints and values as :func:`average_or_mode` (bit for bit for integer data, where
    GDAL's start from -/+DBL_MAX never wins and no NaN exists), with ``max``/``min`` instead of
    data-dependent branches. Arguments as in :func:`average_or_mode` (method ``MAX``/``MIN``).
    """
    fb = _footprint_buffers(tl_x.shape[1])
    if valid is None:
        valid = np.zeros((0, 0), np.uint8)
    src, win = working_window(src, source_window(src, window), working_dtype(KERNEL_MINMAX_INT, MAX, src.dtype))
    _minmax_integer_plain_rows(src, win, valid, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x,
                               margin_y, int(method), out, produced, (0, 0, tl_x.shape[1]), fb)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _minmax_integer_plain_rows(src, win, valid, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x,
                               margin_y, method, out, produced, part, fb):
    nb = src.shape[0]
    row0, col0, h, w = win
    is_max = method == MAX
    r_out, c_a, c_b = part
    has_valid = valid.shape[0] == h and valid.shape[1] == w and h > 0
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    for r in range(tl_x.shape[0]):
        _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                       margin_x, margin_y, fb)
        for b in range(nb):
            s = src[b]
            for c in range(_ix(c_a), _ix(c_b)):
                if kind[c] == 0:
                    continue
                ixmin = f_ix0[c]
                ixmax = f_ix1[c]
                iymin = f_iy0[c]
                iymax = iymin + f_ny[c]
                if has_valid:
                    # the valid pixels only; a footprint without any gives no value (the general
                    # kernel's rule)
                    n = 0
                    acc = 0.0
                    for j in range(iymin, iymax):
                        for i in range(ixmin, ixmax):
                            if valid[j, i] == 0:
                                continue
                            v = float(s[_ix(row0 + j), _ix(col0 + i)])
                            acc = v if n == 0 else (max(acc, v) if is_max else min(acc, v))
                            n += 1
                    if n > 0:
                        out[b, r_out + r, c] = acc
                        produced[r_out + r, c] = 1
                    continue
                # the window's pixels in the caller's array
                i0 = col0 + ixmin
                j0 = row0 + iymin
                j1 = row0 + iymax
                if ixmax - ixmin <= 2:  # kind 1: both columns (the same one twice when nx == 1)
                    il = col0 + ixmax - 1
                    if is_max:
                        acc = max(float(s[_ix(j0), _ix(i0)]), float(s[_ix(j0), _ix(il)]))
                        for j in range(j0 + 1, j1):
                            acc = max(acc, max(float(s[_ix(j), _ix(i0)]), float(s[_ix(j), _ix(il)])))
                    else:
                        acc = min(float(s[_ix(j0), _ix(i0)]), float(s[_ix(j0), _ix(il)]))
                        for j in range(j0 + 1, j1):
                            acc = min(acc, min(float(s[_ix(j), _ix(i0)]), float(s[_ix(j), _ix(il)])))
                    out[b, r_out + r, c] = acc
                    continue
                acc = float(s[_ix(j0), _ix(i0)])
                for j in range(j0, j1):
                    row = s[_ix(j)]
                    for i in range(i0, col0 + ixmax):
                        v = float(row[_ix(i)])
                        acc = max(acc, v) if is_max else min(acc, v)
                out[b, r_out + r, c] = acc
        if not has_valid:
            for c in range(_ix(c_a), _ix(c_b)):
                if kind[c] != 0:
                    produced[r_out + r, c] = 1


def rms_quantile_integer_plain(src, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y,
                               method, out, produced, valid=None, window=None):
    """``rms, med, q1, q3`` of an INTEGER source without densities or antimeridian wrap; the
    quantiles also with a source validity ``valid`` ((h, w) uint8, 1 = valid; None: all valid),
    whose invalid pixels they skip as :func:`average_or_mode` does (rms: no validity).

    The footprints come from the vectorised :func:`_footprint_row`; the per-pixel arithmetic is
    :func:`average_or_mode`'s (same sample order, same operations), so the values are bit for
    bit the same; quantiles sort int64 values (``src`` of any integer dtype but uint64, whose
    values may not fit) with a branch-free network for footprints of at most 16 pixels.
    Arguments as in :func:`average_or_mode` (method ``RMS``/``MED``/``Q1``/``Q3``).
    """
    fb = _footprint_buffers(tl_x.shape[1])
    win = source_window(src, window)
    part = (0, 0, tl_x.shape[1])
    if int(method) == RMS:
        src, win = working_window(src, win, working_dtype(KERNEL_RMS_QUANTILE_INT, RMS, src.dtype))
        _rms_integer_rows(src, win, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y, out,
                          produced, part, fb)
        return
    if valid is None:
        valid = np.zeros((0, 0), np.uint8)
    if src.dtype == np.uint64:  # values beyond int64: the general kernel's float sort
        average_or_mode(src, valid, np.zeros((0, 0), np.float32), src_xoff, src_yoff, tl_x, tl_y, br_x, br_y,
                        corner_ok, tl_x, margin_x, margin_y, False, 1.0, method, out, produced, win)
        return
    src, win = working_window(src, win, working_dtype(KERNEL_RMS_QUANTILE_INT, int(method), src.dtype))
    _quantile_integer_rows(src, win, valid, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x,
                           margin_y, int(method), out, produced, part, fb)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _rms_pairs_row(s, row0, col0, w, c_a, c_b, kind, f_ix0, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl, ob):
    # rms of the <= 2-column footprints (kind 1) of one row and band, padded to 2 columns with
    # a weight-0 column when nx == 1 (a weight-0 step adds exactly +0 to wsum and to acc for
    # finite integer values); the first row peeled (acc = v * v * w is 0 + v * v * w)
    for c in range(_ix(c_a), _ix(c_b)):
        if kind[c] != 1:
            continue
        i0 = _ix(col0 + f_ix0[c])
        i1 = _ix(col0 + min(f_ix0[c] + 1, w - 1))
        iymin = f_iy0[c]
        ny = f_ny[c]
        wx0 = f_wx0[c]
        wxl = f_wxl[c]
        wy0 = f_wy0[c]
        wyl = f_wyl[c]
        row = s[_ix(row0 + iymin)]
        v = float(row[i0])
        wgt = wx0 * wy0
        wsum = wgt
        acc = v * v * wgt
        v = float(row[i1])
        wgt = wxl * wy0
        wsum += wgt
        acc += v * v * wgt
        for jj in range(1, ny):
            row = s[_ix(row0 + iymin + jj)]
            wy = wyl if jj == ny - 1 else 1.0
            v = float(row[i0])
            wgt = wx0 * wy
            wsum += wgt
            acc += v * v * wgt
            v = float(row[i1])
            wgt = wxl * wy
            wsum += wgt
            acc += v * v * wgt
        ob[c] = math.sqrt(acc / wsum)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _rms_integer_rows(src, win, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y, out,
                      produced, part, fb):
    nb = src.shape[0]
    row0, col0, h, w = win
    r_out, c_a, c_b = part
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    for r in range(tl_x.shape[0]):
        _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                       margin_x, margin_y, fb)
        for b in range(nb):
            _rms_pairs_row(src[b], row0, col0, w, c_a, c_b, kind, f_ix0, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl,
                           out[b, r_out + r])
        for c in range(_ix(c_a), _ix(c_b)):
            if kind[c] == 0:
                continue
            ixmin = f_ix0[c]
            ixmax = f_ix1[c]
            iymin = f_iy0[c]
            iymax = iymin + f_ny[c]
            wx0 = f_wx0[c]
            wxl = f_wxl[c]
            wy0 = f_wy0[c]
            wyl = f_wyl[c]
            if kind[c] == 1:  # _rms_pairs_row
                produced[r_out + r, c] = 1
                continue
            if kind[c] == 2:
                # >= 3 columns: first / middle (weight 1.0 * wy == wy) / last column peeled
                ilast = ixmax - 1
                any_band = False
                for b in range(nb):
                    sb = src[b]
                    wsum = 0.0
                    acc = 0.0
                    for j in range(iymin, iymax):
                        wy = wy0 if j == iymin else (wyl if j + 1 == iymax else 1.0)
                        row = sb[_ix(row0 + j)]
                        v = float(row[_ix(col0 + ixmin)])
                        wgt = wx0 * wy
                        wsum += wgt
                        acc += v * v * wgt
                        for i in range(col0 + ixmin + 1, col0 + ilast):
                            v = float(row[_ix(i)])
                            wsum += wy
                            acc += v * v * wy
                        v = float(row[_ix(col0 + ilast)])
                        wgt = wxl * wy
                        wsum += wgt
                        acc += v * v * wgt
                    if wsum > 0.0:
                        out[b, r_out + r, c] = math.sqrt(acc / wsum)
                        any_band = True
                if any_band:
                    produced[r_out + r, c] = 1
                continue
            if ixmax - ixmin == 1:
                wxl = 1.0  # never read for one column; keep the reference's value
            any_band = False
            for b in range(nb):
                wsum = 0.0
                acc = 0.0
                for j in range(iymin, iymax):
                    wy = wy0 if j == iymin else (wyl if j + 1 == iymax else 1.0)
                    for i in range(ixmin, ixmax):
                        wx = wx0 if i == ixmin else (wxl if i + 1 == ixmax else 1.0)
                        v = float(src[b, _ix(row0 + j), _ix(col0 + i)])
                        wgt = wx * wy
                        wsum += wgt
                        acc += v * v * wgt
                if wsum > 0.0:
                    out[b, r_out + r, c] = math.sqrt(acc / wsum)
                    any_band = True
            if any_band:
                produced[r_out + r, c] = 1


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _quantile_integer_rows(src, win, valid, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, margin_x,
                           margin_y, method, out, produced, part, fb):
    nb = src.shape[0]
    row0, col0, h, w = win
    has_valid = valid.shape[0] == h and valid.shape[1] == w and h > 0
    r_out, c_a, c_b = part
    if method == MED:
        q = 0.5
    elif method == Q1:
        q = 0.25
    else:
        q = 0.75
    cap = 64
    buf = np.empty(cap, np.int64)
    kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
    for r in range(tl_x.shape[0]):
        _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                       margin_x, margin_y, fb)
        for c in range(_ix(c_a), _ix(c_b)):
            if kind[c] == 0:
                continue
            ixmin = f_ix0[c]
            ixmax = f_ix1[c]
            iymin = f_iy0[c]
            iymax = iymin + f_ny[c]
            n = (ixmax - ixmin) * (iymax - iymin)
            if n > cap:
                while cap < n:
                    cap *= 2
                buf = np.empty(cap, np.int64)
            any_band = False
            for b in range(nb):
                k = 0
                for j in range(iymin, iymax):
                    srow = src[b, _ix(row0 + j)]
                    for i in range(ixmin, ixmax):
                        if has_valid and valid[j, i] == 0:
                            continue
                        buf[k] = np.int64(srow[_ix(col0 + i)])
                        k += 1
                if k > 0:
                    out[b, r_out + r, c] = _quantile_of_int(buf, k, q)
                    any_band = True
            if any_band:
                produced[r_out + r, c] = 1


def average_or_mode(src, valid, density, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, centre_x, margin_x,
                    margin_y, allow_wrap, wrap_scale, method, out, produced, window=None):
    """GDAL's ``GWKAverageOrModeThread`` over a block of destination pixels.

    Parameters
    ----------
    src : (bands, rows, cols) array, any numeric dtype
        The array holding the source window (all of it unless ``window`` says where); the
        window's pixel ``(0, 0)`` is full-raster pixel ``(src_xoff, src_yoff)``.
    valid : (h, w) uint8
        Unified source validity (0 = invalid) of the window, or a 0x0 array for "all valid".
    density : (h, w) float32
        Unified source density, or a 0x0 array for "absent". Pixels with density
        ``<= 1e-10`` are invalid; any larger density counts fully (GDAL treats alpha as binary).
    src_xoff, src_yoff : int
        Window offsets in the full source raster.
    tl_x, tl_y, br_x, br_y : (rows, cols) float64
        Full-raster source pixel coordinates of each destination pixel's top-left and
        bottom-right corners.
    corner_ok : (rows, cols) uint8
        1 where both corner transforms succeeded.
    centre_x : (rows, cols) float64
        Source x of the destination pixel centres (only read when ``allow_wrap``).
    margin_x, margin_y : float
        A corner further than this outside the window skips the pixel (GDAL:
        ``2 * max(1, ceil(1 / scale))``).
    allow_wrap : bool
        Enable GDAL's antimeridian heuristic (window starting at column 0).
    wrap_scale : float
        GDAL's kernel x scale, used by the antimeridian heuristic.
    method : int
        One of the method codes (:data:`METHOD_CODES`).
    out : (bands, rows, cols) float64
        Written where a value is produced.
    produced : (rows, cols) uint8
        Set to 1 where a value is produced, left untouched elsewhere.
    window : (row0, col0, h, w) or None
        Where the window is in ``src`` (:func:`source_window`); None: all of ``src``.
    """
    src, win = working_window(src, source_window(src, window), working_dtype(KERNEL_GENERAL, int(method), src.dtype))
    h, w = win[2], win[3]
    part = (0, 0, tl_x.shape[1])
    if int(method) == AVERAGE and not (allow_wrap and src_xoff == 0 and w > 0):
        # the general kernel's own path (called directly: its other paths are not compiled)
        _average_no_wrap(src, win, valid, valid.shape[0] == h and valid.shape[1] == w and h > 0, density,
                         density.shape[0] == h and density.shape[1] == w and h > 0, src_xoff, src_yoff,
                         tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y, out, produced, part)
        return
    may_wrap = int(bool(allow_wrap) and src_xoff == 0 and w > 0)
    _general_reduce_kernel(int(method), may_wrap)(src, win, valid, density, src_xoff, src_yoff, tl_x, tl_y, br_x,
                                                  br_y, corner_ok, centre_x, margin_x, margin_y, allow_wrap,
                                                  wrap_scale, out, produced, part)


@functools.cache
def _general_reduce_kernel(method: int, may_wrap: int) -> Any:
    """:func:`average_or_mode` for one ``method`` and ``may_wrap`` (whether the antimeridian
    heuristic applies: ``allow_wrap`` with a window starting at column 0), compile-time constants
    of the generated function (the other methods' code, e.g. the sorts of mode and the quantiles,
    and the wrapping of footprints when it cannot apply, are pruned before typing)."""

    # without the antimeridian heuristic, the methods that count pixels (no edge weights) take
    # their footprints from _footprint_row: one vectorised pass per row, the same tests and bounds
    footprints = int(not may_wrap and method >= MODE)

    @njit_variant(method, may_wrap)
    def general_reduce(src, win, valid, density, src_xoff, src_yoff, tl_x, tl_y, br_x, br_y, corner_ok, centre_x,
                       margin_x, margin_y, allow_wrap, wrap_scale, out, produced, part):
        nb = src.shape[0]
        row0, col0, h, w = win
        rows = tl_x.shape[0]
        r_out, c_a, c_b = part
        has_valid = valid.shape[0] == h and valid.shape[1] == w and h > 0
        has_density = density.shape[0] == h and density.shape[1] == w and h > 0
        if method == AVERAGE and not may_wrap:
            _average_no_wrap(src, win, valid, has_valid, density, has_density, src_xoff, src_yoff,
                             tl_x, tl_y, br_x, br_y, corner_ok, margin_x, margin_y, out, produced, part)
            return
        cap = 64
        buf = np.empty(cap, np.float64)
        keys = np.empty(64, np.float64)
        counts = np.empty(64, np.int64)
        if method == MED:
            q = 0.5
        elif method == Q1:
            q = 0.25
        else:
            q = 0.75
        wrap_dist = 0.0
        if may_wrap:
            if allow_wrap and src_xoff == 0 and w > 0:
                wrap_dist = min(2.0, w / 10.0) / wrap_scale
        if footprints:
            fb = _footprint_buffers(tl_x.shape[1])
            kind, f_ix0, f_ix1, f_iy0, f_ny, f_wx0, f_wxl, f_wy0, f_wyl = fb
        for r in range(rows):
            if footprints:
                _footprint_row(corner_ok[r], tl_x[r], tl_y[r], br_x[r], br_y[r], c_a, c_b, src_xoff, src_yoff, w, h,
                               margin_x, margin_y, fb)
            for c in range(_ix(c_a), _ix(c_b)):
                if footprints:
                    if kind[c] == 0:
                        continue
                    ixmin = f_ix0[c]
                    ixmax = f_ix1[c]
                    iymin = f_iy0[c]
                    iymax = iymin + f_ny[c]
                    wrap = False
                else:
                    if corner_ok[r, c] == 0:
                        continue
                    x1 = tl_x[r, c] - src_xoff
                    y1 = tl_y[r, c] - src_yoff
                    x2 = br_x[r, c] - src_xoff
                    y2 = br_y[r, c] - src_yoff
                    if not (
                        math.isfinite(x1) and math.isfinite(y1) and math.isfinite(x2) and math.isfinite(y2)
                    ):
                        continue
                    if (
                        x1 < -margin_x
                        or x2 < -margin_x
                        or y1 < -margin_y
                        or y2 < -margin_y
                        or x1 > w + margin_x
                        or x2 > w + margin_x
                        or y1 > h + margin_y
                        or y2 > h + margin_y
                    ):
                        continue
                    if x2 < x1:
                        x1, x2 = x2, x1
                    if y2 < y1:
                        y1, y2 = y2, y1
                    wrap = False
                    if may_wrap and wrap_dist > 0.0 and x1 < wrap_dist and x2 > w - wrap_dist:
                        cx = centre_x[r, c] - src_xoff
                        if cx < x1 or cx > x2:
                            wrap = True
                    xmin = x1
                    xmax = x2
                    if wrap:
                        xmin = x2
                        xmax = x1 + w
                    if not (xmax > -_EPS and (wrap or xmin < w + _EPS)):
                        continue
                    if not (y2 > -_EPS and y1 < h + _EPS):
                        continue
                    ixmin = max(int(math.floor(xmin + _EPS)), 0)
                    ixmax = int(math.ceil(xmax - _EPS))
                    if not wrap:
                        ixmax = min(ixmax, w)
                    iymin = max(int(math.floor(y1 + _EPS)), 0)
                    iymax = min(int(math.ceil(y2 - _EPS)), h)
                    if ixmin == ixmax and ixmax < w:
                        ixmax += 1
                    if iymin == iymax and iymax < h:
                        iymax += 1
                    if ixmin >= ixmax or iymin >= iymax:
                        continue
                npix = (ixmax - ixmin) * (iymax - iymin)
                if method >= MODE and method != MAX and method != MIN and npix > cap:
                    while cap < npix:
                        cap *= 2
                    buf = np.empty(cap, np.float64)
                any_band = False
                for b in range(nb):
                    wsum = 0.0
                    acc = 0.0
                    # GDAL starts max/min from the lowest/highest double: NaNs never win, all-NaN
                    # footprints give -/+DBL_MAX (-/+inf once cast to float32)
                    if method == MAX:
                        acc = -1.7976931348623157e308
                    elif method == MIN:
                        acc = 1.7976931348623157e308
                    n = 0
                    plain = True  # quantiles: no NaN and no zero among the values
                    for j in range(iymin, iymax):
                        if method == AVERAGE or method == RMS:
                            wy = _edge_weight(j, iymin, iymax, y1, y2)
                        for i in range(ixmin, ixmax):
                            ii = i % w if wrap else i
                            if has_valid and valid[_ix(j), _ix(ii)] == 0:
                                continue
                            if has_density and not (density[_ix(j), _ix(ii)] > _BAND_DENSITY_THRESHOLD):
                                continue
                            v = float(src[b, _ix(row0 + j), _ix(col0 + ii)])
                            if method == AVERAGE:
                                wgt = _edge_weight(i, ixmin, ixmax, xmin, xmax) * wy
                                if wgt > 0.0:
                                    wsum += wgt
                                    acc += (wgt / wsum) * (v - acc)
                            elif method == RMS:
                                wgt = _edge_weight(i, ixmin, ixmax, xmin, xmax) * wy
                                wsum += wgt
                                # squared in double as GDAL does (float() of a float32 stays float32)
                                vd = np.float64(v)
                                acc += vd * vd * wgt
                            elif method == MAX:
                                acc = v if v > acc else acc  # a select, not a branch on the data
                                n += 1
                            elif method == MIN:
                                acc = v if v < acc else acc
                                n += 1
                            else:
                                buf[n] = v
                                n += 1
                                if method != MODE:
                                    plain = plain & (v == v) & (v != 0.0)
                    if method == AVERAGE:
                        if wsum > 0.0:
                            out[b, r_out + r, c] = acc
                            any_band = True
                    elif method == RMS:
                        if wsum > 0.0:
                            out[b, r_out + r, c] = math.sqrt(acc / wsum)
                            any_band = True
                    elif n > 0:
                        if method == MAX or method == MIN:
                            out[b, r_out + r, c] = acc
                        elif method == MODE:
                            out[b, r_out + r, c] = _mode_of(buf, np.int64(n), keys, counts)
                        elif plain and n <= 16:
                            out[b, r_out + r, c] = _quantile_of_plain(buf, np.int64(n), q)
                        else:
                            out[b, r_out + r, c] = _quantile_of(buf, np.int64(n), q)
                        any_band = True
                if any_band:
                    produced[r_out + r, c] = 1

    return general_reduce


#: corner points filled per chunk of rows by :func:`reduce_rows_planned` (about 1 MB of coordinates)
_CHUNK_POINTS = 32768


def reduce_rows_planned(kernel, method, src, valid, density, src_xoff, src_yoff, plan_r0, nrows, c0, c1,
                        tl, br, use_centre, ce, margin_x, margin_y, allow_wrap, wrap_scale, out, produced, out_row0=0,
                        chunk_points=_CHUNK_POINTS, window=None, part_values=PART_VALUES):
    """A block of destination rows whose corner coordinates come from recorded row plans.

    ``tl`` / ``br`` / ``ce`` are the tables (:class:`raster_core._kernels.args.RowPlanTables`) of
    the :class:`raster_core.transform.RowPlan` for the top-left corners ``(xs, ys)``, the
    bottom-right corners ``(xs + 1, ys + 1)`` and (``use_centre``, antimeridian heuristic only)
    the centres ``(xs + 0.5, ys + 0.5)``. Row ``r`` (``0 .. nrows-1``) of the block is plan row
    ``plan_r0 + r`` and row ``out_row0 + r`` of ``out`` and ``produced``. The rows are filled a
    chunk at a time into small buffers by :func:`raster_core._kernels.approx.fill_rows` (exactly
    ``WarpTransformer.transform_rows``' values, without block-sized coordinate arrays) and handed
    to ``kernel`` (``KERNEL_*``) with ``method``. ``out`` (bands, rows, c1 - c0) float64 and
    ``produced`` (rows, c1 - c0) uint8 are C-contiguous whole blocks (one compiled signature
    whatever the band count), as in :func:`average_or_mode`; so is ``src``, read in place at
    ``window`` (:func:`source_window`).

    A Python loop over chunks rather than a compiled row driver: a driver would recompile the
    kernel it calls (Numba links and re-optimises every callee into its caller), which doubled
    the compilation of a first warp; the chunks of about ``chunk_points`` points keep the calls
    few. Rows are independent, so the values do not depend on the chunk size.

    The kernels read the source in their working type (:func:`working_dtype`), so each exists
    once whatever the source's type: a source of another type is converted a part of each chunk
    at a time (:class:`WorkingSource`, parts of at most about ``part_values`` source pixels).
    """
    cols = c1 - c0
    if nrows <= 0 or cols <= 0:
        return
    k_max = max(1, min(nrows, chunk_points // cols))
    tlx, tly, brx, bry = (np.empty((k_max, cols)) for _ in range(4))
    tok, bok = (np.empty((k_max, cols), np.bool_) for _ in range(2))
    ok = np.empty((k_max, cols), np.uint8)
    if use_centre:
        cex, cey = np.empty((k_max, cols)), np.empty((k_max, cols))
        cok = np.empty((k_max, cols), np.bool_)
    else:
        cex = tlx
    fb = _footprint_buffers(cols)
    method = int(method)
    win = source_window(src, window)
    h, w = win[2], win[3]
    may_wrap = bool(allow_wrap) and src_xoff == 0 and w > 0
    if kernel == KERNEL_GENERAL and method == AVERAGE and not may_wrap:
        kernel = _KERNEL_AVERAGE_NO_WRAP  # what the general kernel runs: do not compile the rest
    elif kernel == KERNEL_GENERAL:
        general = _general_reduce_kernel(method, int(may_wrap))
    if kernel == _KERNEL_AVERAGE_NO_WRAP:
        has_valid = valid.shape[0] == h and valid.shape[1] == w and h > 0
        has_density = density.shape[0] == h and density.shape[1] == w and h > 0
    working = WorkingSource(src, win, working_dtype(kernel, method, src.dtype), may_wrap, part_values)
    corner_plans = (tl, br)

    def run(ro: int, rows: slice, c_a: int, c_b: int, box: tuple | None) -> None:
        # the kernel over rows `rows` x columns [c_a, c_b) of the chunk's coordinates, reading the
        # source part `box`
        part_src, part_win = working.source(box)
        part = (ro + rows.start, c_a, c_b)
        args = (tlx[rows], tly[rows], brx[rows], bry[rows], ok[rows], margin_x, margin_y)
        if kernel == KERNEL_AVERAGE_INT:
            _average_integer_plain_rows(part_src, part_win, src_xoff, src_yoff, *args, out, produced, part, fb)
        elif kernel == KERNEL_MINMAX_INT:
            _minmax_integer_plain_rows(part_src, part_win, valid, src_xoff, src_yoff, *args, method, out, produced,
                                       part, fb)
        elif kernel == KERNEL_RMS_QUANTILE_INT and method == RMS:
            _rms_integer_rows(part_src, part_win, src_xoff, src_yoff, *args, out, produced, part, fb)
        elif kernel == KERNEL_RMS_QUANTILE_INT:
            _quantile_integer_rows(part_src, part_win, valid, src_xoff, src_yoff, *args, method, out, produced,
                                   part, fb)
        elif kernel == _KERNEL_AVERAGE_NO_WRAP:
            _average_no_wrap(part_src, part_win, valid, has_valid, density, has_density, src_xoff, src_yoff, *args,
                             out, produced, part)
        else:
            general(part_src, part_win, valid, density, src_xoff, src_yoff, *args[:5], cex[rows], margin_x,
                    margin_y, allow_wrap, wrap_scale, out, produced, part)

    for a in range(0, nrows, k_max):
        k = min(k_max, nrows - a)
        r0 = plan_r0 + a
        fill_rows(tl, r0, r0 + k, c0, c1, tlx[:k], tly[:k], tok[:k])
        fill_rows(br, r0, r0 + k, c0, c1, brx[:k], bry[:k], bok[:k])
        np.logical_and(tok[:k], bok[:k], out=ok[:k].view(np.bool_))
        if use_centre:
            fill_rows(ce, r0, r0 + k, c0, c1, cex[:k], cey[:k], cok[:k])
        def box_of(ra: int, rb: int, ca: int, cb: int, r0: int = r0) -> tuple[int, int, int, int]:
            return plan_box(corner_plans, (r0 + ra, r0 + rb), (c0 + ca, c0 + cb), src_xoff, src_yoff, w, h)

        for rows, c_a, c_b, box in working.parts(k, cols, box_of):
            run(out_row0 + a, rows, c_a, c_b, box)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _cross(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _segments_cross(ax, ay, bx, by, cx, cy, dx, dy):
    d1 = _cross(cx, cy, dx, dy, ax, ay)
    d2 = _cross(cx, cy, dx, dy, bx, by)
    d3 = _cross(ax, ay, bx, by, cx, cy)
    d4 = _cross(ax, ay, bx, by, dx, dy)
    return ((d1 > 0 and d2 < 0) or (d1 < 0 and d2 > 0)) and ((d3 > 0 and d4 < 0) or (d3 < 0 and d4 > 0))


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _clip_half(pa, pb, n, bound, sign, oa, ob):
    # Clip the polygon [:n] to sign * a >= sign * bound (sign +1.0: a >= bound, -1.0: a <= bound;
    # exact either way) where a is the coordinate in ``pa`` (x or y: the caller passes the arrays
    # in that order, and the outputs likewise); result in (oa, ob), returns its vertex count.
    # The direction is a float: an int or bool constant at the call sites would make Numba
    # compile one specialisation per value and direction (measured: equally fast this way).
    cnt = 0
    lim = sign * bound
    for k in range(n):
        aa = pa[k]
        ab = pb[k]
        k1 = k + 1 if k + 1 < n else 0
        ba = pa[k1]
        bb = pb[k1]
        ina = sign * aa >= lim
        inb = sign * ba >= lim
        if ina:
            oa[cnt] = aa
            ob[cnt] = ab
            cnt += 1
        if ina != inb:
            t = (bound - aa) / (ba - aa)
            oa[cnt] = bound
            ob[cnt] = ab + t * (bb - ab)
            cnt += 1
    return cnt


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _poly_area(px, py, n):
    area = 0.0
    for k in range(n):
        k1 = k + 1 if k + 1 < n else 0
        area += px[k] * py[k1] - px[k1] * py[k]
    return abs(area) * 0.5


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _spread_convex(px, py, n, c0, c1, r0, r1, area, rho, src, j, i, out, weight, density_weight,
                   dst_row0, dst_col0, sx, sy, s2x, s2y, tx, ty, t2x, t2y):
    # Spread one convex polygon over destination pixels: clip to each column strip once, then
    # the strip to each row (half-planes the polygon lies inside of are skipped).
    nb = src.shape[0]
    for cc in range(c0, c1):
        # column strip [cc, cc + 1]
        m = n
        for k in range(n):
            sx[k] = px[k]
            sy[k] = py[k]
        xmin = sx[0]
        xmax = sx[0]
        for k in range(1, m):
            xmin = min(xmin, sx[k])
            xmax = max(xmax, sx[k])
        if xmin < cc:
            m = _clip_half(sx, sy, m, float(cc), 1.0, s2x, s2y)
            for k in range(m):
                sx[k] = s2x[k]
                sy[k] = s2y[k]
        if xmax > cc + 1.0 and m > 0:
            m = _clip_half(sx, sy, m, cc + 1.0, -1.0, s2x, s2y)
            for k in range(m):
                sx[k] = s2x[k]
                sy[k] = s2y[k]
        if m < 3:
            continue
        ymin = sy[0]
        ymax = sy[0]
        for k in range(1, m):
            ymin = min(ymin, sy[k])
            ymax = max(ymax, sy[k])
        for rr in range(max(r0, int(math.floor(ymin))), min(r1, int(math.ceil(ymax)))):
            q = m
            if ymin < rr:
                q = _clip_half(sy, sx, m, float(rr), 1.0, ty, tx)
            else:
                for k in range(m):
                    tx[k] = sx[k]
                    ty[k] = sy[k]
            if ymax > rr + 1.0 and q > 0:
                q = _clip_half(ty, tx, q, rr + 1.0, -1.0, t2y, t2x)
                for k in range(q):
                    tx[k] = t2x[k]
                    ty[k] = t2y[k]
            if q < 3:
                continue
            a = _poly_area(tx, ty, q)
            if a <= 0.0:
                continue
            wgt = a / area
            weight[rr - dst_row0, cc - dst_col0] += wgt
            if density_weight.shape[0] != 0:
                density_weight[rr - dst_row0, cc - dst_col0] += rho * wgt
            for b in range(nb):
                out[b, rr - dst_row0, cc - dst_col0] += float(src[b, j, i]) * wgt


def sum_preserving(
    src,
    valid,
    density,
    corner_x,
    corner_y,
    axis_aligned,
    dst_row0,
    dst_row1,
    dst_col0,
    dst_col1,
    out,
    weight,
    density_weight,
    window=None,
):
    """GDAL's ``GWKSumPreserving``: forward area-weighted spreading of source pixels.

    Parameters
    ----------
    src : (bands, rows, cols) array, any numeric dtype
        The array holding the source window (all of it unless ``window`` says where).
    valid : (h, w) uint8
        Unified source validity (0 = invalid), or 0x0 for "all valid".
    density : (h, w) float32
        Unified source density, or 0x0; pixels with density ``< 1e-9`` are skipped.
    corner_x, corner_y : (h + 1, w + 1) float64
        Destination pixel coordinates (columns, rows of the **global** destination grid) of
        the source pixel corners; corner ``(j, i)`` is the top-left corner of source pixel
        ``(j, i)`` of the window. Non-finite = failed transform.
    axis_aligned : bool
        True when the source -> destination mapping is affine without rotation (closed-form
        rectangle overlap); otherwise quadrilaterals are clipped (non-convex ones split in two
        triangles, self-intersecting ones skipped). Each case is a kernel of its own, so a warp
        compiles only the one it runs.
    dst_row0, dst_row1, dst_col0, dst_col1 : int
        The destination block handled by this call: global rows ``[dst_row0, dst_row1)`` and
        columns ``[dst_col0, dst_col1)``.
    out : (bands, dst_row1 - dst_row0, dst_col1 - dst_col0) float64
        Accumulates ``sum(value * w)`` (must be zero-initialised).
    weight : (rows, cols) float64
        Accumulates ``sum(w)`` over valid source pixels.
    density_weight : (rows, cols) float64
        Accumulates ``sum(density * w)``; a 0x0 array skips it (without ``density`` it
        equals ``weight`` bit for bit: ``1.0 * w == w``).
    window : (row0, col0, h, w) or None
        Where the window is in ``src`` (:func:`source_window`); None: all of ``src``.
    """
    _sum_kernel(int(bool(axis_aligned)))(src, source_window(src, window), valid, density, corner_x, corner_y,
                                         dst_row0, dst_row1, dst_col0, dst_col1, out, weight, density_weight)


@functools.cache
def _sum_kernel(axis_aligned: int) -> Any:
    """:func:`sum_preserving` for ``axis_aligned``, a compile-time constant of the generated function."""

    @njit_variant(axis_aligned)
    def sum_kernel(src, win, valid, density, corner_x, corner_y, dst_row0, dst_row1, dst_col0, dst_col1, out, weight,
                   density_weight):
        nb = src.shape[0]
        row0, col0, h, w = win
        has_valid = valid.shape[0] == h and valid.shape[1] == w and h > 0
        has_density = density.shape[0] == h and density.shape[1] == w and h > 0
        px = np.empty(4, np.float64)
        py = np.empty(4, np.float64)
        qx = np.empty(4, np.float64)
        qy = np.empty(4, np.float64)
        tx = np.empty(16, np.float64)
        ty = np.empty(16, np.float64)
        ux = np.empty(16, np.float64)
        uy = np.empty(16, np.float64)
        vx = np.empty(16, np.float64)
        vy = np.empty(16, np.float64)
        wx = np.empty(16, np.float64)
        wy = np.empty(16, np.float64)
        for j in range(h):
            for i in range(w):
                if has_valid and valid[j, i] == 0:
                    continue
                rho = 1.0
                if has_density:
                    rho = float(density[j, i])
                    if rho < _SUM_DENSITY_THRESHOLD:
                        continue
                px[0] = corner_x[j, i]
                py[0] = corner_y[j, i]
                px[1] = corner_x[j, i + 1]
                py[1] = corner_y[j, i + 1]
                px[2] = corner_x[j + 1, i + 1]
                py[2] = corner_y[j + 1, i + 1]
                px[3] = corner_x[j + 1, i]
                py[3] = corner_y[j + 1, i]
                finite = True
                for k in range(4):
                    if not (math.isfinite(px[k]) and math.isfinite(py[k])):
                        finite = False
                if not finite:
                    continue
                bx0 = min(min(px[0], px[1]), min(px[2], px[3]))
                bx1 = max(max(px[0], px[1]), max(px[2], px[3]))
                by0 = min(min(py[0], py[1]), min(py[2], py[3]))
                by1 = max(max(py[0], py[1]), max(py[2], py[3]))
                if by1 <= dst_row0 or by0 >= dst_row1 or bx1 <= dst_col0 or bx0 >= dst_col1:
                    continue
                c0 = max(int(math.floor(bx0)), dst_col0)
                c1 = min(int(math.ceil(bx1)), dst_col1)
                r0 = max(int(math.floor(by0)), dst_row0)
                r1 = min(int(math.ceil(by1)), dst_row1)
                if axis_aligned:
                    area = (bx1 - bx0) * (by1 - by0)
                    if not (area > 0.0):
                        continue
                    for rr in range(r0, r1):
                        oy = min(by1, rr + 1.0) - max(by0, float(rr))
                        if oy <= 0.0:
                            continue
                        for cc in range(c0, c1):
                            ox = min(bx1, cc + 1.0) - max(bx0, float(cc))
                            if ox <= 0.0:
                                continue
                            wgt = ox * oy / area
                            weight[rr - dst_row0, cc - dst_col0] += wgt
                            if density_weight.shape[0] != 0:
                                density_weight[rr - dst_row0, cc - dst_col0] += rho * wgt
                            for b in range(nb):
                                v = float(src[b, _ix(row0 + j), _ix(col0 + i)])
                                out[b, rr - dst_row0, cc - dst_col0] += v * wgt
                    continue
                # general quadrilateral
                if _segments_cross(px[0], py[0], px[1], py[1], px[2], py[2], px[3], py[3]) or _segments_cross(
                    px[1], py[1], px[2], py[2], px[3], py[3], px[0], py[0]
                ):
                    continue  # self-intersecting
                area = 0.0
                for k in range(4):
                    area += px[k] * py[(k + 1) % 4] - px[(k + 1) % 4] * py[k]
                area = abs(area) * 0.5
                if not (area > 0.0):
                    continue
                # convex? (all turns the same sign)
                pos = 0
                neg = 0
                for k in range(4):
                    cr = _cross(px[k], py[k], px[(k + 1) % 4], py[(k + 1) % 4], px[(k + 2) % 4], py[(k + 2) % 4])
                    if cr > 0:
                        pos += 1
                    elif cr < 0:
                        neg += 1
                convex = pos == 0 or neg == 0
                if not convex:
                    # split along the diagonal through the reflex vertex
                    reflex = 0
                    sgn_major = 1.0 if pos > neg else -1.0
                    for k in range(4):
                        cr = _cross(
                            px[(k + 3) % 4], py[(k + 3) % 4], px[k], py[k], px[(k + 1) % 4], py[(k + 1) % 4]
                        )
                        if cr * sgn_major < 0:
                            reflex = k
                if convex:
                    _spread_convex(px, py, 4, c0, c1, r0, r1, area, rho, src, row0 + j, col0 + i, out, weight,
                                   density_weight, dst_row0, dst_col0, tx, ty, ux, uy, vx, vy, wx, wy)
                else:
                    k0 = reflex
                    for tri in range(2):
                        qx[0] = px[k0]
                        qy[0] = py[k0]
                        qx[1] = px[(k0 + 1 + tri) % 4]
                        qy[1] = py[(k0 + 1 + tri) % 4]
                        qx[2] = px[(k0 + 2 + tri) % 4]
                        qy[2] = py[(k0 + 2 + tri) % 4]
                        _spread_convex(qx, qy, 3, c0, c1, r0, r1, area, rho, src, row0 + j, col0 + i, out,
                                       weight, density_weight, dst_row0, dst_col0, tx, ty, ux, uy, vx, vy, wx, wy)

    return sum_kernel
