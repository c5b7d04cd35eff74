"""``load``: a stack of images as an xarray DataArray ``(time, band, y, x)``, eager or on Dask.

The pixels are those of :meth:`raster_core.api.Raster.stack` (``order="gdal"``) on the same
parameters, for any chunking, scheduler and number of workers: a chunk task is
:func:`raster_core.api.render` on the chunk's window, with each file's whole-grid plan (its
warp and kernel are the whole grid's; only the source pixels read and the rows/cols
produced shrink to the chunk's).

How a lazy load runs:

* on the client: the items are resolved (STAC items through
  :meth:`~raster_core.catalog.Catalog.add_stac`, no catalog needed), grouped into time
  steps, each time step is planned like one layer of ``stack`` (validated requests, output
  grid, bands, scales), every image's footprint on the output grid (with the resampler's
  halo) goes into one STRtree that says which images each chunk needs, and the budget
  (``max_bytes``) is checked per chunk (per whole result for an eager load);
* the graph has one key holding the plan and one task per output chunk (a constant fill
  when no image touches the chunk);
* a chunk task paints its images one after another on one thread (Dask supplies the
  parallelism): each file's plan (overview, source window, kernel) is made from its
  header once per process and cached, then only the source window of the chunk is read
  and warped; files reopen lazily with a per-process header cache.

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
    for item in stac:
        cat.add_stac(item)
    return cat


# ======================================================================================
# grouping into time steps
# ======================================================================================
def _to_datetime64(text: str | None) -> np.datetime64:
    if not text:
        return np.datetime64("NaT", "ns")
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        t = _dt.datetime.combine(_dt.date.fromisoformat(text), _dt.time())
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return np.datetime64(t, "ns")


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
    for key, entry in zip(keys, flat, strict=False):
        buckets.setdefault(_hashable(key), []).append(entry)
    try:
        ordered = sorted(buckets, key=_sort_key)
    except TypeError:
        ordered = list(buckets)
    big = np.datetime64("9999-12-31", "ns")
    return [sorted(buckets[k], key=lambda e: big if np.isnat(e[2]) else e[2]) for k in ordered]


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

    @property
    def geobox(self) -> Any:
        return self.requests[0].geobox

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_files", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "_files", {})
        object.__setattr__(self, "_lock", threading.Lock())


_MISSING = object()


def file_plan(plan: LoadPlan, step: int, image: int, path: str, sources: list[Any]) -> Any:
    """The :class:`~raster_core.api.FilePlan` of bands ``sources`` of file ``path`` of image
    ``image`` of time step ``step``: made once, then kept by ``plan``."""
    from raster_core.api import plan_file

    key = (step, image, path)
    with plan._lock:
        fp = plan._files.get(key, _MISSING)
    if fp is _MISSING:
        req = plan.requests[step]
        fp = plan_file(path, sources, req.geobox, req)
        with plan._lock:
            plan._files[key] = fp
    return fp


def load_block(plan: LoadPlan, slices: tuple[tuple[int, int], ...],
               entries: tuple[tuple[int, tuple[int, ...]], ...], num_threads: int | None = 1) -> np.ndarray:
    """One output chunk ``(time, band, y, x)``: ``slices`` are its ``(start, stop)`` per dim,
    ``entries`` the ``(time step, image indexes)`` that touch it. Each step is
    :func:`raster_core.api.render` on the chunk's window (the pixels of ``Raster.stack``)."""
    from raster_core.api import render

    (t0, t1), (b0, b1), (r0, r1), (c0, c1) = slices
    out = None
    for step, images in entries:
        def planner(i: int, path: str, sources: list[Any], step: int = step) -> Any:
            return file_plan(plan, step, i, path, sources)

        data, valid = render(plan.requests[step], images, (r0, r1, c0, c1), num_threads=num_threads,
                             file_plan=planner, fill=plan.fill_value)
        if t1 - t0 == 1 and b1 - b0 == data.shape[0] and data.dtype == plan.dtype:
            return data[np.newaxis]  # the chunk is this step's result (masked pixels filled)
        if out is None:
            out = np.full((t1 - t0, b1 - b0, r1 - r0, c1 - c0), plan.fill_value, dtype=plan.dtype)
        np.copyto(out[step - t0], data[b0:b1], where=valid[b0:b1], casting="unsafe")
    if out is None:
        out = np.full((t1 - t0, b1 - b0, r1 - r0, c1 - c0), plan.fill_value, dtype=plan.dtype)
    return out


# ======================================================================================
# footprints of the images on the output grid
# ======================================================================================
def _footprints(plan: LoadPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """``(boxes, steps, read_bytes, index)``: per image of every time step its footprint
    ``(col0, row0, col1, row1)`` on the output grid (:func:`raster_core.api._footprint_window`
    of its files, with the kernel's reach; the whole grid when in doubt), its time step, an
    estimate of the bytes its reads need, and ``(step, image)``. STAC items with ``proj:*``
    need no header."""
    from affine import Affine

    from raster_core.api import _footprint_window, _open
    from raster_core.crs import to_crs
    from raster_core.resampling import KERNEL_RADIUS
    from raster_core.scaling import numpy_dtype
    from raster_core.transform import WarpTransformer

    gb = plan.geobox
    dst_shape = (gb.height, gb.width)
    boxes: list[tuple[float, float, float, float]] = []
    steps: list[int] = []
    nbytes: list[float] = []
    index: list[tuple[int, int]] = []
    crs_cache: dict[str, Any] = {}
    transformers: dict[int, tuple[Any, Any]] = {}  # id(CRS) -> (CRS kept alive, transformer of the grid)
    dst_area = abs(gb.transform.a * gb.transform.e - gb.transform.b * gb.transform.d)
    for step, req in enumerate(plan.requests):
        halo = KERNEL_RADIUS.get(req.resampler, 0) + 2  # source pixels around the image a kernel reaches
        for i, srcs in enumerate(req.plan.sources):
            box = None
            read = 0.0
            image = req.refs[i].image
            for path in dict.fromkeys(s.path for s in srcs):
                if image.crs and image.geotransform and image.shape:  # STAC proj:*: no header to read
                    if image.crs not in crs_cache:
                        crs_cache[image.crs] = to_crs(image.crs)
                    src_crs = crs_cache[image.crs]
                    (h, w), t = image.shape, Affine.from_gdal(*image.geotransform)
                else:
                    ds = _open(path)
                    src_crs, w, h, t = ds.crs, ds.width, ds.height, ds.transform
                if id(src_crs) not in transformers:
                    transformers[id(src_crs)] = (src_crs, WarpTransformer(src_crs, t, gb.crs, gb.transform))
                transformer = transformers[id(src_crs)][1].for_source_transform(t)
                r0, r1, c0, c1 = _footprint_window(transformer, (h, w), dst_shape, halo=halo)
                fb = (float(c0), float(r0), float(c1), float(r1))
                box = fb if box is None else (min(box[0], fb[0]), min(box[1], fb[1]),
                                              max(box[2], fb[2]), max(box[3], fb[3]))
                # bytes: the output area covered, in source pixels, times the bands read
                src_area = abs(t.a * t.e - t.b * t.d)
                cover = max(0.0, fb[2] - fb[0]) * max(0.0, fb[3] - fb[1])
                px_src = min(float(w) * h, cover * dst_area / src_area) if src_area > 0 and transformer.same_crs \
                    else min(float(w) * h, cover)
                read += px_src * sum(numpy_dtype(s.band.data_type).itemsize for s in srcs if s.path == path)
            assert box is not None
            if box[2] <= box[0] or box[3] <= box[1]:
                continue  # outside the output grid
            boxes.append(box)
            steps.append(step)
            nbytes.append(read)
            index.append((step, i))
    return (np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(steps, dtype=np.int64),
            np.asarray(nbytes, dtype=np.float64), index)


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
        rst = Raster(cat, max_bytes=raster.max_bytes, max_pixels=raster.max_pixels, num_threads=raster.num_threads)
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
    times = np.array([min((t for _, _, t in g if not np.isnat(t)), default=np.datetime64("NaT", "ns"))
                      for g in groups], dtype="datetime64[ns]")
    plan = LoadPlan(tuple(requests), names, dtype, _fill_value(fill_value, dtype), _token())
    return plan, times, max_bytes


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
    from raster_core._dask import chunk_bounds, sources_by_chunk

    boxes, steps, nbytes, index = _footprints(plan)
    by_chunk = sources_by_chunk(boxes, steps, (chunks[0], chunks[2], chunks[3]))
    yb, xb = chunk_bounds(chunks[2]), chunk_bounds(chunks[3])
    tasks: dict[tuple[int, ...], tuple[Any, ...]] = {}
    counts = []
    read = 0.0
    for (t, y, x), srcs in by_chunk.items():
        entries: dict[int, list[int]] = {}
        for s in srcs:
            step, image = index[s]
            entries.setdefault(step, []).append(image)
            b = boxes[s]
            cover = (max(0.0, min(b[2], xb[x + 1]) - max(b[0], xb[x]))
                     * max(0.0, min(b[3], yb[y + 1]) - max(b[1], yb[y])))
            area = max(1e-9, (b[2] - b[0]) * (b[3] - b[1]))
            read += nbytes[s] * cover / area
        tasks[(t, 0, y, x)] = (tuple((k, tuple(v)) for k, v in sorted(entries.items())),)
        counts.append(len(srcs))
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
