"""Resampling methods of the warper: names, aliases and kernel radii.

Names follow GDAL / the Descartes Labs Raster API (``near``, ``bilinear``, ``cubic``,
``cubicspline``, ``lanczos``, ``average``, ``rms``, ``mode``, ``max``, ``min``,
``med``, ``q1``, ``q3``, ``sum``); rasterio's spellings (``nearest``,
``cubic_spline``) and the :class:`Resampling` enum (same integer values as
``rasterio.enums.Resampling``) are accepted too.

Examples
--------
>>> from raster_core.resampling import Resampling, resampling_name
>>> resampling_name("nearest"), resampling_name(Resampling.cubic_spline), resampling_name(2)
('near', 'cubicspline', 'cubic')
"""

from __future__ import annotations

import enum

from raster_core.errors import ResamplingError

__all__ = [
    "Resampling",
    "ResamplingLike",
    "resampling_name",
    "INTERPOLATING",
    "REDUCING",
    "KERNEL_RADIUS",
    "METHOD_CODES",
]


class Resampling(enum.IntEnum):
    """Resampling methods (integer values of ``rasterio.enums.Resampling``)."""

    nearest = 0
    bilinear = 1
    cubic = 2
    cubic_spline = 3
    lanczos = 4
    average = 5
    mode = 6
    max = 8
    min = 9
    med = 10
    q1 = 11
    q3 = 12
    sum = 13
    rms = 14

    @property
    def gdal_name(self) -> str:
        """GDAL / Raster API name of the method (``near``, ``cubicspline``...)."""
        return _ENUM_TO_NAME[self]


_ENUM_TO_NAME = {
    Resampling.nearest: "near",
    Resampling.bilinear: "bilinear",
    Resampling.cubic: "cubic",
    Resampling.cubic_spline: "cubicspline",
    Resampling.lanczos: "lanczos",
    Resampling.average: "average",
    Resampling.mode: "mode",
    Resampling.max: "max",
    Resampling.min: "min",
    Resampling.med: "med",
    Resampling.q1: "q1",
    Resampling.q3: "q3",
    Resampling.sum: "sum",
    Resampling.rms: "rms",
}

#: methods computed by interpolation at the destination pixel centre (this module's kernels)
INTERPOLATING = ("near", "bilinear", "cubic", "cubicspline", "lanczos")
#: methods computed over the footprint of the destination pixel (raster_core._warp_reduce)
REDUCING = ("average", "rms", "mode", "max", "min", "med", "q1", "q3", "sum")
#: GDAL kernel radius (source pixels, before widening when downsampling)
KERNEL_RADIUS = {"near": 0, "bilinear": 1, "cubic": 2, "cubicspline": 2, "lanczos": 3}
#: integer codes passed to the interpolation kernels
METHOD_CODES = {"near": 0, "bilinear": 1, "cubic": 2, "cubicspline": 3, "lanczos": 4}

_ALIASES = {
    "nearest": "near",
    "cubic_spline": "cubicspline",
    "median": "med",
    "gauss": None,
}

ResamplingLike = str | int | Resampling


def resampling_name(value: ResamplingLike) -> str:
    """Canonical GDAL name of a resampling method given as a name, alias, enum or int.

    Raises
    ------
    ResamplingError
        For an unknown method.

    Examples
    --------
    >>> resampling_name("Bilinear")
    'bilinear'
    >>> resampling_name("bogus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    raster_core.errors.ResamplingError: unknown resampling method 'bogus'; expected one of near, bilinear, cubic, ...
    """
    if isinstance(value, Resampling):
        return value.gdal_name
    if isinstance(value, bool):
        raise ResamplingError(f"unknown resampling method {value!r}")
    if isinstance(value, int):
        try:
            return Resampling(value).gdal_name
        except ValueError:
            raise ResamplingError(f"unknown resampling method {value!r}") from None
    if hasattr(value, "name") and hasattr(value, "value") and not isinstance(value, str):  # rasterio enum
        return resampling_name(str(value.name))
    if isinstance(value, str):
        key = value.strip().lower()
        if key in INTERPOLATING or key in REDUCING:
            return key
        alias = _ALIASES.get(key)
        if alias:
            return alias
    raise ResamplingError(
        f"unknown resampling method {value!r}; expected one of {', '.join(INTERPOLATING + REDUCING)}"
    )
