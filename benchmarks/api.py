"""Benchmark: the Raster API end to end, raster_core vs the equivalent rasterio (GDAL) pipeline.

1. ``ndarray`` of two overlapping COGs (riotiler_mosaic_cog1 + cog2, 3 bands, uint16),
   mosaicked, reprojected to EPSG:4326 with bilinear resampling and clipped by a cutline,
   vs rasterio: ``reproject`` of each file into one array (painter's mosaic,
   ``init_dest_nodata=False`` after the first) on the same grid, then the cutline as a
   ``geometry_mask`` of the output.
2. A COG (riotiler_cog.tif, 2658 x 2667) requested at 1/16 of its resolution vs at full
   resolution: raster_core warps from the 16x overview (gdalwarp ``-ovr AUTO``), rasterio's
   ``reproject`` from the full-resolution band.

Both libraries run with the same thread count, each pipeline in a fresh subprocess. Each
timing is the median of ``--repeat`` runs after a warm-up (Numba compilation and the page
cache are excluded). Peak memory of one whole call (result included), two ways:

* ``peak RSS``: after the warm-up, freed memory is returned to the OS (``malloc_trim``) and
  the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``), so ``VmHWM - VmRSS``
  before the call is everything the call touched, C allocations (GDAL's) included;
* ``tracemalloc``: the peak of Python/NumPy allocations during the call (GDAL's own
  buffers are not traced, so it is a lower bound for rasterio).

Usage::

    python benchmarks/api.py [--repeat N] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import find_data as _find  # noqa: E402
from benchmarks._common import peak_rss_during  # noqa: E402

CUTLINE = {"type": "Polygon", "coordinates": [[
    [-75.6, 45.1], [-72.0, 45.2], [-71.7, 46.6], [-74.0, 46.95], [-75.8, 46.6], [-75.6, 45.1]]]}






def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_of_call(fn) -> float:
    """Peak RSS (MB) of one call of ``fn`` above the RSS before it (result kept alive)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
    except OSError:
        return peak_rss_during(fn)[0]  # no clear_refs: sample the RSS instead
    base = _status_mb("VmRSS")
    result = fn()
    peak = _status_mb("VmHWM")
    del result
    if base is None or peak is None:
        return float("nan")
    return peak - base


def _tracemalloc_peak(fn) -> float:
    """Peak of traced (Python/NumPy) allocations (MB) during one call of ``fn``."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 2**20




def _pipelines(threads: int):
    import numpy as np
    import rasterio
    from affine import Affine
    from rasterio.features import geometry_mask
    from rasterio.warp import Resampling, reproject

    from raster_core.api import Raster

    r = Raster(num_threads=threads)
    cogs = [str(_find("riotiler_mosaic_cog1.tif")), str(_find("riotiler_mosaic_cog2.tif"))]
    cog = str(_find("riotiler_cog.tif"))
    with rasterio.open(cog) as ds:
        res16 = ds.res[0] * 16
        res1 = ds.res[0]

    def ours_mosaic():
        return r.ndarray(cogs, bands=["1", "2", "3"], srs="EPSG:4326", resolution=0.003, resampler="bilinear",
                         cutline=CUTLINE, order="gdal")

    arr, meta = ours_mosaic()
    gt = Affine.from_gdal(*meta["geoTransform"])
    shape = (meta["size"][1], meta["size"][0])

    def rio_mosaic():
        out = np.zeros((3,) + shape, np.uint16)
        for i, p in enumerate(cogs):
            with rasterio.open(p) as src:
                reproject(rasterio.band(src, [1, 2, 3]), out, dst_transform=gt, dst_crs="EPSG:4326",
                          resampling=Resampling.bilinear, init_dest_nodata=(i == 0), num_threads=threads)
        outside = geometry_mask([CUTLINE], out_shape=shape, transform=gt)
        out[:, outside] = 0
        return np.ma.MaskedArray(out, mask=np.broadcast_to(outside | (out == 0).all(axis=0), out.shape))

    def ours_cog(res):
        return lambda: r.ndarray(cog, bands=["1"], resolution=res, order="gdal")

    a16, m16 = ours_cog(res16)()
    gt16, shape16 = Affine.from_gdal(*m16["geoTransform"]), (m16["size"][1], m16["size"][0])
    a1, m1 = ours_cog(res1)()
    gt1, shape1 = Affine.from_gdal(*m1["geoTransform"]), (m1["size"][1], m1["size"][0])

    def rio_cog(gtx, shapex):
        def run():
            out = np.zeros(shapex, np.uint16)
            with rasterio.open(cog) as src:
                reproject(rasterio.band(src, 1), out, dst_transform=gtx, dst_crs=src.crs,
                          resampling=Resampling.nearest, num_threads=threads)
            return out
        return run

    return {
        "mosaic 2 COGs -> EPSG:4326 bilinear + cutline": (ours_mosaic, rio_mosaic, arr.shape),
        "COG at 1/16 resolution": (ours_cog(res16), rio_cog(gt16, shape16), a16.shape),
        "COG at full resolution": (ours_cog(res1), rio_cog(gt1, shape1), a1.shape),
    }


def _child(case: str, side: str, threads: int, repeat: int) -> None:
    warnings.simplefilter("ignore")
    fn = _pipelines(threads)[case][0 if side == "raster_core" else 1]
    fn()  # warm-up: Numba compilation, page cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    rss = _peak_rss_of_call(fn)
    traced = _tracemalloc_peak(fn)
    print(json.dumps({"time": statistics.median(times), "rss_mb": rss, "traced_mb": traced}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], args.threads, args.repeat)
        return 0
    warnings.simplefilter("ignore")
    cases = _pipelines(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"threads={args.threads}, median of {args.repeat} runs after warm-up, load average {load:.2f} "
          f"on {os.cpu_count()} cores (a shared machine: measured under load when load > cores)")
    print(f"{'case':48s} {'shape':>16s} {'raster_core':>12s} {'rasterio':>10s} {'ratio':>6s} "
          f"{'RSS MB rc':>9s} {'RSS MB rio':>10s} {'traced rc':>9s} {'traced rio':>10s}")
    for case, (_, _, shape) in cases.items():
        res = {}
        for side in ("raster_core", "rasterio"):
            out = subprocess.run([sys.executable, __file__, "--child", case, side, "--threads", str(args.threads),
                                  "--repeat", str(args.repeat)], capture_output=True, text=True, check=True)
            res[side] = json.loads(out.stdout.strip().splitlines()[-1])
        rc, rio = res["raster_core"], res["rasterio"]
        print(f"{case:48s} {str(shape):>16s} {rc['time']:11.3f}s {rio['time']:9.3f}s "
              f"{rio['time'] / rc['time']:5.2f}x {rc['rss_mb']:9.1f} {rio['rss_mb']:10.1f} "
              f"{rc['traced_mb']:9.1f} {rio['traced_mb']:10.1f}")
    print("RSS MB: peak RSS of one call above the RSS before it (fresh process, freed memory returned to the OS "
          "first); traced: tracemalloc peak (Python/NumPy only, GDAL's buffers not traced)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
