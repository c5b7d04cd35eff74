"""Numba kernel of :func:`raster_core.scaling.apply_scales`: GDAL-exact scaling and type
conversion of one band in a single pass (see raster_core.scaling for the rules)."""

from __future__ import annotations

import math

import numba
import numpy as np

from raster_core._kernels import CACHE

# conversion modes
PLAIN = 0  # no scale: GDALCopyWords from the source type
SCALE32 = 1  # v * ratio + offset in float64 from float32(v), rounded to float32 (VRT working type Float32)
SCALE64 = 2  # v * ratio + offset in float64 (VRT working type Float64)


@numba.njit(nogil=True, cache=CACHE)
def scale_rows(src, out, row0, row1, mode, ratio, offset, out_int, round32, lo, hi, valid, has_valid, fill):
    """Rows ``[row0, row1)`` of ``src`` (2-D) into ``out`` (2-D).

    ``out_int``: integer output, saturated to ``[lo, hi]`` and rounded half away from zero
    (in float32 arithmetic when ``round32``), NaN -> 0. ``valid`` (2-D bool) is read only
    when ``has_valid``; invalid pixels get ``fill``.
    """
    ncols = src.shape[1]
    half32 = np.float32(0.5)
    for r in range(row0, row1):
        for c in range(ncols):
            if has_valid and not valid[r, c]:
                out[r, c] = fill
                continue
            v = src[r, c]
            if mode == SCALE64:
                w = np.float64(v) * ratio + offset
            elif mode == SCALE32:
                w = np.float64(np.float32(v)) * ratio + offset
                w = np.float64(np.float32(w))
            else:
                w = np.float64(v)
            if not out_int:
                if mode == PLAIN:
                    out[r, c] = v
                elif mode == SCALE32:
                    out[r, c] = np.float32(w)
                else:
                    out[r, c] = w
                continue
            if w != w:
                out[r, c] = 0
            elif w <= lo:
                out[r, c] = lo
            elif w >= hi:
                out[r, c] = hi
            elif round32:
                x = np.float32(w)
                if x >= np.float32(0.0):
                    out[r, c] = math.floor(x + half32)
                else:
                    out[r, c] = math.ceil(x - half32)
            else:
                if w >= 0.0:
                    out[r, c] = math.floor(w + 0.5)
                else:
                    out[r, c] = math.ceil(w - 0.5)
