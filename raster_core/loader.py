"""``load``: a stack of images as an xarray DataArray ``(time, band, y, x)``, eager or on Dask.

The pixels are those of :meth:`raster_core.api.Raster.stack` (``order="gdal"``) on the same
parameters, for any chunking, scheduler and number of workers: a chunk task is
:func:`raster_core.api.render` on the chunk's window, with each file's whole-grid plan (its
warp and kernel are the whole grid's; only the source pixels read and the rows/cols
produced shrink to the chunk's).

How a lazy load runs:

* on the client: the items are resolved (STAC items through
  :meth:`~raster_core.catalog.Catalog.add_stac` in one call, the items of a collection
  sharing one product; no catalog needed), grouped into time steps, each time step is
  planned like one layer of ``stack`` (validated requests, output grid, bands, scales; a
  grid fixed by ``srs``, ``bounds`` and ``resolution``/``dimensions`` is planned from STAC
  ``proj:*`` without reading a header), every image's footprint on the output grid (with the
  resampler's halo; the files of one CRS in one PROJ call) goes into one STRtree that says
  which images each chunk needs, and the budget (``max_bytes``) is checked per chunk (per
  whole result for an eager load);
* the graph has one key holding the plan and one task per output chunk (a constant fill
  when no image touches the chunk);
* a chunk task paints its images one after another on one thread (Dask supplies the
  parallelism): each file's plan (overview, source window, kernel) is made from its
  header once per process and kept (for local files also across loads onto the same
  grid), then only the source window of the chunk is read and warped; files reopen lazily
  with a per-process header cache.

Needs xarray and dask (the ``xarray`` extra); ``import raster_core`` imports neither.

Examples
--------
>>> import raster_core
>>> da = raster_core.load(["data/RGB.byte.tif"], ["red", "green"], resolution=600,
...                       chunks={"y": 128, "x": 128})                  # doctest: +SKIP
>>> da.dims, da.shape                                                      # doctest: +SKIP
(('time', 'band', 'y', 'x'), (1, 2, 359, 395))
>>> raster_core.explain(["data/RGB.byte.tif"], "red", resolution=600, chunks={"y": 128})["chunks"]  # doctest: +SKIP
9
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from raster_core.errors import InvalidParameterError, UnsupportedFeatureError

if TYPE_CHECKING:
    from raster_core._progress import Progress

__all__ = ["load", "explain", "LoadPlan"]

_GROUPBY = (None, "time", "solar_day")
_MISSING = object()


# ======================================================================================
# items -> catalog ids
# ======================================================================================
def _as_stac_dict(obj: Any) -> Mapping[str, Any] | None:
    """A STAC Item/ItemCollection/FeatureCollection as a dict (pystac objects included)."""
    if isinstance(obj, Mapping):
        return obj if obj.get("type") in ("Feature", "FeatureCollection") else None
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and type(obj).__module__.startswith("pystac"):
        d = to_dict()
        if isinstance(d, Mapping) and d.get("type") in ("Feature", "FeatureCollection"):
            return d
    return None


def _expand(obj: Any) -> list[tuple[Any, Mapping[str, Any] | None]]:
    """One input -> ``[(original item, STAC item dict or None), ...]``."""
    d = _as_stac_dict(obj)
    if d is None:
        if isinstance(obj, os.PathLike):
            obj = os.fspath(obj)
        if not isinstance(obj, str) or not obj:
            raise InvalidParameterError(
                f"an item must be an image id, a GeoTIFF path or a STAC Item/ItemCollection, got {obj!r}")
        return [(obj, None)]
    if d.get("type") == "FeatureCollection":
        feats = d.get("features") or []
        originals = list(getattr(obj, "items", None) or feats) if not isinstance(obj, Mapping) else list(feats)
        if len(originals) != len(feats):
            originals = list(feats)
        return [(o, f) for o, f in zip(originals, feats, strict=False)]
    return [(obj, d)]


def _parse_items(items: Any) -> list[list[tuple[Any, Mapping[str, Any] | None]]]:
    """``items`` -> explicit groups: each entry is a list of (original, STAC dict or None); a
    sub-list of the input is one group, anything else one group per item."""
    if isinstance(items, (str, os.PathLike)) or _as_stac_dict(items) is not None:
        items = [items]
    if not isinstance(items, Iterable):
        raise InvalidParameterError(f"items must be a list of images or STAC items, got {type(items).__name__}")
    groups: list[list[tuple[Any, Mapping[str, Any] | None]]] = []
    for obj in items:
        if isinstance(obj, (list, tuple)):
            sub = [e for o in obj for e in _expand(o)]
            if not sub:
                raise InvalidParameterError("an empty sub-list in items")
            groups.append(sub)
        elif type(obj) is dict and obj.get("type") == "Feature":
            groups.append([(obj, obj)])  # the common case, without looking at it twice
        else:
            d = _as_stac_dict(obj)
            if d is not None and d.get("type") == "FeatureCollection":
                groups += [[e] for e in _expand(obj)]
            else:
                groups.append(_expand(obj))
    if not groups:
        raise InvalidParameterError("load needs at least one item")
    return groups


def _working_catalog(catalog: Any, stac: list[Mapping[str, Any]]) -> Any:
    from raster_core.catalog import Catalog, default_catalog

    if catalog is None:
        base = default_catalog()
    elif isinstance(catalog, Catalog):
        base = catalog
    else:
        base = Catalog.open(catalog)
    if not stac:
        return base
    cat = Catalog(base.path)
    cat._products.update(base._products)
    cat._images.update(base._images)
    # one call: the items of a collection share one product (made once, not merged per item)
    cat.add_stac({"type": "FeatureCollection", "features": stac})
    return cat


# ======================================================================================
# grouping into time steps
# ======================================================================================
@functools.lru_cache(maxsize=4096)
def _to_datetime64(text: str | None) -> np.datetime64:
    """An ISO 8601 time (or date) as UTC ``datetime64[ns]`` (NaT for none); cached, as many
    items share their times."""
    if not text:
        return np.datetime64("NaT", "ns")
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        t = _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time())
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return np.datetime64(t, "ns")


_NAT_RANK = 1 << 63  # after every time (NaT sorts last)


@functools.lru_cache(maxsize=4096)
def _time_rank(time: np.datetime64) -> int:
    """A ``datetime64[ns]`` as an int that sorts as the times do, NaT last (cached: Python
    ints compare much faster than NumPy scalars, and items share their times)."""
    return _NAT_RANK if np.isnat(time) else int(time.astype(np.int64))


def _centre_longitude(ref: Any) -> float:
    """Longitude of an image's centre (its STAC geometry, else its first file's grid)."""
    geom = ref.image.geometry
    if geom:
        import shapely.geometry

        return float(shapely.geometry.shape(geom).centroid.x)
    from raster_core.api import _open
    from raster_core.transform import proj_transform

    ds = _open(ref.paths[0])
    t = ds.transform
    cx = t.c + t.a * ds.width / 2 + t.b * ds.height / 2
    cy = t.f + t.d * ds.width / 2 + t.e * ds.height / 2
    lon, _ = proj_transform(ds.crs.to_wkt(), "EPSG:4326", np.array([cx]), np.array([cy]))
    return float(lon[0])


def _solar_day(ref: Any, time: np.datetime64) -> np.datetime64:
    """The local solar date: UTC time shifted by the longitude (1 h per 15 degrees)."""
    if np.isnat(time):
        return time
    shift = np.timedelta64(int(round(_centre_longitude(ref) / 15.0 * 3600e9)), "ns")
    return (time + shift).astype("datetime64[D]").astype("datetime64[ns]")


_Entry = tuple[Any, Any, np.datetime64]  # (original item, ImageRef, acquisition time)


def _group(groups: list[list[_Entry]], groupby: Any) -> list[list[_Entry]]:
    """Explicit groups (``groupby=None``) or regrouped by key, groups in key order, items of a
    group in time order (painter's order: the latest on top)."""
    if groupby is None:
        return groups
    if any(len(g) > 1 for g in groups):
        raise InvalidParameterError("give either sub-lists of items (explicit time steps) or groupby, not both")
    flat = [g[0] for g in groups]
    if groupby == "time":
        keys = [t for _, _, t in flat]
    elif groupby == "solar_day":
        keys = [_solar_day(ref, t) for _, ref, t in flat]
    elif callable(groupby):
        keys = [groupby(orig) for orig, _, _ in flat]
    else:
        raise InvalidParameterError(f"groupby must be None, 'time', 'solar_day' or a callable, got {groupby!r}")
    buckets: dict[Any, list[tuple[Any, Any, np.datetime64]]] = {}
    memo: dict[Any, Any] = {}  # datetime64 key -> its hashable form (items share times)
    for key, entry in zip(keys, flat, strict=False):
        if isinstance(key, np.datetime64):
            hk = memo.get(key, _MISSING)
            if hk is _MISSING:
                hk = memo[key] = _hashable(key)
        else:
            hk = _hashable(key)
        buckets.setdefault(hk, []).append(entry)
    try:
        ordered = sorted(buckets, key=_sort_key)
    except TypeError:
        ordered = list(buckets)
    return [sorted(buckets[k], key=lambda e: _time_rank(e[2])) if len(buckets[k]) > 1
            else buckets[k] for k in ordered]


def _step_times(groups: list[list[_Entry]]) -> np.ndarray:
    """The time coordinate: the earliest acquisition time of each group (NaT when none has one).

    Examples
    --------
    >>> t = np.datetime64("2021-01-02T00:00", "ns")
    >>> _step_times([[(None, None, np.datetime64("NaT", "ns")), (None, None, t)], [(None, None, t)]]).tolist()
    [1609545600000000000, 1609545600000000000]
    """
    earliest = [min(_time_rank(t) for _, _, t in g) for g in groups]
    nat = np.iinfo(np.int64).min  # NaT as int64
    return np.array([nat if r == _NAT_RANK else r for r in earliest], dtype=np.int64).view("datetime64[ns]")


def _hashable(key: Any) -> Any:
    if isinstance(key, np.datetime64):
        return ("nat",) if np.isnat(key) else key.astype("datetime64[ns]").astype(np.int64).item()
    return key


def _sort_key(key: Any) -> Any:
    return (1, 0) if key == ("nat",) else (0, key)


# ======================================================================================
# the plan (shared by every chunk task; picklable)
# ======================================================================================
@dataclass(frozen=True)
class LoadPlan:
    """Everything the chunk tasks need, computed on the client.

    Each file's plan (overview, source window, kernel: what does not depend on the chunk)
    is made from the file's header on the first chunk that needs it and kept by this object
    (:func:`file_plan`), so the client reads no header for STAC items with ``proj:*`` and
    a process reads each header once per load, not once per chunk; the kept plans are
    not pickled and go with the object.

    Attributes
    ----------
    requests
        One validated ``stack`` layer request per time step (grid, bands, scales, type).
    band_names
        Output band names (alpha dropped when ``drop_alpha``).
    dtype
        Output NumPy dtype.
    fill_value
        Value of pixels without data.
    token
        Unique name of this plan (the name of the load's graph).
    """

    requests: tuple[Any, ...]
    band_names: tuple[str, ...]
    dtype: np.dtype
    fill_value: Any
    token: str = ""
    _files: dict[tuple[int, int, str], Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _grid_key: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def geobox(self) -> Any:
        return self.requests[0].geobox

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_files", "_lock", "_grid_key")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_files", {})
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_grid_key", [])


#: File plans of local files by what they are made from (the file's path, modification time
#: and size, the band indexes, the output grid, the resampler, the grid's explicitness and
#: the planner's switches), kept across loads in this process: the most recently used
#: ``_FILE_PLANS_MAX``
_file_plans: dict[tuple[Any, ...], Any] = {}
_file_plans_lock = threading.Lock()
_FILE_PLANS_MAX = 1024  # each a few kB (mostly the two CRSs as WKT)


def _grid_key(plan: LoadPlan, gb: Any) -> tuple[Any, ...]:
    """The output grid ``gb`` of ``plan`` as a hashable key (made once per plan and process)."""
    from raster_core.crs import gdal_geotransform

    if gb is plan.geobox and plan._grid_key:
        return plan._grid_key[0]
    from raster_core.xr import crs_wkt

    key = (crs_wkt(gb.crs), tuple(gdal_geotransform(gb.transform)), gb.width, gb.height)
    if gb is plan.geobox:
        plan._grid_key.append(key)
    return key


def _file_plan_key(plan: LoadPlan, step: int, path: str, sources: list[Any]) -> tuple[Any, ...] | None:
    """The key of a file plan in :data:`_file_plans`; ``None`` for remote files (their
    header cache tells when they change) or a path that cannot be stat'ed."""
    from raster_core.io.sources import is_remote

    if is_remote(path):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    req = plan.requests[step]
    return (os.path.abspath(path), st.st_mtime_ns, st.st_size, tuple(s.index for s in sources),
            _grid_key(plan, req.geobox), req.explicit_grid, req.resampler, req.reference_paths)


def file_plan(plan: LoadPlan, step: int, image: int, path: str, sources: list[Any]) -> Any:
    """The :class:`~raster_core.api.FilePlan` of bands ``sources`` of file ``path`` of image
    ``image`` of time step ``step``: made once, then kept by ``plan`` (and, for a local
    file, by this process for later loads of the same file onto the same grid)."""
    from dataclasses import replace

    from raster_core.api import plan_file

    key = (step, image, path)
    with plan._lock:
        fp = plan._files.get(key, _MISSING)
    if fp is _MISSING:
        shared = _file_plan_key(plan, step, path, sources)
        if shared is not None:
            with _file_plans_lock:
                fp = _file_plans.pop(shared, _MISSING)
                if fp is not _MISSING:
                    _file_plans[shared] = fp  # now the most recently used
        if fp is _MISSING:
            req = plan.requests[step]
            fp = plan_file(path, sources, req.geobox, req)
            if shared is not None:
                with _file_plans_lock:
                    while len(_file_plans) >= _FILE_PLANS_MAX:
                        del _file_plans[next(iter(_file_plans))]
                    _file_plans[shared] = fp
        elif fp is not None:
            fp = replace(fp, sources=tuple(sources))  # this load's band descriptions
        with plan._lock:
            plan._files[key] = fp
    return fp


def load_block(plan: LoadPlan, slices: tuple[tuple[int, int], ...],
               entries: tuple[tuple[int, tuple[int, ...]], ...], num_threads: int | None = 1) -> np.ndarray:
    """One output chunk ``(time, band, y, x)``: ``slices`` are its ``(start, stop)`` per dim,
    ``entries`` the ``(time step, image indexes)`` that touch it. Each step is
    :func:`raster_core.api.render` on the chunk's window (the pixels of ``Raster.stack``);
    a chunk of one whole time step is :func:`raster_core.api.render_values` (no validity)."""
    from raster_core.api import render, render_values
    from raster_core.mosaic import filled
    from raster_core.scaling import numpy_dtype

    (t0, t1), (b0, b1), (r0, r1), (c0, c1) = slices
    out = None
    for step, images in entries:
        def planner(i: int, path: str, sources: list[Any], step: int = step) -> Any:
            return file_plan(plan, step, i, path, sources)

        req = plan.requests[step]
        if t1 - t0 == 1 and b1 - b0 == len(req.plan.names) and numpy_dtype(req.data_type) == plan.dtype:
            # the chunk is this step's values (masked pixels filled): no validity needed
            return render_values(req, images, (r0, r1, c0, c1), num_threads=num_threads, file_plan=planner,
                                 fill=plan.fill_value)[np.newaxis]
        data, valid = render(req, images, (r0, r1, c0, c1), num_threads=num_threads, file_plan=planner,
                             fill=plan.fill_value)
        if out is None:
            out = filled((t1 - t0, b1 - b0, r1 - r0, c1 - c0), plan.fill_value, plan.dtype)
        np.copyto(out[step - t0], data[b0:b1], where=valid[b0:b1], casting="unsafe")
    if out is None:
        out = filled((t1 - t0, b1 - b0, r1 - r0, c1 - c0), plan.fill_value, plan.dtype)
    return out


# ======================================================================================
# footprints of the images on the output grid
# ======================================================================================
def _footprints(plan: LoadPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """``(boxes, steps, read_bytes, index)``: per image of every time step its footprint
    ``(col0, row0, col1, row1)`` on the output grid (the box of
    :func:`raster_core.api._footprint_window` of its files, with the kernel's reach; the
    whole grid when in doubt), its time step, an estimate of the bytes its reads need, and
    ``(step, image)``. STAC items with ``proj:*`` need no header; the files of one source
    CRS are transformed together (one PROJ call)."""
    from raster_core.api import _open
    from raster_core.resampling import KERNEL_RADIUS
    from raster_core.scaling import numpy_dtype

    gb = plan.geobox
    files: list[tuple[int, float, float]] = []  # per file: (image row, halo, bytes per source pixel)
    by_crs: dict[Any, tuple[Any, list[int], list[tuple[float, ...]], list[tuple[int, int]]]] = {}
    index: list[tuple[int, int]] = []
    itemsize: dict[str, int] = {}
    for step, req in enumerate(plan.requests):
        halo = KERNEL_RADIUS.get(req.resampler, 0) + 2  # source pixels around the image a kernel reaches
        for i, srcs in enumerate(req.plan.sources):
            image = req.refs[i].image
            row = len(index)
            index.append((step, i))
            per_path: dict[str, int] = {}
            for s in srcs:
                dt = s.band.data_type
                if dt not in itemsize:
                    itemsize[dt] = numpy_dtype(dt).itemsize
                per_path[s.path] = per_path.get(s.path, 0) + itemsize[dt]
            for path, path_bytes in per_path.items():
                if image.crs and image.geotransform and image.shape:  # STAC proj:*: no header to read
                    key: Any = image.crs
                    crs: Any = image.crs
                    gt, (h, w) = tuple(image.geotransform), image.shape
                else:
                    ds = _open(path)
                    crs, key = ds.crs, id(ds.crs)
                    t = ds.transform
                    gt, h, w = (t.c, t.a, t.b, t.f, t.d, t.e), ds.height, ds.width
                group = by_crs.get(key)
                if group is None:
                    group = by_crs[key] = (crs, [], [], [])
                group[1].append(len(files))
                group[2].append(gt)
                group[3].append((h, w))
                files.append((row, halo, float(path_bytes)))
    n_files = len(files)
    fboxes = np.zeros((n_files, 4), dtype=np.float64)
    fbytes = np.zeros(n_files, dtype=np.float64)
    halos = np.array([f[1] for f in files], dtype=np.float64)
    per_px = np.array([f[2] for f in files], dtype=np.float64)
    dst_area = abs(gb.transform.a * gb.transform.e - gb.transform.b * gb.transform.d)
    for crs, rows, gts, shapes in by_crs.values():
        at = np.asarray(rows, dtype=np.int64)
        box, same = _footprint_boxes(crs, np.asarray(gts, dtype=np.float64), np.asarray(shapes, dtype=np.float64),
                                     halos[at], gb)
        fboxes[at] = box
        # bytes: the output area covered, in source pixels, times the bands read
        g = np.asarray(gts, dtype=np.float64)
        hw = np.asarray(shapes, dtype=np.float64)
        n_px = hw[:, 0] * hw[:, 1]
        src_area = np.abs(g[:, 1] * g[:, 5] - g[:, 2] * g[:, 4])
        cover = np.maximum(0.0, box[:, 2] - box[:, 0]) * np.maximum(0.0, box[:, 3] - box[:, 1])
        if same:
            with np.errstate(divide="ignore", invalid="ignore"):
                px_src = np.where(src_area > 0, np.minimum(n_px, cover * dst_area / np.where(src_area > 0,
                                                                                           src_area, 1.0)),
                                  np.minimum(n_px, cover))
        else:
            px_src = np.minimum(n_px, cover)
        fbytes[at] = px_src * per_px[at]
    # an image's box: the union of its files' boxes
    n = len(index)
    owner = np.array([f[0] for f in files], dtype=np.int64)
    boxes = np.empty((n, 4), dtype=np.float64)
    boxes[:, :2] = np.inf
    boxes[:, 2:] = -np.inf
    np.minimum.at(boxes[:, 0], owner, fboxes[:, 0])
    np.minimum.at(boxes[:, 1], owner, fboxes[:, 1])
    np.maximum.at(boxes[:, 2], owner, fboxes[:, 2])
    np.maximum.at(boxes[:, 3], owner, fboxes[:, 3])
    nbytes = np.bincount(owner, weights=fbytes, minlength=n)
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # others are outside the output grid
    steps = np.array([s for s, _ in index], dtype=np.int64)
    return boxes[keep], steps[keep], nbytes[keep], [ix for ix, k in zip(index, keep.tolist(), strict=True) if k]


#: CRS objects by their STAC text (``EPSG:32633``, WKT), parsed once per process
_CRS_CACHE: dict[str, Any] = {}
#: ``(same CRS, source WKT, output WKT)`` by (source CRS text, output CRS WKT)
_CRS_PAIRS: dict[tuple[str, str], tuple[bool, str, str]] = {}


def _crs_pair(crs: Any, dst_crs: Any) -> tuple[bool, str, str]:
    """Whether ``crs`` equals the output CRS ``dst_crs`` (as :class:`~raster_core.transform.WarpTransformer`
    decides it), and both as WKT; cached for CRS texts."""
    from raster_core.crs import crs_equal, to_crs
    from raster_core.xr import crs_wkt

    dst_wkt = crs_wkt(dst_crs)
    key = (crs, dst_wkt) if isinstance(crs, str) else None
    if key is not None and key in _CRS_PAIRS:
        return _CRS_PAIRS[key]
    if isinstance(crs, str):
        src = _CRS_CACHE.get(crs)
        if src is None:
            src = _CRS_CACHE[crs] = to_crs(crs, name="src_crs")
    else:
        src = to_crs(crs, name="src_crs")
    out = (bool(crs_equal(src, to_crs(dst_crs, name="dst_crs"))), src.to_wkt(), dst_wkt)
    if key is not None:
        if len(_CRS_PAIRS) > 256:
            _CRS_PAIRS.clear()
        _CRS_PAIRS[key] = out
    return out


def _footprint_boxes(crs: Any, gts: np.ndarray, shapes: np.ndarray, halos: np.ndarray,
                     gb: Any) -> tuple[np.ndarray, bool]:
    """``(boxes, same_crs)``: :func:`raster_core.api._footprint_window` of many files of one
    CRS at once (their GDAL geotransforms ``gts`` ``(n, 6)`` and ``(rows, cols)`` ``shapes``),
    as ``(col0, row0, col1, row1)`` rows; the same samples, padding and whole-grid fallbacks."""
    from raster_core.api import _CORNERS, _FOOTPRINT_SAMPLES
    from raster_core.crs import gdal_geotransform, inv_geotransform
    from raster_core.transform import apply_geotransform, proj_transform

    rows, cols = gb.height, gb.width
    same, src_wkt, dst_wkt = _crs_pair(crs, gb.crs)
    inv_dst = inv_geotransform(gdal_geotransform(gb.transform))
    ux, uy = _CORNERS if same else _FOOTPRINT_SAMPLES
    h, w = shapes[:, 0:1], shapes[:, 1:2]
    sx, sy = ux[None, :] * w, uy[None, :] * h
    g = [gts[:, k:k + 1] for k in range(6)]
    gx, gy = g[0] + sx * g[1] + sy * g[2], g[3] + sx * g[4] + sy * g[5]
    if not same:
        fx, fy = proj_transform(src_wkt, dst_wkt, np.ascontiguousarray(gx).ravel(),
                                np.ascontiguousarray(gy).ravel())
        gx, gy = fx.reshape(gx.shape), fy.reshape(gy.shape)
    ok = np.isfinite(gx) & np.isfinite(gy)
    px, py = apply_geotransform(inv_dst, gx, gy)
    whole = ~(ok.all(axis=1) & np.isfinite(px).all(axis=1) & np.isfinite(py).all(axis=1))
    if not same:
        try:
            from raster_core.warp import _pole_points

            lon, lat = _pole_points(src_wkt)  # the poles, in the source CRS
            for k in range(len(gts)):
                if whole[k]:
                    continue
                qx, qy = apply_geotransform(inv_geotransform(tuple(gts[k])), np.asarray(lon), np.asarray(lat))
                hk, wk = shapes[k]
                inside = np.isfinite(qx) & np.isfinite(qy) & (qx >= -1) & (qx <= wk + 1) & (qy >= -1) & (qy <= hk + 1)
                if inside.any():
                    whole[k] = True
        except Exception:  # noqa: BLE001 - any doubt: the whole grid is always correct
            whole[:] = True
    out = np.empty((len(gts), 4), dtype=np.float64)
    out[:] = (0.0, 0.0, float(cols), float(rows))
    fine = np.flatnonzero(~whole)
    if fine.size:
        px, py = px[fine], py[fine]
        x0, x1, y0, y1 = px.min(axis=1), px.max(axis=1), py.min(axis=1), py.max(axis=1)
        # dst pixels per src pixel (for the approximate transformer's 0.125 source-pixel error)
        wf, hf = np.maximum(shapes[fine, 1], 1), np.maximum(shapes[fine, 0], 1)
        ratio = np.maximum(1.0, np.maximum((x1 - x0) / wf, (y1 - y0) / hf))
        pad = 2 + np.ceil(0.25 * ratio) + np.ceil(halos[fine] * ratio)
        c0 = np.maximum(0, np.floor(x0) - pad)
        c1 = np.minimum(cols, np.ceil(x1) + pad)
        r0 = np.maximum(0, np.floor(y0) - pad)
        r1 = np.minimum(rows, np.ceil(y1) + pad)
        empty = (c1 <= c0) | (r1 <= r0)
        box = np.stack([c0, r0, c1, r1], axis=1)
        box[empty] = 0.0
        out[fine] = box
    return out, same


# ======================================================================================
# parameters
# ======================================================================================
def _normalize_chunks(chunks: Any, shape: tuple[int, int, int, int], dtype: np.dtype) -> tuple[tuple[int, ...], ...]:
    from dask.array.core import normalize_chunks

    if chunks == "auto":
        spec: dict[str, Any] = {}
    elif isinstance(chunks, Mapping):
        unknown = set(chunks) - {"time", "band", "y", "x"}
        if unknown:
            raise InvalidParameterError(f"chunks has unknown dimensions {sorted(unknown)}; use time, band, y, x")
        spec = dict(chunks)
    else:
        raise InvalidParameterError(
            f"chunks must be None, 'auto' or a dict like {{'y': 2048, 'x': 2048}}, got {chunks!r}")
    band = spec.get("band", -1)
    if band not in (-1, None, shape[1]):
        raise InvalidParameterError("chunks: every band of a time step is in one chunk (band=-1)")
    wanted = (spec.get("time", 1), -1, spec.get("y", "auto"), spec.get("x", "auto"))
    for v in wanted:
        if not (v == "auto" or v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                             and (v == -1 or v > 0))):
            raise InvalidParameterError(f"chunk sizes must be positive integers, -1 or 'auto', got {v!r}")
    if all(type(v) is int for v in wanted) and all(n > 0 for n in shape):
        # sizes only (the common case): what normalize_chunks makes of them, without its
        # general machinery
        return tuple((n,) if c == -1 or c >= n else (c,) * (n // c) + ((n % c,) if n % c else ())
                     for c, n in zip(wanted, shape, strict=True))
    try:
        return normalize_chunks(wanted, shape=shape, dtype=dtype)
    except ValueError as exc:
        raise InvalidParameterError(f"invalid chunks {chunks!r}: {exc}") from None


def _fill_value(fill_value: Any, dtype: np.dtype) -> Any:
    if fill_value is None:
        return dtype.type(0)
    if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.integer, np.floating)):
        raise InvalidParameterError(f"fill_value must be a number, got {fill_value!r}")
    if isinstance(fill_value, (float, np.floating)) and math.isnan(fill_value):
        if dtype.kind != "f":
            raise InvalidParameterError(f"fill_value NaN needs a floating-point data_type, not {dtype.name}")
        return dtype.type(np.nan)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if fill_value != math.floor(fill_value) or not info.min <= fill_value <= info.max:
            raise InvalidParameterError(f"fill_value {fill_value!r} does not fit the data type {dtype.name}")
    return dtype.type(fill_value)


def _plan(items: Any, bands: Any, *, catalog: Any, groupby: Any, raster: Any, lazy: bool,
          params: dict[str, Any], fill_value: Any) -> tuple[LoadPlan, np.ndarray, int]:
    """``(plan, times, max_bytes)``: the load's plan, the time coordinate and the caller's
    memory budget."""
    from raster_core.api import Raster
    from raster_core.scaling import numpy_dtype

    if not (groupby in _GROUPBY or callable(groupby)):
        raise InvalidParameterError(f"groupby must be None, 'time', 'solar_day' or a callable, got {groupby!r}")
    raw = _parse_items(items)
    stac = [d for g in raw for _, d in g if d is not None]
    if raster is not None:
        cat = _working_catalog(raster.catalog, stac)
        rst = Raster(cat, max_bytes=raster.max_bytes, max_pixels=raster.max_pixels, num_threads=raster.num_threads,
                     reference_paths=raster.reference_paths)
    else:
        cat = _working_catalog(catalog, stac)
        rst = Raster(cat)
    max_bytes = rst.max_bytes
    if lazy:
        # a lazy load is never held in memory as a whole: its chunks are budgeted instead
        # (_check_budget); the grid keeps a bound that stops absurd grids before planning them
        rst.max_pixels = None
        rst.max_bytes = max(max_bytes, _LAZY_GRID_MAX_BYTES)
    resolved: list[list[tuple[Any, Any, np.datetime64]]] = []
    for g in raw:
        row = []
        for orig, d in g:
            image_id = str(d["id"]) if d is not None else orig
            ref = cat.resolve(image_id)
            row.append((orig, image_id, _to_datetime64(ref.image.acquired), ref))
        resolved.append([(o, r, t) for o, _, t, r in row])
    groups = _group(resolved, groupby)

    from raster_core.api import _merge_aliases

    args = _merge_aliases({**params, "inputs": None, "bands": bands}, params.pop("extra", {}))
    complete = args["dltile"] is not None or (args["srs"] is not None and args["bounds"] is not None
                                              and (args["resolution"] is not None or args["dimensions"] is not None))
    # one grid for every time step, made once (the files' headers are read for it only when
    # the parameters do not fix it): the first step's, or without a full grid, all images'
    if complete:
        grid = _stac_grid(groups[0], args)
        if grid is None:
            grid = rst._request_from({**args, "inputs": [ref.id for _, ref, _ in groups[0]]}).geobox
    else:
        grid = rst._request_from({**args, "inputs": [ref.id for g in groups for _, ref, _ in g]}).geobox
    requests = [rst._request_from({**args, "inputs": [ref.id for _, ref, _ in g], "grid": grid}) for g in groups]
    shapes = {(r.geobox.height, r.geobox.width) for r in requests}
    if len(shapes) != 1:
        raise InvalidParameterError(f"time steps have different grid shapes {sorted(shapes)}")
    first = requests[0]
    if lazy and first.scales is not None and any(s == () for s in first.scales):
        raise UnsupportedFeatureError("automatic scales (()) depend on the whole image; give explicit scales "
                                      "for a chunked load")
    names = tuple(first.plan.names[:-1] if first.drop_alpha else first.plan.names)
    dtype = np.dtype(numpy_dtype(first.data_type))
    times = _step_times(groups)
    plan = LoadPlan(tuple(requests), names, dtype, _fill_value(fill_value, dtype), _token())
    return plan, times, max_bytes


def _stac_grid(group: list[_Entry], args: Mapping[str, Any]) -> Any:
    """The output grid fixed by ``srs``, ``bounds`` and ``resolution``/``dimensions``, without
    reading a header: the sources only need a CRS there, which STAC ``proj:*`` gives. ``None``
    when that does not apply (the Raster API then plans the grid, and raises its errors in
    its order)."""
    from raster_core.grid import SourceGrid, output_geobox

    if args["dltile"] is not None or args["cutline"] is not None or args["srs"] is None:
        return None
    image = group[0][1].image
    if not (image.crs and image.geotransform and image.shape) or not all(
            ref.image.crs and ref.image.geotransform and ref.image.shape for _, ref, _ in group):
        return None
    key: Any = (image.crs, tuple(image.geotransform), tuple(image.shape),
                *(args[k] for k in ("srs", "resolution", "dimensions", "bounds", "bounds_srs", "align_pixels")))
    try:
        found = _STAC_GRIDS.get(key)
    except TypeError:  # unhashable parameters (lists): planned every time
        key, found = None, None
    if found is not None:
        return found
    try:
        from affine import Affine

        src = SourceGrid(_CRS_CACHE.get(image.crs, image.crs), Affine.from_gdal(*image.geotransform),
                         image.shape[1], image.shape[0])
        grid = output_geobox([src], srs=args["srs"], resolution=args["resolution"], dimensions=args["dimensions"],
                             bounds=args["bounds"], bounds_srs=args["bounds_srs"], align_pixels=args["align_pixels"])
    except Exception:  # noqa: BLE001 - the Raster API's planning raises the right error
        return None
    if key is not None:
        if len(_STAC_GRIDS) >= 128:
            _STAC_GRIDS.clear()
        _STAC_GRIDS[key] = grid
    return grid


#: Grids planned by :func:`_stac_grid`, by the first image's STAC grid and the grid
#: parameters (a grid is immutable, so loads may share it)
_STAC_GRIDS: dict[tuple[Any, ...], Any] = {}


#: The bound on a lazy load's grid (bytes of the whole array with its working buffers, were
#: it computed at once): far above any real load, it stops a mistaken resolution before its
#: grid is planned (``Raster(max_bytes=...)`` above it raises it).
_LAZY_GRID_MAX_BYTES = 1 << 50


def _check_budget(plan: LoadPlan, chunks: tuple[tuple[int, ...], ...], *, lazy: bool, max_bytes: int,
                  num_threads: int | None) -> None:
    """Refuse a load whose buffers exceed ``max_bytes`` before anything is allocated: for a
    lazy load, the largest chunk (its block and one time step's working buffers); for an
    eager one, the whole ``(time, band, y, x)`` result and the time steps in progress.

    Raises
    ------
    OutputTooLargeError
        Over the budget.
    """
    from raster_core._parallel import resolve_num_threads
    from raster_core.api import _bytes_per_value
    from raster_core.limits import check_bytes
    from raster_core.scaling import numpy_dtype

    req = plan.requests[0]
    n_work = len(req.plan.names)  # the working buffers hold an alpha band that is dropped
    n_out = len(plan.band_names)
    per_value = _bytes_per_value(numpy_dtype(req.plan.data_type), plan.dtype)
    item = plan.dtype.itemsize
    if lazy:
        t, rows, cols = max(chunks[0]), max(chunks[2]), max(chunks[3])
        check_bytes(t * n_out * rows * cols * item + n_work * rows * cols * per_value, max_bytes,
                    what=f"a chunk of {t} x {n_out} x {rows} x {cols} {plan.dtype.name} values with its working "
                         "buffers",
                    hint="use smaller chunks, or raise Raster(max_bytes=...)")
        return
    steps = len(plan.requests)
    rows, cols = plan.geobox.height, plan.geobox.width
    workers = min(steps, resolve_num_threads(num_threads))
    check_bytes(steps * n_out * rows * cols * item + workers * rows * cols * (n_work * per_value + n_out * item),
                max_bytes,
                what=f"a load of {steps} time steps of {rows} x {cols} x {n_out} {plan.dtype.name} values with "
                     f"{workers} in progress",
                hint="use chunks=... (a lazy load on Dask), a coarser resolution or smaller bounds, or raise "
                     "Raster(max_bytes=...)")


def _block_tasks(plan: LoadPlan, chunks: tuple[tuple[int, ...], ...]) -> tuple[dict, dict]:
    """``(tasks, stats)``: chunk index -> ``(entries,)`` for chunks that images touch."""
    from raster_core._dask import chunk_bounds, chunk_sources

    boxes, steps, nbytes, index = _footprints(plan)
    t, y, x, src = chunk_sources(boxes, steps, (chunks[0], chunks[2], chunks[3]))
    yb, xb = chunk_bounds(chunks[2]).astype(np.float64), chunk_bounds(chunks[3]).astype(np.float64)
    b = boxes[src]
    cover = (np.maximum(0.0, np.minimum(b[:, 2], xb[x + 1]) - np.maximum(b[:, 0], xb[x]))
             * np.maximum(0.0, np.minimum(b[:, 3], yb[y + 1]) - np.maximum(b[:, 1], yb[y])))
    area = np.maximum(1e-9, (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
    read = float((nbytes[src] * cover / area).sum())
    tasks: dict[tuple[int, ...], tuple[Any, ...]] = {}
    counts = []
    if len(src):
        chunk_key = (t * len(yb) + y) * len(xb) + x
        starts = np.flatnonzero(np.concatenate([[True], chunk_key[1:] != chunk_key[:-1]])).tolist()
        ends = starts[1:] + [len(src)]
        src_list, t_list, y_list, x_list = src.tolist(), t.tolist(), y.tolist(), x.tolist()
        for k0, k1 in zip(starts, ends, strict=True):
            srcs = src_list[k0:k1]
            first, last = index[srcs[0]][0], index[srcs[-1]][0]
            if first == last:  # one time step (sources are in (step, image) order)
                chunk_entries: tuple[Any, ...] = ((first, tuple(index[s][1] for s in srcs)),)
            else:
                entries: dict[int, list[int]] = {}
                for s in srcs:
                    step, image = index[s]
                    entries.setdefault(step, []).append(image)
                chunk_entries = tuple((k, tuple(v)) for k, v in sorted(entries.items()))
            tasks[(t_list[k0], 0, y_list[k0], x_list[k0])] = (chunk_entries,)
            counts.append(k1 - k0)
    n_chunks = int(np.prod([len(c) for c in chunks]))
    counts += [0] * (n_chunks - len(tasks))
    stats = {"items_per_chunk": {"min": int(min(counts)), "mean": float(np.mean(counts)), "max": int(max(counts))},
             "bytes_to_read": int(read), "images": int(len(boxes))}
    return tasks, stats


# ======================================================================================
# public functions
# ======================================================================================
def _collect(items: Any, bands: Any, kw: dict[str, Any]) -> tuple[Any, ...]:
    catalog = kw.pop("catalog", None)
    groupby = kw.pop("groupby", None)
    chunks = kw.pop("chunks", None)
    fill_value = kw.pop("fill_value", None)
    kw.pop("progress", None)
    raster = kw.pop("_raster", None)
    return catalog, groupby, chunks, fill_value, raster


def _build(items: Any, bands: Any, kw: dict[str, Any]) -> tuple[LoadPlan, np.ndarray, Any, dict, dict]:
    catalog, groupby, chunks, fill_value, raster = _collect(items, bands, kw)
    params = _stack_params(kw)
    plan, times, max_bytes = _plan(items, bands, catalog=catalog, groupby=groupby, raster=raster,
                                   lazy=chunks is not None, params=params, fill_value=fill_value)
    gb = plan.geobox
    shape = (len(plan.requests), len(plan.band_names), gb.height, gb.width)
    norm = _normalize_chunks(chunks if chunks is not None else {"time": 1, "y": -1, "x": -1}, shape, plan.dtype)
    _check_budget(plan, norm, lazy=chunks is not None, max_bytes=max_bytes,
                  num_threads=raster.num_threads if raster is not None else None)
    tasks, stats = _block_tasks(plan, norm)
    return plan, times, norm, tasks, stats


_STACK_KEYS = ("scales", "data_type", "srs", "resolution", "dimensions", "cutline", "bounds", "bounds_srs",
               "align_pixels", "resampler", "dltile", "processing_level", "cutline_all_touched", "cutline_srs",
               "scaling")


def _stack_params(kw: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {k: kw.pop(k, None) for k in _STACK_KEYS}
    if params["align_pixels"] is None:
        params["align_pixels"] = False
    if params["cutline_all_touched"] is None:
        params["cutline_all_touched"] = False
    if params["resampler"] is None:
        params["resampler"] = "near"
    params["extra"] = dict(kw)  # aliases and mask_nodata/mask_alpha/drop_alpha (checked by the Raster API)
    kw.clear()
    return params


def load(items: Any, bands: Any = None, **kwargs: Any) -> Any:
    """Images as a DataArray ``(time, band, y, x)``: eager, or lazy on Dask.

    Parameters
    ----------
    items
        Catalog image ids, GeoTIFF paths, STAC Items (dicts or ``pystac.Item``), an
        ItemCollection / FeatureCollection, or a list of these. A sub-list is one time step
        (mosaicked in order, last on top, as :meth:`~raster_core.api.Raster.stack`).
    bands
        Band names (STAC: ``eo:bands`` names or asset keys).
    catalog
        A :class:`~raster_core.catalog.Catalog` (or a path to one) for image ids; STAC items
        need none.
    groupby
        ``None`` (one time step per item or sub-list), ``"time"`` (equal acquisition
        times), ``"solar_day"`` (equal local solar dates) or a callable ``item -> key``.
        Time steps are in key order; the images of one step mosaic in time order.
    chunks
        ``None``: computed now (NumPy-backed). A dict such as ``{"time": 1, "y": 2048,
        "x": 2048}`` (sizes, ``-1`` or ``"auto"``) or ``"auto"``: a Dask-backed array with one
        task per chunk. Every band of a time step is in one chunk.
    srs, resolution, dimensions, bounds, bounds_srs, align_pixels, dltile, cutline, \
cutline_all_touched, cutline_srs, resampler, scales, data_type, scaling, processing_level
        As :meth:`~raster_core.api.Raster.stack` (without a full grid, the grid of all
        images together). ``data_type`` defaults to the bands' common type.
    fill_value
        Value of pixels without data (default 0; ``numpy.nan`` for float types); it is the
        ``_FillValue``/``nodata`` attribute.
    progress
        ``True``: an eager load (``chunks=None``) reports each finished time step, and the
        blocks of a single one (a tqdm bar when tqdm is installed, else a line on stderr).
        A lazy load computes nothing here: it writes one line on stderr saying that its
        progress shows at compute time through Dask's diagnostics
        (``with dask.diagnostics.ProgressBar(): da.compute()`` on the local schedulers,
        ``dask.distributed.progress`` or the dashboard on a cluster).

    Returns
    -------
    xarray.DataArray
        Coordinates ``time`` (acquisition time, the earliest of a step), ``band``,
        ``y``/``x`` (pixel centres) and ``spatial_ref`` (CRS WKT and GDAL GeoTransform), so
        that rioxarray's ``.rio`` and odc-geo's ``.odc`` accessors work on it. Its values
        equal ``Raster.stack(..., order="gdal", masked=True).filled(fill_value)``.

    Raises
    ------
    RasterCoreError
        The Raster API's errors, before any pixel is read (also for a lazy load).
    OutputTooLargeError
        When the buffers of an eager load's whole ``(time, band, y, x)`` result, or of a
        lazy load's largest chunk, exceed the memory budget (8 GiB by default;
        ``Raster(max_bytes=...).load``), before anything is allocated.

    Examples
    --------
    >>> da = load(["data/RGB.byte.tif"], ["red"], resolution=600, chunks={"y": 100})  # doctest: +SKIP
    >>> da.data.npartitions                                                       # doctest: +SKIP
    4
    """
    from raster_core._dask import constant_block
    from raster_core._progress import check_progress, make_progress
    from raster_core.xr import to_dataarray

    chunks = kwargs.get("chunks")
    progress = check_progress(kwargs.get("progress"))
    plan, times, norm, tasks, _ = _build(items, bands, dict(kwargs))
    if chunks is None:
        reporter = make_progress(progress, len(plan.requests), "load")
        try:
            data = _compute_eager(plan, norm, tasks, constant_block, reporter)
        finally:
            if reporter is not None:
                reporter.close()
    else:
        from raster_core._dask import chunked_array

        name = "raster_core-load-" + plan.token
        data = chunked_array(name, plan, load_block, norm, tasks, plan.fill_value, plan.dtype)
        if progress:
            # the chunk tasks may run in other processes: Dask's own diagnostics report them
            sys.stderr.write(_LAZY_PROGRESS_NOTE)
            sys.stderr.flush()
    return to_dataarray(data, plan.geobox, times=times, bands=plan.band_names, fill_value=plan.fill_value)


_LAZY_PROGRESS_NOTE = (
    "raster_core load: lazy (Dask) load, nothing is computed yet; its progress shows when it is computed, "
    "through Dask: `with dask.diagnostics.ProgressBar(): da.compute()` (local schedulers) or "
    "`dask.distributed.progress(da.persist())` / the dashboard (distributed)\n")


def _compute_eager(plan: LoadPlan, chunks: tuple[tuple[int, ...], ...], tasks: Mapping[tuple[int, ...], Any],
                   constant: Callable[..., np.ndarray], progress: Progress | None = None) -> np.ndarray:
    """All chunks (one per time step) on raster_core's thread pool, one thread per step;
    ``progress`` advances per finished step (and per block of a single step)."""
    from raster_core._parallel import on_block, run_blocks

    gb = plan.geobox
    nb = len(plan.band_names)
    out = np.empty((len(plan.requests), nb, gb.height, gb.width), dtype=plan.dtype)

    def one(t: int, _: int) -> None:
        args = tasks.get((t, 0, 0, 0))
        if args is None:
            out[t] = plan.fill_value
        else:
            out[t] = load_block(plan, ((t, t + 1), (0, nb), (0, gb.height), (0, gb.width)), *args)[0]
        if progress is not None:
            progress.advance()

    steps = [(t, t + 1) for t in range(len(plan.requests))]
    if len(steps) == 1:
        args = tasks.get((0, 0, 0, 0))
        if args is not None:
            (entries,) = args
            with on_block(progress.block if progress is not None else None):
                out[:] = load_block(plan, ((0, 1), (0, nb), (0, gb.height), (0, gb.width)), entries,
                                    num_threads=None)
        else:
            out[:] = plan.fill_value
        if progress is not None:
            progress.advance()
    else:
        run_blocks(one, steps)
    return out


def _token() -> str:
    import uuid

    return uuid.uuid4().hex[:16]


def explain(items: Any, bands: Any = None, **kwargs: Any) -> dict[str, Any]:
    """What :func:`load` with the same arguments would do, without reading a pixel.

    Returns
    -------
    dict
        ``shape``, ``dtype``, ``chunks`` (count), ``chunk_shape`` (the largest), ``tasks``
        (chunk tasks plus the plan key), ``empty_chunks`` (constant fills), ``time_steps``,
        ``images``, ``items_per_chunk`` (min/mean/max), ``bytes_to_read`` (an estimate of
        the source bytes the reads cover) and ``output_bytes``.

    Examples
    --------
    >>> info = explain(["data/RGB.byte.tif"], ["red"], resolution=600, chunks={"y": 100})  # doctest: +SKIP
    >>> info["chunks"], info["empty_chunks"]                                          # doctest: +SKIP
    (4, 0)
    """
    kw = dict(kwargs)
    if kw.get("chunks") is None:
        kw["chunks"] = {"time": 1, "y": -1, "x": -1}
    plan, times, norm, tasks, stats = _build(items, bands, kw)
    shape = tuple(sum(c) for c in norm)
    n_chunks = int(np.prod([len(c) for c in norm]))
    return {
        "shape": shape,
        "dtype": plan.dtype.name,
        "chunks": n_chunks,
        "chunk_shape": tuple(max(c) for c in norm),
        "tasks": n_chunks + 1,
        "empty_chunks": n_chunks - len(tasks),
        "time_steps": len(plan.requests),
        **stats,
        "output_bytes": int(np.prod(shape)) * plan.dtype.itemsize,
    }
