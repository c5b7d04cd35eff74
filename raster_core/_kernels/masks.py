"""Numba kernel of the source nodata mask: GDALWarpNoDataMasker's comparisons in one pass.

A pixel is invalid when every band equals the nodata value under the band type's rule
(see :func:`raster_core.warp.nodata_rule`); :func:`nodata_validity` writes the validity (1 valid, 0 invalid)
of a block of rows and counts the invalid pixels, so that the caller learns whether a mask is
needed at all.
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


def nodata_validity(src: np.ndarray, rule: int, value: float, out: np.ndarray) -> int:
    """Validity of ``src`` (bands, rows, cols) into ``out`` (rows, cols), a C-contiguous uint8 array.

    ``out[r, c]`` is 0 when every band of pixel ``(r, c)`` equals ``value`` under ``rule``
    (RULE_FLOAT32, RULE_FLOAT64 or RULE_NAN), else 1. Returns the number of invalid pixels written.
    ``src`` may be a window of a larger array (rows of contiguous pixels, e.g. ``a[:, r0:r1, c0:c1]``
    of a C-contiguous ``a``): each band is then read in place as the one-dimensional span of memory
    from its first pixel to its last, a row every ``strides[1]`` bytes. The kernel then knows the
    pixels of a row to be adjacent and its loops vectorise (a window typed as strided ran 6x slower).

    Examples
    --------
    >>> src = np.array([[[1.0, 2.0, np.nan]]])
    >>> out = np.empty((1, 3), np.uint8)
    >>> int(nodata_validity(src, RULE_FLOAT64, 2.0, out)), out.tolist()
    (1, [[1, 0, 1]])
    >>> big = np.full((1, 4, 5), 7.0, np.float32)
    >>> big[0, 2, 3] = 1.0
    >>> out = np.empty((2, 2), np.uint8)
    >>> int(nodata_validity(big[:, 1:3, 2:4], RULE_FLOAT32, 7.0, out)), out.tolist()
    (3, [[0, 0], [0, 1]])
    """
    nb, nrows, ncols = src.shape
    item = src.itemsize
    if nrows == 0 or ncols == 0 or nb == 0:
        return _validity_count(out, nb, nrows, ncols)
    row_stride = src.strides[1]
    if src.strides[2] != item or row_stride % item or row_stride < ncols * item:
        src = np.ascontiguousarray(src)
        row_stride = src.strides[1]
    for b in range(nb):
        band = src[b]
        span = (nrows - 1) * (row_stride // item) + ncols
        flat = np.lib.stride_tricks.as_strided(band, shape=(span,), strides=(item,), writeable=False)
        _band_validity(flat, row_stride // item, nrows, ncols, rule, float(value), out, b == 0)
    return _validity_count(out, nb, nrows, ncols)


def _validity_count(out: np.ndarray, nb: int, nrows: int, ncols: int) -> int:
    # the invalid pixels (all of them without bands)
    if nb == 0:
        out[...] = 0
        return nrows * ncols
    return int(out.size - np.count_nonzero(out))


@numba.njit(nogil=True, cache=CACHE, error_model="numpy")
def _band_validity(band, row_stride, nrows, ncols, rule, value, out, first):
    # One band's pixels that differ from ``value`` (1) OR-ed into ``out`` (set when ``first``);
    # row r of the band is band[r * row_stride:r * row_stride + ncols]. Each comparison is
    # branch-free (both sides of GDAL's ``a == b || |a - b| < eps`` have no side effects).
    nd32 = np.float32(value)
    for r in range(nrows):
        o = out[r]
        row = band[r * row_stride:r * row_stride + ncols]
        if first:
            for c in range(ncols):
                o[c] = 0
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
    return 0
