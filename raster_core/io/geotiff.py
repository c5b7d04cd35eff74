"""GDAL-free GeoTIFF / COG reader (tifffile for parsing and codecs, never GDAL).

:func:`open` returns a :class:`Dataset` mirroring the parts of a rasterio dataset that people
use, with the georeferencing, nodata, colour interpretation and validity masks exactly as GDAL
derives them:

* geotransform from ModelPixelScale + ModelTiepoint, else ModelTransformation, else GCPs;
  ``PixelIsPoint`` files are shifted by half a pixel like GDAL (``GTIFF_POINT_GEO_IGNORE=NO``);
* CRS from the GeoKeys (:mod:`raster_core.io.geokeys`);
* nodata from the raw ``GDAL_NODATA`` string, rounded to float32 for Float32 bands like GDAL;
* masks: internal mask IFD (SubfileType 4, with its overviews) > nodata > alpha band
  (2-band gray+alpha or 4-band RGBA) > all valid;
* overviews: the reduced-resolution IFDs (SubfileType 1) in file order.

* float nodata masks use GDAL's tolerance (``ARE_REAL_EQUAL``: within a few float32 ulps);
* MinIsWhite images are a white-to-black palette, half floats are read as float32, like GDAL.

Known deviation: JPEG-compressed *YCbCr* (chroma-subsampled) tiles are decoded by
libjpeg-turbo (imagecodecs) while GDAL's wheels use IJG libjpeg 9, whose chroma upsampling
differs: a few DN on smooth images (goes.tif: max 11, mean 0.08), more at sharp colour edges.
Other JPEG files are bit-identical. GCP-only files expose their GCPs (:attr:`Dataset.gcps`)
but have an identity transform and no CRS, as in rasterio: they cannot be warped (yet).

Reads decode only the tiles/strips intersecting the requested window. Raw bytes are read
with ``os.pread`` on a private file descriptor, so a dataset can be read from several
threads at once; decoding runs in a small thread pool (the codecs release the GIL).

Examples
--------
>>> import raster_core
>>> with raster_core.open("data/byte.tif") as ds:          # doctest: +SKIP
...     ds.shape, ds.crs.to_epsg(), ds.read(1, window=(0, 0, 4, 2)).shape
((20, 20), 26711, (2, 4))
"""

from __future__ import annotations

import math
import os
import sys
import threading
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast
from xml.sax.saxutils import unescape as xml_unescape

import numpy as np
import pyproj
from affine import Affine

from raster_core.errors import (
    BandError,
    CRSError,
    InvalidParameterError,
    RasterReadError,
    ReadTooLargeError,
    UnsupportedFeatureError,
)
from raster_core.io.geokeys import crs_from_geokeys
from raster_core.io.scratch import scratch
from raster_core.io.sources import ByteSource, LocalFileSource, is_remote, local_path, open_source, remote_options
from raster_core.io.tiff_checks import (
    SegmentTableError,
    check_geotransform,
    check_page,
    check_segments,
    parse_gdal_nodata,
    raw_ascii_tag,
    segment_decoder,
    usable_colormap,
)
from raster_core.io.tiff_header import HEADER_CACHE, approx_nbytes, header_cache_bytes, parse_with_prefetch
from raster_core.io.tile_cache import MIN_CACHED_TILE_BYTES, other_readers, tile_cache
from raster_core.limits import default_max_bytes

__all__ = ["Dataset", "open", "GroundControlPoint", "Window"]

WindowLike = Any  # (col_off, row_off, width, height) or an object with those attributes


class Window(NamedTuple):
    """A pixel window ``(col_off, row_off, width, height)``."""

    col_off: int
    row_off: int
    width: int
    height: int


class _GCP(NamedTuple):
    row: float
    col: float
    x: float
    y: float
    z: float


class GroundControlPoint(_GCP):
    """A GCP: pixel ``(row, col)`` -> ``(x, y, z)`` in the GCP CRS.

    A 5-tuple ``(row, col, x, y, z)`` that also has rasterio's ``id`` and ``info`` attributes.

    Examples
    --------
    >>> g = GroundControlPoint(1.0, 2.0, 10.0, 20.0, 0.0, id="1")
    >>> row, col, x, y, z = g
    >>> (row, col, g.id)
    (1.0, 2.0, '1')
    """

    id: str
    info: str

    def __new__(cls, row: float, col: float, x: float, y: float, z: float = 0.0, id: str = "", info: str = ""):  # noqa: A002
        self = super().__new__(cls, row, col, x, y, z)
        self.id = id
        self.info = info
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (GroundControlPoint, (*tuple(self), self.id, self.info))

    def __repr__(self) -> str:
        return (f"GroundControlPoint(row={self.row!r}, col={self.col!r}, x={self.x!r}, y={self.y!r}, "
                f"z={self.z!r}, id={self.id!r})")


_COMPRESSION_NAMES = {
    1: None,
    2: "ccittrle",
    3: "ccittfax3",
    4: "ccittfax4",
    5: "lzw",
    6: "ojpeg",
    7: "jpeg",
    8: "deflate",
    32946: "deflate",
    32773: "packbits",
    34887: "lerc",
    34925: "lzma",
    50000: "zstd",
    50001: "webp",
    50002: "jxl",
}

class _TifffileNodataFilter:
    """Drop tifffile's warning about GDAL_NODATA strings it cannot parse (we parse them ourselves)."""

    def filter(self, record: Any) -> bool:
        try:
            return "GDAL_NODATA" not in record.getMessage()
        except Exception:  # pragma: no cover
            return True


def _install_log_filter() -> None:
    import logging

    logger = logging.getLogger("tifffile")
    if not any(isinstance(f, _TifffileNodataFilter) for f in logger.filters):
        logger.addFilter(_TifffileNodataFilter())


T = TypeVar("T")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


def _default_threads() -> int:
    env = os.environ.get("RASTER_CORE_IO_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        n = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        n = max(1, os.cpu_count() or 1)
    return min(8, n)


def _pool(n: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        pool = _POOLS.get(n)
        if pool is None:
            pool = _POOLS[n] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="raster_core_io")
        return pool


def _run_shared(work: Callable[[T], None], items: Sequence[T], threads: int) -> None:
    """``work(item)`` for every item, pulled from one shared queue by the calling thread and up
    to ``threads - 1`` threads of the I/O pool.

    A thread that is late to start (a busy machine) leaves its items to the others, and the
    calling thread never waits for a helper that has not started. After a failure no new item
    starts; the call returns (or raises the first error) only when no item is running.

    Examples
    --------
    >>> done = []
    >>> _run_shared(done.append, range(5), 2)
    >>> sorted(done)
    [0, 1, 2, 3, 4]
    """
    pending = iter(items)
    lock = threading.Lock()
    failed = threading.Event()
    end = object()

    def pull() -> None:
        while not failed.is_set():
            with lock:
                item = next(pending, end)
            if item is end:
                return
            try:
                work(cast(T, item))
            except BaseException:
                failed.set()
                raise

    helpers = [_pool(threads).submit(pull) for _ in range(min(threads, len(items)) - 1)]
    error: BaseException | None = None
    try:
        pull()
    except BaseException as exc:
        error = exc
    for f in helpers:
        if f.cancel():  # never started: nothing left for it
            continue
        failure = f.exception()  # a running helper finishes its item first
        if error is None:
            error = failure
    if error is not None:
        raise error


def _forget_pools() -> None:  # a forked child must not wait on the parent's (absent) threads
    global _POOL_LOCK
    _POOLS.clear()
    _POOL_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


#: A tile or strip to place: (segment, tile column, tile row, [(output band, sample in the segment)])
_Job = tuple[int, int, int, list[tuple[int, int]]]


@dataclass(frozen=True)
class _Level:
    """One image IFD (full resolution, an overview, or a mask) and its segment layout."""

    page_index: int
    width: int
    height: int
    samples: int
    planar: bool  # True: PlanarConfiguration=2 (band-separate segments)
    seg_h: int
    seg_w: int
    across: int
    down: int
    offsets: tuple[int, ...]
    bytecounts: tuple[int, ...]
    dtype: np.dtype
    decode: Any
    jpegtables: Any
    is_mask: bool
    bits: int
    tiled: bool = True
    raw_dtype: np.dtype | None = None  # set when segments are uncompressed plain samples (fast path)
    inflate: int = 0  # DEFLATE tiles of plain native samples: their predictor (1 or 2), else 0

    @property
    def per_plane(self) -> int:
        return self.across * self.down


def _make_level(page: Any, index: int, is_mask: bool) -> _Level:
    """The layout of an IFD that :func:`check_page` accepted."""
    width, height = int(page.imagewidth), int(page.imagelength)
    samples = int(page.samplesperpixel)
    if page.is_tiled:
        seg_h, seg_w = int(page.tilelength), int(page.tilewidth)
        if int(getattr(page, "tiledepth", 1) or 1) != 1:
            raise UnsupportedFeatureError("volumetric (tile depth > 1) TIFFs are not supported")
    else:
        rps = int(page.rowsperstrip or height)
        seg_h, seg_w = max(1, min(rps, height)), width
    across = -(-width // seg_w)
    down = -(-height // seg_h)
    planar = int(page.planarconfig) == 2 and samples > 1
    offsets = tuple(map(int, page.dataoffsets))
    counts = tuple(map(int, page.databytecounts))
    n_expected = across * down * (samples if planar else 1)
    if len(offsets) < n_expected or len(counts) < n_expected:
        raise RasterReadError(f"{len(offsets)} segments for {n_expected} expected in IFD {index}")
    bits = int(page.bitspersample)
    dtype = np.dtype(page.dtype) if page.dtype is not None else None
    if dtype is None:
        raise UnsupportedFeatureError(f"unsupported sample format in IFD {index}")
    if dtype.kind == "b":
        dtype = np.dtype("uint8")
    elif dtype == np.float16:  # GDAL exposes half floats as Float32
        dtype = np.dtype("float32")
    raw_dtype = None
    if (
        int(page.compression) == 1
        and int(getattr(page, "predictor", 1) or 1) == 1
        and int(getattr(page, "fillorder", 1) or 1) == 1
        and bits == dtype.itemsize * 8
        and dtype.kind in "iuf"
        and int(page.photometric) != 6
    ):
        raw_dtype = dtype.newbyteorder(page.parent.byteorder)
    return _Level(
        tiled=bool(page.is_tiled),
        raw_dtype=raw_dtype,
        inflate=_inflate_predictor(page, bits, dtype),
        page_index=index,
        width=width,
        height=height,
        samples=samples,
        planar=planar,
        seg_h=seg_h,
        seg_w=seg_w,
        across=across,
        down=down,
        offsets=offsets,
        bytecounts=counts,
        dtype=dtype.newbyteorder("="),
        decode=segment_decoder(page),
        jpegtables=page.jpegtables,
        is_mask=is_mask,
        bits=bits,
    )


def _inflate_predictor(page: Any, bits: int, dtype: np.dtype) -> int:
    """The predictor (1 or 2) of a tiled DEFLATE page whose tiles :meth:`Dataset._inflate_tiles`
    decodes as tifffile does (whole tiles of plain samples in this machine's byte order,
    horizontal differencing only on integers); 0 for any other page (tifffile decodes it)."""
    predictor = int(getattr(page, "predictor", 1) or 1)
    if (
        not page.is_tiled
        or int(page.compression) not in (8, 32946)
        or predictor not in (1, 2)
        or (predictor == 2 and dtype.kind not in "iu")
        or int(getattr(page, "fillorder", 1) or 1) != 1
        or int(getattr(page, "tiledepth", 1) or 1) != 1
        or int(page.photometric) == 6
        or page.dtype is None
        or np.dtype(page.dtype) != dtype  # half floats are widened, bits are unpacked
        or bits != dtype.itemsize * 8
        or dtype.kind not in "iuf"
        or (dtype.itemsize > 1 and page.parent.byteorder != ("<" if sys.byteorder == "little" else ">"))
    ):
        return 0
    return predictor


def _intersection(win: Window, width: int, height: int) -> Window | None:
    c0, r0 = max(win.col_off, 0), max(win.row_off, 0)
    c1, r1 = min(win.col_off + win.width, width), min(win.row_off + win.height, height)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def _normalize_window(window: WindowLike, width: int, height: int, *, boundless: bool = False) -> Window:
    if window is None:
        return Window(0, 0, width, height)
    if all(hasattr(window, a) for a in ("col_off", "row_off", "width", "height")):
        vals = (window.col_off, window.row_off, window.width, window.height)
    else:
        try:
            vals = tuple(window)
        except TypeError:
            raise InvalidParameterError(f"window must be (col_off, row_off, width, height), got {window!r}") from None
        if len(vals) == 2 and all(isinstance(v, (tuple, list)) and len(v) == 2 for v in vals):
            # ((row_start, row_stop), (col_start, col_stop)) as rasterio accepts
            (r0, r1), (c0, c1) = vals
            vals = (c0, r0, c1 - c0, r1 - r0)
        if len(vals) != 4:
            raise InvalidParameterError(f"window must be (col_off, row_off, width, height), got {window!r}")
    out = []
    for v in vals:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"window members must be integers, got {window!r}") from None
        if not math.isfinite(f) or f != int(f):
            raise InvalidParameterError(f"window members must be integers, got {window!r}")
        out.append(int(f))
    c, r, w, h = out
    if w <= 0 or h <= 0:
        raise InvalidParameterError(f"window width and height must be positive, got {window!r}")
    if not boundless and (c < 0 or r < 0 or c + w > width or r + h > height):
        raise InvalidParameterError(
            f"window {tuple(out)} is outside the raster of {width} x {height} pixels (col_off, row_off, width, height)"
        )
    return Window(c, r, w, h)


def _parse_gdal_metadata(xml: Any) -> dict[tuple[str, int | None, str], str]:
    """GDAL_METADATA XML -> {(name, sample or None, role): value}."""
    out: dict[tuple[str, int | None, str], str] = {}
    if not xml:
        return out
    if isinstance(xml, bytes):
        xml = xml.decode("utf-8", "replace")
    try:
        root = ET.fromstring(str(xml).strip().strip("\x00"))
    except ET.ParseError:
        return out
    for item in root.iter("Item"):
        name = item.get("name", "")
        sample = item.get("sample")
        role = item.get("role", "")
        # GDAL escapes item values once more than XML needs (CPLES_XML, then XML serialisation)
        band = int(sample) if sample is not None and sample.isdigit() else None
        out[(name, band, role)] = xml_unescape(item.text or "")
    return out


class Dataset:
    """A GeoTIFF opened for reading (use :func:`open`).

    Attributes mirror rasterio's dataset: ``name, width, height, count, shape, dtypes, dtype,
    crs, transform, geotransform, res, bounds, nodata, nodatavals, colorinterp, descriptions,
    block_shapes, mask_flags, is_tiled, compression, interleave, gcps``.

    Examples
    --------
    >>> from raster_core.io import open as rc_open
    >>> with rc_open("data/RGB.byte.tif") as ds:           # doctest: +SKIP
    ...     ds.count, ds.dtype, ds.nodata, ds.colorinterp
    (3, 'uint8', 0.0, ('red', 'green', 'blue'))
    """

    def __init__(self, path: str | os.PathLike[str], *, store: Any = None) -> None:
        self.name = os.fspath(path)
        self._store = store
        self._source: ByteSource | None = None
        self._fd: int | None = None
        self._tif: Any = None
        self._tile_id: tuple[int, ...] | None = None  # a local file's identity: its decoded tiles' key
        self._closed = False
        self._open()

    # ------------------------------------------------------------------ opening
    def _fail(self, why: str) -> RasterReadError:
        return RasterReadError(f"cannot read {self.name!r}: {why}")

    def _open(self) -> None:
        _install_log_filter()
        remote = self._store is not None or is_remote(self.name)
        if remote:  # a bad setting is the caller's error, raised as such before any request
            remote_options()
            header_cache_bytes()
            default_max_bytes()
        try:
            if remote:
                self._open_remote()
            else:
                self._open_local()
        except RasterReadError as exc:
            self.close()
            if self.name in str(exc):
                raise
            raise self._fail(str(exc)) from None
        except UnsupportedFeatureError as exc:
            self.close()
            raise UnsupportedFeatureError(f"cannot read {self.name!r}: {exc}") from None
        except CRSError as exc:
            self.close()
            raise CRSError(f"cannot read the CRS of {self.name!r}: {exc}") from None
        except BaseException as exc:
            self.close()
            if not isinstance(exc, Exception):
                raise
            raise self._fail(f"invalid TIFF ({type(exc).__name__}: {exc})") from None

    def _open_local(self) -> None:
        import tifffile

        path = local_path(self.name)
        if not os.path.exists(path):
            raise self._fail("no such file")
        if os.path.isdir(path):
            raise self._fail("is a directory")
        try:
            source = self._source = LocalFileSource(path)
        except OSError as exc:
            raise self._fail(exc.strerror or str(exc)) from None
        self._fd = source.fd
        self._size = source.size
        try:
            st = os.fstat(cast(int, source.fd))
            self._tile_id = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            self._tile_id = None
        if source.size == 0:
            raise self._fail("empty file")
        _check_magic(source.get_range(0, min(4, source.size)), self._fail)
        # parse through the same descriptor the pixels are read from: one open file, so a
        # file replaced on disk meanwhile cannot be parsed in one version and read in another
        try:
            tif = tifffile.TiffFile(source.fileobj(), name=os.path.basename(path))
            pages = list(tif.pages)
        except Exception as exc:  # tifffile raises many types on corrupt files
            raise self._fail(f"invalid or truncated TIFF ({exc})") from None
        self._tif = tif
        self._parse(pages)
        # everything needed is parsed (segment tables, tags, decode functions)
        tif.close()
        self._tif = None

    def _open_remote(self) -> None:
        import tifffile

        source = self._source = open_source(self.name, store=self._store)
        key = source.cache_key
        cached = HEADER_CACHE.get(key) if key else None
        if cached is not None:  # validated by size/ETag against the first response of a read
            size, etag, state = cached
            source.size, source.etag = size, etag  # type: ignore[attr-defined]
            self.__dict__.update(state)
            source.prefix = state.get("_prefix")  # type: ignore[attr-defined]
            source.on_change = lambda: HEADER_CACHE.drop(key)  # type: ignore[attr-defined, arg-type]
            return
        first = source.get_range(0, remote_options().header_bytes)
        if source.size <= 0:
            raise self._fail("empty file")
        self._size = source.size
        _check_magic(first[:4], self._fail)

        def parse(f: Any) -> None:
            try:
                tif = tifffile.TiffFile(f, name=self.name)
                pages = list(tif.pages)
            except Exception as exc:
                if getattr(f, "missing", None) is not None:
                    raise
                raise self._fail(f"invalid or truncated TIFF ({exc})") from None
            self._parse(pages)
            tif.close()

        parse_with_prefetch(source.get_range, source.size, first, parse, name=self.name)
        self._prefix = source.prefix = first  # type: ignore[attr-defined]
        if key:
            keep = {k: v for k, v in self.__dict__.items() if k not in _PER_HANDLE}
            HEADER_CACHE.put(key, source.size, getattr(source, "etag", None), keep, nbytes=approx_nbytes(keep))
            source.on_change = lambda: HEADER_CACHE.drop(key)  # type: ignore[attr-defined]

    def _parse(self, pages: list[Any]) -> None:
        if not pages:
            raise self._fail("no image in the TIFF")
        main_i = 0  # GDAL reads the first IFD as the image, whatever its SubfileType says
        page = pages[main_i]
        check_page(page, main_i)
        main = _make_level(page, main_i, False)
        self._main = main
        self.width, self.height, self.count = main.width, main.height, main.samples
        self.shape = (self.height, self.width)
        dt = main.dtype
        self.dtype = dt.name
        self.dtypes = tuple(dt.name for _ in range(self.count))
        self.is_tiled = bool(page.is_tiled)
        self.compression = _COMPRESSION_NAMES.get(int(page.compression), str(page.compression).lower())
        self.interleave = "pixel" if (self.count > 1 and not main.planar) else "band"
        self.photometric = int(page.photometric)
        self.block_shapes = tuple((main.seg_h, main.seg_w) for _ in range(self.count))

        # overviews and masks
        ovr: list[_Level] = []
        masks: list[_Level] = []
        for i, p in enumerate(pages):
            if i == main_i:
                continue
            table_error: SegmentTableError | None = None
            try:
                check_page(p, i)  # once per IFD
            except SegmentTableError as exc:
                table_error = exc  # refused below if the IFD is used, ignored otherwise
            except UnsupportedFeatureError:
                continue
            except RasterReadError:
                break  # GDAL stops scanning the IFD chain at a directory libtiff refuses
            sft = int(p.subfiletype)
            if sft & 4:
                used = int(p.samplesperpixel) == 1
            else:
                used = bool(sft & 1) and int(p.samplesperpixel) == self.count and (
                    int(p.imagewidth) < self.width or int(p.imagelength) < self.height)
            if not used:
                continue
            if table_error is not None:
                raise table_error
            try:
                (masks if sft & 4 else ovr).append(_make_level(p, i, bool(sft & 4)))
            except UnsupportedFeatureError:
                continue
            except RasterReadError:
                break  # GDAL stops scanning the IFD chain at a directory libtiff refuses
        for lv in (main, *ovr, *masks):  # every IFD read later, before anything is allocated
            check_segments(
                f"IFD {lv.page_index}", lv.offsets, lv.bytecounts, self._size,
                lv.seg_h * lv.seg_w * (1 if lv.planar else lv.samples) * lv.dtype.itemsize,
                single_strip=not lv.tiled and lv.per_plane == 1,
            )
        self._overviews = ovr
        self._mask_main = next((m for m in masks if (m.width, m.height) == (self.width, self.height)), None)
        self._mask_ovr = {(m.width, m.height): m for m in masks if m is not self._mask_main}

        # georeferencing
        tags = page.tags
        geo = page.geotiff_tags if (34735 in tags) else {}
        geo = dict(geo or {})
        self._geokeys = geo
        scale = tags[33550].value if 33550 in tags else None
        tie = tags[33922].value if 33922 in tags else None
        matrix = tags[34264].value if 34264 in tags else None
        point = int(geo.get("GTRasterTypeGeoKey", 1) or 1) == 2
        gt: tuple[float, ...] | None = None
        gcps: list[GroundControlPoint] = []
        if (scale is not None and len(scale) >= 2 and scale[0] != 0 and scale[1] != 0
                and tie is not None and len(tie) >= 6):
            sx, sy = float(scale[0]), float(scale[1])
            i0, j0, x0, y0 = float(tie[0]), float(tie[1]), float(tie[3]), float(tie[4])
            gt = (x0 - i0 * sx, sx, 0.0, y0 + j0 * sy, 0.0, -sy)
        elif matrix is not None and len(matrix) >= 16:
            m = [float(v) for v in matrix]
            gt = (m[3], m[0], m[1], m[7], m[4], m[5])
        elif tie is not None and len(tie) >= 6:
            t = [float(v) for v in tie]
            for k in range(len(t) // 6):
                col, row, _, x, y, z = t[6 * k : 6 * k + 6]
                if point:
                    col, row = col + 0.5, row + 0.5
                gcps.append(GroundControlPoint(row=row, col=col, x=x, y=y, z=z, id=str(k + 1), info=""))
        if gt is not None:
            check_geotransform(gt)
        if gt is not None and point:
            gt = (
                gt[0] - gt[1] * 0.5 - gt[2] * 0.5,
                gt[1],
                gt[2],
                gt[3] - gt[4] * 0.5 - gt[5] * 0.5,
                gt[4],
                gt[5],
            )
        try:
            crs: pyproj.CRS | None = crs_from_geokeys(geo) if geo else None
        except CRSError as exc:  # unreadable GeoKeys: keep the pixels readable, say why
            warnings.warn(f"{self.name!r}: ignoring GeoKeys that define no usable CRS ({exc})", stacklevel=3)
            crs = None
        self._georeferenced = gt is not None
        if gt is None:
            gt = (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
        self.geotransform = tuple(float(v) for v in gt)
        self.transform = Affine.from_gdal(*self.geotransform)
        if gcps:
            self._gcps = (gcps, crs)
            self.crs = None
        else:
            self._gcps = ([], None)
            self.crs = crs

        # nodata
        self.gdal_nodata = parse_gdal_nodata(raw_ascii_tag(page, 42113), dt)  # what GDAL's GetNoDataValue returns
        self.nodata = self.gdal_nodata
        if not self._nodata_in_range():  # unusable for this dtype: rasterio reports None
            self.nodata = None
        self.nodatavals = tuple(self.nodata for _ in range(self.count))

        # GDAL metadata (descriptions, colour interpretation overrides, scales/offsets)
        md = _parse_gdal_metadata(tags[42112].value if 42112 in tags and int(tags[42112].dtype) == 2 else None)
        self._gdal_metadata = md
        self.descriptions = tuple(
            (md.get(("DESCRIPTION", b, "description")) or None) for b in range(self.count)
        )
        self.scales = tuple(float(md.get(("SCALE", b, "scale")) or 1.0) for b in range(self.count))
        self.offsets = tuple(float(md.get(("OFFSET", b, "offset")) or 0.0) for b in range(self.count))
        self.colorinterp = self._colorinterp(page, md)
        self._colormap_raw = usable_colormap(page.colormap, main.bits) if self.photometric == 3 else None
        if self.photometric == 3 and self._colormap_raw is None:
            # libtiff drops a ColorMap of the wrong size and reads 8+ bit data as gray/RGB
            if main.bits < 8:
                raise self._fail("palette image without a usable ColorMap")
            head = ("red", "green", "blue") if self.count == 3 else ("gray",)
            self.colorinterp = head + self.colorinterp[len(head):]
        if self._miniswhite_palette():
            # GDAL shows MinIsWhite as a palette running from white (0) to black (max)
            n = 1 << self._main.bits
            ramp = (255 * (n - 1 - np.arange(n, dtype=np.int64))) // (n - 1)
            self._colormap_raw = np.stack([ramp, ramp, ramp])
            self.colorinterp = ("palette",) + self.colorinterp[1:]
        self.mask_flags = self._mask_flags()

    def _colorinterp(self, page: Any, md: dict) -> tuple[str, ...]:
        n = self.count
        photo = self.photometric
        extras = [int(e) for e in (page.extrasamples or ())]
        ci: list[str] = ["undefined"] * n
        if photo in (2, 6) and n >= 3:  # RGB, YCbCr (decoded to RGB)
            ci[:3] = ["red", "green", "blue"]
            first_extra = 3
        elif photo == 5 and n >= 4:  # separated (CMYK)
            ci[:4] = ["cyan", "magenta", "yellow", "black"]
            first_extra = 4
        elif photo == 3:
            ci[0] = "palette"
            first_extra = 1
        elif photo in (0, 1):
            ci[0] = "gray"
            first_extra = 1
        else:
            first_extra = 1
        n_extra = len(extras)
        for k in range(first_extra, n):
            e = k - first_extra  # extra samples follow the base samples (GDAL counts them from there)
            if 0 <= e < n_extra and extras[e] in (1, 2):
                ci[k] = "alpha"
        for b in range(n):
            v = md.get(("COLORINTERP", b, "colorinterp"))
            if v:
                ci[b] = v.strip().lower()
        return tuple(ci)

    def _miniswhite_palette(self) -> bool:
        return self.photometric == 0 and self.count == 1 and 1 <= self._main.bits <= 16

    def _nodata_in_range(self) -> bool:
        nd = self.nodata
        if nd is None:
            return False
        dt = np.dtype(self.dtype)
        if dt.kind in "iu":
            if not math.isfinite(nd):
                return False
            info = np.iinfo(dt)
            return info.min <= nd <= info.max
        if dt == np.float32 and math.isfinite(nd):
            return abs(nd) <= float(np.finfo(np.float32).max)
        return True

    def _alpha_band_for(self, band: int) -> int | None:
        """1-based alpha band that masks ``band`` (GDAL's 2-band / 4-band rule), else None."""
        ci = self.colorinterp
        if self.count == 2 and band == 1 and ci[1] == "alpha":
            return 2
        if self.count == 4 and band in (1, 2, 3) and ci[3] == "alpha":
            return 4
        return None

    def _mask_flags(self) -> tuple[frozenset[str], ...]:
        flags = []
        for b in range(1, self.count + 1):
            if self._mask_main is not None:
                flags.append(frozenset({"per_dataset"}))
            elif self._nodata_in_range():
                flags.append(frozenset({"nodata"}))
            elif self._alpha_band_for(b) is not None and np.dtype(self.dtype) in (np.uint8, np.uint16):
                flags.append(frozenset({"alpha", "per_dataset"}))
            else:
                flags.append(frozenset({"all_valid"}))
        return tuple(flags)

    # ------------------------------------------------------------------ properties
    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def res(self) -> tuple[float, float]:
        a, b, _, d, e, _ = self.transform[:6]
        return (math.hypot(a, d), math.hypot(b, e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` as rasterio computes it."""
        return self._bounds(self.transform, self.width, self.height)

    @staticmethod
    def _bounds(t: Affine, w: int, h: int) -> tuple[float, float, float, float]:
        a, b, c, d, e, f = t[:6]
        if b == 0 and d == 0:
            return (c, f + e * h, c + a * w, f)
        xs, ys = zip(*(t @ p for p in ((0, 0), (0, h), (w, h), (w, 0))), strict=True)
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def profile(self) -> dict[str, Any]:
        """rasterio-like creation profile (driver, dtype, nodata, size, count, crs, transform, layout)."""
        bh, bw = self.block_shapes[0]
        prof: dict[str, Any] = {
            "driver": "GTiff",
            "dtype": self.dtype,
            "nodata": self.nodata,
            "width": self.width,
            "height": self.height,
            "count": self.count,
            "crs": self.crs,
            "transform": self.transform,
            "blockxsize": bw,
            "blockysize": bh,
            "tiled": self.is_tiled,
            "interleave": self.interleave,
        }
        if self.compression:
            prof["compress"] = self.compression
        return prof

    @property
    def meta(self) -> dict[str, Any]:
        """rasterio-like ``meta``: driver, dtype, nodata, width, height, count, crs, transform."""
        keys = ("driver", "dtype", "nodata", "width", "height", "count", "crs", "transform")
        prof = self.profile
        return {k: prof[k] for k in keys}

    def index(self, x: float, y: float) -> tuple[int, int]:
        """``(row, col)`` of the pixel containing the point ``(x, y)`` (floor, like rasterio)."""
        col, row = ~self.transform @ (x, y)
        return (int(math.floor(row)), int(math.floor(col)))

    def xy(self, row: float, col: float, offset: str = "center") -> tuple[float, float]:
        """CRS coordinates of a pixel's centre (``offset="center"``) or upper-left corner (``"ul"``)."""
        if offset not in ("center", "ul"):
            raise InvalidParameterError(f"offset must be 'center' or 'ul', got {offset!r}")
        d = 0.5 if offset == "center" else 0.0
        x, y = self.transform @ (col + d, row + d)
        return (x, y)

    @property
    def gcps(self) -> tuple[list[GroundControlPoint], pyproj.CRS | None]:
        """``(list of GroundControlPoint, crs)`` for GCP-georeferenced files, else ``([], None)``.

        raster_core does not warp GCP-only files (yet): their ``transform`` is the identity and
        their ``crs`` is ``None``, as in rasterio.
        """
        return self._gcps

    @property
    def overview_count(self) -> int:
        return len(self._overviews)

    def overviews(self, band: int = 1) -> list[int]:
        """Overview decimation factors as rasterio reports them (``round(width / ovr_width)``)."""
        self._check_band(band)
        return [int(round(self.width / o.width)) for o in self._overviews]

    def overview_shape(self, level: int) -> tuple[int, int]:
        """``(rows, cols)`` of overview ``level`` (0-based)."""
        lv = self._level(level)
        return (lv.height, lv.width)

    def level_dtype(self, level: int | None = None) -> np.dtype:
        """The NumPy dtype :meth:`read` returns for overview ``level`` (0-based; ``None``: the
        full resolution).

        Examples
        --------
        >>> with open("data/byte.tif") as ds:                # doctest: +SKIP
        ...     ds.level_dtype().name
        'uint8'
        """
        return self._level(level).dtype

    def overview_transform(self, level: int) -> Affine:
        """Affine transform of overview ``level`` (0-based), as GDAL's overview datasets give it."""
        lv = self._level(level)
        return self.transform @ Affine.scale(self.width / lv.width, self.height / lv.height)

    def colormap(self, band: int = 1) -> dict[int, tuple[int, int, int, int]]:
        """Palette of ``band`` as ``{index: (r, g, b, 255)}`` (8-bit, like GDAL/rasterio)."""
        self._check_band(band)
        if self._colormap_raw is None or band != 1:
            raise InvalidParameterError(f"{self.name!r}: band {band} has no colormap")
        cm = np.asarray(self._colormap_raw).astype(np.int64)
        mult = 257 if (cm.max() > 255 and not self._miniswhite_palette()) else 1
        cm = cm // mult
        out = {i: (int(cm[0, i]), int(cm[1, i]), int(cm[2, i]), 255) for i in range(cm.shape[1])}
        nd = self.nodata
        if nd is not None and math.isfinite(nd) and nd == int(nd) and int(nd) in out:
            r, g, b, _ = out[int(nd)]
            out[int(nd)] = (r, g, b, 0)  # GDAL makes the nodata entry transparent
        return out

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{state} raster_core Dataset {self.name!r} {self.count}x{self.height}x{self.width} {self.dtype}>"

    # ------------------------------------------------------------------ context / pickle
    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Release the file handle or connection (idempotent)."""
        self._closed = True
        self._fd = None
        source, self._source = getattr(self, "_source", None), None
        if source is not None:
            source.close()
        if self._tif is not None:
            try:
                self._tif.close()
            except Exception:
                pass
            self._tif = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "closed": self._closed, "store": self._store}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name = state["name"]
        self._store = state.get("store")
        self._source = None
        self._fd = None
        self._tif = None
        self._tile_id = None
        self._closed = False
        self._open()
        if state.get("closed"):
            self.close()

    # ------------------------------------------------------------------ low level
    def _check_open(self) -> None:
        if self._closed or self._source is None:
            raise RasterReadError(f"{self.name!r}: dataset is closed")

    def _check_band(self, band: int) -> int:
        if isinstance(band, bool) or not isinstance(band, (int, np.integer)):
            raise BandError(f"{self.name!r}: band index must be an integer, got {band!r}")
        if not 1 <= int(band) <= self.count:
            raise BandError(f"{self.name!r}: band index {band} out of range 1..{self.count}")
        return int(band)

    def _level(self, overview_level: int | None) -> _Level:
        if overview_level is None:
            return self._main
        if isinstance(overview_level, bool) or not isinstance(overview_level, (int, np.integer)):
            raise InvalidParameterError(f"overview_level must be an integer or None, got {overview_level!r}")
        if not 0 <= int(overview_level) < len(self._overviews):
            raise InvalidParameterError(
                f"{self.name!r}: overview_level {overview_level} out of range "
                f"(the file has {len(self._overviews)} overview levels)"
            )
        return self._overviews[int(overview_level)]

    def _band_list(self, indexes: Any) -> tuple[list[int], bool]:
        if indexes is None:
            return list(range(1, self.count + 1)), False
        if isinstance(indexes, (int, np.integer)) and not isinstance(indexes, bool):
            return [self._check_band(int(indexes))], True
        try:
            bands = [self._check_band(b) for b in indexes]
        except TypeError:
            raise BandError(
                f"{self.name!r}: indexes must be an int, a sequence of ints or None, got {indexes!r}") from None
        if not bands:
            raise BandError(f"{self.name!r}: empty band list")
        return bands, False

    def _check_read_bytes(self, n_bands: int, win: Window, itemsize: int) -> None:
        """Refuse, before allocating, a read over the budget of :func:`raster_core.limits.default_max_bytes`
        (a boundless window of any size, or a file declaring a giant one). One check per read: the
        per-segment limit of :mod:`raster_core.io.tiff_checks` was checked at open."""
        from raster_core import limits

        limits.check_bytes(
            int(n_bands) * int(win.height) * int(win.width) * int(itemsize), limits.default_max_bytes(),
            what=f"reading {n_bands} x {win.height} x {win.width} pixels of {self.name!r}",
            hint="RASTER_CORE_MAX_BYTES sets the budget", error=ReadTooLargeError)

    def _read_bytes(self, offset: int, count: int) -> bytes:
        if offset < 0 or count < 0 or offset + count > self._size:
            raise RasterReadError(f"{self.name!r}: truncated file ({count} bytes at {offset} are past the end)")
        fd = self._fd
        if fd is not None:  # local file: the hot path stays a bare pread
            data = os.pread(fd, count, offset)
            if len(data) != count:
                raise RasterReadError(f"{self.name!r}: truncated file (segment at {offset} is incomplete)")
            return data
        source = self._source
        if source is None:
            raise RasterReadError(f"{self.name!r}: dataset is closed")
        return source.get_range(offset, count)

    def _prefetch_segments(self, level: _Level, indexes: list[int]) -> dict[int, bytes | memoryview] | None:
        """Remote sources: every segment of one read in merged, concurrent requests; local
        files: the segments of one read in one ``pread`` when they lie close together."""
        if self._fd is not None:
            return self._read_local_span(level, indexes)
        source = self._source
        if source is None or source.is_local:
            return None
        wanted = sorted({i for i in indexes if level.bytecounts[i]})  # a zero offset with bytes is read at 0
        blobs = source.get_ranges([level.offsets[i] for i in wanted], [level.bytecounts[i] for i in wanted])
        return dict(zip(wanted, blobs, strict=True))

    def _read_local_span(self, level: _Level, indexes: list[int]) -> dict[int, bytes | memoryview] | None:
        """The segments ``indexes`` of a local file from one read of the bytes they span, when
        that span is at most twice their size plus 64 KiB (a COG stores a window's tiles
        row after row; one system call instead of one per tile), as views of one buffer
        (:meth:`_decode_fetched` gives tifffile bytes). DEFLATE tiles (``level.inflate``),
        even one, or far apart, are always read here (one read per tile when far apart),
        for :meth:`_inflate_tiles`. None otherwise (then each segment is read on its own, as
        are segments of a truncated file, whose error that path reports)."""
        if len(indexes) < 2 and not level.inflate:
            return None
        spans = []
        for i in indexes:
            off, cnt = level.offsets[i], level.bytecounts[i]
            if cnt == 0:
                continue  # sparse
            raw = self._raw_segment(level, i)
            if raw is not None and cnt >= raw[1]:
                cnt = raw[1]  # uncompressed: only the bytes of the pixels
            if off < 0 or off + cnt > self._size:
                return None
            spans.append((i, off, cnt))
        if not spans:
            return None
        lo = min(off for _, off, _ in spans)
        hi = max(off + cnt for _, off, cnt in spans)
        if hi - lo > 2 * sum(cnt for _, _, cnt in spans) + 65536:
            if not level.inflate:
                return None
            # DEFLATE tiles far apart: one read each (into one buffer), decoded as in a span
            buf = scratch("segments", sum(cnt for _, _, cnt in spans))
            out: dict[int, bytes | memoryview] = {}
            pos = 0
            for i, off, cnt in spans:
                out[i] = self._read_into(off, buf[pos:pos + cnt])
                pos += cnt
            return out
        # the bytes live only while this read runs: the thread's scratch buffer, not fresh
        # memory per read (see raster_core.io.scratch)
        blob = self._read_into(lo, scratch("segments", hi - lo))
        return {i: blob[off - lo:off - lo + cnt] for i, off, cnt in spans}

    def _read_into(self, offset: int, view: memoryview) -> memoryview:
        """``len(view)`` bytes of the local file at ``offset`` into ``view`` (returned)."""
        fd = self._fd
        if fd is None:
            raise RasterReadError(f"{self.name!r}: dataset is closed")
        if os.preadv(fd, [view], offset) != len(view):
            raise RasterReadError(f"{self.name!r}: truncated file (segment at {offset} is incomplete)")
        return view

    def _decode_fetched(self, level: _Level, index: int, fetched: dict[int, bytes | memoryview]) -> np.ndarray | None:
        """Decode segment ``index`` of ``level`` from prefetched bytes (None if sparse)."""
        data = fetched.get(index)
        return None if data is None else self._decode_bytes(level, index, bytes(data))

    def _decode_segment(self, level: _Level, index: int) -> np.ndarray | None:
        """Read and decode segment ``index`` of ``level`` -> (rows, cols, samples) or None if sparse."""
        off, cnt = level.offsets[index], level.bytecounts[index]
        if cnt == 0:  # sparse (a zero offset with bytes is read at 0, as GDAL does)
            return None
        raw = self._raw_segment(level, index)
        if raw is not None and cnt >= raw[1]:  # uncompressed: read only the bytes of the pixels
            return self._decode_bytes(level, index, self._read_bytes(off, raw[1]))
        return self._decode_bytes(level, index, self._read_bytes(off, cnt))

    @staticmethod
    def _raw_segment(level: _Level, index: int) -> tuple[int, int] | None:
        """``(rows, bytes)`` of an uncompressed segment (a last strip may be short); None if compressed."""
        if level.raw_dtype is None:
            return None
        spp = 1 if level.planar else level.samples
        rows = level.seg_h
        if not level.tiled:
            r_first = ((index % level.per_plane) // level.across) * level.seg_h
            rows = min(level.seg_h, level.height - r_first)
        return rows, rows * level.seg_w * spp * level.raw_dtype.itemsize

    def _decode_bytes(self, level: _Level, index: int, data: bytes) -> np.ndarray | None:
        raw = self._raw_segment(level, index)
        if raw is not None and level.raw_dtype is not None and len(data) >= raw[1]:
            rows, need = raw
            spp = 1 if level.planar else level.samples
            return np.frombuffer(data, dtype=level.raw_dtype, count=need // level.raw_dtype.itemsize).reshape(
                rows, level.seg_w, spp)
        try:
            arr, _, _ = level.decode(data, index, jpegtables=level.jpegtables)
        except Exception as exc:
            raise RasterReadError(
                f"{self.name!r}: cannot decode segment {index} of IFD {level.page_index}: {exc}") from None
        if arr is None:
            return None
        return arr.reshape(arr.shape[-3:])

    def _read_level(
        self, level: _Level, samples: list[int], win: Window, fill: float, num_threads: int | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Samples (0-based) of ``level`` inside ``win`` -> (len(samples), h, w) (into ``out``
        when given: an array of that shape and the level's dtype, a view of a larger one too)."""
        c0, r0, w, h = win
        if level.raw_dtype is not None and not level.tiled:
            fast = self._read_raw_strips(level, samples, win)
            if fast is not None:
                if out is None:
                    return fast
                out[...] = fast
                return out
        if out is None:
            out = np.empty((len(samples), h, w), dtype=level.dtype)
        tx0, tx1 = c0 // level.seg_w, (c0 + w - 1) // level.seg_w
        ty0, ty1 = r0 // level.seg_h, (r0 + h - 1) // level.seg_h
        jobs: list[tuple[int, int, int, list[tuple[int, int]]]] = []  # (segment, tx, ty, [(out_i, sample_in_seg)])
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                base = ty * level.across + tx
                if level.planar:
                    for oi, s in enumerate(samples):
                        jobs.append((s * level.per_plane + base, tx, ty, [(oi, 0)]))
                else:
                    jobs.append((base, tx, ty, [(oi, s) for oi, s in enumerate(samples)]))

        self._check_open()
        keep: dict[int, int] = {}  # cut tiles decoded here: their segment -> uses left for other windows
        if (self._tile_id is not None and level.raw_dtype is None
                and level.seg_h * level.seg_w * level.samples * level.dtype.itemsize >= MIN_CACHED_TILE_BYTES):
            jobs = self._cached_tiles(level, jobs, win, out, fill, keep)
            if not jobs:
                return out
        fetched = self._prefetch_segments(level, [j[0] for j in jobs])
        cache = tile_cache() if keep else None

        def work(job: tuple[int, int, int, list[tuple[int, int]]]) -> None:
            seg_index = job[0]
            if fetched is None:
                seg = self._decode_segment(level, seg_index)
            else:
                seg = self._decode_fetched(level, seg_index, fetched)
            if cache is not None and seg is not None and seg_index in keep:
                cache.put((self._tile_id, level.page_index, seg_index), seg, keep[seg_index])
            self._place_segment(level, seg, job, win, out, fill)

        self._check_open()
        n = _default_threads() if num_threads is None else num_threads
        if len(jobs) <= 2 or n <= 1 or threading.current_thread().name.startswith("raster_core_io"):
            if level.inflate and fetched is not None and self._fd is not None:
                self._inflate_tiles(level, jobs, fetched, win, out, fill, keep)
                return out
            for j in jobs:
                work(j)
        else:
            # this thread and n - 1 pool threads pull segments from one queue: a pool task per
            # segment costs more in hand-overs than a small segment takes to decode
            _run_shared(work, jobs, n)
        return out

    def _cached_tiles(self, level: _Level, jobs: list[_Job], win: Window, out: np.ndarray, fill: float,
                      keep: dict[int, int]) -> list[_Job]:
        """Place the jobs' tiles that the process's :func:`~raster_core.io.tile_cache.tile_cache`
        holds, and return the others; ``keep`` gets the tiles among them that reach past
        ``win`` (inside the image) with the number of other windows that may read them."""
        cache = tile_cache()
        if not cache.max_bytes:
            return jobs
        todo = []
        size = (level.width, level.height)
        for job in jobs:
            seg_index, tx, ty, _ = job
            uses = other_readers((tx * level.seg_w, ty * level.seg_h, level.seg_w, level.seg_h), win, size)
            if uses:
                seg = cache.get((self._tile_id, level.page_index, seg_index))
                if seg is not None:
                    self._place_segment(level, seg, job, win, out, fill)
                    continue
                keep[seg_index] = uses
            todo.append(job)
        return todo

    def _place_segment(self, level: _Level, seg: np.ndarray | None, job: tuple[int, int, int, list[tuple[int, int]]],
                       win: Window, out: np.ndarray, fill: float) -> None:
        """Copy the part of decoded segment ``seg`` ``(rows, cols, samples)`` (None: sparse, the
        fill) that lies inside ``win`` into ``out`` ``(samples, h, w)``."""
        seg_index, tx, ty, pairs = job
        c0, r0, w, h = win
        # intersection of the segment and the window, in image coordinates
        sx0, sy0 = tx * level.seg_w, ty * level.seg_h
        ix0, ix1 = max(c0, sx0), min(c0 + w, sx0 + level.seg_w, level.width)
        iy0, iy1 = max(r0, sy0), min(r0 + h, sy0 + level.seg_h, level.height)
        o0, o1 = pairs[0][0], pairs[-1][0] + 1  # output bands of a job are consecutive
        dst = out[o0:o1, iy0 - r0 : iy1 - r0, ix0 - c0 : ix1 - c0]
        if seg is None:
            dst[...] = fill
            return
        ys, xs = slice(iy0 - sy0, iy1 - sy0), slice(ix0 - sx0, ix1 - sx0)
        s_first, s_last = pairs[0][1], pairs[-1][1]
        if all(s == s_first + k for k, (_, s) in enumerate(pairs)):  # consecutive samples
            src = seg[ys, xs, s_first : s_last + 1]
        else:
            src = seg[ys, xs][:, :, [s for _, s in pairs]]
        if src.shape != (dst.shape[1], dst.shape[2], dst.shape[0]):
            raise RasterReadError(f"{self.name!r}: segment {seg_index} has an unexpected shape {seg.shape}")
        dst[...] = src.transpose(2, 0, 1)

    def _inflate_tiles(self, level: _Level, jobs: list[tuple[int, int, int, list[tuple[int, int]]]],
                       fetched: dict[int, bytes | memoryview], win: Window, out: np.ndarray, fill: float,
                       keep: dict[int, int] | None = None) -> None:
        """:meth:`_place_segment` of every job's tile, DEFLATE tiles (``level.inflate``)
        decoded into one reused buffer with the calls tifffile makes (the zlib stream through
        ``imagecodecs.deflate_decode``, horizontal differencing through ``delta_decode`` along
        the columns), in the calling thread: a small tile costs more in Python around its
        decoding than in the decoding itself. A tile that does not decode to a whole tile
        goes through tifffile, whose result or error stands. The tiles in ``keep`` (segment ->
        uses) are copied into the process's tile cache."""
        import imagecodecs

        spp = 1 if level.planar else level.samples
        size = level.seg_h * level.seg_w * spp * level.dtype.itemsize
        buf = scratch("tile", size)  # one tile at a time; kept by the thread across reads
        tile = np.frombuffer(buf, dtype=level.dtype).reshape(level.seg_h, level.seg_w, spp)
        inflate = imagecodecs.deflate_decode
        undiff = imagecodecs.delta_decode if level.inflate == 2 else None
        c0, r0, w, h = win
        c1, r1 = min(c0 + w, level.width), min(r0 + h, level.height)
        sw, sh = level.seg_w, level.seg_h
        plane = tile[:, :, 0] if spp == 1 else None  # one sample per tile: 2-D copies (cheaper)
        for job in jobs:
            seg_index, tx, ty, pairs = job
            data = fetched.get(seg_index)
            if data is None:  # sparse
                self._place_segment(level, None, job, win, out, fill)
                continue
            try:
                whole = len(inflate(cast(bytes, data), out=buf)) == size  # (a view is a buffer too)
            except Exception:  # noqa: BLE001 - tifffile's own call reports it
                whole = False
            if not whole:
                self._place_segment(level, self._decode_bytes(level, seg_index, bytes(data)), job, win, out, fill)
                continue
            if undiff is not None:
                undiff(tile, axis=-2, out=tile)
            if keep and seg_index in keep:
                tile_cache().put((self._tile_id, level.page_index, seg_index), tile.copy(), keep[seg_index])
            s_first = pairs[0][1]
            if len(pairs) > 1 and any(s != s_first + k for k, (_, s) in enumerate(pairs)):
                self._place_segment(level, tile, job, win, out, fill)  # samples out of order
                continue
            # a whole tile: its part inside the window, as _place_segment takes it
            sx0, sy0 = tx * sw, ty * sh
            ix0, ix1 = (c0 if c0 > sx0 else sx0), (c1 if c1 < sx0 + sw else sx0 + sw)
            iy0, iy1 = (r0 if r0 > sy0 else sy0), (r1 if r1 < sy0 + sh else sy0 + sh)
            if plane is not None:
                out[pairs[0][0], iy0 - r0:iy1 - r0, ix0 - c0:ix1 - c0] = plane[iy0 - sy0:iy1 - sy0, ix0 - sx0:ix1 - sx0]
            else:
                out[pairs[0][0]:pairs[-1][0] + 1, iy0 - r0:iy1 - r0, ix0 - c0:ix1 - c0] = (
                    tile[iy0 - sy0:iy1 - sy0, ix0 - sx0:ix1 - sx0, s_first:s_first + len(pairs)].transpose(2, 0, 1))

    def _read_raw_strips(self, level: _Level, samples: list[int], win: Window) -> np.ndarray | None:
        """Uncompressed contiguous strips: one read per plane, no per-strip decoding."""
        c0, r0, w, h = win
        s0, s1 = r0 // level.seg_h, (r0 + h - 1) // level.seg_h
        spp = 1 if level.planar else level.samples
        row_bytes = level.width * spp * level.raw_dtype.itemsize  # type: ignore[union-attr]
        first_row = s0 * level.seg_h
        last_row = min((s1 + 1) * level.seg_h, level.height)
        out = np.empty((len(samples), h, w), dtype=level.dtype)
        plane_jobs = ([(oi, s * level.per_plane, [0]) for oi, s in enumerate(samples)] if level.planar
                      else [(0, 0, samples)])
        for oi, base, smp in plane_jobs:
            offs = level.offsets[base + s0 : base + s1 + 1]
            cnts = level.bytecounts[base + s0 : base + s1 + 1]
            for k in range(len(offs) - 1):
                if offs[k] + cnts[k] != offs[k + 1] or cnts[k] != level.seg_h * row_bytes:
                    return None
            need = (last_row - first_row) * row_bytes
            if sum(cnts) < need:
                return None
            data = self._read_bytes(offs[0], need)
            arr = np.frombuffer(data, dtype=level.raw_dtype).reshape(last_row - first_row, level.width, spp)
            sub = arr[r0 - first_row : r0 - first_row + h, c0 : c0 + w]
            if level.planar:
                out[oi] = sub[:, :, 0]
            else:
                if smp == list(range(smp[0], smp[0] + len(smp))):
                    out[...] = sub[:, :, smp[0] : smp[0] + len(smp)].transpose(2, 0, 1)
                else:
                    out[...] = sub[:, :, smp].transpose(2, 0, 1)
        return out

    def _fill_value(self) -> float:
        if self.nodata is not None and self._nodata_in_range():
            return self.nodata
        return 0

    # ------------------------------------------------------------------ public reading
    def read(
        self,
        indexes: int | Sequence[int] | None = None,
        window: WindowLike = None,
        *,
        overview_level: int | None = None,
        masked: bool = False,
        out_dtype: Any = None,
        num_threads: int | None = None,
        boundless: bool = False,
        fill_value: float | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Read pixels: ``(bands, rows, cols)``, or ``(rows, cols)`` when ``indexes`` is an int.

        Parameters
        ----------
        indexes : int, sequence of int or None
            1-based band indexes (``None``: all bands).
        window : (col_off, row_off, width, height), optional
            Pixel window in the grid of the level read (a rasterio ``Window`` works too).
        overview_level : int, optional
            0-based overview to read instead of the full resolution (like rasterio's
            ``open(..., overview_level=i)``).
        masked : bool
            Return a :class:`numpy.ma.MaskedArray` masked where :meth:`read_masks` is 0.
        out_dtype : dtype, optional
            Cast the result to this dtype.
        num_threads : int, optional
            Threads decoding tiles/strips (default: ``RASTER_CORE_IO_THREADS`` or the number
            of cores, at most 8; 1 decodes in the calling thread). The result never depends on it.
        boundless : bool
            Allow windows extending past the raster; the outside is ``fill_value`` (default:
            nodata, else 0), like rasterio's boundless reads.
        fill_value : float, optional
            Fill for the outside of a boundless window.
        out : numpy.ndarray, optional
            Write the pixels into this array (of the result's shape and dtype; a view of a
            larger array works too) and return it: the tiles are decoded straight into it,
            without a copy (not with ``masked``).

        Raises
        ------
        InvalidParameterError
            For ``out`` of another shape or dtype than the result, or with ``masked``.

        Examples
        --------
        >>> with open("data/byte.tif") as ds:                # doctest: +SKIP
        ...     ds.read(1, window=(0, 0, 3, 2))
        array([[107, 123, 132],
               [115, 132, 132]], dtype=uint8)
        >>> big = np.zeros((1, 4, 5), np.uint8)
        >>> with open("data/byte.tif") as ds:                # doctest: +SKIP
        ...     _ = ds.read([1], window=(0, 0, 3, 2), out=big[:, 1:3, 2:5])
        >>> big[0, 1].tolist()                               # doctest: +SKIP
        [0, 0, 107, 123, 132]
        """
        self._check_open()
        bands, squeeze = self._band_list(indexes)
        level = self._level(overview_level)
        win = _normalize_window(window, level.width, level.height, boundless=boundless)
        if num_threads is not None and (
            isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or num_threads < 1
        ):
            raise InvalidParameterError(f"num_threads must be a positive integer or None, got {num_threads!r}")
        samples = [b - 1 for b in bands]
        self._check_read_bytes(len(samples), win, level.dtype.itemsize)
        out3 = None
        if out is not None:
            dtype = level.dtype if out_dtype is None else np.dtype(out_dtype)
            shape = (win.height, win.width) if squeeze else (len(samples), win.height, win.width)
            if masked or not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != dtype:
                raise InvalidParameterError(
                    f"out must be an array of shape {shape} and dtype {dtype.name} (and masked=False), got "
                    f"{getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}".rstrip())
            out3 = out[np.newaxis] if squeeze else out
            given: np.ndarray = out
        inner = _intersection(win, level.width, level.height)
        if out3 is not None and inner == win and out_dtype is None:
            self._read_level(level, samples, win, self._fill_value(), num_threads, out=out3)
            return given
        if inner == win:
            arr = self._read_level(level, samples, win, self._fill_value(), num_threads)
        else:
            fill = self._fill_value() if fill_value is None else fill_value
            arr = np.full((len(samples), win.height, win.width), fill, dtype=level.dtype)
            if inner is not None:
                arr[:, inner.row_off - win.row_off : inner.row_off - win.row_off + inner.height,
                    inner.col_off - win.col_off : inner.col_off - win.col_off + inner.width] = self._read_level(
                    level, samples, inner, self._fill_value(), num_threads)
        if out_dtype is not None:
            arr = arr.astype(out_dtype)
        if out3 is not None:
            out3[...] = arr
            return given
        if masked:
            m = self.read_masks(bands, window=win, overview_level=overview_level, boundless=boundless) == 0
            arr = np.ma.MaskedArray(arr, mask=m)
        return arr[0] if squeeze else arr

    def read_masks(
        self,
        indexes: int | Sequence[int] | None = None,
        window: WindowLike = None,
        *,
        overview_level: int | None = None,
        boundless: bool = False,
    ) -> np.ndarray:
        """Validity masks (uint8, 0 = invalid, 255 = valid) exactly as GDAL derives them.

        Internal mask IFD (and its overview) > nodata > alpha band (2/4-band rule) > all valid.
        With ``boundless=True`` the outside of the raster is invalid (0).

        Examples
        --------
        >>> with open("data/RGB.byte.tif") as ds:            # doctest: +SKIP
        ...     ds.read_masks(1).dtype
        dtype('uint8')
        """
        self._check_open()
        bands, squeeze = self._band_list(indexes)
        level = self._level(overview_level)
        win = _normalize_window(window, level.width, level.height, boundless=boundless)
        self._check_read_bytes(len(bands), win, 1)
        return self._read_masks(bands, squeeze, level, win)

    def _read_masks(self, bands: list[int], squeeze: bool, level: _Level, win: Window) -> np.ndarray:
        """:meth:`read_masks` once the window is checked."""
        inner = _intersection(win, level.width, level.height)
        if inner != win:
            full = np.zeros((len(bands), win.height, win.width), dtype=np.uint8)
            if inner is not None:
                full[:, inner.row_off - win.row_off : inner.row_off - win.row_off + inner.height,
                     inner.col_off - win.col_off : inner.col_off - win.col_off + inner.width] = self._read_masks(
                    bands, False, level, inner)
            return full[0] if squeeze else full
        out = np.empty((len(bands), win.height, win.width), dtype=np.uint8)
        cache: dict[str, np.ndarray] = {}
        nodata_bands = sorted({b for b in bands if "nodata" in self.mask_flags[b - 1]})
        if len(nodata_bands) > 1:  # one pass over the tiles for every band (not one per band)
            data = self._read_level(level, [b - 1 for b in nodata_bands], win, self._fill_value())
            for b, plane in zip(nodata_bands, data, strict=True):
                cache[f"nodata{b}"] = np.where(self._nodata_equal(plane), np.uint8(0), np.uint8(255))
        for i, b in enumerate(bands):
            flags = self.mask_flags[b - 1]
            if "per_dataset" in flags and "alpha" not in flags:
                if "internal" not in cache:
                    cache["internal"] = self._internal_mask(level, win)
                out[i] = cache["internal"]
            elif f"nodata{b}" in cache:
                out[i] = cache[f"nodata{b}"]
            elif "nodata" in flags:
                data = self._read_level(level, [b - 1], win, self._fill_value())[0]
                out[i] = np.where(self._nodata_equal(data), 0, 255)
            elif "alpha" in flags:
                ab = self._alpha_band_for(b)
                key = f"alpha{ab}"
                if key not in cache:
                    alpha = self._read_level(level, [ab - 1], win, 0)[0]  # type: ignore[operator]
                    if alpha.dtype == np.uint16:
                        a8 = (alpha // 257).astype(np.uint8)  # GDAL's rescaled alpha mask
                        a8[(alpha > 0) & (alpha < 257)] = 1
                        alpha = a8
                    cache[key] = alpha.astype(np.uint8)
                out[i] = cache[key]
            else:
                out[i] = 255
        return out[0] if squeeze else out

    def _nodata_equal(self, data: np.ndarray) -> np.ndarray:
        nd = self.nodata
        assert nd is not None
        if data.dtype.kind == "f":
            if math.isnan(nd):
                return np.isnan(data)
            # GDAL's ARE_REAL_EQUAL, in the band's precision: equal, or
            # |a - b| < FLT_EPSILON * |a + b| * 2 (a few ulps)
            ndt = data.dtype.type(nd)
            with np.errstate(over="ignore", invalid="ignore"):
                close = np.abs(data - ndt) < np.finfo(np.float32).eps * np.abs(data + ndt) * 2
            return (data == ndt) | close
        return data == int(nd)

    def _internal_mask(self, level: _Level, win: Window) -> np.ndarray:
        if level is self._main:
            mlevel = self._mask_main
        else:
            mlevel = self._mask_ovr.get((level.width, level.height))
        if mlevel is None:
            # no mask IFD for this overview: decimate the full-resolution mask (nearest)
            self._check_read_bytes(1, Window(0, 0, self.width, self.height), 1)
            full = self._read_level(self._mask_main, [0], Window(0, 0, self.width, self.height), 0)[0]  # type: ignore[arg-type]
            ys = (np.arange(win.row_off, win.row_off + win.height) + 0.5) * self.height / level.height
            xs = (np.arange(win.col_off, win.col_off + win.width) + 0.5) * self.width / level.width
            rows = np.minimum(ys.astype(int), self.height - 1)
            cols = np.minimum(xs.astype(int), self.width - 1)
            m = full[np.ix_(rows, cols)]
        else:
            m = self._read_level(mlevel, [0], win, 0)[0]
            if mlevel.bits == 1:
                return np.where(m != 0, 255, 0).astype(np.uint8)
        return m.astype(np.uint8)

    def dataset_mask(
        self, window: WindowLike = None, *, overview_level: int | None = None, boundless: bool = False
    ) -> np.ndarray:
        """Dataset-wide validity mask (uint8 0/255) as rasterio's ``dataset_mask()``.

        The per-dataset mask (internal mask or alpha) when band 1 has one, else the union of
        the band masks.

        Examples
        --------
        >>> with open("data/riotiler_cog_rgba.tif") as ds:   # doctest: +SKIP
        ...     ds.dataset_mask().shape
        (232, 383)
        """
        if "per_dataset" in self.mask_flags[0]:
            return self.read_masks(1, window=window, overview_level=overview_level, boundless=boundless)
        masks = self.read_masks(None, window=window, overview_level=overview_level, boundless=boundless)
        return (np.logical_or.reduce(masks, axis=0) * np.uint8(255)).astype(np.uint8)

    def window_transform(self, window: WindowLike, *, overview_level: int | None = None) -> Affine:
        """Affine transform of a window of the given level."""
        level = self._level(overview_level)
        win = _normalize_window(window, level.width, level.height)
        t = self.transform if overview_level is None else self.overview_transform(overview_level)
        return t @ Affine.translation(win.col_off, win.row_off)


def _check_magic(head: bytes, fail: Any) -> None:
    if head[:2] not in (b"II", b"MM") or head[2:4] not in (b"*\x00", b"\x00*", b"+\x00", b"\x00+"):
        raise fail("not a TIFF file")


# attributes of one open handle, never shared through the header cache
_PER_HANDLE = frozenset({"name", "_store", "_source", "_fd", "_tif", "_closed", "_tile_id"})


def open(path: str | os.PathLike[str], *, store: Any = None) -> Dataset:  # noqa: A001 - mirrors rasterio.open
    """Open a GeoTIFF / COG for reading, without GDAL.

    Parameters
    ----------
    path : str or os.PathLike
        Path of a local GeoTIFF, or a ``file://``, ``http(s)://`` or ``s3://`` URL (see
        :mod:`raster_core.io.sources` for S3 settings and the tunables), or the path of the
        object in ``store``.
    store : obstore store or fsspec filesystem, optional
        Read ``path`` from this store (GCS, Azure, signed URLs, anything the store reaches).

    Returns
    -------
    Dataset
        Usable as a context manager.

    Raises
    ------
    RasterReadError
        When the file is missing, empty, truncated, not a TIFF or cannot be decoded, or a
        remote read fails after its retries (the message names the URL and byte range).
    RemoteNotFoundError, RemoteAccessError
        HTTP 404 / 401-403 (subclasses of ``RasterReadError``), naming the URL.

    Examples
    --------
    >>> import raster_core
    >>> with raster_core.open("data/byte.tif") as ds:     # doctest: +SKIP
    ...     ds.width, ds.height, ds.crs.to_epsg()
    (20, 20, 26711)
    """
    if isinstance(path, Dataset):
        return path
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise RasterReadError(f"path must be a string or os.PathLike, got {type(path).__name__}: {path!r}")
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return Dataset(path, store=store)
