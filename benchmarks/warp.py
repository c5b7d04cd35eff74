"""Warp benchmark: raster_core vs rasterio/GDAL 3.10 in the same run, same thread count.

Source: 4096 x 4096 uint16 (smooth field + noise) in UTM 32N at 30 m. Scenarios:
UTM -> EPSG:4326, UTM -> EPSG:3035 (default output grids), same-CRS downsample x3.
Methods: near, bilinear, cubic, average (rows come from benchmarks/ops.py). Prints
output Mpix/s, the speed ratio (GDAL time / our time) and our peak memory (tracemalloc,
extra allocations during the call) relative to source + destination size.

Usage::

    python -m benchmarks.warp [--threads 2] [--size 4096] [--methods near,bilinear,cubic,average] [--repeat 3]

Also ``python -m benchmarks.warp --startup`` times ``import raster_core`` + a first
512 x 512 warp in fresh processes (cold and warm Numba cache).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
from affine import Affine

from benchmarks.ops import OPS, run_ours, run_reference

SRC_CRS = "EPSG:32632"


def make_source(size: int) -> tuple[np.ndarray, Affine]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    field = 20000 + 15000 * np.sin(7 * x) * np.cos(5 * y) + rng.normal(0, 500, (size, size)).astype(np.float32)
    src = np.clip(field, 1, 65535).astype(np.uint16)
    return src, Affine(30, 0, 400000, 0, -30, 5400000)


def scenarios(size: int, src_tf: Affine):
    from rasterio.crs import CRS
    from rasterio.transform import array_bounds
    from rasterio.warp import calculate_default_transform

    bounds = array_bounds(size, size, src_tf)
    out = []
    for name, dst in (("utm->4326", "EPSG:4326"), ("utm->3035", "EPSG:3035")):
        tf, w, h = calculate_default_transform(CRS.from_string(SRC_CRS), CRS.from_string(dst), size, size, *bounds)
        out.append((name, dst, tf, (h, w)))
    out.append(("same-crs /3", SRC_CRS, src_tf @ Affine.scale(3), (size // 3, size // 3)))
    return out


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--methods", default="near,bilinear,cubic,average")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--startup", action="store_true")
    args = ap.parse_args(argv)
    if args.startup:
        startup()
        return
    src, src_tf = make_source(args.size)
    print(f"source {args.size}x{args.size} uint16, threads={args.threads}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'scenario':12s} {'method':9s} {'dst':>11s} {'ours Mpx/s':>10s} {'GDAL Mpx/s':>10s} {'ratio':>6s} "
          f"{'peak/(src+dst)':>14s}")
    for name, dst_crs, dst_tf, shape in scenarios(args.size, src_tf):
        for m in args.methods.split(","):
            op = OPS[m]
            kw = dict(src_transform=src_tf, src_crs=SRC_CRS, dst_transform=dst_tf, dst_crs=dst_crs, dst_shape=shape,
                      num_threads=args.threads)
            try:
                run_ours(op, src[:, :64], **{**kw, "src_transform": src_tf})  # compile outside the timing
            except Exception as exc:  # pragma: no cover - method not available yet
                print(f"{name:12s} {m:9s} unavailable: {exc}")
                continue
            # interleave the two engines so that load changes on a shared machine hit both alike
            t_ours = t_gdal = float("inf")
            for _ in range(args.repeat):
                t_ours = min(t_ours, timed(lambda: run_ours(op, src, **kw), 1))
                t_gdal = min(t_gdal, timed(lambda: run_reference(op, src, **kw), 1))
            tracemalloc.start()
            out = run_ours(op, src, **kw)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            base = src.nbytes + out.nbytes
            mpx = shape[0] * shape[1] / 1e6
            print(f"{name:12s} {m:9s} {shape[1]:>5d}x{shape[0]:<5d} {mpx / t_ours:10.1f} {mpx / t_gdal:10.1f} "
                  f"{t_gdal / t_ours:6.2f} {(base + peak - out.nbytes) / base:14.2f}")


_STARTUP = """
import time
t = time.perf_counter()
import numpy as np
import raster_core
src = (np.arange(600 * 600) % 251).astype("uint8").reshape(600, 600)
out, _ = raster_core.reproject(src, src_transform=(400000, 30, 0, 5400000, 0, -30), src_crs="EPSG:32632",
    dst_transform=(7.64, 0.0002, 0, 48.74, 0, -0.0002), dst_crs="EPSG:4326", dst_shape=(512, 512),
    resampling="bilinear", num_threads=1)
assert out.any()
print(time.perf_counter() - t)
"""


def startup() -> None:
    """Import + first 512x512 warp in fresh processes: cold then warm Numba cache."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold cache", "warm cache", "warm cache"):
            r = subprocess.run([sys.executable, "-c", _STARTUP], env=env, capture_output=True, text=True, check=True)
            print(f"import raster_core + first 512x512 bilinear warp ({label}): {float(r.stdout.strip()):.2f} s")


if __name__ == "__main__":
    main()
