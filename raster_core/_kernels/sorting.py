"""In-place sort of integer arrays for the kernels (quantiles of integer footprints, scanline
intersections of the rasterizer).

NumPy's ``ndarray.sort`` inside a kernel brings Numba's generic introsort, which costs about a
second of compilation in every process that first uses it; sorted integers are the same
whatever the algorithm, so the kernels use this small Shell sort instead: insertion sort for
short arrays (the common case: a footprint of a few dozen pixels, a few scanline crossings),
gaps of the Ciura sequence (extended by x2.25) above.

Examples
--------
>>> import numpy as np
>>> a = np.array([5, -1, 3, 3, 0], np.int64)
>>> sort_ints(a)
>>> a.tolist()
[-1, 0, 3, 3, 5]
"""

from __future__ import annotations

import numba
import numpy as np

from raster_core._kernels import CACHE

__all__ = ["sort_ints"]

#: gaps of the Shell sort, largest first (Ciura's, then x2.25, up to past 2**31)
_GAPS = np.array(
    [int(701 * 2.25**k) for k in range(26, 0, -1)] + [701, 301, 132, 57, 23, 10, 4], dtype=np.int64
)


@numba.njit(nogil=True, cache=CACHE)
def sort_ints(a):
    """Sort the 1-D integer array ``a`` in place, ascending."""
    n = a.shape[0]
    if n > 32:
        for g in range(_GAPS.shape[0]):
            gap = _GAPS[g]
            if gap >= n:
                continue
            for i in range(gap, n):
                v = a[i]
                j = i
                while j >= gap and a[j - gap] > v:
                    a[j] = a[j - gap]
                    j -= gap
                a[j] = v
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v
