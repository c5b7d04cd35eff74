"""Benchmark: GeoTIFF/COG reading, raster_core (tifffile, no GDAL) vs rasterio (GDAL), same run.

Times a full read, a 512x512 window read (unaligned: it touches 4 tiles of a 256-px COG) and
an overview read, each with the same thread count for both libraries (GDAL_NUM_THREADS for
rasterio, ``num_threads`` for raster_core). Every timing opens the file afresh (no warm block
cache in GDAL) and reports the median of several repeats. Results are checked identical.

Usage::

    python benchmarks/read.py [--file PATH] [--repeat N] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import find_data  # noqa: E402


def _time(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up (imports, page cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    path = args.file or find_data("riotiler_cog.tif")

    import rasterio
    from rasterio.windows import Window

    import raster_core

    warnings.simplefilter("ignore")
    with raster_core.open(path) as ds:
        w, h = ds.width, ds.height
        ovr = ds.overview_count
    win = (min(300, w - 512), min(300, h - 512), 512, 512)
    print(f"file: {path.name} ({w}x{h}, overviews {ovr}); load avg {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores (measured under load if high)")
    rows = []
    for nt in args.threads:
        cases = {
            "full read": (lambda ds, nt=nt: ds.read(num_threads=nt), lambda g: g.read()),
            "512x512 window": (
                lambda ds, nt=nt: ds.read(1, window=win, num_threads=nt),
                lambda g: g.read(1, window=Window(*win)),
            ),
        }
        if ovr:
            cases["overview 0 read"] = (lambda ds, nt=nt: ds.read(overview_level=0, num_threads=nt), None)
        for name, (ours_fn, theirs_fn) in cases.items():
            def ours(ours_fn=ours_fn):
                with raster_core.open(path) as ds:
                    return ours_fn(ds)

            if theirs_fn is None:
                def theirs(nt=nt):
                    with rasterio.Env(GDAL_NUM_THREADS=str(nt)), rasterio.open(path, overview_level=0) as g:
                        return g.read()
            else:
                def theirs(theirs_fn=theirs_fn, nt=nt):
                    with rasterio.Env(GDAL_NUM_THREADS=str(nt)), rasterio.open(path) as g:
                        return theirs_fn(g)

            t_rio, a = _time(theirs, args.repeat)
            t_rc, b = _time(ours, args.repeat)
            assert np.array_equal(a, b), f"{name}: results differ"
            rows.append((name, nt, t_rio * 1e3, t_rc * 1e3, t_rio / t_rc))
    print(f"{'case':<18}{'threads':>8}{'rasterio ms':>14}{'raster_core ms':>16}{'speed-up':>10}")
    for name, nt, a, b, r in rows:
        print(f"{name:<18}{nt:>8}{a:>14.2f}{b:>16.2f}{r:>9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
