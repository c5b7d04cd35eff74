"""Where raster_core's time goes in the operations of ``benchmarks/remote.py`` (no GDAL).

Each operation runs from the benchmark's cold state (empty header cache, a URL never opened)
against the same counting server in its own process; the stages below are timed with
``time.perf_counter`` by wrapping the functions that do them. Per operation: the wall time,
the time inside HTTP requests (``_fetch``, round trips included) and each stage, as medians
over the repeats (ms). What is left after the requests is raster_core's CPU time.

Usage::

    python benchmarks/remote_profile.py [--file PATH] [--latency 0.02] [--repeat 15]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import find_data  # noqa: E402
from benchmarks.remote import ServerProcess  # noqa: E402

#: (label, module, attribute): the stages timed, each where its caller looks it up (nested
#: stages are also counted in their parents)
STAGES = [
    ("requests", "raster_core.io.sources", "_HTTPFetcher._fetch"),
    ("header parse", "raster_core.io.geotiff", "parse_with_prefetch"),
    ("cache sizing", "raster_core.io.geotiff", "approx_nbytes"),
    ("segment fetch", "raster_core.io.geotiff", "Dataset._prefetch_segments"),
    ("read (fetch+decode)", "raster_core.io.geotiff", "Dataset._read_level"),
    ("plan: images", "raster_core.catalog", "Catalog.resolve_many"),
    ("plan: grid", "raster_core.grid", "output_geobox"),
    ("plan: per file", "raster_core.api", "plan_file"),
    ("warp kernels", "raster_core.warp", "execute_plan"),
    ("metadata", "raster_core.api", "Raster._finish"),
]


def _instrument(times: dict[str, float]) -> None:
    import importlib

    for label, module_name, attr in STAGES:
        module = importlib.import_module(module_name)
        owner: Any = module
        *outer, name = attr.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*args: Any, _f: Callable[..., Any] = original, _label: str = label, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _f(*args, **kw)
            finally:
                times[_label] += time.perf_counter() - t0

        functools.update_wrapper(timed, original)
        setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    path = (a.file or find_data("riotiler_cog.tif")).resolve()

    import raster_core
    from raster_core.io.tiff_header import HEADER_CACHE

    with raster_core.open(path) as ds:
        h, w = ds.shape
        res = ds.res[0]
        crs = ds.crs
        ovr = min(1, ds.overview_count - 1) if ds.overview_count else None
    win = (w // 2 - 256, h // 2 - 256, 512, 512)

    def dataset_op(op: Callable[[Any], Any]) -> Callable[[str], Any]:
        def run(url: str) -> Any:
            with raster_core.open(url) as d:
                return op(d)
        return run

    def ndarray_op(factor: int) -> Callable[[str], Any]:
        return lambda url: raster_core.Raster().ndarray(url, bands=["1"], resolution=res * factor, srs=crs,
                                                        order="gdal")

    cases: list[tuple[str, Callable[[str], Any]]] = [
        ("open + metadata", dataset_op(lambda d: (d.profile, d.overviews(1), d.mask_flags))),
        ("512x512 window", dataset_op(lambda d: d.read(window=win))),
    ]
    if ovr is not None:
        cases.append((f"overview {ovr}", dataset_op(lambda d: d.read(overview_level=ovr))))
    cases += [("full read", dataset_op(lambda d: d.read())), ("ndarray 1/4", ndarray_op(4)),
              ("ndarray 1/16", ndarray_op(16))]

    times: dict[str, float] = defaultdict(float)
    _instrument(times)
    counter = itertools.count()
    rows = []
    with ServerProcess(path.parent, a.latency) as srv:
        for name, fn in cases:
            samples: dict[str, list[float]] = defaultdict(list)
            for k in range(a.repeat + 1):
                HEADER_CACHE.clear()
                times.clear()
                t0 = time.perf_counter()
                fn(srv.url(path.name) + f"?v={next(counter)}")
                wall = time.perf_counter() - t0
                if k == 0:
                    continue  # first call of the operation: imports, compiled kernels
                samples["wall"].append(wall)
                for label, _, _ in STAGES:
                    samples[label].append(times.get(label, 0.0))
            rows.append((name, {k: statistics.median(v) * 1000 for k, v in samples.items()}))

    labels = [label for label, _, _ in STAGES if any(r[label] > 0.0005 for _, r in rows)]
    print(f"file: {path.name}; {a.latency * 1000:.0f} ms per request; median of {a.repeat}; ms "
          "(nested stages are also counted in their parents: read includes segment fetch)")
    print(f"{'operation':<18}{'wall':>8}{'CPU':>7}" + "".join(f"{lb:>{max(9, len(lb) + 2)}}" for lb in labels))
    for name, r in rows:
        print(f"{name:<18}{r['wall']:>8.2f}{r['wall'] - r['requests']:>7.2f}"
              + "".join(f"{r[lb]:>{max(9, len(lb) + 2)}.2f}" for lb in labels))


if __name__ == "__main__":
    main()
