"""PNG / JPEG output through imagecodecs (atomic, like :func:`raster_core.io.write_geotiff`).

Examples
--------
>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "rgb.png")
>>> write_image(p, np.zeros((3, 4, 5), "uint8"), format="PNG")
>>> open(p, "rb").read(4) == b"\\x89PNG"
True
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from raster_core._atomic import atomic_path
from raster_core.errors import DataTypeError, InvalidParameterError, RasterWriteError, ShapeError

__all__ = ["write_image", "encode_image"]


def encode_image(array: np.ndarray, *, format: str = "PNG", quality: int = 90) -> bytes:  # noqa: A002
    """Encode a ``(bands, rows, cols)`` or ``(rows, cols)`` uint8 array as PNG or JPEG bytes.

    1 band: grayscale; 3 bands: RGB; 4 bands: RGBA (PNG only). JPEG takes 1 or 3 bands.

    Raises
    ------
    DataTypeError
        When the array is not uint8.
    ShapeError
        When the band count is not 1, 3 or 4 (or 4 bands for JPEG).
    InvalidParameterError
        For an unknown format or an invalid quality.

    Examples
    --------
    >>> encode_image(np.zeros((8, 8), "uint8"), format="JPEG")[:2] == b"\\xff\\xd8"
    True
    """
    import imagecodecs

    fmt = str(format).upper()
    if fmt == "JPG":
        fmt = "JPEG"
    if fmt not in ("PNG", "JPEG"):
        raise InvalidParameterError(f"format must be 'PNG' or 'JPEG', got {format!r}")
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise DataTypeError(f"{fmt} output needs uint8 (Byte) bands, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ShapeError(f"array must be (bands, rows, cols) or (rows, cols), got shape {arr.shape}")
    nb, h, w = arr.shape
    if h < 1 or w < 1:
        raise ShapeError(f"array has an empty dimension: {arr.shape}")
    allowed = (1, 3) if fmt == "JPEG" else (1, 3, 4)
    if nb not in allowed:
        raise ShapeError(f"{fmt} output needs {' or '.join(map(str, allowed))} bands, got {nb}")
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise InvalidParameterError(f"quality must be an integer in 1..100, got {quality!r}")
    img = np.ascontiguousarray(arr[0] if nb == 1 else np.moveaxis(arr, 0, -1))
    if fmt == "PNG":
        return bytes(imagecodecs.png_encode(img))
    return bytes(imagecodecs.jpeg8_encode(img, level=int(quality)))


def write_image(
    path: str | os.PathLike[str],
    array: np.ndarray,
    *,
    format: str = "PNG",  # noqa: A002
    quality: int = 90,
) -> None:
    """Write a 1-, 3- or 4-band uint8 array as PNG (or 1/3-band as JPEG), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    array : numpy.ndarray
        ``(bands, rows, cols)`` or ``(rows, cols)`` uint8.
    format : {"PNG", "JPEG"}
    quality : int
        JPEG quality (1..100).

    Raises
    ------
    DataTypeError, ShapeError, InvalidParameterError
        On invalid input, before anything is written.
    RasterWriteError
        When the file cannot be written (nothing is left behind).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "g.jpg")
    >>> write_image(p, np.full((16, 16), 128, "uint8"), format="JPEG", quality=80)
    >>> os.path.getsize(p) > 0
    True
    """
    data = encode_image(array, format=format, quality=quality)
    _atomic_write_bytes(path, data)


def _atomic_write_bytes(path: Any, data: bytes) -> None:
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            f.write(data)
    except RasterWriteError:
        raise
    except Exception as exc:
        raise RasterWriteError(f"cannot write {os.fspath(path)!r}: {exc}") from exc
