"""The ONE table of warp operations -> reference (rasterio/GDAL) calls.

Drives both the parity tests (tests/test_warp_parity.py) and the benchmarks
(benchmarks/warp.py). Each :class:`WarpOp` row says how to call raster_core and how
to call ``rasterio.warp.reproject`` for the same operation, and what agreement the
acceptance criteria demand. Add a row per method/option (the reduce-family engineer
adds his rows to ``OPS`` below).

rasterio is used here as the TEST ORACLE only (never imported by raster_core).

Examples
--------
>>> from benchmarks.ops import OPS
>>> OPS["near"].rio_resampling
'nearest'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["WarpOp", "OPS", "run_ours", "run_reference", "compare", "Agreement"]


@dataclass(frozen=True)
class WarpOp:
    """One operation: raster_core call + reference call + acceptance criterion."""

    name: str
    resampling: str  # raster_core name
    rio_resampling: str  # rasterio.enums.Resampling member name
    criterion: str  # "identical" or "within" (1 DN for integers, 1e-4 relative for floats)
    threshold: float  # minimum fraction of agreeing pixels
    ours_kwargs: dict[str, Any] = field(default_factory=dict)
    rio_kwargs: dict[str, Any] = field(default_factory=dict)  # extra GDAL warp options


OPS: dict[str, WarpOp] = {
    op.name: op
    for op in [
        WarpOp("near", "near", "nearest", "identical", 0.9999),
        WarpOp("bilinear", "bilinear", "bilinear", "within", 0.999),
        WarpOp("cubic", "cubic", "cubic", "within", 0.999),
        WarpOp("cubicspline", "cubicspline", "cubic_spline", "within", 0.999),
        WarpOp("lanczos", "lanczos", "lanczos", "within", 0.999),
        # kernel_scaling=False <-> GDAL XSCALE=1 / YSCALE=1
        WarpOp("bilinear_noscale", "bilinear", "bilinear", "within", 0.999,
               {"kernel_scaling": False}, {"XSCALE": "1", "YSCALE": "1"}),
        WarpOp("cubic_noscale", "cubic", "cubic", "within", 0.999,
               {"kernel_scaling": False}, {"XSCALE": "1", "YSCALE": "1"}),
        WarpOp("cubicspline_noscale", "cubicspline", "cubic_spline", "within", 0.999,
               {"kernel_scaling": False}, {"XSCALE": "1", "YSCALE": "1"}),
        WarpOp("lanczos_noscale", "lanczos", "lanczos", "within", 0.999,
               {"kernel_scaling": False}, {"XSCALE": "1", "YSCALE": "1"}),
        # reduce family (raster_core._warp_reduce)
        WarpOp("average", "average", "average", "within", 0.999),
        WarpOp("rms", "rms", "rms", "within", 0.999),
        WarpOp("sum", "sum", "sum", "within", 0.999),
        WarpOp("mode", "mode", "mode", "identical", 0.999),
        WarpOp("min", "min", "min", "identical", 0.999),
        WarpOp("max", "max", "max", "identical", 0.999),
        WarpOp("med", "med", "med", "identical", 0.999),
        WarpOp("q1", "q1", "q1", "identical", 0.999),
        WarpOp("q3", "q3", "q3", "identical", 0.999),
    ]
}

INTERPOLATING_OPS = ("near", "bilinear", "cubic", "cubicspline", "lanczos")


def run_ours(
    op: WarpOp,
    source: np.ndarray,
    *,
    src_transform: Any,
    src_crs: Any,
    dst_transform: Any,
    dst_crs: Any,
    dst_shape: tuple[int, int],
    dst_dtype: Any = None,
    src_nodata: float | None = None,
    dst_nodata: float | None = None,
    num_threads: int | None = 1,
    **kw: Any,
) -> np.ndarray:
    """raster_core.warp.reproject for ``op`` into a fresh destination array."""
    from raster_core.warp import reproject

    shape = (source.shape[0], *dst_shape) if source.ndim == 3 else tuple(dst_shape)
    dst = np.zeros(shape, dtype=dst_dtype or source.dtype)
    out, _ = reproject(
        source, dst, src_transform=src_transform, src_crs=src_crs, dst_transform=dst_transform,
        dst_crs=dst_crs, resampling=op.resampling, src_nodata=src_nodata, dst_nodata=dst_nodata,
        num_threads=num_threads, **{**op.ours_kwargs, **kw},
    )
    return out


def run_reference(
    op: WarpOp,
    source: np.ndarray,
    *,
    src_transform: Any,
    src_crs: Any,
    dst_transform: Any,
    dst_crs: Any,
    dst_shape: tuple[int, int],
    dst_dtype: Any = None,
    src_nodata: float | None = None,
    dst_nodata: float | None = None,
    num_threads: int | None = 1,
    **kw: Any,
) -> np.ndarray:
    """rasterio.warp.reproject (GDAL 3.10) for ``op``, one warp chunk (large warp_mem_limit)."""
    import rasterio.warp
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.enums import Resampling

    def aff(t: Any) -> Affine:
        return t if isinstance(t, Affine) else Affine.from_gdal(*t)

    def crs(c: Any) -> CRS:
        import pyproj

        return CRS.from_wkt(pyproj.CRS.from_user_input(c).to_wkt())

    shape = (source.shape[0], *dst_shape) if source.ndim == 3 else tuple(dst_shape)
    dst = np.zeros(shape, dtype=dst_dtype or source.dtype)
    rasterio.warp.reproject(
        source, dst, src_transform=aff(src_transform), src_crs=crs(src_crs), dst_transform=aff(dst_transform),
        dst_crs=crs(dst_crs), resampling=Resampling[op.rio_resampling], src_nodata=src_nodata,
        dst_nodata=dst_nodata, num_threads=num_threads or 1, warp_mem_limit=4096,
        SRC_FILL_RATIO_HEURISTICS="NO", **{**op.rio_kwargs, **kw},
    )
    return dst


@dataclass
class Agreement:
    n: int
    mask_agree: float  # fraction of pixels where both agree on valid / nodata
    value_agree: float  # fraction of pixels (all) agreeing per the criterion (mask mismatch = disagree)
    max_abs_diff: float

    def ok(self, op: WarpOp) -> bool:
        return self.value_agree >= op.threshold and self.mask_agree >= 0.999


def compare(op: WarpOp, ours: np.ndarray, ref: np.ndarray, dst_nodata: float | None) -> Agreement:
    """Pixel agreement of two warp results (per band, all bands pooled)."""
    a = np.asarray(ours)
    b = np.asarray(ref)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    if dst_nodata is None:
        va = np.ones(a.shape, bool)
        vb = np.ones(b.shape, bool)
    elif np.isnan(dst_nodata):
        va, vb = ~np.isnan(a), ~np.isnan(b)
    else:
        va, vb = a != dst_nodata, b != dst_nodata
    if a.dtype.kind == "f":
        fa = np.where(va, a, 0).astype(np.float64)
        fb = np.where(vb, b, 0).astype(np.float64)
        both_nan = np.isnan(fa) & np.isnan(fb)
        diff = np.where(both_nan, 0.0, np.abs(fa - fb))
        if op.criterion == "identical":
            close = (fa == fb) | both_nan
        else:
            close = (diff <= 1e-4 * np.maximum(np.abs(fa), np.abs(fb))) | (diff <= 1e-12) | both_nan
    else:
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        close = diff == 0 if op.criterion == "identical" else diff <= 1
    mask_ok = va == vb
    agree = mask_ok & (close | (~va & ~vb))
    md = float(np.nanmax(np.where(va & vb, diff, 0))) if a.size else 0.0
    return Agreement(int(a.size), float(mask_ok.mean()), float(agree.mean()), md)
