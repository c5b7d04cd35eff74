"""Exception types raised by raster_core.

Every error raised on purpose by raster_core derives from :class:`RasterCoreError`
and also from the builtin exception a Python user would expect, so that
``except ValueError`` keeps working (the pattern of ``rasterio.errors``).

Examples
--------
>>> from raster_core.errors import CRSError, RasterCoreError
>>> issubclass(CRSError, ValueError) and issubclass(CRSError, RasterCoreError)
True
"""

from __future__ import annotations

__all__ = [
    "RasterCoreError",
    "TileIndexError",
    "CRSError",
    "TransformError",
    "ResamplingError",
    "InvalidParameterError",
    "DataTypeError",
    "ShapeError",
    "GeometryError",
    "RasterReadError",
    "RasterWriteError",
    "UnsupportedFeatureError",
    "NotFoundError",
    "BandError",
    "OutputTooLargeError",
    "InvalidTileError",
    "InvalidLatLonError",
    "InvalidShapeError",
    "CatalogError",
    "InvalidRowColError",
    "RemoteNotFoundError",
    "RemoteAccessError",
    "ReadTooLargeError",
    "UnsupportedSchemeError",
]


class RasterCoreError(Exception):
    """Base class of every error raised by raster_core."""


class InvalidParameterError(RasterCoreError, ValueError):
    """A parameter has an invalid value (negative resolution, NaN bounds, ...)."""


class CRSError(InvalidParameterError):
    """A coordinate reference system could not be understood or used."""


class TransformError(InvalidParameterError):
    """An affine transform is singular, non-finite or otherwise unusable, or a
    coordinate transformation failed."""


class ResamplingError(InvalidParameterError):
    """Unknown or unsupported resampling method."""


class DataTypeError(InvalidParameterError, TypeError):
    """Unknown or unsupported data type."""


class ShapeError(InvalidParameterError):
    """Array shapes do not agree (source vs. destination, bands vs. masks, ...)."""


class GeometryError(InvalidParameterError):
    """A geometry (cutline, shape) is unparsable, empty, invalid or of the wrong type."""


class BandError(InvalidParameterError):
    """Unknown band name or index, or a band list that breaks a rule (alpha not last...)."""


class OutputTooLargeError(InvalidParameterError, MemoryError):
    """The requested output exceeds the configured pixel limit."""


class InvalidTileError(InvalidParameterError):
    """An invalid DLTile key or DLTile parameters."""


class TileIndexError(InvalidTileError, IndexError):
    """A sub-tile row or column outside ``[0, subdivide)`` (an ``IndexError``, as in the client)."""


class InvalidLatLonError(InvalidParameterError):
    """A latitude/longitude outside the valid range."""


class InvalidShapeError(InvalidParameterError):
    """A shape that cannot be tiled (not a polygon, unparsable...)."""


class RasterReadError(RasterCoreError, OSError):
    """A raster file is missing, empty, truncated, not a TIFF, or cannot be decoded."""


class RasterWriteError(RasterCoreError, OSError):
    """A raster file could not be written (nothing is left behind)."""


class RemoteNotFoundError(RasterReadError, FileNotFoundError):
    """A remote object (``http(s)://``, ``s3://``) does not exist (HTTP 404)."""


class RemoteAccessError(RasterReadError, PermissionError):
    """A remote object exists but access is refused (HTTP 401/403: credentials, a private bucket)."""


class UnsupportedFeatureError(RasterCoreError, NotImplementedError):
    """A valid input that raster_core does not support (yet), said clearly."""


class NotFoundError(RasterCoreError, KeyError):
    """An image id or product is not known to the catalog."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class CatalogError(RasterCoreError, ValueError):
    """A catalog (JSON or STAC) is malformed."""


class InvalidRowColError(InvalidParameterError):
    """Invalid DLTile pixel row/col arguments (mismatched lengths or types)."""


class ReadTooLargeError(OutputTooLargeError, RasterReadError):
    """A read whose pixels would exceed the byte budget (``RASTER_CORE_MAX_BYTES``): a window
    too large for the budget, or a file declaring a giant size. Both an
    :class:`OutputTooLargeError` and a :class:`RasterReadError`."""


class UnsupportedSchemeError(UnsupportedFeatureError, RasterReadError):
    """A URL whose scheme raster_core cannot read itself (``gs://``, ``az://``, ``ftp://``...);
    such objects are read through a store (``open(path, store=...)``)."""
