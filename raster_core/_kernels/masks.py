"""Numba kernel of the source nodata mask: GDALWarpNoDataMasker's comparisons in one pass.

A pixel is invalid when every band equals the nodata value under the band type's rule
(see :func:`raster_core.warp.nodata_rule`); the kernel writes the validity (1 valid, 0 invalid)
of a block of rows and counts the invalid pixels, so that the caller learns whether a mask is
needed at all without another pass.
"""

from __future__ import annotations

import numba
import numpy as np

from raster_core._kernels import CACHE

# comparison rules, one per source band type family
RULE_EQUAL = 0  # 8/16-bit integers that can hold the value: exact equality (numpy does it; not here)
RULE_FLOAT32 = 1  # ARE_REAL_EQUAL in float32 arithmetic (float32 bands)
RULE_FLOAT64 = 2  # ARE_REAL_EQUAL in float64 arithmetic with FLT_EPSILON (other types)
RULE_NAN = 3  # NaN nodata: the value is NaN

# float32 constants as globals: Numba freezes them with their float32 type
_EPS32 = np.float32(np.finfo(np.float32).eps)
_TWO32 = np.float32(2.0)
_EPS64 = float(np.finfo(np.float32).eps)


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def nodata_validity(src, rule, value, out):
    """Validity of ``src`` (bands, rows, cols) into ``out`` (rows, cols).

    ``out[r, c]`` is 0 when every band of pixel ``(r, c)`` equals ``value`` under ``rule``
    (RULE_FLOAT32, RULE_FLOAT64 or RULE_NAN), else 1. Returns the number of invalid pixels written.
    A pixel is valid when any band differs, so the bands are OR-ed row by row, each comparison
    without branches (both sides of GDAL's ``a == b || |a - b| < eps``, which have no side
    effects), in loops LLVM vectorises.

    Examples
    --------
    >>> src = np.array([[[1.0, 2.0, np.nan]]])
    >>> out = np.empty((1, 3), np.uint8)
    >>> int(nodata_validity(src, RULE_FLOAT64, 2.0, out)), out.tolist()
    (1, [[1, 0, 1]])
    """
    nb, nrows, ncols = src.shape
    nd32 = np.float32(value)
    count = 0
    for r in range(nrows):
        o = out[r]
        for c in range(ncols):
            o[c] = 0
        for b in range(nb):
            row = src[b, r]
            if rule == RULE_NAN:
                for c in range(ncols):
                    v = np.float64(row[c])
                    o[c] |= np.uint8(v == v)
            elif rule == RULE_FLOAT32:
                for c in range(ncols):
                    x = np.float32(row[c])
                    same = (x == nd32) | (abs(x - nd32) < _EPS32 * abs(x + nd32) * _TWO32)
                    o[c] |= np.uint8(not same)
            else:
                for c in range(ncols):
                    x64 = np.float64(row[c])
                    same = (x64 == value) | (abs(x64 - value) < _EPS64 * abs(x64 + value) * 2.0)
                    o[c] |= np.uint8(not same)
        for c in range(ncols):
            count += 1 - o[c]
    return count
