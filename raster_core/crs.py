"""Coordinate reference systems and affine transforms: parsing and validation.

Everything that accepts a CRS or a geotransform goes through :func:`to_crs` and
:func:`to_affine`, so bad input fails early with one clear, typed error.

Examples
--------
>>> from raster_core.crs import to_crs, to_affine
>>> to_crs(4326).to_epsg()
4326
>>> to_affine((100.0, 10.0, 0.0, 200.0, 0.0, -10.0))
Affine(10.0, 0.0, 100.0,
       0.0, -10.0, 200.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyproj
from affine import Affine

from raster_core.errors import CRSError, TransformError

__all__ = ["CRSLike", "TransformLike", "to_crs", "to_affine", "gdal_geotransform", "inv_geotransform", "crs_equal"]

CRSLike = pyproj.CRS | str | int | dict | Any
TransformLike = Affine | Sequence[float]


def to_crs(value: CRSLike, *, name: str = "crs") -> pyproj.CRS:
    """Return a :class:`pyproj.CRS` for anything ``pyproj.CRS.from_user_input`` takes.

    Accepts an EPSG integer, ``"EPSG:4326"``, a PROJ string, WKT, a PROJ JSON dict,
    a :class:`pyproj.CRS`, or an object with ``to_wkt()`` (such as a rasterio CRS).

    Raises
    ------
    CRSError
        When the value is ``None``, empty, or not understood by PROJ.

    Examples
    --------
    >>> to_crs("EPSG:32618").name
    'WGS 84 / UTM zone 18N'
    >>> to_crs("+proj=longlat +datum=WGS84 +no_defs").is_geographic
    True
    """
    if isinstance(value, pyproj.CRS):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise CRSError(f"{name} is required (got {value!r})")
    if isinstance(value, bool):
        raise CRSError(f"invalid {name}: {value!r}")
    if not isinstance(value, (str, int, dict)) and hasattr(value, "to_wkt"):
        value = value.to_wkt()
    key = value if isinstance(value, (str, int)) else None
    if key is not None and key in _PARSED:
        return _PARSED[key]
    try:
        crs = pyproj.CRS.from_user_input(value)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise CRSError(f"invalid {name} {value!r}: {exc}") from None
    if key is not None:
        # the same object for the same text: what is derived from a CRS (its WKT, its geodetic CRS)
        # is then computed once per CRS (raster_core.geo.transformers), not once per warp
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)), None)
        crs = _PARSED.setdefault(key, crs)
    return crs


_PARSED_MAX = 128
_PARSED: dict[str | int, pyproj.CRS] = {}


def to_affine(value: TransformLike, *, name: str = "transform", require_invertible: bool = True) -> Affine:
    """Return an :class:`affine.Affine` from an Affine or a GDAL-order 6-tuple.

    A 6-sequence is read in GDAL order ``(x0, dx, rx, y0, ry, dy)``; an ``Affine``
    (or a 9-sequence in Affine order) is taken as is.

    Raises
    ------
    TransformError
        When the transform has non-finite members, or (``require_invertible``) when
        :func:`inv_geotransform` finds it singular or its inverse is not finite.

    Examples
    --------
    >>> to_affine(Affine(2.0, 0, 10, 0, -2.0, 20)).a
    2.0
    >>> to_affine((0, 0, 0, 0, 0, 0))
    Traceback (most recent call last):
    ...
    raster_core.errors.TransformError: transform is singular (determinant 0): (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    >>> to_affine((0, 5e-324, 0, 0, 0, -1))
    Traceback (most recent call last):
    ...
    raster_core.errors.TransformError: transform has no finite inverse: (0.0, 5e-324, 0.0, 0.0, 0.0, -1.0)
    """
    if isinstance(value, Affine):
        aff = value
    else:
        try:
            seq = [float(v) for v in value]
        except (TypeError, ValueError):
            raise TransformError(f"{name} must be an Affine or a GDAL 6-tuple, got {value!r}") from None
        if len(seq) == 6:
            aff = Affine.from_gdal(*seq)
        elif len(seq) == 9:
            aff = Affine(*seq[:6])
        else:
            raise TransformError(f"{name} must have 6 (GDAL order) members, got {len(seq)}")
    coeffs = tuple(float(c) for c in aff[:6])
    if not all(math.isfinite(c) for c in coeffs):
        raise TransformError(f"{name} has non-finite members: {gdal_geotransform(aff)}")
    if require_invertible:  # the inverse the warper uses (GDAL's rule), and it must be finite
        gt = gdal_geotransform(aff)
        try:
            inverse = inv_geotransform(gt)
        except TransformError:
            det = coeffs[0] * coeffs[4] - coeffs[1] * coeffs[3]
            raise TransformError(f"{name} is singular (determinant {det:g}): {gt}") from None
        if not all(math.isfinite(c) for c in inverse):  # a denormal scale: nonzero, with an infinite inverse
            raise TransformError(f"{name} has no finite inverse: {gt}")
    return aff


def gdal_geotransform(aff: Affine) -> tuple[float, float, float, float, float, float]:
    """GDAL-order 6-tuple ``(x0, dx, rx, y0, ry, dy)`` of an Affine."""
    return (float(aff.c), float(aff.a), float(aff.b), float(aff.f), float(aff.d), float(aff.e))


GT = tuple[float, float, float, float, float, float]


def inv_geotransform(gt: Sequence[float]) -> GT:
    """Inverse of a GDAL-order geotransform, with GDAL's arithmetic (``GDALInvGeoTransform``).

    The non-rotated case uses GDAL's shortcut (``-x0/dx``...), so coordinates computed with
    it are bit-identical to GDAL's; otherwise the adjugate over the determinant.

    Raises
    ------
    TransformError
        When GDAL would consider the transform singular (``|det| <= 1e-10 * max|coef|^2``).

    Examples
    --------
    >>> inv_geotransform((100.0, 10.0, 0.0, 200.0, 0.0, -10.0))
    (-10.0, 0.1, 0.0, 20.0, 0.0, -0.1)
    """
    g0, g1, g2, g3, g4, g5 = (float(v) for v in gt)
    if g2 == 0.0 and g4 == 0.0 and g1 != 0.0 and g5 != 0.0:
        return (-g0 / g1, 1.0 / g1, 0.0, -g3 / g5, 0.0, 1.0 / g5)
    det = g1 * g5 - g2 * g4
    magnitude = max(max(abs(g1), abs(g2)), max(abs(g4), abs(g5)))
    if abs(det) <= 1e-10 * magnitude * magnitude:
        raise TransformError(f"geotransform is not invertible: {(g0, g1, g2, g3, g4, g5)}")
    inv_det = 1.0 / det
    return (
        (g2 * g3 - g0 * g5) * inv_det,
        g5 * inv_det,
        -g2 * inv_det,
        (-g1 * g3 + g0 * g4) * inv_det,
        -g4 * inv_det,
        g1 * inv_det,
    )


def crs_equal(a: CRSLike, b: CRSLike) -> bool:
    """True when two CRSs describe the same system (axis order ignored)."""
    ca, cb = to_crs(a), to_crs(b)
    if ca == cb:
        return True
    try:
        return bool(ca.equals(cb, ignore_axis_order=True))
    except TypeError:  # very old pyproj
        return bool(ca.equals(cb))
