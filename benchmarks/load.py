"""Benchmark: lazy STAC loads, raster_core.load vs odc-stac (rasterio/GDAL reader).

A synthetic collection (``--items`` COGs of 256 x 256 uint16, 64-px tiles, DEFLATE, nodata
0, scattered over a 4096 x 4096 grid of 10 m UTM pixels on ``--steps`` dates) is written to a
temp folder. Both libraries load the same STAC items onto the same grid (same CRS, same
affine; the items' 10 m grid by default, or ``--resolution``, with ``--resampling``), grouped
by time, in 1024 x 1024 chunks, and reduce them with ``max("time")``. Where items of a time
step overlap, odc-stac keeps the first item's pixel and raster_core paints the last on top (as
``Raster.stack``); the work is the same (with the items in reverse order the values are equal).

Scenes closer to real ones: ``--size 2048 --blocksize 512 --overviews 2,4,8 --smooth --grid
6144 --chunk 2048`` (2048 x 2048 COGs in 512-px tiles with internal overviews, image-like
values with predictor 2, 2048 x 2048 chunks); at ``--resolution 20`` both libraries read the
overview GDAL would. With ``--steps 1`` every item is in one time step: a mosaic of overlapping
scenes, where raster_core paints the top scene first and reads the lower ones only where it left
pixels open.

Timed, each as the median of ``--repeat`` runs after a warm-up:

* graph build: the ``load(...)`` call (planning + graph, nothing computed), the median of
  ``--builds`` calls per run with Python's garbage collector paused, as ``timeit`` does (a
  collection of the objects left by the computes would otherwise land in one library's
  few-millisecond build at random);
* compute on Dask's threads scheduler with ``--threads`` threads;
* compute on a LocalCluster of 2 worker processes x 1 thread (started once, 127.0.0.1);
* peak RSS growth of this process during the threads-scheduler compute.

The libraries take turns within each run (raster_core, odc-stac, floor, then again), so that a
change in the load of a shared machine falls on all of them alike.

A third row, "Dask floor", runs the same reduction on a Dask array of the same chunks whose
tasks only return a block of zeros: the part of every compute time that is Dask's (scheduling,
``max``, concatenating the result), which no loader can go below. Both libraries also keep what
they cache per process between runs (raster_core: open files, their headers and file plans;
odc-stac: GDAL's caches), except raster_core's decoded tiles: its cache of the tiles a read
cut at its window's edge (kept for the neighbouring chunks) is emptied before each of its
computes, in this process and on the cluster's workers, so that no compute uses tiles that an
earlier one decoded.

stackstac is not run: its current release pins pandas < 3, older than this environment's.

Usage::

    flock /tmp/raster_core_bench.lock python benchmarks/load.py [--items N] [--steps N] [--repeat N]
        [--resolution M --resampling bilinear] [--size 2048 --blocksize 512 --overviews 2,4,8 --smooth
        --grid 6144 --chunk 2048]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import peak_rss_during  # noqa: E402

X0, Y0, RES, GRID, SIZE = 500000.0, 4000000.0, 10.0, 4096, 256


def make_items(folder: Path, n: int, steps: int, *, size: int = SIZE, grid: int = GRID, blocksize: int = 64,
               overviews: tuple[int, ...] = (), smooth: bool = False) -> list[dict]:
    """``n`` STAC items of ``size`` x ``size`` uint16 COGs (DEFLATE, ``blocksize`` tiles, nodata 0)
    at random places of a ``grid`` x ``grid`` grid of 10 m UTM pixels, on ``steps`` dates.
    ``smooth``: values varying smoothly plus noise, written with predictor 2 (they compress
    as imagery does), instead of uniform noise; ``overviews``: internal overview factors."""
    from raster_core.io import write_geotiff

    rng = np.random.default_rng(1)
    items = []
    for i in range(n):
        col, row = (int(v) for v in rng.integers(0, grid - size, 2))
        if smooth:
            coarse = rng.integers(500, 50000, (1, size // 64 + 1, size // 64 + 1)).astype(np.float32)
            field = np.kron(coarse, np.ones((1, 64, 64), np.float32))[:, :size, :size]
            data = (field + rng.normal(0, 200, (1, size, size))).clip(1, 65535).astype(np.uint16)
        else:
            data = rng.integers(1, 60000, (1, size, size), dtype=np.uint16)
        path = folder / f"scene_{i:04d}.tif"
        tf = (X0 + col * RES, RES, 0.0, Y0 - row * RES, 0.0, -RES)
        write_geotiff(path, data, crs="EPSG:32633", transform=tf, nodata=0, blocksize=blocksize,
                      overviews=list(overviews) or None, predictor=2 if smooth else None)
        items.append({
            "type": "Feature", "stac_version": "1.0.0", "id": f"scene-{i:04d}", "collection": "synthetic",
            "stac_extensions": ["https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                                "https://stac-extensions.github.io/raster/v1.1.0/schema.json"],
            "bbox": [0, 0, 0, 0], "geometry": _lonlat_box(tf, size),
            "properties": {"datetime": f"2021-01-{i % steps + 1:02d}T12:00:00Z", "proj:epsg": 32633,
                           "proj:shape": [size, size], "proj:transform": [RES, 0.0, tf[0], 0.0, -RES, tf[3]]},
            "assets": {"B1": {"href": str(path), "type": "image/tiff; application=geotiff", "roles": ["data"],
                              "raster:bands": [{"data_type": "uint16", "nodata": 0}]}},
            "links": []})
    for it in items:
        xs = [p[0] for p in it["geometry"]["coordinates"][0]]
        ys = [p[1] for p in it["geometry"]["coordinates"][0]]
        it["bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    return items


def _lonlat_box(tf: tuple, size: int) -> dict:
    from pyproj import Transformer

    t = Transformer.from_crs(32633, 4326, always_xy=True)
    x0, y0 = tf[0], tf[3]
    x1, y1 = x0 + size * RES, y0 - size * RES
    ring = [t.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def _zeros_block(block_info: dict | None = None) -> np.ndarray:
    """A block of zeros of the chunk's shape (the Dask-floor array's only task)."""
    assert block_info is not None
    info = block_info[None]
    return np.zeros(info["chunk-shape"], dtype=info["dtype"])


def _clear_tile_cache() -> bool:
    """Empty this process's cache of decoded tiles (raster_core keeps the tiles a window cut
    for its neighbours; one compute must not use the tiles another decoded)."""
    from raster_core.io.tile_cache import tile_cache

    tile_cache().clear()
    return True


def _above(value: float, floor: float) -> float:
    """``value - floor``, at least 1 ms (a time at the floor is no work to compare)."""
    return max(value - floor, 1e-3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--builds", type=int, default=11, help="graph builds timed per run (their median)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resolution", type=float, default=RES,
                    help="output pixel size in m (other than 10: every chunk warps its items)")
    ap.add_argument("--resampling", default="nearest", choices=("nearest", "bilinear", "cubic", "average"))
    ap.add_argument("--size", type=int, default=SIZE, help="COG width and height in pixels")
    ap.add_argument("--blocksize", type=int, default=64, help="COG tile size")
    ap.add_argument("--overviews", default="", help="internal overview factors, e.g. 2,4,8")
    ap.add_argument("--smooth", action="store_true",
                    help="image-like values (smooth + noise, predictor 2) instead of uniform noise")
    ap.add_argument("--grid", type=int, default=GRID, help="grid width and height in 10 m pixels")
    ap.add_argument("--chunk", type=int, default=1024, help="chunk size along y and x")
    args = ap.parse_args(argv)

    import dask
    import odc.stac
    import pystac
    from distributed import Client, LocalCluster
    from odc.geo.geobox import GeoBox as OdcGeoBox

    import raster_core

    tmp = Path(tempfile.mkdtemp(prefix="rc_bench_load_"))
    overviews = tuple(int(v) for v in args.overviews.split(",") if v.strip())
    items = make_items(tmp, args.items, args.steps, size=args.size, grid=args.grid, blocksize=args.blocksize,
                       overviews=overviews, smooth=args.smooth)
    py_items = [pystac.Item.from_dict(d) for d in items]
    bounds = (X0, Y0 - args.grid * RES, X0 + args.grid * RES, Y0)
    chunks = {"time": 1, "y": args.chunk, "x": args.chunk}
    res = args.resolution
    geobox = OdcGeoBox.from_bbox(bounds, crs="EPSG:32633", resolution=res)
    resampler = "near" if args.resampling == "nearest" else args.resampling

    def ours():
        return raster_core.load(items, ["B1"], groupby="time", chunks=chunks, srs="EPSG:32633", resolution=res,
                                bounds=bounds, resampler=resampler)

    def odc_load():
        return odc.stac.load(py_items, bands=["B1"], geobox=geobox, groupby="time",
                             chunks={"x": args.chunk, "y": args.chunk}, resampling=args.resampling)

    like = ours()

    def floor():
        import dask.array as dsa
        import xarray as xr

        zeros = dsa.map_blocks(_zeros_block, dtype=like.dtype, chunks=like.data.chunks)
        return xr.DataArray(zeros, dims=like.dims)

    def timed_builds(build):
        made = []
        times = []
        gc.collect()
        gc.disable()
        try:
            for _ in range(args.builds):
                t0 = time.perf_counter()
                made.append(build())
                times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
        return statistics.median(times), made[-1]

    rows = []
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, memory_limit="2GiB", silence_logs=40)
    client = Client(cluster)
    libraries = (("raster_core", ours), ("odc-stac", odc_load), ("Dask floor", floor))
    timings: dict[str, dict[str, list]] = {name: {"build": [], "threads": [], "cluster": [], "peak": []}
                                           for name, _ in libraries}
    tasks: dict[str, int] = {}
    try:
        for name, build in libraries:
            arr = build()  # warm-up (imports, header caches, Numba)
            da = arr["B1"] if name == "odc-stac" else arr
            with dask.config.set(scheduler="threads", num_workers=args.threads):
                da.max("time").compute()
            client.compute(da.max("time").data).result()
        # the libraries take turns within each repeat, so that a change in the load of this
        # shared machine falls on all of them alike
        for _ in range(args.repeat):
            for name, build in libraries:
                t = timings[name]
                median_build, arr = timed_builds(build)
                t["build"].append(median_build)
                da = arr["B1"] if name == "odc-stac" else arr
                if name == "raster_core":
                    _clear_tile_cache()
                with dask.config.set(scheduler="threads", num_workers=args.threads):
                    t0 = time.perf_counter()
                    peak, _ = peak_rss_during(lambda d=da: d.max("time").compute(), 0.005)
                    t["threads"].append(time.perf_counter() - t0)
                t["peak"].append(peak)
                if name == "raster_core":
                    client.run(_clear_tile_cache)
                t0 = time.perf_counter()
                client.compute(da.max("time").data).result()
                t["cluster"].append(time.perf_counter() - t0)
                tasks[name] = len(dict(da.data.__dask_graph__()))
        for name, _ in libraries:
            t = timings[name]
            rows.append((name, statistics.median(t["build"]), statistics.median(t["threads"]),
                         statistics.median(t["cluster"]), max(t["peak"]), tasks[name]))
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(tmp, ignore_errors=True)  # the COGs (about 140 MB for the scenes)

    shape = tuple(int(v) for v in like.shape)
    print(f"{args.items} COGs {args.size}x{args.size} uint16 (tiles {args.blocksize}, overviews "
          f"{list(overviews) or 'none'}, {'image-like' if args.smooth else 'noise'}) on {args.steps} dates -> "
          f"{shape} at {res:g} m ({args.resampling}), chunks {args.chunk}, max('time'); {args.threads} threads / "
          f"2-process LocalCluster; median of {args.repeat}")
    print(f"{'library':<12} {'build ms':>9} {'threads s':>10} {'cluster s':>10} {'peak RSS MB':>12} {'graph keys':>11}")
    for name, b, t, c, p, k in rows:
        print(f"{name:<12} {b * 1e3:9.1f} {t:10.3f} {c:10.3f} {p:12.0f} {k:11d}")
    ours_row, odc_row, floor_row = rows
    print(f"ratios (odc-stac / raster_core): build {odc_row[1] / ours_row[1]:.1f}x, "
          f"threads compute {odc_row[2] / ours_row[2]:.2f}x, cluster compute {odc_row[3] / ours_row[3]:.2f}x")
    print("above the Dask floor: threads compute "
          f"{_above(odc_row[2], floor_row[2]) / _above(ours_row[2], floor_row[2]):.2f}x, cluster compute "
          f"{_above(odc_row[3], floor_row[3]) / _above(ours_row[3], floor_row[3]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
