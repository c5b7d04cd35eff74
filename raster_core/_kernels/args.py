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


class RowPlanTables(NamedTuple):
    """A recorded approximate-transformer row plan as its kernels read it
    (:class:`raster_core.transform.RowPlan`): per row, fixed S'/M'/E' points, linear segments and
    exactly transformed points, each kind a CSR table by row (``ptr``) of field-major arrays.
    Absent entries are zero-length tables (row pointers that do not advance): no flags needed.

    Every array is C-contiguous (one compiled signature).

    Examples
    --------
    >>> import numpy as np
    >>> ptr = np.array([[0, 0], [0, 1], [0, 0]])  # one row: no fixed points, one segment, no exact points
    >>> one = RowPlanTables(np.arange(4) + 0.5, ptr, np.empty(0, np.int64), np.empty((2, 0)),
    ...                     np.array([[0], [4]]), np.array([[1.0], [2.0], [0.5], [0.0]]),
    ...                     np.empty(0, np.int64), np.empty((2, 0)), np.empty(0, np.bool_))
    >>> one.nrows
    1
    """

    xs: np.ndarray  #: (n,) float64: the x of every column of the plan's rows
    #: (3, nrows + 1) int64: CSR row pointers of the fixed points, linear segments, exact points
    ptr: np.ndarray
    f_col: np.ndarray  #: (mf,) int64: column of each fixed point
    f_xy: np.ndarray  #: (2, mf) float64: x, y of each fixed point
    p_int: np.ndarray  #: (2, mp) int64: first column, number of points of each linear segment
    p_flt: np.ndarray  #: (4, mp) float64: start x, start y, slope x, slope y of each linear segment
    e_col: np.ndarray  #: (me,) int64: column of each exact point
    e_xy: np.ndarray  #: (2, me) float64: x, y of each exact point
    e_ok: np.ndarray  #: (me,) bool: whether each exact point's transform succeeded

    @property
    def nrows(self) -> int:
        """Rows of the plan."""
        return int(self.ptr.shape[1]) - 1


class FootprintBuffers(NamedTuple):
    """The footprints of one row of destination pixels (one entry per column), as the reduce
    kernels compute them: kind (0 = no value, 1 = at most 2 columns, 2 = wider, 3 = the
    reference loop), first and end column, first row and number of rows, and the edge weights
    (first and last column, first and last row)."""

    kind: np.ndarray  #: int64
    ix0: np.ndarray  #: int64
    ix1: np.ndarray  #: int64
    iy0: np.ndarray  #: int64
    ny: np.ndarray  #: int64
    wx0: np.ndarray  #: float64
    wxl: np.ndarray  #: float64
    wy0: np.ndarray  #: float64
    wyl: np.ndarray  #: float64
