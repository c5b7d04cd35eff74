"""Compile the warp kernels ahead of use: in a Docker image build, or when a Dask worker starts.

raster_core's kernels are compiled by Numba on first use and cached on disk
(``NUMBA_CACHE_DIR``, else ``__pycache__`` next to the package, else a private user cache, see
:mod:`raster_core._kernels._cache`). A first warp of a new resampler x data type x grid kind
x mask kind pays that compilation once; :func:`warmup` pays it up front by running one small
warp of every combination asked for, so that later processes sharing the cache directory
start warm. Each combination is a real (tiny) warp through the same code paths as a large
one: a same-CRS grid and a reprojection, each upsampled and downsampled (reprojections also by
x1.5, and x1.5 in y only), with no mask, a nodata value, an alpha band and a cutline.

In a Dockerfile (the cache directory must be one the runtime user can read)::

    ENV NUMBA_CACHE_DIR=/opt/numba-cache
    RUN raster-core warmup --resamplers near,bilinear,average --dtypes uint8,uint16

As a Dask worker plugin (each worker compiles what it lacks, or loads it from a shared
``NUMBA_CACHE_DIR``)::

    from distributed import WorkerPlugin

    class RasterCoreWarmup(WorkerPlugin):
        def setup(self, worker):
            import raster_core
            raster_core.warmup(resamplers=["near", "bilinear"], dtypes=["uint16"])

    client.register_plugin(RasterCoreWarmup())

Examples
--------
>>> cases = warmup_cases(["near"], ["uint8"])
>>> len(cases), cases[0]
(24, WarmupCase(resampler='near', dtype='uint8', grid='same-up', mask='none'))
>>> report = warmup(["near"], ["uint8"], grids=["same-up"], masks=["none"])
>>> report.cases
1
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

import numpy as np

from raster_core.errors import InvalidParameterError
from raster_core.resampling import INTERPOLATING, REDUCING

#: every resampler name the warper accepts
RESAMPLERS: tuple[str, ...] = (*INTERPOLATING, *REDUCING)
#: the source data types warmed up by default
DTYPES: tuple[str, ...] = ("uint8", "uint16", "int16", "float32", "float64")
#: grid kinds: same CRS or a reprojection, each upsampled (x0.8) or downsampled (x2.7); and
#: reprojections downsampled x1.5, and x1.5 in y only (the staged kernels' other tap shapes)
GRIDS: tuple[str, ...] = ("same-up", "same-down", "reproj-up", "reproj-down", "reproj-down-less", "reproj-aniso")
#: (x, y) factors of the grid kinds
_FACTORS = {"up": (0.8, 0.8), "down": (2.7, 2.7), "down-less": (1.5, 1.5), "aniso": (0.8, 1.5)}
#: source mask kinds (a cutline is a polygon in the source CRS)
MASKS: tuple[str, ...] = ("none", "nodata", "alpha", "cutline")

_SRC_CRS = "EPSG:32632"
_SRC_TF = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)
_SRC_SIZE = 48


class WarmupCase(NamedTuple):
    """One warp :func:`warmup` runs."""

    resampler: str
    dtype: str
    grid: str
    mask: str


class WarmupReport(NamedTuple):
    """What :func:`warmup` did: how many warps and how long it took."""

    cases: int
    seconds: float


def _choose(values: Iterable[str] | None, allowed: Sequence[str], name: str) -> list[str]:
    if values is None:
        return list(allowed)
    chosen = [values] if isinstance(values, str) else list(values)
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise InvalidParameterError(f"unknown {name} {bad!r}; choose from {', '.join(allowed)}")
    return chosen


def warmup_cases(resamplers: Iterable[str] | None = None, dtypes: Iterable[str] | None = None, *,
                 grids: Iterable[str] | None = None, masks: Iterable[str] | None = None) -> list[WarmupCase]:
    """The warps :func:`warmup` runs for the given choices (None = all of :data:`RESAMPLERS`,
    :data:`DTYPES`, :data:`GRIDS`, :data:`MASKS`)."""
    rs = _choose(resamplers, RESAMPLERS, "resampler")
    ds = _choose(dtypes, DTYPES, "dtype")
    gs = _choose(grids, GRIDS, "grid kind")
    ms = _choose(masks, MASKS, "mask kind")
    return [WarmupCase(r, d, g, m) for r in rs for d in ds for g in gs for m in ms]


def run_case(case: WarmupCase) -> np.ndarray:
    """Run the small warp of one :class:`WarmupCase` (compiling its kernels unless cached);
    returns its output."""
    from raster_core.warp import reproject

    dt = np.dtype(case.dtype)
    rng = np.random.default_rng(0)
    src = (rng.random((_SRC_SIZE, _SRC_SIZE)) * 200 + 20).astype(dt)[None]
    kw: dict = dict(src_transform=_SRC_TF, src_crs=_SRC_CRS, resampling=case.resampler, num_threads=1)
    fx, fy = _FACTORS[case.grid.split("-", 1)[1]]
    shape = (max(4, int(_SRC_SIZE / fy) - 2), max(4, int(_SRC_SIZE / fx) - 2))
    if case.grid.startswith("same"):
        kw.update(dst_crs=_SRC_CRS,
                  dst_transform=(_SRC_TF[0] + 7.0, 30.0 * fx, 0.0, _SRC_TF[3] - 5.0, 0.0, -30.0 * fy), dst_shape=shape)
    else:
        # (30 m is about 0.00041 degrees of longitude and 0.00027 of latitude there)
        kw.update(dst_crs="EPSG:4326", dst_transform=(7.6402, 0.00041 * fx, 0.0, 48.7449, 0.0, -0.00027 * fy),
                  dst_shape=shape)
    if case.mask == "nodata":
        src[:, ::7, ::5] = 0
        kw.update(src_nodata=0, dst_nodata=0)
    elif case.mask == "alpha":
        top = {"uint16": 65535, "int16": 32767}.get(dt.name, 255)
        alpha = np.full(src.shape[1:], top, dtype=dt)
        alpha[:, : _SRC_SIZE // 4] = 0
        alpha[::2, _SRC_SIZE // 4: _SRC_SIZE // 2] = top // 2
        src = np.concatenate([src, alpha[None]])
        kw.update(src_alpha=2)
    elif case.mask == "cutline":
        x0, y0, size_m = _SRC_TF[0], _SRC_TF[3], 30.0 * _SRC_SIZE
        ring = [(x0 + 0.05 * size_m, y0 - 0.05 * size_m), (x0 + 0.95 * size_m, y0 - 0.1 * size_m),
                (x0 + 0.9 * size_m, y0 - 0.95 * size_m), (x0 + 0.05 * size_m, y0 - 0.9 * size_m)]
        kw.update(cutline={"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, cutline_srs=_SRC_CRS)
    return reproject(src, **kw)[0]


def _run_cases(cases: list[WarmupCase]) -> int:
    for case in cases:
        run_case(case)
    return len(cases)


def warmup(resamplers: Iterable[str] | None = None, dtypes: Iterable[str] | None = None, *,
           grids: Iterable[str] | None = None, masks: Iterable[str] | None = None, processes: int = 1,
           progress: bool = False) -> WarmupReport:
    """Compile (or load from the on-disk cache) the kernels of the given resamplers and data
    types, by running one small warp per combination (:func:`warmup_cases`).

    Parameters
    ----------
    resamplers, dtypes
        Names from :data:`RESAMPLERS` and :data:`DTYPES`; None = all.
    grids, masks
        Kinds from :data:`GRIDS` and :data:`MASKS`; None = all.
    processes
        Worker processes (each takes the cases of one resampler and data type at a time and
        compiles what the shared cache directory lacks; Numba compiles one function at a time
        per process). 1 = in this process, which also leaves the compiled kernels loaded here.
    progress
        Print one line per finished resampler and data type on stderr.

    Returns
    -------
    WarmupReport
        Number of warps run and the seconds it took.
    """
    cases = warmup_cases(resamplers, dtypes, grids=grids, masks=masks)
    if not isinstance(processes, int) or processes < 1:
        raise InvalidParameterError(f"processes must be an integer >= 1, got {processes!r}")
    t0 = time.perf_counter()
    if processes == 1 or len(cases) < 2:
        for k, case in enumerate(cases):
            run_case(case)
            if progress:
                print(f"raster-core warmup: {k + 1}/{len(cases)} {' '.join(case)}", file=sys.stderr, flush=True)
    else:
        # cases of one resampler and data type share most kernels: one task each, handed to whichever
        # process is free, the interpolating resamplers first (the longest compiles; short tasks
        # last balance the end); resampler-major order keeps the processes on different data
        # types, so a kernel shared by resamplers is compiled once and loaded from the cache
        groups: dict[tuple[str, str], list[WarmupCase]] = {}
        for case in sorted(cases, key=lambda c: c.resampler not in INTERPOLATING):
            groups.setdefault((case.resampler, case.dtype), []).append(case)
        # (spawned, not forked: a fork of a process running kernel threads is not safe)
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = 0
            for n in pool.map(_run_cases, list(groups.values())):
                done += n
                if progress:
                    print(f"raster-core warmup: {done}/{len(cases)}", file=sys.stderr, flush=True)
    return WarmupReport(len(cases), time.perf_counter() - t0)
