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


@numba.njit(nogil=True, cache=CACHE)
def nodata_validity(src, rule, value, out):
    """Validity of ``src`` (bands, rows, cols) into ``out`` (rows, cols).

    ``out[r, c]`` is 0 when every band of pixel ``(r, c)`` equals ``value`` under ``rule``
    (RULE_FLOAT32, RULE_FLOAT64 or RULE_NAN), else 1. Returns the number of invalid pixels written.
    """
    nb, _, ncols = src.shape
    nd32 = np.float32(value)
    count = 0
    for r in range(src.shape[1]):
        for c in range(ncols):
            invalid = True
            for b in range(nb):
                v = src[b, r, c]
                if rule == RULE_NAN:
                    same = np.float64(v) != np.float64(v)
                elif rule == RULE_FLOAT32:
                    x = np.float32(v)
                    same = x == nd32 or abs(x - nd32) < _EPS32 * abs(x + nd32) * _TWO32
                else:
                    x64 = np.float64(v)
                    same = x64 == value or abs(x64 - value) < _EPS64 * abs(x64 + value) * 2.0
                if not same:
                    invalid = False
                    break
            if invalid:
                out[r, c] = 0
                count += 1
            else:
                out[r, c] = 1
    return count
