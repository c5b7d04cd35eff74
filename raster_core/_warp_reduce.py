"""Block driver of the area-reduction resamplers (``average, rms, mode, max, min, med, q1, q3, sum``).

:func:`reduce_block` computes one rectangular block of the destination grid with
GDAL 3.10's ``GWKAverageOrMode`` / ``GWKSumPreserving`` semantics and returns float64 values
plus a "produced" mask (and, for ``sum``, the band density); the caller (``raster_core.warp``)
applies GDAL's write rules (rounding, clamping, dst-nodata collision, density blending).
:func:`warp_reduce_block` is the same with the block-kernel contract of :mod:`raster_core.warp`
(writes into caller-provided arrays).

Window invariance. Coordinates are always computed on **whole rows of the global grids**:

* average family: the top-left corners ``(c, r)`` and bottom-right corners ``(c + 1, r + 1)``
  of destination row ``r`` are transformed for every column ``c`` of the *global* destination
  width (GDAL's approximate transformer is row-based, its anchors are the row ends), then the
  block's columns are sliced out;
* sum: the corners of the source pixels are transformed source -> destination over whole rows
  of the *plan's* source window (GDAL transforms rows of ``nSrcXSize + 1`` corners of its source
  window), and only the source rows that can reach the block are computed.

Memory. The average family never holds block-sized coordinate arrays: GDAL's approximate
transformer of the corner rows is recorded compactly (``WarpTransformer.row_plan``, shared by the
blocks of a warp per chunk of rows) and filled one destination row at a time inside the kernel
(:func:`raster_core._kernels.reduce.reduce_rows_planned`); ``sum`` transforms its source-pixel
corners a few source rows at a time and accumulates its weights in the caller's density buffer.

Footprints are clamped to the plan's source window (GDAL's edge weights > 1 where a footprint
leaves it) and corners further than ``2 * max(1, ceil(1 / scale))`` source pixels outside it skip
the pixel, with ``scale`` the plan's GDAL kernel scale. With ``source`` = the plan's source
window for the whole warp, every block gives the same pixels as the full warp, for any blocking
and thread count.

Examples
--------
>>> import numpy as np
>>> from raster_core.transform import WarpTransformer
>>> src = np.arange(16.0).reshape(1, 4, 4)
>>> t = WarpTransformer("EPSG:32631", (0, 1, 0, 4, 0, -1), "EPSG:32631", (0, 2, 0, 4, 0, -2))
>>> res = reduce_block(src, (0, 0, 4, 4), None, None, t, (0, 0, 2, 2), 2, "average",
...                    scale=(0.5, 0.5))
>>> res.values[0].tolist(), res.produced.tolist()
([[2.5, 4.5], [10.5, 12.5]], [[True, True], [True, True]])
"""

from __future__ import annotations

import functools
import math
import threading
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from raster_core._kernels import reduce as _k
from raster_core.errors import InvalidParameterError, ResamplingError, ShapeError
from raster_core.transform import WarpTransformer

__all__ = ["ReduceResult", "REDUCE_METHODS", "reduce_block", "warp_reduce_block", "gdal_margin"]

#: resampling names handled here
REDUCE_METHODS = ("average", "rms", "mode", "max", "min", "med", "q1", "q3", "sum")

_EMPTY_U8 = np.zeros((0, 0), np.uint8)
_EMPTY_F32 = np.zeros((0, 0), np.float32)


@dataclass
class ReduceResult:
    """Output of :func:`warp_reduce_block`.

    Attributes
    ----------
    values : (bands, rows, cols) float64
        Resampled values (meaningless where ``produced`` is False).
    produced : (rows, cols) bool
        Pixels that received a value (GDAL writes only those).
    density : (rows, cols) float64 or None
        Band density to blend with (GDAL's ``sum``: ``sum(rho * w) / sum(w)``); ``None`` for the
        average family, whose density is always 1 (alpha is treated as binary).
    """

    values: np.ndarray
    produced: np.ndarray
    density: np.ndarray | None = None


class ReduceChunks(NamedTuple):
    """How the reduce family cuts its work; the values never depend on it (tests vary it)."""

    #: about this many corner points per cached chunk of corner-plan rows (bounds its rows)
    plan_points: int = 1 << 20
    #: ``sum``: source rows of corner coordinates transformed at a time (bounds the temporaries)
    sum_rows: int = 16


DEFAULT_CHUNKS = ReduceChunks()


@functools.lru_cache(maxsize=64)
def _is_geographic(wkt: str) -> bool:
    import pyproj

    return bool(pyproj.CRS.from_wkt(wkt).is_geographic)


def gdal_margin(scale: float) -> float:
    """GDAL's footprint margin ``2 * max(1, ceil(1 / scale))`` (source pixels).

    Examples
    --------
    >>> gdal_margin(1.0), gdal_margin(1 / 3.3)
    (2.0, 8.0)
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise InvalidParameterError(f"scale must be finite and > 0, got {scale!r}")
    return 2.0 * max(1, math.ceil(1.0 / scale))


def _check_mask(arr, shape, name, dtype):
    if arr is None:
        return _EMPTY_U8 if dtype == np.uint8 else _EMPTY_F32
    a = np.asarray(arr)
    if a.shape != shape:
        raise ShapeError(f"{name} must have shape {shape}, got {a.shape}")
    return np.ascontiguousarray(a, dtype=dtype)


def reduce_block(
    source: np.ndarray,
    src_window: tuple[int, int, int, int],
    valid: np.ndarray | None,
    density: np.ndarray | None,
    transformer: WarpTransformer,
    dst_window: tuple[int, int, int, int],
    dst_width: int,
    method: str,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    wrap_x: bool | None = None,
    out: np.ndarray | None = None,
    chunks: ReduceChunks = DEFAULT_CHUNKS,
) -> ReduceResult:
    """Resample one destination block with an area-reduction method (GDAL semantics).

    Parameters
    ----------
    source : (bands, h, w) ndarray, any real numeric dtype
        The plan's source window (a view of the source raster is fine).
    src_window : (xoff, yoff, xsize, ysize)
        Position of ``source`` in the full source raster (``xsize, ysize == w, h``).
    valid : (h, w) bool/uint8 ndarray or None
        Unified source validity (False = nodata/masked); None = all valid.
    density : (h, w) float32 ndarray or None
        Unified source density (alpha / cutline in [0, 1]); None = 1 everywhere.
    transformer : WarpTransformer
        Destination pixel -> source pixel transformer of the full rasters (its ``inverse``
        direction is used by ``sum``).
    dst_window : (col_off, row_off, ncols, nrows)
        The block, in the global destination grid.
    dst_width : int
        Width of the global destination grid (row anchor of the approximate transformer).
    method : str
        One of :data:`REDUCE_METHODS`.
    scale : (float, float)
        GDAL's kernel scale of the plan (``GDALWarpKernel::PerformWarp``), used for the
        footprint margin and the antimeridian heuristic.
    wrap_x : bool or None
        Allow GDAL's antimeridian footprint wrapping (only when the window starts at column 0
        and spans the full width of a geographic source). ``None``: enabled for geographic
        sources.
    out : (bands, nrows, ncols) float64 C-contiguous ndarray, optional
        Zero-filled array to write the values into (avoids an allocation); returned as
        ``values``.
    chunks : ReduceChunks
        How the work is cut (``sum``'s corner rows); the values do not depend on it.

    Returns
    -------
    ReduceResult

    Examples
    --------
    >>> import numpy as np
    >>> from raster_core.transform import WarpTransformer
    >>> t = WarpTransformer(3857, (0, 1, 0, 2, 0, -1), 3857, (0, 2, 0, 2, 0, -2))
    >>> r = reduce_block(np.array([[[1, 2], [3, 4]]], np.uint8), (0, 0, 2, 2), None, None,
    ...                  t, (0, 0, 1, 1), 1, "sum")
    >>> r.values.tolist(), r.produced.tolist()
    ([[[10.0]]], [[True]])
    """
    if method not in REDUCE_METHODS:
        raise ResamplingError(f"reduce_block handles {REDUCE_METHODS}, not {method!r}")
    src = np.asarray(source)
    if src.ndim == 2:
        src = src[None]
    if src.ndim != 3:
        raise ShapeError(f"source must be 2-D or 3-D, got {src.ndim}-D")
    if src.dtype.kind not in "biuf":
        raise InvalidParameterError(f"unsupported source dtype {src.dtype}")
    if src.dtype.kind == "b":
        src = src.view(np.uint8)
    xoff, yoff, xsize, ysize = (int(v) for v in src_window)
    nb, h, w = src.shape
    if (xsize, ysize) != (w, h):
        raise ShapeError(f"src_window size {(xsize, ysize)} does not match source shape {(w, h)}")
    col0, row0, ncols, nrows = (int(v) for v in dst_window)
    if ncols < 0 or nrows < 0 or col0 < 0 or row0 < 0 or col0 + ncols > dst_width:
        raise ShapeError(f"invalid dst_window {dst_window} for a destination of width {dst_width}")
    valid_u8 = _check_mask(valid, (h, w), "valid", np.uint8)
    dens = _check_mask(density, (h, w), "density", np.float32)
    sx, sy = float(scale[0]), float(scale[1])
    if out is None:
        out = np.zeros((nb, nrows, ncols), np.float64)
    elif out.shape != (nb, nrows, ncols) or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ShapeError(f"out must be a C-contiguous float64 array of shape {(nb, nrows, ncols)}")
    elif method == "sum":
        out.fill(0.0)  # accumulated
    if nrows == 0 or ncols == 0 or h == 0 or w == 0:
        return ReduceResult(
            out, np.zeros((nrows, ncols), bool), np.zeros((nrows, ncols)) if method == "sum" else None
        )
    if method == "sum":
        return _sum_block(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, out, chunks)

    if wrap_x is None:
        wrap_x = _is_geographic(transformer.src_wkt)
    allow_wrap = bool(wrap_x) and xoff == 0
    produced = np.zeros((nrows, ncols), np.uint8)
    _average_family_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, dst_width,
                         method, sx, sy, allow_wrap, out, produced)
    return ReduceResult(out, produced.astype(bool), None)


def _readable(src, win):
    """``(array, (row0, col0, height, width))`` the kernels read the source window from: ``src``
    itself when it is C-contiguous (the window read in place; ``win`` None: all of ``src``),
    else a C-contiguous copy of the window (the kernels are compiled for C-contiguous arrays)."""
    win = _k.source_window(src, win)
    if src.flags.c_contiguous:
        return src, win
    row0, col0, h, w = win
    return np.ascontiguousarray(src[:, row0:row0 + h, col0:col0 + w]), (0, 0, h, w)


def _kernel_code(method, src, valid_u8, dens, allow_wrap, reference=False):
    """The reduce kernel of a block: the integer kernels for integer sources without densities
    or antimeridian wrap (with a validity mask: min, max and the quantiles; the quantiles not of
    uint64, whose values may not fit their int64 sort), else the general one (``reference``:
    always the general one, which the others equal bit for bit)."""
    integer = not reference and src.dtype.kind in "iu" and dens.size == 0 and not allow_wrap
    plain = integer and valid_u8.size == 0
    if plain and method == "average":
        return _k.KERNEL_AVERAGE_INT
    # min, max and the quantiles skip invalid pixels as the general kernel does
    if integer and method in ("min", "max"):
        return _k.KERNEL_MINMAX_INT
    if (plain and method == "rms") or (integer and method in ("med", "q1", "q3") and src.dtype != np.uint64):
        return _k.KERNEL_RMS_QUANTILE_INT
    return _k.KERNEL_GENERAL


def _corner_plans(transformer, xs, rows_f, with_centre):
    """Row plans ``(0, tl, br, ce)`` of the corner rows ``rows_f`` (``ce`` None unless
    ``with_centre``), or None when the approximate transformer does not apply."""
    tl = transformer.row_plan(xs, rows_f)
    if tl is None:
        return None
    br = transformer.row_plan(xs + 1.0, rows_f + 1.0)
    ce = transformer.row_plan(xs + 0.5, rows_f + 0.5) if with_centre else None
    if br is None or (with_centre and ce is None):
        return None
    return (0, tl, br, ce)


class _PlanChunk:
    """Corner row plans of the global destination rows [row0, row0 + rows) (built once)."""

    __slots__ = ("ref", "lock", "plans", "rows", "used")

    def __init__(self, transformer, rows):
        self.ref = weakref.ref(transformer)
        self.lock = threading.Lock()
        self.plans = _UNSET
        self.rows = rows
        self.used = 0


_UNSET = object()
#: chunk key -> _PlanChunk, insertion ordered (oldest evicted first beyond _PLAN_CACHE_MAX)
_PLAN_CACHE: dict = {}
_PLAN_CACHE_LOCK = threading.Lock()
_PLAN_CACHE_MAX = 8



def _plan_chunk(transformer, dst_width, dst_height, K, k, with_centre):
    """The cache entry of chunk ``k`` (global rows [k K, min((k + 1) K, dst_height)))."""
    key = (id(transformer), dst_width, dst_height, K, k, bool(with_centre))
    with _PLAN_CACHE_LOCK:
        ch = _PLAN_CACHE.get(key)
        if ch is None or ch.ref() is not transformer:
            ch = _PLAN_CACHE[key] = _PlanChunk(transformer, min(K, dst_height - k * K))
            while len(_PLAN_CACHE) > _PLAN_CACHE_MAX:
                del _PLAN_CACHE[next(iter(_PLAN_CACHE))]
    return key, ch


def _build_chunk(ch, transformer, dst_width, K, k, with_centre):
    # call with ch.lock held
    if ch.plans is _UNSET:
        xs = np.arange(dst_width, dtype=np.float64)
        rows = np.arange(k * K, k * K + ch.rows, dtype=np.float64)
        ch.plans = _corner_plans(transformer, xs, rows, with_centre)


def _cached_corner_plans(transformer, dst_width, dst_height, row0, nrows, with_centre, chunks=DEFAULT_CHUNKS):
    """Corner plans of global rows [row0, row0 + nrows) as ``[(a, b, plans)]`` parts (local rows
    [a, b) of the block; ``plans[0]`` is the plan row of local row ``a``).

    The plans of a warp are recorded per chunk of global rows (aligned on multiples of the
    chunk height) shared by the blocks and threads of the warp: one recording per chunk
    instead of one per block (each recording has a fixed Python/PROJ cost per recursion level).
    A thread that finds its chunk being recorded by another one records the next chunk
    meanwhile instead of waiting. Rows are independent in the approximate transformer, so the
    values do not depend on the chunking. A chunk is dropped once all its rows were used (or
    when the cache is full)."""
    K = max(32, min(2048, chunks.plan_points // max(1, dst_width)))
    parts = []
    r = row0
    end = row0 + nrows
    while r < end:
        k = r // K
        c_lo = k * K
        b = min(end, c_lo + K, dst_height)
        key, ch = _plan_chunk(transformer, dst_width, dst_height, K, k, with_centre)
        if ch.plans is _UNSET:
            if ch.lock.acquire(blocking=False):
                try:
                    _build_chunk(ch, transformer, dst_width, K, k, with_centre)
                finally:
                    ch.lock.release()
            else:
                # another thread records chunk k: record chunk k + 1 meanwhile
                if (k + 1) * K < dst_height:
                    _, nxt = _plan_chunk(transformer, dst_width, dst_height, K, k + 1, with_centre)
                    if nxt.plans is _UNSET and nxt.lock.acquire(blocking=False):
                        try:
                            _build_chunk(nxt, transformer, dst_width, K, k + 1, with_centre)
                        finally:
                            nxt.lock.release()
                with ch.lock:
                    _build_chunk(ch, transformer, dst_width, K, k, with_centre)  # no-op once recorded
        plans = ch.plans
        with _PLAN_CACHE_LOCK:
            ch.used += b - r
            if ch.used >= ch.rows and _PLAN_CACHE.get(key) is ch:
                del _PLAN_CACHE[key]
        parts.append((r - row0, b - row0, None if plans is None else (r - c_lo, *plans[1:])))
        r = b
    return parts


def _average_family_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, dst_width,
                         method, sx, sy, allow_wrap, out, produced, dst_height=None, reference=False,
                         chunks=DEFAULT_CHUNKS, win=None):
    """The average family for one block into ``out`` (bands, nrows, ncols) float64 and
    ``produced`` (nrows, ncols) uint8 (zeros on entry). With ``dst_height`` (the height of the
    global destination grid) the corner plans are shared between the blocks of a warp. The
    source window is ``src[:, row0:row0 + h, col0:col0 + w]`` for ``win = (row0, col0, h, w)``
    (None: all of ``src``)."""
    src, win = _readable(src, win)
    kernel = _kernel_code(method, src, valid_u8, dens, allow_wrap, reference)
    code = _k.METHOD_CODES[method]
    mx, my = gdal_margin(sx), gdal_margin(sy)
    rows_f = np.arange(row0, row0 + nrows, dtype=np.float64)
    xs = np.arange(dst_width, dtype=np.float64)
    # GDAL's approximate transformer of the corner rows, recorded compactly (row plans) and
    # filled one destination row at a time inside the kernel: no block-sized coordinates
    if dst_height is None:
        parts = [(0, nrows, _corner_plans(transformer, xs, rows_f, allow_wrap))]
    else:
        parts = _cached_corner_plans(transformer, dst_width, dst_height, row0, nrows, allow_wrap, chunks)
    if all(p[2] is not None for p in parts):
        for a, b, (plan_r0, tl, br, ce) in parts:
            cp = ce if ce is not None else tl
            _k.reduce_rows_planned(
                kernel, code, src, valid_u8, dens, xoff, yoff, plan_r0, b - a, col0, col0 + ncols,
                tl.tables, br.tables, ce is not None, cp.tables, mx, my, allow_wrap, sx, out, produced, a, window=win,
            )
        return
    # exact transforms (no approximation applies): whole-block coordinate arrays
    tlx, tly, tlok = transformer.transform_rows(xs, rows_f)
    brx, bry, brok = transformer.transform_rows(xs + 1.0, rows_f + 1.0)
    sl = slice(col0, col0 + ncols)
    tlx = np.ascontiguousarray(tlx[:, sl])
    tly = np.ascontiguousarray(tly[:, sl])
    brx = np.ascontiguousarray(brx[:, sl])
    bry = np.ascontiguousarray(bry[:, sl])
    ok = np.ascontiguousarray((tlok[:, sl] & brok[:, sl]).astype(np.uint8))
    if allow_wrap:
        cx, _, _ = transformer.transform_rows(xs + 0.5, rows_f + 0.5)
        cx = np.ascontiguousarray(cx[:, sl])
    else:
        cx = tlx
    if kernel == _k.KERNEL_AVERAGE_INT:
        _k.average_integer_plain(src, xoff, yoff, tlx, tly, brx, bry, ok, mx, my, out, produced, win)
    elif kernel == _k.KERNEL_MINMAX_INT:
        _k.minmax_integer_plain(src, xoff, yoff, tlx, tly, brx, bry, ok, mx, my, code, out, produced,
                                valid_u8 if valid_u8.size else None, win)
    elif kernel == _k.KERNEL_RMS_QUANTILE_INT:
        _k.rms_quantile_integer_plain(src, xoff, yoff, tlx, tly, brx, bry, ok, mx, my, code, out, produced,
                                      valid_u8 if valid_u8.size else None, win)
    else:
        _k.average_or_mode(src, valid_u8, dens, xoff, yoff, tlx, tly, brx, bry, ok, cx, mx, my, allow_wrap, sx,
                           code, out, produced, win)


def _source_rows_reaching(transformer, col0, row0, ncols, nrows, yoff, h):
    """Source rows [j0, j1) of the window whose pixels can overlap the destination block."""
    n = 21
    fx = np.concatenate(
        [np.linspace(col0, col0 + ncols, n), np.linspace(col0, col0 + ncols, n),
         np.full(n, col0), np.full(n, col0 + ncols)]
    )
    fy = np.concatenate(
        [np.full(n, row0), np.full(n, row0 + nrows),
         np.linspace(row0, row0 + nrows, n), np.linspace(row0, row0 + nrows, n)]
    )
    gx, gy = np.meshgrid(np.linspace(col0, col0 + ncols, n), np.linspace(row0, row0 + nrows, n))
    fx = np.concatenate([fx, gx.ravel()])
    fy = np.concatenate([fy, gy.ravel()])
    _, sy, ok = transformer.transform_points(fx, fy)
    if not ok.all() or not ok.any():
        return 0, h
    # the forward approximate transform may be off by `tolerance` destination pixels
    rows_per_dst_row = (float(sy.max()) - float(sy.min())) / max(nrows, 1)
    pad = 2 + int(math.ceil(max(transformer.tolerance, 0.125) * rows_per_dst_row))
    lo = int(math.floor(float(sy.min()))) - yoff - pad
    hi = int(math.ceil(float(sy.max()))) - yoff + pad
    return max(0, lo), min(h, max(0, hi))


def _sum_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, out, weight, dweight,
              chunks=DEFAULT_CHUNKS, win=None):
    """Accumulate GDAL's ``sum`` of the block into ``out`` / ``weight`` / ``dweight`` (zeros).

    The corners of the source pixels that can reach the block are transformed in chunks of
    ``chunks.sum_rows`` source rows (rows are independent in the approximate transformer)
    and the chunks are spread in source row order, the order of one call over all the rows,
    so the sums are bit for bit the same with bounded temporaries. A float64 source window is read
    in place at ``win`` (as in :func:`_average_family_into`), other types a chunk of rows at a
    time as float64 (the sum kernel then exists once, whatever the source type)."""
    src, (win_row0, win_col0, h, w) = _readable(src, win)
    j0, j1 = _source_rows_reaching(transformer, col0, row0, ncols, nrows, yoff, h)
    if j1 <= j0:
        return
    s_gt, d_gt = transformer.src_gt, transformer.dst_gt
    axis_aligned = (
        not transformer.has_reprojection
        and s_gt[2] == 0.0
        and s_gt[4] == 0.0
        and d_gt[2] == 0.0
        and d_gt[4] == 0.0
    )
    xs = np.arange(xoff, xoff + w + 1, dtype=np.float64)
    for ja in range(j0, j1, chunks.sum_rows):
        jb = min(j1, ja + chunks.sum_rows)
        ys = np.arange(yoff + ja, yoff + jb + 1, dtype=np.float64)
        cx, cy, cok = transformer.transform_rows(xs, ys, inverse=True)
        cx = np.array(cx, dtype=np.float64, order="C", copy=None)
        cy = np.array(cy, dtype=np.float64, order="C", copy=None)
        if not cx.flags.writeable or not cy.flags.writeable:
            cx = cx.copy()
            cy = cy.copy()
        bad = ~np.asarray(cok, dtype=bool)
        if bad.any():
            cx[bad] = np.nan
            cy[bad] = np.nan
        if src.dtype == np.float64:
            rows, rows_win = src, (win_row0 + ja, win_col0, jb - ja, w)
        else:
            # the rows' values as float64 (exactly the kernel's float(value)): one sum kernel for
            # every source type, compiled once
            rows = np.ascontiguousarray(src[:, win_row0 + ja:win_row0 + jb, win_col0:win_col0 + w], dtype=np.float64)
            rows_win = (0, 0, jb - ja, w)
        _k.sum_preserving(
            rows,
            valid_u8[ja:jb] if valid_u8.size else valid_u8,
            dens[ja:jb] if dens.size else dens,
            cx,
            cy,
            axis_aligned,
            row0,
            row0 + nrows,
            col0,
            col0 + ncols,
            out,
            weight,
            dweight,
            rows_win,
        )


def _sum_block(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, out, chunks=DEFAULT_CHUNKS):
    weight = np.zeros((nrows, ncols))
    dweight = np.zeros((nrows, ncols))
    _sum_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, out, weight, dweight, chunks)
    produced = weight > 0.0
    density = np.where(produced, dweight / np.where(produced, weight, 1.0), 0.0)
    return ReduceResult(out, produced, density)


def warp_reduce_block(
    method: str,
    src: np.ndarray,
    valid: np.ndarray | None,
    density: np.ndarray | None,
    src_offset: tuple[int, int],
    src_full_shape: tuple[int, int],
    transformer: WarpTransformer,
    dst_shape: tuple[int, int],
    dst_rows: tuple[int, int],
    dst_cols: tuple[int, int],
    xscale: float,
    yscale: float,
    out: np.ndarray,
    out_density: np.ndarray,
    band_produced: np.ndarray,
    src_dtype: np.dtype | None = None,
    reference: bool = False,
    chunks: ReduceChunks = DEFAULT_CHUNKS,
    window: tuple[int, int, int, int] | None = None,
) -> None:
    """Block kernel of :mod:`raster_core.warp` for the reduce family (its documented contract).

    Computes global destination rows ``dst_rows`` x columns ``dst_cols`` from the plan's source
    window (origin ``src_offset`` in a raster of ``src_full_shape``): ``src`` itself, or with
    ``window = (row0, col0, height, width)`` the part ``src[:, row0:row0 + height, col0:col0 +
    width]`` of a larger array, read in place when ``src`` is C-contiguous. It writes the
    values into ``out``, the band density into ``out_density`` (``sum`` only; it stays 1.0
    for the average family) and 1 into ``band_produced`` where a band got a value. The Int16
    ``mode == -1`` pixels that GDAL 3.10 drops are produced (documented deviation).
    ``chunks`` says how the work is cut (corner-plan chunks, ``sum``'s corner rows); the values
    do not depend on it.

    Examples
    --------
    >>> import numpy as np
    >>> from raster_core.transform import WarpTransformer
    >>> t = WarpTransformer(3857, (0, 1, 0, 2, 0, -1), 3857, (0, 2, 0, 2, 0, -2))
    >>> out = np.zeros((1, 1, 1)); dens = np.ones((1, 1, 1)); prod = np.zeros((1, 1, 1), np.uint8)
    >>> warp_reduce_block("max", np.array([[[1, 2], [3, 4]]], np.uint8), None, None, (0, 0), (2, 2), t,
    ...                   (1, 1), (0, 1), (0, 1), 0.5, 0.5, out, dens, prod)
    >>> out.tolist(), prod.tolist()
    ([[[4.0]]], [[[1]]])
    """
    src = np.asarray(src)
    if src.ndim == 2:
        src = src[None]
    win = _k.source_window(src, window)
    h, w = win[2], win[3]
    xoff, yoff = (int(v) for v in src_offset)
    r0, r1 = (int(v) for v in dst_rows)
    c0, c1 = (int(v) for v in dst_cols)
    expect = (src.shape[0], r1 - r0, c1 - c0)
    for name, arr in (("out", out), ("out_density", out_density), ("band_produced", band_produced)):
        if tuple(arr.shape) != expect:
            raise ShapeError(f"{name} must have shape {expect}, got {tuple(arr.shape)}")
    if xoff < 0 or yoff < 0 or xoff + w > int(src_full_shape[1]) or yoff + h > int(src_full_shape[0]):
        raise ShapeError(f"source window {(xoff, yoff, w, h)} exceeds the source raster {tuple(src_full_shape)}")
    direct = out.dtype == np.float64 and out.flags.c_contiguous
    if (
        method == "sum"
        and direct
        and out_density.dtype == np.float64
        and out_density.flags.c_contiguous
        and band_produced.dtype == np.uint8
        and src.shape[0] > 0
        and r1 > r0
        and c1 > c0
    ):
        _sum_block_into(src, valid, density, xoff, yoff, transformer, c0, r0, c1 - c0, r1 - r0, out, out_density,
                        band_produced, chunks, win)
        return
    if method != "sum" and direct and method in REDUCE_METHODS:
        _average_family_block(method, src, valid, density, xoff, yoff, transformer, c0, r0, c1 - c0, r1 - r0,
                              int(dst_shape[1]), int(dst_shape[0]), float(xscale), float(yscale), out,
                              band_produced, reference, chunks, win)
        return
    res = reduce_block(
        src[:, win[0]:win[0] + h, win[1]:win[1] + w], (xoff, yoff, w, h), valid, density, transformer,
        (c0, r0, c1 - c0, r1 - r0), int(dst_shape[1]), method, scale=(float(xscale), float(yscale)),
        out=out if direct else None, chunks=chunks,
    )
    if not direct:
        out[...] = res.values
    band_produced[...] = res.produced[None].astype(np.uint8)
    if res.density is not None:
        out_density[...] = res.density[None]


def _checked_source(src: np.ndarray, valid: np.ndarray | None, density: np.ndarray | None, h: int, w: int) -> tuple:
    """The source (booleans viewed as uint8) and the validity/density masks of its (h, w) window,
    checked."""
    if src.dtype.kind not in "biuf":
        raise InvalidParameterError(f"unsupported source dtype {src.dtype}")
    if src.dtype.kind == "b":
        src = src.view(np.uint8)
    return src, _check_mask(valid, (h, w), "valid", np.uint8), _check_mask(density, (h, w), "density", np.float32)


def _average_family_block(method, src, valid, density, xoff, yoff, transformer, col0, row0, ncols, nrows,
                          dst_width, dst_height, sx, sy, out, band_produced, reference=False, chunks=DEFAULT_CHUNKS,
                          win=None):
    """:func:`warp_reduce_block` for the average family: values straight into the caller's
    ``out`` (zeros, C-contiguous float64) and the produced flags into ``band_produced``; the
    source window at ``win`` in ``src`` (:func:`_readable`)."""
    win = _k.source_window(src, win)
    nb, h, w = src.shape[0], win[2], win[3]
    src, valid_u8, dens = _checked_source(src, valid, density, h, w)
    if not (sx > 0 and math.isfinite(sx) and sy > 0 and math.isfinite(sy)):
        raise InvalidParameterError(f"scale must be finite and > 0, got {(sx, sy)!r}")
    if nb == 0 or nrows == 0 or ncols == 0:
        return
    if h == 0 or w == 0:
        band_produced[...] = 0
        return
    allow_wrap = _is_geographic(transformer.src_wkt) and xoff == 0
    bp = band_produced[0]
    if bp.dtype == np.uint8 and bp.flags.c_contiguous:
        bp.fill(0)
        produced = bp
    else:
        produced = np.zeros((nrows, ncols), np.uint8)
    _average_family_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, dst_width,
                         method, sx, sy, allow_wrap, out, produced, dst_height, reference, chunks, win)
    for b in range(nb):
        if b > 0 or produced is not bp:
            band_produced[b] = produced


def _sum_block_into(src, valid, density, xoff, yoff, transformer, col0, row0, ncols, nrows, out, out_density,
                    band_produced, chunks=DEFAULT_CHUNKS, win=None):
    """:func:`warp_reduce_block` for ``sum`` with one block-sized float64 temporary at most:
    the weight sums accumulate in ``out_density[0]`` (the density is then 1 where produced);
    with a source density, the density-weight sums do (divided in place by the weight sums).
    The source window at ``win`` in ``src`` (:func:`_readable`)."""
    win = _k.source_window(src, win)
    nb, h, w = src.shape[0], win[2], win[3]
    src, valid_u8, dens = _checked_source(src, valid, density, h, w)
    out.fill(0.0)
    acc = out_density[0]  # the weight sums without density, else the density-weight sums
    acc.fill(0.0)
    weight = np.zeros((nrows, ncols)) if dens.size else acc
    dweight = acc if dens.size else np.zeros((0, 0))
    if h > 0 and w > 0:
        _sum_into(src, xoff, yoff, valid_u8, dens, transformer, col0, row0, ncols, nrows, out, weight, dweight,
                  chunks, win)
    produced = weight > 0.0
    if dens.size:
        # dweight / weight where produced, 0 elsewhere (the values of _sum_block's density)
        np.divide(dweight, weight, out=dweight, where=produced)
        dweight[~produced] = 0.0
    else:
        np.copyto(acc, produced)  # weight / weight == 1.0 exactly where produced
    for b in range(nb):
        band_produced[b] = produced
        if b > 0:
            out_density[b] = acc
