"""Start-up benchmark: ``import raster_core`` + a first ``reproject`` in a new process, empty Numba cache.

Each case runs in a fresh interpreter with ``NUMBA_CACHE_DIR`` pointing at a new empty directory,
so it pays what a new user, a fresh Dask worker container or a CI run pays: importing the package
and compiling every kernel its first warp needs. A case is one resampler x dtype x grid kind
(same CRS or reprojection) x mask kind (none, nodata, alpha band, cutline); the warp itself is
small (600 x 600 source, 512 x 512 destination), so the time is the import and the compilation.
After the first warp the same process also times a second, new combination (the same resampler
on the next dtype), which shows what a further combination costs once Numba is loaded. Then a
new process runs the same first warp again on the now filled cache: what every later process
pays.

Usage::

    python -m benchmarks.startup [--quick] [--only bilinear,average]

No GDAL is involved (nothing to compare with: GDAL ships compiled code). Run it alone
(``flock /tmp/raster_core_bench.lock``): it is CPU bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

#: (resampler, dtype, grid kind, mask kind); grid kind "same" = same CRS, "reproj" = UTM -> EPSG:4326
CASES: list[tuple[str, str, str, str]] = [
    ("near", "uint8", "reproj", "none"),
    ("near", "uint16", "same", "alpha"),
    ("bilinear", "uint16", "reproj", "none"),
    ("bilinear", "int16", "reproj", "none"),
    ("bilinear", "float32", "reproj", "nodata"),
    ("cubic", "uint16", "same", "none"),
    ("cubic", "float64", "reproj", "cutline"),
    ("cubicspline", "uint8", "same", "nodata"),
    ("lanczos", "float32", "reproj", "none"),
    ("average", "uint16", "reproj", "none"),
    ("average", "float32", "same", "nodata"),
    ("mode", "uint8", "reproj", "none"),
    ("med", "int16", "same", "cutline"),
    ("max", "float64", "reproj", "nodata"),
    ("sum", "float32", "reproj", "none"),
]
QUICK = [CASES[0], CASES[2], CASES[9]]
DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
#: issue 12's start-up targets, seconds: import + first warp, and a further combination
FIRST_TARGET, NEXT_TARGET = 5.0, 3.0

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import raster_core

method, dtype, grid, mask = sys.argv[1:5]
SRC_TF = (400000.0, 30.0, 0.0, 5400000.0, 0.0, -30.0)


def warp(dtype):
    rng = np.random.default_rng(1)
    src = (rng.random((600, 600)) * 200 + 20).astype(dtype)
    kw = dict(src_transform=SRC_TF, src_crs="EPSG:32632", resampling=method, num_threads=2, dst_shape=(512, 512))
    if grid == "same":
        kw.update(dst_transform=(400033.0, 34.0, 0.0, 5399971.0, 0.0, -34.0), dst_crs="EPSG:32632")
    else:
        kw.update(dst_transform=(7.6605, 0.00046, 0.0, 48.7455, 0.0, -0.00031), dst_crs="EPSG:4326")
    if mask == "nodata":
        src[::7, ::5] = 0
        kw.update(src_nodata=0, dst_nodata=0)
    elif mask == "alpha":
        alpha = np.full((600, 600), {"uint16": 65535, "int16": 32767}.get(src.dtype.name, 255), dtype=src.dtype)
        alpha[:, :100] = 0
        src = np.stack([src, alpha])
        kw.update(src_alpha=2)
    elif mask == "cutline":
        kw.update(cutline={"type": "Polygon", "coordinates": [[(403000, 5390000), (412000, 5386000),
                  (409000, 5397000), (403000, 5390000)]]}, cutline_srs="EPSG:32632")
    out, _ = raster_core.reproject(src, **kw)
    assert out.any()


warp(dtype)
t1 = time.perf_counter()
warp(sys.argv[5])
t2 = time.perf_counter()
print(json.dumps({"first": t1 - t0, "second": t2 - t1}))
"""


def _child(args: list[str], env: dict[str, str]) -> tuple[dict[str, float], float]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def run_case(method: str, dtype: str, grid: str, mask: str) -> dict[str, float | str]:
    """One case in a new process with an empty Numba cache: seconds to the end of the first warp
    (import included) and for a second warp of the next dtype; then the first warp again in a
    new process on the cache the first one filled."""
    second = DTYPES[(DTYPES.index(dtype) + 1) % len(DTYPES)]
    args = [method, dtype, grid, mask, second]
    with tempfile.TemporaryDirectory(prefix="raster-core-startup-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache,
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cold, wall = _child(args, env)
        warm, _ = _child(args, env)
    return {"first": cold["first"], "second": cold["second"], "wall": wall, "second_dtype": second,
            "warm": warm["first"]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"only {len(QUICK)} cases")
    ap.add_argument("--only", default="", help="comma-separated resamplers")
    args = ap.parse_args(argv)
    cases = QUICK if args.quick else CASES
    if args.only:
        cases = [c for c in cases if c[0] in args.only.split(",")]
    print(f"new process per case, empty NUMBA_CACHE_DIR, 2 threads, load average {os.getloadavg()[0]:.1f}")
    print(f"{'resampler':11s} {'dtype':7s} {'grid':6s} {'mask':7s} {'import+first s':>14s} "
          f"{'next dtype':>10s} {'next s':>7s} {'process s':>9s} {'warm cache s':>12s}", flush=True)
    firsts, seconds, warms = [], [], []
    for method, dtype, grid, mask in cases:
        r = run_case(method, dtype, grid, mask)
        firsts.append(float(r["first"]))
        seconds.append(float(r["second"]))
        warms.append(float(r["warm"]))
        print(f"{method:11s} {dtype:7s} {grid:6s} {mask:7s} {r['first']:14.1f} {r['second_dtype']:>10s} "
              f"{r['second']:7.1f} {r['wall']:9.1f} {r['warm']:12.2f}", flush=True)
    print(f"import + first warp: slowest {max(firsts):.1f} s, median {float(np.median(firsts)):.1f} s; "
          f"next dtype: slowest {max(seconds):.1f} s; warm cache: slowest {max(warms):.2f} s; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"targets: first warp <= {FIRST_TARGET:.0f} s in {sum(t <= FIRST_TARGET for t in firsts)} of {len(firsts)} "
          f"cases, next dtype <= {NEXT_TARGET:.0f} s in {sum(t <= NEXT_TARGET for t in seconds)} of {len(seconds)}")


if __name__ == "__main__":
    main()
