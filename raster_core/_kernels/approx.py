"""Kernels of the approximate transformer (raster_core.transform)."""

from __future__ import annotations

import numba


@numba.njit(nogil=True, cache=True)
def fill_segments(xs, seg_row, seg_start, seg_len, sx, sy, dx, dy, X, Y):
    """X[row, i] = sx + dx * (xs[i] - xs[start]) over every segment (GDAL's linear fill)."""
    for k in range(seg_row.shape[0]):
        r = seg_row[k]
        s = seg_start[k]
        x0 = xs[s]
        ax = sx[k]
        ay = sy[k]
        bx = dx[k]
        by = dy[k]
        for i in range(s, s + seg_len[k]):
            d = xs[i] - x0
            X[r, i] = ax + bx * d
            Y[r, i] = ay + by * d
    return 0
