"""Limits of an output, checked before any work: its memory budget (output and working
buffers, refused before anything proportional to the output is allocated) and its CRS
(a 2-D grid needs a horizontal CRS).

The same budget bounds every whole read of the GeoTIFF reader (:meth:`raster_core.io.Dataset.read`,
checked once per read) and the body a server ignoring ``Range`` may send; the reader's own
limit (:mod:`raster_core.io.tiff_checks`) is per decoded tile/strip only.

A budget is in bytes. :data:`DEFAULT_MAX_BYTES` applies when the caller gives none; the
environment variable ``RASTER_CORE_MAX_BYTES`` overrides it for a whole process.

Examples
--------
>>> from raster_core.limits import check_bytes
>>> check_bytes(1000, 4096, what="the output")
>>> check_bytes(10**12, 4096, what="the output")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
raster_core.errors.OutputTooLargeError: the output needs 1000000000000 bytes (931.3 GiB), over the limit ...
"""

from __future__ import annotations

import os
from typing import Any

from raster_core.errors import CRSError, InvalidParameterError, OutputTooLargeError

__all__ = ["DEFAULT_MAX_BYTES", "default_max_bytes", "env_bytes", "check_max_bytes", "check_bytes", "check_output_crs"]

#: Default budget of one call's output plus its working buffers: 8 GiB.
DEFAULT_MAX_BYTES = 8 << 30


def env_bytes(name: str, default: int, minimum: int) -> int:
    """A byte budget from the environment variable ``name``: an integer >= ``minimum``, or
    ``default`` when it is unset or empty; anything else is an :class:`InvalidParameterError`
    naming the variable.

    Examples
    --------
    >>> env_bytes("RASTER_CORE_EXAMPLE_UNSET_BYTES", 1024, 0)
    1024
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum} (bytes), got {text!r}")
    return value


def default_max_bytes() -> int:
    """``$RASTER_CORE_MAX_BYTES`` when set (a positive integer), else :data:`DEFAULT_MAX_BYTES`."""
    text = os.environ.get("RASTER_CORE_MAX_BYTES")
    if not text:
        return DEFAULT_MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        raise InvalidParameterError(f"RASTER_CORE_MAX_BYTES must be a positive integer, got {text!r}") from None
    return check_max_bytes(value, "RASTER_CORE_MAX_BYTES")


def check_max_bytes(value: Any, name: str = "max_bytes") -> int:
    """Validate a budget: a positive integer (``None`` -> :func:`default_max_bytes`)."""
    if value is None:
        return default_max_bytes()
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{name} must be a positive integer (bytes), got {value!r}")
    return int(value)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.3g} ZiB"


def check_bytes(
    n_bytes: int, max_bytes: int, *, what: str, hint: str = "",
    error: type[OutputTooLargeError] = OutputTooLargeError,
) -> None:
    """Raise ``error`` (an :class:`~raster_core.errors.OutputTooLargeError`) when ``n_bytes > max_bytes``.

    ``n_bytes`` is an exact integer (never a float that could overflow to ``inf``). The reader
    passes :class:`~raster_core.errors.ReadTooLargeError` for its reads.
    """
    if n_bytes > max_bytes:
        shown = f"{n_bytes} bytes ({_human(float(n_bytes))})" if n_bytes < 1 << 80 else \
            f"about 2^{n_bytes.bit_length() - 1} bytes"
        raise error(
            f"{what} needs {shown}, over the limit of {max_bytes} bytes ({_human(max_bytes)})"
            + (f"; {hint}" if hint else ""))


def check_output_crs(crs: Any, name: str = "srs") -> Any:
    """``crs`` as a :class:`pyproj.CRS`, refusing those that cannot label a 2-D output grid.

    A vertical CRS (heights only) or a geocentric one (3-D Cartesian X/Y/Z) has no
    horizontal axes: a grid labelled with it would be mislabelled.

    Raises
    ------
    CRSError
        For an unknown, vertical or geocentric CRS.

    Examples
    --------
    >>> check_output_crs("EPSG:5703")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    raster_core.errors.CRSError: srs EPSG:5703 (NAVD88 height) is a vertical CRS: an output grid needs ...
    """
    from raster_core.crs import to_crs

    c = to_crs(crs, name=name)
    kind = "vertical" if c.is_vertical and not c.is_compound else ("geocentric" if c.is_geocentric else None)
    if kind is not None:
        label = crs if isinstance(crs, (str, int)) else c.name
        if isinstance(label, int):
            label = f"EPSG:{label}"
        raise CRSError(f"{name} {label} ({c.name}) is a {kind} CRS: an output grid needs a horizontal "
                       "(geographic or projected) CRS")
    return c
