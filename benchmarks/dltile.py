"""Benchmark: DLTile tiling of large shapes.

There is no GDAL counterpart to DLTiles, so the reference measured in the same run is
a brute-force tiler: every candidate tile of each zone tested one by one against the
shape (vectorised shapely ``intersects`` of the corner quadrilaterals, the client's
set definition). It checks the counts too.

Cases
-----
* a Colorado-sized lon/lat box (and a 600-vertex wiggly state-like outline) at 30 m
  with 2048-px tiles: ``from_shape`` (DLTile objects);
* a continent (a 65-vertex outline of Africa, and the same outline made fractal with
  16k vertices) at 10 m with 1024-px tiles: ``count_from_shape`` and streaming all
  keys with ``iter_from_shape``.

Run: ``python benchmarks/dltile.py [--no-reference]``
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import shapely
import shapely.geometry as sgeom

from raster_core import DLTile
from raster_core.dltile import lonlat_to_utm, utm_to_lonlat

AFRICA = [
    (-17.1, 21.0), (-16.0, 24.0), (-13.0, 27.6), (-9.8, 29.9), (-9.6, 32.5), (-5.9, 35.8), (-1.0, 35.3),
    (3.0, 36.8), (10.2, 37.3), (11.1, 35.2), (10.1, 34.0), (15.2, 32.3), (19.9, 30.9), (20.1, 32.2),
    (25.0, 31.7), (29.0, 30.9), (32.3, 31.3), (34.2, 31.2), (34.9, 29.5), (32.6, 29.9), (35.5, 23.1),
    (37.4, 21.0), (38.5, 18.0), (43.3, 12.6), (51.2, 11.9), (51.1, 10.6), (48.9, 5.0), (41.2, -1.7),
    (39.2, -4.7), (40.4, -10.4), (40.5, -15.9), (35.3, -22.1), (35.6, -24.0), (32.9, -26.2), (32.4, -28.6),
    (30.1, -31.3), (27.5, -33.2), (22.6, -33.9), (20.0, -34.8), (18.4, -34.0), (17.9, -31.0), (15.2, -27.1),
    (14.5, -22.9), (11.8, -17.3), (12.2, -14.4), (13.6, -12.0), (13.2, -9.0), (12.0, -5.0), (9.5, -0.6),
    (9.6, 2.3), (9.8, 3.9), (8.5, 4.5), (6.0, 4.3), (4.3, 6.3), (1.0, 6.0), (-2.9, 5.0), (-7.5, 4.4),
    (-11.4, 6.8), (-13.2, 8.9), (-15.2, 11.0), (-16.8, 13.2), (-17.6, 14.7), (-16.5, 16.5), (-16.1, 18.5),
    (-17.1, 21.0),
]  # fmt: skip


def fractal(coords, depth: int, amplitude: float, seed: int = 0) -> sgeom.Polygon:
    """Midpoint displacement of a ring: 2**depth times the vertices, a coastline-like outline."""
    rng = np.random.default_rng(seed)
    pts = np.asarray(coords, dtype=float)
    for _ in range(depth):
        mid = (pts[:-1] + pts[1:]) / 2
        d = pts[1:] - pts[:-1]
        mid = mid + np.column_stack([-d[:, 1], d[:, 0]]) * rng.normal(0, amplitude, (len(mid), 1))
        new = np.empty((len(pts) + len(mid), 2))
        new[0::2], new[1::2] = pts, mid
        pts = new
    poly = shapely.make_valid(sgeom.Polygon(pts))
    return max(shapely.get_parts(poly), key=lambda g: g.area) if poly.geom_type != "Polygon" else poly


def brute_force_count(geom, resolution: float, tilesize: int, chunk: int = 200_000) -> int:
    """Count tiles by testing every candidate tile's corner quadrilateral (reference)."""
    width = resolution * tilesize
    n = 0
    min_lon, _, max_lon, _ = geom.bounds
    for zone in range(max(1, 1 + math.floor((min_lon + 180) / 6)), min(60, 1 + math.floor((max_lon + 180) / 6)) + 1):
        pz = geom.intersection(sgeom.box(6 * zone - 186.0, -90, 6 * zone - 180.0, 90))
        if pz.is_empty or pz.area == 0:
            continue
        shapely.prepare(pz)
        xy = shapely.get_coordinates(shapely.segmentize(pz, 0.01))
        e, nn = lonlat_to_utm(xy[:, 0], xy[:, 1], zone)
        m = width + 100.0
        ti = np.arange(
            max(math.floor((e.min() - m - 5e5) / width), math.floor(-334000 / width)),
            min(math.floor((e.max() + m - 5e5) / width), math.ceil(334000 / width) - 1) + 1,
        )
        tj = np.arange(math.floor((nn.min() - m) / width), math.floor((nn.max() + m) / width) + 1)
        TI, TJ = (a.ravel() for a in np.meshgrid(ti, tj))
        for s in range(0, len(TI), chunk):
            x0 = 5e5 + TI[s : s + chunk] * width
            y0 = TJ[s : s + chunk] * width
            xs = np.stack([x0, x0 + width, x0 + width, x0, x0], axis=1)
            ys = np.stack([y0, y0, y0 + width, y0 + width, y0], axis=1)
            lon, lat = utm_to_lonlat(xs, ys, zone)
            quads = shapely.polygons(np.stack([lon, lat], axis=-1))
            n += int(np.count_nonzero(shapely.intersects(quads, pz)))
    return n


CPU: list[float] = []


def timed(fn, repeat: int = 1):
    """Best wall time of ``repeat`` runs (its CPU time is appended to ``CPU``)."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best:
            best, best_cpu = wall, cpu
    CPU.append(best_cpu)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-reference", action="store_true", help="skip the brute-force reference")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    colorado = sgeom.box(-109.05, 36.99, -102.04, 41.0)
    state_like = fractal(list(colorado.exterior.coords), 7, 0.05, seed=1)
    africa = sgeom.Polygon(AFRICA)
    africa_fractal = fractal(AFRICA, 8, 0.08)
    cases = [
        ("Colorado box, 30 m / 2048 px, from_shape", colorado, 30.0, 2048, "objects"),
        (
            f"state-like outline ({len(state_like.exterior.coords)} vtx), 30 m / 2048 px",
            state_like, 30.0, 2048, "objects",
        ),
        ("Africa (65 vtx), 10 m / 1024 px, count_from_shape", africa, 10.0, 1024, "count"),
        (
            f"Africa fractal ({len(africa_fractal.exterior.coords)} vtx), 10 m / 1024 px, count",
            africa_fractal, 10.0, 1024, "count",
        ),
        ("Africa (65 vtx), 10 m / 1024 px, iter_from_shape keys", africa, 10.0, 1024, "keys"),
    ]

    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover
        load = float("nan")
    print(f"DLTile tiling benchmark (load average {load:.1f} on {os.cpu_count()} cores"
          f"{' - measured under load' if load > 1.0 else ''})")
    header = (
        f"{'case':<62} {'tiles':>8} {'raster_core s':>13} {'(cpu s)':>8} {'brute-force s':>13} {'ratio':>7} "
        f"{'counts':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, geom, res, ts, mode in cases:
        if mode == "objects":
            t_ours, tiles = timed(lambda geom=geom, res=res, ts=ts: DLTile.from_shape(geom, res, ts, 0), args.repeat)
            n = len(tiles)
        elif mode == "keys":
            t_ours, n = timed(
                lambda geom=geom, res=res, ts=ts: sum(
                    1 for _ in DLTile.iter_from_shape(geom, res, ts, 0, keys_only=True)
                ),
                1,
            )
        else:
            t_ours, n = timed(lambda geom=geom, res=res, ts=ts: DLTile.count_from_shape(geom, res, ts), args.repeat)
        if args.no_reference or mode == "keys":
            print(f"{name:<62} {n:>8} {t_ours:>13.3f} {CPU[-1]:>8.3f} {'-':>13} {'-':>7} {'-':>7}")
            continue
        cpu_ours = CPU[-1]
        t_ref, n_ref = timed(lambda geom=geom, res=res, ts=ts: brute_force_count(geom, res, ts), 1)
        print(
            f"{name:<62} {n:>8} {t_ours:>13.3f} {cpu_ours:>8.3f} {t_ref:>13.3f} {t_ref / t_ours:>6.1f}x "
            f"{'same' if n == n_ref else n_ref:>7}"
        )


if __name__ == "__main__":
    main()
