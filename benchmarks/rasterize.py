"""Benchmark: raster_core.rasterize vs rasterio.features.rasterize (GDAL), same run.

Scenarios on a 10k x 10k uint8 grid (``--size`` to change):

* ``big_polygon``: one polygon with 10,000 vertices (a wobbly star covering most of the grid,
  with a hole);
* ``huge_polygon``: the same with 100,000 vertices (GDAL's fill is O(rows x vertices));
* ``small_polygons``: 1,000 small polygons (32-gons of 5..60 px radius) scattered over it;

each in pixel-centre and all-touched mode. GDAL's rasterizer is single-threaded; raster_core
is timed with 1 thread (like for like) and with ``--threads`` (default: all cores). Every
result is checked for pixel equality with rasterio. Run:

    python benchmarks/rasterize.py [--size 10000] [--repeat 3] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import shapely
from affine import Affine


def _big_polygon(size: int, n: int, rng: np.random.Generator) -> shapely.Polygon:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = size * (0.42 + 0.05 * np.sin(37 * t) + 0.0005 * rng.standard_normal(n))
    c = size / 2
    outer = np.column_stack([c + r * np.cos(t), c + r * np.sin(t)])
    hole = shapely.Point(c, c).buffer(size * 0.1, 64)
    return shapely.Polygon(outer, [hole.exterior.coords])


def _small_polygons(size: int, count: int, rng: np.random.Generator) -> list[shapely.Polygon]:
    centres = rng.uniform(0, size, (count, 2))
    radii = rng.uniform(5, 60, count)
    return [shapely.Point(x, y).buffer(r, 8) for (x, y), r in zip(centres, radii, strict=True)]


def _time(fn, repeat: int) -> tuple[float, np.ndarray]:
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()

    import rasterio.features

    from raster_core.rasterize import rasterize

    rng = np.random.default_rng(0)
    size = args.size
    transform = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0)  # 10 m UTM-like grid

    def world(g):
        return shapely.affinity.affine_transform(g, [transform.a, transform.b, transform.d, transform.e,
                                                     transform.c, transform.f])

    scenarios = {
        "big_polygon (10k vertices)": [world(_big_polygon(size, 10000, rng))],
        "huge_polygon (100k vertices)": [world(_big_polygon(size, 100000, rng))],
        "small_polygons (1000)": [world(p) for p in _small_polygons(size, 1000, rng)],
    }
    # warm-up (Numba compile, cached on disk afterwards)
    rasterize(scenarios["small_polygons (1000)"][:2], (64, 64), transform)
    rasterize(scenarios["small_polygons (1000)"][:2], (64, 64), transform, all_touched=True)

    print(f"grid {size} x {size} uint8, best of {args.repeat}; machine shared with other jobs (measured under load)")
    header = f"{'scenario':30s} {'mode':12s} {'rasterio s':>10s} {'ours 1t s':>10s} {'ratio 1t':>9s} " \
             f"{'ours ' + str(args.threads) + 't s':>10s} {'ratio':>7s}  equal"
    print(header)
    print("-" * len(header))
    for name, geoms in scenarios.items():
        shapes = [(g, i % 254 + 1) for i, g in enumerate(geoms)]
        for at in (False, True):
            t_ref, ref = _time(lambda shapes=shapes, at=at: rasterio.features.rasterize(
                shapes, out_shape=(size, size), transform=transform, all_touched=at, dtype="uint8"), args.repeat)
            t_one, one = _time(
                lambda shapes=shapes, at=at: rasterize(shapes, (size, size), transform, all_touched=at, num_threads=1),
                args.repeat,
            )
            t_n, many = _time(lambda shapes=shapes, at=at: rasterize(shapes, (size, size), transform, all_touched=at,
                                                                     num_threads=args.threads), args.repeat)
            equal = np.array_equal(ref, one) and np.array_equal(ref, many)
            mode = "all_touched" if at else "centre"
            print(f"{name:30s} {mode:12s} {t_ref:10.3f} {t_one:10.3f} {t_ref / t_one:8.2f}x "
                  f"{t_n:10.3f} {t_ref / t_n:6.2f}x  {equal}")
            del ref, one, many


if __name__ == "__main__":
    main()
