"""The Raster API: ``ndarray``, ``stack`` and ``raster`` over local images.

This module is glue. The pieces it composes are:

* :mod:`raster_core.catalog` / :mod:`raster_core.bands`: image ids (catalog ids or GeoTIFF
  paths) -> files and band indexes (:func:`~raster_core.bands.resolve_bands`);
* :mod:`raster_core.grid`: the output grid with gdalwarp's rules (``output_geobox``);
* :mod:`raster_core.dltile`: DLTile keys -> grids;
* :mod:`raster_core.io` + :mod:`raster_core.warp`: read only the source window (and the
  overview gdalwarp would use) and warp it with GDAL 3.10's semantics;
* :mod:`raster_core.cutline`: cutlines as source-pixel masks;
* :mod:`raster_core.mosaic`: painter's mosaic and the alpha rules;
* :mod:`raster_core.scaling`: ``scales``/``scaling``/``data_type``;
* :mod:`raster_core.metadata`: the metadata dict.

Examples
--------
>>> import raster_core
>>> arr, meta = raster_core.ndarray("data/RGB.byte.tif", bands=["red", "green", "blue"],
...                                 resolution=600)          # doctest: +SKIP
>>> arr.shape, meta["size"]                                   # doctest: +SKIP
((359, 395, 3), [395, 359])
"""

from __future__ import annotations

import math
import mmap
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np

from raster_core._parallel import on_block, resolve_num_threads, run_blocks
from raster_core._progress import Progress, make_progress
from raster_core.bands import BandPlan, BandSource, normalize_band_names, resolve_bands
from raster_core.catalog import Catalog, ImageRef, default_catalog
from raster_core.errors import (
    InvalidParameterError,
    OutputTooLargeError,
    RasterWriteError,
    UnsupportedFeatureError,
)
from raster_core.limits import DEFAULT_MAX_BYTES, check_bytes, check_max_bytes, check_output_crs
from raster_core.metadata import build_metadata
from raster_core.mosaic import Mosaic, TopDownMosaic
from raster_core.scaling import (
    apply_scales,
    cast_like_gdal,
    multiproduct_scaling_parameters,
    normalize_scales,
    numpy_dtype,
    parse_data_type,
)

__all__ = ["Raster", "ndarray", "stack", "raster", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS"]

#: The former default limit on output rows x cols x bands; ``Raster(max_pixels=...)`` still
#: sets such a limit (in addition to the byte budget ``max_bytes``).
DEFAULT_MAX_PIXELS = 1 << 30

_ORDERS = ("image", "gdal")


class _DefaultType(str):
    """The client's ``stack(data_type="UInt16")`` default, told apart from the same value
    given explicitly (only the default warns when it changes the values)."""


_STACK_DEFAULT_TYPE = _DefaultType("UInt16")
_FORMATS = {"GTIFF": ".tif", "PNG": ".png", "JPEG": ".jpeg"}
# the Raster service's wire names, accepted as aliases (the guide uses two of them)
_ALIASES = {"outputBounds": "bounds", "outputBoundsSRS": "bounds_srs", "outsize": "dimensions",
            "targetAlignedPixels": "align_pixels", "resampleAlg": "resampler", "ot": "data_type"}
_PASS_THROUGH = ("mask_nodata", "mask_alpha", "drop_alpha")


@dataclass(frozen=True)
class _Request:
    """A validated ndarray request (picklable; nothing opened yet)."""

    refs: tuple[ImageRef, ...]
    plan: BandPlan
    geobox: Any
    scales: Any
    data_type: str
    resampler: str
    cutline: Any
    cutline_all_touched: bool
    mask_nodata: bool
    mask_alpha: bool
    drop_alpha: bool
    explicit_grid: bool = False  # extent and resolution/size fixed by the caller (gdalwarp -te with -tr/-ts)
    cutline_srs: str = "EPSG:4326"  # CRS of ``cutline`` (WKT, or lon/lat)
    reference_paths: bool = False  # Raster(reference_paths=True): every image warped over the whole output


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _dltile_geobox(dltile: Any) -> Any:
    from raster_core.dltile import DLTile
    from raster_core.grid import GeoBox

    if isinstance(dltile, DLTile):
        tile = dltile
    else:
        key = dltile
        if isinstance(dltile, Mapping):
            try:
                key = dltile["properties"]["key"]
            except (KeyError, TypeError):
                raise InvalidParameterError("a dltile dict must have ['properties']['key']") from None
        tile = DLTile.from_key(key)
    p = tile.geobox_params()
    return GeoBox(p["crs"], p["transform"], p["width"], p["height"])


class Raster:
    """The Descartes Labs Raster client, on local files.

    Parameters
    ----------
    catalog
        A :class:`~raster_core.catalog.Catalog`, a path to one, or ``None`` for the default
        catalog (``$RASTER_CORE_CATALOG``, else GeoTIFF paths only).
    max_bytes
        Memory budget of one call, in bytes: its output plus its working buffers (mosaic,
        one image's layer, validity masks). Larger requests raise
        :class:`~raster_core.errors.OutputTooLargeError` before any pixel is read or any
        array of the output's size is built. Default :data:`DEFAULT_MAX_BYTES` (8 GiB,
        ``$RASTER_CORE_MAX_BYTES`` overrides it).
    max_pixels
        Optional extra limit on output rows x cols x bands (the former limit; kept for
        compatibility).
    num_threads
        Threads for reading, warping and scaling (``None`` = every core).
    reference_paths
        ``True`` turns off the shortcuts that give the same arrays faster (an identical grid
        read by a copy, each image warped into the destination window its footprint covers
        only, the mask rules applied on the painted windows only): every image is warped over
        the whole output. Tests compare both; users have no reason to set it.

    Examples
    --------
    >>> r = Raster("data/catalog")                                          # doctest: +SKIP
    >>> arr, meta = r.ndarray("landsat7-rgb:RGB.byte", bands=["red", "green", "blue", "alpha"],
    ...                       resolution=1200, scales=[[0, 255]] * 3 + [[0, 1]], data_type="Byte")  # doctest: +SKIP
    >>> arr.shape                                                           # doctest: +SKIP
    (180, 198, 4)
    """

    def __init__(self, catalog: Catalog | str | os.PathLike[str] | None = None, *,
                 max_bytes: int | None = None, max_pixels: int | None = None,
                 num_threads: int | None = None, reference_paths: bool = False) -> None:
        if catalog is None:
            self.catalog = default_catalog()
        elif isinstance(catalog, Catalog):
            self.catalog = catalog
        else:
            self.catalog = Catalog.open(catalog)
        if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int)
                                       or max_pixels < 1):
            raise InvalidParameterError(f"max_pixels must be a positive integer, got {max_pixels!r}")
        self.max_bytes = check_max_bytes(max_bytes)
        self.max_pixels = max_pixels
        self.num_threads = num_threads
        self.reference_paths = _check_bool(reference_paths, "reference_paths")

    # ------------------------------------------------------------------ planning
    def _request(
        self,
        inputs: Any,
        bands: Any,
        *,
        scales: Any,
        data_type: Any,
        srs: Any,
        resolution: Any,
        dimensions: Any,
        cutline: Any,
        bounds: Any,
        bounds_srs: Any,
        align_pixels: Any,
        resampler: Any,
        dltile: Any,
        processing_level: Any,
        cutline_all_touched: Any,
        scaling: Any,
        extra: Mapping[str, Any],
        cutline_srs: Any = None,
        grid: Any = None,
    ) -> _Request:
        from raster_core.grid import output_geobox
        from raster_core.resampling import resampling_name

        # -- cheap validation first (no file is opened before these pass)
        names = normalize_band_names(bands)
        data_type = parse_data_type(data_type)
        resampler = resampling_name("near" if resampler is None else resampler)
        align_pixels = _check_bool(align_pixels, "align_pixels")
        cutline_all_touched = _check_bool(cutline_all_touched, "cutline_all_touched")
        if scales is not None and scaling is not None:
            raise InvalidParameterError("give either scales or scaling, not both")
        if scales is not None:
            normalize_scales(scales, len(names))
        if processing_level is not None and not isinstance(processing_level, str):
            raise InvalidParameterError(f"processing_level must be a string, got {processing_level!r}")
        geom = None
        cut_srs = "EPSG:4326"  # prepare_cutline gives lon/lat unless cutline_srs is given
        if cutline_srs is not None:
            from raster_core.crs import to_crs

            cut_srs = to_crs(cutline_srs, name="cutline_srs").to_wkt()
        if cutline is not None:
            from raster_core.cutline import prepare_cutline

            geom = prepare_cutline(cutline, cutline_srs)
        mask_nodata = _check_bool(extra.get("mask_nodata", True), "mask_nodata")
        mask_alpha = extra.get("mask_alpha")
        drop_alpha = _check_bool(extra.get("drop_alpha", False), "drop_alpha")
        tile_box = _dltile_geobox(dltile) if dltile is not None else None
        if srs is not None:
            check_output_crs(srs)

        # -- images and bands
        refs = tuple(self.catalog.resolve_many(inputs))
        plan = resolve_bands(list(refs), names)
        if mask_alpha is None:
            mask_alpha = plan.alpha_last
        mask_alpha = _check_bool(mask_alpha, "mask_alpha")
        if drop_alpha and not plan.alpha_last:
            raise InvalidParameterError("drop_alpha needs an alpha band as the last band")

        # -- scales and output type
        if scaling is not None:
            products: dict[str | None, dict[str, Any]] = {}
            for ref, srcs in zip(refs, plan.sources, strict=True):
                products.setdefault(ref.product.id, {
                    n: {**s.band.scaling_properties(), "name": n} for n, s in zip(names, srcs, strict=True)})
            scales, data_type = multiproduct_scaling_parameters(
                products, names, scaling, data_type, processing_level=processing_level)
        if processing_level is not None:
            _check_processing_level(plan, processing_level)
        norm_scales = normalize_scales(scales, len(names))
        out_type = data_type or plan.data_type

        # -- output grid (its size checked against the budget before any array of it is built)
        work_dt, out_dt = numpy_dtype(plan.data_type), numpy_dtype(out_type)
        if tile_box is not None:
            geobox = tile_box
        elif grid is not None:  # already made from these parameters (the time steps of a load)
            geobox = grid
        else:
            if dimensions is not None and not isinstance(dimensions, (str, bytes)):
                try:
                    w, h = (int(v) for v in dimensions)
                except (TypeError, ValueError, OverflowError):
                    pass  # output_geobox raises its own error for malformed dimensions
                else:
                    self._check_budget(h, w, len(names), work_dt, out_dt)
            sources = []
            for srcs in plan.sources:
                for path in dict.fromkeys(s.path for s in srcs):
                    sources.append(_open(path))
            grid_args = dict(
                srs=srs, resolution=resolution, dimensions=dimensions, bounds=bounds, bounds_srs=bounds_srs,
                align_pixels=align_pixels, cutline=geom, cutline_srs=cut_srs, cutline_all_touched=cutline_all_touched)
            if resolution is not None and dimensions is None:
                # gdalwarp's blank-border trimming walks the output's edges (arrays of its width):
                # size the untrimmed grid first (trimming removes a few rows/cols, never half)
                try:
                    rough = output_geobox(sources, remove_blank_borders=False, **grid_args)
                except OverflowError:
                    raise OutputTooLargeError(
                        f"resolution {resolution!r} gives an output grid too large to represent") from None
                self._check_budget(rough.height, rough.width, len(names), work_dt, out_dt, slack=2)
            geobox = output_geobox(
                sources, srs=srs, resolution=resolution, dimensions=dimensions, bounds=bounds,
                bounds_srs=bounds_srs, align_pixels=align_pixels, cutline=geom, cutline_srs=cut_srs,
                cutline_all_touched=cutline_all_touched)
        self._check_budget(geobox.height, geobox.width, len(names), work_dt, out_dt)
        total = geobox.width * geobox.height * len(names)
        if self.max_pixels is not None and total > self.max_pixels:
            raise OutputTooLargeError(
                f"the output would have {geobox.height} x {geobox.width} x {len(names)} = {total} values, over the "
                f"limit of {self.max_pixels} (Raster(max_pixels=...)); use a coarser resolution or smaller bounds")
        explicit_grid = tile_box is not None or (
            bounds is not None and (resolution is not None or dimensions is not None))
        return _Request(refs, plan, geobox, norm_scales, out_type, resampler, geom, cutline_all_touched,
                        mask_nodata, mask_alpha, drop_alpha, explicit_grid, cut_srs, self.reference_paths)

    def _check_budget(self, height: int, width: int, nb: int, work_dt: np.dtype, out_dt: np.dtype, *,
                      slack: int = 1) -> None:
        """Refuse an output whose buffers exceed ``max_bytes`` (x ``slack`` for a rough size)."""
        n_bytes = int(height) * int(width) * nb * _bytes_per_value(work_dt, out_dt)
        if n_bytes <= self.max_bytes * slack:
            return
        check_bytes(n_bytes, self.max_bytes,
                    what=f"an output of {height} x {width} x {nb} {out_dt.name} values with its working buffers",
                    hint="use a coarser resolution or smaller bounds, or raise Raster(max_bytes=...)")

    # ------------------------------------------------------------------ execution
    def _execute(self, req: _Request, num_threads: int | None = None,
                 progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Warp, mosaic, mask and scale: ``(data, valid)`` both (bands, rows, cols).

        Each image is painted into the output through its destination window only (the
        rows/cols its footprint covers), so the peak memory is about the output plus one
        image's window, whatever the number of images.
        """
        threads = self.num_threads if num_threads is None else num_threads
        return render(req, num_threads=threads, progress=progress)

    # ------------------------------------------------------------------ public methods
    def ndarray(
        self,
        inputs: str | Sequence[str],
        bands: str | Sequence[str] | None = None,
        *,
        scales: Sequence[Any] | None = None,
        data_type: str | None = None,
        srs: Any = None,
        resolution: float | None = None,
        dimensions: tuple[int, int] | None = None,
        cutline: Any = None,
        bounds: tuple[float, float, float, float] | None = None,
        bounds_srs: Any = None,
        align_pixels: bool = False,
        resampler: str | None = "near",
        order: str = "image",
        dltile: Any = None,
        processing_level: str | None = None,
        masked: bool = True,
        progress: bool | None = None,
        cutline_all_touched: bool = False,
        scaling: Any = None,
        cutline_srs: Any = None,
        **pass_through_params: Any,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Read, warp, mosaic and scale images into an array (the guide's ``ndarray``).

        Parameters
        ----------
        inputs
            One image id or a list of ids (mosaicked in order, last on top). An id is a
            catalog id or a path to a GeoTIFF.
        bands
            Band names, in output order (``"red"``, ``"1"``, ``"alpha"``...). When the last
            band is ``alpha``, images combine only where their alpha is 1 (spec §2.4).
        scales
            Per band ``None``, ``(s0, s1)`` (-> 0..255) or ``(s0, s1, d0, d1)``.
        data_type
            ``Byte, UInt16, Int16, UInt32, Int32, Float32, Float64``; default: the common
            type of the requested bands.
        srs, resolution, dimensions, bounds, bounds_srs, align_pixels
            The output grid (gdalwarp ``-t_srs -tr -ts -te -te_srs -tap``).
        cutline
            GeoJSON or WKT polygon; pixels outside are masked. Its coordinates are in
            ``cutline_srs``, else in the CRS of a GeoJSON ``crs`` member, else lon/lat.
        cutline_srs
            CRS of the cutline's coordinates (gdalwarp ``-cutline_srs``), e.g. ``"EPSG:32618"``.
        resampler
            ``near, bilinear, cubic, cubicspline, lanczos, average, mode, max, min, med, q1, q3``.
        order
            ``"image"`` -> (rows, cols, bands), ``"gdal"`` -> (bands, rows, cols).
        dltile
            A DLTile key, dict or :class:`~raster_core.dltile.DLTile`: sets bounds,
            resolution and srs.
        processing_level
            Selects catalog processing levels for ``scaling``.
        masked
            Return a :class:`numpy.ma.MaskedArray` (True = no data).
        progress
            ``True``: report progress per image and per block of its warps (a tqdm bar when
            tqdm is installed, else a line on stderr).
        cutline_all_touched
            GDAL ``CUTLINE_ALL_TOUCHED``.
        scaling
            Scaling mode(s) from the catalog's band ranges (spec §2.9), instead of ``scales``.
        **pass_through_params
            ``mask_nodata``, ``mask_alpha``, ``drop_alpha``, and the service's names
            ``outputBounds``/``outputBoundsSRS``.

        Returns
        -------
        (array, metadata)

        Raises
        ------
        NotFoundError, BandError, InvalidParameterError, CRSError, OutputTooLargeError,
        RasterReadError
            Before any pixel work for every bad input.
        """
        args = _merge_aliases(locals(), pass_through_params)
        order = _check_order(args["order"])
        masked = _check_bool(args["masked"], "masked")
        req = self._request_from(args)
        out, valid = self._execute_with_progress(req, args["progress"], "ndarray")
        ids = [r.id for r in req.refs]
        return self._finish(req, out, valid, ids, order=order, masked=masked)

    def _execute_with_progress(self, req: _Request, progress: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
        reporter = make_progress(progress, len(req.plan.sources), what)
        try:
            return self._execute(req, progress=reporter)
        finally:
            if reporter is not None:
                reporter.close()

    def _request_from(self, args: Mapping[str, Any]) -> _Request:
        return self._request(
            args["inputs"], args["bands"], scales=args["scales"], data_type=args["data_type"], srs=args["srs"],
            resolution=args["resolution"], dimensions=args["dimensions"], cutline=args["cutline"],
            bounds=args["bounds"], bounds_srs=args["bounds_srs"], align_pixels=args["align_pixels"],
            resampler=args["resampler"], dltile=args["dltile"], processing_level=args["processing_level"],
            cutline_all_touched=args["cutline_all_touched"], scaling=args["scaling"], extra=args["extra"],
            cutline_srs=args.get("cutline_srs"), grid=args.get("grid"))

    def _finish(self, req: _Request, out: np.ndarray, valid: np.ndarray, ids: list[str], *, order: str,
                masked: bool) -> tuple[np.ndarray, dict[str, Any]]:
        plan = req.plan
        bands, names = list(plan.bands), list(plan.names)
        if req.drop_alpha:
            out, valid, bands, names = out[:-1], valid[:-1], bands[:-1], names[:-1]
        gb = req.geobox
        meta = build_metadata(gb.crs, gb.transform, gb.width, gb.height, bands=bands, band_names=names,
                              data_type=req.data_type, ids=ids, alpha_last=plan.alpha_last and not req.drop_alpha)
        acquired = req.refs[0].image.acquired if req.refs else None
        if acquired:
            meta["acquired"] = acquired
        if masked:
            # ``valid`` is ours (from _execute) and not used again: invert it in place as the mask
            mask = np.logical_not(valid, out=valid) if valid.flags.writeable else ~valid
            arr: np.ndarray = np.ma.MaskedArray(out, mask=mask)
        else:
            arr = out
        if order == "image":
            arr = arr.transpose(1, 2, 0)
        return arr, meta

    def stack(
        self,
        inputs: Sequence[str | Sequence[str]],
        bands: str | Sequence[str] | None = None,
        *,
        scales: Sequence[Any] | None = None,
        data_type: str | None = _STACK_DEFAULT_TYPE,
        srs: Any = None,
        resolution: float | None = None,
        dimensions: tuple[int, int] | None = None,
        cutline: Any = None,
        bounds: tuple[float, float, float, float] | None = None,
        bounds_srs: Any = None,
        align_pixels: bool = False,
        resampler: str | None = "near",
        order: str = "image",
        dltile: Any = None,
        processing_level: str | None = None,
        max_workers: int | None = None,
        masked: bool = True,
        progress: bool | None = None,
        cutline_all_touched: bool = False,
        scaling: Any = None,
        cutline_srs: Any = None,
        **pass_through_params: Any,
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """One ``ndarray`` layer per input (a sub-list is mosaicked into one layer) on a fixed
        grid: ``(images, rows, cols, bands)`` (``order="image"``) or ``(images, bands, rows, cols)``.

        Without ``dltile``, ``resolution`` or ``dimensions``, ``srs`` and ``bounds`` are
        required (the client's three ValueErrors). ``data_type`` defaults to ``"UInt16"`` as in
        the client; when that default rounds or clips the bands' native type (Int16, Float32...)
        and no ``scales``/``scaling`` is given, a ``UserWarning`` says so (once per call).
        Layers are computed in ``max_workers``
        threads; ``progress=True`` reports each finished layer (a tqdm bar when tqdm is
        installed, else a line on stderr).

        Returns
        -------
        (array4d, [metadata per input])
        """
        # internal: a list that receives each layer's request (the CLI writes files from them)
        layer_requests: list[_Request] | None = pass_through_params.pop("_layer_requests", None)
        args = _merge_aliases(locals(), pass_through_params)
        del args["layer_requests"]
        if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
            raise InvalidParameterError(f"Inputs must be a Iterable, instead got '{type(inputs).__name__}'")
        items = [list(x) if isinstance(x, (list, tuple)) else x for x in inputs]
        if not items:
            raise InvalidParameterError("stack needs at least one input")
        if args["dltile"] is None:
            if args["resolution"] is None and args["dimensions"] is None:
                raise InvalidParameterError("Must set `resolution` or `dimensions`")
            if args["srs"] is None:
                raise InvalidParameterError("Must set `srs`")
            if args["bounds"] is None:
                raise InvalidParameterError("Must set `bounds`")
        order = _check_order(args["order"])
        masked = _check_bool(args["masked"], "masked")
        if max_workers is not None and (isinstance(max_workers, bool) or not isinstance(max_workers, int)
                                        or max_workers < 1):
            raise InvalidParameterError(f"max_workers must be a positive integer or None, got {max_workers!r}")
        # plan every layer first: every bad input fails before any pixel work
        reqs = [self._request_from({**args, "inputs": item}) for item in items]
        if layer_requests is not None:
            layer_requests[:] = reqs
        if data_type is _STACK_DEFAULT_TYPE and scales is None and scaling is None:
            _warn_default_stack_type({r.plan.data_type for r in reqs})
        shapes = {(r.geobox.height, r.geobox.width) for r in reqs}
        if len(shapes) != 1:
            raise InvalidParameterError(f"stack layers have different shapes {sorted(shapes)}")
        n_total = sum(r.geobox.width * r.geobox.height * len(r.plan.names) for r in reqs)
        if self.max_pixels is not None and n_total > self.max_pixels:
            raise OutputTooLargeError(f"the stack would have {n_total} values, over the limit of {self.max_pixels}")
        first = reqs[0]
        workers_planned = min(len(reqs), max_workers or resolve_num_threads(self.num_threads))
        layer = first.geobox.width * first.geobox.height * len(first.plan.names)
        out_item = numpy_dtype(first.data_type).itemsize
        check_bytes(n_total * (out_item + 1) + workers_planned * layer * _bytes_per_value(
                        numpy_dtype(first.plan.data_type), numpy_dtype(first.data_type)), self.max_bytes,
                    what=f"a stack of {len(reqs)} layers of {first.geobox.height} x {first.geobox.width} x "
                         f"{len(first.plan.names)} values with {workers_planned} layers in progress",
                    hint="use a coarser resolution, smaller bounds or fewer max_workers, or raise "
                         "Raster(max_bytes=...)")
        nb = len(first.plan.names) - (1 if first.drop_alpha else 0)
        shape = (len(reqs), first.geobox.height, first.geobox.width, nb) if order == "image" else \
            (len(reqs), nb, first.geobox.height, first.geobox.width)
        dt = numpy_dtype(first.data_type)
        out = np.ma.masked_all(shape, dtype=dt) if masked else np.zeros(shape, dtype=dt)
        metas: list[dict[str, Any] | None] = [None] * len(reqs)
        lock = threading.Lock()
        bar = make_progress(progress, len(reqs), "stack")

        total_threads = resolve_num_threads(self.num_threads)
        workers = min(len(reqs), max_workers or total_threads)
        # layers in parallel run on raster_core's persistent pool; their own reads, warps and
        # scaling then run single-threaded (nested pool calls run inline), so the process
        # uses ``workers`` threads, not ``workers`` x ``num_threads``
        inner_threads = None if workers <= 1 else 1

        def one(i: int) -> None:
            data, valid = self._execute(reqs[i], num_threads=inner_threads)
            arr, meta = self._finish(reqs[i], data, valid, [r.id for r in reqs[i].refs], order=order, masked=masked)
            with lock:
                out[i] = arr
                metas[i] = meta
                if bar is not None:
                    bar.advance()

        try:
            if workers <= 1:
                for i in range(len(reqs)):
                    one(i)
            else:
                run_blocks(lambda a, b: one(a), [(i, i + 1) for i in range(len(reqs))], num_threads=workers)
        finally:
            if bar is not None:
                bar.close()
        return out, metas  # type: ignore[return-value]

    def load(self, items: Any, bands: Any = None, **kwargs: Any) -> Any:
        """:func:`raster_core.loader.load` on this catalog: a ``(time, band, y, x)`` DataArray,
        eager or on Dask (needs the ``xarray`` extra)."""
        from raster_core.loader import load

        return load(items, bands, _raster=self, **kwargs)

    def raster(
        self,
        inputs: str | Sequence[str],
        bands: str | Sequence[str] | None = None,
        *,
        scales: Sequence[Any] | None = None,
        data_type: str | None = None,
        output_format: str = "GTiff",
        srs: Any = None,
        dimensions: tuple[int, int] | None = None,
        resolution: float | None = None,
        bounds: tuple[float, float, float, float] | None = None,
        bounds_srs: Any = None,
        cutline: Any = None,
        align_pixels: bool = False,
        resampler: str | None = "near",
        dltile: Any = None,
        processing_level: str | None = None,
        outfile_basename: str | None = None,
        progress: bool | None = None,
        nodata: float | None = None,
        cutline_all_touched: bool = False,
        scaling: Any = None,
        cutline_srs: Any = None,
        **pass_through_params: Any,
    ) -> tuple[str, dict[str, Any]]:
        """Like :meth:`ndarray`, written to a file: ``(filename, metadata)``.

        ``output_format``: ``GTiff`` (tiled, DEFLATE, GeoKeys, ``nodata`` written where masked
        and set as the NoData tag), ``PNG`` or ``JPEG`` (Byte bands only). The file is
        ``outfile_basename`` (default: the first id) plus ``.tif``/``.png``/``.jpeg``, written
        atomically.

        Raises
        ------
        InvalidParameterError
            ``"output_format must be one of GTiff, JPEG, PNG"``, or non-Byte PNG/JPEG.
        """
        args = _merge_aliases(locals(), pass_through_params)
        fmt = str(output_format).upper() if isinstance(output_format, str) else None
        if fmt not in _FORMATS:
            raise InvalidParameterError("output_format must be one of GTiff, JPEG, PNG")
        if nodata is not None and (isinstance(nodata, bool) or not isinstance(nodata, (int, float))
                                   or (isinstance(nodata, float) and math.isinf(nodata))):
            raise InvalidParameterError(f"nodata must be a number, got {nodata!r}")
        req = self._request_from(args)
        if fmt in ("PNG", "JPEG"):
            if req.data_type != "Byte":
                raise InvalidParameterError(
                    f"{output_format} needs Byte bands (data_type='Byte' with scales), got {req.data_type}")
            n_out = len(req.plan.names) - (1 if req.drop_alpha else 0)
            allowed = (1, 2, 3, 4) if fmt == "PNG" else (1, 3)
            if n_out not in allowed:
                need = " or ".join(map(str, allowed))
                raise InvalidParameterError(f"{output_format} needs {need} bands, got {n_out}")
        ids = [r.id for r in req.refs]
        basename = outfile_basename if outfile_basename is not None else _default_basename(ids[0], req.plan.names)
        if not isinstance(basename, str) or not basename:
            raise InvalidParameterError(f"outfile_basename must be a non-empty string, got {basename!r}")
        filename = basename + _FORMATS[fmt]
        out, valid = self._execute_with_progress(req, args["progress"], "raster")
        arr, meta = self._finish(req, out, valid, ids, order="gdal", masked=True)
        data = np.ma.getdata(arr).copy()
        nodata = bands_for_file(req, data, np.ma.getmaskarray(arr), nodata)
        if nodata is not None:
            for b in meta["bands"]:
                b["noDataValue"] = float(nodata)
        meta["id"] = ids[0]
        colorinterp = [b["colorInterpretation"].lower() for b in meta["bands"]]
        try:
            if fmt == "GTIFF":
                from raster_core.io import write_geotiff

                write_geotiff(filename, data, crs=req.geobox.crs, transform=req.geobox.transform, nodata=nodata,
                              colorinterp=colorinterp)
            else:
                from raster_core.io import write_image

                write_image(filename, data, format=fmt)
        except (RasterWriteError, InvalidParameterError, UnsupportedFeatureError):
            raise
        except OSError as exc:
            raise RasterWriteError(f"cannot write {filename!r}: {exc}") from None
        return filename, meta


# ======================================================================================
# helpers
# ======================================================================================


def _warn_default_stack_type(native_types: set[str]) -> None:
    """One UserWarning when the default UInt16 of ``stack`` rounds or clips a native type."""
    changed = sorted(t for t in native_types if t not in ("Byte", "UInt16"))
    if changed:
        import warnings

        warnings.warn(
            f"stack converts the bands' native type ({', '.join(changed)}) to its default data_type='UInt16', "
            "which rounds fractions and clips values outside 0..65535; pass data_type (e.g. "
            f"data_type={changed[0]!r}) or scales to choose", UserWarning, stacklevel=3)


def alpha_for_file(alpha: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """An alpha band as files carry it: the type's maximum (255 for Byte, 65535 for UInt16)
    where the API's 0/1 alpha is set and valid, else 0."""
    return np.where((alpha != 0) & ~masked, _alpha_max(alpha.dtype), 0).astype(alpha.dtype)


def bands_for_file(req: _Request, data: np.ndarray, mask: np.ndarray, nodata: float | None) -> float | None:
    """Make ``data`` ``(bands, rows, cols)`` of ``req`` what a written file carries (in place),
    and return the file's nodata.

    The nodata is ``nodata`` or, when ``None`` and no alpha band is written, gdalwarp's
    default (the source nodata the requested bands share, if it fits the type); it is
    written where ``mask`` is set and valid values equal to it move off it (GDAL's rule).
    An alpha band becomes GDAL's 0 / type maximum (arrays keep the API's 0/1).
    """
    alpha_out = req.plan.alpha_last and not req.drop_alpha
    if nodata is None and not alpha_out:  # with an alpha band, the alpha is the file's mask
        nodata = _carried_nodata(req, data.dtype)
    if nodata is not None:
        fill = cast_like_gdal(np.array([nodata], dtype=np.float64), data.dtype)[0]
        for b in range(data.shape[0]):
            _fill_nodata(data[b], mask[b], fill)
    if alpha_out:
        data[-1] = alpha_for_file(data[-1], mask[-1])
    return nodata


def _bytes_per_value(work_dt: np.dtype, out_dt: np.dtype) -> int:
    """Bytes one output value (row x col x band) costs at the peak of a call: the mosaic's
    working copy and validity, one image's layer and validity, the scaled output, its mask,
    and the copy a file write makes."""
    return 2 * (work_dt.itemsize + 1) + 2 * out_dt.itemsize + 1


def _carried_nodata(req: _Request, dtype: np.dtype) -> float | None:
    """gdalwarp's default output nodata: the source nodata, when every requested data band of
    every image has the same one and it is representable in the output type; else ``None``."""
    values = set()
    for srcs in req.plan.sources:
        for k, s in enumerate(srcs):
            if req.plan.alpha_last and k == len(srcs) - 1:
                continue
            if s.is_mask:
                return None
            values.add(s.band.nodata)
    if len(values) != 1:
        return None
    (nd,) = values
    if nd is None:
        return None
    nd = float(nd)
    if dtype.kind == "f":
        return nd if (math.isnan(nd) or float(dtype.type(nd)) == nd) else None
    info = np.iinfo(dtype)
    return nd if (nd == math.floor(nd) and info.min <= nd <= info.max) else None


def _fill_nodata(band: np.ndarray, masked: np.ndarray, fill: Any) -> None:
    """Write ``fill`` where ``masked`` and move valid values equal to it off it (GDAL's
    dst-nodata rule: one below, or one above at the type minimum; the next float for floats)."""
    if not (band.dtype.kind == "f" and math.isnan(float(fill))):
        hit = (band == fill) & ~masked
        if hit.any():
            if band.dtype.kind == "f":
                info_f = np.finfo(band.dtype)
                direction = band.dtype.type(-np.inf) if fill > info_f.min else band.dtype.type(np.inf)
                moved = np.nextafter(band.dtype.type(fill), direction)
            else:
                moved = fill - 1 if fill > np.iinfo(band.dtype).min else fill + 1
            band[hit] = moved
    band[masked] = fill


def _alpha_max(dtype: np.dtype) -> int:
    """The opaque alpha value GDAL and viewers expect for a band type."""
    return {"uint16": 65535, "int16": 32767}.get(dtype.name, 255)

_datasets: dict[tuple[str, int, int], Any] = {}  # in least recently used order
_datasets_lock = threading.Lock()


def _datasets_max() -> int:
    """How many files :func:`_open` keeps open (each holds a file descriptor and its parsed
    header): a quarter of the process's open-file limit, from 64 to 1024, so that a load
    of a few hundred files reopens none of them from one chunk or one compute to the next."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):  # no POSIX limits (Windows)
        return 64
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(64, min(1024, soft // 4))


_DATASETS_MAX = _datasets_max()


def _open(path: str) -> Any:
    """An open reader for ``path`` (cached while the file is unchanged; the 64 most recently
    used stay open) or URL (opened afresh: the reader's per-URL header cache makes that free,
    and drops a header whose object changed)."""
    from raster_core import io as rc_io
    from raster_core.io.sources import is_remote

    if is_remote(path):
        return rc_io.open(path)
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return rc_io.open(path)  # raises the reader's typed error
    with _datasets_lock:
        ds = _datasets.pop(key, None)
        if ds is not None:
            _datasets[key] = ds  # now the most recently used
    if ds is None or getattr(ds, "closed", False):
        ds = rc_io.open(path)
        with _datasets_lock:
            while len(_datasets) >= _DATASETS_MAX:
                del _datasets[next(iter(_datasets))]
            _datasets[key] = ds
    return ds


def _overview_level(ds: Any, geobox: Any, *, explicit_grid: bool) -> int:
    """gdalwarp's ``-ovr AUTO`` choice (``-1`` = full resolution).

    ``explicit_grid``: the caller fixed the output extent and its resolution or size
    (``bounds`` with ``resolution``/``dimensions``, or a DLTile), for which gdalwarp
    uses its corresponding-window rule instead of the suggested-output one.
    """
    count = getattr(ds, "overview_count", 0)
    if not count:
        return -1
    try:
        from raster_core.overviews import choose_overview_level
    except ImportError:  # pragma: no cover - overview selection not available
        return -1
    shapes = [ds.overview_shape(i) for i in range(count)]
    return int(choose_overview_level(ds.transform, (ds.height, ds.width), shapes, geobox, ds.crs,
                                     explicit_grid=explicit_grid))


Piece = tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]


def _translation_offset(src_tf: Any, dst_tf: Any) -> tuple[int, int] | None:
    """``(dx, dy)`` when the destination grid is the source grid shifted by whole pixels
    (GDAL's ``GDALTransformIsTranslationOnPixelBoundaries``): destination pixel ``(col, row)``
    is source pixel ``(col + dx, row + dy)``; else ``None``."""
    from raster_core.crs import gdal_geotransform
    from raster_core.transform import inv_geotransform

    s, d = gdal_geotransform(src_tf), gdal_geotransform(dst_tf)
    if not (s[1] == d[1] and s[2] == d[2] and s[4] == d[4] and s[5] == d[5]):
        return None
    si = inv_geotransform(s)
    x = si[0] + d[0] * si[1] + d[3] * si[2]
    y = si[3] + d[0] * si[4] + d[3] * si[5]
    if abs(x - round(x)) > 1e-6 or abs(y - round(y)) > 1e-6:
        return None
    return int(round(x)), int(round(y))


def _copy_is_exact(dtype: np.dtype, nodata: float | None) -> bool:
    """The warper's nearest copy writes the source values unchanged (no nodata collision
    shift, no working-type widening) for these types, and its nodata test is
    :func:`~raster_core.mosaic.nodata_valid`'s for a nodata that fits the type."""
    if nodata is None:
        return True
    if dtype.name not in ("uint8", "int16", "uint16", "float32", "float64"):
        return False
    if math.isnan(nodata):
        return dtype.kind == "f"
    if dtype.kind == "f":
        return math.isinf(nodata) or float(dtype.type(nodata)) == nodata
    info = np.iinfo(dtype)
    return nodata == math.floor(nodata) and info.min <= nodata <= info.max


def _footprint_samples() -> tuple[np.ndarray, np.ndarray]:
    """Points of the unit square: its edges (65 per side) and a 17 x 17 interior grid."""
    n = 65
    e = np.linspace(0.0, 1.0, n)
    g = np.linspace(0.0, 1.0, 17)
    gx, gy = np.meshgrid(g, g)
    return (np.concatenate([e, e, np.zeros(n), np.ones(n), gx.ravel()]),
            np.concatenate([np.zeros(n), np.ones(n), e, e, gy.ravel()]))


_FOOTPRINT_SAMPLES = _footprint_samples()
_CORNERS = (np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0]))


def _footprint_window(transformer: Any, src_size: tuple[int, int], dst_shape: tuple[int, int], *,
                      halo: float = 0.0) -> tuple[int, int, int, int]:
    """Destination rows/cols ``(row0, row1, col0, col1)`` that the source rectangle
    ``[0, w] x [0, h]`` of ``transformer`` can produce (a conservative bounding box),
    widened by ``halo`` source pixels.

    The rectangle's edges (densely) and interior are transformed source -> destination
    and padded for the approximate transformer's error; the whole grid is returned when
    a point fails to transform or a pole lies in the source (where a bounding box of
    samples would not be safe).
    """
    from raster_core.warp import _pole_points

    rows, cols = dst_shape
    whole = (0, rows, 0, cols)
    h, w = src_size
    t = transformer
    # same CRS: an affine map, whose bounding box is the corners'
    ux, uy = _CORNERS if t.same_crs else _FOOTPRINT_SAMPLES
    px, py, ok = t.transform_points(ux * w, uy * h, inverse=True)
    if not ok.all() or not (np.isfinite(px).all() and np.isfinite(py).all()):
        return whole
    if not t.same_crs:
        try:
            from raster_core.transform import apply_geotransform

            lon, lat = _pole_points(t.src_wkt)  # the poles, in the source CRS
            sx, sy = apply_geotransform(t.src_inv_gt, np.asarray(lon), np.asarray(lat))
            inside = np.isfinite(sx) & np.isfinite(sy) & (sx >= -1) & (sx <= w + 1) & (sy >= -1) & (sy <= h + 1)
            if inside.any():
                return whole
        except Exception:  # noqa: BLE001 - any doubt: the whole grid is always correct
            return whole
    # dst pixels per src pixel (for the approximate transformer's 0.125 source-pixel error)
    ratio = max(1.0, (px.max() - px.min()) / max(w, 1), (py.max() - py.min()) / max(h, 1))
    pad = 2 + int(math.ceil(0.25 * ratio)) + int(math.ceil(halo * ratio))
    c0 = max(0, int(math.floor(px.min())) - pad)
    c1 = min(cols, int(math.ceil(px.max())) + pad)
    r0 = max(0, int(math.floor(py.min())) - pad)
    r1 = min(rows, int(math.ceil(py.max())) + pad)
    if c1 <= c0 or r1 <= r0:
        return (0, 0, 0, 0)
    return (r0, r1, c0, c1)


@dataclass(frozen=True)
class FilePlan:
    """How the requested bands of one file reach the output grid: everything decided from
    the grids and the file's header, before any pixel is read (picklable). Made by
    :func:`plan_file`, run by :func:`warp_file` for the whole grid or any window of it.

    Attributes
    ----------
    path, sources
        The file and the requested bands it gives (request order).
    overview
        The overview level read (``None``: full resolution); ``src_transform`` and
        ``src_shape`` are its grid.
    nodata
        The file's nodata (``None`` when no data band is read).
    need_file_mask
        Whether the file's GDAL mask is read (internal mask or alpha; for alpha-only
        requests the nodata of every band).
    dst_window
        ``(row0, row1, col0, col1)``: the output rows/cols the file can produce.
    copy_offset
        ``(dx, dy)`` when the output grid is the file's grid shifted by whole pixels and
        the file is copied (output pixel ``(col, row)`` = source ``(col + dx, row + dy)``).
    read_window
        Otherwise ``(col0, row0, width, height)``: the source window of the whole grid's
        warp; ``warp`` plans the warp of that window (its source coordinates start at
        the window's origin, and its kernel scale is the whole source's).
    """

    path: str
    sources: tuple[BandSource, ...]
    overview: int | None
    src_transform: Any
    src_shape: tuple[int, int]
    nodata: float | None
    need_file_mask: bool
    dst_window: tuple[int, int, int, int]
    copy_offset: tuple[int, int] | None = None
    read_window: tuple[int, int, int, int] | None = None
    warp: Any = None


def plan_file(path: str, sources: Sequence[BandSource], gb: Any, req: _Request) -> FilePlan | None:
    """Plan the bands ``sources`` of file ``path`` onto the grid ``gb`` of ``req`` (overview,
    source window, kernel, destination window); ``None`` = nothing reaches the grid."""
    from affine import Affine

    from raster_core.transform import WarpTransformer
    from raster_core.warp import plan_warp

    ds = _open(path)
    level = _overview_level(ds, gb, explicit_grid=req.explicit_grid)
    if level >= 0:
        src_tf, (src_h, src_w) = ds.overview_transform(level), ds.overview_shape(level)
    else:
        src_tf, src_h, src_w = ds.transform, ds.height, ds.width
    data_idx = [s.index for s in sources if s.index is not None]
    nodata = None if not data_idx or ds.nodata is None else float(ds.nodata)
    flags = ds.mask_flags[0] if ds.count else frozenset()
    base = dict(path=path, sources=tuple(sources), overview=level if level >= 0 else None, src_transform=src_tf,
                src_shape=(src_h, src_w), nodata=nodata, need_file_mask="per_dataset" in flags or not data_idx)

    # --- identical grids: GDAL's warper degenerates to a copy (nearest on a whole-pixel
    # translation) for every resampler; read straight into the output window instead
    reprojects = WarpTransformer(ds.crs, src_tf, gb.crs, gb.transform).has_reprojection
    offset = None if reprojects else _translation_offset(src_tf, gb.transform)
    # an identical grid (same CRS, same pixel size, integer-pixel offset) is a windowed read +
    # copy: GDAL's warper forces nearest there, a copy
    if not req.reference_paths and offset is not None and (not data_idx or _copy_is_exact(np.dtype(ds.dtype), nodata)):
        dx, dy = offset
        c0, c1 = max(0, -dx), min(gb.width, src_w - dx)
        r0, r1 = max(0, -dy), min(gb.height, src_h - dy)
        if c1 <= c0 or r1 <= r0:
            return None
        return FilePlan(**base, dst_window=(r0, r1, c0, c1), copy_offset=offset)

    # --- a warp of the source window
    full = plan_warp(ds.crs, src_tf, (src_h, src_w), gb.crs, gb.transform, (gb.height, gb.width),
                     resampling=req.resampler)
    win = full.window
    if win is None or win.is_empty:
        return None
    c0, r0 = max(0, win.col_off), max(0, win.row_off)
    c1, r1 = min(src_w, win.col_off + win.width), min(src_h, win.row_off + win.height)
    if c1 <= c0 or r1 <= r0:
        return None
    sub = plan_warp(ds.crs, src_tf @ Affine.translation(c0, r0), (r1 - r0, c1 - c0), gb.crs, gb.transform,
                    (gb.height, gb.width), resampling=req.resampler)
    # the kernel scale/radius and the effective method are those of the whole source (GDAL
    # derives them from the full source window, including its out-of-raster "extra" size)
    sub = replace(sub, resampling=full.resampling, xscale=full.xscale, yscale=full.yscale,
                  xradius=full.xradius, yradius=full.yradius)
    if sub.window is None or sub.window.is_empty:
        return None
    dwin = _footprint_window(sub.transformer, (r1 - r0, c1 - c0), (gb.height, gb.width)) if not req.reference_paths \
        else (0, gb.height, 0, gb.width)
    if dwin[1] <= dwin[0] or dwin[3] <= dwin[2]:
        return None
    return FilePlan(**base, dst_window=dwin, read_window=(c0, r0, c1 - c0, r1 - r0), warp=sub)


def chunk_source_window(plan: Any, dst_window: tuple[int, int, int, int]) -> Any:
    """The part of ``plan.window`` that the destination rows/cols ``dst_window = (row0, row1,
    col0, col1)`` read: a :class:`~raster_core.warp.SourceWindow`, empty when none of them
    can be produced, or ``None`` when in doubt (then the whole window).

    It is GDAL's source window of ``dst_window`` (without reprojection: the extent of its
    corners' affine map, one pixel wider) widened by the kernel's reach plus two
    pixels (the approximate transformer's error), within ``plan.window``: every tap of
    those pixels lies inside it, and its edges are more than a pixel away from where they
    fall except where it shares ``plan.window``'s edge, so the warper's exact re-transforms
    near the window's edges (§1.4) hit the same pixels. Warping ``dst_window`` from it with
    the same transformer gives the pixels of the whole window's warp.

    Examples
    --------
    >>> from raster_core.warp import plan_warp
    >>> p = plan_warp(3857, (0, 10, 0, 1000, 0, -10), (100, 100), 3857, (0, 20, 0, 1000, 0, -20), (50, 50),
    ...               resampling="bilinear")
    >>> w = chunk_source_window(p, (10, 20, 0, 5))   # 10 rows x 5 cols of the 50 x 50 output
    >>> (w.col_off, w.row_off, w.width, w.height)   # of the 100 x 100 source
    (0, 15, 15, 30)
    """
    from raster_core.warp import _pole_in_destination, compute_source_window

    full = plan.window
    if full is None:
        return None
    t = plan.transformer
    r0, r1, c0, c1 = dst_window
    mx, my = plan.xradius + 2, plan.yradius + 2
    x0, x1 = full.col_off, full.col_off + full.width
    y0, y1 = full.row_off, full.row_off + full.height
    if not t.has_reprojection:
        # an affine map: the extent of the chunk's corners (as the edges' samples below give
        # it, one pixel wider for the rounding of points between them) needs no sampling
        extent = _affine_extent(t, r0, r1, c0, c1)
        a0, a1 = max(x0, extent[0] - mx), min(x1, extent[1] + mx)
        b0, b1 = max(y0, extent[2] - my), min(y1, extent[3] + my)
        if a1 <= a0 or b1 <= b0:
            return replace(full, width=0, height=0)
        return replace(full, col_off=a0, row_off=b0, width=a1 - a0, height=b1 - b0)
    win = compute_source_window(t, plan.src_shape, (c0, r0, c1 - c0, r1 - r0), 0)
    if win is None:
        # beside the source, or too many points failed to transform: the window's edges
        # (exactly transformed, as GDAL samples them) give its extent when they all transform
        e = np.linspace(0.0, 1.0, 21)
        z = np.zeros_like(e)
        xs = c0 + (c1 - c0) * np.concatenate([e, e, z, z + 1])
        ys = r0 + (r1 - r0) * np.concatenate([z, z + 1, e, e])
        sx, sy, ok = t.transform_points(xs, ys)
        if not ok.all() or _pole_in_destination(t, (c0, r0, c1 - c0, r1 - r0)):
            return None
        extent = (math.floor(sx.min()), math.ceil(sx.max()), math.floor(sy.min()), math.ceil(sy.max()))
    elif win.failed_samples:
        return None
    else:
        extent = (win.col_off, win.col_off + win.width, win.row_off, win.row_off + win.height)
    a0, a1 = max(x0, extent[0] - mx), min(x1, extent[1] + mx)
    b0, b1 = max(y0, extent[2] - my), min(y1, extent[3] + my)
    if a1 <= a0 or b1 <= b0:
        return replace(full, width=0, height=0)  # more than the kernel's reach away: nothing there
    return replace(full, col_off=a0, row_off=b0, width=a1 - a0, height=b1 - b0)


def _affine_extent(t: Any, r0: int, r1: int, c0: int, c1: int) -> tuple[int, int, int, int]:
    """``(col0, col1, row0, row1)``: the source pixels that the destination pixels ``[r0, r1)
    x [c0, c1)`` map to through ``t``'s geotransforms (no reprojection), from their four
    corners, with one pixel more on every side (the warper's own evaluation of points in
    between may round past a corner's value)."""
    g, v = t.dst_gt, t.src_inv_gt
    sx: list[float] = []
    sy: list[float] = []
    for x, y in ((c0, r0), (c1, r0), (c0, r1), (c1, r1)):
        gx, gy = g[0] + x * g[1] + y * g[2], g[3] + x * g[4] + y * g[5]
        sx.append(v[0] + gx * v[1] + gy * v[2])
        sy.append(v[3] + gx * v[4] + gy * v[5])
    return (math.floor(min(sx)) - 1, math.ceil(max(sx)) + 1, math.floor(min(sy)) - 1, math.ceil(max(sy)) + 1)


def _placed(part: np.ndarray, shape: tuple[int, int], row0: int, col0: int) -> np.ndarray:
    """``part`` ``(..., h, w)`` at ``(row0, col0)`` of an array ``(..., *shape)`` whose other
    pixels are never read (:func:`_canvas`)."""
    out = _canvas(part.shape[:-2] + tuple(shape), part.dtype, part.shape[-2] * part.shape[-1])
    out[..., row0:row0 + part.shape[-2], col0:col0 + part.shape[-1]] = part
    return out


def _canvas(shape: tuple[int, ...], dtype: Any, written: int) -> np.ndarray:
    """An array ``shape`` of which only ``written`` pixels (per leading index) will be written
    and read: an anonymous mapping, whose memory is committed only where written, when it is
    over a MiB larger than those pixels, else zeros (the warp of a chunk takes its source in
    the coordinates of the whole window, whose origin the floating-point arithmetic of every
    chunk must share).

    Examples
    --------
    >>> c = _canvas((1, 4000, 4000), np.uint16, 100)
    >>> c.shape, c.dtype.name, int(c[0, 3999, 3999])
    ((1, 4000, 4000), 'uint16', 0)
    """
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dt.itemsize
    lead = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    if nbytes <= lead * written * dt.itemsize + (1 << 20) or not hasattr(mmap, "MAP_ANONYMOUS"):
        return np.zeros(shape, dtype=dt)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_NORESERVE", 0)
    return np.frombuffer(mmap.mmap(-1, nbytes, flags=flags), dtype=dt).reshape(shape)


def _scratch_array(name: str | None, shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """An array ``shape`` of ``dtype`` in this thread's scratch buffer ``name``
    (:mod:`raster_core.io.scratch`; its contents are garbage), or None when ``name`` is None."""
    if name is None:
        return None
    from raster_core.io.scratch import scratch

    dt = np.dtype(dtype)
    return np.frombuffer(scratch(name, math.prod(shape) * dt.itemsize), dtype=dt).reshape(shape)


def warp_file(fp: FilePlan, req: _Request, num_threads: int | None,
              dst_limit: tuple[int, int, int, int] | None = None, scratch_name: str | None = None) -> Piece | None:
    """Run a :class:`FilePlan`: the requested bands of its file over the destination window
    they cover, ``((row0, row1, col0, col1), values, produced)`` with ``values``
    ``(len(sources), h, w)`` in the layer type of ``req`` and ``produced`` ``(h, w)``;
    ``None`` = nothing there.

    ``dst_limit`` ``(row0, row1, col0, col1)``: produce only that part of the grid (a chunk
    of a lazy load), reading only the source pixels it needs; its pixels are those of the
    whole-grid call.

    ``scratch_name``: the piece's values (and, when read without warping, its validity) may
    live in this thread's scratch buffers of that name (:mod:`raster_core.io.scratch`),
    read-only, until the thread's next call with that name: for a caller that is done with
    the piece by then (a fresh window per image costs page faults where freed memory goes
    back to the system, as in Dask's workers)."""
    from raster_core.warp import execute_plan

    layer_dt = numpy_dtype(req.plan.data_type)
    sources = fp.sources
    data_idx = [s.index for s in sources if s.index is not None]
    unique = list(dict.fromkeys(data_idx))
    nodata, ovr = fp.nodata, fp.overview
    src_h, src_w = fp.src_shape
    ds = _open(fp.path)

    def source_masks(window: tuple[int, int, int, int]) -> np.ndarray | None:
        src_mask = None
        if fp.need_file_mask:
            # the file's GDAL mask: internal mask / alpha band, or (alpha-only requests) the
            # nodata of every band
            src_mask = ds.dataset_mask(window, overview_level=ovr) > 0
        if req.cutline is not None:
            from raster_core.cutline import cutline_source_mask

            cm = cutline_source_mask(req.cutline, cutline_srs=req.cutline_srs, src_crs=ds.crs,
                                     src_transform=fp.src_transform, src_shape=(src_h, src_w),
                                     all_touched=req.cutline_all_touched, window=window, num_threads=num_threads,
                                     validate=False)
            src_mask = cm if src_mask is None else (src_mask & cm)
        return src_mask

    def to_layer(values: np.ndarray, produced: np.ndarray) -> np.ndarray:
        """The requested bands (in request order) of ``values`` (bands ``unique``)."""
        if not data_idx:
            return np.broadcast_to(produced, (len(sources),) + produced.shape).astype(layer_dt)
        if [s.index for s in sources] == unique and values.dtype == layer_dt:
            return values
        out = np.empty((len(sources),) + produced.shape, dtype=layer_dt)
        for k, s in enumerate(sources):
            if s.is_mask:
                out[k] = produced
            else:
                out[k] = cast_like_gdal(values[unique.index(cast(int, s.index))], layer_dt)
        return out

    r0, r1, c0, c1 = fp.dst_window
    if dst_limit is not None:
        r0, r1 = max(r0, dst_limit[0]), min(r1, dst_limit[1])
        c0, c1 = max(c0, dst_limit[2]), min(c1, dst_limit[3])
    if c1 <= c0 or r1 <= r0:
        return None

    if fp.copy_offset is not None:
        dx, dy = fp.copy_offset
        window = (c0 + dx, r0 + dy, c1 - c0, r1 - r0)
        produced = source_masks(window)
        if data_idx:
            values = ds.read(unique, window=window, overview_level=ovr, num_threads=num_threads,
                             out=_scratch_array(scratch_name, (len(unique), r1 - r0, c1 - c0), ds.level_dtype(ovr)))
            if nodata is not None:  # unified nodata: invalid only where every band is nodata
                from raster_core.mosaic import nodata_valid

                any_valid = nodata_valid(values[0], nodata,
                                         out=_scratch_array(None if scratch_name is None else scratch_name + "-valid",
                                                            (r1 - r0, c1 - c0), bool))
                for b in range(1, values.shape[0]):
                    any_valid |= nodata_valid(values[b], nodata)
                produced = any_valid if produced is None else produced & any_valid
            if scratch_name is not None:  # nobody may keep or change them (no adoption by a mosaic)
                values.flags.writeable = False
                if produced is not None:
                    produced.flags.writeable = False
        else:
            values = np.empty((0, r1 - r0, c1 - c0), dtype=np.uint8)
        if produced is None:
            produced = np.ones((r1 - r0, c1 - c0), dtype=bool)
        return (r0, r1, c0, c1), to_layer(values, produced), produced

    assert fp.read_window is not None
    dwin = (r0, r1, c0, c1)
    sub = fp.warp
    wc0, wr0, ww, wh = fp.read_window
    part = None if dst_limit is None else chunk_source_window(sub, dwin)
    if part is not None and part.is_empty:
        return None
    if part is not None and (part.col_off, part.row_off, part.width, part.height) == (0, 0, ww, wh):
        part = None
    if part is None:  # the whole window
        window, plan = fp.read_window, sub
    else:
        window, plan = (wc0 + part.col_off, wr0 + part.row_off, part.width, part.height), replace(sub, window=part)
    src_mask = source_masks(window)
    if data_idx and part is not None:
        # decoded straight into its place in the whole window's coordinates
        pixels = _canvas((len(unique), wh, ww), ds.level_dtype(ovr), part.width * part.height)
        ds.read(unique, window=window, overview_level=ovr, num_threads=num_threads,
                out=pixels[:, part.row_off:part.row_off + part.height, part.col_off:part.col_off + part.width])
    elif data_idx:
        pixels = cast(np.ndarray, ds.read(unique, window=window, overview_level=ovr, num_threads=num_threads))
    else:  # only the alpha band: warp the mask itself
        pixels = np.ones((1, window[3], window[2]), dtype=np.uint8)
        if part is not None:
            pixels = _placed(pixels, (wh, ww), part.row_off, part.col_off)
    if part is not None:
        if src_mask is not None:
            src_mask = _placed(src_mask, (wh, ww), part.row_off, part.col_off)
    dest = _scratch_array(scratch_name, (pixels.shape[0], r1 - r0, c1 - c0), pixels.dtype)
    if dest is None:
        dest = np.empty((pixels.shape[0], r1 - r0, c1 - c0), dtype=pixels.dtype)
    produced = cast(np.ndarray, execute_plan(plan, pixels, dest, dst_window=dwin, src_nodata=nodata,
                                             dst_nodata=nodata, src_mask=src_mask, num_threads=num_threads))
    del pixels, src_mask
    if scratch_name is not None:
        dest.flags.writeable = False
    if not data_idx:
        dest = np.empty((0,) + dest.shape[1:], dtype=np.uint8)
    return dwin, to_layer(dest, produced), produced


FilePlanner = Callable[[int, str, list[BandSource]], "FilePlan | None"]


def render(req: _Request, images: Iterable[int] | None = None, window: tuple[int, int, int, int] | None = None, *,
           num_threads: int | None = None, progress: Progress | None = None,
           file_plan: FilePlanner | None = None, fill: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """Warp, mosaic, mask and scale: ``(data, valid)`` both ``(bands, rows, cols)``; masked
    values are ``fill`` (0, as the Raster service sends them).

    ``images`` (indexes into ``req``'s images, painter's order; default all) are painted on
    ``window = (row0, row1, col0, col1)`` of the grid (default the whole grid), each through
    the destination window its footprint covers, so the peak memory is about the output
    plus one image's window, whatever the number of images. ``file_plan(image, path,
    sources)`` gives each file's :class:`FilePlan` (default :func:`plan_file`; a lazy load
    passes its per-process cache). A window's pixels equal the same slice of the whole grid.
    """
    data, valid = _render(req, images, window, num_threads=num_threads, progress=progress, file_plan=file_plan,
                          fill=fill, keep_valid=True)
    assert valid is not None
    return data, valid


def render_values(req: _Request, images: Iterable[int] | None = None,
                  window: tuple[int, int, int, int] | None = None, *, num_threads: int | None = None,
                  file_plan: FilePlanner | None = None, fill: Any = 0) -> np.ndarray:
    """The values of :func:`render` (``(bands, rows, cols)``, masked pixels ``fill``), without
    its validity: where the mask rules allow (no scales, alpha or type change), no mask of
    the output's size is made."""
    return _render(req, images, window, num_threads=num_threads, file_plan=file_plan, fill=fill,
                   keep_valid=False)[0]


def _render(req: _Request, images: Iterable[int] | None, window: tuple[int, int, int, int] | None, *,
            num_threads: int | None, progress: Progress | None = None, file_plan: FilePlanner | None,
            fill: Any, keep_valid: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`render`; ``keep_valid=False``: the validity may be ``None``."""
    gb = req.geobox
    plan = req.plan
    nb = len(plan.names)
    whole = (0, gb.height, 0, gb.width)
    limit = None if window is None or tuple(window) == whole else window
    r0, r1, c0, c1 = whole if limit is None else limit
    work_dt = numpy_dtype(plan.data_type)
    order = list(range(len(plan.sources)) if images is None else images)
    planned: dict[int, list[tuple[list[int], FilePlan]]] = {}  # per image: its files' plans
    for i in order:
        srcs = plan.sources[i]
        by_path: dict[str, list[int]] = {}
        for b, s in enumerate(srcs):
            by_path.setdefault(s.path, []).append(b)
        files = planned[i] = []
        for path, out_bands in by_path.items():
            band_srcs = [srcs[b] for b in out_bands]
            fp = plan_file(path, band_srcs, gb, req) if file_plan is None else file_plan(i, path, band_srcs)
            if fp is not None:
                files.append((out_bands, fp))
    # images under others: painted from the top one down, each only where the ones above
    # left pixels open (the same pixels: a window of the grid gets the pixels of the whole
    # grid's warp); the reference paths keep the plain painter's order over the whole grid
    covered = None if req.reference_paths else _covered_images(order, planned, (r0, r1, c0, c1))
    top_down = covered is not None
    # without scales, alpha or type change, masked pixels are the fill: the mosaic starts
    # as the fill and the mask rules run on the painted windows only (elsewhere nothing is
    # valid), instead of passes over the whole window
    painted: list[tuple[int, int, int, int]] | None = None
    mosaic: Mosaic | TopDownMosaic
    if (not req.reference_paths and req.scales is None and not plan.alpha_last and work_dt == numpy_dtype(req.data_type)
            and _fill_fits(fill, work_dt)):
        painted = []
        mosaic = TopDownMosaic(nb, r1 - r0, c1 - c0, work_dt, fill=fill) if top_down else \
            Mosaic(nb, r1 - r0, c1 - c0, work_dt, fill=fill, track_valid=keep_valid)
    elif top_down:
        mosaic = TopDownMosaic(nb, r1 - r0, c1 - c0, work_dt, alpha_last=plan.alpha_last)
    else:
        mosaic = Mosaic(nb, r1 - r0, c1 - c0, work_dt, alpha_last=plan.alpha_last)
    for i in reversed(order) if top_down else order:
        files = planned.pop(i)
        boxes: list[tuple[int, int, int, int] | None] = [limit]
        if covered is not None and covered[i]:
            opened = _open_windows(cast(TopDownMosaic, mosaic), [fp.dst_window for _, fp in files], (r0, r1, c0, c1))
            if opened is not None:
                boxes = opened
        for box in boxes:
            pieces = []
            with on_block(progress.block if progress is not None else None):
                for k, (out_bands, fp) in enumerate(files):
                    # each file's piece in scratch memory of its own: all are painted below
                    # before the next image's (or box's) are made
                    # (not on the reference paths, the tests' oracle)
                    piece = warp_file(fp, req, num_threads, dst_limit=box,
                                      scratch_name=None if req.reference_paths else f"render-piece-{k}")
                    if piece is not None:
                        pieces.append((out_bands, piece))
            if not pieces:
                continue  # the image does not reach the window
            layer, lvalid, (a0, a1, b0, b1) = _image_layer(pieces, nb, work_dt)
            mosaic.add(layer, lvalid, window=(a0 - r0, a1 - r0, b0 - c0, b1 - c0), take=True)
            if painted is not None:
                painted.append((a0 - r0, a1 - r0, b0 - c0, b1 - c0))
            del layer, lvalid, pieces
        if progress is not None:
            progress.advance()
    if painted is not None and not keep_valid:
        # pixels nothing painted are the fill already, so only the nodata rule is left: a
        # painted pixel equal to a nodata of its band becomes the fill (window by window)
        values = mosaic.values()
        if req.mask_nodata:
            from raster_core.mosaic import nodata_valid

            for b, band_nodata in enumerate(band_nodatas(req)):
                for nd in band_nodata:
                    if _nodata_is_fill(values.dtype, nd, fill):
                        continue
                    for w0, w1, v0, v1 in painted:
                        wdata = values[b, w0:w1, v0:v1]
                        np.copyto(wdata, fill, where=~nodata_valid(wdata, nd))
        return values, None
    data, valid = mosaic.result()
    assert data is not None and valid is not None
    if painted is not None:
        # mask rules and fill window by window (overlaps are harmless: a second pass finds
        # the same valid pixels and leaves the filled ones filled)
        nodatas = band_nodatas(req) if req.mask_nodata else None
        for w0, w1, v0, v1 in painted:
            wdata, wvalid = data[:, w0:w1, v0:v1], valid[:, w0:w1, v0:v1]
            wvalid = mosaic_validity(req, wdata, wvalid, nodatas)
            for b in range(nb):
                np.copyto(wdata[b], fill, where=~wvalid[b])
        return data, valid
    valid = mosaic_validity(req, data, valid)
    if req.scales is None and data.dtype == numpy_dtype(req.data_type):
        # no conversion needed: masked pixels get the fill (band by band: one band's
        # temporary, not the output's)
        for b in range(nb):
            np.copyto(data[b], fill, where=~valid[b])
        return data, valid
    out = apply_scales(data, req.scales, req.data_type, valid, fill=fill, num_threads=num_threads)
    return out, valid


def _covered_images(order: list[int], planned: Mapping[int, list[tuple[list[int], FilePlan]]],
                    window: tuple[int, int, int, int]) -> dict[int, bool] | None:
    """Per image of ``order`` (painter's order), whether the images painted after it (above
    it) reach into a quarter or more of its footprint within ``window`` (the union of its
    files' destination windows, ``planned``; the overlaps with each image above summed);
    ``None`` when no image is. Those are painted from the top down: smaller overlaps rarely
    spare a tile's decoding, and the painting from the top down costs masks of what is
    settled.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> plans = {0: [([0], NS(dst_window=(0, 10, 0, 10)))], 1: [([0], NS(dst_window=(5, 20, 5, 20)))],
    ...          2: [([0], NS(dst_window=(30, 40, 0, 10)))]}
    >>> _covered_images([0, 1, 2], plans, (0, 50, 0, 50))
    {0: True, 1: False, 2: False}
    >>> _covered_images([0, 2], plans, (0, 50, 0, 50)) is None
    True
    """
    if len(order) < 2:
        return None
    r0, r1, c0, c1 = window
    boxes: list[tuple[int, int, int, int]] = []
    for i in order:
        wins = [fp.dst_window for _, fp in planned[i]]
        box = (0, 0, 0, 0)
        if wins:
            box = (max(r0, min(w[0] for w in wins)), min(r1, max(w[1] for w in wins)),
                   max(c0, min(w[2] for w in wins)), min(c1, max(w[3] for w in wins)))
        boxes.append(box if box[1] > box[0] and box[3] > box[2] else (0, 0, 0, 0))
    if len(boxes) <= 32:  # a few images (most chunks): plain loops cost less than arrays
        under = [4 * sum(max(0, min(b[1], a[1]) - max(b[0], a[0])) * max(0, min(b[3], a[3]) - max(b[2], a[2]))
                         for a in boxes[k + 1:]) >= (b[1] - b[0]) * (b[3] - b[2]) > 0
                 for k, b in enumerate(boxes)]
    else:
        arr = np.array(boxes, dtype=np.int64)
        b, a = arr[:, None, :], arr[None, :, :]
        rows = np.maximum(0, np.minimum(b[..., 1], a[..., 1]) - np.maximum(b[..., 0], a[..., 0]))
        cols = np.maximum(0, np.minimum(b[..., 3], a[..., 3]) - np.maximum(b[..., 2], a[..., 2]))
        area = (arr[:, 1] - arr[:, 0]) * (arr[:, 3] - arr[:, 2])
        overlap = np.triu(rows * cols, 1).sum(axis=1)
        under = [bool(u) for u in np.asarray((4 * overlap >= area) & (area > 0))]
    if not any(under):
        return None
    return dict(zip(order, under, strict=True))


def _open_windows(mosaic: TopDownMosaic, footprints: list[tuple[int, int, int, int]],
                  window: tuple[int, int, int, int]) -> list[tuple[int, int, int, int] | None] | None:
    """The windows of the grid an image below the layers of ``mosaic`` must be warped into:
    the open boxes (:meth:`~raster_core.mosaic.TopDownMosaic.open_boxes`) of its files'
    ``footprints`` within ``window`` (the mosaic's part of the grid), all ``(row0, row1,
    col0, col1)`` in grid rows/cols; ``None`` when the whole footprint is open, ``[]`` when
    none of it is.

    Examples
    --------
    >>> from raster_core.mosaic import TopDownMosaic
    >>> m = TopDownMosaic(1, 4, 4, np.uint8)
    >>> m.add(np.ones((1, 2, 4), np.uint8), window=(0, 2, 0, 4))   # the top half settled
    >>> _open_windows(m, [(11, 13, 1, 9)], (10, 14, 0, 4))          # grid rows 10-14
    [(12, 13, 1, 4)]
    >>> _open_windows(m, [(13, 19, 0, 4)], (10, 14, 0, 4)) is None  # open: as if nothing were above
    True
    """
    r0, r1, c0, c1 = window
    f0, f1 = max(r0, min(f[0] for f in footprints)), min(r1, max(f[1] for f in footprints))
    g0, g1 = max(c0, min(f[2] for f in footprints)), min(c1, max(f[3] for f in footprints))
    if f1 <= f0 or g1 <= g0:
        return []
    boxes = mosaic.open_boxes((f0 - r0, f1 - r0, g0 - c0, g1 - c0))
    if boxes == [(f0 - r0, f1 - r0, g0 - c0, g1 - c0)]:
        return None
    return [(a0 + r0, a1 + r0, b0 + c0, b1 + c0) for a0, a1, b0, b1 in boxes]


def _nodata_is_fill(dtype: np.dtype, nodata: Any, fill: Any) -> bool:
    """Whether the nodata rule of ``nodata`` leaves a ``dtype`` band filled with ``fill``
    unchanged: in 8- and 16-bit integer bands the rule matches exactly the pixels equal to
    ``floor(nodata + 1e-6)`` (:func:`raster_core.mosaic.nodata_valid`), which a fill of that
    value turns into themselves.

    Examples
    --------
    >>> _nodata_is_fill(np.dtype("uint16"), 0, 0), _nodata_is_fill(np.dtype("uint16"), 0, 7)
    (True, False)
    >>> _nodata_is_fill(np.dtype("float32"), 0.0, 0.0)   # float bands: a tolerance around it
    False
    """
    if dtype.kind not in "iub" or dtype.itemsize > 2 or nodata is None:
        return False
    try:
        nd, value = float(nodata), float(fill)
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(nd) and value == math.floor(nd + 1e-6)


def _fill_fits(fill: Any, dtype: np.dtype) -> bool:
    """Whether ``fill`` is a number that ``dtype`` holds exactly (NaN in a float type too).

    Examples
    --------
    >>> _fill_fits(255, np.dtype("uint8")), _fill_fits(256, np.dtype("uint8")), _fill_fits(0.1, np.dtype("float32"))
    (True, False, False)
    """
    if isinstance(fill, (bool, np.bool_)) or not isinstance(fill, (int, float, np.integer, np.floating)):
        return False
    try:
        value = float(fill)
    except OverflowError:  # an int beyond any float
        return False
    if dtype.kind == "f":
        if math.isnan(value):
            return True
        with np.errstate(all="ignore"):
            return float(np.asarray(value, dtype=np.float64).astype(dtype)) == value
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return value.is_integer() and info.min <= int(fill) <= info.max
    return False


def mosaic_validity(req: _Request, data: np.ndarray, valid: np.ndarray,
                    nodatas: list[list[Any]] | None = None) -> np.ndarray:
    """Per-band validity of a mosaic ``(nb, h, w)`` after the request's mask rules.

    ``mask_alpha=False``: the alpha band does not mask; ``mask_nodata``: every distinct nodata
    of a band across the images masks it (spec §2.5). Updates ``valid`` in place where it can.
    ``nodatas``: :func:`band_nodatas` of ``req``, when the caller has it already.
    """
    from raster_core.mosaic import nodata_valid

    plan = req.plan
    if plan.alpha_last and not req.mask_alpha:
        valid = np.ones_like(valid)
    if req.mask_nodata:
        if nodatas is None:
            nodatas = band_nodatas(req)
        for b in range(data.shape[0]):
            for nd in nodatas[b]:
                valid[b] &= nodata_valid(data[b], nd)
    return valid


def band_nodatas(req: _Request) -> list[list[Any]]:
    """Per output band, the distinct nodata values of its images' bands (in a fixed order;
    none for an alpha band in last place), which :func:`mosaic_validity` masks."""
    plan = req.plan
    nb = len(plan.names)
    out: list[list[Any]] = []
    for b in range(nb):
        if plan.alpha_last and b == nb - 1:
            out.append([])
            continue
        values = {s[b].band.nodata for s in plan.sources if not s[b].is_mask and s[b].band.nodata is not None}
        out.append(sorted(values, key=repr))
    return out


def _image_layer(pieces: list[tuple[list[int], Piece]], nb: int,
                 dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """One image's layer ``(nb, h, w)``, per-band validity and window, from its files' pieces."""
    if len(pieces) == 1 and pieces[0][0] == list(range(nb)):
        window, values, produced = pieces[0][1]
        return values, produced, window
    r0 = min(p[0][0] for _, p in pieces)
    r1 = max(p[0][1] for _, p in pieces)
    c0 = min(p[0][2] for _, p in pieces)
    c1 = max(p[0][3] for _, p in pieces)
    layer = np.zeros((nb, r1 - r0, c1 - c0), dtype=dtype)
    valid = np.zeros((nb, r1 - r0, c1 - c0), dtype=bool)
    for out_bands, ((a0, a1, b0, b1), values, produced) in pieces:
        rs, cs = slice(a0 - r0, a1 - r0), slice(b0 - c0, b1 - c0)
        for k, b in enumerate(out_bands):
            layer[b, rs, cs] = values[k]
            valid[b, rs, cs] = produced
    return layer, valid, (r0, r1, c0, c1)


def _check_processing_level(plan: BandPlan, level: str) -> None:
    """Accept a processing level that needs no pixel processing (the raw band, ``default``,
    ``toa``); refuse one that would (raster_core does not implement the catalog's
    processing functions, such as surface reflectance)."""
    from raster_core.scaling import properties_for_band, resolve_processing_level

    for srcs in plan.sources:
        for s in srcs:
            band = s.band
            if band.processing_levels:
                steps = resolve_processing_level(band.processing_levels, level)
                if steps:
                    funcs = ", ".join(str(st.get("function")) if isinstance(st, Mapping) else str(st) for st in steps)
                    raise UnsupportedFeatureError(
                        f"processing_level {level!r} of band {band.name!r} needs pixel processing ({funcs}) "
                        "that raster_core does not implement")
            else:
                properties_for_band(band.scaling_properties(), level)  # the spec's unknown-level error
                if level not in ("default", "toa") and band.type not in ("mask", "class"):
                    raise UnsupportedFeatureError(
                        f"processing_level {level!r} (e.g. surface reflectance) is not available locally "
                        f"for band {band.name!r}")


def _default_basename(image_id: str, names: Sequence[str]) -> str:
    """The first id (as the client); for a GeoTIFF path id, ``<stem>-<bands>`` in the current
    directory (the catalog's download naming), so the input is never overwritten."""
    from raster_core.io.sources import is_remote

    if is_remote(image_id):
        from urllib.parse import unquote, urlsplit

        image_id = unquote(urlsplit(image_id).path)
        stem = os.path.splitext(os.path.basename(image_id))[0] or "image"
        return f"{stem}-{'-'.join(names)}"
    if os.path.exists(image_id):
        stem = os.path.splitext(os.path.basename(image_id))[0]
        return f"{stem}-{'-'.join(names)}"
    return image_id


def _merge_aliases(args: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    args = {k: v for k, v in args.items() if k not in ("self", "pass_through_params")}
    passthrough: dict[str, Any] = {}
    for key, value in extra.items():
        if key in _ALIASES:
            target = _ALIASES[key]
            if target in args and args[target] is not None and args[target] is not False:
                raise InvalidParameterError(f"{key} and {target} are the same parameter: give one of them")
            args[target] = value
        elif key in _PASS_THROUGH:
            passthrough[key] = value
        else:
            raise InvalidParameterError(f"unknown parameter {key!r}")
    args["extra"] = passthrough
    return args


def _check_order(order: Any) -> str:
    if order not in _ORDERS:
        raise InvalidParameterError(f"Unknown order '{order}'; should be one of 'image' or 'gdal'")
    return order


# ======================================================================================
# module-level functions on a default Raster
# ======================================================================================

_default: Raster | None = None


def _default_raster() -> Raster:
    global _default
    if _default is None:
        _default = Raster()
    return _default


def ndarray(inputs: Any, bands: Any = None, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """:meth:`Raster.ndarray` on the default catalog (GeoTIFF paths, or ``$RASTER_CORE_CATALOG``)."""
    return _default_raster().ndarray(inputs, bands, **kwargs)


def stack(inputs: Any, bands: Any = None, **kwargs: Any) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """:meth:`Raster.stack` on the default catalog."""
    return _default_raster().stack(inputs, bands, **kwargs)


def raster(inputs: Any, bands: Any = None, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """:meth:`Raster.raster` on the default catalog."""
    return _default_raster().raster(inputs, bands, **kwargs)
