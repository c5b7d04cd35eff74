"""Burn polygons into rasters: :func:`rasterize` and :func:`geometry_mask`.

Same meaning and the same pixels as ``rasterio.features.rasterize`` / ``geometry_mask``
(GDAL 3.10's ``GDALRasterizeGeometries``) for polygons:

* default ("pixel as point"): a pixel is burned when its centre is inside the polygon, with
  GDAL's tie rules (a centre exactly on a left/top edge is in, on a right/bottom edge out);
* ``all_touched=True``: additionally every pixel that a ring outline passes through;
* holes are excluded (even-odd fill of all rings of a polygon together); the parts of a
  MultiPolygon and the shapes of the list are burned one after the other (the last wins).

Geometries are polygons only (Polygon, MultiPolygon, or collections of them); points,
lines, empty and invalid (self-intersecting) polygons raise
:class:`~raster_core.errors.GeometryError`. The coordinates must be in the CRS of
``transform``.

Examples
--------
>>> from affine import Affine
>>> from raster_core.rasterize import rasterize
>>> square = {"type": "Polygon", "coordinates": [[[0.5, 0.5], [3.5, 0.5], [3.5, 3.5], [0.5, 3.5], [0.5, 0.5]]]}
>>> rasterize([square], (4, 4), Affine.identity())
array([[0, 1, 1, 1],
       [0, 1, 1, 1],
       [0, 1, 1, 1],
       [0, 0, 0, 0]], dtype=uint8)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from raster_core._parallel import resolve_num_threads, row_blocks, run_blocks
from raster_core.crs import TransformLike, gdal_geotransform, inv_geotransform, to_affine
from raster_core.errors import DataTypeError, GeometryError, InvalidParameterError, ShapeError
from raster_core.geometry import check_polygonal, polygon_parts, raise_if_invalid, read_geometry

__all__ = ["rasterize", "geometry_mask", "PreparedPolygons", "prepare_polygons", "gdal_inverse_geotransform"]

_VALID_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64")


@dataclass
class PreparedPolygons:
    """Polygons as flat arrays in pixel coordinates, rings oriented as GDAL orients them."""

    xs: np.ndarray  # float64
    ys: np.ndarray  # float64
    ring_off: np.ndarray  # int64, n_rings + 1
    poly_off: np.ndarray  # int64, n_polys + 1
    values: np.ndarray  # float64, n_polys

    @property
    def n_polygons(self) -> int:
        return int(self.poly_off.shape[0] - 1)


def gdal_inverse_geotransform(transform: TransformLike) -> tuple[float, ...]:
    """Inverse geotransform computed exactly as ``GDALInvGeoTransform`` does (GDAL order).

    Raises
    ------
    TransformError
        When GDAL would consider the transform singular.

    Examples
    --------
    >>> from affine import Affine
    >>> gdal_inverse_geotransform(Affine(10.0, 0, 100.0, 0, -10.0, 200.0))
    (-10.0, 0.1, 0.0, 20.0, 0.0, -0.1)
    """
    return inv_geotransform(gdal_geotransform(to_affine(transform)))


def _polygons_to_arrays(polys: Sequence[shapely.Polygon]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    arr = np.empty(len(polys), dtype=object)
    arr[:] = list(polys)
    rings, ring_poly = shapely.get_rings(arr, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    ring_counts = np.bincount(ring_idx, minlength=len(rings)) if len(rings) else np.zeros(0, np.int64)
    ring_off = np.zeros(len(rings) + 1, dtype=np.int64)
    np.cumsum(ring_counts, out=ring_off[1:])
    poly_counts = np.bincount(ring_poly, minlength=len(polys)) if len(rings) else np.zeros(len(polys), np.int64)
    poly_off = np.zeros(len(polys) + 1, dtype=np.int64)
    np.cumsum(poly_counts, out=poly_off[1:])
    xs = np.ascontiguousarray(coords[:, 0], dtype=np.float64)
    ys = np.ascontiguousarray(coords[:, 1], dtype=np.float64)
    return xs, ys, ring_off, poly_off


def prepare_polygons(
    polygons: Sequence[shapely.Polygon],
    values: Sequence[float] | np.ndarray,
    *,
    inverse_geotransform: tuple[float, ...] | None = None,
) -> PreparedPolygons:
    """Flatten polygons for the kernel.

    Rings are oriented (GDAL's ``isClockwise`` test) on the coordinates *as given*, then
    mapped to pixel coordinates with ``inverse_geotransform`` (GDAL order; ``None`` when the
    coordinates are already pixel coordinates, as for a warp cutline).
    """
    from raster_core._kernels.rasterize import orient_rings

    xs, ys, ring_off, poly_off = _polygons_to_arrays(polygons)
    if xs.size:
        orient_rings(xs, ys, ring_off)
    if inverse_geotransform is not None:
        i0, i1, i2, i3, i4, i5 = inverse_geotransform
        px = i0 + xs * i1 + ys * i2
        py = i3 + xs * i4 + ys * i5
        xs, ys = np.ascontiguousarray(px), np.ascontiguousarray(py)
    return PreparedPolygons(xs, ys, ring_off, poly_off, np.asarray(values, dtype=np.float64))


def _gdal_copy_word(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Burn values converted like GDALCopyWord(double -> T)."""
    if dtype.kind == "f":
        return values.astype(dtype)
    info = np.iinfo(dtype)
    v = np.where(np.isnan(values), 0.0, values)
    v = np.where(v >= 0, v + 0.5, v - 0.5)
    v = np.clip(v, float(info.min), float(info.max))
    out = np.trunc(v)
    # float(info.max) may round up past the range for 64-bit types
    res = np.empty(values.shape, dtype=dtype)
    for i, x in enumerate(out):
        xi = int(x)
        res[i] = min(max(xi, int(info.min)), int(info.max))
    return res


def burn_prepared(
    out: np.ndarray,
    prepared: PreparedPolygons,
    *,
    grid_shape: tuple[int, int],
    row_off: int = 0,
    col_off: int = 0,
    all_touched: bool = False,
    num_threads: int | None = None,
) -> np.ndarray:
    """Burn prepared polygons into ``out``, the window at (row_off, col_off) of a grid of
    ``grid_shape`` pixels (pixel coordinates of ``prepared`` refer to that grid)."""
    from raster_core._kernels.rasterize import burn_polygons, edge_table

    if prepared.n_polygons == 0 or out.size == 0:
        return out
    values = _gdal_copy_word(prepared.values, out.dtype)
    n_rows = out.shape[0]
    table = edge_table(prepared.xs, prepared.ys, prepared.ring_off, prepared.poly_off, grid_shape=grid_shape,
                       rows=(row_off, row_off + n_rows))
    threads = resolve_num_threads(num_threads)
    block = max(64, -(-n_rows // (4 * threads))) if threads > 1 else n_rows
    blocks = row_blocks(n_rows, block)

    direct = out.dtype == np.uint8 and out.flags.c_contiguous
    if direct:
        kernel_values = values
    else:  # burn polygon labels (int32), then map them to values: one compiled kernel for all dtypes
        kernel_values = np.arange(1, prepared.n_polygons + 1, dtype=np.int32)

    def work(a: int, b: int) -> None:
        target = out[a:b] if direct else np.zeros((b - a, out.shape[1]), dtype=np.int32)
        burn_polygons(target, table, kernel_values, row0=row_off + a, col0=col_off, all_touched=bool(all_touched))
        if not direct:
            hit = target > 0
            if hit.any():
                view = out[a:b]
                view[hit] = values[target[hit] - 1]

    run_blocks(work, blocks, num_threads=threads)
    return out


def _is_single_geometry(obj: Any) -> bool:
    return (
        isinstance(obj, (BaseGeometry, str, bytes, Mapping))
        or (hasattr(obj, "__geo_interface__") and not isinstance(obj, (list, tuple)))
    )


def _collect_shapes(shapes: Any, default_value: float, fill: float) -> tuple[list[shapely.Polygon], list[float]]:
    if shapes is None:
        raise GeometryError("shapes is required (got None)")
    if _is_single_geometry(shapes):
        items: Iterable[Any] = [shapes]
    else:
        try:
            items = list(shapes)
        except TypeError:
            raise GeometryError(
                f"shapes must be a geometry or an iterable of geometries or (geometry, value) pairs, got "
                f"{type(shapes).__name__}"
            ) from None
    polys: list[shapely.Polygon] = []
    vals: list[float] = []
    names: list[str] = []
    part_numbers: list[int | None] = []
    for index, item in enumerate(items):
        if isinstance(item, (tuple, list)) and len(item) == 2 and not isinstance(item[0], (int, float)):
            geom_in, value = item
            if value is None:
                value = fill
        else:
            geom_in, value = item, default_value
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"shape {index}: burn value {value!r} is not a number") from None
        geom = read_geometry(geom_in, name=f"shape {index}").geometry
        check_polygonal(geom, name=f"shape {index}", validate=False)
        parts = polygon_parts(geom)
        for k, part in enumerate(parts):
            if part.is_empty:
                continue
            polys.append(part)
            vals.append(value)
            names.append(f"shape {index}")
            part_numbers.append(k if len(parts) > 1 else None)
    raise_if_invalid(polys, names, part_numbers)
    return polys, vals


def rasterize(
    shapes: Any,
    out_shape: tuple[int, int] | None,
    transform: TransformLike,
    *,
    fill: float = 0,
    default_value: float = 1,
    all_touched: bool = False,
    dtype: Any = "uint8",
    out: np.ndarray | None = None,
    num_threads: int | None = None,
) -> np.ndarray:
    """Return an array with the polygons of ``shapes`` burned in (``rasterio.features.rasterize``).

    Parameters
    ----------
    shapes
        A geometry, or an iterable of geometries or ``(geometry, value)`` pairs. A geometry
        is a shapely geometry, a GeoJSON mapping (geometry, Feature, FeatureCollection), a
        GeoJSON or WKT string, or an object with ``__geo_interface__``. Polygons and
        MultiPolygons only. A ``None`` value burns ``fill``.
    out_shape
        ``(rows, cols)`` of the output (ignored when ``out`` is given).
    transform
        Affine (or GDAL 6-tuple) from pixel to the geometries' coordinates.
    fill
        Value of pixels not covered (when ``out`` is not given).
    default_value
        Burn value of geometries given without a value.
    all_touched
        Also burn every pixel that a polygon outline passes through.
    dtype
        Output data type (when ``out`` is not given): int8..int64, uint8..uint64, float32,
        float64. Burn values are converted as GDAL does (rounded half away from zero and
        clamped for integers).
    out
        Existing 2-D array to burn into (its pixels outside the shapes are kept).
    num_threads
        Threads for row blocks (``None``: all cores). Results do not depend on it.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    GeometryError
        Unparsable, empty, non-polygonal or invalid geometries.
    DataTypeError, ShapeError, TransformError
        Bad dtype, shape or transform.

    Examples
    --------
    >>> from affine import Affine
    >>> tri = "POLYGON ((0 0, 4 0, 0 4, 0 0))"
    >>> rasterize([(tri, 7)], (4, 4), Affine.identity(), all_touched=True)
    array([[7, 7, 7, 7],
           [7, 7, 7, 7],
           [7, 7, 7, 0],
           [7, 7, 0, 0]], dtype=uint8)
    """
    resolve_num_threads(num_threads)  # typed error before any work
    if out is not None:
        if not isinstance(out, np.ndarray) or out.ndim != 2:
            raise ShapeError("out must be a 2-D numpy array")
        if out.dtype.name not in _VALID_DTYPES:
            raise DataTypeError(f"unsupported out dtype {out.dtype.name}; use one of {', '.join(_VALID_DTYPES)}")
        if not out.flags.writeable:
            raise InvalidParameterError("out is read-only")
        target = out
    else:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise DataTypeError(f"unknown dtype {dtype!r}") from None
        if dt.name not in _VALID_DTYPES:
            raise DataTypeError(f"unsupported dtype {dt.name}; use one of {', '.join(_VALID_DTYPES)}")
        shape = _check_shape(out_shape)
        _check_fill(fill, dt)
        # np.full writes every page up front (sequential, fast); np.zeros would page-fault lazily
        # inside the kernel, which is slower for scattered shapes
        target = np.full(shape, fill, dtype=dt)
    if min(target.shape) == 0:
        raise ShapeError(f"output shape must be positive, got {target.shape}")
    inv = gdal_inverse_geotransform(transform)
    polys, vals = _collect_shapes(shapes, default_value, fill)
    prepared = prepare_polygons(polys, vals, inverse_geotransform=inv)
    burn_prepared(target, prepared, grid_shape=target.shape, all_touched=all_touched, num_threads=num_threads)
    return target


def _check_fill(fill: Any, dtype: np.dtype) -> None:
    if isinstance(fill, bool) or not isinstance(fill, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"fill must be a number, got {fill!r}")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not (info.min <= fill <= info.max) or float(fill) != int(fill):
            raise InvalidParameterError(f"fill {fill!r} is not representable as {dtype.name}")


def _check_shape(out_shape: Any) -> tuple[int, int]:
    try:
        rows, cols = (int(v) for v in out_shape)
    except (TypeError, ValueError):
        raise ShapeError(f"out_shape must be (rows, cols), got {out_shape!r}") from None
    if rows <= 0 or cols <= 0:
        raise ShapeError(f"out_shape must be positive, got {out_shape!r}")
    return rows, cols


def geometry_mask(
    geometries: Any,
    out_shape: tuple[int, int],
    transform: TransformLike,
    *,
    all_touched: bool = False,
    invert: bool = False,
    num_threads: int | None = None,
) -> np.ndarray:
    """Boolean mask of the pixels covered by ``geometries`` (``rasterio.features.geometry_mask``).

    By default the mask is ``True`` *outside* the geometries (a numpy-style mask);
    ``invert=True`` makes it ``True`` inside.

    Examples
    --------
    >>> from affine import Affine
    >>> geometry_mask(["POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0))"], (3, 3), Affine.identity(), invert=True)
    array([[ True,  True, False],
           [ True,  True, False],
           [False, False, False]])
    """
    fill, mask_value = (0, 1) if invert else (1, 0)
    arr = rasterize(
        geometries,
        out_shape,
        transform,
        fill=fill,
        default_value=mask_value,
        all_touched=all_touched,
        dtype="uint8",
        num_threads=num_threads,
    )
    return arr.view(bool)

