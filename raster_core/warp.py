"""Reprojection of arrays with GDAL 3.10's warper semantics (``reproject``).

Pipeline (pure planning, then execution in row blocks)::

    plan_warp(...)            -> WarpPlan (picklable): transformer, source window (GDAL
                                 ComputeSourceWindow on the WHOLE destination), kernel
                                 scale/radius (computed once, as GDAL does for one chunk),
                                 forced-nearest shortcut
    execute_plan(plan, ...)   -> destination rows [r0, r1) x cols [c0, c1) of the global grid,
                                 processed in row blocks on a thread pool; every block maps
                                 its pixel centres through the approximate transformer
                                 anchored on WHOLE rows of the global destination grid, so
                                 any window equals the same slice of the full warp, for
                                 any number of threads.
    reproject(...)            -> rasterio-like front end.

Semantics follow ``docs/gdal-warp-semantics.md`` in the repository (§ numbers below):
approximate transformer with exact retry near the window edges (§1.3, §1.4); source
window and kernel scale of ONE GDAL chunk covering the whole destination (§1.5, §1.7:
rasterio with a large ``warp_mem_limit`` and ``SRC_FILL_RATIO_HEURISTICS=NO`` gives the
same numbers bit for bit in the parity tests); translation-on-pixel-boundaries forces
nearest; centre-pixel rule; GDAL's fast/general kernel paths where they differ
(collision rule, bilinear fallback of the fast path); rounding, clamping, density
blending, dst-nodata collision (§5); ``UNIFIED_SRC_NODATA=YES`` (§3). Known GDAL 3.10
defects that raster_core does NOT reproduce are listed in :data:`GDAL_DEVIATIONS`.

For readers (Raster API): :func:`source_window` gives the source pixels to read (kernel
margin included); :func:`plan_warp` + :func:`execute_plan` warp any window
``(row0, row1, col0, col1)`` of a destination grid with results identical to the same
slice of the full warp (and return the produced-pixel mask).

Block-kernel contract for the reduce family (``raster_core._warp_reduce``)
-------------------------------------------------------------------------
For ``average, rms, mode, max, min, med, q1, q3, sum`` the framework calls, once
per destination row block and possibly from several threads at once::

    raster_core._warp_reduce.warp_reduce_block(
        method,          # str: one of the names above
        src,             # ndarray (bands, rows, cols), native dtype, C-contiguous, read-only
                         #   for you: the SOURCE WINDOW (plan.window), or an array holding it
                         #   at ``window`` (below)
        valid,           # ndarray (h, w) uint8 (1 = valid) or None: unified source
                         #   validity (nodata OR-merged over bands as with GDAL's
                         #   UNIFIED_SRC_NODATA=YES, src_mask, cutline, masked arrays)
        density,         # ndarray (h, w) float32 in [0, 1] or None (src_alpha)
        src_offset,      # (xoff, yoff): window origin in the FULL source raster
        src_full_shape,  # (rows, cols) of the full source raster
        transformer,     # raster_core.transform.WarpTransformer of the full rasters:
                         #   transform_rows(xs, ys) / transform_rows(..., inverse=True)
        dst_shape,       # (rows, cols) of the GLOBAL destination grid: anchor your
                         #   approximate-transformer rows on the whole global row, i.e.
                         #   xs = np.arange(dst_cols) (+1 for bottom-right corners), then
                         #   slice [c0:c1], so results do not depend on blocking
        dst_rows,        # (r0, r1): global destination rows of this block
        dst_cols,        # (c0, c1): global destination columns of this block
        xscale, yscale,  # kernel scales of the warp (§1.7), computed once per warp
        out,             # ndarray (bands, r1-r0, c1-c0) float64: write values here
        out_density,     # ndarray (bands, r1-r0, c1-c0) float64, pre-filled with 1.0:
                         #   band density (< 1 only for sum / alpha blending)
        band_produced,   # ndarray (bands, r1-r0, c1-c0) uint8, zeros: set 1 where band b
                         #   got a value (e.g. leave 0 for GDAL's Int16 mode == -1 drop)
        src_dtype,       # numpy dtype of the source (== src.dtype)
        reference=False, # the per-pixel reference kernels (tests)
        chunks=...,      # ReduceChunks: how the work is cut (never changes the values)
        window=None,     # (row0, col0, h, w): where the window lies in ``src`` (None: all of it)
    ) -> None

It must be nogil-friendly (Numba kernels with nogil=True, cache=True), must not
modify ``src``/``valid``/``density``, and must not depend on block boundaries.
The framework then, per band and pixel where ``band_produced`` is 1 (§5):
density blending when ``out_density < 0.9999`` (nothing written below 1e-4), rounding
to the working type (integers: ``floor(v + 0.5)`` after clamping to the type range;
float32: cast), the dst-nodata collision decrement for integer working types (the
reduce family always uses GDAL's "general" kernels, so it applies whenever a dst
nodata exists), and conversion to the destination dtype (``GDALCopyWords``: round half
away from zero, clamp, NaN -> 0). Pixels with no band produced keep their initial value
(dst nodata, 0, or the existing destination with ``init_dest_nodata=False``). The
produced mask (any band) is the destination validity returned by :func:`execute_plan`.
If the module is missing, those methods raise :class:`UnsupportedFeatureError`.

Examples
--------
>>> import numpy as np
>>> from raster_core.warp import reproject
>>> src = np.arange(16, dtype="uint8").reshape(4, 4)
>>> out, tf = reproject(src, src_transform=(0, 1, 0, 4, 0, -1), src_crs="EPSG:3857",
...                     dst_transform=(0, 2, 0, 4, 0, -2), dst_crs="EPSG:3857", dst_shape=(2, 2))
>>> out.tolist()
[[5, 7], [13, 15]]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine

from raster_core._parallel import resolve_num_threads, row_blocks, run_blocks
from raster_core.crs import CRSLike, TransformLike, crs_equal, gdal_geotransform, to_affine, to_crs
from raster_core.errors import (
    DataTypeError,
    InvalidParameterError,
    ShapeError,
    UnsupportedFeatureError,
)
from raster_core.geo.transformers import AOI, area_of_interest
from raster_core.resampling import INTERPOLATING, KERNEL_RADIUS, METHOD_CODES, REDUCING, ResamplingLike, resampling_name
from raster_core.transform import WarpTransformer

__all__ = [
    "reproject",
    "plan_warp",
    "execute_plan",
    "source_window",
    "WarpPlan",
    "SourceWindow",
    "GDAL_DEVIATIONS",
]

#: Known GDAL 3.10 defects where raster_core does the correct thing instead (and the
#: parity tests exclude exactly these cases; see tests/test_warp_parity.py).
GDAL_DEVIATIONS: dict[str, str] = {
    "lanczos_downsample_coincident_centres": (
        "GDAL 3.10 lanczos with kernel scale < 1: a tap whose argument is exactly 0 gets weight 1 instead of "
        "pi^4 (all other weights are pi^4 too large) and nearly-0 arguments go through a 0/0 recurrence; this "
        "happens when a destination centre falls on a source centre (e.g. odd integer decimation). raster_core "
        "uses the true Lanczos-3 weights."
    ),
    "uint16_nearest_fractional_alpha": (
        "GDAL 3.10 blends UInt16 nearest values with fractional source alpha in signed Int16 arithmetic "
        "(40000 at 50% over 0 -> 52768); raster_core blends in unsigned arithmetic (-> 20000)."
    ),
    "mode_float32_keys": (
        "GDAL 3.10 mode casts Int32/UInt32/(U)Int64/Float64 values to float32 (302011022 -> 302011008); "
        "handled by raster_core._warp_reduce."
    ),
    "dst_nodata_zero_ignored": (
        "rasterio uses `dst_nodata or src_nodata`, so dst_nodata=0 is replaced by src_nodata; raster_core "
        "honours an explicit dst_nodata=0 (None still defaults to src_nodata)."
    ),
    "antimeridian_and_grid_heuristics": (
        "GDAL's YSCALE/XSCALE>100 grid-sampled scale, CENTER_LONG longitude wrapping of geographic sources and the "
        "orthographic-rim edge hack (GWKAdjustSrcOffsetOnEdge) are not reproduced."
    ),
}


# --------------------------------------------------------------------------- planning
@dataclass(frozen=True)
class SourceWindow:
    """Source window of a warp (GDAL ``ComputeSourceWindow``, §1.5), full-raster pixels.

    ``col_off, row_off, width, height`` delimit the pixels to read (kernel margin
    included); ``extra_x/extra_y`` are GDAL's ``dfSrcXExtraSize`` used for the kernel
    scale; ``failed_samples`` says whether some edge samples failed to transform.
    """

    col_off: int
    row_off: int
    width: int
    height: int
    extra_x: float = 0.0
    extra_y: float = 0.0
    failed_samples: bool = False

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(rows, cols)`` slices into the full source array."""
        return (slice(self.row_off, self.row_off + self.height), slice(self.col_off, self.col_off + self.width))

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0


@dataclass(frozen=True)
class WarpPlan:
    """Everything decided before touching pixels (picklable; pure function of the grids)."""

    transformer: WarpTransformer
    src_shape: tuple[int, int]
    dst_shape: tuple[int, int]
    resampling: str  # effective method (nearest when the translation shortcut applies)
    requested_resampling: str
    window: SourceWindow | None  # None: no source pixel can contribute
    xscale: float
    yscale: float
    xradius: int
    yradius: int
    kernel_scaling: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def src_transform(self) -> Affine:
        return Affine.from_gdal(*self.transformer.src_gt)

    @property
    def dst_transform(self) -> Affine:
        return Affine.from_gdal(*self.transformer.dst_gt)


def _is_translation_on_pixel_boundaries(t: WarpTransformer) -> bool:
    """GDALTransformIsTranslationOnPixelBoundaries for the GenImgProj transformer."""
    if t.has_reprojection:
        return False
    s, d, si = t.src_gt, t.dst_gt, t.src_inv_gt
    if not (s[1] == d[1] and s[2] == d[2] and s[4] == d[4] and s[5] == d[5]):
        return False
    x = si[0] + d[0] * si[1] + d[3] * si[2]
    y = si[3] + d[0] * si[4] + d[3] * si[5]

    def close(v: float) -> bool:
        return abs(v - round(v)) <= 1e-6

    return close(x) and close(y)


def _round_if_close(v: float) -> float:
    r = round(v)
    return float(r) if abs(v - r) < 1e-6 else v


def compute_source_window(
    transformer: WarpTransformer,
    src_shape: tuple[int, int],
    dst_window: tuple[int, int, int, int],
    radius: int,
) -> SourceWindow | None:
    """GDAL ``GDALWarpOperation::ComputeSourceWindow`` (§1.5) for a destination window.

    ``dst_window`` is ``(col_off, row_off, width, height)`` in the destination grid;
    ``radius`` the kernel radius (0 for near and the reduce family). Returns ``None``
    when no source pixel can contribute.
    """
    src_rows, src_cols = int(src_shape[0]), int(src_shape[1])
    dx0, dy0, dw, dh = (int(v) for v in dst_window)
    if dw <= 0 or dh <= 0:
        return None

    def edge_points(step_count: int, all_pixels: bool) -> tuple[np.ndarray, np.ndarray]:
        xs: list[float] = []
        ys: list[float] = []
        if all_pixels:
            for i in range(dw + 1):
                xs += [dx0 + i, dx0 + i]
                ys += [dy0, dy0 + dh]
            for j in range(dh + 1):
                xs += [dx0, dx0 + dw]
                ys += [dy0 + j, dy0 + j]
        else:
            step = 1.0 / (step_count - 1)
            r = 0.0
            while r <= 1.0 + step / 2:
                xs += [r * dw + dx0, r * dw + dx0, dx0, dx0 + dw]
                ys += [dy0, dy0 + dh, r * dh + dy0, r * dh + dy0]
                r += step
        return np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)

    def grid_points(step_count: int) -> tuple[np.ndarray, np.ndarray]:
        ratios = [0.0] + [(i - 0.5) / step_count for i in range(1, step_count + 1)] + [1.0]
        rr = np.array(ratios)
        gx, gy = np.meshgrid(rr * dw + dx0, rr * dh + dy0)
        return gx.ravel(), gy.ravel()

    steps = 21
    corners_x = np.array([dx0, dx0 + dw, dx0, dx0 + dw], dtype=np.float64)
    corners_y = np.array([dy0, dy0, dy0 + dh, dy0 + dh], dtype=np.float64)
    _, _, cok = transformer.transform_points(corners_x, corners_y)
    use_grid = _pole_in_destination(transformer, dst_window)
    if use_grid:
        px, py = grid_points(steps)
    else:
        px, py = edge_points(steps, not bool(cok.all()))
    sx, sy, ok = transformer.transform_points(px, py)
    if not use_grid and not ok.all():
        use_grid = True
        px, py = grid_points(steps)
        sx, sy, ok = transformer.transform_points(px, py)
    n_samples = ok.size
    n_failed = int((~ok).sum())
    good_x = sx[ok]
    good_y = sy[ok]
    if use_grid:
        # ComputeSourceWindowStartingFromSource: source grid points landing in the destination
        gxs, gys = np.meshgrid(
            np.linspace(0.0, float(src_cols), steps + 1), np.linspace(0.0, float(src_rows), steps + 1)
        )
        fx, fy, fok = transformer.transform_points(gxs.ravel(), gys.ravel(), inverse=True)
        inside = fok & (fx >= dx0) & (fx <= dx0 + dw) & (fy >= dy0) & (fy <= dy0 + dh)
        if inside.any():
            good_x = np.concatenate([good_x, gxs.ravel()[inside]])
            good_y = np.concatenate([good_y, gys.ravel()[inside]])
            n_failed = min(n_failed, n_samples - 5 - 1) if n_failed > n_samples - 5 else n_failed
    if n_failed > n_samples - 5 or good_x.size == 0:
        return None
    min_x = _round_if_close(float(good_x.min()))
    max_x = _round_if_close(float(good_x.max()))
    min_y = _round_if_close(float(good_y.min()))
    max_y = _round_if_close(float(good_y.max()))
    if min_x > src_cols or max_x < 0 or min_y > src_rows or max_y < 0:
        return None
    # kernel margin
    sxr = max(1e-3, dw / max(max_x - min_x, 1e-300))
    syr = max(1e-3, dh / max(max_y - min_y, 1e-300))
    xrad = int(math.ceil(radius / sxr)) if sxr < 0.95 else radius
    yrad = int(math.ceil(radius / syr)) if syr < 0.95 else radius
    if n_failed:
        xrad += 10
        yrad += 10

    def clamp_axis(vmin: float, vmax: float, size: int, rad: int) -> tuple[int, int, float]:
        min_c = int(max(0.0, vmin))
        max_c = int(min(math.ceil(vmax), size))
        raw = max(0.0, min(size - min_c, vmax - vmin))
        if max_c - min_c > 0.9 * size:
            off, sz = 0, size
        else:
            off = max(0, min(min_c - rad, size))
            sz = max(0, min(size - off, max_c - off + rad))
        return off, sz, sz - raw

    xoff, xsize, extra_x = clamp_axis(min_x, max_x, src_cols, xrad)
    yoff, ysize, extra_y = clamp_axis(min_y, max_y, src_rows, yrad)
    if xsize <= 0 or ysize <= 0:
        return None
    return SourceWindow(xoff, yoff, xsize, ysize, float(extra_x), float(extra_y), bool(n_failed))


def _pole_in_destination(t: WarpTransformer, dst_window: tuple[int, int, int, int]) -> bool:
    """True if a geographic pole (lat +-89.9999) projects inside the destination window."""
    if t.same_crs:
        return False
    try:
        gx, gy = _pole_points(t.dst_wkt)
    except Exception:  # pragma: no cover - exotic CRS
        return False
    inv = t.dst_inv_gt
    dx0, dy0, dw, dh = dst_window
    for x, y in zip(np.asarray(gx), np.asarray(gy), strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        px = inv[0] + x * inv[1] + y * inv[2]
        py = inv[3] + x * inv[4] + y * inv[5]
        if dx0 <= px <= dx0 + dw and dy0 <= py <= dy0 + dh:
            return True
    return False


def _source_area_of_interest(src_crs: CRSLike, src_transform: TransformLike, src_shape: tuple[int, int],
                             dst_crs: CRSLike) -> AOI | None:
    """The area of interest GDAL gives PROJ for a warp: the source raster's corners in degrees."""
    src = to_crs(src_crs, name="src_crs")
    if crs_equal(src, to_crs(dst_crs, name="dst_crs")):
        return None
    gt = gdal_geotransform(to_affine(src_transform, name="src_transform"))
    return area_of_interest(src, gt, src_shape[1], src_shape[0])


@functools.lru_cache(maxsize=64)
def _pole_points(dst_wkt: str) -> tuple[np.ndarray, np.ndarray]:
    """The geographic poles (lat +-89.9999) projected into a CRS (cached per CRS)."""
    import pyproj

    from raster_core.transform import proj_transform

    dst = pyproj.CRS.from_wkt(dst_wkt)
    geog = dst.geodetic_crs if dst.geodetic_crs is not None else pyproj.CRS.from_epsg(4326)
    return proj_transform(geog.to_wkt(), dst_wkt, np.array([0.0, 0.0]), np.array([89.9999, -89.9999]))


def _kernel_scale(dst_size: int, win_size: int, extra: float) -> float:
    raw = win_size - extra
    scale = dst_size / raw if raw > 0 else 1.0
    if win_size >= dst_size and win_size <= dst_size + extra:
        scale = 1.0
    if scale < 1.0:
        inv = 1.0 / scale
        n = int(inv + 0.5)
        if abs(inv - n) < 0.05:
            scale = 1.0 / n
    return scale


def plan_warp(
    src_crs: CRSLike,
    src_transform: TransformLike,
    src_shape: tuple[int, int],
    dst_crs: CRSLike,
    dst_transform: TransformLike,
    dst_shape: tuple[int, int],
    *,
    resampling: ResamplingLike = "near",
    tolerance: float = 0.125,
    kernel_scaling: bool = True,
) -> WarpPlan:
    """Plan a warp: source window, kernel scale and radius, forced-nearest shortcut.

    Pure and picklable: depends only on the grids and options (not on pixel values).

    Examples
    --------
    >>> p = plan_warp(3857, (0, 10, 0, 1000, 0, -10), (100, 100),
    ...               3857, (0, 30, 0, 1000, 0, -30), (33, 33), resampling="cubic")
    >>> p.xscale, p.xradius, (p.window.width, p.window.height)
    (0.3333333333333333, 6, (100, 100))
    """
    method = resampling_name(resampling)
    src_shape = _check_shape2(src_shape, "src_shape")
    dst_shape = _check_shape2(dst_shape, "dst_shape")
    t = WarpTransformer(src_crs, src_transform, dst_crs, dst_transform, tolerance=tolerance,
                        area_of_interest=_source_area_of_interest(src_crs, src_transform, src_shape, dst_crs))
    notes: list[str] = []
    effective = method
    if method in INTERPOLATING and method != "near" and _is_translation_on_pixel_boundaries(t):
        effective = "near"
        notes.append("translation on pixel boundaries: resampling forced to nearest (GDAL)")
    elif method in REDUCING and _is_translation_on_pixel_boundaries(t):
        effective = "near"
        notes.append("translation on pixel boundaries: resampling forced to nearest (GDAL)")
    radius = KERNEL_RADIUS.get(effective, 0)
    window = compute_source_window(t, src_shape, (0, 0, dst_shape[1], dst_shape[0]), radius)
    if window is None:
        xscale = yscale = 1.0
    else:
        xscale = _kernel_scale(dst_shape[1], window.width, window.extra_x)
        yscale = _kernel_scale(dst_shape[0], window.height, window.extra_y)
    if not kernel_scaling:
        xscale = yscale = 1.0
    xradius = int(math.ceil(radius / xscale)) if xscale < 1.0 else radius
    yradius = int(math.ceil(radius / yscale)) if yscale < 1.0 else radius
    return WarpPlan(
        transformer=t,
        src_shape=src_shape,
        dst_shape=dst_shape,
        resampling=effective,
        requested_resampling=method,
        window=window,
        xscale=float(xscale),
        yscale=float(yscale),
        xradius=xradius,
        yradius=yradius,
        kernel_scaling=bool(kernel_scaling),
        notes=tuple(notes),
    )


def source_window(
    src_crs: CRSLike,
    src_transform: TransformLike,
    src_shape: tuple[int, int],
    dst_crs: CRSLike,
    dst_transform: TransformLike,
    dst_shape: tuple[int, int],
    *,
    resampling: ResamplingLike = "near",
) -> SourceWindow | None:
    """Source pixels needed to warp onto a destination grid (kernel margin included).

    For readers: read only ``window.slices`` of the source and call :func:`reproject`
    with the window's transform (``src_transform @ Affine.translation(col_off, row_off)``);
    the result is the same as warping the whole source. ``None`` = nothing to read.

    Examples
    --------
    >>> w = source_window(3857, (0, 10, 0, 1000, 0, -10), (100, 100),
    ...                   3857, (205, 10, 0, 795, 0, -10), (10, 10), resampling="bilinear")
    >>> (w.col_off, w.row_off, w.width, w.height)
    (19, 19, 13, 13)
    """
    return plan_warp(
        src_crs, src_transform, src_shape, dst_crs, dst_transform, dst_shape, resampling=resampling
    ).window


# --------------------------------------------------------------------------- validation
def _check_shape2(shape: Any, name: str) -> tuple[int, int]:
    try:
        vals = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        raise ShapeError(f"{name} must be (rows, cols), got {shape!r}") from None
    if len(vals) != 2 or vals[0] <= 0 or vals[1] <= 0:
        raise ShapeError(f"{name} must be two positive integers (rows, cols), got {shape!r}")
    return vals[0], vals[1]


_SUPPORTED_KINDS = "biuf"


def _check_dtype(dt: np.dtype, name: str) -> None:
    if dt.kind not in _SUPPORTED_KINDS or dt.kind == "b" or dt.itemsize > 8 or dt == np.float16:
        raise DataTypeError(
            f"{name} dtype {dt} is not supported (use (u)int8/16/32/64, float32 or float64 arrays)"
        )


def _as_3d(a: np.ndarray) -> np.ndarray:
    return a[np.newaxis] if a.ndim == 2 else a


def _working_dtype(src_dt: np.dtype, dst_dt: np.dtype, dst_nodata: float | None) -> np.dtype:
    """GDALWarpResolveWorkingDataType: union of source, destination and dst nodata types."""
    wt = np.promote_types(src_dt, dst_dt)
    if dst_nodata is not None:
        wt = _union_with_value(wt, dst_nodata)
    return np.dtype(wt)


def _union_with_value(dt: np.dtype, value: float) -> np.dtype:
    if _value_fits(dt, value):
        return dt
    if math.isnan(value) or math.isinf(value) or value != math.floor(value):
        fits32 = math.isnan(value) or math.isinf(value) or float(np.float32(value)) == value
        vt = np.dtype(np.float32) if fits32 else np.dtype(np.float64)
    else:
        for cand in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "float64"):
            if _value_fits(np.dtype(cand), value):
                vt = np.dtype(cand)
                break
    return np.promote_types(dt, vt)


def _value_fits(dt: np.dtype, value: float) -> bool:
    if dt.kind == "f":
        if math.isnan(value) or math.isinf(value):
            return True
        return float(dt.type(value)) == value
    if math.isnan(value) or math.isinf(value) or value != math.floor(value):
        return False
    info = np.iinfo(dt)
    return info.min <= value <= info.max


def _dtype_range(dt: np.dtype) -> tuple[float, float]:
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return float(info.min), float(info.max)
    return -math.inf, math.inf


def nodata_rule(dtype: np.dtype, nodata: float) -> tuple[int, float] | None:
    """How GDALWarpNoDataMasker compares a band of ``dtype`` with ``nodata`` (§3.4).

    Returns ``(rule, value)`` for :func:`raster_core._kernels.masks.nodata_validity`, or None
    when no pixel of that type can equal ``nodata`` (an 8/16-bit integer band and a value it
    cannot hold: the band has no invalid pixels).

    Examples
    --------
    >>> from raster_core._kernels.masks import RULE_EQUAL, RULE_FLOAT32
    >>> nodata_rule(np.dtype("uint8"), 0.0) == (RULE_EQUAL, 0.0)
    True
    >>> nodata_rule(np.dtype("uint8"), 300.0) is None
    True
    >>> nodata_rule(np.dtype("float32"), -9999.0) == (RULE_FLOAT32, -9999.0)
    True
    """
    from raster_core._kernels import masks

    dt = np.dtype(dtype)
    if dt in (np.uint8, np.int16, np.uint16):
        info = np.iinfo(dt)
        if math.isnan(nodata) or not (info.min <= nodata <= info.max):
            return None
        return masks.RULE_EQUAL, float(math.floor(nodata + 1e-6))
    if math.isnan(nodata) and dt.kind == "f":
        return masks.RULE_NAN, nodata
    if dt == np.float32:
        return masks.RULE_FLOAT32, float(nodata)
    # float64 and other integer types: ARE_REAL_EQUAL in double with FLT_EPSILON
    if dt.kind in "iu" and not _value_fits(dt, nodata):
        return None
    return masks.RULE_FLOAT64, float(nodata)


def _nodata_validity(src_win: np.ndarray, nodata: float) -> np.ndarray | None:
    """Validity (rows, cols) uint8 of a source window (bands, rows, cols), a view or a copy: 0 where
    every band equals ``nodata``; None when no pixel does."""
    rule = nodata_rule(src_win.dtype, nodata)
    if rule is None:
        return None
    from raster_core._kernels import masks

    if rule[0] == masks.RULE_EQUAL:
        # 8/16-bit integers: numpy's comparisons are as fast, and need no compilation
        value = src_win.dtype.type(rule[1])
        ok = src_win[0] != value
        for b in range(1, src_win.shape[0]):
            ok |= src_win[b] != value
        return None if ok.all() else ok.view(np.uint8)
    valid = np.empty(src_win.shape[1:], dtype=np.uint8)
    n_invalid = masks.nodata_validity(src_win, rule[0], rule[1], valid)
    return valid if n_invalid else None


# --------------------------------------------------------------------------- execution
_FAST_TABLE = {
    "uint8": ("near", "bilinear", "cubic", "cubicspline"),
    "int16": ("near", "bilinear", "cubic", "cubicspline"),
    "uint16": ("near", "bilinear", "cubic", "cubicspline"),
    "float32": ("near", "bilinear", "cubic"),
}
_NEAREST_DEDICATED = ("uint8", "int16", "uint16", "float32")
#: a nearest warp without reprojection of at most this many destination pixels runs in the
#: calling thread: 667 x 665 pixels took 1.3 ms on one core and 1.9-2.1 ms on two (each block
#: records its own row plan; the kernel itself is short)
_ONE_THREAD_NEAREST_PIXELS = 1 << 19
#: a reprojecting interpolation of at most this many destination pixels gets one block per thread:
#: each block records its rows' transformer (~1 ms of Python and PROJ for a few hundred rows), as
#: much as its kernel (random case 23, 858 x 438 cubic: 5.5 -> 4.3 ms at 2 threads)
_ONE_FUSED_BLOCK_PIXELS = 1 << 19


def block_threads(method: str, reprojects: bool, n_pixels: int, num_threads: int) -> int:
    """Threads for a warp's blocks when the caller did not choose the blocks: one for a
    nearest warp without reprojection of at most :data:`_ONE_THREAD_NEAREST_PIXELS` pixels
    (handing its blocks to threads takes longer than warping them), else ``num_threads``.
    The pixels do not depend on it.

    Examples
    --------
    >>> block_threads("near", False, 500 * 500, 2), block_threads("near", True, 500 * 500, 2)
    (1, 2)
    >>> block_threads("bilinear", False, 500 * 500, 2), block_threads("near", False, 2000 * 2000, 2)
    (2, 2)
    """
    if method == "near" and not reprojects and n_pixels <= _ONE_THREAD_NEAREST_PIXELS:
        return 1
    return num_threads


def execute_plan(
    plan: WarpPlan,
    source: np.ndarray,
    destination: np.ndarray,
    *,
    dst_window: tuple[int, int, int, int] | None = None,
    src_nodata: float | None = None,
    dst_nodata: float | None = None,
    src_alpha: int | None = None,
    src_mask: np.ndarray | None = None,
    init_dest_nodata: bool = True,
    num_threads: int | None = None,
    block_rows: int | None = None,
    return_mask: bool = True,
    reference_kernels: bool = False,
    reduce_chunks: Any = None,
    row_chunk_points: int | None = None,
) -> np.ndarray | None:
    """Warp ``source`` (the FULL source, (bands, rows, cols)) into ``destination``.

    ``destination`` (bands, h, w) covers ``dst_window = (row0, row1, col0, col1)`` of
    the plan's global destination grid (default: all of it) and is written in place.
    Returns the produced-pixel mask (h, w) bool (None with ``return_mask=False``, which
    saves its memory). Inputs must be validated already (see :func:`reproject`).
    ``reference_kernels=True`` runs every pixel through the per-pixel (reference) kernels, which
    the fast kernels (staged rows, shared horizontal sums, integer averages) equal bit for bit.
    ``reduce_chunks`` (a :class:`raster_core._warp_reduce.ReduceChunks`; None: the default) says
    how the reduce family cuts its work, ``row_chunk_points`` (None: the default) how many pixels the
    interpolating row driver plans and warps per call; like ``block_rows`` they never change the values.
    """
    dst_rows, dst_cols = plan.dst_shape
    if dst_window is None:
        dst_window = (0, dst_rows, 0, dst_cols)
    r0, r1, c0, c1 = (int(v) for v in dst_window)
    if not (0 <= r0 < r1 <= dst_rows and 0 <= c0 < c1 <= dst_cols):
        raise InvalidParameterError(f"dst_window {dst_window} outside the destination grid {plan.dst_shape}")
    source = _as_3d(source)
    nb = source.shape[0]
    if destination.shape != (nb, r1 - r0, c1 - c0):
        raise ShapeError(f"destination shape {destination.shape} does not match {(nb, r1 - r0, c1 - c0)}")
    dst_dt = destination.dtype
    work_dt = _working_dtype(source.dtype, dst_dt, dst_nodata)

    # --- initialise destination (INIT_DEST) and its validity (§3.1, §3 step 6); the destination
    # itself is filled block by block in the parallel tasks, just before each block is warped
    init_word = _copy_word(0.0 if dst_nodata is None else float(dst_nodata), dst_dt) if init_dest_nodata else None
    has_dst_valid = False
    dst_valid_full: np.ndarray | None = None
    if dst_nodata is not None:
        if init_dest_nodata:
            has_dst_valid = True
            dst_valid_full = np.zeros(destination.shape[1:], dtype=np.uint8)
        else:
            inv = np.ones(destination.shape[1:], dtype=bool)
            for b in range(nb):
                band = destination[b]
                if math.isnan(dst_nodata):
                    inv &= np.isnan(band) if band.dtype.kind == "f" else False
                else:
                    inv &= band == dst_nodata
            dst_valid_full = (~inv).astype(np.uint8)
            has_dst_valid = nb > 1 or bool(inv.any())
    produced_full = np.zeros(destination.shape[1:], dtype=np.bool_) if return_mask else None
    window = plan.window
    if window is None:
        if init_word is not None:
            destination[...] = init_word
        return produced_full

    def produced_rows(a: int, b: int, zero_width: bool = False) -> np.ndarray:
        if produced_full is not None:
            return produced_full[a:b]
        # not wanted: the row driver takes a zero-width mask (see rows.run_rows)
        return np.zeros((b - a, 0 if zero_width else destination.shape[2]), dtype=np.bool_)

    # --- source window and masks (§3)
    rs, cs = window.slices
    # the row kernels read the window in place when the source is C-contiguous (a copy of a large
    # window costs as much as a nearest warp of it) and writable (Numba types read-only arrays
    # apart: they would compile every kernel a second time); the other kernels take a copy
    in_place = source.flags.c_contiguous and source.flags.writeable
    src_win = source[:, rs, cs] if in_place else np.ascontiguousarray(source[:, rs, cs])
    valid = None if src_nodata is None else _nodata_validity(src_win, float(src_nodata))
    if src_mask is not None:
        m = np.asarray(src_mask, dtype=bool)[rs, cs]
        if not m.all():
            valid = m.astype(np.uint8) if valid is None else (valid & m)
    density = None
    if src_alpha is not None:
        alpha = source[src_alpha - 1][rs, cs]
        amax = {np.dtype("int16"): 32767.0, np.dtype("uint16"): 65535.0}.get(alpha.dtype, 255.0)
        dens = np.minimum(np.float32(1.0), alpha.astype(np.float32) * np.float32(1.0 / amax)).astype(np.float32)
        if (dens < 1.0).any():
            density = dens

    method = plan.resampling
    wname = work_dt.name
    masks = valid is not None or density is not None or has_dst_valid
    is_int_work = work_dt.kind in "iu"
    if method in REDUCING:
        fast_path = False
        collide = is_int_work and dst_nodata is not None
    else:
        fast_path = (not masks) and method in _FAST_TABLE.get(wname, ())
        if method == "near":
            collide = is_int_work and dst_nodata is not None and wname not in _NEAREST_DEDICATED
        else:
            collide = is_int_work and dst_nodata is not None and not fast_path
    wmin, wmax = _dtype_range(work_dt)
    dmin, dmax = _dtype_range(dst_dt)
    work_kind = 2 if is_int_work else (1 if work_dt == np.float32 else 0)
    dst_is_int = dst_dt.kind in "iu"
    dnd = float(dst_nodata) if dst_nodata is not None else math.nan

    direct_near = (
        method == "near" and density is None and not collide and source.dtype == dst_dt and dst_dt == work_dt
    )
    t = plan.transformer
    # same-CRS, rotation-free warps through the separable kernels: X depends on the column only
    # and Y on the row only, so horizontal sums can be shared between destination rows
    sw, sh = window.width, window.height
    separable_path = method in ("cubicspline", "lanczos") or (
        method in ("bilinear", "cubic") and not (plan.xscale >= 0.95 and plan.yscale >= 0.95)
    )
    if fast_path and method != "lanczos" and (plan.xradius > sw or plan.yradius > sh):
        separable_path = False  # GDAL fast path falls back to 4-sample bilinear
    if not fast_path and (sw == 1 or sh == 1):
        separable_path = False  # degrades to nearest
    aligned_separable = (
        not reference_kernels
        and separable_path
        and valid is None
        and density is None
        and not t.has_reprojection
        and t.src_gt[2] == 0.0 and t.src_gt[4] == 0.0 and t.dst_gt[2] == 0.0 and t.dst_gt[4] == 0.0
    )
    xs_full = np.arange(dst_cols, dtype=np.float64) + 0.5
    xoff, yoff = window.col_off, window.row_off
    dummy_valid = np.ones((1, 1), dtype=np.uint8)
    dummy_dens = np.ones((1, 1), dtype=np.float32)
    dv = dst_valid_full if dst_valid_full is not None else np.ones((1, 1), dtype=np.uint8)

    # The approximate transformer of the window's rows, recorded compactly (RowPlan: one PROJ call
    # per recursion level for many rows) with GDAL's exact retries, so that the kernels only run
    # Numba code (no GIL, no PROJ). For reprojections it is recorded per chunk of rows inside
    # the parallel tasks ("fused"), so that PROJ and the kernels of different chunks overlap;
    # rows are independent, so the result does not depend on the chunking.
    ys_win = np.arange(r0, r1, dtype=np.float64) + 0.5
    win_bounds = (float(xoff), float(yoff), float(xoff + window.width), float(yoff + window.height))
    fused = method not in REDUCING and not aligned_separable and t.row_plan_applies(xs_full)
    row_plan = None
    if method not in REDUCING and not fused:
        row_plan = t.row_plan(xs_full, ys_win, num_threads=num_threads)
        if row_plan is not None:
            row_plan.add_exact_retries(t, ys_win, win_bounds, c0, c1, num_threads=num_threads)

    if method in REDUCING:
        try:
            from raster_core import _warp_reduce
        except ImportError:
            raise UnsupportedFeatureError(
                f"resampling {method!r} is not available yet (raster_core._warp_reduce missing)") from None

    dst_contiguous = destination.flags.c_contiguous

    def dst_row_args(a: int, b: int) -> tuple[np.ndarray, int]:
        # the whole (C-contiguous) destination and a row offset: rows indexed inside the kernels
        # stay C-contiguous there, so that their stores vectorise
        return (destination, a) if dst_contiguous else (destination[:, a:b, :], 0)

    from raster_core._kernels import rows as row_kernels

    # the reduce kernels and the aligned separable kernel read the window in place too, at
    # win_in = (row0, col0, height, width) of kernel_src (C-contiguous either way)
    kernel_src = source if in_place else src_win
    win_in = (int(yoff) if in_place else 0, int(xoff) if in_place else 0, int(window.height), int(window.width))
    store_args = row_kernels.StoreArgs(int(work_kind), float(wmin), float(wmax), bool(dst_is_int), float(dmin),
                                       float(dmax), float(dnd), bool(collide))
    if method not in REDUCING:
        kernel_args = row_kernels.KernelArgs(
            METHOD_CODES[method], float(plan.xscale), float(plan.yscale), int(plan.xradius), int(plan.yradius),
            bool(fast_path), bool(direct_near),
        )
        kernels = row_kernels.select_row_kernels(
            METHOD_CODES[method], plan.xscale, plan.yscale, fast_path, window.width, window.height, plan.xradius,
            plan.yradius, has_dens=density is not None, direct_near=direct_near,
            store_int=is_int_work and dst_is_int and not collide and not direct_near, reference=reference_kernels,
        )
    runs = None
    # (the valid runs speed up the per-pixel separable kernel's masked rows; not computed when the
    # staged kernel takes the masked footprints and leaves the per-pixel kernel the window's edges)
    if (method not in REDUCING and valid is not None and density is None and kernels.pixel == row_kernels.P_SEPARABLE
            and not row_kernels.staged_masks_taps(kernels.staged, kernel_args)):
        from raster_core._kernels.interp import valid_runs

        runs = np.empty(valid.shape, dtype=np.uint8)
        valid_runs(valid, runs)
    source_args = row_kernels.SourceArgs(
        kernel_src, valid if valid is not None else dummy_valid, valid is not None,
        density if density is not None else dummy_dens, density is not None, int(xoff), int(yoff), *win_in,
        runs if runs is not None else dummy_valid, runs is not None,
    )

    def dest_args(a: int, b: int, prod: np.ndarray) -> Any:
        dst, row0 = dst_row_args(a, b)
        return row_kernels.DestArgs(dst, row0, dv[a:b] if dst_valid_full is not None else dv,
                                    dst_valid_full is not None and has_dst_valid, prod)

    def warp_rows(coords: Any, a: int, b: int, prod: np.ndarray) -> None:
        row_kernels.run_rows(kernels, coords, source_args, kernel_args, store_args, dest_args(a, b, prod),
                             row_chunk_points or row_kernels.CHUNK_POINTS)

    def run(a: int, b: int) -> None:
        if init_word is not None:
            destination[:, a:b, :] = init_word
        ga, gb = r0 + a, r0 + b
        prod = produced_rows(a, b, method not in REDUCING and not aligned_separable)
        if method in REDUCING:
            out = np.zeros((nb, b - a, c1 - c0), dtype=np.float64)
            # (only `sum` writes densities; the others read 1.0 everywhere: a broadcast, no memory)
            out_density = (np.ones((nb, b - a, c1 - c0), dtype=np.float64) if method == "sum"
                           else np.broadcast_to(np.float64(1.0), (nb, b - a, c1 - c0)))
            band_produced = np.zeros((nb, b - a, c1 - c0), dtype=np.uint8)
            _warp_reduce.warp_reduce_block(
                method, kernel_src, valid, density, (xoff, yoff), plan.src_shape, t, plan.dst_shape,
                (ga, gb), (c0, c1), plan.xscale, plan.yscale, out, out_density, band_produced, src_win.dtype,
                reference=reference_kernels, chunks=reduce_chunks or _warp_reduce.DEFAULT_CHUNKS, window=win_in,
            )
            from raster_core._kernels import interp

            if method == "sum":
                interp.write_block_density(out, out_density, band_produced, destination[:, a:b, :],
                                           dv[a:b] if dst_valid_full is not None else dv, has_dst_valid, work_kind,
                                           wmin, wmax, dst_is_int, dmin, dmax, dnd, collide, prod)
            else:
                interp.write_block(out, band_produced, destination[:, a:b, :], work_kind, wmin, wmax, dst_is_int,
                                   dmin, dmax, dnd, collide, prod)
            return

        if fused:
            rp = t.row_plan(xs_full, ys_win[a:b], num_threads=1)
            assert rp is not None  # fused only where row_plan_applies
            rp.add_exact_retries(t, ys_win[a:b], win_bounds, c0, c1, num_threads=1)
            warp_rows(row_kernels.PlannedCoords(rp.tables, 0, b - a, c0, c1), a, b, prod)
            return
        if row_plan is not None and not aligned_separable:
            # coordinates computed row by row inside the kernel from the recorded plan
            warp_rows(row_kernels.PlannedCoords(row_plan.tables, a, b, c0, c1), a, b, prod)
            return
        if row_plan is not None:
            # the split from the recorded plan (no block-sized coordinates when its rows share
            # their linear segment); the coordinates of the rows and columns left are filled
            planned = _aligned_split_planned(row_plan, a, b, c0, c1)
            if planned is not None:
                warp_split(planned, lambda ra, rb, ca, cb: row_plan.fill(a + ra, a + rb, c0 + ca, c0 + cb), a, b,
                           prod)
                return
            X, Y, OK = row_plan.fill(a, b, c0, c1)  # exact retries already recorded in the plan
        else:
            ys = np.arange(ga, gb, dtype=np.float64) + 0.5
            X, Y, OK = t.transform_rows(xs_full, ys)
            X = X[:, c0:c1]
            Y = Y[:, c0:c1]
            OK = OK[:, c0:c1]
            _exact_retry(t, X, Y, OK, xs_full[c0:c1], ys, window)
        split = _aligned_split(X, Y, OK) if aligned_separable else None
        if split is None:
            warp_rows(_array_coords(X, Y, OK), a, b, prod)
            return
        warp_split(split, lambda ra, rb, ca, cb: (X[ra:rb, ca:cb], Y[ra:rb, ca:cb], OK[ra:rb, ca:cb]), a, b, prod)

    def warp_split(split: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], coords: Any, a: int, b: int,
                   prod: np.ndarray) -> None:
        # the regular part (rows and columns whose coordinates are shared: all but the exact retries
        # near the window edges, mostly) through the separable kernel; it leaves the rows and
        # columns given NaN coordinates untouched, and those go pixel by pixel, each pixel with
        # its own coordinates as the row drivers would do it for the whole block; ``coords(ra, rb,
        # ca, cb)`` gives (X, Y, OK) of the block's rows [ra, rb) and columns [ca, cb)
        from raster_core._kernels.interp import warp_separable_aligned

        xc, yr, bad_rows, bad_cols = split
        nr, nc = b - a, c1 - c0
        warp_separable_aligned(
            kernel_src, win_in, xc, yr, xoff, yoff, METHOD_CODES[method], plan.xscale, plan.yscale, plan.xradius,
            plan.yradius, fast_path, *dst_row_args(a, b), work_kind, wmin, wmax, dst_is_int, dmin, dmax, dnd, collide,
            prod,
        )
        for ra, rb in _runs(bad_rows):
            warp_rows(_array_coords(*coords(ra, rb, 0, nc)), a + ra, a + rb, prod[ra:rb])
        good_rows = ~bad_rows
        for ca, cb in _runs(bad_cols):
            # a narrow strip of columns in the rows left: warped into C-contiguous copies (the
            # kernels write columns from 0) that are copied back
            Xs, Ys, OKs = coords(0, nr, ca, cb)
            ok = OKs & good_rows[:, None]
            strip = np.ascontiguousarray(destination[:, a:b, ca:cb])
            strip_prod = np.ascontiguousarray(prod[:, ca:cb])
            strip_dv = np.ascontiguousarray(dv[a:b, ca:cb]) if dst_valid_full is not None else dv
            row_kernels.run_rows(
                kernels, _array_coords(Xs, Ys, ok), source_args, kernel_args, store_args,
                row_kernels.DestArgs(strip, 0, strip_dv, dst_valid_full is not None and has_dst_valid, strip_prod),
                row_chunk_points or row_kernels.CHUNK_POINTS)
            destination[:, a:b, ca:cb] = strip
            prod[:, ca:cb] = strip_prod

    nthreads = resolve_num_threads(num_threads)
    nrows = r1 - r0
    if block_rows is None:
        nthreads = block_threads(method, t.has_reprojection, nrows * (c1 - c0), nthreads)
    if block_rows is None:
        # ~64k pixels per block, at least a few blocks per thread
        block_rows = max(8, min(512, 262144 // max(1, c1 - c0)))
        if nthreads > 1:
            block_rows = max(1, min(block_rows, -(-nrows // (4 * nthreads))))
        if aligned_separable:
            # the aligned separable kernel keeps float64 horizontal sums of every source row of a
            # block (about 1 / yscale rows per destination row): bound them to ~2 MB per thread
            src_rows_cap = 262144 // max(1, c1 - c0) - 2 * plan.yradius - 2
            block_rows = max(8, min(block_rows, int(src_rows_cap * min(1.0, plan.yscale))))
        if fused:
            # few large chunks: each records its rows' transformer (fixed Python/Numba overhead
            # per recursion level), two per thread for balance, one for small warps (where that
            # overhead is a large part of a block)
            per_thread = 1 if nrows * (c1 - c0) <= _ONE_FUSED_BLOCK_PIXELS else 2
            block_rows = max(block_rows, -(-nrows // (per_thread * nthreads)))
    run_blocks(run, row_blocks(nrows, block_rows), num_threads=nthreads)
    return produced_full


def _aligned_split(
    X: np.ndarray, Y: np.ndarray, OK: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Split a block of an axis-aligned warp into a separable part and rows/columns left over.

    In an axis-aligned same-CRS warp the source x of a pixel depends on its column and the source
    y on its row, except where GDAL's exact retry near the window edges replaced approximate
    coordinates (whole edge rows or columns, usually). Returns ``(xc, yr, bad_rows, bad_cols)``:
    the shared coordinates per column and per row, NaN on the rows/columns to warp pixel by pixel
    (``bad_rows``/``bad_cols``, boolean); every pixel outside them has exactly the coordinates
    ``(xc[c], yr[r])`` and a successful transform. ``None`` when too little of the block is
    regular to be worth it.

    Examples
    --------
    >>> X = np.tile(np.arange(8) + 0.5, (4, 1))
    >>> Y = np.tile(np.arange(4)[:, None] + 0.5, (1, 8))
    >>> X[::2, 7] += 1e-9  # the last column exactly re-transformed, different in every other row
    >>> xc, yr, bad_rows, bad_cols = _aligned_split(X, Y, np.ones((4, 8), dtype=bool))
    >>> np.flatnonzero(bad_cols).tolist(), bool(bad_rows.any()), bool(np.isnan(xc[7]))
    ([7], False, True)
    """
    nr, nc = X.shape
    if nr == 0 or nc == 0:
        return None
    xc = X[nr // 2].copy()
    yr = Y[:, nc // 2].copy()
    irregular = (X != xc) | (Y != yr[:, None]) | ~OK
    if not irregular.any():
        return xc, yr, np.zeros(nr, dtype=bool), np.zeros(nc, dtype=bool)
    # any cover of the irregular pixels by rows and columns is correct; this one takes the rows
    # that are mostly irregular, then every column still holding an irregular pixel
    bad_rows = np.count_nonzero(irregular, axis=1) * 2 > nc
    bad_cols = irregular[~bad_rows].any(axis=0)
    n_bad = np.count_nonzero(bad_rows) * nc + np.count_nonzero(bad_cols) * nr
    if n_bad * 4 > nr * nc:
        return None
    xc[bad_cols] = np.nan
    yr[bad_rows] = np.nan
    return xc, yr, bad_rows, bad_cols


def _aligned_split_planned(
    plan: Any, a: int, b: int, c0: int, c1: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_aligned_split` of the plan rows [a, b) and columns [c0, c1) of a recorded row plan
    (:class:`raster_core.transform.RowPlan`) without filling the block's coordinates: when every
    row is one linear segment over the columns (the same start, x and x slope in every row, no y
    slope) and no fixed points, every pixel but the exact ones has that segment's x and its row's
    y, so only the exact points can be irregular. Same contract as
    :func:`_aligned_split` (any cover of the irregular pixels gives the same pixels); None when the
    plan is not of that form (then the caller fills the block and uses :func:`_aligned_split`).

    Examples
    --------
    >>> from raster_core.transform import WarpTransformer
    >>> t = WarpTransformer(3857, (0, 10, 0, 0, 0, -10), 3857, (5, 20, 0, 0, 0, -20))
    >>> rp = t.row_plan(np.arange(8) + 0.5, np.arange(6) + 0.5)
    >>> xc, yr, bad_rows, bad_cols = _aligned_split_planned(rp, 1, 5, 2, 7)
    >>> X, Y, OK = rp.fill(1, 5, 2, 7)
    >>> bool((X == xc).all() and (Y == yr[:, None]).all()), bool(bad_rows.any() or bad_cols.any())
    (True, False)
    """
    nr, nc = b - a, c1 - c0
    if nr <= 0 or nc <= 0:
        return None
    tables = plan.tables
    f_ptr, p_ptr, e_ptr = tables.ptr
    if f_ptr[b] != f_ptr[a] or p_ptr[b] - p_ptr[a] != nr or not (np.diff(p_ptr[a:b + 1]) == 1).all():
        return None
    q = slice(int(p_ptr[a]), int(p_ptr[b]))
    (start, length), (sx, sy, dx, dy) = tables.p_int[:, q], tables.p_flt[:, q]
    if not ((start == start[0]).all() and (sx == sx[0]).all() and (dx == dx[0]).all() and (dy == 0.0).all()
            and int(start[0]) <= c0 and (start + length >= c1).all()):
        return None
    e0, e1 = int(e_ptr[a]), int(e_ptr[b])
    e_col = tables.e_col[e0:e1]
    inside = (e_col >= c0) & (e_col < c1)
    e_row = np.repeat(np.arange(nr), np.diff(e_ptr[a:b + 1]))[inside]
    # the x of every pixel that is not an exact point: the first row's segment alone, filled by the
    # plan's own kernel (the same arithmetic)
    xc = plan.segments_of_row(a).fill(0, 1, c0, c1)[0][0]
    # each row's y, as the plan gives it at every column (no y slope: its start y)
    xs = tables.xs
    yr = sy + dy * (xs[c0 + nc // 2] - xs[int(start[0])])
    e_c = e_col[inside] - c0
    (ex, ey), eok = tables.e_xy[:, e0:e1][:, inside], tables.e_ok[e0:e1][inside]
    irregular = (ex != xc[e_c]) | (ey != yr[e_row]) | ~eok
    bad_rows = np.zeros(nr, dtype=bool)
    bad_cols = np.zeros(nc, dtype=bool)
    if irregular.any():
        r_irr, c_irr = e_row[irregular], e_c[irregular]
        bad_rows = np.bincount(r_irr, minlength=nr) * 2 > nc
        bad_cols[c_irr[~bad_rows[r_irr]]] = True
        n_bad = np.count_nonzero(bad_rows) * nc + np.count_nonzero(bad_cols) * nr
        if n_bad * 4 > nr * nc:
            return None
        xc[bad_cols] = np.nan
        yr[bad_rows] = np.nan
    return xc, yr, bad_rows, bad_cols


def _array_coords(X: np.ndarray, Y: np.ndarray, OK: np.ndarray) -> Any:
    """Coordinates of a block for the row drivers (C-contiguous copies where needed)."""
    from raster_core._kernels.rows import ArrayCoords

    return ArrayCoords(np.ascontiguousarray(X), np.ascontiguousarray(Y), np.ascontiguousarray(OK))


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The ``[start, stop)`` runs of True in a 1-D boolean array.

    Examples
    --------
    >>> _runs(np.array([True, True, False, True]))
    [(0, 2), (3, 4)]
    """
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _exact_retry(
    t: WarpTransformer, X: np.ndarray, Y: np.ndarray, OK: np.ndarray, xs: np.ndarray, ys: np.ndarray, w: SourceWindow
) -> bool:
    """GWKCheckAndComputeSrcOffsets' exact re-transform near the window edges (§1.4)."""
    from raster_core._kernels.interp import retry_candidates

    bounds = (float(w.col_off), float(w.row_off), float(w.col_off + w.width), float(w.row_off + w.height))
    empty = np.empty(0, dtype=np.int64)
    n = retry_candidates(X, Y, OK, *bounds, empty, empty)  # count only
    if not n:
        return False
    rows = np.empty(n, dtype=np.int64)
    cols = np.empty(n, dtype=np.int64)
    retry_candidates(X, Y, OK, *bounds, rows, cols)
    rr, cc = rows[:n], cols[:n]
    ex, ey, eok = t.transform_points(xs[cc], ys[rr])
    X[rr, cc] = ex
    Y[rr, cc] = ey
    OK[rr, cc] = eok
    return True


def _copy_word(value: float, dt: np.dtype) -> Any:
    """GDALCopyWords of one double into ``dt`` (round half away from zero, clamp, NaN -> 0)."""
    if dt.kind in "iu":
        if math.isnan(value):
            return dt.type(0)
        lo, hi = _dtype_range(dt)
        v = min(max(value, lo), hi)
        v = math.floor(v + 0.5) if v > 0 else math.ceil(v - 0.5)
        return dt.type(int(v))
    return dt.type(value)


# --------------------------------------------------------------------------- public API
def reproject(
    source: np.ndarray,
    destination: np.ndarray | None = None,
    *,
    src_transform: TransformLike,
    src_crs: CRSLike,
    dst_transform: TransformLike | None = None,
    dst_crs: CRSLike | None = None,
    dst_shape: tuple[int, int] | None = None,
    resampling: ResamplingLike = "near",
    src_nodata: float | None = None,
    dst_nodata: float | None = None,
    src_alpha: int | None = None,
    src_mask: np.ndarray | None = None,
    init_dest_nodata: bool = True,
    num_threads: int | None = None,
    tolerance: float = 0.125,
    kernel_scaling: bool = True,
    cutline: Any = None,
    cutline_srs: CRSLike | None = None,
    cutline_all_touched: bool = False,
    max_bytes: int | None = None,
    reference_kernels: bool = False,
) -> tuple[np.ndarray, Affine]:
    """Reproject an array onto another grid with GDAL 3.10's warper semantics.

    Same call shape as ``rasterio.warp.reproject`` for ndarrays.

    Parameters
    ----------
    source
        2-D (rows, cols) or 3-D (bands, rows, cols) array; a ``numpy.ma.MaskedArray``
        contributes its mask (True = invalid) to the source validity.
    destination
        Array to write into (same number of dimensions/bands as ``source``); created
        when None (with ``dst_shape``, or the default grid's shape).
    src_transform, src_crs
        Source grid: ``affine.Affine`` or GDAL 6-tuple; any CRS pyproj accepts.
    dst_transform, dst_crs, dst_shape
        Destination grid. ``dst_crs`` defaults to ``src_crs``; when ``dst_transform``
        is None, ``raster_core.grid.calculate_default_transform`` chooses it (GDAL's
        suggested output).
    resampling
        ``near, bilinear, cubic, cubicspline, lanczos, average, rms, mode, max, min,
        med, q1, q3, sum`` (also rasterio spellings, the :class:`Resampling` enum).
    src_nodata, dst_nodata
        Nodata values (NaN allowed). ``dst_nodata`` defaults to ``src_nodata``.
        Integer results equal to ``dst_nodata`` are decremented by one (GDAL 3.10
        collision rule) except for nearest on uint8/int16/uint16.
    src_alpha
        1-based index of an alpha band of ``source`` (warped too, like rasterio).
    src_mask
        (rows, cols) array, nonzero/True = valid source pixel.
    init_dest_nodata
        False keeps the existing destination where nothing is produced (mosaics).
    num_threads
        Threads (None = all cores); results never depend on it.
    tolerance
        Approximate-transformer error in source pixels (0 = exact PROJ per pixel).
    kernel_scaling
        False = no kernel widening when downsampling (GDAL XSCALE=YSCALE=1).
    cutline, cutline_srs, cutline_all_touched
        Optional polygon(s) masking **source** pixels (GDAL semantics: a destination pixel is
        produced when the source pixel under its centre is inside; see ``raster_core.cutline``).
        ``cutline_srs`` defaults to the GeoJSON's legacy ``crs`` member if it has one, else
        WGS84 lon/lat (EPSG:4326, x = longitude), as the Raster API guide specifies for both
        GeoJSON and WKT cutlines.
    max_bytes
        Budget of the destination it creates and its validity mask (default
        :data:`raster_core.limits.DEFAULT_MAX_BYTES`); a larger ``dst_shape`` raises
        :class:`~raster_core.errors.OutputTooLargeError` before anything is allocated.
    reference_kernels
        True runs every pixel through the per-pixel reference kernels (slow); the default fast
        kernels give bit-identical results, which the test suite checks with it.

    Returns
    -------
    (destination, dst_transform)

    Raises
    ------
    ShapeError, DataTypeError, CRSError, TransformError, ResamplingError, InvalidParameterError,
    OutputTooLargeError

    Examples
    --------
    >>> import numpy as np
    >>> src = np.ones((10, 10), dtype="float32")
    >>> out, tf = reproject(src, src_transform=(500000, 30, 0, 4500000, 0, -30), src_crs=32631,
    ...                     dst_transform=(500000, 60, 0, 4500000, 0, -60), dst_crs=32631,
    ...                     dst_shape=(5, 5), resampling="bilinear")
    >>> float(out.mean()), tf.a
    (1.0, 60.0)
    """
    # ---------------------------------------------------------------- validation
    if isinstance(source, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(source)
        if mask.ndim == 3:
            mask = np.asarray(mask.all(axis=0))
        if mask.any():
            extra = ~mask
            src_mask = extra if src_mask is None else (np.asarray(src_mask, dtype=bool) & extra)
        source = np.ma.getdata(source)
    if not isinstance(source, np.ndarray):
        source = np.asarray(source)
    if source.ndim not in (2, 3) or source.size == 0:
        raise ShapeError(f"source must be a non-empty 2-D or 3-D array, got shape {source.shape}")
    _check_dtype(source.dtype, "source")
    if not source.dtype.isnative:
        source = source.astype(source.dtype.newbyteorder("="))
    src3 = _as_3d(source)
    nb, srows, scols = src3.shape
    method = resampling_name(resampling)
    s_aff = to_affine(src_transform, name="src_transform")
    s_crs = to_crs(src_crs, name="src_crs")
    from raster_core.limits import check_bytes, check_max_bytes, check_output_crs

    d_crs = s_crs if dst_crs is None else check_output_crs(dst_crs, name="dst_crs")
    budget = check_max_bytes(max_bytes)

    def check_budget(shape: tuple[int, int]) -> None:  # the destination it creates + a validity byte
        check_bytes(int(shape[0]) * int(shape[1]) * (nb * source.dtype.itemsize + 1), budget,
                    what=f"a destination of {nb} x {shape[0]} x {shape[1]} {source.dtype.name}",
                    hint="pass a smaller dst_shape, or raise max_bytes")

    if dst_shape is not None:
        dst_shape = _check_shape2(dst_shape, "dst_shape")
        if destination is None:
            check_budget(dst_shape)
    if destination is not None:
        if not isinstance(destination, np.ndarray):
            raise ShapeError("destination must be a numpy array")
        _check_dtype(destination.dtype, "destination")
        if not destination.dtype.isnative:
            raise DataTypeError("destination must use the native byte order")
        if destination.ndim != source.ndim:
            raise ShapeError(
                f"destination must have the same number of dimensions as source ({source.ndim}), got {destination.ndim}"
            )
        if destination.ndim == 3 and destination.shape[0] != nb:
            raise ShapeError(f"destination has {destination.shape[0]} bands, source has {nb}")
        if dst_shape is not None and tuple(destination.shape[-2:]) != dst_shape:
            raise ShapeError(f"dst_shape {dst_shape} does not match destination shape {destination.shape}")
        dst_shape = tuple(destination.shape[-2:])
        if not destination.flags.writeable:
            raise InvalidParameterError("destination is read-only")
    if dst_transform is None:
        from raster_core.grid import calculate_default_transform  # lazy: grid engineer's module

        if dst_shape is not None:
            d_aff, w, h = calculate_default_transform(
                s_crs, d_crs, scols, srows, dst_width=dst_shape[1], dst_height=dst_shape[0], src_transform=s_aff
            )
        else:
            d_aff, w, h = calculate_default_transform(s_crs, d_crs, scols, srows, src_transform=s_aff)
            dst_shape = (int(h), int(w))
            check_budget(dst_shape)
        d_aff = to_affine(d_aff, name="dst_transform")
    else:
        d_aff = to_affine(dst_transform, name="dst_transform")
    if dst_shape is None:
        raise ShapeError("dst_shape (or destination) is required when dst_transform is given")
    for name, v in (("src_nodata", src_nodata), ("dst_nodata", dst_nodata)):
        if v is not None:
            try:
                float(v)
            except (TypeError, ValueError):
                raise InvalidParameterError(f"{name} must be a number or None, got {v!r}") from None
    if src_alpha is not None:
        if isinstance(src_alpha, bool) or not isinstance(src_alpha, (int, np.integer)) or not 1 <= src_alpha <= nb:
            raise InvalidParameterError(f"src_alpha must be a band index in 1..{nb}, got {src_alpha!r}")
        src_alpha = int(src_alpha)
    if src_mask is not None:
        src_mask = np.asarray(src_mask)
        if src_mask.shape != (srows, scols):
            raise ShapeError(f"src_mask shape {src_mask.shape} does not match source rows/cols {(srows, scols)}")
    resolve_num_threads(num_threads)
    if cutline is not None:
        from raster_core.cutline import cutline_source_mask  # lazy: rasterize engineer's module

        cmask = np.asarray(
            cutline_source_mask(
                cutline,
                cutline_srs=cutline_srs,
                src_crs=s_crs,
                src_transform=s_aff,
                src_shape=(srows, scols),
                all_touched=cutline_all_touched,
            ),
            dtype=bool,
        )
        src_mask = cmask if src_mask is None else (np.asarray(src_mask, dtype=bool) & cmask)
    if dst_nodata is None and src_nodata is not None:
        dst_nodata = src_nodata
    # ---------------------------------------------------------------- plan & run
    plan = plan_warp(
        s_crs, s_aff, (srows, scols), d_crs, d_aff, dst_shape,
        resampling=method, tolerance=tolerance, kernel_scaling=kernel_scaling,
    )
    if destination is None:
        destination = np.zeros((nb, *dst_shape), dtype=source.dtype)
        out3 = destination
        squeeze = source.ndim == 2
    else:
        out3 = _as_3d(destination)
        squeeze = False
    execute_plan(
        plan, src3, out3,
        src_nodata=None if src_nodata is None else float(src_nodata),
        dst_nodata=None if dst_nodata is None else float(dst_nodata),
        src_alpha=src_alpha, src_mask=src_mask, init_dest_nodata=init_dest_nodata,
        num_threads=num_threads, return_mask=False, reference_kernels=reference_kernels,
    )
    result = out3[0] if squeeze else destination
    return result, d_aff
