"""Output grids: :class:`GeoBox` and GDAL-compatible grid planning.

Everything here is pure planning (no pixels are read) and every result is a small,
picklable value, so grids can be computed once and shipped to workers.

* :class:`GeoBox` - a CRS + affine transform + size.
* :func:`calculate_default_transform` - rasterio's function of the same name, i.e.
  GDAL 3.10 ``GDALSuggestedWarpOutput2`` (edge sampling, the diagonal resolution
  rule, the retry grid, antimeridian and pole handling, border adjustments) plus
  rasterio's ``resolution=`` / ``dst_width=, dst_height=`` post-processing.
* :func:`aligned_target` - rasterio's ``-tap`` helper.
* :func:`transform_bounds` - rasterio/GDAL ``OCTTransformBounds`` (densified edges,
  antimeridian and pole aware), through PROJ.
* :func:`output_geobox` - the Raster API / ``gdalwarp`` rules that turn ``srs``,
  ``resolution``, ``dimensions``, ``bounds``, ``bounds_srs``, ``align_pixels`` and a
  cutline into an output :class:`GeoBox`.

Verification
------------
``tests/test_grid.py`` compares with rasterio 1.4.4 / GDAL 3.10.3 (``calculate_default_transform``
on every shared file x 7 target CRSs incl. polar and equal-area ones, with ``resolution`` and
``dst_width``/``dst_height``; ``WarpedVRT`` for rotated/south-up sources; GCP sources;
``transform_bounds`` incl. antimeridian and pole boxes; ``aligned_target``).
``tests/test_grid_gdalwarp.py`` compares :func:`output_geobox` with real ``gdalwarp``
(``GDALWarp()`` of rasterio's libgdal): ``-t_srs/-tr/-tap/-ts/-te/-te_srs``, mosaics,
``-crop_to_cutline``, the Mercator clamp, the CHECK_WITH_INVERT_PROJ retry, GCP sources.

Known deviations from GDAL 3.10
-------------------------------
* ``bounds_srs`` is reprojected with densified edges by default (the Raster API's rule);
  ``bounds_srs_corners_only=True`` gives gdalwarp 3.10's ``-te_srs`` (two corners).
* With several sources the default resolution is the finest one (gdalwarp); pass
  ``mosaic_resolution="first"`` for the first image's.
* Pipeline choice is PROJ's (via pyproj, PROJ 9.5) with the raster's area of interest, as GDAL;
  datum shifts that need grids absent on one side could differ.
* ``transform_bounds`` raises :class:`TransformError` where rasterio returns four infinities.
* ``align_pixels`` without ``resolution`` (gdalwarp refuses ``-tap`` without ``-tr``) snaps with
  the computed resolution (or the one implied by ``dimensions``).

Examples
--------
>>> from raster_core.grid import GeoBox, output_geobox, SourceGrid
>>> from affine import Affine
>>> src = SourceGrid("EPSG:32615", Affine(30, 0, 300000, 0, -30, 3300000), 4000, 4000)
>>> gb = output_geobox([src], bounds=(300000.5, 3000000.25, 400000.5, 3200000.25),
...                    resolution=200)
>>> gb.shape
(1000, 500)
>>> output_geobox([src], bounds=(300000.5, 3000000.25, 400000.5, 3200000.25),
...               resolution=200, align_pixels=True).shape
(1001, 501)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyproj
from affine import Affine
from pyproj.enums import TransformDirection

from raster_core.crs import CRSLike, TransformLike, crs_equal, gdal_geotransform, inv_geotransform, to_affine, to_crs
from raster_core.errors import (
    CRSError,
    GeometryError,
    InvalidParameterError,
    TransformError,
    UnsupportedFeatureError,
)
from raster_core.geo.transformers import area_of_interest, geodetic_crs, pyproj_transformer

__all__ = [
    "GeoBox",
    "SourceGrid",
    "GridLike",
    "calculate_default_transform",
    "suggested_warp_output",
    "aligned_target",
    "transform_bounds",
    "output_geobox",
    "RESOLUTION_AND_DIMENSIONS_MESSAGE",
]

#: Message raised when both ``resolution`` and ``dimensions`` are given (AOI wording of the spec).
RESOLUTION_AND_DIMENSIONS_MESSAGE = "Cannot set both resolution and dimensions"

Bounds = tuple[float, float, float, float]


# --------------------------------------------------------------------------------------
# small validation helpers
# --------------------------------------------------------------------------------------


def _finite_float(value: Any, name: str) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    return f


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")
    try:
        i = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}") from None
    if i != value and not (isinstance(value, float) and value.is_integer()):
        raise InvalidParameterError(f"{name} must be an integer, got {value!r}")
    if i < 1:
        raise InvalidParameterError(f"{name} must be >= 1, got {value!r}")
    return i


def _check_bounds(bounds: Any, name: str = "bounds", *, allow_antimeridian: bool = False) -> Bounds:
    try:
        vals = tuple(bounds)
    except TypeError:
        raise InvalidParameterError(f"{name} must be (min_x, min_y, max_x, max_y), got {bounds!r}") from None
    if len(vals) != 4:
        raise InvalidParameterError(f"{name} must have 4 values (min_x, min_y, max_x, max_y), got {bounds!r}")
    left, bottom, right, top = (_finite_float(v, name) for v in vals)
    if top <= bottom or (right <= left and not (allow_antimeridian and right != left)):
        raise InvalidParameterError(
            f"{name} {(left, bottom, right, top)} is empty or inverted: need min_x < max_x and min_y < max_y"
        )
    return left, bottom, right, top


def _check_resolution(resolution: Any) -> tuple[float, float]:
    if isinstance(resolution, (int, float, np.number)) and not isinstance(resolution, bool):
        xres = yres = _finite_float(resolution, "resolution")
    else:
        try:
            vals = tuple(resolution)
        except TypeError:
            raise InvalidParameterError(f"resolution must be a number or (xres, yres), got {resolution!r}") from None
        if len(vals) == 1:
            vals = (vals[0], vals[0])
        if len(vals) != 2:
            raise InvalidParameterError(f"resolution must be a number or (xres, yres), got {resolution!r}")
        xres, yres = (_finite_float(v, "resolution") for v in vals)
    if xres <= 0 or yres <= 0:
        raise InvalidParameterError(f"resolution must be > 0, got {resolution!r}")
    return xres, yres


# --------------------------------------------------------------------------------------
# GeoBox
# --------------------------------------------------------------------------------------


class GridLike(Protocol):
    """Anything with ``crs``, ``transform``, ``width`` and ``height`` (a Dataset, a GeoBox...)."""

    @property
    def crs(self) -> Any: ...
    @property
    def transform(self) -> Any: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


@dataclass(frozen=True, eq=False)
class GeoBox:
    """A georeferenced pixel grid: CRS, affine transform (pixel corner -> CRS) and size.

    Immutable, hashable, picklable and cheap. Coordinates follow GDAL's
    convention: ``transform @ (col, row)`` is the *top-left corner* of pixel
    ``(row, col)``.

    Parameters
    ----------
    crs : pyproj.CRS or anything :func:`raster_core.crs.to_crs` accepts
    transform : affine.Affine or GDAL 6-tuple
    width, height : int
        Number of columns and rows (>= 1).

    Examples
    --------
    >>> from affine import Affine
    >>> gb = GeoBox("EPSG:32618", Affine(30, 0, 500000, 0, -30, 4500000), width=100, height=80)
    >>> gb.shape, gb.bounds, gb.resolution
    ((80, 100), (500000.0, 4497600.0, 503000.0, 4500000.0), (30.0, 30.0))
    >>> gb.window(10, 20, 5, 5).bounds
    (500300.0, 4499250.0, 500450.0, 4499400.0)
    >>> GeoBox.from_bounds((0, 0, 10, 10), crs=4326, resolution=1).shape
    (10, 10)
    """

    crs: pyproj.CRS
    transform: Affine
    width: int
    height: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", to_crs(self.crs))
        object.__setattr__(self, "transform", to_affine(self.transform))
        object.__setattr__(self, "width", _positive_int(self.width, "width"))
        object.__setattr__(self, "height", _positive_int(self.height, "height"))

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_bounds(
        cls,
        bounds: Sequence[float],
        *,
        crs: CRSLike,
        resolution: float | tuple[float, float] | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> GeoBox:
        """North-up grid covering ``bounds`` = (left, bottom, right, top).

        Give either ``resolution`` (then the size is ``int(extent/res + 0.5)``, the
        origin stays at (left, top) and the right/bottom edges move, as gdalwarp
        ``-te -tr``) or ``width`` and ``height`` (exact extent, possibly non-square
        pixels, as gdalwarp ``-te -ts``).

        Examples
        --------
        >>> GeoBox.from_bounds((0, 0, 10, 5), crs=4326, width=20, height=5).resolution
        (0.5, 1.0)
        """
        left, bottom, right, top = _check_bounds(bounds)
        if resolution is not None:
            if width is not None or height is not None:
                raise InvalidParameterError(RESOLUTION_AND_DIMENSIONS_MESSAGE)
            xres, yres = _check_resolution(resolution)
            w = max(1, int((right - left + xres / 2) / xres))
            h = max(1, int((top - bottom + yres / 2) / yres))
            return cls(to_crs(crs), Affine(xres, 0.0, left, 0.0, -yres, top), w, h)
        if width is None or height is None:
            raise InvalidParameterError("GeoBox.from_bounds needs resolution, or width and height")
        w = _positive_int(width, "width")
        h = _positive_int(height, "height")
        return cls(to_crs(crs), Affine((right - left) / w, 0.0, left, 0.0, -(top - bottom) / h, top), w, h)

    @classmethod
    def from_grid(cls, grid: GridLike) -> GeoBox:
        """The GeoBox of anything with ``crs``, ``transform``, ``width``, ``height``."""
        if isinstance(grid, GeoBox):
            return grid
        return cls(grid.crs, grid.transform, grid.width, grid.height)

    # -- properties ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` = (rows, cols)."""
        return (self.height, self.width)

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL-order geotransform ``(x0, dx, rx, y0, ry, dy)``."""
        return gdal_geotransform(self.transform)

    @property
    def is_rectilinear(self) -> bool:
        """True when the transform has no rotation/shear terms."""
        return self.transform.b == 0.0 and self.transform.d == 0.0

    @property
    def resolution(self) -> tuple[float, float]:
        """``(xres, yres)``, both positive (pixel width and height in CRS units)."""
        t = self.transform
        if self.is_rectilinear:
            return (abs(t.a), abs(t.e))
        return (math.hypot(t.a, t.d), math.hypot(t.b, t.e))

    @property
    def corners(self) -> tuple[tuple[float, float], ...]:
        """CRS coordinates of the (upper-left, upper-right, lower-right, lower-left) corners."""
        t, w, h = self.transform, self.width, self.height
        return tuple((t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f) for x, y in ((0, 0), (w, 0), (w, h), (0, h)))

    @property
    def bounds(self) -> Bounds:
        """``(left, bottom, right, top)``: the envelope of the four corners."""
        t = self.transform
        if self.is_rectilinear:
            x0, x1 = t.c, t.c + self.width * t.a
            y0, y1 = t.f, t.f + self.height * t.e
            return (float(min(x0, x1)), float(min(y0, y1)), float(max(x0, x1)), float(max(y0, y1)))
        xs, ys = zip(*self.corners, strict=True)
        return (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))

    @property
    def center(self) -> tuple[float, float]:
        """CRS coordinates of the centre of the grid."""
        t, x, y = self.transform, self.width / 2.0, self.height / 2.0
        return (t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f)

    # -- derived grids -------------------------------------------------------------
    def window(self, col_off: int, row_off: int, width: int, height: int) -> GeoBox:
        """Sub-grid of ``width`` x ``height`` pixels starting at ``(col_off, row_off)``.

        Offsets may be negative or extend past the grid (padding); the result is
        aligned with this grid.

        Examples
        --------
        >>> gb = GeoBox(4326, Affine(1, 0, 0, 0, -1, 10), 10, 10)
        >>> gb.window(2, 3, 4, 5).transform.c, gb.window(2, 3, 4, 5).transform.f
        (2.0, 7.0)
        """
        for v, n in ((col_off, "col_off"), (row_off, "row_off")):
            if isinstance(v, bool) or int(v) != v:
                raise InvalidParameterError(f"{n} must be an integer, got {v!r}")
        a = self.transform
        c, r = int(col_off), int(row_off)
        t = Affine(a.a, a.b, a.a * c + a.b * r + a.c, a.d, a.e, a.d * c + a.e * r + a.f)
        return GeoBox(self.crs, t, width, height)

    def __getitem__(self, key: tuple[slice, slice]) -> GeoBox:
        """``geobox[row_slice, col_slice]`` -> sub-grid (steps not supported)."""
        if not (isinstance(key, tuple) and len(key) == 2):
            raise InvalidParameterError("index a GeoBox with [row_slice, col_slice]")
        rs, cs = key
        r0, r1, rstep = rs.indices(self.height)
        c0, c1, cstep = cs.indices(self.width)
        if rstep != 1 or cstep != 1:
            raise InvalidParameterError("GeoBox slices must have step 1")
        return self.window(c0, r0, c1 - c0, r1 - r0)

    # -- comparison / display -----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeoBox):
            return NotImplemented
        return (
            self.width == other.width
            and self.height == other.height
            and tuple(self.transform)[:6] == tuple(other.transform)[:6]
            and crs_equal(self.crs, other.crs)
        )

    def __hash__(self) -> int:
        return hash((self.width, self.height, tuple(self.transform)[:6]))

    def almost_equals(self, other: GeoBox, *, rtol: float = 1e-12) -> bool:
        """Equal size and CRS, transform members equal within ``rtol`` of the pixel size."""
        if self.shape != other.shape or not crs_equal(self.crs, other.crs):
            return False
        tol = rtol * max(self.resolution + other.resolution)
        scale_tol = (
            rtol * max(abs(v) for v in tuple(self.transform)[:6] if v) if any(tuple(self.transform)[:6]) else rtol
        )
        a, b = tuple(self.transform)[:6], tuple(other.transform)[:6]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            t = scale_tol if i in (2, 5) else tol
            if abs(x - y) > max(t, tol):
                return False
        return True

    def __repr__(self) -> str:
        epsg = None
        try:
            epsg = self.crs.to_epsg(min_confidence=90)
        except Exception:  # pragma: no cover - defensive
            pass
        crs = f"EPSG:{epsg}" if epsg else (self.crs.name or "custom CRS")
        gt = ", ".join(f"{v:.10g}" for v in self.geotransform)
        return f"GeoBox({crs!r}, {self.width}x{self.height}, geotransform=({gt}))"

    def __reduce__(self) -> tuple[Any, ...]:
        return (GeoBox, (self.crs.to_wkt(), self.transform, self.width, self.height))


@dataclass(frozen=True)
class SourceGrid:
    """A minimal source description for grid planning: CRS, transform and size.

    Any object with the same four attributes (e.g. a :class:`raster_core.Dataset`)
    can be used instead.

    Examples
    --------
    >>> SourceGrid(4326, Affine(1, 0, -180, 0, -1, 90), 360, 180).crs.to_epsg()
    4326
    """

    crs: pyproj.CRS
    transform: Affine
    width: int
    height: int
    gcps: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "crs", to_crs(self.crs))
        object.__setattr__(self, "transform", to_affine(self.transform))
        object.__setattr__(self, "width", _positive_int(self.width, "width"))
        object.__setattr__(self, "height", _positive_int(self.height, "height"))
        if self.gcps is not None:
            object.__setattr__(self, "gcps", tuple(self.gcps))
            if not self.gcps:
                object.__setattr__(self, "gcps", None)

    def _gen_img_proj(self, dst: pyproj.CRS, *, dst_gt: Sequence[float] | None = None,
                      check_invert: bool = False) -> _GenImgProj:
        if self.gcps:
            poly = _GCPPolynomial(self.gcps, 0, unwrap_longitudes=_is_geographic_degrees(self.crs))
            return _GenImgProj(self.crs, None, self.width, self.height, dst, dst_gt=dst_gt, gcp=poly,
                               check_invert=check_invert)
        return _GenImgProj(self.crs, gdal_geotransform(self.transform), self.width, self.height, dst,
                           dst_gt=dst_gt, check_invert=check_invert)


# --------------------------------------------------------------------------------------
# coordinate transformations (GDAL OGRProjCT semantics on top of pyproj)
# --------------------------------------------------------------------------------------

def _is_geographic_degrees(crs: pyproj.CRS) -> bool:
    if not crs.is_geographic:
        return False
    try:
        axes = crs.axis_info
        return bool(axes) and all(
            (a.unit_name or "").lower() in ("degree", "degree minute second hemisphere")
            or abs((a.unit_conversion_factor or 0) - math.pi / 180) < 1e-12
            for a in axes[:2]
        )
    except Exception:  # pragma: no cover - defensive
        return True


class _Reprojector:
    """GDAL ``GDALReprojectionTransform`` over pyproj: x/y arrays in, x/y/ok arrays out.

    Reproduces the parts of GDAL's set-up that change results: the area of
    interest computed from the source raster (pipeline choice) and the
    ``CENTER_LONG`` longitude re-wrapping of a geographic source.
    """

    def __init__(self, src: pyproj.CRS, dst: pyproj.CRS, *, aoi: tuple[float, float, float, float] | None = None,
                 center_long: float | None = None, check_invert: bool = False) -> None:
        self.src = src
        self.dst = dst
        self.aoi = aoi
        self.center_long = center_long
        # GDAL's CHECK_WITH_INVERT_PROJ=YES: results that do not round-trip within THRESHOLD
        # (0.1 for a geographic input, 10000 otherwise) are failures
        self.check_invert = check_invert
        self._tr = pyproj_transformer(src, dst, aoi)

    def _run(self, x: np.ndarray, y: np.ndarray, inverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.array(x, dtype=np.float64, copy=True).ravel()
        y = np.array(y, dtype=np.float64, copy=True).ravel()
        if not inverse and self.center_long is not None:
            # OGRProjCT source wrap: bring longitudes into [center-180, center+180]
            lo = self.center_long - 180.0
            hi = self.center_long + 180.0
            x = np.where(x < lo, x + 360.0, x)
            x = np.where(x > hi, x - 360.0, x)
        finite = np.isfinite(x) & np.isfinite(y)
        ox = np.full_like(x, np.inf)
        oy = np.full_like(y, np.inf)
        if finite.any():
            direction = TransformDirection.INVERSE if inverse else TransformDirection.FORWARD
            try:
                rx, ry = self._tr.transform(x[finite], y[finite], direction=direction, errcheck=False)
            except pyproj.exceptions.ProjError:  # pragma: no cover - errcheck=False should not raise
                rx = np.full(int(finite.sum()), np.inf)
                ry = rx.copy()
            ox[finite] = rx
            oy[finite] = ry
            if self.check_invert:
                back = TransformDirection.FORWARD if inverse else TransformDirection.INVERSE
                good = finite & np.isfinite(ox) & np.isfinite(oy)
                if good.any():
                    bx, by = self._tr.transform(ox[good], oy[good], direction=back, errcheck=False)
                    thr = 0.1 if (self.dst if inverse else self.src).is_geographic else 10000.0
                    with np.errstate(invalid="ignore"):
                        bad = ~((np.abs(np.asarray(bx) - x[good]) <= thr) & (np.abs(np.asarray(by) - y[good]) <= thr))
                    idx = np.flatnonzero(good)[bad]
                    ox[idx] = np.inf
                    oy[idx] = np.inf
        ok = np.isfinite(ox) & np.isfinite(oy)
        ox[~ok] = np.inf
        oy[~ok] = np.inf
        if inverse and self.center_long is not None:
            # the reverse OGRProjCT wraps its (geographic) output around CENTER_LONG
            lo = self.center_long - 180.0
            hi = self.center_long + 180.0
            ox = np.where(ok & (ox < lo), ox + 360.0, ox)
            ox = np.where(ok & (ox > hi), ox - 360.0, ox)
        return ox, oy, ok

    def forward(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._run(x, y, inverse=False)

    def inverse(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._run(x, y, inverse=True)


def _center_long(gt: Sequence[float], width: int, height: int) -> float | None:
    """GDAL InsertCenterLong for a geographic source with a geotransform."""
    xs = (gt[0], gt[0] + width * gt[1], gt[0] + height * gt[2], gt[0] + width * gt[1] + height * gt[2])
    lo, hi = min(xs), max(xs)
    eps = max(abs(gt[1]), abs(gt[2]))
    if hi - lo > 360.0 + eps * (1 + 0.05):
        return None
    # GDAL formats it with "%g" (6 significant digits) then parses it back
    return float("%g" % ((hi + lo) / 2.0))


class _GCPPolynomial:
    """GDAL's GCP polynomial transformer (``GDALCreateGCPTransformer``, order 0 = auto).

    Least-squares polynomials of order 1-3 in coordinates centred on the GCP means,
    pixel/line -> georeferenced and, fitted separately, georeferenced -> pixel/line.
    """

    def __init__(self, gcps: Sequence[Any], order: int = 0, *, unwrap_longitudes: bool = False) -> None:
        rows = []
        for g in gcps:
            if hasattr(g, "row") and hasattr(g, "col"):
                rows.append((float(g.col), float(g.row), float(g.x), float(g.y)))
            else:
                try:
                    r, c, x, y = (float(v) for v in tuple(g)[:4])
                except (TypeError, ValueError):
                    raise InvalidParameterError(f"a GCP must have row, col, x, y; got {g!r}") from None
                rows.append((c, r, x, y))
        a = np.array(rows, dtype=np.float64).reshape(-1, 4)
        if len(a) == 0 or not np.isfinite(a).all():
            raise InvalidParameterError("gcps must be a non-empty list of finite ground control points")
        if unwrap_longitudes:  # GDALGCPAntimeridianUnwrap (AUTO, geographic GCPs)
            lon = a[:, 2]
            if ((np.abs(lon) <= 180) & (np.abs(lon) >= 170)).all():
                a[:, 2] = np.where(lon < 0, lon + 360, lon)
        n = len(a)
        if order == 0:
            order = 2 if n >= 6 else 1
        if n == 2 and order == 1 and a[0, 2] != a[1, 2] and a[0, 3] != a[1, 3]:
            a = np.vstack([a, [a[1, 0], a[0, 1], a[1, 2], a[0, 3]]])
        self.order = order
        self.px_mean = a[:, 0].mean(), a[:, 1].mean()
        self.geo_mean = a[:, 2].mean(), a[:, 3].mean()
        need = {1: 3, 2: 6, 3: 10}[order]
        if len(a) < need:
            raise TransformError(f"{len(a)} GCPs are not enough for a polynomial of order {order}")
        self.to_geo = self._fit(a[:, 0] - self.px_mean[0], a[:, 1] - self.px_mean[1], a[:, 2], a[:, 3])
        self.from_geo = self._fit(a[:, 2] - self.geo_mean[0], a[:, 3] - self.geo_mean[1], a[:, 0], a[:, 1])

    def _terms(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        t = [np.ones_like(x), x, y]
        if self.order >= 2:
            t += [x * x, x * y, y * y]
        if self.order >= 3:
            t += [x * x * x, x * x * y, x * y * y, y * y * y]
        return np.stack(t, axis=-1)

    def _fit(self, x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self._terms(x, y)
        if np.linalg.matrix_rank(m) < m.shape[1]:
            raise TransformError("the GCPs are ill-conditioned for the polynomial order")
        cu = np.linalg.lstsq(m, u, rcond=None)[0]
        cv = np.linalg.lstsq(m, v, rcond=None)[0]
        return cu, cv

    def forward(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self._terms(px - self.px_mean[0], py - self.px_mean[1])
        return m @ self.to_geo[0], m @ self.to_geo[1]

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self._terms(x - self.geo_mean[0], y - self.geo_mean[1])
        return m @ self.from_geo[0], m @ self.from_geo[1]


class _GenImgProj:
    """GDAL ``GDALGenImgProjTransform``: source pixel/line <-> destination pixel/line.

    Without ``dst_gt`` (no destination dataset) the destination "pixels" are the
    destination CRS coordinates, as in ``GDALSuggestedWarpOutput2`` calls.
    """

    def __init__(self, src_crs: pyproj.CRS, gt: Sequence[float] | None, width: int, height: int,
                 dst_crs: pyproj.CRS, dst_gt: Sequence[float] | None = None,
                 gcp: _GCPPolynomial | None = None, check_invert: bool = False) -> None:
        self.dst_gt: tuple[float, ...] | None = None
        self.dst_inv: tuple[float, ...] | None = None
        if dst_gt is not None:
            self.dst_gt = tuple(float(v) for v in dst_gt)
            self.dst_inv = inv_geotransform(self.dst_gt)
        self.gcp = gcp
        if gcp is not None:
            # a GCP source: no geotransform, no area of interest, no CENTER_LONG
            self.gt: tuple[float, ...] = (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
            self.inv: tuple[float, ...] = self.gt
            self.width, self.height = width, height
            self.src_crs, self.dst_crs = src_crs, dst_crs
            self.same = crs_equal(src_crs, dst_crs)
            self.reproj: _Reprojector | None = (
                None if self.same else _Reprojector(src_crs, dst_crs, check_invert=check_invert))
            return
        assert gt is not None
        self.gt = tuple(float(v) for v in gt)
        self.inv = inv_geotransform(self.gt)
        self.width = width
        self.height = height
        self.src_crs = src_crs
        self.dst_crs = dst_crs
        self.same = crs_equal(src_crs, dst_crs)
        insert_center = src_crs.is_geographic
        self.reproj = None
        if not self.same or insert_center:
            aoi = area_of_interest(src_crs, self.gt, width, height)
            center = _center_long(self.gt, width, height) if insert_center else None
            self.reproj = _Reprojector(src_crs, dst_crs, aoi=aoi, center_long=center, check_invert=check_invert)

    def forward(self, px: Any, py: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        px = np.asarray(px, dtype=np.float64).ravel()
        py = np.asarray(py, dtype=np.float64).ravel()
        if self.gcp is not None:
            x, y = self.gcp.forward(px, py)
        else:
            g = self.gt
            with np.errstate(invalid="ignore", over="ignore"):
                x = g[0] + px * g[1] + py * g[2]
                y = g[3] + px * g[4] + py * g[5]
        if self.reproj is None:
            ok = np.ones(x.shape, bool)
        else:
            x, y, ok = self.reproj.forward(x, y)
        if self.dst_inv is not None:
            d = self.dst_inv
            with np.errstate(invalid="ignore"):
                nx = d[0] + x * d[1] + y * d[2]
                ny = d[3] + x * d[4] + y * d[5]
            x = np.where(ok, nx, np.inf)
            y = np.where(ok, ny, np.inf)
        return x, y, ok

    def inverse(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if self.dst_gt is not None:
            d = self.dst_gt
            x, y = d[0] + x * d[1] + y * d[2], d[3] + x * d[4] + y * d[5]
        if self.reproj is None:
            ok = np.ones(x.shape, bool)
            sx, sy = x, y
        else:
            sx, sy, ok = self.reproj.inverse(x, y)
        g = self.inv
        with np.errstate(invalid="ignore"):
            if self.gcp is not None:
                px, py = self.gcp.inverse(np.where(ok, sx, 0.0), np.where(ok, sy, 0.0))
            else:
                px = g[0] + sx * g[1] + sy * g[2]
                py = g[3] + sx * g[4] + sy * g[5]
        px = np.where(ok, px, np.inf)
        py = np.where(ok, py, np.inf)
        return px, py, ok




# --------------------------------------------------------------------------------------
# transform_bounds (OCTTransformBounds)
# --------------------------------------------------------------------------------------


def _wkt1_projection_params(crs: pyproj.CRS) -> tuple[str | None, dict[str, float]]:
    """PROJECTION name and PARAMETERs of GDAL's WKT1 export (what OGR's GetAttrValue/GetNormProjParm see)."""
    try:
        wkt = crs.to_wkt("WKT1_GDAL")
    except Exception:  # pragma: no cover - CRS not representable in WKT1
        return None, {}
    if not wkt:
        return None, {}
    m = re.search(r'PROJECTION\["([^"]+)"', wkt)
    params = {k.lower(): float(v) for k, v in re.findall(r'PARAMETER\["([^"]+)",([-+0-9.eE]+)\]', wkt)}
    return (m.group(1) if m else None), params


def _simple_min(a: np.ndarray) -> float:
    return float(a.min())


def _simple_max(a: np.ndarray) -> float:
    v = a[a != np.inf]
    return float(v.max()) if v.size else float(a[0])


def _prev_valid(i: int, a: np.ndarray) -> int:
    n = len(a)
    p = i - 1 if i > 0 else n - 1
    while a[p] == np.inf and p != i:
        p = p - 1 if p > 0 else n - 1
    return p


def _antimeridian_min(a: np.ndarray) -> float:
    positive_min = np.inf
    min_value = np.inf
    crossed = 0
    positive_meridian = False
    for i in range(len(a)):
        if a[i] == np.inf:
            continue
        delta = a[_prev_valid(i, a)] - a[i]
        if delta >= 200 and delta != np.inf:
            if crossed == 0:
                positive_min = min_value
            crossed += 1
            positive_meridian = False
        elif delta <= -200 and delta != np.inf:
            if crossed == 0:
                positive_min = a[i]
            crossed += 1
            positive_meridian = True
        if positive_meridian and a[i] < positive_min:
            positive_min = a[i]
        if a[i] < min_value:
            min_value = a[i]
    if crossed == 2:
        return float(positive_min)
    if crossed == 4:
        return -180.0
    return float(min_value)


def _antimeridian_max(a: np.ndarray) -> float:
    negative_max = -np.inf
    max_value = -np.inf
    negative_meridian = False
    crossed = 0
    for i in range(len(a)):
        if a[i] == np.inf:
            continue
        delta = a[_prev_valid(i, a)] - a[i]
        if delta >= 200 and delta != np.inf:
            if crossed == 0:
                negative_max = a[i]
            crossed += 1
            negative_meridian = True
        elif delta <= -200 and delta != np.inf:
            if crossed == 0:
                negative_max = max_value
            negative_meridian = False
            crossed += 1
        if negative_meridian and (a[i] > negative_max or negative_max == np.inf) and a[i] != np.inf:
            negative_max = a[i]
        if (a[i] > max_value or max_value == np.inf) and a[i] != np.inf:
            max_value = a[i]
    if crossed == 2:
        return float(negative_max)
    if crossed == 4:
        return 180.0
    return float(max_value)


def _oct_transform_bounds(rp: _Reprojector, xmin: float, ymin: float, xmax: float, ymax: float,
                          densify_pts: int) -> Bounds | None:
    """Port of GDAL 3.10 ``OGRProjCT::TransformBounds`` (lon/lat axis order everywhere).

    Returns None when GDAL would return failure, and may return +inf members
    where GDAL does (every boundary point failed).
    """
    src, dst = rp.src, rp.dst
    if crs_equal(src, dst) and rp.center_long is None:
        return (xmin, ymin, xmax, ymax)
    degree_input = _is_geographic_degrees(src)
    if degree_input and ymax < ymin:
        raise InvalidParameterError(f"bounds {(xmin, ymin, xmax, ymax)}: latitude max < latitude min")
    degree_output = _is_geographic_degrees(dst)
    if degree_output and densify_pts < 2:
        raise InvalidParameterError("densify_pts must be at least 2 if the output is geographic.")
    side = densify_pts + 1
    north_pole = south_pole = False
    if degree_output:
        px, py, _ = rp.inverse([0.0, 0.0], [90.0, -90.0])
        north_pole = bool(xmin < px[0] < xmax and ymax > py[0] > ymin)
        south_pole = bool(xmin < px[1] < xmax and ymax > py[1] > ymin)
    if degree_input and xmax < xmin:
        delta_x = (xmax - xmin + 360.0) / side
    else:
        delta_x = (xmax - xmin) / side
    delta_y = (ymax - ymin) / side
    i = np.arange(side, dtype=np.float64)
    xs = np.concatenate([np.full(side, xmin), xmin + i * delta_x, np.full(side, xmax), xmax - i * delta_x])
    ys = np.concatenate([ymax - i * delta_y, np.full(side, ymin), ymin + i * delta_y, np.full(side, ymax)])
    tx, ty, ok = rp.forward(xs, ys)
    if not ok.any():
        return (math.inf, math.inf, math.inf, math.inf)

    if not degree_output:
        oxmin, oxmax = _simple_min(tx), _simple_max(tx)
        oymin, oymax = _simple_min(ty), _simple_max(ty)
        if dst.is_projected:
            geog = geodetic_crs(dst)
            if geog is not None:
                try:
                    back = _Reprojector(geog, src, check_invert=rp.check_invert)
                except CRSError:
                    back = None
                if back is not None:
                    proj_name, params = _wkt1_projection_params(dst)
                    # OGR's FindProjParm falls back to similar names
                    lon0 = params.get(
                        "central_meridian", params.get("longitude_of_center", params.get("longitude_of_origin", 0.0))
                    )
                    lat0 = params.get("latitude_of_origin", params.get("latitude_of_center", 0.0))
                    abs_pole = 90.0
                    if proj_name is not None and proj_name.lower() == "mercator_1sp" and lon0 == 0:
                        abs_pole = 85.0511287798066
                    signed_pole = 0.0
                    includes_pole = False

                    def try_point(lon: float, lat: float) -> tuple[float, float] | None:
                        sx, sy, sok = back.forward([lon], [lat])
                        if not (sok[0] and sx[0] >= xmin and sy[0] >= ymin and sx[0] <= xmax and sy[0] <= ymax):
                            return None
                        fx, fy, fok = rp.forward(sx, sy)
                        if not fok[0]:
                            return None
                        return float(fx[0]), float(fy[0])

                    for sign in (-1, 1):
                        pt = try_point(lon0, sign * (abs_pole - 1e-8))
                        if pt is not None:
                            signed_pole = sign * abs_pole
                            includes_pole = True
                            oxmin, oymin = min(oxmin, pt[0]), min(oymin, pt[1])
                            oxmax, oymax = max(oxmax, pt[0]), max(oymax, pt[1])

                    def try_180(lat: float) -> None:
                        nonlocal oxmin, oymin, oxmax, oymax
                        for sign in (-1, 1):
                            lon = math.fmod(lon0 + sign * (180 - 1e-8) + 180, 360) - 180
                            pt = try_point(lon, lat)
                            if pt is not None:
                                oxmin, oymin = min(oxmin, pt[0]), min(oymin, pt[1])
                                oxmax, oymax = max(oxmax, pt[0]), max(oymax, pt[1])

                    if lon0 != 0:
                        try_180(lat0)
                    if includes_pole and lat0 != signed_pole:
                        try_180(signed_pole)
        return (oxmin, oymin, oxmax, oymax)
    if north_pole:
        return (-180.0, _simple_min(ty), 180.0, 90.0)
    if south_pole:
        return (-180.0, -90.0, 180.0, _simple_max(ty))
    return (_antimeridian_min(tx), _simple_min(ty), _antimeridian_max(tx), _simple_max(ty))


def transform_bounds(
    src_crs: CRSLike,
    dst_crs: CRSLike,
    left: float,
    bottom: float,
    right: float,
    top: float,
    densify_pts: int = 21,
) -> Bounds:
    """Transform a bounding box, densifying its edges, like ``rasterio.warp.transform_bounds``.

    A port of GDAL 3.10's ``OCTTransformBounds``: ``densify_pts`` extra points
    along each edge and the outermost coordinates kept; a geographic result that
    crosses the antimeridian is reported as ``left > right``; a pole inside the box
    extends a geographic result to latitude +-90 and longitude +-180; for a
    projected target, the points at the target's poles (or Mercator's
    85.0511 deg) and at +-180 deg from its central meridian are added when they
    fall inside the source box.

    Parameters
    ----------
    src_crs, dst_crs : CRS-like
    left, bottom, right, top : float
        Box in ``src_crs``. With a geographic source, ``left > right`` means the box
        crosses the antimeridian.
    densify_pts : int, default 21
        Points added along each edge (0..10000; >= 2 for a geographic target).

    Returns
    -------
    (left, bottom, right, top) in ``dst_crs``.

    Raises
    ------
    CRSError, InvalidParameterError
    TransformError
        When no boundary point can be transformed (rasterio returns four
        infinities instead).

    Examples
    --------
    >>> [round(v, 3) for v in transform_bounds(4326, 3857, -10, -10, 10, 10)]
    [-1113194.908, -1118889.975, 1113194.908, 1118889.975]
    """
    src = to_crs(src_crs, name="src_crs")
    dst = to_crs(dst_crs, name="dst_crs")
    if isinstance(densify_pts, bool) or int(densify_pts) != densify_pts or not 0 <= densify_pts <= 10000:
        raise InvalidParameterError(f"densify_pts must be an integer between 0 and 10000, got {densify_pts!r}")
    vals = [_finite_float(v, "bounds") for v in (left, bottom, right, top)]
    left, bottom, right, top = vals
    rp = _Reprojector(src, dst)
    out = _oct_transform_bounds(rp, left, bottom, right, top, int(densify_pts))
    if out is None or not all(math.isfinite(v) for v in out):
        raise TransformError(f"cannot transform bounds {tuple(vals)} from {src.name!r} to {dst.name!r}")
    return out


# --------------------------------------------------------------------------------------
# GDALSuggestedWarpOutput2
# --------------------------------------------------------------------------------------


def _must_adjust_border(tr: _GenImgProj, extent: Sequence[float], n_pixels: int, n_lines: int,
                        psx: float, psy: float, *, right: bool) -> bool:
    """GDALSuggestedWarpOutput2_MustAdjustFor{Right,Bottom}Border."""
    ratios = []
    r = 0.0
    while r <= 1.01:
        if r > 0.99:
            r = 1.0
        ratios.append(r)
        r += 0.05
    ratios_arr = np.array(ratios)
    if right:
        xs = np.full(len(ratios), extent[2])
        ys = extent[3] - psy * ratios_arr * n_lines
    else:
        xs = extent[0] + psx * ratios_arr * n_pixels
        ys = np.full(len(ratios), extent[1])
    sx, sy, _ = tr.inverse(xs, ys)
    bx, by, _ = tr.forward(sx, sy)
    # expected values use the un-clamped accumulated ratio (as GDAL does)
    exp_r = []
    r = 0.0
    while r <= 1.01:
        exp_r.append(r)
        r += 0.05
    exp_arr = np.array(exp_r[: len(ratios)])
    if right:
        ex = np.full(len(ratios), extent[2])
        ey = extent[3] - psy * exp_arr * n_lines
    else:
        ex = extent[0] + psx * exp_arr * n_pixels
        ey = np.full(len(ratios), extent[1])
    with np.errstate(invalid="ignore"):
        bad = (np.abs(bx - ex) > psx) | (np.abs(by - ey) > psy)
    return bool(bad.all())


def suggested_warp_output(
    src_crs: CRSLike,
    src_transform: TransformLike,
    width: int,
    height: int,
    dst_crs: CRSLike,
) -> tuple[Affine, int, int, Bounds]:
    """GDAL 3.10 ``GDALSuggestedWarpOutput2``: suggested grid of a warp to ``dst_crs``.

    Returns ``(transform, width, height, extent)`` where ``extent`` is GDAL's raw
    ``(minx, miny, maxx, maxy)`` output extent. See :func:`calculate_default_transform`
    for the rasterio-compatible wrapper.

    Raises
    ------
    TransformError
        When too many sample points fail to transform (GDAL's "Too many points
        failed to transform, unable to compute output bounds").
    """
    src = to_crs(src_crs, name="src_crs")
    dst = to_crs(dst_crs, name="dst_crs")
    aff = to_affine(src_transform, name="src_transform")
    W = _positive_int(width, "width")
    H = _positive_int(height, "height")
    gt = gdal_geotransform(aff)
    return _suggested_warp_output(_GenImgProj(src, gt, W, H, dst))


def _suggested_warp_output(tr: _GenImgProj) -> tuple[Affine, int, int, Bounds]:
    src, dst, gt, W, H = tr.src_crs, tr.dst_crs, tr.gt, tr.width, tr.height
    identity_dst = tr.dst_gt is None
    # ---- same CRS, no rotation: keep the source grid (flip south-up) ----
    if gt[2] == 0 and gt[4] == 0 and tr.same and identity_dst and tr.gcp is None:
        out = list(gt)
        if not gt[5] < 0.0:
            out[3] = out[3] + H * out[5]
            out[5] = -out[5]
        ext = [gt[0], gt[3] + H * gt[5], gt[0] + W * gt[1], gt[3]]
        if not gt[5] < 0.0:
            ext[1], ext[3] = ext[3], ext[1]
        return Affine.from_gdal(*out), W, H, tuple(ext)  # type: ignore[return-value]

    n_steps = int(min(H, W) / 50 + 0.5)
    n_steps = min(max(n_steps, 20), 100)
    n1 = n_steps + 1
    step = 1.0 / n_steps
    ratios = np.array([1.0 if i == n_steps else i * step for i in range(n1)])

    # edge samples: top, bottom, left, right
    px = np.concatenate([ratios * W, ratios * W, np.zeros(n1), np.full(n1, float(W))])
    py = np.concatenate([np.zeros(n1), np.full(n1, float(H)), ratios * H, ratios * H])
    x, y, ok = tr.forward(px, py)
    n_failed = int((~ok).sum())

    # ---- ticket #7243: +-180 sign discontinuity ----
    sign_disc = -2  # uninit
    for i in range(len(x)):
        if ok[i]:
            xi = x[i]
            if sign_disc in (1, -1):
                if not ((sign_disc * xi > 0 and sign_disc * xi <= 180.0) or abs(xi - sign_disc * -180.0) < 1e-8):
                    sign_disc = 0
            elif sign_disc == -2:
                for s in (-1, 1):
                    if (s * xi > 0 and s * xi <= 180.0) or abs(xi - s * -180.0) < 1e-8:
                        sign_disc = s
                        break
                if sign_disc == -2:
                    sign_disc = 0
    if sign_disc in (1, -1):
        for i in range(len(x)):
            if ok[i] and abs(x[i] - sign_disc * -180.0) < 1e-8:
                bx, by, bok = tr.inverse([sign_disc * -180.0, sign_disc * 180.0], [y[i], y[i]])
                if abs(bx[0] - bx[1]) < 1e-8 and abs(by[0] - by[1]) < 1e-8:
                    x[i] = sign_disc * 180.0

    # ---- reverse check ----
    if n_failed == 0:
        rx, ry, rok = tr.inverse(x, y)
        if not rok.all():
            n_failed = 1
        else:
            idx = np.arange(len(x))
            k = idx % n1
            r = k * step
            r = np.where(r > 0.99, 1.0, r)
            ex = np.where(idx < n1, r * W, np.where(idx < 2 * n1, r * W, np.where(idx < 3 * n1, 0.0, float(W))))
            ey = np.where(idx < n1, 0.0, np.where(idx < 2 * n1, float(H), r * H))
            bad = (np.abs(rx - ex) > W / float(n_steps)) | (np.abs(ry - ey) > H / float(n_steps))
            if bad.any():
                n_failed = 1

    grid = False
    if n_failed:
        grid = True
        gx, gy = np.meshgrid(ratios * W, ratios * H)  # row-major: top to bottom, left to right
        px = gx.ravel()
        py = gy.ravel()
        x, y, ok = tr.forward(px, py)
    n_samples = len(x)

    # ---- collect bounds, bisecting sign changes / failures along rows ----
    # the transformed samples and bisection points that bound the output (all finite)
    bound_x: list[float] = []
    bound_y: list[float] = []
    n_failed = 0
    for i in range(n_samples):
        if grid:
            x_i = i % n1
            y_i = i // n1
        elif i < 2 * n1:
            x_i = i % n1
            y_i = 0 if i < n1 else n_steps
        else:
            x_i = 0
            y_i = 0
        if x_i > 0 and (ok[i - 1] or ok[i]):
            x_out_before = x[i - 1]
            x_out_after = x[i]
            x_in_before = float(x_i - 1) * W / n_steps
            x_in_after = float(x_i) * W / n_steps
            invalid_before = not ok[i - 1]
            invalid_after = not ok[i]
            n_iter = 0
            while (invalid_before or invalid_after or x_out_before * x_out_after < 0.0) and n_iter < 16:
                xm = (x_in_before + x_in_after) / 2.0
                ym = float(y_i) * H / n_steps
                tx, ty, tok = tr.forward([xm], [ym])
                if tok[0]:
                    tx0, ty0 = float(tx[0]), float(ty[0])
                    bound_x.append(tx0)
                    bound_y.append(ty0)
                    if invalid_before or x_out_before * tx0 < 0:
                        invalid_after = False
                        x_in_after = (x_in_before + x_in_after) / 2.0
                        x_out_after = tx0
                    else:
                        invalid_before = False
                        x_out_before = tx0
                        x_in_before = (x_in_before + x_in_after) / 2.0
                else:
                    if invalid_before:
                        x_in_before = (x_in_before + x_in_after) / 2.0
                    elif invalid_after:
                        x_in_after = (x_in_before + x_in_after) / 2.0
                    else:
                        break
                n_iter += 1
        if not ok[i]:
            n_failed += 1
            continue
        bound_x.append(float(x[i]))
        bound_y.append(float(y[i]))

    if n_failed > n_samples - 10:
        raise TransformError(
            f"Too many points ({n_failed} out of {n_samples}) failed to transform, unable to compute output bounds "
            f"(from {src.name!r} to {dst.name!r})"
        )
    minx, maxx = min(bound_x), max(bound_x)
    miny, maxy = min(bound_y), max(bound_y)

    # ---- poles and TransformBounds (source geotransform + reprojection) ----
    is_geographic_coords = False
    if tr.reproj is not None and identity_dst and tr.gcp is None:
        if _is_geographic_degrees(dst) and not src.is_geographic:
            is_geographic_coords = True
            # (GDAL disables CHECK_WITH_INVERT_PROJ for the pole test)
            pole_rp = tr.reproj
            if pole_rp.check_invert:
                pole_rp = _Reprojector(pole_rp.src, pole_rp.dst, aoi=pole_rp.aoi, center_long=pole_rp.center_long)
            for sign in (-1, 1):
                yinit = 90.0 * sign
                sx, sy, sok = pole_rp.inverse([0.0], [yinit])
                if sok[0]:
                    inv = tr.inv
                    cx = inv[0] + sx[0] * inv[1] + sy[0] * inv[2]
                    cy = inv[3] + sx[0] * inv[4] + sy[0] * inv[5]
                    eps = 1e-5
                    if -eps <= cx <= W + eps and -eps <= cy <= H + eps:
                        fx, fy, fok = pole_rp.forward(sx, sy)
                        if fok[0] and abs(fy[0] - yinit) <= 1e-6:
                            set_x = False
                            lon0 = _orthographic_lon0(src)
                            if lon0 is not None:
                                minx, maxx = lon0 - 90, lon0 + 90
                                set_x = True
                            if not set_x:
                                minx, maxx = -180.0, 180.0
                            if sign < 0:
                                miny = yinit
                            else:
                                maxy = yinit
        if gt[1] != 0 and gt[2] == 0 and gt[4] == 0 and gt[5] != 0:
            ulx, uly = gt[0], gt[3]
            lrx, lry = ulx + gt[1] * W, uly + gt[5] * H
            sb = (min(ulx, lrx), min(uly, lry), max(ulx, lrx), max(uly, lry))
            tb = _oct_transform_bounds(tr.reproj, *sb, 2)
            if tb is not None and all(math.isfinite(v) for v in tb):
                minx = min(minx, tb[0])
                miny = min(miny, tb[1])
                maxx = max(maxx, tb[2])
                maxy = max(maxy, tb[3])

    # ---- resolution from the diagonal ----
    dx = dy = 0.0
    if ok[0] and ok[n_samples - 1]:
        dx = float(x[n_samples - 1] - x[0])
        dy = float(y[n_samples - 1] - y[0])
    if dx == 0.0 or dy == 0.0:
        dx = maxx - minx
        dy = maxy - miny
    diag = math.sqrt(dx * dx + dy * dy)
    pixel_size = diag / math.sqrt(float(W) * W + float(H) * H)
    if not pixel_size > 0 or not math.isfinite(pixel_size):
        raise TransformError(f"cannot compute an output resolution from {src.name!r} to {dst.name!r}")
    d_pixels = (maxx - minx) / pixel_size
    d_lines = (maxy - miny) / pixel_size
    int_max = 2**31 - 2
    if d_pixels > int_max or d_lines > int_max:
        raise TransformError(f"Computed dimensions are too big : {d_pixels + 0.5:.0f} x {d_lines + 0.5:.0f}")
    n_pixels = int(d_pixels + 0.5)
    n_lines = int(d_lines + 0.5)
    if n_pixels < 1 or n_lines < 1:
        raise TransformError(f"suggested output of {n_pixels}x{n_lines} pixels is empty")

    psx = psy = pixel_size
    for ratio in (0.0, 0.001, 0.010, 0.100, 1.000):
        try_psx = psx - psx * ratio / n_pixels
        trial = (minx, maxy - n_lines * psy, minx + n_pixels * try_psx, maxy)
        if not _must_adjust_border(tr, trial, n_pixels, n_lines, try_psx, psy, right=True):
            psx = try_psx
            break
    for ratio in (0.0, 0.001, 0.010, 0.100, 1.000):
        try_psy = psy - psy * ratio / n_lines
        trial = (minx, maxy - n_lines * try_psy, minx + n_pixels * psx, maxy)
        if not _must_adjust_border(tr, trial, n_pixels, n_lines, psx, try_psy, right=False):
            psy = try_psy
            break

    maxx_new = minx + n_pixels * psx
    if is_geographic_coords and ((maxx <= 180 and maxx_new > 180) or maxx == 180):
        maxx = 180.0
        psx = (maxx - minx) / n_pixels
    else:
        maxx = maxx_new
    miny_new = maxy - n_lines * psy
    if is_geographic_coords and miny >= -90 and miny_new < -90:
        miny = -90.0
        psy = (maxy - miny) / n_lines
    else:
        miny = miny_new
    return Affine.from_gdal(minx, psx, 0.0, maxy, 0.0, -psy), n_pixels, n_lines, (minx, miny, maxx, maxy)


def _orthographic_lon0(crs: pyproj.CRS) -> float | None:
    try:
        op = crs.coordinate_operation
    except Exception:  # pragma: no cover
        return None
    if op is None or "orthographic" not in (op.method_name or "").lower():
        return None
    for p in op.params:
        if "longitude" in p.name.lower():
            return float(p.value)
    return 0.0


# --------------------------------------------------------------------------------------
# rasterio-compatible wrappers
# --------------------------------------------------------------------------------------


def calculate_default_transform(
    src_crs: CRSLike,
    dst_crs: CRSLike,
    width: int,
    height: int,
    left: float | None = None,
    bottom: float | None = None,
    right: float | None = None,
    top: float | None = None,
    gcps: Any = None,
    resolution: float | Sequence[float] | None = None,
    dst_width: int | None = None,
    dst_height: int | None = None,
    *,
    src_transform: TransformLike | None = None,
) -> tuple[Affine, int, int]:
    """Default output transform and size of a reprojection, like rasterio's function.

    GDAL's ``GDALSuggestedWarpOutput2`` on the source grid (given by the bounds
    ``left, bottom, right, top`` as rasterio does, or by ``src_transform`` for
    rotated or south-up sources), then rasterio's post-processing: with
    ``resolution`` the origin is kept and the size becomes
    ``ceil(size * suggested_res / resolution)``; with ``dst_width``/``dst_height``
    the pixel size is stretched to give exactly that size.

    Parameters
    ----------
    src_crs, dst_crs : CRS-like
    width, height : int
        Source size in pixels.
    left, bottom, right, top : float, optional
        Source bounds (north-up source grid).
    gcps : sequence of GCPs, optional
        Instead of bounds: ground control points (rasterio ``GroundControlPoint`` objects or
        ``(row, col, x, y)`` tuples) in ``src_crs``; GDAL's polynomial GCP transformer
        (order 2 with >= 6 GCPs, else 1) is used.
    resolution : float or (xres, yres), optional
    dst_width, dst_height : int, optional
    src_transform : Affine, keyword-only, optional
        Source affine transform, instead of the bounds.

    Returns
    -------
    (transform, width, height)

    Raises
    ------
    InvalidParameterError, CRSError, TransformError, UnsupportedFeatureError

    Examples
    --------
    >>> t, w, h = calculate_default_transform("EPSG:32631", "EPSG:4326", 100, 80,
    ...     500013.7, 4497621.3, 503013.7, 4500021.3)
    >>> (w, h), round(t.a, 6)
    ((109, 67), 0.000324)
    """
    given = [v is not None for v in (left, bottom, right, top)]
    if gcps is not None:
        if any(given) or src_transform is not None:
            raise InvalidParameterError(
                "Bounds, gcps, rpcs, and src_geoloc_array are mutually exclusive parameters "
                "and may not be used together."
            )
    if src_transform is not None and any(given):
        raise InvalidParameterError("give either the source bounds or src_transform, not both")
    if src_transform is None and gcps is None:
        if not any(given):
            raise InvalidParameterError("Bounds, gcps, rpcs, or src_geoloc_array are required.")
        if not all(given):
            raise InvalidParameterError("Some, but not all, bounding box parameters were provided.")
    if (dst_width is None) != (dst_height is None):
        raise InvalidParameterError("Either dst_width and dst_height must be specified or none of them.")
    dimensions = None
    if dst_width is not None and dst_height is not None:
        dimensions = (_positive_int(dst_width, "dst_width"), _positive_int(dst_height, "dst_height"))
    if resolution is not None and dimensions is not None:
        raise InvalidParameterError("Resolution cannot be used with dst_width and dst_height.")
    W = _positive_int(width, "width")
    H = _positive_int(height, "height")
    if gcps is not None:
        src = to_crs(src_crs, name="src_crs")
        poly = _GCPPolynomial(gcps, 0, unwrap_longitudes=_is_geographic_degrees(src))
        tr = _GenImgProj(src, None, W, H, to_crs(dst_crs, name="dst_crs"), gcp=poly)
        dst_affine, dw, dh, _ = _suggested_warp_output(tr)
        return _rasterio_postprocess(dst_affine, dw, dh, resolution, dimensions)
    if src_transform is None:
        lft, btm, rgt, tp = (_finite_float(v, "bounds") for v in (left, bottom, right, top))
        # rasterio.transform.from_bounds
        aff = Affine((rgt - lft) / W, 0.0, lft, 0.0, (btm - tp) / H, tp)
        aff = to_affine(aff, name="source bounds")
    else:
        aff = to_affine(src_transform, name="src_transform")

    dst_affine, dw, dh, _ = suggested_warp_output(src_crs, aff, W, H, dst_crs)
    return _rasterio_postprocess(dst_affine, dw, dh, resolution, dimensions)


def _rasterio_postprocess(dst_affine: Affine, dw: int, dh: int, resolution: Any,
                          dimensions: tuple[int, int] | None) -> tuple[Affine, int, int]:
    """rasterio's resolution= / dst_width= handling after GDALSuggestedWarpOutput2."""
    if resolution is not None:
        xres, yres = _check_resolution(resolution)
        yres = -yres
        xratio = dst_affine.a / xres
        yratio = dst_affine.e / yres
        dst_affine = Affine(xres, dst_affine.b, dst_affine.c, dst_affine.d, yres, dst_affine.f)
        dw = math.ceil(dw * xratio)
        dh = math.ceil(dh * yratio)
    if dimensions is not None:
        xratio = dw / dimensions[0]
        yratio = dh / dimensions[1]
        dw, dh = dimensions
        dst_affine = Affine(
            dst_affine.a * xratio, dst_affine.b, dst_affine.c, dst_affine.d, dst_affine.e * yratio, dst_affine.f
        )
    return dst_affine, dw, dh


def aligned_target(
    transform: TransformLike, width: int, height: int, resolution: float | Sequence[float]
) -> tuple[Affine, int, int]:
    """Snap a grid outward to multiples of ``resolution`` (rasterio's ``aligned_target``).

    Examples
    --------
    >>> t, w, h = aligned_target(Affine(200, 0, 300000.5, 0, -200, 3200000.25), 500, 1000, 200)
    >>> (t.c, t.f, w, h)
    (300000.0, 3200200.0, 501, 1001)
    """
    aff = to_affine(transform)
    W = _positive_int(width, "width")
    H = _positive_int(height, "height")
    xres, yres = _check_resolution(resolution)
    xmin = aff.xoff
    ymin = aff.yoff + H * aff.e
    xmax = aff.xoff + W * aff.a
    ymax = aff.yoff
    xmin = math.floor(xmin / xres) * xres
    xmax = math.ceil(xmax / xres) * xres
    ymin = math.floor(ymin / yres) * yres
    ymax = math.ceil(ymax / yres) * yres
    dst = Affine(xres, 0, xmin, 0, -yres, ymax)
    dw = max(int(math.ceil((xmax - xmin) / xres)), 1)
    dh = max(int(math.ceil((ymax - ymin) / yres)), 1)
    return dst, dw, dh


# --------------------------------------------------------------------------------------
# output_geobox: the Raster API / gdalwarp output grid
# --------------------------------------------------------------------------------------


def _as_source(src: Any, i: int) -> SourceGrid:
    if isinstance(src, SourceGrid):
        return src
    missing = [a for a in ("crs", "transform", "width", "height") if not hasattr(src, a)]
    if missing:
        raise InvalidParameterError(f"source {i} has no {', '.join(missing)} (need crs, transform, width, height)")
    if src.crs is None:
        # a GCP-georeferenced dataset: (gcps, crs) like rasterio's Dataset.gcps
        g = getattr(src, "gcps", None)
        if g and isinstance(g, tuple) and len(g) == 2 and g[0] and g[1] is not None:
            return SourceGrid(g[1], Affine.identity(), src.width, src.height, gcps=tuple(g[0]))
        raise CRSError(f"source {i} has no CRS")
    return SourceGrid(src.crs, src.transform, src.width, src.height)


_TE_RES_IN_SRC_CRS = True


def _source_resolution_from_target_extent(tr: _GenImgProj, minx: float, miny: float, maxx: float, maxy: float) -> float:
    """gdalwarp's resolution for a known target extent: local scale on a 10 x 10 grid inside it."""
    n = 10
    eps = min(maxx - minx, abs(maxy - miny)) / 1000
    xs, ys = [], []
    for iy in range(n):
        for ix in range(n):
            x = minx + float(ix) * (maxx - minx) / (n - 1)
            y = miny + float(iy) * (maxy - miny) / (n - 1)
            xs += [x, x - eps if ix == n - 1 else x + eps, x]
            ys += [y, y, y - eps if iy == n - 1 else y + eps]
    in_src_crs = False
    g = tr.gt
    if (_TE_RES_IN_SRC_CRS and tr.reproj is not None and tr.gcp is None and g[2] == 0 and g[4] == 0):
        # use an origin at the target extent's corner transformed to the source CRS (checked
        # with CHECK_WITH_INVERT_PROJ) instead of the source raster's extent
        chk = _Reprojector(tr.dst_crs, tr.src_crs, check_invert=True)
        cx, cy, cok = chk.forward([minx, maxx], [miny, maxy])
        if cok[0] and cok[1]:
            sx, sy, ok = tr.reproj.inverse(xs, ys)
            with np.errstate(invalid="ignore"):
                px = (sx - cx[0]) / g[1]
                py = np.abs((sy - cy[0]) / g[5])
            in_src_crs = True
    if not in_src_crs:
        px, py, ok = tr.inverse(xs, ys)
    pairs = []
    W, H = tr.width, tr.height
    for i in range(0, len(xs), 3):
        if (
            ok[i] and ok[i + 1] and ok[i + 2] and px[i] >= 0 and py[i] >= 0
            and (in_src_crs or (px[i] <= W and py[i] <= H))
        ):
            r1 = abs(eps) / math.hypot(px[i + 1] - px[i], py[i + 1] - py[i])
            r2 = abs(eps) / math.hypot(px[i + 2] - px[i], py[i + 2] - py[i])
            if math.isfinite(r1) and math.isfinite(r2):
                pairs.append((r1, r2))
    best = math.inf
    if not pairs:
        return best
    pairs.sort(key=lambda p: p[0])
    med1 = pairs[len(pairs) // 2][0]
    pairs = [p for p in pairs if p[0] > med1 / 10]
    pairs.sort(key=lambda p: p[1])
    if not pairs:
        return best
    med2 = pairs[len(pairs) // 2][1]
    res = sorted((p[0] + p[1]) / 2 for p in pairs if p[1] > med2 / 10)
    if res:
        med = res[len(res) // 2]
        for r in res:
            if r > med / 10:
                return min(best, r)
    return best


def _cutline_envelope(cutline: Any, cutline_crs: pyproj.CRS, dst: pyproj.CRS) -> Bounds:
    try:
        import shapely
        from shapely.geometry.base import BaseGeometry
    except ImportError as exc:  # pragma: no cover - shapely is a runtime dependency
        raise UnsupportedFeatureError("cutlines need shapely") from exc
    if not isinstance(cutline, BaseGeometry):
        raise GeometryError(f"cutline must be a shapely geometry, got {type(cutline).__name__}")
    if cutline.is_empty:
        raise GeometryError("cutline is empty")
    if cutline.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"cutline must be a Polygon or MultiPolygon, got {cutline.geom_type}")
    coords = shapely.get_coordinates(cutline)
    if not np.isfinite(coords).all():
        raise GeometryError("cutline has non-finite coordinates")
    if crs_equal(cutline_crs, dst):
        return tuple(float(v) for v in cutline.bounds)  # type: ignore[return-value]
    # densify (each edge in >= 20 pieces) before reprojecting the vertices
    segs = []
    for ring in shapely.get_rings(shapely.get_parts(cutline)):
        c = shapely.get_coordinates(ring)
        if len(c) > 1:
            segs.append(np.hypot(*np.diff(c, axis=0).T).max())
    max_len = max(segs) if segs else 0.0
    from raster_core.geometry import densify  # linear in the vertices (GEOS's segmentize is not)

    geom = densify(cutline, max_len / 20.0) if max_len > 0 else cutline
    coords = shapely.get_coordinates(geom)
    rp = _Reprojector(cutline_crs, dst)
    x, y, ok = rp.forward(coords[:, 0], coords[:, 1])
    if not ok.any():
        raise TransformError("the cutline cannot be transformed to the output CRS")
    x, y = x[ok], y[ok]
    return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))


def output_geobox(
    sources: Sequence[GridLike],
    *,
    srs: CRSLike | None = None,
    resolution: float | Sequence[float] | None = None,
    dimensions: Sequence[int] | None = None,
    bounds: Sequence[float] | None = None,
    bounds_srs: CRSLike | None = None,
    align_pixels: bool = False,
    cutline: Any = None,
    cutline_srs: CRSLike = "EPSG:4326",
    cutline_all_touched: bool = False,
    mosaic_resolution: str = "min",
    remove_blank_borders: bool = True,
    bounds_srs_corners_only: bool = False,
) -> GeoBox:
    """The output grid of a Raster API call, with ``gdalwarp``'s rules (GDAL 3.10).

    Parameters
    ----------
    sources : sequence of grids
        The images, in mosaic order. Anything with ``crs``, ``transform``, ``width`` and
        ``height`` (a :class:`raster_core.Dataset`, :class:`SourceGrid`, :class:`GeoBox`).
    srs : CRS-like, optional
        Output CRS (gdalwarp ``-t_srs``). Default: the first source's CRS.
    resolution : float or (xres, yres), optional
        Output pixel size in ``srs`` units (``-tr``). The origin stays at (minx, maxy) and
        the size is ``int(extent / res + 0.5)``: the right/bottom edges move.
    dimensions : (width, height), optional
        Exact output size in pixels (``-ts``); the extent is kept, pixels may be non-square.
    bounds : (min_x, min_y, max_x, max_y), optional
        Output extent (``-te``), in ``srs`` unless ``bounds_srs`` is given.
    bounds_srs : CRS-like, optional
        CRS of ``bounds``; the box is reprojected with densified edges
        (:func:`transform_bounds`, 21 points per edge, as the Raster API since 1.8.1).
    align_pixels : bool, default False
        ``-tap``: snap the extent outward to multiples of the resolution.
    cutline : shapely Polygon/MultiPolygon, optional
        Without ``bounds``, the output extent is the cutline's envelope in ``srs``
        (gdalwarp ``-crop_to_cutline``).
    cutline_srs : CRS-like, default EPSG:4326
        CRS of the cutline coordinates (the Raster API's GeoJSON is lon/lat).
    cutline_all_touched : bool, default False
        With a cutline and no resampling to a new CRS/resolution, snap its envelope
        outward (instead of inward) to the source grid, as ``CUTLINE_ALL_TOUCHED``.
    mosaic_resolution : "min" or "first", default "min"
        Default resolution with several sources: gdalwarp takes the finest of the
        sources' resolutions ("min"); "first" takes the first source's.
    remove_blank_borders : bool, default True
        gdalwarp >= 3.8 removes output rows/columns that hit no source pixel centre
        when ``resolution`` is given without ``bounds`` (single source only).
    bounds_srs_corners_only : bool, default False
        False: ``bounds`` are reprojected with densified edges (the Raster API since
        1.8.1). True: only the two corners are reprojected, as gdalwarp 3.10 ``-te_srs``.

    Returns
    -------
    GeoBox

    Raises
    ------
    InvalidParameterError
        Both ``resolution`` and ``dimensions``; non-positive/NaN resolution; zero or
        negative dimensions; NaN or inverted bounds; no sources; an empty output.
    CRSError
        Unknown ``srs``/``bounds_srs``, or a source without CRS.
    TransformError
        When the sources cannot be transformed to ``srs``.

    Examples
    --------
    >>> src = SourceGrid("EPSG:32615", Affine(15, 0, 258292.5, 0, -15, 4743307.5), 15696, 15960)
    >>> output_geobox([src], resolution=960).shape
    (249, 245)
    >>> output_geobox([src], dimensions=(600, 400)).shape
    (400, 600)
    """
    # ---------------- validation (before any work) ----------------
    if sources is None or isinstance(sources, (str, bytes)):
        raise InvalidParameterError("sources must be a sequence of rasters")
    srcs = [_as_source(s, i) for i, s in enumerate(sources)]
    if not srcs:
        raise InvalidParameterError("no sources given")
    if resolution is not None and dimensions is not None:
        raise InvalidParameterError(RESOLUTION_AND_DIMENSIONS_MESSAGE)
    res = _check_resolution(resolution) if resolution is not None else None
    dims: tuple[int, int] | None = None
    if dimensions is not None:
        try:
            dvals = tuple(dimensions)
        except TypeError:
            raise InvalidParameterError(f"dimensions must be (width, height), got {dimensions!r}") from None
        if len(dvals) != 2:
            raise InvalidParameterError(f"dimensions must be (width, height), got {dimensions!r}")
        dims = (_positive_int(dvals[0], "dimensions width"), _positive_int(dvals[1], "dimensions height"))
    dst = to_crs(srs, name="srs") if srs is not None else srcs[0].crs
    user_bounds: Bounds | None = None
    if bounds is not None:
        bsrs = to_crs(bounds_srs, name="bounds_srs") if bounds_srs is not None else None
        if bsrs is not None and bsrs.is_geographic:
            b = _check_bounds(bounds, allow_antimeridian=True)
        else:
            b = _check_bounds(bounds)
        if bsrs is not None and not crs_equal(bsrs, dst):
            if bounds_srs_corners_only:
                # gdalwarp 3.10 -te_srs: only the two corners are transformed
                cx, cy, cok = _Reprojector(bsrs, dst).forward([b[0], b[2]], [b[1], b[3]])
                if not cok.all():
                    raise TransformError(f"bounds {b} cannot be transformed to the output CRS")
                b = (float(cx[0]), float(cy[0]), float(cx[1]), float(cy[1]))
            else:
                b = transform_bounds(bsrs, dst, *b, densify_pts=21)
            if b[2] <= b[0] or b[3] <= b[1]:
                raise InvalidParameterError(
                    f"bounds reprojected to the output CRS {b} are empty or cross the antimeridian"
                )
        user_bounds = b
    elif bounds_srs is not None:
        to_crs(bounds_srs, name="bounds_srs")
    if mosaic_resolution not in ("min", "first"):
        raise InvalidParameterError(f"mosaic_resolution must be 'min' or 'first', got {mosaic_resolution!r}")
    crop_to_cutline = False
    if user_bounds is None and cutline is not None:
        user_bounds = _cutline_envelope(cutline, to_crs(cutline_srs, name="cutline_srs"), dst)
        crop_to_cutline = True
        if not (user_bounds[2] > user_bounds[0] and user_bounds[3] > user_bounds[1]):
            raise GeometryError(f"the cutline's envelope in the output CRS {user_bounds} is empty")

    # gdalwarp: geographic -> Mercator (lon0 = 0) of a single source: clamp to +-85.0511 deg
    if user_bounds is None and srs is not None and len(srcs) == 1:
        clamped = _mercator_clamp(srcs[0], dst)
        if clamped is not None:
            user_bounds = clamped

    # ---------------- per-source suggested outputs ----------------
    have_te = user_bounds is not None
    needs_suggested = not (have_te and (res is not None or dims is not None))
    known_extent_not_res = have_te and res is None and dims is None
    wrk: list[float] | None = None  # minx, miny, maxx, maxy
    wrk_res: tuple[float, float] | None = None
    res_from_extent = math.inf
    first_tr: _GenImgProj | None = None
    first_check_invert = False
    for k, s in enumerate(srcs):
        gt = gdal_geotransform(s.transform)
        tr = s._gen_img_proj(dst)
        if k == 0:
            first_tr = tr
        if known_extent_not_res:
            assert user_bounds is not None
            res_from_extent = min(res_from_extent, _source_resolution_from_target_extent(tr, *user_bounds))
        if not needs_suggested:
            continue
        t, n_this, m_this, ext = _suggested_warp_output(tr)
        if tr.reproj is not None and not _extent_roundtrips(tr, ext, n_this, m_this):
            # gdalwarp: recompute with CHECK_WITH_INVERT_PROJ=TRUE. The transformer keeps that
            # setting afterwards, which the blank-border detection below then inherits.
            tr_chk = s._gen_img_proj(dst, check_invert=True)
            t, n_this, m_this, ext = _suggested_warp_output(tr_chk)
            if k == 0:
                first_check_invert = True
        this_res = (t.a, abs(t.e))
        extent = list(ext)
        if res is None and dims is None and not s.gcps and gt[2] == 0 and gt[4] == 0 and gt[5] < 0 and tr.same:
            this_res = (gt[1], abs(gt[5]))
            extent = [gt[0], gt[3] + s.height * gt[5], gt[0] + s.width * gt[1], gt[3]]
            res_from_extent = math.inf
        if wrk is None or wrk_res is None:
            wrk = extent
            wrk_res = this_res
        else:
            wrk = [min(wrk[0], extent[0]), min(wrk[1], extent[1]), max(wrk[2], extent[2]), max(wrk[3], extent[3])]
            if mosaic_resolution == "min":
                wrk_res = (min(wrk_res[0], this_res[0]), min(wrk_res[1], this_res[1]))
    if math.isfinite(res_from_extent):
        wrk_res = (res_from_extent, res_from_extent)

    gt_out = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    n_pixels = n_lines = 0
    if needs_suggested:
        assert wrk is not None and wrk_res is not None
        gt_out = [wrk[0], wrk_res[0], 0.0, wrk[3], 0.0, -wrk_res[1]]
        n_pixels = int((wrk[2] - wrk[0]) / wrk_res[0] + 0.5)
        n_lines = int((wrk[3] - wrk[1]) / wrk_res[1] + 0.5)

    # cutline envelope snapped to the source grid (CropToCutline, no reprojection, no -tr/-ts)
    if crop_to_cutline and res is None and first_tr is not None and first_tr.same \
            and first_tr.gcp is None:
        g = first_tr.gt
        if g[2] == 0 and g[4] == 0 and g[5] < 0:
            assert user_bounds is not None
            mnx, mny, mxx, mxy = user_bounds
            fx0: Callable[[float], int]
            fx1: Callable[[float], int]
            if cutline_all_touched:
                fx0, fx1, tol = math.floor, math.ceil, -1e-3
            else:
                fx0, fx1, tol = math.ceil, math.floor, 1e-3
            c0 = fx0((mnx - g[0]) / g[1] - tol)
            c1 = fx1((mxx - g[0]) / g[1] + tol)
            r0 = fx0((g[3] - mxy) / -g[5] - tol)
            r1 = fx1((g[3] - mny) / -g[5] + tol)
            if c1 <= c0 or r1 <= r0:
                raise GeometryError("the cutline covers no source pixel")
            user_bounds = (g[0] + c0 * g[1], g[3] + r1 * g[5], g[0] + c1 * g[1], g[3] + r0 * g[5])

    if res is not None:
        xres, yres = res
        detect_blank = False
        if user_bounds is None:
            detect_blank = needs_suggested
            minx, maxx = gt_out[0], gt_out[0] + gt_out[1] * n_pixels
            maxy, miny = gt_out[3], gt_out[3] + gt_out[5] * n_lines
        else:
            minx, miny, maxx, maxy = user_bounds
        if align_pixels or (crop_to_cutline and cutline_all_touched):
            if (align_pixels and needs_suggested) or (crop_to_cutline and cutline_all_touched):
                detect_blank = True
            minx = math.floor(minx / xres + 1e-8) * xres
            maxx = math.ceil(maxx / xres - 1e-8) * xres
            miny = math.floor(miny / yres + 1e-8) * yres
            maxy = math.ceil(maxy / yres - 1e-8) * yres

        def update() -> tuple[list[float], int, int]:
            nx = max(1, int((maxx - minx + xres / 2.0) / xres))
            ny = max(1, int((abs(maxy - miny) + yres / 2.0) / yres))
            return [minx, xres, 0.0, maxy, 0.0, -yres if maxy > miny else yres], nx, ny

        if detect_blank and remove_blank_borders and len(srcs) == 1 and first_tr is not None:
            s0 = srcs[0]
            while True:
                gt_out, n_pixels, n_lines = update()
                btr = s0._gen_img_proj(dst, dst_gt=gt_out, check_invert=first_check_invert)
                top = _blank_border(btr, np.arange(n_pixels) + 0.5, np.full(n_pixels, 0.5), lambda x, y: y >= 0)
                bottom = _blank_border(btr, np.arange(n_pixels) + 0.5, np.full(n_pixels, n_lines - 0.5),
                                       lambda x, y: y <= s0.height)
                left = _blank_border(btr, np.full(n_lines, 0.5), np.arange(n_lines) + 0.5, lambda x, y: x >= 0)
                right = _blank_border(btr, np.full(n_lines, n_pixels - 0.5), np.arange(n_lines) + 0.5,
                                      lambda x, y: x <= s0.width)
                if not (top or bottom or left or right):
                    break
                # GDAL >= 3.9.3 / 3.10 (PR #10822): stop instead of shrinking an axis whose
                # extent is already <= 2 pixels
                stop = False
                for flag, axis, side in ((top, "y", "max"), (bottom, "y", "min"), (left, "x", "min"),
                                         (right, "x", "max")):
                    if not flag:
                        continue
                    if axis == "y":
                        if maxy - miny <= 2 * yres:
                            stop = True
                            break
                        if side == "max":
                            maxy -= yres
                        else:
                            miny += yres
                    else:
                        if maxx - minx <= 2 * xres:
                            stop = True
                            break
                        if side == "min":
                            minx += xres
                        else:
                            maxx -= xres
                if stop:
                    break
        gt_out, n_pixels, n_lines = update()
    elif dims is not None:
        if user_bounds is None:
            assert wrk is not None
            minx, miny, maxx, maxy = wrk
        else:
            minx, miny, maxx, maxy = user_bounds
        w, h = dims
        xres = (maxx - minx) / w
        yres = (maxy - miny) / h
        if align_pixels:
            # not a gdalwarp combination (-tap needs -tr): snap with the implied resolution
            minx = math.floor(minx / xres + 1e-8) * xres
            maxx = math.ceil(maxx / xres - 1e-8) * xres
            miny = math.floor(miny / yres + 1e-8) * yres
            maxy = math.ceil(maxy / yres - 1e-8) * yres
            w = int((maxx - minx + xres / 2.0) / xres)
            h = int((maxy - miny + yres / 2.0) / yres)
        gt_out = [minx, xres, 0.0, maxy, 0.0, -yres]
        n_pixels, n_lines = w, h
    elif user_bounds is not None:
        minx, miny, maxx, maxy = user_bounds
        xres, yres = gt_out[1], abs(gt_out[5])
        if align_pixels:
            minx = math.floor(minx / xres + 1e-8) * xres
            maxx = math.ceil(maxx / xres - 1e-8) * xres
            miny = math.floor(miny / yres + 1e-8) * yres
            maxy = math.ceil(maxy / yres - 1e-8) * yres
        n_pixels = int((maxx - minx + xres / 2.0) / xres)
        n_lines = int((abs(maxy - miny) + yres / 2.0) / yres)
        if n_pixels < 1 or n_lines < 1:
            raise InvalidParameterError(
                f"bounds {(minx, miny, maxx, maxy)} are smaller than one pixel at resolution {(xres, yres)}"
            )
        if not align_pixels:
            xres = (maxx - minx) / n_pixels
            yres = (maxy - miny) / n_lines
        gt_out = [minx, xres, 0.0, maxy, 0.0, -yres]
    elif align_pixels:
        # -tap without -tr: use the computed resolution as -tr
        return output_geobox(srcs, srs=dst, resolution=(gt_out[1], abs(gt_out[5])), align_pixels=True,
                             mosaic_resolution=mosaic_resolution, remove_blank_borders=remove_blank_borders)

    if n_pixels < 1 or n_lines < 1:
        raise InvalidParameterError(f"the output grid is empty ({n_pixels} x {n_lines} pixels)")
    if n_pixels > 2**31 - 1 or n_lines > 2**31 - 1:
        raise InvalidParameterError(f"the output grid is too large ({n_pixels} x {n_lines} pixels)")
    return GeoBox(dst, Affine.from_gdal(*gt_out), n_pixels, n_lines)


def _extent_roundtrips(tr: _GenImgProj, ext: Sequence[float], n_pixels: int, n_lines: int) -> bool:
    """gdalwarp's check that the suggested extent lies in the target projection's validity area."""
    minx, miny, maxx, maxy = ext
    if minx == -180:
        minx += 1e-6
    if maxx == 180:
        maxx -= 1e-6
    if miny == -90:
        miny += 1e-6
    if maxy == 90:
        maxy -= 1e-6
    r = np.arange(21) / 20.0
    ri, rj = np.meshgrid(r, r, indexing="ij")
    ex = ((1 - ri) * minx + ri * maxx).ravel()
    ey = ((1 - rj) * miny + rj * maxy).ravel()
    sx, sy, ok1 = tr.inverse(ex, ey)
    bx, by, ok2 = tr.forward(np.where(ok1, sx, 0.0), np.where(ok1, sy, 0.0))
    with np.errstate(invalid="ignore"):
        good = ok1 & ok2 & (np.abs(bx - ex) <= (maxx - minx) / n_pixels) & (np.abs(by - ey) <= (maxy - miny) / n_lines)
    return bool(good.all())


def _mercator_clamp(src: SourceGrid, dst: pyproj.CRS) -> Bounds | None:
    """gdalwarp's "Clamping output bounds" special case (geographic source, Mercator_1SP lon0=0 target)."""
    if src.gcps or not src.crs.is_geographic or getattr(src.crs, "is_derived", False):
        return None
    proj_name, params = _wkt1_projection_params(dst)
    lon0 = params.get("central_meridian", params.get("longitude_of_center", params.get("longitude_of_origin", 0.0)))
    if proj_name is None or proj_name.lower() != "mercator_1sp" or lon0 != 0:
        return None
    gt = gdal_geotransform(src.transform)
    if not (gt[2] == 0 and gt[4] == 0 and gt[5] < 0):
        return None
    max_lat = 85.0511287798066
    eps = 1e-3
    min_lon, max_lon = gt[0], gt[0] + gt[1] * src.width
    min_lat, max_lat_src = gt[3] + gt[5] * src.height, gt[3]
    if not (min_lon >= -180 - eps and max_lon <= 180 + eps):
        return None
    if not ((max_lat_src > max_lat and min_lat < max_lat) or (max_lat_src > -max_lat and min_lat < -max_lat)):
        return None
    rp = _Reprojector(src.crs, dst)
    x, y, ok = rp.forward(
        [max(min_lon, -180.0), min(max_lon, 180.0)], [max(min_lat, -max_lat), min(max_lat_src, max_lat)]
    )
    if not ok.all():
        return None
    return (float(x[0]), float(y[0]), float(x[1]), float(y[1]))


def _blank_border(tr: _GenImgProj, px: np.ndarray, py: np.ndarray, is_ok: Any) -> bool:
    """gdalwarp's DetectBlankBorder: True when no point of the border lands in the source."""
    sx, sy, ok = tr.inverse(px, py)
    for i in range(len(sx)):
        if ok[i] and is_ok(sx[i], sy[i]):
            return False
    return True
