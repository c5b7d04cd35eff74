"""GeoTIFF writer (tifffile + imagecodecs, no GDAL), atomic.

The file is written to a temporary file in the destination folder and renamed over the
destination only when complete; on any error the temporary file is removed and nothing is
left behind.

Georeferencing is written as GDAL writes it: ModelPixelScale + ModelTiepoint for north-up
grids, ModelTransformation otherwise; PixelIsArea; EPSG GeoKeys when the CRS is an EPSG CRS,
else user-defined GeoKeys carrying the WKT (see :mod:`raster_core.io.geokeys`). Nodata goes
to the ``GDAL_NODATA`` tag, band descriptions and non-standard colour interpretations to the
``GDAL_METADATA`` tag, an alpha band to ``ExtraSamples = 2`` (unassociated alpha).

Internal overviews (``overviews=[2, 4, ...]``) follow the full-resolution image as
reduced-resolution IFDs (SubfileType 1) in decreasing size, the order COGs use; their sizes
are ``ceil(size / factor)`` like GDAL's. ``overview_resampling="nearest"`` (default) gives
exactly what ``gdaladdo -r nearest`` gives (each level sampled from the previous one at
``floor(i * ratio + 0.5)``); ``"average"`` is the plain mean of the ``factor x factor``
full-resolution pixels under each overview pixel, ignoring nodata pixels (all nodata ->
nodata). It is not GDAL's cascaded, fractionally weighted average.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from raster_core.io import write_geotiff, open as rc_open
>>> path = os.path.join(tempfile.mkdtemp(), "x.tif")
>>> write_geotiff(path, np.zeros((2, 3), "uint8"), crs=4326, transform=(0, 1, 0, 0, 0, -1))
>>> with rc_open(path) as ds:
...     ds.shape, ds.crs.to_epsg()
((2, 3), 4326)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from raster_core._atomic import atomic_path
from raster_core.crs import gdal_geotransform, to_affine, to_crs
from raster_core.errors import (
    CRSError,
    DataTypeError,
    InvalidParameterError,
    RasterWriteError,
    ShapeError,
)
from raster_core.io.geokeys import geokeys_from_crs

__all__ = ["write_geotiff", "build_overview"]

_DTYPES = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
_COMPRESS = {
    None: None,
    "none": None,
    "deflate": "zlib",
    "zlib": "zlib",
    "lzw": "lzw",
    "zstd": "zstd",
    "packbits": "packbits",
    "jpeg": "jpeg",
}
_COLORINTERP = {"red", "green", "blue", "alpha", "gray", "grey", "undefined"}


def _format_nodata(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if float(v).is_integer() and abs(v) < 1e17:
        return str(int(v))
    return format(v, ".18g")


def _geokey_tags(crs: Any) -> list[tuple[int, int, int, Any, bool]]:
    keys = geokeys_from_crs(crs)
    directory: list[int] = [1, 1, 0, len(keys)]
    doubles: list[float] = []
    ascii_parts: list[str] = []
    ascii_len = 0
    for key_id, value in keys:
        if isinstance(value, str):
            s = value.replace("|", "/") if False else value
            s = s + "|"
            directory += [key_id, 34737, len(s), ascii_len]
            ascii_parts.append(s)
            ascii_len += len(s)
        elif isinstance(value, float):
            directory += [key_id, 34736, 1, len(doubles)]
            doubles.append(value)
        elif isinstance(value, (tuple, list)):
            directory += [key_id, 34736, len(value), len(doubles)]
            doubles.extend(float(v) for v in value)
        else:
            directory += [key_id, 0, 1, int(value)]
    tags: list[tuple[int, int, int, Any, bool]] = [(34735, 3, len(directory), tuple(directory), True)]
    if doubles:
        tags.append((34736, 12, len(doubles), tuple(doubles), True))
    if ascii_parts:
        text = "".join(ascii_parts)
        tags.append((34737, 2, 0, text, True))
    return tags


def _georef_tags(transform: Any) -> list[tuple[int, int, int, Any, bool]]:
    gt = gdal_geotransform(transform)
    if gt[2] == 0.0 and gt[4] == 0.0 and gt[5] < 0.0:
        return [
            (33550, 12, 3, (gt[1], -gt[5], 0.0), True),
            (33922, 12, 6, (0.0, 0.0, 0.0, gt[0], gt[3], 0.0), True),
        ]
    m = (gt[1], gt[2], 0.0, gt[0], gt[4], gt[5], 0.0, gt[3], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    return [(34264, 12, 16, m, True)]


def _nearest_to_shape(band_stack: np.ndarray, oh: int, ow: int) -> np.ndarray:
    """GDAL's nearest overview sampling: source index ``floor(i * ratio + 0.5)``."""
    _, h, w = band_stack.shape
    rows = np.minimum(np.floor(np.arange(oh) * (h / oh) + 0.5).astype(np.int64), h - 1)
    cols = np.minimum(np.floor(np.arange(ow) * (w / ow) + 0.5).astype(np.int64), w - 1)
    return band_stack[:, rows[:, None], cols[None, :]]


def build_overview(
    band_stack: np.ndarray, factor: int, *, resampling: str = "nearest", nodata: float | None = None
) -> np.ndarray:
    """Reduce ``(bands, rows, cols)`` by an integer ``factor`` (output ``ceil(size / factor)``).

    Examples
    --------
    >>> build_overview(np.arange(16, dtype="uint8").reshape(1, 4, 4), 2)[0]
    array([[ 0,  2],
           [ 8, 10]], dtype=uint8)
    """
    b, h, w = band_stack.shape
    oh, ow = -(-h // factor), -(-w // factor)
    if resampling == "nearest":
        return _nearest_to_shape(band_stack, oh, ow)
    if resampling != "average":
        raise InvalidParameterError(f"overview_resampling must be 'nearest' or 'average', got {resampling!r}")
    ph, pw = oh * factor, ow * factor
    data = np.zeros((b, ph, pw), dtype=np.float64)
    valid = np.zeros((b, ph, pw), dtype=bool)
    data[:, :h, :w] = band_stack
    valid[:, :h, :w] = True
    if nodata is not None:
        if math.isnan(nodata):
            valid[:, :h, :w] &= ~np.isnan(band_stack)
        else:
            valid[:, :h, :w] &= band_stack != nodata
    data = np.where(valid, data, 0.0)
    s = data.reshape(b, oh, factor, ow, factor).sum(axis=(2, 4))
    n = valid.reshape(b, oh, factor, ow, factor).sum(axis=(2, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
    out_dtype = band_stack.dtype
    if out_dtype.kind in "iu":
        info = np.iinfo(out_dtype)
        mean = np.clip(np.floor(mean + 0.5), info.min, info.max)
    fill = nodata if nodata is not None else 0
    mean = np.where(n > 0, mean, fill)
    return mean.astype(out_dtype)


def write_geotiff(
    path: str | os.PathLike[str],
    array: np.ndarray,
    *,
    crs: Any,
    transform: Any,
    nodata: float | None = None,
    colorinterp: Sequence[str] | None = None,
    compress: str | None = "deflate",
    tiled: bool = True,
    blocksize: int = 512,
    overviews: Sequence[int] | None = None,
    descriptions: Sequence[str | None] | None = None,
    overview_resampling: str = "nearest",
    predictor: int | None = None,
    jpeg_quality: int = 90,
) -> None:
    """Write a GeoTIFF that GDAL reads back with the same georeferencing and pixels.

    Parameters
    ----------
    path : str or os.PathLike
        Destination (replaced atomically when complete).
    array : numpy.ndarray
        ``(bands, rows, cols)`` or ``(rows, cols)``; uint8, int8, uint16, int16, uint32, int32,
        float32 or float64.
    crs : CRS-like
        Anything :func:`raster_core.crs.to_crs` accepts.
    transform : Affine or GDAL 6-tuple
        Pixel -> CRS transform.
    nodata : float, optional
        Written to the ``GDAL_NODATA`` tag; must be representable in the array dtype.
    colorinterp : sequence of str, optional
        Per band: ``red, green, blue, alpha, gray, undefined``. ``None``: RGB for 3/4-band
        uint8 arrays (the 4th band undefined), gray + undefined otherwise.
    compress : {"deflate", "lzw", "zstd", "packbits", "jpeg", None}
    tiled : bool
        Tiles of ``blocksize`` x ``blocksize`` (a multiple of 16); otherwise strips.
    overviews : sequence of int, optional
        Internal overview decimation factors (e.g. ``[2, 4, 8]``).
    descriptions : sequence of str, optional
        Band descriptions.
    overview_resampling : {"nearest", "average"}
    predictor : {None, 1, 2, 3}
        TIFF predictor (2: horizontal differencing, 3: floating point).
    jpeg_quality : int
        Quality for ``compress="jpeg"``.

    Raises
    ------
    ShapeError, DataTypeError, InvalidParameterError, CRSError, TransformError
        On invalid input, before anything is written.
    RasterWriteError
        When writing fails (nothing is left behind).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "dem.tif")
    >>> write_geotiff(p, np.ones((1, 64, 64), "float32"), crs="EPSG:32618",
    ...               transform=(500000, 30, 0, 4500000, 0, -30), nodata=-9999, overviews=[2, 4])
    >>> os.path.exists(p)
    True
    """
    import tifffile

    # ---------------------------------------------------------------- validation (no side effects)
    path = os.fspath(path)
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ShapeError(f"array must be (bands, rows, cols) or (rows, cols), got shape {array.shape}")
    nb, h, w = array.shape
    if nb < 1 or h < 1 or w < 1:
        raise ShapeError(f"array has an empty dimension: {array.shape}")
    if array.dtype.name not in _DTYPES:
        raise DataTypeError(f"unsupported dtype {array.dtype} (supported: {sorted(_DTYPES)})")
    crs_obj = to_crs(crs)
    aff = to_affine(transform)
    if nodata is not None:
        try:
            nodata = float(nodata)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"nodata must be a number, got {nodata!r}") from None
        if array.dtype.kind in "iu":
            info = np.iinfo(array.dtype)
            if not (math.isfinite(nodata) and nodata == int(nodata) and info.min <= nodata <= info.max):
                raise InvalidParameterError(f"nodata {nodata!r} is not representable as {array.dtype}")
        elif array.dtype == np.float32 and math.isfinite(nodata) and abs(nodata) > float(np.finfo(np.float32).max):
            raise InvalidParameterError(f"nodata {nodata!r} is out of the float32 range")
    comp_key = compress.lower() if isinstance(compress, str) else compress
    if comp_key not in _COMPRESS:
        raise InvalidParameterError(
            f"compress must be one of deflate, lzw, zstd, packbits, jpeg or None, got {compress!r}")
    compression = _COMPRESS[comp_key]
    if compression == "jpeg" and (array.dtype != np.uint8 or nb not in (1, 3)):
        raise InvalidParameterError("compress='jpeg' needs 1 or 3 uint8 bands")
    if compression == "jpeg" and (isinstance(jpeg_quality, bool) or not isinstance(jpeg_quality, (int, np.integer))
                                  or not 1 <= jpeg_quality <= 100):
        raise InvalidParameterError(f"jpeg_quality must be an integer in 1..100, got {jpeg_quality!r}")
    if predictor not in (None, 1, 2, 3):
        raise InvalidParameterError(f"predictor must be None, 1, 2 or 3, got {predictor!r}")
    if predictor == 3 and array.dtype.kind != "f":
        raise InvalidParameterError("predictor=3 is for floating-point data")
    if tiled:
        if (isinstance(blocksize, bool) or not isinstance(blocksize, (int, np.integer))
                or blocksize < 16 or blocksize % 16):
            raise InvalidParameterError(f"blocksize must be a positive multiple of 16, got {blocksize!r}")
    # colour interpretation
    if colorinterp is None:
        if array.dtype == np.uint8 and nb in (3, 4):
            ci = ["red", "green", "blue"] + ["undefined"] * (nb - 3)
        else:
            ci = ["gray"] + ["undefined"] * (nb - 1)
    else:
        if isinstance(colorinterp, str):
            raise InvalidParameterError("colorinterp must be a sequence of str, one per band")
        ci = [str(getattr(c, "name", c)).lower() for c in colorinterp]
        if len(ci) != nb:
            raise ShapeError(f"colorinterp has {len(ci)} entries for {nb} bands")
        bad = [c for c in ci if c not in _COLORINTERP]
        if bad:
            raise InvalidParameterError(f"unsupported colorinterp {bad} (use {sorted(_COLORINTERP)})")
        ci = ["gray" if c == "grey" else c for c in ci]
    if nb >= 3 and ci[:3] == ["red", "green", "blue"]:
        photometric, first_extra = "rgb", 3
        implied = ["red", "green", "blue"]
    else:
        photometric, first_extra = "minisblack", 1
        implied = ["gray"]
    extrasamples = [2 if c == "alpha" else 0 for c in ci[first_extra:]]
    implied += ["alpha" if e == 2 else "undefined" for e in extrasamples]
    if descriptions is not None:
        if isinstance(descriptions, str) or len(descriptions) != nb:
            raise ShapeError(f"descriptions must have one entry per band ({nb})")
    ovr_factors: list[int] = []
    if overviews:
        for f in overviews:
            if isinstance(f, bool) or not isinstance(f, (int, np.integer)) or f < 2:
                raise InvalidParameterError(f"overview factors must be integers >= 2, got {overviews!r}")
        ovr_factors = sorted({int(f) for f in overviews})
    if overview_resampling not in ("nearest", "average"):
        raise InvalidParameterError(f"overview_resampling must be 'nearest' or 'average', got {overview_resampling!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RasterWriteError(f"cannot write {path!r}: folder {folder!r} does not exist")
    try:
        geo_tags = _georef_tags(aff) + _geokey_tags(crs_obj)
    except CRSError:
        raise
    # GDAL metadata: descriptions and colour interpretations the photometric cannot express
    items = []
    for b in range(nb):
        if descriptions is not None and descriptions[b]:
            text = escape(escape(str(descriptions[b])))
            items.append(f'<Item name="DESCRIPTION" sample="{b}" role="description">{text}</Item>')
        if ci[b] != implied[b]:
            items.append(f'<Item name="COLORINTERP" sample="{b}" role="colorinterp">{ci[b].capitalize()}</Item>')
    extratags = list(geo_tags)
    if nodata is not None:
        extratags.append((42113, 2, 0, _format_nodata(nodata), True))
    if items:
        extratags.append((42112, 2, 0, "<GDALMetadata>\n" + "\n".join(items) + "\n</GDALMetadata>", True))

    # ---------------------------------------------------------------- writing (atomic)
    data = np.ascontiguousarray(np.moveaxis(array, 0, -1)) if nb > 1 else np.ascontiguousarray(array[0])
    itemsize = array.dtype.itemsize
    est = nb * h * w * itemsize * (1.4 if ovr_factors else 1.0)
    bigtiff = est > 3.8e9
    opts: dict[str, Any] = {
        "photometric": photometric,
        "planarconfig": "contig" if nb > 1 else None,
        "compression": compression,
        "predictor": predictor if predictor not in (None, 1) else None,
        "metadata": None,
        "software": False,
    }
    if compression == "jpeg":
        # RGB stays RGB (no YCbCr conversion, no chroma subsampling), as GDAL writes it by default
        opts["compressionargs"] = {"level": int(jpeg_quality)}
        if photometric == "rgb":
            opts["compressionargs"]["outcolorspace"] = "RGB"
            opts["subsampling"] = (1, 1)
    if extrasamples and nb > 1:
        opts["extrasamples"] = extrasamples
    if tiled:
        opts["tile"] = (int(blocksize), int(blocksize))
    else:
        opts["rowsperstrip"] = max(1, 8192 // max(1, w * nb * itemsize))
    try:
        with atomic_path(path) as tmp, tifffile.TiffWriter(tmp, bigtiff=bigtiff) as tw:
            tw.write(data, extratags=extratags, **opts)
            previous = array
            for f in ovr_factors:
                if overview_resampling == "nearest":
                    # like GDAL (gdaladdo -r nearest): each level sampled from the previous one
                    ov = _nearest_to_shape(previous, -(-h // f), -(-w // f))
                    previous = ov
                else:
                    ov = build_overview(array, f, resampling=overview_resampling, nodata=nodata)
                ovd = np.ascontiguousarray(np.moveaxis(ov, 0, -1)) if nb > 1 else np.ascontiguousarray(ov[0])
                o_opts = dict(opts)
                if tiled:
                    o_opts["tile"] = (int(blocksize), int(blocksize))
                tw.write(ovd, subfiletype=1, **o_opts)
    except RasterWriteError:
        raise
    except Exception as exc:
        raise RasterWriteError(f"cannot write {path!r}: {type(exc).__name__}: {exc}") from exc
