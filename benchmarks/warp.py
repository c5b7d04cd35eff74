"""Warp benchmark: raster_core vs rasterio/GDAL 3.10 in the same run, same thread count.

Source: 4096 x 4096 uint16 (smooth field + noise) in UTM 32N at 30 m. Scenarios:
UTM -> EPSG:4326, UTM -> EPSG:3035 (default output grids), same-CRS downsample x3.
Methods: near, bilinear, cubic, average (rows come from benchmarks/ops.py). Prints
output Mpix/s, the speed ratio (GDAL time / our time) and our peak memory (tracemalloc,
extra allocations during the call) relative to source + destination size.

Usage::

    python -m benchmarks.warp [--threads 2] [--size 4096] [--methods near,bilinear,cubic,average] [--repeat 3]

``python -m benchmarks.warp --random [--cases 24] [--seed 7] [--threads 2] [--repeat 3]`` runs
seeded random grids instead (:func:`random_cases`): every resampler family, the five dtypes,
with and without nodata, partial overlap, origins off the source grid, odd sizes, down/up
factors from x0.4 to x5 and several CRSs; it prints each case's ratio (GDAL time / ours), the
slowest and the median ratio and the per-family range.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from functools import partial

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


# --------------------------------------------------------------------------- random grids
#: resampler families of the random benchmark (every method appears in at least one case)
FAMILIES: dict[str, tuple[str, ...]] = {
    "near": ("near",),
    "interp": ("bilinear", "cubic", "cubicspline", "lanczos"),
    "average": ("average", "rms", "sum"),
    "order": ("mode", "min", "max", "med", "q1", "q3"),
}
DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
#: (CRS, source pixel size): the sources sit around 9 E / 48 N in each of them
CRSS = (("EPSG:32632", 30.0), ("EPSG:3857", 40.0), ("EPSG:3035", 30.0), ("EPSG:4326", 0.0003),
        ("EPSG:32633", 30.0))
ANCHOR_LONLAT = (9.0, 48.0)


def family_of(method: str) -> str:
    return next(f for f, ms in FAMILIES.items() if method in ms)


def random_cases(n: int = 24, seed: int = 7) -> list[dict]:
    """``n`` seeded random warps (the same list for the same ``n`` and ``seed``).

    Methods, dtypes and factors are dealt from shuffled decks (every method and dtype appears;
    the factors, destination pixel size / source pixel size, span x0.4 to x5 on a log scale);
    each case draws its source CRS and size, whether it reprojects (two in three do) and to which
    CRS, a destination grid of an odd-or-even size whose origin is off the source grid and which
    overlaps the source partly (30-100 % of its extent), and nodata on or off.

    Examples
    --------
    >>> cases = random_cases(24)
    >>> len(cases), sorted({c["dtype"] for c in cases}) == sorted(DTYPES)
    (24, True)
    >>> {family_of(c["method"]) for c in cases} == set(FAMILIES)
    True
    """
    rng = np.random.default_rng(seed)
    methods = [m for ms in FAMILIES.values() for m in ms]
    deck = methods + list(rng.permutation(["bilinear", "cubic", "lanczos", "cubicspline", "average", "mode", "near",
                                           "med", "bilinear", "cubic"]))
    deck = [str(m) for m in rng.permutation(deck)]
    while len(deck) < n:
        deck.append(str(rng.choice(methods)))
    dtypes = [DTYPES[k % len(DTYPES)] for k in range(n)]
    dtypes = [str(d) for d in rng.permutation(dtypes)]
    factors = np.exp(rng.permutation(np.linspace(np.log(0.4), np.log(5.0), n)))
    cases = []
    for k in range(n):
        src_crs, src_res = CRSS[int(rng.integers(len(CRSS)))]
        same = rng.random() < 1 / 3
        dst_crs = src_crs if same else CRSS[int(rng.integers(len(CRSS)))][0]
        factor = float(factors[k])
        # destination 400..1600 px a side (odd or even), source sized for the overlap
        dst_w, dst_h = (int(v) for v in rng.integers(400, 1601, 2))
        overlap = float(rng.uniform(0.3, 1.0))
        src_w = int(min(4500, max(64, dst_w * factor * float(rng.uniform(0.6, 1.0)) / overlap ** 0.5)))
        src_h = int(min(4500, max(64, dst_h * factor * float(rng.uniform(0.6, 1.0)) / overlap ** 0.5)))
        cases.append(dict(
            id=k, method=deck[k], dtype=dtypes[k], src_crs=src_crs, src_res=src_res, dst_crs=dst_crs,
            factor=factor, src_shape=(src_h, src_w), dst_shape=(dst_h, dst_w), overlap=overlap,
            shift=(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.5, 0.5))),
            subpixel=(float(rng.uniform(0, 1)), float(rng.uniform(0, 1))),
            nodata=bool(rng.random() < 0.5), seed=int(rng.integers(1 << 31)),
        ))
    return cases


def _case_source(case: dict) -> tuple[np.ndarray, Affine, float | None]:
    """Source array (smooth field + noise, nodata holes when on), its transform, its nodata."""
    from pyproj import Transformer

    rng = np.random.default_rng(case["seed"])
    h, w = case["src_shape"]
    y, x = np.ogrid[0:h, 0:w]
    field = np.sin(x * (7.0 / w)) * np.cos(y * (5.0 / h)) + rng.normal(0, 0.03, (h, w))
    dt = np.dtype(case["dtype"])
    if dt.kind == "f":
        data = (1000.0 * field).astype(dt)
    else:
        lo, hi = np.iinfo(dt).min, np.iinfo(dt).max
        span = min(float(hi) - float(lo), 60000.0)
        mid = (float(hi) + float(lo)) / 2
        data = np.clip(mid + 0.45 * span * field, lo + 1, hi).astype(dt)
    nodata = None
    if case["nodata"]:
        nodata = float(np.iinfo(dt).min) if dt.kind in "iu" else -9999.0
        data[rng.random((h, w)) < 0.01] = nodata
        data[h // 3:h // 3 + h // 10, w // 4:w // 4 + w // 8] = nodata
    ax, ay = Transformer.from_crs("EPSG:4326", case["src_crs"], always_xy=True).transform(*ANCHOR_LONLAT)
    res = case["src_res"]
    return data, Affine(res, 0, ax - w * res / 2, 0, -res, ay + h * res / 2), nodata


def _case_destination(case: dict, src_tf: Affine) -> Affine:
    """Destination transform: GDAL's suggested resolution x ``factor``, origin off-grid and
    shifted so that the grid covers only part of the source."""
    from rasterio.crs import CRS
    from rasterio.transform import array_bounds
    from rasterio.warp import calculate_default_transform

    h, w = case["src_shape"]
    bounds = array_bounds(h, w, src_tf)
    tf, dw, dh = calculate_default_transform(CRS.from_string(case["src_crs"]), CRS.from_string(case["dst_crs"]),
                                             w, h, *bounds)
    rx, ry = tf.a * case["factor"], tf.e * case["factor"]
    dst_h, dst_w = case["dst_shape"]
    # centre of the destination: the source centre shifted by a fraction of the source extent,
    # plus a fraction of a destination pixel (off the source grid)
    cx = tf.c + dw * tf.a / 2 + case["shift"][0] * dw * tf.a * (1 - case["overlap"]) + case["subpixel"][0] * rx
    cy = tf.f + dh * tf.e / 2 + case["shift"][1] * dh * tf.e * (1 - case["overlap"]) + case["subpixel"][1] * ry
    return Affine(rx, 0, cx - dst_w * rx / 2, 0, ry, cy - dst_h * ry / 2)


def random_grids(threads: int, n: int, seed: int, repeat: int, only: set[str] | None = None,
                 warm_only: bool = False) -> None:
    """Time every case of :func:`random_cases` with both engines and print the ratios
    (``warm_only``: only run ours once per case, to fill the Numba cache outside a timed run)."""
    cases = random_cases(n, seed)
    if warm_only:
        for case in cases:
            if not only or case["method"] in only:
                src, src_tf, nodata = _case_source(case)
                run_ours(OPS[case["method"]], src, src_transform=src_tf, src_crs=case["src_crs"],
                         dst_transform=_case_destination(case, src_tf), dst_crs=case["dst_crs"],
                         dst_shape=case["dst_shape"], src_nodata=nodata, dst_nodata=nodata, num_threads=threads)
                print(f"compiled case {case['id']} ({case['method']} {case['dtype']})", flush=True)
        return
    print(f"random grids: {n} cases, seed {seed}, threads={threads}, best of {repeat}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'#':>2s} {'method':11s} {'dtype':7s} {'src crs':10s} {'dst crs':10s} {'factor':>6s} {'src':>9s} "
          f"{'dst':>9s} {'nodata':6s} {'ours ms':>8s} {'GDAL ms':>8s} {'ratio':>6s}", flush=True)
    ratios: dict[int, float] = {}
    for case in cases:
        if only and case["method"] not in only:
            continue
        op = OPS[case["method"]]
        src, src_tf, nodata = _case_source(case)
        kw = dict(src_transform=src_tf, src_crs=case["src_crs"], dst_transform=_case_destination(case, src_tf),
                  dst_crs=case["dst_crs"], dst_shape=case["dst_shape"], src_nodata=nodata, dst_nodata=nodata,
                  num_threads=threads)
        run_ours(op, src, **kw)  # compile (first use of this method/dtype/mask) outside the timing
        ours, gdal = partial(run_ours, op, src, **kw), partial(run_reference, op, src, **kw)
        t_ours = t_gdal = float("inf")
        for _ in range(repeat):  # interleaved: load changes on a shared machine hit both alike
            t_ours = min(t_ours, timed(ours, 1))
            t_gdal = min(t_gdal, timed(gdal, 1))
        ratios[case["id"]] = t_gdal / t_ours
        (sh, sw), (dh, dw) = case["src_shape"], case["dst_shape"]
        print(f"{case['id']:2d} {case['method']:11s} {case['dtype']:7s} {case['src_crs']:10s} {case['dst_crs']:10s} "
              f"{case['factor']:6.2f} {sw:4d}x{sh:<4d} {dw:4d}x{dh:<4d} {'yes' if nodata is not None else 'no':6s} "
              f"{t_ours * 1e3:8.1f} {t_gdal * 1e3:8.1f} {t_gdal / t_ours:6.2f}", flush=True)
    if not ratios:
        return
    values = np.array(list(ratios.values()))
    worst = min(ratios, key=ratios.__getitem__)
    print(f"slowest ratio {values.min():.2f} (case {worst}, {cases[worst]['method']} {cases[worst]['dtype']}), "
          f"median {np.median(values):.2f}")
    for fam in FAMILIES:
        r = [ratios[c["id"]] for c in cases if c["id"] in ratios and family_of(c["method"]) == fam]
        if r:
            print(f"  {fam:8s} {len(r):2d} cases: {min(r):.2f} .. {max(r):.2f}, median {np.median(r):.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--methods", default="near,bilinear,cubic,average")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--random", action="store_true", help="seeded random grids instead of the fixed scenarios")
    ap.add_argument("--cases", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--warm", action="store_true", help="with --random: only compile (run ours once per case)")
    args = ap.parse_args(argv)
    if args.random:
        only = None if args.methods == ap.get_default("methods") else set(args.methods.split(","))
        random_grids(args.threads, args.cases, args.seed, args.repeat, only, warm_only=args.warm)
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
                t_ours = min(t_ours, timed(lambda op=op, kw=kw: run_ours(op, src, **kw), 1))
                t_gdal = min(t_gdal, timed(lambda op=op, kw=kw: run_reference(op, src, **kw), 1))
            tracemalloc.start()
            out = run_ours(op, src, **kw)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            base = src.nbytes + out.nbytes
            mpx = shape[0] * shape[1] / 1e6
            print(f"{name:12s} {m:9s} {shape[1]:>5d}x{shape[0]:<5d} {mpx / t_ours:10.1f} {mpx / t_gdal:10.1f} "
                  f"{t_gdal / t_ours:6.2f} {(base + peak - out.nbytes) / base:14.2f}")


if __name__ == "__main__":
    main()
