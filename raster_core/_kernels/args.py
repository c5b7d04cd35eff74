"""The arguments of the warp kernels, as named tuples typed once by Numba (a handful per kernel
instead of dozens of positional arguments).

One convention for absent arrays: a (1, 1) array and its ``has_*`` flag False.

Examples
--------
>>> import numpy as np
>>> src = np.zeros((1, 4, 5), dtype=np.uint8)
>>> none = np.ones((1, 1), dtype=np.uint8)
>>> s = SourceArgs(src, none, False, none.astype(np.float32), False, 10, 20, 0, 0, 4, 5, none, False)
>>> (s.height, s.width, s.xoff)
(4, 5, 10)
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np


class SourceArgs(NamedTuple):
    """The source of a warp as the row kernels see it (one convention for absent masks: a (1, 1)
    array and its ``has_*`` flag False). The window is ``src[:, row0:row0 + height, col0:col0 +
    width]``: the kernels read it in place, in the caller's array (copying a window out of a large
    source cost as much as a nearest warp of it)."""

    src: np.ndarray  #: (bands, rows, cols) C-contiguous array holding the source window
    valid: np.ndarray  #: (H, W) uint8, 1 = valid
    has_valid: bool
    dens: np.ndarray  #: (H, W) float32 alpha density in [0, 1]
    has_dens: bool
    xoff: int  #: column of the window in the full source
    yoff: int  #: row of the window in the full source
    row0: int  #: first row of the window in ``src`` (``yoff`` when ``src`` is the full source, else 0)
    col0: int  #: first column of the window in ``src``
    height: int  #: H, rows of the window
    width: int  #: W, columns of the window
    #: (H, W) uint8: how many valid pixels start at each pixel of its row, capped at 255
    #: (:func:`raster_core._kernels.interp.valid_runs`), for the per-pixel separable kernel
    runs: np.ndarray
    has_runs: bool


class KernelArgs(NamedTuple):
    """The resampling kernel: method code (:mod:`raster_core.resampling`), scales and radii of the
    widened kernels (:func:`raster_core.warp.plan_warp`), GDAL's fast path, plain nearest copy."""

    method: int
    xscale: float
    yscale: float
    xradius: int
    yradius: int
    fast_path: bool
    direct_near: bool


class StoreArgs(NamedTuple):
    """How a computed value is stored (GDAL's rounding, clamping and nodata collision rule,
    :func:`raster_core._kernels.interp._convert`)."""

    work_kind: int
    wmin: float
    wmax: float
    dst_is_int: bool
    dmin: float
    dmax: float
    dst_nodata: float
    collide: bool


class DestArgs(NamedTuple):
    """Where the rows go: ``dst[:, row0 + r, :]`` for row ``r`` of the block; ``dst_valid`` (rows
    of the block, when ``has_dst_valid``) and ``produced`` (rows of the block; zero columns when
    the caller does not want the mask) cover the block's rows."""

    dst: np.ndarray
    row0: int
    dst_valid: np.ndarray
    has_dst_valid: bool
    produced: np.ndarray



class RawArray(NamedTuple):
    """An array of any data type as its bytes and run-time codes of its type: a tuple whose Numba type
    is the same for every data type, so that a kernel taking it is compiled once for all of them
    (:func:`raw_array`). The kernels read values as unsigned integers of their width and convert them
    with :func:`raster_core._kernels.words.word_float` (:func:`~raster_core._kernels.words.int_lane` for
    small integers), and write the bits :func:`~raster_core._kernels.words.float_bits` gives."""

    fkind: int  #: the type's code for ``word_float`` and ``float_bits``: 0 integer, 1 float32, 2 float64, 3 uint64
    itemsize: int  #: bytes per value
    #: integers of at most 16 bits on a little-endian machine: adjacent values read as one word of
    #: ``raw`` and converted by :func:`raster_core._kernels.words.int_lane`
    small_int: bool
    sign: int  #: the sign bit of a signed integer type (``1 << (8 * itemsize - 1)``, as int64), else 0
    shape: tuple[int, int, int]  #: (bands, rows, columns) of the array (flat sources: before flattening)
    raw: np.ndarray  #: the array's bytes: a uint8 view of the C-contiguous array (the last axis in bytes)


def raw_array(arr: np.ndarray, shape: tuple[int, int, int]) -> RawArray:
    """The C-contiguous, native-order ``arr`` (integers of 8 to 64 bits, float32 or float64) as a
    :class:`RawArray` (``shape``: its logical (bands, rows, columns)).

    Examples
    --------
    >>> t = raw_array(np.zeros((2, 3, 4), dtype=np.int16), (2, 3, 4))
    >>> (t.fkind, t.itemsize, t.small_int, t.sign, t.raw.shape, t.raw.dtype.name)
    (0, 2, True, 32768, (2, 3, 8), 'uint8')
    >>> raw_array(np.zeros((1, 6), dtype=np.float32), (1, 2, 3)).fkind
    1
    >>> raw_array(np.zeros((1, 1), dtype=np.int64), (1, 1, 1)).sign == -2 ** 63
    True
    """
    dt = arr.dtype
    if not (arr.flags.c_contiguous and dt.isnative and (dt.kind in "iu" or dt in (np.float32, np.float64))
            and dt.itemsize in (1, 2, 4, 8)):
        raise ValueError(f"a C-contiguous array of native integers, float32 or float64 is needed, not {dt} "
                         f"(C-contiguous: {arr.flags.c_contiguous})")
    small_int = dt.kind in "iu" and dt.itemsize <= 2 and sys.byteorder == "little"
    sign = 1 << (8 * dt.itemsize - 1) if dt.kind == "i" else 0
    sign = sign - (1 << 64) if sign >= 1 << 63 else sign  # (int64's sign bit as an int64)
    fkind = 1 if dt == np.float32 else 2 if dt == np.float64 else 3 if dt == np.uint64 else 0
    return RawArray(fkind, int(dt.itemsize), bool(small_int), sign, (int(shape[0]), int(shape[1]), int(shape[2])),
                    arr.view(np.uint8))
