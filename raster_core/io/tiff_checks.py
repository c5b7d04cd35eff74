"""Structural checks of a parsed TIFF, made before anything is allocated or decoded.

The GeoTIFF reader calls these on every IFD it uses (main image, overviews, masks) so that a
corrupt or hostile file is refused with a :class:`~raster_core.errors.RasterReadError` (or an
:class:`~raster_core.errors.UnsupportedFeatureError`) instead of giving a giant allocation, an
untyped exception or pixels that GDAL would not give:

* tags GDAL's libtiff rejects: non-integer or non-positive sizes, a planar configuration
  other than 1/2, a sample format outside 1..6, CCITT compression on more than 1 bit per
  sample, a floating-point predictor on integers, unknown predictors;
* a predictor on a codec that has none (uncompressed, PackBits, JPEG...) is ignored, as
  libtiff ignores it;
* segment (tile/strip) offsets and byte counts stored as integers, inside the file;
* a segment whose decoded size exceeds :func:`read_limits`'s ``segment_bytes`` (whole reads
  are bounded by the budget of :mod:`raster_core.limits`, ``RASTER_CORE_MAX_BYTES``);
* geotransforms whose members or inverse are not finite (NaN, inf, denormal scales);
* ``GDAL_NODATA`` parsed from its raw bytes as GDAL parses it (:func:`parse_gdal_nodata`).

The segment limit comes from ``RASTER_CORE_MAX_SEGMENT_BYTES`` or :func:`set_read_limits`
(default 1 GiB).

Examples
--------
>>> read_limits().segment_bytes
1073741824
>>> parse_gdal_nodata(b"-9999", "int16"), parse_gdal_nodata(b"abc", "uint8"), parse_gdal_nodata(b"", "uint8")
(-9999.0, 0.0, None)
>>> check_geotransform((0.0, 5e-324, 0.0, 0.0, 0.0, -1.0))
Traceback (most recent call last):
...
raster_core.errors.RasterReadError: geotransform (0.0, 5e-324, 0.0, 0.0, 0.0, -1.0) has no finite inverse
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from raster_core.errors import InvalidParameterError, RasterReadError, UnsupportedFeatureError

__all__ = [
    "ReadLimits",
    "SegmentTableError",
    "read_limits",
    "set_read_limits",
    "check_page",
    "check_segments",
    "check_geotransform",
    "usable_colormap",
    "segment_decoder",
    "raw_ascii_tag",
    "parse_gdal_nodata",
]

_DEFAULT_SEGMENT_BYTES = 1 << 30


@dataclass(frozen=True)
class ReadLimits:
    """Largest decoded segment (tile or strip), in bytes."""

    segment_bytes: int


_overrides: dict[str, int] = {}


def _env_limit(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return default


def read_limits() -> ReadLimits:
    """The limit in force (set by :func:`set_read_limits`, else the environment, else the default)."""
    return ReadLimits(
        segment_bytes=_overrides.get("segment_bytes")
        or _env_limit("RASTER_CORE_MAX_SEGMENT_BYTES", _DEFAULT_SEGMENT_BYTES),
    )


def set_read_limits(*, segment_bytes: int | None = None) -> ReadLimits:
    """Set the per-segment limit for this process (``None`` restores the environment/default).

    Examples
    --------
    >>> old = read_limits()
    >>> set_read_limits(segment_bytes=1 << 20).segment_bytes
    1048576
    >>> set_read_limits(segment_bytes=old.segment_bytes) == old
    True
    """
    for key, value in (("segment_bytes", segment_bytes),):
        if value is None:
            _overrides.pop(key, None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise InvalidParameterError(f"{key} must be a positive integer, got {value!r}")
        _overrides[key] = int(value)
    return read_limits()


# TIFF field types holding integers (BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG, IFD, LONG8, SLONG8, IFD8)
_INTEGER_TYPES = frozenset({1, 3, 4, 6, 8, 9, 13, 16, 17, 18})
# tags whose values must be integers: sizes, layout, codec, segment offsets and byte counts
_INTEGER_TAGS = {
    254: "NewSubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample", 259: "Compression",
    262: "PhotometricInterpretation", 273: "StripOffsets", 277: "SamplesPerPixel", 278: "RowsPerStrip",
    279: "StripByteCounts", 284: "PlanarConfiguration", 317: "Predictor", 322: "TileWidth",
    323: "TileLength", 324: "TileOffsets", 325: "TileByteCounts", 338: "ExtraSamples", 339: "SampleFormat",
    530: "YCbCrSubSampling",
}
_CCITT = frozenset({2, 3, 4, 32771})
# codecs libtiff applies a predictor to (LZW, Deflate, LZMA, ZSTD); the others ignore it
_PREDICTOR_CODECS = frozenset({5, 8, 32946, 34925, 50000})


def _tag_value(page: Any, code: int, default: Any) -> Any:
    tag = page.tags.get(code)
    if tag is None:
        return default
    value = tag.value
    if isinstance(value, (tuple, list)):
        return value[0] if len(value) else default
    return value


# core tags libtiff reads as one value, and core tags it reads as integer arrays
_SCALAR_TAGS = frozenset({256, 257, 259, 262, 277, 278, 284, 317, 322, 323})
_INTEGER_ARRAY_TAGS = frozenset({258, 273, 279, 280, 281, 324, 325, 338, 339, 530})
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


class SegmentTableError(RasterReadError):
    """A tile/strip offset or byte-count table that cannot be used.

    GDAL loads these tables lazily: it lists the IFD and fails when it is read, so the file is
    refused, where an IFD with other defects ends the IFD chain as GDAL's scan does.
    """


_SEGMENT_TAGS = frozenset({273, 279, 324, 325})


def _check_raw_entries(page: Any, where: str) -> None:
    """Field types, counts and value ranges of the core tags, from the IFD bytes themselves.

    tifffile skips entries it cannot decode, where libtiff refuses the directory.
    """
    parent = page.parent
    order = parent.byteorder
    big = bool(parent.is_bigtiff)
    fh = parent.filehandle
    size = int(fh.size)
    head, esize = (8, 20) if big else (2, 12)
    fh.seek(int(page.offset))
    raw = fh.read(head)
    if len(raw) < head:
        raise RasterReadError(f"{where}: truncated IFD")
    (n,) = struct.unpack(order + ("Q" if big else "H"), raw)
    if n > 4096 or int(page.offset) + head + n * esize > size:
        raise RasterReadError(f"{where}: IFD of {n} entries does not fit in the file")
    table = fh.read(n * esize)
    for k in range(n):
        if big:
            tag, typ, count = struct.unpack_from(order + "HHQ", table, k * esize)
        else:
            tag, typ, count = struct.unpack_from(order + "HHI", table, k * esize)
        if tag not in _SCALAR_TAGS and tag not in _INTEGER_ARRAY_TAGS:
            continue
        name = _INTEGER_TAGS.get(tag, f"tag {tag}")
        error = SegmentTableError if tag in _SEGMENT_TAGS else RasterReadError
        if typ not in _INTEGER_TYPES:
            raise error(f"{where}: {name} is stored as field type {typ}, not as integers")
        if (tag in _SCALAR_TAGS and count != 1) or count == 0:
            raise error(f"{where}: {name} has {count} values")
        nbytes = count * _TYPE_SIZES[typ]
        if nbytes > (8 if big else 4):
            (pos,) = struct.unpack_from(order + ("Q" if big else "I"), table, k * esize + (12 if big else 8))
            if pos + nbytes > size:
                raise error(f"{where}: the values of {name} lie past the end of the file")
        if typ in (6, 8, 9, 17):  # signed storage: libtiff refuses negative sizes, offsets, codes
            values = page.tags[tag].value if tag in page.tags else ()
            values = values if isinstance(values, (tuple, list)) else (values,)
            if any(int(v) < 0 for v in values if isinstance(v, (int, np.integer))):
                raise error(f"{where}: {name} has negative values")


def check_page(page: Any, index: int) -> None:
    """Refuse an IFD (a tifffile ``TiffPage``) whose tags GDAL's libtiff rejects.

    Also makes a predictor on a codec without one a no-op, as in libtiff. Raises
    :class:`RasterReadError` (or :class:`UnsupportedFeatureError` for valid but unsupported
    sample formats) naming the IFD.
    """
    where = f"IFD {index}"
    _check_raw_entries(page, where)
    for code, name in _INTEGER_TAGS.items():
        tag = page.tags.get(code)
        if tag is not None and int(tag.dtype) not in _INTEGER_TYPES:
            raise RasterReadError(f"{where}: {name} is stored as field type {int(tag.dtype)}, not as integers")
    tile_tags = sum(code in page.tags for code in (322, 323))
    if tile_tags == 1 or (tile_tags == 2) != (324 in page.tags):
        # libtiff takes either tile size tag for a tiled image and then fails or reads another layout
        raise RasterReadError(f"{where}: inconsistent tile tags (TileWidth, TileLength, TileOffsets)")
    width, height = int(page.imagewidth), int(page.imagelength)
    if width < 1 or height < 1:
        raise RasterReadError(f"{where}: invalid size {width} x {height}")
    samples = int(page.samplesperpixel)
    if samples < 1:
        raise RasterReadError(f"{where}: invalid SamplesPerPixel {samples}")
    if page.is_tiled and (int(page.tilewidth) < 1 or int(page.tilelength) < 1):
        raise RasterReadError(f"{where}: invalid tile size {page.tilewidth} x {page.tilelength}")
    planar = int(_tag_value(page, 284, 1))
    if planar not in (1, 2):
        raise RasterReadError(f"{where}: invalid PlanarConfiguration {planar}")
    bits_values = page.tags[258].value if 258 in page.tags else (1,)
    bits_values = bits_values if isinstance(bits_values, (tuple, list)) else (bits_values,)
    if any(int(b) < 1 or int(b) > 64 for b in bits_values):
        raise RasterReadError(f"{where}: invalid BitsPerSample {tuple(bits_values)}")
    extras = page.tags[338].value if 338 in page.tags else ()
    extras = extras if isinstance(extras, (tuple, list)) else (extras,)
    if len(extras) > samples or any(int(e) not in (0, 1, 2, 999) for e in extras):
        raise RasterReadError(f"{where}: invalid ExtraSamples {tuple(extras)} for {samples} samples")
    bits = int(page.bitspersample)
    sampleformat = int(_tag_value(page, 339, 1))
    if not 1 <= sampleformat <= 6:
        raise RasterReadError(f"{where}: invalid SampleFormat {sampleformat}")
    if sampleformat in (5, 6):
        raise UnsupportedFeatureError(f"{where}: complex sample formats are not supported")
    compression = int(page.compression)
    if compression in _CCITT and (bits != 1 or samples != 1):
        raise RasterReadError(f"{where}: CCITT compression needs 1-bit samples, not {samples} x {bits}-bit")
    predictor = int(_tag_value(page, 317, 1))
    if compression in _PREDICTOR_CODECS:
        if predictor == 2 and bits not in (8, 16, 32, 64):
            raise RasterReadError(f"{where}: horizontal predictor on {bits}-bit samples")
        if predictor == 3 and sampleformat != 3:
            raise RasterReadError(f"{where}: floating-point predictor on non-floating-point samples")
        if predictor not in (1, 2, 3):
            raise RasterReadError(f"{where}: unknown Predictor {predictor}")
    elif predictor != 1:
        page.predictor = 1  # the codec has no predictor: libtiff ignores the tag
    if int(page.photometric) == 6 and compression not in (6, 7):
        # GDAL converts such YCbCr to RGB through libtiff's RGBA interface; we do not
        raise UnsupportedFeatureError(f"{where}: YCbCr data without JPEG compression is not supported")
    if int(page.photometric) == 6:
        sub = page.tags[530].value if 530 in page.tags else (2, 2)
        if not isinstance(sub, (tuple, list)) or len(sub) < 2 or any(int(s) not in (1, 2, 4) for s in sub[:2]):
            raise RasterReadError(f"{where}: invalid YCbCrSubSampling {sub!r}")


def check_segments(
    where: str,
    offsets: Sequence[int],
    bytecounts: Sequence[int],
    file_size: int,
    segment_bytes: int,
    *,
    single_strip: bool,
) -> None:
    """Refuse segments past the end of the file or whose decoded size exceeds the limit.

    ``segment_bytes`` is the decoded size of one segment as its IFD declares it.
    """
    limit = read_limits().segment_bytes
    if segment_bytes > limit:
        raise RasterReadError(
            f"{where}: one tile/strip declares {segment_bytes} decoded bytes, more than the limit of {limit} "
            "(RASTER_CORE_MAX_SEGMENT_BYTES)"
        )
    for k, (off, cnt) in enumerate(zip(offsets, bytecounts, strict=False)):
        if off < 0 or cnt < 0:
            raise RasterReadError(f"{where}: negative offset or byte count of segment {k}")
        if cnt and off + cnt > file_size:
            raise RasterReadError(
                f"{where}: truncated file (segment {k}: {cnt} bytes at {off}, past the end at {file_size})"
            )
    if single_strip and offsets and bytecounts[0] == 0 and offsets[0] != 0:
        # libtiff guesses the size of such a strip; refuse rather than read zeros
        raise RasterReadError(f"{where}: the only strip has a byte count of 0")


def check_geotransform(gt: Sequence[float]) -> None:
    """Refuse a geotransform with non-finite members, a zero determinant or a non-finite inverse."""
    gt = tuple(float(v) for v in gt)
    if not all(math.isfinite(v) for v in gt):
        raise RasterReadError(f"geotransform {gt} has non-finite members")
    det = gt[1] * gt[5] - gt[2] * gt[4]
    if det == 0.0 or not math.isfinite(det):
        raise RasterReadError(f"geotransform {gt} is singular")
    inv = (gt[5] / det, -gt[2] / det, -gt[4] / det, gt[1] / det)
    if not all(math.isfinite(v) for v in inv):
        raise RasterReadError(f"geotransform {gt} has no finite inverse")


def segment_decoder(page: Any) -> Any:
    """tifffile's decode function of ``page``, with LZW decompressed through a safe path.

    imagecodecs' LZW decoder given an output size (as tifffile gives it) writes past its
    buffer on some corrupt streams and corrupts the heap; without a size it measures the
    stream first and refuses a corrupt one. The LZW bytes are decompressed that way and
    handed to the decode function of the same layout without compression (predictor,
    unpacking and reshaping unchanged).
    """
    if int(page.compression) != 5:
        return page.decode
    import imagecodecs

    page.compression = 1  # the decoder of the same layout, uncompressed (cached under this layout)
    try:
        plain = page.decode
    finally:
        page.compression = 5

    def decode(data: bytes | None, index: int, **kwargs: Any) -> Any:
        decoded = None if data is None else imagecodecs.lzw_decode(data)
        return plain(decoded, index, **kwargs)

    return decode


def usable_colormap(raw: Any, bits: int) -> np.ndarray | None:
    """The ColorMap as a (3, 2**bits) array, or None when its size does not match (libtiff ignores it)."""
    if raw is None:
        return None
    cm = np.asarray(raw)
    if cm.ndim != 2 or cm.shape[0] != 3 or not 1 <= bits <= 16 or cm.shape[1] != (1 << bits):
        return None
    return cm


def raw_ascii_tag(page: Any, code: int, max_bytes: int = 4096) -> bytes | None:
    """Raw bytes of an ASCII tag, up to its first NUL (tifffile strips blanks, GDAL does not)."""
    tag = page.tags.get(code)
    if tag is None or int(tag.dtype) != 2:  # libtiff ignores GDAL's ASCII tags stored as another type
        return None
    count = min(int(tag.count), max_bytes)
    try:
        fh = page.parent.filehandle
        fh.seek(int(tag.valueoffset))
        raw = fh.read(count)
    except Exception:  # fall back to tifffile's (stripped) value
        value = tag.value
        raw = value if isinstance(value, bytes) else str(value).encode("utf-8", "replace")
    return raw.split(b"\0", 1)[0]


# GDAL's number reading (CPLAtofM): leading blanks, a few Windows spellings of NaN/inf, exact
# nan/inf words, then the longest decimal prefix (a comma before any period is the decimal
# mark); no prefix reads as 0.
_BLANKS = b" \t\n\r"
_PREFIX_SPECIALS = (
    (b"-1.#QNAN", math.nan), (b"-1.#IND", math.nan), (b"1.#QNAN", math.nan), (b"1.#SNAN", math.nan),
)
_WORDS = {
    b"nan": math.nan, b"NaN": math.nan,
    b"inf": math.inf, b"Inf": math.inf, b"INF": math.inf, b"Infinity": math.inf,
    b"-inf": -math.inf, b"-Inf": -math.inf, b"-INF": -math.inf, b"-Infinity": -math.inf,
}
_NUMBER = re.compile(rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _gdal_atof(raw: bytes) -> float:
    s = raw.lstrip(_BLANKS)
    for prefix, value in _PREFIX_SPECIALS:
        if s.startswith(prefix):
            return value
    if s[:7].upper() == b"-1.#INF":
        return -math.inf
    if s[:6].upper() == b"1.#INF":
        return math.inf
    if s.startswith(b"+"):
        s = s[1:]
    if s in _WORDS:
        return _WORDS[s]
    head = s[:50]
    comma, period = head.find(b","), head.find(b".")
    if comma >= 0 and (period < 0 or comma < period):
        s = s.replace(b",", b".")
    m = _NUMBER.match(s)
    return float(m.group(0)) if m else 0.0


def parse_gdal_nodata(raw: bytes | str | None, dtype: Any) -> float | None:
    """Raw ``GDAL_NODATA`` bytes -> the value GDAL's ``GetNoDataValue`` reports (None if unset).

    Examples
    --------
    >>> [parse_gdal_nodata(s, "float64") for s in (b"1,5", b"-nan", b" nan", b"5abc")]
    [1.5, 0.0, nan, 5.0]
    >>> parse_gdal_nodata(b"0.1", "float32")
    0.10000000149011612
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    raw = bytes(raw).split(b"\0", 1)[0]
    if not raw:
        return None
    value = _gdal_atof(raw)
    if np.dtype(dtype) == np.float32 and math.isfinite(value):
        with np.errstate(over="ignore"):
            value = float(np.float32(value))
    return value
