"""Benchmark: reading a COG over HTTP, raster_core vs rasterio ``/vsicurl/`` (GDAL), same run.

A counting Range server on 127.0.0.1 (the test suite's) adds a fixed latency to every
request, like object storage. Each operation starts from a cold process state (rasterio: a
URL never opened before, so GDAL's /vsicurl/ caches are empty; raster_core: an empty header
cache) and opens the file itself. GDAL runs with the settings titiler recommends. Reported:
requests, bytes and wall time (median of the repeats) per operation and library.

Usage::

    python benchmarks/remote.py [--file PATH] [--latency 0.02] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import find_data  # noqa: E402

GDAL_ENV = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
    "GDAL_NUM_THREADS": "2",
}




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", type=Path, default=None)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    path = (a.file or find_data("riotiler_cog.tif")).resolve()

    import numpy as np
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.windows import Window

    import raster_core
    from raster_core.io.tiff_header import HEADER_CACHE

    warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)
    with raster_core.open(path) as ds:
        h, w = ds.shape
        res = ds.res[0]
        n_ovr = ds.overview_count
        crs = ds.crs
    counter = itertools.count()

    # (name, rasterio op, raster_core op); each takes a fresh URL
    def rio(op):
        def run(url):
            with rasterio.Env(**GDAL_ENV), rasterio.open(f"/vsicurl/{url}") as g:
                return op(g)
        return run

    def rc(op):
        def run(url):
            HEADER_CACHE.clear()
            with raster_core.open(url) as d:
                return op(d)
        return run

    win = (w // 2 - 256, h // 2 - 256, 512, 512)
    ovr = min(1, n_ovr - 1) if n_ovr else None

    def rc_ndarray(factor):
        def run(url):
            HEADER_CACHE.clear()
            arr, _ = raster_core.Raster().ndarray(url, bands=["1"], resolution=res * factor, srs=crs, order="gdal")
            return arr
        return run

    def rio_ndarray(factor):
        return rio(lambda g: g.read(1, out_shape=(h // factor, w // factor), resampling=Resampling.nearest))

    cases = [
        ("open + metadata", rio(lambda g: (g.profile, g.overviews(1), g.dataset_mask)),
         rc(lambda d: (d.profile, d.overviews(1), d.mask_flags))),
        ("512x512 window", rio(lambda g: g.read(window=Window(*win))), rc(lambda d: d.read(window=win))),
    ]
    if ovr is not None:
        cases.append((f"overview {ovr}", rio(lambda g: g.read(out_shape=(g.count, *_ovr_shape(path, ovr)))),
                      rc(lambda d: d.read(overview_level=ovr))))
    cases += [
        ("full read", rio(lambda g: g.read()), rc(lambda d: d.read())),
        ("ndarray 1/4", rio_ndarray(4), rc_ndarray(4)),
        ("ndarray 1/16", rio_ndarray(16), rc_ndarray(16)),
    ]

    with ServerProcess(path.parent, a.latency) as srv:
        rows = []
        for name, f_rio, f_rc in cases:
            res_row = {}
            for lib, fn in (("rasterio", f_rio), ("raster_core", f_rc)):
                times, reqs, nbytes, out = [], [], [], None
                for _ in range(a.repeat):
                    url = srv.url(path.name) + f"?v={next(counter)}"
                    srv.reset()
                    t0 = time.perf_counter()
                    out = fn(url)
                    times.append(time.perf_counter() - t0)
                    n_req, n_bytes = srv.stats()
                    reqs.append(n_req)
                    nbytes.append(n_bytes)
                res_row[lib] = (statistics.median(reqs), statistics.median(nbytes), statistics.median(times), out)
            if name in ("512x512 window", "full read") or name.startswith("overview"):
                a_, b_ = res_row["rasterio"][3], res_row["raster_core"][3]
                assert a_ is not None and b_ is not None
                assert np.array_equal(a_, b_), f"{name}: results differ"
            rows.append((name, res_row))
        HEADER_CACHE.clear()
        raster_core.open(srv.url(path.name)).close()
        srv.reset()
        raster_core.open(srv.url(path.name)).close()
        reopen = srv.stats()[0]

    gdal_env = " ".join(f"{k}={v}" for k, v in GDAL_ENV.items())
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.2f} MB, {w}x{h}, {n_ovr} overviews); "
          f"{a.latency * 1000:.0f} ms per request; median of {a.repeat}; GDAL: {gdal_env}")
    print(f"{'operation':<18}{'GDAL req':>9}{'rc req':>8}{'GDAL MB':>9}{'rc MB':>8}{'GDAL ms':>9}{'rc ms':>8}"
          f"{'speed-up':>10}")
    tot = [0.0, 0.0]
    for name, r in rows:
        g, c = r["rasterio"], r["raster_core"]
        tot[0] += g[2]
        tot[1] += c[2]
        print(f"{name:<18}{g[0]:>9.0f}{c[0]:>8.0f}{g[1] / 1e6:>9.3f}{c[1] / 1e6:>8.3f}"
              f"{g[2] * 1000:>9.1f}{c[2] * 1000:>8.1f}{g[2] / c[2]:>9.2f}x")
    print(f"{'total':<18}{'':>34}{tot[0] * 1000:>9.1f}{tot[1] * 1000:>8.1f}{tot[0] / tot[1]:>9.2f}x")
    print(f"re-open of an opened URL (raster_core header cache): {reopen} requests")


class ServerProcess:
    """The test suite's counting Range server, in its own process (it must not share our GIL)."""

    def __init__(self, root: Path, latency: float) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests._http_server", str(root), "--latency", str(latency)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())  # type: ignore[union-attr]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def _control(self, what: str) -> tuple[int, int]:
        import json
        import urllib.request

        with urllib.request.urlopen(self.url(f"__{what}")) as r:
            d = json.loads(r.read())
        return d["requests"], d["bytes"]

    def reset(self) -> None:
        self._control("reset")

    def stats(self) -> tuple[int, int]:
        return self._control("stats")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _ovr_shape(path: Path, level: int) -> tuple[int, int]:
    import raster_core

    with raster_core.open(path) as d:
        return d.overview_shape(level)


if __name__ == "__main__":
    main()
