"""Pixel-to-pixel coordinate transformer of the warper (GDAL's GenImgProj + Approx).

:class:`WarpTransformer` maps **destination pixel coordinates** to **source pixel
coordinates** (and back), with GDAL's conventions: continuous pixel coordinates
whose integer values are pixel *corners* (the centre of pixel ``(i, j)`` is
``(i + 0.5, j + 0.5)``), always in the coordinates of the *full* rasters.

Exact transform (``GDALGenImgProjTransform``)::

    dst pixel --dst geotransform--> dst georef --PROJ (always_xy)--> src georef
              --inverse src geotransform (GDALInvGeoTransform)--> src pixel

The PROJ step is skipped when both CRSs are the same (GDAL also creates it for a
geographic source, where it is an identity apart from longitude wrapping).

Approximate transform (``GDALApproxTransform``, GDAL's default with an error of
0.125 source pixels): every scanline is transformed exactly at its start, middle
and end; if the middle point is within ``tolerance`` of the straight line between
start and end, every point is interpolated linearly between **start and end**,
otherwise the scanline is bisected recursively (segments of at most 5 points are
transformed exactly). :meth:`WarpTransformer.transform_rows` does this for many
rows at once (one PROJ call per recursion level) and gives exactly the result of
calling GDAL's algorithm on every row separately, so a row's coordinates never
depend on which other rows are computed with it.

The object is picklable (CRSs travel as WKT); pyproj ``Transformer`` objects are built
lazily and pooled across warps and threads, each used by one thread at a time (they are
not thread-safe).

Examples
--------
>>> import numpy as np
>>> from raster_core.transform import WarpTransformer
>>> t = WarpTransformer("EPSG:32631", (500000, 10, 0, 4500000, 0, -10),
...                     "EPSG:32631", (500000, 20, 0, 4500000, 0, -20))
>>> x, y, ok = t.transform_row(np.array([0.5, 1.5]), 0.5)
>>> x.tolist(), y.tolist(), ok.tolist()
([1.0, 3.0], [1.0, 1.0], [True, True])
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyproj
from pyproj.enums import TransformDirection

from raster_core.crs import CRSLike, TransformLike, crs_equal, gdal_geotransform, inv_geotransform, to_affine, to_crs
from raster_core.errors import InvalidParameterError
from raster_core.geo.transformers import AOI, crs_wkt, pyproj_transformer

if TYPE_CHECKING:
    from raster_core._kernels.args import RowPlanTables

__all__ = ["WarpTransformer", "RowPlan", "inv_geotransform", "apply_geotransform", "proj_transform"]

GT = tuple[float, float, float, float, float, float]


def apply_geotransform(gt: GT, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(gt0 + x*gt1 + y*gt2, gt3 + x*gt4 + y*gt5)`` (GDAL's evaluation order)."""
    return gt[0] + x * gt[1] + y * gt[2], gt[3] + x * gt[4] + y * gt[5]


#: PROJ calls of at least twice this many points are split over threads
_PARALLEL_PROJ_MIN = 4096


def proj_transform(src_wkt: str, dst_wkt: str, x: np.ndarray, y: np.ndarray, *,
                   aoi: AOI | None = None, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates with PROJ (always_xy); failed points are inf.

    The operation is the one :func:`raster_core.geo.transformers.pyproj_transformer` picks from
    ``src_wkt`` to ``dst_wkt`` within ``aoi``; ``inverse=True`` maps ``dst`` -> ``src`` with the
    inverse of that same operation (as GDAL's reprojection transformer does). Calls from several
    threads run concurrently (PROJ releases the GIL).
    """
    direction = TransformDirection.INVERSE if inverse else TransformDirection.FORWARD
    gx, gy = pyproj_transformer(src_wkt, dst_wkt, aoi).transform(x, y, errcheck=False, direction=direction)
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)


class WarpTransformer:
    """Destination pixel <-> source pixel transformer with GDAL's approximation.

    Parameters
    ----------
    src_crs, dst_crs
        Anything :func:`raster_core.crs.to_crs` accepts.
    src_transform, dst_transform
        ``affine.Affine`` or GDAL-order 6-tuples of the **full** rasters.
    tolerance
        Maximum error of the approximate transformer, in pixels of the output side
        of the transform (source pixels for dst->src). ``0`` = exact everywhere.
    area_of_interest
        ``(west, south, east, north)`` in degrees within which PROJ chooses the operation
        (:func:`raster_core.geo.transformers.area_of_interest` of the source raster, as GDAL
        computes it for a warp); None lets PROJ choose for the whole CRS extent.

    Examples
    --------
    >>> import numpy as np
    >>> t = WarpTransformer(4326, (0, 1, 0, 10, 0, -1), 4326, (0, 0.5, 0, 10, 0, -0.5))
    >>> t.transform_points(np.array([1.0]), np.array([1.0]))[0].tolist()
    [0.5]
    """

    def __init__(
        self,
        src_crs: CRSLike,
        src_transform: TransformLike,
        dst_crs: CRSLike,
        dst_transform: TransformLike,
        *,
        tolerance: float = 0.125,
        area_of_interest: AOI | None = None,
    ) -> None:
        src = to_crs(src_crs, name="src_crs")
        dst = to_crs(dst_crs, name="dst_crs")
        self.src_gt: GT = gdal_geotransform(to_affine(src_transform, name="src_transform"))
        self.dst_gt: GT = gdal_geotransform(to_affine(dst_transform, name="dst_transform"))
        self.src_inv_gt: GT = inv_geotransform(self.src_gt)
        self.dst_inv_gt: GT = inv_geotransform(self.dst_gt)
        try:
            tolerance = float(tolerance)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"tolerance must be a number, got {tolerance!r}") from None
        if not math.isfinite(tolerance) or tolerance < 0:
            raise InvalidParameterError(f"tolerance must be finite and >= 0, got {tolerance!r}")
        self.tolerance = tolerance
        self.same_crs = crs_equal(src, dst)
        # GDAL builds a reprojection step when the CRSs differ or the source is geographic.
        self.has_reprojection = (not self.same_crs) or bool(src.is_geographic)
        self.src_wkt = crs_wkt(src)
        self.dst_wkt = crs_wkt(dst)
        self.area_of_interest: AOI | None = None
        if area_of_interest is not None:
            w, s, e, n = (float(v) for v in area_of_interest)
            self.area_of_interest = (w, s, e, n)

    def for_source_transform(self, src_transform: TransformLike) -> WarpTransformer:
        """This transformer (same CRSs, operation and tolerance) for another source grid,
        without parsing the CRSs again.

        Examples
        --------
        >>> t = WarpTransformer(4326, (0, 1, 0, 10, 0, -1), 4326, (0, 0.5, 0, 10, 0, -0.5))
        >>> t.for_source_transform((1, 1, 0, 10, 0, -1)).transform_points(np.array([4.0]), np.array([1.0]))[0].tolist()
        [1.0]
        """
        out = copy.copy(self)
        out.src_gt = gdal_geotransform(to_affine(src_transform, name="src_transform"))
        out.src_inv_gt = inv_geotransform(out.src_gt)
        return out

    def __repr__(self) -> str:
        return (
            f"WarpTransformer(src_gt={self.src_gt}, dst_gt={self.dst_gt}, "
            f"same_crs={self.same_crs}, tolerance={self.tolerance})"
        )

    @property
    def src_crs(self) -> pyproj.CRS:
        return pyproj.CRS.from_wkt(self.src_wkt)

    @property
    def dst_crs(self) -> pyproj.CRS:
        return pyproj.CRS.from_wkt(self.dst_wkt)

    # ---------------------------------------------------------------- exact
    def transform_points(
        self, xs: np.ndarray, ys: np.ndarray, *, inverse: bool = False, num_threads: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact transform of points (arrays of the same shape).

        ``inverse=False``: destination pixel -> source pixel; ``inverse=True``:
        source pixel -> destination pixel. Returns ``(x, y, ok)``; failed points are
        ``inf`` with ``ok`` False. Large calls are split over ``num_threads`` threads
        (PROJ releases the GIL; points are independent, so results do not change).
        """
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        xs, ys = np.broadcast_arrays(xs, ys)
        gt_in, inv_out = (self.src_gt, self.dst_inv_gt) if inverse else (self.dst_gt, self.src_inv_gt)
        gx, gy = apply_geotransform(gt_in, xs, ys)
        if not self.same_crs and gx.size:
            a, b, aoi = self.src_wkt, self.dst_wkt, self.area_of_interest
            back = not inverse  # destination -> source: the inverse of the source -> destination operation
            gx = np.ascontiguousarray(gx)
            gy = np.ascontiguousarray(gy)
            if num_threads > 1 and gx.size >= 2 * _PARALLEL_PROJ_MIN:
                from raster_core._parallel import run_blocks

                shape = gx.shape
                fx = gx.ravel()
                fy = gy.ravel()
                step = -(-fx.size // num_threads)
                parts = run_blocks(lambda i, j: proj_transform(a, b, fx[i:j], fy[i:j], aoi=aoi, inverse=back),
                                   [(i, min(fx.size, i + step)) for i in range(0, fx.size, step)],
                                   num_threads=num_threads)
                gx = np.concatenate([q[0] for q in parts]).reshape(shape)
                gy = np.concatenate([q[1] for q in parts]).reshape(shape)
            else:
                gx, gy = proj_transform(a, b, gx, gy, aoi=aoi, inverse=back)
        ok = np.isfinite(gx) & np.isfinite(gy)
        px, py = apply_geotransform(inv_out, gx, gy)
        if not ok.all():
            px = np.where(ok, px, np.inf)
            py = np.where(ok, py, np.inf)
        return np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64), ok

    # ---------------------------------------------------------------- approx
    def row_plan(self, xs: np.ndarray, ys: np.ndarray, *, num_threads: int | None = 1) -> RowPlan | None:
        """Record the approximate dst->src transform of rows ``(xs, ys[k])`` compactly (one PROJ
        call per recursion level for ALL rows); ``None`` when the exact transform applies
        (tolerance 0, or at most 5 points per row). ``plan.fill(r0, r1, c0, c1)`` then gives
        exactly :meth:`transform_rows`' values for any sub-block, without PROJ or the GIL.
        Chunks of rows are recorded on ``num_threads`` threads (rows are independent, so the
        result does not depend on it)."""
        return _row_plan(self, xs, ys, num_threads=num_threads)

    def row_plan_applies(self, xs: np.ndarray) -> bool:
        """Whether :meth:`row_plan` records the approximate transformer for rows ``(xs, y)``
        (False: every point is transformed exactly, as GDAL does for short rows or tolerance 0)."""
        n = xs.size
        m = (n - 1) // 2
        return not (n == 0 or self.tolerance == 0.0 or n <= 5 or xs[0] == xs[n - 1] or xs[0] == xs[m])

    def transform_row(
        self, xs: np.ndarray, y: float, *, exact: bool = False, inverse: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Transform one scanline ``(xs, y)`` like ``GDALApproxTransform``.

        ``xs`` are continuous pixel x coordinates (increasing), ``y`` one pixel y
        coordinate. Returns full-raster ``(x, y, ok)`` 1-D arrays.
        """
        X, Y, OK = self.transform_rows(xs, np.array([y], dtype=np.float64), exact=exact, inverse=inverse)
        return X[0], Y[0], OK[0]

    def transform_rows(
        self, xs: np.ndarray, ys: np.ndarray, *, exact: bool = False, inverse: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Approximate transform of the rows ``(xs, ys[k])``: arrays ``(len(ys), len(xs))``.

        Each row gives exactly what ``GDALApproxTransform`` gives for that row alone.
        """
        xs = np.ascontiguousarray(xs, dtype=np.float64).ravel()
        ys = np.ascontiguousarray(ys, dtype=np.float64).ravel()
        n = xs.size
        nr = ys.size
        if n == 0 or nr == 0:
            z = np.zeros((nr, n))
            return z, z.copy(), np.zeros((nr, n), dtype=bool)
        plan = None if exact else _row_plan(self, xs, ys, inverse=inverse)
        if plan is None:
            gx = np.broadcast_to(xs, (nr, n))
            gy = np.broadcast_to(ys[:, None], (nr, n))
            return self.transform_points(gx, gy, inverse=inverse)
        return plan.fill(0, nr, 0, n)


class RowPlan:
    """Recorded result of the approximate transformer for many rows (compact: per row a few
    linear segments, the fixed S'/M'/E' points and the exactly transformed points), so that
    row blocks are filled later by a Numba kernel without PROJ or Python work.
    Built by :meth:`WarpTransformer.row_plan`; see :meth:`RowPlan.fill`.

    The plan is kept packed in :attr:`tables`, the one argument its kernels take
    (:class:`raster_core._kernels.args.RowPlanTables`: CSR tables by row of the fixed points,
    linear segments and exact points, field-major arrays). Within a row, entries keep the order
    in which they were recorded (recursion level by level). The constructor takes C-contiguous
    field-major tables sorted by row: fixed points ``(2, m)`` row, column and ``(2, m)`` x, y;
    linear segments ``(3, m)`` row, first column, number of points and ``(4, m)`` start x, start
    y, slope x, slope y; exact points ``(2, m)`` row, column, ``(2, m)`` x, y and ``(m,)`` ok.
    The plan is picklable (plain arrays in a named tuple).

    Examples
    --------
    >>> t = WarpTransformer("EPSG:32631", (500000, 10, 0, 4500000, 0, -10),
    ...                     "EPSG:4326", (3.0, 0.001, 0, 40.7, 0, -0.001))
    >>> plan = t.row_plan(np.arange(300) + 0.5, np.arange(4) + 0.5)
    >>> X, Y, OK = plan.fill(1, 3, 10, 20)
    >>> X.shape, bool(OK.all())
    ((2, 10), True)
    >>> ex, ey, _ = t.transform_points(np.array([10.5]), np.array([1.5]))
    >>> bool(abs(X[0, 0] - ex[0]) + abs(Y[0, 0] - ey[0]) <= t.tolerance)
    True
    """

    def __init__(self, xs: np.ndarray, nrows: int, fixed: np.ndarray, fixed_f: np.ndarray, passed: np.ndarray,
                 passed_f: np.ndarray, exact: np.ndarray, exact_xy: np.ndarray, exact_ok: np.ndarray) -> None:
        from raster_core._kernels.args import RowPlanTables  # (importing the kernel package configures its cache)

        ptr = np.empty((3, nrows + 1), dtype=np.int64)
        ptr[:, 0] = 0
        for i, row in enumerate((fixed[0], passed[0], exact[0])):
            np.cumsum(np.bincount(row, minlength=nrows), out=ptr[i, 1:])
        #: the plan's tables, as its kernels take them
        self.tables: RowPlanTables = RowPlanTables(xs, ptr, fixed[1], fixed_f, passed[1:], passed_f, exact[1],
                                                   exact_xy, exact_ok)

    @property
    def xs(self) -> np.ndarray:
        """The x of every column of the plan's rows."""
        return self.tables.xs

    @property
    def nrows(self) -> int:
        """Rows of the plan."""
        return self.tables.nrows

    def add_exact_retries(self, t: WarpTransformer, ys: np.ndarray, window: tuple[float, float, float, float],
                          c0: int, c1: int, *, num_threads: int | None = 1) -> int:
        """GDAL's exact re-transform of pixels whose approximate source position falls within
        one pixel outside ``window = (x0, y0, x1, y1)`` (§1.4), done once here (PROJ in the
        calling thread) and recorded as exact points. Only interpolated pixels are considered
        (the plan's fixed and exact points are exact transforms already). Returns how many
        were re-transformed."""
        from raster_core._kernels.approx import scan_retry_segments as scan_retry
        from raster_core._parallel import row_blocks, run_blocks

        ys = np.asarray(ys, dtype=np.float64)
        bounds = tuple(float(v) for v in window)
        tables = self.tables

        def scan(a: int, b: int) -> np.ndarray:
            out = np.empty((2, 2 * ((b - a) + (c1 - c0)) + 256), dtype=np.int64)
            bands = np.empty((2, 4), dtype=np.int64)
            k = scan_retry(tables, a, b, c0, c1, bounds, out, bands)
            if k > out.shape[1]:
                out = np.empty((2, k), dtype=np.int64)
                scan_retry(tables, a, b, c0, c1, bounds, out, bands)
            return out[:, :k].copy()  # a copy: releases the buffer

        block = max(16, 262144 // max(1, c1 - c0))
        parts = run_blocks(scan, row_blocks(self.nrows, block), num_threads=num_threads)
        found = np.concatenate(parts, axis=1) if parts else np.empty((2, 0), dtype=np.int64)
        rr, cc = found
        n = rr.size
        if n == 0:
            return 0
        ex, ey, eok = t.transform_points(tables.xs[cc], ys[rr])
        old_rows = np.repeat(np.arange(self.nrows), np.diff(tables.ptr[2]))
        row = np.concatenate([old_rows, rr])
        order = np.argsort(row, kind="stable")  # retries after the existing entries of a row
        ptr = tables.ptr.copy()
        ptr[2, 0] = 0
        np.cumsum(np.bincount(row, minlength=self.nrows), out=ptr[2, 1:])
        xy = np.concatenate([tables.e_xy, np.stack([np.asarray(ex, np.float64), np.asarray(ey, np.float64)])],
                            axis=1)
        self.tables = tables._replace(ptr=ptr, e_col=np.concatenate([tables.e_col, cc])[order],
                                      e_xy=np.ascontiguousarray(xy[:, order]),
                                      e_ok=np.concatenate([tables.e_ok, np.asarray(eok, bool)])[order])
        return int(n)

    def segments_of_row(self, r: int) -> RowPlan:
        """Row ``r``'s linear segments alone, as a plan of one row (its fixed and exact points
        left out).

        Examples
        --------
        >>> t = WarpTransformer(3857, (0, 10, 0, 0, 0, -10), 3857, (5, 20, 0, 0, 0, -20))
        >>> t.row_plan(np.arange(8) + 0.5, np.arange(6) + 0.5).segments_of_row(2).fill(0, 1, 0, 3)[0].tolist()
        [[1.5, 3.5, 5.5]]
        """
        tables = self.tables
        q = slice(int(tables.ptr[1, r]), int(tables.ptr[1, r + 1]))
        p_int = tables.p_int[:, q]
        passed = np.zeros((3, p_int.shape[1]), dtype=np.int64)
        passed[1:] = p_int
        no_int = np.empty((2, 0), dtype=np.int64)
        no_flt = np.empty((2, 0), dtype=np.float64)
        return RowPlan(tables.xs, 1, no_int, no_flt, passed, np.ascontiguousarray(tables.p_flt[:, q]), no_int, no_flt,
                       np.empty(0, dtype=bool))

    def fill(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, OK)`` of local rows [r0, r1) and columns [c0, c1)."""
        from raster_core._kernels.approx import fill_rows

        shape = (r1 - r0, c1 - c0)
        X = np.empty(shape)
        Y = np.empty(shape)
        OK = np.empty(shape, dtype=bool)
        fill_rows(self.tables, r0, r1, c0, c1, X, Y, OK)
        return X, Y, OK


def _row_plan(t: WarpTransformer, xs: np.ndarray, ys: np.ndarray, *, num_threads: int | None = 1,
              inverse: bool = False) -> RowPlan | None:
    """Record GDAL's approximate transform of rows (xs, ys[k]); None if it does not apply.
    ``inverse=True`` records the source -> destination direction.

    Rows are processed in chunks (bounded temporary memory); rows are independent, so the
    result does not depend on the chunking."""
    xs = np.ascontiguousarray(xs, dtype=np.float64).ravel()
    ys = np.ascontiguousarray(ys, dtype=np.float64).ravel()
    n = xs.size
    nr = ys.size
    if n == 0 or nr == 0:
        return None
    if not t.row_plan_applies(xs):
        return None
    if t.same_crs:  # an affine map (no PROJ call), geographic sources included
        plan = _affine_row_plan(t, xs, ys, inverse=inverse)
        if plan is not None:
            return plan
    from raster_core._parallel import resolve_num_threads, row_blocks

    # rows in large chunks (few Python round trips per recursion level: their overhead, not
    # PROJ, used to dominate); each level's PROJ call is split over the threads
    nthreads = resolve_num_threads(num_threads)
    chunk = max(16, 8_388_608 // n)
    parts = [_row_plan_parts(t, xs, ys[a:b], a, nthreads, inverse=inverse) for a, b in row_blocks(nr, chunk)]
    if len(parts) == 1:
        return RowPlan(xs, nr, *parts[0])
    return RowPlan(xs, nr, *(np.concatenate([p[i] for p in parts], axis=-1) for i in range(7)))


def _affine_row_plan(t: WarpTransformer, xs: np.ndarray, ys: np.ndarray, *, inverse: bool = False) -> RowPlan | None:
    """The row plan of a transformer without reprojection when every row's first segment
    passes (as it does for an affine map, up to rounding): one linear segment per row,
    from the same exact start, middle and end points and the same arithmetic as
    :func:`_level_test`, without its tables and recursion; None when a row fails (then the
    general recording decides)."""
    n = xs.size
    nr = ys.size
    m = (n - 1) // 2
    idx3 = np.array([0, m, n - 1])
    px, py, pok = t.transform_points(np.broadcast_to(xs[idx3], (nr, 3)), np.broadcast_to(ys[:, None], (nr, 3)),
                                     inverse=inverse)
    if not pok.all():
        return None
    sx, sy = px[:, 0], py[:, 0]
    span = xs[n - 1] - xs[0]
    dx = (px[:, 2] - sx) / span
    dy = (py[:, 2] - sy) / span
    dm = xs[m] - xs[0]
    err = np.abs((sx + dx * dm) - px[:, 1]) + np.abs((sy + dy * dm) - py[:, 1])
    if not (err <= t.tolerance).all():
        return None
    passed = np.empty((3, nr), dtype=np.int64)
    passed[0] = np.arange(nr)
    passed[1] = 0
    passed[2] = n
    no_int = np.empty((2, 0), dtype=np.int64)
    no_flt = np.empty((2, 0), dtype=np.float64)
    return RowPlan(xs, nr, no_int, no_flt, passed, np.stack([sx, sy, dx, dy]), no_int, no_flt,
                   np.empty(0, dtype=bool))


def _seed_segments(t: WarpTransformer, xs: np.ndarray, ys: np.ndarray, *, inverse: bool = False,
                   num_threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top level of ``GDALApproxTransform`` for every row ``(xs, ys[k])``: the exactly
    transformed start/middle/end points S', M', E' of each row's one initial segment.

    Returns ``(failed_rows, seg, pts)``: rows whose S'/M'/E' failed, for an exact transform of
    every point (GDAL's fallback); the others become one segment each (``seg`` = row and the
    columns of S', M', E'; ``pts`` = S'x, S'y, M'x, M'y, E'x, E'y), to be bisected level by
    level (:func:`_level_test`, :func:`_bisect`).
    """
    n = xs.size
    nr = ys.size
    m = (n - 1) // 2
    cols = np.array([0, m, n - 1])
    px, py, pok = t.transform_points(np.broadcast_to(xs[cols], (nr, 3)), np.broadcast_to(ys[:, None], (nr, 3)),
                                     inverse=inverse, num_threads=num_threads)
    good = pok.all(axis=1)
    rows = np.flatnonzero(good)
    seg = np.empty((4, rows.size), dtype=np.int64)
    seg[0] = rows
    seg[1:4] = cols[:, None]
    pts = np.take(np.stack([px, py], axis=2).reshape(nr, 6).T, rows, axis=1)
    return np.flatnonzero(~good), seg, pts


def _level_test(xs: np.ndarray, seg: np.ndarray, pts: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """GDAL's test of many segments at once: whether the middle of each is within ``tol`` of
    the straight line from its start to its end; returns ``(passes, slope)`` (slope x, slope y
    per unit of ``xs``, the line of a segment that passes).

    ``seg`` int64 (4, n) = row and the columns S, M, E of the start, middle and end of each
    segment (M = S + (E - S) // 2); ``pts`` float64 (6, n) = their exact transforms S'x,
    S'y, M'x, M'y, E'x, E'y.

    Examples
    --------
    >>> xs = np.arange(12) + 0.5
    >>> seg = np.array([[0, 1], [0, 0], [5, 5], [11, 11]])
    >>> pts = np.array([[0.5, 0.5], [0.0, 0.0], [5.5, 6.0], [0.0, 0.0], [11.5, 11.5], [0.0, 0.0]])
    >>> passes, slope = _level_test(xs, seg, pts, 0.125)
    >>> passes.tolist(), slope[0].tolist()
    ([True, False], [1.0, 1.0])
    """
    at = xs[seg[1:4]]
    span = at[2] - at[0]
    dm = at[1] - at[0]
    slope = (pts[4:6] - pts[0:2]) / span
    dev = np.abs((pts[0:2] + slope * dm) - pts[2:4])
    return dev[0] + dev[1] <= tol, slope


def _bisect(t: WarpTransformer, xs: np.ndarray, ys: np.ndarray, seg: np.ndarray, pts: np.ndarray, *,
            inverse: bool = False, num_threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The next level of GDAL's recursion from the segments that failed :func:`_level_test`
    (``seg``, ``pts`` as there): each is split into halves ``[S, M)`` and ``[M, E]``. A half of
    more than 5 points becomes a segment of the next level (one PROJ call for the middles of all
    of them and the ends of the first halves); the points of a shorter half that are not exact
    yet are transformed exactly, and so are those of a half whose new exact points failed.

    Returns ``(seg, pts, ranges)``: the next level's segments, listed as GDAL's recursion
    visits them within a row (first half before second half), and the exact ranges (int64
    (3, m) = row, first column, number of points), those of the short halves first.

    Examples
    --------
    >>> t = WarpTransformer(4326, (0, 1, 0, 10, 0, -1), 4326, (0, 1, 0, 10, 0, -1))
    >>> seg = np.array([[0], [0], [6], [12]])
    >>> pts = np.array([[0.5], [0.5], [6.5], [0.5], [12.5], [0.5]])
    >>> nxt, nxt_pts, ranges = _bisect(t, np.arange(13) + 0.5, np.array([0.5]), seg, pts)
    >>> nxt.tolist(), ranges.tolist()
    ([[0, 0], [0, 6], [2, 9], [5, 12]], [[], [], []])
    >>> nxt_pts[:, 0].tolist()
    [0.5, 0.5, 2.5, 0.5, 5.5, 0.5]
    """
    n = seg.shape[1]
    half = np.empty((4, n, 2), dtype=np.int64)  # row, S, M, E of each segment's (first, second) half
    half[0] = seg[0, :, None]
    half[1] = seg[1:3].T
    half[3, :, 0] = seg[2] - 1
    half[3, :, 1] = seg[3]
    span = half[3] - half[1]
    half[2] = half[1] + span // 2
    half_pts = np.empty((6, n, 2))
    half_pts[0:2] = pts[0:4].reshape(2, 2, n).transpose(1, 2, 0)  # S' of the halves: S', M'
    half_pts[4:6, :, 1] = pts[4:6]
    live = span >= 5
    every = bool(live.all())
    first = live[:, 0]
    if every:
        ask = np.concatenate([half[2].ravel(), half[3, :, 0]])
        rows = np.concatenate([half[0].ravel(), seg[0]])
    else:
        ask = np.concatenate([half[2][live], half[3, first, 0]])
        rows = np.concatenate([half[0][live], seg[0, first]])
    qx, qy, qok = t.transform_points(xs[ask], ys[rows], inverse=inverse, num_threads=num_threads)
    k = 2 * n if every else int(np.count_nonzero(live))
    if every:
        half_pts[2] = qx[:k].reshape(n, 2)
        half_pts[3] = qy[:k].reshape(n, 2)
        half_pts[4:6, :, 0] = qx[k:], qy[k:]
        ok = qok[:k].reshape(n, 2)
        ok[:, 0] &= qok[k:]
    else:
        ok = np.zeros((n, 2), dtype=bool)
        ok[live] = qok[:k]
        ok[first, 0] &= qok[k:]
        half_pts[2][live] = qx[:k]
        half_pts[3][live] = qy[:k]
        half_pts[4, first, 0] = qx[k:]
        half_pts[5, first, 0] = qy[k:]
    halves = half.reshape(4, 2 * n)
    halves_pts = half_pts.reshape(6, 2 * n)
    if every and ok.all():
        return halves, halves_pts, _NO_RANGES
    # points not exact yet: after S' (first half), between M' and E' (second half)
    inner = (span - np.array([0, 1])).ravel()
    ranges = [np.stack([halves[0][which], halves[1][which] + 1, inner[which]])
              for which in ((~live & (span > np.array([0, 1]))).ravel(), (live & ~ok).ravel()) if which.any()]
    kept = ok.ravel()
    return (np.compress(kept, halves, axis=1), np.compress(kept, halves_pts, axis=1),
            np.concatenate(ranges, axis=1) if ranges else _NO_RANGES)


_NO_RANGES = np.empty((3, 0), dtype=np.int64)


def _range_points(rng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every point of the exact ranges (row, start, length), in order.

    Examples
    --------
    >>> [a.tolist() for a in _range_points(np.array([[0, 2], [3, 1], [2, 1]]))]
    [[0, 0, 2], [3, 4, 1]]
    """
    row, start, length = rng
    first = np.cumsum(length) - length  # index of each range's first point
    rows = np.repeat(row, length)
    cols = np.repeat(start - first, length) + np.arange(rows.size, dtype=np.int64)
    return rows, cols


def _row_plan_parts(t: WarpTransformer, xs: np.ndarray, ys: np.ndarray, row0: int, nthreads: int = 1, *,
                    inverse: bool = False) -> tuple:
    """The arguments of :class:`RowPlan` (after ``xs, nrows``) for rows ys (row numbers offset
    by row0), sorted by row; PROJ calls on ``nthreads`` threads.

    Every level lists its entries by row, so sorting the levels' concatenation stably by row
    gives each row its entries level by level."""
    failed_rows, seg, pts = _seed_segments(t, xs, ys, inverse=inverse, num_threads=nthreads)
    passed: list[tuple[np.ndarray, ...]] = []
    bisected: list[tuple[np.ndarray, ...]] = []
    # exact ranges (row, first column, number of points): rows whose S'/M'/E' failed (every
    # point), then level by level
    ranges = [(np.stack([failed_rows, np.zeros_like(failed_rows), np.full_like(failed_rows, xs.size)]),)]
    while seg.shape[1]:
        ok, slope = _level_test(xs, seg, pts, t.tolerance)
        if ok.all():
            passed.append((seg, np.concatenate([pts[0:2], slope])))
            break
        if ok.any():
            line = np.concatenate([pts[0:2], slope])
            passed.append((np.compress(ok, seg, axis=1), np.compress(ok, line, axis=1)))
            seg = np.compress(~ok, seg, axis=1)
            pts = np.compress(~ok, pts, axis=1)
        bisected.append((seg, pts))
        seg, pts, rng = _bisect(t, xs, ys, seg, pts, inverse=inverse, num_threads=nthreads)
        ranges.append((rng,))
    seg, line = _sorted_by_row(passed, (np.empty((4, 0), dtype=np.int64), np.empty((4, 0))))
    # a linear segment: row, first column, number of points
    p_int = np.stack([seg[0] + row0, seg[1], seg[3] - seg[1] + 1])
    seg, pts = _sorted_by_row(bisected, (np.empty((4, 0), dtype=np.int64), np.empty((6, 0))))
    nb = seg.shape[1]
    fixed = np.stack([np.repeat(seg[0] + row0, 3), seg[1:4].T.ravel()])  # S', M', E' of each
    fixed_f = pts.reshape(3, 2, nb).transpose(1, 2, 0).reshape(2, 3 * nb)
    (rng,) = _sorted_by_row(ranges, ())
    er, ec = _range_points(rng)
    if er.size:
        ex, ey, eok = t.transform_points(xs[ec], ys[er], inverse=inverse, num_threads=nthreads)
    else:
        ex, ey, eok = np.empty(0), np.empty(0), np.empty(0, dtype=bool)
    return fixed, fixed_f, p_int, line, np.stack([er + row0, ec]), np.stack([ex, ey]), eok


def _sorted_by_row(levels: Sequence[tuple[np.ndarray, ...]], empty: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The field-major tables of every level (``levels[k]``: tables of the same entries, row
    numbers in ``levels[k][0][0]``, increasing) concatenated and sorted stably by row
    (``empty`` when there are none).

    Examples
    --------
    >>> rows, values = _sorted_by_row([(np.array([[0, 2]]), np.array([[0.5, 2.5]])),
    ...                                (np.array([[1, 2]]), np.array([[1.5, 2.25]]))], ())
    >>> rows.tolist(), values.tolist()
    ([[0, 1, 2, 2]], [[0.5, 1.5, 2.5, 2.25]])
    """
    if not levels:
        return empty
    if len(levels) == 1:
        return levels[0]
    tables = tuple(np.concatenate(t, axis=1) for t in zip(*levels, strict=True))
    row = tables[0][0]
    if bool((row[1:] >= row[:-1]).all()):
        return tables
    order = np.argsort(row, kind="stable")
    return tuple(np.take(t, order, axis=1) for t in tables)
