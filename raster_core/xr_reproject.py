"""``reproject_xarray``: lazy reprojection of a (Dask-backed) DataArray.

Each output chunk is one task that depends only on the source blocks its footprint (GDAL's
source window of that chunk, kernel halo included) touches; output chunks no source pixel
reaches are constant fills. The source grid is read from the DataArray's conventions: a
grid-mapping coordinate (``spatial_ref`` with ``crs_wkt``/``spatial_ref`` and optionally
``GeoTransform``, as raster_core, rioxarray and odc-geo write it) and regular ``y``/``x``
pixel-centre coordinates (the last two dimensions).

Needs xarray and dask (the ``xarray`` extra).

Examples
--------
>>> import raster_core                                                       # doctest: +SKIP
>>> da = raster_core.load(["data/RGB.byte.tif"], ["red"], resolution=300, chunks={"y": 256, "x": 256})  # doctest: +SKIP
>>> out = raster_core.reproject_xarray(da, srs="EPSG:4326", resolution=0.005, resampler="bilinear")  # doctest: +SKIP
>>> out.rio.crs.to_epsg()                                                    # doctest: +SKIP
4326
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from raster_core.errors import InvalidParameterError

__all__ = ["reproject_xarray", "source_grid"]


def source_grid(da: Any) -> Any:
    """The :class:`~raster_core.grid.GeoBox` of a DataArray whose last two dims are y, x.

    Raises
    ------
    InvalidParameterError
        When the DataArray has no CRS (no grid-mapping coordinate) or its y/x coordinates
        are not regular.
    """
    from affine import Affine

    from raster_core.grid import GeoBox

    gm = da.attrs.get("grid_mapping") or da.encoding.get("grid_mapping") or "spatial_ref"
    if gm not in da.coords:
        raise InvalidParameterError(f"the DataArray has no grid-mapping coordinate {gm!r} (no CRS)")
    attrs = da.coords[gm].attrs
    wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
    if not wkt:
        raise InvalidParameterError(f"coordinate {gm!r} has no crs_wkt/spatial_ref attribute")
    ydim, xdim = da.dims[-2:]
    h, w = da.shape[-2:]
    gt = attrs.get("GeoTransform")
    if gt:
        tf = Affine.from_gdal(*(float(v) for v in str(gt).split()))
    else:
        if xdim not in da.coords or ydim not in da.coords or w < 2 or h < 2:
            raise InvalidParameterError("the DataArray needs x/y coordinates (2+ pixels) or a GeoTransform")
        x = np.asarray(da.coords[xdim].values, dtype=np.float64)
        y = np.asarray(da.coords[ydim].values, dtype=np.float64)
        dx, dy = (x[-1] - x[0]) / (w - 1), (y[-1] - y[0]) / (h - 1)
        if not (np.allclose(np.diff(x), dx, rtol=1e-6, atol=0) and np.allclose(np.diff(y), dy, rtol=1e-6, atol=0)):
            raise InvalidParameterError("the x/y coordinates are not regularly spaced")
        tf = Affine(dx, 0.0, x[0] - dx / 2, 0.0, dy, y[0] - dy / 2)
    return GeoBox(wkt, tf, w, h)


@dataclass(frozen=True)
class _ReprojectPlan:
    """The whole-grid warp plan and the fill value (one graph key shared by every task)."""

    plan: Any
    src_nodata: float | None
    fill: Any
    dtype: np.dtype


def _warp_block(rp: _ReprojectPlan, dst_window: tuple[int, int, int, int], src_window: tuple[int, int, int, int],
                lead_shape: tuple[int, ...], blocks: list[list[np.ndarray]],
                block_origin: tuple[int, int]) -> np.ndarray:
    """One output chunk: assemble the source blocks, warp the source window into the chunk."""
    from affine import Affine

    from raster_core.warp import execute_plan, plan_warp

    r0, r1, c0, c1 = dst_window
    col_off, row_off, w, h = src_window
    mosaic = np.concatenate([np.concatenate(row, axis=-1) for row in blocks], axis=-2)
    br, bc = block_origin
    pixels = mosaic[..., row_off - br:row_off - br + h, col_off - bc:col_off - bc + w]
    n = int(np.prod(lead_shape)) if lead_shape else 1
    pixels = np.ascontiguousarray(pixels.reshape((n, h, w)))
    full = rp.plan
    t = full.transformer
    src_tf = Affine.from_gdal(*t.src_gt) @ Affine.translation(col_off, row_off)
    sub = plan_warp(t.src_wkt, src_tf, (h, w), t.dst_wkt, Affine.from_gdal(*t.dst_gt), full.dst_shape,
                    resampling=full.requested_resampling)
    sub = replace(sub, resampling=full.resampling, xscale=full.xscale, yscale=full.yscale,
                  xradius=full.xradius, yradius=full.yradius)
    dest = np.empty((n, r1 - r0, c1 - c0), dtype=rp.dtype)
    produced = execute_plan(sub, pixels, dest, dst_window=dst_window, src_nodata=rp.src_nodata,
                            dst_nodata=rp.src_nodata, num_threads=1)
    if produced is not None:
        for b in range(n):
            np.copyto(dest[b], rp.fill, where=~produced, casting="unsafe")
    return dest.reshape(tuple(lead_shape) + (r1 - r0, c1 - c0))


def _dst_geobox(src: Any, srs: Any, resolution: Any, dimensions: Any, bounds: Any, like: Any) -> Any:
    from raster_core.grid import GeoBox, output_geobox

    if like is not None:
        if any(v is not None for v in (srs, resolution, dimensions, bounds)):
            raise InvalidParameterError("give like, or srs/resolution/dimensions/bounds, not both")
        if hasattr(like, "dims") and hasattr(like, "coords"):
            return source_grid(like)
        affine = getattr(like, "affine", None)  # an odc-geo GeoBox
        if affine is not None:
            return GeoBox(like.crs.to_wkt(), affine, like.width, like.height)
        return GeoBox.from_grid(like)
    return output_geobox([src], srs=srs, resolution=resolution, dimensions=dimensions, bounds=bounds)


def reproject_xarray(da: Any, *, srs: Any = None, resolution: Any = None, dimensions: Any = None,
                     bounds: Any = None, like: Any = None, resampler: str = "near", chunks: Any = None,
                     nodata: float | None = None) -> Any:
    """Reproject a DataArray lazily onto another grid (GDAL 3.10's pixels, as
    :func:`raster_core.reproject`).

    Parameters
    ----------
    da
        ``(..., y, x)`` DataArray with a CRS (see :func:`source_grid`); NumPy-backed arrays
        are wrapped as one Dask chunk.
    srs, resolution, dimensions, bounds
        The output grid (gdalwarp ``-t_srs -tr -ts -te``); defaults follow gdalwarp.
    like
        Instead: a DataArray, a :class:`~raster_core.grid.GeoBox` or an odc-geo GeoBox whose
        grid to use.
    resampler
        Any resampler of :func:`raster_core.reproject`.
    chunks
        Output ``(y, x)`` chunk sizes (an int, a pair or a ``{"y": ..., "x": ...}`` dict);
        default: the source's largest spatial chunk.
    nodata
        Source nodata (default: the ``_FillValue``/``nodata`` attribute). Output pixels
        without data get it, else NaN (float) or 0.

    Returns
    -------
    xarray.DataArray
        Dask-backed; the leading dimensions and their coordinates are kept.
    """
    import dask.array as dsa
    from dask.highlevelgraph import HighLevelGraph

    from raster_core._dask import chunk_bounds, constant_block
    from raster_core.resampling import KERNEL_RADIUS
    from raster_core.warp import compute_source_window, plan_warp
    from raster_core.xr import pixel_centres, spatial_ref_attrs

    src = source_grid(da)
    dst = _dst_geobox(src, srs, resolution, dimensions, bounds, like)
    full = plan_warp(src.crs, src.transform, (src.height, src.width), dst.crs, dst.transform,
                     (dst.height, dst.width), resampling=resampler)
    data = da.data
    if not isinstance(data, dsa.Array):
        data = dsa.from_array(np.asarray(data), chunks=data.shape)
    dtype = data.dtype
    if nodata is None:
        nodata = da.attrs.get("_FillValue", da.attrs.get("nodata", da.encoding.get("_FillValue")))
    src_nodata = None if nodata is None else float(nodata)
    if src_nodata is not None:
        fill = dtype.type(src_nodata)
    else:
        fill = dtype.type(np.nan) if dtype.kind == "f" else dtype.type(0)
    # output chunks
    if chunks is None:
        cy, cx = max(data.chunks[-2]), max(data.chunks[-1])
    elif isinstance(chunks, Mapping):
        cy, cx = chunks.get("y", max(data.chunks[-2])), chunks.get("x", max(data.chunks[-1]))
    elif isinstance(chunks, (int, np.integer)):
        cy = cx = int(chunks)
    else:
        cy, cx = chunks
    for v in (cy, cx):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidParameterError(f"chunk sizes must be positive integers, got {chunks!r}")
    out_chunks_y = tuple(min(cy, dst.height - s) for s in range(0, dst.height, cy))
    out_chunks_x = tuple(min(cx, dst.width - s) for s in range(0, dst.width, cx))
    lead_chunks = data.chunks[:-2]
    sy, sx = chunk_bounds(data.chunks[-2]), chunk_bounds(data.chunks[-1])
    oy, ox = chunk_bounds(out_chunks_y), chunk_bounds(out_chunks_x)
    radius = KERNEL_RADIUS.get(full.resampling, 0)

    name = "raster_core-reproject-" + data.name.split("-")[-1][:8] + "-" + _token()
    plan_key = name + "-plan"
    rp = _ReprojectPlan(full, src_nodata, fill, np.dtype(dtype))
    dsk: dict[Any, Any] = {plan_key: rp}
    windows: dict[tuple[int, int], Any] = {}
    for yi in range(len(out_chunks_y)):
        for xi in range(len(out_chunks_x)):
            r0, r1, c0, c1 = int(oy[yi]), int(oy[yi + 1]), int(ox[xi]), int(ox[xi + 1])
            win = None if full.window is None else compute_source_window(
                full.transformer, (src.height, src.width), (c0, r0, c1 - c0, r1 - r0), radius)
            if win is not None and not win.is_empty:
                # one more pixel of margin: the chunk's window must hold every tap of the kernel
                m = max(full.xradius, full.yradius) + 1
                col0, row0 = max(0, win.col_off - m), max(0, win.row_off - m)
                col1 = min(src.width, win.col_off + win.width + m)
                row1 = min(src.height, win.row_off + win.height + m)
                windows[(yi, xi)] = (col0, row0, col1 - col0, row1 - row0)
                continue
            windows[(yi, xi)] = win
    for lead in np.ndindex(*(len(c) for c in lead_chunks)):
        lead_shape = tuple(int(c[i]) for c, i in zip(lead_chunks, lead, strict=False))
        for (yi, xi), win in windows.items():
            key = (name, *lead, yi, xi)
            r0, r1, c0, c1 = int(oy[yi]), int(oy[yi + 1]), int(ox[xi]), int(ox[xi + 1])
            if win is None:
                dsk[key] = (constant_block, lead_shape + (r1 - r0, c1 - c0), fill, np.dtype(dtype).str)
                continue
            col0, row0, w, h = win
            by0 = int(np.searchsorted(sy, row0, side="right") - 1)
            by1 = int(np.searchsorted(sy, row0 + h, side="left"))
            bx0 = int(np.searchsorted(sx, col0, side="right") - 1)
            bx1 = int(np.searchsorted(sx, col0 + w, side="left"))
            blocks = [[(data.name, *lead, j, i) for i in range(bx0, bx1)] for j in range(by0, by1)]
            dsk[key] = (_warp_block, plan_key, (r0, r1, c0, c1), win, lead_shape, blocks,
                        (int(sy[by0]), int(sx[bx0])))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[data])
    out = dsa.Array(graph, name, chunks=lead_chunks + (out_chunks_y, out_chunks_x), dtype=dtype)

    import xarray as xr

    x, y = pixel_centres(dst)
    ydim, xdim = da.dims[-2:]
    lead_dims = da.dims[:-2]
    coords = {k: v for k, v in da.coords.items() if set(v.dims) <= set(lead_dims) and k != "spatial_ref"
              and not (da.attrs.get("grid_mapping") and k == da.attrs.get("grid_mapping"))}
    coords[ydim] = y
    coords[xdim] = x
    coords["spatial_ref"] = xr.Variable((), np.int64(0), spatial_ref_attrs(dst))
    attrs = {k: v for k, v in da.attrs.items() if k not in ("grid_mapping", "_FillValue", "nodata")}
    attrs["grid_mapping"] = "spatial_ref"
    if src_nodata is not None or dtype.kind != "f":
        attrs["_FillValue"] = fill
        attrs["nodata"] = fill
    result = xr.DataArray(out, dims=da.dims, coords=coords, attrs=attrs)
    result.name = da.name
    return result


def _token() -> str:
    import uuid

    return uuid.uuid4().hex[:12]
