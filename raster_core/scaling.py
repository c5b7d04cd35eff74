"""Output data types, ``scales`` and ``scaling`` modes of the Raster API.

Three layers, from low to high:

* **Data types** (spec §2.7): the seven GDAL names (``Byte`` ... ``Float64``), their NumPy
  dtypes, :func:`parse_data_type`, :func:`data_type_of` (a NumPy dtype -> a name) and
  :func:`common_data_type` (the default output type of several bands).
* **Scales** (spec §2.6, GDAL ``gdal_translate -scale``): :func:`normalize_scales` validates
  the per-band ``scales`` list, :func:`apply_scales` maps pixel values linearly and converts
  them to the output type exactly as GDAL's ``GDALCopyWords`` does (round half away from
  zero, saturate at the type limits, NaN -> 0). Without a scale a narrowing conversion
  simply clamps, like GDAL (the guide's "don't do this" example).
* **Scaling modes** (spec §2.8-2.9, the catalog's ``scaling=`` argument):
  :func:`scaling_parameters` turns ``"raw"``, ``"display"``, ``"auto"``, ``"physical"``,
  tuples, lists and dicts into ``(scales, data_type)`` from the bands' catalog ranges.

Examples
--------
>>> import numpy as np
>>> from raster_core.scaling import apply_scales, normalize_scales
>>> data = np.array([[[0, 2000, 4000, 9000]]], dtype=np.uint16)   # (bands, rows, cols)
>>> apply_scales(data, normalize_scales([(0, 4000)], 1), "Byte")
array([[[  0, 128, 255, 255]]], dtype=uint8)
>>> apply_scales(data, None, "Byte")          # no scales: values are clamped, not scaled
array([[[  0, 255, 255, 255]]], dtype=uint8)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from raster_core.errors import BandError, DataTypeError, InvalidParameterError, UnsupportedFeatureError

__all__ = [
    "DATA_TYPES",
    "DATA_TYPE_RANGES",
    "VALID_DATA_TYPE_CASTS",
    "ScaleSpec",
    "Scales",
    "ScalingMode",
    "BandProperties",
    "parse_data_type",
    "data_type_of",
    "numpy_dtype",
    "common_data_type",
    "data_type_from_range",
    "normalize_scales",
    "scale_coefficients",
    "apply_scales",
    "cast_like_gdal",
    "scale_band",
    "properties_for_band",
    "resolve_processing_level",
    "scaling_parameters",
    "multiproduct_scaling_parameters",
]

# --------------------------------------------------------------------------------------
# data types (spec §2.7)
# --------------------------------------------------------------------------------------

#: GDAL data type name -> NumPy dtype, smallest to largest, unsigned before signed.
DATA_TYPES: dict[str, np.dtype] = {
    "Byte": np.dtype(np.uint8),
    "UInt16": np.dtype(np.uint16),
    "Int16": np.dtype(np.int16),
    "UInt32": np.dtype(np.uint32),
    "Int32": np.dtype(np.int32),
    "Float32": np.dtype(np.float32),
    "Float64": np.dtype(np.float64),
}

#: The catalog's "default output range" of each type (for floats: [0, 1], not what a float holds).
DATA_TYPE_RANGES: dict[str, tuple[float, float]] = {
    "Byte": (0, 255),
    "UInt16": (0, 65535),
    "Int16": (-32768, 32767),
    "UInt32": (0, 4294967295),
    "Int32": (-2147483648, 2147483647),
    "Float32": (0.0, 1.0),
    "Float64": (0.0, 1.0),
}

#: Allowed lossless up-casts of each type (the catalog's ``valid_data_type_casts``; the
#: original's one-element entries were strings by mistake, here they are tuples).
VALID_DATA_TYPE_CASTS: dict[str, tuple[str, ...]] = {
    "Byte": ("UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"),
    "UInt16": ("UInt32", "Int32", "Float32", "Float64"),
    "Int16": ("Int32", "Float32", "Float64"),
    "UInt32": ("Float64",),
    "Int32": ("Float32", "Float64"),
    "Float32": ("Float64",),
    "Float64": (),
}

_LOWER_NAMES = {name.lower(): name for name in DATA_TYPES}
_DTYPE_TO_NAME = {dt: name for name, dt in DATA_TYPES.items()}
# NumPy types outside the seven names: the smallest of the seven that holds every value
# exactly (int64/uint64 have none, Float64 is the closest, as GDAL < 3.5 did).
_WIDENED = {
    np.dtype(np.bool_): "Byte",
    np.dtype(np.int8): "Int16",
    np.dtype(np.int64): "Float64",
    np.dtype(np.uint64): "Float64",
    np.dtype(np.float16): "Float32",
}

DataTypeLike = str | np.dtype | type


def _valid_names() -> str:
    return ", ".join(DATA_TYPES)


def parse_data_type(value: DataTypeLike | None, *, allow_none: bool = True) -> str | None:
    """Canonical GDAL data type name of ``value``.

    Accepts the seven GDAL names case-insensitively (``"byte"`` -> ``"Byte"``, as GDAL's
    ``GDALGetDataTypeByName``) and the NumPy dtypes that are one of them
    (``np.uint16``, ``"float32"``).

    Raises
    ------
    DataTypeError
        For anything else (with the spec's ``"Invalid data_type value ..."`` message).

    Examples
    --------
    >>> parse_data_type("uint16"), parse_data_type("BYTE"), parse_data_type(np.float32)
    ('UInt16', 'Byte', 'Float32')
    >>> parse_data_type(None) is None
    True
    """
    if value is None:
        if allow_none:
            return None
        raise DataTypeError(f"Invalid data_type value None: must be one of {_valid_names()}")
    if isinstance(value, str):
        name = _LOWER_NAMES.get(value.strip().lower())
        if name is not None:
            return name
    if not isinstance(value, bool):
        try:
            dt = np.dtype(value)
        except (TypeError, ValueError):
            dt = None
        if dt is not None and dt in _DTYPE_TO_NAME:
            return _DTYPE_TO_NAME[dt]
    raise DataTypeError(f"Invalid data_type value {value!r}: must be one of {_valid_names()}")


def numpy_dtype(data_type: DataTypeLike) -> np.dtype:
    """NumPy dtype of a GDAL data type name (validated).

    >>> numpy_dtype("Int16")
    dtype('int16')
    """
    return DATA_TYPES[parse_data_type(data_type, allow_none=False)]  # type: ignore[index]


def data_type_of(dtype: Any) -> str:
    """GDAL data type name for a NumPy dtype (of a source band).

    Types outside the seven names are widened to the smallest one that holds them
    (``int8`` -> ``Int16``, ``int64``/``uint64`` -> ``Float64``, ``float16`` -> ``Float32``).

    Raises
    ------
    UnsupportedFeatureError
        For complex or non-numeric dtypes.

    Examples
    --------
    >>> data_type_of(np.uint8), data_type_of("int8")
    ('Byte', 'Int16')
    """
    if isinstance(dtype, str) and dtype.strip().lower() in _LOWER_NAMES:
        return _LOWER_NAMES[dtype.strip().lower()]
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise DataTypeError(f"not a data type: {dtype!r}") from None
    if dt in _DTYPE_TO_NAME:
        return _DTYPE_TO_NAME[dt]
    if dt.newbyteorder("=") in _DTYPE_TO_NAME:
        return _DTYPE_TO_NAME[dt.newbyteorder("=")]
    if dt in _WIDENED:
        return _WIDENED[dt]
    raise UnsupportedFeatureError(f"data type {dt} is not supported by the Raster API (complex or non-numeric)")


def common_data_type(data_types: Iterable[DataTypeLike]) -> str | None:
    """The type every one of ``data_types`` can be cast to without loss (spec §2.7).

    Folds pairwise: equal types, or one castable to the other, or else the first type of
    the second's cast list that the first can also be cast to. ``None`` for an empty list.
    (The original client returned ``"F"`` for ``["UInt32", "Float32"]``, a bug; this returns
    ``"Float64"``.)

    Examples
    --------
    >>> common_data_type(["UInt16", "Int16"]), common_data_type(["Int16", "Byte"])
    ('Int32', 'Int16')
    >>> common_data_type(["UInt16", "Byte"]), common_data_type(["UInt32", "Float32"])
    ('UInt16', 'Float64')
    """
    result: str | None = None
    for value in data_types:
        name = parse_data_type(value, allow_none=False)
        assert name is not None
        if result is None or result == name or result in VALID_DATA_TYPE_CASTS[name]:
            result = name if result is None else result
            continue
        if name in VALID_DATA_TYPE_CASTS[result]:
            result = name
            continue
        common = [t for t in VALID_DATA_TYPE_CASTS[name] if t in VALID_DATA_TYPE_CASTS[result]]
        result = common[0] if common else "Float64"
    return result


def data_type_from_range(low: float | None, high: float | None, is_float: bool) -> str:
    """Smallest type holding ``[low, high]`` (Float64 when float or beyond Int32).

    >>> data_type_from_range(0, 10000, False), data_type_from_range(-1, 1, False)
    ('UInt16', 'Int16')
    """
    i32lo, i32hi = DATA_TYPE_RANGES["Int32"]
    if is_float or (low is not None and low < i32lo) or (high is not None and high > i32hi):
        return "Float64"
    for name in ("Byte", "UInt16", "Int16", "UInt32", "Int32"):
        lo, hi = DATA_TYPE_RANGES[name]
        if (low is None or low >= lo) and (high is not None and high <= hi):
            return name
    return "Float64"


# --------------------------------------------------------------------------------------
# scales (spec §2.6) and GDAL's conversions
# --------------------------------------------------------------------------------------

#: One band's scale: ``None`` (no scaling), ``()`` ("auto": the band's min/max to 0-255) or
#: ``(s0, s1, d0, d1)``.
ScaleSpec = tuple[float, ...] | None
Scales = tuple[ScaleSpec, ...] | None


def _finite_number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{what} must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f):
        raise InvalidParameterError(f"{what} must be finite, got {value!r}")
    return f


def normalize_scales(scales: Any, band_count: int) -> Scales:
    """Validate a ``scales`` argument and return one canonical entry per band.

    ``scales`` is ``None`` or a sequence with one entry per requested band; each entry is
    ``None`` (unscaled), ``()`` (auto), ``(s0, s1)`` (-> ``(s0, s1, 0, 255)``) or
    ``(s0, s1, d0, d1)``. A list of all ``None`` returns ``None``.

    Raises
    ------
    InvalidParameterError
        Wrong length, wrong entry length, non-finite or non-numeric values, or a
        zero-width source range (``s0 == s1``).

    Examples
    --------
    >>> normalize_scales([[0, 4000], None, (0, 1, 0, 1)], 3)
    ((0.0, 4000.0, 0.0, 255.0), None, (0.0, 1.0, 0.0, 1.0))
    >>> normalize_scales([None, None], 2) is None
    True
    """
    if scales is None:
        return None
    if isinstance(scales, (str, bytes, Mapping)) or not isinstance(scales, Iterable):
        raise InvalidParameterError(
            f"scales must be None or a list with one entry per band, got {scales!r}"
            + (" (use scaling= for a mode name)" if isinstance(scales, str) else "")
        )
    entries = list(scales)
    if len(entries) != band_count:
        raise InvalidParameterError(
            f"scales has {len(entries)} entries but {band_count} band(s) were requested; give one entry per band"
        )
    out: list[ScaleSpec] = []
    for i, entry in enumerate(entries):
        if entry is None:
            out.append(None)
            continue
        if isinstance(entry, (str, bytes, Mapping)) or not isinstance(entry, Iterable):
            raise InvalidParameterError(
                f"scales[{i}] must be None, (), (src_min, src_max) or (src_min, src_max, dst_min, dst_max), "
                f"got {entry!r}"
            )
        vals = list(entry)
        if len(vals) not in (0, 2, 4):
            raise InvalidParameterError(
                f"scales[{i}] must have 0, 2 or 4 values (src_min, src_max[, dst_min, dst_max]), got {entry!r}"
            )
        if not vals:
            out.append(())
            continue
        nums = [_finite_number(v, f"scales[{i}][{j}]") for j, v in enumerate(vals)]
        if nums[0] == nums[1]:
            raise InvalidParameterError(
                f"scales[{i}] has a zero-width source range ({entry!r}): src_min must differ from src_max"
            )
        if len(nums) == 2:
            nums += [0.0, 255.0]
        out.append(tuple(nums))
    if all(e is None for e in out):
        return None
    return tuple(out)


def scale_coefficients(scale: tuple[float, float, float, float]) -> tuple[float, float]:
    """``(ratio, offset)`` of a 4-tuple scale, computed as ``gdal_translate -scale`` does.

    ``out = v * ratio + offset`` with ``ratio = (d1 - d0) / (s1 - s0)`` and
    ``offset = d0 - s0 * ratio``.

    >>> scale_coefficients((0, 4000, 0, 255))
    (0.06375, 0.0)
    """
    s0, s1, d0, d1 = (float(v) for v in scale)
    ratio = (d1 - d0) / (s1 - s0)
    return ratio, -s0 * ratio + d0


def _auto_scale(band: np.ndarray, valid: np.ndarray | None) -> tuple[float, float, float, float]:
    """The ``()`` scale of one band: its valid min/max to 0-255 (GDAL widens a
    zero-width range by 0.1, as ``gdal_translate -scale`` does)."""
    values = band if valid is None else band[valid]
    if values.dtype.kind == "f":
        values = values[np.isfinite(values)]
    if values.size == 0:
        return (0.0, 0.1, 0.0, 255.0)
    lo, hi = float(values.min()), float(values.max())
    if hi == lo:
        hi = lo + 0.1
    return (lo, hi, 0.0, 255.0)


def cast_like_gdal(values: np.ndarray, dtype: Any, *, out: np.ndarray | None = None) -> np.ndarray:
    """Convert an array to ``dtype`` as GDAL's ``GDALCopyWords`` does.

    * float -> integer: round half away from zero (``v + 0.5`` / ``v - 0.5`` then truncate,
      computed in the source's precision, so float32 0.49999997 -> 1 as in GDAL),
      saturate at the type's limits, NaN -> 0;
    * integer -> narrower integer: saturate (``UInt16`` 300 -> ``Byte`` 255, -5 -> 0);
    * -> Float32 / Float64: round to nearest (values beyond the float32 range become +-inf).

    Examples
    --------
    >>> cast_like_gdal(np.array([-2.5, -0.5, 0.5, 2.5, 254.5, 300.0, np.nan]), np.uint8)
    array([  0,   0,   1,   3, 255, 255,   0], dtype=uint8)
    >>> cast_like_gdal(np.array([-2.5, 2.5, 1e6]), np.int16)
    array([   -3,     3, 32767], dtype=int16)
    """
    dt = np.dtype(dtype)
    src = np.asarray(values)
    if out is None:
        out = np.empty(src.shape, dtype=dt)
    if src.dtype == dt or dt.kind == "f":
        np.copyto(out, src, casting="unsafe")
        return out
    info = np.iinfo(dt)
    if src.dtype.kind in "iub":
        sinfo = np.iinfo(src.dtype) if src.dtype.kind != "b" else np.iinfo(np.uint8)
        if sinfo.min >= info.min and sinfo.max <= info.max:
            np.copyto(out, src, casting="unsafe")
        else:
            lo = src.dtype.type(max(info.min, sinfo.min))
            hi = src.dtype.type(min(info.max, sinfo.max))
            np.copyto(out, np.clip(src, lo, hi), casting="unsafe")
        return out
    if src.dtype.kind != "f":
        raise UnsupportedFeatureError(f"cannot convert {src.dtype} pixels to {dt}")
    # float -> integer: round half away from zero in the source precision, then saturate
    half = src.dtype.type(0.5)
    with np.errstate(invalid="ignore"):
        rounded = np.where(src >= 0, np.floor(src + half), np.ceil(src - half)).astype(np.float64)
    np.clip(rounded, float(info.min), float(info.max), out=rounded)
    rounded[np.isnan(rounded)] = 0.0
    np.copyto(out, rounded, casting="unsafe")
    return out


def _works_in_float64(src: np.dtype, dst: np.dtype) -> bool:
    """GDAL's VRT scaling works in float64 when the output is a 32-bit integer or Float64
    or the source a 32/64-bit integer; otherwise in float32 (verified against GDAL 3.10)."""
    return dst in (np.dtype(np.uint32), np.dtype(np.int32), np.dtype(np.float64)) or (
        src.kind in "iu" and src.itemsize >= 4
    )


def scale_band(band: np.ndarray, scale: tuple[float, float, float, float], dtype: Any) -> np.ndarray:
    """One band through ``gdal_translate -scale s0 s1 d0 d1 -ot <dtype>`` (no masking).

    The arithmetic follows GDAL 3.10's VRT ComplexSource exactly: ``v * ratio + offset`` in
    float64, rounded to float32 first unless :func:`_works_in_float64`, then converted with
    :func:`cast_like_gdal`.

    >>> scale_band(np.array([5000], dtype=np.uint16), (0, 10000, 0, 255), np.uint8)
    array([128], dtype=uint8)
    """
    dt = np.dtype(dtype)
    src = np.asarray(band)
    ratio, offset = scale_coefficients(scale)
    if _works_in_float64(src.dtype, dt):
        work = src.astype(np.float64)
        work *= ratio
        work += offset
    else:
        work = src.astype(np.float32).astype(np.float64) if src.dtype.itemsize > 4 else src.astype(np.float64)
        work *= ratio
        work += offset
        work = work.astype(np.float32)
    return cast_like_gdal(work, dt)


def _valid_for_band(valid_mask: np.ndarray | None, b: int) -> np.ndarray | None:
    if valid_mask is None:
        return None
    return valid_mask[b] if valid_mask.ndim == 3 else valid_mask


def apply_scales(
    array: np.ndarray,
    scales: Scales | Sequence[ScaleSpec],
    data_type: DataTypeLike,
    valid_mask: np.ndarray | None = None,
    *,
    fill: float = 0,
    num_threads: int | None = None,
    engine: str = "auto",
) -> np.ndarray:
    """Scale and convert a ``(bands, rows, cols)`` array like ``gdal_translate -scale -ot``.

    Parameters
    ----------
    array
        Pixel values, bands first (2-D input is taken as one band).
    scales
        ``None`` or one entry per band as returned by :func:`normalize_scales`
        (raw lists are normalized here too). ``()`` computes the band's min/max over its
        valid pixels.
    data_type
        Output type name (``"Byte"`` ...) or NumPy dtype.
    valid_mask
        Optional boolean array, True where a pixel is valid, of shape ``(rows, cols)`` or
        ``(bands, rows, cols)``. Invalid pixels are set to ``fill`` and ignored by auto scales.
    fill
        Value written at invalid pixels (0 like the Raster service).
    num_threads
        Threads for large bands (``None`` = every core); results do not depend on it.
    engine
        ``"auto"`` (Numba for bands of 65536+ pixels, NumPy below), ``"numba"`` or
        ``"numpy"``: identical results, for testing and benchmarks.

    Returns
    -------
    numpy.ndarray
        A new array of the output type, same shape as ``array``.

    Notes
    -----
    ``out = v * ratio + offset`` with ``ratio = (d1 - d0) / (s1 - s0)`` and
    ``offset = d0 - s0 * ratio``, with GDAL's working precision (:func:`scale_band`); the
    result is not clamped to ``[d0, d1]``, only saturated at the output type's limits, and
    float -> integer conversion rounds half away from zero (:func:`cast_like_gdal`).

    Examples
    --------
    >>> a = np.array([[[0, 1, 2, 3]], [[0, 1, 1, 0]]], dtype=np.uint16)
    >>> apply_scales(a, [(0, 2, 10, 20), (0, 1)], "Byte")
    array([[[ 10,  15,  20,  25]],
    <BLANKLINE>
           [[  0, 255, 255,   0]]], dtype=uint8)
    """
    arr = np.asarray(array)
    squeeze = arr.ndim == 2
    if squeeze:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        raise InvalidParameterError(f"apply_scales needs a (bands, rows, cols) array, got shape {arr.shape}")
    nb = arr.shape[0]
    dt = numpy_dtype(data_type)
    if scales is not None and not (isinstance(scales, tuple) and all(s is None or isinstance(s, tuple) for s in scales)
                                   and len(scales) == nb and all(s is None or len(s) in (0, 4) for s in scales)):
        scales = normalize_scales(scales, nb)
    if scales is not None and len(scales) != nb:
        raise InvalidParameterError(f"scales has {len(scales)} entries for {nb} band(s)")
    if valid_mask is not None:
        valid_mask = np.asarray(valid_mask, dtype=bool)
        if valid_mask.shape not in (arr.shape[1:], arr.shape):
            raise InvalidParameterError(
                f"valid_mask shape {valid_mask.shape} matches neither {arr.shape[1:]} nor {arr.shape}"
            )
    if arr.dtype.kind not in "biuf":
        raise UnsupportedFeatureError(f"cannot scale {arr.dtype} pixels")
    if engine not in ("auto", "numpy", "numba"):
        raise InvalidParameterError(f"engine must be 'auto', 'numpy' or 'numba', got {engine!r}")
    use_numba = engine == "numba" or (engine == "auto" and arr.shape[1] * arr.shape[2] >= _NUMBA_MIN_PIXELS)
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    out = np.empty(arr.shape, dtype=dt)
    for b in range(nb):
        spec = None if scales is None else scales[b]
        band = arr[b]
        valid = _valid_for_band(valid_mask, b)
        if spec is not None and len(spec) == 0:
            spec = _auto_scale(band, valid)
        if use_numba:
            _scale_band_numba(band, spec, out[b], valid, fill, num_threads)
            continue
        if spec is None:
            cast_like_gdal(band, dt, out=out[b])
        else:
            out[b] = scale_band(band, spec, dt)  # type: ignore[arg-type]
        if valid is not None:
            out[b][~valid] = fill
    return out[0] if squeeze else out


#: bands with at least this many pixels go through the Numba kernel (smaller ones through
#: NumPy, which needs no compilation); both give identical results.
_NUMBA_MIN_PIXELS = 1 << 16


def _scale_band_numba(
    band: np.ndarray,
    spec: tuple[float, ...] | None,
    out: np.ndarray,
    valid: np.ndarray | None,
    fill: float,
    num_threads: int | None,
) -> None:
    from raster_core._kernels import scaling as k
    from raster_core._parallel import row_blocks, run_blocks

    dt = out.dtype
    if spec is None:
        mode, ratio, offset = k.PLAIN, 1.0, 0.0
        round32 = band.dtype == np.float32
    else:
        ratio, offset = scale_coefficients(spec)  # type: ignore[arg-type]
        mode = k.SCALE64 if _works_in_float64(band.dtype, dt) else k.SCALE32
        round32 = mode == k.SCALE32
    out_int = dt.kind in "iu"
    if out_int:
        info = np.iinfo(dt)
        lo, hi = float(info.min), float(info.max)
    else:
        lo, hi = 0.0, 0.0
    has_valid = valid is not None
    vmask = np.ascontiguousarray(valid) if has_valid else np.ones((1, 1), dtype=bool)
    fill_value = dt.type(fill)
    src = band if band.flags.c_contiguous or band.flags.f_contiguous else np.ascontiguousarray(band)
    rows = src.shape[0]
    block = max(1, (1 << 18) // max(1, src.shape[1]))

    def work(r0: int, r1: int) -> None:
        k.scale_rows(src, out, r0, r1, mode, ratio, offset, out_int, round32, lo, hi, vmask, has_valid, fill_value)

    run_blocks(work, row_blocks(rows, block), num_threads=num_threads)


# --------------------------------------------------------------------------------------
# processing levels (spec §2.8) and scaling modes (spec §2.9)
# --------------------------------------------------------------------------------------


class ScalingMode(str, Enum):
    """The four scaling modes of the catalog's ``scaling=`` argument."""

    RAW = "raw"
    DISPLAY = "display"
    AUTO = "auto"
    PHYSICAL = "physical"


_UNSCALED_TYPES = ("mask", "class")


@dataclass(frozen=True)
class BandProperties:
    """The properties of one band that scaling depends on (after the processing level)."""

    name: str
    type: str
    data_type: str
    data_range: tuple[float, float]
    display_range: tuple[float, float]
    physical_range: tuple[float, float]


def _get(band: Any, *keys: str) -> Any:
    for key in keys:
        if isinstance(band, Mapping):
            if band.get(key) is not None:
                return band[key]
        else:
            value = getattr(band, key, None)
            if value is not None:
                return value
    return None


def _pair(value: Any) -> tuple[Any, Any] | None:
    if value is None:
        return None
    v = list(value)
    if len(v) != 2:
        raise InvalidParameterError(f"a range must have 2 values, got {value!r}")
    return (v[0], v[1])


def resolve_processing_level(processing_levels: Mapping[str, Any], processing_level: str | None) -> Any:
    """Follow aliases of ``processing_levels`` from ``processing_level or "default"``.

    Returns the list of processing steps (the last one defines the band's properties), or
    ``None`` when the name is unknown (meaning "use the raw band").

    Raises
    ------
    InvalidParameterError
        On an alias loop (``"Processing levels contains infinite loop"``) or a dangling alias.

    Examples
    --------
    >>> levels = {"default": "toa", "toa": [{"function": "toa_reflectance", "data_type": "Float32"}]}
    >>> resolve_processing_level(levels, None)[-1]["data_type"]
    'Float32'
    >>> resolve_processing_level(levels, "surface") is None
    True
    """
    name = processing_level or "default"
    if name not in processing_levels:
        return None
    value: Any = processing_levels[name]
    hops = 0
    while isinstance(value, str):
        hops += 1
        if hops > 10:
            raise InvalidParameterError("Processing levels contains infinite loop")
        if value not in processing_levels:
            raise InvalidParameterError(f"Processing level alias {name!r} -> {value!r} refers to an unknown level")
        name, value = value, processing_levels[value]
    return value


def properties_for_band(band: Any, processing_level: str | None = None) -> BandProperties:
    """Scaling-relevant properties of a band under a processing level (spec §2.8).

    ``band`` is a catalog :class:`~raster_core.bands.Band`, any object with the same
    attributes, or a dict in either the v2 (``data_type``, ``display_range``) or the v1
    (``dtype``, ``default_range``) schema. Defaults are the catalog's legacy ones:
    ``UInt16`` and ``[0, 10000]``.

    Raises
    ------
    InvalidParameterError
        For a processing level a band without levels cannot have.

    Examples
    --------
    >>> p = properties_for_band({"name": "red", "type": "spectral", "data_type": "UInt16",
    ...                          "data_range": [0, 10000], "physical_range": [0, 1]})
    >>> p.display_range, p.physical_range
    ((0, 10000), (0, 1))
    """
    name = str(_get(band, "name") or "")
    btype = str(_get(band, "type") or "spectral")
    data_type = parse_data_type(_get(band, "data_type", "dtype") or "UInt16", allow_none=False)
    data_range = _pair(_get(band, "data_range")) or (0, 10000)
    display_range = _pair(_get(band, "display_range", "default_range")) or data_range
    physical_range = _pair(_get(band, "physical_range")) or data_range
    levels = _get(band, "processing_levels")
    if levels:
        steps = resolve_processing_level(levels, processing_level)
        if steps:
            last = steps[-1] if isinstance(steps, (list, tuple)) else steps
            if _get(last, "function") != "dlsr":
                data_type = parse_data_type(_get(last, "data_type") or "Float64", allow_none=False)
                data_range = _pair(_get(last, "data_range")) or DATA_TYPE_RANGES[data_type]  # type: ignore[index]
                display_range = _pair(_get(last, "display_range")) or data_range
                physical_range = _pair(_get(last, "physical_range")) or data_range
    elif processing_level not in (None, "default", "toa", "surface") and btype not in _UNSCALED_TYPES:
        raise InvalidParameterError(f"Unknown processing_level value {processing_level} for band {name}")
    return BandProperties(name, btype, data_type, data_range, display_range, physical_range)  # type: ignore[arg-type]


class _BandScale:
    """One band's parsed ``scaling`` entry (explicit vs implied modes as the catalog)."""

    def __init__(self, props: BandProperties, mode: ScalingMode | None, implied: bool) -> None:
        self.props = props
        self.mode = mode
        self.implied = implied

    def output_range(self) -> tuple[Any, Any]:
        raise NotImplementedError

    def get_scale(self, mode: ScalingMode, data_type: str) -> Any:
        raise NotImplementedError


class _NoScale(_BandScale):
    def __init__(self, props: BandProperties, mode: ScalingMode | None = None) -> None:
        super().__init__(props, mode, True)

    def output_range(self) -> tuple[Any, Any]:
        return self.props.data_range

    def get_scale(self, mode: ScalingMode, data_type: str) -> Any:
        return None


class _ModeScale(_BandScale):
    def __init__(self, props: BandProperties, mode: ScalingMode) -> None:
        super().__init__(props, mode, False)

    def output_range(self) -> tuple[Any, Any]:
        if self.mode == ScalingMode.RAW:
            return self.props.data_range
        if self.mode == ScalingMode.PHYSICAL:
            return self.props.physical_range
        return (0, 255)

    def get_scale(self, mode: ScalingMode, data_type: str) -> Any:
        p = self.props
        if self.mode == ScalingMode.RAW:
            return None
        if self.mode == ScalingMode.AUTO:
            return ()
        if self.mode == ScalingMode.DISPLAY:
            return tuple(p.display_range) + (0, 255.99 if data_type.startswith("Float") else 255)
        if tuple(p.data_range) == tuple(p.physical_range):
            return None
        return tuple(p.data_range) + tuple(p.physical_range)


def _is_pct(value: Any) -> bool:
    return isinstance(value, str)


def _calc(value: Any, bounds: Sequence[float], is_float: bool) -> Any:
    if isinstance(value, str):
        value = float(value[:-1]) * (bounds[1] - bounds[0]) / 100.0 + bounds[0]
    return value if is_float else int(value)


class _TupleScale(_BandScale):
    def __init__(self, props: BandProperties, value: tuple[Any, ...]) -> None:
        for item in value:
            if isinstance(item, str):
                ok = item.endswith("%")
                if ok:
                    try:
                        ok = math.isfinite(float(item[:-1]))
                    except ValueError:
                        ok = False
                if not ok:
                    raise InvalidParameterError(
                        f"Invalid scaling tuple value '{item}' for band '{props.name}' is not a percentage string"
                    )
            elif isinstance(item, bool) or not isinstance(item, numbers.Real) or not math.isfinite(float(item)):
                raise InvalidParameterError(f"Invalid scaling value {item!r} for band '{props.name}' is not a number")
        if len(value) == 0:
            mode: ScalingMode | None = ScalingMode.AUTO
        elif len(value) == 2:
            mode = ScalingMode.DISPLAY
        elif not _is_pct(value[2]) or not _is_pct(value[3]):
            mode = ScalingMode.PHYSICAL  # numeric outputs (int or float) imply PHYSICAL, as the catalog
        else:
            mode = None
        super().__init__(props, mode, True)
        self.value = value

    def output_range(self) -> tuple[Any, Any]:
        if len(self.value) == 4:
            lo, hi = self.value[2], self.value[3]
            return (None if _is_pct(lo) else lo, None if _is_pct(hi) else hi)
        return (0, 255)

    def get_scale(self, mode: ScalingMode, data_type: str) -> Any:
        if not self.value:
            return ()
        p = self.props
        ifloat = p.data_type.startswith("Float")
        ofloat = data_type.startswith("Float")
        if mode == ScalingMode.RAW:
            irange, orange = DATA_TYPE_RANGES[p.data_type], DATA_TYPE_RANGES[data_type]
        elif mode == ScalingMode.PHYSICAL:
            irange, orange = p.data_range, p.physical_range
        else:
            irange, orange = p.display_range, (0.0, 255.99)
        full = self.value if len(self.value) == 4 else (self.value[0], self.value[1], orange[0], orange[1])
        return tuple(
            _calc(v, r, f)
            for v, r, f in zip(full, (irange, irange, orange, orange), (ifloat, ifloat, ofloat, ofloat), strict=True)
        )


def _make_scale(props: BandProperties, value: Any) -> _BandScale:
    if value is None:
        return _NoScale(props)
    if isinstance(value, str):
        try:
            mode = ScalingMode(value)
        except ValueError:
            raise InvalidParameterError(f"Invalid scaling mode '{value}' for band '{props.name}'") from None
        if props.type in _UNSCALED_TYPES:
            return _NoScale(props, mode)
        return _ModeScale(props, mode)
    if isinstance(value, (list, tuple)):
        if len(value) not in (0, 2, 4):
            raise InvalidParameterError(f"Invalid scaling tuple {value} for band '{props.name}'")
        return _TupleScale(props, tuple(value))
    raise InvalidParameterError(f"Invalid scaling value {value!r} for band '{props.name}'")


def _parse_scaling(props: Sequence[BandProperties], scaling: Any) -> list[_BandScale]:
    if isinstance(scaling, str):
        return [_make_scale(p, scaling) for p in props]
    if isinstance(scaling, Mapping):
        out = []
        for p in props:
            if p.name in scaling:
                value = scaling[p.name]
            elif p.type in _UNSCALED_TYPES:
                value = None
            else:
                value = scaling.get("default_")
            out.append(_make_scale(p, value))
        return out
    if isinstance(scaling, Iterable) and not isinstance(scaling, bytes):
        values = list(scaling)
        if len(values) > len(props):
            raise InvalidParameterError("Invalid scaling value has more elements than bands")
        if len(values) < len(props):
            raise InvalidParameterError("Invalid scaling value has fewer elements than bands")
        return [_make_scale(p, v) for p, v in zip(props, values, strict=True)]
    raise InvalidParameterError(f"Invalid scaling value {scaling!r} has unsupported type")


def _check_modes(scales: Sequence[_BandScale], implied: bool) -> ScalingMode | None:
    mode: ScalingMode | None = None
    display_like = (ScalingMode.AUTO, ScalingMode.DISPLAY)
    for s in scales:
        if s.mode is None or s.implied != implied:
            continue
        if mode is None:
            mode = s.mode
        elif s.mode != mode:
            if s.mode in display_like and mode in display_like:
                mode = ScalingMode.DISPLAY
            elif implied:
                return None
            else:
                raise InvalidParameterError(f"Conflicting modes in scaling: '{mode.value}' and '{s.mode.value}'")
    return mode


def _implied_data_type(scales: Sequence[_BandScale]) -> str | None:
    lows, highs = [], []
    for s in scales:
        lo, hi = s.output_range()
        if lo is not None:
            lows.append(lo)
        if hi is not None:
            highs.append(hi)
    if not lows and not highs:
        return None
    is_float = any(isinstance(v, float) for v in lows + highs)
    return data_type_from_range(min(lows) if lows else None, max(highs) if highs else None, is_float)


def _resolve(
    scales: list[_BandScale], data_type: str | None, raw_type: Any
) -> tuple[ScalingMode, str]:
    mode = _check_modes(scales, implied=False)
    if mode is None and data_type is None:
        mode = _check_modes(scales, implied=True)
        if mode is None:
            data_type = _implied_data_type(scales)
            if data_type is None:
                raise InvalidParameterError("Invalid scaling parameters, cannot determine output data type or mode")
    if mode is None:
        if data_type == "Byte":
            mode = ScalingMode.DISPLAY
        elif data_type in ("Float32", "Float64"):
            mode = ScalingMode.PHYSICAL
        else:
            mode = ScalingMode.RAW
    elif data_type is None:
        if mode == ScalingMode.RAW:
            data_type = raw_type()
        elif mode == ScalingMode.PHYSICAL:
            data_type = "Float64"
        else:
            data_type = "Byte"
    assert data_type is not None
    return mode, data_type


def _check_bands(bands: Mapping[str, Any], names: Sequence[str], product: str | None) -> None:
    for name in names:
        if name not in bands:
            where = f" in product '{product}'" if product is not None else ""
            raise BandError(f"Invalid bands: band '{name}' is not available{where}")


def _finish(scales: list[Any]) -> list[Any] | None:
    return None if all(s is None for s in scales) else scales


def scaling_parameters(
    bands: Mapping[str, Any],
    names: Sequence[str],
    scaling: Any = None,
    data_type: DataTypeLike | None = None,
    *,
    processing_level: str | None = None,
) -> tuple[list[Any] | None, str]:
    """``(scales, data_type)`` for a ``scaling=`` argument (spec §2.9, one product).

    Parameters
    ----------
    bands
        The product's bands by name (catalog :class:`~raster_core.bands.Band` objects or
        dicts, see :func:`properties_for_band`).
    names
        The requested band names, in order.
    scaling
        ``None``, a mode (``"raw"``, ``"display"``, ``"auto"``, ``"physical"``), a list with
        one mode / ``None`` / tuple per band, or a dict by band name (``"default_"`` for the
        others). Tuples have 0, 2 or 4 numbers or ``"p%"`` strings.
    data_type
        Requested output type, or ``None`` to derive it.
    processing_level
        Selects the bands' processing level (spec §2.8).

    Returns
    -------
    (scales, data_type)
        ``scales`` is ``None`` or a list (one ``None``/``()``/4-tuple per band) suitable for
        the ``scales=`` argument.

    Raises
    ------
    BandError
        ``"Invalid bands: band 'x' is not available"``.
    InvalidParameterError
        Every other spec error (unknown mode, conflicting modes, wrong length...).

    Examples
    --------
    >>> rgb = {n: {"name": n, "type": "spectral", "data_type": "UInt16", "data_range": (0, 10000),
    ...            "display_range": (0, 4000), "physical_range": (0, 1)} for n in ("red", "green")}
    >>> scaling_parameters(rgb, ["red", "green"], "display")
    ([(0, 4000, 0, 255), (0, 4000, 0, 255)], 'Byte')
    >>> scaling_parameters(rgb, ["red"], None)
    (None, 'UInt16')
    """
    return multiproduct_scaling_parameters(
        {None: bands}, names, scaling, data_type, processing_level=processing_level
    )


def multiproduct_scaling_parameters(
    products: Mapping[str | None, Mapping[str, Any]],
    names: Sequence[str],
    scaling: Any = None,
    data_type: DataTypeLike | None = None,
    *,
    processing_level: str | None = None,
) -> tuple[list[Any] | None, str]:
    """:func:`scaling_parameters` over several products (a mosaic of images of different
    products): every band must exist in every product and the resulting scales must agree.

    Raises
    ------
    BandError
        ``"Invalid bands: band 'x' is not available in product 'p'"``.
    InvalidParameterError
        ``"Invalid scaling incompatible bands for band ..."`` when the products disagree.
    """
    names = list(names)
    for product, bands in products.items():
        _check_bands(bands, names, product)
    dt = parse_data_type(data_type)
    per_product = {
        product: [properties_for_band(_named(bands[n], n), processing_level) for n in names]
        for product, bands in products.items()
    }

    def raw_type() -> str:
        t = common_data_type([p.data_type for props in per_product.values() for p in props])
        assert t is not None
        return t

    if scaling is None:
        return None, dt or raw_type()
    parsed = {product: _parse_scaling(props, scaling) for product, props in per_product.items()}
    everything = [s for scales in parsed.values() for s in scales]
    mode, out_type = _resolve(everything, dt, raw_type)
    results = {product: [s.get_scale(mode, out_type) for s in scales] for product, scales in parsed.items()}
    keys = list(results)
    first = results[keys[0]]
    for other in keys[1:]:
        for j, name in enumerate(names):
            if results[other][j] != first[j]:
                raise InvalidParameterError(
                    f"Invalid scaling incompatible bands for band '{name}' in products '{keys[0]}' and '{other}'"
                )
    return _finish(first), out_type


def _named(band: Any, name: str) -> Any:
    if isinstance(band, Mapping) and "name" not in band:
        return {**band, "name": name}
    return band
